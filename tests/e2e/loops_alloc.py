"""Allocations whose size changes from one loop iteration to the next,
against NumPy: sizes computed from the loop variable (`2 * i`, `i + 1`,
`n * i`, `i * i + 1`), from a value updated in the loop (`k = k * 2`) or
assigned by an `if` in it, of an inner loop from the outer one's variable
(`j - i`), and loops that count down (a later buffer smaller than an
earlier one).  Each built-in that allocates (creation, random, slicing,
cat, matmul, reshape, a reduction's result) prints its value or shape at
every iteration, so an allocation taken for loop-invariant (made once,
before the loop, at the first size: the bug this group was written for)
or a size symbol left at its initial value shows up as a wrong line."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, I64, np, pyprint  # noqa: E402

KNOWN_FAILURES = {}


def lines(fn):
    """stdout expectation: fn(ns) yields the argument tuples of each print."""
    return lambda ns: "".join(pyprint(*args) for args in fn(ns))


def creation(ns):
    for i in range(1, 4):
        yield (np.zeros(2 * i, F32),)
        yield (np.arange(i + 1, dtype=I64),)
        yield (np.full((i, 2), F32(1.5)),)


def random_sizes(ns):
    for i in range(1, 4):
        yield (2 * i, i + 1)


def from_argument(ns):
    n = int(ns["n"])
    for i in range(1, 4):
        yield (np.ones(n * i, F32).sum(), n * i)


def carried(ns):
    k = 1
    for _ in range(4):
        yield (np.ones(k, F32).sum(), np.arange(k, dtype=I64))
        k = k * 2


def computed(ns):
    for i in range(4):
        m = i * i + 1
        yield (np.arange(m, dtype=I64) * 2,)


def slicing(ns):
    x = ns["x"]
    for i in range(len(x)):
        y = x[:i + 1] * F32(2)
        yield (y, x[i:].sum())


def concat(ns):
    x = ns["x"]
    for i in range(3):
        yield (np.concatenate([x, np.zeros(i, F32), np.arange(i, dtype=F32)]),)


def matmul(ns):
    M = ns["M"]
    for i in range(1, 4):
        a = np.arange((i + 1) * 3, dtype=F32).reshape(i + 1, 3)
        yield (a @ M,)
        yield (np.ones((2, i), F32) @ np.ones((i, 3), F32),)


def reshape(ns):
    for i in range(1, 4):
        r = np.arange(2 * i, dtype=I64).reshape(i, 2)
        yield (r, r.sum(axis=1), r.T.reshape(2 * i))


def nested(ns):
    for i in range(1, 4):
        for j in range(i):
            yield (i, j, np.zeros(i * j + 1, F32) + F32(j))


def branch_size(ns):
    for i in range(4):
        m = i + 1 if i % 2 == 0 else 2 * i
        yield (np.zeros(m, F32).shape[0], np.arange(m, dtype=I64))


def triangle(ns):
    for i in range(3):
        for j in range(i, 3):
            yield (np.ones(j - i, F32).sum(), np.arange(i, j, dtype=I64))


def count_down(ns):
    for i in range(4, 0, -1):
        z = np.zeros(i, F32)
        z[0] = F32(i)
        yield (z, np.ones((i, 2), F32).sum(axis=0))


def build(s):
    p = s.program("loops", "x: f32[N], n: i64, M: f32[3, 2]")
    p.run(x=s.smallf((4,)), n=3, M=s.smallf((3, 2)))
    p.run(x=s.smallf((1,)), n=1, M=s.smallf((3, 2)))
    p.run(x=s.smallf((6,)), n=5, M=s.smallf((3, 2)))
    p.block("creation with sizes 2*i, i+1, (i, 2)",
            ["for i in range(1, 4):", "    print(zeros(2 * i))", "    print(arange(i + 1))",
             "    print(full((i, 2), 1.5))"], stdout=lines(creation))
    p.block("randn(2 * i) and rand(i + 1): their shapes",
            ["for i in range(1, 4):", "    r1 = randn(2 * i)", "    r2 = rand(i + 1)",
             "    print(r1.shape[0], r2.shape[0])"], stdout=lines(random_sizes))
    p.block("ones(n * i) with n an argument",
            ["for i in range(1, 4):", "    o = ones(n * i)", "    print(o.sum(), o.shape[0])"],
            stdout=lines(from_argument))
    p.block("ones(k) and arange(k) with k doubled in the loop",
            ["k = 1", "for j in range(4):", "    print(ones(k).sum(), arange(k))", "    k = k * 2"], stdout=lines(carried))
    p.block("arange(i * i + 1), a size computed in the loop",
            ["for i in range(4):", "    m = i * i + 1", "    print(arange(m) * 2)"], stdout=lines(computed))
    p.block("slices x[:i + 1] and x[i:]",
            ["for i in range(N):", "    y = x[:i + 1] * 2.0", "    print(y, x[i:].sum())"], stdout=lines(slicing))
    p.block("cat with zeros(i) and arange(i)",
            ["for i in range(3):", "    print(cat([x, zeros(i), arange(i).astype(f32)]))"], stdout=lines(concat))
    p.block("matmul of (i + 1, 3) by (3, 2) and (2, i) by (i, 3)",
            ["for i in range(1, 4):", "    a = arange((i + 1) * 3).astype(f32).reshape(i + 1, 3)", "    print(a @ M)",
             "    print(ones(2, i) @ ones(i, 3))"], stdout=lines(matmul))
    p.block("reshape(i, 2), a row sum and a transpose flattened",
            ["for i in range(1, 4):", "    r = arange(2 * i).reshape(i, 2)",
             "    print(r, r.sum(axis=1), r.T.reshape(2 * i))"], stdout=lines(reshape))
    p.block("an inner loop's size from the outer variable",
            ["for i in range(1, 4):", "    for j in range(i):", "        print(i, j, zeros(i * j + 1) + j)"],
            stdout=lines(nested))
    p.block("a size assigned by an if inside the loop",
            ["for i in range(4):", "    if i % 2 == 0:", "        m2 = i + 1", "    else:", "        m2 = 2 * i",
             "    print(zeros(m2).shape[0], arange(m2))"], stdout=lines(branch_size))
    p.block("sizes j - i of an inner range(i, 3)",
            ["for i in range(3):", "    for j in range(i, 3):", "        print(ones(j - i).sum(), arange(i, j))"],
            stdout=lines(triangle))
    p.block("a loop counting down: each buffer smaller than the last",
            ["for i in range(4, 0, -1):", "    z = zeros(i)", "    z[0] = i * 1.0",
             "    print(z, ones(i, 2).sum(axis=0))"], stdout=lines(count_down))
    p.block("a sum over loop-sized buffers, saved after the loop",
            ["tot = 0.0", "for i in range(1, n + 1):", "    tot = tot + (arange(i).astype(f32) * 3.0).sum()",
             'save("tot.npy", tot)'], {"tot": "np.float32(3 * sum(k * (k - 1) // 2 for k in range(1, int(n) + 1)))"})


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
