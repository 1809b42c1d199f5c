"""Resilience check: a search that survives its database. Run by Scripts/test.sh after every other
check, because it stops and starts the PostgreSQL server they share (Scripts/postgres.sh halt and
resume, on the server .ci/run starts). Every PostgreSQL worker logs in as a user with a password.

- Server restart mid-trial: a 6-trial search whose server stops during trial 1 and is back 10 s
  later ends with exit 0, all 6 trials COMPLETE in optuna.load_study (trial 1 with an
  intermediate value per epoch), none FAIL, the notes of the lost and the restored connection
  printed; the same with a pruner, whose per-epoch writes wait in memory meanwhile.
- Outage past --storage-timeout 5: a 20 s outage ends the worker in one line with exit 1; the
  next worker fails the abandoned trial through the heartbeat and finishes the search.
- A trial swept while its worker was away: two workers with a heartbeat every second, one of
  them reaching the server through a proxy that is cut for 15 s. The other fails its trial; the
  returning worker does not overwrite it, says so in one line and goes on; every trial number
  0..N-1 once, none RUNNING.
- SQLite locked past its busy timeout by another process for 15 s: the worker waits, notes it,
  and finishes; with --storage-timeout 2 it stops in one line.
- Start-up race: four workers started in the same instant on a new study, one with --seed 4 and
  three without, on SQLite and on PostgreSQL, five times each: the seedless ones always join; the
  seeded one joins or is refused in one line naming the study and its seed; trial numbers
  contiguous, none RUNNING. A later worker with --seed 5 is refused, naming the study.
- The password appears in no output and no file.

Needs MLP_TEST_POSTGRES and MLP_TEST_POSTGRES_DIR (Scripts/postgres.sh start); without them the
PostgreSQL cases are reported as skipped, never as passed.

    python Tests/Harness/resilience_check.py BIN_DIR
"""
import os, secrets, socket, sqlite3, subprocess, sys, tempfile, threading, time, uuid
from harness import ROOT, BIN, check, skip, summary

import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)

ARCHIVE = os.path.join(ROOT, "Fixtures", "cifar", "cifar-100-python.tar.gz")
ADMIN = os.environ.get("MLP_TEST_POSTGRES")
SERVER_DIR = os.environ.get("MLP_TEST_POSTGRES_DIR")
PASSWORD = "pw-" + secrets.token_hex(8)
USER = "mlp_resilient_" + secrets.token_hex(4)
# A trial of about 3 s on the small archive: long enough to be cut in the middle.
SLOW = ["--units", "512", "--hidden-layers", "2", "--epochs", "120"]
FAST = ["--units", "8", "--hidden-layers", "1", "--epochs", "1"]
outputs = []


def server(action):
    subprocess.run(["bash", os.path.join(ROOT, "Scripts", "postgres.sh"), action], check=True)


def admin_sql(sql):
    import psycopg2
    connection = psycopg2.connect(ADMIN)
    connection.autocommit = True
    connection.cursor().execute(sql)
    connection.close()


def database(port=None):
    """A new database owned by the password user; its URL (through `port` when given)."""
    name = "res_" + uuid.uuid4().hex[:10]
    admin_sql(f'CREATE DATABASE "{name}" OWNER {USER}')
    host = ADMIN.split("@", 1)[1].rsplit("/", 1)[0]
    if port:
        host = f"127.0.0.1:{port}"
    return f"postgresql://{USER}:{PASSWORD}@{host}/{name}"


def tune(url, study, folder, *extra):
    return [os.path.join(BIN, "mlp-tune"), "--data", ARCHIVE, "--output-dir", folder, "--storage", url, "--study-name", study, *extra]


def start(command):
    """A worker, its standard output read line by line as it comes (and its standard error)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, errors = [], []
    readers = [threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True),
               threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)]
    for reader in readers:
        reader.start()
    process.readers, process.errors = readers, errors
    return process, lines


def finish(process, lines, timeout=300):
    """Waits for the worker: its exit status, standard output and standard error."""
    process.wait(timeout=timeout)
    for reader in process.readers:
        reader.join()
    out, err = "".join(lines), "".join(process.errors)
    outputs.extend([out, err])
    return process.returncode, out, err


def wait_for(condition, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def study_exists(url, study):
    """Whether the workers have made the study: Optuna is not asked before (its load_study makes
    the tables when they are missing, racing the workers that are making them)."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url[len("sqlite:///"):])
    else:
        import psycopg2
        connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1 FROM studies WHERE study_name = %s" if not url.startswith("sqlite") else
                       "SELECT 1 FROM studies WHERE study_name = ?", (study,))
        return cursor.fetchone() is not None
    except Exception:
        return False
    finally:
        connection.close()


def trials(url, study):
    """The study's trials as Optuna loads them; none while the study is not made yet."""
    if not study_exists(url, study):
        return []
    storage = url.replace("postgresql://", "postgresql+psycopg2://", 1)
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def states(url, study):
    return [t.state.name for t in sorted(trials(url, study), key=lambda t: t.number)]


def contiguous(url, study):
    numbers = sorted(t.number for t in trials(url, study))
    return numbers == list(range(len(numbers))) and "RUNNING" not in states(url, study), numbers


class Proxy:
    """A TCP proxy on loopback to the server, that can be cut (every connection closed, new
    ones refused) and restored: a worker's network away for a while."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.cut_off, self.open = False, []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            client, _ = self.listener.accept()
            if self.cut_off:
                client.close()
                continue
            upstream = socket.create_connection(self.upstream)
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.cut_off = True
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.open = []

    def restore(self):
        self.cut_off = False


def restart_check(tmp, pruner):
    """Trial 1 cut by a server restart of 10 s, with or without a pruner."""
    name = f"restart ({'pruner median' if pruner else 'no pruner'})"
    url, count = database(), 3 if pruner else 6
    process, lines = start(tune(url, "s", os.path.join(tmp, f"restart-{pruner}"), "--trials", str(count), "--seed", "3", *SLOW,
                                *(["--pruner", "median"] if pruner else [])))
    started = wait_for(lambda: any(line.startswith("trial 0:") for line in lines), 120)
    time.sleep(0.8)
    server("halt")
    time.sleep(10)
    server("resume")
    status, out, err = finish(process, lines)
    check(f"{name}: the search ends with exit 0 after the server was down 10 s", started and status == 0, err.strip()[-300:])
    loaded = sorted(trials(url, "s"), key=lambda t: t.number)
    check(f"{name}: all {count} trials COMPLETE, none FAIL", [t.state.name for t in loaded] == ["COMPLETE"] * count,
          f"{[t.state.name for t in loaded]}")
    epochs = int(SLOW[SLOW.index("--epochs") + 1])
    check(f"{name}: trial 1 has an intermediate value for each of its {epochs} epochs",
          len(loaded) > 1 and sorted(loaded[1].intermediate_values) == list(range(epochs)),
          f"{len(loaded[1].intermediate_values) if len(loaded) > 1 else None} values")
    lost = [line for line in out.splitlines() if line.startswith("note: the connection to") and "was lost at" in line]
    back = [line for line in out.splitlines() if line.startswith("note: the connection to") and "is back at" in line]
    check(f"{name}: one note when the connection was lost, one when it came back", len(lost) >= 1 and len(back) >= 1
          and out.index(lost[0]) < out.index(back[0]), f"{lost} {back}")


def timeout_check(tmp):
    url = database()
    folder = os.path.join(tmp, "timeout")
    process, lines = start(tune(url, "s", folder, "--trials", "4", "--seed", "3", "--storage-timeout", "5", *SLOW))
    started = wait_for(lambda: any(line.startswith("trial 0:") for line in lines), 120)
    time.sleep(0.5)
    server("halt")
    cut = time.time()
    status, out, err = finish(process, lines, timeout=60)
    stopped = time.time() - cut
    time.sleep(max(0.0, 20 - (time.time() - cut)))
    server("resume")
    errors = err.strip().splitlines()
    check("past --storage-timeout 5: one line and exit 1 during a 20 s outage",
          started and status == 1 and len(errors) == 1 and "storage-timeout" in errors[0] and stopped < 15, f"{errors} after {stopped:.1f} s")
    check("past --storage-timeout 5: the worker's folder keeps its files", os.path.exists(os.path.join(folder, "trials")))
    process, lines = start(tune(url, "s", folder, "--heartbeat-interval", "1"))
    status, out, err = finish(process, lines)
    ok, numbers = contiguous(url, "s")
    check("past --storage-timeout 5: the next worker finishes the search, the abandoned trial FAIL",
          status == 0 and ok and states(url, "s").count("FAIL") == 1 and len(numbers) == 4, f"{err.strip()[-300:]} {states(url, 's')}")


def swept_check(tmp):
    port = int(ADMIN.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    proxy = Proxy(("127.0.0.1", port))
    direct, proxied = database(), None
    proxied = direct.replace(f"127.0.0.1:{port}", f"127.0.0.1:{proxy.port}")
    common = ["--trials", "10", "--seed", "3", "--heartbeat-interval", "1", *SLOW]
    a, a_lines = start(tune(direct, "s", os.path.join(tmp, "swept-a"), *common))
    b, b_lines = start(tune(proxied, "s", os.path.join(tmp, "swept-b"), *common))

    def b_running():
        rows = [t for t in trials(direct, "s") if t.state.name == "RUNNING" and f":{b.pid}:" in str(t.user_attrs.get("worker"))]
        return rows[0].number if rows else None
    found = wait_for(lambda: b_running() is not None, 120)
    away = b_running()
    time.sleep(0.5)
    proxy.cut()
    time.sleep(15)
    proxy.restore()
    a_status, _, a_err = finish(a, a_lines)
    b_status, b_out, b_err = finish(b, b_lines)
    check("swept while away: both workers end with exit 0", found and a_status == 0 and b_status == 0,
          (a_err + b_err).strip()[-300:])
    loaded = {t.number: t for t in trials(direct, "s")}
    check(f"swept while away: trial {away} stays FAIL, without the away worker's value", away in loaded
          and loaded[away].state.name == "FAIL" and loaded[away].value is None, f"{loaded[away].state.name if away in loaded else None}")
    said = [line for line in b_out.splitlines() if f"trial {away} was failed by another worker" in line]
    after = b_out[b_out.index(said[0]):] if said else ""
    check("swept while away: the returning worker says so in one line and goes on with a new trial",
          len(said) == 1 and "\ntrial " in after, said[0] if said else b_out.strip()[-400:])
    ok, numbers = contiguous(direct, "s")
    check("swept while away: numbers 0..N-1 once, none RUNNING", ok and len(numbers) == 10, f"{numbers} {states(direct, 's')}")


def sqlite_lock_check(tmp):
    """Another process holds an SQLite study locked past the worker's 10 s busy timeout: until
    the worker notes the loss and 5 s more (at most 60 s), with the default --storage-timeout;
    then until the worker stops (at most 60 s), with --storage-timeout 2. Held until the worker
    has met the lock, not for a fixed time, so a slow machine's longer trials change nothing."""
    for name, timeout, expect in (("rides", None, 0), ("stops", "2", 1)):
        path = os.path.join(tmp, f"locked-{name}.db")
        url = f"sqlite:///{path}"
        extra = ["--storage-timeout", timeout] if timeout else []
        process, lines = start(tune(url, "s", os.path.join(tmp, f"locked-{name}"), "--trials", "4", "--seed", "3", *SLOW, *extra))
        started = wait_for(lambda: any(line.startswith("trial 0:") for line in lines), 120)
        holder = sqlite3.connect(path, timeout=30, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        held = time.time()
        if expect == 0:
            wait_for(lambda: any("was lost at" in line for line in lines), 60)
            time.sleep(5)
        else:
            wait_for(lambda: process.poll() is not None, 60)
        held = time.time() - held
        holder.execute("COMMIT")
        holder.close()
        status, out, err = finish(process, lines)
        if expect == 0:
            noted = "was lost at" in out and "is back at" in out
            check(f"sqlite locked {held:.0f} s by another process: the worker waits it out, noting it, and finishes",
                  started and status == 0 and noted and states(url, "s") == ["COMPLETE"] * 4,
                  f"exit {status}, {states(url, 's')} {err.strip()[-300:]}")
        else:
            errors = err.strip().splitlines()
            check(f"sqlite locked {held:.0f} s, past its busy timeout and --storage-timeout 2: one line, exit 1",
                  started and status == 1 and len(errors) == 1 and "locked" in errors[0], f"exit {status}: {errors}")


def race_check(tmp, engine, rounds=5):
    refused_ok, joined, contiguous_ok, seeded = True, True, True, []
    for round in range(rounds):
        url = database() if engine == "postgresql" else f"sqlite:///{tmp}/race-{round}.db"
        study = f"race-{round}"
        commands = [tune(url, study, os.path.join(tmp, f"race-{engine}-{round}-{i}"), "--trials", "4", *FAST,
                         *(["--seed", "4"] if i == 0 else [])) for i in range(4)]
        processes = [start(c) for c in commands]
        results = [finish(p, l) for p, l in processes]
        joined &= all(status == 0 for status, _, _ in results[1:])
        status, _, err = results[0]
        lines = err.strip().splitlines()
        seeded.append("joined" if status == 0 else "refused")
        if status != 0:
            refused_ok &= len(lines) == 1 and f"'{study}'" in lines[0] and "seed" in lines[0]
        ok, numbers = contiguous(url, study)
        contiguous_ok &= ok and len(numbers) == 4
        if not joined or not refused_ok:
            print([r[2].strip()[-300:] for r in results])
    check(f"{engine} start-up race ×{rounds}: the three seedless workers always join", joined)
    check(f"{engine} start-up race ×{rounds}: the seeded one joins or is refused in one line naming the study and its seed ({', '.join(seeded)})",
          refused_ok)
    check(f"{engine} start-up race ×{rounds}: trial numbers contiguous, none RUNNING", contiguous_ok)
    process, lines = start(tune(url, study, os.path.join(tmp, f"race-{engine}-late"), "--trials", "4", *FAST, "--seed", "5"))
    status, _, err = finish(process, lines)
    errors = err.strip().splitlines()
    check(f"{engine}: a later worker with --seed 5 is refused in one line naming the study",
          status != 0 and len(errors) == 1 and f"'{study}'" in errors[0] and "seed" in errors[0], f"{errors}")


def password_check(tmp):
    found = [i for i, text in enumerate(outputs) if PASSWORD in text]
    for folder, _, files in os.walk(tmp):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                if PASSWORD.encode() in f.read():
                    found.append(os.path.join(folder, name))
    check("the password appears in no output and no file", not found, f"{found[:5]}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_lock_check(tmp)
        race_check(tmp, "sqlite")
        if not ADMIN or not SERVER_DIR:
            skip("postgresql: restarts, outages, sweeps and the start-up race", "MLP_TEST_POSTGRES(_DIR) not set (no server)")
        else:
            admin_sql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
            wrong = subprocess.run(tune(database().replace(PASSWORD, "wrong"), "s", os.path.join(tmp, "wrong"), *FAST),
                                   capture_output=True, text=True)
            outputs.extend([wrong.stdout, wrong.stderr])
            check("postgresql: the server checks the password (a wrong one is refused in one line)",
                  wrong.returncode != 0 and len(wrong.stderr.strip().splitlines()) == 1 and "password" in wrong.stderr, wrong.stderr.strip())
            restart_check(tmp, pruner=False)
            restart_check(tmp, pruner=True)
            timeout_check(tmp)
            swept_check(tmp)
            race_check(tmp, "postgresql")
        password_check(tmp)
    return summary(skips=True)


if __name__ == "__main__":
    sys.exit(main())
