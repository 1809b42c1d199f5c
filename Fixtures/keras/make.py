"""Golden numbers and model files from real Keras, for the Swift tests.

Writes into Fixtures/keras/:
- golden.json: optimizer steps (each optimizer, several settings), activation values,
  categorical cross-entropy, and one full training step of a small model, all computed by Keras 3.
- *.h5: small Sequential models saved by Keras 3 (k3_*) and tf_keras (k2_*), covering every
  variation the reader handles, with models.json giving each one's predictions on fixed inputs,
  parameter counts and per-layer output shapes as Keras reports them.

Run with the versions in Tests/requirements.txt:  python Fixtures/keras/make.py
"""
import json, os, shutil
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np
import h5py

OUT = os.path.dirname(os.path.abspath(__file__))


def optimizer_golden(keras):
    rng = np.random.default_rng(7)
    w0 = rng.normal(size=(3, 4)).astype("float32")
    grads = [rng.normal(size=(3, 4)).astype("float32") for _ in range(3)]
    cases = {
        "rmsprop": keras.optimizers.RMSprop(),
        "rmsprop_momentum_centered": keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.9, centered=True),
        "sgd": keras.optimizers.SGD(),
        "sgd_momentum": keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
        "sgd_nesterov": keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
        "adam": keras.optimizers.Adam(),
        "adamw": keras.optimizers.AdamW(learning_rate=0.01),
    }
    out = {"initial": w0.ravel().tolist(), "gradients": [g.ravel().tolist() for g in grads], "after_steps": {}}
    for name, opt in cases.items():
        v = keras.Variable(w0.copy())
        steps = []
        for g in grads:
            opt.apply_gradients([(keras.ops.convert_to_tensor(g), v)])
            steps.append(np.asarray(v).ravel().tolist())
        out["after_steps"][name] = steps
    return out


def activation_golden(keras):
    x = np.linspace(-4, 4, 17).astype("float32").reshape(1, 17)
    out = {"x": x.ravel().tolist()}
    for name in ["relu", "sigmoid", "tanh", "gelu", "softmax", "linear", "elu", "selu", "swish"]:
        out[name] = np.asarray(keras.activations.get(name)(x)).ravel().tolist()
    return out


def loss_golden(keras):
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "float32")
    y = np.array([0, 1, 0, 0])
    values = keras.losses.categorical_crossentropy(keras.utils.to_categorical(y, 3), p)
    return {"probabilities": p.ravel().tolist(), "labels": y.tolist(), "per_sample": np.asarray(values).tolist()}


def train_step_golden(keras):
    """One RMSprop step of Dense(5, relu) → Dense(3, softmax) on a batch of 4, as Keras fits it."""
    rng = np.random.default_rng(11)
    x = rng.uniform(size=(4, 6)).astype("float32")
    y = np.array([0, 2, 1, 2])
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="categorical_crossentropy")
    loss = model.train_on_batch(x, keras.utils.to_categorical(y, 3))
    return {"x": x.ravel().tolist(), "labels": y.tolist(), "loss": float(loss),
            "before": [w.ravel().tolist() for w in before],
            "after": [w.ravel().tolist() for w in model.get_weights()]}


def make_models(keras, prefix, rng):
    L = keras.layers
    specs = {
        "mlp_adam": (lambda: keras.Sequential([keras.Input((20,)), L.Dense(16, activation="relu"), L.Dropout(0.3),
                                              L.Dense(10, activation="softmax")]), "adam", (20,)),
        "activations_sgd": (lambda: keras.Sequential([keras.Input((12,)), L.Dense(9, activation="sigmoid"),
                                                      L.Dense(8, activation="tanh"), L.Dense(7, activation="gelu"),
                                                      L.Dense(6, activation="elu"), L.Dense(6, activation="selu"),
                                                      L.Dense(6, activation="swish"), L.Dense(5),
                                                      L.Activation("softmax")]),
                            keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), (12,)),
        "image_bn_rmsprop": (lambda: keras.Sequential([keras.Input((32, 32, 3)), L.Rescaling(1 / 255.0), L.Flatten(),
                                                       L.Dense(8, activation="relu"), L.BatchNormalization(),
                                                       L.Dense(5, activation="softmax")]), "rmsprop", (32, 32, 3)),
        "names_unsorted": (lambda: keras.Sequential([keras.Input((10,)), L.Dense(6, activation="relu", name="dense_2"),
                                                     L.Dense(5, activation="relu", name="dense_10"),
                                                     L.Dense(4, activation="softmax", name="dense_1")]), "rmsprop", (10,)),
        "uncompiled": (lambda: keras.Sequential([keras.Input((8,)), L.Dense(4, activation="softmax")]), None, (8,)),
    }
    entries = {}
    for name, (build, optimizer, shape) in specs.items():
        keras.utils.set_random_seed(3)
        model = build()
        x = (rng.integers(0, 256, size=(64,) + shape) if len(shape) == 3 else rng.uniform(size=(64,) + shape)).astype("float32")
        if optimizer is not None:
            classes = model.output_shape[-1]
            y = keras.utils.to_categorical(rng.integers(0, classes, 64), classes)
            model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
            model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        probe = x[:5]
        file = f"{prefix}_{name}.h5"
        model.save(os.path.join(OUT, file))
        entries[file] = {
            "input_shape": list(shape), "inputs": probe.ravel().tolist(),
            "predictions": model.predict(probe, verbose=0).ravel().tolist(),
            "count_params": int(model.count_params()),
            "layers": [{"name": l.name, "type": type(l).__name__, "output_shape": list(l.output.shape[1:]),
                        "params": int(l.count_params())} for l in model.layers],
        }
    return entries


def variant(src, dst, change):
    shutil.copy(os.path.join(OUT, src), os.path.join(OUT, dst))
    with h5py.File(os.path.join(OUT, dst), "r+") as f:
        change(f)


def chunk_layer_names(f):
    """Keras's form for attributes over 64 KB: layer_names0, layer_names1, ..."""
    g = f["model_weights"]
    names = list(g.attrs["layer_names"])
    del g.attrs["layer_names"]
    g.attrs["layer_names0"] = names[:1]
    g.attrs["layer_names1"] = names[1:]


def fixed_length_strings(f):
    """Older writers stored fixed-length strings."""
    for key in ("model_config", "training_config", "keras_version", "backend"):
        if key in f.attrs:
            value = f.attrs[key]
            value = value.decode() if isinstance(value, bytes) else value
            del f.attrs[key]
            f.attrs[key] = np.bytes_(value.encode())
    g = f["model_weights"]
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["layer_names"]]
    del g.attrs["layer_names"]
    g.attrs["layer_names"] = np.array([n.encode() for n in names], dtype="S")


def main():
    os.makedirs(OUT, exist_ok=True)
    import keras
    golden = {"keras_version": keras.__version__, "optimizers": optimizer_golden(keras),
              "activations": activation_golden(keras), "loss": loss_golden(keras), "train_step": train_step_golden(keras)}
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f)
    rng = np.random.default_rng(5)
    models = make_models(keras, "k3", rng)
    import tf_keras
    models.update(make_models(tf_keras, "k2", rng))
    variant("k3_mlp_adam.h5", "k3_mlp_adam_chunked.h5", chunk_layer_names)
    models["k3_mlp_adam_chunked.h5"] = models["k3_mlp_adam.h5"]
    variant("k2_mlp_adam.h5", "k2_mlp_adam_fixed_strings.h5", fixed_length_strings)
    models["k2_mlp_adam_fixed_strings.h5"] = models["k2_mlp_adam.h5"]
    with open(os.path.join(OUT, "models.json"), "w") as f:
        json.dump(models, f, indent=1)


if __name__ == "__main__":
    main()
