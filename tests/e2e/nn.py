"""The standard library lib/nn.tc (softmax, log_softmax, cross_entropy,
mse, one_hot, accuracy, linear, dropout): forward values against NumPy.
Their gradients are checked against finite differences in gradients.py."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I64, np  # noqa: E402

KNOWN_FAILURES = {
}

TOL = (1e-5, 1e-6)
# x * 100 makes log_softmax subtract numbers of ~300 in f32: absolute error ~3e-5
LOOSE = (1e-5, 1e-4)


def softmax(a, axis):
    a = a.astype(F64)
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(F32)


def log_softmax(a, axis):
    a = a.astype(F64)
    m = a.max(axis=axis, keepdims=True)
    return (a - m - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).astype(F32)


def layer_norm(z, g):
    z = z.astype(F64)
    d = z - z.mean(axis=1, keepdims=True)
    return (d / np.sqrt((d * d).mean(axis=1, keepdims=True) + 1e-5) * g).astype(F32)


def softmax64(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_grad(z, t, axis=1):
    """d/dz sum(softmax(z) * t) = p * (t - sum(p * t)), p = softmax(z)."""
    z, t = z.astype(F64), t.astype(F64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    return (p * (t - (p * t).sum(axis=axis, keepdims=True))).astype(F32)


def cross_entropy_grad(z, y):
    """d/dz mean(-log_softmax(z)[i, y[i]]) = (softmax(z) - onehot(y)) / N."""
    z = z.astype(F64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)


def descend(z, y, steps=3, lr=50.0):
    x = z.astype(F64)
    for _ in range(steps):
        x = x - lr * cross_entropy_grad(x, y)
    return x


def log_softmax_grad(z, t):
    """d/dz sum(log_softmax(z) * t) = t - softmax(z) * sum(t)."""
    z, t = z.astype(F64), t.astype(F64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return t - e / e.sum(axis=1, keepdims=True) * t.sum(axis=1, keepdims=True)


def dropout_check(got, ns):
    """Each value is either dropped (0) or kept and scaled by 1 / (1 - p)."""
    x = ns["x"]
    kept = np.isclose(got, x * F32(2), rtol=1e-6, atol=0)
    if got.shape != x.shape or got.dtype != np.dtype(F32):
        return "got %s%s, expected float32%s" % (got.dtype, got.shape, x.shape)
    if not np.all(kept | (got == 0)):
        return "a value is neither 0 nor 2x: %s vs %s" % (got, x)
    return None


def build(s):
    p = s.program("nn", "x: f32[N, 5], y: i64[N], q: f32[N, 5], W: f32[5, 3], b: f32[3]", header=["import nn"])
    for n in (4, 1):
        p.run(x=s.normal((n, 5), scale=3.0), y=s.ints(0, 5, (n,)), q=s.normal((n, 5)), W=s.normal((5, 3)),
              b=s.normal((3,)))
    p.check("nn.softmax(x)", lambda ns: softmax(ns["x"], -1), tol=TOL)
    p.check("nn.softmax(x, axis=0)", lambda ns: softmax(ns["x"], 0), tol=TOL)
    p.check("nn.softmax(x * 100.0)", lambda ns: softmax(ns["x"] * F32(100), -1), tol=LOOSE)
    p.check("nn.log_softmax(x)", lambda ns: log_softmax(ns["x"], -1), tol=TOL)
    p.check("nn.log_softmax(x * 100.0, axis=1)", lambda ns: log_softmax(ns["x"] * F32(100), 1), tol=LOOSE)
    p.check("nn.cross_entropy(x, y)",
            lambda ns: F32(-log_softmax(ns["x"], 1).astype(F64)[np.arange(len(ns["y"])), ns["y"]].mean()), tol=TOL)
    p.check("nn.mse(x, q)", lambda ns: F32(((ns["x"].astype(F64) - ns["q"]) ** 2).mean()), tol=TOL)
    p.check("nn.one_hot(y, 5)", lambda ns: np.eye(5, dtype=F32)[ns["y"]])
    p.check("nn.accuracy(x, y)", lambda ns: F32((ns["x"].argmax(axis=1) == ns["y"]).mean()), tol=TOL)
    p.check("nn.linear(x, W, b)", lambda ns: (ns["x"].astype(F64) @ ns["W"] + ns["b"]).astype(F32), tol=TOL)
    p.check("nn.dropout(x, 0.5)", checker=dropout_check)

    # Rows longer than a vector register and not a multiple of one: a row
    # kernel's stages run 16 points at a time and its reductions in groups
    # of 64, then the last points masked (codegen/cpu_kernel.c).
    r = s.program("rows", "z: f32[N, C], t: i64[N], g: f32[C]", header=["import nn"])
    for n, c in ((3, 1000), (2, 77), (2, 64)):
        r.run(z=s.normal((n, c), scale=3.0), t=s.ints(0, c, (n,)), g=s.normal((c,)))
    r.check("nn.softmax(z)", lambda ns: softmax(ns["z"], -1), tol=TOL)
    r.check("nn.log_softmax(z)", lambda ns: log_softmax(ns["z"], -1), tol=TOL)
    r.check("nn.cross_entropy(z, t)",
            lambda ns: F32(-log_softmax(ns["z"], 1).astype(F64)[np.arange(len(ns["t"])), ns["t"]].mean()), tol=TOL)
    r.check("z.sum(axis=1)", lambda ns: ns["z"].astype(F64).sum(axis=1).astype(F32), tol=TOL)
    r.check("z.max(axis=1)", lambda ns: ns["z"].max(axis=1))
    r.check("(z - z.mean(axis=1, keepdims=True)) / sqrt(((z - z.mean(axis=1, keepdims=True)) * "
            "(z - z.mean(axis=1, keepdims=True))).mean(axis=1, keepdims=True) + 1e-5) * g",
            lambda ns: layer_norm(ns["z"], ns["g"]), tol=TOL)

    # passes/row_scratch.c: rows of up to 16384 bytes go through a
    # per-thread scratch row, longer ones through the output's own row;
    # outputs of 8 MiB or more are stored non-temporally where a row
    # starts on a 64-byte boundary (C = 512, 1024), plainly where it does
    # not (C = 1001) and in the masked last vector.  Softmax's backward
    # keeps exp in the scratch row.
    big = s.program("big_rows", "z: f32[N, C], t: f32[N, C], g: f32[C]", header=["import nn"])
    for n, c in ((2048, 1024), (2100, 1001), (4100, 512), (3, 5000), (5, 4096)):
        big.run(z=s.normal((n, c), scale=3.0), t=s.normal((n, c)), g=s.normal((c,)))
    big.check("nn.softmax(z)", lambda ns: softmax(ns["z"], -1), tol=TOL)
    big.check("nn.log_softmax(z)", lambda ns: log_softmax(ns["z"], -1), tol=TOL)
    big.check("(z - z.mean(axis=1, keepdims=True)) / sqrt(((z - z.mean(axis=1, keepdims=True)) * "
              "(z - z.mean(axis=1, keepdims=True))).mean(axis=1, keepdims=True) + 1e-5) * g",
              lambda ns: layer_norm(ns["z"], ns["g"]), tol=TOL)
    big.check("grad(sum(nn.softmax(z, axis=1) * t), z)", lambda ns: softmax_grad(ns["z"], ns["t"]), tol=TOL)
    # passes/exp_once.c: the backward of log_softmax and cross-entropy
    # takes exp(z - lse) from the exp(z - max) of the forward's logsumexp,
    # kept in the scratch row (the output's row for rows over 16 KiB); the
    # output stored non-temporally at 8 MiB.  f64 too.
    # descend: a loop's carried value, its new block allocated in the loop
    # body right before the kernel that reads the old one
    ce = s.program("big_ce", "z: f32[N, C], y: i64[N], t: f32[N, C]", header=[
        "import nn", "def descend(x, y):", "    for i in range(3):",
        "        x = x - 50.0 * grad(nn.cross_entropy(x, y), x)", "    return x"])
    ce64 = s.program("big_ce64", "z: f64[N, C], y: i64[N]", header=["import nn"])
    for n, c in ((2048, 1024), (3, 5000), (5, 77)):
        # t: a distribution over the row (a soft target), as a user's; a row of
        # normal values sums to ~sqrt(C), and t - p * sum(t) then cancels
        # more than f32's tolerance allows, before this pass as after
        ce.run(z=s.normal((n, c), scale=3.0), y=s.ints(0, c, (n,)), t=F32(np.abs(s.normal((n, c))) / c))
        ce64.run(z=s.normal((n, c), dtype=F64, scale=3.0), y=s.ints(0, c, (n,)))
    ce.check("grad(nn.cross_entropy(z, y), z)", lambda ns: F32(cross_entropy_grad(ns["z"], ns["y"])), tol=TOL)
    ce.check("grad(sum(nn.log_softmax(z) * t), z)", lambda ns: F32(log_softmax_grad(ns["z"], ns["t"])), tol=TOL)
    ce.check("exp(nn.log_softmax(z))", lambda ns: softmax(ns["z"], -1), tol=TOL)
    ce.check("descend(z, y)", lambda ns: F32(descend(ns["z"], ns["y"])), tol=TOL)
    ce64.check("grad(nn.cross_entropy(z, y), z)", lambda ns: cross_entropy_grad(ns["z"], ns["y"]), tol=(1e-12, 1e-14))
    # rows of a rank-3 tensor (a chain of rows loops): the same scratch row
    # and streaming stores; (4, 600, 1024) is over 8 MiB, rows of 5000 over
    # the 16 KiB block.  The gradient in a program of its own: with the
    # forward softmax beside it, the two share exp's buffer, which is then
    # not the kernel's own and stays in memory.
    shapes3 = ((4, 600, 1024), (2, 3, 5000), (3, 7, 33))
    big3 = s.program("big_rows3", "z: f32[B, T, C]", header=["import nn"])
    big3g = s.program("big_rows3_grad", "z: f32[B, T, C], t: f32[B, T, C]", header=["import nn"])
    for shape in shapes3:
        z = s.normal(shape, scale=3.0)
        big3.run(z=z)
        big3g.run(z=z, t=s.normal(shape))
    big3.check("nn.softmax(z)", lambda ns: softmax(ns["z"], -1), tol=TOL)
    big3.check("nn.log_softmax(z)", lambda ns: log_softmax(ns["z"], -1), tol=TOL)
    big3g.check("grad(sum(nn.softmax(z) * t), z)", lambda ns: softmax_grad(ns["z"], ns["t"], -1), tol=TOL)
    big64 = s.program("big_rows64", "z: f64[N, C]", header=["import nn"])
    for n, c in ((1100, 1000), (1024, 1024), (2, 2100)):
        big64.run(z=s.normal((n, c), dtype=F64, scale=3.0))
    big64.check("nn.softmax(z)", lambda ns: softmax64(ns["z"]), tol=(1e-12, 1e-14))


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
