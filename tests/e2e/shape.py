"""Shape built-ins against NumPy: reshape (-1), .T, transpose, permute,
squeeze, unsqueeze/expand_dims, broadcast_to, flatten, cat/concatenate,
stack, split, flip, clone/copy, detach and .to(cpu)/.cpu() as identities,
x.shape / x.ndim; on f32, i64 and bool, with symbolic sizes."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {
}


def build(s):
    p = s.program("shape", "x: f32[N, 6], t: f32[A, 3, 4], v: f32[6], i: i64[N, 6], one: f32[N, 1, 6], "
                           "bb: bool[N, 6], d: f64[A, 3, 4]")
    for n, a in ((4, 2), (2, 5), (1, 1)):
        p.run(x=s.normal((n, 6)), t=s.normal((a, 3, 4)), v=s.normal((6,)), i=s.ints(-9, 10, (n, 6)),
              one=s.normal((n, 1, 6)), bb=s.bools((n, 6)), d=s.normal((a, 3, 4), F64))
    for e, want in (
            # reshape
            ("reshape(x, -1)", "x.reshape(-1)"), ("x.reshape(-1)", "x.reshape(-1)"), ("x.reshape(3, -1)", "x.reshape(3, -1)"),
            ("x.reshape(-1, 2)", "x.reshape(-1, 2)"), ("x.reshape((2, -1))", "x.reshape(2, -1)"),
            ("reshape(x, 2, 3, -1)", "x.reshape(2, 3, -1)"), ("x.reshape(x.shape[0] * 2, 3)", "x.reshape(-1, 3)"),
            ("t.reshape(t.shape[0], -1)", "t.reshape(t.shape[0], -1)"), ("t.reshape(-1, 4)", "t.reshape(-1, 4)"),
            ("v.reshape(2, 3)", "v.reshape(2, 3)"), ("v.reshape(3, 1, 2)", "v.reshape(3, 1, 2)"),
            ("i.reshape(-1, 3)", "i.reshape(-1, 3)"), ("bb.reshape(-1)", "bb.reshape(-1)"),
            ("x[0, 0].reshape(1, 1)", "x[0, 0].reshape(1, 1)"), ("x.reshape(x.shape[0], 2, 3)[:, 1]", "x.reshape(-1, 2, 3)[:, 1]"),
            # transposes
            ("x.T", None), ("t.T", None), ("i.T", None), ("transpose(x)", "x.T"), ("transpose(t)", "t.T"),
            ("transpose(t, 1, 0, 2)", "np.transpose(t, (1, 0, 2))"), ("transpose(t, (2, 0, 1))", "np.transpose(t, (2, 0, 1))"),
            ("t.transpose(0, 2, 1)", "t.transpose(0, 2, 1)"), ("transpose(x, 1, 0)", "x.T"),
            ("permute(t, 2, 0, 1)", "np.transpose(t, (2, 0, 1))"), ("t.permute(1, 2, 0)", "np.transpose(t, (1, 2, 0))"),
            ("transpose(t, -1, 0, 1)", "np.transpose(t, (2, 0, 1))"), ("d.transpose(2, 1, 0)", "d.transpose(2, 1, 0)"),
            ("x.T.reshape(-1)", "x.T.reshape(-1)"), ("t.permute(2, 0, 1).reshape(4, -1)", "np.transpose(t, (2, 0, 1)).reshape(4, -1)"),
            ("x.T * 2.0 + 1.0", "x.T * F32(2) + F32(1)"), ("(x.T @ x).T", "(x.T @ x).T"),
            # squeeze, unsqueeze
            ("squeeze(one)", "np.squeeze(one, 1)"),
            ("squeeze(one, axis=1)", "np.squeeze(one, axis=1)"), ("one.squeeze(axis=1)", "np.squeeze(one, axis=1)"),
            ("one.squeeze(axis=-2)", "np.squeeze(one, axis=1)"), ("squeeze(v.reshape(1, 6, 1))", "v"),
            ("unsqueeze(x, 0)", "x[None]"), ("unsqueeze(x, -1)", "x[..., None]"), ("x.unsqueeze(1)", "x[:, None]"),
            ("expand_dims(v, 0)", "v[None]"), ("expand_dims(x, 2)", "x[:, :, None]"), ("expand_dims(x, -3)", "x[None]"),
            ("unsqueeze(i, 1)", "i[:, None]"),
            # broadcast_to, flatten
            ("broadcast_to(v, x.shape[0], 6)", "np.broadcast_to(v, x.shape)"), ("broadcast_to(v, (3, 6))", "np.broadcast_to(v, (3, 6))"),
            ("broadcast_to(one, 2, x.shape[0], 3, 6)", "np.broadcast_to(one, (2, one.shape[0], 3, 6))"),
            ("broadcast_to(x[:, :1], x.shape[0], 6)", "np.broadcast_to(x[:, :1], x.shape)"), ("broadcast_to(i[:1], 3, 6)", "np.broadcast_to(i[:1], (3, 6))"),
            ("flatten(t)", "t.reshape(-1)"), ("t.flatten()", "t.reshape(-1)"), ("flatten(x.T)", "x.T.reshape(-1)"),
            ("flatten(bb)", "bb.reshape(-1)"), ("flatten(x[0, 0])", "x[0, 0].reshape(1)"),
            # cat, concatenate, stack
            ("cat([x, x], axis=0)", "np.concatenate([x, x], 0)"), ("cat([x, x * 2.0], axis=1)", "np.concatenate([x, x * F32(2)], 1)"),
            ("concatenate([t, t, t], axis=-1)", "np.concatenate([t, t, t], -1)"), ("cat([v, v, v])", "np.concatenate([v, v, v])"),
            ("concatenate([x, v[None]], axis=0)", "np.concatenate([x, v[None]])"), ("cat([t, d], axis=1)", "np.concatenate([t.astype(F64), d], 1)"),
            ("cat([x, i], axis=0)", "np.concatenate([x, i.astype(F32)])"), ("cat([i, i * 2], axis=1)", "np.concatenate([i, i * 2], 1)"),
            ("cat([bb, bb], axis=0)", "np.concatenate([bb, bb])"), ("cat((x, x), axis=0)", "np.concatenate([x, x])"),
            ("stack([x, x * 2.0])", "np.stack([x, x * F32(2)])"), ("stack([x, x], axis=1)", "np.stack([x, x], 1)"),
            ("stack([v, v + 1.0, v * 3.0], axis=-1)", "np.stack([v, v + F32(1), v * F32(3)], -1)"),
            ("stack([t, t], axis=2)", "np.stack([t, t], 2)"), ("stack([i, i], axis=0)", "np.stack([i, i])"),
            ("stack([x[0, 0], x[0, 1]])", "np.stack([x[0, 0], x[0, 1]])"), ("stack([x, i], axis=0)", "np.stack([x, i.astype(F32)])"),
            # flip
            ("flip(x, axis=0)", "np.flip(x, 0)"), ("flip(x, axis=1)", "np.flip(x, 1)"), ("flip(t)", "np.flip(t)"),
            ("flip(t, axis=(0, 2))", "np.flip(t, (0, 2))"), ("flip(t, axis=-1)", "np.flip(t, -1)"), ("flip(i, axis=0)", "np.flip(i, 0)"),
            ("flip(v)", "v[::-1]"), ("flip(x.T, axis=0)", "np.flip(x.T, 0)"),
            # clone, copy, identities
            ("clone(x)", "x"), ("copy(t)", "t"), ("x.copy()", "x"), ("x.clone()", "x"), ("detach(x)", "x"), ("x.detach()", "x"),
            ("x.to(cpu)", "x"), ("x.cpu()", "x"), ("clone(i)", "i"), ("copy(bb)", "bb"),
            # shape and ndim
            ("x.shape[0]", "np.int64(x.shape[0])"), ("x.shape[-1]", "np.int64(6)"), ("t.shape[0] * t.shape[2]", "np.int64(t.shape[0] * 4)"),
            ("x.ndim", "np.int64(2)"), ("t.ndim", "np.int64(3)"), ("x.shape[0] + 0.5", "np.float32(x.shape[0] + 0.5)")):
        p.check(e, want)
    p.block("split(x, 2, axis=1)", ['sa, sb = split(x, 2, axis=1)', 'save("split_a.npy", sa)', 'save("split_b.npy", sb)'],
            {"split_a": "np.split(x, 2, 1)[0]", "split_b": "np.split(x, 2, 1)[1]"})
    p.block("split(v, 3)", ['p1, p2, p3 = split(v, 3)', 'save("split3_a.npy", p1)', 'save("split3_c.npy", p3)'],
            {"split3_a": "np.split(v, 3)[0]", "split3_c": "np.split(v, 3)[2]"})
    p.block("split(t, 2, axis=-1)", ['q1, q2 = split(t, 2, axis=-1)', 'save("split4.npy", q2 - q1)'],
            {"split4": "np.split(t, 2, -1)[1] - np.split(t, 2, -1)[0]"})
    p.block("x.split(3, axis=1)", ['r1, r2, r3 = x.split(3, axis=1)', 'save("split5.npy", r2)'],
            {"split5": "np.split(x, 3, 1)[1]"})
    p.block("value semantics of reshape", ['w = x.reshape(-1)', 'w[0] = 100.0', 'save("vs_x.npy", x)', 'save("vs_w.npy", w)'],
            {"vs_x": "x", "vs_w": "setitem(x.reshape(-1), 0, 100.0)"})
    p.block("value semantics of transpose", ['wt = x.T', 'wt[0, 0] = -7.0', 'save("vs_xt.npy", x)', 'save("vs_wt.npy", wt)'],
            {"vs_xt": "x", "vs_wt": "setitem(x.T, (0, 0), -7.0)"})


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
