"""Assignment through mixed integer / index-list / slice items against NumPy
(issue 13, tests/fuzz/found/setitem_advanced_apart.tc).  NumPy's rule: an
integer counts as an advanced index once an index tensor is present, and
when the advanced items are not adjacent (a slice between them) their
broadcast dims go first, so t[1, :, [0, 1]] of a [A, B, C] tensor is
[2, B] and the value is broadcast to that.  Both `=` and the augmented
forms, adjacent and apart, index lists that broadcast ([0] with idx), and
the gradient of such a read (a scatter-add through the same plan)."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, np  # noqa: E402

KNOWN_FAILURES = {}


def add_at(shape, idx, g):
    """zeros(shape) with g added at idx (repeated indices accumulate)."""
    z = np.zeros(shape, dtype=g.dtype)
    np.add.at(z, idx, g)
    return z


def build(s):
    p = s.program("setitem_apart", "t: f32[A, B, C], idx: i64[K], vb: f32[B], w: f32[K, B], row: i64, "
                                   "i2: i64[2, 3], u: f64[A, B, C], wk: f64[K, B]")
    for a, bsz, c, k, row in ((3, 3, 2, 2, 1), (4, 5, 3, 3, -2)):
        lim = min(a, c)
        p.run(t=s.normal((a, bsz, c)), idx=s.ints(0, lim, (k,)), vb=s.normal((bsz,)), w=s.normal((k, bsz)),
              row=row, i2=s.ints(0, lim, (2, 3)), u=s.normal((a, bsz, c)).astype(F64),
              wk=s.normal((k, bsz)).astype(F64))
    S = "slice"
    blocks = (
        # apart: the advanced dims first
        ("z[1, :, [0, 1]] = 1.5", "setitem(t, (1, slice(None), [0, 1]), 1.5)"),
        ("z[1, :, [0, 1]] = vb", "setitem(t, (1, slice(None), [0, 1]), vb)"),
        ("z[0, :, idx] = w", "setitem(t, (0, slice(None), idx), w)"),
        ("z[idx, :, 0] = w", "setitem(t, (idx, slice(None), 0), w)"),
        ("z[row, ::-1, idx] = w", "setitem(t, (row, slice(None, None, -1), idx), w)"),
        ("z[-1, 1:, idx] = 2.0", "setitem(t, (-1, slice(1, None), idx), 2.0)"),
        ("z[i2, :, 1] = 3.0", "setitem(t, (i2, slice(None), 1), 3.0)"),
        ("z[[0, 1], :, [1, 0]] = vb", "setitem(t, ([0, 1], slice(None), [1, 0]), vb)"),
        ("z[0, :, [[0], [1]]] = 4.0", "setitem(t, (0, slice(None), [[0], [1]]), 4.0)"),
        ("z[[0], :, idx] = w", "setitem(t, ([0], slice(None), idx), w)"),
        ("z[idx, 1:3, [0]] = -1.0", "setitem(t, (idx, slice(1, 3), [0]), -1.0)"),
        # adjacent: the advanced dims in place
        ("z[:, 1, idx] = 5.0", "setitem(t, (slice(None), 1, idx), 5.0)"),
        ("z[:, idx, row] = 6.0", "setitem(t, (slice(None), idx % t.shape[1], row), 6.0)"),
        # augmented assignment
        ("z[1, :, [0, 1]] += 1.5", "setitem(t, (1, slice(None), [0, 1]), t[1, :, [0, 1]] + F32(1.5))"),
        ("z[0, :, idx] += w", "setitem(t, (0, slice(None), idx), t[0, :, idx] + w)"),
        ("z[row, 1:, [1, 0]] -= vb[1:]", "setitem(t, (row, slice(1, None), [1, 0]), t[row, 1:, [1, 0]] - vb[1:])"),
        ("z[-1, :, idx] *= 2.0", "setitem(t, (-1, slice(None), idx), t[-1, :, idx] * F32(2))"),
        ("z[:, 0, idx] += 1.0", "setitem(t, (slice(None), 0, idx), t[:, 0, idx] + F32(1))"),
    )
    for i, (stmt, want) in enumerate(blocks):
        name = "set%02d" % (i + 1)
        prog_stmt = stmt.replace("z[:, idx, row]", "z[:, idx % t.shape[1], row]")
        p.block(stmt, ["z = t", prog_stmt, 'save("%s.npy", z)' % name, 'save("%s_t.npy", t)' % name],
                {name: want, name + "_t": "t"})
    # the reads these assignments mirror
    for e in ("t[1, :, [0, 1]]", "t[0, :, idx]", "t[[0], :, idx]", "t[idx, 1:3, [0]]", "t[row, ::-1, idx]"):
        p.check(e.replace("[0, 1]", "tensor([0, 1])").replace("[0]", "tensor([0])"), e)
    # their gradients: a scatter-add through the same plan (f64)
    p.check("grad(sum(u[0, :, idx] * wk), u)", lambda ns: add_at(ns["u"].shape, (0, slice(None), ns["idx"]), ns["wk"]))
    p.check("grad(sum(u[idx, :, row] * wk), u)",
            lambda ns: add_at(ns["u"].shape, (ns["idx"], slice(None), ns["row"]), ns["wk"]))


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
