"""Compares two runs of one program: the CPU's and the GPU's (emulated).

Usage: compare_runs.py RTOL CPU_OUT GPU_OUT [CPU_PARAMS GPU_PARAMS]
(tests/examples/gpu/*.test).  Every line with 'loss L' (a step's or an
epoch's) must agree to RTOL relative; the other numbers on those lines
(accuracies) to 1e-3 absolute.  With two params directories, every
NAME.npy must be the same shape and dtype and agree to RTOL relative (of
the largest value); `bitwise` as RTOL asks for the same bits.
"""
import os
import re
import sys

import numpy as np

rtol_arg, cpu_out, gpu_out = sys.argv[1:4]
bitwise = rtol_arg == "bitwise"
rtol = 0.0 if bitwise else float(rtol_arg)


def losses(path):
    rows = []
    for line in open(path):
        m = re.search(r"\bloss ([-+0-9.eE]+|nan|inf)", line)
        if m:
            rows.append((line.strip(), float(m.group(1)), [float(x) for x in re.findall(r"accuracy ([0-9.]+)", line)]))
    return rows


a, b = losses(cpu_out), losses(gpu_out)
if not a or len(a) != len(b):
    sys.exit("loss lines: %d on the CPU, %d on the GPU" % (len(a), len(b)))
worst = 0.0
for (la, va, acc_a), (lb, vb, acc_b) in zip(a, b):
    err = abs(va - vb) / max(abs(va), 1e-30)
    worst = max(worst, err)
    if (va != vb) if bitwise else err > rtol:
        sys.exit("loss differs beyond %s:\n  cpu: %s\n  gpu: %s" % (rtol_arg, la, lb))
    if any(abs(x - y) > 1e-3 for x, y in zip(acc_a, acc_b)):
        sys.exit("accuracy differs:\n  cpu: %s\n  gpu: %s" % (la, lb))
print("%d loss lines agree, max relative difference %.3g (limit %s)" % (len(a), worst, rtol_arg))

if len(sys.argv) > 5:
    pa, pb = sys.argv[4:6]
    names = sorted(f for f in os.listdir(pa) if f.endswith(".npy"))
    if not names or names != sorted(f for f in os.listdir(pb) if f.endswith(".npy")):
        sys.exit("params differ in their files: %s vs %s" % (os.listdir(pa), os.listdir(pb)))
    for n in names:
        x, y = np.load(os.path.join(pa, n)), np.load(os.path.join(pb, n))
        if x.shape != y.shape or x.dtype != y.dtype:
            sys.exit("%s: %s %s on the CPU, %s %s on the GPU" % (n, x.dtype, x.shape, y.dtype, y.shape))
        if bitwise:
            same = x.tobytes() == y.tobytes()
        else:
            same = np.max(np.abs(x - y)) <= rtol * max(np.max(np.abs(x)), 1e-30)
        if not same:
            sys.exit("%s differs: max abs difference %g" % (n, np.max(np.abs(x.astype(np.float64) - y))))
    print("params agree (%s): %s" % (rtol_arg, " ".join(names)))
