"""KerasTuner's Hyperband schedule and its random draws, for Tests/MLPKitTests/TuningTests.swift.

Drives KerasTuner's own HyperbandOracle one trial at a time, as a single worker would, with
each trial's score set from a fixed list, and records for every trial it creates: its
bracket and round, the epochs it trains to and from, and the trial it goes on from.
Writes Fixtures/tuning/hyperband.json.

Then draws trials from KerasTuner's RandomSearchOracle for several spaces and seeds, the
hyperparameters registered in the order of SearchSpace.keys, and records each trial's values
(floats as repr strings, exact). One space is small enough to repeat itself and run out.
Writes Fixtures/tuning/draws.json.

Run with the versions in Tests/requirements.txt:  python Fixtures/tuning/make.py
"""
import json, os, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

OUT = os.path.dirname(os.path.abspath(__file__))


def schedule(max_epochs, factor, iterations, scores):
    import keras_tuner as kt
    hp = kt.HyperParameters()
    hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    oracle = kt.oracles.HyperbandOracle(objective=kt.Objective("val_accuracy", "max"), max_epochs=max_epochs,
                                        factor=factor, hyperband_iterations=iterations, seed=1, hyperparameters=hp)
    with tempfile.TemporaryDirectory() as folder:
        oracle._set_project_dir(folder, "search")
        trials, numbers = [], {}
        while True:
            trial = oracle.create_trial("worker")
            if trial.status == "STOPPED":
                break
            values = trial.hyperparameters.values
            number = len(trials)
            numbers[trial.trial_id] = number
            score = scores[number % len(scores)]
            trials.append({"bracket": values["tuner/bracket"], "round": values["tuner/round"],
                           "epochs": values["tuner/epochs"], "initial_epoch": values["tuner/initial_epoch"],
                           "past_trial": numbers.get(values.get("tuner/trial_id")), "score": score})
            oracle.update_trial(trial.trial_id, {"val_accuracy": score})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    return trials


KEYS = ["learning_rate", "layers", "units", "activation", "dropout", "optimizer", "batch_size", "l2", "batch_norm"]


def draws(space, seed, count):
    import keras_tuner as kt
    hp = kt.HyperParameters()
    for key in sorted(space, key=KEYS.index):
        kind, bounds = next(iter(space[key].items()))
        if kind == "log_uniform":
            hp.Float(key, bounds[0], bounds[1], sampling="log")
        elif kind == "uniform":
            hp.Float(key, bounds[0], bounds[1])
        elif kind == "int":
            hp.Int(key, bounds[0], bounds[1])
        else:
            hp.Choice(key, bounds)
    oracle = kt.oracles.RandomSearchOracle(objective=kt.Objective("val_accuracy", "max"), max_trials=count, seed=seed,
                                           hyperparameters=hp)
    out = []
    with tempfile.TemporaryDirectory() as folder:
        oracle._set_project_dir(folder, "search")
        for _ in range(count):
            trial = oracle.create_trial("worker")
            if trial.status == "STOPPED":
                break
            out.append({k: repr(v) if isinstance(v, float) else v for k, v in trial.hyperparameters.values.items()})
            oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    scores = [0.31, 0.52, 0.44, 0.27, 0.61, 0.38, 0.49, 0.55, 0.12, 0.58, 0.47, 0.33, 0.64]
    cases = []
    for max_epochs, factor, iterations in [(6, 3, 1), (27, 3, 1), (10, 2, 1), (9, 3, 2), (1, 3, 1)]:
        cases.append({"max_epochs": max_epochs, "factor": factor, "iterations": iterations, "scores": scores,
                      "trials": schedule(max_epochs, factor, iterations, scores)})
    with open(os.path.join(OUT, "hyperband.json"), "w") as f:
        json.dump(cases, f, indent=1)

    issue = {"learning_rate": {"log_uniform": [0.0001, 0.01]}, "layers": {"int": [1, 3]},
             "units": {"choice": [64, 128, 256, 512]}, "dropout": {"uniform": [0.0, 0.5]},
             "optimizer": {"choice": ["adam", "rmsprop"]}}
    wide = {"learning_rate": {"log_uniform": [1e-05, 0.1]}, "units": {"choice": [32, 96, 300]}, "activation": {"choice": ["relu", "tanh"]},
            "dropout": {"uniform": [0.1, 0.6]}, "batch_size": {"choice": [64, 128, 256]}, "l2": {"log_uniform": [1e-06, 0.001]},
            "batch_norm": {"choice": [True, False]}}
    small = {"layers": {"int": [1, 2]}, "units": {"choice": [64, 128, 256]}}
    cases = [{"space": space, "seed": seed, "trials": draws(space, seed, count)}
             for space, seed, count in [(issue, 1, 30), (issue, 7, 30), (issue, 4_000_000_000, 10), (issue, 2**40 + 3, 10),
                                        (wide, 12, 30), (small, 3, 10)]]
    with open(os.path.join(OUT, "draws.json"), "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
