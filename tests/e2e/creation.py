"""Creation built-ins against NumPy: zeros ones full empty zeros_like
ones_like full_like arange linspace eye tensor, with constant and run-time
sizes; rand randn randint (shape, dtype, range, rough moments) and seeding
(`--seed`, `seed(n)`): the same seed gives the same numbers, another seed
other numbers."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {}


def shape_dtype(shape, dtype):
    """A checker for empty(): only the shape and the dtype are defined."""
    def check(got, ns):
        want = tuple(eval(shape, dict(ns)) if isinstance(shape, str) else shape)
        if got.shape != want or got.dtype != np.dtype(dtype):
            return "got %s%s, expected %s%s" % (got.dtype, got.shape, np.dtype(dtype), want)
        return None
    return check


def build(s):
    p = s.program("creation", "x: f32[N, M], i: i64[N], n: i64, a: f32")
    p.run(x=s.normal((3, 4)), i=s.ints(-5, 5, (3,)), n=5, a=np.float32(2.5))
    p.run(x=s.normal((2, 6)), i=s.ints(-5, 5, (2,)), n=1, a=np.float32(-1.0))
    for e, want in (
            ("zeros(2, 3)", "np.zeros((2, 3), F32)"), ("zeros((2, 3))", "np.zeros((2, 3), F32)"),
            ("zeros(4, dtype=i64)", "np.zeros(4, I64)"), ("zeros(2, 2, dtype=bool)", "np.zeros((2, 2), bool)"),
            ("zeros(3, dtype=i32)", "np.zeros(3, I32)"), ("zeros(n)", "np.zeros(n, F32)"),
            ("zeros(n, 2, dtype=f64)", "np.zeros((n, 2), F64)"), ("zeros(x.shape)", "np.zeros(x.shape, F32)"),
            ("zeros(x.shape[1], x.shape[0])", "np.zeros(x.shape[::-1], F32)"),
            ("ones(3)", "np.ones(3, F32)"), ("ones(2, 3, dtype=i32)", "np.ones((2, 3), I32)"),
            ("ones((n, 2), dtype=f64)", "np.ones((n, 2), F64)"), ("ones(2, dtype=bool)", "np.ones(2, bool)"),
            ("full(2, 3, 7.5)", "np.full((2, 3), 7.5, F32)"), ("full((2, 3), 7.5)", "np.full((2, 3), 7.5, F32)"),
            ("full(4, 3)", "np.full(4, 3, I64)"), ("full(2, 2, 1.5, dtype=f64)", "np.full((2, 2), 1.5, F64)"),
            ("full(n, a)", "np.full(n, a, F32)"), ("full(3, True)", "np.full(3, True)"),
            ("full(2, -1, dtype=i32)", "np.full(2, -1, I32)"),
            ("zeros_like(x)", "np.zeros_like(x)"), ("ones_like(i)", "np.ones_like(i)"),
            ("full_like(x, 2.5)", "np.full_like(x, 2.5)"), ("full_like(i, 7)", "np.full_like(i, 7)"),
            ("full_like(x, 3)", "np.full_like(x, 3)"), ("full_like(x, a)", "np.full_like(x, a)"),
            ("zeros_like(x, dtype=i64)", "np.zeros(x.shape, I64)"), ("ones_like(i, dtype=f32)", "np.ones(i.shape, F32)"),
            ("full_like(x, 3, dtype=f64)", "np.full(x.shape, 3, F64)"), ("zeros_like(i)", "np.zeros_like(i)"),
            ("arange(5)", "np.arange(5, dtype=I64)"), ("arange(n)", "np.arange(n, dtype=I64)"),
            ("arange(2, 7)", "np.arange(2, 7, dtype=I64)"), ("arange(1, 10, 3)", "np.arange(1, 10, 3, dtype=I64)"),
            ("arange(10, 0, -3)", "np.arange(10, 0, -3, dtype=I64)"), ("arange(-3, 3)", "np.arange(-3, 3, dtype=I64)"),
            ("arange(0.0, 1.0, 0.25)", "np.arange(0, 1, 0.25).astype(F32)"), ("arange(0, 1, 0.1)", "np.arange(0, 1, 0.1).astype(F32)"),
            ("arange(5.0)", "np.arange(5.0).astype(F32)"), ("arange(2, 0.5, -0.5)", "np.arange(2, 0.5, -0.5).astype(F32)"),
            ("arange(0, 4, dtype=f64)", "np.arange(0, 4, dtype=F64)"), ("arange(n, 2 * n)", "np.arange(n, 2 * n, dtype=I64)"),
            ("arange(2, n + 5, 2)", "np.arange(2, n + 5, 2, dtype=I64)"), ("arange(0, n, 0.5)", "np.arange(0, n, 0.5).astype(F32)"),
            ("arange(x.shape[0])", "np.arange(x.shape[0], dtype=I64)"), ("arange(5) * 2", "np.arange(5, dtype=I64) * 2"),
            ("arange(4) / 4", "np.arange(4).astype(F32) / F32(4)"),
            ("linspace(0, 1, 5)", "np.linspace(0, 1, 5).astype(F32)"), ("linspace(-1.0, 1.0, 7)", "np.linspace(-1, 1, 7).astype(F32)"),
            ("linspace(0.0, a, n)", "np.linspace(0, a, n).astype(F32)"), ("linspace(2, 2, 1)", "np.linspace(2, 2, 1).astype(F32)"),
            ("linspace(0, 1, 1)", "np.linspace(0, 1, 1).astype(F32)"), ("linspace(3.0, -3.0, 13)", "np.linspace(3, -3, 13).astype(F32)"),
            ("eye(3)", "np.eye(3, dtype=F32)"), ("eye(n)", "np.eye(n, dtype=F32)"), ("eye(4, dtype=i64)", "np.eye(4, dtype=I64)"),
            ("eye(x.shape[1]) * 2.0", "np.eye(x.shape[1], dtype=F32) * F32(2)"),
            ("tensor([[1, 2], [3, 4]])", "np.array([[1, 2], [3, 4]], I64)"), ("tensor([1.5, 2, 3])", "np.array([1.5, 2, 3], F32)"),
            ("tensor([1, 2], dtype=f64)", "np.array([1, 2], F64)"), ("tensor([True, False, True])", "np.array([True, False, True])"),
            ("tensor([[1.0], [2.0]], dtype=i32)", "np.array([[1], [2]], I32)"), ("tensor(3.5)", "np.array(3.5, F32)"),
            ("tensor([-1, 0, 7], dtype=bool)", "np.array([True, False, True])"),
            ("tensor([[[1, 2]], [[3, 4]]], dtype=f32)", "np.array([[[1, 2]], [[3, 4]]], F32)"),
            ("x + tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])[:x.shape[1]] * 0.0", "x + np.float32(0)"),
            ("ones(x.shape[1]) + x", "x + F32(1)"), ("x * zeros(x.shape[0], 1)", "x * F32(0)")):
        p.check(e, want)
    p.check("empty(2, 3)", checker=shape_dtype((2, 3), F32))
    p.check("empty(n, dtype=i64)", checker=shape_dtype("(n,)", I64))
    p.check("empty((2, n), dtype=f64)", checker=shape_dtype("(2, n)", F64))
    p.check("empty(x.shape)", checker=shape_dtype("x.shape", F32))

    # ---- random numbers -----------------------------------------------------
    r = s.program("random", "n: i64")
    # the same --seed twice (once with --threads 2: the stream does not depend
    # on threads), another seed, the default (0) and --seed 0
    for label, flags in (("seed5", ["--seed", "5", "--threads", "1"]), ("seed5again", ["--seed", "5", "--threads", "2"]), ("seed6", ["--seed", "6"]),
                         ("default", []), ("seed0", ["--seed", "0"])):
        r.run(flags=flags, label=label, n=7)

    def moments(lo=None, hi=None, mean=None, std=None, dtype=F32, shape=None, values=None):
        def check(got, ns):
            want_shape = tuple(eval(shape, dict(ns))) if isinstance(shape, str) else shape
            if got.dtype != np.dtype(dtype) or got.shape != want_shape:
                return "got %s%s, expected %s%s" % (got.dtype, got.shape, np.dtype(dtype), want_shape)
            if got.size == 0:
                return None
            g = got.astype(np.float64)
            if not np.isfinite(g).all():
                return "non-finite values"
            if lo is not None and g.min() < lo:
                return "min %g < %g" % (g.min(), lo)
            if hi is not None and g.max() >= hi:
                return "max %g >= %g (the range is half-open)" % (g.max(), hi)
            if mean is not None and abs(g.mean() - mean[0]) > mean[1]:
                return "mean %g, expected %g +- %g" % (g.mean(), mean[0], mean[1])
            if std is not None and abs(g.std() - std[0]) > std[1]:
                return "std %g, expected %g +- %g" % (g.std(), std[0], std[1])
            if values is not None and set(np.unique(got).tolist()) != set(values):
                return "values %s, expected each of %s" % (sorted(set(np.unique(got).tolist())), sorted(values))
            if g.size > 100 and len(np.unique(g)) < g.size * 0.9 and values is None:
                return "only %d distinct values of %d" % (len(np.unique(g)), g.size)
            return None
        return check

    r.check("rand(4000)", checker=moments(0.0, 1.0, (0.5, 0.02), (0.2887, 0.02), shape=(4000,)))
    r.check("rand(40, 50)", checker=moments(0.0, 1.0, (0.5, 0.03), shape=(40, 50)))
    r.check("rand((3, 2))", checker=moments(0.0, 1.0, shape=(3, 2)))
    r.check("rand(n)", checker=moments(0.0, 1.0, shape="(n,)"))
    r.check("rand(2000, dtype=f64)", checker=moments(0.0, 1.0, (0.5, 0.03), dtype=F64, shape=(2000,)))
    r.check("randn(4000)", checker=moments(mean=(0.0, 0.06), std=(1.0, 0.05), shape=(4000,)))
    r.check("randn(50, 40)", checker=moments(mean=(0.0, 0.08), std=(1.0, 0.06), shape=(50, 40)))
    r.check("randn(2000, dtype=f64)", checker=moments(mean=(0.0, 0.08), std=(1.0, 0.06), dtype=F64, shape=(2000,)))
    r.check("randn(n, 3)", checker=moments(shape="(n, 3)"))
    r.check("randint(3, 9, 1000)", checker=moments(3, 9, (5.5, 0.2), dtype=I64, shape=(1000,), values=range(3, 9)))
    r.check("randint(-5, 5, 20, 30)", checker=moments(-5, 5, (-0.5, 0.3), dtype=I64, shape=(20, 30), values=range(-5, 5)))
    r.check("randint(0, n, 500)", checker=moments(0, 7, dtype=I64, shape=(500,), values=range(7)))
    r.check("randint(0, 2, (4, 4))", checker=moments(0, 2, dtype=I64, shape=(4, 4)))
    r.block("successive draws differ", ['a = rand(100)', 'b = rand(100)', 'save("differ.npy", any(a != b))'],
            {"differ": "np.bool_(True)"})
    r.block("seed(n) restarts the stream",
            ['seed(11)', 'c = randn(50)', 'd = rand(3)', 'seed(11)', 'e = randn(50)',
             'save("same_after_seed.npy", all(c == e))', 'save("after_seed11.npy", c)'],
            {"same_after_seed": "np.bool_(True)", "after_seed11": None},
            checkers={"after_seed11": moments(shape=(50,))})

    def same_seed_same_numbers(s):
        """After the runs: --seed 5 twice gives identical files, --seed 6 others, no --seed is --seed 0."""
        base = os.path.join(s.work, "random")
        if not os.path.isdir(os.path.join(base, "seed5")):
            s.report("random: seeds", False, "the random program did not run in one piece (see its failures above)")
            return
        files = sorted(f for f in os.listdir(os.path.join(base, "seed5")) if f.startswith("c") and f.endswith(".npy"))
        for f in files:
            try:
                a5, b5, a6, d, z = (np.load(os.path.join(base, run, f)) for run in
                                    ("seed5", "seed5again", "seed6", "default", "seed0"))
            except OSError as e:
                s.report("random: seeds %s" % f, False, str(e))
                continue
            case = next((c for c in r.cases if f[:-4] in c.outputs), None)
            key = "random: seeds %s" % (case.key if case else f)
            errs = []
            if a5.shape != b5.shape or not np.array_equal(a5, b5):
                errs.append("--seed 5 twice gave different numbers")
            if a5.shape == a6.shape and a5.size > 1 and np.array_equal(a5, a6):
                errs.append("--seed 5 and --seed 6 gave the same numbers")
            if d.shape != z.shape or not np.array_equal(d, z):
                errs.append("no --seed differs from --seed 0 (the default seed is 0)")
            if a5.shape == d.shape and a5.size > 1 and np.array_equal(a5, d):
                errs.append("--seed 5 gave the numbers of the default seed")
            s.report(key, not errs, "; ".join(errs), [], base)
    return [same_seed_same_numbers]


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
