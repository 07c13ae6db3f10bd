"""The CUDA emitter's kernel shapes at GPU sizes, on the emulated GPU, against
NumPy (run by emu_kernels.test through tests/e2e/oracle.py --gpu-emulate).

The e2e groups' inputs are small, so most of their reductions run as
`points` kernels (short rows: each thread reduces alone).  Here rows are
long enough to be reduced by whole blocks (64 elements and more: gpu_block
/ gpu_thread), full reductions have hundreds of partial results, and the
values are chosen to catch the order-dependent answers: argmax/argmin ties
spread over threads, warps and blocks, NaNs (the first wins), -inf rows,
integer and boolean reductions, fused row kernels (softmax, layer norm) with
one and two rows loops, a scatter with repeated indices (a serial kernel).
Then the kernels shaped by their memory accesses (codegen/cuda_access.c):
maps taking 4 (f32, i32) or 2 (f64, i64) points at once, of sizes that are
not multiples of 4, over slices whose first element is or is not 16-byte
aligned (the emulator fails a misaligned 128-bit access, as a GPU does);
transposes tiled through shared memory, non-square and not multiples of 32,
with a batch dim, of every dtype, fused with elementwise math.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "e2e"))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402
from reduction import SUMTOL, ref  # noqa: E402

KNOWN_FAILURES = {
}


def ties(rng, rows, cols, dtype=F32):
    """Rows whose best value repeats far apart (other threads, warps), some
    with NaNs (two per row: the first must win), one of -inf only, one
    constant."""
    x = rng.integers(-50, 50, (rows, cols)).astype(dtype)
    for r in range(rows):
        hi = rng.choice(cols, 3, replace=False)
        x[r, hi] = 60
        lo = rng.choice(cols, 3, replace=False)
        x[r, lo] = -60
    if dtype in (F32, F64):
        x[1, [cols - 1, 5]] = np.nan
        x[2, [cols // 3, cols // 3 + 33]] = np.nan
        x[3, :] = -np.inf
    x[4, :] = 7
    return x


def full_ties(n):
    """One long vector: the max in three blocks' shares, the min twice."""
    x = np.linspace(-1.0, 1.0, n).astype(F32)
    x[[n // 5, n // 2, n - 1]] = 5.0
    x[[n // 3, 7]] = -5.0
    return x


def build(s):
    rng = s.rng
    # ---- row reductions: a block per row ---------------------------------
    p = s.program("rows", "x: f32[R, C], t: f32[R, C], d: f64[R, C], k: i32[R, C], i: i64[R, C]")
    for r, c in ((9, 1000), (6, 64), (7, 257)):
        p.run(x=s.normal((r, c)), t=ties(rng, r, c), d=s.normal((r, c), F64),
              k=s.ints(-1000, 1000, (r, c), I32), i=s.ints(-10**12, 10**12, (r, c)))
    for op in ("sum", "mean", "max", "min", "var", "std", "logsumexp"):
        p.check("%s(x, axis=1)" % op, ref(op, "x", 1), tol=SUMTOL)
        p.check("%s(d, axis=-1)" % op, ref(op, "d", -1))
    p.check("prod(1.0 + x * 0.001, axis=1)", lambda ns: np.prod(1 + ns["x"].astype(F64) * 0.001, axis=1).astype(F32),
            tol=SUMTOL)
    for op in ("argmax", "argmin", "max", "min"):
        p.check("%s(t, axis=1)" % op, ref(op, "t", 1))
        p.check("%s(k, axis=1)" % op, ref(op, "k", 1))
        p.check("%s(i, axis=1)" % op, ref(op, "i", 1))
    for op in ("sum", "prod"):
        p.check("%s(k, axis=1)" % op, lambda ns, op=op: getattr(np, op)(ns["k"], axis=1, dtype=np.int64))
    p.check("sum(i, axis=1)", ref("sum", "i", 1))
    for op in ("any", "all"):
        p.check("%s(t > 59.0, axis=1)" % op, lambda ns, op=op: getattr(np, op)(ns["t"] > 59, axis=1))
        p.check("%s(k != 3, axis=1)" % op, lambda ns, op=op: getattr(np, op)(ns["k"] != 3, axis=1))
    # columns: the reduced axis first
    p.check("sum(x, axis=0)", ref("sum", "x", 0), tol=SUMTOL)
    p.check("argmax(t, axis=0)", ref("argmax", "t", 0))

    # ---- rank 3: several outer loops, several reduced loops ---------------
    p = s.program("rank3", "x: f32[A, B, C], t: f32[A, B, C]", header=["import nn"])
    for shape in ((3, 5, 300), (2, 70, 9)):
        p.run(x=s.normal(shape), t=s.smallf(shape))
    p.check("sum(x, axis=2)", ref("sum", "x", 2), tol=SUMTOL)
    p.check("sum(x, axis=1)", ref("sum", "x", 1), tol=SUMTOL)
    p.check("sum(x, axis=(1, 2))", ref("sum", "x", (1, 2)), tol=SUMTOL)
    p.check("max(x, axis=(0, 2))", ref("max", "x", (0, 2)))
    p.check("argmax(t, axis=2)", ref("argmax", "t", 2))
    p.check("argmin(t, axis=1)", ref("argmin", "t", 1))
    p.check("nn.softmax(x, axis=-1)", lambda ns: softmax(ns["x"], -1), tol=SUMTOL)
    p.check("nn.log_softmax(x, axis=-1)", lambda ns: log_softmax(ns["x"], -1), tol=SUMTOL)

    # ---- full reductions: partials, then one block ------------------------
    p = s.program("full", "x: f32[N], u: f32[N], d: f64[N], k: i64[N], b: bool[N]")
    for n in (70001, 255):
        p.run(x=full_ties(n), u=s.uniform(0.0, 1.0, (n,)), d=s.normal((n,), F64), k=s.ints(-10**9, 10**9, (n,)),
              b=s.bools((n,), 0.999), label="n%d" % n)
    for op in ("argmax", "argmin", "max", "min"):
        p.check("%s(x)" % op, ref(op, "x"))
        p.check("%s(k)" % op, ref(op, "k"))
    for op in ("sum", "mean", "var", "std", "logsumexp"):
        p.check("%s(u)" % op, ref(op, "u"), tol=SUMTOL)
        p.check("%s(d)" % op, ref(op, "d"), tol=(1e-9, 1e-9))
    p.check("sum(k)", ref("sum", "k"))
    p.check("any(b == False)", lambda ns: np.any(~ns["b"]))
    p.check("all(b)", lambda ns: np.all(ns["b"]))
    p.check("sum(b)", lambda ns: np.sum(ns["b"], dtype=np.int64))

    # ---- more points than 1024 blocks of 256 threads: each thread strides -
    p = s.program("clamp", "x: f32[N], u: f32[N]")
    n = 1024 * 256 + 4099
    p.run(x=full_ties(n), u=s.uniform(0.0, 1.0, (n,)))
    p.check("argmax(x)", ref("argmax", "x"))
    p.check("sum(u)", ref("sum", "u"), tol=SUMTOL)

    # ---- NaN in a full argmax: the first NaN, whichever block holds it -----
    p = s.program("nan", "y: f32[N]")
    for n in (70001, 1000):
        y = full_ties(n)
        y[[n // 2 + 1, n - 2]] = np.nan
        p.run(y=y, label="n%d" % n)
    p.check("argmax(y)", ref("argmax", "y"))
    p.check("argmin(y)", ref("argmin", "y"))
    p.check("max(y)", ref("max", "y"))

    # ---- fused row kernels ----------------------------------------------
    p = s.program("fused", "x: f32[R, C], g: f32[C], bias: f32[C]", header=["import nn"])
    for r, c in ((5, 700), (33, 64)):
        p.run(x=s.normal((r, c), scale=3.0), g=s.normal((c,)), bias=s.normal((c,)))
    p.check("nn.softmax(x, axis=1)", lambda ns: softmax(ns["x"], 1), tol=SUMTOL)
    p.check("nn.log_softmax(x, axis=1)", lambda ns: log_softmax(ns["x"], 1), tol=SUMTOL)
    p.check("(x - mean(x, axis=1, keepdims=True)) / sqrt(var(x, axis=1, keepdims=True) + 1e-5) * g + bias",
            lambda ns: layernorm(ns["x"], ns["g"], ns["bias"]), tol=(1e-4, 1e-4))
    p.check("x / sum(abs(x), axis=1, keepdims=True) + max(x, axis=1, keepdims=True)",
            lambda ns: (ns["x"].astype(F64) / np.abs(ns["x"].astype(F64)).sum(1, keepdims=True)
                        + ns["x"].max(1, keepdims=True)).astype(F32), tol=SUMTOL)

    # ---- a scatter with repeated indices: one thread, in order ------------
    p = s.program("scatter", "w: f32[M], idx: i64[K], v: f32[K]")
    for m, k in ((50, 2000), (7, 300)):
        p.run(w=s.normal((m,)), idx=s.ints(0, m, (k,)), v=s.smallf((k,)))
    p.check("grad(sum(w[idx] * v), w)", lambda ns: np.bincount(ns["idx"], ns["v"].astype(F64),
                                                               len(ns["w"])).astype(F32))
    p.check("grad(sum(w[idx] * w[idx]), w)",
            lambda ns: np.bincount(ns["idx"], 2 * ns["w"][ns["idx"]].astype(F64), len(ns["w"])).astype(F32),
            tol=SUMTOL)

    # ---- 128-bit maps: the vector loop, the points around it -------------
    p = s.program("vector", "x: f32[N], y: f32[N], d: f64[N], e: f64[N], k: i32[N], j: i32[N], l: i64[N], "
                  "m: i64[N], c: f32")
    for n in (9, 10, 11, 1001, 70003):
        p.run(x=s.normal((n,)), y=s.normal((n,)), d=s.normal((n,), F64), e=s.normal((n,), F64),
              k=s.ints(-1000, 1000, (n,), I32), j=s.ints(-1000, 1000, (n,), I32),
              l=s.ints(-10**9, 10**9, (n,)), m=s.ints(-10**6, 10**6, (n,)), c=np.float32(1.5), label="n%d" % n)
    p.check("x * y + 2.0")
    p.check("d * e - 0.5")
    p.check("k * j + 7", "k * j + np.int32(7)")
    p.check("l * m - 3")
    p.check("exp(x) * c - tanh(y)", "np.exp(x) * c - np.tanh(y)", tol=(1e-5, 1e-6))
    p.check("sqrt(abs(d)) + e / 3.0", "np.sqrt(np.abs(d)) + e / 3.0")
    p.check("where(x > y, x, y * c)")
    # slices: the copies start 1, 2, 3 or 4 elements in (16-byte aligned
    # only at 4 for f32/i32, at 2 for f64/i64); the maps after them
    for a in (1, 2, 3, 4):
        p.check("x[%d:] * c + y[:-%d]" % (a, a))
        p.check("k[%d:] - j[:-%d]" % (a, a), "k[%d:] - j[:-%d]" % (a, a))
    p.check("d[1:] + e[:-1]")
    p.check("d[2:] * e[2:]")
    p.check("l[1:] * 2 + m[:-1]")
    p.check("l[3:] - m[3:]")
    p.check("x[1:][2:] - 1.0")

    p = s.program("vector2", "x: f32[R, C], y: f32[R, C], d: f64[R, C]")
    for r, c in ((7, 13), (33, 31), (3, 1)):
        p.run(x=s.normal((r, c)), y=s.normal((r, c)), d=s.normal((r, c), F64), label="%dx%d" % (r, c))
    p.check("x * y - x")
    p.check("x[1:, :] + 1.0")
    p.check("d[1:, :] * d[:-1, :]")
    p.check("x[:, 1:] - y[:, :-1]")
    p.check("maximum(x, 0.0) * d.astype(f32)", "np.maximum(x, 0) * d.astype(np.float32)")

    # ---- transposes tiled through shared memory ---------------------------
    p = s.program("tile", "a: f32[R, C], b: f64[R, C], k: i32[R, C], l: i64[R, C], q: bool[R, C], u: f32[C, R], "
                  "t: f32[B, R, C]")
    for b, r, c in ((1, 33, 65), (3, 70, 3), (2, 5, 100), (1, 64, 32), (2, 31, 33), (1, 2, 2)):
        p.run(a=s.normal((r, c)), b=s.normal((r, c), F64), k=s.ints(-1000, 1000, (r, c), I32),
              l=s.ints(-10**12, 10**12, (r, c)), q=s.bools((r, c)), u=s.normal((c, r)), t=s.normal((b, r, c)),
              label="%dx%dx%d" % (b, r, c))
    p.check("a.T")
    p.check("transpose(a, (1, 0))", "a.T")
    p.check("b.T")
    p.check("k.T")
    p.check("l.T")
    p.check("q.T")
    p.check("transpose(t, (0, 2, 1))", "np.transpose(t, (0, 2, 1))")
    # fused: a program of its own, where no transpose is shared (so none is
    # materialised alone)
    p = s.program("tilefused", "a: f32[R, C], b: f64[R, C], u: f32[C, R], t: f32[B, R, C]")
    for b, r, c in ((1, 33, 65), (3, 70, 3), (2, 31, 33)):
        p.run(a=s.normal((r, c)), b=s.normal((r, c), F64), u=s.normal((c, r)), t=s.normal((b, r, c)),
              label="%dx%dx%d" % (b, r, c))
    p.check("exp(a.T) * 2.0 + 1.0", "np.exp(a.T) * np.float32(2) + np.float32(1)", tol=(1e-5, 1e-6))
    p.check("(a * 3.0).T - u", "(a * np.float32(3)).T - u")
    p.check("where(a.T > u, a.T, u)")
    p.check("transpose(t * 2.0 - 1.0, (0, 2, 1))", "np.transpose(t * np.float32(2) - np.float32(1), (0, 2, 1))")
    p.check("b.T.astype(f32) + u", "b.T.astype(np.float32) + u")

    p = s.program("square", "s: f32[N, N]")
    for n in (1, 31, 33, 100):
        p.run(s=s.normal((n, n)), label="n%d" % n)
    p.check("s + s.T")
    p.check("s.T * s")


def softmax(x, axis):
    e = np.exp(x.astype(F64) - x.max(axis, keepdims=True))
    return (e / e.sum(axis, keepdims=True)).astype(F32)


def log_softmax(x, axis):
    x = x.astype(F64)
    return (x - x.max(axis, keepdims=True) - np.log(np.exp(x - x.max(axis, keepdims=True)).sum(axis, keepdims=True))
            ).astype(F32)


def layernorm(x, g, b):
    x = x.astype(F64)
    m = x.mean(1, keepdims=True)
    v = ((x - m) ** 2).mean(1, keepdims=True)
    return ((x - m) / np.sqrt(v + 1e-5) * g + b).astype(F32)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
