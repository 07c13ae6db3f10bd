#!/usr/bin/env bash
# Builds examples/embed_c/classify: examples/digits.tc compiled to an object
# file with the trained weights embedded, linked into classify.c.
#   bash examples/embed_c/build.sh [OUT_DIR] [PARAMS_DIR]
# PARAMS_DIR defaults to build/demo/digits-params (written by scripts/demo.sh).
# The runtime comes from pkg-config when tensorc is installed, else from
# this source tree's build/ (TENSORC, TENSORC_BUILD override).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build/embed_c}
params=${2:-$root/build/demo/digits-params}
build=${TENSORC_BUILD:-$root/build}
tensorc=${TENSORC:-$build/bin/tensorc}
mkdir -p "$out"

# 1. the model: digits.o and digits.h, weights in the object's read-only data
# TENSORC_FLAGS: more options, e.g. "--device=cuda --gpu-emulate" (docs/gpu.md)
"$tensorc" -c ${TENSORC_FLAGS:-} "$root/examples/digits.tc" --params="$params" -o "$out/digits.o"

# 2. the program
if pkg-config --exists tensorc 2>/dev/null; then
  # (-ltensorc_rt finds the shared runtime: the rpath lets the program find it too)
  rt="$(pkg-config --cflags --libs tensorc) -Wl,-rpath,$(pkg-config --variable=libdir tensorc)"
else
  # the static runtime and what it needs: the BLAS, libm, libdl (the build
  # writes them into lib/tensorc_rt.ldflags: cmake/blas.cmake)
  rt="-I$root/runtime/include $build/lib/libtensorc_rt.a $(cat "$build/lib/tensorc_rt.ldflags") ${TENSORC_RT_LDFLAGS:-}"
fi
${CC:-cc} -O2 -I"$out" "$root/examples/embed_c/classify.c" "$out/digits.o" $rt -o "$out/classify"
echo "built $out/classify"
