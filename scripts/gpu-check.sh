#!/usr/bin/env bash
# scripts/gpu-check.sh - tensorc on a real GPU in one short run (issue 12):
# every e2e program and example against NumPy (or the CPU's results),
# the --dist=mpi digits check on 2 ranks (where the GPU machine has mpirun;
# skipped, with the reason, where not), compute-sanitizer's memcheck and racecheck over three examples, and the
# GPU benchmark (bench/gpu); one table at the end.
#
# Two halves, because the GPU machine has no LLVM 14 to build tensorc:
#
#   scripts/gpu-check.sh prepare [--arch sm_90] [--emulate] [--build DIR] [--smoke] [BUNDLE]
#       HERE: builds a Release tensorc (build-gpucheck/, or --build DIR's),
#       compiles every program for the GPU (tensorc --device=cuda
#       --gpu-arch=ARCH; --emulate: --gpu-emulate, to try `run` here),
#       records the NumPy references and the CPU's results next to them,
#       and copies the shared libraries the programs load that the GPU
#       machine may lack (the BLAS: scipy-openblas, or OpenBLAS and gfortran) into lib/ for LD_LIBRARY_PATH;
#       all of it packed into BUNDLE/bundle.tar.xz (~8 MiB; the limit a
#       device call carries is 60), with BUNDLE/manifest and prepare.log.
#       BUNDLE defaults to .gpucheck (git-ignored).
#   scripts/gpu-check.sh run [BUNDLE]
#       THERE (or here, for an --emulate bundle): runs it all, each program
#       with a 60 s limit, every failure reported with what differed; prints
#       the table and writes gpu-check.log (everything) and gpu-check.md
#       (the table) into $OUT when it is set.  Exit status 0 only when every
#       check passed.
#   scripts/gpu-check.sh [BUNDLE]
#       both, on a machine that can build (llvm-config-14, flex, bison,
#       pip for the BLAS) and has a GPU.
#   --smoke: a few programs only (tests/scripts/gpu_check.test).
#
# The lead's device call (after `bash scripts/gpu-check.sh prepare` here):
#   run(command="bash scripts/gpu-check.sh run .gpucheck",
#       carry=[".gpucheck"], timeout_s=420)
# About 3-4 minutes on an H100; the table is the end of output_tail and
# $OUT/gpu-check.md, the whole log $OUT/gpu-check.log.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

usage() { sed -n '2,/^set -uo/p' "$0" | sed 's/^# \{0,1\}//; /^set -uo/d' >&2; exit 2; }

mode=all
case "${1:-}" in prepare | run) mode=$1; shift ;; -h | --help) usage ;; esac
arch=sm_90 emulate=0 smoke=0 build="" bundle=.gpucheck
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --arch=*) arch=${1#--arch=}; shift ;;
    --emulate) emulate=1; shift ;;
    --smoke) smoke=1; shift ;;
    --build) build=$2; shift 2 ;;
    --build=*) build=${1#--build=}; shift ;;
    -*) echo "gpu-check: unknown option '$1' (expected --arch, --emulate, --smoke, --build)" >&2; exit 2 ;;
    *) bundle=$1; shift ;;
  esac
done
py=$(command -v python3 || echo /usr/bin/python3)
E2E_DATA_MB=16 # the most .npy data one e2e group may carry (prepare)
# the e2e groups (all, or --smoke's two: one plain program, one with the
# custom checks that compile their own programs)
groups() {
  if [ "$1" = 1 ]; then echo casting files; else
    # (only the groups built on oracle.py: outbuf.py drives a shared library itself)
    for f in tests/e2e/*.py; do
      b=$(basename "$f" .py)
      [ "$b" != oracle ] && grep -q "^import oracle\|^from oracle" "$f" && echo "$b"
    done
  fi
}

# ------------------------------------------------------------------ prepare
can_build() {
  command -v llvm-config-14 >/dev/null || [ -x /usr/lib/llvm-14/bin/llvm-config ] || return 1
  command -v flex >/dev/null && command -v bison >/dev/null || return 1
  # the BLAS: pip fetches the default scipy-openblas32 wheel (cmake/blas.cmake)
  python3 -m pip --version >/dev/null 2>&1 || return 1
}

prepare() {
  local t0=$SECONDS tensorc rt b
  if [ -n "$build" ]; then
    tensorc=$build/bin/tensorc
    [ -x "$tensorc" ] || { echo "gpu-check: $tensorc does not exist (build it, or leave --build out)" >&2; return 1; }
  else
    if ! can_build; then
      echo "gpu-check: cannot build tensorc here: it needs llvm-config-14, flex, bison and pip (for the BLAS)" \
        "(scripts/setup.sh). Prepare on the development machine and carry the bundle." >&2
      return 1
    fi
    build=build-gpucheck
    export PATH=/usr/lib/llvm-14/bin:$PATH
    if [ ! -f "$build/build.ninja" ]; then
      cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTENSORC_PYTHON="$(bash scripts/python.sh)" \
        >"$build.cmake.log" 2>&1 || { cat "$build.cmake.log" >&2; return 1; }
    fi
    ninja -C "$build" tensorc tensorc_rt >/dev/null || { ninja -C "$build" tensorc tensorc_rt >&2; return 1; }
    tensorc=$build/bin/tensorc
  fi
  tensorc=$(cd "$(dirname "$tensorc")" && pwd)/tensorc
  rt=$(cd "$(dirname "$tensorc")/.." && pwd)/lib/libtensorc_rt.a
  local flags=(--device=cuda "--gpu-arch=$arch") oflags=(--gpu --gpu-arch "$arch")
  [ "$emulate" = 1 ] && flags=(--device=cuda --gpu-emulate) oflags=(--gpu-emulate)
  # everything goes into BUNDLE/tree, then into BUNDLE/bundle.tar.xz (the
  # executables share the runtime: xz makes ~90 MiB into ~8)
  rm -rf "$bundle" && mkdir -p "$bundle"/tree/{e2e,examples,bench,lib} || return 1
  b=$(cd "$bundle/tree" && pwd)
  local log=$b/prepare.log status=0
  echo "gpu-check prepare: tensorc $tensorc, ${flags[*]}, into $bundle" | tee "$log"

  # e2e: compile, write inputs and NumPy references (tests/e2e/oracle.py --prepare-only)
  for g in $(groups "$smoke"); do
    echo "$g"
  done | xargs -P 2 -I{} sh -c '"$0" tests/e2e/{}.py --tensorc "$1" --prepare-only --work "$2/e2e/{}" $3 \
      > "$2/e2e/{}.prepare.log" 2>&1 || echo "gpu-check: e2e {}: some programs did not compile (see $2/e2e/{}.prepare.log)"' \
      "$py" "$tensorc" "$b" "${oflags[*]}" | tee -a "$log"
  # a group whose inputs and references are too big to carry is left out
  # (random floats do not compress: accuracy.py's are ~100 MiB, the whole
  # bundle may be 60); run reports it as skipped, with its size
  local gdir mb
  for gdir in "$b"/e2e/*/; do
    mb=$(find "$gdir" -name '*.npy' -printf '%s\n' | awk '{s += $1} END {printf "%d", s / 1048576}')
    if [ "$mb" -gt "$E2E_DATA_MB" ]; then
      rm -rf "$gdir"
      echo "$mb" >"${gdir%/}.skipped"
      echo "PREPARE e2e $(basename "$gdir") skipped: $mb MiB of inputs and references, over $E2E_DATA_MB MiB" | tee -a "$log"
    fi
  done

  # examples: the GPU executables and the CPU's results
  "$py" scripts/gpucheck/examples.py prepare "$b" "$tensorc" "${flags[@]}" $([ "$smoke" = 1 ] && echo --smoke) \
    2>&1 | tee -a "$log" || status=1

  # --dist=mpi (tests/dist/gpu_device.test): the digits MLP for 2 ranks, and
  # its reference trained here (one process on the same global batches); a
  # tensorc without MPI refuses --dist=mpi and run skips the check
  local epochs=2
  [ "$emulate" = 1 ] && epochs=1
  mkdir -p "$b/dist"
  if "$tensorc" --dist=mpi "${flags[@]}" tests/dist/Inputs/digits_dist.tc -o "$b/dist/digits_dist" 2>"$b/dist/why" &&
    sed 's/^const B = 16/const B = 32/' tests/dist/Inputs/digits_dist.tc >"$b/dist/ref2.tc" &&
    "$tensorc" "$b/dist/ref2.tc" -o "$b/dist/ref2" 2>>"$b/dist/why" &&
    "$b/dist/ref2" data=examples/data/digits.csv epochs=$epochs --params-out "$b/dist/ref2.out" >"$b/dist/ref2.txt" \
      2>>"$b/dist/why"; then
    echo "epochs=$epochs" >"$b/dist/args"
    rm -f "$b/dist/ref2" "$b/dist/ref2.tc" "$b/dist/why"
    echo "PREPARE dist ok" | tee -a "$log"
  else
    echo "PREPARE dist skipped: $(tail -1 "$b/dist/why")" | tee -a "$log"
  fi

  # the benchmark: gpubench (full sizes, or --tiny's for the emulator) and the MLP
  local tiny=() src=$b/bench/src cflags
  [ "$emulate" = 1 ] && tiny=(--tiny)
  cflags=(-O2 -I"$src" -I"$root/runtime/include" -I"$root/bench/c")
  # what the static runtime needs after it: the BLAS, libm, libdl (cmake/blas.cmake)
  local rtlibs
  read -r -a rtlibs < "$(dirname "$rt")/tensorc_rt.ldflags" || return 1
  mkdir -p "$src"
  if "$py" bench/gpu/programs.py "$src" "${tiny[@]}" &&
    "$tensorc" "${flags[@]}" -c "$src/gpubench.tc" -o "$src/gpubench.o" &&
    cc "${cflags[@]}" bench/gpu/gpubench.c "$src/gpubench.o" "$rt" "${rtlibs[@]}" -lpthread -o "$b/bench/gpubench" &&
    "$tensorc" "${flags[@]}" -c bench/tc/mlp.tc -o "$src/mlp.o" &&
    cc "${cflags[@]}" bench/gpu/mlp_gpu.c "$src/mlp.o" "$rt" "${rtlibs[@]}" -lpthread \
      -Wl,--wrap=tcrt_dev_launch,--wrap=tcrt_dev_matmul,--wrap=tcrt_dev_matmul_epilogue -o "$b/bench/mlp_gpu"; then
    echo "PREPARE bench ok" | tee -a "$log"
  else
    echo "PREPARE bench failed (above)" | tee -a "$log"; status=1
  fi
  rm -f "$src"/*.o

  grep -h "^FAIL" "$b"/e2e/*.prepare.log 2>/dev/null | head -20

  # the shared libraries the executables load, but for the C library's own
  # (the GPU machine has those), into lib/ for LD_LIBRARY_PATH
  find "$b" -type f -perm -u+x \( -name prog -o -name gpu -o -name gpubench -o -name mlp_gpu \) -print0 |
    xargs -0 ldd 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
    while read -r soname path; do
      case "$soname" in
        linux-vdso* | libc.so* | libm.so* | libpthread* | libdl.so* | librt.so* | ld-linux* | libgcc_s*) ;;
        *) cp -L "$path" "$b/lib/$soname" ;;
      esac
    done
  # and the BLAS, which the runtime opens with dlopen (runtime/blas_lib.c):
  # no executable lists it, so ldd does not show it
  local blas_soname blas_path
  read -r blas_soname blas_path < "$(dirname "$rt")/tensorc_rt.blas" && cp -L "$blas_path" "$b/lib/$blas_soname"
  echo "bundled libraries: $(cd "$b/lib" && ls | tr '\n' ' ')" | tee -a "$log"

  # what run needs to know
  {
    echo "mode=$([ "$emulate" = 1 ] && echo emulate || echo gpu)"
    echo "arch=$arch"
    echo "smoke=$smoke"
    echo "oracle_flags=${oflags[*]}"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD 2>/dev/null || echo +changes)"
    echo "prepared=$(date -u +%Y-%m-%dT%H:%MZ)"
    echo "tensorc=$("$tensorc" --version 2>&1 | head -1)"
  } >"$b/manifest"
  local size
  cp "$b/manifest" "$log" "$bundle/"
  "$py" -c 'import sys, tarfile
with tarfile.open(sys.argv[1], "w:xz", preset=6) as t:
    t.add(sys.argv[2], arcname=".")' "$bundle/bundle.tar.xz" "$b" && rm -rf "$b" || status=1
  size=$(du -sm "$bundle" | cut -f1)
  echo "gpu-check prepare: done in $((SECONDS - t0)) s; $bundle is $size MiB ($(du -sm --apparent-size "$bundle/bundle.tar.xz" |
    cut -f1) MiB packed)" | tee -a "$bundle/prepare.log"
  if [ "$size" -ge 60 ]; then
    echo "gpu-check: $bundle is $size MiB, over the 60 MiB a device call can carry" | tee -a "$log" >&2
    status=1
  fi
  return $status
}

# ------------------------------------------------------------------ run
run() {
  local t0=$SECONDS b
  [ -f "$bundle/manifest" ] || { echo "gpu-check: $bundle/manifest is missing: run 'scripts/gpu-check.sh prepare' first" >&2; return 2; }
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
  if [ -f "$bundle/bundle.tar.xz" ]; then  # as prepare leaves it
    "$py" -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    t.extractall(sys.argv[2], **({"filter": "fully_trusted"} if hasattr(tarfile, "data_filter") else {}))' \
      "$bundle/bundle.tar.xz" "$work/bundle" || { echo "gpu-check: cannot unpack $bundle/bundle.tar.xz" >&2; return 2; }
    b=$work/bundle
  else  # an unpacked tree
    b=$(cd "$bundle" && pwd)
  fi
  local mode arch smoke oracle_flags commit
  mode=$(sed -n 's/^mode=//p' "$b/manifest")
  arch=$(sed -n 's/^arch=//p' "$b/manifest")
  smoke=$(sed -n 's/^smoke=//p' "$b/manifest")
  oracle_flags=$(sed -n 's/^oracle_flags=//p' "$b/manifest")
  commit=$(sed -n 's/^commit=//p' "$b/manifest")
  local out=${OUT:-$work}
  mkdir -p "$out" || return 2
  local log=$out/gpu-check.log rows=$work/rows
  : >"$rows"
  export LD_LIBRARY_PATH=$b/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export PYTHONUNBUFFERED=1 OPENBLAS_NUM_THREADS=1
  row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3" >>"$rows"; }
  exec 3>&1 4>&2
  exec > >(tee "$log" >&3) 2>&1

  local device="emulator (CPU)"
  if [ "$mode" = gpu ]; then
    device=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
    [ -n "$device" ] || device="no GPU found (nvidia-smi lists none)"
  fi
  echo "gpu-check run: bundle $bundle (mode $mode, arch $arch, commit $commit) on $(hostname): $device"
  row "device" "$([ "$mode" = gpu ] && echo "real GPU" || echo emulated)" "$device; tensorc $commit$([ "$mode" = gpu ] && echo ", --gpu-arch=$arch")"

  # e2e, four groups at a time; each program has oracle's 60 s limit
  echo "== e2e programs against the recorded NumPy references"
  ls "$b/e2e" | grep -v '\.log$\|\.skipped$' | xargs -P 4 -I{} sh -c 'timeout 300 "$0" tests/e2e/{}.py --prebuilt "$1/e2e/{}" \
      --work "$2/e2e/{}" $3 > "$2/e2e-{}.log" 2>&1; echo "exit $?" >> "$2/e2e-{}.log"' \
    "$py" "$b" "$work" "$oracle_flags"
  local g f
  for f in "$b"/e2e/*.prepare.log; do
    g=$(basename "$f" .prepare.log)
    if [ -f "$b/e2e/$g.skipped" ]; then
      row "e2e $g" skipped "not carried: $(cat "$b/e2e/$g.skipped") MiB of inputs (CI runs it on the emulator)"
      continue
    fi
    cat "$work/e2e-$g.log"
    local summary first
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/e2e-$g.log" | tail -1)
    first=$(grep -m1 '^FAIL ' "$work/e2e-$g.log" | cut -c1-160)
    if grep -q '^exit 0$' "$work/e2e-$g.log"; then
      row "e2e $g" passed "$summary"
    else
      row "e2e $g" failed "${summary:-$(tail -2 "$work/e2e-$g.log" | head -1 | cut -c1-160)}${first:+; first: $first}"
    fi
  done

  echo "== examples"
  "$py" scripts/gpucheck/examples.py run "$b" "$work/examples" | tee "$work/examples.out"
  local name verdict note
  while IFS=$'\t' read -r _ name verdict note; do
    row "$name" "$verdict" "$(echo "$note" | cut -c1-200)"
  done < <(grep $'^CHECK\t' "$work/examples.out")
  grep -q $'^CHECK\t' "$work/examples.out" || row "examples" failed "no example ran (see the log)"

  echo "== --dist=mpi: digits on 2 ranks against one process (tests/dist/gpu_device.test)"
  local dist=$b/dist missing
  missing=$([ -x "$dist/digits_dist" ] && ldd "$dist/digits_dist" 2>/dev/null | awk '/not found/ {printf "%s ", $1}')
  if [ ! -x "$dist/digits_dist" ]; then
    row "mpirun digits, 2 ranks" skipped "not prepared: $(tail -1 "$dist/why" 2>/dev/null | cut -c1-160)"
  elif ! command -v mpirun >/dev/null; then
    row "mpirun digits, 2 ranks" skipped "no mpirun on this machine"
  elif [ -n "$missing" ]; then
    row "mpirun digits, 2 ranks" skipped "MPI's libraries are not here: $missing"
  else
    local mpi_flags=(--oversubscribe --timeout 120) dist_epochs
    [ "$(id -u)" = 0 ] && mpi_flags+=(--allow-run-as-root)
    dist_epochs=$(sed -n 's/^epochs=//p' "$dist/args")
    echo "\$ mpirun ${mpi_flags[*]} -np 2 digits_dist epochs=$dist_epochs --device cuda"
    timeout 150 mpirun "${mpi_flags[@]}" -np 2 "$dist/digits_dist" data=examples/data/digits.csv epochs="$dist_epochs" \
      --device cuda --params-out "$work/dist-np2" >"$work/dist-np2.txt" 2>&1
    local dist_rc=$? compared
    cat "$work/dist-np2.txt"
    if [ $dist_rc = 0 ] && compared=$("$py" tests/dist/Inputs/compare_params.py "$work/dist-np2" "$dist/ref2.out" 1e-5 2>&1 &&
      "$py" tests/dist/Inputs/compare_losses.py "$work/dist-np2.txt" "$dist/ref2.txt" 1e-5 2>&1); then
      row "mpirun digits, 2 ranks" passed "$(echo "$compared" | tr '\n' ' ' | sed 's/ *$//')"
    else
      row "mpirun digits, 2 ranks" failed "exit $dist_rc: $(echo "${compared:-}" "$(tail -3 "$work/dist-np2.txt")" | tr '\n' ' ' | cut -c1-200)"
    fi
  fi

  echo "== compute-sanitizer"
  local san
  san=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda*/bin/compute-sanitizer \
    /opt/nvidia/*/compute-sanitizer /opt/nvidia/compute-sanitizer/compute-sanitizer 2>/dev/null | head -1)
  if [ "$mode" != gpu ]; then
    row "compute-sanitizer" skipped "emulated bundle"
  elif [ -z "$san" ]; then
    row "compute-sanitizer" skipped "not installed"
  else
    local tool prog args ex
    for tool in memcheck racecheck; do
      for ex in "linreg data=examples/data/linreg.csv" "digits data=examples/data/digits.csv epochs=1" \
        "softmax_regression data=examples/data/digits.csv steps=3 every=1"; do
        prog=${ex%% *} args=${ex#* }
        [ -x "$b/examples/$prog/gpu" ] || continue
        echo "\$ compute-sanitizer --tool $tool $prog $args"
        # shellcheck disable=SC2086
        timeout 120 "$san" --tool "$tool" --error-exitcode 1 "$b/examples/$prog/gpu" $args --device cuda \
          >"$work/san-$tool-$prog.log" 2>&1
        local san_rc=$?
        if [ $san_rc = 0 ]; then
          row "$tool $prog" passed "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$work/san-$tool-$prog.log" | tail -1)"
        else
          row "$tool $prog" failed "exit $san_rc$([ $san_rc = 124 ] && echo ' (timed out after 120 s)'): $(
            grep -E '^=========' "$work/san-$tool-$prog.log" | grep -v 'COMPUTE-SANITIZER' | head -2 | tr '\n' ' ' |
            cut -c1-200) (log in gpu-check.log)"
        fi
        tail -30 "$work/san-$tool-$prog.log"
      done
    done
  fi

  echo "== benchmark (bench/gpu)"
  local tiny=()
  [ "$mode" = gpu ] || tiny=(--tiny)
  "$py" bench/gpu/run.py "$b" "${tiny[@]}" --json "$out/bench.json" --timeout 200 >"$work/bench.md"
  local bench_rc=$?
  cat "$work/bench.md"
  row "benchmark" "$([ $bench_rc = 0 ] && echo passed || echo failed)" \
    "$(grep -c '^bench FAILURE' "$work/bench.md") failures, $(grep -c '^bench note' "$work/bench.md") peer notes (table below)"

  # the table
  local failed
  failed=$(grep -c '| failed |' "$rows")
  {
    echo
    echo "## gpu-check: $([ "$mode" = gpu ] && echo "real GPU: $device" || echo "emulated (no GPU)"), $((SECONDS - t0)) s"
    echo
    echo "| check | result | notes |"
    echo "| --- | --- | --- |"
    cat "$rows"
    echo
    grep '^|' "$work/bench.md"
    grep '^bench ' "$work/bench.md"
    echo
    echo "gpu-check: $(grep -c '| passed |' "$rows") passed, $failed failed, $(grep -c '| skipped |' "$rows") skipped" \
      "($([ "$mode" = gpu ] && echo "on a real GPU" || echo "emulated"))"
  } | tee "$out/gpu-check.md"
  exec 1>&3 2>&4
  [ "$out" = "$work" ] && echo "gpu-check: the log is $work/gpu-check.log"
  [ "$out" = "$work" ] || rm -rf "$work"
  [ "$failed" = 0 ]
}

case "$mode" in
  prepare) prepare ;;
  run) run ;;
  all)
    if ! can_build && [ -z "$build" ]; then
      echo "gpu-check: this machine cannot build tensorc (no llvm-config-14, flex, bison or pip for the BLAS):" \
        "run 'scripts/gpu-check.sh prepare' where it builds, then 'scripts/gpu-check.sh run' here" >&2
      exit 2
    fi
    prepare && run ;;
esac
