"""Matmul epilogues: a bias and an activation after a 2-D product, the
shapes passes/blas_epilogue.c folds into one cuBLASLt call on the GPU (bias
per column, relu, gelu's tanh form; transposed operands; one row) and the
ones it must leave alone (bias per row, batched, f64, other activations, a
second reader of the product), against NumPy.  On the CPU nothing folds (the
blockwise epilogue of docs/internals.md); under --gpu-emulate the folded
calls run as the plain product and the prelude's epilogue kernel
(runtime/cublaslt.c's fallback).  Each case is a program of its own, so no
two cases share a product (CSE would give it a second reader)."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, np  # noqa: E402

KNOWN_FAILURES = {
}

TOL = (1e-5, 1e-5)
SIG = "x: f32[N, 16], W: f32[16, 8], b: f32[8], xt: f32[16, N], Wt: f32[8, 16], c: f32[N, 1], x3: f32[2, N, 16]"
GELU_TANH = "0.5 * {y} * (1.0 + tanh(0.7978845608 * ({y} + 0.044715 * {y} * {y} * {y})))"


def mm(ns, a="x", b="W"):
    return ns[a].astype(F64) @ ns[b].astype(F64)


def gelu_tanh(y):
    return 0.5 * y * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (y + 0.044715 * y ** 3)))


def relu(y):
    return np.maximum(y, 0)


def gelu_erf(y):
    from math import erf
    return 0.5 * y * (1.0 + np.vectorize(erf)(y / np.sqrt(2.0)))


CASES = [
    # folded
    ("bias", "x @ W + b", lambda ns: mm(ns) + ns["b"]),
    ("bias_first", "b + x @ W", lambda ns: mm(ns) + ns["b"]),
    ("relu", "relu(x @ W)", lambda ns: relu(mm(ns))),
    ("bias_relu", "relu(x @ W + b)", lambda ns: relu(mm(ns) + ns["b"])),
    ("bias_relu_first", "relu(b + x @ W)", lambda ns: relu(mm(ns) + ns["b"])),
    ("gelu_tanh", GELU_TANH.format(y="(x @ W)"), lambda ns: gelu_tanh(mm(ns))),
    ("bias_gelu_tanh", GELU_TANH.format(y="y"), lambda ns: gelu_tanh(mm(ns) + ns["b"]), ["y = x @ W + b"]),
    ("trans_b", "relu(x @ Wt.T + b)", lambda ns: relu(ns["x"].astype(F64) @ ns["Wt"].T + ns["b"])),
    ("trans_a", "relu(xt.T @ W + b)", lambda ns: relu(ns["xt"].T.astype(F64) @ ns["W"] + ns["b"])),
    ("trans_ab", "relu(xt.T @ Wt.T + b)", lambda ns: relu(ns["xt"].T.astype(F64) @ ns["Wt"].T + ns["b"])),
    ("linear_relu", "relu(nn.linear(x, W, b))", lambda ns: relu(mm(ns) + ns["b"])),
    # the bias a buffer computed first (b * 2 is its own kernel)
    ("bias_scaled", "relu(x @ W + b * 2.0)", lambda ns: relu(mm(ns) + 2 * ns["b"])),
    # not folded
    ("gelu_erf", "gelu(x @ W + b)", lambda ns: gelu_erf(mm(ns) + ns["b"])),
    ("sigmoid", "sigmoid(x @ W + b)", lambda ns: 1 / (1 + np.exp(-(mm(ns) + ns["b"])))),
    ("bias_by_row", "relu(x @ W + c)", lambda ns: relu(mm(ns) + ns["c"])),
    ("relu_then_more", "relu(x @ W + b) * 2.0", lambda ns: 2 * relu(mm(ns) + ns["b"])),
    ("batched", "relu(x3 @ W + b)", lambda ns: relu(ns["x3"].astype(F64) @ ns["W"] + ns["b"])),
    ("second_reader", "relu(y + b) + y", lambda ns: relu(mm(ns) + ns["b"]) + mm(ns), ["y = x @ W"]),
    ("f64", "relu(x.astype(f64) @ W.astype(f64) + b.astype(f64))",
     lambda ns: relu(mm(ns) + ns["b"]), None, F64),
    ("bias_twice", "(x @ W + b) + b", lambda ns: mm(ns) + 2.0 * ns["b"]),
]


def build(s):
    for case in CASES:
        name, expr, want = case[0], case[1], case[2]
        pre = case[3] if len(case) > 3 and case[3] else ()
        dtype = case[4] if len(case) > 4 else F32
        p = s.program(name, SIG, header=["import nn"])
        for n in (5, 1):  # one row too: a 1 x 8 product
            p.run(x=s.normal((n, 16)), W=s.normal((16, 8)), b=s.normal((8,)), xt=s.normal((16, n)),
                  Wt=s.normal((8, 16)), c=s.normal((n, 1)), x3=s.normal((2, n, 16)))
        p.check(expr, (lambda w, dt: lambda ns: w(ns).astype(dt))(want, dtype), tol=TOL, pre=pre)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
