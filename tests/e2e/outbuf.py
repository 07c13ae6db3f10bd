"""Results straight into the caller's output tensors, against NumPy.

    outbuf.py LIB

LIB is Inputs/outbuf.tc compiled with `tensorc --emit=shared`.  Each
function is called through tcrt_api_call with output tensors the caller
owns (DLTensors over NumPy arrays, as a C program passes them), and each
result is checked against NumPy, together with how many results the
runtime copied into the caller's tensors (tcrt_api_output_copies): none
where memplan marked the result's buffer `-> outK` and the caller's tensor
can take it (C order, no overlap with what the call reads), one per result
otherwise.  Cases: every function of outbuf.tc; an output that is the
input's memory; one array given as both outputs; a strided output; an
output over a param's memory; a size computed while running, right and
wrong; and the Python module's own calls (outputs the runtime allocates),
unchanged.  Prints one line per check.
"""
import ctypes
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import tensorc  # noqa: E402

lib = os.path.abspath(sys.argv[1])
m = tensorc.load(lib)
core = m.plain._core
clib = core.lib
clib.tcrt_api_output_copies.restype = ctypes.c_int64
clib.tcrt_api_output_copies.argtypes = []
rng = np.random.default_rng(0)
w = np.full(4, 0.5, np.float32)


def call(fn, args, outs):
    """fn(*args) into the arrays outs; returns (status, results copied)."""
    keep = []
    argv = (ctypes.c_void_p * max(len(fn.args), 1))()
    for i, (d, v) in enumerate(zip(fn.args, args)):
        c = tensorc._scalar(fn.name, d, v) if d["rank"] == 0 else tensorc._dltensor(fn.name, d, v, keep)
        keep.append(c)
        argv[i] = ctypes.addressof(c)
    outv = (ctypes.c_void_p * max(len(outs), 1))()
    for r, o in enumerate(outs):
        t = tensorc._dltensor(fn.name, fn.results[r], o, keep)
        keep.append(t)
        outv[r] = ctypes.addressof(t)
    before = clib.tcrt_api_output_copies()
    status = core.api_call(core.ctx, fn._desc, argv, outv, None)
    return status, clib.tcrt_api_output_copies() - before


def check(name, fn, args, outs, want, copies):
    status, copied = call(fn, args, outs)
    assert status == 0, (name, status, tensorc._text(clib.tcrt_error(core.ctx)))
    for o, e in zip(outs, want):
        np.testing.assert_allclose(o, e, rtol=1e-5, atol=1e-6, err_msg=name)
    assert copied == copies, "%s: %d results copied, expected %d" % (name, copied, copies)
    print("%s: ok, %d copied" % (name, copied))


x = rng.standard_normal((5, 4)).astype(np.float32)
x64 = x.astype(np.float64)
e = np.exp(x64 - x64.max(axis=1, keepdims=True))
y3 = x64
for _ in range(3):
    y3 = y3 * 2.0 + 0.5
empty = lambda *shape: np.full(shape, np.nan, np.float32)  # noqa: E731

# 1. every function, outputs the caller's C-order arrays
check("plain", m.plain, [x], [empty(5, 4)], [np.tanh(x64) * 2 + x64 * x64 - 1], 0)
check("same", m.same, [x], [empty(5, 4)], [x], 0)
check("twice", m.twice, [x], [empty(5, 4), empty(5, 4)], [2 * x64, 2 * x64], 0)
check("flat", m.flat, [x], [empty(20)], [3 * x64.reshape(-1)], 0)
check("trans", m.trans, [x], [empty(4, 5)], [(x64 + 1).T], 0)
check("tail", m.tail, [x], [empty(4, 4)], [(x64 - 1)[1:]], 0)
check("loop", m.loop, [x, 3], [empty(5, 4)], [y3], 0)
check("loop, no iteration", m.loop, [x, 0], [empty(5, 4)], [x64], 0)
check("pick (an if's value: copied)", m.pick, [x, True], [empty(5, 4)], [2 * x64], 1)
check("param_out", m.param_out, [x], [empty(4)], [w], 0)
check("sized", m.sized, [x, 6], [empty(6)], [np.ones(6)], 0)
check("softmax", m.softmax, [x], [empty(5, 4)], [e / e.sum(axis=1, keepdims=True)], 0)

# 2. outputs that cannot take the result in place: copied, still right
xa = x.copy()
check("output is the input's memory", m.plain, [xa], [xa], [np.tanh(x64) * 2 + x64 * x64 - 1], 1)
xa = x.copy()
check("transpose into the input's memory", m.trans, [xa], [xa.reshape(4, 5)], [(x64 + 1).T], 1)
both = empty(5, 4)
check("one array for both outputs", m.twice, [x], [both, both], [2 * x64, 2 * x64], 2)
big = empty(4, 10)
check("strided output", m.trans, [x], [big[:, ::2]], [(x64 + 1).T], 1)
assert np.isnan(big[:, 1::2]).all(), "a strided output's gaps were written"
wview = m.param("w", copy=False)
check("output over a param", m.param_out, [x], [wview], [w], 1)
unaligned = np.ndarray((20,), np.float32, bytearray(84), 2)  # 2 bytes into its buffer
check("unaligned output", m.flat, [x], [unaligned], [3 * x64.reshape(-1)], 1)

# 3. a computed size that the caller got wrong: an error after the call
status, _ = call(m.sized, [x, 6], [empty(5)])
print("sized, wrong output: rc=%d %s" % (status, tensorc._text(clib.tcrt_error(core.ctx))))

# 4. the Python module's calls: results the runtime allocates, as before
np.testing.assert_allclose(m.softmax(x), e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
a, b = m.twice(x)
assert a.ctypes.data != b.ctypes.data
np.testing.assert_allclose(a, 2 * x64, rtol=1e-6)
print("python calls: ok")
