"""Optuna's TPE splitting a study's trials into its good ("below") and bad ("above") groups,
for Tests/MLPKitTests/Tuning/TPETests.swift.

Each scenario is a study (maximize or minimize) of finished trials: COMPLETE with a value,
PRUNED with intermediate values up to some step (the last one NaN now and then, or none at
all), and RUNNING. Optuna's TPESampler splits them with `_split_trials` and `default_gamma` of
the finished count, as its `_sample` does; the order of each group is what its Parzen
estimators weigh by (`default_weights` ramps from the first trial to the last). Writes
tpe_split.json: per scenario the direction and, per trial, its state, value and intermediate
values (floats as repr strings; NaN as "nan"), then the numbers of each group in Optuna's order.

Run with the versions in Tests/requirements.txt:  python Fixtures/tuning/make_tpe_split.py
"""
import json, math, os
import numpy as np
import optuna
from optuna.samplers._tpe.sampler import _split_trials, default_gamma
from optuna.trial import TrialState

OUT = os.path.dirname(os.path.abspath(__file__))


def number(x):
    return "nan" if math.isnan(x) else repr(float(x))


def scenario(rng, direction, count, pruned_rate, running, ties):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction)
    distribution = optuna.distributions.FloatDistribution(0.0, 1.0)
    trials = []
    for n in range(count):
        params = {"x": float(rng.uniform())}
        if n in running:
            state, value, steps = TrialState.RUNNING, None, {}
        elif rng.random() < pruned_rate:
            state, value = TrialState.PRUNED, None
            last = int(rng.integers(-1, 5))  # -1: pruned before any report
            steps = {s: round(float(rng.uniform()), 3) for s in range(last + 1)}
            if steps and rng.random() < 0.15:
                steps[last] = float("nan")
        else:
            state = TrialState.COMPLETE
            # Rounded to few levels where ties are wanted, so that equal values occur.
            value = round(float(rng.uniform()), 1 if ties else 6)
            steps = {}
        study.add_trial(optuna.trial.create_trial(state=state, value=value, params=params,
                                                   distributions={"x": distribution}, intermediate_values=steps))
        trials.append({"state": state.name, "value": None if value is None else number(value),
                       "intermediate_values": {str(s): number(v) for s, v in steps.items()}})
    frozen = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING))
    n = sum(t.state != TrialState.RUNNING for t in frozen)
    below, above = _split_trials(study, frozen, default_gamma(n))
    return {"direction": direction, "trials": trials,
            "below": [t.number for t in below], "above": [t.number for t in above]}


def main():
    rng = np.random.default_rng(7)
    scenarios = [
        scenario(rng, "maximize", 12, 0.3, {11}, ties=False),
        scenario(rng, "minimize", 12, 0.3, set(), ties=True),
        scenario(rng, "maximize", 40, 0.4, {38, 39}, ties=True),
        scenario(rng, "minimize", 60, 0.5, {59}, ties=False),
        # Mostly pruned: the good group reaches into the pruned trials.
        scenario(rng, "maximize", 30, 0.9, set(), ties=False),
        scenario(rng, "maximize", 300, 0.3, {297, 298, 299}, ties=True),
    ]
    with open(os.path.join(OUT, "tpe_split.json"), "w") as f:
        json.dump({"optuna": optuna.__version__, "scenarios": scenarios}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
