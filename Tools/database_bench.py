"""The database's own cost to a tuning worker: N mlp-tune workers share one study of tiny
1-epoch trials (Dense(8) on the 300-image fixture, so that the database dominates), on
PostgreSQL and on SQLite, and each reports the milliseconds its thread spent on the database
per trial it ran (waiting for the study's lock included). The same search on the folder storage
gives the trials' own time for comparison.

    python Tools/database_bench.py BIN_DIR [--workers 4] [--trials 200]

PostgreSQL needs MLP_TEST_POSTGRES (Scripts/postgres.sh starts a server on loopback).
"""
import argparse, os, re, subprocess, sys, tempfile, time, uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHIVE = os.path.join(ROOT, "Fixtures", "cifar", "cifar-100-python.tar.gz")


def database(kind, tmp):
    if kind == "sqlite":
        return f"sqlite:///{tmp}/bench.db"
    import psycopg2
    admin = os.environ["MLP_TEST_POSTGRES"]
    name = f"bench_{uuid.uuid4().hex[:8]}"
    connection = psycopg2.connect(admin)
    connection.autocommit = True
    connection.cursor().execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return admin.rsplit("/", 1)[0] + "/" + name


def run(binaries, kind, workers, trials, tmp):
    common = ["--data", ARCHIVE, "--trials", str(trials), "--epochs", "1", "--units", "8", "--hidden-layers", "1",
              "--algorithm", "random", "--seed", "1", "--threads", "1"]
    if kind == "folder":
        places = [["--output-dir", os.path.join(tmp, "folder")]] * workers
    else:
        url = database(kind, tmp)
        places = [["--output-dir", os.path.join(tmp, f"{kind}-{i}"), "--storage", url, "--study-name", "bench"] for i in range(workers)]
    started = time.time()
    processes = [subprocess.Popen([os.path.join(binaries, "mlp-tune"), *common, *place], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for place in places]
    outputs = [p.communicate() for p in processes]
    wall = time.time() - started
    for p, (out, err) in zip(processes, outputs):
        if p.returncode != 0:
            sys.exit(f"database_bench: a {kind} worker failed: {err.strip()}")
    costs = []
    for out, _ in outputs:
        match = re.search(r"database: (\d+) trials? run by this worker, ([0-9.]+) ms", out)
        if match:
            costs.append((int(match.group(1)), float(match.group(2))))
    return wall, costs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    kinds = ["folder", "sqlite"] + (["postgresql"] if os.environ.get("MLP_TEST_POSTGRES") else [])
    print(f"{args.workers} workers, {args.trials} trials of 1 epoch (Dense(8), 240 training images), {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            wall, costs = run(args.binaries, kind, args.workers, args.trials, tmp)
            line = f"{kind:10s} {wall:6.1f} s wall, {args.trials / wall:6.1f} trials/s"
            if costs:
                total = sum(n for n, _ in costs)
                mean = sum(n * ms for n, ms in costs) / total
                line += (f"; database time a trial: {mean:.1f} ms mean over {total} trials, worst worker {max(ms for _, ms in costs):.1f} ms"
                         f" (trials per worker: {', '.join(str(n) for n, _ in costs)})")
            print(line, flush=True)


if __name__ == "__main__":
    main()
