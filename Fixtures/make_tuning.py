"""KerasTuner's Hyperband schedule, for Tests/MLPKitTests/TuningTests.swift.

Drives KerasTuner's own HyperbandOracle one trial at a time, as a single worker would, with
each trial's score set from a fixed list, and records for every trial it creates: its
bracket and round, the epochs it trains to and from, and the trial it goes on from.
Writes Fixtures/tuning/hyperband.json.

Run with the versions in requirements.txt:  python make_tuning.py
"""
import json, os, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tuning")


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


def main():
    os.makedirs(OUT, exist_ok=True)
    scores = [0.31, 0.52, 0.44, 0.27, 0.61, 0.38, 0.49, 0.55, 0.12, 0.58, 0.47, 0.33, 0.64]
    cases = []
    for max_epochs, factor, iterations in [(6, 3, 1), (27, 3, 1), (10, 2, 1), (9, 3, 2), (1, 3, 1)]:
        cases.append({"max_epochs": max_epochs, "factor": factor, "iterations": iterations, "scores": scores,
                      "trials": schedule(max_epochs, factor, iterations, scores)})
    with open(os.path.join(OUT, "hyperband.json"), "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
