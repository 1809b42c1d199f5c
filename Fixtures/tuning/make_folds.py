"""scikit-learn's StratifiedKFold(n_splits, shuffle=True, random_state) on recorded label lists,
for Tests/MLPKitTests/Search/StratifiedFoldsTests.swift: per case the labels, the settings and
each fold's validation indices (ascending), as `split` yields them.

Cases: balanced classes in class order (as a CIFAR-shaped fixture stores them), unbalanced
random labels whose smallest class has exactly n_splits members, labels first seen out of
numeric order, and the largest 32-bit random_state.

Run with the versions in Tests/requirements.txt:  python Fixtures/tuning/make_folds.py
"""
import json, os
import numpy as np
import sklearn
from sklearn.model_selection import StratifiedKFold

OUT = os.path.dirname(os.path.abspath(__file__))


def case(labels, n_splits, random_state):
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    held = [sorted(int(i) for i in test) for _, test in folds.split(np.zeros(len(labels)), labels)]
    return {"labels": [int(x) for x in labels], "n_splits": n_splits, "random_state": random_state, "validation_indices": held}


def main():
    rng = np.random.default_rng(5)
    ordered = np.repeat(np.arange(100), 3)
    unbalanced = rng.integers(0, 10, size=400)
    unbalanced[:5] = 9  # class 9 first, then the rest
    counts = np.bincount(unbalanced, minlength=10)
    small = int(np.argmin(counts))
    # Trim the smallest class to exactly 5 members.
    keep = [i for i in range(len(unbalanced)) if unbalanced[i] != small] + list(np.flatnonzero(unbalanced == small)[:5])
    unbalanced = unbalanced[sorted(keep)]
    shuffled = rng.permutation(np.repeat(np.arange(20), 13))
    cases = [case(ordered, 3, 0), case(ordered, 2, 11), case(unbalanced, 5, 7), case(unbalanced, 3, 4294967295),
             case(shuffled, 4, 123), case(shuffled, 13, 99)]
    with open(os.path.join(OUT, "folds.json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
