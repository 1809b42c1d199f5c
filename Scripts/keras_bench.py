"""Keras 3's side of mlp-bench --compare-keras: the notebook's baseline, timed per epoch.

Prints "median_epoch SECONDS" last. Data: a CIFAR-100 Python archive, or random images of the
same size (Keras's speed does not depend on the pixel values).
"""
import argparse, os, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras

from parity import load


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    if args.data == "synthetic":
        x = np.random.default_rng(0).integers(0, 256, (50_000, 3072), dtype=np.uint8).astype("float32") / 255
        labels = np.arange(50_000) % 100
    else:
        x, labels = load(args.data, splits=("train",))["train"]
    y = keras.utils.to_categorical(labels, 100)
    model = keras.Sequential([keras.Input((3072,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(100, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(x, y, epochs=args.epochs, batch_size=128, verbose=0, callbacks=[timer])
    print("epochs", " ".join(f"{s:.3f}" for s in timer.seconds))
    print(f"median_epoch {float(np.median(timer.seconds)):.4f}")


if __name__ == "__main__":
    main()
