#!/usr/bin/env bash
# Time and peak memory of `aec compress` and `aec decompress` at three picture sizes (768x512,
# 3000x2000, 6000x4000), whole process, with GNU time. The large pictures are eval photos laid
# side by side at their own resolution (examples/big_picture.rs). Prints a Markdown table.
#
#   scripts/bench-scale.sh [EVAL_DIR]      (default ../shared/datasets/eval)
set -euo pipefail
cd "$(dirname "$0")/.."
eval_dir=${1:-../shared/datasets/eval}
if [ ! -x /usr/bin/time ]; then
    echo "GNU time (/usr/bin/time) is missing: apt-get install time" >&2
    exit 1
fi
cargo build --release --quiet --bin aec --example big_picture
aec=target/release/aec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
photos=$(ls "$eval_dir"/*.png | head -12)
echo "| picture | megapixels | compress s | compress peak MB | decompress s | decompress peak MB | bpp | PSNR dB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for size in 768x512 3000x2000 6000x4000; do
    w=${size%x*} h=${size#*x}
    # shellcheck disable=SC2086
    target/release/examples/big_picture "$work/$size.png" "$w" "$h" $photos
    pixels=$((w * h))
    /usr/bin/time -f "%e %M" -o "$work/c.time" "$aec" compress "$work/$size.png" -o "$work/$size.aec" --max-pixels "$pixels" 2>/dev/null
    /usr/bin/time -f "%e %M" -o "$work/d.time" "$aec" decompress "$work/$size.aec" -o "$work/$size-back.png" --max-pixels "$pixels" 2>/dev/null
    read -r cs ckb < "$work/c.time"
    read -r ds dkb < "$work/d.time"
    bytes=$(stat -c %s "$work/$size.aec")
    psnr=$("$aec" compare "$work/$size.png" "$work/$size-back.png" --max-pixels "$pixels" | sed 's/PSNR \([0-9.]*\) dB.*/\1/')
    awk -v s="$size" -v p="$pixels" -v cs="$cs" -v ck="$ckb" -v ds="$ds" -v dk="$dkb" -v b="$bytes" -v q="$psnr" \
        'BEGIN { printf "| %s | %.1f | %.2f | %.0f | %.2f | %.0f | %.3f | %s |\n", s, p / 1e6, cs, ck / 1024, ds, dk / 1024, b * 8 / p, q }'
done
