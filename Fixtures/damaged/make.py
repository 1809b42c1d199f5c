"""Model files damaged in ways that make libhdf5 itself loop or crash, and hostile `.keras`
zips, for the tests.

The fuzz suite found them: bit flips in a Keras 3 file's global heap (where variable-length
strings live) that send libhdf5 round in circles (heap-loop.h5) or to a bad pointer
(heap-crash.h5) when it reads an attribute. Both are the fuzz suite's mutants 48 and 100 of
Fixtures/keras/k3_mlp_adam.h5, seed 1.

The `.keras` files are Fixtures/keras/native/k3_bn_dropout_l2_adam.keras taken apart and
re-packed (see `keras_cases`): a member named with `..` or an absolute path, a member given
twice, members missing, a zip bomb, a header that lies about a size, a wrong CRC, a cut-off
archive, an unknown compression method, a config that is not JSON.

    python Fixtures/damaged/make.py
"""
import io, json, os, random, struct, sys, zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # Fixtures/
# The fuzz suite's byte mutations, shared with its runs.
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "Tests", "Harness"))
from fuzz import byte_mutants


def repack(members, compression=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, compress_type=compression)
    return out.getvalue()


def keras_cases():
    """Hostile variants of a good `.keras` file, by name, and the words the refusal must contain."""
    good = open(os.path.join(HERE, "keras", "native", "k3_bn_dropout_l2_adam.keras"), "rb").read()
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        members = [(name, z.read(name)) for name in z.namelist()]
    weights_at = good.index(b"\x89HDF")
    crc = bytearray(good)
    crc[weights_at + len(members[2][1]) // 2] ^= 0x40
    lying = bytearray(repack(members, zipfile.ZIP_DEFLATED))
    # The central directory's uncompressed size of the last member, set to 4 GB - 16.
    central = lying.rindex(b"PK\x01\x02")
    struct.pack_into("<I", lying, central + 24, 0xFFFFFFF0)
    cases = {
        "dotdot.keras": (repack(members + [("../evil.txt", b"x")]), "path outside the archive"),
        "absolute.keras": (repack(members + [("/tmp/evil.txt", b"x")]), "path outside the archive"),
        "duplicate.keras": (repack(members + [members[1]]), "appears twice"),
        "no-weights.keras": (repack(members[:2]), "has no model.weights.h5"),
        "no-config.keras": (repack([members[0], members[2]]), "has no config.json"),
        # 256 MB of zeros deflate to about 250 KB: within deflate's ratio, beyond what the
        # model's 570 weights can fill.
        "bomb.keras": (repack(members[:2] + [("model.weights.h5", bytes(256 << 20))], zipfile.ZIP_DEFLATED),
                       "more than the"),
        "lying-size.keras": (bytes(lying), "zip"),
        "crc.keras": (bytes(crc), "CRC"),
        "truncated.keras": (good[: len(good) * 3 // 5], "zip"),
        "bzip2.keras": (repack(members, zipfile.ZIP_BZIP2), "compression method 12"),
        "config-not-json.keras": (repack([members[0], ("config.json", b"{not json"), members[2]]), "config.json"),
    }
    return cases


def main():
    data = open(os.path.join(HERE, "keras", "k3_mlp_adam.h5"), "rb").read()
    mutants = byte_mutants(data, random.Random(1), 150)
    os.makedirs(os.path.join(HERE, "damaged"), exist_ok=True)
    for name, index in [("heap-loop.h5", 48), ("heap-crash.h5", 100)]:
        with open(os.path.join(HERE, "damaged", name), "wb") as f:
            f.write(mutants[index])
    expected = {}
    for name, (data, words) in keras_cases().items():
        with open(os.path.join(HERE, "damaged", name), "wb") as f:
            f.write(data)
        expected[name] = words
    with open(os.path.join(HERE, "damaged", "keras-cases.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
