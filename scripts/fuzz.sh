#!/usr/bin/env bash
# The long differential fuzzing campaign (tests/fuzz/difftest.py, docs/testing.md):
# random valid programs compiled at -O0/-O2, fused and not, every fifth on the
# GPU emulator, compared with NumPy; each failure reduced and saved as a lit
# test under the output directory's found/ (copy the real bugs to
# tests/fuzz/found/, with a line saying what is wrong and XFAIL: *).
#   scripts/fuzz.sh --hours N [--seed S] [--out DIR] [--tensorc PATH] [-- more difftest.py options]
# The seeds start at S (default: from the clock, printed), one worker: the
# build machine is shared.  Ends with difftest.py's summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
hours=1 seed=$(( $(date +%s) % 1000000 * 1000 )) out=/tmp/tensorc-fuzz tensorc=build/bin/tensorc
while [ $# -gt 0 ]; do
  case "$1" in
    --hours) hours=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --tensorc) tensorc=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "scripts/fuzz.sh: unknown option '$1' (expected --hours, --seed, --out, --tensorc or --)" >&2; exit 2 ;;
  esac
done
[ -x "$tensorc" ] || { echo "scripts/fuzz.sh: no compiler at '$tensorc' (build first, or --tensorc PATH)" >&2; exit 2; }
py=$(bash scripts/python.sh) || exit 2
mkdir -p "$out"
echo "fuzz: seeds from $seed for $hours h; work in $out/work, failures in $out/found, log in $out/log"
"$py" tests/fuzz/difftest.py --tensorc "$tensorc" --work "$out/work" --seeds "$seed:$((seed + 1))" \
  --hours "$hours" --gpu-every 5 --found "$out/found" --max-failures 1000 "$@" 2>&1 | tee "$out/log" | grep -v '^  reduced to'
exit "${PIPESTATUS[0]}"
