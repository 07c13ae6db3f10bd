"""Accuracy of long float sums against NumPy (issue 13 item 6b, issue 14
item 7): f32 sum and mean of 10^6..10^7 elements, full, along rows and
columns, fused into an expression, and the fused reductions of softmax,
layer norm, variance and logsumexp, to rtol 1e-6.  The references are
computed in f64 and rounded once, so they are within 1e-7 of the exact
value; NumPy's own pairwise f32 sums are within 1e-6 of them too.  A sum
in one accumulator (or 16 partials of 62,500 elements each) misses this
by 10-1000x: `sum(full(10000000, 0.1))` was 0.6% off.  KStmt.block says
how the sums are blocked (passes/schedule.c)."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, np  # noqa: E402

KNOWN_FAILURES = {
}

TIGHT = (1e-6, 0.0)


def f(v):
    """An f64 value rounded once to f32: the reference."""
    return np.asarray(v, dtype=F64).astype(F32)


def ref(text):
    """The expectation `text` (NumPy, with f above in scope)."""
    def value(ns):
        env = dict(ns)
        env.update(f=f, F32=F32, F64=F64, np=np, oracle=oracle)
        return eval(text, env)
    return value


def build(s):
    # 1. constants: the example; every partial sum rounds the same
    # way, so a sequential sum drifts systematically
    p = s.program("full", "x: f32[2]")
    p.run(x=np.zeros(2, F32))
    p.check("sum(full(10000000, 0.1))", ref("f(np.float64(F32(0.1)) * 10000000)"), tol=TIGHT)
    p.check("mean(full(10000000, 0.1))", ref("f(np.float64(F32(0.1)))"), tol=TIGHT)
    p.check("sum(full(3000, 3000, 0.1))", ref("f(np.float64(F32(0.1)) * 9000000)"), tol=TIGHT)
    p.check("sum(ones(10000000) * 1.1)", ref("f(np.float64(F32(1.1)) * 10000000)"), tol=TIGHT)

    # 2. one long vector of positive values near 0.1 (no cancellation, so
    # the relative error is meaningful; near-equal values round alike, so
    # a sequential sum drifts as with constants)
    p = s.program("vector", "x: f32[N]")
    p.run(x=s.uniform(0.1, 0.11, (3000001,)))
    p.check("sum(x)", ref("f(x.astype(F64).sum())"), tol=TIGHT)
    p.check("mean(x)", ref("f(x.astype(F64).mean())"), tol=TIGHT)
    p.check("x.sum()", ref("f(x.astype(F64).sum())"), tol=TIGHT)
    p.check("sum(x * x + 1.0)", ref("f((x.astype(F64) * x + 1).sum())"), tol=TIGHT)

    # 3. row sums: a few long rows (the row kernel's reduction, rows in parallel)
    p = s.program("rows", "x: f32[R, C]")
    p.run(x=s.uniform(0.1, 0.11, (4, 1000003)))
    p.check("sum(x, axis=1)", ref("f(x.astype(F64).sum(1))"), tol=TIGHT)
    p.check("mean(x, axis=1)", ref("f(x.astype(F64).mean(1))"), tol=TIGHT)
    p.check("mean(x, axis=-1, keepdims=True)", ref("f(x.astype(F64).mean(-1, keepdims=True))"), tol=TIGHT)

    # 4. column sums: long columns (the reduced loop strides over rows)
    p = s.program("columns", "x: f32[R, C]")
    p.run(x=s.uniform(0.1, 0.11, (1000003, 3)))
    p.check("sum(x, axis=0)", ref("f(x.astype(F64).sum(0))"), tol=TIGHT)
    p.check("mean(x, axis=0)", ref("f(x.astype(F64).mean(0))"), tol=TIGHT)

    # 5. a full reduction of a matrix (two reduced loops)
    p = s.program("matrix", "x: f32[R, C]")
    p.run(x=s.uniform(0.1, 0.11, (1500, 1001)))
    p.check("sum(x)", ref("f(x.astype(F64).sum())"), tol=TIGHT)
    p.check("mean(x)", ref("f(x.astype(F64).mean())"), tol=TIGHT)
    p.check("sum(exp(x * 0.5))", ref("f(np.exp(x.astype(F64) * 0.5).sum())"), tol=TIGHT)

    # 6. softmax over long rows: its sum of exps is a fused reduction
    p = s.program("softmax", "x: f32[R, C]", header=["import nn"])
    p.run(x=s.normal((3, 1000000)))
    p.check("nn.softmax(x, axis=1) * 1000000.0",
            ref("f(np.exp(x.astype(F64) - x.max(1, keepdims=True)) / np.exp(x.astype(F64) - x.max(1, keepdims=True)).sum(1, keepdims=True) * 1e6)"),
            tol=(2e-6, 0.0))
    p.check("logsumexp(x, axis=1)", ref("f(oracle.logsumexp(x.astype(F64), 1))"), tol=TIGHT)

    # 7. layer norm over long rows: the fused mean and variance
    p = s.program("layernorm", "x: f32[R, C]")
    p.run(x=s.uniform(1.0, 3.0, (3, 1000000)))
    p.check("var(x, axis=1)", ref("f(x.astype(F64).var(1))"), tol=TIGHT)
    p.block("layer norm", [
        "mu = x.mean(axis=1, keepdims=True)",
        "d = x - mu",
        "v = (d * d).mean(axis=1, keepdims=True)",
        'save("mu.npy", mu)',
        'save("v.npy", v)',
        'save("y.npy", d / sqrt(v + 1e-5))',
    ], {"mu": ref("f(x.astype(F64).mean(1, keepdims=True))"),
        "v": ref("f(x.astype(F64).var(1, keepdims=True))"),
        "y": ref("f((x.astype(F64) - x.astype(F64).mean(1, keepdims=True)) / np.sqrt(x.astype(F64).var(1, keepdims=True) + 1e-5))")},
        tol=(1e-5, 1e-5))

    # 8. f64 sums keep f64 accuracy
    p = s.program("f64", "x: f64[N]")
    p.run(x=s.uniform(0.0, 1.0, (2000003,), dtype=F64))
    p.check("sum(x)", ref("np.sum(np.sort(x))"), tol=(1e-13, 0.0))
    p.check("mean(x)", ref("np.mean(np.sort(x))"), tol=(1e-13, 0.0))


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
