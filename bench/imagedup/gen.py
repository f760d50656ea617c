"""Generates the image near-duplicate benchmark corpus.

    python gen.py OUT_DIR N_IMAGES SEED

Writes OUT_DIR/images/img_NNNNN.{jpg,png} and OUT_DIR/truth.csv (file,group; group -1 for a distinct image).
About 40% of the images are in near-duplicate groups of 4: an original 320x240 JPEG scene and three of
{resized to 55-80% (PNG), recompressed at JPEG quality 25-45, brightness x1.1-1.25 plus 10-25, cropped by 2-5% per
side}; the rest are distinct scenes. File names are shuffled so a group's members are not adjacent.
Needs numpy and Pillow (both come with imagededup).
"""
import csv
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw

W, H = 320, 240


def scene(rng):
    c0 = np.array([rng.uniform(0, 255) for _ in range(3)])
    c1 = np.array([rng.uniform(0, 255) for _ in range(3)])
    a = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:H, 0:W]
    t = np.clip(0.5 + ((xx / W - 0.5) * np.cos(a) + (yy / H - 0.5) * np.sin(a)), 0, 1)[..., None]
    img = Image.fromarray((c0 * (1 - t) + c1 * t).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(6, 12)):
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        rx, ry = rng.uniform(0.04, 0.25) * W, rng.uniform(0.04, 0.25) * H
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        box = [x - rx, y - ry, x + rx, y + ry]
        (d.ellipse if rng.random() < 0.5 else d.rectangle)(box, fill=colour)
    arr = np.asarray(img).astype(np.int16)
    noise = np.random.default_rng(rng.randint(0, 2**31)).integers(-6, 7, size=(H, W, 1))
    return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8), "RGB")


def variant(img, kind, rng):
    if kind == "resized":
        s = rng.uniform(0.55, 0.8)
        return img.resize((int(W * s), int(H * s)), Image.LANCZOS), "png", None
    if kind == "recompressed":
        return img, "jpg", rng.randint(25, 45)
    if kind == "brighter":
        f, o = rng.uniform(1.1, 1.25), rng.uniform(10, 25)
        arr = np.clip(np.asarray(img).astype(np.float32) * f + o, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "RGB"), "jpg", 85
    fx, fy = rng.uniform(0.02, 0.05), rng.uniform(0.02, 0.05)
    return img.crop((int(W * fx), int(H * fy), int(W * (1 - fx)), int(H * (1 - fy)))), "jpg", 90


def main():
    out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    os.makedirs(out + "/images", exist_ok=True)
    groups = int(n * 0.4) // 4
    singles = n - groups * 4
    total = groups * 4 + singles
    slots = list(range(total))
    rng.shuffle(slots)  # item k is written as img_<slots[k]>: a group's members are not adjacent
    rows = []

    def save(k, g, img, ext, q):
        name = "img_%05d.%s" % (slots[k], ext)
        if ext == "png":
            img.save(out + "/images/" + name, "PNG", compress_level=6)
        else:
            img.save(out + "/images/" + name, "JPEG", quality=q)
        rows.append((name, g))

    k = 0
    for g in range(groups):
        base = scene(rng)
        save(k, g, base, "jpg", 90)
        k += 1
        for kind in rng.sample(["resized", "recompressed", "brighter", "cropped"], 3):
            img, ext, q = variant(base, kind, rng)
            save(k, g, img, ext, q)
            k += 1
    for _ in range(singles):
        save(k, -1, scene(rng), "jpg", 90)
        k += 1
    rows.sort()
    with open(out + "/truth.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "group"])
        w.writerows(rows)
    print("generated %d images: %d groups of 4, %d distinct" % (total, groups, singles), file=sys.stderr)


if __name__ == "__main__":
    main()
