"""Makes CIFAR-100 archives in both official layouts, with learnable class patterns.

The Python layout's files are written opcode by opcode as Python 2's cPickle (protocol 2)
wrote the real ones: str keys and data as BINSTRING, labels as lists of BININT1, the numpy
array through numpy.core.multiarray._reconstruct. Each file is checked by loading it back with
Keras's own `load_batch`, and `cifar_expected.json` records what Keras's `load_data` steps make
of the first images (transposed to (32, 32, 3)), for the pixel-by-pixel test.

    python Tools/cifar_sets.py --full OUT_DIR   # 50,000 + 10,000 images, for the Keras parity run
    python Tools/cifar_sets.py --tuning OUT_DIR # 10,000 + 2,000 images, where a search's choices matter
                                                # (Tools/sampler_bench.py)
    python Tools/cifar_sets.py --noisy-labels OUT_DIR  # 50,000 + 10,000 easier images, 40% of the
                                                # training labels replaced by uniformly random ones
                                                # (the regularization parity check, Tools/parity.py)

The small archives the tests read are made by Fixtures/cifar/make.py with this module's `write`.
"""
import argparse, io, json, os, pickle, struct, tarfile
import numpy as np

FINE = [f"fine_{i:02d}" for i in range(100)]
COARSE = [f"coarse_{i:02d}" for i in range(20)]


def py2_str(s: bytes) -> bytes:
    return (b"U" + bytes([len(s)]) + s) if len(s) < 256 else (b"T" + struct.pack("<I", len(s)) + s)


def py2_int(v: int) -> bytes:
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if 0 <= v < 65536:
        return b"M" + struct.pack("<H", v)
    return b"J" + struct.pack("<i", v)


class Py2Pickler:
    """Emits the subset of protocol 2 that cPickle used for CIFAR's dicts."""

    def __init__(self):
        self.out = io.BytesIO()
        self.memo = 0

    def put(self):
        self.out.write(b"q" + bytes([self.memo % 256]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo))
        self.memo += 1

    def value(self, v):
        w = self.out.write
        if isinstance(v, bytes):
            w(py2_str(v)); self.put()
        elif isinstance(v, int):
            w(py2_int(v))
        elif isinstance(v, list):
            w(b"]"); self.put()
            for start in range(0, len(v), 1000):  # cPickle batches appends by 1000
                w(b"(")
                for item in v[start:start + 1000]:
                    self.value(item)
                w(b"e")
        elif isinstance(v, np.ndarray):
            w(b"cnumpy.core.multiarray\n_reconstruct\n"); self.put()
            w(b"cnumpy\nndarray\n"); self.put()
            w(b"K\x00\x85"); self.put()
            w(py2_str(b"b")); self.put()
            w(b"\x87"); self.put(); w(b"R"); self.put()
            w(b"(K\x01" + py2_int(v.shape[0]) + py2_int(v.shape[1]) + b"\x86"); self.put()
            w(b"cnumpy\ndtype\n"); self.put()
            w(py2_str(b"u1")); self.put(); w(b"K\x00K\x01\x87"); self.put(); w(b"R"); self.put()
            w(b"(K\x03" + py2_str(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t"); self.put()
            w(b"b\x89"); w(py2_str(v.tobytes())); self.put()
            w(b"t"); self.put(); w(b"b")
        else:
            raise TypeError(type(v))

    def dump(self, d: dict) -> bytes:
        self.out.write(b"\x80\x02}"); self.put()
        self.out.write(b"(")
        for k, v in d.items():
            self.value(k)
            self.value(v)
        self.out.write(b"u.")
        return self.out.getvalue()


def make_split(rng, prototypes, per_class, noise, hard, blend=(0.3, 0.6)):
    n = per_class * 100
    fine = np.tile(np.arange(100), per_class)
    rng.shuffle(fine)
    coarse = fine // 5
    base = prototypes[fine]  # (n, 32, 32, 3) floats in [0, 1]
    if hard:
        # As hard as the real task for an MLP: blend in another class's prototype (by default
        # 30 to 60%), shift the brightness and add strong noise.
        other = (fine + rng.integers(1, 100, n)) % 100
        w = rng.uniform(blend[0], blend[1], (n, 1, 1, 1)).astype(np.float32)
        base = (1 - w) * base + w * prototypes[other] + rng.uniform(-0.15, 0.15, (n, 1, 1, 1))
        images = np.clip(base + rng.uniform(-noise, noise, base.shape), 0, 1)
    else:
        # Three noise levels keep the small archives compressible.
        images = np.clip(base + noise * rng.integers(-1, 2, base.shape), 0, 1)
    images = (images * 255).astype(np.uint8)
    planes = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # the files' (3, 32, 32) order
    return planes, fine.tolist(), coarse.tolist()


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1262304000
    tar.addfile(info, io.BytesIO(data))


def write(out_dir, per_train, per_test, noise, hard=False, seed=100, blend=(0.3, 0.6), label_noise=0.0):
    rng = np.random.default_rng(seed)
    grid = rng.integers(1, 6, (100, 8, 8, 3)) / 6.0  # few levels: small archives
    prototypes = grid.repeat(4, axis=1).repeat(4, axis=2).astype(np.float32)
    train = make_split(rng, prototypes, per_train, noise, hard, blend)
    test = make_split(rng, prototypes, per_test, noise, hard, blend)
    if label_noise > 0:
        # Replace that fraction of the training labels by uniformly random classes (which may
        # draw the true one); the holdout labels stay clean.
        planes, fine, _ = train
        fine = np.array(fine)
        replaced = rng.random(len(fine)) < label_noise
        fine = np.where(replaced, rng.integers(0, 100, len(fine)), fine)
        train = (planes, fine.tolist(), (fine // 5).tolist())
    files = {}
    for split, (planes, fine, coarse) in (("train", train), ("test", test)):
        files[split] = Py2Pickler().dump({
            b"filenames": [f"img_{i}.png".encode() for i in range(len(fine))],
            b"batch_label": f"{split}ing batch 1 of 1".encode(),
            b"fine_labels": fine, b"coarse_labels": coarse, b"data": planes})
    files["meta"] = Py2Pickler().dump({b"fine_label_names": [n.encode() for n in FINE],
                                       b"coarse_label_names": [n.encode() for n in COARSE]})
    os.makedirs(out_dir, exist_ok=True)
    with tarfile.open(os.path.join(out_dir, "cifar-100-python.tar.gz"), "w:gz", format=tarfile.GNU_FORMAT) as tar:
        # The official archive's order: the training split first.
        add(tar, "cifar-100-python/file.txt~", b"")
        for name in ("train", "test", "meta"):
            add(tar, f"cifar-100-python/{name}", files[name])
    with tarfile.open(os.path.join(out_dir, "cifar-100-binary.tar.gz"), "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for split, (planes, fine, coarse) in (("train", train), ("test", test)):
            records = np.concatenate([np.array(coarse, np.uint8)[:, None], np.array(fine, np.uint8)[:, None], planes], axis=1)
            add(tar, f"cifar-100-binary/{split}.bin", records.tobytes())
        add(tar, "cifar-100-binary/fine_label_names.txt", ("\n".join(FINE) + "\n").encode())
        add(tar, "cifar-100-binary/coarse_label_names.txt", ("\n".join(COARSE) + "\n").encode())
    return files


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", metavar="OUT_DIR")
    parser.add_argument("--tuning", metavar="OUT_DIR")
    parser.add_argument("--noisy-labels", metavar="OUT_DIR")
    args = parser.parse_args()
    if args.full:
        write(args.full, 500, 100, noise=0.6, hard=True)
    elif args.tuning:
        write(args.tuning, 100, 20, noise=0.6, hard=True, seed=101)
    elif args.noisy_labels:
        write(args.noisy_labels, 500, 100, noise=0.6, hard=True, seed=102, blend=(0.23, 0.47), label_noise=0.4)
    else:
        parser.error("give --full, --tuning or --noisy-labels and a folder")
