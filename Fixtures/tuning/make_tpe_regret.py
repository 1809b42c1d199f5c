"""Optuna's TPESampler (default settings) on a cheap objective whose best is known, for
Tests/MLPKitTests/Samplers/TPETests.swift: 30 seeds × 50 trials. The space and score are
TPETests's: learning rate log-uniform in [1e-4, 1e-1], layers an integer in [1, 3], units one
of 64/128/256/512, dropout uniform in [0, 0.5], optimizer adam or rmsprop;
score = 1 − (log10(lr) + 2.5)²/4 − 2·(dropout − 0.1)² − 0.2·[units ≠ 256] − 0.15·|layers − 2|
− 0.1·[optimizer ≠ adam], whose maximum is 1. Writes tpe_regret.json: each seed's regret
(1 − the best score of its 50 trials).

Run with the versions in Tests/requirements.txt:  python Fixtures/tuning/make_tpe_regret.py
"""
import json, math, os
import optuna

OUT = os.path.dirname(os.path.abspath(__file__))


def objective(trial):
    rate = math.log10(trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)) + 2.5
    layers = trial.suggest_int("layers", 1, 3)
    units = trial.suggest_categorical("units", [64, 128, 256, 512])
    dropout = trial.suggest_float("dropout", 0.0, 0.5) - 0.1
    optimizer = trial.suggest_categorical("optimizer", ["adam", "rmsprop"])
    return (1 - rate * rate / 4 - dropout * dropout * 2 - (0 if units == 256 else 0.2) - abs(layers - 2) * 0.15
            - (0 if optimizer == "adam" else 0.1))


def main():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    regrets = []
    for seed in range(1, 31):
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(objective, n_trials=50)
        regrets.append(1 - study.best_value)
    with open(os.path.join(OUT, "tpe_regret.json"), "w") as f:
        json.dump({"optuna": optuna.__version__, "trials": 50, "regrets": [repr(r) for r in regrets]}, f, indent=1)


if __name__ == "__main__":
    main()
