"""Fifty of Keras 3's own training steps, recorded so that Tests/MLPKitTests/Training/ReplayTests.swift
can replay them and compare every weight and optimizer slot after steps 1, 10 and 50.

Two models on the same data (330 samples of 32 features in [0, 1], 100 classes, batch 32, so
11 steps an epoch with a last batch of 10, and 5 epochs: 55 steps, of which the first 50 are
checked):
- "regularized": Dense(256, relu, L2(1e-3)) → BatchNormalization → Dropout(0.2) →
  Dense(100, softmax), Adam at 1e-4;
- "baseline": Dense(128, relu) → Dense(100, softmax), RMSprop at 1e-3.

Each is trained by `model.fit(shuffle=True)` (eagerly, so that a train_step override can see
each batch) and records:
- the batch order fit drew: the sample index of every row of every step;
- every mask Keras's Dropout drew (1 = kept), and the value a kept unit is scaled by;
- every weight before training, and after steps 1, 10 and 50 every weight (moving mean and
  variance included) and every optimizer slot (Adam's momentum and velocity, RMSprop's velocity),
  with the optimizer's iteration count.

Writes Fixtures/training/replay.h5:
  x (330 × 32 float32), labels (330 int32);
  <model>/order (55 × 32 int32, -1 past the end of a short last batch);
  <model>/masks (50 × 32 × 256 uint8, regularized only; rows past a short batch 0) and
  <model>/dropout_scale;
  <model>/before/<i>, <model>/step_<n>/weights/<i>, <model>/step_<n>/slots/<i>,
  <model>/step_<n>/iterations; attributes weight_names, slot_names.

Run with the versions in Tests/requirements.txt:  python Fixtures/training/replay.py
"""
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np
import h5py
import keras

OUT = os.path.dirname(os.path.abspath(__file__))
SAMPLES, FEATURES, CLASSES, BATCH, EPOCHS = 330, 32, 100, 32, 5
CHECKED = (1, 10, 50)
# Byte-shuffled and deflated: a float32 array keeps its exact bits and takes less room.
PACKED = {"compression": "gzip", "compression_opts": 9, "shuffle": True}


class RecordingDropout(keras.layers.Dropout):
    """Keras's Dropout, drawing exactly as it does, that also keeps each training mask."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.masks = []

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return super().call(inputs, training=training)
        state = keras.ops.convert_to_numpy(self.seed_generator.state)
        outputs = super().call(inputs, training=True)
        after = keras.ops.convert_to_numpy(self.seed_generator.state)
        # The draw depends on the generator's state and the shape alone: the same state on ones
        # gives the mask itself.
        self.seed_generator.state.assign(state)
        ones = keras.ops.convert_to_numpy(super().call(keras.ops.ones_like(inputs), training=True))
        assert np.array_equal(after, keras.ops.convert_to_numpy(self.seed_generator.state))
        self.masks.append(ones)
        return outputs


def recording_model(layers, steps_seen, snapshots, x):
    """A Sequential whose train_step notes each batch's rows and, after the checked steps, the
    weights and the optimizer's variables."""
    rows = {x[i].tobytes(): i for i in range(len(x))}
    assert len(rows) == len(x)

    class Recording(keras.Sequential):
        def train_step(self, data):
            batch = keras.ops.convert_to_numpy(data[0])
            steps_seen.append([rows[r.tobytes()] for r in batch])
            logs = super().train_step(data)
            if len(steps_seen) in CHECKED:
                snapshots[len(steps_seen)] = {
                    "weights": [keras.ops.convert_to_numpy(w) for w in self.weights],
                    "slots": [keras.ops.convert_to_numpy(v) for v in self.optimizer.variables[2:]],
                    "iterations": int(keras.ops.convert_to_numpy(self.optimizer.iterations)),
                }
            return logs

    return Recording(layers)


def train(name, layers, optimizer, x, labels, seed, out):
    steps_seen, snapshots = [], {}
    model = recording_model([keras.Input((FEATURES,))] + layers, steps_seen, snapshots, x)
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", run_eagerly=True)
    keras.utils.set_random_seed(seed)
    model.fit(x, keras.utils.to_categorical(labels, CLASSES), batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0)
    # Optimizer variables: iteration and learning rate first, then the slots, as Keras 3 orders them.
    assert [v.path for v in model.optimizer.variables[:2]] == [model.optimizer.iterations.path, model.optimizer._learning_rate.path]
    group = out.create_group(name)
    order = np.full((len(steps_seen), BATCH), -1, "int32")
    for step, seen in enumerate(steps_seen):
        order[step, :len(seen)] = seen
    group.create_dataset("order", data=order)
    group.attrs["weight_names"] = [w.path for w in model.weights]
    group.attrs["slot_names"] = [v.path for v in model.optimizer.variables[2:]]
    for i, w in enumerate(before):
        group.create_dataset(f"before/{i}", data=w, **PACKED)
    for step in CHECKED:
        snapshot = snapshots[step]
        assert snapshot["iterations"] == step
        for i, w in enumerate(snapshot["weights"]):
            group.create_dataset(f"step_{step}/weights/{i}", data=w, **PACKED)
        for i, v in enumerate(snapshot["slots"]):
            group.create_dataset(f"step_{step}/slots/{i}", data=v, **PACKED)
        group.create_dataset(f"step_{step}/iterations", data=np.int64(snapshot["iterations"]))
    dropouts = [layer for layer in model.layers if isinstance(layer, RecordingDropout)]
    if dropouts:
        masks = np.zeros((max(CHECKED), BATCH) + dropouts[0].masks[0].shape[1:], "float32")
        for step, mask in enumerate(dropouts[0].masks[:max(CHECKED)]):
            masks[step, :len(mask)] = mask
        scale = float(masks.max())
        assert set(np.unique(masks)) <= {0.0, np.float32(scale)}
        group.create_dataset("masks", data=(masks != 0).astype("uint8"), **PACKED)
        group.create_dataset("dropout_scale", data=np.float32(scale))
    print(name, "steps", len(steps_seen), "final weights", [w.shape for w in model.get_weights()])


def main():
    rng = np.random.default_rng(50)
    # Pixel-like features, and labels a random linear teacher gives, so that the steps learn.
    x = (rng.integers(0, 256, size=(SAMPLES, FEATURES)) / 255).astype("float32")
    labels = np.argmax(x @ rng.normal(size=(FEATURES, CLASSES)) + rng.normal(scale=0.5, size=(SAMPLES, CLASSES)), axis=1).astype("int32")
    L = keras.layers
    with h5py.File(os.path.join(OUT, "replay.h5"), "w") as out:
        out.create_dataset("x", data=x)
        out.create_dataset("labels", data=labels)
        keras.utils.set_random_seed(7)
        train("regularized",
              [L.Dense(256, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-3)), L.BatchNormalization(),
               RecordingDropout(0.2, seed=11), L.Dense(CLASSES, activation="softmax")],
              keras.optimizers.Adam(learning_rate=1e-4), x, labels, 7, out)
        keras.utils.set_random_seed(8)
        train("baseline", [L.Dense(128, activation="relu"), L.Dense(CLASSES, activation="softmax")],
              keras.optimizers.RMSprop(learning_rate=1e-3), x, labels, 8, out)


if __name__ == "__main__":
    main()
