"""Database check: mlp-tune workers and Python Optuna workers sharing one study in Optuna's own
tables, on a real PostgreSQL server on loopback and in an SQLite file. Run by Scripts/test.sh.

- The tables mlp-tune creates equal the ones Optuna 5 creates (columns, types, nullability,
  defaults, constraints, indexes, enum labels; SQLite's schema text), and Optuna opens them.
- Two `mlp-tune --algorithm tpe` workers and one Python ask/tell worker share a 24-trial study:
  numbers 0..23, none repeated, none left RUNNING; a trial enqueued from Python runs once, in
  mlp-tune, with its values; `optuna.load_study(...).trials` equals the rows (states, values,
  intermediate values, parameters); each mlp-tune worker's trials.csv lists every worker's
  trials, Python's included.
- A worker killed with SIGKILL mid-trial: its trial becomes FAIL through the heartbeat, and the
  search ends with every other trial complete, none lost or doubled.
- The same sharing check with two workers on `sqlite:///`.
- A password in the URL appears in no output and no file.

The PostgreSQL part needs MLP_TEST_POSTGRES, a URL of a server's maintenance database where the
check may create databases (.ci/run starts one: Scripts/postgres.sh); without it those checks
are reported as skipped, never as passed.

    python Tests/Harness/database_check.py BIN_DIR
"""
import os, signal, subprocess, sys, tempfile, threading, time, uuid
from harness import ROOT, BIN, check, skip, summary, postgres_database, sqlalchemy_url

ARCHIVE = os.path.join(ROOT, "Fixtures", "cifar", "cifar-100-python.tar.gz")
ADMIN = os.environ.get("MLP_TEST_POSTGRES")

import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)


# The space of the shared study, as Python spells it: the same names and distributions as
# mlp-tune's --learning-rate 1e-4:1e-2 --hidden-layers 1 --units 8,16 (and its defaults).
def suggest(trial):
    return {"learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
            "layers": trial.suggest_categorical("layers", [1]),
            "units": trial.suggest_categorical("units", [8, 16]),
            "dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "optimizer": trial.suggest_categorical("optimizer", ["adam", "rmsprop"])}


SPACE = ["--units", "8,16", "--hidden-layers", "1"]


def tune(url, study, folder, *extra):
    return [os.path.join(BIN, "mlp-tune"), "--data", ARCHIVE, "--output-dir", folder, "--storage", url, "--study-name", study,
            "--algorithm", "tpe", "--objective", "val_loss", "--seed", "11", *SPACE, *extra]


def rows(url, sql):
    if url.startswith("sqlite:///"):
        import sqlite3
        with sqlite3.connect(url[len("sqlite:///"):]) as db:
            return db.execute(sql).fetchall()
    import psycopg2
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def postgres_schema(url):
    """What describes the tables, as sets: columns, constraints, indexes, enum labels, versions."""
    columns = rows(url, """SELECT table_name, column_name, data_type, udt_name, is_nullable, character_maximum_length,
                           regexp_replace(coalesce(column_default, ''), '_seq''::regclass', '') FROM information_schema.columns
                           WHERE table_schema = 'public'""")
    constraints = rows(url, """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                               WHERE connamespace = 'public'::regnamespace""")
    indexes = rows(url, "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    enums = rows(url, "SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid")
    versions = rows(url, "SELECT version_num FROM alembic_version") + rows(url, "SELECT version_info_id, schema_version FROM version_info")
    return {"columns": set(columns), "constraints": set(constraints), "indexes": set(indexes), "enums": set(enums), "versions": set(versions)}


def sqlite_schema(url):
    return set(rows(url, "SELECT type, name, tbl_name, sql FROM sqlite_master")), \
        set(rows(url, "SELECT version_num FROM alembic_version") + rows(url, "SELECT version_info_id, schema_version FROM version_info"))


def schema_checks(tmp):
    """Our tables against Optuna's own, on both engines."""
    ours, theirs = f"sqlite:///{tmp}/ours.db", f"sqlite:///{tmp}/theirs.db"
    optuna.create_study(storage=theirs, study_name="s")
    out = subprocess.run(tune(ours, "s", os.path.join(tmp, "schema-sqlite"), "--trials", "1", "--epochs", "1"), capture_output=True, text=True)
    check("sqlite: mlp-tune creates the tables and runs a trial", out.returncode == 0, out.stderr.strip()[-300:])
    a, b = sqlite_schema(ours), sqlite_schema(theirs)
    check("sqlite: the tables equal Optuna's (schema text, version rows)", a == b, f"{a ^ b if a != b else ''}"[:600])
    study = optuna.load_study(study_name="s", storage=ours)
    check("sqlite: optuna.load_study opens our tables", len(study.trials) == 1 and study.trials[0].state == optuna.trial.TrialState.COMPLETE)
    if not ADMIN:
        skip("postgresql: the tables equal Optuna's", "MLP_TEST_POSTGRES is not set (no server)")
        return
    ours, theirs = postgres_database(f"schema_ours_{uuid.uuid4().hex[:8]}"), postgres_database(f"schema_theirs_{uuid.uuid4().hex[:8]}")
    optuna.create_study(storage=sqlalchemy_url(theirs), study_name="s")
    out = subprocess.run(tune(ours, "s", os.path.join(tmp, "schema-pg"), "--trials", "1", "--epochs", "1"), capture_output=True, text=True)
    check("postgresql: mlp-tune creates the tables and runs a trial", out.returncode == 0, out.stderr.strip()[-300:])
    a, b = postgres_schema(ours), postgres_schema(theirs)
    for part in a:
        check(f"postgresql: the tables' {part} equal Optuna's", a[part] == b[part], f"{sorted(a[part] ^ b[part])}"[:600])
    study = optuna.load_study(study_name="s", storage=sqlalchemy_url(ours))
    check("postgresql: optuna.load_study opens our tables", len(study.trials) == 1)
    # Another schema version is refused, naming it.
    rows_changed = rows(ours, "UPDATE alembic_version SET version_num = 'v3.0.0.d' RETURNING version_num")
    out = subprocess.run(tune(ours, "s", os.path.join(tmp, "schema-pg"), "--trials", "2", "--epochs", "1"), capture_output=True, text=True)
    lines = out.stderr.strip().splitlines()
    check("postgresql: another schema version is refused in one line naming it",
          out.returncode != 0 and len(lines) == 1 and "v3.0.0.d" in lines[0] and rows_changed == [("v3.0.0.d",)], out.stderr.strip())


def python_worker(url, study_name, count, go):
    """Optuna's ask/tell in a thread of this process: `count` trials, each reporting three steps."""
    study = optuna.load_study(study_name=study_name, storage=sqlalchemy_url(url), sampler=optuna.samplers.TPESampler(seed=3))
    go.wait()
    # Asked at once, so that they count among the study's 24 whenever the mlp-tune workers finish.
    trials = [study.ask() for _ in range(count)]
    for trial in trials:
        values = suggest(trial)
        loss = 4.6 + abs(values["learning_rate"] - 0.003) * 10 + values["dropout"] * 0.01
        for step in range(3):
            trial.report(loss + (2 - step) * 0.01, step)
        time.sleep(0.2)
        study.tell(trial, loss)


def sharing_check(engine, url, tmp, python):
    """Two mlp-tune workers (and a Python worker when `python`) on one 24-trial study."""
    study_name = f"shared-{engine}"
    optuna.create_study(storage=sqlalchemy_url(url), study_name=study_name, direction="minimize")
    study = optuna.load_study(study_name=study_name, storage=sqlalchemy_url(url))
    fixed = {"learning_rate": 0.00123, "layers": 1, "units": 16, "dropout": 0.125, "optimizer": "rmsprop"}
    study.enqueue_trial(fixed)
    common = ["--trials", "24", "--epochs", "3", "--heartbeat-interval", "5"]
    folders = [os.path.join(tmp, f"{engine}-worker-{i}") for i in range(2)]
    go = threading.Event()
    thread = None
    if python:
        thread = threading.Thread(target=python_worker, args=(url, study_name, 3, go))
        thread.start()
    first = subprocess.Popen(tune(url, study_name, folders[0], *common), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The first worker takes the enqueued trial before anyone else asks.
    deadline = time.time() + 60
    while time.time() < deadline and rows(url, "SELECT state FROM trials WHERE number = 0")[0][0] == "WAITING":
        time.sleep(0.02)
    go.set()
    second = subprocess.Popen(tune(url, study_name, folders[1], *common), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=600) for p in (first, second)]
    if thread:
        thread.join()
    for i, (p, (out, err)) in enumerate(zip((first, second), outs)):
        check(f"{engine}: worker {i} ends cleanly", p.returncode == 0, err.strip()[-400:])
    table = rows(url, f"""SELECT t.trial_id, t.number, t.state FROM trials t JOIN studies s ON s.study_id = t.study_id
                          WHERE s.study_name = '{study_name}' ORDER BY t.number""")
    numbers = [number for _, number, _ in table]
    check(f"{engine}: trials numbered 0..23, none repeated", numbers == list(range(24)), f"{numbers}")
    states = [str(state) for _, _, state in table]
    check(f"{engine}: no trial left RUNNING or WAITING, none failed", all(s == "COMPLETE" for s in states), f"{states}")
    loaded = optuna.load_study(study_name=study_name, storage=sqlalchemy_url(url)).trials
    enqueued = loaded[0]
    check(f"{engine}: the enqueued trial ran once, in mlp-tune, with its values",
          enqueued.params == fixed and "worker" in enqueued.user_attrs and enqueued.state == optuna.trial.TrialState.COMPLETE
          and sum(1 for t in loaded if t.params == fixed) == 1, f"{enqueued.params} {enqueued.user_attrs}")
    if python:
        by_python = [t for t in loaded if "worker" not in t.user_attrs]
        check(f"{engine}: the Python worker's 3 trials are in the study", len(by_python) == 3, f"{len(by_python)}")
    # load_study's view equals the rows.
    values = dict(((n, v) for n, v in rows(url, f"""SELECT t.number, v.value FROM trial_values v JOIN trials t ON t.trial_id = v.trial_id
                                                     JOIN studies s ON s.study_id = t.study_id WHERE s.study_name = '{study_name}'""")))
    steps = {}
    for n, step, value in rows(url, f"""SELECT t.number, i.step, i.intermediate_value FROM trial_intermediate_values i
                                        JOIN trials t ON t.trial_id = i.trial_id JOIN studies s ON s.study_id = t.study_id
                                        WHERE s.study_name = '{study_name}'"""):
        steps.setdefault(n, {})[step] = value
    same = all(t.value == values.get(t.number) and t.intermediate_values == steps.get(t.number, {}) and t.state.name == states[t.number]
               for t in loaded)
    check(f"{engine}: load_study's trials equal the rows (states, values, intermediate values)", same and len(loaded) == 24)
    check(f"{engine}: every mlp-tune trial has 3 intermediate values, its value their minimum",
          all(len(t.intermediate_values) == 3 and abs(t.value - min(t.intermediate_values.values())) < 1e-12
              for t in loaded if "worker" in t.user_attrs))
    # Each worker's table lists every trial of the study, whoever ran it.
    for i, folder in enumerate(folders):
        with open(os.path.join(folder, "trials.csv")) as f:
            listed = [int(line.split(",")[0]) for line in f.read().splitlines()[1:]]
        check(f"{engine}: worker {i}'s trials.csv lists all 24 trials", listed == list(range(24)), f"{listed}")
    return outs


def kill_check(engine, url, tmp):
    """SIGKILL of a worker mid-trial: its trial fails through the heartbeat; the search goes on."""
    study_name = f"killed-{engine}"
    common = ["--trials", "6", "--heartbeat-interval", "1", "--epochs", "40", "--units", "512", "--hidden-layers", "2"]
    victim = subprocess.Popen(tune(url, study_name, os.path.join(tmp, f"{engine}-victim"), *common),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if rows(url, "SELECT count(*) FROM trials WHERE state = 'RUNNING'")[0][0] > 0:
                break
        except Exception:
            pass
        time.sleep(0.05)
    time.sleep(0.3)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    # The survivor goes on; it sees the silent trial only after the grace (2 × 1 s).
    out = subprocess.run(tune(url, study_name, os.path.join(tmp, f"{engine}-survivor"), *common),
                         capture_output=True, text=True)
    check(f"{engine}: after a SIGKILL, another worker finishes the search", out.returncode == 0, out.stderr.strip()[-300:])
    table = rows(url, f"""SELECT t.number, t.state FROM trials t JOIN studies s ON s.study_id = t.study_id
                          WHERE s.study_name = '{study_name}' ORDER BY t.number""")
    states = [str(s) for _, s in table]
    check(f"{engine}: the killed trial is FAIL, the other 5 COMPLETE, numbered 0..5",
          [n for n, _ in table] == list(range(6)) and states[0] == "FAIL" and states[1:] == ["COMPLETE"] * 5, f"{table}")


def password_check(tmp):
    """A password in the URL: never in any output or file."""
    secret = "pw-" + uuid.uuid4().hex[:12]
    folder = os.path.join(tmp, "secret")
    urls = [f"postgresql://user:{secret}@127.0.0.1:1/db"]
    if ADMIN:
        from urllib.parse import urlsplit
        parts = urlsplit(ADMIN)
        urls.append(f"postgresql://{parts.username or 'postgres'}:{secret}@{parts.hostname}:{parts.port or 5432}/nosuchdb_{uuid.uuid4().hex[:6]}")
    for url in urls:
        out = subprocess.run(tune(url, "s", folder, "--trials", "1", "--epochs", "1"), capture_output=True, text=True)
        check(f"a refused connection is one line that masks the password ({url.split('@')[1]})",
              out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1 and secret not in out.stderr + out.stdout
              and "***" in out.stderr, out.stderr.strip())
    leaked = []
    for root, _, names in os.walk(tmp):
        for name in names:
            path = os.path.join(root, name)
            try:
                if secret.encode() in open(path, "rb").read():
                    leaked.append(path)
            except OSError:
                pass
    check("the password is in no file the workers wrote", not leaked, f"{leaked}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        schema_checks(tmp)
        sharing_check("sqlite", f"sqlite:///{tmp}/shared.db", tmp, python=False)
        kill_check("sqlite", f"sqlite:///{tmp}/killed.db", tmp)
        if ADMIN:
            url = postgres_database(f"shared_{uuid.uuid4().hex[:8]}")
            sharing_check("postgresql", url, tmp, python=True)
            kill_check("postgresql", postgres_database(f"killed_{uuid.uuid4().hex[:8]}"), tmp)
        else:
            skip("postgresql: two mlp-tune workers and a Python worker share a study", "MLP_TEST_POSTGRES is not set (no server)")
            skip("postgresql: SIGKILL mid-trial", "MLP_TEST_POSTGRES is not set (no server)")
        password_check(tmp)
    sys.exit(summary(skips=True))


if __name__ == "__main__":
    main()
