"""Symbolic dims of the signature used as values (issue 13 item 9):
`arange(N)`, `zeros(N)`, `full((N, 2), v)`, `N * 2`... have the symbolic
shape and the run's sizes, against NumPy on inputs of several sizes."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {}


def build(s):
    p = s.program("dims", "x: f32[N], M: f32[R, C]",
                  setup=["n = x.shape[0]"])
    for n, r, c in ((1, 2, 3), (4, 1, 5), (7, 3, 1)):
        p.run(x=s.smallf((n,)), M=s.smallf((r, c)), label="N%dR%dC%d" % (n, r, c))
    for e, want in (
            ("arange(N)", "np.arange(len(x), dtype=I64)"),
            ("zeros(N) + x", "np.zeros(len(x), F32) + x"),
            ("ones(N) * x", "np.ones(len(x), F32) * x"),
            ("full((N, 2), 1.5)", "np.full((len(x), 2), 1.5, F32)"),
            ("N * 2", "np.int64(len(x) * 2)"),
            ("zeros(R, C) + M", "np.zeros(M.shape, F32) + M"),
            ("eye(C)", "np.eye(M.shape[1], dtype=F32)"),
            ("M @ ones(C)", "M @ np.ones(M.shape[1], F32)"),
            ("arange(R * C).reshape(R, C)", "np.arange(M.size, dtype=I64).reshape(M.shape)"),
            ("x * N", "x * F32(len(x))"),
            ("linspace(0.0, 1.0, N)", "np.linspace(0, 1, len(x)).astype(F32)"),
            ("x[:N - 1]", "x[:len(x) - 1]"),
            ("arange(N) % 2 == 0", "np.arange(len(x)) % 2 == 0"),
            ("zeros(N, dtype=i32)", "np.zeros(len(x), I32)"),
            ("full((R, C), 2.0) * N + M", "np.full(M.shape, 2 * len(x), F32) + M"),
            ("N == n", "np.bool_(True)")):
        p.check(e, want)
    p.block("a loop of N steps", ["acc = 0", "for i in range(N):", "    acc = acc + i", 'save("acc.npy", acc)'],
            {"acc": "np.int64(len(x) * (len(x) - 1) // 2)"})
    # An inlined function's dims are its arguments' sizes at each call.
    q = s.program("inlined", "x: f32[N], y: f32[P]",
                  header=["def padded(v: f32[K]):", "    return cat([v, zeros(K)])"])
    for n, m in ((1, 2), (3, 5)):
        q.run(x=s.smallf((n,)), y=s.smallf((m,)), label="N%dP%d" % (n, m))
    q.check("padded(x)", "np.concatenate([x, np.zeros(len(x), F32)])")
    q.check("padded(y)", "np.concatenate([y, np.zeros(len(y), F32)])")


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
