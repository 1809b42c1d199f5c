"""The learning samplers against their anchors, in one sitting on one machine.

On a CIFAR-format set where the choices matter (`python Tools/cifar_sets.py --tuning DIR`:
10,000 training images; a learning rate of 1e-2 leaves a model at chance, 1e-4 reaches
several times that), with KerasTuner's usual MLP space (below), N trials of E epochs each,
validation on the last 20% of the training set, batch 128, judged by the best epoch's
val_accuracy, for each seed:

- mlp-tune --algorithm tpe      against Optuna's TPESampler (its defaults, seeded);
- mlp-tune --algorithm bayesian against KerasTuner's BayesianOptimization (its defaults, seeded);
- mlp-tune --algorithm random   against KerasTuner's RandomSearch (the same draws);
- mlp-tune --algorithm tpe --pruner P against the unpruned TPE (`--only tpe tpe-median
  tpe-successive-halving tpe-hyperband`):
  the best it reaches, and in what share of the time.

Prints the best val_accuracy and the wall time of every search, per seed, then the means.
The anchors train Keras 3 models (TensorFlow backend) of the same architecture as mlp-tune.

    python Tools/sampler_bench.py ARCHIVE [--seeds 1 2 3] [--trials 20] [--epochs 4] [--bin .build/release]
"""
import argparse, json, os, subprocess, sys, tempfile, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np

from parity import load

# The space and the model tuner_bench.py uses (KerasTuner's usual MLP search), one definition for both.
from tuner_bench import SPACE, build_model as build


def optuna_tpe(x, y, trials, epochs, seed):
    import keras, optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    labels = keras.utils.to_categorical(y, 100)

    def objective(trial):
        model = build(keras, trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True), trial.suggest_int("layers", 1, 3),
                      trial.suggest_categorical("units", [64, 128, 256, 512]), trial.suggest_float("dropout", 0.0, 0.5),
                      trial.suggest_categorical("optimizer", ["adam", "rmsprop"]))
        history = model.fit(x, labels, validation_split=0.2, batch_size=128, epochs=epochs, verbose=0)
        return max(history.history["val_accuracy"])

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    start = time.time()
    study.optimize(objective, n_trials=trials)
    return study.best_value, time.time() - start


def keras_tuner(kind, x, y, trials, epochs, seed, folder):
    import keras, keras_tuner as kt

    def model(hp):
        return build(keras, hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"), hp.Int("layers", 1, 3),
                     hp.Choice("units", [64, 128, 256, 512]), hp.Float("dropout", 0.0, 0.5), hp.Choice("optimizer", ["adam", "rmsprop"]))

    tuner = {"bayesian": kt.BayesianOptimization, "random": kt.RandomSearch}[kind](
        model, objective="val_accuracy", max_trials=trials, seed=seed, directory=folder, project_name=f"{kind}-{seed}", overwrite=True)
    start = time.time()
    tuner.search(x, keras.utils.to_categorical(y, 100), validation_split=0.2, batch_size=128, epochs=epochs, verbose=0)
    seconds = time.time() - start
    return max(t.score for t in tuner.oracle.trials.values() if t.score is not None), seconds


def mlp_tune(binary, archive, algorithm, trials, epochs, seed, folder, pruner=None):
    space = os.path.join(folder, "space.json")
    with open(space, "w") as f:
        json.dump(SPACE, f)
    out = os.path.join(folder, f"mlp-{algorithm}-{pruner or 'none'}-{seed}")
    start = time.time()
    subprocess.run([os.path.join(binary, "mlp-tune"), "--data", archive, "--output-dir", out, "--algorithm", algorithm,
                    "--space", space, "--trials", str(trials), "--epochs", str(epochs), "--validation-split", "0.2",
                    "--seed", str(seed)] + (["--pruner", pruner] if pruner else []), check=True, stdout=subprocess.DEVNULL)
    seconds = time.time() - start
    scores = []
    for name in os.listdir(os.path.join(out, "trials")):
        with open(os.path.join(out, "trials", name, "trial.json")) as f:
            record = json.load(f)
        # The search's best is its best completed trial's (a pruned trial's score is its last epoch's).
        if record.get("status") == "completed" and "score" in record:
            scores.append(record["score"])
    return max(scores), seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--bin", default=".build/release")
    parser.add_argument("--only", nargs="*", help="run only these searches (e.g. tpe optuna-tpe)")
    args = parser.parse_args()
    x, y = load(args.archive, splits=("train",))["train"]
    searches = ["tpe", "tpe-median", "tpe-successive-halving", "tpe-hyperband", "optuna-tpe", "bayesian", "kerastuner-bayesian", "random", "kerastuner-random"]
    if args.only:
        searches = [s for s in searches if s in args.only]
    results = {s: [] for s in searches}
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            for search in searches:
                if search in ("tpe", "bayesian", "random"):
                    best, seconds = mlp_tune(args.bin, args.archive, search, args.trials, args.epochs, seed, folder)
                elif search.startswith("tpe-"):
                    best, seconds = mlp_tune(args.bin, args.archive, "tpe", args.trials, args.epochs, seed, folder,
                                             pruner=search[len("tpe-"):])
                elif search == "optuna-tpe":
                    best, seconds = optuna_tpe(x, y, args.trials, args.epochs, seed)
                else:
                    best, seconds = keras_tuner(search.split("-")[1], x, y, args.trials, args.epochs, seed, folder)
                results[search].append((best, seconds))
                print(f"seed {seed} {search:20s} best val_accuracy {best:.4f} in {seconds:7.1f} s", flush=True)
    print(f"\n{args.trials} trials of {args.epochs} epochs on {len(x)} training images (20% for validation), seeds {args.seeds}:")
    print("| search | " + " | ".join(f"seed {s}" for s in args.seeds) + " | mean best val_accuracy | mean seconds |")
    print("| --- | " + " | ".join("---" for _ in args.seeds) + " | --- | --- |")
    for search, values in results.items():
        print(f"| {search} | " + " | ".join(f"{b:.4f}" for b, _ in values)
              + f" | {np.mean([b for b, _ in values]):.4f} | {np.mean([s for _, s in values]):.1f} |")


if __name__ == "__main__":
    main()
