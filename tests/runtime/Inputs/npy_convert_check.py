"""NumPy as the oracle for the dtype conversions of runtime/cast.c.

usage: npy_convert_check.py DIR

For every file dtype NumPy writes (bool, int8..uint64, float16..float64, in
both byte orders) and every declared dtype (bool, i32, i64, f32, f64), two
files: small values every dtype holds, and the type's extremes.  Each is
loaded with `files_test load DTYPE` and must either equal NumPy's
`a.astype(declared)` (with a warning naming the file and both dtypes when
the dtype differs) or be refused with exit 2 and one line naming the file,
exactly when the conversion would lose values: a float to an integer or
bool, float64 to f32, an integer to bool, or a value the declared dtype
cannot hold exactly.  Prints the mismatches and a few messages for FileCheck.
"""
import os
import subprocess
import sys

import numpy as np

DIR = sys.argv[1]
DECLARED = {"bool": np.bool_, "i32": np.int32, "i64": np.int64, "f32": np.float32, "f64": np.float64}
FILE_TYPES = ["b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"]
NAMES = {"b1": "bool", "i1": "int8", "u1": "uint8", "i2": "int16", "u2": "uint16", "i4": "int32", "u4": "uint32",
         "i8": "int64", "u8": "uint64", "f2": "float16", "f4": "float32", "f8": "float64"}
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("MISMATCH", msg)


def refused(src, to):
    """A conversion refused whatever the values."""
    if np.dtype(src) == np.dtype(to):
        return False
    if to is np.bool_:
        return True
    if src.kind == "f" and np.dtype(to).kind == "i":
        return True
    return src == np.dtype("f8") and to is np.float32


def exact(a, to):
    """Every value of a is held exactly by `to`."""
    if a.dtype.kind == "f":
        return bool(np.all((a.astype(to).astype(np.float64) == a.astype(np.float64)) | np.isnan(a)))
    if np.dtype(to).kind == "b":
        return bool(np.all((a == 0) | (a == 1)))
    info = np.iinfo(to) if np.dtype(to).kind == "i" else None
    vals = [int(v) for v in a.reshape(-1)]
    if info:
        return all(info.min <= v <= info.max for v in vals)
    return all(int(np.float64(v) if to is np.float64 else np.float32(v)) == v for v in vals)


def samples(ft):
    dt = np.dtype(("|" if ft[1] == "1" else "<") + ft)
    small = np.array([0, 1, 1, 0, 1, 0], dtype=dt) if dt.kind == "b" else np.array([0, 1, 2, 3, 5, 7], dtype=dt)
    if dt.kind == "b":
        return {"small": small}
    if dt.kind == "f":
        big = np.array([0.5, -1.25, np.finfo(dt).max, np.nan, np.inf, 3.0], dtype=dt)
    else:
        info = np.iinfo(dt)
        big = np.array([info.min, info.max, 0, 1, info.max - 1, 2], dtype=dt)
    return {"small": small, "edge": big}


messages = []
for ft in FILE_TYPES:
    for kind, a in samples(ft).items():
        for order in ("<", ">"):
            if order == ">" and ft[1] == "1":
                continue
            data = a.astype(a.dtype.newbyteorder(order)) if order == ">" else a
            for decl, to in DECLARED.items():
                name = "%s_%s_%s_%s.npy" % (ft, kind, "be" if order == ">" else "le", decl)
                p = os.path.join(DIR, name)
                np.save(p, data)
                out = os.path.join(DIR, "out_" + name)
                r = subprocess.run(["files_test", "load", decl, p, out], capture_output=True, text=True)
                lines = r.stdout.strip().splitlines()
                ok = not refused(a.dtype, to) and exact(a, to)
                if ok:
                    if r.returncode != 0:
                        fail("%s: expected to load, got rc=%d %s" % (name, r.returncode, r.stdout.strip()))
                        continue
                    got = np.load(out)
                    want = a.astype(to)
                    if got.dtype != want.dtype or not np.array_equal(got, want, equal_nan=want.dtype.kind == "f"):
                        fail("%s: got %r, expected %r" % (name, got, want))
                    warned = [l for l in lines if ": warning: " in l]
                    if (np.dtype(to) != a.dtype) != bool(warned):
                        fail("%s: warning %s expected" % (name, "a" if np.dtype(to) != a.dtype else "no"))
                    elif warned and not (name in warned[0] and NAMES[ft] in warned[0] and decl in warned[0]):
                        fail("%s: the warning does not name the file and both dtypes: %s" % (name, warned[0]))
                else:
                    if r.returncode != 2 or len(lines) != 1 or name not in lines[0] or NAMES[ft] not in lines[0]:
                        fail("%s: expected one error line naming it and %s, got rc=%d %r"
                             % (name, NAMES[ft], r.returncode, r.stdout))
                    if os.path.exists(out):
                        fail("%s: an output was written" % name)
                    if order == "<" and (decl in ("i32", "f32") and ft in ("i8", "f8", "f4") or decl == "bool" and ft == "i2"):
                        messages.append(lines[0].split(": error 2: ")[-1].replace(DIR + "/", "") if lines else "")
for m in sorted(set(messages)):
    print("error:", m)
print("npy_convert_check: %d mismatches" % failures)
sys.exit(1 if failures else 0)
