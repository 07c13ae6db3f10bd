"""bench/pybench.py - the Python side of the benchmark suite: the workloads
of bench/tc/*.tc in NumPy and in the peers a user would pick instead of
tensorc (PyTorch eager, torch.compile, jax.jit), timed in-process with
time.perf_counter: one warm-up call (for the compiling peers that is where
they compile), then the median of N runs.

    python3 bench/pybench.py numpy|torch|compile|jax|info [--reps-scale F] [--only a,b,...] [--top N]

Prints the lines bench/run.py reads, as the C harnesses do:
    RESULT <key> <median s> <min s> <reps>
    CHECK <key> ok|bad <relative error>
    INFO <key> <text>
Keys are <workload>.<side>[.<variant>], e.g. b.jax, e.torch.mm.1024,
f.compile.epoch; the compiling peers also print h.<side>.<workload>: the
first call's time less the median of the others (trace + compile).

Every side builds the same inputs from NumPy's generator (fixed seeds), and
every peer's result is checked against NumPy's, computed in the same
process from the same inputs. `info` prints what this Python has: its
version, NumPy's, PyTorch's, JAX's, and the BLAS NumPy loaded (found in
/proc/self/maps and asked for its configuration and core through ctypes).

Threads: every side uses BENCH_THREADS (default 2) threads; run.py sets
OMP/OpenBLAS/MKL_NUM_THREADS to it, torch.set_num_threads takes it, and the
JAX process is pinned to that many CPUs (XLA sizes its pool by them).
"""
import ctypes
import os
import re
import statistics
import sys
import time

NS, D, H, K = 60000, 784, 256, 10  # the MLP: samples, inputs, hidden, classes
BATCH, PBATCH, LR = 64, 1024, 0.01  # training and inference batch, SGD rate
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
# relative error allowed against NumPy: 1e-4, but 1e-2 for the weights after
# an epoch, where 938 steps amplify f32 rounding (summation order differs
# by library and thread count: ~5e-3 seen); a wrong gradient is O(1)
TOL = {"f": 1e-2}


def out(*words):
    print(*words, flush=True)


def bench(key, fn, reps, sync=lambda r: r, compile_key=None):
    """Times fn: one warm-up call, then reps calls; prints the median and
    minimum, and with compile_key the warm-up's excess over the median.
    Returns the warm-up's result (the one checked against NumPy)."""
    t0 = time.perf_counter()
    first = sync(fn())
    t_first = time.perf_counter() - t0
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        sync(fn())
        ts.append(time.perf_counter() - t0)
    m = statistics.median(ts)
    out("RESULT", key, "%.9g" % m, "%.9g" % min(ts), reps)
    if compile_key:
        c = max(0.0, t_first - m)
        out("RESULT", compile_key, "%.9g" % c, "%.9g" % c, 1)
    return first


def check(key, got, want):
    """CHECK line: the largest difference relative to the largest value
    (over all the arrays of a result: the MLP's weights and biases)."""
    import numpy as np
    got = [np.asarray(g, np.float64) for g in got]
    want = [np.asarray(w, np.float64) for w in want]
    scale = max(max(float(np.max(np.abs(w))) for w in want), 1e-30)
    err = 0.0 if len(got) == len(want) else float("inf")
    for g, w in zip(got, want):
        err = max(err, float(np.max(np.abs(g - w))) / scale if g.shape == w.shape else float("inf"))
    out("CHECK", key, "ok" if err <= TOL.get(key[0], 1e-4) else "bad", "%.3g" % err)


# ---------------------------------------------------------------- inputs
def inputs(key, n=0):
    """The inputs of workload key (fixed seeds), as float32/int64 NumPy."""
    import numpy as np
    rng = np.random.default_rng({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5 + n, "f": 6}[key])
    f32 = lambda lo, hi, shape: rng.uniform(lo, hi, shape).astype(np.float32)
    if key == "a":
        return (f32(-3, 3, 16 << 20),)
    if key == "b":
        return (f32(-4, 4, (4096, 1024)),)
    if key == "c":
        return f32(-4, 4, (4096, 1024)), f32(0.5, 1.5, 1024), f32(-0.5, 0.5, 1024)
    if key == "d":
        return (f32(-1, 1, (4096, 4096)),)
    if key == "e":
        return f32(-1, 1, (n, n)), f32(-1, 1, (n, n)), f32(-1, 1, n)
    X = rng.random((NS, D), dtype=np.float32)
    y = rng.integers(0, K, NS)
    params = ((rng.standard_normal((D, H)) * np.sqrt(2.0 / D)).astype(np.float32), np.zeros(H, np.float32),
              (rng.standard_normal((H, K)) * np.sqrt(2.0 / H)).astype(np.float32), np.zeros(K, np.float32))
    return X, y, params


def sizes(top):
    n, ns = 1024, []
    while n <= top:
        ns.append(n)
        n *= 2
    return ns


def batches(n, b):
    return [(s, min(s + b, n)) for s in range(0, n, b)]


# ---------------------------------------------------------------- NumPy (also the reference)
def np_elementwise(x):
    import numpy as np
    return np.tanh(x) * 2 + x * x - 1


def np_softmax(x):
    import numpy as np
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_layernorm(x, g, b):
    import numpy as np
    mu = x.mean(axis=1, keepdims=True)
    d = x - mu
    var = (d * d).mean(axis=1, keepdims=True)
    return d / np.sqrt(var + np.float32(1e-5)) * g + b


def np_rowsum(x):
    return x.sum(axis=1)


def np_mm_bias_relu(a, b, v):
    import numpy as np
    return np.maximum(a @ b + v, 0)


def np_epoch(params, X, y):
    """One SGD epoch with a hand-written backward; updates params in place."""
    import numpy as np
    W1, b1, W2, b2 = params
    lr = np.float32(LR)
    for s, e in batches(NS, BATCH):
        xb, yb = X[s:e], y[s:e]
        n = e - s
        z1 = xb @ W1 + b1
        h = np.maximum(z1, 0)
        z2 = h @ W2 + b2
        z2 -= z2.max(axis=1, keepdims=True)
        ex = np.exp(z2)
        p = ex / ex.sum(axis=1, keepdims=True)
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
    return params


def np_predict(params, X):
    import numpy as np
    W1, b1, W2, b2 = params
    return [np.maximum(X[s:e] @ W1 + b1, 0) @ W2 + b2 for s, e in batches(NS, PBATCH)]


def run_numpy(scale, only, top):
    R = lambda n: max(1, int(round(n * scale)))
    if "a" in only:
        x, = inputs("a")
        bench("a.numpy", lambda: np_elementwise(x), R(10))
        del x
    if "b" in only:
        x, = inputs("b")
        bench("b.numpy", lambda: np_softmax(x), R(20))
    if "c" in only:
        x, g, b = inputs("c")
        bench("c.numpy", lambda: np_layernorm(x, g, b), R(20))
    if "d" in only:
        x, = inputs("d")
        bench("d.numpy", lambda: np_rowsum(x), R(10))
        del x
    if "e" in only:
        for n in sizes(top):
            a, b, v = inputs("e", n)
            r = R(20) if n <= 1024 else R(5)
            bench("e.numpy.mm.%d" % n, lambda: a @ b, r)
            bench("e.numpy.mm_bias_relu.%d" % n, lambda: np_mm_bias_relu(a, b, v), r)
    if "f" in only or "g" in only:
        X, y, params = inputs("f")
        if "g" in only:
            bench("g.numpy.predict", lambda: np_predict(params, X), R(9))
        if "f" in only:
            bench("f.numpy.epoch", lambda: np_epoch(params, X, y), R(5))


# ---------------------------------------------------------------- the peers
# Each peer's make_* returns {workload: (inputs -> fn, result -> list of arrays)};
# run_peer times fn, checks its first result against NumPy's and prints.

def run_peer(side, impl, scale, only, top, sync, compiled):
    import numpy as np
    R = lambda n: max(1, int(round(n * scale)))
    ck = (lambda k: "h.%s.%s" % (side, k)) if compiled else (lambda k: None)
    for key, ref, reps in (("a", np_elementwise, 10), ("b", np_softmax, 20), ("c", np_layernorm, 20),
                           ("d", np_rowsum, 10)):
        if key in only:
            args = inputs(key)
            got = bench("%s.%s" % (key, side), impl[key](*args), R(reps), sync, ck(key))
            check("%s.%s" % (key, side), [got], [ref(*args)])
    if "e" in only:
        for n in sizes(top):
            a, b, v = inputs("e", n)
            r = R(20) if n <= 1024 else R(5)
            for kind, ref in (("mm", lambda: a @ b), ("mm_bias_relu", lambda: np_mm_bias_relu(a, b, v))):
                k = "e.%s.%s.%d" % (side, kind, n)
                got = bench(k, impl["e." + kind](a, b, v), r, sync, ck("e.%s.%d" % (kind, n)))
                check(k, [got], [ref()])
    if "f" in only or "g" in only:
        X, y, params = inputs("f")
        if "g" in only:
            got = bench("g.%s.predict" % side, impl["g"](params, X), R(9), sync, ck("g"))
            check("g.%s.predict" % side, got, np_predict(params, X))
        if "f" in only:
            want = np_epoch(tuple(p.copy() for p in params), X, y)
            for variant, make in impl["f"]:
                k = "f.%s.%s" % (side, variant)
                # the warm-up is the epoch from the initial weights: the one checked
                got = bench(k, make(params, X, y), R(5), sync, ck("f." + variant))
                check(k, got, want)
            if "explain" in impl:
                impl["explain"](params, X, y)


def make_torch(compiled):
    """PyTorch eager, or every workload through torch.compile (default mode)."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(THREADS)
    out("INFO torch.threads", torch.get_num_threads())
    T = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    # one static graph per shape (the last batches are smaller), as fast as it gets
    C = (lambda f: torch.compile(f, dynamic=False)) if compiled else (lambda f: f)
    nograd = lambda f: (lambda: torch.no_grad()(f)())

    elementwise = C(lambda x: torch.tanh(x) * 2 + x * x - 1)
    softmax = C(lambda x: torch.softmax(x, dim=1))
    layernorm = C(lambda x, g, b: F.layer_norm(x, (x.shape[1],), g, b, 1e-5))
    rowsum = C(lambda x: x.sum(dim=1))
    mm = C(lambda a, b: a @ b)
    mm_bias_relu = C(lambda a, b, v: torch.relu(torch.addmm(v, a, b)))
    logits = C(lambda W1, b1, W2, b2, x: torch.relu(x @ W1 + b1) @ W2 + b2)

    def loss_fn(params, xb, yb):
        W1, b1, W2, b2 = params
        return F.cross_entropy(torch.relu(xb @ W1 + b1) @ W2 + b2, yb)

    def step(params, xb, yb):
        """Functional SGD step: forward, torch.autograd.grad, update."""
        params = [p.detach().requires_grad_() for p in params]
        loss = loss_fn(params, xb, yb)
        grads = torch.autograd.grad(loss, params)
        return [(p - LR * g).detach() for p, g in zip(params, grads)], loss.detach()

    if compiled:
        # without this, dynamo breaks the graph at torch.autograd.grad and
        # the step runs its backward and update eagerly
        torch._dynamo.config.trace_autograd_ops = True
        cstep = C(step)

    def epoch_eager(params, X, y):
        """The idiomatic eager loop: loss.backward() and an in-place update."""
        ps = [T(p.copy()).requires_grad_() for p in params]
        Xt, yt = T(X), T(y)

        def run():
            for s, e in batches(NS, BATCH):
                loss = loss_fn(ps, Xt[s:e], yt[s:e])
                loss.backward()
                with torch.no_grad():
                    for p in ps:
                        p -= LR * p.grad
                        p.grad = None
            return [p.detach().numpy().copy() for p in ps]
        return run

    def epoch_compiled(params, X, y):
        state = [[T(p.copy()) for p in params]]
        Xt, yt = T(X), T(y)

        def run():
            ps = state[0]
            for s, e in batches(NS, BATCH):
                ps, _ = cstep(ps, Xt[s:e], yt[s:e])
            state[0] = ps
            return [p.numpy() for p in ps]
        return run

    def explain(params, X, y):
        """Says whether the compiled step is one graph (after the timing:
        explain resets what dynamo compiled)."""
        e = torch._dynamo.explain(step)([T(p) for p in params], T(X[:BATCH]), T(y[:BATCH]))
        out("INFO torch.compile.step %d graph%s, %d graph break%s%s" % (
            e.graph_count, "s" if e.graph_count != 1 else "", e.graph_break_count,
            "s" if e.graph_break_count != 1 else "", "".join(" (%s)" % str(b.reason).splitlines()[0][:120]
                                                          for b in e.break_reasons[:2])))

    def predict(params, X):
        ps, Xt = [T(p) for p in params], T(X)
        return nograd(lambda: [logits(*ps, Xt[s:e]).numpy() for s, e in batches(NS, PBATCH)])

    def wrap(f):
        return lambda *a: (lambda ts: nograd(lambda: f(*ts).numpy()))([T(x) for x in a])

    impl = {"a": wrap(elementwise), "b": wrap(softmax), "c": wrap(layernorm), "d": wrap(rowsum),
            "e.mm": lambda a, b, v: wrap(mm)(a, b), "e.mm_bias_relu": wrap(mm_bias_relu), "g": predict,
            "f": [("epoch", epoch_compiled if compiled else epoch_eager)]}
    if compiled:
        impl["explain"] = explain
    return impl


def make_jax():
    """jax.jit of every workload; the epoch both as one lax.scan and as a
    jitted step called per batch from Python."""
    import numpy as np
    import jax
    import jax.numpy as jnp
    from jax import lax
    out("INFO jax.devices", " ".join(str(d) for d in jax.devices()))

    elementwise = jax.jit(lambda x: jnp.tanh(x) * 2 + x * x - 1)
    softmax = jax.jit(lambda x: jax.nn.softmax(x, axis=1))

    @jax.jit
    def layernorm(x, g, b):
        mu = x.mean(axis=1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
        return (x - mu) * lax.rsqrt(var + 1e-5) * g + b
    rowsum = jax.jit(lambda x: x.sum(axis=1))
    mm = jax.jit(lambda a, b: a @ b)
    mm_bias_relu = jax.jit(lambda a, b, v: jax.nn.relu(a @ b + v))

    def forward(params, x):
        W1, b1, W2, b2 = params
        return jax.nn.relu(x @ W1 + b1) @ W2 + b2
    logits = jax.jit(forward)

    def loss_fn(params, xb, yb):
        z = forward(params, xb)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z), yb[:, None], axis=1))

    def step(params, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        return tuple(p - LR * g for p, g in zip(params, grads)), loss
    jstep = jax.jit(step)

    @jax.jit
    def scan_epoch(params, X, y):
        nb = NS // BATCH
        full = (X[:nb * BATCH].reshape(nb, BATCH, D), y[:nb * BATCH].reshape(nb, BATCH))
        params, _ = lax.scan(lambda p, b: step(p, *b), params, full)
        if NS % BATCH:
            params, _ = step(params, X[nb * BATCH:], y[nb * BATCH:])
        return params

    def epoch(scan):
        def make(params, X, y):
            state = [tuple(jnp.asarray(p) for p in params)]
            yi = y.astype(np.int32)
            Xj, yj = (jnp.asarray(X), jnp.asarray(yi)) if scan else (None, None)

            def run():
                if scan:
                    state[0] = scan_epoch(state[0], Xj, yj)
                else:
                    ps = state[0]
                    for s, e in batches(NS, BATCH):  # batches as a data loader hands them over
                        ps, _ = jstep(ps, X[s:e], yi[s:e])
                    state[0] = ps
                return state[0]
            return run
        return make

    def predict(params, X):
        ps, Xj = tuple(jnp.asarray(p) for p in params), jnp.asarray(X)
        return lambda: [logits(ps, Xj[s:e]) for s, e in batches(NS, PBATCH)]

    def wrap(f):
        return lambda *a: (lambda js: lambda: f(*js))([jnp.asarray(x) for x in a])

    return {"a": wrap(elementwise), "b": wrap(softmax), "c": wrap(layernorm), "d": wrap(rowsum),
            "e.mm": lambda a, b, v: wrap(mm)(a, b), "e.mm_bias_relu": wrap(mm_bias_relu), "g": predict,
            "f": [("scan", epoch(True)), ("steps", epoch(False))]}


# ---------------------------------------------------------------- info
def loaded_blas():
    """The BLAS libraries this process has mapped, with their own config
    and the core (kernel set) OpenBLAS picked for this CPU."""
    paths = []
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in p.lower() and (p.endswith((".so", ".dylib")) or ".so." in p) and p not in paths:
                paths.append(p)
    descs = []
    for p in paths:
        conf = core = None
        try:
            lib = ctypes.CDLL(p)
            for prefix, suffix in (("openblas", ""), ("openblas", "64_"), ("scipy_openblas", "64_"),
                                   ("scipy_openblas", "")):
                fn = getattr(lib, "%s_get_config%s" % (prefix, suffix), None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    conf = fn().decode().strip()
                    cfn = getattr(lib, "%s_get_corename%s" % (prefix, suffix), None)
                    if cfn is not None:
                        cfn.restype = ctypes.c_char_p
                        core = cfn().decode().strip()
                    break
        except OSError:
            pass
        if conf:
            descs.append("%s%s (%s)" % (conf, ", core %s" % core if core else "", p))
    if not descs and paths:
        descs = paths
    return "; ".join(descs) if descs else "none found"


def info():
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
        cfg = torch.__config__.show()
        blas = re.search(r"BLAS_INFO=(\w+)", cfg)
        mkl = re.search(r"Math Kernel Library Version ([\w.]+)", cfg)
        dnn = re.search(r"(?:MKL-DNN|oneDNN) (v[\d.]+)", cfg)
        out("INFO torch.blas", "BLAS %s%s%s" % (blas.group(1) if blas else "unknown",
                                                " (MKL %s)" % mkl.group(1) if mkl else "",
                                                ", oneDNN %s" % dnn.group(1) if dnn else ""))
    except ImportError:
        out("INFO torch none")
    try:
        import jax
        import jaxlib
        out("INFO jax", jax.__version__, "(jaxlib %s)" % jaxlib.__version__)
    except ImportError:
        out("INFO jax none")


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
        info()
    elif what == "numpy":
        run_numpy(scale, only, top)
    elif what in ("torch", "compile"):
        if what == "compile" and "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
            # a cold compile every run: Inductor's on-disk caches would
            # otherwise make the second run's compile time a cache lookup
            import tempfile
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-inductor-")
        run_peer(what, make_torch(what == "compile"), scale, only, top, lambda r: r, what == "compile")
    elif what == "jax":
        if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > THREADS:
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:THREADS])
        import jax
        run_peer("jax", make_jax(), scale, only, top, jax.block_until_ready, True)
    else:
        sys.exit("pybench: expected numpy, torch, compile, jax or info, got %r" % what)


if __name__ == "__main__":
    main(sys.argv)
