"""Keras's other small datasets in their official layouts, tiny, for
Tests/MLPKitTests/Datasets/KerasDatasetsTests: `cifar-10-python.tar.gz` (five training batches
of two images, a test batch of three, `batches.meta`, pickled as the real ones) and a
`fashion-mnist/` folder of the four gzipped IDX files. expected.json records what Keras's own
readers make of them (`keras.src.datasets.cifar.load_batch`, channels last; Keras's IDX reads).

Run with the versions in Tests/requirements.txt:  python Fixtures/datasets/make.py
"""
import gzip, importlib.util, io, json, os, struct, tarfile, tempfile
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "cifar_sets", os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tools", "cifar_sets.py"))
cifar_sets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cifar_sets)
NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def cifar10(rng):
    members = {}
    for name, count in [(f"data_batch_{i}", 2) for i in range(1, 6)] + [("test_batch", 3)]:
        members[name] = cifar_sets.Py2Pickler().dump({
            b"batch_label": name.encode(), b"labels": rng.integers(0, 10, count).tolist(),
            b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8), b"filenames": [f"{name}_{i}.png".encode() for i in range(count)]})
    members["batches.meta"] = cifar_sets.Py2Pickler().dump({b"num_cases_per_batch": 2, b"label_names": [n.encode() for n in NAMES],
                                                            b"num_vis": 3072})
    path = os.path.join(HERE, "cifar-10-python.tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name in ["batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
            cifar_sets.add(tar, f"cifar-10-batches-py/{name}", members[name])
    # Keras's own steps (keras.datasets.cifar10.load_data without its download).
    from keras.src.datasets.cifar import load_batch
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in members.items():
            open(os.path.join(tmp, name), "wb").write(data)
        xs, ys = zip(*[load_batch(os.path.join(tmp, f"data_batch_{i}")) for i in range(1, 6)])
        x_train, y_train = np.concatenate(xs).transpose(0, 2, 3, 1), np.concatenate(ys)
        x_test, y_test = load_batch(os.path.join(tmp, "test_batch"))
        x_test = x_test.transpose(0, 2, 3, 1)
    return {"train": {"shape": list(x_train.shape), "labels": np.asarray(y_train).reshape(-1).tolist(), "pixels": x_train.reshape(-1).tolist()},
            "test": {"shape": list(x_test.shape), "labels": np.asarray(y_test).reshape(-1).tolist(), "pixels": x_test.reshape(-1).tolist()},
            "class_names": NAMES}


def fashion(rng):
    folder = os.path.join(HERE, "fashion-mnist")
    os.makedirs(folder, exist_ok=True)
    out = {}
    for split, prefix, count in [("train", "train", 6), ("test", "t10k", 3)]:
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        with gzip.GzipFile(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), "wb", mtime=0) as f:
            f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, count, 28, 28) + images.tobytes())
        with gzip.GzipFile(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), "wb", mtime=0) as f:
            f.write(struct.pack(">BBBBI", 0, 0, 8, 1, count) + labels.tobytes())
        # Keras's reads: np.frombuffer past the 16- and 8-byte headers.
        with gzip.open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), "rb") as f:
            y = np.frombuffer(f.read(), np.uint8, offset=8)
        with gzip.open(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), "rb") as f:
            x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(y), 28, 28)
        out[split] = {"shape": list(x.shape), "labels": y.tolist(), "pixels": x.reshape(-1).tolist()}
    return out


def main():
    rng = np.random.default_rng(11)
    expected = {"cifar10": cifar10(rng), "fashion_mnist": fashion(rng)}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
