"""Gradients against central finite differences in f64: for every
differentiable built-in (two shapes each, broadcasting included), a program
saves grad(f(x, ...), x) for a scalar f, usually sum(op(x) * w) with a fixed
random w, and the harness compares it with (f(x + eps) - f(x - eps)) / 2eps
computed by NumPy, element by element, eps = 1e-6.

Each case is one expression written so that it reads the same in tensorc and
in NumPy with the names of NP below (sum, exp, matmul, ...).  lib/nn.tc is
covered too: its losses and nn.linear the same way, and nn.dropout, whose
mask NumPy cannot draw, by running the program itself at x + eps and x - eps
(a fixed seed gives the same mask on every run; see dropout_by_runs)."""
import math
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F64, I64, np  # noqa: E402

KNOWN_FAILURES = {
}

EPS = 1e-6
TOL = (1e-5, 1e-6)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        r = np.squeeze(r, axis=axis) if axis is not None else r.reshape(())
    return r


def _cat(ts, axis=0):
    return np.concatenate(ts, axis=axis)


def _stack(ts, axis=0):
    return np.stack(ts, axis=axis)


class _NN:
    """lib/nn.tc in NumPy."""
    @staticmethod
    def log_softmax(x, axis=-1):
        return x - _lse(x, axis=axis, keepdims=True)

    @staticmethod
    def softmax(x, axis=-1):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)

    @staticmethod
    def cross_entropy(logits, labels):
        logp = _NN.log_softmax(logits, axis=1)
        return -np.mean(logp[np.arange(labels.shape[0]), labels])

    @staticmethod
    def mse(pred, target):
        return np.mean((pred - target) ** 2)

    @staticmethod
    def linear(x, W, b):
        return x @ W + b


# The NumPy meaning of the names the expressions use.
NP = dict(
    np=np, sum=np.sum, mean=np.mean, prod=np.prod, max=np.max, min=np.min,
    var=np.var, std=np.std, logsumexp=_lse,
    neg=np.negative, abs=np.abs, sign=np.sign, exp=np.exp, log=np.log, log1p=np.log1p,
    expm1=np.expm1, sqrt=np.sqrt, rsqrt=lambda x: 1.0 / np.sqrt(x), sin=np.sin, cos=np.cos,
    tan=np.tan, tanh=np.tanh, sigmoid=_sig, relu=lambda x: np.maximum(x, 0.0),
    gelu=lambda x: 0.5 * x * (1.0 + oracle.erf(x / math.sqrt(2.0))),
    softplus=lambda x: np.logaddexp(0.0, x), floor=np.floor, ceil=np.ceil, round=np.round,
    maximum=np.maximum, minimum=np.minimum, where=np.where, clip=np.clip,
    matmul=np.matmul, dot=np.dot, outer=np.outer, reshape=lambda x, *s: np.reshape(x, s),
    broadcast_to=lambda x, *s: np.broadcast_to(x, s), transpose=lambda x, *a: np.transpose(x, a or None), squeeze=np.squeeze,
    unsqueeze=np.expand_dims, flatten=lambda x: x.reshape(-1), flip=np.flip,
    cat=_cat, stack=_stack, detach=lambda x: x, copy=np.copy, astype=lambda x, t: x.astype(t),
    f64=np.float64, f32=np.float32, arange=np.arange, nn=_NN,
)


def fd_grad(expr, wrt, np_pre=()):
    """The central-difference gradient of scalar `expr` w.r.t. input `wrt`,
    after the NumPy statements np_pre."""
    def value(env):
        local = dict(env)
        for line in np_pre:
            exec(line, {}, local)
        return float(eval(expr, {}, local))

    def f(ns):
        env = {k: np.array(v, dtype=np.float64) if np.asarray(v).dtype.kind == "f" else v
               for k, v in ns.items()}
        env.update(NP)
        x = env[wrt]
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + EPS
            hi = value(env)
            x[i] = old - EPS
            lo = value(env)
            x[i] = old
            g[i] = (hi - lo) / (2 * EPS)
        return g
    return f


def check(p, expr, wrt="x", fd_expr=None, pre=(), np_pre=()):
    """grad(expr, wrt) after the statements pre, against finite differences
    of fd_expr (default: expr) after the NumPy statements np_pre; fd_expr may
    be the expected gradient as a function of the inputs instead (detach()
    needs it, since differences see through it)."""
    exp = fd_expr if callable(fd_expr) else fd_grad(fd_expr or expr, wrt, np_pre)
    p.check("grad(%s, %s)" % (expr, wrt), exp, tol=TOL, key="%s; grad(%s, %s)" % ("; ".join(pre), expr, wrt),
            pre=pre)


UNARY = ["neg", "abs", "exp", "sin", "cos", "tanh", "sigmoid", "relu", "gelu", "softplus", "copy"]
POSITIVE = ["log", "log1p", "sqrt", "rsqrt", "expm1", "tan"]
FLAT = ["sign", "floor", "ceil", "round"]


def build(s):
    for shape, tag in (((5,), "1d"), ((3, 4), "2d")):
        sig = "x: f64[%s], w: f64[%s], p: f64[%s], v: f64[%s]" % ((", ".join(str(d) for d in shape),) * 4)
        p = s.program("elementwise %s" % tag, sig)
        # x away from 0 (abs, relu kinks), p in (0.2, 1.2) for log, sqrt, tan
        x = s.normal(shape, F64)
        x = np.where(np.abs(x) < 0.1, x + np.sign(x) * 0.2 + 0.05, x)
        p.run(x=x, w=s.normal(shape, F64), p=s.uniform(0.2, 1.2, shape, F64), v=s.normal(shape, F64))
        for op in UNARY:
            check(p, "sum(%s(x) * w)" % op)
        for op in POSITIVE:
            check(p, "sum(%s(p) * w)" % op, "p")
        for op in FLAT:
            check(p, "sum(%s(x * 3.0) * w + x)" % op)
        check(p, "sum((x + v) * w)", "v")
        check(p, "sum((x - v) * w)", "v")
        check(p, "sum(x * v * w)")
        check(p, "sum(x / p * w)", "p")
        check(p, "sum(x / p * w)")
        check(p, "sum(p ** v * w)", "p")
        check(p, "sum(p ** v * w)", "v")
        check(p, "sum(p ** 3.0 * w)", "p")
        check(p, "sum(x % 0.7 * w)")
        check(p, "sum(x % p * w)", "p")
        check(p, "sum(maximum(x, v) * w)")
        check(p, "sum(minimum(x, v) * w)", "v")
        check(p, "sum(where(x > v, x * x, v * 2.0) * w)")
        check(p, "sum(where(x > v, x * x, v * 2.0) * w)", "v")
        check(p, "sum(clip(x, -0.5, 0.5) * w)")
        check(p, "sum(x.astype(f32).astype(f64) * w)", fd_expr=lambda ns: ns["w"])
        check(p, "sum(detach(x) * x * w)", fd_expr=lambda ns: ns["x"] * ns["w"])
        check(p, "sum(detach(x) * w)", fd_expr=lambda ns: 0.0 * ns["x"])
        check(p, "sum((x * w) ** 2) / sum(x * x)")

    # broadcasting: operands of different shapes
    p = s.program("broadcast", "x: f64[3, 4], r: f64[4], c: f64[3, 1], s: f64")
    p.run(x=s.normal((3, 4), F64), r=s.normal((4,), F64), c=s.normal((3, 1), F64), s=F64(0.7))
    for op in ("+", "-", "*"):
        check(p, "sum((x %s r) * x)" % op, "r")
        check(p, "sum((x %s c) * x)" % op, "c")
    check(p, "sum(x / (r * r + 1.0))", "r")
    check(p, "sum(maximum(x, c) * x)", "c")
    check(p, "sum(exp(x * s))", "s")
    check(p, "sum(broadcast_to(r, 3, 4) * x)", "r")
    check(p, "sum(where(x > 0.0, r, c) * x)", "r")
    check(p, "sum(where(x > 0.0, r, c) * x)", "c")

    # reductions: whole, along an axis, keepdims
    for shape, tag in (((6,), "1d"), ((3, 4), "2d")):
        dims = ", ".join(str(d) for d in shape)
        p = s.program("reduce %s" % tag, "x: f64[%s], w: f64[%s]" % (dims, dims))
        p.run(x=s.normal(shape, F64), w=s.normal(shape, F64))
        for op in ("sum", "mean", "prod", "max", "min", "var", "std", "logsumexp"):
            check(p, "%s(x * w)" % op)
            check(p, "sum(%s(x, axis=-1, keepdims=True) * x)" % op)
            if len(shape) == 2:
                check(p, "sum(%s(x, axis=0) * w[0])" % op)
        check(p, "var(x, ddof=1)")
        check(p, "std(x, ddof=1)")

    # linear algebra in every batching form
    p = s.program("linalg", "a: f64[3, 4], b: f64[4, 2], u: f64[4], t: f64[3], "
                            "ba: f64[2, 3, 4], bb: f64[2, 4, 2], w: f64[3, 2]")
    p.run(a=s.normal((3, 4), F64), b=s.normal((4, 2), F64), u=s.normal((4,), F64), t=s.normal((3,), F64),
          ba=s.normal((2, 3, 4), F64), bb=s.normal((2, 4, 2), F64), w=s.normal((3, 2), F64))
    check(p, "sum((a @ b) * w)", "a")
    check(p, "sum((a @ b) * w)", "b")
    check(p, "sum((a @ u) * t)", "a")
    check(p, "sum((a @ u) * t)", "u")
    check(p, "sum((u @ b) * b[0])", "u")
    check(p, "sum((u @ b) * b[0])", "b")
    check(p, "u @ u * 0.5", "u")
    check(p, "sum((ba @ bb) * w)", "ba")
    check(p, "sum((ba @ bb) * w)", "bb")
    check(p, "sum((ba @ b) * w)", "b")
    check(p, "sum((a @ bb) * w)", "a")
    check(p, "sum(matmul(ba, u) * t)", "u")
    check(p, "dot(u, u * 2.0)", "u")
    check(p, "sum(outer(t, u) * a)", "t")
    check(p, "sum(outer(t, u) * a)", "u")

    # movement
    p = s.program("movement", "x: f64[2, 3, 4], w: f64[24], m: f64[4, 3, 2], y: f64[2, 3, 4]")
    p.run(x=s.normal((2, 3, 4), F64), w=s.normal((24,), F64), m=s.normal((4, 3, 2), F64), y=s.normal((2, 3, 4), F64))
    check(p, "sum(reshape(x, 24) * w)")
    check(p, "sum(reshape(x, 6, 4) * reshape(w, 6, 4))")
    check(p, "sum(flatten(x) * w)")
    check(p, "sum(transpose(x) * m)")
    check(p, "sum(transpose(x, 2, 1, 0) * m)")
    check(p, "sum(transpose(x, 1, 2, 0) * y.reshape(3, 4, 2))")
    check(p, "sum(unsqueeze(x, 1) * y[:, None])")
    check(p, "sum(squeeze(unsqueeze(x, 0), 0) * y)")
    check(p, "sum(flip(x, axis=1) * y)")
    check(p, "sum(flip(x) * y)")
    check(p, "sum(cat([x, y * x], axis=1) * cat([y, y], axis=1))")
    check(p, "sum(cat([x, x * 2.0], axis=2) * cat([y, x], axis=2))")
    check(p, "sum(stack([x, y * x], axis=0) * stack([y, y], axis=0))")
    check(p, "sum(stack([x, x * x], axis=2) * stack([y, y], axis=2))")

    # indexing: basic, gather with repeats, index_set
    p = s.program("indexing", "x: f64[5, 4], w: f64[4], idx: i64[6], v: f64[3]")
    p.run(x=s.normal((5, 4), F64), w=s.normal((4,), F64), idx=np.array([0, 3, 3, 1, 4, 3], I64),
          v=s.normal((3,), F64))
    check(p, "sum(x[1] * w)")
    check(p, "sum(x[1:4, 2] * v)")
    check(p, "sum(x[::2] * w)")
    check(p, "sum(x[:, -1] * x[:, 0])")
    check(p, "sum(x[idx] * w)")
    check(p, "sum(x[idx, idx % 4] * x[idx, 0])")
    check(p, "sum(x[arange(5), idx[:5] % 4] * x[:, 1])")
    check(p, "sum((x[1] * 2.0) * w) + sum(x[idx][:, 1:] * v)")

    # index_set: x gets the adjoint outside the region, v the region
    check(p, "sum(y * w[None, :])", "x", pre=["y = x * 1.0", "y[1:4] = v[:, None] * x[0:3]"],
          np_pre=["y = x * 1.0", "y[1:4] = v[:, None] * x[0:3]"])
    check(p, "sum(y * w[None, :])", "v", pre=["y = x * 1.0", "y[1:4] = v[:, None] * x[0:3]"],
          np_pre=["y = x * 1.0", "y[1:4] = v[:, None] * x[0:3]"])
    check(p, "sum(y * x)", "v", pre=["y = x * 1.0", "y[1:4] = v[:, None]"], np_pre=["y = x * 1.0", "y[1:4] = v[:, None]"])
    check(p, "sum(y * x)", "v", pre=["y = x * 1.0", "y[idx[2:5], 1] = v"], np_pre=["y = x * 1.0", "y[idx[2:5], 1] = v"])
    check(p, "sum(y * x)", "v", pre=["y = x * 1.0", "y[2] = sum(v)"], np_pre=["y = x * 1.0", "y[2] = sum(v)"])
    check(p, "sum(y * y)", "x", pre=["y = x * 2.0", "y[:, 1] = 0.0"],
          np_pre=["y = x * 2.0", "y[:, 1] = 0.0"])

    # split, through its results
    p = s.program("split", "x: f64[4, 6], w: f64[4, 3]")
    p.run(x=s.normal((4, 6), F64), w=s.normal((4, 3), F64))
    check(p, "sum(a * w) + sum(b * b)", pre=["a, b = split(x, 2, axis=1)"],
          np_pre=["a, b = np.split(x, 2, axis=1)"])
    check(p, "sum(c * w[:2, :2] * 3.0)", pre=["c, d, e = split(x, 3, axis=1)", "c = c[:2]"],
          np_pre=["c, d, e = np.split(x, 3, axis=1)", "c = c[:2]"])

    # batch(): inside a batches() loop, the gradient with respect to the
    # whole data set scatters each batch's rows back
    p = s.program("batches", "X: f64[10, 3], w: f64[3]")
    p.run(X=s.normal((10, 3), F64), w=s.normal((3,), F64))
    for shuffle in ("False", "True"):
        p.check("g", lambda ns: (1.0 - np.tanh(ns["X"]) ** 2) * ns["w"], tol=TOL, key="batches shuffle=" + shuffle,
                pre=["g = zeros_like(X)", "for xb in batches(X, size=4, shuffle=%s):" % shuffle,
                     "    g = g + grad(sum(tanh(xb) * w), X)"])

    # the standard library's losses, as the digits example uses them
    p = s.program("nn", "x: f64[6, 5], labels: i64[6], t: f64[6, 5]", header=["import nn"])
    p.run(x=s.normal((6, 5), F64), labels=np.array([0, 4, 2, 2, 1, 3], I64), t=s.normal((6, 5), F64))
    check(p, "nn.cross_entropy(x, labels)")
    check(p, "nn.cross_entropy(x * x, labels)")
    # negative labels count from the end, as NumPy's indexing does; the
    # one-hot gradient x[arange(N), t] += v (passes/lower_index.c) with a
    # value that varies by row
    check(p, "nn.cross_entropy(x, labels - 5)")
    check(p, "sum(x[arange(6), labels] * x[arange(6), labels - 5])",
          fd_expr="np.sum(x[np.arange(6), labels] * x[np.arange(6), labels - 5])")
    check(p, "nn.mse(tanh(x), t)")
    check(p, "sum(nn.softmax(x, axis=1) * t)")
    check(p, "sum(nn.log_softmax(x, axis=0) * t)")

    # nn.linear: x @ W + b, for each of its three operands
    p = s.program("nn linear", "x: f64[6, 5], W: f64[5, 3], b: f64[3], t: f64[6, 3]", header=["import nn"])
    p.run(x=s.normal((6, 5), F64), W=s.normal((5, 3), F64), b=s.normal((3,), F64), t=s.normal((6, 3), F64))
    for wrt in ("x", "W", "b"):
        check(p, "sum(nn.linear(x, W, b) * t)", wrt)
    check(p, "nn.cross_entropy(nn.linear(x, W, b), argmax(t, axis=1))", "W",
          fd_expr="nn.cross_entropy(nn.linear(x, W, b), np.argmax(t, axis=1))")

    return [dropout_by_runs]


# nn.dropout draws its mask from the program's random stream, which NumPy
# cannot repeat; but a fixed seed gives the same mask on every run, so the
# program itself is the function: it saves f = sum(nn.dropout(x, p) * w) and
# grad(f, x), and is run again at x + eps and x - eps for each element.
DROPOUT = [  # (the call, its input, the weight, p, the input's shape)
    ("nn.dropout(x, 0.3)", "x", "w", 0.3, (3, 4)),
    ("nn.dropout(u)", "u", "v", 0.5, (7,)),  # the default p
]


def dropout_by_runs(s):
    d = os.path.join(s.work, "nn dropout")
    keys = ["nn dropout: grad(sum(%s * %s), %s) by runs at +-eps" % (call, weight, wrt)
            for call, wrt, weight, _, _ in DROPOUT]
    if s.filt is not None and not any(s.filt in k for k in keys):
        return
    rng = np.random.default_rng(5)
    inputs = {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((3, 4)),
              "u": rng.standard_normal(7), "v": rng.standard_normal(7)}
    lines = ["import nn", "def main(x: f64[3, 4], w: f64[3, 4], u: f64[7], v: f64[7]):", "    seed(7)"]
    for i, (call, wrt, weight, _, _) in enumerate(DROPOUT):
        lines += ['    f%d = sum(%s * %s)' % (i, call, weight),
                  '    save("f%d.npy", f%d)' % (i, i),
                  '    save("g%d.npy", grad(f%d, %s))' % (i, i, wrt)]
    rc, err = s.compile(d, "\n".join(lines) + "\n")
    if rc != 0:
        for k in keys:
            s.report(k, False, "compile: " + oracle.tail(err), lines, d)
        return

    def run(sub, values):
        rd = os.path.join(d, sub)
        os.makedirs(rd, exist_ok=True)
        argv = ["../prog"]
        for name, v in values.items():
            np.save(os.path.join(rd, name + ".npy"), v)
            argv.append("%s=%s.npy" % (name, name))
        rc, out, errtext = s.exec(rd, argv)
        if rc != 0:
            raise RuntimeError("%s: %s: %s" % (sub, oracle.describe_rc(rc), oracle.tail(errtext)))
        return rd

    for i, (call, wrt, weight, p, shape) in enumerate(DROPOUT):
        try:
            base = run("base", inputs)
            g = np.load(os.path.join(base, "g%d.npy" % i))
            fd = np.zeros(shape)
            for j in np.ndindex(shape):
                vals = []
                for sign in (1, -1):
                    moved = dict(inputs)
                    moved[wrt] = inputs[wrt].copy()
                    moved[wrt][j] += sign * EPS
                    rd = run("%s%s%s" % (wrt, "".join(str(k) for k in j), "+" if sign > 0 else "-"), moved)
                    vals.append(float(np.load(os.path.join(rd, "f%d.npy" % i))))
                fd[j] = (vals[0] - vals[1]) / (2 * EPS)
        except (RuntimeError, OSError, ValueError) as e:
            s.report(keys[i], False, str(e), lines, d)
            continue
        errs = []
        msg = oracle.compare(g, fd, TOL)
        if msg:
            errs.append("%s\n      got      %s\n      expected %s" % (msg, oracle.show(g), oracle.show(fd)))
        # the mask is not trivial: some elements dropped (gradient 0), the
        # others scaled by 1 / (1 - p) (to f32 precision: the float literals
        # in nn.dropout are f32 constants, even beside an f64 tensor)
        kept = g != 0
        if kept.all() or not kept.any():
            errs.append("the mask keeps %d of %d elements" % (kept.sum(), kept.size))
        elif not np.allclose(g[kept], inputs[weight][kept] / (1 - p), rtol=1e-6, atol=0):
            errs.append("kept elements' gradient is not w / (1 - p): %s" % oracle.show(g))
        s.report(keys[i], not errs, "; ".join(errs), lines, d)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
