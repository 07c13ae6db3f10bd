#!/usr/bin/env python3
"""scripts/gpucheck/examples.py - the examples' GPU checks of
tests/examples/gpu/*.test in two halves, for scripts/gpu-check.sh:

    examples.py prepare BUNDLE TENSORC FLAG... [--smoke]   (here: compiles, CPU references)
    examples.py run BUNDLE WORK                            (there: runs, compares)

prepare compiles each example for the GPU (tensorc FLAG...: --device=cuda
and --gpu-arch=..., or --gpu-emulate) and for the CPU, and runs the CPU
executable here to record the reference (its output and params) in
BUNDLE/examples/NAME.  run runs the GPU executable there and compares it
with the reference by the test's own script (tests/examples/Inputs); each
check prints one line `CHECK<tab>name<tab>passed|failed<tab>note`.  Standard library
and NumPy only.
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX = os.path.join(ROOT, "examples")
INPUTS = os.path.join(ROOT, "tests", "examples", "Inputs")
DIGITS = "data=" + os.path.join(EX, "data", "digits.csv")
PY = sys.executable
TIMEOUT = 60

# name: (source, runs on the CPU here for the reference: [(args, stdout file, params dir)])
EXAMPLES = {
    "linreg": (os.path.join(EX, "linreg.tc"), []),
    "digits": (os.path.join(EX, "digits.tc"), [([DIGITS, "epochs=0"], "init-cpu.txt", "init-cpu"),
                                                ([DIGITS, "epochs=3", "lr=0.3"], "cpu.txt", "p-cpu")]),
    "softmax_regression": (os.path.join(EX, "softmax_regression.tc"),
                           [([DIGITS, "steps=20", "every=1"], "cpu.txt", None)]),
    "digits_steps": (os.path.join(INPUTS, "digits_steps.tc"), []),
}
SMOKE = ["linreg"]


def sh(cmd, cwd=None, out=None, env=None):
    """Runs cmd with the time limit: (exit status or 'timeout', stdout + stderr)."""
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=TIMEOUT, env=env, errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", "timed out after %d s: %s" % (TIMEOUT, " ".join(cmd))
    except OSError as e:
        return "not-run", "cannot run %s: %s" % (cmd[0], e)
    if out:
        with open(out, "w") as f:
            f.write(p.stdout)
    return p.returncode, p.stdout


def prepare(bundle, tensorc, flags, smoke):
    status = 0
    for name in (SMOKE if smoke else EXAMPLES):
        src, refs = EXAMPLES[name]
        d = os.path.join(bundle, "examples", name)
        os.makedirs(d, exist_ok=True)
        rc, text = sh([tensorc] + flags + [src, "-o", os.path.join(d, "gpu")])
        if rc != 0:
            print("PREPARE %s failed: tensorc %s exited %s: %s" % (name, " ".join(flags), rc, text.strip()[-800:]))
            status = 1
            continue
        if refs:
            rc, text = sh([tensorc, src, "-o", os.path.join(d, "cpu")])
            for args, out, params in refs:
                if rc == 0:
                    extra = ["--params-out", os.path.join(d, params)] if params else []
                    rc, text = sh([os.path.join(d, "cpu")] + args + extra, out=os.path.join(d, out))
            os.remove(os.path.join(d, "cpu")) if os.path.exists(os.path.join(d, "cpu")) else None
            if rc != 0:
                print("PREPARE %s failed: the CPU reference (exit %s): %s" % (name, rc, text.strip()[-800:]))
                status = 1
                continue
        print("PREPARE %s ok" % name)
    return status


def last(text):
    """The last line of a tool's output: its verdict, or its error."""
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else "(no output)"


def check(name, ok, note):
    print("CHECK\t%s\t%s\t%s" % (name, "passed" if ok else "failed", note.replace("\n", " | ")[:600]))
    return ok


def run(bundle, work):
    gpu_env = dict(os.environ)
    results = []
    for name in sorted(os.listdir(os.path.join(bundle, "examples"))):
        d = os.path.join(bundle, "examples", name)
        w = os.path.join(work, name)
        shutil.rmtree(w, ignore_errors=True)
        os.makedirs(w)
        exe = os.path.join(d, "gpu")
        if not os.path.exists(exe):
            results.append(check("example " + name, False, "not prepared (see the prepare log)"))
            continue
        if name == "linreg":
            rc, text = sh([exe, "data=" + os.path.join(EX, "data", "linreg.csv"), "--device", "cuda"],
                          out=os.path.join(w, "out.txt"))
            if rc == 0:
                rc, text = sh([PY, os.path.join(INPUTS, "linreg_check.py"), EX, w])
            results.append(check("example linreg", rc == 0 and "linreg matches numpy" in text, "%s: %s" % (
                rc, last(text))))
        elif name == "digits":
            rc, text = sh([exe, DIGITS, "epochs=0", "--device", "cuda", "--params-out", os.path.join(w, "init-gpu")])
            if rc == 0:
                rc, text = sh([PY, os.path.join(ROOT, "tests", "e2e", "gpu", "Inputs", "same_bits.py"),
                               os.path.join(d, "init-cpu"), os.path.join(w, "init-gpu")])
            results.append(check("example digits: initial params bitwise the CPU's", rc == 0, last(text)))
            rc, text = sh([exe, DIGITS, "epochs=3", "lr=0.3", "--device", "cuda", "--params-out",
                           os.path.join(w, "p-gpu")], out=os.path.join(w, "gpu.txt"))
            if rc == 0:
                rc, text = sh([PY, os.path.join(INPUTS, "compare_runs.py"), "1e-5", os.path.join(d, "cpu.txt"),
                               os.path.join(w, "gpu.txt"), os.path.join(d, "p-cpu"), os.path.join(w, "p-gpu")])
            results.append(check("example digits: 3 epochs = the CPU's (1e-5)", rc == 0, last(text)))
            counts = []
            for epochs in ("1", "4"):
                env = dict(gpu_env, TENSORC_DEVICE_STATS="1")
                rc, text = sh([exe, DIGITS, "epochs=" + epochs, "--device", "cuda"], env=env)
                m = re.search(r"^device: (.*), (\d+) blocks allocated in all", text, re.M)
                counts.append(m.group(2) if rc == 0 and m else "exit %s: %s" % (rc, text.strip()[-200:]))
                device = m.group(1) if m else "?"
            results.append(check("example digits: no device allocation in the steady state",
                                 counts[0] == counts[1] and counts[0].isdigit(),
                                 "device %s; blocks allocated, 1 epoch: %s, 4 epochs: %s" % (device, *counts)))
        elif name == "softmax_regression":
            rc, text = sh([exe, DIGITS, "steps=20", "every=1", "--device", "cuda"], out=os.path.join(w, "gpu.txt"))
            if rc == 0:
                rc, text = sh([PY, os.path.join(INPUTS, "compare_runs.py"), "1e-5", os.path.join(d, "cpu.txt"),
                               os.path.join(w, "gpu.txt")])
            results.append(check("example softmax_regression: 20 steps = the CPU's (1e-5)", rc == 0,
                                 last(text)))
        elif name == "digits_steps":
            shutil.copy(exe, os.path.join(w, "steps"))
            rc, text = sh([PY, os.path.join(INPUTS, "digits_steps.py"), w, "--device", "cuda"])
            results.append(check("example digits_steps: 20 SGD steps = NumPy's", rc == 0 and "20 steps match numpy" in
                                 text, last(text)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "prepare":
        smoke = "--smoke" in a
        sys.exit(prepare(a[1], a[2], [x for x in a[3:] if x != "--smoke"], smoke))
    if len(a) == 3 and a[0] == "run":
        sys.exit(run(a[1], a[2]))
    sys.exit(__doc__)
