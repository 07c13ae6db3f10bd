"""Indexing against NumPy: integers (negative too, run-time ones), slices
with steps (negative, omitted bounds, clamped), None, ..., gather with
integer tensors (the logp[arange(N), y] idiom, 2-D index tensors, NumPy's
placement of advanced indices), boolean masks, and assignment x[i, 1:] = v,
x[:, 0] = 0.0, augmented assignment, with value semantics."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

# Reading x[mask] is a compile error by design (SPEC 1.6, tests/passes/shape/masks.tc);
# mask assignments are in masks.py.
KNOWN_FAILURES = {}


def build(s):
    p = s.program("index", "x: f32[N, M], t: f32[A, B, C], c6: f32[6], idx: i64[K], y: i64[N], row: i64, "
                           "mask: bool[N, M], val: f32[M], i2: i64[2, 3], neg: i64[K], li: i64[N, M]")
    for n, m, a, bsz, c, k, row in ((5, 6, 3, 4, 5, 4, 2), (4, 7, 2, 3, 6, 2, 1)):
        lim = min(n, m)
        p.run(x=s.normal((n, m)), t=s.normal((a, bsz, c)), c6=s.normal((6,)), idx=s.ints(0, lim, (k,)),
              y=s.ints(0, m, (n,)), row=row, mask=s.bools((n, m)), val=s.normal((m,)), i2=s.ints(0, lim, (2, 3)),
              neg=s.ints(-lim, lim, (k,)), li=s.ints(-9, 10, (n, m)))
    for e in (
            # integers
            "x[0]", "x[-1]", "x[1, 2]", "x[-1, -2]", "t[1]", "t[0, 1]", "t[-1, -1, -1]", "x[row]", "x[row, 0]",
            "x[row - 3]", "x[:, row]", "t[row - 1, row]", "x[1][2]", "li[0, -1]", "li[row]",
            # slices
            "x[1:3]", "x[:, 1:4]", "x[::2]", "x[1::2]", "x[::-1]", "x[:, ::-1]", "x[-2:]", "x[:-1]", "x[:, -3:-1]",
            "x[3:0:-1]", "x[-1::-2]", "x[::-2, 1::3]", "t[:, 1:, ::-1]", "t[::2, ::-1, 1:4:2]", "x[1:-1, 1:-1]",
            "x[row:]", "x[:row]", "x[row:row + 2]", "x[:, row:]", "x[1:4][::-1]",
            "c6[2:100]", "c6[-100:2]", "c6[5:1]", "c6[::-1]", "c6[4::-2]", "c6[-1:-7:-1]", "c6[1:5:3]", "c6[10:]",
            # None and ...
            "x[None]", "x[:, None]", "x[None, :, None]", "x[..., 0]", "x[..., None]", "t[..., 1:]", "t[0, ...]",
            "t[..., 0, :]", "t[:, None, 1]", "x[None, ..., None]", "t[..., ::-1, 0]",
            # gather
            "x[idx]", "x[:, idx]", "x[idx, idx]", "x[idx][:, 0]", "x[np.arange(x.shape[0]), y]", "x[i2]", "x[0, idx]",
            "t[0, :, idx]", "t[:, idx % t.shape[1]]", "x[idx, 1:]", "c6[idx]", "x[neg]", "x[:, neg]",
            "li[idx, idx]", "x[idx[::-1]]", "x[idx, -1]", "x[y % x.shape[0]]"):
        tc = e.replace("np.arange", "arange")
        p.check(tc, e)
    p.check("x[tensor([0, 2, -1])]", "x[[0, 2, -1]]")
    p.check("x[:, tensor([[0, 1], [-1, -2]])]", "x[:, [[0, 1], [-1, -2]]]")
    p.check("x[arange(x.shape[0]), y].mean()", "np.float32(np.mean(x[np.arange(x.shape[0]), y].astype(F64)))",
            tol=(1e-5, 1e-5))
    # assignment (each block starts from a copy: values, not references)
    blocks = (
        ("z[row, 1:] = val[1:]", "setitem(x, (row, slice(1, None)), val[1:])"),
        ("z[:, 0] = 0.0", "setitem(x, (slice(None), 0), 0.0)"),
        ("z[1] = 5.0", "setitem(x, 1, 5.0)"),
        ("z[0] = val", "setitem(x, 0, val)"),
        ("z[-1, -1] = 3", "setitem(x, (-1, -1), 3.0)"),
        ("z[::2, 1] = -1.0", "setitem(x, (slice(None, None, 2), 1), -1.0)"),
        ("z[:, ::-1] = x", "x[:, ::-1]"),
        ("z[:, 1:3] = 2.0 * z[:, 3:5]", "setitem(x, (slice(None), slice(1, 3)), 2 * x[:, 3:5])"),
        ("z[1:3] = val", "setitem(x, slice(1, 3), val)"),
        ("z[idx] = 0.0", "setitem(x, idx, 0.0)"),
        ("z[mask] = 0.0", "setitem(x, mask, 0.0)"),
        ("z[..., 0] = 9.0", "setitem(x, (Ellipsis, 0), 9.0)"),
        ("z[0] += 1.0", "setitem(x, 0, x[0] + F32(1))"),
        ("z[:, -1] *= 2.0", "setitem(x, (slice(None), -1), x[:, -1] * F32(2))"),
        ("z[row] -= val", "setitem(x, row, x[row] - val)"),
        # one element per row (passes/lower_index.c, lw_row_set_at)
        ("z[arange(x.shape[0]), y] = x[:, 0]", "setitem(x, (np.arange(x.shape[0]), y), x[:, 0])"),
        ("z[arange(x.shape[0]), y - x.shape[1]] += 1.0",
         "setitem(x, (np.arange(x.shape[0]), y - x.shape[1]), x[np.arange(x.shape[0]), y - x.shape[1]] + F32(1))"),
    )
    for i, (stmt, want) in enumerate(blocks):
        name = "set%02d" % (i + 1)
        p.block(stmt, ["z = x", stmt, 'save("%s.npy", z)' % name, 'save("%s_x.npy", x)' % name],
                {name: want, name + "_x": "x"})
    p.block("li[0] = 7; li[:, 1] = li[:, 0]", ["zi = li", "zi[0] = 7", "zi[:, 1] = zi[:, 0]", 'save("seti.npy", zi)'],
            {"seti": lambda ns: (lambda z: (z.__setitem__(0, 7), z.__setitem__((slice(None), 1), z[:, 0].copy()), z)[-1])(ns["li"].copy())})
    p.block("loop of row assignments", ["zl = zeros_like(x)", "for r in range(x.shape[0]):", "    zl[r] = x[r] * r",
                                        'save("setloop.npy", zl)'],
            {"setloop": "x * np.arange(x.shape[0], dtype=F32)[:, None]"})
    p.block("assignment into a 3-D slice", ["tz = t", "tz[:, 0, 1:3] = 0.5", "tz[-1] = tz[0]", 'save("set3d.npy", tz)'],
            {"set3d": lambda ns: (lambda z: (z.__setitem__((slice(None), 0, slice(1, 3)), 0.5),
                                             z.__setitem__(-1, z[0].copy()), z)[-1])(ns["t"].copy())})


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
