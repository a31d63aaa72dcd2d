#!/usr/bin/env bash
# Runs `aec train` on a GPU through burn's Vulkan backend, on a machine that has no Rust
# toolchain (docs/gpu-training.md says how to build the binary and what it measured).
#
#   scripts/gpu-train.sh AEC_BINARY [aec train arguments...]
#
# Before training it makes the Vulkan loader findable: where `ldconfig -p` lists no libvulkan,
# it unpacks the Debian packages of .gl/*.deb in the current folder (libvulkan1 and the GL
# dispatch libraries, fetched with `apt-get download`) into /, and where NVIDIA's driver keeps its
# Vulkan ICD file under /usr/local/nvidia, outside the loader's search path, it names that file
# in VK_DRIVER_FILES (and VK_ICD_FILENAMES, for older loaders). Then it prints the GPU and runs
# `AEC_BINARY --backend vulkan train ARGS...`, sampling the GPU's load every 10 s into
# gpu-load.csv in the current folder while the run lasts. Killing the script stops the run.
set -euo pipefail
if [ $# -lt 1 ]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
aec=$1
shift
has_loader() {
    # (not `ldconfig -p | grep -q`: grep's early exit can fail the pipeline under pipefail)
    local libraries
    libraries=$(ldconfig -p)
    grep -q libvulkan.so.1 <<< "$libraries"
}
if ! has_loader; then
    if ! ls .gl/*.deb > /dev/null 2>&1; then
        echo "no Vulkan loader (libvulkan.so.1) and no .gl/*.deb to unpack: see docs/gpu-training.md" >&2
        exit 1
    fi
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    has_loader || { echo "libvulkan.so.1 still missing after unpacking .gl/*.deb" >&2; exit 1; }
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ]; then
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
fi
echo "Vulkan driver file: ${VK_DRIVER_FILES:-the default search of the loader}" >&2
pids=()
if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 10 > gpu-load.csv 2> /dev/null &
    pids+=($!)
fi
"$aec" --backend vulkan train "$@" &
run=$!
trap 'kill $run "${pids[@]}" 2> /dev/null || true' TERM INT
trap 'kill "${pids[@]}" 2> /dev/null || true' EXIT
status=0
wait $run || status=$?
exit $status
