"""Symbolic sizes, empty tensors and size-1 dimensions: one executable run
on inputs with a dimension of 0, 1 and more, against NumPy."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {
    'sizes: x[1:]': "x[1:] of 0 rows: NumPy gives 0 rows; tensorc assumes N >= 1 (docs/shapes.md 4) and fails with 'cannot allocate -12 bytes'",
}


def build(s):
    p = s.program("sizes", "x: f32[N, 3], e: f32[N], W: f32[3, 2], i: i64[N], bb: bool[N]")
    for n in (0, 1, 4, 9):
        p.run(x=s.smallf((n, 3)), e=s.smallf((n,)), W=s.smallf((3, 2)), i=s.ints(-5, 5, (n,)), bb=s.bools((n,)),
              label="N%d" % n)
    for e, want in (
            ("x + 1.0", None), ("x * e[:, None]", None), ("-x", None), ("exp(x * 0.1)", "np.exp(x * F32(0.1))"),
            ("x > 0.0", None), ("where(x > 0.0, x, 0.0)", "np.where(x > 0, x, F32(0))"), ("x.astype(i64)", "x.astype(I64)"),
            ("sum(x, axis=0)", "np.sum(x, 0)"), ("sum(x, axis=1)", "np.sum(x, 1)"), ("sum(x)", "np.sum(x)"),
            ("sum(i)", "np.int64(np.sum(i))"), ("sum(bb)", "np.int64(np.sum(bb))"), ("prod(x, axis=0)", "np.prod(x, 0)"),
            ("mean(x, axis=1)", "fmean(x, 1)"), ("mean(x, axis=0)", "fmean(x, 0)"), ("mean(x)", "fmean(x)"),
            ("var(x, axis=0)", "fvar(x, 0)"), ("max(x, axis=1)", "np.max(x, 1)"),
            ("argmax(x, axis=1)", "np.argmax(x, 1)"),
            ("logsumexp(x, axis=1)", "logsumexp(x, 1)"),
            ("any(x > 0.0)", "np.any(x > 0)"), ("all(x > 0.0)", "np.all(x > 0)"), ("any(bb)", "np.any(bb)"),
            ("x @ W", None), ("x.T @ x", None), ("W.T @ x.T", None), ("e @ x", None), ("x @ W[:, 0]", None),
            ("outer(e, e)", "np.outer(e, e)"),
            ("x.reshape(-1)", None), ("x.reshape(-1, 1, 3)", None), ("x.T", None), ("flatten(x)", "x.reshape(-1)"),
            ("cat([x, x], axis=0)", "np.concatenate([x, x])"), ("cat([x, x], axis=1)", "np.concatenate([x, x], 1)"),
            ("stack([e, e], axis=1)", "np.stack([e, e], 1)"), ("broadcast_to(e, 2, x.shape[0])", "np.broadcast_to(e, (2, e.shape[0]))"),
            ("x[1:]", None), ("x[::-1]", None), ("x[:, 1]", None), ("x[:, ::-2]", None), ("x[None]", None), ("x[:0]", None),
            ("flip(x, axis=0)", "np.flip(x, 0)"), ("zeros(x.shape[0])", "np.zeros(x.shape[0], F32)"),
            ("arange(x.shape[0])", "np.arange(x.shape[0], dtype=I64)"), ("ones(x.shape[0], 2) @ ones(2, 3)", "np.full((x.shape[0], 3), 2, F32)"),
            ("x.shape[0]", "np.int64(x.shape[0])"), ("e * 2.0 + i", "e * F32(2) + i.astype(F32)"),
            ("x[arange(x.shape[0]), i % 3]", "x[np.arange(x.shape[0]), i % 3]"), ("x[arange(x.shape[0])]", "x")):
        p.check(e, want)
    p.block("a loop over N rows", ["acc = zeros(3)", "for r in range(x.shape[0]):", "    acc = acc + x[r]", 'save("rows.npy", acc)'],
            {"rows": "np.sum(x, 0)"})
    p.block("assignment into an empty slice", ["z = x", "z[1:, 0] = 5.0", 'save("z.npy", z)'],
            {"z": "setitem(x, (slice(1, None), 0), 5.0)"})
    # size-1 dims meeting symbolic ones
    q = s.program("ones", "a: f32[N, 1], b: f32[1, M], c: f32[N, M]")
    for n, m in ((1, 1), (1, 4), (3, 1), (2, 5)):
        q.run(a=s.smallf((n, 1)), b=s.smallf((1, m)), c=s.smallf((n, m)), label="N%dM%d" % (n, m))
    for e, want in (("a + b", None), ("a * c", None), ("b - c", None), ("a @ b", None), ("sum(a + b, axis=0)", "np.sum(a + b, 0)"),
                    ("squeeze(a, axis=1)", "a[:, 0]"), ("squeeze(b, axis=0)", "b[0]"), ("c.T @ a", None),
                    ("maximum(a, b)", "np.maximum(a, b)"), ("mean(c, axis=1, keepdims=True) - c", "fmean(c, 1, True) - c"),
                    ("broadcast_to(a, a.shape[0], 3)", "np.broadcast_to(a, (a.shape[0], 3))"),
                    ("cat([a, c], axis=1)", "np.concatenate([a, c], 1)"), ("stack([a[:, 0], c[:, 0]])", "np.stack([a[:, 0], c[:, 0]])")):
        q.check(e, want)
    # an empty tensor reshaped to k rows of 0: loop nests of k x 0 points
    # must not walk k (passes/empty_guard.c; a hang before, on the GPU a
    # launch of k blocks), a reduction over them still gives its identity
    r = s.program("empty_rows", "x: f32[N], k: i64", setup=["a = reshape(x, (k, -1))"])
    for n, k in ((0, 2 ** 60), (0, 3), (6, 2), (6, 3)):
        r.run(x=s.smallf((n,)), k=I64(k), label="N%dk%d" % (n, k))
    for e, want in (("sum(a)", "np.sum(x.reshape(k, -1))"), ("prod(a * 2.0)", "np.prod(x.reshape(k, -1) * F32(2))"),
                    ("mean(a)", "np.mean(x.reshape(k, -1), dtype=F32)"), ("any(a > 0.0)", "np.any(x.reshape(k, -1) > 0)"),
                    ("sum(a, axis=0)", "np.sum(x.reshape(k, -1), 0)"), ("sum(a.T, axis=1)", "np.sum(x.reshape(k, -1).T, 1)"),
                    ("exp(a).T", "np.exp(x.reshape(k, -1)).T")):
        r.check(e, want)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
