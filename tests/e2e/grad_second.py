"""Second-order gradients (issue 13, tests/fuzz/found/grad_wrt_grad.tc): a
grad() of an expression that reads another grad()'s result, and a grad()
with respect to a grad() result.  The outer gradient is checked against
central finite differences (f64, eps = 1e-6) of the inner gradient written
out by hand in NumPy; a gradient with respect to a grad() result, which
finite differences cannot perturb, against its closed form."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from gradients import check  # noqa: E402
from oracle import F64, I64, np  # noqa: E402

KNOWN_FAILURES = {}


def build(s):
    p = s.program("second order", "x: f64[3, 4], w: f64[3, 4], v: f64[3, 4], a: f64[3, 4], b: f64[4, 2], "
                                  "m: f64[3, 2], idx: i64[5]")
    x = s.normal((3, 4), F64)
    p.run(x=x, w=s.normal((3, 4), F64), v=s.normal((3, 4), F64), a=s.normal((3, 4), F64), b=s.normal((4, 2), F64),
          m=s.normal((3, 2), F64), idx=np.array([0, 2, 2, 1, 0], I64))
    # grad of an expression that reads a grad result
    check(p, "sum(grad(sum(x ** 3.0), x) * w)", fd_expr="sum(3.0 * x ** 2 * w)")
    check(p, "sum(grad(sum(tanh(x) * w), x) ** 2.0)", fd_expr="sum(((1.0 - tanh(x) ** 2) * w) ** 2)")
    check(p, "sum(grad(sum(x * x * v), x) * w)", "v", fd_expr="sum(2.0 * x * v * w)")
    check(p, "sum(grad(logsumexp(x), x) * w)", fd_expr="sum(np.exp(x - logsumexp(x)) * w)")
    check(p, "sum(grad(sum(exp(x) * w), x) ** 2.0) + sum(x * x)", fd_expr="sum((np.exp(x) * w) ** 2) + sum(x * x)")
    check(p, "sum(grad(sum(sigmoid(a @ b) * m), a) * a)", "a",
          fd_expr="sum(((sigmoid(a @ b) * (1.0 - sigmoid(a @ b)) * m) @ b.T) * a)")
    check(p, "sum(grad(sum(sigmoid(a @ b) * m), a) * a)", "b",
          fd_expr="sum(((sigmoid(a @ b) * (1.0 - sigmoid(a @ b)) * m) @ b.T) * a)")
    # through a gather: the inner gradient is a scatter-add (index_add) of a value that depends on x
    check(p, "sum(grad(sum(x[idx] ** 2.0), x) * v)", fd_expr="sum(np_add_at(x, idx, 2.0 * x[idx]) * v)",
          np_pre=["from grad_second import add_at as np_add_at"])
    # third order: three rounds of expansion
    check(p, "sum(grad(sum(grad(sum(x ** 4.0), x)), x) * w)", fd_expr="sum(12.0 * x ** 2 * w)")
    # with respect to a grad result (the fuzzer's program, and one that goes on computing)
    p.block("grad wrt grad", ["g1 = grad(sum(x), x)", "g2 = grad(sum(g1 * x), g1)", 'save("g2.npy", g2)'],
            {"g2": "x"})
    p.block("grad wrt grad, used after", ["g = grad(sum(x * w), x)", "h = grad(sum(exp(g) * v), g)",
                                          'save("h.npy", h * 2.0)'],
            {"h": "2.0 * np.exp(w) * v"}, tol=(1e-12, 1e-12))


def add_at(x, idx, g):
    """zeros_like(x) with the rows g added at rows idx (repeats accumulate)."""
    z = np.zeros_like(x)
    np.add.at(z, idx, g)
    return z


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
