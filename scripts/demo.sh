#!/usr/bin/env bash
# One command for a newcomer: install what is missing, build, run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
mkdir -p build/demo
echo
echo "== tensorc examples/linreg.tc -o build/demo/linreg   (a linear model fitted by gradient descent)"
./build/bin/tensorc examples/linreg.tc -o build/demo/linreg
./build/demo/linreg data=examples/data/linreg.csv
echo
echo "== tensorc --emit=ir examples/digits.tc   (the typed graph IR of the SPEC §1.1 classifier, first lines)"
./build/bin/tensorc --emit=ir examples/digits.tc | head -40
