"""McNemar's test as statsmodels 0.15.0 computes it (Tests/requirements.txt), for
CalibrationTests: the exact binomial test below 25 discordant pairs, the chi-square with
continuity correction from 25 on, zero discordant pairs included.

    python Fixtures/metrics/make_mcnemar.py > Fixtures/metrics/mcnemar.json
"""
import json
from statsmodels.stats.contingency_tables import mcnemar

cases = []
for a_only, b_only in [(0, 0), (0, 1), (3, 5), (12, 12), (2, 20), (0, 24), (12, 13), (30, 10), (100, 140), (500, 380), (7, 7)]:
    n = a_only + b_only
    result = mcnemar([[50, a_only], [b_only, 50]], exact=n < 25, correction=True)
    cases.append({"a_only": a_only, "b_only": b_only, "statistic": float(result.statistic), "p_value": float(result.pvalue)})
print(json.dumps(cases, indent=1))
