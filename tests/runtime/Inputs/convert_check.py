"""tcrt_convert against NumPy's astype.

usage: convert_check.py DIR

Every pair of runtime dtypes, on values that include the edges: where NumPy
defines the result, ours must be NumPy's; where C and NumPy leave it to the
machine (NaN and out-of-range floats to integers) ours is the documented
rule: truncate, saturate at the bounds, NaN gives 0.
"""
import math
import os
import subprocess
import sys

import numpy as np

DIR = sys.argv[1]
NAMES = {"bool": np.bool_, "i32": np.int32, "i64": np.int64, "f32": np.float32, "f64": np.float64}
floats = [0.0, -0.0, 0.5, -0.5, 1.9, -1.9, 2.5, 1e-30, 123456.789, -98765.4321, 2147483647.0, 2147483648.0,
          -2147483648.0, -2147483649.0, 3e9, -3e9, 9.2e18, 9.3e18, -9.3e18, 1e300, -1e300, math.nan, math.inf,
          -math.inf, 16777217.0]
ints = [0, 1, -1, 7, 2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**32 + 5, 2**53 + 1, 2**63 - 1, -2**63, 123456789]
with np.errstate(over="ignore"):
    f32 = np.array(floats, dtype=np.float64).astype(np.float32)
values = {
    "bool": np.array([True, False, True, True]),
    "i32": np.array([x for x in ints if -2**31 <= x < 2**31], dtype=np.int32),
    "i64": np.array(ints, dtype=np.int64),
    "f32": f32,
    "f64": np.array(floats, dtype=np.float64),
}


def expected(a, to):
    to = np.dtype(to)
    if to == np.bool_:
        return a != 0
    if a.dtype.kind == "f" and to.kind == "i":
        info = np.iinfo(to)
        out = []
        for x in a.astype(np.float64):
            if math.isnan(x):
                out.append(0)
            elif math.isinf(x):
                out.append(info.max if x > 0 else info.min)
            else:
                out.append(min(max(math.trunc(x), info.min), info.max))
        return np.array(out, dtype=to)
    with np.errstate(over="ignore"):
        return a.astype(to)


bad = 0
for src, a in values.items():
    np.save(os.path.join(DIR, f"{src}.npy"), a)
    for dst, dt in NAMES.items():
        out = os.path.join(DIR, f"{src}_to_{dst}.npy")
        r = subprocess.run(["files_test", "convert", os.path.join(DIR, f"{src}.npy"), dst, out],
                           capture_output=True, text=True)
        want = expected(a, dt)
        got = np.load(out) if r.returncode == 0 else None
        if got is None or got.dtype != want.dtype or not np.array_equal(got, want, equal_nan=want.dtype.kind == "f"):
            bad += 1
            print(f"MISMATCH {src} -> {dst}: {r.stdout}got {None if got is None else got.tolist()}, "
                  f"expected {want.tolist()}")
        # Where NumPy itself defines the result, it is NumPy's.
        if got is not None and a.dtype.kind == "f" and np.dtype(dt).kind == "i":
            info = np.iinfo(dt)
            inrange = np.isfinite(a) & (np.trunc(a.astype(np.float64)) >= info.min) & \
                (np.trunc(a.astype(np.float64)) <= info.max)
            if not np.array_equal(got[inrange], a[inrange].astype(dt)):
                bad += 1
                print(f"MISMATCH {src} -> {dst}: differs from astype inside the range")
print(f"convert: {len(values) * len(NAMES)} pairs, {bad} mismatches")
sys.exit(1 if bad else 0)
