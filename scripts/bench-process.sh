#!/usr/bin/env bash
# Whole-process time of `aec compress` / `aec decompress` on one photo (the default model, and the
# version-1 default for comparison, its file written from its model files) against the other codecs' command-line tools in the same run (cjpeg/djpeg, cwebp/dwebp, avifenc/avifdec): each command
# runs RUNS times, interleaved with the others so that a busy machine slows all alike, and the
# median wall time is reported with its ratio to aec's. Tools that are missing get a row that says
# so (Debian: apt-get install libjpeg-turbo-progs webp libavif-bin). Decoders write PPM (avifdec,
# which cannot, writes PNG).
#
#   [AEC=path/to/aec] scripts/bench-process.sh [PICTURE] [RUNS]   (default tests/fixtures/kodim23.png, 15)
set -euo pipefail
cd "$(dirname "$0")/.."
picture=${1:-tests/fixtures/kodim23.png}
runs=${2:-15}
cargo build --release --quiet --bin aec
aec=${AEC:-$PWD/target/release/aec}  # AEC=path measures another build (e.g. target/dist/aec)
models=$PWD/models  # the version-1 default's files: the built-in version-1 models only decode
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$picture" "$work/in.png"
cd "$work"
"$aec" decompress --help > /dev/null
# Inputs in each tool's own format, made once.
"$aec" compress in.png -o in.aec --force 2> /dev/null
"$aec" compress in.png -o in-v1.aec --model "$models/default.bpk" --force 2> /dev/null
have() { command -v "$1" > /dev/null 2>&1; }
# cjpeg reads PPM, not PNG: the photo goes through lossless WebP to PPM.
if have cjpeg && have cwebp && have dwebp; then
    cwebp -quiet -lossless in.png -o lossless.webp && dwebp -quiet lossless.webp -ppm -o in.ppm
    cjpeg -quality 75 -optimize in.ppm > in.jpg
fi
if have cwebp; then cwebp -quiet -q 75 in.png -o in.webp; fi
if have avifenc; then avifenc -s 6 in.png in.avif > /dev/null; fi

# name|command (run with bash -c in $work)
commands=(
    "aec decompress|$aec decompress in.aec -o out.ppm --force"
    "djpeg|djpeg in.jpg > out.ppm"
    "dwebp|dwebp -quiet in.webp -ppm -o out.ppm"
    "avifdec|avifdec in.avif out.png > /dev/null"
    "aec decompress, version-1 file|$aec decompress in-v1.aec -o out.ppm --force"
    "aec compress|$aec compress in.png -o out.aec --force"
    "aec compress, version-1 model files|$aec compress in.png -o out.aec --model $models/default.bpk --force"
    "cjpeg -optimize|cjpeg -quality 75 -optimize in.ppm > out.jpg"
    "cwebp -m 6|cwebp -quiet -m 6 -q 75 in.png -o out.webp"
    "avifenc -s 6|avifenc -s 6 in.png out.avif > /dev/null"
)
declare -A times
for ((r = 0; r < runs; r++)); do
    for entry in "${commands[@]}"; do
        name=${entry%%|*} cmd=${entry#*|}
        tool=${cmd%% *}
        [[ $tool == "$aec" ]] || have "$tool" || continue
        [[ $tool != cjpeg && $tool != djpeg ]] || [ -f in.jpg ] || continue
        start=$(date +%s%N)
        bash -c "$cmd" 2> /dev/null
        end=$(date +%s%N)
        times[$name]+="$(((end - start) / 1000)) "
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] / 1000 }'; }
declare -A med
for entry in "${commands[@]}"; do
    name=${entry%%|*}
    [[ -n ${times[$name]:-} ]] && med[$name]=$(echo "${times[$name]}" | median)
done
size=$(file -b in.png | grep -o '[0-9]* x [0-9]*' | tr -d ' ')
echo "$(basename "$picture") ($size), median of $runs runs, $(nproc) cores"
echo
echo "| command | ms | aec's time / this |"
echo "|---|---:|---:|"
for entry in "${commands[@]}"; do
    name=${entry%%|*} cmd=${entry#*|}
    tool=${cmd%% *}
    ref="aec decompress"
    [[ $name == *compress* || $name == c* || $name == avifenc* ]] && ref="aec compress"
    [[ $name == "aec decompress"* ]] && ref="aec decompress"
    if [[ -z ${med[$name]:-} ]]; then
        echo "| $name | not measured: $tool (or cwebp/dwebp, to make its input) is not installed | |"
    else
        awk -v n="$name" -v t="${med[$name]}" -v a="${med[$ref]}" 'BEGIN { printf "| %s | %.1f | %.1fx |\n", n, t, a / t }'
    fi
done
