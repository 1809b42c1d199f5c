"""mlp-eval against scikit-learn on a model that Keras 3 trained and saved.

Trains the notebook's baseline with Keras 3 on ARCHIVE, saves it as .h5, runs
`mlp-eval --json` on it, and prints each metric beside scikit-learn's value computed from
Keras's own predictions on the holdout set, with the largest difference.

    python Tools/eval_check.py ARCHIVE [--epochs 3] [--bin .build/release]
"""
import argparse, json, os, subprocess, sys, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from parity import load
from sklearn_reference import differences, sklearn_metrics


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
    expected = sklearn_metrics(yt, model.predict(xt, verbose=0, batch_size=1000))
    for key, value in expected.items():
        print(f"{key:22s} mlp-eval {report[key]:.10f}   scikit-learn {value:.10f}   difference {abs(report[key] - value):.2e}")
    gap, worst = differences(report, expected, len(yt))
    print(f"accuracy differs by {gap:.0f} samples of {len(yt)}; the other metrics by at most {worst:.2e}")


if __name__ == "__main__":
    main()
