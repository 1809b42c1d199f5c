"""mlp-eval against scikit-learn on a model that Keras 3 trained and saved.

Trains the notebook's baseline with Keras 3 on ARCHIVE, saves it as .h5, runs
`mlp-eval --json` on it, and prints each metric beside scikit-learn's value computed from
Keras's own predictions on the holdout set, with the largest difference.

    python Scripts/eval_check.py ARCHIVE [--epochs 3] [--bin .build/release]
"""
import argparse, json, os, subprocess, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
from sklearn import metrics

from parity import load


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--bin", default=".build/release")
    args = parser.parse_args()
    import keras
    keras.utils.set_random_seed(1)
    data = load(args.archive)
    (x, y), (xt, yt) = data["train"], data["test"]
    model = keras.Sequential([keras.Input((3072,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(100, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, keras.utils.to_categorical(y, 100), epochs=args.epochs, batch_size=128, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "keras.h5")
        model.save(path)
        out = subprocess.run([os.path.join(args.bin, "mlp-eval"), path, "--data", args.archive, "--json"],
                             capture_output=True, text=True, check=True).stdout
    report = json.loads(out)
    p = model.predict(xt, verbose=0, batch_size=1000)
    classes = list(range(100))
    expected = {
        "accuracy": metrics.accuracy_score(yt, p.argmax(axis=1)),
        "top5_accuracy": metrics.top_k_accuracy_score(yt, p, k=5, labels=classes),
        "roc_auc_ovr_macro": metrics.roc_auc_score(yt, p, multi_class="ovr", average="macro"),
        "roc_auc_ovr_weighted": metrics.roc_auc_score(yt, p, multi_class="ovr", average="weighted"),
        "roc_auc_ovr_micro": metrics.roc_auc_score(np.eye(100)[yt], p, average="micro"),
        "log_loss": metrics.log_loss(yt, p, labels=classes),
    }
    for key, value in expected.items():
        print(f"{key:22s} mlp-eval {report[key]:.10f}   scikit-learn {value:.10f}   difference {abs(report[key] - value):.2e}")
    print(f"accuracy differs by {abs(report['accuracy'] - expected['accuracy']) * len(yt):.0f} samples of {len(yt)}")


if __name__ == "__main__":
    main()
