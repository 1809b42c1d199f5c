"""Optuna's TPE Parzen estimators on recorded observations, for
Tests/MLPKitTests/Samplers/TPETests.swift.

For each dimension kind this toolchain searches (a float range, a log-float range, an integer
range, a categorical choice) and each history size (11, 30 and 60 finished trials, split as
Optuna's default gamma splits them: the good group ⌈0.1·n⌉, the bad group the rest, ties
among the integer and categorical values), Optuna 5's `_ParzenEstimator` (default parameters:
prior weight 1, magic clip, no endpoints, default weights) is built from the good and from the
bad observations, and evaluated (`log_pdf`) at 200 points of the range. Then 24 candidates are
drawn from the good estimator and the acquisition `log l − log g` picks one (numpy's argmax).
Among equal observations, which gets which width follows `np.argsort`, which is not stable
(numpy's SIMD sorts, different on AVX-512 and AVX2 machines) once a group holds more than 16
values: the estimators are therefore built with a stable argsort, the order this toolchain
uses, and `tie_order_differs` says where numpy's own order would have differed.
Writes parzen.json (floats as repr strings).

Run with the versions in Tests/requirements.txt:  python Fixtures/tuning/make_parzen.py
"""
import json, math, os
import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_gamma, default_weights

OUT = os.path.dirname(os.path.abspath(__file__))
PARAMETERS = _ParzenEstimatorParameters(prior_weight=1.0, consider_magic_clip=True, consider_endpoints=False,
                                        weights=default_weights, multivariate=False)
DIMENSIONS = {
    "uniform": FloatDistribution(0.0, 0.5),
    "log_uniform": FloatDistribution(1e-4, 1e-1, log=True),
    "int": IntDistribution(1, 6),
    "choice": CategoricalDistribution(["adam", "rmsprop", "sgd", "adamw"]),
}


def text(x):
    return repr(float(x))


def draw(rng, kind, count):
    d = DIMENSIONS[kind]
    if kind == "uniform":
        return rng.uniform(d.low, d.high, count)
    if kind == "log_uniform":
        return np.exp(rng.uniform(math.log(d.low), math.log(d.high), count))
    if kind == "int":
        return rng.integers(d.low, d.high + 1, count).astype(float)
    return rng.integers(0, len(d.choices), count).astype(float)


def points(rng, kind):
    d = DIMENSIONS[kind]
    if kind == "uniform":
        return np.concatenate([np.linspace(d.low, d.high, 100), rng.uniform(d.low, d.high, 100)])
    if kind == "log_uniform":
        return np.exp(np.concatenate([np.linspace(math.log(d.low), math.log(d.high), 100),
                                      rng.uniform(math.log(d.low), math.log(d.high), 100)]))
    if kind == "int":
        return np.resize(np.arange(d.low, d.high + 1, dtype=float), 200)
    return np.resize(np.arange(len(d.choices), dtype=float), 200)


def main():
    unstable = np.argsort
    np.argsort = lambda a, *args, **kwargs: unstable(a, *args, **{**kwargs, "kind": kwargs.get("kind") or "stable"})
    rng = np.random.default_rng(11)
    cases = []
    for kind, distribution in DIMENSIONS.items():
        for n in (11, 30, 60):
            observed = draw(rng, kind, n)
            good_count = default_gamma(n)
            good, bad = observed[:good_count], observed[good_count:]
            space = {"x": distribution}
            below = _ParzenEstimator({"x": good}, space, PARAMETERS)
            above = _ParzenEstimator({"x": bad}, space, PARAMETERS)
            at = points(rng, kind)
            state = np.random.RandomState(n)
            candidates = below.sample(state, 24)["x"]
            acquisition = below.log_pdf({"x": candidates}) - above.log_pdf({"x": candidates})
            cases.append({
                "kind": kind, "n": n, "good": [text(v) for v in good], "bad": [text(v) for v in bad],
                "points": [text(v) for v in at],
                "log_pdf_good": [text(v) for v in below.log_pdf({"x": at})],
                "log_pdf_bad": [text(v) for v in above.log_pdf({"x": at})],
                "candidates": [text(v) for v in candidates], "chosen": int(np.argmax(acquisition)),
                "tie_order_differs": any(not np.array_equal(unstable(group), unstable(group, kind="stable")) for group in (good, bad)),
            })
    with open(os.path.join(OUT, "parzen.json"), "w") as f:
        json.dump({"optuna": optuna.__version__, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
