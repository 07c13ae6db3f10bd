#!/usr/bin/env bash
# Installs everything tensorc needs on Debian 12, and does nothing when it is
# all there already.  Run as root (or with sudo available).
#   compiler:  cmake, ninja, gcc, flex, bison, LLVM 14 (C API, FileCheck, lit)
#   runtime:   DLPack headers; the BLAS (cmake/blas.cmake): pip, with which
#              the build fetches PyPI's scipy-openblas32 wheel into the build
#              tree (the default -DTENSORC_BLAS=scipy-openblas), and the
#              system's OpenBLAS and BLIS for -DTENSORC_BLAS=openblas / blis;
#              Open MPI (--dist=mpi, docs/distributed.md)
#   tests:     Python 3 with NumPy (the oracle)
set -euo pipefail

packages=(cmake ninja-build gcc g++ make pkgconf flex bison llvm-14-dev llvm-14-tools
          libopenblas-dev libblis-dev libdlpack-dev libopenmpi-dev openmpi-bin python3 python3-numpy python3-pip)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The test oracle: the first python3 on PATH must import NumPy.  A Python of
# its own (pyenv, a venv) does not see Debian's python3-numpy, so give it
# NumPy through pip; else fall back to Debian's python3.
if ! python3 -c 'import numpy' 2>/dev/null; then
  python3 -m pip install -q numpy 2>/dev/null || true
fi
if ! python3 -c 'import numpy' 2>/dev/null && ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  echo "setup: error: no Python with NumPy could be set up" >&2
  exit 1
fi
echo "setup: all dependencies present"
