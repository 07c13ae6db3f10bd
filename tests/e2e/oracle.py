"""End-to-end harness: tensorc programs checked against NumPy.

A group file (tests/e2e/<group>.py) builds Programs out of cases; this module
compiles each program once with `tensorc prog.tc -o prog`, runs the
executable on the inputs it wrote as .npy files, loads every file the
program saved and compares it with the NumPy value the case expects.

    import oracle
    from oracle import F32, I64, np

    KNOWN_FAILURES = {"float: x // y": "codegen: floor division of floats truncates"}

    def build(s):
        p = s.program("float", "x: f32[N, M], y: f32[M]")
        p.run(x=s.normal((4, 5)), y=s.normal((5,)))
        p.check("x + y")                       # the same text in NumPy
        p.check("x / 2", "x / np.float32(2)")  # a NumPy expression...
        p.check("mean(x)", lambda ns: ...)     # ... or a function of the inputs

    if __name__ == "__main__":
        oracle.main(build, KNOWN_FAILURES)

Cases
  `p.check(expr, expected=None, tol=None, checker=None, pre=(), key=None)`
  saves `expr` (after the statements `pre`) to its own file and compares it
  with `expected`: a NumPy expression (a string evaluated with the run's
  inputs, `np` and the helpers below in scope; None = `expr` itself) or a
  function of that namespace.  `checker(got, ns)` replaces the comparison
  (returns an error text or None).  `p.block(key, lines, outputs, stdout=)`
  is a case written by hand: `lines` save the files named in `outputs`
  (name -> expected), and `stdout` (a function of the namespace or a string)
  is the text its `print`s must write.

Comparison: the dtype and shape must match exactly; floats to rtol 1e-5 /
atol 1e-6 (f32) or 1e-12 (f64), NaN where NaN is expected, infinities equal;
integers and bools exactly.

Isolation: cases listed in KNOWN_FAILURES are compiled in programs of their
own.  When a program fails to compile, the cases on the lines the errors
point at fail and the rest is compiled again; when the compiler or a run
fails otherwise, the program is split in halves until the culprits are
single cases.  So one broken built-in costs one case, not the group.

Output: one line per case (`PASS`, `FAIL`, `XFAIL`, `XPASS`), then every
failure with its program lines, the error (max abs/rel error, the first
mismatching element), the files and the program's `repro.sh`, then
`N passed, N failed` (and xfailed); exit status 1 when anything failed.
Everything stays in the work directory (lit's %t).

Two phases, for a machine that has a GPU but cannot build tensorc
(scripts/gpu-check.sh): `--prepare-only` compiles every program (`--gpu
--gpu-arch sm_90`: for a real GPU) and writes its inputs and the NumPy
reference of every output (expected_*.npy) into --work, and runs nothing;
`--prebuilt DIR` (on the GPU machine) compiles nothing: each compile is
replayed from DIR (the executable, or the recorded compile error), the
expectations are the recorded references (checkers and stdout are computed
from the recorded inputs), and a program that fails is reported whole,
since splitting it would need the compiler.
"""
import argparse
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import warnings
import zlib

import numpy as np

F32, F64, I32, I64, BOOL = np.float32, np.float64, np.int32, np.int64, np.bool_

COMPILE_TIMEOUT = 120
RUN_TIMEOUT = 60


# ---------------------------------------------------------------- helpers
# In scope of every expected-value string.

def f32(x):
    return np.asarray(x, dtype=np.float32)


def f64(x):
    return np.asarray(x, dtype=np.float64)


def i32(x):
    return np.asarray(x, dtype=np.int32)


def i64(x):
    return np.asarray(x, dtype=np.int64)


def b(x):
    return np.asarray(x, dtype=np.bool_)


def _erf(v):
    return math.erf(v)


_verf = np.vectorize(_erf, otypes=[np.float64])


def erf(x):
    """erf in f64 (math.erf elementwise)."""
    return _verf(np.asarray(x, dtype=np.float64))


def gelu(x):
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.float32
    x64 = x.astype(np.float64)
    return (0.5 * x64 * (1.0 + erf(x64 / math.sqrt(2.0)))).astype(dt)


def fdt(x):
    """The dtype a float-valued unary op gives: same if float, else f32."""
    x = np.asarray(x)
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)


def ffun(fn):
    """A float unary function computed in f64 and rounded to tensorc's dtype."""
    def g(x):
        x = np.asarray(x)
        with np.errstate(all="ignore"):
            return np.asarray(fn(x.astype(np.float64))).astype(fdt(x))
    return g


sigmoid = ffun(lambda x: 1.0 / (1.0 + np.exp(-x)))
softplus = ffun(lambda x: np.logaddexp(0.0, x))
rsqrt = ffun(lambda x: 1.0 / np.sqrt(x))


def relu(x):
    x = np.asarray(x)
    return np.maximum(x, np.zeros((), x.dtype))


def logsumexp(x, axis=None, keepdims=False):
    """The stable formula, in f64, rounded to the float dtype of x."""
    x = np.asarray(x)
    dt = fdt(x)
    x64 = x.astype(np.float64)
    m = np.max(x64, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(all="ignore"):
        r = np.log(np.sum(np.exp(x64 - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        r = np.squeeze(r, axis=axis) if axis is not None else r.reshape(())
    return np.asarray(r).astype(dt)


def fmean(x, axis=None, keepdims=False):
    """mean: float dtype kept, else f32 (computed in f64)."""
    x = np.asarray(x)
    return np.asarray(np.mean(x.astype(np.float64), axis=axis, keepdims=keepdims)).astype(fdt(x))


def fvar(x, axis=None, keepdims=False, ddof=0):
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        return np.asarray(np.var(x.astype(np.float64), axis=axis, keepdims=keepdims, ddof=ddof)).astype(fdt(x))


def fstd(x, axis=None, keepdims=False, ddof=0):
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        return np.asarray(np.std(x.astype(np.float64), axis=axis, keepdims=keepdims, ddof=ddof)).astype(fdt(x))


def isum(x, axis=None, keepdims=False):
    """sum/prod dtype: float kept, integers and bool give i64."""
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.int64
    return np.asarray(np.sum(x, axis=axis, keepdims=keepdims, dtype=dt))


def iprod(x, axis=None, keepdims=False):
    x = np.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else np.int64
    return np.asarray(np.prod(x, axis=axis, keepdims=keepdims, dtype=dt))


def pyprint(*args):
    """What Python's print(*args) writes (NumPy values print as str())."""
    import io
    buf = io.StringIO()
    print(*args, file=buf)
    return buf.getvalue()


def setitem(a, idx, v):
    """A copy of `a` with a[idx] = v (NumPy's assignment, as a value)."""
    a = np.array(a, copy=True)
    a[idx] = v
    return a


HELPERS = dict(setitem=setitem, pyprint=pyprint, np=np, math=math, F32=F32, F64=F64, I32=I32, I64=I64, BOOL=BOOL,
               f32=f32, f64=f64, i32=i32, i64=i64, b=b, erf=erf, gelu=gelu, sigmoid=sigmoid,
               softplus=softplus, rsqrt=rsqrt, relu=relu, logsumexp=logsumexp, fmean=fmean,
               fvar=fvar, fstd=fstd, isum=isum, iprod=iprod, ffun=ffun, fdt=fdt,
               maximum=np.maximum, minimum=np.minimum, where=np.where, matmul=np.matmul, inf=np.inf, nan=np.nan)


# ---------------------------------------------------------------- inputs

class Raw:
    """An input file written as given (bytes or text): `x=Raw("x.csv", "1,2\\n")`."""

    def __init__(self, filename, content, value=None):
        self.filename = filename
        self.content = content
        self.value = value  # what the namespace sees (e.g. the parsed CSV)


def cli_scalar(v):
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


# ---------------------------------------------------------------- comparison

def default_tol(dtype):
    return (1e-5, 1e-6) if np.dtype(dtype) == np.float32 else (1e-12, 1e-12)


def compare(got, exp, tol=None):
    """None when `got` matches `exp`, else a text saying how it does not."""
    exp = np.asarray(exp)
    if got.dtype != exp.dtype:
        return "dtype %s, expected %s (shape %s, expected %s)" % (got.dtype, exp.dtype, got.shape, exp.shape)
    if got.shape != exp.shape:
        return "shape %s, expected %s" % (got.shape, exp.shape)
    if got.size == 0:
        return None
    if exp.dtype.kind != "f":
        bad = got != exp
        if not bad.any():
            return None
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        msg = "%d of %d elements differ; first at %s: got %r, expected %r" % (
            int(bad.sum()), exp.size, idx, got[idx].item(), exp[idx].item())
        if exp.dtype.kind in "iu":
            msg += "; max abs err %d" % int(np.max(np.abs(got.astype(np.float64) - exp.astype(np.float64))))
        return msg
    rtol, atol = tol if tol else default_tol(exp.dtype)
    g = got.astype(np.float64)
    e = exp.astype(np.float64)
    gn, en = np.isnan(g), np.isnan(e)
    bad = gn != en
    both = ~(gn | en)
    ginf, einf = np.isinf(g), np.isinf(e)
    bad |= both & (ginf | einf) & (g != e)
    fin = both & ~ginf & ~einf
    with np.errstate(all="ignore"):
        abserr = np.where(fin, np.abs(g - e), 0.0)
        relerr = np.where(fin & (e != 0), abserr / np.abs(e), 0.0)
    bad |= fin & (abserr > atol + rtol * np.abs(e))
    if not bad.any():
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return "%d of %d elements differ (rtol %g, atol %g); max abs err %.3g, max rel err %.3g; first at %s: got %r, expected %r" % (
        int(bad.sum()), exp.size, rtol, atol, float(abserr.max()), float(relerr.max()), idx, got[idx].item(), exp[idx].item())


def show(a, limit=40):
    a = np.asarray(a)
    if a.size > limit:
        return "%s%s (%d elements)" % (a.dtype, list(a.shape), a.size)
    with np.printoptions(precision=9, linewidth=120):
        return "%s%s %s" % (a.dtype, list(a.shape), np.array2string(a, separator=", ").replace("\n", " "))


# ---------------------------------------------------------------- programs

class Case:
    def __init__(self, key, lines, outputs, stdout=None, tol=None, checkers=None):
        self.key = key
        self.lines = list(lines)
        self.outputs = outputs  # file name -> expected (string, callable or value)
        self.stdout = stdout  # None, string or callable(ns)
        self.tol = tol
        self.checkers = checkers or {}
        self.first_line = 0  # in the program that holds it


class Run:
    def __init__(self, args, flags, ns_extra, label, files=None):
        self.files = files or {}
        self.args = args
        self.flags = list(flags)
        self.ns_extra = ns_extra or {}
        self.label = label


class Program:
    def __init__(self, suite, name, sig, header=(), setup=()):
        self.suite = suite
        self.name = name
        self.sig = sig
        self.header = list(header)
        self.setup = list(setup)
        self.cases = []
        self.runs = []

    # -- building
    def run(self, flags=(), ns=None, label=None, files=None, **args):
        """One execution with these inputs (arrays become NAME=NAME.npy, scalars NAME=VALUE).
        `flags` are more command-line words, `ns` more names for the expectations,
        `files` more files to write first (relative path -> array or text)."""
        self.runs.append(Run(args, flags, ns, label or "run%d" % len(self.runs), files))
        return self

    def _fname(self):
        return "c%03d" % (len(self.cases) + 1)

    def check(self, expr, expected=None, tol=None, checker=None, pre=(), key=None):
        name = self._fname()
        lines = list(pre) + ['save("%s.npy", %s)' % (name, expr)]
        case = Case(key or expr if not pre else (key or "; ".join(list(pre) + [expr])), lines,
                    {name: expr if expected is None else expected}, tol=tol,
                    checkers={name: checker} if checker else None)
        self._add(case)
        return case

    def block(self, key, lines, outputs=None, stdout=None, tol=None, checkers=None):
        case = Case(key, lines, outputs or {}, stdout=stdout, tol=tol, checkers=checkers)
        self._add(case)
        return case

    def _add(self, case):
        full = "%s: %s" % (self.name, case.key)
        if any(full == "%s: %s" % (self.name, c.key) for c in self.cases):
            raise SystemExit("duplicate case key %r" % full)
        self.cases.append(case)

    # -- rendering
    def render(self, cases):
        out = ["# %s: generated by tests/e2e (%s)" % (self.name, self.suite.group)]
        out += self.header
        out.append("def main(%s):" % self.sig)
        for line in self.setup:
            out.append("    " + line)
        for c in cases:
            if c.stdout is not None:
                out.append('    print("@@%s")' % c_marker(c))
            c.first_line = len(out) + 1
            for line in c.lines:
                out.append("    " + line)
        if not cases and not self.setup:
            out.append("    pass")
        return "\n".join(out) + "\n"


def c_marker(case):
    return "%08x" % (zlib.crc32(case.key.encode()) & 0xffffffff)


class Result:
    def __init__(self, prog, case, ok, msg="", where="", detail=""):
        self.prog = prog
        self.case = case
        self.ok = ok
        self.msg = msg
        self.where = where  # the program directory
        self.detail = detail


class Suite:
    def __init__(self, group, tensorc, work, known, filt=None, verbose=False):
        self.group = group
        self.tensorc = tensorc
        self.work = work
        self.known = dict(known)
        self.filt = filt
        self.verbose = verbose
        self.programs = []
        self.rng = np.random.default_rng(zlib.crc32(group.encode()))
        self.npass = self.nfail = self.nxfail = 0
        self.failures = []
        self.seen_keys = set()
        self.compiles = 0
        self.ir_only = False
        self.compile_flags = []  # --gpu-emulate: every program for the GPU emulator
        self.run_flags = []
        self.ptxas_archs = None  # --ptxas-archs: ptxas assembles every program's PTX for these
        self.ptxas_every = 1  # --ptxas-every N: only every Nth compiled program's (CI's time budget)
        self.ptxas = "ptxas"
        self.prepare_only = False  # --prepare-only: compile and write inputs and references; run nothing
        self.prebuilt = None  # --prebuilt DIR: replay the compiles of a --prepare-only work directory
        self.quiet = False  # no reports (the custom checks' during --prepare-only)

    # -- inputs
    def normal(self, shape, dtype=F32, scale=1.0):
        return (self.rng.standard_normal(shape) * scale).astype(dtype)

    def uniform(self, lo, hi, shape, dtype=F32):
        return self.rng.uniform(lo, hi, shape).astype(dtype)

    def ints(self, lo, hi, shape, dtype=I64):
        """Integers in [lo, hi)."""
        return self.rng.integers(lo, hi, shape).astype(dtype)

    def nonzero_ints(self, lo, hi, shape, dtype=I64):
        v = self.rng.integers(lo, hi, shape)
        v[v == 0] = 1
        return v.astype(dtype)

    def bools(self, shape, p=0.5):
        return self.rng.random(shape) < p

    def smallf(self, shape, dtype=F32, lo=-4, hi=5):
        """Small integers as floats: sums and products of them are exact."""
        return self.rng.integers(lo, hi, shape).astype(dtype)

    # -- programs
    def program(self, name, sig, header=(), setup=()):
        p = Program(self, name, sig, header, setup)
        self.programs.append(p)
        return p

    # -- reporting
    def report(self, key, ok, msg="", lines=(), where="", detail=""):
        """One result. `key` is 'program: case'; KNOWN_FAILURES turn a failure into XFAIL."""
        if self.quiet:
            return
        self.seen_keys.add(key)
        reason = self.known.get(key)
        if ok and reason is None:
            self.npass += 1
            print("PASS  %s" % key)
        elif ok:
            self.nfail += 1
            print("XPASS %s  (listed in KNOWN_FAILURES: %s; remove it from the list)" % (key, reason))
            self.failures.append((key, "passed but is listed in KNOWN_FAILURES: %s" % reason, lines, where, detail))
        elif reason is not None:
            self.nxfail += 1
            print("XFAIL %s  (xfail: %s) -- %s" % (key, reason, first_line(msg)))
        else:
            self.nfail += 1
            print("FAIL  %s  -- %s" % (key, first_line(msg)))
            self.failures.append((key, msg, lines, where, detail))
        sys.stdout.flush()

    # -- running tools
    def compile(self, d, text, extra=()):
        if self.prebuilt:
            return self.replay_compile(d, text)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "prog.tc"), "w") as f:
            f.write(text)
        exe = os.path.join(d, "prog")
        if os.path.exists(exe):
            os.remove(exe)
        self.compiles += 1
        cmd = [self.tensorc, "prog.tc", "-o", "prog"] + list(extra) + self.compile_flags
        try:
            r = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=COMPILE_TIMEOUT, errors="replace")
            rc, err = r.returncode, r.stdout + r.stderr
        except subprocess.TimeoutExpired:
            rc, err = "timeout", "tensorc timed out after %ds" % COMPILE_TIMEOUT
        except OSError as e:
            rc, err = "not-run", "cannot run %s: %s" % (self.tensorc, e)
        with open(os.path.join(d, "compile.log"), "w") as f:
            f.write("$ %s\n%s(exit %s)\n" % (" ".join(cmd), err, rc))
        if rc == 0 and not os.path.exists(exe):
            rc, err = "no-exe", "tensorc exited 0 but wrote no executable\n" + err
        sampled = (self.compiles - 1) % self.ptxas_every == 0
        if rc == 0 and self.ptxas_archs and sampled and "--emit=ir" not in extra:
            rc, err = self.check_ptx(d)
        if self.prepare_only:  # for --prebuilt to replay
            with open(os.path.join(d, "compile.json"), "w") as f:
                json.dump({"rc": rc, "err": err}, f)
        return rc, err

    def replay_compile(self, d, text):
        """--prebuilt: the compile that --prepare-only did for directory d
        (the same path below the work directory), copied here: its files (not
        its runs' directories: _prepare_runs copies those), with a link to
        its executable; or its error.  A program text other
        than the prepared one means the bundle is stale."""
        src = os.path.join(self.prebuilt, os.path.relpath(d, self.work))
        self.compiles += 1
        try:
            with open(os.path.join(src, "prog.tc")) as f:
                same = f.read() == text
            with open(os.path.join(src, "compile.json")) as f:
                rec = json.load(f)
        except OSError:
            return "not-prepared", "%s was not prepared (no prog.tc or compile.json there): prepare again" % src
        if not same:
            return "stale", "%s/prog.tc is not the program this test writes now: prepare again" % src
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        for name in os.listdir(src):
            if name != "prog" and os.path.isfile(os.path.join(src, name)):
                shutil.copy(os.path.join(src, name), d)
        if os.path.exists(os.path.join(src, "prog")):
            os.symlink(os.path.abspath(os.path.join(src, "prog")), os.path.join(d, "prog"))
        return rec["rc"], rec["err"]

    def check_ptx(self, d):
        """The program's PTX (for the oldest arch: newer ones JIT it) assembled
        by ptxas for every arch of --ptxas-archs, no kernel spilling; the
        register and spill table goes to ptxas.log.  A failure counts as a
        failed compile."""
        archs = self.ptxas_archs.split(",")
        cmd = [self.tensorc, "prog.tc", "--emit=ptx", "--gpu-arch=" + archs[0], "-o", "prog.ptx"]
        r = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=COMPILE_TIMEOUT, errors="replace")
        if r.returncode != 0:
            return "ptx", "--emit=ptx failed (exit %d): %s" % (r.returncode, r.stdout + r.stderr)
        report = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "ptxas-report.py")
        # no kernel may spill registers to local memory
        cmd = [sys.executable, report, "--ptxas", self.ptxas, "--arch", self.ptxas_archs, "--no-spills", ".", "prog.ptx"]
        r = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=COMPILE_TIMEOUT, errors="replace")
        with open(os.path.join(d, "ptxas.log"), "w") as f:
            f.write(r.stdout + r.stderr)
        if r.returncode != 0:
            return "ptxas", "ptxas rejected the PTX: %s" % (r.stdout + r.stderr)
        return 0, ""

    def exec(self, d, argv, timeout=RUN_TIMEOUT):
        """Runs argv in directory d; (rc, stdout, stderr); rc is 'timeout' on a timeout."""
        if self.prepare_only:
            return "not-run", "", "--prepare-only: nothing runs"
        if os.path.basename(argv[0]) == "prog":
            argv = list(argv) + self.run_flags
        try:
            r = subprocess.run(argv, cwd=d, capture_output=True, timeout=timeout)
            return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
        except OSError as e:
            return "not-run", "", "cannot run %s: %s" % (argv[0], e)
        except subprocess.TimeoutExpired as e:
            return "timeout", (e.stdout or b"").decode("utf-8", "replace"), (e.stderr or b"").decode("utf-8", "replace")

    def write_repro(self, d, runs_cmds):
        with open(os.path.join(d, "repro.sh"), "w") as f:
            f.write("#!/bin/sh\n# Reproduces what the e2e harness did here (TENSORC=path/to/tensorc to pick one).\n")
            f.write("set -x\ncd \"$(dirname \"$0\")\"\n")
            f.write("${TENSORC:-%s} prog.tc -o prog %s|| exit $?\n"
                    % (shlex.quote(self.tensorc), "".join(shlex.quote(a) + " " for a in self.compile_flags)))
            for sub, argv in runs_cmds:
                f.write("(cd %s && %s); echo \"exit $?\"\n"
                        % (sub, " ".join(shlex.quote(a) for a in list(argv) + self.run_flags)))
        os.chmod(os.path.join(d, "repro.sh"), 0o755)

    # -- executing programs
    def execute(self, prog):
        cases = [c for c in prog.cases if self._selected(prog, c)]
        main = [c for c in cases if self._key(prog, c) not in self.known]
        known = [c for c in cases if self._key(prog, c) in self.known]
        if main:
            self._run_set(prog, main, os.path.join(self.work, prog.name))
        for i, c in enumerate(known):
            self._run_set(prog, [c], os.path.join(self.work, "%s.xf%d" % (prog.name, i + 1)))

    def _selected(self, prog, c):
        return self.filt is None or self.filt in self._key(prog, c)

    def _key(self, prog, c):
        return "%s: %s" % (prog.name, c.key)

    def _fail_all(self, prog, cases, msg, d):
        for c in cases:
            self.report(self._key(prog, c), False, msg, self._lines(c), d)

    def _lines(self, c):
        return ["%d: %s" % (c.first_line + i, l) for i, l in enumerate(c.lines)]

    def _run_set(self, prog, cases, d, depth=0):
        if os.path.exists(d):
            shutil.rmtree(d)
        text = prog.render(cases)
        rc, err = self.compile(d, text, ["--emit=ir"] if self.ir_only else [])
        runs = self._prepare_runs(prog, d)
        self.write_repro(d, [(sub, argv) for sub, argv, _ in runs])
        if rc != 0:
            msg = "compile failed (exit %s): %s" % (rc, tail(err))
            if len(cases) == 1:
                return self._fail_all(prog, cases, msg, d)
            if rc == 1:
                bad = self._cases_at_error_lines(cases, err)
                if bad and len(bad) < len(cases):
                    for c in bad:
                        lines = [l for l in err.splitlines() if l.startswith("prog.tc:%d:" % c.first_line) or
                                 any(l.startswith("prog.tc:%d:" % (c.first_line + i)) for i in range(len(c.lines)))]
                        self.report(self._key(prog, c), False, "compile error: " + " | ".join(lines[:3]),
                                    self._lines(c), d, err)
                    return self._run_set(prog, [c for c in cases if c not in bad], d + ".r", depth + 1)
                if not bad:
                    return self._fail_all(prog, cases, "the program's setup does not compile: " + tail(err), d)
            return self._bisect(prog, cases, d, depth, msg)
        if self.ir_only:
            return self._check_ir(prog, cases, d)
        if self.prepare_only:
            return self._save_references(prog, cases, d, runs)
        outcomes = []
        for sub, argv, run in runs:
            rc, out, errtext = self.exec(os.path.join(d, sub), argv)
            with open(os.path.join(d, sub, "run.log"), "w") as f:
                f.write("$ %s\n--- stdout\n%s--- stderr\n%s(exit %s)\n" % (" ".join(argv), out, errtext, rc))
            outcomes.append((sub, run, rc, out, errtext))
        failed = [(sub, rc, errtext) for sub, run, rc, out, errtext in outcomes if rc != 0]
        if failed:
            sub, rc, errtext = failed[0]
            msg = "the program failed (%s, %s): %s" % (sub, describe_rc(rc), tail(errtext))
            if len(cases) == 1:
                return self._fail_all(prog, cases, msg, d)
            if depth == 0 and prog.setup and not self.prebuilt:
                # Does the setup alone fail? Then splitting cannot help.
                rc0, err0 = self._setup_only(prog, d + ".setup")
                if rc0:
                    return self._fail_all(prog, cases, "the program's setup alone fails: " + err0, d)
            return self._bisect(prog, cases, d, depth, msg)
        for c in cases:
            self._check_case(prog, c, d, outcomes)

    def _check_ir(self, prog, cases, d):
        """--ir-only: the dtype and rank of every saved value in the typed IR
        against the NumPy expectation for the first run."""
        with open(os.path.join(d, "prog")) as f:
            ir = f.read()
        types = dict(re.findall(r"^\s*(%[\w\"().,\- ]+?) = .* : (\w+(?:\[[^\]]*\])?)(?:@\w+)?(?: loc|$)", ir, re.M))
        for m in re.finditer(r"^\s*%(\w+) : (\w+(?:\[[^\]]*\])?)", ir, re.M):
            types["%" + m.group(1)] = m.group(2)
        for fl in re.findall(r"^(?:export )?func .*$", ir, re.M):
            for m in re.finditer(r"[(,] ?%(\w+) : (\w+(?:\[[^\]]*\])?)", fl):
                types["%" + m.group(1)] = m.group(2)
        saved = dict((name, val) for val, name in re.findall(r"save (%\S+) \"([^\"]+)\"", ir))
        ns = self.namespace(prog.runs[0]) if prog.runs else dict(HELPERS)
        for c in cases:
            problems = []
            for name, exp in c.outputs.items():
                fname = name if "." in name else name + ".npy"
                if c.checkers.get(name) is not None or fname.endswith(".csv"):
                    continue
                t = types.get(saved.get(fname, "?"))
                if t is None:
                    problems.append("%s: no type found in the IR for the saved value" % fname)
                    continue
                try:
                    e = np.asarray(evaluate(exp, ns))
                except Exception as ex:  # noqa: BLE001
                    problems.append("expectation raised %s: %s" % (type(ex).__name__, ex))
                    continue
                dt = t.split("[")[0]
                rank = 0 if "[" not in t else len(t.split("[")[1].rstrip("]").split(","))
                want = {"float32": "f32", "float64": "f64", "int32": "i32", "int64": "i64", "bool": "bool"}.get(str(e.dtype))
                if dt != want or rank != e.ndim:
                    problems.append("%s: IR type %s, NumPy expectation %s%s" % (fname, t, want, list(e.shape)))
            if problems:
                self.report(self._key(prog, c), False, "; ".join(problems), self._lines(c), d)
            else:
                self.report(self._key(prog, c), True)

    def _setup_only(self, prog, d):
        if os.path.exists(d):
            shutil.rmtree(d)
        rc, err = self.compile(d, prog.render([]))
        if rc != 0:
            return rc, "compile: " + tail(err)
        for sub, argv, run in self._prepare_runs(prog, d):
            rc, out, errtext = self.exec(os.path.join(d, sub), argv)
            if rc != 0:
                return rc, "%s: %s" % (describe_rc(rc), tail(errtext))
        return 0, ""

    def _bisect(self, prog, cases, d, depth, msg):
        if self.prebuilt:
            return self._fail_all(prog, cases, msg + " (with --prebuilt the program is not split: every case of "
                                  "it is reported; rerun the group with the compiler to find the culprit)", d)
        if self.verbose:
            print("  (splitting %s: %s)" % (os.path.basename(d), first_line(msg)))
        half = len(cases) // 2
        self._run_set(prog, cases[:half], d + ".a", depth + 1)
        self._run_set(prog, cases[half:], d + ".b", depth + 1)

    def _cases_at_error_lines(self, cases, err):
        lines = set(int(m.group(1)) for m in re.finditer(r"^prog\.tc:(\d+):\d+: error", err, re.M))
        bad = []
        for c in cases:
            span = range(c.first_line - (1 if c.stdout is not None else 0), c.first_line + len(c.lines))
            if any(l in span for l in lines):
                bad.append(c)
        return bad

    def _prepare_runs(self, prog, d):
        runs = []
        for run in prog.runs:
            sub = run.label
            rd = os.path.join(d, sub)
            os.makedirs(rd, exist_ok=True)
            argv = ["../prog"]
            if self.prebuilt:  # the inputs (and references) were prepared with the program
                shutil.copytree(os.path.join(self.prebuilt, os.path.relpath(rd, self.work)), rd, dirs_exist_ok=True)
                argv += ["%s=%s" % (name, v.filename if isinstance(v, Raw) else name + ".npy")
                         if isinstance(v, (Raw, np.ndarray)) else "%s=%s" % (name, cli_scalar(v))
                         for name, v in run.args.items()]
                runs.append((sub, argv + list(run.flags), run))
                continue
            for rel, v in run.files.items():
                path = os.path.join(rd, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if isinstance(v, np.ndarray):
                    np.save(path, v)
                else:
                    with open(path, "wb" if isinstance(v, bytes) else "w") as f:
                        f.write(v)
            for name, v in run.args.items():
                if isinstance(v, Raw):
                    mode = "wb" if isinstance(v.content, bytes) else "w"
                    with open(os.path.join(rd, v.filename), mode) as f:
                        f.write(v.content)
                    argv.append("%s=%s" % (name, v.filename))
                elif isinstance(v, np.ndarray):
                    np.save(os.path.join(rd, name + ".npy"), v)
                    argv.append("%s=%s.npy" % (name, name))
                else:
                    argv.append("%s=%s" % (name, cli_scalar(v)))
            argv += run.flags
            runs.append((sub, argv, run))
        return runs

    def namespace(self, run, rd=None):
        """The names an expectation sees.  With --prebuilt and the run's
        directory, arrays are the recorded inputs (what the program read),
        whatever this NumPy's random streams give."""
        ns = dict(HELPERS)
        for name, v in run.args.items():
            if isinstance(v, Raw):
                ns[name] = v.value
            elif self.prebuilt and rd and isinstance(v, np.ndarray) and os.path.exists(os.path.join(rd, name + ".npy")):
                ns[name] = np.load(os.path.join(rd, name + ".npy"))
            else:
                ns[name] = v
        ns.update(run.ns_extra)
        return ns

    def _save_references(self, prog, cases, d, runs):
        """--prepare-only: each output's NumPy reference next to the inputs
        (expected_NAME.npy in the run's directory, read back by --prebuilt)."""
        n = 0
        for sub, argv, run in runs:
            ns = self.namespace(run)
            for c in cases:
                for name, exp in c.outputs.items():
                    if c.checkers.get(name) is not None:
                        continue
                    try:
                        expv = np.asarray(evaluate(exp, ns))
                    except Exception:  # noqa: BLE001 - reported when the check runs
                        continue
                    np.save(os.path.join(d, sub, "expected_" + name.replace("/", "_") + ".npy"), expv)
                    n += 1
        print("PREPARED %s (%s): %d cases, %d runs, %d references" % (prog.name, os.path.basename(d), len(cases),
                                                                      len(runs), n))

    def _check_case(self, prog, c, d, outcomes):
        key = self._key(prog, c)
        problems = []
        for sub, run, rc, out, errtext in outcomes:
            rd = os.path.join(d, sub)
            ns = self.namespace(run, rd)
            for name, exp in c.outputs.items():
                fname = name if "." in name else name + ".npy"
                path = os.path.join(rd, fname)
                if not os.path.exists(path):
                    problems.append("%s: %s was not written" % (sub, fname))
                    continue
                try:
                    got = np.loadtxt(path, delimiter=",", ndmin=1) if fname.endswith(".csv") else np.load(path)
                except Exception as e:  # noqa: BLE001 - any unreadable file is a failure
                    problems.append("%s: %s cannot be read by NumPy: %s" % (sub, fname, e))
                    continue
                checker = c.checkers.get(name)
                if checker is not None:
                    err = checker(got, ns)
                    if err:
                        problems.append("%s: %s: %s" % (sub, fname, err))
                    continue
                recorded = os.path.join(rd, "expected_" + name.replace("/", "_") + ".npy")
                if self.prebuilt and os.path.exists(recorded):
                    expv = np.load(recorded)
                else:
                    try:
                        expv = evaluate(exp, ns)
                    except Exception as e:  # noqa: BLE001
                        problems.append("%s: the NumPy expectation raised %s: %s (a bug in the test)" %
                                        (sub, type(e).__name__, e))
                        continue
                    expv = np.asarray(expv)
                    np.save(recorded, expv)
                err = compare(got, expv, c.tol)
                if err:
                    problems.append("%s: %s: %s\n      got      %s\n      expected %s" %
                                    (sub, fname, err, show(got), show(expv)))
            if c.stdout is not None:
                want = c.stdout(ns) if callable(c.stdout) else c.stdout
                have = stdout_segment(out, c)
                if have != want:
                    problems.append("%s: stdout differs:\n      got      %r\n      expected %r" % (sub, have, want))
        if problems:
            self.report(key, False, "\n    ".join(problems), self._lines(c), d)
        else:
            self.report(key, True)

    # -- the end
    def finish(self, t0):
        if self.prepare_only:  # only compile failures were reported
            print("\n%s: prepared in %s: %d compiles, %d failed to compile (%.1fs)" % (
                self.group, self.work, self.compiles, self.nfail, time.time() - t0))
            for key, msg, lines, where, detail in self.failures:
                print("FAIL %s\n    %s" % (key, first_line(msg)))
            return 1 if self.nfail else 0
        stale = [k for k in self.known if k not in self.seen_keys and (self.filt is None or self.filt in k)]
        for k in stale:
            self.nfail += 1
            print("FAIL  %s  -- listed in KNOWN_FAILURES but no such case" % k)
            self.failures.append((k, "KNOWN_FAILURES names a case that does not exist", [], "", ""))
        if self.failures:
            print("\n======== %d failure(s) in %s ========" % (len(self.failures), self.group))
            for key, msg, lines, where, detail in self.failures:
                print("\nFAIL %s" % key)
                for l in lines:
                    print("    prog.tc:%s" % l)
                print("    " + msg)
                if where:
                    print("    dir: %s   (repro: %s)" % (where, os.path.join(where, "repro.sh")))
        print("\n%s: %d passed, %d failed, %d xfailed (%d compiles, %.1fs)" % (
            self.group, self.npass, self.nfail, self.nxfail, self.compiles, time.time() - t0))
        print("%d passed, %d failed" % (self.npass, self.nfail))
        return 1 if self.nfail else 0


def evaluate(exp, ns):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(exp, str):
            return eval(exp, ns)  # noqa: S307 - test expectations written in this directory
        if callable(exp):
            return exp(ns)
        return exp


def stdout_segment(out, case):
    """The text printed between the case's marker line and the next marker."""
    lines = out.splitlines(keepends=True)
    marker = "@@%s\n" % c_marker(case)
    if marker not in lines:
        return None
    seg = []
    for line in lines[lines.index(marker) + 1:]:
        if re.fullmatch(r"@@[0-9a-f]{8}\n", line):
            break
        seg.append(line)
    return "".join(seg)


def describe_rc(rc):
    if rc == "timeout":
        return "timed out after %ds" % RUN_TIMEOUT
    if isinstance(rc, int) and rc < 0:
        return "killed by signal %d" % -rc
    return "exit %s" % rc


def first_line(msg):
    return msg.strip().splitlines()[0] if msg.strip() else ""


def tail(text, n=6):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[:n]) + (" | ..." if len(lines) > n else "")


def main(build, known, group=None, known_gpu=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tensorc", default="tensorc", help="the compiler (a path or a name on PATH)")
    ap.add_argument("--work", required=True, help="work directory (emptied first, kept afterwards)")
    ap.add_argument("-k", dest="filt", default=None, help="only the cases whose 'program: key' contains this")
    ap.add_argument("-v", dest="verbose", action="store_true")
    ap.add_argument("--gpu-emulate", action="store_true",
                    help="compile every program with --device=cuda --gpu-emulate and run it with --device cuda: "
                         "its kernels run in the GPU emulator (docs/gpu.md)")
    ap.add_argument("--device-auto", action="store_true",
                    help="compile every program with --device=auto (no --gpu-emulate) and run it as it is: "
                         "without a GPU it runs its CPU build after one note on stderr")
    ap.add_argument("--ptxas-archs", default=None,
                    help="with --gpu-emulate: also compile every program to PTX and have ptxas assemble it for "
                         "these archs (e.g. sm_75,sm_80,sm_90)")
    ap.add_argument("--ptxas", default="ptxas", help="the ptxas for --ptxas-archs")
    ap.add_argument("--ptxas-every", type=int, default=1, metavar="N",
                    help="with --ptxas-archs, check only the 1st, N+1st, 2N+1st... compiled program (default 1: all)")
    ap.add_argument("--ir-only", action="store_true",
                    help="only check that the programs compile to IR (--emit=ir); runs nothing")
    ap.add_argument("--gpu", action="store_true",
                    help="compile every program with --device=cuda (no emulator) and run it with --device cuda: "
                         "for a machine with a GPU")
    ap.add_argument("--gpu-arch", default=None, help="with --gpu or --gpu-emulate: tensorc's --gpu-arch (sm_90)")
    ap.add_argument("--prepare-only", action="store_true",
                    help="compile every program and write its inputs and NumPy references into --work; run "
                         "nothing (the first half of scripts/gpu-check.sh)")
    ap.add_argument("--prebuilt", default=None, metavar="DIR",
                    help="compile nothing: replay the compiles of a --prepare-only work directory DIR (with the "
                         "same --gpu/--gpu-emulate), run the programs there and compare with its references")
    a = ap.parse_args()
    if a.prebuilt and a.prepare_only:
        ap.error("--prebuilt and --prepare-only exclude each other")
    if a.prebuilt and os.path.abspath(a.prebuilt) == os.path.abspath(a.work):
        ap.error("--prebuilt must name another directory than --work (--work is emptied first)")
    if a.gpu and a.gpu_emulate:
        ap.error("--gpu (a real GPU) and --gpu-emulate exclude each other")
    group = group or os.path.splitext(os.path.basename(sys.argv[0]))[0]
    tc = shutil.which(a.tensorc) or a.tensorc
    tc = os.path.abspath(tc) if os.path.exists(tc) else tc
    work = os.path.abspath(a.work)
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    t0 = time.time()
    if a.gpu_emulate or a.gpu:  # the GPU's own known failures join the group's
        known = dict(known, **(known_gpu or {}))
    s = Suite(group, tc, work, known, a.filt, a.verbose)
    s.ir_only = a.ir_only
    s.prepare_only = a.prepare_only
    s.prebuilt = os.path.abspath(a.prebuilt) if a.prebuilt else None
    if a.gpu_emulate or a.gpu:
        s.compile_flags = ["--device=cuda"] + (["--gpu-emulate"] if a.gpu_emulate else [])
        s.compile_flags += ["--gpu-arch=" + a.gpu_arch] if a.gpu_arch else []
        s.run_flags = ["--device", "cuda"]
        s.ptxas_archs, s.ptxas, s.ptxas_every = a.ptxas_archs, a.ptxas, a.ptxas_every
    if a.device_auto:
        s.compile_flags = ["--device=auto"]
        s.run_flags = []
    print("%s: tensorc = %s, work = %s" % (group, tc, work))
    custom = build(s)
    for p in s.programs:
        if any(s._selected(p, c) for c in p.cases):
            s.execute(p)
    if custom and not a.ir_only:
        # --prepare-only runs the custom checks for their compiles alone
        s.quiet = s.prepare_only
        for fn in custom:
            fn(s)
        s.quiet = False
    sys.exit(s.finish(t0))
