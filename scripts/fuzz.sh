#!/usr/bin/env bash
# The long fuzzing campaign (docs/testing.md):
#   - the differential fuzzer (tests/fuzz/difftest.py): random valid programs
#     compiled at -O0/-O2, fused and not, every fifth on the GPU emulator,
#     compared with NumPy; each failure reduced and saved as a lit test under
#     OUT/found/ (copy the real bugs to tests/fuzz/found/, with a line saying
#     what is wrong and XFAIL: *);
#   - with --libfuzzer DIR, also the libFuzzer targets of that build
#     (tests/fuzz/libfuzzer, a -DTENSORC_LIBFUZZER=ON build): frontend, npy,
#     csv, params, capi, one after the other.  New corpus inputs go to
#     OUT/libfuzzer/corpus/TARGET (merge them into the checked-in corpus with
#     -merge=1), crashing inputs to OUT/libfuzzer/crashes/ (minimise them
#     and keep them in tests/fuzz/libfuzzer/crashes/TARGET/ with the fix).
#
#   scripts/fuzz.sh --hours N [--seed S] [--out DIR] [--tensorc PATH]
#                   [--libfuzzer DIR [--libfuzzer-only]] [-- more difftest.py options]
#
# Time: without --libfuzzer, all N hours go to the differential fuzzer.
# With it, half go to the differential fuzzer and half to the libFuzzer
# targets; --libfuzzer-only gives them all N hours.  The targets' share is
# split 2:1:1:1:1 (the frontend, the slowest per execution and the largest,
# gets twice a reader's).  One worker throughout: the build machine is
# shared.  A libFuzzer target keeps going past a crash (-fork=1
# -ignore_crashes=1), so one bug does not end the campaign.
# The seeds of the differential fuzzer start at S (default: from the clock,
# printed).  Ends with difftest.py's summary line, then one line per
# libFuzzer target: "libfuzzer: TARGET N executions, K crashes".
set -uo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
hours=1 seed=$(( $(date +%s) % 1000000 * 1000 )) out=/tmp/tensorc-fuzz tensorc=build/bin/tensorc
libfuzzer="" libfuzzer_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --hours) hours=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --tensorc) tensorc=$2; shift 2 ;;
    --libfuzzer) libfuzzer=$2; shift 2 ;;
    --libfuzzer-only) libfuzzer_only=1; shift ;;
    --help|-h) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "scripts/fuzz.sh: unknown option '$1' (expected --hours, --seed, --out, --tensorc, --libfuzzer, --libfuzzer-only, --help or --)" >&2; exit 2 ;;
  esac
done
if [ "$libfuzzer_only" = 1 ] && [ -z "$libfuzzer" ]; then
  echo "scripts/fuzz.sh: --libfuzzer-only needs --libfuzzer DIR (a -DTENSORC_LIBFUZZER=ON build)" >&2; exit 2
fi
if [ -n "$libfuzzer" ] && ! grep -q '^TENSORC_LIBFUZZER:BOOL=ON' "$libfuzzer/CMakeCache.txt" 2>/dev/null; then
  echo "scripts/fuzz.sh: '$libfuzzer' is not a -DTENSORC_LIBFUZZER=ON build (configure one with clang, docs/testing.md)" >&2; exit 2
fi
if [ "$libfuzzer_only" = 0 ]; then
  [ -x "$tensorc" ] || { echo "scripts/fuzz.sh: no compiler at '$tensorc' (build first, or --tensorc PATH)" >&2; exit 2; }
fi
py=$(bash scripts/python.sh) || exit 2
mkdir -p "$out"
seconds=$(awk -v h="$hours" 'BEGIN { printf "%d", h * 3600 }')
status=0

# 1. the differential fuzzer: all the time, or half of it
if [ "$libfuzzer_only" = 0 ]; then
  dt_hours=$hours
  [ -n "$libfuzzer" ] && dt_hours=$(awk -v h="$hours" 'BEGIN { print h / 2 }')
  echo "fuzz: seeds from $seed for $dt_hours h; work in $out/work, failures in $out/found, log in $out/log"
  "$py" tests/fuzz/difftest.py --tensorc "$tensorc" --work "$out/work" --seeds "$seed:$((seed + 1))" \
    --hours "$dt_hours" --gpu-every 5 --found "$out/found" --max-failures 1000 "$@" 2>&1 | tee "$out/log" | grep -v '^  reduced to'
  status=${PIPESTATUS[0]}
  seconds=$((seconds / 2))
fi
[ -n "$libfuzzer" ] || exit $status

# 2. the libFuzzer targets, one after the other: shares 2:1:1:1:1 of what is left
lf=$out/libfuzzer
mkdir -p "$lf/crashes" "$lf/seeds/frontend"
find examples lib tests -name '*.tc' -type f | while read -r f; do cp "$f" "$lf/seeds/frontend/$(echo "$f" | tr / _)"; done
echo "fuzz: libFuzzer targets of $libfuzzer for $seconds s; corpus in $lf/corpus, crashes in $lf/crashes, logs in $lf/*.log"
for target in frontend npy csv params capi; do
  share=1 extra=()
  [ "$target" = frontend ] && share=2 extra=(-dict="$libfuzzer/fuzz/frontend.dict" -max_len=2048 "$lf/seeds/frontend")
  t=$((seconds * share / 6)); [ "$t" -ge 1 ] || t=1
  mkdir -p "$lf/corpus/$target"
  "$libfuzzer/fuzz/fuzz_$target" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 -fork=1 -ignore_crashes=1 \
    -ignore_timeouts=1 -ignore_ooms=1 -artifact_prefix="$lf/crashes/$target-" \
    "$lf/corpus/$target" "tests/fuzz/libfuzzer/corpus/$target" "${extra[@]}" > "$lf/$target.log" 2>&1
  execs=$(grep -o '^#[0-9]*' "$lf/$target.log" | tail -1 | tr -d '#')
  crashes=$(find "$lf/crashes" -name "$target-*" | wc -l)
  echo "libfuzzer: $target ${execs:-0} executions, $crashes crashes"
  [ "$crashes" -eq 0 ] || status=1
done
exit $status
