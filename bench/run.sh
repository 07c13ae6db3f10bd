#!/usr/bin/env bash
# The benchmark suite in one command (see bench/README.md):
#   bash bench/run.sh [--quick] [--build DIR] [--only a,e,h] [--update-doc]
# Builds a Release tensorc in build-bench/ unless --build or TENSORC_BUILD
# names a tree, then runs bench/run.py, which needs only Python's standard
# library (NumPy and PyTorch are looked for in every python3 it finds).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3 || echo /usr/bin/python3)
exec "$py" "$here/run.py" "$@"
