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
from optuna.samplers._tpe.sampler import _split_trials, default_gamma, default_gamma_multiobjective
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


def constrained_scenario(rng, directions, count, running, infeasible_rate, pruned_rate=0.0):
    """A study of one or several objectives whose completed trials carry a constraint (set as
    Optuna 5's trial.set_constraint keeps it), some of them broken."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=directions)
    distribution = optuna.distributions.FloatDistribution(0.0, 1.0)
    trials = []
    for n in range(count):
        params = {"x": float(rng.uniform())}
        system, values, steps, constraint = {}, None, {}, None
        if n in running:
            state = TrialState.RUNNING
        elif rng.random() < pruned_rate:
            state = TrialState.PRUNED
            steps = {s: round(float(rng.uniform()), 3) for s in range(int(rng.integers(0, 4)) + 1)}
        else:
            state = TrialState.COMPLETE
            values = [round(float(rng.uniform()), 2) for _ in directions]
            constraint = round(float(rng.uniform(0.0, 1.0)), 3) if rng.random() < infeasible_rate else -round(float(rng.uniform()), 3)
            system = {"constraints:c": constraint}
        study.add_trial(optuna.trial.create_trial(state=state, values=values, params=params, distributions={"x": distribution},
                                                   intermediate_values=steps, system_attrs=system))
        trials.append({"state": state.name, "values": None if values is None else [number(v) for v in values],
                       "constraint": None if constraint is None else number(constraint),
                       "intermediate_values": {str(s): number(v) for s, v in steps.items()}})
    frozen = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING))
    n = sum(t.state != TrialState.RUNNING for t in frozen)
    gamma = default_gamma if len(directions) == 1 else default_gamma_multiobjective
    below, above = _split_trials(study, frozen, gamma(n))
    return {"directions": directions, "trials": trials,
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
    # Several objectives and constraints, from a generator of their own (the scenarios above stay as they were).
    rng = np.random.default_rng(11)
    constrained = [
        constrained_scenario(rng, ["maximize", "minimize"], 30, {29}, 0.0),
        constrained_scenario(rng, ["maximize", "minimize"], 60, {58, 59}, 0.3),
        constrained_scenario(rng, ["maximize"], 40, {39}, 0.4, pruned_rate=0.2),
        constrained_scenario(rng, ["minimize", "minimize"], 120, set(), 0.5),
        # Mostly infeasible: the good group reaches into the broken trials, least violation first.
        constrained_scenario(rng, ["maximize", "minimize"], 40, set(), 0.9),
    ]
    with open(os.path.join(OUT, "tpe_split.json"), "w") as f:
        json.dump({"optuna": optuna.__version__, "scenarios": scenarios, "constrained": constrained}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
