"""scikit-learn's numbers for the metrics mlp-eval reports, used by interop_check.py and
Tools/eval_check.py to compare `mlp-eval --json` with them."""
import numpy as np
from sklearn import metrics


def sklearn_metrics(y, p, classes=100):
    """accuracy, top-5, ROC AUC (macro, weighted, micro; one vs rest) and log loss of
    probabilities `p` (samples, classes) for labels `y`, keyed as mlp-eval's JSON keys them."""
    labels = list(range(classes))
    return {
        "accuracy": metrics.accuracy_score(y, p.argmax(axis=1)),
        "top5_accuracy": metrics.top_k_accuracy_score(y, p, k=5, labels=labels),
        "roc_auc_ovr_macro": metrics.roc_auc_score(y, p, multi_class="ovr", average="macro"),
        "roc_auc_ovr_weighted": metrics.roc_auc_score(y, p, multi_class="ovr", average="weighted"),
        "roc_auc_ovr_micro": metrics.roc_auc_score(np.eye(classes)[y], p, average="micro"),
        "log_loss": metrics.log_loss(y, p, labels=labels),
    }


def differences(report, expected, samples):
    """How far an mlp-eval report is from scikit-learn's numbers: the accuracy gap in samples,
    and the largest difference of the other metrics."""
    accuracy_gap = abs(report["accuracy"] - expected["accuracy"]) * samples
    worst = max(abs(report[key] - value) for key, value in expected.items() if key != "accuracy")
    return accuracy_gap, worst
