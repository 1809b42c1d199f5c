"""KerasTuner's Hyperband against mlp-tune --algorithm hyperband, in one run on one machine.

Both search the same space (the JSON below, KerasTuner's usual MLP search: learning rate,
layers, units, dropout, optimizer) with the same max_epochs and factor, on the same validation
split (the last 20% of the training set, which KerasTuner's validation_split takes too), batch
128, judged by val_accuracy, with the same seed. The build function registers the
hyperparameters in the order mlp-tune draws them (SearchSpace.keys), so both draw the same
trials; the script checks that they did. Prints each one's wall time, trials, epochs trained
and best val_accuracy, and the ratio of the times.

    python Tools/tuner_bench.py ARCHIVE [--max-epochs 6] [--factor 3] [--seed 1] [--bin .build/release]
"""
import argparse, json, math, os, subprocess, sys, tempfile, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np

from parity import load

SPACE = {"learning_rate": {"log_uniform": [0.0001, 0.01]}, "layers": {"int": [1, 3]},
         "units": {"choice": [64, 128, 256, 512]}, "dropout": {"uniform": [0.0, 0.5]},
         "optimizer": {"choice": ["adam", "rmsprop"]}}


def build_model(keras, rate, layers, units, dropout, name):
    """The search's model in Keras: `layers` × (Dense(units, relu), Dropout), Dense(100, softmax)."""
    model = keras.Sequential([keras.Input((3072,))])
    for _ in range(layers):
        model.add(keras.layers.Dense(units, activation="relu"))
        model.add(keras.layers.Dropout(dropout))
    model.add(keras.layers.Dense(100, activation="softmax"))
    optimizer = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}[name]
    model.compile(optimizer=optimizer(learning_rate=rate), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_tuner(x, y, max_epochs, factor, seed, folder):
    import keras, keras_tuner as kt

    def build(hp):
        return build_model(keras, hp.Float("learning_rate", *SPACE["learning_rate"]["log_uniform"], sampling="log"),
                           hp.Int("layers", *SPACE["layers"]["int"]), hp.Choice("units", SPACE["units"]["choice"]),
                           hp.Float("dropout", *SPACE["dropout"]["uniform"]), hp.Choice("optimizer", SPACE["optimizer"]["choice"]))

    tuner = kt.Hyperband(build, objective="val_accuracy", max_epochs=max_epochs, factor=factor, hyperband_iterations=1,
                         seed=seed, directory=folder, project_name="bench", overwrite=True)
    start = time.time()
    tuner.search(x, keras.utils.to_categorical(y, 100), validation_split=0.2, batch_size=128, verbose=0)
    seconds = time.time() - start
    trials = list(tuner.oracle.trials.values())
    epochs = sum(t.hyperparameters.values["tuner/epochs"] - t.hyperparameters.values["tuner/initial_epoch"] for t in trials)
    best = max(t.score for t in trials if t.score is not None)
    drawn = [{k: t.hyperparameters.values[k] for k in SPACE} for t in sorted(trials, key=lambda t: t.trial_id)
             if "tuner/trial_id" not in t.hyperparameters.values]
    return seconds, len(trials), epochs, best, drawn


def mlp_tune(binary, archive, images, max_epochs, factor, seed, folder):
    space = os.path.join(folder, "space.json")
    with open(space, "w") as f:
        json.dump(SPACE, f)
    out = os.path.join(folder, "mlp-tune")
    start = time.time()
    subprocess.run([os.path.join(binary, "mlp-tune"), "--data", archive, "--output-dir", out, "--algorithm", "hyperband",
                    "--space", space, "--max-epochs", str(max_epochs), "--factor", str(factor), "--validation-split", "0.2",
                    "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    seconds = time.time() - start
    trials = []
    for name in sorted(os.listdir(os.path.join(out, "trials"))):
        with open(os.path.join(out, "trials", name, "trial.json")) as f:
            trials.append(json.load(f))
    epochs = sum(t["epochs"] - t["initial_epoch"] for t in trials)
    best = max(t["score"] for t in trials if "score" in t)
    drawn = [{k: t["hyperparameters"][k] for k in SPACE} for t in trials if t.get("past_trial") is None]
    flops = sum((t["epochs"] - t["initial_epoch"]) * epoch_flops(t["hyperparameters"], images) for t in trials)
    return seconds, len(trials), epochs, best, drawn, flops


def epoch_flops(values, images, split=0.2):
    """The products of one epoch, dense-equivalent: each Dense's forward and kernel gradient,
    its input gradient but for the first, on the training part; the forward on the validation part."""
    widths = [3072] + [values["units"]] * values["layers"] + [100]
    validation = images - int(images * (1 - split))
    train = images - validation
    total = 0
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        total += train * 2 * a * b * (2 if i == 0 else 3) + validation * 2 * a * b
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--max-epochs", type=int, default=6)
    parser.add_argument("--factor", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bin", default=".build/release")
    args = parser.parse_args()
    x, y = load(args.archive, splits=("train",))["train"]
    with tempfile.TemporaryDirectory() as folder:
        ours = mlp_tune(args.bin, args.archive, len(x), args.max_epochs, args.factor, args.seed, folder)
        print(f"mlp-tune:   {ours[0]:8.1f} s, {ours[1]} trials, {ours[2]} epochs, best val_accuracy {ours[3]:.4f}; "
              f"{ours[5] / 1e12:.2f} TFLOP of products (dense-equivalent)", flush=True)
        theirs = keras_tuner(x, y, args.max_epochs, args.factor, args.seed, folder)
        print(f"KerasTuner: {theirs[0]:8.1f} s, {theirs[1]} trials, {theirs[2]} epochs, best val_accuracy {theirs[3]:.4f}")
    def equal(a, b):
        return a.keys() == b.keys() and all(
            math.isclose(a[k], b[k], rel_tol=1e-12) if isinstance(a[k], float) else a[k] == b[k] for k in a)
    same = len(ours[4]) == len(theirs[4]) and all(equal(a, b) for a, b in zip(ours[4], theirs[4]))
    print(f"new trials drawn: {len(ours[4])} and {len(theirs[4])}, " + ("the same values" if same else "DIFFERENT values"))
    if not same:
        for a, b in zip(ours[4], theirs[4]):
            print(f"  mlp-tune {a}\n  Keras    {b}")
    print(f"mlp-tune is {theirs[0] / ours[0]:.2f} times faster; best val_accuracy {100 * (ours[3] - theirs[3]):+.2f} points")


if __name__ == "__main__":
    main()
