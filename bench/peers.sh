#!/usr/bin/env bash
# Makes the virtual environment that holds the peers tensorc is compared
# with (PyTorch 2 and JAX, with their own NumPy), outside the project's own
# dependencies, and prints its python on stdout:
#   bash bench/peers.sh [VENV]      (default: build-bench/venv, or $BENCH_VENV)
# A venv that was made before is reused as it is (the file .bench-ok in it
# says the install finished), so only the first run downloads anything
# (about 5 GiB: PyPI's torch wheel brings the CUDA libraries, unused here).
# One venv holds both: it is made with a Python >= 3.12 (current JAX wheels
# need it; pyenv's versions are looked at too), else with the newest 3.10+,
# for which pip picks the newest JAX that supports it.
# Exits non-zero, saying why on stderr, when it cannot make one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-${BENCH_VENV:-$root/build-bench/venv}}
packages=(torch jax numpy)

if [ -f "$venv/.bench-ok" ] && "$venv/bin/python" -c "import torch, jax" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi

# the interpreter: the oldest 3.12+ among PATH's and pyenv's (JAX needs
# 3.12; torch.compile supports a new Python only some releases after it
# comes out), else the newest 3.10+
pick=""
pickv=0
pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for py in $(command -v python3.12 python3.13 python3.14 python3 2>/dev/null) "$pyenv_root"/versions/3.*/bin/python3; do
  [ -x "$py" ] || continue
  v=$("$py" -c 'import sys; print(sys.version_info[0] * 100 + sys.version_info[1])' 2>/dev/null) || continue
  [ "$v" -ge 310 ] || continue
  "$py" -c 'import venv, ensurepip' 2>/dev/null || continue
  if [ "$pickv" -eq 0 ] || { [ "$v" -ge 312 ] && { [ "$pickv" -lt 312 ] || [ "$v" -lt "$pickv" ]; }; } ||
     { [ "$pickv" -lt 312 ] && [ "$v" -gt "$pickv" ]; }; then
    pick=$py pickv=$v
  fi
done
if [ -z "$pick" ]; then
  echo "peers: no Python >= 3.10 with the venv module (PyTorch 2 and JAX need one)" >&2
  exit 1
fi
[ "$pickv" -ge 312 ] || echo "peers: warning: no Python 3.12+, using $pick; pip picks an older JAX for it" >&2

echo "peers: making $venv with $pick and installing ${packages[*]} from PyPI (first run only, a few minutes)" >&2
rm -rf "$venv"
"$pick" -m venv "$venv"
log="$venv/install.log"
if ! "$venv/bin/pip" install --progress-bar off "${packages[@]}" >"$log" 2>&1; then
  echo "peers: pip install ${packages[*]} failed, see $log: $(tail -n 1 "$log")" >&2
  exit 1
fi
if ! "$venv/bin/python" -c "import torch, jax" >>"$log" 2>&1; then
  echo "peers: torch or jax does not import in $venv, see $log: $(tail -n 1 "$log")" >&2
  exit 1
fi
"$venv/bin/pip" freeze >"$venv/.bench-ok"
echo "$venv/bin/python"
