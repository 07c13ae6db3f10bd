#!/usr/bin/env bash
# One command for a newcomer: install what is missing, build, run the demo:
# the SPEC §1.1 classifier compiled to a native executable and trained on the
# 8x8 handwritten digits (scored on held-out images too), then a softmax
# regression on the same digits, then a linear model fitted from a CSV.
# docs/training.md explains the three programs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
mkdir -p build/demo
echo
echo "== tensorc examples/digits.tc -o build/demo/digits   (a two-layer classifier trained with SGD)"
./build/bin/tensorc examples/digits.tc -o build/demo/digits
./build/demo/digits data=examples/data/digits.csv epochs=30 lr=0.3 --params-out build/demo/digits-params
echo "(trained weights written to build/demo/digits-params/*.npy)"
echo
echo "== tensorc examples/softmax_regression.tc -o build/demo/softmax_regression   (one linear layer, gradient descent)"
./build/bin/tensorc examples/softmax_regression.tc -o build/demo/softmax_regression
./build/demo/softmax_regression data=examples/data/digits.csv
echo
echo "== tensorc examples/linreg.tc -o build/demo/linreg   (a linear model fitted by gradient descent)"
./build/bin/tensorc examples/linreg.tc -o build/demo/linreg
./build/demo/linreg data=examples/data/linreg.csv
