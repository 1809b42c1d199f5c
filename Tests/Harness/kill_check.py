"""All-or-nothing writes, proven: kills mlp-train with SIGKILL at many moments, most of them
while it saves, and checks after each kill that the model file (`.keras`), the checkpoint
(`.h5`), the history and the plot are each either the previous complete file or a new complete
one: the models load in Keras 3, the CSV parses with every row whole, the SVG parses as XML.

    python Tests/Harness/kill_check.py BIN_DIR [--kills 30]
"""
import argparse, csv, os, signal, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Fixtures")
ARCHIVE = os.path.join(FIXTURES, "cifar", "cifar-100-python.tar.gz")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("--kills", type=int, default=30)
    args = parser.parse_args()
    import keras
    failures = []
    with tempfile.TemporaryDirectory() as folder:
        files = {name: os.path.join(folder, name) for name in ("m.keras", "c.h5", "h.csv", "p.svg")}
        # A wide model, so that each save writes tens of megabytes and takes a while.
        command = [os.path.join(args.bin, "mlp-train"), "--data", ARCHIVE, "--layers", "1024:relu", "--epochs", "2",
                   "--validation-split", "0.2", "--seed", "1", "-o", files["m.keras"], "--checkpoint", files["c.h5"],
                   "--history", files["h.csv"], "--plot", files["p.svg"]]
        start = time.time()
        subprocess.run(command, check=True, capture_output=True)
        duration = time.time() - start

        def intact(name, path):
            if name.endswith((".h5", ".keras")):
                keras.models.load_model(path).predict(keras.ops.zeros((1, 3072)), verbose=0)
            elif name.endswith(".csv"):
                with open(path, newline="") as f:
                    rows = list(csv.reader(f))
                assert rows and rows[0][0] == "epoch" and all(len(r) == len(rows[0]) for r in rows[1:]), rows
            else:
                ET.parse(path)

        interrupted = during_save = 0
        for k in range(args.kills):
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if k % 3 == 0:
                # A moment anywhere in the run.
                time.sleep(duration * 1.1 * (k + 0.5) / args.kills)
            else:
                # A moment while it saves: once one of its temporary files appears, after up to 25 ms.
                deadline = time.time() + 4 * duration + 5
                while process.poll() is None and time.time() < deadline:
                    if any(n.startswith(".") and ".tmp-" in n for n in os.listdir(folder)):
                        time.sleep(0.025 * ((k * 7919) % 100) / 100)
                        during_save += 1
                        break
                    time.sleep(0.0005)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                interrupted += 1
            process.wait()
            for name, path in files.items():
                try:
                    intact(name, path)
                except Exception as error:
                    failures.append(f"kill {k}: {name} is damaged: {error!r}"[:300])
        leftovers = [n for n in os.listdir(folder) if n.startswith(".") and ".tmp-" in n]
        # One more run clears the temporary files of the killed writers.
        subprocess.run(command, check=True, capture_output=True)
        remaining = [n for n in os.listdir(folder) if n.startswith(".") and ".tmp-" in n]
        if remaining:
            failures.append(f"temporary files left after a later run: {remaining}")
    damaged = len(failures)
    tuning = kill_tuning_worker(args.bin, failures)
    for failure in failures:
        print("FAIL " + failure)
    print(tuning)
    print(f"kill check: {args.kills} runs of {duration:.2f} s, {interrupted} killed by SIGKILL, {during_save} of them while saving; "
          f"{len(leftovers)} temporary files "
          f"of killed writers, cleared by the next run; {damaged} damaged files")
    return 1 if failures else 0


def kill_tuning_worker(binaries, failures):
    """A tuning worker killed with SIGKILL in the middle of a trial: a later worker, once the
    dead one's claim has expired, runs that trial and the rest, and no trial runs twice."""
    import json
    with tempfile.TemporaryDirectory() as folder:
        search = os.path.join(folder, "search")
        # Trials of 300 short epochs (about a millisecond each here): long enough to be caught in
        # the middle, short enough for the later worker to run all three.
        command = [os.path.join(binaries, "mlp-tune"), "--data", ARCHIVE, "--output-dir", search, "--trials", "3", "--epochs", "300",
                   "--units", "64", "--hidden-layers", "1", "--seed", "1", "--claim-timeout", "5", "--threads", "1"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        claim, history = (os.path.join(search, "trials", "0000", name) for name in ("claim", "history.csv"))

        def epochs_done():
            try:
                with open(history) as f:
                    return max(0, sum(1 for _ in f) - 1)
            except OSError:
                return 0

        # Into the trial's epochs: its claim taken and a few epochs in its history.
        deadline = time.time() + 60
        while process.poll() is None and not (os.path.exists(claim) and epochs_done() >= 3) and time.time() < deadline:
            time.sleep(0.002)
        if process.poll() is not None:
            failures.append(f"the tuning worker ended before it could be killed: {process.stderr.read().strip()[-300:]}")
            return "kill check (mlp-tune): not run"
        process.send_signal(signal.SIGKILL)
        process.wait()
        started = time.time()
        later = subprocess.run(command, capture_output=True, text=True)
        if later.returncode != 0:
            failures.append(f"the later tuning worker failed: {later.stderr.strip()[-300:]}")
            return "kill check (mlp-tune): failed"
        records = []
        for name in sorted(os.listdir(os.path.join(search, "trials"))):
            with open(os.path.join(search, "trials", name, "trial.json")) as f:
                records.append(json.load(f))
        finished = [[run for run in r["runs"] if "finished" in run] for r in records]
        if len(records) != 3 or any(r["status"] != "completed" for r in records) or any(len(f) != 1 for f in finished):
            failures.append(f"after the kill: {[(r['trial'], r['status'], len(r['runs'])) for r in records]}")
        return (f"kill check (mlp-tune): a worker killed in trial 0; the next one ran it again after its claim expired "
                f"and finished all {len(records)} trials, each once, in {time.time() - started:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
