"""Keras 3 and tf_keras `.keras` files, for the Swift tests of the native format.

Writes into Fixtures/keras/native/:
- k3_*.keras (Keras 3) and k2_*.keras (tf_keras): small Sequential models covering what the
  reader handles (BatchNormalization, Dropout, L2, Rescaling and Flatten, layer names out of
  order, Adam, RMSprop, SGD with momentum and a cosine schedule, an optimizer never built, a
  model never compiled), as `model.save(...)` writes them (members stored);
- *_deflated.keras: the same archives re-packed with deflate, which Keras also loads;
- native.json: for each file, fixed inputs, Keras's predictions on them, count_params, the
  optimizer's class and iterations, and whether its slots exist.

Run with the versions in Tests/requirements.txt:  python Fixtures/keras/native/make.py
"""
import json, os, zipfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))


def specs(keras):
    L = keras.layers
    l2 = keras.regularizers.L2(1e-3)
    cosine = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=20)
    return {
        "bn_dropout_l2_adam": (lambda: keras.Sequential([
            keras.Input((20,)), L.Dense(16, activation="relu", kernel_regularizer=l2), L.BatchNormalization(),
            L.Dropout(0.3), L.Dense(10, activation="softmax")]), lambda: keras.optimizers.Adam(2e-3), (20,), True),
        "image_rmsprop": (lambda: keras.Sequential([
            keras.Input((32, 32, 3)), L.Rescaling(1 / 255.0), L.Flatten(), L.Dense(8, activation="relu"),
            L.BatchNormalization(), L.Dense(5, activation="softmax")]),
            lambda: keras.optimizers.RMSprop(1e-3, momentum=0.5), (32, 32, 3), True),
        "names_sgd_cosine": (lambda: keras.Sequential([
            keras.Input((10,)), L.Dense(6, activation="tanh", name="dense_2"), L.Activation("relu", name="zz"),
            L.Dense(5, activation="elu", name="first"), L.Dense(4, activation="softmax", name="dense_1")]),
            lambda: keras.optimizers.SGD(learning_rate=cosine, momentum=0.9), (10,), True),
        "unfit_adam": (lambda: keras.Sequential([keras.Input((8,)), L.Dense(4, activation="softmax")]),
                       lambda: keras.optimizers.Adam(), (8,), False),
        "uncompiled": (lambda: keras.Sequential([keras.Input((8,)), L.Dense(6, activation="sigmoid"),
                                                  L.Dense(4, activation="softmax")]), None, (8,), False),
    }


def make(keras, prefix, rng):
    entries = {}
    for name, (build, optimizer, shape, fit) in specs(keras).items():
        keras.utils.set_random_seed(3)
        model = build()
        x = (rng.integers(0, 256, size=(48,) + shape) if len(shape) == 3 else rng.uniform(size=(48,) + shape)).astype("float32")
        if optimizer is not None:
            classes = model.output_shape[-1]
            model.compile(optimizer=optimizer(), loss="categorical_crossentropy", metrics=["accuracy"])
            if fit:
                y = keras.utils.to_categorical(rng.integers(0, classes, 48), classes)
                model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        probe = x[:4]
        file = f"{prefix}_{name}.keras"
        model.save(os.path.join(OUT, file))
        entries[file] = {
            "input_shape": list(shape), "inputs": probe.ravel().tolist(),
            "predictions": model.predict(probe, verbose=0).ravel().tolist(),
            "count_params": int(model.count_params()),
            "optimizer": type(model.optimizer).__name__ if optimizer is not None else None,
            "iterations": int(np.asarray(model.optimizer.iterations)) if optimizer is not None else 0,
            "slots": bool(fit),
        }
    return entries


def deflated(src, dst):
    """The same members, re-packed with deflate."""
    with zipfile.ZipFile(os.path.join(OUT, src)) as old, \
            zipfile.ZipFile(os.path.join(OUT, dst), "w", compression=zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info.filename))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(9)
    import keras
    entries = make(keras, "k3", rng)
    import tf_keras
    entries.update(make(tf_keras, "k2", rng))
    for prefix in ("k3", "k2"):
        src, dst = f"{prefix}_bn_dropout_l2_adam.keras", f"{prefix}_bn_dropout_l2_adam_deflated.keras"
        deflated(src, dst)
        entries[dst] = entries[src]
    entries["versions"] = {"keras": keras.__version__, "tf_keras": tf_keras.__version__}
    with open(os.path.join(OUT, "native.json"), "w") as f:
        json.dump(entries, f, indent=1)


if __name__ == "__main__":
    main()
