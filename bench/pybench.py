"""bench/pybench.py - the NumPy and PyTorch (CPU, eager) side of the
benchmark suite: the same workloads as bench/tc/*.tc, timed in-process with
time.perf_counter (warm-up, then the median of N runs).

    python3 bench/pybench.py numpy|torch|info [--reps-scale F] [--only a,b,...] [--top N]

Prints the lines bench/run.py reads, as the C harnesses do:
    RESULT <key> <median s> <min s> <reps>
    INFO <key> <text>
`info` prints only what this Python has: its version, NumPy's, PyTorch's,
and the BLAS each of them loaded (found in /proc/self/maps and asked for
its configuration through ctypes).
"""
import ctypes
import statistics
import sys
import time

NS, D, H, K = 60000, 784, 256, 10


def out(*words):
    print(*words, flush=True)


def bench(key, fn, warm, reps):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    out("RESULT", key, "%.9g" % statistics.median(ts), "%.9g" % min(ts), reps)


def loaded_blas():
    """The BLAS libraries this process has mapped, with their own config."""
    paths = []
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in p.lower() and p.endswith((".so", ".dylib")) or ".so." in p and "blas" in p.lower():
                if p not in paths:
                    paths.append(p)
    descs = []
    for p in paths:
        conf = None
        try:
            lib = ctypes.CDLL(p)
            for sym in ("openblas_get_config", "openblas_get_config64_", "scipy_openblas_get_config64_",
                        "scipy_openblas_get_config"):
                fn = getattr(lib, sym, None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    conf = fn().decode().strip()
                    break
        except OSError:
            pass
        if conf:
            descs.append("%s (%s)" % (conf, p))
    if not descs and paths:
        descs = paths
    return "; ".join(descs) if descs else "none found"


# ---------------------------------------------------------------- NumPy
def run_numpy(scale, only, top):
    import numpy as np
    rng = np.random.default_rng(0)
    R = lambda n: max(1, int(round(n * scale)))

    if "a" in only:
        x = rng.uniform(-3, 3, 16 << 20).astype(np.float32)
        bench("a.numpy", lambda: np.tanh(x) * 2 + x * x - 1, 2, R(10))
        del x
    if "b" in only:
        x = rng.uniform(-4, 4, (4096, 1024)).astype(np.float32)

        def softmax():
            e = np.exp(x - x.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        bench("b.numpy", softmax, 2, R(20))
    if "c" in only:
        x = rng.uniform(-4, 4, (4096, 1024)).astype(np.float32)
        g = rng.uniform(0.5, 1.5, 1024).astype(np.float32)
        b = rng.uniform(-0.5, 0.5, 1024).astype(np.float32)

        def layernorm():
            mu = x.mean(axis=1, keepdims=True)
            d = x - mu
            var = (d * d).mean(axis=1, keepdims=True)
            return d / np.sqrt(var + np.float32(1e-5)) * g + b
        bench("c.numpy", layernorm, 2, R(20))
    if "d" in only:
        x = rng.uniform(-1, 1, (4096, 4096)).astype(np.float32)
        bench("d.numpy", lambda: x.sum(axis=1), 2, R(10))
        del x
    if "e" in only:
        n = 1024
        while n <= top:
            a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
            b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
            v = rng.uniform(-1, 1, n).astype(np.float32)
            r = R(20) if n <= 1024 else R(5)
            bench("e.numpy.mm.%d" % n, lambda: a @ b, 1, r)
            bench("e.numpy.mm_bias_relu.%d" % n, lambda: np.maximum(a @ b + v, 0), 1, r)
            n *= 2
    if "f" in only or "g" in only:
        X = rng.random((NS, D), dtype=np.float32)
        y = rng.integers(0, K, NS)
        W1 = (rng.standard_normal((D, H)) * np.sqrt(2.0 / D)).astype(np.float32)
        b1 = np.zeros(H, np.float32)
        W2 = (rng.standard_normal((H, K)) * np.sqrt(2.0 / H)).astype(np.float32)
        b2 = np.zeros(K, np.float32)
        lr = np.float32(0.01)

        def epoch():
            nonlocal W1, b1, W2, b2
            loss = 0.0
            for s in range(0, NS, 64):
                xb, yb = X[s:s + 64], y[s:s + 64]
                n = xb.shape[0]
                z1 = xb @ W1 + b1
                h = np.maximum(z1, 0)
                z2 = h @ W2 + b2
                z2 -= z2.max(axis=1, keepdims=True)
                e = np.exp(z2)
                p = e / e.sum(axis=1, keepdims=True)
                loss = -np.log(p[np.arange(n), yb]).mean()
                dz2 = p
                dz2[np.arange(n), yb] -= 1
                dz2 /= n
                dW2 = h.T @ dz2
                db2 = dz2.sum(axis=0)
                dz1 = (dz2 @ W2.T) * (z1 > 0)
                dW1 = xb.T @ dz1
                db1 = dz1.sum(axis=0)
                W1 -= lr * dW1
                b1 -= lr * db1
                W2 -= lr * dW2
                b2 -= lr * db2
            return loss

        if "f" in only:
            bench("f.numpy.epoch", epoch, 0, R(3))

        def predict():
            return [np.maximum(X[s:s + 1024] @ W1 + b1, 0) @ W2 + b2 for s in range(0, NS, 1024)]
        if "g" in only:
            bench("g.numpy.predict", predict, 1, R(9))


# ---------------------------------------------------------------- PyTorch
def run_torch(scale, only, top):
    import torch
    import torch.nn.functional as F
    torch.manual_seed(0)
    R = lambda n: max(1, int(round(n * scale)))
    out("INFO torch.threads", torch.get_num_threads())
    with torch.no_grad():
        if "a" in only:
            x = torch.rand(16 << 20) * 6 - 3
            bench("a.torch", lambda: torch.tanh(x) * 2 + x * x - 1, 2, R(10))
            del x
        if "b" in only:
            x = torch.rand(4096, 1024) * 8 - 4
            bench("b.torch", lambda: torch.softmax(x, dim=1), 2, R(20))
        if "c" in only:
            x = torch.rand(4096, 1024) * 8 - 4
            g = torch.rand(1024) + 0.5
            b = torch.rand(1024) - 0.5
            bench("c.torch", lambda: F.layer_norm(x, (1024,), g, b, 1e-5), 2, R(20))
        if "d" in only:
            x = torch.rand(4096, 4096) * 2 - 1
            bench("d.torch", lambda: x.sum(dim=1), 2, R(10))
            del x
        if "e" in only:
            n = 1024
            while n <= top:
                a = torch.rand(n, n) * 2 - 1
                b = torch.rand(n, n) * 2 - 1
                v = torch.rand(n) * 2 - 1
                r = R(20) if n <= 1024 else R(5)
                bench("e.torch.mm.%d" % n, lambda: a @ b, 1, r)
                bench("e.torch.mm_bias_relu.%d" % n, lambda: torch.relu(torch.addmm(v, a, b)), 1, r)
                n *= 2
    if "f" in only or "g" in only:
        X = torch.rand(NS, D)
        y = torch.randint(0, K, (NS,))
        W1 = (torch.randn(D, H) * (2.0 / D) ** 0.5).requires_grad_()
        b1 = torch.zeros(H, requires_grad=True)
        W2 = (torch.randn(H, K) * (2.0 / H) ** 0.5).requires_grad_()
        b2 = torch.zeros(K, requires_grad=True)
        ps = [W1, b1, W2, b2]
        lr = 0.01

        def epoch():
            loss = None
            for s in range(0, NS, 64):
                xb, yb = X[s:s + 64], y[s:s + 64]
                loss = F.cross_entropy(torch.relu(xb @ W1 + b1) @ W2 + b2, yb)
                loss.backward()
                with torch.no_grad():
                    for p in ps:
                        p -= lr * p.grad
                        p.grad = None
            return loss

        if "f" in only:
            bench("f.torch.epoch", epoch, 0, R(3))

        def predict():
            with torch.no_grad():
                return [torch.relu(X[s:s + 1024] @ W1 + b1) @ W2 + b2 for s in range(0, NS, 1024)]
        if "g" in only:
            bench("g.torch.predict", predict, 1, R(9))


def main(argv):
    what = argv[1] if len(argv) > 1 else "info"
    scale, only, top = 1.0, "abcdefg", 2048
    i = 2
    while i < len(argv):
        if argv[i] == "--reps-scale":
            scale, i = float(argv[i + 1]), i + 2
        elif argv[i] == "--only":
            only, i = argv[i + 1].replace(",", ""), i + 2
        elif argv[i] == "--top":
            top, i = int(argv[i + 1]), i + 2
        else:
            sys.exit("pybench: unknown argument %r" % argv[i])
    if what == "info":
        out("INFO python", sys.version.split()[0], sys.executable)
        try:
            import numpy as np
            a = np.ones((64, 64), np.float32)
            a @ a
            out("INFO numpy", np.__version__)
            out("INFO numpy.blas", loaded_blas())
        except ImportError:
            out("INFO numpy none")
        try:
            import torch
            out("INFO torch", torch.__version__)
            out("INFO torch.threads", torch.get_num_threads())
            cfg = torch.__config__.show()
            blas = [l.strip() for l in cfg.splitlines() if "BLAS" in l or "MKL" in l or "oneDNN" in l]
            out("INFO torch.blas", " | ".join(blas)[:300] or "unknown")
        except ImportError:
            out("INFO torch none")
    elif what == "numpy":
        run_numpy(scale, only, top)
    elif what == "torch":
        run_torch(scale, only, top)
    else:
        sys.exit("pybench: expected numpy, torch or info, got %r" % what)


if __name__ == "__main__":
    main(sys.argv)
