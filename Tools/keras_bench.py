"""Keras 3's side of mlp-bench --compare-keras: a model trained by Keras, timed per epoch.

Prints "median_epoch SECONDS" last. Data: a CIFAR-100 Python archive, or random images of the
same size (Keras's speed does not depend on the pixel values). The backend is chosen before
Keras is imported (--backend tensorflow or jax; JAX from Tools/bench-requirements.txt).

    python Tools/keras_bench.py --data ARCHIVE --backend jax --dtype-policy mixed_bfloat16 \
        --layers 512,512 --dropout 0.2 --optimizer adam
"""
import argparse, os, sys, time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "jax"])
    parser.add_argument("--dtype-policy", default="float32", choices=["float32", "mixed_bfloat16"])
    parser.add_argument("--layers", default="128", help="hidden ReLU layers' units, comma-separated")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--optimizer", default="rmsprop")
    args = parser.parse_args()
    os.environ["KERAS_BACKEND"] = args.backend
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

    if args.data == "synthetic":
        x = np.random.default_rng(0).integers(0, 256, (50_000, 3072), dtype=np.uint8).astype("float32") / 255
        labels = np.arange(50_000) % 100
    else:
        x, labels = load(args.data, splits=("train",))["train"]
    y = keras.utils.to_categorical(labels, 100)
    keras.mixed_precision.set_global_policy(args.dtype_policy)
    layers = [keras.Input((3072,))]
    for units in args.layers.split(","):
        layers.append(keras.layers.Dense(int(units), activation="relu"))
        if args.dropout > 0:
            layers.append(keras.layers.Dropout(args.dropout))
    layers.append(keras.layers.Dense(100, activation="softmax", dtype="float32"))
    model = keras.Sequential(layers)
    model.compile(optimizer=args.optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(x, y, epochs=args.epochs, batch_size=128, verbose=0, callbacks=[timer])
    print("epochs", " ".join(f"{s:.3f}" for s in timer.seconds))
    print(f"median_epoch {float(np.median(timer.seconds)):.4f}")


if __name__ == "__main__":
    main()
