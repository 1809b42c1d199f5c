"""Checks an overfitting run of mlp-train independently, with Keras 3.

After

    mlp-train --data ARCHIVE --model Models/overfit.json --validation-split 0.2 --epochs 20 \\
        --early-stopping 3 --history h.csv --plot h.svg -o m.h5

this reads h.csv (Keras CSVLogger's format) and m.h5, and checks that
- validation loss stopped improving while training loss kept falling (the run overfits);
- training stopped early, patience epochs after the best epoch;
- m.h5 holds the best epoch's weights: Keras 3 loads it and evaluates it on the same
  validation split (the last 20% of the training set, as Keras's validation_split takes it),
  and gets the best epoch's val_loss and val_accuracy from the CSV.

    python Tools/overfit_check.py ARCHIVE m.h5 h.csv [--validation-split 0.2] [--patience 3]
"""
import argparse, csv, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np

from parity import load


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("model")
    parser.add_argument("history")
    parser.add_argument("--validation-split", type=float, default=0.2)
    parser.add_argument("--patience", type=int, default=3)
    args = parser.parse_args()

    with open(args.history, newline="") as f:
        rows = [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()} for row in csv.DictReader(f)]
    val = [r["val_loss"] for r in rows]
    best = int(np.argmin(val))
    print(f"{len(rows)} epochs; best val_loss {val[best]:.4f} after epoch {best + 1}")
    failures = []
    later = [r["loss"] for r in rows[best:]]
    print("training loss from the best epoch on: " + ", ".join(f"{v:.4f}" for v in later))
    print("validation loss from the best epoch on: " + ", ".join(f"{v:.4f}" for v in val[best:]))
    if not all(b < a for a, b in zip(later, later[1:])) or len(later) < 2:
        failures.append("training loss did not keep falling after the best epoch")
    if min(val[best + 1:], default=np.inf) <= val[best]:
        failures.append("validation loss improved after the best epoch")
    if len(rows) != best + 1 + args.patience:
        failures.append(f"training did not stop {args.patience} epochs after the best epoch")

    import keras
    x, y = load(args.archive, splits=("train",))["train"]
    cut = int(len(x) * (1 - args.validation_split))
    xv, yv = x[cut:], y[cut:]
    model = keras.models.load_model(args.model)
    loss, accuracy = model.evaluate(xv, keras.utils.to_categorical(yv, 100), batch_size=500, verbose=0)
    print(f"Keras 3 evaluates {os.path.basename(args.model)} on the {len(xv)} validation images: "
          f"loss {loss:.6f}, accuracy {accuracy:.4f}; the CSV's best epoch: {val[best]:.6f}, {rows[best]['val_accuracy']:.4f}")
    if abs(loss - val[best]) > 1e-4 or abs(accuracy - rows[best]["val_accuracy"]) > 1.5 / len(xv):
        failures.append("the saved model is not the best epoch's")
    for failure in failures:
        print("FAIL " + failure)
    print("ok" if not failures else f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
