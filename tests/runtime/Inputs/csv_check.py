"""NumPy as the oracle for runtime/csv.c.

usage: csv_check.py DIR

1. Reading: CSV texts (headers, comments, CRLF, quotes, nan/inf, ...) are
   loaded by `files_test copy X.csv X.npy`; the .npy must equal what
   numpy.loadtxt reads (or, where loadtxt cannot, the array written here).
2. Writing: arrays of every dtype and rank 0..2 saved by numpy go through
   `files_test copy X.npy X.csv`; the text must be %.9g / %.17g / integers /
   0-1 per value, and read back to exactly the same numbers.
3. Errors: each bad file alone, printed as "NAME: rc=N: MESSAGE" for FileCheck.
"""
import os
import subprocess
import sys

import numpy as np

DIR = sys.argv[1]
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("MISMATCH", msg)


def path(name):
    return os.path.join(DIR, name)


def write(name, text, mode="w"):
    with open(path(name), mode, newline="") as f:
        f.write(text)


def copy(src, dst):
    return subprocess.run(["files_test", "copy", path(src), path(dst)], capture_output=True, text=True)


def loadtxt(text, skip=0):
    return np.loadtxt(text.splitlines(), delimiter=",", comments="#", skiprows=skip, ndmin=2, dtype=np.float64)


# ---- 1. reading -------------------------------------------------------------

read_cases = {
    "plain": ("1,2,3\n4,5,6\n", None),
    "header": ("a,b,c\n1,2,3\n4,5,6\n", 1),
    "pandas_index": (",x,y\n0,1.5,2.5\n1,3,4\n", 1),
    "comments": ("# a comment\n1,2 # trailing\n\n  3 , 4\n#end\n", None),
    "header_after_comment": ("# units: m\nx,y\n1,2\n", 2),
    "crlf": ("x,y\r\n1,2\r\n3,4\r\n", 1),
    "no_final_newline": ("1,2\n3,4", None),
    "specials": ("nan,inf,-inf\n1e300,-0.0,1e-320\nNaN,Infinity,+5\n", None),
    "tabs": ("\t1\t,\t2\n3,\t4 \n", None),
    "forms": ("+1,.5,5.,1E3,-2e-3\n", None),
    "one_column": ("v\n1\n2\n3\n", 1),
    "one_value": ("5", None),
    "exact": ("0.1,0.30000000000000004,1.7976931348623157e308,5e-324\n", None),
}
want = {}
for name, (text, skip) in read_cases.items():
    write(name + ".csv", text)
    want[name] = loadtxt(text.replace("\t", " "), skip or 0)
# What loadtxt does not read the same way, written out by hand.
write("quoted_header.csv", '"x, the first","y # not a comment"\n1,2\n')
want["quoted_header"] = np.array([[1.0, 2.0]])
write("quoted_numbers.csv", '"1","2.5"\n3,4\n')
want["quoted_numbers"] = np.array([[1.0, 2.5], [3.0, 4.0]])
write("blank_spaces.csv", "1,2\n   \n\t\n3,4  # x\n")
want["blank_spaces"] = np.array([[1.0, 2.0], [3.0, 4.0]])
write("bom.csv", "\ufeffa,b\n1,2\n", "w")
want["bom"] = np.array([[1.0, 2.0]])
# ';' separators (detected on the first line with content): a numeric
# first line is data, not a header; a header with ';' is still a header.
for name, text, skip in (("semicolon", "1;2;3\n4;5.5;6\n", 0), ("semicolon_header", "# c\nx;y\n1;2\n3;4\n", 2),
                         ("semicolon_quoted_comma", '"a,b";c\n1;2\n', 1)):
    write(name + ".csv", text)
    want[name] = np.loadtxt(text.splitlines(), delimiter=";", comments="#", skiprows=skip, ndmin=2,
                            dtype=np.float64)

for name, w in want.items():
    r = copy(name + ".csv", name + ".npy")
    if r.returncode:
        fail(f"{name}: {r.stdout}")
        continue
    got = np.load(path(name + ".npy"))
    if got.dtype != np.float64 or got.shape != w.shape or not np.array_equal(got, w, equal_nan=True):
        fail(f"{name}: got {got.dtype} {got.shape} {got.tolist()}, expected {w.shape} {w.tolist()}")
print(f"read: {len(want)} files")

# ---- 2. writing -------------------------------------------------------------

rng = np.random.default_rng(3)


def sample(dt, shape):
    if dt == "bool":
        return rng.random(shape) < 0.5
    if dt in ("int32", "int64"):
        info = np.iinfo(dt)
        a = rng.integers(-1000, 1000, size=shape).astype(dt)
        a.reshape(-1)[:2] = [info.min, info.max][: a.size]
        return a
    a = (rng.standard_normal(shape) * 10.0 ** rng.integers(-30, 30, size=shape)).astype(dt)
    a.reshape(-1)[:4] = [np.nan, np.inf, -np.inf, -0.0][: a.size]
    return a


def expected_text(a):
    def cell(x):
        if a.dtype == np.bool_:
            return "1" if x else "0"
        if a.dtype.kind == "i":
            return str(int(x))
        if np.isnan(x):
            return "nan"
        return ("%.9g" if a.dtype == np.float32 else "%.17g") % x
    rows = a.reshape(1, 1) if a.ndim == 0 else a.reshape(-1, 1) if a.ndim == 1 else a
    return "".join(",".join(cell(x) for x in row) + "\n" for row in rows)


count = 0
for dt in ["float32", "float64", "int32", "int64", "bool"]:
    for shape in [(), (1,), (7,), (3, 4), (1, 5), (0,), (0, 3)]:
        name = f"w_{dt}_{'x'.join(map(str, shape)) or 'scalar'}"
        a = sample(dt, shape)
        np.save(path(name + ".npy"), a)
        r = copy(name + ".npy", name + ".csv")
        count += 1
        if r.returncode:
            fail(f"{name}: {r.stdout}")
            continue
        with open(path(name + ".csv"), newline="") as f:
            text = f.read()
        if text != expected_text(a):
            fail(f"{name}: wrote {text!r}, expected {expected_text(a)!r}")
            continue
        if a.size == 0:
            continue
        # And it reads back to the same numbers (as f64, in [rows, cols]; an
        # f32 as the f64 nearest its %.9g text, which rounds back to it).
        r = copy(name + ".csv", name + "_back.npy")
        back = np.load(path(name + "_back.npy"))
        same = a.astype(np.float64).reshape(back.shape)
        if a.dtype == np.float32:
            back, same = back.astype(np.float32), a.reshape(back.shape)
        if r.returncode or not np.array_equal(back, same, equal_nan=True):
            fail(f"{name}: read back {back.tolist()}, expected {same.tolist()}")
print(f"write: {count} arrays")

# ---- 3. errors ----------------------------------------------------------------

bad = [
    ("ragged", "1,2\n3\n"),
    ("ragged_header", "a,b,c\n1,2\n"),
    ("not_a_number", "1,2\n3,abc\n"),
    ("number_with_junk", "1,2\n3,4x5\n"),
    ("hex", "1,2\n0x10,4\n"),
    ("empty_cell", "1,2\n3,\n"),
    ("trailing_comma", "1,2\n3,4,\n"),
    ("header_then_text", "a,b\nx,1\n"),
    ("space_inside", "1,2\n3,4 5\n"),
    ("long_cell", "1,2\n3," + "z" * 100 + "\n"),
    ("empty", ""),
    ("only_header", "a,b\n"),
    ("only_comments", "# nothing\n\n  \n"),
    ("decimal_comma", "1,5;2\n3,5;4\n"),
    ("missing", None),
]
for name, text in bad:
    if text is not None:
        write(name + ".csv", text)
    r = copy(name + ".csv", name + ".npy")
    msg = r.stdout.strip().split(": error %d: " % r.returncode)[-1].replace(DIR + "/", "")
    print(f"{name}: rc={r.returncode}: {msg}")
    if os.path.exists(path(name + ".npy")):
        fail(f"{name}: an output file was written")

# Arrays CSV cannot hold.
np.save(path("rank3.npy"), np.zeros((2, 2, 2)))
r = copy("rank3.npy", "rank3.csv")
print("rank3: rc=%d: %s" % (r.returncode, r.stdout.strip().splitlines()[-1].split(": save error 2: ")[-1]
                            .replace(DIR + "/", "")))
if os.path.exists(path("rank3.csv")):
    fail("rank3: an output file was written")
leftovers = [f for f in os.listdir(DIR) if ".tmp." in f]
if leftovers:
    fail(f"temporary files left: {leftovers}")
print(f"csv_check: {failures} mismatches")
sys.exit(1 if failures else 0)
