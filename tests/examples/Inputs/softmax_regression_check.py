"""Checks examples/softmax_regression.tc against the same gradient descent
in NumPy.

Usage: softmax_regression_check.py DIGITS_CSV OUT_TXT
OUT_TXT is the program's stdout, run with its defaults and every=1: a
`step S loss L` line per step, then `train accuracy A` and `held-out
accuracy B`.  NumPy repeats the 500 steps in float32 from W = 0, b = 0
(the gradient of the mean cross-entropy written by hand); each loss must
agree to 1e-4 relative and each accuracy to within one image; and the
accuracies must reach 0.96 (train) and 0.93 (held-out).
"""
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small arrays: BLAS threads only cost time
import numpy as np

STEPS, LR, RTOL = 500, np.float32(1.0), 1e-4
TRAIN_MIN, HELD_MIN = 0.96, 0.93
f32 = np.float32

csv, out = sys.argv[1:3]
lines = open(out).read().splitlines()
got = [float(l.split()[3]) for l in lines if l.startswith("step ")]
acc = dict((l.rsplit(" ", 1)[0], float(l.rsplit(" ", 1)[1])) for l in lines if " accuracy " in l)
if len(got) != STEPS:
    sys.exit("expected %d step lines, got %d" % (STEPS, len(got)))

d = np.loadtxt(csv, delimiter=",", comments="#", dtype=f32)
X, y = d[:, :-1] / f32(16), d[:, -1].astype(np.int64)
test = np.zeros(len(d), bool)
test[5::6] = True
Xtr, ytr, Xte, yte = X[~test], y[~test], X[test], y[test]
n = len(ytr)
W, b = np.zeros((64, 10), f32), np.zeros(10, f32)
want = []
for s in range(STEPS):
    z = Xtr @ W + b
    m = z.max(axis=1, keepdims=True)
    logp = z - (np.log(np.exp(z - m).sum(axis=1, keepdims=True)) + m)
    want.append(float(-logp[np.arange(n), ytr].mean()))
    dz = np.exp(logp)
    dz[np.arange(n), ytr] -= f32(1)
    dz /= f32(n)
    W, b = W - LR * (Xtr.T @ dz), b - LR * dz.sum(axis=0)

ok = True
rel = [abs(g - w) / abs(w) for g, w in zip(got, want)]
worst = int(np.argmax(rel))
print("loss: step 0 %.7g (numpy %.7g), step %d %.7g (numpy %.7g)" % (got[0], want[0], STEPS - 1, got[-1], want[-1]))
print("max relative loss error over %d steps: %.2e (step %d)" % (STEPS, rel[worst], worst))
if rel[worst] > RTOL:
    print("FAIL: beyond %g at steps %s" % (RTOL, [s for s, r in enumerate(rel) if r > RTOL][:10]))
    ok = False
for name, Xs, ys, lo in (("train", Xtr, ytr, TRAIN_MIN), ("held-out", Xte, yte, HELD_MIN)):
    a = acc.get(name + " accuracy")
    npa = float(np.mean((Xs @ W + b).argmax(axis=1) == ys))
    good = a is not None and a >= lo and abs(a - npa) <= 1.5 / len(ys)
    ok &= good
    print("%s accuracy %s (numpy %.4f, %d images) %s %.2f" % (name, a, npa, len(ys), ">=" if good else "FAIL", lo))
sys.exit(0 if ok else 1)
