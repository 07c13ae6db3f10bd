"""numpy.matmul as the oracle for tcrt_matmul (runtime/blas.c).

usage: matmul_check.py DIR

Random shapes for every dtype and every transpose flag (A and/or B stored
as the transpose of the matrix multiplied), with batch strides of 0
(broadcast), tight and padded; sizes of 0 (k = 0 gives zeros); one case big enough for
OpenBLAS's blocked kernels.  A, B and C are flat buffers as generated code
passes them; C starts as garbage, and what lies between batch entries must
stay garbage.  Floats are compared with numpy.matmul in f64 to 1e-5 (f32)
or 1e-12 (f64) of sum |a||b|; integers and bools exactly (NumPy's integer
products wrap too).
"""
import os
import subprocess
import sys

import numpy as np

DIR = sys.argv[1]
rng = np.random.default_rng(11)
DTYPES = {"f32": np.float32, "f64": np.float64, "i32": np.int32, "i64": np.int64, "bool": np.bool_}


def values(dt, size, big=False):
    if dt == "bool":
        return rng.random(size) < 0.4
    if dt in ("i32", "i64"):
        info = np.iinfo(DTYPES[dt])
        if big:  # products that overflow and wrap
            return rng.integers(info.min // 2, info.max // 2, size=size, dtype=DTYPES[dt])
        return rng.integers(-50, 50, size=size).astype(DTYPES[dt])
    return rng.standard_normal(size).astype(DTYPES[dt])


cases = []
for dt in DTYPES:
    shapes = [(1, 1, 1, 1), (1, 3, 4, 5), (4, 2, 3, 7), (3, 5, 1, 4), (2, 1, 6, 1), (5, 0, 3, 2), (2, 3, 0, 2),
              (3, 2, 3, 0), (0, 3, 3, 3), (1, 0, 0, 0), (2, 64, 70, 33)]
    shapes += [tuple(int(x) for x in rng.integers(1, 10, size=4)) for _ in range(8)]
    for i, (batch, m, n, k) in enumerate(shapes):
        sa = [m * k, 0, m * k + 3][i % 3]
        sb = [k * n, k * n, 0, k * n + 2][i % 4]
        sc = [m * n, m * n + 5][i % 2]
        trans = [0, 1, 2, 3][(i + len(cases)) % 4]  # TC_MM_TRANS_A = 1, TC_MM_TRANS_B = 2
        cases.append((dt, trans, batch, m, n, k, sa, sb, sc, dt in ("i32", "i64") and i == 1))

lines = []
for c, (dt, trans, batch, m, n, k, sa, sb, sc, big) in enumerate(cases):
    def flat(stride, size):
        return 0 if batch == 0 else (batch - 1) * stride + size
    a = values(dt, flat(sa, m * k), big)
    b = values(dt, flat(sb, k * n), big)
    c0 = values(dt, flat(sc, m * n))
    names = [os.path.join(DIR, f"c{c}_{x}.npy") for x in ("a", "b", "c0", "c")]
    for name, arr in zip(names, (a, b, c0)):
        np.save(name, arr)
    lines.append(f"{dt} {trans} {batch} {m} {n} {k} {sa} {sb} {sc} " + " ".join(names))
with open(os.path.join(DIR, "manifest.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")

r = subprocess.run(["matmul_test", "run", os.path.join(DIR, "manifest.txt")],
                   capture_output=True, text=True)
print(r.stdout.strip())
bad = 0
worst = {"f32": 0.0, "f64": 0.0}
for c, (dt, trans, batch, m, n, k, sa, sb, sc, big) in enumerate(cases):
    a, b, c0, got = (np.load(os.path.join(DIR, f"c{c}_{x}.npy")) for x in ("a", "b", "c0", "c"))
    want = c0.copy()
    # The batch as NumPy sees it: stride 0 is a broadcast of one matrix.
    # A transposed operand is stored k x m (n x k for B), row-major.
    def mat(flat, e, stride, rows, cols, t):
        x = flat[e * stride: e * stride + rows * cols]
        return x.reshape(cols, rows).T if t else x.reshape(rows, cols)
    A = np.stack([mat(a, e, sa, m, k, trans & 1) for e in range(batch)]) if batch else np.zeros((0, m, k))
    B = np.stack([mat(b, e, sb, k, n, trans & 2) for e in range(batch)]) if batch else np.zeros((0, k, n))
    if DTYPES[dt] in (np.float32, np.float64):
        ref = np.matmul(A.astype(np.float64), B.astype(np.float64))
        scale = np.matmul(np.abs(A.astype(np.float64)), np.abs(B.astype(np.float64)))
    else:
        ref = np.matmul(A.astype(DTYPES[dt]), B.astype(DTYPES[dt]))
    mask = np.zeros(want.shape, dtype=bool)
    for e in range(batch):
        mask[e * sc: e * sc + m * n] = True
        want[e * sc: e * sc + m * n] = ref[e].reshape(-1)
    if got.dtype != want.dtype or got.shape != want.shape:
        bad += 1
        print(f"MISMATCH case {c} {dt}: got {got.dtype}{got.shape}, expected {want.dtype}{want.shape}")
        continue
    if not np.array_equal(got[~mask], c0[~mask]):
        bad += 1
        print(f"MISMATCH case {c} {dt}: wrote outside C's matrices")
    if dt in worst:
        sc_flat = np.zeros(want.shape)
        for e in range(batch):
            sc_flat[e * sc: e * sc + m * n] = scale[e].reshape(-1)
        err = np.abs(got[mask].astype(np.float64) - want[mask].astype(np.float64)) / (sc_flat[mask] + 1e-300)
        err = float(err.max()) if err.size else 0.0
        worst[dt] = max(worst[dt], err)
        if err > (1e-5 if dt == "f32" else 1e-12):
            bad += 1
            print(f"MISMATCH case {c} {dt} trans {trans} {batch}x{m}x{n}x{k}: relative error {err:g}")
    elif not np.array_equal(got, want):
        bad += 1
        print(f"MISMATCH case {c} {dt} trans {trans} {batch}x{m}x{n}x{k} strides {sa} {sb} {sc}: values differ")
print(f"worst relative error: f32 {worst['f32']:.1e}, f64 {worst['f64']:.1e}")
print(f"matmul_check: {len(cases)} cases, {bad} mismatches")
sys.exit(1 if bad or r.returncode else 0)
