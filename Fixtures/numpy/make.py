"""Small .npz archives as np.savez writes them, for Tests/MLPKitTests/Datasets/NumPyArchiveTests:
images (uint8, (n, 8, 8)) with labels of shape (n, 1) and (n,), float64 features, and three that
np.load refuses or that are not a dataset (an object array, a negative label, more samples than
labels). expected.json records what numpy reads of the good ones.

Run with the versions in Tests/requirements.txt:  python Fixtures/numpy/make.py
"""
import json, os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = np.random.default_rng(7)
    images = dict(x_train=rng.integers(0, 256, (12, 8, 8), dtype=np.uint8), y_train=rng.integers(0, 3, (12, 1)),
                  x_test=rng.integers(0, 256, (4, 8, 8), dtype=np.uint8), y_test=rng.integers(0, 3, 4))
    features = dict(x_train=rng.normal(size=(6, 5)), y_train=rng.integers(0, 2, 6),
                    x_test=rng.normal(size=(2, 5)).astype("float32"), y_test=rng.integers(0, 2, 2))
    np.savez(os.path.join(HERE, "images.npz"), **images)
    np.savez(os.path.join(HERE, "features.npz"), **features)
    np.savez(os.path.join(HERE, "object.npz"), x_train=np.array([1, "a"], dtype=object), y_train=np.array([0, 1]),
             x_test=np.array([1]), y_test=np.array([0]))
    np.savez(os.path.join(HERE, "negative.npz"), x_train=np.zeros((2, 4), np.uint8), y_train=np.array([0, -1]),
             x_test=np.zeros((1, 4), np.uint8), y_test=np.array([0]))
    np.savez(os.path.join(HERE, "mismatched.npz"), x_train=np.zeros((3, 4), np.uint8), y_train=np.array([0, 1]),
             x_test=np.zeros((1, 4), np.uint8), y_test=np.array([0]))
    expected = {}
    for name in ("images", "features"):
        with np.load(os.path.join(HERE, name + ".npz"), allow_pickle=False) as f:
            expected[name] = {split: {"shape": list(f["x_" + split].shape), "labels": f["y_" + split].reshape(-1).tolist(),
                                      # float32 values as the toolchain keeps them, as their repr strings
                                      "first": [repr(float(v)) for v in f["x_" + split].reshape(len(f["x_" + split]), -1)[0].astype("float32")],
                                      "sum": repr(float(f["x_" + split].astype("float64").sum()))}
                              for split in ("train", "test")}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
