"""Interop check against real Keras, run by Scripts/test.sh after the Swift tests.

For models that mlp-train writes (several architectures and optimizers), checks that Keras 3
and tf_keras both load the file and predict what mlp-eval predicted on the fixture holdout set
(largest absolute difference at most 1e-5), that mlp-inspect's parameter counts and output
shapes equal Keras's, and that mlp-eval's metrics equal scikit-learn's on Keras's own
predictions. Prints one line per check and closes with "N passed, M failed".

    python Tests/Harness/interop_check.py BIN_DIR
"""
import csv, json, os, sys, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np
from harness import ROOT, check, run, summary

FIXTURES = os.path.join(ROOT, "Fixtures")
ARCHIVE = os.path.join(FIXTURES, "cifar", "cifar-100-python.tar.gz")
MODELS = os.path.join(ROOT, "Models")
RUNS = {
    "baseline_rmsprop": ["--epochs", "3"],
    "dropout_adam": ["--epochs", "3", "--optimizer", "adam", "--layers", "64:gelu,32:tanh", "--dropout", "0.3"],
    "sgd_activations": ["--epochs", "2", "--optimizer", "sgd", "--layers", "48:sigmoid,40:elu,32:selu,24:swish,16:linear"],
    "adamw_relu": ["--epochs", "2", "--optimizer", "adamw", "--layers", "100:relu,50:relu"],
    "l2_batchnorm_cosine": ["--epochs", "2", "--optimizer", "adam", "--layers", "64:relu,32:relu", "--l2", "0.01",
                            "--batch-norm", "--dropout", "0.2", "--lr-schedule", "cosine", "--validation-split", "0.2",
                            "--early-stopping", "1"],
    # The noisy-label parity model: Dense(256, relu, L2) → BatchNormalization → Dropout → softmax, Adam.
    "bn_l2_dropout_adam": ["--epochs", "3", "--optimizer", "adam", "--learning-rate", "1e-4", "--layers", "256:relu",
                           "--batch-norm", "--l2", "1e-4", "--dropout", "0.2"],
    "regularized_config": ["--epochs", "2", "--model", os.path.join(MODELS, "regularized.json")],
    # Where oneDNN has no bfloat16 kernels (no AVX-512), OpenBLAS trains it on widened operands.
    "mixed_bfloat16": ["--epochs", "2", "--optimizer", "adam", "--layers", "64:relu,32:relu", "--dropout", "0.2",
                       "--dtype-policy", "mixed_bfloat16"]
                      + ([] if "avx512bw" in open("/proc/cpuinfo").read() else ["--engine", "openblas"]),
}
# Keras computes a mixed_bfloat16 layer's outputs in bfloat16 where mlp-train keeps float32:
# its predictions of the same weights differ by a few bfloat16 roundings (2^-9 each).
TOLERANCE = {"mixed_bfloat16": 2e-3}


def holdout(split="test"):
    """A split of the fixture set (the holdout by default), prepared as the notebook prepares CIFAR-100."""
    import tarfile, pickle
    with tarfile.open(ARCHIVE) as tar:
        test = pickle.load(tar.extractfile(f"cifar-100-python/{split}"), encoding="bytes")
    x = test[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(-1, 3072).astype("float32") / 255
    return x, np.array(test[b"fine_labels"])


def calibration_check(reports, probabilities, y):
    """ECE against numpy as specified (15 equal-width bins of the top probability, Guo et al.),
    the Brier score and classification_report's averages against scikit-learn."""
    from sklearn.metrics import brier_score_loss, classification_report
    for report, p in zip(reports, probabilities):
        p = p.astype(np.float64)
        top, predicted = p.max(axis=1), p.argmax(axis=1)
        bins = np.clip(np.ceil(top * 15).astype(int) - 1, 0, 14)
        ece = sum((bins == m).sum() / len(y) * abs((predicted[bins == m] == y[bins == m]).mean() - top[bins == m].mean())
                  for m in range(15) if (bins == m).any())
        check("mlp-eval: expected calibration error equals numpy's", abs(report["expected_calibration_error"] - ece) <= 1e-6,
              f"{report['expected_calibration_error']} vs {ece}")
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # float32 probabilities sum to one within float32's precision only
            brier = brier_score_loss(y, p, labels=list(range(p.shape[1])))
        check("mlp-eval: Brier score equals scikit-learn's brier_score_loss", abs(report["brier_score"] - brier) <= 1e-6,
              f"{report['brier_score']} vs {brier}")
        from sklearn.metrics import confusion_matrix
        matrix = confusion_matrix(y, predicted, labels=list(range(p.shape[1])))
        names = [c["name"] for c in report["per_class"]]
        pairs = sorted(((int(matrix[i, j]), i, j) for i in range(len(names)) for j in range(len(names)) if i != j and matrix[i, j] > 0),
                       key=lambda t: (-t[0], t[1], t[2]))[:10]
        expected = [{"true": names[i], "predicted": names[j], "count": n} for n, i, j in pairs]
        check("mlp-eval: most_confused equals scikit-learn's confusion matrix's largest off-diagonal counts",
              report["most_confused"] == expected, f"{report['most_confused'][:3]} vs {expected[:3]}")
        averages = classification_report(y, predicted, output_dict=True, zero_division=0)
        for ours, theirs in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
            gap = max(abs(report[ours][k] - averages[theirs][k2]) for k, k2 in (("precision", "precision"), ("recall", "recall"),
                                                                                 ("f1", "f1-score")))
            check(f"mlp-eval: {ours} equals classification_report's", gap <= 1e-6, f"{report[ours]} vs {averages[theirs]}")


def mcnemar_check(out, probabilities, y):
    """McNemar's test of `--compare` against statsmodels on the two models' right/wrong pairs."""
    from statsmodels.stats.contingency_tables import mcnemar
    right = [p.argmax(axis=1) == y for p in probabilities]
    table = [[int((right[0] & right[1]).sum()), int((right[0] & ~right[1]).sum())],
             [int((~right[0] & right[1]).sum()), int((~right[0] & ~right[1]).sum())]]
    discordant = table[0][1] + table[1][0]
    result = mcnemar(table, exact=discordant < 25, correction=True)
    ours = out["mcnemar"]
    check(f"mlp-eval --compare: McNemar equals statsmodels' ({discordant} discordant, {'exact' if discordant < 25 else 'chi-square'})",
          ours["discordant"] == discordant and abs(ours["statistic"] - result.statistic) <= 1e-6
          and abs(ours["p_value"] - result.pvalue) <= 1e-6, f"{ours} vs {result.statistic}, {result.pvalue}")


def compare_check(tmp, x, y):
    """`mlp-eval --compare A B`: its paired bootstrap intervals of B - A against numpy and
    scikit-learn computing the same differences on the same resamples."""
    from sklearn.metrics import roc_auc_score
    a, b = os.path.join(tmp, "baseline_rmsprop.h5"), os.path.join(tmp, "dropout_adam.h5")
    indices_path = os.path.join(tmp, "resamples.npy")
    out = json.loads(run("mlp-eval", "--compare", a, b, "--data", ARCHIVE, "--json", "--ci", "100", "--seed", "4",
                         "--save-resamples", indices_path))
    probabilities, reports = [], []
    from sklearn.metrics import confusion_matrix
    for path in (a, b):
        npy, matrix_csv = path + ".predictions.npy", path + ".confusion.csv"
        reports.append(json.loads(run("mlp-eval", path, "--data", ARCHIVE, "--json", "--predictions", npy, "--confusion", matrix_csv)))
        probabilities.append(np.load(npy))
        with open(matrix_csv, newline="") as f:
            rows = list(csv.reader(f))
        ours = np.array([[int(v) for v in row[1:]] for row in rows[1:]])
        theirs = confusion_matrix(y, probabilities[-1].argmax(axis=1), labels=list(range(probabilities[-1].shape[1])))
        names = [c["name"] for c in reports[-1]["per_class"]]
        check(f"mlp-eval --confusion {os.path.basename(matrix_csv)}: equal to scikit-learn's confusion_matrix, rows and columns named",
              ours.shape == theirs.shape and (ours == theirs).all() and rows[0][1:] == names and [r[0] for r in rows[1:]] == names)
    calibration_check(reports, probabilities, y)
    mcnemar_check(out, probabilities, y)
    same = json.loads(run("mlp-eval", "--compare", a, a, "--data", ARCHIVE, "--json", "--ci", "10"))["mcnemar"]
    check("mlp-eval --compare A A: McNemar with no discordant pair gives p = 1",
          same["discordant"] == 0 and same["p_value"] == 1.0, f"{same}")
    indices = np.load(indices_path)
    n, classes = len(y), probabilities[0].shape[1]

    def macro_auc(p, weights):
        values = []
        for c in range(classes):
            positive = (y == c)
            if weights[positive].sum() == 0 or weights[~positive].sum() == 0:
                continue  # a class without positives or negatives in the resample has no AUC
            values.append(roc_auc_score(positive, p[:, c], sample_weight=weights))
        return np.mean(values)

    accuracy, auc = [], []
    for row in indices:
        weights = np.bincount(row, minlength=n).astype(float)
        right = [(p.argmax(axis=1) == y) for p in probabilities]
        accuracy.append((weights * right[1]).sum() / n - (weights * right[0]).sum() / n)
        auc.append(macro_auc(probabilities[1], weights) - macro_auc(probabilities[0], weights))
    for key, values in (("accuracy", accuracy), ("roc_auc_ovr_macro", auc)):
        expected = np.percentile(values, [2.5, 97.5])
        got = np.array(out[key]["ci"])
        gap = float(np.abs(expected - got).max())
        check(f"mlp-eval --compare: the paired bootstrap interval of {key} equals numpy's on the same resamples",
              indices.shape == (100, n) and gap <= 1e-9, f"{got} vs {expected}")
    calibration_interval_check(tmp, a, probabilities[0], y)


def calibration_interval_check(tmp, model, probabilities, y):
    """`mlp-eval --ci N`: the intervals of ECE and the Brier score against numpy on the same resamples."""
    path = os.path.join(tmp, "single-resamples.npy")
    out = json.loads(run("mlp-eval", model, "--data", ARCHIVE, "--json", "--ci", "200", "--seed", "6", "--save-resamples", path))
    indices, p = np.load(path), probabilities.astype(np.float64)
    top, right = p.max(axis=1), p.argmax(axis=1) == y
    bins = np.clip(np.ceil(top * 15).astype(int) - 1, 0, 14)
    squared = ((p - np.eye(p.shape[1])[y]) ** 2).sum(axis=1)
    eces, briers, accuracies = [], [], []
    for row in indices:
        w = np.bincount(row, minlength=len(y)).astype(float)
        ece = 0.0
        for m in range(15):
            count = w[bins == m].sum()
            if count > 0:
                ece += count / w.sum() * abs((w * right)[bins == m].sum() / count - (w * top)[bins == m].sum() / count)
        eces.append(ece)
        briers.append((w * squared).sum() / w.sum())
        accuracies.append((w * right).sum() / len(y))
    intervals = out["confidence_intervals"]
    for key, values in (("expected_calibration_error", eces), ("brier_score", briers), ("accuracy", accuracies)):
        expected = np.percentile(values, [2.5, 97.5])
        gap = float(np.abs(expected - np.array(intervals[key])).max())
        check(f"mlp-eval --ci 200: the bootstrap interval of {key} equals numpy's on the same resamples",
              indices.shape == (200, len(y)) and gap <= 1e-9, f"{intervals[key]} vs {expected}")


def main():
    import keras, tf_keras
    # The same scikit-learn reference as the user's check, Tools/eval_check.py.
    import importlib.util
    spec = importlib.util.spec_from_file_location("sklearn_reference", os.path.join(ROOT, "Tools", "sklearn_reference.py"))
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    differences, sklearn_metrics = reference.differences, reference.sklearn_metrics
    x, y = holdout()
    with tempfile.TemporaryDirectory() as tmp:
        for name, options in RUNS.items():
            model = os.path.join(tmp, name + ".h5")
            npy = os.path.join(tmp, name + ".npy")
            run("mlp-train", "--data", ARCHIVE, "-o", model, "--seed", "5", *options)
            report = json.loads(run("mlp-eval", model, "--data", ARCHIVE, "--json", "--predictions", npy))
            ours = np.load(npy)
            inspected = json.loads(run("mlp-inspect", model, "--json"))
            for label, library in (("keras3", keras), ("tf_keras", tf_keras)):
                try:
                    loaded = library.models.load_model(model)
                except Exception as error:  # report every failure, then go on
                    check(f"{name}: {label} loads the file", False, repr(error)[:300])
                    continue
                check(f"{name}: {label} loads the file", True)
                theirs = loaded.predict(x, verbose=0)
                diff = float(np.abs(theirs - ours).max())
                tolerance = TOLERANCE.get(name, 1e-5)
                check(f"{name}: {label} predicts the same", diff <= tolerance, f"largest difference {diff:.2e}")
                policies = {l.name: l.dtype_policy.name for l in loaded.layers}
                check(f"{name}: {label} reads the same dtype policies", policies == inspected["dtype_policies"],
                      f"{policies} vs {inspected['dtype_policies']}")
                check(f"{name}: {label} count_params equals mlp-inspect's total_params",
                      loaded.count_params() == inspected["total_params"], f"{loaded.count_params()} vs {inspected['total_params']}")
                shapes = [[None] + list(l.output.shape[1:]) if label == "keras3" else list(l.output_shape) for l in loaded.layers]
                ours_shapes = [l["output_shape"] for l in inspected["layers"]]
                params = [l.count_params() for l in loaded.layers]
                check(f"{name}: {label} layer shapes and params equal mlp-inspect's",
                      shapes == ours_shapes and params == [l["params"] for l in inspected["layers"]],
                      f"{shapes} {params} vs {ours_shapes}")
                regularized = [l.kernel_regularizer.get_config() for l in loaded.layers
                               if getattr(l, "kernel_regularizer", None) is not None]
                ours_regularized = [l["config"] for l in inspected["regularizers"]]
                check(f"{name}: {label} reads the same kernel regularizers",
                      [round(r.get("l2", 0), 9) for r in regularized] == [round(r.get("l2", 0), 9) for r in ours_regularized],
                      f"{regularized} vs {ours_regularized}")
                if label == "keras3":
                    # compile=True (the default) rebuilt the optimizer, its schedule and its state.
                    iterations = int(keras.ops.convert_to_numpy(loaded.optimizer.iterations))
                    schedule = loaded.optimizer._learning_rate
                    ours_schedule = isinstance(inspected["optimizer"]["config"]["learning_rate"], dict)
                    check(f"{name}: keras3 compiles the file with its optimizer, schedule and iterations",
                          iterations == inspected["optimizer_iterations"]
                          and isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule) == ours_schedule,
                          f"{iterations} iterations, schedule {type(schedule).__name__}")
                if label == "keras3" and name not in TOLERANCE:  # exact metrics need the same predictions
                    gap, worst = differences(report, sklearn_metrics(y, theirs), len(y))
                    check(f"{name}: mlp-eval's metrics equal scikit-learn's on Keras's predictions",
                          gap <= 1 and worst <= 1e-5, f"largest difference {worst:.2e}")
        # mlp-eval --compare against a numpy paired bootstrap drawing the same samples.
        compare_check(tmp, x, y)
        # A model trained and saved by Keras itself: mlp-eval against scikit-learn on Keras's own
        # predictions (the metrics issue's check), and mlp-inspect against model.summary().
        for label, library in (("keras3", keras), ("tf_keras", tf_keras)):
            library.utils.set_random_seed(3)
            (xtrain, ytrain) = holdout(split="train")
            model = library.Sequential([library.Input((3072,)), library.layers.Dense(64, activation="relu"),
                                        library.layers.Dropout(0.2), library.layers.Dense(100, activation="softmax")])
            model.compile(optimizer=library.optimizers.RMSprop(learning_rate=2e-4), loss="categorical_crossentropy",
                          metrics=["accuracy"])
            model.fit(xtrain, library.utils.to_categorical(ytrain, 100), epochs=5, batch_size=32, verbose=0)
            path = os.path.join(tmp, f"{label}_saved.h5")
            model.save(path)
            theirs = model.predict(x, verbose=0)
            report = json.loads(run("mlp-eval", path, "--data", ARCHIVE, "--json"))
            accuracy_gap, worst = differences(report, sklearn_metrics(y, theirs), len(y))
            check(f"{label}-saved model: mlp-eval's metrics equal scikit-learn's on {label}'s predictions",
                  accuracy_gap <= 1 and worst <= 1e-5, f"accuracy off by {accuracy_gap:.0f} samples, others by {worst:.2e}")
            inspected = json.loads(run("mlp-inspect", path, "--json"))
            check(f"{label}-saved model: mlp-inspect's total_params equals count_params",
                  inspected["total_params"] == model.count_params(), f"{inspected['total_params']} vs {model.count_params()}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
