"""Expected metric values from scikit-learn, for the Swift metrics tests.

Writes Fixtures/metrics/cases.json: for each case, float32 probabilities and labels, and what
scikit-learn (pinned in Tests/requirements.txt) computes from them (probabilities as
base64 of little-endian float32): accuracy_score,
top_k_accuracy_score, roc_auc_score per class, macro / weighted (multi_class="ovr") and micro,
log_loss, confusion_matrix and precision_recall_fscore_support.

    python Fixtures/metrics/make.py
"""
import base64, json, os
import numpy as np
import sklearn
from sklearn import metrics
from sklearn.preprocessing import label_binarize

OUT = os.path.dirname(os.path.abspath(__file__))


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def case(name, probabilities, labels, classes):
    p = probabilities.astype(np.float32)
    y = np.asarray(labels)
    present = sorted(set(y.tolist()))
    per_class = []
    for c in range(classes):
        positive = (y == c).astype(int)
        per_class.append(float(metrics.roc_auc_score(positive, p[:, c])) if 0 < positive.sum() < len(y) else None)
    out = {"classes": classes, "labels": y.tolist(), "probabilities_f32le_base64": base64.b64encode(p.astype("<f4").tobytes()).decode(),
           "accuracy": float(metrics.accuracy_score(y, p.argmax(axis=1))),
           "roc_auc_per_class": per_class,
           "log_loss": float(metrics.log_loss(y, p, labels=list(range(classes)))),
           "roc_auc_micro": float(metrics.roc_auc_score(label_binarize(y, classes=list(range(classes))) if classes > 2
                                                        else np.eye(2)[y], p, average="micro")),
           "confusion": metrics.confusion_matrix(y, p.argmax(axis=1), labels=list(range(classes))).tolist()}
    for k in (1, 5):
        if k < classes and classes > 2:
            out[f"top{k}"] = float(metrics.top_k_accuracy_score(y, p, k=k, labels=list(range(classes))))
    if len(present) == classes and classes > 2:
        out["roc_auc_macro"] = float(metrics.roc_auc_score(y, p, multi_class="ovr", average="macro"))
        out["roc_auc_weighted"] = float(metrics.roc_auc_score(y, p, multi_class="ovr", average="weighted"))
    else:
        # scikit-learn refuses an absent class in multi_class="ovr"; the macro over the classes
        # that have an AUC is the mean of its own per-class values.
        out["roc_auc_macro"] = float(np.mean([v for v in per_class if v is not None]))
    prf = metrics.precision_recall_fscore_support(y, p.argmax(axis=1), labels=list(range(classes)), zero_division=0)
    out["precision"], out["recall"], out["f1"] = (a.tolist() for a in prf[:3])
    out["support"] = prf[3].tolist()
    return name, out


def main():
    rng = np.random.default_rng(2024)
    cases = {}
    # 100 classes with many tied scores: logits rounded to one decimal.
    y = np.repeat(np.arange(100), 3)
    logits = np.round(rng.normal(size=(300, 100)) + 1.5 * np.eye(100)[y], 1)
    cases.update([case("ties_100", softmax(logits), y, 100)])
    # Probabilities on a grid of 1/256, so that each class's column is full of exact ties;
    # each row's largest entry takes up the rounding so that rows still sum to one.
    p = np.floor(softmax(rng.normal(size=(300, 100)) + 4 * np.eye(100)[np.arange(300) % 100]) * 256) / 256
    top = p.argmax(axis=1)
    p[np.arange(300), top] += 1 - p.sum(axis=1)
    cases.update([case("rounded_100", p, np.arange(300) % 100, 100)])
    # A class absent from the labels.
    y = rng.choice([0, 1, 2, 4, 5, 6, 7, 8, 9], size=200)
    cases.update([case("absent_class_10", softmax(rng.normal(size=(200, 10)) + np.eye(10)[y]), y, 10)])
    # Two classes.
    y = rng.integers(0, 2, 150)
    cases.update([case("binary_2", softmax(rng.normal(size=(150, 2)) + 0.8 * np.eye(2)[y]), y, 2)])
    # A realistic 100-class holdout slice.
    y = rng.integers(0, 100, 600)
    cases.update([case("realistic_100", softmax(2 * rng.normal(size=(600, 100)) + 2.5 * np.eye(100)[y]), y, 100)])
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"sklearn_version": sklearn.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
