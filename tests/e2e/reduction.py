"""Reductions against NumPy: sum mean prod max min argmax argmin var std
logsumexp any all, with no axis, axis=int (negative too), axis=tuple and
keepdims, as functions and as methods, on f32, f64, i32, i64 and bool."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {
}


def ref(op, name, axis=None, keepdims=False, ddof=0):
    """The NumPy value of `op(name, axis=, keepdims=)` with tensorc's dtypes.
    Float sums are computed in f64 and rounded, so the reference is exact."""
    def f(ns):
        a = np.asarray(ns[name])
        isf = a.dtype.kind == "f"
        a64 = a.astype(np.float64)
        kw = dict(axis=axis, keepdims=keepdims)
        with np.errstate(all="ignore"):
            if op == "sum":
                r = np.sum(a64, **kw).astype(a.dtype) if isf else np.sum(a, dtype=np.int64, **kw)
            elif op == "prod":
                r = np.prod(a64, **kw).astype(a.dtype) if isf else np.prod(a, dtype=np.int64, **kw)
            elif op == "mean":
                r = oracle.fmean(a, **kw)
            elif op == "var":
                r = oracle.fvar(a, ddof=ddof, **kw)
            elif op == "std":
                r = oracle.fstd(a, ddof=ddof, **kw)
            elif op == "logsumexp":
                r = oracle.logsumexp(a, **kw)
            elif op in ("max", "min"):
                r = (np.max if op == "max" else np.min)(a, **kw)
            elif op in ("argmax", "argmin"):
                r = (np.argmax if op == "argmax" else np.argmin)(a, **kw).astype(np.int64)
            elif op in ("any", "all"):
                r = (np.any if op == "any" else np.all)(a, **kw)
            else:
                raise ValueError(op)
        return np.asarray(r)
    return f


def kwtext(axis, keepdims, ddof=0):
    t = ""
    if axis is not None:
        t += ", axis=%s" % (axis,)
    if keepdims:
        t += ", keepdims=True"
    if ddof:
        t += ", ddof=%d" % ddof
    return t


SUMTOL = (1e-5, 1e-5)


def build(s):
    # ---- f32, rank 3 ----------------------------------------------------
    p = s.program("f32", "x: f32[N, M, K], xs: f32[N, M], sc: f32")
    for shape in ((3, 4, 5), (2, 3, 7)):
        p.run(x=s.normal(shape), xs=s.smallf(shape[:2]), sc=np.float32(-1.5))
    axes = [None, 0, 1, 2, -1, -3, (0, 2), (-1, -2), (0, 1, 2), (1,), ()]
    for op in ("sum", "mean", "prod", "max", "min", "var", "std", "logsumexp"):
        for axis in axes:
            for keep in ((False, True) if axis in (None, 1, (0, 2), -1) else (False,)):
                if axis == () and op in ("var", "std"):
                    continue
                tol = SUMTOL if op in ("sum", "mean", "var", "std", "logsumexp", "prod") else None
                p.check("%s(x%s)" % (op, kwtext(axis, keep)), ref(op, "x", axis, keep), tol=tol)
    for op in ("argmax", "argmin"):
        for axis in (None, 0, 1, -1):
            for keep in ((False, True) if axis is not None else (False,)):
                p.check("%s(x%s)" % (op, kwtext(axis, keep)), ref(op, "x", axis, keep))
    for op in ("var", "std"):
        for axis in (None, 0, (1, 2)):
            p.check("%s(x%s)" % (op, kwtext(axis, False, 1)), ref(op, "x", axis, ddof=1), tol=SUMTOL)
        p.check("%s(x, axis=-1, keepdims=True, ddof=2)" % op, ref(op, "x", -1, True, ddof=2), tol=SUMTOL)
    for op, axis in (("any", None), ("all", None), ("any", 1), ("all", 0), ("any", (0, 2)), ("all", -1)):
        p.check("%s(x > 1.0%s)" % (op, kwtext(axis, False)),
                lambda ns, op=op, axis=axis: getattr(np, op)(ns["x"] > 1.0, axis=axis))
        p.check("%s(x > -2.5%s)" % (op, kwtext(axis, True)),
                lambda ns, op=op, axis=axis: getattr(np, op)(ns["x"] > -2.5, axis=axis, keepdims=True))
    p.check("any(x)", ref("any", "x"))
    p.check("all(x, axis=1)", ref("all", "x", 1))
    # methods
    for e, r in (("x.sum()", ref("sum", "x")), ("x.sum(axis=1)", ref("sum", "x", 1)),
                 ("x.mean(axis=(0, 1), keepdims=True)", ref("mean", "x", (0, 1), True)),
                 ("x.prod(axis=-1)", ref("prod", "x", -1)), ("x.max()", ref("max", "x")),
                 ("x.min(axis=0)", ref("min", "x", 0)), ("x.argmax()", ref("argmax", "x")),
                 ("x.argmin(axis=2)", ref("argmin", "x", 2)), ("x.var(ddof=1)", ref("var", "x", ddof=1)),
                 ("x.std(axis=1)", ref("std", "x", 1)), ("x.logsumexp(axis=0)", ref("logsumexp", "x", 0)),
                 ("(x > 0.0).any(axis=1)", lambda ns: np.any(ns["x"] > 0, axis=1)),
                 ("(x > -3.0).all()", lambda ns: np.all(ns["x"] > -3))):
        p.check(e, r, tol=SUMTOL)
    # exact sums of small integers, ties for argmax/argmin
    for e, r in (("sum(xs, axis=0)", ref("sum", "xs", 0)), ("sum(xs)", ref("sum", "xs")),
                 ("mean(xs, axis=1)", ref("mean", "xs", 1)), ("prod(xs, axis=1)", ref("prod", "xs", 1)),
                 ("max(xs, axis=1)", ref("max", "xs", 1)), ("argmax(xs, axis=1)", ref("argmax", "xs", 1)),
                 ("argmin(xs, axis=0)", ref("argmin", "xs", 0)), ("argmax(xs)", ref("argmax", "xs")),
                 ("var(xs, axis=1)", ref("var", "xs", 1)), ("sum(sc)", "sc"), ("mean(sc)", "sc"),
                 ("max(sc)", "sc"), ("logsumexp(sc)", "sc")):
        p.check(e, r)
    # reductions inside expressions
    p.check("x - x.mean(axis=-1, keepdims=True)", lambda ns: (ns["x"].astype(F64) - ns["x"].astype(F64).mean(-1, keepdims=True)).astype(F32), tol=SUMTOL)
    p.check("sum(x * x, axis=(1, 2)) / sum(abs(x))",
            lambda ns: ((ns["x"].astype(F64) ** 2).sum((1, 2)) / np.abs(ns["x"].astype(F64)).sum()).astype(F32), tol=SUMTOL)
    p.check("exp(x - logsumexp(x, axis=1, keepdims=True)).sum(axis=1)",
            lambda ns: np.ones((ns["x"].shape[0], ns["x"].shape[2]), F32), tol=SUMTOL)

    # ---- f64 --------------------------------------------------------------
    p = s.program("f64", "d: f64[N, M]")
    for shape in ((4, 6), (5, 3)):
        p.run(d=s.normal(shape, F64))
    for op in ("sum", "mean", "prod", "max", "min", "var", "std", "logsumexp", "argmax", "argmin"):
        for axis in (None, 0, -1):
            p.check("%s(d%s)" % (op, kwtext(axis, False)), ref(op, "d", axis))
    p.check("var(d, axis=1, keepdims=True, ddof=1)", ref("var", "d", 1, True, 1))
    p.check("std(d, ddof=1)", ref("std", "d", None, False, 1))

    # ---- integers and bools ----------------------------------------------
    p = s.program("int", "i: i64[N, M], k: i32[N, M], bb: bool[N, M]")
    for shape in ((3, 5), (6, 2)):
        p.run(i=s.ints(-9, 10, shape), k=s.nonzero_ints(-3, 4, shape, I32), bb=s.bools(shape))
    for name in ("i", "k", "bb"):
        for op in ("sum", "mean", "max", "min", "argmax", "argmin", "any", "all", "var", "std", "logsumexp"):
            if name == "bb" and op in ("var", "std", "logsumexp"):
                continue
            for axis in (None, 0, -1):
                p.check("%s(%s%s)" % (op, name, kwtext(axis, False)), ref(op, name, axis),
                        tol=SUMTOL if op in ("var", "std", "logsumexp") else None)
        p.check("sum(%s, axis=1, keepdims=True)" % name, ref("sum", name, 1, True))
    for e, r in (("prod(k)", ref("prod", "k")), ("prod(k, axis=0)", ref("prod", "k", 0)), ("prod(i, axis=1)", ref("prod", "i", 1)),
                 ("k.sum()", ref("sum", "k")), ("i.max(axis=(0, 1))", ref("max", "i", (0, 1))),
                 ("mean(i, axis=0, keepdims=True)", ref("mean", "i", 0, True)), ("var(k, ddof=1)", ref("var", "k", None, False, 1)),
                 ("bb.mean()", ref("mean", "bb")), ("sum(i > 0)", lambda ns: np.sum(ns["i"] > 0, dtype=I64)),
                 ("mean(i == 0, axis=1)", lambda ns: np.mean(ns["i"] == 0, axis=1).astype(F32))):
        p.check(e, r, tol=SUMTOL if "var" in e else None)

    # ---- NaN and inf -------------------------------------------------------
    p = s.program("special", "z: f32[N, M]")
    z = np.array([[1.0, np.nan, 3.0, -1.0], [np.inf, 2.0, -np.inf, 0.0], [1.0, 2.0, 3.0, 4.0],
                  [-np.inf, -np.inf, 5.0, np.nan]], F32)
    p.run(z=z)
    for op in ("sum", "mean", "max", "min", "argmax", "argmin", "logsumexp", "any", "all", "prod"):
        for axis in (None, 0, 1):
            p.check("%s(z%s)" % (op, kwtext(axis, False)), ref(op, "z", axis))
    p.check("sum(isnan(z), axis=1)", lambda ns: np.sum(np.isnan(ns["z"]), axis=1, dtype=I64))
    p.check("max(where(isnan(z), -inf, z), axis=1)", lambda ns: np.max(np.where(np.isnan(ns["z"]), -np.inf, ns["z"]).astype(F32), axis=1))


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
