"""Runs Inputs/parallel.tc's executable with 1, 2, 3 and 7 threads: every
file must be byte-identical whatever the thread count, and agree with
NumPy.  Usage: parallel_check.py EXE WORKDIR"""
import os
import subprocess
import sys

import numpy as np

exe, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(7)
N, M = 301, 257  # 77357 points: parallel; 257 = 16 * 16 + 1: a tail
x = rng.standard_normal((N, M)).astype(np.float32)
y = rng.standard_normal((N, M)).astype(np.float32)
x[5, 100] = np.nan  # NaN propagates through max (a lane) and argmax
xd = x.astype(np.float64) * 1.5
xd[7, 256] = np.nan  # ... and through the tail
idx = rng.integers(0, N, 1000)  # repeated rows: the store runs in order
for name, v in dict(x=x, y=y, xd=xd, idx=idx).items():
    np.save(os.path.join(work, name + ".npy"), v)

with np.errstate(all="ignore"):
    z = np.zeros_like(x)
    z[idx] += y[idx] * np.arange(1, 1001, dtype=np.float32)[:, None]  # the last write wins
    want = {
        "e": np.exp(x) * y + 1, "rowsum": x.astype(np.float64).sum(1), "rowsum64": xd.sum(1),
        "colsum": x.astype(np.float64).sum(0), "rowmax": x.max(1), "rowmin": y.min(1), "rowmax64": xd.max(1),
        "argmax": x.argmax(1), "mean": x.astype(np.float64).mean(-1, keepdims=True), "scatter": z,
    }

outs = {}
for t in (1, 2, 3, 7):
    d = os.path.join(work, "t%d" % t)
    os.makedirs(d, exist_ok=True)
    args = [os.path.abspath(exe)] + ["%s=%s" % (n, os.path.abspath(os.path.join(work, n + ".npy")))
                                     for n in ("x", "y", "xd", "idx")] + ["--threads", str(t)]
    r = subprocess.run(args, cwd=d, capture_output=True, text=True)
    if r.returncode:
        sys.exit("threads %d: exit %d: %s" % (t, r.returncode, r.stderr))
    outs[t] = {n: open(os.path.join(d, n + ".npy"), "rb").read() for n in want}
    outs[t]["stdout"] = r.stdout.encode()

bad = 0
for t in (2, 3, 7):
    for n, b in outs[t].items():
        if b != outs[1][n]:
            print("FAIL %s differs between --threads 1 and --threads %d" % (n, t))
            bad += 1
d = os.path.join(work, "t1")
for n, w in want.items():
    got = np.load(os.path.join(d, n + ".npy"))
    w = np.asarray(w).astype(got.dtype)
    if got.shape != w.shape or not np.allclose(got, w, rtol=1e-5, atol=1e-5, equal_nan=True):
        print("FAIL %s: max error %g" % (n, np.nanmax(np.abs(got.astype(np.float64) - w))))
        bad += 1
    else:
        print("ok %s" % n)
print("failures: %d" % bad)
sys.exit(1 if bad else 0)
