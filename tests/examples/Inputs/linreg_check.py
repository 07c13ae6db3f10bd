"""Checks examples/linreg.tc against the same gradient descent in NumPy
(the gradients of the mean squared error written out by hand here, where
the program gets them from grad()).

Usage: linreg_check.py EXAMPLES_DIR RESULTS_DIR
RESULTS_DIR/out.txt is the compiled program's stdout: its progress lines
and the fitted w and b, which must match NumPy's to float32 precision.
"""
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small arrays: BLAS threads only cost time
import numpy as np

examples, results = sys.argv[1], sys.argv[2]
d = np.loadtxt(f"{examples}/data/linreg.csv", delimiter=",", comments="#", skiprows=2).astype(np.float32)
X, y = d[:, :-1], d[:, -1]
w, b, lr = np.zeros(2, np.float32), np.float32(0), np.float32(0.5)
lines = []
for step in range(500):
    err = X @ w + b - y
    loss = (err ** 2).mean()
    gw = np.float32(2) * (X.T @ err) / np.float32(X.shape[0])  # d loss / d w
    gb = np.float32(2) * err.mean()                              # d loss / d b
    w = w - lr * gw
    b = b - lr * gb
    if step % 100 == 0:
        lines.append(("step", step, float(loss)))

out = open(f"{results}/out.txt").read().split("\n")
got_steps = [l.split() for l in out if l.startswith("step ")]
assert len(got_steps) == 5, out
for (_, s, mse), g in zip(lines, got_steps):
    assert int(g[1]) == s and abs(float(g[3]) - mse) <= 1e-5 * max(1.0, mse) + 1e-7, (g, mse)
wline = [l for l in out if l.startswith("w ")][0]
# "w [ 2.0001607 -3.0087616] b 0.48971882"
nums = wline.replace("[", " ").replace("]", " ").split()
gw = np.array([float(nums[1]), float(nums[2])], np.float32)
gb = float(nums[4])
assert np.allclose(gw, w, rtol=1e-5, atol=1e-6), (gw, w)
assert abs(gb - float(b)) < 1e-5, (gb, b)
# the true model: y = 2*x1 - 3*x2 + 0.5
assert np.allclose(gw, [2, -3], atol=0.05) and abs(gb - 0.5) < 0.05
print("linreg matches numpy:", wline)
