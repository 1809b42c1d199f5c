"""The fuzz and fault suite: damaged model files and dataset archives through the executables.

Makes mutants of valid files from a fixed seed, runs each through the executables with a time
limit, and sorts every run:
- ok: exit 0 (the damage was harmless, such as a changed weight), or a non-zero exit with
  exactly one line on standard error that names the file;
- crash: killed by a signal (a trap, an abort, a segmentation fault);
- hang: still running after the time limit;
- wrong: a non-zero exit without that one line, or exit 0 with anything on standard error.

Mutants of model files (a Keras 3 file, a tf_keras file, and files mlp-train wrote): bit flips
anywhere, bit flips in the first 4 KiB (HDF5's metadata), truncations, zeroed and duplicated
blocks, and structural edits through h5py (attributes and groups removed, retyped, reshaped;
model_config rewritten with damaged JSON, unknown layers, activations, regularizers and
schedules, absurd widths; weights of the wrong shape, dtype or rank; NaN and infinite weights).
Mutants of `.keras` files (Keras 3's, tf_keras's and one mlp-train wrote): bit flips, truncations,
and re-packed zips with members missing, duplicated or named out of the archive, damaged
config.json and model.weights.h5, zip bombs and damaged deflate streams; through mlp-inspect,
mlp-eval, mlp-train --resume and mlp-export. Mutants of an ONNX file mlp-export wrote, through
mlp-inspect and mlp-eval.
Mutants of the CIFAR-100 archives (both layouts): bit flips, truncations, zeroed blocks, and
rebuilt archives with members missing, oversized, or with damaged pickles and records.
Images (PNG, interlaced and palette PNG, JPEG, progressive JPEG, GIF, BMP) damaged byte by byte
through mlp-predict and inside image folders through mlp-train; the fixture's bad images
(truncated, corrupt, zero bytes, text named .png, a 100,000×100,000 header); folders empty, with
an empty class, with a symlink loop, with classes in one split only; .npz archives with
mismatched lengths, negative, fractional or huge labels, object arrays, a missing array, and
byte mutants.

    python Tests/Harness/fuzz.py BIN_DIR [--long] [--seed 1] [--jobs 2]

Prints the counts, and exits non-zero when any run crashed, hung or was wrong. By default it
runs a third of the full count of each kind of case (each kind cycles through its classes of
damage, so every class is still tried); --long runs ten times the full count.
"""
import argparse, concurrent.futures, io, json, os, random, shutil, subprocess, sys, tarfile, tempfile, time
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Fixtures")
ARCHIVES = [os.path.join(FIXTURES, "cifar", name) for name in ("cifar-100-python.tar.gz", "cifar-100-binary.tar.gz")]
TIME_LIMIT = 20
# Thousands of short runs: spare each one OpenBLAS's thread pool (the executables split their
# products themselves and use OpenBLAS single-threaded anyway).
ENVIRONMENT = dict(os.environ, OPENBLAS_NUM_THREADS="1")


def run(command, target):
    """Runs one command; returns (verdict, detail)."""
    try:
        out = subprocess.run(command, capture_output=True, timeout=TIME_LIMIT, stdin=subprocess.DEVNULL, env=ENVIRONMENT)
    except subprocess.TimeoutExpired:
        return "hang", " ".join(command)
    err = out.stderr.decode("utf-8", "replace")
    lines = [line for line in err.split("\n") if line.strip()]
    if out.returncode < 0 or out.returncode >= 128:
        return "crash", f"signal/status {out.returncode}: {' '.join(command)}: {err[-300:]}"
    if out.returncode == 0:
        return ("ok", "") if not lines else ("wrong", f"exit 0 with stderr: {' '.join(command)}: {err[-300:]}")
    if len(lines) == 1 and target in lines[0]:
        return "ok", ""
    return "wrong", f"status {out.returncode}, stderr {err[-400:]!r}: {' '.join(command)}"


# MARK: Byte-level mutants

def byte_mutants(data, rng, count, header_bytes=None):
    """Bit flips (anywhere, or in the first `header_bytes`), truncations, zeroed and duplicated blocks."""
    out = []
    for i in range(count):
        b = bytearray(data)
        kind = i % 5
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(len(b))
                b[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:
            limit = min(len(b), header_bytes or 4096)
            for _ in range(rng.randint(1, 4)):
                pos = rng.randrange(limit)
                b[pos] ^= 1 << rng.randrange(8)
        elif kind == 2:
            b = b[: rng.randrange(len(b))]
        elif kind == 3:
            start = rng.randrange(len(b))
            length = rng.choice([8, 64, 512, 4096])
            b[start:start + length] = bytes(min(length, len(b) - start))
        else:
            start, length = rng.randrange(len(b)), rng.choice([16, 256, 2048])
            block = b[start:start + length]
            at = rng.randrange(len(b))
            b[at:at + len(block)] = block
        out.append(bytes(b))
    return out


# MARK: Structural mutants of model files (h5py)

def structural_mutants(path, folder, rng, count):
    import h5py
    edits = []

    def attrs_edit(f):
        keys = [("model_config", f), ("training_config", f), ("keras_version", f)]
        group = f.get("model_weights")
        if group is not None:
            keys += [("layer_names", group)]
            for name in group:
                if isinstance(group[name], h5py.Group):
                    keys.append(("weight_names", group[name]))
        name, obj = rng.choice(keys)
        if name not in obj.attrs:
            return
        choice = rng.randrange(4)
        if choice == 0:
            del obj.attrs[name]
        elif choice == 1:
            obj.attrs[name] = np.arange(rng.randint(0, 5), dtype=rng.choice(["f8", "i4", "u1"]))
        elif choice == 2:
            obj.attrs[name] = rng.choice(["", "{", "null", "[]", "\u00e9" * 3, "x" * 70000])
        else:
            obj.attrs[name] = np.array([[b"a", b"b"], [b"c", b"d"]])

    def config_edit(f):
        config = json.loads(f.attrs["model_config"])
        layers = config["config"]["layers"]
        layer = rng.choice(layers)
        c = layer.setdefault("config", {})
        choice = rng.randrange(10)
        if choice == 0:
            layer["class_name"] = rng.choice(["Conv2D", "LSTM", "", "Dense2"])
        elif choice == 1:
            c["units"] = rng.choice([10 ** 12, 2 ** 40, -5, 0, 1.5, "many", None, 2 ** 31])
        elif choice == 2:
            c["activation"] = rng.choice(["relux", "", None, 7, {"class_name": "LeakyReLU"}])
        elif choice == 3:
            c["kernel_regularizer"] = rng.choice([{"class_name": "L3", "config": {}}, {"class_name": "L2", "config": {"l2": "x"}}, "l5", 3])
        elif choice == 4:
            c["batch_input_shape"] = rng.choice([[None, 10 ** 12], [None, -1], [None], "3072", [None, 2 ** 40, 2 ** 40]])
            c["batch_shape"] = c["batch_input_shape"]
        elif choice == 5:
            del config["config"]["layers"][rng.randrange(len(layers))]
        elif choice == 6:
            c["rate"] = rng.choice([2.0, -1.0, "x", None])
        elif choice == 7:
            config["class_name"] = rng.choice(["Functional", "Model", 5])
        elif choice == 8:
            c["axis"] = rng.choice([0, 5, [1, 2], "x"])
        else:
            layers.append({"class_name": "Dense", "config": {"name": "extra", "units": 3}})
        f.attrs["model_config"] = json.dumps(config)

    def training_edit(f):
        if "training_config" not in f.attrs:
            return
        config = json.loads(f.attrs["training_config"])
        opt = config.setdefault("optimizer_config", {})
        choice = rng.randrange(4)
        if choice == 0:
            opt["class_name"] = rng.choice(["Lion", "", "Adafactor"])
        elif choice == 1:
            opt.setdefault("config", {})["learning_rate"] = rng.choice([
                {"class_name": "ExponentialDecay", "config": {}}, {"class_name": "CosineDecay", "config": {"decay_steps": -3}},
                {"class_name": "CosineDecay", "config": {"initial_learning_rate": "x", "decay_steps": 5}}, "fast", -1])
        elif choice == 2:
            opt["config"] = "nope"
        else:
            config["loss"] = rng.choice(["mse", None, 5])
        f.attrs["training_config"] = json.dumps(config)

    def weights_edit(f):
        datasets = []
        f.visititems(lambda name, obj: datasets.append(name) if isinstance(obj, h5py.Dataset) else None)
        if not datasets:
            return
        name = rng.choice(datasets)
        data = f[name][()]
        choice = rng.randrange(6)
        del f[name]
        if choice == 0:
            f.create_dataset(name, data=np.zeros(np.asarray(data).size + 1, "f4"))
        elif choice == 1:
            f.create_dataset(name, data=np.asarray(data, "f4").reshape(-1)[:0])
        elif choice == 2:
            f.create_dataset(name, data=np.asarray(data).astype(rng.choice(["f8", "i8", "u1"])))
        elif choice == 3:
            bad = np.asarray(data, "f4").copy()
            if bad.size:
                bad.reshape(-1)[rng.randrange(bad.size)] = rng.choice([np.nan, np.inf, -np.inf])
            f.create_dataset(name, data=bad)
        elif choice == 4:
            f.create_dataset(name, data=np.array(["text"], dtype="S4"))
        else:
            pass  # the dataset removed

    def group_edit(f):
        group = f.get("model_weights")
        if group is None:
            return
        names = list(group.keys())
        if names:
            del group[rng.choice(names)]

    def nan_weights(f):
        group = f["model_weights"]
        for dataset_name in []:
            pass
        datasets = []
        group.visititems(lambda name, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None)
        for d in datasets:
            values = d[()]
            if np.asarray(values).dtype.kind == "f":
                d[...] = np.full(np.shape(values), rng.choice([np.nan, np.inf]), dtype=np.asarray(values).dtype)

    edits = [attrs_edit, config_edit, training_edit, weights_edit, group_edit, nan_weights]
    out = []
    for i in range(count):
        target = os.path.join(folder, f"structural-{i}.h5")
        shutil.copy(path, target)
        try:
            with h5py.File(target, "r+") as f:
                edits[i % len(edits)](f)
        except Exception:
            pass  # an edit h5py refuses leaves the copy as it is
        out.append(target)
    return out


# MARK: .keras mutants

def keras_mutants(path, folder, rng, count):
    """Re-packed `.keras` zips: members missing, duplicated, renamed out of the archive, stored
    or deflated; config.json damaged as JSON or as a model; model.weights.h5 cut, with variables
    removed, reshaped, retyped or added, iterations out of range; zip bombs; deflated streams
    damaged."""
    import h5py, zipfile
    with zipfile.ZipFile(path) as z:
        members = [(name, z.read(name)) for name in z.namelist()]

    def pack(target, entries, compression=zipfile.ZIP_STORED):
        with zipfile.ZipFile(target, "w", compression=compression) as z:
            for name, data in entries:
                z.writestr(name, data)

    def weights_edit(data):
        buffer = io.BytesIO(data)
        with h5py.File(buffer, "r+") as f:
            names = []
            f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
            name = rng.choice(names)
            values = f[name][()]
            choice = rng.randrange(6)
            del f[name]
            if choice == 0:
                f.create_dataset(name, data=np.zeros(np.asarray(values).size + rng.choice([1, 7]), "f4"))
            elif choice == 1:
                f.create_dataset(name, data=np.asarray(values).astype(rng.choice(["f8", "i8", "u1"])))
            elif choice == 2:
                f.create_dataset(name, data=np.array(rng.choice([-5, 2 ** 62, 2 ** 40]), "i8"))
            elif choice == 3:
                f.create_dataset(name + "0", data=np.zeros(3, "f4"))
                f.create_dataset(name, data=values)
            elif choice == 4:
                f.create_dataset(name, data=np.array(["text"], dtype="S4"))
            # else: the variable removed
        return buffer.getvalue()

    def config_edit(data):
        config = json.loads(data)
        layers = config["config"]["layers"]
        layer = rng.choice(layers)
        c = layer.setdefault("config", {})
        choice = rng.randrange(7)
        if choice == 0:
            layer["class_name"] = rng.choice(["Conv2D", "", 5])
        elif choice == 1:
            c["units"] = rng.choice([10 ** 12, 2 ** 40, -5, 0, "many", 1e19])
        elif choice == 2:
            config["compile_config"] = rng.choice([None, 5, {"optimizer": "lion"}, {"optimizer": {"class_name": "Adam", "config": "x"}},
                                                   {"optimizer": {"class_name": "SGD", "config": {"learning_rate": -1}}}])
        elif choice == 3:
            c["batch_shape"] = rng.choice([[None, 10 ** 12], [None, -1], "3072"])
        elif choice == 4:
            del layers[rng.randrange(len(layers))]
        elif choice == 5:
            config["class_name"] = rng.choice(["Functional", None])
        else:
            layers.append({"class_name": "Dense", "config": {"name": "extra", "units": 3}})
        return json.dumps(config).encode()

    out = []
    for i in range(count):
        target = os.path.join(folder, f"keras-{i}.keras")
        entries = list(members)
        kind = i % 8
        compression = zipfile.ZIP_DEFLATED if rng.random() < 0.5 else zipfile.ZIP_STORED
        try:
            if kind == 0:
                del entries[rng.randrange(len(entries))]
            elif kind == 1:
                entries.append(rng.choice(entries))
            elif kind == 2:
                k = rng.randrange(len(entries))
                entries[k] = (rng.choice(["../" + entries[k][0], "/" + entries[k][0], "a/../../" + entries[k][0]]), entries[k][1])
            elif kind == 3:
                entries = [(n, config_edit(d) if n == "config.json" else d) for n, d in entries]
            elif kind == 4:
                entries = [(n, d if n != "config.json" else d[: rng.randrange(len(d))]) for n, d in entries]
            elif kind == 5:
                entries = [(n, weights_edit(d) if n == "model.weights.h5" else d) for n, d in entries]
            elif kind == 6:
                # A bomb: a member that inflates far beyond what the model can hold.
                k = rng.randrange(len(entries))
                entries[k] = (entries[k][0], bytes(rng.choice([16, 64]) << 20))
                compression = zipfile.ZIP_DEFLATED
            pack(target, entries, compression)
            if kind == 7:
                # A deflated stream damaged after packing: CRC or inflate errors.
                pack(target, entries, zipfile.ZIP_DEFLATED)
                b = bytearray(open(target, "rb").read())
                for _ in range(rng.randint(1, 6)):
                    b[rng.randrange(40, len(b) - 40)] ^= 1 << rng.randrange(8)
                open(target, "wb").write(bytes(b))
        except Exception:
            pack(target, members)  # an edit that did not apply leaves a good copy
        out.append(target)
    return out


# MARK: Archive mutants

def archive_mutants(path, folder, rng, count):
    """Rebuilt archives: members missing, oversized headers, damaged pickles and records."""
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    out = []
    for i in range(count):
        target = os.path.join(folder, f"archive-{i}.tar.gz")
        choice = i % 5
        with tarfile.open(target, "w:gz") as tar:
            for member, data in members:
                m = tarfile.TarInfo(member.name)
                m.mode, m.mtime, m.type = member.mode, member.mtime, member.type
                payload = data
                if data is not None and member.name.split("/")[-1] in ("train", "test", "train.bin", "test.bin", "meta"):
                    if choice == 0 and rng.random() < 0.5:
                        continue  # a member missing
                    if choice == 1:
                        payload = data[: rng.randrange(len(data))]
                    elif choice == 2:
                        b = bytearray(data)
                        for _ in range(rng.randint(1, 6)):
                            b[rng.randrange(min(len(b), 400))] = rng.randrange(256)
                        payload = bytes(b)
                    elif choice == 3:
                        b = bytearray(data)
                        for _ in range(rng.randint(1, 6)):
                            b[rng.randrange(len(b))] = rng.randrange(256)
                        payload = bytes(b)
                    elif choice == 4:
                        payload = data + bytes(rng.randint(1, 3073))
                if payload is not None:
                    m.size = len(payload)
                    tar.addfile(m, io.BytesIO(payload))
                else:
                    tar.addfile(m)
        out.append(target)
    return out


# MARK: mlp-tune's inputs

TUNE_FLAGS = ["--units", "--hidden-layers", "--learning-rate", "--dropout", "--batch-size", "--l2", "--trials", "--epochs", "--max-epochs",
              "--factor", "--hyperband-iterations", "--validation-split", "--claim-timeout", "--threads", "--seed", "--batch-norm",
              "--optimizer", "--activation", "--dtype-policy"]
TUNE_VALUES = ["1e19", "-1", "1e300", "nan", "inf", "", "0", "1:1e19", "64,1e300", "1.5", "abc", "-1:2", "3:1", "512:relu",
               "1,1", "0:0", "-0", "18446744073709551616", "1e-320:1", ",", ":"]


def tune_base(tool, output):
    return {"--data": ARCHIVES[0], "--output-dir": output, "--trials": "1", "--epochs": "1", "--units": "8", "--hidden-layers": "1",
            "--seed": "1", "--claim-timeout": "5"}


def tune_command(tool, options):
    command = [tool("mlp-tune")]
    for flag, value in options.items():
        command += [flag, value]
    return command


def tune_cases(tool, folder, rng, count):
    """mlp-tune on absurd flag values, damaged space files and damaged search folders: each
    either runs or answers in one line naming the flag or the file."""
    cases = []
    for i in range(count):
        flag, value = rng.choice(TUNE_FLAGS), rng.choice(TUNE_VALUES)
        options = tune_base(tool, os.path.join(folder, f"tune-flags-{i}"))
        options[flag] = value
        cases.append((tune_command(tool, options), flag))
    standard = {"learning_rate": {"log_uniform": [0.0001, 0.01]}, "layers": {"int": [1, 3]},
                "units": {"choice": [8, 16]}, "dropout": {"uniform": [0.0, 0.5]}, "optimizer": {"choice": ["adam", "rmsprop"]}}
    absurd = [1e19, -1, 1e300, "x", None, [], {}, [1], [3, 1], [0, 1e19], True, 0.5, {"int": [1, 1e19]}, {"choice": []},
              {"log_uniform": [0, 1]}, {"uniform": [float("nan"), 1]}, {"choice": [8, 8]}]
    for i in range(count // 2):
        space = json.loads(json.dumps(standard))
        if i % 3 == 2:
            text = json.dumps(space)
            data = text[: rng.randrange(len(text))].encode() if i % 2 else bytes(rng.randrange(256) for _ in range(64))
        else:
            space[rng.choice(list(space) + ["batch_size", "l2", "bogus"])] = rng.choice(absurd)
            data = json.dumps(space, allow_nan=True).encode()
        path = os.path.join(folder, f"space-{i}.json")
        open(path, "wb").write(data)
        options = tune_base(tool, os.path.join(folder, f"tune-space-{i}"))
        for key in ("--units", "--hidden-layers"):
            del options[key]
        options["--space"] = path
        cases.append((tune_command(tool, options), path))
    # A finished search of two trials, then copies of it with one file damaged, gone on with.
    search = os.path.join(folder, "search")
    subprocess.run(tune_command(tool, dict(tune_base(tool, search), **{"--trials": "2"})), check=True, capture_output=True)
    files = [os.path.join(root, name) for root, _, names in os.walk(search) for name in names]
    for i in range(count // 2):
        copy = os.path.join(folder, f"search-{i}")
        shutil.copytree(search, copy)
        target = os.path.join(copy, os.path.relpath(rng.choice(files), search))
        data = open(target, "rb").read()
        kind = i % 3
        if kind == 0:
            data = data[: rng.randrange(max(len(data), 1))]
        elif kind == 1 and data:
            b = bytearray(data)
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            data = bytes(b)
        else:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        open(target, "wb").write(data)
        cases.append((tune_command(tool, dict(tune_base(tool, copy), **{"--trials": "3"})), copy))
    return cases


# MARK: Images, image folders and .npz archives

IMAGES = os.path.join(FIXTURES, "images")


def image_cases(tool, folder, rng, count):
    """Damaged images through mlp-predict and in image folders through mlp-train; damaged
    folders (empty, an empty class, a symlink loop, a 100,000×100,000 header); damaged .npz
    archives (mismatched lengths, labels out of range, object arrays, byte mutants)."""
    model = os.path.join(folder, "images.h5")
    subprocess.run([tool("mlp-train"), "--data", os.path.join(IMAGES, "folder"), "--image-size", "8,8", "-o", model,
                    "--epochs", "1", "--seed", "1"], check=True, capture_output=True)
    commands = []
    sources = ["rgb.png", "interlaced.png", "palette.png", "photo.jpg", "progressive.jpeg", "animation.gif", "picture.bmp"]
    for index, name in enumerate(sources):
        data = open(os.path.join(IMAGES, "decode", name), "rb").read()
        for i, mutant in enumerate(byte_mutants(data, rng, count, header_bytes=64)):
            target = os.path.join(folder, f"image-{index}-{i}{os.path.splitext(name)[1]}")
            open(target, "wb").write(mutant)
            commands.append(([tool("mlp-predict"), model, target], target))
            if i % 6 == 0:
                # The damaged image in a class of a folder otherwise whole.
                root = os.path.join(folder, f"image-folder-{index}-{i}")
                shutil.copytree(os.path.join(IMAGES, "folder"), root)
                shutil.copy(target, os.path.join(root, "train", "apple"))
                commands.append(([tool("mlp-train"), "--data", root, "--image-size", "8,8", "--epochs", "1",
                                  "-o", os.path.join(folder, f"image-trained-{index}-{i}.h5")], os.path.basename(target)))
    for name in sorted(os.listdir(os.path.join(IMAGES, "bad"))):
        target = os.path.join(IMAGES, "bad", name)
        commands.append(([tool("mlp-predict"), model, target], target))
        root = os.path.join(folder, "bad-folder-" + name)
        shutil.copytree(os.path.join(IMAGES, "folder"), root)
        shutil.copy(target, os.path.join(root, "test", "cherry"))
        commands.append(([tool("mlp-train"), "--data", root, "--image-size", "8,8", "--epochs", "1",
                          "-o", os.path.join(folder, f"bad-trained-{name}.h5")], name))
    # Folders: empty; a class without images; a link back up; classes only in one split.
    empty = os.path.join(folder, "empty-folder")
    os.makedirs(empty)
    no_images = os.path.join(folder, "no-images")
    shutil.copytree(os.path.join(IMAGES, "folder"), no_images)
    os.makedirs(os.path.join(no_images, "train", "durian"))
    os.makedirs(os.path.join(no_images, "test", "durian"))
    loop = os.path.join(folder, "loop")
    shutil.copytree(os.path.join(IMAGES, "folder"), loop)
    os.symlink(os.path.join(loop, "train"), os.path.join(loop, "train", "apple", "more", "again"))
    split_classes = os.path.join(folder, "split-classes")
    shutil.copytree(os.path.join(IMAGES, "folder"), split_classes)
    shutil.rmtree(os.path.join(split_classes, "test", "cherry"))
    for root, target in [(empty, empty), (no_images, "durian"), (loop, "again"), (split_classes, split_classes)]:
        commands.append(([tool("mlp-train"), "--data", root, "--image-size", "8,8", "--epochs", "1",
                          "-o", os.path.join(folder, os.path.basename(root) + ".h5")], target))
    commands.append(([tool("mlp-predict"), model, loop], "again"))
    # .npz archives.
    arrays = dict(x_train=np.zeros((4, 3, 3), np.uint8), y_train=np.array([0, 1, 0, 1]), x_test=np.zeros((2, 3, 3), np.uint8),
                  y_test=np.array([0, 1]))
    npz_cases = {
        "mismatched": dict(arrays, y_train=np.array([0, 1, 0])),
        "negative": dict(arrays, y_test=np.array([0, -3])),
        "huge-label": dict(arrays, y_train=np.array([0, 1, 0, 2 ** 40])),
        "object": dict(arrays, x_train=np.array([[1], "a", None, 2.5], dtype=object)),
        "float-labels": dict(arrays, y_train=np.array([0.5, 1, 0, 1])),
        "no-test": {k: v for k, v in arrays.items() if k != "x_test"},
        "shapes": dict(arrays, x_test=np.zeros((2, 4, 3), np.uint8)),
    }
    npz_files = []
    for name, content in npz_cases.items():
        target = os.path.join(folder, f"npz-{name}.npz")
        np.savez(target, **content)
        npz_files.append(target)
    good = os.path.join(folder, "npz-good.npz")
    np.savez(good, **arrays)
    for i, mutant in enumerate(byte_mutants(open(good, "rb").read(), rng, count, header_bytes=200)):
        target = os.path.join(folder, f"npz-bytes-{i}.npz")
        open(target, "wb").write(mutant)
        npz_files.append(target)
    for k, target in enumerate(npz_files):
        commands.append(([tool("mlp-train"), "--data", target, "--epochs", "1", "-o", os.path.join(folder, f"npz-trained-{k}.h5")],
                         target))
    return commands


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("--long", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", help="copy the files of failing runs into this folder")
    args = parser.parse_args()
    # Every class of damage cycles with the case index, so a third of the cases still covers
    # each class; --long runs ten times the full count.
    scale = 10 if args.long else 1 / 3
    count = lambda base: max(8, round(base * scale))
    rng = random.Random(args.seed)
    tool = lambda name: os.path.join(args.bin, name)
    started = time.time()
    with tempfile.TemporaryDirectory() as folder:
        # The valid files: two Keras files and two that mlp-train writes (one with L2,
        # BatchNormalization, Dropout, Adam and cosine decay).
        models = [os.path.join(FIXTURES, "keras", "k3_mlp_adam.h5"), os.path.join(FIXTURES, "keras", "k2_mlp_adam.h5")]
        for name, options in [("ours", ["--layers", "16:relu"]),
                              ("ours_regularized", ["--layers", "16:relu", "--l2", "0.01", "--batch-norm", "--dropout", "0.2",
                                                    "--optimizer", "adam", "--lr-schedule", "cosine"])]:
            path = os.path.join(folder, name + ".h5")
            subprocess.run([tool("mlp-train"), "--data", ARCHIVES[0], "-o", path, "--epochs", "1", "--seed", "1", *options],
                           check=True, capture_output=True)
            models.append(path)
        good_model = models[2]
        # .keras files: Keras 3's and tf_keras's, and one mlp-train writes.
        natives = [os.path.join(FIXTURES, "keras", "native", name) for name in
                   ("k3_bn_dropout_l2_adam.keras", "k2_bn_dropout_l2_adam_deflated.keras")]
        ours_native = os.path.join(folder, "ours_native.keras")
        subprocess.run([tool("mlp-train"), "--data", ARCHIVES[0], "-o", ours_native, "--epochs", "1", "--seed", "1",
                        "--layers", "16:relu", "--batch-norm", "--optimizer", "adam"], check=True, capture_output=True)
        natives.append(ours_native)
        jobs = []
        for index, model in enumerate(models):
            data = open(model, "rb").read()
            for i, mutant in enumerate(byte_mutants(data, rng, count(100))):
                target = os.path.join(folder, f"bytes-{index}-{i}.h5")
                open(target, "wb").write(mutant)
                jobs.append(target)
            jobs += structural_mutants(model, folder, rng, count(60))
        native_jobs = []
        for index, model in enumerate(natives):
            data = open(model, "rb").read()
            for i, mutant in enumerate(byte_mutants(data, rng, count(40), header_bytes=600)):
                target = os.path.join(folder, f"native-bytes-{index}-{i}.keras")
                open(target, "wb").write(mutant)
                native_jobs.append(target)
            native_jobs += [shutil.move(p, p.replace("keras-", f"keras-{index}-")) for p in keras_mutants(model, folder, rng, count(48))]
        jobs += native_jobs
        # ONNX files mlp-export wrote, damaged: mlp-inspect reads them back.
        onnx_model = os.path.join(folder, "ours.onnx")
        subprocess.run([tool("mlp-export"), ours_native, "-o", onnx_model, "--raw-input"], check=True, capture_output=True)
        onnx_jobs = []
        for i, mutant in enumerate(byte_mutants(open(onnx_model, "rb").read(), rng, count(40), header_bytes=400)):
            target = os.path.join(folder, f"onnx-bytes-{i}.onnx")
            open(target, "wb").write(mutant)
            onnx_jobs.append(target)
        # An int8 QDQ file, damaged the same way: mlp-eval reads its integers and scales.
        int8_model = os.path.join(folder, "ours_int8.onnx")
        subprocess.run([tool("mlp-export"), good_model, "--quantize", "int8", "--data", ARCHIVES[0], "-o", int8_model],
                       check=True, capture_output=True)
        for i, mutant in enumerate(byte_mutants(open(int8_model, "rb").read(), rng, count(40), header_bytes=400)):
            target = os.path.join(folder, f"onnx-int8-bytes-{i}.onnx")
            open(target, "wb").write(mutant)
            onnx_jobs.append(target)
        commands = []
        for target in jobs:
            # Keras's own files fit the fixture data only when they take 3,072 values; every
            # executable must still answer with one line.
            commands.append(([tool("mlp-inspect"), target, "--weights"], target))
            commands.append(([tool("mlp-eval"), target, "--data", ARCHIVES[0]], target))
        for target in onnx_jobs:
            commands.append(([tool("mlp-inspect"), target], target))
            commands.append(([tool("mlp-eval"), target, "--data", ARCHIVES[0]], target))
        for target in native_jobs[::5]:
            commands.append(([tool("mlp-export"), target, "-o", target + ".onnx"], target))
        for k, target in enumerate(jobs):
            if k % 8 == 0:
                commands.append(([tool("mlp-train"), "--data", ARCHIVES[0], "--resume", target, "--epochs", "1",
                                  "-o", os.path.join(folder, f"resumed-{k}.h5")], target))
        for index, archive in enumerate(ARCHIVES):
            data = open(archive, "rb").read()
            mutants = []
            for i, mutant in enumerate(byte_mutants(data, rng, count(100), header_bytes=1024)):
                target = os.path.join(folder, f"archive-bytes-{index}-{i}.tar.gz")
                open(target, "wb").write(mutant)
                mutants.append(target)
            mutants += archive_mutants(archive, folder, rng, count(60))
            for k, target in enumerate(mutants):
                commands.append(([tool("mlp-eval"), good_model, "--data", target], target))
                if k % 4 == 0:
                    commands.append(([tool("mlp-train"), "--data", target, "--epochs", "1", "-o",
                                      os.path.join(folder, f"trained-{index}-{k}.h5")], target))
                if k % 8 == 2:
                    commands.append(([tool("mlp-tune"), "--data", target, "--trials", "1", "--epochs", "1", "--units", "8",
                                      "--hidden-layers", "1", "--output-dir", os.path.join(folder, f"tune-{index}-{k}")], target))
        tuning = tune_cases(tool, folder, rng, count(60))
        commands += tuning
        images = image_cases(tool, folder, rng, count(30))
        commands += images
        counts = {"ok": 0, "crash": 0, "hang": 0, "wrong": 0}
        problems = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for (command, target), (verdict, detail) in zip(commands, pool.map(lambda c: run(*c), commands)):
                counts[verdict] += 1
                if verdict != "ok":
                    problems.append(f"{verdict}: {detail}")
                    if args.keep:
                        os.makedirs(args.keep, exist_ok=True)
                        if os.path.isfile(target):
                            shutil.copy(target, args.keep)
    for problem in problems[:40]:
        print(problem)
    print(f"fuzz: {len(commands)} cases ({len(jobs)} model mutants, archives of both layouts, {len(tuning)} of mlp-tune's flags, "
          f"space files and search folders, {len(images)} of images, image folders and .npz archives) in {time.time() - started:.0f} s: "
          f"{counts['crash']} crashes, {counts['hang']} hangs, {counts['wrong']} wrong or silent exits")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
