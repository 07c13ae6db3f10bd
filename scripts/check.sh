#!/usr/bin/env bash
# The whole test suite: install what is missing, then build and run the lit
# suite twice - a normal build, and one with AddressSanitizer and
# UndefinedBehaviorSanitizer.  Ends with one line "N passed, N failed".
#   TENSORC_CHECK_BUILDS="normal"  runs only the normal build.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
py=$(bash scripts/python.sh) || exit 1

builds=${TENSORC_CHECK_BUILDS:-"normal sanitize"}
passed=0 failed=0 status=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for b in $builds; do
  dir=build-check-$b
  san=OFF
  [ "$b" = sanitize ] && san=ON
  echo "== $b build ($dir)"
  if ! cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTENSORC_SANITIZE=$san \
        -DTENSORC_PYTHON="$py" >"$dir.cmake.log" 2>&1; then
    cat "$dir.cmake.log"; failed=$((failed + 1)); status=1; continue
  fi
  if ! ninja -C "$dir"; then
    failed=$((failed + 1)); status=1; continue
  fi
  log="$dir/lit.log"
  "$py" /usr/lib/llvm-14/build/utils/lit/lit.py -sv --time-tests "$dir/tests" 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  p=$(grep -E '^ *Passed *:' "$log" | awk -F: '{print $2}' | awk '{print $1}')
  f=$(grep -E '^ *(Failed|Unresolved|Timed Out) *:' "$log" | awk -F: '{s+=$2} END {print s+0}')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  [ -n "$p" ] || status=1
done
echo "check: $passed passed, $failed failed"
exit $status
