"""Model files damaged in ways that make libhdf5 itself loop or crash, for the tests.

The fuzz suite found them: bit flips in a Keras 3 file's global heap (where variable-length
strings live) that send libhdf5 round in circles (heap-loop.h5) or to a bad pointer
(heap-crash.h5) when it reads an attribute. Both are the fuzz suite's mutants 48 and 100 of
Fixtures/keras/k3_mlp_adam.h5, seed 1.

    python make_damaged.py
"""
import os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fuzz import byte_mutants


def main():
    data = open(os.path.join(HERE, "keras", "k3_mlp_adam.h5"), "rb").read()
    mutants = byte_mutants(data, random.Random(1), 150)
    os.makedirs(os.path.join(HERE, "damaged"), exist_ok=True)
    for name, index in [("heap-loop.h5", 48), ("heap-crash.h5", 100)]:
        with open(os.path.join(HERE, "damaged", name), "wb") as f:
            f.write(mutants[index])


if __name__ == "__main__":
    main()
