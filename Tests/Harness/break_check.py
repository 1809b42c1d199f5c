"""Shows that every fixture-driven Swift test fails when its fixture is broken.

For each JSON fixture of checked numbers, in turn, this breaks it three ways and runs the tests
that read it, which must then fail, cleanly (a test run that ends and reports the failure, not a
trap):
- missing: the file is gone;
- empty: every list and object in it is emptied (zero cases);
- wrong: every non-integer number in it, written as a number or as a decimal string, is moved
  by 1% (a checked result that no longer holds), or, where its numbers are inputs, its expected
  results are changed (`WRONG`).
The fixture is restored after each run. Run it after `swift build -c release --build-tests -Xswiftc -enable-testing`
(it runs the tests with --skip-build):

    python Tests/Harness/break_check.py
"""
import copy, json, os, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE_FOLDER = os.path.join(ROOT, "Fixtures")

def later_epochs(cases):
    """Hyperband's expected trials each one epoch longer (its scores are inputs: moving them all
    by 1% keeps their order, and so the schedule)."""
    return [dict(case, trials=[dict(t, epochs=t["epochs"] + 1) for t in case["trials"]]) for case in cases]


def other_problems(cases):
    """Each damaged file's expected refusal replaced by one it does not give."""
    return {name: "a problem this file does not have" for name in cases}


# Fixture → the tests that read it (a `swift test --filter` pattern), and how to make its
# checked results wrong when moving its numbers does not.
def reversed_selections(cases):
    """Each population's elite and good groups reversed or moved (scaling every value would keep
    the orders, and so the answers)."""
    cases = copy.deepcopy(cases)
    for population in cases["populations"]:
        population["elite"] = population["elite"][::-1]
        population["tpe_good"] = {size: [n + 1 for n in good] for size, good in population["tpe_good"].items()}
        population["ranks"] = [r + 1 for r in population["ranks"]]
    return cases


def worse_regrets(cases):
    """Optuna's regrets 0.05 higher: further than the standard error from ours."""
    return dict(cases, regrets=[repr(float(r) + 0.05) for r in cases["regrets"]])


def swapped_groups(cases):
    """Each scenario's good and bad groups swapped (its values are inputs: moving them keeps the order)."""
    return {key: [dict(s, below=s["above"], above=s["below"]) for s in scenarios] if isinstance(scenarios, list) else scenarios
            for key, scenarios in cases.items()}


def shifted_folds(cases):
    """Each case's folds rotated: fold k's indices given as fold k + 1's."""
    return dict(cases, cases=[dict(c, validation_indices=c["validation_indices"][1:] + c["validation_indices"][:1]) for c in cases["cases"]])


def flipped_outputs(cases):
    """Each recorded output one unit in the last place off (hex strings are not moved by 1%)."""
    return dict(cases, outputs=[format(int(h, 16) ^ 1, "08x") for h in cases["outputs"]])


WRONG = {"tuning/hyperband.json": later_epochs, "damaged/keras-cases.json": other_problems,
         "tuning/nsga2.json": reversed_selections, "tuning/tpe_regret.json": worse_regrets,
         "tuning/tpe_split.json": swapped_groups, "tuning/folds.json": shifted_folds,
         "quantization/logistic.json": flipped_outputs}
FIXTURES = {
    "keras/golden.json": "ActivationTests|LayerTests|LossTests|OptimizerTests",
    "training/golden.json": "TrainingTests",
    "metrics/cases.json": "MetricsTests",
    "precision/golden.json": "PrecisionTests",
    "keras/models.json": "KerasH5Tests",
    "keras/native/native.json": "KerasNativeTests",
    "damaged/keras-cases.json": "KerasNativeTests",
    "cifar/cifar_expected.json": "DatasetTests",
    "tuning/hyperband.json": r"TuningTests/hyperbandMatchesKerasTuner",
    "tuning/draws.json": r"TuningTests/drawsMatchKerasTuner",
    "conformal/cases.json": r"ConformalTests/setsEqualMAPIEs",
    "tuning/nsga2.json": "ParetoRankingTests",
    "tuning/parzen.json": r"TPETests/parzenEstimatorsAreOptunas",
    "tuning/tpe_regret.json": r"TPETests/regretIsOptunas",
    "tuning/tpe_split.json": r"TPETests/splits",
    "tuning/folds.json": r"StratifiedFoldsTests/foldsAreScikitLearns",
    "quantization/logistic.json": r"Int8Tests/logisticIsOnnxRuntimes",
}


def emptied(value):
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        if not any(isinstance(v, (list, dict)) for v in value.values()):
            return {}
        return {k: emptied(v) if isinstance(v, (list, dict)) else v for k, v in value.items()}
    return value


def moved(value):
    """Every float and every string that reads as a finite non-integer number, times 1.01."""
    if isinstance(value, list):
        return [moved(v) for v in value]
    if isinstance(value, dict):
        return {k: moved(v) for k, v in value.items()}
    if isinstance(value, float):
        return value * 1.01 if value != 0 else 0.01
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if number == number and abs(number) != float("inf") and not number.is_integer():
            return repr(number * 1.01)
    return value


def run_tests(pattern):
    result = subprocess.run(["swift", "test", "-c", "release", "--disable-testable-imports", "--skip-build", "--filter", pattern],
                            cwd=ROOT, capture_output=True, text=True)
    summary = [line for line in result.stdout.splitlines() if line.startswith(("✔ Test run", "✘ Test run"))]
    return result.returncode, (summary[-1] if summary else "no summary: " + (result.stdout.strip().splitlines() or ["(no output)"])[-1])


def main():
    started = time.time()
    failures = []
    # A run killed while a fixture was broken left its backup: put the fixture back first.
    for relative in FIXTURES:
        path = os.path.join(FIXTURE_FOLDER, relative)
        if os.path.exists(path + ".break-check"):
            shutil.move(path + ".break-check", path)
    status, summary = run_tests("|".join(FIXTURES.values()))
    if status != 0:
        print(f"the tests fail with the fixtures intact: {summary}")
        return 1
    for relative, pattern in FIXTURES.items():
        path = os.path.join(FIXTURE_FOLDER, relative)
        backup = path + ".break-check"
        shutil.copy(path, backup)
        try:
            original = json.load(open(path))
            for way in ("missing", "empty", "wrong"):
                if way == "missing":
                    os.remove(path)
                else:
                    broken = emptied(original) if way == "empty" else WRONG.get(relative, moved)(original)
                    if broken == original:
                        failures.append(f"{relative} {way}: nothing to break")
                        continue
                    with open(path, "w") as f:
                        json.dump(broken, f)
                status, summary = run_tests(pattern)
                # A clean failure: the test run ends and says what failed (no trap, no crash).
                clean = status != 0 and summary.startswith("✘ Test run")
                verdict = "fails, as it must" if clean else "PASSES" if status == 0 else "CRASHES"
                print(f"{relative} {way}: {pattern} {verdict}: {summary}", flush=True)
                if not clean:
                    failures.append(f"{relative} {way} ({verdict.lower()})")
                shutil.copy(backup, path)
        finally:
            shutil.move(backup, path)
    print(f"break check: {len(FIXTURES)} fixtures broken 3 ways each in {time.time() - started:.0f} s; "
          f"{len(failures)} left a test passing or crashing{': ' + ', '.join(failures) if failures else ''}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
