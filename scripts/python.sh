#!/usr/bin/env bash
# Prints the path of a python3 that imports NumPy (the test oracle).
for py in "$(command -v python3 || true)" /usr/bin/python3; do
  [ -n "$py" ] && "$py" -c 'import numpy' 2>/dev/null && { echo "$py"; exit 0; }
done
echo "no python3 with numpy found; run scripts/setup.sh" >&2
exit 1
