#!/usr/bin/env python3
"""bench/gpu/torchbench.py - the peers of the GPU rows: PyTorch CUDA eager
and torch.compile on the same device, cuBLAS called directly (torch.mm:
PyTorch's matrix product on CUDA is one cuBLAS call), and the device's
measured copy bandwidth (a device-to-device copy, torch; CuPy without
torch).  Sizes and the timing method are those of gpubench.c / mlp_gpu.c:
one repetition is R calls back to back and then torch.cuda.synchronize(),
timed with time.perf_counter; its time is the block's over R; warm-up
first (for torch.compile: until it has compiled); median of the blocks.

    torchbench.py [--tiny] [--blocks B] [--calls R] [--reps N] [--samples NS]
                  [--budget SECONDS] [--no-compile]

Prints RESULT / CHECK / INFO / COUNT / FAILED lines for bench/gpu/run.py.
A failing workload prints FAILED and the others go on.  --budget: once
that many seconds have passed, the remaining torch.compile peers are left
out (FAILED ... time budget), since compiling takes seconds each.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import programs  # noqa: E402  the sizes

T0 = time.time()


def out(*words):
    print(*words, flush=True)


def result(key, times):
    out("RESULT", key, "%.9g" % statistics.median(times), "%.9g" % min(times), len(times))


def bandwidth_cupy(n):
    import cupy
    x = cupy.ones(n, dtype=cupy.float32)
    y = cupy.empty_like(x)
    for _ in range(3):
        y[...] = x
    cupy.cuda.Device().synchronize()
    ts = []
    for _ in range(10):
        t0 = time.perf_counter()
        y[...] = x
        cupy.cuda.Device().synchronize()
        ts.append(time.perf_counter() - t0)
    out("INFO copy.by cupy", cupy.__version__)
    out("BYTES copy", 2 * 4 * n)
    result("copy", ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--blocks", type=int, default=10)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--budget", type=float, default=150.0)
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()
    S = programs.TINY if a.tiny else programs.FULL
    copy_n = (1 << 16) if a.tiny else (256 << 20)  # 1 GiB a side on the GPU

    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        out("INFO torch none (%s)" % e)
        try:
            bandwidth_cupy(copy_n)
        except Exception as e:  # noqa: BLE001
            out("FAILED copy cupy: %s" % e)
        return 0
    if not torch.cuda.is_available():
        out("INFO torch %s without a CUDA device" % torch.__version__)
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False  # as tensorc's default: f32 products in f32
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    out("INFO torch", torch.__version__)
    out("INFO device", torch.cuda.get_device_name(0))
    sync = torch.cuda.synchronize
    gen = torch.Generator(device=dev).manual_seed(0)
    compiled_ok = not a.no_compile

    def timed(fn, blocks=a.blocks, calls=a.calls):
        for _ in range(3):
            fn()
        sync()
        ts = []
        for _ in range(blocks):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            sync()
            ts.append((time.perf_counter() - t0) / calls)
        return ts

    def both(key, fn, check=None):
        """key.torch.eager and key.torch.compile (a failure of one is FAILED)."""
        try:
            result(key + ".torch.eager", timed(fn))
            if check:
                check(key + ".torch.eager", fn)
        except Exception as e:  # noqa: BLE001
            out("FAILED %s.torch.eager %s: %s" % (key, type(e).__name__, e))
        if not compiled_ok:
            return
        if time.time() - T0 > a.budget:
            out("FAILED %s.torch.compile time budget (%.0f s) spent" % (key, a.budget))
            return
        try:
            cfn = torch.compile(fn)
            result(key + ".torch.compile", timed(cfn))
        except Exception as e:  # noqa: BLE001
            out("FAILED %s.torch.compile %s: %s" % (key, type(e).__name__, str(e).splitlines()[0][:200]))

    # the device's copy bandwidth
    try:
        x = torch.ones(copy_n, device=dev)
        y = torch.empty_like(x)
        out("INFO copy.by torch")
        out("BYTES copy", 2 * 4 * copy_n)
        result("copy", timed(lambda: y.copy_(x), 10, 1))
        del x, y
    except Exception as e:  # noqa: BLE001
        out("FAILED copy %s: %s" % (type(e).__name__, e))

    # (a) elementwise chain
    x = torch.randn(S["EW_N"], device=dev, generator=gen)
    both("a", lambda: torch.tanh(x) * 2 + x * x - 1)
    del x
    # (b), (c) softmax and layer norm, two sizes
    for i in (1, 2):
        r, c = S["SM%d_R" % i], S["SM_C"]
        x = torch.randn(r, c, device=dev, generator=gen)
        g = torch.randn(c, device=dev, generator=gen)
        b = torch.randn(c, device=dev, generator=gen)
        both("b%d" % i, lambda: torch.softmax(x, dim=1))
        both("c%d" % i, lambda: F.layer_norm(x, (c,), g, b, 1e-5))
        del x, g, b
    # (d) row sum
    x = torch.randn(S["RS_R"], S["RS_C"], device=dev, generator=gen)
    both("d", lambda: x.sum(dim=1))
    del x
    # (e) sgemm: cuBLAS through torch.mm (no compile: the same cuBLAS call)
    try:
        n = S["MM_N"]
        am = torch.randn(n, n, device=dev, generator=gen)
        bm = torch.randn(n, n, device=dev, generator=gen)
        cm = torch.empty(n, n, device=dev)
        out("INFO e.cublas torch.mm (cuBLAS sgemm, TF32 off)")
        result("e.cublas", timed(lambda: torch.mm(am, bm, out=cm)))
        want = am[:2].double() @ bm[:, :8].double()
        err = ((cm[:2, :8].double() - want).abs().max() / n ** 0.5).item()
        out("CHECK e.cublas", "ok" if err <= 1e-4 else "FAIL", "%.3g" % err)
        del am, bm, cm
    except Exception as e:  # noqa: BLE001
        out("FAILED e.cublas %s: %s" % (type(e).__name__, e))

    # (f), (g) the MLP, data on the device
    ns = a.samples
    X = torch.rand(ns, 784, device=dev, generator=gen)
    Y = torch.randint(0, 10, (ns,), device=dev, generator=gen)
    W1 = (torch.randn(784, 256, device=dev, generator=gen) * (2.0 / 784) ** 0.5).requires_grad_()
    b1 = torch.zeros(256, device=dev, requires_grad=True)
    W2 = (torch.randn(256, 10, device=dev, generator=gen) * (2.0 / 256) ** 0.5).requires_grad_()
    b2 = torch.zeros(10, device=dev, requires_grad=True)
    params = [W1, b1, W2, b2]
    lr = 0.01

    def forward(xb):
        return torch.relu(xb @ W1 + b1) @ W2 + b2

    def loss_of(xb, yb):
        return F.cross_entropy(forward(xb), yb)

    def step_with(lossfn):
        def step(xb, yb):
            loss = lossfn(xb, yb)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                torch._foreach_add_(params, grads, alpha=-lr)
            return loss
        return step

    def epoch_with(step):
        def epoch():
            loss = None
            for s in range(0, ns, 64):
                loss = step(X[s:s + 64], Y[s:s + 64])
            return loss
        return epoch

    def predict_with(fwd):
        def predict():
            with torch.no_grad():
                for s in range(0, ns, 1024):
                    fwd(X[s:s + 1024])
        return predict

    def count_kernels(fn):
        from torch.profiler import ProfilerActivity, profile
        fn()
        sync()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            sync()
        return sum(1 for e in prof.events() if str(getattr(e, "device_type", "")).endswith("CUDA")
                   and not e.name.startswith(("Memcpy", "Memset", "[memory]")))

    for kind in ("eager", "compile"):
        if kind == "compile" and not compiled_ok:
            break
        if kind == "compile" and time.time() - T0 > a.budget:
            out("FAILED f.torch.compile time budget (%.0f s) spent" % a.budget)
            break
        try:
            lossfn = torch.compile(loss_of) if kind == "compile" else loss_of
            step = step_with(lossfn)
            epoch = epoch_with(step)
            loss = epoch()  # warm-up (and the compiles: the full and the last batch's shape)
            sync()
            result("f.torch.%s" % kind, timed(epoch, a.reps, 1))
            out("CHECK f.torch.%s" % kind, "ok" if 1.0 < float(loss) < 4.0 else "FAIL", "%.3g" % float(loss))
            try:
                out("COUNT f.torch.%s.launches" % kind, count_kernels(lambda: step(X[:64], Y[:64])))
            except Exception as e:  # noqa: BLE001
                out("INFO f.torch.%s.launches n/a (%s)" % (kind, e))
            fwd = torch.compile(forward) if kind == "compile" else forward
            result("g.torch.%s" % kind, timed(predict_with(fwd), 3 * a.reps, 1))
        except Exception as e:  # noqa: BLE001
            out("FAILED f.torch.%s %s: %s" % (kind, type(e).__name__, str(e).splitlines()[0][:200] if str(e) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
