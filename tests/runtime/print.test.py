"""print.test's oracle: tcrt_format against NumPy's str() on thousands of arrays.

usage: print.test.py WORKDIR

Generates arrays of every dtype (bool, int32, int64, float32, float64),
ranks 0..8, sizes up to 2000 (past the summarisation threshold), with
random and edge-case values (random bit patterns, so subnormals, huge and
tiny magnitudes, NaN, inf, -0.0; integral floats; mixed magnitudes; ints
wide enough to wrap lines), writes them raw to WORKDIR/cases.bin, runs
`print_test cases.bin out.txt` and compares every text byte for byte with
str(arr).  Prints "N/N identical" and the first mismatches; exits 1 on any.
"""
import os
import subprocess
import sys

import numpy as np

DTYPES = {np.bool_: 1, np.int32: 2, np.int64: 3, np.float32: 4, np.float64: 5}

rng = np.random.default_rng(20240611)
cases = []


def add(a):
    cases.append(np.ascontiguousarray(a))


def random_bits(dtype, shape):
    """Floats from uniformly random bit patterns: every exponent equally."""
    if dtype == np.float32:
        return rng.integers(0, 2**32, size=shape, dtype=np.uint32).view(np.float32)
    return rng.integers(0, 2**64, size=shape, dtype=np.uint64).view(np.float64)


def random_floats(dtype, shape):
    kind = rng.integers(0, 9)
    n = int(np.prod(shape))
    if kind == 0:  # one magnitude
        v = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 10)
    elif kind == 1:  # mixed magnitudes
        v = rng.standard_normal(n) * 10.0 ** rng.integers(-12, 12, size=n)
    elif kind == 2:  # integral
        v = rng.integers(-1000, 1000, size=n).astype(np.float64)
    elif kind == 3:  # few digits
        v = np.round(rng.standard_normal(n) * 100, int(rng.integers(0, 4)))
    elif kind == 4:  # random bits
        return random_bits(dtype, shape)
    elif kind == 5:  # with non-finite values and zeros
        v = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 5)
        pick = rng.integers(0, 6, size=n)
        v[pick == 0] = np.nan
        v[pick == 1] = np.inf
        v[pick == 2] = -np.inf
        v[pick == 3] = -0.0
    elif kind == 6:  # near the notation thresholds
        v = rng.choice([1e-4, 9.999e-5, 1.0001e-4, 1e3, 999.9, 1e6, 999999.9, 1e8, 99999999.0, 1e16, 0.5, 1.0],
                       size=n) * rng.choice([1, -1], size=n)
    elif kind == 7:  # uniform in [0, 1)
        v = rng.random(n)
    else:  # powers of two (unequal margins)
        v = 2.0 ** rng.integers(-30, 30, size=n)
    with np.errstate(over="ignore"):
        return v.astype(dtype).reshape(shape)


def random_ints(dtype, shape):
    n = int(np.prod(shape))
    info = np.iinfo(dtype)
    kind = rng.integers(0, 4)
    if kind == 0:
        v = rng.integers(-10, 10, size=n)
    elif kind == 1:
        v = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
    elif kind == 2:
        v = rng.integers(0, 10 ** int(rng.integers(1, 10)), size=n)
    else:
        v = rng.choice([info.min, info.max, 0, -1, 1], size=n)
    return v.astype(dtype).reshape(shape)


def random_array(dtype, shape):
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype in (np.int32, np.int64):
        return random_ints(dtype, shape)
    return random_floats(dtype, shape)


def random_shape(rank, max_size):
    while True:
        # the last axis long enough to wrap lines, the others short
        shape = tuple(int(rng.integers(1, 12)) for _ in range(rank - 1)) + (int(rng.integers(1, 40)),)
        if np.prod(shape) <= max_size:
            return shape


# 1. Scalars (NumPy's scalar str()): many values, every dtype.
for dt in (np.float32, np.float64):
    for v in random_bits(dt, 3000):
        add(np.array(v, dt))
    for v in [0.0, -0.0, np.nan, np.inf, -np.inf, 0.1, 1e-4, 9.999e-5, 1e6, 999999.9, 1e16, 9.99e15, 1e15,
              2.5, 3.0, 1e-300, 5e-324, 1.5e-45, 3.4028235e38, 1.7976931348623157e308, 123456789.0]:
        with np.errstate(over="ignore"):
            add(np.array(v, dt))
for dt in (np.int32, np.int64):
    for v in random_ints(dt, (200,)):
        add(np.array(v, dt))
add(np.array(True))
add(np.array(False))

# 2. One-element and two-element arrays of random bit patterns: the
#    array digit rules (precision 8) on every kind of float.
for dt in (np.float32, np.float64):
    for _ in range(1500):
        add(random_bits(dt, (1,)))
    for _ in range(500):
        add(random_bits(dt, (2,)))

# 3. Random arrays, ranks 1..5, every dtype.
for dt in DTYPES:
    for rank in range(1, 6):
        for _ in range(50):
            add(random_array(dt, random_shape(rank, 400)))

# 4. Summarisation: sizes past 1000, some axes short (not summarised).
for dt in DTYPES:
    for shape in [(1001,), (2000,), (1000,), (2, 1000), (3, 700), (1000, 2), (40, 40), (6, 200), (7, 200),
                  (2, 3, 200), (10, 10, 11), (5, 5, 5, 9), (2, 2, 2, 2, 70), (1, 1, 1500)]:
        add(random_array(dt, shape))

# 5. Edge cases.
for dt in DTYPES:
    for shape in [(0,), (2, 0), (0, 3), (3, 0, 2), (1,), (1, 1), (1, 1, 1, 1)]:
        add(np.zeros(shape, dt))
add(np.array([1.0, 2.5, 3.0]))
add(np.array([1e-5, 1e5]))
add(np.array([np.nan, np.inf, -np.inf]))
add(np.array([np.nan]))
add(np.array([-np.inf, 1.5]))
add(np.array([np.nan, 1e-7]))
add(np.array([-0.0, 0.0]))
add(np.array([-0.0, 1e-9]))
add(np.array([0.0, 0.0], np.float32))
add(np.array([0.1, 0.2, 0.3], np.float32))
add(np.array([1e7, 1.0], np.float32))
add(np.array([1e5, 200.0], np.float32))
add(np.array([999999.0, 1.5], np.float32))
add(np.array([1e-4, 0.001], np.float32))
add(np.array([99999999.0, 1.5]))
add(np.array([1.0 / 3, 2.0 / 3, 1e-3]))
add(np.array([123456.789, 0.001]))
add(np.arange(24.0).reshape(2, 3, 4))
add(np.arange(100.0) / 7)
add(np.full(30, 2**40, np.int64))
add(np.full((3, 25), -(2**31), np.int32))
add(np.arange(-50, 50, dtype=np.int64).reshape(4, 25) * 123456789)
add(np.arange(2000, dtype=np.int64).reshape(2, 1000))
add(np.linspace(-1, 1, 1200).reshape(4, 300))
add(np.eye(40, dtype=np.bool_))
add(np.array([[1e-300, 1e300]]))
add(np.array([5e-324, 1.0]))
add(np.array([0.99999999999, 9.999999999]))
add(np.array([0.5, 0.05, 0.005, 0.0005]))
add(np.full((2, 2, 2, 2, 2, 2, 2, 2), 1.5))
add(rng.standard_normal((2, 1, 2, 3, 1, 2)))
add(rng.integers(-99, 99, size=(1, 2, 1, 2, 1, 2, 3)).astype(np.int32))
add(np.array(135000992.0, np.float32))
add(np.array([135000992.0, 135001008.0], np.float32))
add(np.arange(256, dtype=np.int32).reshape(2, 2, 2, 2, 2, 2, 2, 2))

work = sys.argv[1]
os.makedirs(work, exist_ok=True)
cases_path = os.path.join(work, "cases.bin")
out_path = os.path.join(work, "out.txt")
with open(cases_path, "wb") as f:
    for a in cases:
        f.write(("%d %d %s\n" % (DTYPES[a.dtype.type], a.ndim, " ".join(map(str, a.shape)))).encode())
        f.write(a.astype(a.dtype.newbyteorder("<")).tobytes())

subprocess.run(["print_test", cases_path, out_path], check=True)

with open(out_path, "rb") as f:
    data = f.read()
got = []
pos = 0
while pos < len(data):
    nl = data.index(b"\n", pos)
    n = int(data[pos:nl])
    got.append(data[nl + 1:nl + 1 + n].decode())
    pos = nl + 1 + n + 1

if len(got) != len(cases):
    print("print_test wrote %d texts for %d arrays" % (len(got), len(cases)))
    sys.exit(1)
bad = 0
for a, g in zip(cases, got):
    want = str(a)
    if g != want:
        bad += 1
        if bad <= 10:
            print("MISMATCH dtype=%s shape=%s" % (a.dtype, a.shape))
            print("values:", repr(a.ravel()[:8].tolist()))
            print("tcrt_format:\n" + g)
            print("numpy:\n" + want)
print("%d/%d identical" % (len(cases) - bad, len(cases)))
sys.exit(1 if bad else 0)
