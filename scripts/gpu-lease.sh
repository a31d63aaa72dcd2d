#!/usr/bin/env bash
# Runs on the lent GPU machine, in the repository root that travelled with .gpu/ and .gl/
# (scripts/gpu-bundle.sh made them): unpacks aec, fine-tunes the hyperprior of .gpu/hyper-gpu.bpk
# for MINUTES (a new run from its weights with a fresh Adam, as session 10's run started from
# hyper-ext), and leaves the run's checkpoint in OUT_DIR as a tar cut in pieces of 15 MB (the
# device tool brings back files of at most 16 MiB), with the log and the GPU's load.
#
#   scripts/gpu-lease.sh OUT_DIR MINUTES --steps N [more aec train arguments]
#
# Without other arguments the run is session 10's: 16 crops of 256x256, lr 1e-4 warming up over
# the first 10% of N steps, then a cosine to 1e-5. On an H200: ~2.5 minutes of kernel
# compilation on a fresh machine (counted in MINUTES), then 0.128 s per step, so
# N ≈ 470 * (MINUTES - 2.5) ends the decay in time (7 minutes: --steps 2000).
# Back here: cat OUT_DIR/checkpoint.tar.* | tar xf - -C DIR, then `aec train --arch hyper --out
# DIR/hyper-gpu-2.bpk --export-only` and `aec bench` to judge it; record it in models/README.md.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$1
minutes=$2
shift 2
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.gpu/aec.xz'), open('/tmp/aec', 'wb'))" || exit 1
chmod +x /tmp/aec
work=/tmp/aec-lease
rm -rf "$work" && mkdir -p "$work"
# The sizes and λs of the model continued, read off its settings (the same levels, no relevelling).
read -r -a model < <(python3 -c "import json; m = json.load(open('.gpu/hyper-gpu.json')); print('--hidden', m['hidden'], '--latent', m['latent'], '--hyper-hidden', m['hyper_hidden'], '--hyper-latent', m['hyper_latent'], '--lambdas', ','.join(map(str, m['lambdas'])))") || exit 1
# The training command's own time limit ends it with a checkpoint; `timeout` only guards
# against a hang (first start: ~2.5 minutes of kernel compilation before the first step).
timeout $((minutes * 60 + 240)) bash scripts/gpu-train.sh /tmp/aec --arch hyper --data .gpu/data \
    --out "$work/hyper-gpu-2.bpk" --init-from .gpu/hyper-gpu.bpk "${model[@]}" \
    --batch 16 --patch 256 --lr 1e-4 --decay-from 0.1 \
    --checkpoint-minutes 2 --max-minutes "$minutes" "$@" > "$out/train.log" 2>&1
echo "training ended with status $?"
tail -c 3000 "$out/train.log"
cp gpu-load.csv "$out/" 2> /dev/null
tail -3 "$work/hyper-gpu-2.train/loss.csv"
tar cf - -C "$work" hyper-gpu-2.train | split -b 15000000 - "$out/checkpoint.tar."
ls -la "$out"
