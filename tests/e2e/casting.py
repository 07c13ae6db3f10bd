"""astype between every pair of f32 f64 i32 i64 bool, against NumPy's
astype (C casts: floats truncate toward zero, bool is x != 0, NaN is True,
wide integers wrap)."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {
}

DT = {"f32": "F32", "f64": "F64", "i32": "I32", "i64": "I64", "bool": "bool"}


def build(s):
    p = s.program("cast", "x: f32[N], d: f64[N], k: i32[N], i: i64[N], bb: bool[N], big: i64[N], z: f32[N]")
    xs = np.array([-3.7, -0.5, 0.0, 0.5, 2.9, 100.25, -0.0, 1e6 + 0.5, -2.5, 7.999, 1.0, -1.0], F32)
    ds = np.array([-3.7, -0.5, 0.0, 0.5, 2.9, 0.1, -0.0, 123456789.75, 16777217.0, -1e9, 1e-40, 1e15], F64)
    big = np.array([2 ** 31 + 5, -2 ** 31 - 7, 2 ** 40 + 3, 2 ** 24 + 1, 2 ** 53 + 1, -1, 0, 1,
                    2 ** 62, -2 ** 62, 12345, 2 ** 32], I64)
    z = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, 1, 2, 3, 4, 5, 6], F32)
    n = len(xs)
    p.run(x=xs, d=ds, k=s.ints(-2 ** 31, 2 ** 31, (n,), I32), i=s.ints(-2 ** 40, 2 ** 40, (n,)),
          bb=s.bools((n,)), big=big, z=z)
    p.run(x=s.normal((5,), scale=50.0), d=s.normal((5,), F64, 1e5), k=s.ints(-9, 9, (5,), I32), i=s.ints(-9, 9, (5,)),
          bb=s.bools((5,)), big=s.ints(-2 ** 62, 2 ** 62, (5,)), z=s.normal((5,)))
    for src in ("x", "d", "k", "i", "bb"):
        for dst in ("f32", "f64", "i32", "i64", "bool"):
            if src == "d" and dst == "i32":
                # only values that fit: a C cast of an out-of-range float is undefined
                p.check("(d / 1e6).astype(i32)", "(d / 1e6).astype(I32)")
                continue
            p.check("%s.astype(%s)" % (src, dst), "%s.astype(%s)" % (src, DT[dst]))
    for e, want in (("big.astype(i32)", "big.astype(I32)"), ("big.astype(f32)", "big.astype(F32)"),
                    ("big.astype(f64)", "big.astype(F64)"), ("big.astype(bool)", "big.astype(bool)"),
                    ("z.astype(bool)", "z.astype(bool)"), ("z.astype(f64)", "z.astype(F64)"),
                    ("(x * 2.0).astype(i64) + i", "(x * F32(2)).astype(I64) + i"),
                    ("x.astype(i32).astype(f32)", "x.astype(I32).astype(F32)"),
                    ("(x > 0.0).astype(f32) * x", "(x > 0).astype(F32) * x"),
                    ("bb.astype(i64).sum()", "np.int64(bb.sum())"), ("k.astype(f64) / 3", "k.astype(F64) / 3"),
                    ("(x + 0.0).astype(f32)", "x"), ("i.astype(i64) * 1", "i"), ("d.astype(f32).astype(f64)", "d.astype(F32).astype(F64)")):
        p.check(e, want)
    # a Python float beside f64 keeps its double value (0.7, not f32(0.7) widened)
    for e, want in (("d / 0.7", "d / 0.7"), ("d * 0.1 + 1e-3", "d * 0.1 + 1e-3"), ("x / 0.7", "x / F32(0.7)")):
        p.check(e, want, tol=(1e-15, 0) if "d" in e else None)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
