"""A small folder of photos in image_dataset_from_directory's layout, for the README's example
and the data check: flowers/train/{daisy,rose,tulip} and flowers/test/..., PNG and JPEG files
of three sizes, each class its own colour under noise.

    pip install numpy pillow
    python Tools/photo_folder.py OUT_FOLDER [--seed 0]     (writes OUT_FOLDER/flowers and new-photo.jpg)
"""
import argparse, os, sys
try:
    import numpy as np
    from PIL import Image
except ImportError as missing:
    sys.exit(f"photo_folder.py: needs numpy and Pillow ({missing.name} is missing): pip install numpy pillow")

CLASSES = ["daisy", "rose", "tulip"]
COLOURS = np.array([[60, 120, 200], [200, 60, 90], [230, 200, 40]])
SIZES = [(20, 16), (31, 25), (16, 12)]


def write_photo(path, pixels, quality=90):
    image = Image.fromarray(pixels)
    if path.lower().endswith((".jpg", ".jpeg")):
        image.save(path, quality=quality)
    else:
        image.save(path)


def photo(rng, label, size, noise=35):
    height, width = size
    return np.clip(COLOURS[label] + rng.normal(0, noise, (height, width, 3)), 0, 255).astype(np.uint8)


def write(root, per_train=30, per_test=8, rng=None):
    """Writes the folder at `root`; returns the class names."""
    rng = rng if rng is not None else np.random.default_rng(0)
    for split, count in (("train", per_train), ("test", per_test)):
        for index, name in enumerate(CLASSES):
            os.makedirs(os.path.join(root, split, name), exist_ok=True)
            for k in range(count):
                write_photo(os.path.join(root, split, name, f"{name}_{k:02d}.{'jpg' if k % 2 else 'png'}"),
                            photo(rng, index, SIZES[k % 3]))
    return CLASSES


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    write(os.path.join(args.out, "flowers"), rng=rng)
    write_photo(os.path.join(args.out, "new-photo.jpg"), photo(rng, 1, (48, 40)), quality=85)


if __name__ == "__main__":
    main()
