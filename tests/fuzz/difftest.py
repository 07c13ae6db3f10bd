#!/usr/bin/env python3
"""Differential testing of tensorc against NumPy, with automatic reduction.

    difftest.py --tensorc T --work DIR [--seeds A:B] [--gpu-every K | --only-gpu]
                [--hours H] [--found DIR] [--no-reduce] [--known-bugs] [--quick]
                [--skip REGEX]...
    difftest.py --check FILE.tc --tensorc T --work DIR

For each seed, gen_program.py makes a program and its reference; the
program is compiled in several configurations (-O0 --no-fuse, -O2 fused,
and, rotating, -O2 --no-fuse and -O0 fused; with --gpu-every K every K-th
seed also --device=cuda --gpu-emulate, run with --device cuda), each
executable runs on every run's inputs, and every saved output is compared
with the reference: the dtype and shape exactly, integers and bools
exactly, floats within the dtype's tolerance (tests/e2e/oracle.py) plus what
the program's own rounding accounts for (fuzzlang.tolerance), gradients
within 1e-3 (f32) / 1e-5 (f64) relative of central differences.

A failure is one of: `crash` (the compiler died by a signal or exited with
neither 0 nor 1), `reject` (a valid program got a compile error), `run`
(the executable failed or did not save an output), `dtype`/`shape` (an
output of the wrong type) or `mismatch` (wrong numbers).  Unless
--no-reduce, the failing program is reduced (delta debugging: outputs,
then statements, loops and branches, then sub-expressions replaced by
their operands, until nothing more can go) keeping the same kind of
failure in the same configuration, and, with --found DIR, saved there as a
lit test that `--check` replays: the program, with its flags, inputs and
expected outputs in `# FUZZ-DATA:` comments (base64 of zlib of JSON), and
`XFAIL: *` until someone fixes the bug (tests/fuzz/found/ holds them).

Exit status: 0 when every seed passed, 1 otherwise.  One summary line:
`difftest: N programs (seeds A..B), C compiles, F failures`.
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzlang as L  # noqa: E402
import gen_program as G  # noqa: E402
from fuzzlang import Invalid, np  # noqa: E402

COMPILE_TIMEOUT = 120
RUN_TIMEOUT = 60
CPU_CONFIGS = [["-O0", "--no-fuse"], ["-O2"]]
ROTATING = [["-O2", "--no-fuse"], ["-O0"]]
GPU_CONFIG = ["--device=cuda", "--gpu-emulate"]


class Failure:
    def __init__(self, kind, flags, msg, sig=""):
        self.kind = kind
        self.flags = flags
        self.msg = msg
        self.sig = sig  # what must stay the same while reducing

    def same(self, other):
        return other is not None and other.kind == self.kind and other.sig == self.sig


def normalise(text):
    """An error message with names, numbers and locations masked."""
    text = re.sub(r"^.*?: error: ", "", text.strip())
    text = re.sub(r"'[^']*'", "'_'", text)
    text = re.sub(r"0x[0-9a-fA-F]+", "0x#", text)
    return re.sub(r"\d+", "#", text)[:200]


class Runner:
    def __init__(self, tensorc, work):
        self.tensorc = tensorc
        self.work = work
        self.compiles = 0

    def compile(self, d, flags):
        self.compiles += 1
        cmd = [self.tensorc, "prog.tc", "-o", "prog"] + flags
        try:
            r = subprocess.run(cmd, cwd=d, capture_output=True, text=True, errors="replace", timeout=COMPILE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return Failure("crash", flags, "compile timed out", "timeout")
        err = (r.stdout + r.stderr).strip()
        if r.returncode == 0:
            return None
        if r.returncode != 1 or "error:" not in err:
            last = err.splitlines()[-1] if err else ""
            return Failure("crash", flags, "tensorc exited %d: %s" % (r.returncode, err[-2000:]),
                           "rc%d %s" % (r.returncode, normalise(last)))
        first = next(l for l in err.splitlines() if "error:" in l)
        return Failure("reject", flags, "valid program rejected: %s" % err[:2000], normalise(first))

    def run(self, d, cwd, flags, args):
        argv = [os.path.join(d, "prog")] + args + (["--device", "cuda"] if "--device=cuda" in flags else [])
        try:
            r = subprocess.run(argv, cwd=cwd, capture_output=True,
                               text=True, errors="replace", timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return Failure("run", flags, "run timed out", "timeout")
        if r.returncode != 0:
            err = (r.stdout + r.stderr).strip()
            return Failure("run", flags, "the executable exited %d: %s" % (r.returncode, err[-2000:]),
                           "rc%d %s" % (r.returncode, normalise(err.splitlines()[-1] if err else "")))
        return None

    def test(self, prog, exp, d, flags):
        """Compiles prog in d with flags, runs it on every run, compares: a Failure or None."""
        f = self.compile(d, flags)
        if f:
            return f
        for r in range(len(prog.runs)):
            cwd = os.path.join(d, "run%d" % r)
            for name in os.listdir(cwd):
                if re.match(r"o\d+\.npy$", name):
                    os.remove(os.path.join(cwd, name))
            f = self.run(d, cwd, flags, G.run_args(prog, r))
            if f:
                return f
            for j, e in enumerate(exp):
                path = os.path.join(cwd, "o%d.npy" % j)
                if not os.path.exists(path):
                    return Failure("run", flags, "run%d did not save o%d.npy" % (r, j), "missing")
                msg = compare(np.load(path), e, r)
                if msg:
                    kind = msg.split(":")[0]
                    name = prog.outputs[j] if j < len(prog.outputs) else "o%d" % j  # --check has no names
                    return Failure(kind, flags, "run%d, o%d (%s): %s" % (r, j, name, msg), kind)
        return None


def compare(got, exp, r):
    """None if got (run r's output) matches exp (a gen_program.Expected), else what differs."""
    dt, normal, exact = exp.dt, exp.normal[r], exp.exact[r]
    want = np.dtype(L.NPDT[dt])
    if got.dtype != want:
        return "dtype: %s, expected %s" % (got.dtype, want)
    if got.shape != np.shape(normal):
        return "shape: %s, expected %s" % (got.shape, np.shape(normal))
    e = np.asarray(normal, np.float64)
    g = got.astype(np.float64)
    if not L.is_float(dt):
        bad = g != e
        tol = None
    else:
        if exp.is_grad:
            rtol = 1e-3 if dt == "f32" else 1e-5
            tol = rtol * (np.abs(e) + max(1.0, float(np.max(np.abs(e))) if e.size else 1.0))
        else:
            tol = L.tolerance(dt, normal, exact, exp.rounded)
        bad = ~(np.abs(g - e) <= tol)
    if not np.any(bad):
        return None
    i = tuple(int(x) for x in np.argwhere(bad)[0])
    return "mismatch: %d of %d elements differ; first at %s: got %r, expected %r%s" % (
        int(np.sum(bad)), e.size, i, g[i].item() if g.ndim else g.item(), e[i].item() if e.ndim else e.item(),
        "" if tol is None else " (tolerance %.3g)" % np.broadcast_to(tol, e.shape)[i])


def configs_for(seed, gpu_every, only_gpu=False, quick=False):
    if only_gpu:
        return [list(GPU_CONFIG)]
    cfgs = [list(c) for c in CPU_CONFIGS] + ([] if quick else [list(ROTATING[seed % len(ROTATING)])])
    if gpu_every and seed % gpu_every == 0:
        cfgs.append(list(GPU_CONFIG))
    return cfgs


# ---------------------------------------------------------------- reduction

def candidates(prog):
    """Smaller variants of prog, most promising first."""
    # one output
    if len(prog.outputs) > 1:
        for o in prog.outputs:
            p = prog.copy()
            p.outputs = [o]
            yield p
    # statements: delete, unroll, flatten branches
    for i in reversed(range(len(prog.stmts))):
        s = prog.stmts[i]
        p = prog.copy()
        del p.stmts[i]
        p.outputs = [o for o in p.outputs if o not in stmt_names(s)] or p.outputs
        yield p
        if s[0] == "if":
            for branch in (2, 3):
                p = prog.copy()
                p.stmts[i:i + 1] = [("assign", n, e.copy(), None) for n, e in s[branch]]
                yield p
        if s[0] == "for":
            for count in (1, 0):
                if s[2] != count:
                    p = prog.copy()
                    p.stmts[i] = ("for", s[1], count, s[3])
                    yield p
        if s[0] == "assign" and s[3]:
            p = prog.copy()
            p.stmts[i] = ("assign", s[1], s[2], None)
            yield p
    # sub-expressions: a node replaced by one of its operands
    for i in reversed(range(len(prog.stmts))):
        for path, node in expr_nodes(prog.stmts[i]):
            for k in range(len(node.kids)):
                p = prog.copy()
                replace(p, i, path, node.kids[k].copy())
                yield p
    # inputs nobody reads
    used = set()
    for s in prog.stmts:
        for _, e in stmt_exprs(s):
            used |= e.names()
        if s[0] == "grad":
            used.add(s[3])
    for j, inp in enumerate(prog.inputs):
        if inp[0] not in used:
            p = prog.copy()
            del p.inputs[j]
            yield p


def stmt_names(s):
    if s[0] in ("setitem", "aug"):
        return set()  # the name stays assigned without them
    if s[0] in ("assign", "grad"):
        return {s[1]}
    if s[0] == "for":
        return {b[0] for b in s[3]}
    return {n for n, _ in s[2]}


def stmt_exprs(s):
    """(slot, expr) of a statement; slot says where replace() puts a new one."""
    if s[0] in ("assign", "grad"):
        return [(("x", 2), s[2])]
    if s[0] == "aug":
        return [(("x", 3), s[3])]
    if s[0] == "setitem":
        return [(("x", 4), s[4])] + ([(("x", 3), s[3])] if s[3] is not None else [])
    if s[0] == "for":
        return [(("body", j), b[1]) for j, b in enumerate(s[3])]
    return [(("cond",), s[1])] + [(("then", j), e) for j, (_, e) in enumerate(s[2])] + \
        [(("else", j), e) for j, (_, e) in enumerate(s[3])]


def expr_nodes(s):
    for slot, e in stmt_exprs(s):
        stack = [((), e)]
        while stack:
            path, n = stack.pop()
            yield (slot, path), n
            for k, c in enumerate(n.kids):
                stack.append((path + (k,), c))


def replace(prog, i, where, new):
    slot, path = where
    s = prog.stmts[i]
    if not path:
        if slot[0] == "x":
            prog.stmts[i] = s[:slot[1]] + (new,) + s[slot[1] + 1:]
        elif slot[0] == "body":
            s[3][slot[1]] = (s[3][slot[1]][0], new) + tuple(s[3][slot[1]][2:])
        elif slot[0] == "cond":
            prog.stmts[i] = (s[0], new) + s[2:]
        else:
            lst = s[2] if slot[0] == "then" else s[3]
            lst[slot[1]] = (lst[slot[1]][0], new)
        return
    root = dict(stmt_exprs(s))[slot]
    for k in path[:-1]:
        root = root.kids[k]
    root.kids[path[-1]] = new


def size(prog):
    return len(G.render(prog))


def reduce(runner, prog, failure, d, log):
    """The smallest variant of prog that fails the same way (delta debugging)."""
    best = prog
    trials = 0
    changed = True
    while changed and trials < 400:
        changed = False
        for cand in candidates(best):
            if size(cand) >= size(best):
                continue
            try:
                exp = G.write(cand, d)
            except Invalid:
                continue
            trials += 1
            f = runner.test(cand, exp, d, failure.flags)
            if failure.same(f):
                best, failure = cand, f
                changed = True
                log("  reduced to %d characters" % size(best))
                break
    G.write(best, d)
    return best, failure


# ---------------------------------------------------------------- regression tests

def found_test(prog, failure, seed):
    """The text of a lit test replaying this failure (see --check)."""
    exp = G.expected(prog)
    data = {"flags": failure.flags, "seed": seed, "inputs": [],
            "outputs": []}
    for name, dt, shape in prog.inputs:
        data["inputs"].append([name, dt, [np.asarray(run[name]).tolist() for run in prog.runs]])
    for e in exp:
        data["outputs"].append([e.dt, e.is_grad, [np.asarray(x).tolist() for x in e.normal],
                                [np.asarray(x).tolist() for x in e.exact], e.rounded])
    blob = base64.b64encode(zlib.compress(json.dumps(data).encode())).decode()
    lines = ["# RUN: %python %S/../difftest.py --check %s --tensorc tensorc --work %t",
             "# XFAIL: *",
             "# %s with %s (seed %s, reduced): %s" % (failure.kind, " ".join(failure.flags), seed, failure.msg.splitlines()[0][:300]),
             "# TODO: say in one line what is wrong, then keep the XFAIL until it is fixed."]
    lines += ["# FUZZ-DATA: " + blob[i:i + 100] for i in range(0, len(blob), 100)]
    return "\n".join(lines) + "\n" + G.render(prog)


def check_file(a):
    """--check: replay a found/ test: compile it with its flags, run, compare."""
    with open(a.check) as f:
        text = f.read()
    blob = "".join(l[len("# FUZZ-DATA: "):] for l in text.splitlines() if l.startswith("# FUZZ-DATA: "))
    data = json.loads(zlib.decompress(base64.b64decode(blob)))
    prog = G.Program()
    prog.inputs = [(n, dt, list(np.shape(vals[0]))) for n, dt, vals in data["inputs"]]
    nruns = len(data["inputs"][0][2]) if data["inputs"] else 1
    prog.runs = [{n: np.asarray(vals[r], L.NPDT[dt]) for n, dt, vals in data["inputs"]} for r in range(nruns)]
    # tests found before the "rounded" flag have four fields: not rounded
    exp = [G.Expected(dt, [np.asarray(x, L.NPDT[dt]) for x in normal], [np.asarray(x, np.float64) for x in exact],
                      is_grad, bool(rounded and rounded[0]))
           for dt, is_grad, normal, exact, *rounded in data["outputs"]]
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    shutil.copy(a.check, os.path.join(a.work, "prog.tc"))
    for r in range(nruns):
        rd = os.path.join(a.work, "run%d" % r)
        os.makedirs(rd)
        for n, dt, vals in data["inputs"]:
            if np.ndim(vals[r]):
                np.save(os.path.join(rd, n + ".npy"), prog.runs[r][n])
    f = Runner(a.tensorc, a.work).test(prog, exp, a.work, data["flags"])
    if f:
        print("FAIL %s (%s): %s" % (a.check, " ".join(f.flags), f.msg))
        return 1
    print("PASS %s" % a.check)
    return 0


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tensorc", default="tensorc")
    ap.add_argument("--work", required=True, help="scratch directory (lit's %%t)")
    ap.add_argument("--seeds", default="1:101", help="A:B, the seeds A..B-1")
    ap.add_argument("--hours", type=float, default=0, help="keep going past B until this much time has passed")
    ap.add_argument("--gpu-every", type=int, default=0, help="every K-th seed also on the GPU emulator")
    ap.add_argument("--only-gpu", action="store_true", help="every seed on the GPU emulator only")
    ap.add_argument("--quick", action="store_true", help="only -O0 --no-fuse and -O2 (no rotating third configuration)")
    ap.add_argument("--found", help="save each reduced failure here as a lit test")
    ap.add_argument("--no-reduce", action="store_true")
    ap.add_argument("--known-bugs", action="store_true", help="gen_program.py --known-bugs")
    ap.add_argument("--check", help="replay one tests/fuzz/found test")
    ap.add_argument("--max-failures", type=int, default=20, help="stop after this many")
    ap.add_argument("--skip", action="append", default=[], metavar="REGEX",
                    help="a failure whose message matches is a known bug: counted, not reduced (repeatable)")
    a = ap.parse_args()
    a.tensorc = tensorc = os.path.abspath(shutil.which(a.tensorc) or a.tensorc)
    if a.check:
        return check_file(a)
    start, stop = (int(x) for x in a.seeds.split(":"))
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    runner = Runner(tensorc, a.work)
    deadline = time.time() + a.hours * 3600 if a.hours else None
    nprog = nfail = nknown = 0
    seed = start
    t0 = time.time()

    def log(msg):
        print(msg, flush=True)

    while (seed < stop or (deadline and time.time() < deadline)) and nfail < a.max_failures:
        prog = G.generate(seed, a.known_bugs)
        d = os.path.join(a.work, "s%d" % seed)
        exp = G.write(prog, d)
        nprog += 1
        for flags in configs_for(seed, a.gpu_every, a.only_gpu, a.quick):
            f = runner.test(prog, exp, d, flags)
            if not f:
                continue
            if any(re.search(rx, f.msg) for rx in a.skip):
                nknown += 1
                log("KNOWN seed %d, %s: %s" % (seed, " ".join(flags), f.msg.splitlines()[0][:200]))
                break
            nfail += 1
            log("FAIL seed %d, %s: %s\n  %s" % (seed, " ".join(flags), f.kind, f.msg.replace("\n", "\n  ")))
            if not a.no_reduce:
                rd = d + "-reduced"
                shutil.rmtree(rd, ignore_errors=True)
                small, f2 = reduce(runner, prog, f, rd, log)
                log("  reduced program (%s):\n%s  %s" % (rd, G.render(small), f2.msg.splitlines()[0]))
                if a.found:
                    os.makedirs(a.found, exist_ok=True)
                    path = os.path.join(a.found, "%s-%d.tc" % (f2.kind, seed))
                    with open(path, "w") as out:
                        out.write(found_test(small, f2, seed))
                    log("  saved %s" % path)
            break
        else:
            shutil.rmtree(d)
        seed += 1
        if nprog % 100 == 0:
            log("difftest: %d programs so far (%.0f s), %d failures" % (nprog, time.time() - t0, nfail))
    log("difftest: %d programs (seeds %d..%d), %d compiles, %d failures%s, %.0f s"
        % (nprog, start, seed - 1, runner.compiles, nfail, ", %d known (--skip)" % nknown if a.skip else "", time.time() - t0))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
