"""Data check against real Keras 3, run by Scripts/test.sh: the five kinds of data --data takes,
and mlp-predict.

For each kind (CIFAR-10's archive, Keras's mnist.npz read by name from Keras's cache,
Fashion-MNIST's four IDX files, an .npz of images, a folder of PNG and JPEG photos of mixed
sizes), builds a small set in that layout, trains on it with mlp-train, lets Keras read the same
files its own way (keras.datasets' loaders, np.load, image_dataset_from_directory), and checks
that Keras predicting with the saved model on Keras's arrays (flattened, divided by 255) gives
mlp-eval's --predictions within 1e-5 (1e-3 where resizing or JPEG is involved), the same
accuracy, and the input shape and class names the file records. Then mlp-predict on 50 PNG and
JPEG files (some resized, one grey) against Keras's model.predict on tf.io.decode_image →
tf.image.resize → /255, and a PNG header claiming 100,000×100,000 pixels refused in one line
using under 100 MB. Prints one line per check and closes with "N passed, M failed".

    python Tests/Harness/data_check.py BIN_DIR
"""
import gzip, importlib.util, json, os, struct, subprocess, sys, tarfile, tempfile
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
import numpy as np
from harness import ROOT, BIN, check, run, summary



def tool_module(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "Tools", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cifar_sets, photo_folder = tool_module("cifar_sets"), tool_module("photo_folder")
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def patterned(rng, counts, shape, classes):
    """Splits of `counts` images whose classes differ by a pattern shared across the splits, so
    that a few epochs learn something: [(images, labels), ...]."""
    prototypes = rng.integers(0, 256, (classes,) + shape)
    splits = []
    for count in counts:
        labels = rng.integers(0, classes, count)
        images = np.clip(prototypes[labels] + rng.normal(0, 200, (count,) + shape), 0, 255).astype(np.uint8)
        splits.append((images, labels))
    return splits


# Each builder writes the set under `tmp` and returns (the --data argument, the environment for
# the tools, Keras's test arrays (x uint8 or float, y), Keras's class names, tolerance).

def build_cifar10(tmp, rng):
    members = {}
    batches = [(f"data_batch_{i}", 40) for i in range(1, 6)] + [("test_batch", 60)]
    splits = patterned(rng, [count for _, count in batches], (3, 32, 32), 10)
    for (name, count), (images, labels) in zip(batches, splits):
        members[name] = cifar_sets.Py2Pickler().dump({
            b"batch_label": name.encode(), b"labels": labels.tolist(), b"data": images.reshape(count, 3072),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(count)]})
    members["batches.meta"] = cifar_sets.Py2Pickler().dump({b"label_names": [n.encode() for n in CIFAR10_NAMES],
                                                            b"num_cases_per_batch": 40, b"num_vis": 3072})
    archive = os.path.join(tmp, "cifar-10-python.tar.gz")
    with tarfile.open(archive, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name in ["batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
            cifar_sets.add(tar, f"cifar-10-batches-py/{name}", members[name])
    # Keras's cifar10.load_data fixes 50,000 training images; its own batch reader and its
    # steps after it read the small archive.
    from keras.src.datasets.cifar import load_batch
    extracted = os.path.join(tmp, "cifar10-extracted")
    with tarfile.open(archive) as tar:
        tar.extractall(extracted, filter="data")
    x_test, y_test = load_batch(os.path.join(extracted, "cifar-10-batches-py", "test_batch"))
    x_test = x_test.transpose(0, 2, 3, 1)
    return archive, None, (x_test, np.reshape(y_test, (len(y_test), 1))), CIFAR10_NAMES, 1e-5


def build_mnist(tmp, rng):
    keras_home = os.path.join(tmp, "keras-home")
    os.makedirs(os.path.join(keras_home, "datasets"))
    path = os.path.join(keras_home, "datasets", "mnist.npz")
    (x_train, y_train), (x_test, y_test) = patterned(rng, [300, 80], (28, 28), 10)
    np.savez_compressed(path, x_train=x_train, y_train=y_train.astype(np.uint8), x_test=x_test, y_test=y_test.astype(np.uint8))
    import keras.src.datasets.mnist as mnist
    original = mnist.get_file
    mnist.get_file = lambda *args, **kwargs: path  # the file in the cache, without the download's checksum
    try:
        (_, _), (x, y) = mnist.load_data()
    finally:
        mnist.get_file = original
    return "mnist", dict(os.environ, KERAS_HOME=keras_home), (x, y), [str(i) for i in range(10)], 1e-5


def build_fashion_mnist(tmp, rng):
    folder = os.path.join(tmp, "fashion-mnist")
    os.makedirs(folder)
    for (prefix, count), (images, labels) in zip((("train", 300), ("t10k", 80)), patterned(rng, [300, 80], (28, 28), 10)):
        with gzip.open(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), "wb") as f:
            f.write(struct.pack(">IIII", 0x0803, count, 28, 28) + images.tobytes())
        with gzip.open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), "wb") as f:
            f.write(struct.pack(">II", 0x0801, count) + labels.astype(np.uint8).tobytes())
    import keras.src.datasets.fashion_mnist as fashion
    original = fashion.get_file
    fashion.get_file = lambda fname, *args, **kwargs: os.path.join(folder, fname)
    try:
        (_, _), (x, y) = fashion.load_data()
    finally:
        fashion.get_file = original
    return folder, None, (x, y), FASHION_NAMES, 1e-5


def build_npz(tmp, rng):
    path = os.path.join(tmp, "photos.npz")
    (x_train, y_train), (x_test, y_test) = patterned(rng, [240, 60], (12, 10, 3), 4)
    np.savez(path, x_train=x_train, y_train=y_train.reshape(-1, 1), x_test=x_test, y_test=y_test)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x_test"], f["y_test"]
    return path, None, (x, y), ["0", "1", "2", "3"], 1e-5


def build_folder(tmp, rng):
    root = os.path.join(tmp, "flowers")
    photo_folder.write(root, per_train=30, per_test=8, rng=rng)
    import keras
    dataset = keras.utils.image_dataset_from_directory(os.path.join(root, "test"), image_size=(16, 12), shuffle=False,
                                                       batch_size=None, verbose=False)
    xs, ys = zip(*[(image.numpy(), int(label)) for image, label in dataset])
    return root, None, (np.stack(xs), np.array(ys)), dataset.class_names, 1e-3


KINDS = {"cifar10": (build_cifar10, []), "mnist": (build_mnist, []), "fashion_mnist": (build_fashion_mnist, []),
         "npz": (build_npz, []), "image_folder": (build_folder, ["--image-size", "16,12"])}


def check_kind(tmp, name, builder, options, rng):
    import keras
    data, env, (x, y), class_names, tolerance = builder(tmp, rng)
    model = os.path.join(tmp, name + ".h5")
    npy = os.path.join(tmp, name + ".npy")
    run("mlp-train", "--data", data, "-o", model, "--epochs", "5", "--batch-size", "32", "--seed", "3", *options, env=env)
    report = json.loads(run("mlp-eval", model, "--data", data, "--json", "--predictions", npy, env=env))
    ours = np.load(npy)
    provenance = json.loads(run("mlp-inspect", model, "--json"))["provenance"]
    check(f"{name}: the file records Keras's sample shape {list(x.shape[1:])} and class names",
          provenance.get("input_shape") == list(x.shape[1:]) and provenance.get("class_names") == class_names,
          f"{provenance.get('input_shape')} {provenance.get('class_names')}")
    theirs = keras.models.load_model(model).predict(x.reshape(len(x), -1).astype("float32") / 255, verbose=0)
    labels = np.reshape(y, -1)
    diff = float(np.abs(theirs - ours).max()) if theirs.shape == ours.shape else float("inf")
    check(f"{name}: Keras 3 predicting on its own arrays gives mlp-eval's predictions", diff <= tolerance,
          f"largest difference {diff:.2e} over {ours.shape}")
    accuracy = float(np.mean(theirs.argmax(axis=1) == labels))
    check(f"{name}: the same accuracy", abs(accuracy - report["accuracy"]) < 1e-12, f"{report['accuracy']} vs Keras {accuracy}")


def check_predict(tmp, rng):
    """mlp-predict on 50 PNG and JPEG files against Keras's preprocessing and model.predict."""
    import keras, tensorflow as tf
    model = os.path.join(tmp, "image_folder.h5")
    folder = os.path.join(tmp, "new-photos")
    os.makedirs(folder)
    sizes = [(16, 12), (40, 30), (9, 7), (16, 12), (25, 33)]
    for k in range(50):
        height, width = sizes[k % len(sizes)]
        pixels = photo_folder.photo(rng, k % 3, (height, width))
        if k == 7:
            pixels = pixels.mean(axis=2).astype(np.uint8)  # one grey image, decoded to RGB as Keras does
        photo_folder.write_photo(os.path.join(folder, f"photo_{k:02d}.{'jpeg' if k % 2 else 'png'}"), pixels, quality=85)
    lines = [json.loads(line) for line in run("mlp-predict", model, folder, "--json", "--top", "2").splitlines()]
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    check("mlp-predict: one JSON line per image, in sorted order", [line["file"] for line in lines] == files, f"{len(lines)} lines")
    images = []
    for path in files:
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        images.append(tf.image.resize(image, (16, 12)).numpy().reshape(-1) / 255)
    theirs = keras.models.load_model(model).predict(np.stack(images).astype("float32"), verbose=0)
    ours = np.array([line["probabilities"] for line in lines], dtype=np.float32)
    diff = float(np.abs(theirs - ours).max()) if theirs.shape == ours.shape else float("inf")
    check("mlp-predict: Keras's decode_image → resize → /255 → predict gives the same probabilities", diff <= 1e-3,
          f"largest difference {diff:.2e} over {ours.shape}")
    names = json.loads(run("mlp-inspect", model, "--json"))["provenance"]["class_names"]
    named = all(line["top"][0]["name"] == names[int(np.argmax(row))] and line["top"][0]["index"] == int(np.argmax(row))
                for line, row in zip(lines, theirs))
    check("mlp-predict: the top class is Keras's, named", named and names == ["daisy", "rose", "tulip"])


def check_keras_model(tmp):
    """mlp-predict on a model Keras saved (Rescaling inside, input 32×32×3, no record of its
    data): the images resized to its input, unscaled, named from --class-names."""
    import keras, tensorflow as tf
    model = os.path.join(ROOT, "Fixtures", "keras", "k3_image_bn_rmsprop.h5")
    folder = os.path.join(tmp, "new-photos")
    names = ["ant", "bee", "cicada", "dragonfly", "earwig"]
    names_file = os.path.join(tmp, "names.txt")
    open(names_file, "w").write("\n".join(names) + "\n")
    out = subprocess.run([os.path.join(BIN, "mlp-predict"), model, folder, "--json", "--class-names", names_file],
                         capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    images = [tf.image.resize(tf.io.decode_image(tf.io.read_file(p), channels=3, expand_animations=False), (32, 32)).numpy()
              for p in files]
    theirs = keras.models.load_model(model).predict(np.stack(images), verbose=0)
    ours = np.array([line["probabilities"] for line in lines], dtype=np.float32)
    diff = float(np.abs(theirs - ours).max()) if theirs.shape == ours.shape else float("inf")
    named = [line["top"][0]["name"] for line in lines] == [names[i] for i in theirs.argmax(axis=1)]
    check("mlp-predict on a Keras model (Rescaling inside, --class-names): Keras's probabilities and names",
          diff <= 1e-3 and named and "records no preprocessing" in out.stderr, f"largest difference {diff:.2e}")


def peak_memory(command):
    """Runs `command`; returns (exit status, standard error, its peak resident memory in MB).
    Linux keeps a process's peak across exec, so a child forked from this one counts this
    one's size too: run before TensorFlow is imported, while this process is small."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    error = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, error, usage.ru_maxrss / 1024


def check_huge_header(tmp):
    """A PNG whose header claims 100,000×100,000 pixels: one line, exit 1, under 100 MB."""
    huge = os.path.join(ROOT, "Fixtures", "images", "bad", "huge.png")
    model = os.path.join(tmp, "small.h5")
    run("mlp-train", "--data", os.path.join(ROOT, "Fixtures", "images", "folder"), "--image-size", "8,8", "-o", model, "--epochs", "1")
    status, error, megabytes = peak_memory([os.path.join(BIN, "mlp-predict"), model, huge])
    lines = error.strip().splitlines()
    check("a 100,000×100,000 PNG header: one line naming the file, exit 1, under 100 MB",
          status == 1 and len(lines) == 1 and huge in lines[0] and megabytes < 100, f"{megabytes:.0f} MB: {error.strip()}")


def main():
    rng = np.random.default_rng(29)
    with tempfile.TemporaryDirectory() as tmp:
        check_huge_header(tmp)
        for name, (builder, options) in KINDS.items():
            try:
                check_kind(tmp, name, builder, options, rng)
            except Exception as error:  # report every failure, then go on
                check(f"{name}", False, repr(error)[:400])
        try:
            check_predict(tmp, rng)
            check_keras_model(tmp)
        except Exception as error:
            check("mlp-predict", False, repr(error)[:400])
    sys.exit(summary())


if __name__ == "__main__":
    main()
