""".npy inputs whose dtype differs from the declared one (issue 13 item 11,
docs/runtime.md "Files"): written by NumPy as uint8, int8, int16, uint16,
int32, int64, bool and float32 files, big-endian and in Fortran order, given
to i32, i64, f32 and f64 arguments.  Each program computes on the converted
values and must equal NumPy's result on `x.astype(declared)`; the run prints
one warning naming the file and both dtypes.  Conversions that lose values
(a float to an integer, float64 to f32, an int64 past i32's range, a uint8
to bool) exit 2 with one line naming the argument, the file and the dtypes,
and write nothing."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {
}


def build(s):
    rng = s.rng

    def ints(dt, lo, hi, shape):
        return rng.integers(lo, hi, shape, endpoint=True).astype(dt)

    # 1-4: small integer files for an i32 argument
    p = s.program("u1_to_i32", "x: i32[N]")
    p.run(x=ints(np.uint8, 0, 255, (7,)))
    p.check("x * 3", "x.astype(np.int32) * 3")
    p.check("max(x)", "np.max(x.astype(np.int32))")

    p = s.program("i1_to_i32", "x: i32[N]")
    p.run(x=ints(np.int8, -128, 127, (9,)))
    p.check("x - 1", "x.astype(np.int32) - 1")
    p.check("abs(x)", "np.abs(x.astype(np.int32))")

    p = s.program("i2_to_i32", "x: i32[N, M]")
    p.run(x=ints(np.int16, -32768, 32767, (3, 4)))
    p.check("x * 2", "x.astype(np.int32) * 2")
    p.check("min(x, axis=1)", "np.min(x.astype(np.int32), axis=1)")

    p = s.program("u2_to_i32", "x: i32[N]")
    p.run(x=ints(np.uint16, 0, 65535, (6,)))
    p.check("x + 1", "x.astype(np.int32) + 1")

    # 5: int32 widened for an i64 argument; int64 narrowed when it fits
    p = s.program("i4_to_i64", "x: i64[N]")
    p.run(x=ints(np.int32, -2**31, 2**31 - 1, (5,)))
    p.check("x * 4", "x.astype(np.int64) * 4")

    p = s.program("i8_to_i32", "x: i32[N]")
    p.run(x=ints(np.int64, -1000, 1000, (5,)))
    p.check("x // 3", "x.astype(np.int32) // 3")

    # 6-8: integer files for an f32 argument
    p = s.program("u1_to_f32", "x: f32[N]")
    p.run(x=ints(np.uint8, 0, 255, (8,)))
    p.check("x / 2.0", "x.astype(np.float32) / np.float32(2)")

    p = s.program("i2_to_f32", "x: f32[N, M]")
    p.run(x=ints(np.int16, -32768, 32767, (4, 3)))
    p.check("mean(x, axis=0)", "np.mean(x.astype(np.float32), axis=0)")

    p = s.program("i4_to_f32", "x: f32[N]")
    p.run(x=ints(np.int32, -2**24, 2**24, (6,)))
    p.check("x * 0.5", "x.astype(np.float32) * np.float32(0.5)")

    p = s.program("b1_to_f32", "x: f32[N]")
    p.run(x=rng.random(7) < 0.5)
    p.check("x * 2.0 + 1.0", "x.astype(np.float32) * np.float32(2) + np.float32(1)")

    # 9: float32 widened for an f64 argument
    p = s.program("f4_to_f64", "x: f64[N]")
    p.run(x=rng.standard_normal(6).astype(F32))
    p.check("x * 0.1", "x.astype(np.float64) * 0.1")

    # 10-12: big-endian and Fortran-order files, converted or not
    p = s.program("big_endian_f4", "x: f32[N, M]")
    p.run(x=rng.standard_normal((3, 5)).astype(">f4"))
    p.check("x + 1.0", "x.astype(np.float32) + np.float32(1)")
    p.check("sum(x, axis=1)", "np.sum(x.astype(np.float32), axis=1)", tol=(1e-5, 1e-5))

    p = s.program("fortran_f8", "x: f64[N, M]")
    p.run(x=np.asfortranarray(rng.standard_normal((4, 3))))
    p.check("x[1]", "x[1]")
    p.check("x.T * 2.0", "x.T * 2.0")

    p = s.program("fortran_big_endian_i2", "x: i64[N, M, K]")
    p.run(x=np.asfortranarray(ints(">i2", -300, 300, (2, 3, 4))))
    p.check("x[:, 1, :]", "x.astype(np.int64)[:, 1, :]")
    p.check("x * 10", "x.astype(np.int64) * 10")

    return [run_errors, run_warning]


ERR_PROG = '''# npy_dtypes: declared dtypes a file cannot be converted to
def main(a: i32[N], f: f32[N]):
    save("out.npy", a.astype(f32) + f)
'''


def run_errors(s):
    """Lossy conversions: exit 2, one line naming the argument, the file and both dtypes, no output."""
    d = os.path.join(s.work, "errors")
    rc, err = s.compile(d, ERR_PROG)
    if rc != 0:
        s.report("errors: compile", False, "compile failed (exit %s): %s" % (rc, oracle.tail(err)), [], d)
        return
    good_a, good_f = np.arange(3, dtype=I32), np.ones(3, F32)
    cases = [
        ("float_to_int", "a", np.array([1.0, 2.5, 3.0], F32), good_f, ("float32", "i32")),
        ("int64_out_of_range", "a", np.array([1, 2**31, 3], I64), good_f, ("int64", "i32", "2147483648")),
        ("f8_to_f32", "f", good_a, np.ones(3, F64), ("float64", "f32")),
        ("int_too_big_for_f32", "f", good_a, np.array([1, 2**24 + 1, 3], I32), ("int32", "f32", "16777217")),
    ]
    cmds = []
    for name, arg, a, f, words in cases:
        rd = os.path.join(d, name)
        os.makedirs(rd)
        np.save(os.path.join(rd, "a.npy"), a)
        np.save(os.path.join(rd, "f.npy"), f)
        argv = ["../prog", "a=a.npy", "f=f.npy"]
        cmds.append((name, argv))
        rc, out, errtext = s.exec(rd, argv)
        msg = errtext.strip()
        problems = []
        if rc != 2:
            problems.append("exit %s, expected 2" % rc)
        if len(msg.splitlines()) != 1:
            problems.append("expected one line on stderr, got %r" % msg[:300])
        for w in (arg, "%s.npy" % arg) + words:
            if w not in msg:
                problems.append("the message does not name %r" % w)
        if os.path.exists(os.path.join(rd, "out.npy")):
            problems.append("out.npy was written")
        s.report("errors: %s" % name, not problems, "; ".join(problems),
                 ["$ cd %s && %s" % (name, " ".join(argv)), "stderr: %r" % msg[:300]], rd)
    s.write_repro(d, cmds)


def run_warning(s):
    """A converted file: one warning line naming the file, its dtype and the declared one."""
    d = os.path.join(s.work, "warning")
    rc, err = s.compile(d, ERR_PROG)
    if rc != 0:
        s.report("warning: compile", False, "compile failed (exit %s): %s" % (rc, oracle.tail(err)), [], d)
        return
    np.save(os.path.join(d, "a.npy"), np.array([1, 2, 3], np.int16))
    np.save(os.path.join(d, "f.npy"), np.ones(3, F32))
    argv = ["./prog", "a=a.npy", "f=f.npy"]
    rc, out, errtext = s.exec(d, argv)
    problems = [] if rc == 0 else ["exit %s: %s" % (rc, oracle.tail(errtext))]
    lines = [l for l in errtext.splitlines() if "warning" in l]
    if len(lines) != 1 or not all(w in lines[0] for w in ("a.npy", "int16", "i32")):
        problems.append("expected one warning naming a.npy, int16 and i32, got %r" % errtext[:300])
    if rc == 0:
        e = oracle.compare(np.load(os.path.join(d, "out.npy")), np.array([2, 3, 4], F32))
        if e:
            problems.append("out.npy: " + e)
    s.report("warning: int16 for i32", not problems, "; ".join(problems), ["$ " + " ".join(argv)], d)
    s.write_repro(d, [(".", argv)])


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
