"""Holdout accuracy of mlp-train against Keras 3 with the same settings on the same archive.

Trains the notebook's baseline (Dense(128, relu) → Dense(100, softmax), RMSprop, batch 128), or
the architecture of a Keras model config given with --model, with Keras 3 and with mlp-train
for each seed, and prints each holdout accuracy and the means.

    python Tools/parity.py ARCHIVE --epochs 3 --learning-rate 1e-4 --seeds 1 2 3 [--bin DIR]
    python Tools/parity.py ARCHIVE --model Models/regularized.json --epochs 5 --learning-rate 1e-3
    python Tools/parity.py NOISY --layers 256 --batch-norm --l2 1e-4 --dropout 0.2 --optimizer adam --learning-rate 1e-4
    python Tools/parity.py ARCHIVE --layers 512,512 --dropout 0.2 --optimizer adam --learning-rate 1e-3 \
        --dtype-policy mixed_bfloat16 [--mlp-option=--engine --mlp-option=openblas]

With --dtype-policy mixed_bfloat16, Keras runs under that global policy with the output layer in
float32, as mlp-train does.
"""
import argparse, os, re, subprocess, sys, tarfile, pickle, tempfile, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np


def load(path, splits=("train", "test")):
    """CIFAR-100 from its Python archive or extracted folder, read as keras.datasets.cifar100
    .load_data() reads it, then the notebook's steps: {split: (x float32 in [0, 1], labels)}."""
    def read(split):
        if os.path.isdir(path):
            folder = path if os.path.exists(os.path.join(path, split)) else os.path.join(path, "cifar-100-python")
            with open(os.path.join(folder, split), "rb") as f:
                return pickle.load(f, encoding="bytes")
        with tarfile.open(path) as tar:
            return pickle.load(tar.extractfile(f"cifar-100-python/{split}"), encoding="bytes")
    out = {}
    for split in splits:
        d = read(split)
        x = d[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        out[split] = (x.reshape(len(x), 3072).astype("float32") / 255, np.array(d[b"fine_labels"]))
    return out


def keras_accuracy(data, seed, epochs, learning_rate, config=None, layers="128", dropout=0.0, optimizer="rmsprop",
                   policy="float32", batch_norm=False, l2=0.0):
    import keras
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_global_policy(policy)
    (x, y), (xt, yt) = data["train"], data["test"]
    if config:
        with open(config) as f:
            model = keras.models.model_from_json(f.read())
    else:
        hidden = []
        for units in layers.split(","):
            regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
            hidden.append(keras.layers.Dense(int(units), activation="relu", kernel_regularizer=regularizer))
            if batch_norm:
                hidden.append(keras.layers.BatchNormalization())
            if dropout > 0:
                hidden.append(keras.layers.Dropout(dropout))
        model = keras.Sequential([keras.Input((3072,))] + hidden + [keras.layers.Dense(100, activation="softmax", dtype="float32")])
    optimizers = {"rmsprop": keras.optimizers.RMSprop, "adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    model.compile(optimizer=optimizers[optimizer](learning_rate=learning_rate), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, keras.utils.to_categorical(y, 100), epochs=epochs, batch_size=128, verbose=0)
    return float((model.predict(xt, verbose=0, batch_size=1000).argmax(axis=1) == yt).mean())


def mlp_accuracy(binary, archive, seed, epochs, learning_rate, config=None, layers="128", dropout=0.0, optimizer="rmsprop",
                 policy="float32", batch_norm=False, l2=0.0, extra=()):
    architecture = (["--model", config] if config else
                    ["--layers", ",".join(f"{u}:relu" for u in layers.split(",")), "--dropout", str(dropout),
                     "--optimizer", optimizer] + (["--dtype-policy", policy] if policy != "float32" else [])
                    + (["--batch-norm"] if batch_norm else []) + (["--l2", str(l2)] if l2 > 0 else []))
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([os.path.join(binary, "mlp-train"), "--data", archive, "-o", os.path.join(tmp, "m.h5"),
                              "--epochs", str(epochs), "--learning-rate", str(learning_rate), "--seed", str(seed)]
                             + architecture + list(extra),
                             capture_output=True, text=True, check=True).stdout
    return float(re.search(r"holdout: accuracy ([0-9.]+)", out).group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--bin", default=".build/release")
    parser.add_argument("--model", help="a Keras model config (JSON) to train instead of the baseline")
    parser.add_argument("--layers", default="128", help="hidden ReLU layers' units, comma-separated")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--batch-norm", action="store_true", help="BatchNormalization after each hidden Dense")
    parser.add_argument("--l2", type=float, default=0.0, help="L2 kernel regularizer on each hidden Dense")
    parser.add_argument("--optimizer", default="rmsprop", choices=["rmsprop", "adam", "sgd"])
    parser.add_argument("--dtype-policy", default="float32", choices=["float32", "mixed_bfloat16"])
    parser.add_argument("--mlp-option", action="append", default=[], help="passed on to mlp-train (repeat for each word)")
    args = parser.parse_args()
    settings = dict(layers=args.layers, dropout=args.dropout, optimizer=args.optimizer, policy=args.dtype_policy,
                    batch_norm=args.batch_norm, l2=args.l2)
    data = load(args.archive)
    ours, theirs = [], []
    for seed in args.seeds:
        theirs.append(keras_accuracy(data, seed, args.epochs, args.learning_rate, args.model, **settings))
        ours.append(mlp_accuracy(args.bin, args.archive, seed, args.epochs, args.learning_rate, args.model,
                                 extra=args.mlp_option, **settings))
        print(f"seed {seed}: keras 3 {theirs[-1]:.4f}   mlp-train {ours[-1]:.4f}", flush=True)
    gap = 100 * (np.mean(ours) - np.mean(theirs))
    print(f"mean over {len(args.seeds)} seeds: keras 3 {np.mean(theirs):.4f}   mlp-train {np.mean(ours):.4f}   "
          f"difference {gap:+.2f} points")


if __name__ == "__main__":
    main()
