"""NumPy as the oracle for runtime/npy.c.

usage: npy_check.py DIR

1. Writes .npy files with numpy: every dtype the runtime reads, shapes from
   0-d to rank 8 (empty and size-1 dimensions included), versions 1.0, 2.0
   and 3.0, and hand-made headers NumPy would not write but may be given
   (other key orders, spacing, Python 2 longs, unaligned data).
2. Runs `files_test copy` on all of them at once and checks that what came
   back equals the input (after the documented conversions) and is the very
   bytes numpy.save writes.
3. Runs `files_test copy` on each corrupt file alone and prints
   "NAME: rc=N: MESSAGE" for FileCheck (the directory removed from messages).
"""
import io
import os
import struct
import subprocess
import sys
import threading

import numpy as np

DIR = sys.argv[1]
rng = np.random.default_rng(7)
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("MISMATCH", msg)


def path(name):
    return os.path.join(DIR, name)


def header_bytes(text, version=(1, 0), align=True):
    """A .npy prefix around the header text; padded like NumPy when align."""
    text = text.encode("latin1" if version < (3, 0) else "utf8")
    lenfmt = "<H" if version == (1, 0) else "<I"
    if align:
        total = 6 + 2 + struct.calcsize(lenfmt) + len(text) + 1
        text += b" " * ((64 - total % 64) % 64) + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(lenfmt, len(text)) + text


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


# ---- 1. good files ---------------------------------------------------------

CONVERTED = {"u1": np.int64, "i1": np.int64, "i2": np.int64, "u2": np.int64, "u4": np.int64, "u8": np.int64,
             "f2": np.float32}
DTYPES = ["f4", "f8", "i4", "i8", "b1", "u1", "i1", "i2", "u2", "u4", "u8", "f2"]
SHAPES = [(), (0,), (1,), (5,), (3, 4), (0, 3), (3, 0), (1, 1, 1), (2, 3, 4), (1,) * 8, (2, 1, 3, 1, 2, 1, 1, 2)]


def sample(dt, shape):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind == "f":
        a = (rng.standard_normal(shape) * 100).astype(dt)
        flat = a.reshape(-1)
        specials = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dt).tiny, np.finfo(dt).max]
        flat[: min(flat.size, len(specials))] = specials[: flat.size]
        return a
    info = np.iinfo(dt)
    # uint64 loads as i64: values past 2^63-1 are an error (u8_too_big below)
    top = min(int(info.max), 2**63 - 1)
    a = rng.integers(info.min, top, size=shape, dtype=dt, endpoint=True)
    flat = a.reshape(-1)
    edges = [info.min, top, 0]
    flat[: min(flat.size, 3)] = edges[: flat.size]
    return a


good = {}  # name -> the array it must load as
for dt in DTYPES:
    for shape in SHAPES:
        for version in [(1, 0), (2, 0), (3, 0)] if shape in [(), (3, 4), (0, 3)] else [(1, 0)]:
            a = sample("<" + dt if dt not in ("b1", "u1", "i1") else "|" + dt, shape)
            name = f"good_{dt}_{'x'.join(map(str, shape)) or 'scalar'}_v{version[0]}.npy"
            with open(path(name), "wb") as f:
                np.lib.format.write_array(f, a, version=version)
            good[name] = a.astype(CONVERTED.get(dt, a.dtype))

# Headers written by hand: what a careful reader must accept.
data = np.arange(12, dtype="<f4").reshape(3, 4)
hand = {
    "hand_key_order": "{'shape': (3, 4), 'fortran_order': False, 'descr': '<f4'}",
    "hand_spaces": "{  'descr' :'<f4' ,\t'fortran_order':False,'shape':( 3 ,4 )   }",
    "hand_double_quotes": '{"descr": "<f4", "fortran_order": False, "shape": (3, 4),}',
    "hand_py2_long": "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }",
    "hand_extra_key": "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'note': {'a': [1, (2,)]}, }",
    "hand_native_order": "{'descr': '=f4', 'fortran_order': False, 'shape': (3, 4), }",
}
for name, text in hand.items():
    write(name + ".npy", header_bytes(text) + data.tobytes())
    good[name + ".npy"] = data
write("hand_unaligned.npy", header_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}\n", align=False)
      + data.tobytes())
good["hand_unaligned.npy"] = data
# Fortran order is the same bytes when at most one dimension exceeds 1.
vec = np.arange(5, dtype="<i8").reshape(1, 5)
write("hand_fortran_row.npy", header_bytes("{'descr': '<i8', 'fortran_order': True, 'shape': (1, 5), }") + vec.tobytes())
good["hand_fortran_row.npy"] = vec
# Any Fortran-order array is reordered into C order; big-endian data of every
# dtype is byte-swapped (no warning: the dtype is the same).
for dt, shape in (("<f4", (3, 4)), ("<i8", (2, 3, 4)), ("|b1", (2, 5)), ("<i2", (3, 2))):
    a = sample(dt, shape)
    name = f"fortran_{dt[1:]}_{'x'.join(map(str, shape))}.npy"
    np.save(path(name), np.asfortranarray(a))
    good[name] = a.astype(CONVERTED.get(dt[1:], a.dtype))
for dt in ("f4", "f8", "i4", "i8", "i2", "u4"):
    a = sample("<" + dt, (3, 4))
    name = f"big_endian_{dt}.npy"
    np.save(path(name), np.asfortranarray(a.astype(">" + dt)) if dt == "i8" else a.astype(">" + dt))
    good[name] = a.astype(CONVERTED.get(dt, a.dtype))
# Bool bytes other than 0 and 1 load as 1.
write("hand_bool_bytes.npy", header_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }")
      + bytes([0, 1, 2, 255]))
good["hand_bool_bytes.npy"] = np.array([False, True, True, True])
# A 3.0 header with UTF-8 in an ignored key.
write("hand_utf8_v3.npy", header_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'n\u00e9': 1}",
                                       version=(3, 0)) + data.tobytes())
good["hand_utf8_v3.npy"] = data
# '>u1' is one byte: byte order does not matter.
write("hand_big_u1.npy", header_bytes("{'descr': '>u1', 'fortran_order': False, 'shape': (3,), }") + bytes([1, 2, 250]))
good["hand_big_u1.npy"] = np.array([1, 2, 250], dtype=np.int64)

names = sorted(good)
args = []
for n in names:
    args += [path(n), path("out_" + n)]
r = subprocess.run(["files_test", "copy"] + args, capture_output=True, text=True)
if r.returncode != 0:
    fail(f"files_test copy exited {r.returncode}:\n{r.stdout}{r.stderr}")
warnings = {line.split(": warning: ")[0] for line in r.stdout.splitlines() if ": warning: " in line}

for n in names:
    want = good[n]
    warn = (n.split("_")[1] in CONVERTED if n.startswith("good_") else
            n.split(".")[0].split("_")[-2 if n.startswith("fortran") else -1] in CONVERTED or n == "hand_big_u1.npy")
    if (path(n) in warnings) != warn:
        fail(f"{n}: warning expected {warn}, got {path(n) in warnings}")
    try:
        got = np.load(path("out_" + n))
    except Exception as e:  # noqa: BLE001 - any failure is a mismatch
        fail(f"{n}: numpy cannot read what files_test wrote: {e}")
        continue
    if got.dtype != want.dtype or got.shape != want.shape:
        fail(f"{n}: got {got.dtype} {got.shape}, expected {want.dtype} {want.shape}")
        continue
    if not np.array_equal(got, want, equal_nan=want.dtype.kind == "f"):
        fail(f"{n}: values differ")
        continue
    # The very bytes numpy.save writes (version 1.0, same header padding).
    buf = io.BytesIO()
    np.save(buf, want)
    with open(path("out_" + n), "rb") as f:
        if f.read() != buf.getvalue():
            fail(f"{n}: the file written is not byte-identical to numpy.save's")
print(f"good files: {len(names) - failures} of {len(names)} round-trip exactly")

# A pipe: the size cannot be known in advance, so extra bytes are found at the end.
def through_fifo(name, payload):
    fifo = path(name)
    os.mkfifo(fifo)
    p = subprocess.Popen(["files_test", "copy", fifo, path("out_" + name)], stdout=subprocess.PIPE, text=True)
    with open(fifo, "wb") as f:
        try:
            f.write(payload)
        except BrokenPipeError:
            pass
    out = p.communicate()[0]
    return p.returncode, out

rc, out = through_fifo("fifo_ok.npy", header_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }")
                       + data.tobytes())
if rc or not np.array_equal(np.load(path("out_fifo_ok.npy")), data):
    fail(f"fifo: rc={rc} {out}")
rc, out = through_fifo("fifo_extra.npy", header_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }")
                       + data.tobytes() + b"xx")
print("fifo_extra: rc=%d: %s" % (rc, out.strip().split(": error 2: ")[-1].replace(DIR + "/", "")))

# ---- 2. corrupt files ------------------------------------------------------

H = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"
ok = header_bytes(H) + data.tobytes()
bad = [
    ("missing", None),
    ("empty", b""),
    ("bad_magic", b"descr,shape\n1,2\n"),
    ("short_magic", b"\x93NUM"),
    ("version_4", ok[:6] + bytes([4, 0]) + ok[8:]),
    ("version_1_1", ok[:6] + bytes([1, 1]) + ok[8:]),
    ("no_header_length", ok[:9]),
    ("truncated_header", ok[:40]),
    ("truncated_data", ok[:-3]),
    ("extra_bytes", ok + b"\0\0\0\0"),
    ("shape_too_big", header_bytes(H.replace("(3, 4)", "(4, 4)")) + data.tobytes()),
    ("huge_shape_small_file", header_bytes(H.replace("(3, 4)", "(100000, 100000)")) + data.tobytes()),
    ("u8_too_big", None),
    ("object", None),
    ("structured", None),
    ("unicode", None),
    ("complex", None),
    ("long_double", header_bytes(H.replace("<f4", "<f16")) + bytes(192)),
    ("int128", header_bytes(H.replace("<f4", "<i16")) + bytes(192)),
    ("rank_9", header_bytes(H.replace("(3, 4)", "(1, 1, 1, 1, 1, 1, 1, 1, 1)")) + bytes(4)),
    ("negative_dim", header_bytes(H.replace("(3, 4)", "(-3, 4)")) + data.tobytes()),
    ("overflow_dims", header_bytes(H.replace("(3, 4)", "(4294967296, 4294967296)")) + data.tobytes()),
    ("overflow_literal", header_bytes(H.replace("(3, 4)", "(99999999999999999999999, 1)")) + data.tobytes()),
    ("shape_not_ints", header_bytes(H.replace("(3, 4)", "(3.5, 4)")) + data.tobytes()),
    ("shape_list", header_bytes(H.replace("(3, 4)", "[3, 4]")) + data.tobytes()),
    ("no_shape", header_bytes("{'descr': '<f4', 'fortran_order': False}") + data.tobytes()),
    ("no_descr", header_bytes("{'fortran_order': False, 'shape': (3, 4)}") + data.tobytes()),
    ("fortran_not_bool", header_bytes(H.replace("False", "0")) + data.tobytes()),
    ("descr_not_string", header_bytes(H.replace("'<f4'", "4")) + data.tobytes()),
    ("syntax", header_bytes(H.replace("(3, 4)", "(3, 4")) + data.tobytes()),
    ("not_a_dict", header_bytes("('<f4', False, (3, 4))") + data.tobytes()),
    ("trailing_text", header_bytes(H + " junk") + data.tobytes()),
    ("unterminated_string", header_bytes("{'descr: '<f4}") + data.tobytes()),
    ("deep_nesting", header_bytes("{'x': " + "(" * 100 + ")" * 100 + "}") + data.tobytes()),
    ("header_too_long", b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b"{"),
    ("directory", None),
]
for name, content in bad:
    p = path(name + ".npy")
    if name == "u8_too_big":
        np.save(p, np.array([1, 2**63, 3], dtype="<u8"))
    elif name == "object":
        np.save(p, np.array([1, "a", None], dtype=object), allow_pickle=True)
    elif name == "structured":
        np.save(p, np.zeros(3, dtype=[("x", "<f4"), ("y", "<i4")]))
    elif name == "unicode":
        np.save(p, np.array(["abc", "de"]))
    elif name == "complex":
        np.save(p, np.zeros(3, dtype=np.complex64))
    elif name == "directory":
        os.mkdir(p)
    elif content is not None:
        write(name + ".npy", content)
    r = subprocess.run(["files_test", "copy", p, path("out_" + name + ".npy")], capture_output=True, text=True)
    msg = r.stdout.strip().split(": error %d: " % r.returncode)[-1].replace(DIR + "/", "")
    print(f"{name}: rc={r.returncode}: {msg}")
    if os.path.exists(path("out_" + name + ".npy")):
        fail(f"{name}: an output file was written")

leftovers = [f for f in os.listdir(DIR) if ".tmp." in f]
if leftovers:
    fail(f"temporary files left: {leftovers}")
print(f"npy_check: {failures} mismatches")
sys.exit(1 if failures else 0)
