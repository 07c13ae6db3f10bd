#!/usr/bin/env bash
# bench/dist.sh - data-parallel training on this machine (docs/distributed.md,
# "Checking scaling"): the digits MLP of examples/digits.tc on all 1797
# images, its batches sharded (shard=True), built with --dist=mpi and run
# under mpirun with 1, 2 and 4 processes, twice: its 4810 gradient values
# in one bucket (the default 25 MiB: the all-reduce comes after the whole
# backward pass, nothing to overlap, as before the overlap was built) and
# in two (--dist-bucket=4000: b2, W2, b1's all-reduce overlaps W1's
# gradient).  Prints a Markdown table: the time of one epoch (each rank's
# shard in batches of 32) and the all-reduce time per step as rank 0
# measures it (TENSORC_DIST_STATS=1: the time spent in the all-reduces'
# starts and waits, what the overlap left exposed).
#   bash bench/dist.sh [--build DIR] [--epochs N] [--reps R]
# The epoch time is (T(N epochs) - T(0 epochs)) / N, so that starting MPI,
# reading the data and the initialisers are left out; the best of R runs,
# the two builds' runs interleaved (the machine's load changes).
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
"$tensorc" --dist=mpi -O2 "$work/digits.tc" -o "$work/one"
"$tensorc" --dist=mpi --dist-bucket=4000 -O2 "$work/digits.tc" -o "$work/two"
mpirun=(mpirun --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none --timeout 600)
[ "$(id -u)" -ne 0 ] || mpirun+=(--allow-run-as-root)
export TENSORC_DIST_STATS=1
python3 - "$work" "$root/examples/data/digits.csv" "$epochs" "$reps" "${mpirun[@]}" <<'PY'
import math, re, subprocess, sys, time
work, data, epochs, reps, mpirun = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
builds = [("one", "1"), ("two", "2")]

def run(exe, np_, e):
    """(wall seconds, rank 0's all-reduce ms) of one run"""
    t = time.monotonic()
    p = subprocess.run(mpirun + ["-np", str(np_), "%s/%s" % (work, exe), "data=" + data, "epochs=%d" % e, "--quiet"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True, check=True)
    t = time.monotonic() - t
    m = re.search(r"rank 0 of \d+: \d+ all_reduce calls, ([\d.]+) ms", p.stderr)
    return t, float(m.group(1)) if m else 0.0

print("| processes | buckets | epoch (ms) | speed-up | steps per rank per epoch | all_reduce per step (ms) |")
print("| --- | --- | --- | --- | --- | --- |")
base = {}
for np_ in (1, 2, 4):
    best = {b: [math.inf, math.inf, math.inf] for b, _ in builds}  # T(0), T(N), all-reduce ms
    for _ in range(reps):
        for b, _n in builds:
            t0, _ms = run(b, np_, 0)
            tn, ms = run(b, np_, epochs)
            best[b] = [min(best[b][0], t0), min(best[b][1], tn), min(best[b][2], ms)]
    steps = math.ceil(math.ceil(1797 / np_) / 32)  # each rank's shard, in batches of 32
    for b, n in builds:
        epoch = (best[b][1] - best[b][0]) / epochs * 1e3
        base.setdefault(b, epoch)
        per = "%.3f" % (best[b][2] / (steps * epochs)) if np_ > 1 else "-"
        print("| %d | %s | %.1f | %.2fx | %d | %s |" % (np_, n, epoch, base[b] / epoch, steps, per))
PY
echo
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $epochs epochs, best of $reps runs"
