#!/usr/bin/env python3
"""bench/gpu/run.py - runs the GPU rows of the benchmark from a bundle that
scripts/gpu-check.sh prepared (DIR/bench: gpubench and mlp_gpu, built for
the GPU, or for the emulator with --emulate), and the peers
(torchbench.py, where torch or CuPy is importable), and prints the rows as
a Markdown table, each with its target:

  - fused kernels (a)-(d): >= 85% of the measured copy bandwidth;
  - sgemm (e): >= 0.95x cuBLAS (torch.mm, TF32 off);
  - MLP epoch (f): faster than torch.compile.

    run.py BUNDLE [--tiny] [--json FILE] [--timeout S]

Standard library only.  Exit status 1 when a harness failed, a check
failed or a result is missing (a missed target is reported, not a
failure: these are measurements).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import programs  # noqa: E402  the sizes


def parse(text, res, info, fails):
    for line in text.splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] == "RESULT" and len(w) >= 5:
            res[w[1]] = {"median": float(w[2]), "min": float(w[3]), "reps": int(w[4])}
        elif w[0] == "CHECK" and len(w) >= 4:
            info["check." + w[1]] = w[2] + " " + w[3]
            if w[2] != "ok":
                fails.append("%s: check failed (error %s)" % (w[1], w[3]))
        elif w[0] in ("BYTES", "FLOPS", "COUNT") and len(w) >= 3:
            info[w[0].lower() + "." + w[1]] = int(w[2])
        elif w[0] == "INFO" and len(w) >= 2:
            info[w[1]] = " ".join(w[2:])
        elif w[0] == "FAILED":
            fails.append(" ".join(w[1:]))


def run(name, cmd, res, info, fails, timeout, env=None):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, env=env,
                           errors="replace")
    except subprocess.TimeoutExpired as e:
        parse(e.stdout or "", res, info, fails) if isinstance(e.stdout, str) else None
        fails.append("%s: timed out after %d s" % (name, timeout))
        return
    except OSError as e:
        fails.append("%s: cannot run %s: %s" % (name, cmd[0], e))
        return
    parse(p.stdout, res, info, fails)
    info["seconds." + name] = round(time.time() - t0, 1)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
        fails.append("%s: exit %d: %s" % (name, p.returncode, last))
    sys.stderr.write(p.stderr[-2000:])


def fmt_t(s):
    if s is None:
        return "n/a"
    if s >= 1:
        return "%.2f s" % s
    if s >= 1e-3:
        return "%.2f ms" % (s * 1e3)
    return "%.1f µs" % (s * 1e6)


def table(res, info, have_torch, S):
    def med(k):
        return res[k]["median"] if k in res else None

    peer = lambda k: fmt_t(med(k)) if have_torch or k in res else "n/a"  # noqa: E731
    copy_gbs = info["bytes.copy"] / med("copy") / 1e9 if med("copy") and "bytes.copy" in info else None
    rows = ["| workload | tensorc | PyTorch eager | torch.compile | tensorc rate | target | met |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    names = [("a", "(a) elementwise chain `tanh(x)*2 + x*x - 1`, %d f32" % S["EW_N"])]
    for i in (1, 2):
        names += [("b%d" % i, "(b) softmax %dx%d" % (S["SM%d_R" % i], S["SM_C"])),
                  ("c%d" % i, "(c) layer norm %dx%d" % (S["SM%d_R" % i], S["SM_C"]))]
    names.append(("d", "(d) row sum %dx%d" % (S["RS_R"], S["RS_C"])))
    for key, name in names:
        t = med(key + ".tensorc")
        gbs = info["bytes." + key] / t / 1e9 if t and ("bytes." + key) in info else None
        pct = 100 * gbs / copy_gbs if gbs and copy_gbs else None
        rate = "%.3g GB/s" % gbs + (" (%.0f%% of copy)" % pct if pct else "") if gbs else "n/a"
        met = "n/a" if pct is None else ("yes" if pct >= 85 else "no")
        rows.append("| %s | %s | %s | %s | %s | >= 85%% of copy | %s |" % (
            name, fmt_t(t), peer(key + ".torch.eager"), peer(key + ".torch.compile"), rate, met))
    t, cb = med("e.tensorc"), med("e.cublas")
    gf = info.get("flops.e", 0) / t / 1e9 if t else None
    ratio = cb / t if t and cb else None
    rows.append("| (e) sgemm %d^3 | %s | cuBLAS (torch.mm) %s | — | %s | >= 0.95x cuBLAS | %s |" % (
        S["MM_N"], fmt_t(t), peer("e.cublas"), ("%.3g GFLOP/s" % gf if gf else "n/a") +
        (", %.2fx cuBLAS" % ratio if ratio else ""), "n/a" if ratio is None else ("yes" if ratio >= 0.95 else "no")))
    te, tc = med("f.tensorc.epoch"), med("f.torch.compile")
    rows.append("| (f) MLP epoch (loop in train_epoch) | %s | %s | %s | train_step from C: %s | faster than torch.compile | %s |" % (
        fmt_t(te), peer("f.torch.eager"), peer("f.torch.compile"), fmt_t(med("f.tensorc.steps")),
        "n/a" if not (te and tc) else ("yes" if te < tc else "no")))
    rows.append("| (g) MLP inference, batches of 1024 | %s | %s | %s | | | |" % (
        fmt_t(med("g.tensorc.predict")), peer("g.torch.eager"), peer("g.torch.compile")))
    cnt = lambda k: str(info[k]) if k in info else "n/a"  # noqa: E731
    rows.append("| kernel launches per training step | %s (+ %s cuBLAS calls) | %s | %s | | | |" % (
        cnt("count.f.launches"), cnt("count.f.matmuls"), cnt("count.f.torch.eager.launches"),
        cnt("count.f.torch.compile.launches")))
    rows.append("| device copy bandwidth (D2D, %s) | | | | %s | | |" % (
        info.get("copy.by", "n/a"), "%.0f GB/s" % copy_gbs if copy_gbs else "n/a"))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bundle")
    ap.add_argument("--tiny", action="store_true", help="the sizes of a --emulate bundle (few repetitions)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--timeout", type=int, default=180, help="seconds for each harness")
    ap.add_argument("--python", default=sys.executable, help="the Python for the peers (torch, CuPy)")
    a = ap.parse_args()
    bench = os.path.join(os.path.abspath(a.bundle), "bench")
    res, info, fails = {}, {}, []
    env = dict(os.environ, TC_DEVICE="cuda")
    blocks, calls, reps, ns = ("2", "2", "1", "512") if a.tiny else ("10", "20", "3", "60000")
    run("gpubench", [os.path.join(bench, "gpubench"), blocks, calls], res, info, fails, a.timeout, env)
    run("mlp_gpu", [os.path.join(bench, "mlp_gpu"), reps, ns], res, info, fails, a.timeout, env)
    have_torch = False
    peers = [a.python, os.path.join(HERE, "torchbench.py"), "--blocks", blocks, "--calls", calls, "--reps", reps,
             "--samples", ns, "--budget", str(max(30, a.timeout - 60))] + (["--tiny"] if a.tiny else [])
    run("torchbench", peers, res, info, fails, a.timeout)
    have_torch = "torch" in info and not info["torch"].startswith("none")
    for k in ("a", "b1", "c1", "b2", "c2", "d", "e", "f", "g"):
        want = {"e": "e.tensorc", "f": "f.tensorc.epoch", "g": "g.tensorc.predict"}.get(k, k + ".tensorc")
        if want not in res and not any(f.startswith((want, "all ")) for f in fails):
            fails.append("%s: no result" % want)
    if not have_torch:
        info["peers"] = "n/a: " + info.get("torch", "torchbench.py did not run")
    rows = table(res, info, have_torch, programs.TINY if a.tiny else programs.FULL)
    print("\n".join(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": res, "info": info, "failures": fails}, f, indent=1)
    # the peers' failures are notes; tensorc's failures and wrong results fail the bench
    ours = [f for f in fails if not f.startswith(("copy", "torchbench")) and ".torch." not in f.split(":")[0]
            and not f.startswith("e.cublas")]
    for f in fails:
        print("bench %s: %s" % ("FAILURE" if f in ours else "note (peer)", f))
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
