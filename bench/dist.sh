#!/usr/bin/env bash
# bench/dist.sh - data-parallel training on this machine (docs/distributed.md,
# "Scaling"): the digits MLP of examples/digits.tc on all 1797 images, its
# batches sharded (shard=True), built with --dist=mpi and run under mpirun
# with 1, 2 and 4 processes.  Prints a Markdown table: the time of one epoch
# (each rank's shard in batches of 32) and the all_reduce time per step
# (one bucketed MPI_Allreduce of the 4810 gradient values), as rank 0
# measures it (TENSORC_DIST_STATS=1).
#   bash bench/dist.sh [--build DIR] [--epochs N] [--reps R]
# The epoch time is (T(N epochs) - T(0 epochs)) / N, so that starting MPI,
# reading the data and the initialisers are left out; the best of R runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TENSORC_BUILD:-$root/build}
epochs=20
reps=3
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "usage: bash bench/dist.sh [--build DIR] [--epochs N] [--reps R]" >&2; exit 2 ;;
  esac
done
tensorc=$build/bin/tensorc
[ -x "$tensorc" ] || { echo "dist.sh: no $tensorc (build tensorc first, or --build DIR)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# examples/digits.tc's model and training loop, without its per-epoch
# scoring of the whole data set (which every rank would repeat)
cat > "$work/digits.tc" <<'TC'
import nn
param W1 = randn(64, 64) * sqrt(2.0 / 64)
param b1 = zeros(64)
param W2 = randn(64, 10) * sqrt(2.0 / 64)
param b2 = zeros(10)

def forward(x: f32[B, 64]) -> f32[B, 10]:
    h = relu(x @ W1 + b1)
    return h @ W2 + b2

def main(data: f32[N, 65], epochs: i64 = 20, lr: f32 = 0.1):
    X = data[:, :-1] / 16.0
    y = data[:, -1].astype(i64)
    for epoch in range(epochs):
        for xb, yb in batches(X, y, size=32, shuffle=True, shard=True):
            loss = nn.cross_entropy(forward(xb), yb)
            for p in params():
                p -= lr * grad(loss, p)
TC
"$tensorc" --dist=mpi -O2 "$work/digits.tc" -o "$work/digits"
mpirun=(mpirun --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none --timeout 600)
[ "$(id -u)" -ne 0 ] || mpirun+=(--allow-run-as-root)
data=$root/examples/data/digits.csv

# best wall time of $reps runs (seconds), and rank 0's stats line of the last
run() {
  local np=$1 e=$2 best=""
  for _ in $(seq "$reps"); do
    local t0 t1
    t0=$(date +%s.%N)
    TENSORC_DIST_STATS=1 "${mpirun[@]}" -np "$np" "$work/digits" data="$data" epochs="$e" --quiet \
      > /dev/null 2> "$work/stats.txt"
    t1=$(date +%s.%N)
    best=$(python3 -c "import sys; a, b = float(sys.argv[1]), sys.argv[2]; print(a if not b else min(a, float(b)))" \
      "$(echo "$t1 - $t0" | bc)" "$best")
  done
  echo "$best"
}

echo "| processes | epoch (ms) | speed-up | steps per rank per epoch | all_reduce per step (ms) |"
echo "| --- | --- | --- | --- | --- |"
base=""
for np in 1 2 4; do
  t0=$(run "$np" 0)
  tn=$(run "$np" "$epochs")
  stats=$(grep "rank 0 of" "$work/stats.txt" || true)
  python3 - "$np" "$t0" "$tn" "$epochs" "$stats" "$base" <<'PY' > "$work/row.txt"
import re, sys
np_, t0, tn, epochs, stats, base = sys.argv[1:]
epoch = (float(tn) - float(t0)) / int(epochs) * 1e3
m = re.search(r"(\d+) all_reduce calls, ([\d.]+) ms", stats)
calls, ms = (int(m.group(1)), float(m.group(2))) if m else (0, 0.0)
steps = calls // int(epochs) if calls else 0
per = "%.3f" % (ms / calls) if calls and int(np_) > 1 else "-"
speed = "%.2fx" % (float(base) / epoch) if base else "1.00x"
print("| %s | %.1f | %s | %s | %s |" % (np_, epoch, speed, steps or "%d" % -(-1797 // 32), per))
print("BASE %.6f" % epoch)
PY
  grep -v '^BASE' "$work/row.txt"
  [ -n "$base" ] || base=$(grep '^BASE' "$work/row.txt" | cut -d' ' -f2)
done
echo
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $epochs epochs, best of $reps runs"
