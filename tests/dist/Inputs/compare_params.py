"""Compares two --params-out directories: every NAME.npy within a tolerance.
usage: compare_params.py DIR_A DIR_B TOL"""
import os
import sys

import numpy as np

a, b, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
names = sorted(f for f in os.listdir(a) if f.endswith(".npy"))
assert names and names == sorted(f for f in os.listdir(b) if f.endswith(".npy")), (names, os.listdir(b))
worst = 0.0
for n in names:
    x, y = np.load(os.path.join(a, n)), np.load(os.path.join(b, n))
    assert x.shape == y.shape and x.dtype == y.dtype, (n, x.shape, y.shape)
    worst = max(worst, float(np.max(np.abs(x.astype(np.float64) - y))))
print("params %d, max abs difference %s" % (len(names), "below %g" % tol if worst <= tol else worst))
sys.exit(0 if worst <= tol else 1)
