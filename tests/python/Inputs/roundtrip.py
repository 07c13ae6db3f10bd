"""tests/python: python/tensorc.py against NumPy.

    roundtrip.py LIB

LIB is Inputs/model.tc compiled with `tensorc --emit=shared`.  Checks,
printing one line per check:
  - results equal NumPy's computation with the params read back;
  - inputs reach the runtime in place and outputs are the runtime's own
    buffers (a spy around tcrt_api_call compares addresses);
  - strided inputs (transposed, reversed, sliced, broadcast) give the same
    results as contiguous ones;
  - every dtype crosses the interface (bool, i32, i64, f32, f64; scalars too);
  - a wrong dtype, rank, dim or symbolic dim raises tensorc.Error naming
    the argument;
  - train_step is NumPy's SGD step to 1e-5, and changes what scores returns;
  - params_in loads .npy files; two loads are independent; threads;
  - an output lives as long as any view of it, and after close();
  - the runtime's live-buffer count returns to its baseline.
"""
import gc
import os
import sys
import threading

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "python"))
import tensorc  # noqa: E402

lib = os.path.abspath(sys.argv[1])
out = os.path.dirname(lib)
rng = np.random.default_rng(0)


def expect_error(fn, *words):
    try:
        fn()
    except tensorc.Error as e:
        for w in words:
            assert w in e.message, "%r not in %r" % (w, e.message)
        assert e.code == 2, e.code
        return e.message
    raise AssertionError("no tensorc.Error for %s" % (words,))


def forward(m, x):
    W, b = m.param("W").astype(np.float64), m.param("b").astype(np.float64)
    return x.astype(np.float64) @ W + b


m = tensorc.load(lib, seed=1)
print("signature:", " ".join(f["name"] for f in m.signature["functions"]))
assert [p["name"] for p in m.signature["params"]] == ["W", "b"]

# 1. results against numpy, with the params read back
x = rng.standard_normal((7, 4)).astype(np.float32)
s = m.scores(x)
assert s.dtype == np.float32 and s.shape == (7, 3)
np.testing.assert_allclose(s, forward(m, x), rtol=1e-5, atol=1e-6)
p = m.predict(x)
assert p.dtype == np.int64 and p.shape == (7,)
assert (p == forward(m, x).argmax(axis=1)).all()
print("results match numpy")

# 2. zero copy, proved at the C boundary: a spy around tcrt_api_call sees
# the DLTensor handed to the runtime and the raw result buffers it returns.
seen = {}
real_call = m._core.api_call


def spy(ctx, desc, argv, outs, raw):
    t = tensorc._DLTensor.from_address(argv[0])
    seen["in"] = t.data + t.byte_offset
    seen["strides"] = [t.strides[i] for i in range(t.ndim)]
    status = real_call(ctx, desc, argv, outs, raw)
    seen["out"] = raw[0].data
    return status


m._core.api_call = spy
xs = np.ascontiguousarray(rng.standard_normal((5, 4)).astype(np.float32))
s = m.scores(xs)
assert seen["in"] == xs.ctypes.data, "the input was copied before the call"
print("input passed in place")
assert s.ctypes.data == seen["out"], "the output was copied after the call"
assert s.base is not None and not s.flags.owndata
print("output not copied")
xt = rng.standard_normal((4, 6)).astype(np.float32)[:, 1:].T  # a transposed view, strides (1, 6)
m.scores(xt)
assert seen["in"] == xt.ctypes.data and seen["strides"] == [1, 6], seen
m._core.api_call = real_call

# 3. strided inputs: the runtime copies them, the results are the same
big = rng.standard_normal((12, 9)).astype(np.float32)
for v in [big[::2, 1:5], big[::-1, 2:6], big[1:5, :8:2].copy().T.copy().T, np.asfortranarray(big[:, :4]),
          big[3:9, 5:1:-1], np.broadcast_to(big[0, :4], (6, 4))]:
    assert not v.flags.c_contiguous
    np.testing.assert_allclose(m.scores(v), m.scores(np.ascontiguousarray(v)), rtol=0, atol=0)
    np.testing.assert_allclose(m.scores(v), forward(m, v), rtol=1e-5, atol=1e-6)
print("strided inputs match numpy")

# 4. every dtype, scalars converted to the declared C type; several results
xm = np.array([1.5, -2.0, 0.0, 3.25], np.float32)
nm = np.array([1, -2, 3, 4], np.int32)
r = m.mixed(xm, True, 41, 0.5, nm)
assert isinstance(r, tuple) and len(r) == 5
assert r[0].dtype == np.float32 and (r[0] == xm * 2).all()
assert r[1].dtype == np.bool_ and (r[1] == (xm > 0)).all()
assert isinstance(r[2], np.int64) and r[2] == 42  # rank 0: a NumPy scalar
assert r[3].dtype == np.float64 and (r[3] == xm.astype(np.float64) * 0.5).all()
assert r[4].dtype == np.int32 and (r[4] == nm * 3).all()
r = m.mixed(x=xm, flag=np.bool_(False), k=np.int64(-5), s=np.float32(2), n=nm)
assert (r[0] == xm).all() and r[2] == -4 and (r[3] == xm * 2.0).all()
print("all dtypes")

# 5. errors name the argument
for msg in [
        expect_error(lambda: m.scores(x.astype(np.float64)), "scores", "'x'", "f64", "expected f32"),
        expect_error(lambda: m.scores(x[:, :3]), "'x'", "axis 1 is 3, expected 4"),
        expect_error(lambda: m.scores(x[0]), "'x'", "rank 1, expected 2"),
        expect_error(lambda: m.train_step(x, np.zeros((6, 3), np.float32), 0.1), "'y'", "B = 7", "argument 'x'"),
        expect_error(lambda: m.mixed(xm, True, 1, 0.5, nm[:3]), "'n'", "N = 4"),
        expect_error(lambda: m.mixed(xm, True, 1, 0.5, nm.astype(np.int64)), "'n'", "expected i32"),
        expect_error(lambda: m.mixed(xm, True, 2.5, 0.5, nm), "'k'"),
        expect_error(lambda: m.mixed(xm, True, 1, 0.5, nm.astype(np.uint8)), "'n'"),
        expect_error(lambda: m.scores(x.tolist()), "'x'", "numpy.ndarray"),
        expect_error(lambda: m.scores(x.astype(">f4")), "'x'"),
        expect_error(lambda: m.train_step(x, lr=0.1), "missing argument 'y'"),
        expect_error(lambda: m.param("nope"), "nope")]:
    print("  ", msg)
print("errors name the argument")

# 6. train_step is one SGD step: loss and new params against numpy (f64)
y = rng.standard_normal((7, 3)).astype(np.float32)
lr = 0.05
W0, b0 = m.param("W").astype(np.float64), m.param("b").astype(np.float64)
before = m.scores(x)
loss = m.train_step(x, y, lr)
d = x.astype(np.float64) @ W0 + b0 - y
g = 2.0 * d / d.size  # d loss / d logits
assert isinstance(loss, np.float32)
assert abs(loss - (d ** 2).mean()) <= 1e-5 * abs((d ** 2).mean()), (loss, (d ** 2).mean())
np.testing.assert_allclose(m.param("W"), W0 - lr * (x.astype(np.float64).T @ g), rtol=1e-5, atol=1e-6)
np.testing.assert_allclose(m.param("b"), b0 - lr * g.sum(axis=0), rtol=1e-5, atol=1e-6)
after = m.scores(x)
assert np.abs(after - before).max() > 1e-4
np.testing.assert_allclose(after, forward(m, x), rtol=1e-5, atol=1e-6)
for _ in range(50):
    last = m.train_step(x, y, lr)
assert last < loss
print("train_step matches numpy SGD: loss %.6f -> %.6f" % (loss, last))

# 7. params_in: .npy files replace the initial values; a missing one names the file
pdir = os.path.join(out, "params")
os.makedirs(pdir, exist_ok=True)
Wp = rng.standard_normal((4, 3)).astype(np.float32)
np.save(os.path.join(pdir, "W.npy"), Wp)
np.save(os.path.join(pdir, "b.npy"), np.arange(3, dtype=np.float32))
mp = tensorc.load(lib, params_in=pdir)
assert (mp.param("W") == Wp).all() and (mp.params["b"] == np.arange(3)).all()
os.remove(os.path.join(pdir, "b.npy"))
try:
    tensorc.load(lib, params_in=pdir)
    raise AssertionError("no error for a missing b.npy")
except tensorc.Error as e:
    assert "b.npy" in e.message, e.message
    print("  ", e.message)
mp.close()
print("params_in")

# 8. two loads are independent: same seed, same params; training one leaves the other
a, b = tensorc.load(lib, seed=7), tensorc.load(lib, seed=7)
c = tensorc.load(lib, seed=8)
assert (a.param("W") == b.param("W")).all() and not (a.param("W") == c.param("W")).all()
sb = b.scores(x)
a.train_step(x, y, 0.5)
assert (b.scores(x) == sb).all() and not (a.scores(x) == sb).all()
for mm in (a, b, c):
    mm.close()
print("two loads are independent")

# 9. threads: one model per thread, run side by side; outputs freed anywhere
models = [tensorc.load(lib, seed=i) for i in range(4)]
want = [mm.scores(x) for mm in models]
errors = []
keep = []


def work(i):
    try:
        for _ in range(200):
            r = models[i].scores(x)
            np.testing.assert_array_equal(r, want[i])
            keep.append(r)  # freed later, from the main thread, while others call
            if len(keep) > 50:
                keep.pop(0)
    except Exception as e:  # noqa: BLE001
        errors.append(e)


ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
assert not errors, errors
keep.clear()
for mm in models:
    mm.close()
print("threads")

# 10. outputs: freed when the last view goes, and valid after close()
gc.collect()
base = m.lib.tcrt_alloc_count()
fresh = m.scores(x)
assert m.lib.tcrt_alloc_count() == base + 1, (m.lib.tcrt_alloc_count(), base)
view = fresh[2:, 1]
del fresh
gc.collect()
assert m.lib.tcrt_alloc_count() == base + 1, "freed while a view lives"
del view
gc.collect()
assert m.lib.tcrt_alloc_count() == base, "not freed with the last view"
m2 = tensorc.load(lib, seed=3)
kept = m2.scores(x)
want2 = kept.copy()
m2.close()
m2.close()
assert (kept == want2).all()
expect_error(lambda: m2.scores(x), "closed")
print("output lifetime")

# 11. no leaks: many calls (errors included), then gc: back to the baseline
gc.collect()
base = m.lib.tcrt_alloc_count()
for i in range(300):
    m.scores(x)
    m.predict(x[::2])
    m.mixed(xm, i % 2 == 0, i, 0.25, nm)
    m.train_step(x, y, 0.001)
    try:
        m.train_step(x, y[:3], 0.1)
    except tensorc.Error:
        pass
gc.collect()
assert m.lib.tcrt_alloc_count() == base, (m.lib.tcrt_alloc_count(), base)
with tensorc.load(lib) as t:
    t.scores(x)
gc.collect()
assert m.lib.tcrt_alloc_count() == base, (m.lib.tcrt_alloc_count(), base)
m.close()  # frees the two params
assert m.lib.tcrt_alloc_count() == base - 2, (m.lib.tcrt_alloc_count(), base)
print("no leaks")
print("ok")
