"""Linear algebra against NumPy: matmul/@ for 1-D.1-D, 2-D.1-D, 1-D.2-D,
2-D.2-D, batched 3-D@3-D and broadcast 3-D@2-D / 2-D@3-D, dot, outer;
f32 (exact small integers and random normals), f64, i64 and mixed dtypes;
operands transposed in their last two axes (read with a transpose flag)
for f32, f64, i32, i64 and bool, 2-D and batched."""
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

    build_transposed(s)


def build_transposed(s):
    """Operands that are transposes of their last two axes: read where they
    are stored, with a transpose flag (no transpose kernel); each dtype,
    2-D and batched, as either operand or both, in a fused epilogue (its
    row blocks: a symbolic M, and a constant one of a single block)."""
    p = s.program("matmul_t", "at: f32[K, N], bm: f32[K, M], bt: f32[M, K], v: f32[K], bat: f32[B, N, K], "
                              "batt: f32[B, K, N], bat2: f32[B, K, M], bat2t: f32[B, M, K], c6: f32[K, 6], "
                              "rat: f32[K, N], rbt: f32[M, K], dt: f64[K, N], d: f64[K, M], iat: i64[K, N], "
                              "ibt: i64[M, K], ib: i64[K, M], jat: i32[K, N], jbt: i32[M, K], jb: i32[K, M], "
                              "pt: bool[K, N], q: bool[K, M], qt: bool[M, K]")
    for n, k, m, bsz in ((3, 4, 5, 2), (1, 7, 2, 3), (6, 1, 3, 1)):
        p.run(at=s.smallf((k, n)), bm=s.smallf((k, m)), bt=s.smallf((m, k)), v=s.smallf((k,)),
              bat=s.smallf((bsz, n, k)), batt=s.smallf((bsz, k, n)), bat2=s.smallf((bsz, k, m)),
              bat2t=s.smallf((bsz, m, k)), c6=s.smallf((k, 6)), rat=s.normal((k, n)), rbt=s.normal((m, k)),
              dt=s.normal((k, n), F64), d=s.normal((k, m), F64), iat=s.ints(-5, 6, (k, n)),
              ibt=s.ints(-5, 6, (m, k)), ib=s.ints(-5, 6, (k, m)), jat=s.ints(-5, 6, (k, n), I32),
              jbt=s.ints(-5, 6, (m, k), I32), jb=s.ints(-5, 6, (k, m), I32), pt=s.bools((k, n)),
              q=s.bools((k, m)), qt=s.bools((m, k)))
    # small integers in f32: exact
    for e in ("at.T @ bm", "at.T @ bt.T", "bt @ at", "bat @ bt.T", "at.T @ bat2", "v @ bt.T", "at.T @ v",
              "batt.transpose(0, 2, 1) @ bat2", "bat @ bat2t.transpose(0, 2, 1)",
              "batt.transpose(0, 2, 1) @ bat2t.transpose(0, 2, 1)", "batt.transpose(0, 2, 1) @ bm",
              "matmul(at.T, bat2t.transpose(0, 2, 1))", "at.T @ at", "bt @ bt.T",
              "at.T @ bm + at.T.sum(axis=1, keepdims=True)", "relu(at.T @ bm - 2.0)", "relu(at.T @ bt.T + 1.0)",
              "at.T @ bt.T * 0.5 + bat[0] @ bm", "relu(c6.T @ bm - 1.0)", "c6.T @ bt.T - 3.0",
              "(at.T @ bm).T @ at.T"):
        p.check(e)
    p.check("dot(at.T, bm)", "np.dot(at.T, bm)")
    p.check("dot(bt, at.T.T).T", "np.dot(bt, at).T")
    p.check("transpose(batt, (0, 2, 1)) @ transpose(bat2t, 0, -1, -2)",
            "batt.transpose(0, 2, 1) @ bat2t.transpose(0, 2, 1)")
    # random normals against the exact product
    for e in ("rat.T @ rbt.T", "rat.T @ bm", "relu(rat.T @ rbt.T)"):
        p.check(e, exact64(e), tol=TOL)
    # other dtypes: f64, i64, i32 (wrapping as NumPy's), bool (or of ands), promotion
    for e, want in (("dt.T @ d", None), ("dt.T @ rbt.T", "dt.T @ rbt.T.astype(F64)"), ("iat.T @ ib", None),
                    ("iat.T @ ibt.T", None), ("ibt @ iat", None), ("jat.T @ jb", None), ("jat.T @ jbt.T", None),
                    ("jbt @ jat", None), ("pt.T @ q", None), ("pt.T @ qt.T", None), ("qt @ pt", None),
                    ("iat.T @ bt.T", "iat.T.astype(F32) @ bt.T"), ("jat.T @ ibt.T", "jat.T.astype(I64) @ ibt.T")):
        p.check(e, want)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
