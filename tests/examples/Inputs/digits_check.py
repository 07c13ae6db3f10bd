"""Checks examples/digits.tc's last epoch line and its saved weights.

Usage: digits_check.py DIGITS_CSV OUT_TXT PARAMS_DIR
The last `epoch ... train accuracy A held-out accuracy B` line must have
A >= 0.97 and B >= 0.94; the weights written by --params-out, run through
the same forward pass in NumPy on the held-out rows (every 6th, from row
5), must give accuracy B again.
"""
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small arrays: BLAS threads only cost time
import numpy as np

TRAIN_MIN, HELD_MIN = 0.97, 0.94
csv, out, params = sys.argv[1:4]
last = [l.split() for l in open(out) if l.startswith("epoch ")][-1]
# epoch E loss L train accuracy A held-out accuracy B
train, held = float(last[6]), float(last[9])
ok = True
for name, v, lo in (("train", train, TRAIN_MIN), ("held-out", held, HELD_MIN)):
    good = v >= lo
    ok &= good
    print("%s accuracy %.4f %s %.2f" % (name, v, ">=" if good else "BELOW", lo))

d = np.loadtxt(csv, delimiter=",", comments="#", dtype=np.float32)
X, y = d[5::6, :-1] / np.float32(16), d[5::6, -1].astype(np.int64)
p = {k: np.load(os.path.join(params, k + ".npy")) for k in ("W1", "b1", "W2", "b2")}
z = np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
acc = float(np.mean(z.argmax(axis=1) == y))
print("numpy held-out accuracy with the saved weights: %.4f (%d rows)" % (acc, len(y)))
if abs(acc - held) > 0.5 / len(y):
    print("MISMATCH with the program's %.4f" % held)
    ok = False
sys.exit(0 if ok else 1)
