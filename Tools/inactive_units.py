"""How many of the baseline's 128 hidden ReLU units are off (at or below zero) for every sample
of a batch of 128, after each epoch, for Keras 3 and for mlp-train trained the same way.

Those units' backward products are the ones mlp-train skips, so this is the share of the
kernel-gradient work it saves. Each model's hidden layer is applied with numpy to the first
12,800 training images, in 100 batches of 128. mlp-train is run one epoch at a time
(--resume) to give a model after each epoch.

    python Tools/inactive_units.py DATA [--epochs 3] [--bin .build/release]

DATA is a CIFAR-100 Python archive or its extracted folder.
"""
import argparse, os, subprocess, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import h5py
import numpy as np

from parity import load


def off_per_batch(hidden):
    return float((hidden.reshape(100, 128, -1).max(axis=1) <= 0).sum(axis=1).mean())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--bin", default=".build/release")
    args = parser.parse_args()
    x, labels = load(args.data, splits=("train",))["train"]
    sample = x[:12_800]

    import keras
    keras.utils.set_random_seed(1)
    y = keras.utils.to_categorical(labels, 100)
    model = keras.Sequential([keras.Input((3072,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(100, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    keras_counts = []
    for _ in range(args.epochs):
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        kernel, bias = model.layers[0].get_weights()
        keras_counts.append(off_per_batch(np.maximum(sample @ kernel + bias, 0)))

    mlp_counts = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.h5")
        for epoch in range(args.epochs):
            resume = ["--resume", path] if epoch else []
            subprocess.run([os.path.join(args.bin, "mlp-train"), "--data", args.data, "--epochs", "1", "--seed", "1",
                            "-o", path] + resume, check=True, capture_output=True)
            with h5py.File(path) as f:
                layer = f["model_weights/dense/dense"]
                kernel, bias = layer["kernel:0"][()], layer["bias:0"][()]
            mlp_counts.append(off_per_batch(np.maximum(sample @ kernel + bias, 0)))

    for epoch, (k, m) in enumerate(zip(keras_counts, mlp_counts), 1):
        print(f"after epoch {epoch}: units off for a whole batch, of 128: keras 3 {k:.1f}   mlp-train {m:.1f}")


if __name__ == "__main__":
    main()
