"""The reports check, run by Scripts/test.sh: what mlp-train, mlp-tune, mlp-eval, mlp-inspect
and mlp-export write for other tools, read by those tools (pinned in Tests/requirements.txt).

- TensorBoard: the event files of `mlp-train --tensorboard` and `mlp-tune --tensorboard` read by
  TensorBoard's own EventAccumulator and EventMultiplexer: every scalar equal to the history
  CSVs (as float32, step = epoch), each record's CRCs equal to TensorBoard's masked CRC32C, the
  hparams plugin's experiment and sessions equal to the search's trials.csv.
- Temperature scaling: `mlp-eval --temperature-scale` on a model trained with a validation
  split: the temperature equal to scipy's minimizer of the log loss on Keras's own logits of that
  split; the calibrated file loaded by Keras 3 and tf_keras, predicting what mlp-eval predicts,
  every argmax unchanged, the holdout ECE and log loss (numpy) lower; exported to ONNX and run by
  ONNX Runtime.
- Model cards: `mlp-inspect --model-card --eval` read by huggingface_hub's ModelCard: its
  library, dataset and every model-index result equal to mlp-eval's JSON; the intervals and the
  worst classes in the text equal to it too.
- ONNX: mlp-export's metadata_props (class names, input scale, dataset SHA-256, version) read
  with onnx, against the fixture archive itself.

Prints one line per check and closes with "N passed, M failed".

    python Tests/Harness/reports_check.py BIN_DIR
"""
import csv, glob, json, os, struct, subprocess, sys, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np
from harness import ROOT, check, run, summary

ARCHIVE = os.path.join(ROOT, "Fixtures", "cifar", "cifar-100-python.tar.gz")


def history(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number_or_text(text):
    try:
        return float(text)
    except ValueError:
        return text


def records_check(path):
    """Every record's length and data CRCs, recomputed with TensorBoard's own masked CRC32C."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
    data, offset, count, bad = open(path, "rb").read(), 0, 0, 0
    while offset < len(data):
        header = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
        body = data[offset + 12:offset + 12 + length]
        (body_crc,) = struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])
        bad += (masked_crc32c(header) != length_crc) + (masked_crc32c(body) != body_crc)
        offset += 16 + length
        count += 1
    return count, bad, offset == len(data)


def scalars(run_dir):
    """{tag: [(step, value)]} of a run folder, through TensorBoard's EventAccumulator."""
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.util import tensor_util
    accumulator = ea.EventAccumulator(run_dir, size_guidance={ea.TENSORS: 0})
    accumulator.Reload()
    return {tag: [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"]}


def equal_to_history(logs, rows, learning_rate=None):
    """The differences between a TensorBoard folder's scalars and a CSVLogger history."""
    train, validation = scalars(os.path.join(logs, "train")), scalars(os.path.join(logs, "validation"))
    problems = []
    for column in rows[0]:
        if column == "epoch":
            continue
        run, tag = (validation, "epoch_" + column[4:]) if column.startswith("val_") else (train, "epoch_" + column)
        want = [(int(r["epoch"]), float(np.float32(float(r[column])))) for r in rows]
        if run.get(tag) != want:
            problems.append(f"{column}: {run.get(tag)} vs {want}")
    if learning_rate is not None:
        want = [(int(r["epoch"]), float(np.float32(learning_rate))) for r in rows]
        if train.get("epoch_learning_rate") != want:
            problems.append(f"learning rate: {train.get('epoch_learning_rate')} vs {want}")
    count = sum(len(v) for v in train.values()) + sum(len(v) for v in validation.values())
    return problems, count


def tensorboard_train_check(tmp):
    from tensorflow.python.summary.summary_iterator import summary_iterator
    logs, csv_path = os.path.join(tmp, "tb"), os.path.join(tmp, "history.csv")
    run("mlp-train", "--data", ARCHIVE, "-o", os.path.join(tmp, "tb.h5"), "--epochs", "3", "--validation-split", "0.2",
        "--seed", "4", "--history", csv_path, "--tensorboard", logs)
    files = sorted(glob.glob(os.path.join(logs, "*", "events.out.tfevents.*")))
    check("mlp-train --tensorboard: one event file in train/ and one in validation/, named as TensorFlow names them",
          [os.path.basename(os.path.dirname(f)) for f in files] == ["train", "validation"]
          and all(os.path.basename(f).endswith(".v2") for f in files), ", ".join(os.path.relpath(f, tmp) for f in files))
    for f in files:
        count, bad, whole = records_check(f)
        first = next(iter(summary_iterator(f)))
        check(f"{os.path.basename(os.path.dirname(f))}: {count} records, every CRC equal to TensorBoard's masked CRC32C, "
              "the first event's file_version brain.Event:2", bad == 0 and whole and first.file_version == "brain.Event:2",
              "" if bad == 0 and whole else f"{bad} bad CRCs, whole {whole}, first {first}")
    problems, count = equal_to_history(logs, history(csv_path), learning_rate=0.001)
    check(f"EventAccumulator reads every scalar of the run ({count}) equal to the history CSV", not problems and count == 15,
          "; ".join(problems))


def tensorboard_tune_check(tmp):
    from tensorboard.backend.event_processing import plugin_event_multiplexer
    from tensorboard.plugins.hparams import metadata
    folder, logs = os.path.join(tmp, "search"), os.path.join(tmp, "search-tb")
    run("mlp-tune", "--data", ARCHIVE, "--trials", "3", "--epochs", "2", "--seed", "2", "--output-dir", folder,
        "--tensorboard", logs)
    trials = history(os.path.join(folder, "trials.csv"))
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logs)
    multiplexer.Reload()
    content = multiplexer.PluginRunToTagToContent(metadata.PLUGIN_NAME)
    experiment = metadata.parse_experiment_plugin_data(content["."][metadata.EXPERIMENT_TAG])
    space = json.load(open(os.path.join(folder, "search.json")))["space"]
    names = [h.name for h in experiment.hparam_infos]
    metrics = [(m.name.group, m.name.tag) for m in experiment.metric_infos]
    check("the hparams experiment names the search space's hyperparameters and the objective first",
          sorted(names) == sorted(space) and metrics[0] == ("validation", "epoch_accuracy"), f"{names}; {metrics}")
    sessions, problems, scalar_count = 0, [], 0
    for row in trials:
        run_name = f"{int(row['trial']):04d}"
        start = metadata.parse_session_start_info_plugin_data(content[run_name][metadata.SESSION_START_INFO_TAG])
        end = metadata.parse_session_end_info_plugin_data(content[run_name][metadata.SESSION_END_INFO_TAG])
        values = {k: (v.string_value if v.HasField("string_value") else v.number_value) for k, v in start.hparams.items()}
        want = {k: number_or_text(row[k]) for k in names if row.get(k)}
        if values != want:
            problems.append(f"trial {run_name}: {values} vs {want}")
        if end.status != 1:
            problems.append(f"trial {run_name}: status {end.status}")
        trial_problems, count = equal_to_history(os.path.join(logs, run_name),
                                                 history(os.path.join(folder, "trials", run_name, "history.csv")))
        problems += [f"trial {run_name}: {p}" for p in trial_problems]
        scalar_count += count
        sessions += 1
    check(f"3-trial search: {sessions} hparams sessions with the values of trials.csv, ended STATUS_SUCCESS, and every "
          f"trial's scalars ({scalar_count}) equal to its history CSV", sessions == 3 and not problems and scalar_count > 0,
          "; ".join(problems))


def onnx_metadata_check(tmp):
    """mlp-export's metadata_props, read with onnx, against the fixture archive itself."""
    import hashlib, onnx, pickle, tarfile
    model, exported = os.path.join(tmp, "tb.h5"), os.path.join(tmp, "tb.onnx")
    run("mlp-export", model, "-o", exported)
    props = {p.key: p.value for p in onnx.load(exported).metadata_props}
    with tarfile.open(ARCHIVE) as tar:
        names = [n.decode() for n in pickle.load(tar.extractfile("cifar-100-python/meta"), encoding="bytes")[b"fine_label_names"]]
    digest = hashlib.sha256(open(ARCHIVE, "rb").read()).hexdigest()
    version = json.loads(run("mlp-inspect", model, "--json"))["provenance"]["version"]
    check("mlp-export's metadata_props: class_names (the archive's 100 fine label names), input_scale 1/255, the archive's "
          "SHA-256, the toolchain's version",
          json.loads(props.get("class_names", "[]")) == names and float(props.get("input_scale", "nan")) == 1 / 255
          and props.get("dataset_sha256") == digest and props.get("mlp_version") == version,
          "" if props.get("dataset_sha256") == digest else str(props))
    run("mlp-export", model, "-o", exported, "--raw-input")
    props = {p.key: p.value for p in onnx.load(exported).metadata_props}
    check("with --raw-input the graph takes pixels as they are: input_scale 1", props.get("input_scale") == "1", str(props.get("input_scale")))


def cifar_split(archive, split):
    """A CIFAR-100 python archive's split as Keras's load_data gives it, flattened and scaled to [0, 1]."""
    import pickle, tarfile
    with tarfile.open(archive) as tar:
        batch = pickle.load(tar.extractfile(f"cifar-100-python/{split}"), encoding="bytes")
    x = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x.reshape(len(x), -1).astype(np.float32) / 255, np.asarray(batch[b"fine_labels"])


def log_loss(p, y):
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y].astype(np.float64), 1e-15, None))))


def ece(p, y):
    top, predicted = p.max(axis=1).astype(np.float64), p.argmax(axis=1)
    bins = np.clip(np.ceil(top * 15).astype(int) - 1, 0, 14)
    return sum((bins == m).sum() / len(y) * abs((predicted[bins == m] == y[bins == m]).mean() - top[bins == m].mean())
               for m in range(15) if (bins == m).any())


def temperature_check(tmp):
    """`mlp-eval --temperature-scale` against scipy on Keras's logits, and the calibrated file in Keras and ONNX Runtime."""
    import keras, tf_keras, onnxruntime
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax
    sets = os.path.join(tmp, "tuning")
    subprocess.run([sys.executable, os.path.join(ROOT, "Tools", "cifar_sets.py"), "--tuning", sets], check=True, capture_output=True)
    archive = os.path.join(sets, "cifar-100-python.tar.gz")
    base, calibrated = os.path.join(tmp, "base.h5"), os.path.join(tmp, "calibrated.h5")
    run("mlp-train", "--data", archive, "-o", base, "--validation-split", "0.2", "--seed", "1")
    result = json.loads(run("mlp-eval", base, "--data", archive, "--temperature-scale", "-o", calibrated, "--json"))["temperature_scaling"]
    x, y = cifar_split(archive, "train")
    start = int(np.floor(len(x) * (1 - 0.2)))  # Keras's validation_split: the last 20%
    model = keras.models.load_model(base)
    last = model.layers[-1]
    features = keras.Model(model.inputs, last.input).predict(x[start:].reshape((-1,) + model.input_shape[1:]), verbose=0)
    kernel, bias = (w.astype(np.float64) for w in last.get_weights())
    logits, labels = features.astype(np.float64) @ kernel + bias, y[start:]
    objective = lambda t: -np.mean(log_softmax(logits / t, axis=1)[np.arange(len(labels)), labels])
    best = minimize_scalar(objective, bounds=(0.01, 100), method="bounded", options={"xatol": 1e-10}).x
    gap = abs(result["temperature"] - best) / best
    check(f"temperature {result['temperature']:.6f} fitted on the {result['samples']} images of the recorded validation split "
          f"equals scipy's minimizer on Keras's logits ({best:.6f})", result["samples"] == len(labels) and gap <= 1e-4,
          f"relative gap {gap:.2e}")
    holdout, truth = cifar_split(archive, "test")
    npy = os.path.join(tmp, "calibrated.npy")
    run("mlp-eval", calibrated, "--data", archive, "--predictions", npy)
    ours = np.load(npy)
    before = model.predict(holdout, verbose=0)
    for label, library in (("keras3", keras), ("tf_keras", tf_keras)):
        after = library.models.load_model(calibrated, compile=False).predict(holdout, verbose=0)
        diff = float(np.abs(after - ours).max())
        unchanged = bool((after.argmax(axis=1) == before.argmax(axis=1)).all())
        check(f"{label} loads the calibrated file, predicts what mlp-eval predicts, and no argmax changes",
              diff <= 1e-5 and unchanged, f"largest difference {diff:.2e}, argmax unchanged {unchanged}")
    measured = {"log loss": (log_loss(before, truth), log_loss(ours, truth)), "ECE": (ece(before, truth), ece(ours, truth))}
    accuracy = ((before.argmax(axis=1) == truth).mean(), (ours.argmax(axis=1) == truth).mean())
    check("on the holdout set (numpy): " + ", ".join(f"{k} {a:.4f} -> {b:.4f}" for k, (a, b) in measured.items())
          + f", accuracy {accuracy[0]:.4f} -> {accuracy[1]:.4f}",
          all(b < a for a, b in measured.values()) and accuracy[0] == accuracy[1])
    exported = os.path.join(tmp, "calibrated.onnx")
    run("mlp-export", calibrated, "-o", exported)
    session = onnxruntime.InferenceSession(exported)
    onnx_out = session.run(None, {session.get_inputs()[0].name: holdout})[0]
    diff = float(np.abs(onnx_out - ours).max())
    check("the calibrated file exports to ONNX, and ONNX Runtime predicts what mlp-eval predicts", diff <= 1e-5, f"largest difference {diff:.2e}")


def keras_temperature_check(tmp):
    """A Keras-written model ending in Dense(linear) → Activation(softmax), calibrated on
    `--calibration-data` (an .npz of training images it did not train on): the temperature
    against scipy on Keras's logits of those images, the file against Keras's predictions."""
    import keras
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax
    archive = os.path.join(tmp, "tuning", "cifar-100-python.tar.gz")
    x, y = cifar_split(archive, "train")
    # Trained on the first 8,000 training images; the last 2,000, as an .npz of uint8 images,
    # are the calibration data.
    calibration = os.path.join(tmp, "calibration.npz")
    images = np.rint(x * 255).astype(np.uint8).reshape(-1, 32, 32, 3)
    np.savez(calibration, x_train=images[8000:], y_train=y[8000:], x_test=images[:100], y_test=y[:100])
    cx, cy = x[8000:], y[8000:]
    x, y = x[:8000], y[:8000]
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((3072,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(100),
                              keras.layers.Activation("softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, keras.utils.to_categorical(y, 100), epochs=3, batch_size=128, verbose=0)
    path, calibrated = os.path.join(tmp, "keras_activation.h5"), os.path.join(tmp, "keras_activation_calibrated.h5")
    model.save(path)
    result = json.loads(run("mlp-eval", path, "--data", archive, "--temperature-scale", "--calibration-data", calibration,
                            "-o", calibrated, "--json"))["temperature_scaling"]
    logits = keras.Model(model.inputs, model.layers[-2].output).predict(cx, verbose=0).astype(np.float64)
    objective = lambda t: -np.mean(log_softmax(logits / t, axis=1)[np.arange(len(cy)), cy])
    best = minimize_scalar(objective, bounds=(0.01, 100), method="bounded", options={"xatol": 1e-10}).x
    gap = abs(result["temperature"] - best) / best
    holdout, _ = cifar_split(archive, "test")
    npy = os.path.join(tmp, "keras_activation.npy")
    run("mlp-eval", calibrated, "--data", archive, "--predictions", npy)
    after = keras.models.load_model(calibrated, compile=False).predict(holdout, verbose=0)
    diff = float(np.abs(after - np.load(npy)).max())
    unchanged = bool((after.argmax(axis=1) == model.predict(holdout, verbose=0).argmax(axis=1)).all())
    check(f"a Keras model ending in a softmax Activation, calibrated on --calibration-data ({result['samples']} images): "
          f"T {result['temperature']:.6f} against scipy's {best:.6f} on Keras's logits; Keras predicts what mlp-eval predicts, "
          "no argmax changed", result["samples"] == len(cy) and gap <= 1e-4 and diff <= 1e-5 and unchanged,
          f"relative gap {gap:.2e}, largest difference {diff:.2e}, argmax unchanged {unchanged}")


def model_card_check(tmp):
    """A model card of the temperature check's model, read by huggingface_hub."""
    from huggingface_hub import ModelCard
    archive, model = os.path.join(tmp, "tuning", "cifar-100-python.tar.gz"), os.path.join(tmp, "base.h5")
    evaluation, path = os.path.join(tmp, "eval.json"), os.path.join(tmp, "card.md")
    with open(evaluation, "w") as f:
        f.write(run("mlp-eval", model, "--data", archive, "--json", "--ci", "200"))
    report = json.load(open(evaluation))
    run("mlp-inspect", model, "--model-card", path, "--eval", evaluation)
    card = ModelCard.load(path)
    expected = {"accuracy": report["accuracy"], "top_k_accuracy": report["top5_accuracy"], "roc_auc": report["roc_auc_ovr_macro"],
                "f1": report["macro_avg"]["f1"], "precision": report["macro_avg"]["precision"], "recall": report["macro_avg"]["recall"],
                "log_loss": report["log_loss"], "expected_calibration_error": report["expected_calibration_error"],
                "brier_score": report["brier_score"]}
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    same = {r.dataset_type for r in card.data.eval_results} == {"uoft-cs/cifar100"} and {r.dataset_split for r in card.data.eval_results} == {"test"}
    check("huggingface_hub reads the card: library keras, dataset uoft-cs/cifar100, every model-index result equal to mlp-eval's JSON",
          card.data.library_name == "keras" and card.data.datasets == ["uoft-cs/cifar100"] and same
          and results.keys() == expected.keys() and all(abs(results[k] - v) <= 1e-12 for k, v in expected.items()),
          f"{card.data.library_name} {card.data.datasets} {results}")
    text = card.text
    intervals = report["confidence_intervals"]
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    shown = all(f"{intervals[key][0]:.4f} – {intervals[key][1]:.4f}" in rows.get(label, "")
                for key, label in (("accuracy", "accuracy"), ("roc_auc_ovr_macro", "ROC AUC (one-vs-rest, macro)"),
                                   ("expected_calibration_error", "expected calibration error (15 bins)"), ("brier_score", "Brier score")))
    worst = [c["name"] for c in sorted(report["per_class"], key=lambda c: (c["roc_auc"], c["name"]))[:5]]
    table = text.split("### Worst classes")[1].split("###")[0]
    listed = [line.split(" | ")[0].lstrip("| ") for line in table.splitlines() if line.startswith("| ") and not line.startswith("| class")]
    check("the card shows the 95% intervals of accuracy, AUC, ECE and Brier score, and the five classes of lowest AUC, as mlp-eval's JSON has them",
          shown and listed == worst, f"intervals shown {shown}; {listed} vs {worst}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tensorboard_train_check(tmp)
        tensorboard_tune_check(tmp)
        temperature_check(tmp)
        keras_temperature_check(tmp)
        model_card_check(tmp)
        onnx_metadata_check(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
