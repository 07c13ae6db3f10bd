"""The first 20 SGD steps of the digits MLP, compiled, against NumPy.

Usage: digits_steps.py WORK_DIR [RUN_FLAG...]
(run by tests/examples/digits_steps.test; gpu/digits_steps.test adds
--device cuda for a build with --device=cuda --gpu-emulate).  Writes random initial weights
as W1.npy b1.npy W2.npy b2.npy and the first 20 * 32 rows of
examples/data/digits.csv as data.npy, runs digits_steps.tc (already
compiled to WORK_DIR/steps) with --params-in and --params-out, and repeats
the same 20 steps in NumPy, in float32: forward pass, cross-entropy,
gradients written by hand, W -= lr * grad.  Each step's printed loss must
agree to 1e-4 relative, and the weights written after the last step to
1e-4 relative (of the largest value) as well.
"""
import os
import subprocess
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small arrays: BLAS threads only cost time
import numpy as np

STEPS, BATCH, H, LR = 20, 32, 64, np.float32(0.3)
RTOL = 1e-4
f32 = np.float32

here = os.path.dirname(os.path.abspath(__file__))
work = sys.argv[1]
exe = os.path.join(work, "steps")

# the data: the first 640 rows, pixels then label
d = np.loadtxt(os.path.join(here, "..", "..", "..", "examples", "data", "digits.csv"),
               delimiter=",", comments="#", dtype=np.float32)[:STEPS * BATCH]
np.save(os.path.join(work, "data.npy"), d)

# initial weights of the same scale as the program's init (not its numbers);
# the biases are nonzero so that their gradients matter from the first step
rng = np.random.default_rng(20)
params = {
    "W1": (rng.standard_normal((64, H)) * np.sqrt(2.0 / 64)).astype(f32),
    "b1": (rng.standard_normal(H) * 0.01).astype(f32),
    "W2": (rng.standard_normal((H, 10)) * np.sqrt(2.0 / H)).astype(f32),
    "b2": (rng.standard_normal(10) * 0.01).astype(f32),
}
pin, pout = os.path.join(work, "params-in"), os.path.join(work, "params-out")
os.makedirs(pin, exist_ok=True)
for k, v in params.items():
    np.save(os.path.join(pin, k + ".npy"), v)

r = subprocess.run([exe, "data=" + os.path.join(work, "data.npy"), "lr=%r" % float(LR),
                    "--params-in", pin, "--params-out", pout] + sys.argv[2:], capture_output=True, text=True)
if r.returncode != 0:
    sys.exit("steps exited %d:\n%s%s" % (r.returncode, r.stdout, r.stderr))
got = [float(l.split()[3]) for l in r.stdout.splitlines() if l.startswith("step ")]
if len(got) != STEPS:
    sys.exit("expected %d 'step N loss L' lines, got:\n%s" % (STEPS, r.stdout))

# the same steps in NumPy
X = d[:, :-1] / f32(16.0)
y = d[:, -1].astype(np.int64)
W1, b1, W2, b2 = (params[k].copy() for k in ("W1", "b1", "W2", "b2"))
want = []
for s in range(STEPS):
    xb, yb = X[s * BATCH:(s + 1) * BATCH], y[s * BATCH:(s + 1) * BATCH]
    n = xb.shape[0]
    a = xb @ W1 + b1
    h = np.maximum(a, f32(0))
    z = h @ W2 + b2
    m = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(axis=1, keepdims=True)) + m
    logp = z - lse
    want.append(float(-logp[np.arange(n), yb].mean()))
    # d loss / d z = (softmax(z) - onehot(y)) / n
    dz = np.exp(logp)
    dz[np.arange(n), yb] -= f32(1)
    dz /= f32(n)
    dW2, db2 = h.T @ dz, dz.sum(axis=0)
    da = (dz @ W2.T) * (a > 0)
    dW1, db1 = xb.T @ da, da.sum(axis=0)
    W1, b1, W2, b2 = W1 - LR * dW1, b1 - LR * db1, W2 - LR * dW2, b2 - LR * db2

worst, bad = 0.0, []
for s, (g, w) in enumerate(zip(got, want)):
    rel = abs(g - w) / abs(w)
    worst = max(worst, rel)
    print("step %2d  tensorc %.7g  numpy %.7g  rel %.2e" % (s, g, w, rel))
    if rel > RTOL:
        bad.append(s)
for k, w in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
    g = np.load(os.path.join(pout, k + ".npy"))
    err = np.abs(g.astype(np.float64) - w).max() / np.abs(w).max()
    print("%s after %d steps: max error %.2e of max |%s|" % (k, STEPS, err, k))
    if g.dtype != np.float32 or g.shape != w.shape or err > RTOL:
        bad.append(k)
print("max relative loss error over %d steps: %.2e" % (STEPS, worst))
if bad:
    sys.exit("FAIL: beyond %g at %s" % (RTOL, bad))
print("20 steps match numpy")
