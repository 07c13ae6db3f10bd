#!/usr/bin/env python3
"""bench/run.py - tensorc's benchmark suite (SPEC §7), one command:

    bash bench/run.sh [--quick] [--build DIR] [--only a,e,h] [--update-doc]

It builds every workload of bench/tc/ with `tensorc -c`, links each with
its C harness (bench/c/), and runs, in one go on this machine:

  stream      copy and triad in C (-O3 -march=native, OpenMP): the memory
              bandwidth every GB/s below is compared with;
  (a)-(g)     tensorc (through the C interface, timing only the calls),
              NumPy (with the Python whose NumPy loads the same OpenBLAS as
              tensorc's runtime, when there is one), PyTorch on the CPU
              when some Python imports it, and OpenBLAS's cblas_sgemm called
              directly for (e);
  (h)         the compile time of every program in examples/ (tensorc -O2,
              wall time, median of 3), and of bench/tc/ for comparison.

It prints a Markdown table (the one docs/performance.md holds; --update-doc
rewrites it there, between the bench:begin / bench:end markers) and keeps
the raw numbers in BUILD/bench/results.json.  Medians everywhere; ratios
are "times faster than": NumPy's time over tensorc's.

Uses only the standard library, so any python3 can run it.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

import peers_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
DOC = os.path.join(ROOT, "docs", "performance.md")

# The workloads: (tc file, harness, base repetitions).  Each harness takes
# the repetitions as argv[1]; sgemm and blas take the largest size as argv[2].
HARNESSES = [
    ("a", "elementwise", 10),
    ("b", "softmax", 30),
    ("c", "layernorm", 30),
    ("d", "rowsum", 20),
    ("e", "sgemm", 20),
    ("f", "mlp", 5),
]

# Bytes that must move (inputs read once, outputs written once) for the
# memory-bound workloads, and flops for the products.
MB_BYTES = {
    "a": 2 * 4 * (16 << 20),
    "b": 2 * 4 * 4096 * 1024,
    "c": 2 * 4 * 4096 * 1024 + 2 * 4 * 1024,
    "d": 4 * 4096 * 4096 + 4 * 4096,
}
MB_NAMES = {
    "a": "(a) elementwise chain, 16M f32: `tanh(x) * 2 + x * x - 1`",
    "b": "(b) row softmax 4096x1024",
    "c": "(c) layer norm 4096x1024",
    "d": "(d) sum over axis 1, 4096x4096",
}
NSTEPS = (60000 + 63) // 64  # steps in the (f) epoch


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def parse(text, res, info):
    """RESULT / CHECK / INFO / BYTES lines into res and info."""
    for line in text.splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] == "RESULT" and len(w) >= 5:
            res[w[1]] = {"median": float(w[2]), "min": float(w[3]), "reps": int(w[4])}
        elif w[0] == "CHECK" and len(w) >= 4:
            info.setdefault("checks", {})[w[1]] = {"ok": w[2] == "ok", "err": w[3]}
        elif w[0] == "INFO" and len(w) >= 2:
            info[w[1]] = " ".join(w[2:])
        elif w[0] == "BYTES" and len(w) >= 3:
            info["bytes." + w[1]] = int(w[2])
        elif w[0] == "THREADS":
            info["stream.threads"] = int(w[1])


def run_logged(name, cmd, res, info, timeout=600, env=None):
    """Runs one harness; a failure is recorded, not fatal."""
    t0 = time.time()
    try:
        p = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        info.setdefault("failures", []).append("%s: timed out after %d s" % (name, timeout))
        log(name, "timed out")
        return
    parse(p.stdout, res, info)
    if p.returncode != 0:
        msg = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
        info.setdefault("failures", []).append("%s: %s" % (name, msg))
        log(name, "failed:", msg)
    else:
        log("%s done in %.1f s" % (name, time.time() - t0))


# ------------------------------------------------------------------ setup
def build_tensorc(args):
    """Makes sure args.build holds a tensorc; with --rev, exports that
    revision (git archive, read-only on the repository) and builds it."""
    build = args.build
    if args.rev:
        rev = sh(["git", "-C", ROOT, "rev-parse", "--short", args.rev]).strip()
        src = os.path.join(ROOT, "build-bench-" + rev, "src")
        build = args.build = os.path.join(ROOT, "build-bench-" + rev, "build")
        if not os.path.exists(os.path.join(src, "CMakeLists.txt")):
            log("exporting", rev, "to", src)
            os.makedirs(src, exist_ok=True)
            archive = subprocess.run(["git", "-C", ROOT, "archive", rev], check=True, stdout=subprocess.PIPE).stdout
            subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
        configure(src, build)
        log("building tensorc", rev, "in", build)
        subprocess.run(["cmake", "--build", build], check=True, stdout=subprocess.DEVNULL)
        return
    if args.build_given:
        if not os.path.exists(os.path.join(build, "bin", "tensorc")):
            sys.exit("bench: %s/bin/tensorc does not exist (build it, or leave --build out)" % build)
        return
    if args.no_build:
        return
    configure(ROOT, build)
    log("building tensorc in", build)
    subprocess.run(["cmake", "--build", build], check=True, stdout=subprocess.DEVNULL)


def configure(src, build):
    if os.path.exists(os.path.join(build, "build.ninja")) or os.path.exists(os.path.join(build, "Makefile")):
        return
    py = sh(["bash", os.path.join(ROOT, "scripts", "python.sh")]).strip()
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    log("configuring a Release build in", build)
    sh(["cmake", "-S", src, "-B", build] + gen + ["-DCMAKE_BUILD_TYPE=Release", "-DTENSORC_PYTHON=" + py])


def source_of(build):
    """The source tree a build was configured from (its runtime headers go
    with its runtime library)."""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            m = re.search(r"^CMAKE_HOME_DIRECTORY:\w+=(.*)$", f.read(), re.M)
            if m and os.path.isdir(m.group(1)):
                return m.group(1)
    except OSError:
        pass
    return ROOT


def build_type(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
            return m.group(1) if m else "?"
    except OSError:
        return "?"


def compile_workloads(args, work, info):
    """tensorc -c each bench/tc/*.tc, then cc its harness.  Returns the
    harnesses that built."""
    tensorc = os.path.join(args.build, "bin", "tensorc")
    rt = os.path.join(args.build, "lib", "libtensorc_rt.a")
    cc = os.environ.get("CC", "cc")
    cflags = ["-O3", "-march=native", "-I" + work, "-I" + os.path.join(source_of(args.build), "runtime", "include"),
              "-I" + os.path.join(BENCH, "c")]
    # the runtime's BLAS (cmake/blas.cmake): how to link it, how to call it
    # directly (bench/c/blas_direct.h); a build from before it: -lopenblas
    def words(name, default):
        try:
            with open(os.path.join(args.build, "lib", name)) as f:
                return f.read().split()
        except OSError:
            return default
    blas_ldflags = words("tensorc_rt.ldflags", ["-lopenblas", "-lm", "-ldl"])
    blas_cflags = words("tensorc_rt.cflags", [])
    built = {}
    for key, name, _ in HARNESSES:
        if key not in args.only and not (key == "f" and "g" in args.only):
            continue
        obj = os.path.join(work, name + ".o")
        p = subprocess.run([tensorc, "-O2", "-c", os.path.join(BENCH, "tc", name + ".tc"), "-o", obj],
                           text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            info.setdefault("failures", []).append("tensorc -c bench/tc/%s.tc: %s" % (name, p.stdout.strip()[-400:]))
            log("tensorc failed on", name, p.stdout)
            continue
        exe = os.path.join(work, name)
        sh([cc] + cflags + blas_cflags + [os.path.join(BENCH, "c", name + ".c"), obj, rt] + blas_ldflags +
           ["-lpthread", "-o", exe])
        built[key] = exe
    sh([cc] + cflags + ["-fopenmp", os.path.join(BENCH, "c", "stream.c"), "-o", os.path.join(work, "stream")])
    built["stream"] = os.path.join(work, "stream")
    return built


def blas_of(build):
    """The BLAS file the build's runtime opens: lib/tensorc_rt.blas
    (cmake/blas.cmake) names it, since the runtime loads it with dlopen on
    the first product and ldd does not show it; symlinks resolved."""
    try:
        with open(os.path.join(build, "lib", "tensorc_rt.blas")) as f:
            path = f.read().split()[1]
        return os.path.realpath(path) if os.path.exists(path) else None
    except (OSError, IndexError):
        return None


def pythons(args):
    """Distinct Pythons to consider, the chosen one first."""
    cands = []
    if args.python:
        cands.append(args.python)
    cands += [shutil.which("python3") or "", "/usr/bin/python3"]
    try:
        cands.append(sh(["bash", os.path.join(ROOT, "scripts", "python.sh")], stderr=subprocess.DEVNULL).strip())
    except subprocess.CalledProcessError:
        pass
    seen, outl = set(), []
    for c in cands:
        if not c or not os.path.exists(c):
            continue
        try:
            real = sh([c, "-c", "import sys; print(sys.executable)"], stderr=subprocess.DEVNULL).strip()
        except (subprocess.CalledProcessError, OSError):
            continue
        if real in seen:
            continue
        seen.add(real)
        info = {}
        parse(sh([c, os.path.join(BENCH, "pybench.py"), "info"]), {}, info)
        info["path"] = c
        outl.append(info)
    return outl


# ------------------------------------------------------------------ compile times
def compile_times(args, work, reps):
    tensorc = os.path.join(args.build, "bin", "tensorc")
    src = source_of(args.build)
    files = sorted(glob.glob(os.path.join(src, "examples", "**", "*.tc"), recursive=True))
    files += sorted(glob.glob(os.path.join(BENCH, "tc", "*.tc")))
    rows = []
    for f in files:
        ts, cpu, err = [], [], None
        # the examples as executables; the benchmark programs have no main: -c
        kind = ["-c"] if f.startswith(BENCH + os.sep) else []
        for _ in range(reps):
            t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            p = subprocess.run([tensorc, "-O2"] + kind + [f, "-o", os.path.join(work, "compiled.out")], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            ts.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
            if p.returncode != 0:
                err = (p.stdout.strip().splitlines() or ["exit %d" % p.returncode])[0]
                break
        with open(f) as fh:
            lines = sum(1 for _ in fh)
        rel = os.path.relpath(f, ROOT if f.startswith(BENCH + os.sep) else src)
        rows.append({"file": rel, "lines": lines, "median": statistics.median(ts),
                     "cpu": statistics.median(cpu), "error": err})
    return rows


# ------------------------------------------------------------------ machine
def machine(rev_arg=None):
    m = {}
    try:
        cpu = open("/proc/cpuinfo").read()
        mm = re.search(r"^model name\s*:\s*(.*)$", cpu, re.M)
        m["cpu"] = mm.group(1).strip() if mm else platform.processor()
        flags = re.search(r"^flags\s*:\s*(.*)$", cpu, re.M)
        fl = set(flags.group(1).split()) if flags else set()
        m["simd"] = " ".join(sorted(f for f in fl if f in ("sse4_2", "avx", "avx2", "fma", "f16c") or
                                    f.startswith(("avx512", "avx_vnni", "amx"))))
    except OSError:
        m["cpu"], m["simd"] = platform.processor(), "?"
    m["cores"] = os.cpu_count()
    try:
        kb = int(re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read()).group(1))
        m["memory"] = "%.1f GiB" % (kb / 2**20)
    except (OSError, AttributeError):
        m["memory"] = "?"
    try:
        lc = sh(["lscpu"], stderr=subprocess.DEVNULL)
        caches = re.findall(r"^(L[123]\w?) cache:\s*(.*)$", lc, re.M)
        m["caches"] = ", ".join("%s %s" % c for c in caches)
    except (OSError, subprocess.CalledProcessError):
        m["caches"] = ""
    m["kernel"] = platform.release()
    try:
        m["cc"] = sh([os.environ.get("CC", "cc"), "--version"]).splitlines()[0]
    except (OSError, subprocess.CalledProcessError):
        m["cc"] = "?"
    try:
        rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stderr=subprocess.DEVNULL).strip()
        dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], stderr=subprocess.DEVNULL)
        m["commit"] = rev + (" + uncommitted changes" if dirty.strip() else "")
        if rev_arg:
            m["commit"] = sh(["git", "-C", ROOT, "rev-parse", "--short", rev_arg]).strip() + " (exported with --rev)"
    except (OSError, subprocess.CalledProcessError):
        m["commit"] = "?"
    m["date"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return m


def loadavg():
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# ------------------------------------------------------------------ report
def fmt_t(s):
    if s is None:
        return "—"
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.2f ms" % (s * 1e3)
    return "%.1f µs" % (s * 1e6)


def ratio(other, mine):
    if other is None or mine is None or mine <= 0:
        return "—"
    return "%.2fx" % (other / mine)


def med(res, key):
    r = res.get(key)
    return r["median"] if r else None


def short_blas(desc):
    """One library of a `config (path); config (path)` list: libopenblas's."""
    parts = [p for p in (desc or "?").split("; ") if p]
    pick = next((p for p in parts if "libopenblas" in p or "scipy_openblas" in p), parts[0] if parts else "?")
    return pick.replace(" (", " — `", 1)[:-1] + "`" if pick.endswith(")") and " (" in pick else pick


def report(R):
    res, info, m = R["results"], R["info"], R["machine"]
    L = []
    P = L.append
    P("Measured %s on %s (%d cores, %s%s), %s; tensorc %s (%s build, %s)." % (
        m["date"], m["cpu"], m["cores"], m["memory"], ", " + m["caches"] if m.get("caches") else "",
        m["kernel"], m["commit"], R["build_type"], "`--quick`" if R["quick"] else "full run"))
    P("")
    P("- SIMD: %s; C compiler for harnesses and STREAM: %s, `-O3 -march=native`." % (m["simd"], m["cc"]))
    if R.get("rounds", 1) > 1:
        P("- %d rounds: STREAM, tensorc, NumPy and each peer ran once a round, one after the other; a figure is "
          "the median of its rounds' medians (the minimum: the smallest of all)." % R["rounds"])
    # the core once: OpenBLAS's config string already says "core SkylakeX"
    blas, core = info.get("openblas", "?"), info.get("openblas.core")
    P("- tensorc's BLAS (`tcrt_blas_info`; chosen by `-DTENSORC_BLAS`, cmake/blas.cmake): %s%s%s." % (
        blas, ", core (`openblas_get_corename`, BLIS: its config) **%s**" % core
        if core and "core " + core not in blas else "", " — `%s`" % R["tc_blas"] if R.get("tc_blas") else ""))
    np_ = R.get("numpy")
    if np_:
        P("- NumPy %s (Python %s, `%s`), BLAS: %s%s." % (
            np_.get("numpy"), np_.get("python", "").split()[0], np_["path"], short_blas(np_.get("numpy.blas")),
            " — **the same library as tensorc's**" if R.get("numpy_same_blas") else
            " — **not** the library tensorc links (no Python here has a NumPy on that library)"))
    for o in R.get("numpy_other", []):
        P("- Also NumPy %s (`%s`) for (e) only, its own BLAS: %s (rows marked NumPy\u2032)." % (
            o.get("numpy"), o["path"], short_blas(o.get("numpy.blas"))))
    pe = R.get("peers")
    if pe:
        P("- The peers, in their own venv (`%s`, Python %s, made by bench/peers.sh): PyTorch %s (CPU; %s), "
          "JAX %s; their NumPy %s, BLAS: %s." % (
              pe["path"], pe.get("python", "?").split()[0], pe.get("torch"), pe.get("torch.blas", "?"),
              pe.get("jax"), pe.get("numpy"), short_blas(pe.get("numpy.blas"))))
    else:
        P("- The peers (PyTorch eager, torch.compile, JAX) were **skipped**: %s." % R.get(
            "peers_skipped", "not installed"))
    if R.get("blas_env_removed"):
        P("- Removed from the environment for every side, so that each OpenBLAS picks its kernels by the CPU "
          "(`BENCH_KEEP_BLAS_ENV=1` keeps them): %s." % ", ".join(
              "`%s=%s`" % kv for kv in sorted(R["blas_env_removed"].items())))
    th = R.get("threads")
    P("- Threads: %s; NumPy's elementwise code runs on one." % (
        "%d for every side: `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` = %d (NumPy's "
        "OpenBLAS, PyTorch and Inductor's kernels), `torch.set_num_threads(%d)`, the JAX process "
        "pinned to %d CPUs (XLA sizes its pool by them), tensorc's own pool and its BLAS one thread per online "
        "CPU (%d here)" % (
            th, th, th, th, m["cores"]) if th else
        "OpenBLAS (tensorc's, NumPy's) and tensorc's own kernels (its thread pool, default: every core) use every "
        "core"))
    lb, la = R.get("load_before"), R.get("load_after")
    if lb is not None and la is not None:
        busy = max(lb, la) > 0.5 * m["cores"]
        P("- Load average (1 min) before / after the runs: %.1f / %.1f on %d cores%s" % (
            lb, la, m["cores"], " — **the machine was busy with other work: expect noisy numbers**" if busy else "."))
    P("")

    # tensorc against the peers
    if any(k.split(".")[1] in ("torch", "compile", "jax", "numpy", "tensorc") for k in res if "." in k):
        P("**Against the peers** (the same workloads, the same inputs, one run):")
        P("")
        L.extend(peers_table.table(R, fmt_t))
        P("")
        P("The details, against NumPy, OpenBLAS and the memory bandwidth:")
        P("")

    # bandwidth: medians shown; the reference is STREAM's "best rate" (the
    # fastest repetition of the best kind), which a busy machine disturbs
    # least, and which makes the "% of bandwidth" column conservative
    bw, best = {}, {}
    for k in ("copy", "triad"):
        for t in sorted({1, info.get("stream.threads", 1)}):
            r = res.get("stream.%s.%d" % (k, t))
            if r:
                bw[(k, t)] = info["bytes.stream." + k] / r["median"] / 1e9
                best[(k, t)] = info["bytes.stream." + k] / r["min"] / 1e9
    ref = max(best.values()) if best else None
    R["bandwidth_gbs"] = ref
    P("**Memory bandwidth** (STREAM-style, bench/c/stream.c; GB/s, median / best of the repetitions): " +
      ", ".join("%s %d thread%s %.1f / %.1f" % (k, t, "s" if t > 1 else "", v, best[(k, t)])
                for (k, t), v in sorted(bw.items())) +
      (". Reference for the \"%% of bandwidth\" column: **%.1f GB/s**, the best rate (STREAM's convention)." % ref
       if ref else "."))
    P("")

    # memory-bound workloads
    if any(med(res, k + "." + w) for k in "abcd" for w in ("tensorc", "numpy", "torch")):
        P("| workload | tensorc | GB/s | % of bandwidth | NumPy | tensorc vs NumPy | PyTorch | tensorc vs PyTorch | "
      "target | met |")
        P("| --- | --: | --: | --: | --: | --: | --: | --: | --- | --- |")
    for k in "abcd":
        t, n, p = med(res, k + ".tensorc"), med(res, k + ".numpy"), med(res, k + ".torch")
        if t is None and n is None:
            continue
        gbs = MB_BYTES[k] / t / 1e9 if t else None
        pct = gbs / ref * 100 if gbs and ref else None
        met = (pct is not None and pct >= 80 and n is not None and n / t >= 3)
        P("| %s | %s | %s | %s | %s | %s | %s | %s | ≥ 80%% of bandwidth, ≥ 3x NumPy | %s |" % (
            MB_NAMES[k], fmt_t(t), "%.2f" % gbs if gbs else "—", "%.0f%%" % pct if pct is not None else "—",
            fmt_t(n), ratio(n, t), fmt_t(p), ratio(p, t), "yes" if met else "**no**"))
    if any(med(res, k + "." + w) for k in "abcd" for w in ("tensorc", "numpy", "torch")):
        P("")

    # sgemm
    if any(k.startswith("e.") for k in res):
        P("| (e) sgemm | tensorc | GFLOP/s | OpenBLAS direct | tensorc vs OpenBLAS | NumPy `@` | tensorc vs NumPy | "
          "PyTorch | tensorc vs PyTorch | target | met |")
        P("| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- | --- |")
        for n in (1024, 2048):
            for kind in ("mm", "mm_bias_relu"):
                key = "%s.%d" % (kind, n)
                t = med(res, "e.tensorc." + key)
                if t is None and med(res, "e.openblas." + key) is None:
                    continue
                # the epilogue is to be free: compare with OpenBLAS's plain product
                ob = med(res, "e.openblas.mm.%d" % n)
                nb, tb = med(res, "e.numpy." + key), med(res, "e.torch." + key)
                gf = 2.0 * n ** 3 / t / 1e9 if t else None
                met = t is not None and ob is not None and ob / t >= 0.95
                label = "%d³ `a @ b`" % n if kind == "mm" else "%d³ `relu(a @ b + bias)`" % n
                P("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    label, fmt_t(t), "%.1f" % gf if gf else "—", fmt_t(ob), ratio(ob, t), fmt_t(nb), ratio(nb, t),
                    fmt_t(tb), ratio(tb, t),
                    "≥ 0.95x OpenBLAS" if kind == "mm" else "≥ 0.95x OpenBLAS's plain product (epilogue free)",
                    "yes" if met else "**no**"))
        extra = []
        for n in (1024, 2048):
            ob, obe = med(res, "e.openblas.mm.%d" % n), med(res, "e.openblas.mm_bias_relu.%d" % n)
            if ob and obe:
                extra.append("OpenBLAS + a separate bias/ReLU loop in C, %d³: %s (%.2fx its plain product)" % (
                    n, fmt_t(obe), obe / ob))
            for key in [k for k in res if k.startswith("e.numpy2.") and k.endswith(".%d" % n)]:
                extra.append("NumPy\u2032 %s: %s" % (key[len("e.numpy2."):], fmt_t(med(res, key))))
        if extra:
            P("")
            P("Also: " + "; ".join(extra) + ".")
        P("")

    # MLP
    rows = []
    te, ts, tp = med(res, "f.tensorc.epoch"), med(res, "f.tensorc.steps"), med(res, "g.tensorc.predict")
    ne, pe = med(res, "f.numpy.epoch"), med(res, "f.torch.epoch")
    npred, ppred = med(res, "g.numpy.predict"), med(res, "g.torch.predict")
    if te or ne or pe:
        P("| (f), (g) MLP 784-256-10, 60,000 samples | tensorc | per step / per sample | NumPy | tensorc vs NumPy | "
          "PyTorch eager | tensorc vs PyTorch | target | met |")
        P("| --- | --: | --: | --: | --: | --: | --: | --- | --- |")
        for label, t in (("(f) one SGD epoch, batch 64, loop compiled (`train_epoch`)", te),
                         ("(f) one SGD epoch, batch 64, `train_step` called from C", ts)):
            met = "**no**" if pe is None or t is None or pe / t < 2 else "yes"
            if pe is None and t is not None:
                met = "not measured (no PyTorch)"
            P("| %s | %s | %s | %s | %s | %s | %s | ≥ 2x PyTorch eager | %s |" % (
                label, fmt_t(t), fmt_t(t / NSTEPS) if t else "—", fmt_t(ne), ratio(ne, t), fmt_t(pe), ratio(pe, t),
                met))
        P("| (g) inference, batches of 1024 (`predict`) | %s | %s | %s | %s | %s | %s | — | — |" % (
            fmt_t(tp), fmt_t(tp / 60000) if tp else "—", fmt_t(npred), ratio(npred, tp), fmt_t(ppred),
            ratio(ppred, tp)))
        P("")

    # compile times
    ct = R.get("compile_times")
    if ct:
        P("| (h) compile time, `tensorc -O2 FILE.tc` | lines | wall, median of %d | CPU (user + sys) | target | met |" %
          R["compile_reps"])
        P("| --- | --: | --: | --: | --- | --- |")
        for r in ct:
            ex = r["file"].startswith("examples/")
            P("| `%s`%s | %d | %s | %s | %s | %s |" % (
                r["file"], "" if ex else " (benchmark program, `-c`)", r["lines"],
                "error: " + r["error"] if r["error"] else fmt_t(r["median"]), fmt_t(r["cpu"]),
                "< 1 s" if ex else "(< 1 s)",
                "**no**" if r["error"] or r["median"] >= 1 else "yes"))
        P("")

    checks = info.get("checks", {})
    for what, mine in (("tensorc's results (sampled against plain C in the harnesses)", True),
                       ("the peers' results (against NumPy's, same inputs)", False)):
        part = {k: v for k, v in checks.items() if (".tensorc" in k) == mine}
        bad = [k for k, v in part.items() if not v["ok"]]
        if part or mine:
            P("Correctness of %s: %s." % (what, "all %d checks agree" % len(part) if part and not bad else
                                          "FAILED: " + ", ".join("%s (error %s)" % (k, part[k]["err"]) for k in bad)
                                          if bad else "no checks ran"))
    for f in info.get("failures", []):
        P("")
        P("- failure: `%s`" % f.replace("\n", " ")[:400])
    return "\n".join(L) + "\n"


def update_doc(table):
    text = open(DOC).read()
    a, b = "<!-- bench:begin -->", "<!-- bench:end -->"
    if a not in text or b not in text:
        sys.exit("bench: %s has no %s ... %s markers" % (DOC, a, b))
    head, rest = text.split(a, 1)
    _, tail = rest.split(b, 1)
    with open(DOC, "w") as f:
        f.write(head + a + "\n" + table + b + tail)
    log("rewrote the table in", os.path.relpath(DOC, ROOT))


# ------------------------------------------------------------------ main
def run_round(args, R, built, reps, scale, top, res, info):
    """One round: STREAM, tensorc's harnesses, NumPy, the peers (into res)."""
    # 1. bandwidth
    run_logged("stream", [built["stream"], str(reps(20))], res, info)
    # 2. tensorc, OpenBLAS direct
    for key, name, base in HARNESSES:
        if key in built:
            cmd = [built[key], str(reps(base))]
            if key == "e":
                cmd.append(str(top))
            run_logged("tensorc " + name, cmd, res, info)
    # 3. NumPy, PyTorch
    py_only = "".join(k for k in args.only if k in "abcdefg")
    pyargs = ["--reps-scale", str(scale), "--top", str(top), "--only", py_only or "-"]
    if R["numpy"] and py_only:
        run_logged("numpy", [R["numpy"]["path"], os.path.join(BENCH, "pybench.py"), "numpy"] + pyargs, res, info)
    for o in R["numpy_other"]:
        if "e" in args.only:
            r2 = {}
            run_logged("numpy (other BLAS)", [o["path"], os.path.join(BENCH, "pybench.py"), "numpy", "--reps-scale",
                                              str(scale), "--top", str(top), "--only", "e"], r2, {})
            res.update({k.replace("e.numpy.", "e.numpy2."): v for k, v in r2.items()})
    # 4. the peers, one process each (a busy 2-core machine makes PyTorch's
    # eager epoch take minutes: hence the long timeout)
    if R["peers"] and py_only:
        for side, name in (("torch", "PyTorch eager"), ("compile", "torch.compile"), ("jax", "JAX")):
            run_logged(name, [R["peers"]["path"], os.path.join(BENCH, "pybench.py"), side] + pyargs, res, info,
                       timeout=2400)


def merge_rounds(rounds):
    """One result per key from the rounds': the median of the rounds'
    medians, the smallest minimum, and each round's median."""
    out = {}
    for key in sorted({k for r in rounds for k in r}):
        got = [r[key] for r in rounds if key in r]
        out[key] = {"median": statistics.median(g["median"] for g in got), "min": min(g["min"] for g in got),
                    "reps": sum(g["reps"] for g in got), "rounds": [g["median"] for g in got]}
    return out


def main():
    ap = argparse.ArgumentParser(description="tensorc's benchmark suite (see bench/README.md)")
    ap.add_argument("--quick", action="store_true", help="a fast smoke run: few repetitions, sgemm at 1024 only")
    ap.add_argument("--build", help="tensorc build tree to use (default: $TENSORC_BUILD, else build-bench, "
                    "configured as Release and built first)")
    ap.add_argument("--rev", help="benchmark this git revision instead of the working tree: exported with "
                    "git archive to build-bench-REV/src and built there (for before/after tables)")
    ap.add_argument("--no-build", action="store_true", help="do not run the build in the default tree")
    ap.add_argument("--python", help="the Python for the NumPy side (default: the one whose NumPy uses "
                    "tensorc's OpenBLAS)")
    ap.add_argument("--peers-python", help="the Python of the peers' venv (PyTorch, JAX): bench/run.sh passes "
                    "the one bench/peers.sh made")
    ap.add_argument("--peers-skipped", help="why the peers are not run (bench/run.sh says)")
    ap.add_argument("--only", default="abcdefgh", help="workloads to run, e.g. 'a,e,h' (default all)")
    ap.add_argument("--rounds", type=int, default=1, help="run every side this many times, alternately; "
                    "a figure is the median of its rounds' medians (default 1)")
    ap.add_argument("--update-doc", action="store_true", help="rewrite the table in docs/performance.md")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--from-json", help="only print (and with --update-doc, write) the table of a results.json")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            table = report(json.load(f))
        print(table)
        if args.update_doc:
            update_doc(table)
        return 0
    args.only = args.only.replace(",", "")
    # the same thread count for every side: OpenBLAS (tensorc's, NumPy's),
    # OpenMP (PyTorch, Inductor's kernels), MKL; pybench.py pins JAX
    threads = os.environ.setdefault("BENCH_THREADS", "2")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads
    # OpenBLAS picks its kernels by the CPU unless the environment forces
    # some: every OpenBLAS here (tensorc's, NumPy's) runs with its own
    # choice, as on a user's machine; what was removed goes in the report
    # (a machine that set OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU ran
    # every OpenBLAS product on AVX2 kernels at half the speed, not MKL's)
    blas_env = {v: os.environ.pop(v) for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ}
    if os.environ.get("BENCH_KEEP_BLAS_ENV"):
        os.environ.update(blas_env)
        blas_env = {}
    args.build_given = bool(args.build or os.environ.get("TENSORC_BUILD"))
    args.build = os.path.abspath(args.build or os.environ.get("TENSORC_BUILD") or os.path.join(ROOT, "build-bench"))
    scale = 0.2 if args.quick else 1.0
    top = 1024 if args.quick else 2048
    reps = lambda n: max(1, int(round(n * scale)))
    t_start = time.time()

    build_tensorc(args)
    work = os.path.join(args.build, "bench")
    os.makedirs(work, exist_ok=True)
    res, info = {}, {}
    R = {"results": res, "info": info, "machine": machine(args.rev), "quick": args.quick, "build_type": build_type(args.build),
         "blas_env_removed": blas_env}
    if R["build_type"] != "Release":
        log("warning: %s is a %s build, not Release" % (args.build, R["build_type"]))
    built = compile_workloads(args, work, info)
    R["load_before"] = loadavg()

    # which Python for NumPy: the one that loads tensorc's OpenBLAS
    R["tc_blas"] = blas_of(args.build)
    pys = pythons(args)
    with_np = [p for p in pys if p.get("numpy", "none") != "none"]
    same = [p for p in with_np if R["tc_blas"] and R["tc_blas"] in p.get("numpy.blas", "")]
    if args.python:
        R["numpy"] = next((p for p in with_np if p["path"] == args.python), None)
    else:
        R["numpy"] = (same or with_np or [None])[0]
    R["numpy_same_blas"] = bool(R["numpy"] and R["numpy"] in same)
    R["numpy_other"] = [p for p in with_np if p is not R["numpy"] and
                        p.get("numpy.blas") != (R["numpy"] or {}).get("numpy.blas")][:1]
    R["threads"] = int(threads)
    R["peers"], R["peers_skipped"] = None, args.peers_skipped or "run through bench/run.sh to have them"
    if args.peers_python:
        R["peers"] = {"path": args.peers_python}
        parse(sh([args.peers_python, os.path.join(BENCH, "pybench.py"), "info"]), {}, R["peers"])

    # 1-4 run `--rounds` times, one side after the other in each round, so
    # that every side meets the machine's good and bad seconds alike (on a
    # shared host the memory bandwidth changes from one second to the next)
    rounds = []
    for k in range(args.rounds):
        if args.rounds > 1:
            log("round %d of %d" % (k + 1, args.rounds))
        rounds.append({})
        run_round(args, R, built, reps, scale, top, rounds[-1], info)
    res.update(merge_rounds(rounds))
    R["rounds"] = args.rounds
    # 5. compile times
    if "h" in args.only:
        R["compile_reps"] = 1 if args.quick else 3
        R["compile_times"] = compile_times(args, work, R["compile_reps"])
        log("compile times done")

    R["load_after"] = loadavg()
    R["wall_s"] = time.time() - t_start
    # the raw numbers first, so that a table can be made again (--from-json)
    for path in [os.path.join(work, "results.json")] + ([args.json] if args.json else []):
        with open(path, "w") as f:
            json.dump(R, f, indent=1)
    table = report(R)
    print(table)
    log("whole run: %.0f s; raw numbers in %s" % (R["wall_s"], os.path.relpath(os.path.join(work, "results.json"),
                                                                                 ROOT)))
    if args.update_doc:
        update_doc(table)
    bad = [k for k, v in info.get("checks", {}).items() if not v["ok"]]
    return 1 if bad or info.get("failures") else 0


if __name__ == "__main__":
    sys.exit(main())
