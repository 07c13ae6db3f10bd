#!/usr/bin/env bash
# The benchmark suite in one command (see bench/README.md):
#   bash bench/run.sh [--quick] [--peers | --no-peers] [--build DIR] [--only a,e,h] [--update-doc]
# Builds a Release tensorc in build-bench/ unless --build or TENSORC_BUILD
# names a tree, then runs bench/run.py, which needs only Python's standard
# library (NumPy is looked for in every python3 it finds).
# The peers (PyTorch eager, torch.compile, JAX) run from their own venv,
# build-bench/venv, which bench/peers.sh makes on first use: a full run
# makes it; --quick only uses it when it is there; --peers makes it and
# fails without it; --no-peers leaves the peers out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=$(command -v python3 || echo /usr/bin/python3)

peers=auto quick=0 args=()
for a in "$@"; do
  case $a in
    --peers) peers=on ;;
    --no-peers) peers=off ;;
    --quick) quick=1 args+=("$a") ;;
    -h|--help) exec "$py" "$here/run.py" --help ;; # before peers.sh, which may download 5 GiB
    *) args+=("$a") ;;
  esac
done
venv=${BENCH_VENV:-$(dirname "$here")/build-bench/venv}
if [ "$peers" = off ]; then
  args+=(--peers-skipped "--no-peers was given")
elif [ "$peers" = auto ] && [ "$quick" = 1 ] && [ ! -f "$venv/.bench-ok" ]; then
  args+=(--peers-skipped "no peers venv yet ($venv); a full run or --peers makes it (about 5 GiB from PyPI)")
else
  err=$(mktemp)
  if peer_py=$(bash "$here/peers.sh" "$venv" 2>"$err"); then
    args+=(--peers-python "$peer_py")
  else
    why=$(tail -n 1 "$err")
    if [ "$peers" = on ]; then
      cat "$err" >&2
      rm -f "$err"
      exit 1
    fi
    args+=(--peers-skipped "bench/peers.sh could not make their venv: ${why#peers: }")
  fi
  cat "$err" >&2
  rm -f "$err"
fi
exec "$py" "$here/run.py" "${args[@]}"
