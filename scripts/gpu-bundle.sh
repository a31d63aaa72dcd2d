#!/usr/bin/env bash
# Prepares what a GPU machine without Rust or network needs for `aec train --backend vulkan`
# (docs/gpu-training.md): in .gpu/ the Vulkan build of aec (xz-compressed), a subset of the
# training photographs as lossless WebP and the weights of the hyperprior to continue (exported
# from models/hyper-gpu.train; its optimizer state, 22 MB, does not fit in what travels); in
# .gl/ the Vulkan loader packages. Both folders are ignored by git (.git/info/exclude), so they travel
# only when named.
#
#   scripts/gpu-bundle.sh [TRAIN_DIR] [EVERY]    (default ../shared/datasets/train, every 4th photo)
#
# Needs cargo, xz, cwebp (Debian: webp) and apt-get. The Vulkan build takes ~18 minutes on 2
# cores and replaces target/release/aec (the next plain `cargo build --release` relinks it).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/datasets/train}
every=${2:-4}
for tool in cargo xz cwebp apt-get; do
    command -v "$tool" > /dev/null || { echo "$tool is missing (cwebp: apt-get install webp)" >&2; exit 1; }
done
for folder in .gpu .gl; do
    grep -qx "/$folder/" .git/info/exclude 2> /dev/null || echo "/$folder/" >> .git/info/exclude
done
mkdir -p .gpu/data .gl

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo build --release --bin aec
cp -r models/hyper-gpu.train "$scratch/"
target/release/aec train --arch hyper --out "$scratch/hyper-gpu.bpk" --export-only
mv "$scratch/hyper-gpu.bpk" "$scratch/hyper-gpu.json" .gpu/
cargo build --release --features vulkan --bin aec
xz -9e -T2 -c target/release/aec > .gpu/aec.xz.part && mv .gpu/aec.xz.part .gpu/aec.xz

rm -f .gpu/data/*.webp
ls "$data"/*.png | awk -v n="$every" 'NR % n == 1' | while read -r photo; do
    cwebp -quiet -lossless -z 6 "$photo" -o ".gpu/data/$(basename "$photo" .png).webp" 2> /dev/null
done


lists=$scratch/lists
mkdir -p "$lists/partial"
apt_options=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt_options[@]}" update > /dev/null
(cd .gl && apt-get "${apt_options[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2> /dev/null)

du -ch .gpu .gl | tail -1
echo "ready: carry .gpu and .gl; at most 64 MiB travel with the tracked files, so move models/ out"
echo "of the tree for the call (it holds ~120 MB) and back after it"
