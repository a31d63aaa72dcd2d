#!/usr/bin/env python3
"""Turns the unpacked packages of fetch-datasets.sh into aec's train/ and eval/ folders.

Rules (../shared/datasets/README.md): PNG, RGB; lossy originals (JPEG, WebP) area-downscaled
at least 2x to remove their artefacts; short side at most 768 px. Evaluation pictures are kept
as the packages ship them (palapeli puzzles centre-cropped to 768x512).
"""
import bz2
import io
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image

RAW, OUT = Path(sys.argv[1]), Path(sys.argv[2])
LOSSY = {".jpg", ".jpeg", ".webp"}


def normalized(img, lossy):
    img = img.convert("RGB")
    factor = max(2.0 if lossy else 1.0, min(img.size) / 768)
    if factor > 1:
        size = (max(1, round(img.width / factor)), max(1, round(img.height / factor)))
        img = img.resize(size, Image.Resampling.BOX)
    return img


def save_train(name, data_or_path, suffix):
    img = Image.open(io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path)
    normalized(img, suffix.lower() in LOSSY).save(OUT / "train" / f"{name}.png")


def rcc_files(path):
    """(name, bytes) of every file in a Qt binary resource (.rcc), decompressing zlib entries."""
    data = path.read_bytes()
    assert data[:4] == b"qres", path
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    entry = 22 if version >= 2 else 14

    def name_at(off):
        length = struct.unpack(">H", data[names + off:names + off + 2])[0]
        return data[names + off + 6:names + off + 6 + 2 * length].decode("utf-16-be")

    def walk(node, prefix):
        base = tree + node * entry
        name_off, flags = struct.unpack(">IH", data[base:base + 6])
        name = name_at(name_off) if node else ""
        if flags & 2:  # directory
            count, first = struct.unpack(">II", data[base + 6:base + 14])
            for child in range(first, first + count):
                yield from walk(child, f"{prefix}{name}/")
        else:
            offset = struct.unpack(">I", data[base + 10:base + 14])[0]
            size = struct.unpack(">I", data[payload + offset:payload + offset + 4])[0]
            blob = data[payload + offset + 4:payload + offset + 4 + size]
            if flags & 1:
                blob = zlib.decompress(blob[4:])
            yield prefix + name, blob

    yield from walk(0, "")


# Training pictures.
for p in sorted((RAW / "usr/share/backgrounds/mate").rglob("*")):
    if p.suffix.lower() in {".jpg", ".png"}:
        save_train(f"mate_{p.stem.lower()}", p, p.suffix)
for p in sorted((RAW / "usr/share/wallpapers").rglob("*")):
    if p.suffix.lower() in {".jpg", ".png"} and "contents/images" in str(p) and p.stem.startswith(("1920", "2560", "3840", "5120")):
        save_train(f"plasma_{p.parts[-4].lower()}", p, p.suffix)
for rcc in sorted((RAW / "usr/share/gcompris-qt").rglob("*.rcc")):
    if rcc.stem not in {"erase", "explore_monuments", "explore_world_animals", "explore_farm_animals", "explore_world_music"}:
        continue
    pictures = [(n, b) for n, b in rcc_files(rcc) if n.lower().endswith(".webp")]
    for i, (name, blob) in enumerate(sorted(pictures)):
        save_train(f"gcompris_{rcc.stem}_{i:03d}", blob, ".webp")
for p in (RAW / "usr/share/palapeli").rglob("*.jpg"):
    if p.stem in {"castle-maintenon", "panther-chameleon-female"}:
        save_train(f"palapeli_{p.stem}", p, ".jpg")
for p in RAW.rglob("flower/flower.png"):
    save_train("libjxl_flower", p, ".png")
skdata = RAW / "skimage/data"
for stem in ["hubble_deep_field", "motorcycle_left", "motorcycle_right", "retina"]:
    for p in skdata.glob(f"{stem}.*"):
        save_train(f"skimage_{stem}", p, p.suffix)

# Evaluation pictures.
for stem in ["kodim23", "monarch", "sail", "tulips", "barbara"]:
    Image.open(RAW / f"sporco/data/{stem}.png").convert("RGB").save(OUT / "eval" / f"sporco_{stem}.png")
for stem in ["astronaut", "coffee", "chelsea", "rocket"]:
    Image.open(next(skdata.glob(f"{stem}.*"))).convert("RGB").save(OUT / "eval" / f"skimage_{stem}.png")
Image.open(skdata / "camera.png").convert("L").save(OUT / "eval" / "skimage_camera.png")
face = next(RAW.rglob("scipy/misc/face.dat"))
raw = bz2.decompress(face.read_bytes()) if face.read_bytes()[:3] == b"BZh" else face.read_bytes()
Image.frombytes("RGB", (1024, 768), bytes(raw)).save(OUT / "eval" / "scipy_face.png")
for p in RAW.rglob("*_srgb8.png"):
    if "wesaturate" in str(p) and "500px" in str(p):
        Image.open(p).convert("RGB").save(OUT / "eval" / f"wesaturate_{p.stem}.png")
for stem in ["cincinnati-bridge", "citrus-fruits", "european-honey-bee"]:
    for p in (RAW / "usr/share/palapeli").rglob(f"{stem}.jpg"):
        img = normalized(Image.open(p), True)
        left, top = (img.width - 768) // 2, (img.height - 512) // 2
        img.crop((left, top, left + 768, top + 512)).save(OUT / "eval" / f"palapeli_{stem}.png")

# Keep exactly the pictures of aec's data set (scripts/datasets.sha256 lists them with the
# SHA-256 of ../shared's copies), and say how many are byte-identical to those.
import hashlib
listed = {}
for line in (Path(__file__).parent / "datasets.sha256").read_text().splitlines():
    digest, name = line.split(maxsplit=1)
    listed[name] = digest
same = missing = 0
for folder in ["train", "eval"]:
    for p in sorted((OUT / folder).glob("*.png")):
        key = f"{folder}/{p.name}"
        if key not in listed:
            p.unlink()
        elif hashlib.sha256(p.read_bytes()).hexdigest() == listed[key]:
            same += 1
    missing += sum(1 for k in listed if k.startswith(folder + "/") and not (OUT / k).exists())
print(f"{same} pictures byte-identical to ../shared/datasets, {missing} listed pictures missing")
