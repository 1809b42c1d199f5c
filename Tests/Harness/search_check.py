"""Search check: several objectives, constraints, cross-validated trials and reproducible parallel
searches, read back by Python Optuna 5 and scikit-learn. Run by Scripts/test.sh.

- A 2-objective search (val_accuracy, params) on SQLite and on PostgreSQL: `study.directions`
  is [MAXIMIZE, MINIMIZE], `study.best_trials` equals best.json's `best_trials`, and each trial's
  `params` value equals the parameter count mlp-inspect reports for its model. The same search
  with --algorithm nsga2 past its first generation, and the front in the folder's Optuna journal.
- A constrained search (val_accuracy subject to params<=X): each `trial.constraints` equals
  params − X, `study.best_trial` is feasible and is best.json's trial.
- A cross-validated search (--folds 3): folds.json equals scikit-learn's StratifiedKFold on the
  training labels (read from the archive by Python), and each trial's score is the mean of its
  fold scores (trials.csv and the study's user attributes).
- A reproducible search (--reproducible, TPE, 16 trials so that the TPE's own proposals begin after
  its 10 random ones): run by one worker, by two workers on one study, and by two workers again,
  the three studies' trials are identical (parameters, values, states), number by number; a
  worker asking --reproducible of a study made without it is refused.
- Bad input gets one line each and a non-zero status.

The PostgreSQL part needs MLP_TEST_POSTGRES (see database_check.py); without it, it is skipped.

    python Tests/Harness/search_check.py BIN_DIR
"""
import csv, json, os, pickle, subprocess, sys, tarfile, tempfile, uuid
import numpy as np
from harness import ROOT, BIN, check, skip, summary, postgres_database, sqlalchemy_url

ARCHIVE = os.path.join(ROOT, "Fixtures", "cifar", "cifar-100-python.tar.gz")
ADMIN = os.environ.get("MLP_TEST_POSTGRES")
SPACE = ["--units", "8,16,32,64", "--hidden-layers", "1:2"]

import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)


def tune(folder, *extra):
    return subprocess.run([os.path.join(BIN, "mlp-tune"), "--data", ARCHIVE, "--output-dir", folder, "--seed", "3", *SPACE, *extra],
                          capture_output=True, text=True)


def best_record(folder):
    with open(os.path.join(folder, "best.json")) as f:
        return json.load(f)["mlp_tune"]


def inspected_params(model):
    out = subprocess.run([os.path.join(BIN, "mlp-inspect"), model, "--json"], capture_output=True, text=True)
    return json.loads(out.stdout)["total_params"] if out.returncode == 0 else None


def front_check(engine, url, tmp, algorithm="tpe", trials="14"):
    folder = os.path.join(tmp, f"front-{engine}-{algorithm}")
    out = tune(folder, "--storage", url, "--study-name", "front", "--algorithm", algorithm, "--objective", "val_accuracy",
               "--objective", "params", "--trials", trials, "--epochs", "2")
    check(f"{engine}: a 2-objective {algorithm} search runs", out.returncode == 0, out.stderr.strip()[-300:])
    if out.returncode != 0:
        return
    study = optuna.load_study(study_name="front", storage=sqlalchemy_url(url))
    directions = [d.name for d in study.directions]
    check(f"{engine}: study.directions are MAXIMIZE, MINIMIZE", directions == ["MAXIMIZE", "MINIMIZE"], str(directions))
    ours = best_record(folder)
    theirs = sorted(t.number for t in study.best_trials)
    check(f"{engine}: study.best_trials equals best.json's best_trials ({algorithm})", theirs == ours.get("best_trials") and theirs,
          f"Optuna {theirs}, best.json {ours.get('best_trials')}")
    check(f"{engine}: best.json's trial is the front's best val_accuracy",
          ours["trial"] == max(study.best_trials, key=lambda t: (t.values[0], -t.number)).number, str(ours["trial"]))
    mismatched = []
    for trial in study.trials:
        if trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        counted = inspected_params(os.path.join(folder, "trials", f"{trial.number:04d}", "model.h5"))
        if counted != trial.values[1]:
            mismatched.append((trial.number, trial.values[1], counted))
    completed = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    check(f"{engine}: each trial's params value equals mlp-inspect's count ({completed} trials)", completed and not mismatched, str(mismatched[:3]))
    return folder


def journal_check(tmp):
    """The folder's own Optuna journal, read by Optuna's JournalStorage."""
    folder = os.path.join(tmp, "front-journal")
    out = tune(folder, "--algorithm", "nsga2", "--objective", "val_accuracy", "--objective", "params", "--trials", "60", "--epochs", "1")
    check("folder: a 60-trial nsga2 search (past its first generation of 50) runs", out.returncode == 0, out.stderr.strip()[-300:])
    if out.returncode != 0:
        return
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    storage = JournalStorage(JournalFileBackend(os.path.join(folder, "optuna-journal.log")))
    study = optuna.load_study(study_name=os.path.basename(folder), storage=storage)
    theirs = sorted(t.number for t in study.best_trials)
    check("folder: the journal's best_trials equal best.json's", theirs == best_record(folder).get("best_trials"), str(theirs))
    with open(os.path.join(folder, "trials.csv")) as f:
        header = next(csv.reader(f))
    check("folder: trials.csv has a column per objective", "val_accuracy" in header and "params" in header and "score" not in header, str(header))
    distinct = len({tuple(sorted(t.params.items())) for t in study.trials})
    check("folder: nsga2's children after generation 0 are new values", distinct == len(study.trials), f"{distinct} of {len(study.trials)}")


def constraint_check(tmp, url, engine):
    folder = os.path.join(tmp, f"constrained-{engine}")
    out = tune(folder, "--storage", url, "--study-name", "bounded", "--algorithm", "tpe", "--objective", "val_loss",
               "--constraint", "params<=60000", "--trials", "14", "--epochs", "2")
    check(f"{engine}: a constrained search runs", out.returncode == 0, out.stderr.strip()[-300:])
    if out.returncode != 0:
        return
    study = optuna.load_study(study_name="bounded", storage=sqlalchemy_url(url))
    wrong = [(t.number, t.constraints, t.user_attrs.get("parameter_count")) for t in study.trials
             if t.state == optuna.trial.TrialState.COMPLETE and t.constraints != {"params<=60000": t.user_attrs["parameter_count"] - 60000}]
    check(f"{engine}: trial.constraints equals params − 60000 on every trial", not wrong, str(wrong[:3]))
    best = study.best_trial
    check(f"{engine}: study.best_trial is feasible and is best.json's trial",
          all(v <= 0 for v in best.constraints.values()) and best.number == best_record(folder)["trial"],
          f"Optuna {best.number} {best.constraints}, best.json {best_record(folder)['trial']}")
    infeasible = sum(1 for t in study.trials if any(v > 0 for v in t.constraints.values()))
    check(f"{engine}: the search has infeasible trials, so the choice mattered", infeasible > 0, f"{infeasible} infeasible")


def training_labels():
    with tarfile.open(ARCHIVE) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/train"))
        data = pickle.load(archive.extractfile(member), encoding="latin1")
    return np.array(data["fine_labels"])


def folds_check(tmp):
    from sklearn.model_selection import StratifiedKFold
    folder = os.path.join(tmp, "folds")
    out = tune(folder, "--algorithm", "random", "--folds", "3", "--trials", "3", "--epochs", "2")
    check("folds: a 3-fold search runs", out.returncode == 0, out.stderr.strip()[-300:])
    if out.returncode != 0:
        return
    with open(os.path.join(folder, "folds.json")) as f:
        ours = json.load(f)
    labels = training_labels()
    theirs = [sorted(int(i) for i in test) for _, test in
              StratifiedKFold(n_splits=3, shuffle=True, random_state=3).split(np.zeros(len(labels)), labels)]
    check("folds: folds.json equals StratifiedKFold(3, shuffle=True, random_state=3)",
          ours["n_splits"] == 3 and ours["random_state"] == 3 and ours["validation_indices"] == theirs,
          f"{len(labels)} labels, fold sizes {[len(x) for x in ours['validation_indices']]}")
    with open(os.path.join(folder, "trials.csv")) as f:
        rows = list(csv.DictReader(f))
    means = [(r["score"], np.mean([float(r[f"fold_{k}"]) for k in (1, 2, 3)])) for r in rows]
    check("folds: each trial's score is the mean of its fold scores (trials.csv)",
          rows and all(abs(float(s) - m) < 1e-12 for s, m in means), str(means[:3]))
    from optuna.storages.journal import JournalFileBackend, JournalStorage
    study = optuna.load_study(study_name="folds", storage=JournalStorage(JournalFileBackend(os.path.join(folder, "optuna-journal.log"))))
    attributes = [(t.value, t.user_attrs.get("fold_scores")) for t in study.trials]
    check("folds: the study's value is the mean of the fold_scores user attribute",
          all(v is not None and s and abs(v - np.mean(s)) < 1e-12 for v, s in attributes), str(attributes[:2]))


def table(url, name):
    study = optuna.load_study(study_name=name, storage=url)
    return [(t.number, t.state.name, t.values, sorted(t.params.items())) for t in study.trials]


def reproducible_check(tmp):
    url = f"sqlite:///{tmp}/reproducible.db"
    def worker(name, folder):
        return subprocess.Popen([os.path.join(BIN, "mlp-tune"), "--data", ARCHIVE, "--output-dir", os.path.join(tmp, folder), "--seed", "5",
                                 *SPACE, "--storage", url, "--study-name", name, "--algorithm", "tpe", "--trials", "16", "--epochs", "3",
                                 "--threads", "1", "--reproducible", "--heartbeat-interval", "5"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = {}
    for name, workers in [("one", 1), ("two", 2), ("again", 2)]:
        processes = [worker(name, f"{name}-{k}") for k in range(workers)]
        outputs = [p.communicate() for p in processes]
        ok = all(p.returncode == 0 for p in processes)
        lines = [sum(line.startswith("trial ") for line in out.splitlines()) for out, _ in outputs]
        check(f"reproducible: the study '{name}' of {workers} worker(s) runs", ok, f"trials per worker {lines}; " + outputs[0][1].strip()[-200:])
        runs[name] = (table(url, name), lines)
    one, two, again = runs["one"][0], runs["two"][0], runs["again"][0]
    check("reproducible: two workers give one worker's trials (parameters, values, states)", one == two and len(one) == 16,
          f"{len(one)} trials; the two workers ran {runs['two'][1]}; first difference "
          + str(next(((a, b) for a, b in zip(one, two) if a != b), None))[:300])
    check("reproducible: a second run of two workers gives them again", one == again, f"the workers ran {runs['again'][1]}")
    distinct = {str(row[3]) for row in one}
    check("reproducible: the trials differ from one another (TPE's own proposals included)", len(distinct) == 16, f"{len(distinct)} distinct")
    out = tune(os.path.join(tmp, "front-sqlite-tpe"), "--storage", f"sqlite:///{tmp}/front.db", "--study-name", "front", "--reproducible")
    lines = out.stderr.strip().splitlines()
    check("bad input: --reproducible against a study made without it is one line",
          out.returncode != 0 and len(lines) == 1 and "--reproducible" in lines[0] and "without" in lines[0], out.stderr.strip()[:300])


def bad_input_check(tmp):
    cases = [
        ("a constraint that does not parse", ["--constraint", "params<200000"], "--constraint"),
        ("an unknown objective", ["--objective", "val_top5"], "--objective"),
        ("--folds 1", ["--folds", "1"], "--folds"),
        ("--folds larger than the smallest class", ["--folds", "9"], "--folds"),
        ("--folds with --validation-split", ["--folds", "2", "--validation-split", "0.2"], "--folds"),
        ("--folds with Hyperband", ["--folds", "2", "--algorithm", "hyperband"], "--folds"),
        ("a pruner with two objectives", ["--objective", "val_accuracy", "--objective", "params", "--pruner", "median"], "--pruner"),
        ("bayesian with two objectives", ["--objective", "val_accuracy", "--objective", "params", "--algorithm", "bayesian"], "--algorithm"),
    ]
    for name, extra, flag in cases:
        folder = os.path.join(tmp, "bad-" + uuid.uuid4().hex[:6])
        out = tune(folder, *(["--trials", "2", "--epochs", "1"] if "hyperband" not in extra else []), *extra)
        lines = out.stderr.strip().splitlines()
        check(f"bad input: {name} is one line naming {flag}, nothing written",
              out.returncode != 0 and len(lines) == 1 and flag in lines[0] and not os.path.exists(folder), out.stderr.strip()[:300])
    folder = os.path.join(tmp, "front-sqlite-tpe")
    url = f"sqlite:///{tmp}/front.db"
    study = optuna.load_study(study_name="front", storage=url)
    off = next(t.number for t in study.trials if t.number not in {b.number for b in study.best_trials})
    out = tune(folder, "--storage", url, "--study-name", "front", "--retrain", "--trial", str(off))
    lines = out.stderr.strip().splitlines()
    check("bad input: --trial N not on the front is one line naming the front",
          out.returncode != 0 and len(lines) == 1 and "--trial" in lines[0] and "front" in lines[0], out.stderr.strip()[:300])


def main():
    with tempfile.TemporaryDirectory() as tmp:
        front_check("sqlite", f"sqlite:///{tmp}/front.db", tmp)
        constraint_check(tmp, f"sqlite:///{tmp}/bounded.db", "sqlite")
        if ADMIN:
            front_check("postgresql", postgres_database(f"front_{uuid.uuid4().hex[:8]}"), tmp)
            constraint_check(tmp, postgres_database(f"bounded_{uuid.uuid4().hex[:8]}"), "postgresql")
        else:
            skip("postgresql: a 2-objective search read by Optuna", "MLP_TEST_POSTGRES is not set (no server)")
            skip("postgresql: a constrained search read by Optuna", "MLP_TEST_POSTGRES is not set (no server)")
        journal_check(tmp)
        folds_check(tmp)
        bad_input_check(tmp)
        reproducible_check(tmp)
    sys.exit(summary(skips=True))


if __name__ == "__main__":
    main()
