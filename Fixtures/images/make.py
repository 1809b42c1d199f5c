"""Images in every form the image decoder takes, and what TensorFlow makes of them, for
Tests/MLPKitTests/Datasets/ImageFileTests and ImageFolderTests.

decode/: PNGs (RGB, RGBA, palette with transparency, grey, 16-bit, 1-bit, interlaced), JPEGs
(4:2:0 baseline, progressive, grey), a BMP and a two-frame GIF, each 13×11 or so.
bad/: files the decoder refuses (truncated, corrupt, empty, text, a header claiming
100,000×100,000 pixels).
folder/: an image_dataset_from_directory layout, train/ and test/ with three classes, mixed
formats and sizes, and files Keras skips.
expected.json: per decode/ file, tf.io.decode_image's bytes (channels 3 and 1) as SHA-256 and
shape, and tf.image.resize to 5×7 of the RGB decode as float32 lists; per folder split, the
class names, file order and labels image_dataset_from_directory gives (shuffle=False, and the
order shuffle=True, seed=0 gives).

Run with the versions in Tests/requirements.txt:  python Fixtures/images/make.py
"""
import hashlib, io, json, os, shutil, struct, zlib
import numpy as np
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))


def noise(rng, height, width, channels):
    """A smooth gradient plus noise: JPEG-compressible, not flat."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 / max(width - 1, 1)), (y * 255 / max(height - 1, 1)), ((x + y) * 127 / (width + height))], -1)
    image = base[..., :channels] + rng.normal(0, 30, (height, width, channels))
    return np.clip(image, 0, 255).astype(np.uint8)


def png_with_header(width, height):
    """A PNG signature and IHDR chunk claiming `width`×`height` RGB pixels, then a few bytes of
    image data (one short row) and an IEND."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(bytes(16))) + chunk(b"IEND", b"")


def write_decode_set(rng):
    folder = os.path.join(HERE, "decode")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    rgb = noise(rng, 11, 13, 3)
    Image.fromarray(rgb).save(os.path.join(folder, "rgb.png"))
    rgba = np.concatenate([rgb, rng.integers(0, 256, (11, 13, 1), dtype=np.uint8)], -1)
    Image.fromarray(rgba, "RGBA").save(os.path.join(folder, "rgba.png"))
    palette = Image.fromarray(rgb).quantize(colors=16)
    palette.info["transparency"] = 3
    palette.save(os.path.join(folder, "palette.png"), transparency=3)
    Image.fromarray(rgb[..., 0]).save(os.path.join(folder, "gray.png"))
    # 16-bit samples whose low bytes differ from their high bytes: cutting to 8 bits keeps the high ones.
    tf.io.write_file(os.path.join(folder, "gray16.png"), tf.io.encode_png(tf.constant(rgb[..., 1:2].astype(np.uint16) * 256 + 5)))
    tf.io.write_file(os.path.join(folder, "rgb16.png"), tf.io.encode_png(tf.constant(rgb.astype(np.uint16) * 256 + 99)))
    Image.fromarray(rgb[..., 2] > 128).save(os.path.join(folder, "bits.png"))
    Image.fromarray(rgb).save(os.path.join(folder, "interlaced.png"), interlace=1)
    photo = noise(rng, 17, 23, 3)
    Image.fromarray(photo).save(os.path.join(folder, "photo.jpg"), quality=85, subsampling=2)
    Image.fromarray(photo).save(os.path.join(folder, "progressive.jpeg"), quality=80, progressive=True)
    Image.fromarray(photo[..., 1]).save(os.path.join(folder, "gray.jpg"), quality=90)
    Image.fromarray(rgb).save(os.path.join(folder, "picture.bmp"))
    frames = [Image.fromarray(noise(rng, 9, 10, 3)).quantize(colors=32) for _ in range(2)]
    frames[0].save(os.path.join(folder, "animation.gif"), save_all=True, append_images=frames[1:], duration=100, loop=0)
    return folder


def write_bad_set():
    folder = os.path.join(HERE, "bad")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    good_png = open(os.path.join(HERE, "decode", "rgb.png"), "rb").read()
    good_jpg = open(os.path.join(HERE, "decode", "photo.jpg"), "rb").read()
    files = {
        "truncated.png": good_png[: len(good_png) // 2],
        "truncated.jpg": good_jpg[: len(good_jpg) // 2],
        "corrupt.png": good_png[:60] + bytes(b ^ 0x5A for b in good_png[60:120]) + good_png[120:],
        "corrupt.jpg": good_jpg[:2] + b"\xff\xc0\x00\x02" + good_jpg[2:40],
        "empty.png": b"",
        "text.png": b"This is not an image, only text with a .png name.\n",
        "huge.png": png_with_header(100_000, 100_000),
    }
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def write_folder(rng):
    root = os.path.join(HERE, "folder")
    shutil.rmtree(root, ignore_errors=True)
    classes = ["apple", "Banana", "cherry"]
    for split, count in (("train", 4), ("test", 2)):
        for index, name in enumerate(classes):
            folder = os.path.join(root, split, name)
            os.makedirs(os.path.join(folder, "more"))
            for k in range(count):
                size = (8, 8) if k % 2 == 0 else (10, 12)
                image = Image.fromarray(noise(rng, size[0], size[1], 3))
                kind = ("png", "jpg", "bmp", "gif")[(k + index) % 4]
                target = os.path.join(folder, "more" if k == 1 else "", f"img_{k}.{kind.upper() if k == 3 else kind}")
                image.save(target, format={"jpg": "JPEG"}.get(kind, kind.upper()), **({"quality": 90} if kind == "jpg" else {}))
            with open(os.path.join(folder, "notes.txt"), "w") as f:
                f.write("skipped: not an image extension\n")
    os.makedirs(os.path.join(root, "train", ".hidden"))
    Image.fromarray(noise(rng, 8, 8, 3)).save(os.path.join(root, "train", ".hidden", "img_0.png"))
    return root


def decode_expectations(folder):
    expected = {}
    for name in sorted(os.listdir(folder)):
        data = tf.io.read_file(os.path.join(folder, name))
        entry = {}
        for channels in (3, 1):
            try:
                image = tf.io.decode_image(data, channels=channels, expand_animations=False).numpy()
            except Exception as error:  # TensorFlow refuses, e.g. a grey GIF
                entry[f"channels{channels}"] = {"error": type(error).__name__}
                continue
            entry[f"channels{channels}"] = {"shape": list(image.shape), "sha256": hashlib.sha256(image.tobytes()).hexdigest()}
            if channels == 3:
                resized = tf.image.resize(image, (5, 7)).numpy()
                entry["resized_5x7"] = [float(v) for v in resized.reshape(-1)]
                entry["first_pixels"] = image.reshape(-1)[:12].tolist()
        expected[name] = entry
    return expected


def folder_expectations(root):
    import keras
    result = {}
    for split in ("train", "test"):
        dataset = keras.utils.image_dataset_from_directory(
            os.path.join(root, split), image_size=(6, 5), shuffle=False, batch_size=None, verbose=False)
        images, labels = [], []
        for image, label in dataset:
            images.append(image.numpy())
            labels.append(int(label))
        relative = [os.path.relpath(p, os.path.join(root, split)) for p in dataset.file_paths]
        result[split] = {"class_names": dataset.class_names, "files": relative, "labels": labels,
                         "resized_6x5_sum": float(np.sum(np.stack(images).astype(np.float64))),
                         "first_image": [float(v) for v in images[0].reshape(-1)]}
        # The order shuffle=True, seed=0 gives the files (the index Keras shuffles with
        # np.random.RandomState(0)), and the first of them as resized above.
        shuffled = keras.utils.image_dataset_from_directory(
            os.path.join(root, split), image_size=(6, 5), shuffle=True, seed=0, batch_size=None, verbose=False)
        shuffled_files = [os.path.relpath(p, os.path.join(root, split)) for p in shuffled.file_paths]
        result[split]["shuffled_seed0"] = {
            "files": shuffled_files, "labels": [labels[relative.index(f)] for f in shuffled_files],
            "first_image": [float(v) for v in images[relative.index(shuffled_files[0])].reshape(-1)]}
    return result


def main():
    rng = np.random.default_rng(11)
    decode = write_decode_set(rng)
    write_bad_set()
    root = write_folder(rng)
    expected = {"decode": decode_expectations(decode), "folder": folder_expectations(root)}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
