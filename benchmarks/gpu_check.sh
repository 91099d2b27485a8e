#!/usr/bin/env bash
# One GPU check of hopfield-mixer, under 8 minutes, on a machine with one CUDA GPU and NO network where torch,
# torchvision and timm are installed and fastai is not.
#
#   bash benchmarks/gpu_prepare.sh             # first, on a machine with network: fastai's wheels -> benchmarks/gpu_wheels/,
#                                              # Fashion-MNIST's four .gz files -> benchmarks/gpu_data/ (34 MB together)
#   bash benchmarks/gpu_check.sh [--out DIR]   # then, on the GPU machine, from a copy of the repository with those folders
#   bash benchmarks/gpu_check.sh --cpu         # the dry run: a tiny version of every stage on this machine's CPU
#
# It installs the wheels into a private folder (nothing is installed system-wide), puts the repository on PYTHONPATH
# and runs the stages of gpu_check.py (env, loop, compile, grid), each under its own time limit (20 + 110 + 190 +
# 130 s); a stage stopped by its limit keeps what it had written. Results: DIR (default benchmarks/results/gpu-check,
# or benchmarks/results/gpu-check-cpu with --cpu): env.json, loop.json, compile.json, grid/, stages.log.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; repo="$(dirname "$here")"
cpu=0; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) cpu=1 ;;
    --out) [ $# -ge 2 ] || { echo "gpu_check.sh: --out needs a folder" >&2; exit 2; }; out="$2"; shift ;;
    *) echo "gpu_check.sh: unknown argument '$1'; usage: gpu_check.sh [--cpu] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
py="${PYTHON:-python3}"
if [ $cpu = 1 ]; then
  out="${out:-$here/results/gpu-check-cpu}"; data_args=(); flag=(--cpu)
  export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
else
  out="${out:-$here/results/gpu-check}"; data_args=(--data "$here/gpu_data"); flag=()
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$here/gpu_data/$f.gz" ] || { echo "gpu_check.sh: $here/gpu_data/$f.gz missing; run benchmarks/gpu_prepare.sh first" >&2; exit 2; }
  done
  site="$(mktemp -d)/site"
  if ! "$py" -c "import fastai" 2>/dev/null; then
    compgen -G "$here/gpu_wheels/*.whl" > /dev/null || { echo "gpu_check.sh: no wheels in $here/gpu_wheels; run benchmarks/gpu_prepare.sh first" >&2; exit 2; }
    "$py" -m pip install -q --no-index --no-deps --target "$site" "$here"/gpu_wheels/*.whl || { echo "gpu_check.sh: installing the wheels failed" >&2; exit 2; }
  fi
  export PYTHONPATH="$site:$repo${PYTHONPATH:+:$PYTHONPATH}"
fi
mkdir -p "$out"; : > "$out/stages.log"
stage() {
  local name=$1 limit=$2 start rc
  start=$(date +%s)
  timeout --signal=INT --kill-after=15 "$limit" "$py" "$here/gpu_check.py" "$name" --out "$out" "${flag[@]}" "${data_args[@]}"
  rc=$?
  echo "$name: exit $rc$( [ $rc = 124 ] && echo ' (time limit)'), $(( $(date +%s) - start )) s of $limit" | tee -a "$out/stages.log"
  return 0
}
stage env 20
stage loop 110
stage compile 190
stage grid 130
echo "wrote $out"
