"""Boolean-mask assignments (issue 13 item 10): x[mask] = v and x[mask] op= v
with a scalar v, as NumPy allows, against NumPy; reading x[mask] is a
compile error (tests/passes/shape/masks.tc)."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I64, np  # noqa: E402

KNOWN_FAILURES = {}


def aug(a, mask, op, v):
    """A copy of `a` with a[mask] op= v, as NumPy does it."""
    a = np.array(a, copy=True)
    sel = a[mask]
    a[mask] = op(sel, v)
    return a


def build(s):
    p = s.program("masks", "x: f32[N, M], d: f64[N], k: i64[N], mask: bool[N, M], s: f32")
    for n, m in ((5, 3), (1, 4), (0, 2)):
        p.run(x=s.normal((n, m)), d=s.normal((n,), F64), k=s.ints(-5, 6, (n,)), mask=s.bools((n, m)), s=1.5,
              label="N%dM%d" % (n, m))
    blocks = (
        ("z[mask] = 0.0", "z = x", "setitem(x, mask, 0.0)"),
        ("z[mask] = s", "z = x", "setitem(x, mask, s)"),
        ("z[x > 0.0] = -1", "z = x", "setitem(x, x > 0, -1)"),
        ("z[mask] = [2.5]", "z = x", "setitem(x, mask, 2.5)"),
        ("z[mask] += 1.0", "z = x", lambda ns: aug(ns["x"], ns["mask"], np.add, F32(1))),
        ("z[mask] -= s", "z = x", lambda ns: aug(ns["x"], ns["mask"], np.subtract, F32(1.5))),
        ("z[x < 0.0] *= 2.0", "z = x", lambda ns: aug(ns["x"], ns["x"] < 0, np.multiply, F32(2))),
        ("z[abs(x) > 1.0] /= 4.0", "z = x", lambda ns: aug(ns["x"], np.abs(ns["x"]) > 1, np.divide, F32(4))),
        ("z[mask] = 1.0; z[logical_not(mask)] = 2.0", "z = x", "np.where(mask, F32(1), F32(2))"),
        ("dz[dz > 0.0] = 0.25", "dz = d", "setitem(d, d > 0, 0.25)"),
        ("dz[dz < 0.0] += 1", "dz = d", lambda ns: aug(ns["d"], ns["d"] < 0, np.add, 1.0)),
        ("kz[kz % 2 == 0] = 100", "kz = k", "setitem(k, k % 2 == 0, 100)"),
        ("kz[kz < 0] *= -1", "kz = k", "np.abs(k)"),
        ("kz[kz > 2] = 2.9", "kz = k", "setitem(k, k > 2, 2)"),
    )
    for i, (stmt, init, want) in enumerate(blocks):
        name = "m%02d" % (i + 1)
        var = init.split(" = ")[0]
        src = init.split(" = ")[1]
        p.block(stmt, [init] + stmt.split("; ") + ['save("%s.npy", %s)' % (name, var),
                                                   'save("%s_src.npy", %s)' % (name, src)],
                {name: want, name + "_src": src})
    p.block("a mask in a loop", ["acc = zeros_like(x)", "for r in range(3):", "    acc[mask] += 1.5", 'save("loop.npy", acc)'],
            {"loop": "np.where(mask, F32(4.5), F32(0))"})
    p.block("a mask assignment feeding a reduction", ["z = x", "z[z < 0.0] = 0.0", 'save("relu_sum.npy", z.sum(axis=1))'],
            {"relu_sum": "np.maximum(x, 0).sum(axis=1)"})


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
