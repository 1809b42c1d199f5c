"""Makes the small CIFAR-100 archives the tests read (Fixtures/cifar/, committed), in both
official layouts, through Tools/cifar_sets.py's writer, and records in cifar_expected.json what
Keras's own `load_data` steps make of them (the first images, transposed to (32, 32, 3)), for the
pixel-by-pixel test.

Run with the versions in Tests/requirements.txt:  python Fixtures/cifar/make.py
"""
import importlib.util, json, os, pickle
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "cifar_sets", os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tools", "cifar_sets.py"))
cifar_sets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cifar_sets)


def check_with_keras(files, out_dir):
    """Loads each pickle as Keras does and records Keras's view of the first images."""
    import tempfile
    from keras.src.datasets.cifar import load_batch
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("train", "test", "meta"):
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(files[name])
        expected = {}
        for split in ("train", "test"):
            x, y = load_batch(os.path.join(tmp, split), label_key="fine_labels")
            _, yc = load_batch(os.path.join(tmp, split), label_key="coarse_labels")
            x = x.transpose(0, 2, 3, 1)  # as cifar100.load_data(): channels last
            flat = x.reshape(len(x), 3072).astype("float32") / 255  # the notebook's preprocessing
            expected[split] = {"count": len(x), "fine_labels": [int(v) for v in y[:10]],
                               "coarse_labels": [int(v) for v in yc[:10]],
                               "first_images_hwc": [x[i].ravel().tolist() for i in range(2)],
                               "first_vector_sum": float(flat[0].astype("float64").sum())}
        with open(os.path.join(tmp, "meta"), "rb") as f:
            meta = pickle.load(f, encoding="bytes")
        expected["fine_label_names"] = [n.decode() for n in meta[b"fine_label_names"]]
    with open(os.path.join(out_dir, "cifar_expected.json"), "w") as f:
        json.dump(expected, f)



if __name__ == "__main__":
    check_with_keras(cifar_sets.write(HERE, 3, 1, noise=0.1), HERE)
