"""Optuna's multi-objective ranking and NSGA-II's elite selection on recorded populations, for
Tests/MLPKitTests/Samplers/ParetoRankingTests.swift.

Each population is a list of complete trials with 1 to 3 objective values (ties, duplicates,
infinities; some with constraints). For each, Optuna 5's own functions give: the
non-domination ranks (`_fast_non_domination_rank`, with and without `n_below`, with the
penalty when constrained), the crowding distances of the whole population taken as one front
(`_calc_crowding_distance`) and the order it leaves the list in, and the elite population that
`NSGAIIElitePopulationSelectionStrategy` selects (trial numbers in order). For two objectives or more,
also the multi-objective TPE's good group (`_split_complete_trials_multi_objective`, its last
front cut by hypervolume subset selection) for several sizes. Writes nsga2.json.

Run with the versions in Tests/requirements.txt:  python Fixtures/tuning/make_nsga2.py
"""
import json, math, os
import numpy as np
import optuna
from optuna.samplers.nsgaii._elite_population_selection_strategy import (
    NSGAIIElitePopulationSelectionStrategy, _calc_crowding_distance)
from optuna.samplers.nsgaii._constraints_evaluation import _evaluate_penalty
from optuna.study import StudyDirection
from optuna.study._multi_objective import _fast_non_domination_rank
from optuna.samplers._tpe.sampler import _split_complete_trials_multi_objective
from optuna.trial import TrialState, create_trial

OUT = os.path.dirname(os.path.abspath(__file__))


def text(x):
    return "inf" if x == math.inf else "-inf" if x == -math.inf else repr(float(x))


def population(rng, count, objectives, ties, infinities, constrained):
    values = rng.normal(size=(count, objectives))
    if ties:
        values = np.round(values * 2) / 2
    rows = []
    for i in range(count):
        row = [float(v) for v in values[i]]
        if infinities and rng.random() < 0.1:
            row[rng.integers(objectives)] = math.inf if rng.random() < 0.7 else -math.inf
        rows.append(row)
    if count > 4:
        rows[3] = list(rows[1])  # a duplicate point
    constraints = [[float(c) for c in np.round(rng.normal(size=2) - 0.3, 2)] for _ in range(count)] if constrained else None
    return rows, constraints


def record(rows, constraints, directions, size):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=directions)
    for i, row in enumerate(rows):
        attrs = {"constraints": constraints[i]} if constraints else {}
        study.add_trial(create_trial(values=row, state=TrialState.COMPLETE, system_attrs=attrs))
    trials = study.get_trials(deepcopy=False)
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    losses = np.array(rows, dtype=np.float64) * signs
    penalty = _evaluate_penalty(trials) if constraints else None
    ranks = _fast_non_domination_rank(losses, penalty=penalty)
    below = max(1, len(rows) // 3)
    ranks_below = _fast_non_domination_rank(losses, penalty=penalty, n_below=below)
    front = list(trials)
    distances = _calc_crowding_distance(front)
    elite = NSGAIIElitePopulationSelectionStrategy(population_size=size)(study, list(trials))
    splits = {}
    if len(directions) >= 2:
        for n_below in sorted({1, 2, math.ceil(0.1 * len(rows)), len(rows) // 3, len(rows) // 2, len(rows) - 1}):
            good, _ = _split_complete_trials_multi_objective(trials, study, n_below)
            splits[str(n_below)] = sorted(t.number for t in good)
    return {
        "tpe_good": splits,
        "directions": directions, "values": [[text(v) for v in row] for row in rows], "constraints": constraints,
        "ranks": [int(r) for r in ranks], "below": below, "ranks_below": [int(r) for r in ranks_below],
        "crowding": [text(distances[t.number]) for t in trials], "crowding_order": [t.number for t in front],
        "elite_size": size, "elite": [t.number for t in elite],
    }


def main():
    rng = np.random.default_rng(7)
    cases = []
    for count, objectives, directions, ties, infinities, constrained, size in [
        (12, 2, ["maximize", "minimize"], False, False, False, 6),
        (30, 2, ["maximize", "minimize"], True, False, False, 10),
        (25, 3, ["minimize", "minimize", "maximize"], True, True, False, 12),
        (40, 2, ["minimize", "minimize"], True, True, True, 15),
        (20, 1, ["maximize"], True, False, False, 7),
        (50, 3, ["maximize", "maximize", "minimize"], False, False, True, 20),
        (8, 2, ["minimize", "maximize"], True, False, False, 8),
    ]:
        rows, constraints = population(rng, count, objectives, ties, infinities, constrained)
        cases.append(record(rows, constraints, directions, size))
    with open(os.path.join(OUT, "nsga2.json"), "w") as f:
        json.dump({"optuna": optuna.__version__, "populations": cases}, f, indent=1)


if __name__ == "__main__":
    main()
