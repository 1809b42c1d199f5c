"""Golden numbers for Keras's mixed_bfloat16 policy, for Tests/MLPKitTests/PrecisionTests.swift.

Writes into Fixtures/precision/:
- golden.json:
  - rounding: float32 bit patterns (ties, NaN, infinities, denormals, extremes, random values)
    and their bfloat16 bit patterns as TensorFlow's cast makes them (checked equal to
    ml_dtypes' cast);
  - mixed_step: Dense(6→5, relu) → Dense(3, softmax) from fixed weights, one SGD(0.1) step on a
    batch of 8, with
      - "reference": the toolchain's documented mixed_bfloat16 arithmetic done in numpy (input,
        kernel and dL/dz of the mixed layer rounded to bfloat16, float32 sums, everything else
        float32): the loss and every weight afterwards;
      - "keras_bf16": the same step by Keras 3's train_on_batch under mixed_bfloat16 (the output
        layer float32), which also rounds the mixed layer's outputs and gradients to bfloat16;
      - "keras_float32": the same step in float32;
- mixed_bf16.h5: Dense(16, relu) → Dropout → Dense(10, softmax, float32) saved by Keras 3 under
  mixed_bfloat16, with its predictions on fixed inputs in golden.json ("mixed_model");
- mixed_float16.h5: the same model under mixed_float16, a policy the toolchain refuses.

Run with the versions in Tests/requirements.txt:  python Fixtures/precision/make.py
"""
import json, os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np
import ml_dtypes
import tensorflow as tf
import keras

OUT = os.path.dirname(os.path.abspath(__file__))


def bf16(x):
    """Rounds float32 values to bfloat16 and back (exact in float32)."""
    return np.asarray(x, np.float32).astype(ml_dtypes.bfloat16).astype(np.float32)


def rounding(rng):
    specials = [0x00000000, 0x80000000, 0x3f800000, 0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0x7f7fffff,
                0xff7fffff, 0x7f7f8000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff, 0x00000001,
                0x00008000, 0x00018000, 0x007fffff, 0x80400000]
    bits = np.array(specials + list(rng.integers(0, 2**32, 200, dtype=np.uint64)), np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    by_tf = tf.bitcast(tf.cast(tf.constant(values), tf.bfloat16), tf.uint16).numpy()
    with np.errstate(invalid="ignore"):
        by_ml = values.astype(ml_dtypes.bfloat16).view(np.uint16)
    # The two agree but on NaN's sign and payload: TensorFlow makes every NaN 0x7fc0.
    assert ((by_tf == by_ml) | np.isnan(values)).all(), "TensorFlow and ml_dtypes disagree"
    assert (by_tf[np.isnan(values)] == 0x7fc0).all()
    return {"float32_bits": bits.tolist(), "bfloat16_bits": by_tf.astype(int).tolist()}


def reference_step(x, labels, weights, lr):
    """The toolchain's mixed_bfloat16 step, in numpy float32."""
    w1, b1, w2, b2 = [np.array(w, np.float32) for w in weights]
    n = len(labels)
    z1 = (bf16(x).astype(np.float64) @ bf16(w1).astype(np.float64)).astype(np.float32) + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ w2 + b2
    z2 = z2 - z2.max(axis=1, keepdims=True)
    p = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    onehot = np.eye(3, dtype=np.float32)[labels]
    loss = float(-np.log(np.clip(p[np.arange(n), labels], 1e-7, 1)).mean())
    dz2 = (p - onehot) / np.float32(n)
    dw2, db2 = a1.T @ dz2, dz2.sum(axis=0)
    da1 = dz2 @ w2.T
    dz1 = np.where(a1 > 0, da1, 0).astype(np.float32)
    dz1b = bf16(dz1).astype(np.float64)
    dw1 = (bf16(x).astype(np.float64).T @ dz1b).astype(np.float32)
    db1 = dz1.sum(axis=0)
    after = [w1 - lr * dw1, b1 - lr * db1, w2 - lr * dw2, b2 - lr * db2]
    return loss, after


def keras_step(policy, x, labels, weights, lr):
    keras.mixed_precision.set_global_policy(policy)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3, activation="softmax", dtype="float32")])
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="categorical_crossentropy")
    loss = float(model.train_on_batch(x, keras.utils.to_categorical(labels, 3)))
    keras.mixed_precision.set_global_policy("float32")
    return loss, model.get_weights()


def mixed_step(rng):
    x = rng.uniform(size=(8, 6)).astype(np.float32)
    labels = rng.integers(0, 3, size=8)
    weights = [rng.normal(0, 0.5, (6, 5)).astype(np.float32), rng.normal(0, 0.1, 5).astype(np.float32),
               rng.normal(0, 0.5, (5, 3)).astype(np.float32), rng.normal(0, 0.1, 3).astype(np.float32)]
    lr = 0.1
    entry = {"x": x.ravel().tolist(), "labels": labels.tolist(), "learning_rate": lr,
             "before": [w.ravel().tolist() for w in weights]}
    loss, after = reference_step(x, labels, weights, lr)
    entry["reference"] = {"loss": loss, "after": [w.ravel().tolist() for w in after]}
    for key, policy in [("keras_bf16", "mixed_bfloat16"), ("keras_float32", "float32")]:
        loss, after = keras_step(policy, x, labels, weights, lr)
        entry[key] = {"loss": loss, "after": [np.asarray(w, np.float32).ravel().tolist() for w in after]}
    return entry


def mixed_models(rng):
    x = rng.uniform(size=(16, 24)).astype(np.float32)
    entry = {"x": x.ravel().tolist()}
    for policy, name in [("mixed_bfloat16", "mixed_bf16.h5"), ("mixed_float16", "mixed_float16.h5")]:
        keras.mixed_precision.set_global_policy(policy)
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((24,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.2),
                                  keras.layers.Dense(10, activation="softmax", dtype="float32")])
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="categorical_crossentropy")
        y = keras.utils.to_categorical(rng.integers(0, 10, size=64), 10)
        model.fit(rng.uniform(size=(64, 24)).astype(np.float32), y, epochs=2, batch_size=16, verbose=0)
        model.save(os.path.join(OUT, name))
        if policy == "mixed_bfloat16":
            entry["predictions"] = np.asarray(model.predict(x, verbose=0), np.float32).ravel().tolist()
            # The same weights run in float32: how far bfloat16 moves these predictions.
            keras.mixed_precision.set_global_policy("float32")
            plain = keras.Sequential([keras.Input((24,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.2),
                                      keras.layers.Dense(10, activation="softmax")])
            plain.set_weights(model.get_weights())
            entry["predictions_float32"] = np.asarray(plain.predict(x, verbose=0), np.float32).ravel().tolist()
        keras.mixed_precision.set_global_policy("float32")
    return entry


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(11)
    golden = {"rounding": rounding(rng), "mixed_step": mixed_step(rng), "mixed_model": mixed_models(rng)}
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
