"""Compares the "epoch E loss L" lines of two runs within a relative tolerance.
usage: compare_losses.py OUT_A OUT_B TOL"""
import sys


def losses(path):
    with open(path) as f:
        return [float(l.split()[3]) for l in f if l.startswith("epoch ")]


a, b, tol = losses(sys.argv[1]), losses(sys.argv[2]), float(sys.argv[3])
assert a and len(a) == len(b), (a, b)
for x, y in zip(a, b):
    assert abs(x - y) <= tol * max(abs(y), 1e-30), (x, y)
print("losses %d agree" % len(a))
