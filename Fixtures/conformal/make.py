"""Prediction sets as MAPIE 1.6 computes them, for Tests/MLPKitTests/Metrics/ConformalTests:
`SplitConformalClassifier(estimator, confidence_level=1 - alpha, conformity_score="lac"|"aps",
prefit=True, random_state=SEED)`, conformalized on calibration probabilities and asked for the
sets of test probabilities (`predict_set`, its default `include_last_label=True`). The
estimator is a fixed table of probabilities (float32 values, given to MAPIE as float64), so
that the sets depend on nothing but the numbers recorded here.

Two cases: 7 classes from a Dirichlet draw, and 100 classes from the softmax of wide logits,
with many probabilities that are exactly 0 in float32 (MAPIE's EPSILON branch for the last
included label). Writes cases.json: per case, the probabilities and labels, and per score and
alpha, the quantile (repr) and each test sample's set (class indices). Probabilities are written
as numpy prints a float32 (the shortest text that reads back as it).

Run with the versions in Tests/requirements.txt:  python Fixtures/conformal/make.py
"""
import json, os
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from mapie.classification import SplitConformalClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
ALPHAS = [0.05, 0.1, 0.2]
SEED = 3


class Table(ClassifierMixin, BaseEstimator):
    """A classifier whose predict_proba looks its answers up: X holds row numbers."""

    def __init__(self, probabilities=None):
        self.probabilities = probabilities

    def fit(self, X, y):
        return self

    def __sklearn_is_fitted__(self):
        return True

    @property
    def classes_(self):
        return np.arange(self.probabilities.shape[1])

    def predict_proba(self, X):
        return self.probabilities[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        return self.predict_proba(X).argmax(1)


def case(name, probabilities, labels, calibration):
    probabilities = probabilities.astype(np.float32)
    table = Table(probabilities.astype(np.float64))
    rows = np.arange(len(labels)).reshape(-1, 1)
    cal, test = rows[:calibration], rows[calibration:]
    results = {}
    for score in ("lac", "aps"):
        for alpha in ALPHAS:
            mapie = SplitConformalClassifier(table, confidence_level=1 - alpha, conformity_score=score, prefit=True,
                                             random_state=SEED)
            mapie.conformalize(cal, labels[:calibration])
            _, sets = mapie.predict_set(test)
            quantile = float(np.ravel(mapie._mapie_classifier.conformity_score_function_.quantiles_)[0])
            results[f"{score}/{alpha}"] = {"quantile": repr(quantile),
                                           "sets": [np.flatnonzero(row).tolist() for row in sets[:, :, 0]]}
    return {"name": name, "classes": probabilities.shape[1], "calibration": calibration, "seed": SEED,
            "probabilities": [[str(v) for v in row] for row in probabilities], "labels": labels.tolist(),
            "results": results}


def main():
    rng = np.random.default_rng(11)
    p7 = rng.dirichlet(np.full(7, 0.6), size=260)
    y7 = np.array([rng.choice(7, p=row) for row in p7])
    logits = rng.normal(0, 9, size=(140, 100))
    p100 = np.exp(logits - logits.max(1, keepdims=True)).astype(np.float32)
    p100 /= p100.sum(1, keepdims=True)
    y100 = np.array([rng.choice(100, p=row.astype(np.float64) / row.astype(np.float64).sum()) for row in p100])
    cases = [case("dirichlet-7", p7, y7, 180), case("wide-100", p100, y100, 100)]
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump({"mapie": "1.6.0", "alphas": ALPHAS, "cases": cases}, f)


if __name__ == "__main__":
    main()
