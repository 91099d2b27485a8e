#!/usr/bin/env bash
# Prepare benchmarks/gpu_check.sh for a GPU machine without network (Python 3.12, x86-64, torch/torchvision/timm
# installed): download fastai and its pure-Python needs that such a machine lacks into benchmarks/gpu_wheels/, and put
# Fashion-MNIST's four .gz files into benchmarks/gpu_data/ (from Debian's dataset-fashion-mnist). Needs PyPI and apt.
# The versions are the set measured to work there (../shared/stack.md): fastprogress 1.0.3 because 1.1 imports fasthtml.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py_version="${PY_VERSION:-3.12}"
mkdir -p "$here/gpu_wheels" "$here/gpu_data"
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$py_version" --implementation cp \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any -d "$here/gpu_wheels" \
  fastai==2.8.7 fastcore==1.14.5 fastdownload==0.0.8 fasttransform==0.0.2 fastprogress==1.0.3 plum-dispatch==2.10.1 beartype==0.23.1
src=/usr/share/datasets/fashion-mnist
if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
  tmp="$(mktemp -d)"; (cd "$tmp" && apt-get download dataset-fashion-mnist && dpkg -x dataset-fashion-mnist_*.deb x); src="$tmp/x$src"
fi
cp "$src"/*-ubyte.gz "$here/gpu_data/"
du -sh "$here/gpu_wheels" "$here/gpu_data"
ls "$here/gpu_wheels"
