"""Run-time rules against NumPy (issue 13): slice bounds known only at run
time (x[:i], x[i:j], with steps, on 1-D and 2-D tensors, read and assigned)
are clamped and count from the end when negative, as NumPy's; each program
runs on seven pairs of bounds (in range, past either end, negative,
crossed, empty).  The gradient of max/min reductions keeps the input's
dtype (f32 stays f32).  The errors (indices out of range) are lit tests:
tests/runtime/index_errors.test."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {}


def slices(s):
    p = s.program("slice", "x: f32[N], m: f32[A, B], li: i64[N], i: i64, j: i64")
    # i and j: in range, past the end, negative, past the start, crossed
    for i, j in ((2, 4), (7, -2), (-2, 9), (-9, 3), (4, 1), (0, 0), (-1, -9)):
        p.run(x=s.normal((5,)), m=s.normal((4, 6)), li=s.ints(-9, 9, (5,)), i=i, j=j, label="i%d_j%d" % (i, j))
    for e in ("x[:i]", "x[i:]", "x[i:j]", "x[-i:]", "x[:j]", "x[i:j:2]", "x[j:i:-1]", "x[i::-1]", "x[::-1][:i]",
              "m[i:, :j]", "m[:, i:j]", "m[i:j, ::2]", "li[i:j]", "x[i:i + 3]", "x[i:j][::-1]"):
        p.check(e)
    p.check("x[:i] * 2.0 + 1.0", "x[:i] * F32(2) + F32(1)")
    p.check("sum(x[i:j])", "np.float32(np.sum(x[i:j].astype(F64)))", tol=(1e-5, 1e-5))
    p.check("sum(m[i:j], axis=0)", "np.sum(m[i:j], 0)", tol=(1e-5, 1e-5))
    p.check("x[i:].shape[0]", "np.int64(x[i:].shape[0])")
    p.block("z[i:j] = 0.0", ["z = x", "z[i:j] = 0.0", 'save("setij.npy", z)'],
            {"setij": "setitem(x, slice(i, j), 0.0)"})


def maxmin_grads(s):
    # the gradient of max/min keeps x's dtype (it came out f64 for f32 x)
    p = s.program("gradmax", "x: f32[N, M], w: f64[N, M]")
    p.run(x=s.normal((4, 5)), w=s.normal((4, 5), dtype=F64))
    hit = "(lambda a, m: (a == m).astype(a.dtype) / (a == m).sum(%s).astype(a.dtype))"
    p.check("grad(sum(max(x, axis=1)), x)", (hit % "1, keepdims=True") + "(x, x.max(1, keepdims=True))")
    p.check("grad(sum(min(x, axis=0)), x)", (hit % "0, keepdims=True") + "(x, x.min(0, keepdims=True))")
    p.check("grad(max(x), x)", (hit % "") + "(x, x.max())")
    p.check("grad(min(w), w)", (hit % "") + "(w, w.min())")
    p.check("grad(sum(max(w, axis=1)), w)", (hit % "1, keepdims=True") + "(w, w.max(1, keepdims=True))")


def build(s):
    slices(s)
    maxmin_grads(s)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
