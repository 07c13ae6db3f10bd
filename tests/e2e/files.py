"""The executable's command line and input files (SPEC §3, §6): good .npy
and .csv inputs, converted dtypes, Fortran order; every kind of bad input
(missing file, wrong dtype, wrong rank, a constant or symbolic shape
mismatch, a corrupt or truncated .npy, a non-numeric or ragged CSV, an
unknown NAME=, a missing argument, a bad scalar) must exit 2 with one line
naming the argument and the file, and leave no output file and no params;
a run-time index error exits 1 without output; --help shows main's
signature."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

KNOWN_FAILURES = {
}

PROG = '''# files: the command line of a compiled program
param W = zeros(3)

def main(features: f32[N, 3], labels: i64[N], scale: f32 = 1.0):
    save("out.npy", features * scale)
    save("lab.npy", labels + 1)
    W = W + 1.0
'''

RUNTIME_PROG = '''# files: a run-time index error
def main(x: f32[N], k: i64):
    save("before.npy", x * 2.0)
    save("o.npy", x[k])
'''


def npy_bytes(a, fortran=False):
    import io
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(a) if fortran else a)
    return buf.getvalue()


def build(s):
    return [run_files]


def run_files(s):
    rng = s.rng
    d = os.path.join(s.work, "files")
    rc, err = s.compile(d, PROG)
    if rc != 0:
        s.report("files: compile", False, "compile failed (exit %s): %s" % (rc, oracle.tail(err)), [], d)
        return
    feats = rng.integers(-8, 9, (4, 3)).astype(F32) * F32(0.5)
    labels = rng.integers(0, 10, (4,)).astype(I64)
    good = {"f.npy": npy_bytes(feats), "l.npy": npy_bytes(labels)}
    truncated = npy_bytes(feats)[:-10]
    csv_text = "a,b,c\n# a comment\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in feats) + "\n"
    cmds = []

    def scenario(name, files, args, check):
        rd = os.path.join(d, name)
        os.makedirs(rd, exist_ok=True)
        for fn, content in files.items():
            with open(os.path.join(rd, fn), "wb" if isinstance(content, bytes) else "w") as f:
                f.write(content)
        before = set(os.listdir(rd))
        argv = ["../prog"] + args + ["--params-out", "pout"]
        cmds.append((name, argv))
        rc, out, errtext = s.exec(rd, argv)
        with open(os.path.join(rd, "run.log"), "w") as f:
            f.write("$ %s\n--- stdout\n%s--- stderr\n%s(exit %s)\n" % (" ".join(argv), out, errtext, rc))
        new = sorted(set(os.listdir(rd)) - before - {"run.log"})
        problems = check(rd, rc, out, errtext, new)
        lines = ["$ cd %s && %s" % (name, " ".join(argv)), "exit %s; stderr: %r" % (rc, errtext.strip()[:300])]
        s.report("files: %s" % name, not problems, "; ".join(problems), lines, rd)

    def ok(outputs):
        def check(rd, rc, out, errtext, new):
            if rc != 0:
                return ["exit %s, expected 0: %s" % (rc, oracle.tail(errtext))]
            problems = []
            for fn, want in outputs.items():
                p = os.path.join(rd, fn)
                if not os.path.exists(p):
                    problems.append("%s was not written" % fn)
                    continue
                e = oracle.compare(np.load(p), np.asarray(want))
                if e:
                    problems.append("%s: %s" % (fn, e))
            return problems
        return check

    def bad(arg, file=None, also=None, code=2):
        """Exit `code`, one line on stderr naming `arg` (and `file`, `also`), nothing written."""
        def check(rd, rc, out, errtext, new):
            problems = []
            if rc != code:
                problems.append("exit %s, expected %d" % (rc, code))
            msg = errtext.strip()
            if not msg:
                problems.append("no message on stderr")
            elif code == 2 and len(msg.splitlines()) != 1:
                problems.append("the message has %d lines, expected one" % len(msg.splitlines()))
            for word in (arg, file, also):
                if word and word not in msg:
                    problems.append("the message does not name %r" % word)
            leftovers = [n for n in new if not (n == "pout" and not os.listdir(os.path.join(rd, "pout")))]
            if leftovers:
                problems.append("files were left behind: %s" % ", ".join(leftovers))
            return problems
        return check

    scenario("good", good, ["features=f.npy", "labels=l.npy"],
             ok({"out.npy": feats, "lab.npy": labels + 1, "pout/W.npy": np.ones(3, F32)}))
    scenario("good_scale", good, ["features=f.npy", "labels=l.npy", "scale=2.5"], ok({"out.npy": feats * F32(2.5)}))
    scenario("good_scale_int_text", good, ["features=f.npy", "labels=l.npy", "scale=3"], ok({"out.npy": feats * F32(3)}))
    scenario("good_csv", {"f.csv": csv_text, "l.npy": good["l.npy"]}, ["features=f.csv", "labels=l.npy"],
             ok({"out.npy": feats}))
    scenario("converted_i2", {"f.npy": good["f.npy"], "l16.npy": npy_bytes(labels.astype(np.int16))},
             ["features=f.npy", "labels=l16.npy"], ok({"lab.npy": labels + 1}))

    def fortran_check(rd, rc, out, errtext, new):
        if rc == 0:
            return ok({"out.npy": feats})(rd, rc, out, errtext, new)
        problems = bad("features", "ff.npy")(rd, rc, out, errtext, new)
        if "ortran" not in errtext:
            problems.append("a rejected Fortran-order file must say so")
        return problems
    scenario("fortran_order", {"ff.npy": npy_bytes(feats, fortran=True), "l.npy": good["l.npy"]},
             ["features=ff.npy", "labels=l.npy"], fortran_check)

    scenario("bad_missing_file", {"l.npy": good["l.npy"]}, ["features=nope.npy", "labels=l.npy"], bad("features", "nope.npy"))
    scenario("bad_dtype_f64", {"f64.npy": npy_bytes(feats.astype(F64)), "l.npy": good["l.npy"]},
             ["features=f64.npy", "labels=l.npy"], bad("features", "f64.npy"))
    scenario("bad_dtype_float_labels", {"f.npy": good["f.npy"], "lf.npy": npy_bytes(labels.astype(F32))},
             ["features=f.npy", "labels=lf.npy"], bad("labels", "lf.npy"))
    scenario("bad_rank", {"f1.npy": npy_bytes(feats.reshape(-1)), "l.npy": good["l.npy"]},
             ["features=f1.npy", "labels=l.npy"], bad("features", "f1.npy"))
    scenario("bad_constant_dim", {"f45.npy": npy_bytes(np.zeros((4, 5), F32)), "l.npy": good["l.npy"]},
             ["features=f45.npy", "labels=l.npy"], bad("features", "f45.npy"))
    scenario("bad_symbolic_mismatch", {"f.npy": good["f.npy"], "l5.npy": npy_bytes(np.arange(5, dtype=I64))},
             ["features=f.npy", "labels=l5.npy"], bad("labels", also="features"))
    scenario("bad_corrupt_npy", {"g.npy": bytes(rng.integers(0, 256, 200, dtype=np.uint8)), "l.npy": good["l.npy"]},
             ["features=g.npy", "labels=l.npy"], bad("features", "g.npy"))
    scenario("bad_truncated_npy", {"t.npy": truncated, "l.npy": good["l.npy"]},
             ["features=t.npy", "labels=l.npy"], bad("features", "t.npy"))
    scenario("bad_empty_file", {"e.npy": b"", "l.npy": good["l.npy"]}, ["features=e.npy", "labels=l.npy"],
             bad("features", "e.npy"))
    scenario("bad_csv_cell", {"bad.csv": "1,2,3\n4,x,6\n", "l2.npy": npy_bytes(labels[:2])},
             ["features=bad.csv", "labels=l2.npy"], bad("features", "bad.csv"))
    scenario("bad_csv_ragged", {"rag.csv": "1,2,3\n4,5\n", "l2.npy": npy_bytes(labels[:2])},
             ["features=rag.csv", "labels=l2.npy"], bad("features", "rag.csv"))
    scenario("bad_unknown_name", good, ["features=f.npy", "labels=l.npy", "bogus=1"], bad("bogus"))
    scenario("bad_missing_argument", good, ["labels=l.npy"], bad("features"))
    scenario("bad_scalar_value", good, ["features=f.npy", "labels=l.npy", "scale=abc"], bad("scale", "abc"))
    scenario("bad_not_name_value", good, ["features=f.npy", "labels=l.npy", "stray"], bad("stray"))
    scenario("bad_tensor_as_scalar", good, ["features=3", "labels=l.npy"], bad("features"))

    # --help
    rc, out, errtext = s.exec(d, ["./prog", "--help"])
    text = out + errtext
    missing = [w for w in ("features", "f32[N, 3]", "labels", "i64[N]", "scale", "f32") if w not in text]
    s.report("files: --help shows main's signature", rc == 0 and not missing,
             "exit %s; missing %s in: %r" % (rc, missing, text[:400]), ["$ ./prog --help"], d)
    cmds.append((".", ["./prog", "--help"]))
    s.write_repro(d, cmds)

    # a run-time error: exit 1, a message, no output file of the failing run
    d2 = os.path.join(s.work, "runtime_error")
    rc, err = s.compile(d2, RUNTIME_PROG)
    if rc != 0:
        s.report("files: run-time index error", False, "compile failed (exit %s): %s" % (rc, oracle.tail(err)), [], d2)
        return
    cmds2 = []
    for name, k, good_run in (("in_range", 1, True), ("in_range_negative", -3, True), ("out_of_range", 10, False),
                              ("out_of_range_negative", -10, False)):
        rd = os.path.join(d2, name)
        os.makedirs(rd)
        x = np.arange(4, dtype=F32)
        np.save(os.path.join(rd, "x.npy"), x)
        argv = ["../prog", "x=x.npy", "k=%d" % k]
        cmds2.append((name, argv))
        rc, out, errtext = s.exec(rd, argv)
        problems = []
        if good_run:
            if rc != 0:
                problems.append("exit %s: %s" % (rc, oracle.tail(errtext)))
            elif not os.path.exists(os.path.join(rd, "o.npy")):
                problems.append("o.npy was not written")
            else:
                e = oracle.compare(np.load(os.path.join(rd, "o.npy")), x[k])
                if e:
                    problems.append("o.npy: " + e)
        else:
            if rc != 1:
                problems.append("exit %s, expected 1 (a run-time error)" % rc)
            if not errtext.strip():
                problems.append("no message on stderr")
            if os.path.exists(os.path.join(rd, "o.npy")):
                problems.append("o.npy was written")
            if any(n.startswith(("o.npy", ".o.npy")) and n != "o.npy" for n in os.listdir(rd)):
                problems.append("a temporary file was left behind: %s" % os.listdir(rd))
        s.report("files: run-time index k=%d" % k, not problems, "; ".join(problems),
                 ["$ cd %s && %s" % (name, " ".join(argv)), "exit %s; stderr: %r" % (rc, errtext.strip()[:300])], rd)
    s.write_repro(d2, cmds2)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
