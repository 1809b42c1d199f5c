"""Golden numbers from Keras 3's own callbacks, layers and schedules, for Tests/MLPKitTests/TrainingTests.swift.

Writes into Fixtures/training/:
- golden.json (every float written as its repr string, so that it reads back exactly):
  - callbacks: fixed sequences of epoch logs fed to Keras's EarlyStopping, ReduceLROnPlateau and
    ModelCheckpoint (verbose=1): when each asked to stop, what it printed, which epoch's
    weights EarlyStopping restored, the learning rate after each epoch, the epochs saved;
  - batch_norm_step, l2_step: one train_on_batch of small models with BatchNormalization and
    with an L2 kernel regularizer, from fixed weights: the loss Keras reports, every weight
    afterwards (moving statistics included), and `evaluate`'s loss on the same batch;
  - bn_dropout_step: one Adam step of Dense(relu, L2) → BatchNormalization → Dropout → Dense(softmax)
    from fixed weights, with the mask Keras's Dropout drew (replayed from its seed generator's
    state): each layer's output in training and in inference mode, dL/d(each layer's output),
    every gradient, the moving statistics after the step, the weights after `train_on_batch`;
  - cosine: CosineDecay's learning rate at a range of steps;
  - python_floats: numbers and Python's repr of them.
- csvlogger.csv and csvlogger_no_validation.csv: what Keras's CSVLogger writes for the logs in
  golden.json's "csv_logs" and "csv_logs_no_validation".
- k3_regularized.h5, k2_regularized.h5: Dense(16, relu, L2) → BatchNormalization → Dropout →
  Dense(5, softmax) trained a few steps by Keras 3 (Adam with CosineDecay) and by tf_keras
  (RMSprop), with models.json giving their predictions on fixed inputs.

Run with the versions in Tests/requirements.txt:  python Fixtures/training/make.py
"""
import contextlib, io, json, os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
NAN = float("nan")


def tiny_model(keras):
    """A compiled model whose one weight identifies the epoch it was set at."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.001), loss="mse",
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    model.fit(np.zeros((2, 1)), np.zeros((2, 1)), epochs=1, verbose=0)  # builds the metrics "auto" mode reads
    return model


def replay(keras, callback, monitor, values):
    """Feeds `values` of `monitor` to `callback` as Keras's fit would, epoch by epoch."""
    model = tiny_model(keras)
    callback.set_model(model)
    model.stop_training = False
    out = io.StringIO()
    stopped_after, rates, saved = None, [], []
    # ModelCheckpoint judges and prints, then saves: record the save instead of writing.
    model.save = lambda *args, **kwargs: saved.append(epoch)
    with contextlib.redirect_stdout(out):
        callback.on_train_begin()
        for epoch, value in enumerate(values):
            model.set_weights([np.array([[float(epoch)]], "float32")])
            callback.on_epoch_begin(epoch)
            logs = {} if value is None else {monitor: value}
            callback.on_epoch_end(epoch, logs)
            rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
            if model.stop_training:
                stopped_after = epoch
                break
        callback.on_train_end()
    lines = [line for line in out.getvalue().split("\n") if line.strip()]
    return {"stopped_after": stopped_after, "messages": lines, "final_weight": float(model.get_weights()[0][0, 0]),
            "learning_rates": rates, "saved_epochs": saved}


def callbacks_golden(keras):
    C = keras.callbacks
    cases = []

    def case(name, kind, settings, monitor, values):
        if kind == "early_stopping":
            callback = C.EarlyStopping(monitor=monitor, restore_best_weights=True, verbose=1, **settings)
        elif kind == "reduce_lr":
            callback = C.ReduceLROnPlateau(monitor=monitor, verbose=1, **settings)
        else:
            callback = C.ModelCheckpoint("best.h5", monitor=monitor, save_best_only=True, verbose=1, **settings)
        result = replay(keras, callback, monitor, values)
        cases.append({"name": name, "kind": kind, "settings": settings, "monitor": monitor,
                      "values": [None if v is None else v for v in values], **result})

    case("val_loss_patience_2_min_delta", "early_stopping", {"patience": 2, "min_delta": 0.02}, "val_loss",
         [1.0, 0.8, 0.79, 0.81, 0.85, 0.7, 0.9, 0.95, 0.96])
    case("val_accuracy_patience_1", "early_stopping", {"patience": 1}, "val_accuracy",
         [0.1, 0.3, 0.3, 0.29, 0.31, 0.2, 0.2])
    case("loss_patience_0", "early_stopping", {"patience": 0}, "loss", [3.0, 2.0, 2.5, 1.0])
    case("never_stops", "early_stopping", {"patience": 3}, "val_loss", [2.0, 1.5, 1.6, 1.4, 1.45, 1.3])
    case("nan_in_the_middle", "early_stopping", {"patience": 2}, "val_loss", [2.0, NAN, 1.9, NAN, NAN, 1.95])
    case("val_auc_min_delta", "early_stopping", {"patience": 2, "min_delta": 0.001}, "val_auc",
         [0.90, 0.9005, 0.9012, 0.9015, 0.9018])
    case("plateau_factor_half", "reduce_lr", {"patience": 2, "factor": 0.5}, "val_loss",
         [1.0, 0.9, 0.9, 0.91, 0.95, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91])
    case("plateau_default_factor", "reduce_lr", {"patience": 1}, "val_accuracy", [0.5, 0.5, 0.6, 0.59, 0.58, 0.7])
    case("checkpoint_val_accuracy", "checkpoint", {}, "val_accuracy", [0.2, 0.25, 0.24, 0.3, 0.3, 0.35])
    case("checkpoint_val_loss", "checkpoint", {}, "val_loss", [2.5, 2.25, 2.3, 1.123456789, 1.5])
    return cases


def write_csv(keras, rows, path):
    logger = keras.callbacks.CSVLogger(path)
    logger.set_model(tiny_model(keras))
    logger.on_train_begin()
    for epoch, logs in enumerate(rows):
        logger.on_epoch_end(epoch, dict(logs))
    logger.on_train_end()


def dense_bn_model(keras, regularizer=None, batch_norm=True):
    L = keras.layers
    layers = [keras.Input((6,)), L.Dense(5, activation="relu", kernel_regularizer=regularizer)]
    if batch_norm:
        layers.append(L.BatchNormalization())
    layers.append(L.Dense(3, activation="softmax"))
    return keras.Sequential(layers)


def step_golden(keras, model, optimizer, seed):
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    x = rng.uniform(size=(8, 6)).astype("float32")
    y = np.array([0, 2, 1, 2, 0, 1, 1, 0])
    # Weights that keep every ReLU unit alive for some samples.
    weights = [rng.normal(scale=0.8, size=w.shape).astype("float32") for w in model.get_weights()]
    for i, w in enumerate(model.weights):
        if "moving_variance" in w.path or "gamma" in w.path:
            weights[i] = np.abs(weights[i]) + 0.5
    model.set_weights(weights)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    onehot = keras.utils.to_categorical(y, 3)
    evaluate_before = float(model.evaluate(x, onehot, verbose=0, batch_size=8))
    loss = float(model.train_on_batch(x, onehot))
    return {"x": x.ravel().tolist(), "labels": y.tolist(), "loss": loss, "evaluate_before": evaluate_before,
            "names": [w.path for w in model.weights],
            "before": [w.ravel().tolist() for w in weights],
            "after": [w.ravel().tolist() for w in model.get_weights()]}


def bn_dropout_golden(keras, seed):
    """One training step of Dense(6→5, relu, L2(0.05)) → BatchNormalization → Dropout(0.4) →
    Dense(3, softmax) with Adam, taken twice from the same weights and the same state of the
    Dropout's seed generator: once layer by layer under a GradientTape (each layer's output,
    dL/d(each output), every weight's gradient, the moving statistics), once by
    `train_on_batch` (the loss and every weight after Adam's update). The two must agree on the
    loss, which shows both drew the same mask."""
    import tensorflow as tf
    L = keras.layers
    rng = np.random.default_rng(seed)
    dropout = L.Dropout(0.4, seed=seed)
    model = keras.Sequential([keras.Input((6,)), L.Dense(5, activation="relu", kernel_regularizer=keras.regularizers.L2(0.05)),
                              L.BatchNormalization(), dropout, L.Dense(3, activation="softmax")])
    x = rng.uniform(size=(8, 6)).astype("float32")
    y = np.array([0, 2, 1, 2, 0, 1, 1, 0])
    onehot = keras.utils.to_categorical(y, 3)
    weights = [rng.normal(scale=0.8, size=w.shape).astype("float32") for w in model.get_weights()]
    for i, w in enumerate(model.weights):
        if "moving_variance" in w.path or "gamma" in w.path:
            weights[i] = np.abs(weights[i]) + 0.5
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy")
    state = keras.ops.convert_to_numpy(dropout.seed_generator.state)

    def forward(training):
        outputs, h = [], tf.constant(x)
        for layer in model.layers:
            h = layer(h, training=training)
            outputs.append(h)
        return outputs

    inference = [keras.ops.convert_to_numpy(h) for h in forward(False)]
    with tf.GradientTape() as tape:
        outputs = forward(True)
        kernel = model.layers[0].kernel
        loss = tf.reduce_mean(keras.losses.categorical_crossentropy(onehot, outputs[-1])) + 0.05 * tf.reduce_sum(kernel * kernel)
    gradients = tape.gradient(loss, outputs + model.trainable_weights)
    moving = [keras.ops.convert_to_numpy(w) for w in (model.layers[1].moving_mean, model.layers[1].moving_variance)]
    # The mask alone: stateless dropout's draw depends on the seed and the shape, not the values.
    dropout.seed_generator.state.assign(state)
    mask = keras.ops.convert_to_numpy(dropout(tf.ones((8, 5)), training=True))
    assert np.array_equal(keras.ops.convert_to_numpy(outputs[2]), keras.ops.convert_to_numpy(outputs[1]) * mask)

    model.set_weights(weights)
    dropout.seed_generator.state.assign(state)
    step_loss = float(model.train_on_batch(x, onehot))
    assert abs(step_loss - float(loss)) < 1e-6, (step_loss, float(loss))
    return {"x": x.ravel().tolist(), "labels": y.tolist(), "rate": 0.4, "l2": 0.05, "learning_rate": 0.01,
            "mask": mask.ravel().tolist(), "loss": step_loss,
            "names": [w.path for w in model.weights], "before": [w.ravel().tolist() for w in weights],
            "training_outputs": [keras.ops.convert_to_numpy(h).ravel().tolist() for h in outputs],
            "inference_outputs": [h.ravel().tolist() for h in inference],
            "output_gradients": [keras.ops.convert_to_numpy(g).ravel().tolist() for g in gradients[:len(outputs)]],
            "trainable_names": [w.path for w in model.trainable_weights],
            "gradients": [keras.ops.convert_to_numpy(g).ravel().tolist() for g in gradients[len(outputs):]],
            "moving_after_forward": [m.ravel().tolist() for m in moving],
            "after": [w.ravel().tolist() for w in model.get_weights()]}


def regularized_models(keras, tf_keras, rng):
    """The regularized stack trained a few steps by each Keras, saved as .h5."""
    x = rng.uniform(size=(64, 20)).astype("float32")
    y = rng.integers(0, 5, size=64)
    entries = {}
    for prefix, K in [("k3", keras), ("k2", tf_keras)]:
        K.utils.set_random_seed(5)
        L = K.layers
        model = K.Sequential([K.Input((20,)), L.Dense(16, activation="relu", kernel_regularizer=K.regularizers.L2(0.01)),
                              L.BatchNormalization(), L.Dropout(0.25), L.Dense(5, activation="softmax")])
        if prefix == "k3":
            optimizer = K.optimizers.Adam(learning_rate=K.optimizers.schedules.CosineDecay(0.01, decay_steps=40))
        else:
            optimizer = K.optimizers.RMSprop(learning_rate=0.005)
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, K.utils.to_categorical(y, 5), epochs=2, batch_size=16, verbose=0)
        path = os.path.join(OUT, f"{prefix}_regularized.h5")
        if os.path.exists(path):
            os.remove(path)
        model.save(path)
        probe = x[:6]
        entries[f"{prefix}_regularized.h5"] = {
            "x": probe.ravel().tolist(), "predictions": np.asarray(model.predict(probe, verbose=0)).ravel().tolist(),
            "iterations": int(K.backend.get_value(model.optimizer.iterations)) if prefix == "k2" else int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
            "loss_on_probe": float(model.evaluate(probe, K.utils.to_categorical(y[:6], 5), verbose=0)[0]),
            "labels": y[:6].tolist(),
        }
    return entries


def main():
    import keras, tf_keras
    os.makedirs(OUT, exist_ok=True)
    golden = {"callbacks": callbacks_golden(keras)}
    golden["csv_logs"] = [
        {"accuracy": 0.0398000003397465, "loss": 4.439112186431885, "val_accuracy": 0.05000000074505806,
         "val_loss": 4.2, "learning_rate": 0.0010000000474974513},
        {"accuracy": 0.125, "loss": 3.7691, "val_accuracy": 0.1, "val_loss": 1e-05, "learning_rate": 0.00010000000474974513},
        {"accuracy": 1.0, "loss": 123456789012.5, "val_accuracy": 0.0, "val_loss": NAN, "learning_rate": 1e-07},
    ]
    golden["csv_logs_no_validation"] = [{"loss": 2.5, "accuracy": 0.25}, {"loss": 2.25, "accuracy": 0.3333333333333333}]
    write_csv(keras, golden["csv_logs"], os.path.join(OUT, "csvlogger.csv"))
    write_csv(keras, golden["csv_logs_no_validation"], os.path.join(OUT, "csvlogger_no_validation.csv"))

    golden["batch_norm_step"] = step_golden(keras, dense_bn_model(keras), keras.optimizers.SGD(learning_rate=0.1), 21)
    golden["l2_step"] = step_golden(keras, dense_bn_model(keras, keras.regularizers.L2(0.05), batch_norm=False),
                                    keras.optimizers.SGD(learning_rate=0.1), 22)
    golden["bn_dropout_step"] = bn_dropout_golden(keras, 23)
    schedule = keras.optimizers.schedules.CosineDecay(0.01, decay_steps=100, alpha=0.1)
    steps = [0, 1, 10, 37, 50, 99, 100, 150]
    golden["cosine"] = {"initial_learning_rate": 0.01, "decay_steps": 100, "alpha": 0.1, "steps": steps,
                        "rates": [float(np.array(schedule(s))) for s in steps]}
    floats = [0.0, 1.0, 5.0, 0.1, 0.0001, 1e-05, 0.00012345, 123456789012.5, 1e15, 1e16, 1.5e16, 2.5e-10,
              4.439112186431885, 0.0010000000474974513, -3.25, 1 / 3, 123456.789, 1e22, 9.999999e-05]
    golden["python_floats"] = [{"value": v, "repr": repr(v)} for v in floats]
    golden["models"] = regularized_models(keras, tf_keras, np.random.default_rng(9))
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(exact(golden), f, indent=1, allow_nan=False)


def exact(value):
    """Floats as their repr strings ("0.0010000000474974513", "nan"): Foundation's JSON reader
    rounds some numbers in their last digit and refuses NaN; the tests parse the strings."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact(v) for v in value]
    return value


if __name__ == "__main__":
    main()
