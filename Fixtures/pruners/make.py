"""Optuna's pruners deciding on recorded curves, for Tests/MLPKitTests/Tuning/PrunerTests.swift.

Each scenario is a list of curves (one value per step) and a pruner of Optuna's with its
settings. The trials run one after another in a study on Optuna's RDB storage (SQLite, so that
each pruning check sees the stored trials as another process would): each reports its values
step by step, asking `should_prune` after each; a pruned trial is told PRUNED, one that reaches
its last step COMPLETE with its last value. Writes pruners.json: per scenario the settings,
the curves (floats as repr strings; NaN as "nan") and, per trial, the step it was pruned at
(null when it completed) and the system attributes Optuna recorded on it.

Run with the versions in Tests/requirements.txt:  python Fixtures/pruners/make.py
"""
import json, math, os, tempfile
import numpy as np
import optuna

OUT = os.path.dirname(os.path.abspath(__file__))
STUDY = "pruner-fixture"


def curves(rng, trials, steps, nan_rate=0.0, loss=False):
    """Learning curves: each trial its own level and rate, with noise; some values NaN; rising
    (an accuracy) or, with `loss`, falling."""
    out = []
    for _ in range(trials):
        level, rate = rng.uniform(0.2, 0.9), rng.uniform(0.05, 0.5)
        curve = [level * (1 - math.exp(-rate * (s + 1))) + rng.normal(0, 0.02) for s in range(steps)]
        curve = [float("nan") if rng.random() < nan_rate else round(1 - v if loss else v, 6) for v in curve]
        out.append(curve)
    return out


def run(pruner, direction, values):
    with tempfile.TemporaryDirectory() as tmp:
        storage = optuna.storages.RDBStorage(f"sqlite:///{tmp}/study.db")
        study = optuna.create_study(study_name=STUDY, storage=storage, direction=direction, pruner=pruner)
        results = []
        for curve in values:
            trial = study.ask()
            pruned_at = None
            for step, value in enumerate(curve):
                trial.report(value, step)
                if trial.should_prune():
                    pruned_at = step
                    break
            if pruned_at is None:
                study.tell(trial, curve[-1] if not math.isnan(curve[-1]) else 0.0)
            else:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            frozen = study.get_trials(deepcopy=False)[-1]
            results.append({"pruned_at": pruned_at,
                            "system_attrs": {k: repr(float(v)) for k, v in sorted(frozen.system_attrs.items())}})
        return results


def main():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(28)
    scenarios = [
        ("median_default", "maximize", {"pruner": "median"}, curves(rng, 30, 10)),
        ("median_warmup_interval_minimize", "minimize",
         {"pruner": "median", "n_startup_trials": 3, "n_warmup_steps": 2, "interval_steps": 3}, curves(rng, 25, 12, loss=True)),
        ("median_nan", "maximize", {"pruner": "median", "n_startup_trials": 2}, curves(rng, 20, 8, nan_rate=0.1)),
        ("successive_halving_default", "maximize", {"pruner": "successive-halving"}, curves(rng, 40, 20)),
        ("successive_halving_settings", "minimize",
         {"pruner": "successive-halving", "min_resource": 1, "reduction_factor": 3, "min_early_stopping_rate": 1},
         curves(rng, 40, 15, loss=True)),
        ("hyperband_default", "maximize", {"pruner": "hyperband"}, curves(rng, 60, 27)),
        ("hyperband_settings", "maximize", {"pruner": "hyperband", "min_resource": 2, "max_resource": 16, "reduction_factor": 2},
         curves(rng, 50, 16, nan_rate=0.02)),
    ]
    out = {"study_name": STUDY, "optuna": optuna.__version__, "scenarios": []}
    for name, direction, settings, values in scenarios:
        kind = settings["pruner"]
        options = {k: v for k, v in settings.items() if k != "pruner"}
        pruner = {"median": optuna.pruners.MedianPruner, "successive-halving": optuna.pruners.SuccessiveHalvingPruner,
                  "hyperband": optuna.pruners.HyperbandPruner}[kind](**options)
        results = run(pruner, direction, values)
        out["scenarios"].append({
            "name": name, "direction": direction, "pruner": kind, "settings": options,
            "curves": [[repr(v) for v in curve] for curve in values], "trials": results})
        pruned = sum(r["pruned_at"] is not None for r in results)
        print(f"{name}: {pruned} of {len(results)} pruned")
    with open(os.path.join(OUT, "pruners.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
