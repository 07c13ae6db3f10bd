"""Arithmetic at its edges against NumPy (issue 13 items 5 and 6a,
docs/language.md "Arithmetic"): integer // and % by zeros known only at run
time give NumPy's 0 and one warning a site on stderr ("divide by zero
encountered in floor_divide"), float division by zero is IEEE's without
one; arange and range with run-time steps, a zero step a run-time error;
integer powers with run-time exponents, a negative one a run-time error,
Python ints (2 ** -1) a float as in Python; constants folded in f64 where
they meet f64 tensors (compared exactly, and printed at full precision).
The compile-time errors (constant zero divisor, zero step, negative
exponent) are checked here too, and pinned by FileCheck in
tests/passes/simplify/zero_divisor.tc and tests/frontend/resolve/const-arith.tc."""
import os
import sys
import warnings

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {
}

EXACT = (0.0, 0.0)


def quiet(fn):
    """NumPy's value of fn(ns), its RuntimeWarnings silenced (the harness's own output stays clean)."""
    def g(ns):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(ns)
    return g


def arange_sum(a, b, s):
    return np.int64(sum(range(a, b, s)))


def build(s):
    # 1. integer // and % by run-time zeros: NumPy's 0 (the warnings: run_warnings)
    p = s.program("int_div_zero", "x: i64[N], y: i64[N], d: i64")
    x = s.ints(-20, 21, (9,))
    y = np.array([3, 0, -4, 0, 7, -1, 0, 2, 5], I64)
    p.run(x=x, y=y, d=0, label="d0")
    p.run(x=x, y=y, d=-3, label="dm3")
    for e in ("x // y", "x % y", "-x // y", "x // d", "x % d", "(x + 1) // y + x % d"):
        p.check(e, quiet(lambda ns, e=e: eval(e, {}, dict(ns))))
    p.check("sum(x // y)", quiet(lambda ns: np.sum(ns["x"] // ns["y"])))

    # 2. i32, broadcast divisor with zeros
    p = s.program("int32_div_zero", "x: i32[N, M], y: i32[M]")
    p.run(x=s.ints(-50, 51, (3, 5), I32), y=np.array([0, 2, -3, 0, 1], I32))
    p.check("x // y", quiet(lambda ns: ns["x"] // ns["y"]))
    p.check("x % y", quiet(lambda ns: ns["x"] % ns["y"]))
    p.check("y // x", quiet(lambda ns: ns["y"] // ns["x"]))

    # 3. float division by zero: IEEE (no warning either: run_warnings)
    p = s.program("float_div_zero", "x: f32[N], y: f32[N], z: f64[N]")
    p.run(x=np.array([1.5, -2.0, 0.0, 3.0, -0.5], F32), y=np.array([0.0, 0.0, 0.0, 2.0, -0.0], F32),
          z=np.array([0.0, 1.0, -0.0, 0.0, 2.0], F64))
    for e in ("x / y", "x // y", "x % y", "1.0 / z", "z / z"):
        p.check(e, quiet(lambda ns, e=e: eval(e, {}, dict(ns)).astype(ns["x"].dtype if "z" not in e else F64)))

    # 4. arange with run-time bounds and steps (a zero step: run_errors)
    p = s.program("arange_runtime", "a: i64, b: i64, st: i64, fs: f64")
    for a, b, st, fs in ((0, 10, 3, 0.25), (10, 0, -2, -0.5), (5, 5, 1, 1.0), (-3, 4, 7, 0.125)):
        p.run(a=a, b=b, st=st, fs=fs, label="a%d_b%d_s%d" % (a, b, st))
    p.check("arange(a, b, st)", "np.arange(a, b, st)")
    p.check("arange(a, b, st) * 2 + 1", "np.arange(a, b, st) * 2 + 1")
    p.check("arange(0.0, 2.0, fs)", "np.arange(0.0, 2.0, fs).astype(np.float32)")

    # 5. range with a run-time step
    p = s.program("range_runtime", "a: i64, b: i64, st: i64")
    for a, b, st in ((0, 10, 3), (10, 0, -3), (2, 2, 5), (-5, 6, 4)):
        p.run(a=a, b=b, st=st, label="a%d_b%d_s%d" % (a, b, st))
    p.block("sum over range(a, b, st)", ["acc = 0", "for i in range(a, b, st):", "    acc = acc + i",
                                         'save("racc.npy", acc)'],
            {"racc": lambda ns: arange_sum(int(ns["a"]), int(ns["b"]), int(ns["st"]))})

    # 6. integer powers with run-time exponents >= 0 (a negative one: run_errors)
    p = s.program("int_pow_runtime", "x: i64[N], e: i64, ev: i64[N], k: i32[N]")
    for e in (0, 1, 3):
        p.run(x=s.ints(-6, 7, (6,)), e=e, ev=s.ints(0, 5, (6,)), k=s.ints(-4, 5, (6,), I32), label="e%d" % e)
    p.check("x ** e", "x ** e")
    p.check("x ** ev", "x ** ev")
    p.check("2 ** e", "np.int64(2) ** e")
    p.check("k ** 3", "k ** 3")
    p.check("k ** e", "k.astype(np.int64) ** e")  # i32 with an i64 value: promoted (docs/shapes.md)

    # 7. negative powers of floats, and of integers made floats
    p = s.program("float_neg_pow", "x: f32[N], i: i64[N]")
    p.run(x=s.uniform(0.5, 3.0, (7,)), i=s.nonzero_ints(1, 9, (7,)))
    p.check("x ** -1", "x ** np.float32(-1)")
    p.check("x ** -2.5", "x ** np.float32(-2.5)", tol=(2e-6, 1e-6))
    p.check("i ** -1.0", "(i.astype(np.float32) ** np.float32(-1))")
    p.check("i.astype(f64) ** -2", "i.astype(np.float64) ** -2.0")

    # 8. Python ints: 2 ** -1 is 0.5, as in Python (a weak float)
    p = s.program("python_int_pow", "x: f32[N], w: f64[N]", header=["const HALF = 2 ** -1", "const Q = 4 ** -2"])
    p.run(x=s.normal((5,)), w=s.normal((5,), F64))
    p.check("x * 2 ** -1", "x * np.float32(0.5)")
    p.check("w * 10 ** -3", "w * 10 ** -3.0", tol=EXACT)
    p.check("x + HALF + Q", "x + np.float32(0.5) + np.float32(0.0625)")
    p.check("w * 3 ** -1", "w * (1.0 / 3.0)", tol=EXACT)

    # 9. f64 constant folding: exactly NumPy's (Python's double arithmetic)
    p = s.program("f64_folding", "x: f64[N]", header=["const C = 0.1 * 3", "const S = sqrt(2.0) / 3.0"])
    p.run(x=s.normal((4,), F64))
    p.check("zeros(3, dtype=f64) + 0.1 * 3", "np.zeros(3) + 0.1 * 3", tol=EXACT)
    p.check("zeros(1, dtype=f64) + 1.0 / 3.0", "np.zeros(1) + 1.0 / 3.0", tol=EXACT)
    p.check("x * (1.0 / 3.0)", "x * (1.0 / 3.0)", tol=EXACT)
    p.check("x + sqrt(2.0)", "x + np.sqrt(2.0)", tol=EXACT)
    p.check("x + exp(1.0) * 0.1", "x + np.exp(1.0) * 0.1", tol=EXACT)
    p.check("x * (0.1 + 0.2) - 0.7", "x * (0.1 + 0.2) - 0.7", tol=EXACT)
    p.check("x + C + S", "x + 0.1 * 3 + np.sqrt(2.0) / 3.0", tol=EXACT)
    p.check("x * -(0.1 * 3)", "x * -(0.1 * 3)", tol=EXACT)
    p.check("x + log(10.0) / 7.0", "x + np.log(10.0) / 7.0", tol=EXACT)

    # 10. ... and printed at full precision (a 0-d f64 prints as Python's repr)
    p = s.program("f64_folding_print", "x: f64[N]")
    p.run(x=np.zeros(2, F64))
    p.block("print 0.1 * 3", ["print((x + 0.1 * 3)[0])"], stdout=oracle.pyprint(np.float64(0.1 * 3)))
    p.block("print 1.0 / 3.0", ["print((x + 1.0 / 3.0)[1])"], stdout=oracle.pyprint(np.float64(1.0 / 3.0)))
    p.block("print sqrt(2.0) * 0.1", ["print((x + sqrt(2.0) * 0.1)[0])"],
            stdout=oracle.pyprint(np.float64(np.sqrt(2.0) * 0.1)))

    # 11. f32 programs: the double rounded once to f32, as NumPy's
    p = s.program("f32_folding", "x: f32[N]")
    p.run(x=s.normal((5,)))
    p.check("x + 0.1 * 3", "x + np.float32(0.1 * 3)", tol=EXACT)
    p.check("x * (1.0 / 3.0)", "x * np.float32(1.0 / 3.0)", tol=EXACT)
    p.check("x - sqrt(2.0) / 7.0", "x - np.float32(np.sqrt(2.0) / 7.0)", tol=EXACT)
    p.check("x * (0.1 + 0.2)", "x * np.float32(0.1 + 0.2)", tol=EXACT)

    # 12. integer folding: wrap-around and floor rules unchanged
    p = s.program("int_folding", "x: i64[N], k: i32[N]")
    p.run(x=s.ints(-100, 100, (5,)), k=s.ints(-100, 100, (5,), I32))
    p.check("x + 2 ** 40 * 3", "x + 2 ** 40 * 3")
    p.check("x // 3 + -7 // 2 + -7 % 3", "x // 3 + -7 // 2 + -7 % 3")
    p.check("k % -4 + (7 // -2)", "k % np.int32(-4) + np.int32(7 // -2)")
    p.check("x ** 2 + 3 ** 4", "x ** 2 + 3 ** 4")

    return [run_warnings, run_errors, compile_errors]


WARN_PROG = '''# arith: warnings of integer division by zero
def main(x: i64[N], y: i64[N], d: i64, f: f32[N]):
    for r in range(3):
        save("q.npy", x // y)
        save("m.npy", x % d)
    save("fl.npy", f / f)
'''
# (line, column) of each warning's operator in WARN_PROG
WARN_SITES = {"floor_divide": (4, 25), "remainder": (5, 25)}


def run_warnings(s):
    """One warning a site on stderr, naming prog.tc:LINE:COL, when a divisor holds a zero (even in a loop
    of three); none when none does, nor for a float division by zero; the values are NumPy's."""
    d = os.path.join(s.work, "warnings")
    rc, err = s.compile(d, WARN_PROG)
    if rc != 0:
        s.report("warnings: compile", False, "compile failed (exit %s): %s" % (rc, oracle.tail(err)), [], d)
        return
    x = np.array([7, -7, 5, 0, 9], I64)
    f = np.array([1.0, 0.0, -2.0, 0.0, 3.0], F32)
    cmds = []
    for name, y, dv, warned in (("zeros", np.array([2, 0, -3, 0, 1], I64), 0, ("floor_divide", "remainder")),
                                ("tensor_zero_only", np.array([0, 1, 1, 1, 1], I64), 4, ("floor_divide",)),
                                ("scalar_zero_only", np.array([1, 2, 3, 4, 5], I64), 0, ("remainder",)),
                                ("none", np.array([1, -2, 3, 4, 5], I64), 3, ())):
        rd = os.path.join(d, name)
        os.makedirs(rd)
        np.save(os.path.join(rd, "x.npy"), x)
        np.save(os.path.join(rd, "y.npy"), y)
        np.save(os.path.join(rd, "f.npy"), f)
        argv = ["../prog", "x=x.npy", "y=y.npy", "d=%d" % dv, "f=f.npy"]
        cmds.append((name, argv))
        rc, out, errtext = s.exec(rd, argv)
        problems = [] if rc == 0 else ["exit %s: %s" % (rc, oracle.tail(errtext))]
        lines = [ln for ln in errtext.splitlines() if ln.strip() and "note:" not in ln]
        want = ["prog.tc:%d:%d: warning: divide by zero encountered in %s" % (WARN_SITES[w] + (w,)) for w in warned]
        if lines != want:
            problems.append("stderr: expected %r, got %r" % (want, lines))
        if rc == 0:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                exp = {"q": x // y, "m": x % np.int64(dv), "fl": f / f}
            for k, v in exp.items():
                e = oracle.compare(np.load(os.path.join(rd, k + ".npy")), v)
                if e:
                    problems.append("%s.npy: %s" % (k, e))
        s.report("warnings: %s" % name, not problems, "; ".join(problems),
                 ["$ cd %s && %s" % (name, " ".join(argv)), "stderr: %r" % errtext[:400]], rd)
    s.write_repro(d, cmds)


ERR_PROG = '''# arith: run-time errors of arithmetic
def main(x: i64[N], st: i64, e: i64, ev: i64[N], which: i64):
    save("before.npy", x + 1)
    if which == 0:
        save("a.npy", arange(0, 10, st))
    elif which == 1:
        acc = 0
        for i in range(0, 10, st):
            acc = acc + i
        save("r.npy", acc)
    elif which == 2:
        save("p.npy", x ** e)
    else:
        save("pv.npy", x ** ev)
'''


def run_errors(s):
    """A zero step known at run time (arange, range) and an integer power with a negative run-time exponent
    (scalar or tensor): exit 1, the message names prog.tc:LINE and what is wrong, and the failing save writes
    nothing; the same program runs fine on good values."""
    d = os.path.join(s.work, "errors")
    rc, err = s.compile(d, ERR_PROG)
    if rc != 0:
        s.report("errors: compile", False, "compile failed (exit %s): %s" % (rc, oracle.tail(err)), [], d)
        return
    x = np.array([2, -3, 4], I64)
    good_ev, bad_ev = np.array([0, 1, 2], I64), np.array([1, -2, 0], I64)
    cases = [
        ("arange_step_0", 0, 0, 1, good_ev, "a.npy", "prog.tc:5:", "arange: the step must not be zero"),
        ("range_step_0", 1, 0, 1, good_ev, "r.npy", "prog.tc:8:", "range() step must not be zero"),
        ("pow_scalar_negative", 2, 1, -1, good_ev, "p.npy", "prog.tc:12:",
         "integers to negative integer powers are not allowed: found the exponent -1"),
        ("pow_tensor_negative", 3, 1, 1, bad_ev, "pv.npy", "prog.tc:14:",
         "integers to negative integer powers are not allowed: found the exponent -2"),
        ("arange_step_3", 0, 3, 1, good_ev, "a.npy", None, np.arange(0, 10, 3)),
        ("range_step_3", 1, 3, 1, good_ev, "r.npy", None, np.int64(sum(range(0, 10, 3)))),
        ("pow_scalar_2", 2, 1, 2, good_ev, "p.npy", None, x ** 2),
        ("pow_tensor_ok", 3, 1, 1, good_ev, "pv.npy", None, x ** good_ev),
    ]
    cmds = []
    for name, which, st, e, ev, out, where, what in cases:
        rd = os.path.join(d, name)
        os.makedirs(rd)
        np.save(os.path.join(rd, "x.npy"), x)
        np.save(os.path.join(rd, "ev.npy"), ev)
        argv = ["../prog", "x=x.npy", "st=%d" % st, "e=%d" % e, "ev=ev.npy", "which=%d" % which]
        cmds.append((name, argv))
        rc, stdout, errtext = s.exec(rd, argv)
        problems = []
        if where is None:
            if rc != 0:
                problems.append("exit %s: %s" % (rc, oracle.tail(errtext)))
            else:
                e2 = oracle.compare(np.load(os.path.join(rd, out)), what)
                if e2:
                    problems.append("%s: %s" % (out, e2))
        else:
            if rc != 1:
                problems.append("exit %s, expected 1 (a run-time error)" % rc)
            for w in (where, what):
                if w not in errtext:
                    problems.append("stderr does not say %r" % w)
            if os.path.exists(os.path.join(rd, out)):
                problems.append("%s was written" % out)
        s.report("errors: %s" % name, not problems, "; ".join(problems),
                 ["$ cd %s && %s" % (name, " ".join(argv)), "stderr: %r" % errtext[:400]], rd)
    s.write_repro(d, cmds)


COMPILE_ERRORS = [
    ("int_div_by_constant_zero", "x: i64[N]", "save(\"o.npy\", x // 0)",
     "integer division (//) by zero: expected a nonzero divisor, found the constant 0"),
    ("int_mod_by_folded_zero", "x: i64[N]", "save(\"o.npy\", x % (3 - 3))",
     "integer modulo (%) by zero: expected a nonzero divisor, found the constant 0"),
    ("scalar_div_by_zero", "x: i64[N]", "print(7 // 0)", "integer division (//) by zero"),
    ("arange_step_0", "x: i64[N]", "save(\"o.npy\", arange(0, 5, 0))", "arange: the step must not be zero"),
    ("range_step_0", "x: i64[N]", "for i in range(0, 5, 0):\n        print(i)", "range() step must not be zero"),
    ("int_tensor_negative_power", "x: i64[N]", "save(\"o.npy\", arange(3) ** -1)",
     "integers to negative integer powers are not allowed: expected an exponent >= 0, found the constant -1"),
    ("zero_to_negative_power", "x: i64[N]", "print(0 ** -2)", "0 cannot be raised to a negative power"),
]


def compile_errors(s):
    """Constant operands: a compile error (exit 1) at the operator's line, no executable."""
    for name, sig, body, what in COMPILE_ERRORS:
        d = os.path.join(s.work, "compile_errors", name)
        text = "# arith: %s\ndef main(%s):\n    %s\n" % (name, sig, body)
        rc, err = s.compile(d, text)
        problems = []
        if rc != 1:
            problems.append("exit %s, expected 1" % rc)
        if "prog.tc:3:" not in err or what not in err:
            problems.append("expected 'prog.tc:3:... %s', got %r" % (what, err[:400]))
        if os.path.exists(os.path.join(d, "prog")):
            problems.append("an executable was written")
        s.report("compile_errors: %s" % name, not problems, "; ".join(problems), [body], d)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
