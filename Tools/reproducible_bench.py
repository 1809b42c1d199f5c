"""The cost of `mlp-tune --reproducible`: the wall time of a 20-trial TPE search shared by two
workers (one core each), with and without it, alternated over a few repeats in one sitting;
and whether each mode's trial tables agree from run to run.

    python Tools/reproducible_bench.py .build/release [--data synthetic] [--repeats 3]
"""
import argparse, csv, os, platform, statistics, subprocess, tempfile, time


def search(bin_dir, data, folder, reproducible):
    command = [os.path.join(bin_dir, "mlp-tune"), "--data", data, "--output-dir", folder, "--algorithm", "tpe", "--trials", "20",
               "--epochs", "2", "--seed", "8", "--threads", "1", "--units", "64,128", "--hidden-layers", "1:2"]
    command += ["--reproducible"] if reproducible else []
    started = time.monotonic()
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate() for w in workers]
    seconds = time.monotonic() - started
    if any(w.returncode for w in workers):
        raise SystemExit(f"a worker failed: {outputs}")
    with open(os.path.join(folder, "trials.csv")) as f:
        rows = [(r["trial"], r["learning_rate"], r["layers"], r["units"], r["dropout"], r["optimizer"], r["score"], r["status"])
                for r in csv.DictReader(f)]
    split = [sum(line.startswith("trial ") for line in out.splitlines()) for out, _ in outputs]
    return seconds, rows, split


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times, tables = {False: [], True: []}, {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for reproducible in (False, True):
                folder = os.path.join(tmp, f"{'repro' if reproducible else 'plain'}-{repeat}")
                seconds, rows, split = search(args.bin, args.data, folder, reproducible)
                times[reproducible].append(seconds)
                tables[reproducible].append(rows)
                print(f"{'--reproducible' if reproducible else 'plain         '} run {repeat + 1}: {seconds:.1f} s, trials per worker {split}")
    for reproducible in (False, True):
        same = all(t == tables[reproducible][0] for t in tables[reproducible])
        print(f"{'--reproducible' if reproducible else 'plain'}: median {statistics.median(times[reproducible]):.1f} s; "
              f"the {args.repeats} runs' trial tables {'identical' if same else 'differ'}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; data {args.data}")


if __name__ == "__main__":
    main()
