"""bench/peers_table.py - the table of tensorc against the peers a user
would pick instead (PyTorch 2 eager, torch.compile, jax.jit), NumPy beside
them, from the results bench/run.py gathered: one row per workload, and the
ratio `tensorc ÷ best peer (time)`: tensorc's best time over the best of
the three peers' (below 1: tensorc is faster). Standard library only.
"""

# (label, key suffix): every side's key is <workload>.<side><suffix>
ROWS = [
    ("(a) `tanh(x)*2 + x*x - 1`, 16M f32", "a", ""),
    ("(b) row softmax 4096×1024", "b", ""),
    ("(c) layer norm 4096×1024", "c", ""),
    ("(d) row sum 4096²", "d", ""),
    ("(e) sgemm 1024³", "e", ".mm.1024"),
    ("(e) `relu(a @ b + bias)` 1024³", "e", ".mm_bias_relu.1024"),
    ("(e) sgemm 2048³", "e", ".mm.2048"),
    ("(e) `relu(a @ b + bias)` 2048³", "e", ".mm_bias_relu.2048"),
    ("(g) MLP inference 60k, batch 1024", "g", ".predict"),
]
SIDES = ["tensorc", "numpy", "torch", "compile", "jax"]
PEERS = ["torch", "compile", "jax"]
# the (f) epoch: the variants of each side, (label, key)
EPOCH = {
    "tensorc": [("loop compiled", "f.tensorc.epoch"), ("`train_step` from C", "f.tensorc.steps")],
    "numpy": [("", "f.numpy.epoch")],
    "torch": [("", "f.torch.epoch")],
    "compile": [("", "f.compile.epoch")],
    "jax": [("`lax.scan`", "f.jax.scan"), ("step by step", "f.jax.steps")],
}
NAMES = {"a": "(a)", "b": "(b)", "c": "(c)", "d": "(d)", "e.mm.1024": "(e) 1024³", "e.mm_bias_relu.1024":
         "(e) + bias + ReLU 1024³", "e.mm.2048": "(e) 2048³", "e.mm_bias_relu.2048": "(e) + bias + ReLU 2048³",
         "g": "(g)", "f.epoch": "(f)", "f.scan": "(f) scan", "f.steps": "(f) steps"}


def table(R, fmt_t):
    """The table's lines, with the notes under it."""
    res = R["results"]
    med = lambda k: res[k]["median"] if k in res else None
    rows = []
    for label, w, suffix in ROWS:
        cells = {s: [("", med("%s.%s%s" % (w, s, suffix)))] for s in SIDES}
        rows.append((label, cells))
    if any(k.startswith("f.") for k in res):  # before (g)
        rows.insert(len(rows) - 1, ("(f) MLP 784-256-10, one SGD epoch, batch 64",
                        {s: [(l, med(k)) for l, k in EPOCH[s]] for s in SIDES}))
    mlp = next((r for r in R.get("compile_times") or [] if r["file"].endswith("bench/tc/mlp.tc")), None)
    if mlp or any(k.startswith("h.") for k in res):
        rows.append(("(h) compile, MLP (training step, epoch, inference)", {
            "tensorc": [("", None if not mlp or mlp["error"] else mlp["median"])],
            "numpy": [("", None)], "torch": [("", None)],
            "compile": [("", med("h.compile.f.epoch"))],
            "jax": [("scan", med("h.jax.f.scan")), ("step", med("h.jax.f.steps"))]}))

    L = ["| workload | tensorc | NumPy | PyTorch eager | torch.compile | JAX jit | tensorc ÷ best peer (time) |",
         "| --- | --: | --: | --: | --: | --: | --: |"]
    for label, cells in rows:
        if all(t is None for s in SIDES for _, t in cells[s]):
            continue
        text = []
        for s in SIDES:
            have = [(l, t) for l, t in cells[s] if t is not None]
            text.append(", ".join(fmt_t(t) + (" (%s)" % l if l and len(have) > 1 else "") for l, t in have)
                        or "—")
        mine = [t for _, t in cells["tensorc"] if t is not None]
        peers = [t for s in PEERS for _, t in cells[s] if t is not None]
        r = min(mine) / min(peers) if mine and peers else None
        L.append("| %s | %s | %s |" % (label, " | ".join(text),
                                       "—" if r is None else "%.2f%s" % (r, " (wins)" if r <= 1 else "")))
    L.append("")
    L.append("Times are medians; `tensorc ÷ best peer` divides tensorc's best figure by the best of PyTorch eager, "
             "torch.compile and JAX (NumPy is not counted as a peer); below 1 tensorc is faster. "
             "(f) and (g) include the Python loop over the batches for every Python side. "
             "(h): tensorc's is `tensorc -O2 -c bench/tc/mlp.tc` (wall); the peers' is their first call less "
             "a steady one (tracing and compiling, both batch shapes, Inductor's disk cache empty).")
    tc, c = med("d.tensorc"), med("d.c_read")
    if tc and c:
        L.append("")
        L.append("(d)'s bound: the same row sums in plain C (bench/c/rowsum.c: one thread a core, four vector "
                 "accumulators a row, nothing but one read of the matrix), called alternately with tensorc's in "
                 "one process: %s; tensorc ÷ that: %.2f." % (fmt_t(c), tc / c))
    comp = []
    for side, name in (("compile", "torch.compile"), ("jax", "jax.jit")):
        got = [(NAMES.get(k[len("h.%s." % side):], k), res[k]["median"]) for k in res
               if k.startswith("h.%s." % side)]
        if got:
            comp.append("%s %s" % (name, ", ".join("%s %s" % (n, fmt_t(t)) for n, t in got)))
    if comp:
        L.append("")
        L.append("Compile times of the peers (first call less a steady one; the first torch.compile of a "
                 "process also pays Inductor's start-up): " + "; ".join(comp) + ".")
    info = R["info"]
    if info.get("torch.compile.step"):
        L.append("")
        L.append("torch.compile's training step (forward, `torch.autograd.grad`, SGD update, "
                 "`trace_autograd_ops = True`) per `torch._dynamo.explain`: %s." % info["torch.compile.step"])
    return L
