#!/usr/bin/env bash
# One command for a newcomer: install what is missing, build, run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build tensorc
echo
echo "== tensorc --emit=ir examples/digits.tc  (the typed graph IR of the SPEC §1.1 classifier)"
./build/bin/tensorc --emit=ir examples/digits.tc
