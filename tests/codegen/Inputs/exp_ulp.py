"""exp_ulp.py gen DIR | check DIR: the inputs of exp_rows.tc (every 1024th
f32 bit pattern, in rows of 20: one whole vector and a masked tail, then
the special values) and the error of its results against exp in f64."""
import sys
import numpy as np

mode, d = sys.argv[1], sys.argv[2]
if mode == "gen":
    x = np.arange(0, 2**32, 1024, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = x[np.isfinite(x)]
    special = np.float32([np.inf, -np.inf, np.nan, 88.72283, 88.72284, -87.33654, -103.972, -103.973, -104.5,
                          0.0, -0.0, 1e-45, -1e-45])
    x = np.concatenate([x, special])
    x = np.concatenate([x, np.zeros(-len(x) % 20, np.float32)]).reshape(-1, 20)
    np.save(d + "/x.npy", x)
    np.save(d + "/z.npy", np.zeros_like(x))
    sys.exit(0)
x, y = np.load(d + "/x.npy").ravel(), np.load(d + "/y.npy").ravel()
with np.errstate(all="ignore"):
    ref = np.exp(x.astype(np.float64))
r32 = ref.astype(np.float32)
fin = np.isfinite(r32)
print("values", len(x))
print("nan where exp is nan:", np.array_equal(np.isnan(y), np.isnan(r32)))
print("inf where exp overflows:", np.array_equal(np.isinf(y), np.isinf(r32)))
err = np.abs(y[fin].astype(np.float64) - ref[fin]) / np.spacing(np.abs(r32[fin])).astype(np.float64)
print("within an ulp:", bool(err.max() < 1.0), "(max %.3f)" % err.max())
