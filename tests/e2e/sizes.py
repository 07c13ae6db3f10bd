"""Sizes against NumPy (issue 13 items 2 and 16): a size given by any
integer expression, constant or known only at run time (`**`, `//`, `%`,
maximum/minimum, unary minus, abs, astype(i64), int(), x.shape arithmetic, an
inlined function's result), makes a tensor of exactly that many elements,
for every creation op and for reshape/broadcast_to.  (`zeros(2**3)` had 0
elements: the shape pass did not evaluate `**`, so the size became a
symbol, and the lowering never set a symbol whose node the simplify pass
had folded into a constant.)  arange with a negative count is empty, as
NumPy's.  full/full_like take a fill value known only at run time.  The
errors (negative and overflowing sizes) are lit tests:
tests/runtime/size_errors.test and tests/passes/shape/size-limits.tc."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {}

# an inlined function whose integer result is a size
HEADER = ["def sq(k):", "    return k * k + 1", ""]


def checks(p, cases):
    for e, want in cases:
        p.check(e, want)


def constant_sizes(s):
    # each form its own program (a compile error in one costs one program)
    sig = "x: f32[N]"
    run = dict(x=np.arange(6, dtype=F32))
    checks(s.program("const_pow", sig, header=HEADER).run(**run), (
        ("zeros(2**3)", "np.zeros(2**3, F32)"), ("ones(3**2, 2)", "np.ones((9, 2), F32)"),
        ("full(2**4, 1.5)", "np.full(16, 1.5, F32)"), ("full(10**7, 0.5).shape[0]", "np.int64(10**7)"),
        ("mean(full(10**6, 0.5))", "np.float32(0.5)"), ("zeros(2**62 // 2**60)", "np.zeros(4, F32)"),
        ("zeros(x.shape[0] ** 2)", "np.zeros(36, F32)")))
    checks(s.program("const_divmod", sig, header=HEADER).run(**run), (
        ("zeros(7 // 2)", "np.zeros(3, F32)"), ("zeros(-7 // -2)", "np.zeros(3, F32)"),
        ("zeros(17 % 5)", "np.zeros(2, F32)"), ("zeros(-3 % 5)", "np.zeros(2, F32)"),
        ("zeros(2**3 - 2**2, 2 * 3 // 4)", "np.zeros((4, 1), F32)"),
        ("zeros(x.shape[0] // 4, x.shape[0] % 4)", "np.zeros((1, 2), F32)")))
    checks(s.program("const_other", sig, header=HEADER).run(**run), (
        ("zeros(maximum(2, 5))", "np.zeros(5, F32)"), ("zeros(minimum(2, 5))", "np.zeros(2, F32)"),
        ("zeros(-(-4))", "np.zeros(4, F32)"), ("zeros(abs(-3))", "np.zeros(3, F32)"),
        ("zeros((3.7).astype(i64))", "np.zeros(3, F32)"), ("zeros(sq(3))", "np.zeros(10, F32)"),
        ("zeros(int(3.7))", "np.zeros(3, F32)"), ("int(-2.7)", "np.int64(-2)")))
    checks(s.program("const_ops", sig, header=HEADER).run(**run), (
        ("arange(2**5)", "np.arange(32, dtype=I64)"), ("eye(2**2)", "np.eye(4, dtype=F32)"),
        ("linspace(0, 1, 2**2 + 1)", "np.linspace(0, 1, 5).astype(F32)"),
        ("rand(2**3, dtype=f64).shape[0]", "np.int64(8)"), ("randint(0, 5, 3**2).shape[0]", "np.int64(9)"),
        ("reshape(arange(12), 2**2, -1)", "np.arange(12, dtype=I64).reshape(4, -1)"),
        ("broadcast_to(x, 2**1, x.shape[0])", "np.broadcast_to(x, (2, 6))")))


def runtime_sizes(s):
    sig = "x: f32[N], n: i64, f: f32"
    runs = (dict(x=s.uniform(0.5, 2.0, (5,)), n=5, f=np.float32(4.5)),
            dict(x=s.uniform(0.5, 2.0, (2,)), n=2, f=np.float32(0.25), label="small"))

    def program(name):
        p = s.program(name, sig, header=HEADER)
        for r in runs:
            p.run(**r)
        return p
    checks(program("rt_pow"), (
        ("zeros(n**2)", "np.zeros(n**2, F32)"), ("ones(2**n)", "np.ones(2**n, F32)"),
        ("zeros(x.shape[0] ** 2)", "np.zeros(len(x) ** 2, F32)"), ("full(n**2, 2.5)", "np.full(n**2, 2.5, F32)"),
        ("sum(ones(n**2, dtype=i64))", "np.int64(n**2)")))
    checks(program("rt_divmod"), (
        ("zeros(n // 2)", "np.zeros(n // 2, F32)"), ("zeros(n % 3, 2)", "np.zeros((n % 3, 2), F32)"),
        ("zeros(x.shape[0] // 2 + 1)", "np.zeros(len(x) // 2 + 1, F32)")))
    checks(program("rt_other"), (
        ("zeros(maximum(n, 3))", "np.zeros(max(n, 3), F32)"), ("zeros(minimum(n, 3))", "np.zeros(min(n, 3), F32)"),
        ("zeros(-(1 - n))", "np.zeros(n - 1, F32)"), ("zeros(abs(1 - n))", "np.zeros(abs(1 - n), F32)"),
        ("zeros(f.astype(i64))", "np.zeros(int(f), F32)"), ("zeros(sum(x).astype(i64))", "np.zeros(int(np.sum(x)), F32)"),
        ("zeros(sq(n))", "np.zeros(n * n + 1, F32)"), ("zeros(int(sum(x)) - 1)", "np.zeros(int(np.sum(x)) - 1, F32)"),
        ("zeros(int(f) + 1)", "np.zeros(int(f) + 1, F32)"), ("int(-f)", "np.int64(int(-f))")))
    checks(program("rt_ops"), (
        ("arange(n**2)", "np.arange(n**2, dtype=I64)"), ("arange(n, n**2)", "np.arange(n, n**2, dtype=I64)"),
        ("eye(n // 2 + 1)", "np.eye(n // 2 + 1, dtype=F32)"), ("linspace(0, 1, n**2)", "np.linspace(0, 1, n**2).astype(F32)"),
        ("reshape(arange(n**2), n, -1)", "np.arange(n**2, dtype=I64).reshape(n, -1)"),
        ("broadcast_to(x, n // 2 + 1, x.shape[0])", "np.broadcast_to(x, (n // 2 + 1, len(x)))"),
        ("rand(n**2).shape[0]", "np.int64(n**2)"), ("randn(n, n % 3 + 1).shape[1]", "np.int64(n % 3 + 1)")))


def loop_sizes(s):
    # a loop variable as a size: a new length every iteration
    p = s.program("loop", "n: i64")
    p.run(n=4)
    p.run(n=0, label="none")
    p.block("sum over i of ones(i**2) and arange(i, 2 * i)",
            ["t = 0", "for i in range(n):", "    t = t + sum(ones(i**2, dtype=i64)) + arange(i, 2 * i).shape[0]",
             'save("loop.npy", t)'],
            {"loop": "np.int64(sum(i * i + i for i in range(n)))"})


def runtime_fill(s):
    # full / full_like with a fill value known only at run time (was refused:
    # "full() needs a fill value known at compile time"): NumPy's dtypes
    p = s.program("fill", "x: f32[N, M], i: i64[N], n: i64, a: f32, w: f64")
    p.run(x=s.normal((2, 3)), i=s.ints(-5, 5, (2,)), n=3, a=np.float32(2.5), w=np.float64(-0.125))
    for e, want in (
            ("full(3, a)", "np.full(3, a, F32)"), ("full((2, n), a, dtype=f64)", "np.full((2, n), a, F64)"),
            ("full(x.shape, w)", "np.full(x.shape, w, F64)"), ("full(2, n * 2)", "np.full(2, n * 2, I64)"),
            ("full(n**2, a) * 2.0", "np.full(n**2, a, F32) * F32(2)"), ("full(2, 2, fill_value=w)", "np.full((2, 2), w, F64)"),
            ("full_like(i, a)", "np.full_like(i, a)"), ("full_like(x, w)", "np.full_like(x, w)"),
            ("full_like(i, a, dtype=f32)", "np.full(i.shape, a, F32)")):
        p.check(e, want)
    p.block("y = full(3, a); y[0] = 7.0", ["y = full(3, a)", "y[0] = 7.0", 'save("fillset.npy", y)', 'save("filla.npy", a)'],
            {"fillset": "setitem(np.full(3, a, F32), 0, 7.0)", "filla": "a"})


def negative_arange(s):
    # arange with a count that is negative is empty (NumPy), constant or not
    p = s.program("arange", "a: i64, b: i64")
    for a, b in ((5, 2), (2, 5), (-3, -7), (0, 0)):
        p.run(a=a, b=b, label="a%d_b%d" % (a, b))
    for e, want in (
            ("arange(a, b)", "np.arange(a, b, dtype=I64)"), ("arange(b, a)", "np.arange(b, a, dtype=I64)"),
            ("arange(a, b, -1)", "np.arange(a, b, -1, dtype=I64)"), ("arange(a - b)", "np.arange(a - b, dtype=I64)"),
            ("arange(5, 2)", "np.arange(5, 2, dtype=I64)"), ("arange(-4)", "np.arange(-4, dtype=I64)"),
            ("arange(a, b, 2)", "np.arange(a, b, 2, dtype=I64)"),
            ("sum(arange(a, b) * 2)", "np.int64(np.sum(np.arange(a, b) * 2))")):
        p.check(e, want)


def branch(s):
    # the sizes are checked where the op runs, not where n is computed: a
    # negative n is fine on the path that does not use it as a size
    p = s.program("branch", "n: i64")
    for n in (-2, 0, 3):
        p.run(n=n, label="n%d" % n)
    p.block("if n >= 0: zeros(n) else: arange(n)",
            ["if n >= 0:", '    save("br.npy", zeros(n))', "else:", '    save("br.npy", arange(n).astype(f32))'],
            {"br": "np.zeros(n, F32) if n >= 0 else np.arange(n).astype(F32)"})


def build(s):
    constant_sizes(s)
    runtime_sizes(s)
    loop_sizes(s)
    runtime_fill(s)
    negative_arange(s)
    branch(s)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
