"""Linear algebra against NumPy: matmul/@ for 1-D.1-D, 2-D.1-D, 1-D.2-D,
2-D.2-D, batched 3-D@3-D and broadcast 3-D@2-D / 2-D@3-D, dot, outer;
f32 (exact small integers and random normals), f64, i64 and mixed dtypes."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {
}

TOL = (1e-5, 1e-5)


def exact64(expr):
    """The NumPy expression computed in f64 and rounded to f32 (the true value)."""
    def f(ns):
        ns64 = dict(ns)
        for k, v in ns.items():
            if isinstance(v, np.ndarray) and v.dtype == np.float32:
                ns64[k] = v.astype(F64)
        return np.asarray(eval(expr, ns64)).astype(F32)
    return f


def build(s):
    p = s.program("matmul", "a: f32[N, K], bm: f32[K, M], v: f32[K], w: f32[N], bat: f32[B, N, K], bat2: f32[B, K, M], "
                            "ra: f32[N, K], rb: f32[K, M], rv: f32[K], d: f64[K, M], ia: i64[N, K], ib: i64[K, M], "
                            "k32: i32[K, M]")
    for n, k, m, bsz in ((3, 4, 5, 2), (1, 7, 2, 3), (6, 1, 3, 1)):
        p.run(a=s.smallf((n, k)), bm=s.smallf((k, m)), v=s.smallf((k,)), w=s.smallf((n,)),
              bat=s.smallf((bsz, n, k)), bat2=s.smallf((bsz, k, m)), ra=s.normal((n, k)), rb=s.normal((k, m)),
              rv=s.normal((k,)), d=s.normal((k, m), F64), ia=s.ints(-5, 6, (n, k)), ib=s.ints(-5, 6, (k, m)),
              k32=s.ints(-5, 6, (k, m), I32))
    # small integers in f32: every product and sum is exact
    for e in ("a @ bm", "matmul(a, bm)", "a @ v", "v @ bm", "v @ v", "bat @ bat2", "bat @ bm", "a @ bat2",
              "v @ bat2", "bat @ v", "matmul(bat, bat2)", "a.T @ a", "a @ a.T", "bm.T @ a.T", "(a @ bm).T",
              "bat2.transpose(0, 2, 1) @ bat.transpose(0, 2, 1)", "a[:, ::-1] @ bm[::-1]", "a @ bm[:, :1]",
              "a @ bm + 1.0", "relu(a @ bm - 2.0)", "(a @ bm).sum(axis=1)", "a @ bm @ bm.T", "a[0] @ bm",
              "bat[0] @ bat2[-1]", "bat @ bat2[0]"):
        p.check(e)
    for e, want in (("dot(v, v)", "np.dot(v, v)"), ("dot(a, v)", "np.dot(a, v)"), ("dot(a, bm)", "np.dot(a, bm)"),
                    ("dot(v, bm)", "np.dot(v, bm)"), ("dot(2.0, v)", "np.dot(F32(2), v)"), ("dot(a, 3)", "a * F32(3)"),
                    ("dot(bat, bm)", "np.dot(bat, bm)"), ("dot(bat, v)", "np.dot(bat, v)"), ("dot(a, bat2)", "np.dot(a, bat2)"),
                    ("a.dot(v)", "a.dot(v)"), ("outer(v, w)", "np.outer(v, w)"), ("outer(a, v)", "np.outer(a, v)"),
                    ("outer(w, w)", "np.outer(w, w)"), ("outer(bm, bat)", "np.outer(bm, bat)")):
        p.check(e, want)
    # random normals: compared with the exact product
    for e in ("ra @ rb", "ra @ rv", "rv @ rb", "rv @ rv", "ra.T @ ra", "ra @ rb + rv @ rb", "dot(ra, rv)",
              "outer(rv, rv)", "ra @ ra.T"):
        p.check(e, exact64(e.replace("dot(", "np.dot(").replace("outer(", "np.outer(")), tol=TOL)
    # other dtypes and promotion
    for e, want in (("d.T @ d", None), ("rv @ d", "rv.astype(F64) @ d"), ("ra @ d", "ra.astype(F64) @ d"),
                    ("ia @ ib", None), ("ia @ v", "ia.astype(F32) @ v"), ("a @ ib", "a @ ib.astype(F32)"),
                    ("ia @ k32", None), ("dot(ia, ib)", "np.dot(ia, ib)"), ("outer(ia, k32)", "np.outer(ia, k32.astype(I64))"),
                    ("ia[0] @ ib", None), ("ia @ ib[:, 0]", None)):
        p.check(e, want)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
