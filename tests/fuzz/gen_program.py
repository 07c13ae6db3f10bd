#!/usr/bin/env python3
"""Random well-typed tensorc programs with their NumPy reference.

    gen_program.py --seed S [--out DIR] [--known-bugs]

The same seed gives the same program (Python's `random` and NumPy's
generator, both seeded by S; standard library and NumPy only).  A program
is `main` with random inputs (.npy files and scalars on the command line;
shapes with the symbols N and M, so the executable runs twice with other
sizes) and a list of statements built from every elementwise op of
docs/language.md, broadcasting, weak Python scalars, reductions with axis
and keepdims, matmul/dot/outer, reshape/transpose/squeeze/flip/
broadcast_to/flatten, slices, integer and list indexing, cat/stack,
where/clip, astype between the five dtypes, creation functions, `for`
loops carrying a value, `if`/`else`, helper functions (inlined generic
`def`s), and `grad` of scalar losses (checked by central differences in
f64).  Each expression is evaluated while it is built (fuzzlang.Interp): one
that is not well defined on some run (log of a number near 0, an integer
division by 0, a float too close to a floor or comparison edge...) is
dropped and another drawn, so the program has one right answer.

--out writes DIR/prog.tc, the inputs of each run (DIR/runK/NAME.npy) and
the expected outputs (DIR/runK/expected_oJ.npy); without it the program is
printed.

Known bugs are kept out (docs/testing.md lists them): sizes given by `**`,
allocation sizes that depend on a loop variable, integer division by zero
and negative integer powers, long f32 sums, f64 constants that are not
exact in f32 (being fixed by others).  --known-bugs lets the generator
make long f32 sums and non-dyadic float literals again.
"""
import argparse
import collections
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzlang as L  # noqa: E402
from fuzzlang import Invalid, Node, V, np  # noqa: E402

MAX_SIZE = 600       # elements of any value
FD_EPS = 1e-6


class Program:
    def __init__(self):
        self.inputs = []   # (name, dt, shape with symbol names)
        self.syms = {}     # symbol name -> value in each run
        self.runs = []     # per run: {input name: np array}
        # ("assign", name, expr, fn) / ("for", ivar, count, body) / ("if", cond, then, else) /
        # ("grad", name, loss, wrt) / ("setitem", name, items, mask, expr, op) / ("aug", name, op, expr)
        self.stmts = []
        self.outputs = []  # names saved, in order
        self.seed = None

    def copy(self):
        p = Program()
        p.inputs, p.syms, p.runs, p.seed = list(self.inputs), dict(self.syms), self.runs, self.seed
        p.stmts = [copy_stmt(s) for s in self.stmts]
        p.outputs = list(self.outputs)
        return p


def copy_stmt(s):
    if s[0] == "setitem":
        return ("setitem", s[1], s[2], s[3] and s[3].copy(), s[4].copy(), s[5])
    if s[0] == "aug":
        return ("aug", s[1], s[2], s[3].copy())
    if s[0] == "assign":
        return ("assign", s[1], s[2].copy(), s[3])
    if s[0] == "for":
        return ("for", s[1], s[2], [(b[0], b[1].copy()) + tuple(b[2:]) for b in s[3]])
    if s[0] == "if":
        return ("if", s[1].copy(), [(n, e.copy()) for n, e in s[2]], [(n, e.copy()) for n, e in s[3]])
    return ("grad", s[1], s[2].copy(), s[3])


# ---------------------------------------------------------------- running the reference

def envs_of(prog, interp):
    envs = []
    for r, values in enumerate(prog.runs):
        env = {"@" + s: vals[r] for s, vals in prog.syms.items()}
        for name, dt, shape in prog.inputs:
            env[name] = interp.mk(np.asarray(values[name]), dt, rounded=False)  # an input is exact
        envs.append(env)
    return envs


def check_value(v, env=None):
    if v.weak:
        raise Invalid("a weak result")
    if v.a.size > MAX_SIZE:
        raise Invalid("too large")


def exec_stmt(interp, s, env, deps):
    """Runs one statement on one run's env (in place)."""
    if s[0] == "assign":
        v = interp.ev(s[2], env)
        check_value(v)
        env[s[1]] = v
        deps[s[1]] = expr_deps(s[2], deps)
    elif s[0] == "for":
        count = env["@" + s[2]] if isinstance(s[2], str) else s[2]
        for i in range(count):
            env[s[1]] = V(np.asarray(i, np.int64), "i64")
            for name, e, *items in s[3]:
                v = interp.ev(e, env)
                if items:  # name[items] = e
                    if name not in env:
                        raise Invalid("%s is not assigned" % name)
                    v = interp.setitem(env[name], items[0], None, v, None, env)
                check_value(v)
                old = env.get(name)
                if old is not None and (old.dt != v.dt or old.a.shape != v.a.shape):
                    raise Invalid("a loop changes the type of %s" % name)
                env[name] = v
        for name, e, *_ in s[3]:
            deps[name] = expr_deps(e, deps) | deps.get(name, set()) | {"@loop"}
            if name not in env:
                raise Invalid("%s unassigned after the loop" % name)
        env.pop(s[1], None)
    elif s[0] == "if":
        c = interp.ev(s[1], env)
        if c.dt != "bool" or c.a.ndim != 0:
            raise Invalid("condition is not a bool scalar")
        vt = [(n, interp.ev(e, env)) for n, e in s[2]]
        ve = [(n, interp.ev(e, env)) for n, e in s[3]]
        for (n, a), (_, b) in zip(vt, ve):
            check_value(a)
            check_value(b)
            if a.dt != b.dt or a.a.shape != b.a.shape:
                raise Invalid("branches differ")
        for n, v in (vt if bool(c.a) else ve):
            env[n] = v
        for (n, e1), (_, e2) in zip(s[2], s[3]):
            deps[n] = expr_deps(e1, deps) | expr_deps(e2, deps) | expr_deps(s[1], deps) | {"@loop"}
    elif s[0] in ("setitem", "aug"):
        x = env.get(s[1])
        if x is None:
            raise Invalid("%s is not assigned" % s[1])
        v = interp.ev(s[4] if s[0] == "setitem" else s[3], env)
        if s[0] == "aug":
            r = interp.binop(s[2], x, v)
        else:
            r = interp.setitem(x, s[2], s[3] and interp.ev(s[3], env), v, s[5], env)
        check_value(r)
        env[s[1]] = r
        deps[s[1]] = deps.get(s[1], set()) | expr_deps(s[4] if s[0] == "setitem" else s[3], deps)
    elif s[0] == "grad":
        name, loss, wrt = s[1], s[2], s[3]
        w = env.get(wrt)
        if w is None or not L.is_float(w.dt):
            raise Invalid("grad with respect to a non-float")
        if loss.names() - {wrt}:  # see Gen.grad_shape
            raise Invalid("the loss reads another name")
        lv = interp.ev(loss, env)
        if lv.a.ndim != 0 or not L.is_float(lv.dt) or lv.weak:
            raise Invalid("the loss is not a float scalar")
        if abs(float(lv.a)) > 1e3:
            raise Invalid("loss too large")
        env[name] = V(finite_differences(interp, loss, wrt, env), w.dt)
        deps[name] = expr_deps(loss, deps) | {"@loop"}


def finite_differences(interp, loss, wrt, env):
    """d loss / d wrt by central differences in f64."""
    ex = L.Interp(None, exact=True)
    base = dict(env)
    w = np.array(env[wrt].a, dtype=np.float64)  # a 0-d array, not a numpy scalar, for a rank-0 wrt
    g = np.zeros(w.shape)
    for i in np.ndindex(*w.shape):
        vals = []
        for sgn in (1, -1):
            wp = w.copy()
            wp[i] += sgn * FD_EPS
            base[wrt] = V(wp, env[wrt].dt)
            vals.append(float(ex.ev(loss, base).a))
        g[i] = (vals[0] - vals[1]) / (2 * FD_EPS)
    L.finite_check(g)
    return g.astype(ex.store(env[wrt].dt)) if interp.exact else g.astype(L.NPDT[env[wrt].dt])


def expr_deps(e, deps):
    out = set()
    for n in e.names():
        out |= {n} | deps.get(n, set())
    return out


def evaluate(prog, exact=False, known_bugs=True):
    """Runs the program on every run: a list of {name: V} per run (the final
    environments).  Raises Invalid when the program is not well defined."""
    interp = L.Interp(prog.runs, exact=exact, known_bugs=known_bugs)
    envs = envs_of(prog, interp)
    for env in envs:
        deps = {}
        for s in prog.stmts:
            exec_stmt(interp, s, env, deps)
        env["@deps"] = deps
    for env in envs:
        for o in prog.outputs:
            if o not in env:
                raise Invalid("output %s is not assigned" % o)
    return envs


# One output's expected values: its dtype, its value per run in the
# program's dtypes and in f64 (fuzzlang's two modes), whether it depends on a
# gradient (compared with the gradients' tolerance) and whether it was
# rounded to f32 on some run (fuzzlang.tolerance).
Expected = collections.namedtuple("Expected", "dt normal exact is_grad rounded")


def expected(prog):
    """An Expected per output."""
    normal, exact = evaluate(prog), evaluate(prog, exact=True)
    grads = {s[1] for s in prog.stmts if s[0] == "grad"}
    deps = normal[0]["@deps"]
    out = []
    for o in prog.outputs:
        from_grad = bool(({o} | deps.get(o, set())) & grads)
        out.append(Expected(normal[0][o].dt, [e[o].a for e in normal], [e[o].a for e in exact], from_grad,
                            any(e[o].rounded for e in normal)))
    return out


# ---------------------------------------------------------------- rendering

def render(prog):
    lines = ["# generated by tests/fuzz/gen_program.py --seed %s" % prog.seed]
    body = []
    fns = []
    for s in prog.stmts:
        if s[0] == "assign":
            name, e, fn = s[1], s[2], s[3]
            if fn:
                params = sorted(e.names())
                fns.append("def %s(%s):" % (fn, ", ".join("p_" + p for p in params)))
                fns.append("    return %s" % L.render(rename(e, {p: "p_" + p for p in params})))
                body.append("%s = %s(%s)" % (name, fn, ", ".join(params)))
            else:
                body.append("%s = %s" % (name, L.render(e)))
        elif s[0] == "for":
            body.append("for %s in range(%s):" % (s[1], s[2]))
            body += ["    %s%s = %s" % (b[0], "[%s]" % ", ".join(L.render_item(it) for it in b[2]) if len(b) > 2 else "",
                                        L.render(b[1])) for b in s[3]]
        elif s[0] == "if":
            body.append("if %s:" % L.render(s[1]))
            body += ["    %s = %s" % (n, L.render(e)) for n, e in s[2]]
            body.append("else:")
            body += ["    %s%s = %s" % (b[0], "[%s]" % ", ".join(L.render_item(it) for it in b[2]) if len(b) > 2 else "",
                                        L.render(b[1])) for b in s[3]]
        elif s[0] == "setitem":
            where = L.render(s[3]) if s[3] is not None else ", ".join(L.render_item(it) for it in s[2])
            body.append("%s[%s] %s= %s" % (s[1], where, s[5] or "", L.render(s[4])))
        elif s[0] == "aug":
            body.append("%s %s= %s" % (s[1], s[2], L.render(s[3])))
        else:
            body.append("%s = grad(%s, %s)" % (s[1], L.render(s[2]), s[3]))
    for i, o in enumerate(prog.outputs):
        body.append('save("o%d.npy", %s)' % (i, o))
    sig = ", ".join("%s: %s%s" % (n, dt, "[%s]" % L.fmt_shape(sh) if sh else "") for n, dt, sh in prog.inputs)
    lines += fns
    lines.append("def main(%s):" % sig)
    lines += ["    " + b for b in body] or ["    pass"]
    return "\n".join(lines) + "\n"


def rename(e, mapping):
    e = e.copy()
    for n in e.walk():
        if n.kind == "var" and n.attrs["name"] in mapping:
            n.attrs["name"] = mapping[n.attrs["name"]]
    return e


def run_args(prog, r):
    """The command-line words of run r: NAME=NAME.npy, scalars as values."""
    out = []
    for name, dt, shape in prog.inputs:
        v = np.asarray(prog.runs[r][name])
        if v.ndim == 0:
            out.append("%s=%s" % (name, L.fmt_num(v.item()) if dt != "bool" else ("1" if v else "0")))
        else:
            out.append("%s=%s.npy" % (name, name))
    return out


def write(prog, d):
    """prog.tc, runK/ inputs; returns the expected outputs (see expected())."""
    exp = expected(prog)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "prog.tc"), "w") as f:
        f.write(render(prog))
    for r, values in enumerate(prog.runs):
        rd = os.path.join(d, "run%d" % r)
        os.makedirs(rd, exist_ok=True)
        for name, dt, shape in prog.inputs:
            if shape:
                np.save(os.path.join(rd, name + ".npy"), np.asarray(values[name], L.NPDT[dt]))
        for j, e in enumerate(exp):
            np.save(os.path.join(rd, "expected_o%d.npy" % j), e.normal[r])
    return exp


# ---------------------------------------------------------------- the generator

class Gen:
    def __init__(self, seed, known_bugs=False):
        self.rnd = random.Random(seed)
        self.nrng = np.random.default_rng(seed)
        self.known_bugs = known_bugs
        self.prog = Program()
        self.prog.seed = seed
        self.interp = L.Interp(None, known_bugs=known_bugs)
        self.nvars = 0
        self.nfns = 0
        self.opaque = set()  # values with run-time slice bounds: saved, never used again

    def choice(self, xs):
        return self.rnd.choice(xs)

    def weighted(self, table):
        total = sum(w for w, _ in table)
        x = self.rnd.uniform(0, total)
        for w, v in table:
            x -= w
            if x <= 0:
                return v
        return table[-1][1]

    # -- inputs
    def random_array(self, dt, shape):
        if dt == "bool":
            return self.nrng.random(shape) < 0.5
        if dt in ("i32", "i64"):
            return self.nrng.integers(-5, 6, shape).astype(L.NPDT[dt])
        a = self.nrng.uniform(-2, 2, shape)
        if not self.known_bugs:
            a = np.round(a * 64) / 64  # dyadic: the same number in f32 and f64
        return a.astype(L.NPDT[dt])

    def make_inputs(self):
        p = self.prog
        symbolic = self.rnd.random() < 0.5
        syms = {"N": [2, 5], "M": [3, 7]} if symbolic else {}
        for i in range(self.rnd.randint(1, 3)):
            dt = self.weighted([(5, "f32"), (2, "f64"), (2, "i64"), (1, "i32"), (1, "bool")])
            rank = self.weighted([(1, 0), (3, 1), (4, 2), (1, 3)])
            shape = [self.weighted([(1, 1), (3, 2), (3, 3), (2, 4), (1, 5), (1, 8), (1, 9), (1, 16), (1, 17)] +
                                   ([(4, "N"), (2, "M")] if symbolic else []))
                     for _ in range(rank)]
            p.inputs.append(("a%d" % i, dt, shape))
        used = {d for _, _, shape in p.inputs for d in shape if isinstance(d, str)}
        p.syms = {s: v for s, v in syms.items() if s in used}
        nruns = 2 if p.syms else 1
        p.runs = [{} for _ in range(nruns)]
        for name, dt, shape in p.inputs:
            for r in range(nruns):
                conc = [p.syms[d][r] if isinstance(d, str) else d for d in shape]
                p.runs[r][name] = self.random_array(dt, conc)

    # -- values of the variables on every run
    def start(self):
        self.envs = envs_of(self.prog, self.interp)
        self.deps = [{} for _ in self.envs]

    def vals_of(self, name):
        return [env[name] for env in self.envs]

    def var_names(self, pred=None):
        names = [n for n in self.envs[0] if not n.startswith("@") and n not in self.opaque]
        return [n for n in names if pred is None or pred(self.vals_of(n))]

    # -- shapes
    def sig(self, vals):
        """Per axis: an int (constant) or a symbol name; None when the axis
        is symbolic but no symbol of the signature (derived dims)."""
        out = []
        for d in range(vals[0].a.ndim):
            sizes = tuple(v.a.shape[d] for v in vals)
            if len(set(sizes)) == 1:
                out.append(sizes[0])
            else:
                out.append(next((s for s, vs in self.prog.syms.items() if tuple(vs) == sizes), None))
        return out

    # -- leaves
    def literal_tensor(self, shape, dt):
        a = self.random_array(dt, shape)
        return Node("tensor", {"value": a.tolist(), "dt": dt})

    def leaf(self, want_float=False):
        names = self.var_names(lambda vs: not want_float or L.is_float(vs[0].dt))
        if names and self.rnd.random() < 0.85:
            return Node("var", {"name": self.choice(names)})
        r = self.rnd.random()
        if r < 0.5:
            shape = [self.choice([1, 2, 3, 4]) for _ in range(self.choice([0, 1, 1, 2, 2]))]
            dt = "f32" if want_float else self.choice(L.DTYPES)
            return self.literal_tensor(shape, dt)
        syms = list(self.prog.syms)
        shape = [self.choice([1, 2, 3] + syms) for _ in range(self.choice([1, 2]))]
        if r < 0.7:
            return Node("create", {"op": self.choice(["zeros", "ones"]), "shape": shape,
                                   "dt": "f32" if want_float else self.choice(L.DTYPES)})
        if r < 0.8:
            return Node("full", {"shape": shape, "value": self.choice([0.5, -1.25, 2.0, 3]), "dt": self.choice(["f32", "f64"])})
        if r < 0.88:
            n = self.choice([2, 3, 4])
            return Node("arange", {"args": [n] if self.rnd.random() < 0.6 else [1, n + 1]}) if not want_float else \
                Node("eye", {"n": n})
        if r < 0.94:
            return Node("linspace", {"lo": self.choice([-1.0, 0.0, 0.5]), "hi": self.choice([1.0, 2.0]), "n": self.choice([2, 3, 5])})
        return Node("eye", {"n": self.choice([2, 3])})

    def literal(self, dt_hint=None):
        if dt_hint in ("i32", "i64") or (dt_hint is None and self.rnd.random() < 0.4):
            return Node("lit", {"value": self.choice([1, 2, 3, -1, -2, 0])})
        if dt_hint == "bool" and self.rnd.random() < 0.3:
            return Node("lit", {"value": self.choice([True, False])})
        vals = [0.5, 0.25, 1.5, -0.75, 2.0, 3.0, -1.0]
        if self.known_bugs:
            vals += [0.1, 0.3, 1e-3, 2.7]
        return Node("lit", {"value": self.choice(vals)})

    # -- expressions: (node, values per run)
    def expr(self, depth, want_float=False):
        for _ in range(30):
            try:
                node = self.expr_once(depth, want_float)
                vals = [self.interp.ev(node, env) for env in self.envs]
                for v in vals:
                    if v.a.size > MAX_SIZE:
                        raise Invalid("too large")
                if want_float and not L.is_float(vals[0].dt):
                    raise Invalid("not float")
                return node, vals
            except Invalid:
                continue
        raise Invalid("no expression found")

    def sub(self, depth, want_float=False):
        if depth <= 0 or self.rnd.random() < 0.3:
            node = self.leaf(want_float)
            return node, [self.interp.ev(node, env) for env in self.envs]
        return self.expr(depth - 1, want_float)

    def expr_once(self, depth, want_float=False):
        kind = self.weighted([(6, "bin"), (4, "un"), (3, "red"), (2, "matmul"), (3, "shape"), (3, "index"),
                              (1, "where"), (1, "clip"), (1, "astype"), (1, "catstack"), (1, "cmp")])
        x, xv = self.sub(depth, want_float)
        sig = self.sig(xv)
        rank = len(sig)
        dt = xv[0].dt
        if kind == "bin":
            op = self.weighted([(4, "+"), (3, "-"), (4, "*"), (2, "/"), (1, "//"), (1, "%"), (1, "**"),
                                (1, "maximum"), (1, "minimum")])
            r = self.rnd.random()
            if r < 0.35:
                y = self.literal(dt)
            elif r < 0.6:
                y = self.literal_tensor([1 if (not isinstance(d, int) or self.rnd.random() < 0.3) else d
                                         for d in sig[self.rnd.randint(0, rank):]], self.choice([dt, dt, "f32", "i64", "f64", "i32", "bool"]))
            else:
                y, _ = self.sub(depth, want_float)
            if op == "**" and y.kind != "lit":
                y = Node("lit", {"value": self.choice([2, 3, 0.5, 2.0])})
            if self.rnd.random() < 0.3:
                x, y = y, x
            return Node("bin", {"op": op}, [x, y])
        if kind == "cmp":
            y = self.literal(dt) if self.rnd.random() < 0.5 else self.sub(depth)[0]
            op = self.choice(["<", "<=", ">", ">=", "==", "!=", "logical_and", "logical_or"])
            return Node("bin", {"op": op}, [x, y])
        if kind == "un":
            op = self.choice(list(L.UNARY_FLOAT) + L.UNARY_SAME + L.UNARY_BOOL)
            n = Node("un", {"op": op}, [x])
            if op == "neg" and self.rnd.random() < 0.5:
                n.attrs["minus"] = True
            return n
        if kind == "red":
            op = self.choice(L.REDUCTIONS)
            axis = None
            if rank and self.rnd.random() < 0.7:
                ax = self.rnd.randrange(rank)
                axis = ax - rank if self.rnd.random() < 0.3 else ax
                if rank > 1 and op not in ("argmax", "argmin") and self.rnd.random() < 0.25:
                    axis = tuple(sorted(self.rnd.sample(range(rank), 2)))
            attrs = {"op": op, "axis": axis, "keepdims": self.rnd.random() < 0.3, "method": self.rnd.random() < 0.4}
            if op in ("var", "std") and self.rnd.random() < 0.3:
                attrs["ddof"] = 1
            if op in ("argmax", "argmin") and axis is None:
                attrs["keepdims"] = False
            return Node("red", attrs, [x])
        if kind == "matmul":
            if rank == 0:
                raise Invalid("matmul of a scalar")
            k = sig[-1]
            r = self.rnd.random()
            if isinstance(k, int) and r < 0.6:
                out = self.choice([[], [2], [3], [1]])
                y = self.literal_tensor([k] + out, self.choice([dt, "f32", "f64", "i64"]))
            else:
                y, _ = self.sub(depth)
            if rank == 1 and self.rnd.random() < 0.3:
                return Node(self.choice(["dot", "outer"]), {}, [x, y])
            return Node("matmul", {"infix": self.rnd.random() < 0.6}, [x, y])
        if kind == "shape":
            return self.shape_op(x, sig)
        if kind == "index":
            return self.index_op(x, sig)
        if kind == "where":
            c, _ = self.sub(depth)
            c = Node("bin", {"op": self.choice([">", "<"])}, [c, self.literal()])
            y = self.literal(dt) if self.rnd.random() < 0.4 else self.sub(depth)[0]
            return Node("where", {}, [c, x, y])
        if kind == "clip":
            lo, hi = sorted(self.rnd.sample([-2, -1, 0, 1, 2, 3, -0.5, 0.5, 1.5], 2))
            return Node("clip", {"lo": lo, "hi": hi, "method": self.rnd.random() < 0.3}, [x])
        if kind == "astype":
            return Node("astype", {"dt": self.choice(L.DTYPES)}, [x])
        if kind == "catstack":
            shp = [d if isinstance(d, int) else 1 for d in sig]
            y = Node("un", {"op": self.choice(["neg", "abs", "relu", "floor"])}, [x]) if self.rnd.random() < 0.5 else \
                self.literal_tensor(shp, dt)
            if self.rnd.random() < 0.5 and rank:
                consts = [i for i, d in enumerate(sig) if isinstance(d, int)]
                if not consts:
                    raise Invalid("cat needs a constant axis")
                ax = self.choice(consts)
                if y.kind == "tensor":
                    shp[ax] = self.choice([1, 2])
                    y = self.literal_tensor(shp, dt)
                return Node("cat", {"axis": ax, "alias": self.choice(["cat", "concatenate"])}, [x, y] if self.rnd.random() < 0.5 else [y, x])
            return Node("stack", {"axis": self.rnd.randint(-rank - 1, rank)}, [x, y])
        raise ValueError(kind)

    def shape_op(self, x, sig):
        rank = len(sig)
        op = self.choice(["reshape", "T", "transpose", "unsqueeze", "squeeze", "flatten", "flip", "broadcast_to"])
        if op == "reshape":
            syms = [d for d in sig if not isinstance(d, int)]
            if any(d is None for d in syms) or len(syms) > 1:
                raise Invalid("reshape of derived dims")
            const = int(np.prod([d for d in sig if isinstance(d, int)]))
            factors = [f for f in (1, 2, 3, 4, 6) if const % f == 0]
            f = self.choice(factors)
            shape = [f, -1] if self.rnd.random() < 0.5 else [-1, f]
            if not syms and self.rnd.random() < 0.3:
                shape = [const // f, f]
            if self.rnd.random() < 0.2:
                shape = [-1]
            return Node("reshape", {"shape": shape, "method": self.rnd.random() < 0.4}, [x])
        if op == "T":
            return Node("T", {}, [x])
        if op == "transpose":
            if rank < 2:
                raise Invalid("transpose of rank < 2")
            axes = list(range(rank))
            self.rnd.shuffle(axes)
            return Node("transpose", {"axes": axes, "method": self.rnd.random() < 0.3,
                                      "alias": self.choice(["transpose", "permute"])}, [x])
        if op == "unsqueeze":
            return Node("unsqueeze", {"axis": self.rnd.randint(-rank - 1, rank), "alias": self.choice(["unsqueeze", "expand_dims"])}, [x])
        if op == "squeeze":
            ones = [i for i, d in enumerate(sig) if d == 1]
            if not ones:
                raise Invalid("no axis of size 1")
            return Node("squeeze", {"axis": self.choice(ones)}, [x])
        if op == "flatten":
            return Node("flatten", {"method": self.rnd.random() < 0.4}, [x])
        if op == "flip":
            if rank == 0:
                raise Invalid("flip of a scalar")
            return Node("flip", {"axis": self.rnd.randrange(rank)}, [x])
        if any(d is None for d in sig) or not sig:
            raise Invalid("broadcast_to of derived dims or of a scalar")
        shape = [self.choice([2, 3]) if d == 1 and self.rnd.random() < 0.6 else d for d in sig]
        if self.rnd.random() < 0.4:
            shape = [self.choice([2, 3] + list(self.prog.syms))] + shape
        return Node("broadcast_to", {"shape": shape}, [x])

    def index_op(self, x, sig, runtime=False):
        """x[items]; with runtime, slice bounds may be integer scalars known
        only at run time (the result's dims are then fresh symbols to tensorc,
        which the concrete runs cannot tell: see statement())."""
        rank = len(sig)
        if rank == 0:
            raise Invalid("indexing a scalar")
        items = []
        used_list = False
        ints = self.var_names(lambda vs: vs[0].a.ndim == 0 and L.CAT[vs[0].dt] == 1 and not vs[0].weak) if runtime else []
        for d in sig[:self.rnd.randint(1, rank)]:
            r = self.rnd.random()
            n = d if isinstance(d, int) else 2  # symbols are at least 2
            if n == 0:
                items.append(("slice", None, None, None))
            elif r < 0.3:
                items.append(("int", self.rnd.randrange(-n, n)))
            elif r < 0.45 and not used_list:
                used_list = True
                items.append(("list", [self.rnd.randrange(n) for _ in range(self.rnd.randint(1, 3))]))
            elif r < 0.55:
                items.append(("slice", None, None, None))
                items.insert(self.rnd.randint(0, len(items)), ("none",))
            elif isinstance(d, int) or (d is not None and ints and self.rnd.random() < 0.5):
                lo = self.choice([None, 0, 1, -1, -2] + ints)
                hi = self.choice([None, d, -1, 2, 5] + ints) if isinstance(d, int) else self.choice([None] + ints)
                st = self.choice([None, None, 1, 2, -1])
                items.append(("slice", lo, hi, st))
            else:
                items.append(("slice", self.choice([None, 0]), None, None))
        return Node("index", {"items": items}, [x])

    # -- statements
    def new_name(self):
        self.nvars += 1
        return "v%d" % self.nvars

    def try_stmt(self, s):
        """Runs s on every run's env; on Invalid the envs are left as they were."""
        saved = [dict(e) for e in self.envs]
        saved_deps = [dict(d) for d in self.deps]
        try:
            for env, deps in zip(self.envs, self.deps):
                exec_stmt(self.interp, s, env, deps)
            return True
        except Invalid:
            self.envs, self.deps = saved, saved_deps
            return False

    def statement(self):
        kind = self.weighted([(10, "assign"), (2, "for"), (2, "if"), (2, "grad"), (3, "setitem"), (1, "aug")])
        depth = self.rnd.randint(1, 4)
        if kind == "aug":
            names = self.var_names()
            if not names:
                raise Invalid("nothing to update")
            e, _ = self.expr(depth)
            return ("aug", self.choice(names), self.choice(["+", "-", "*", "/", "//", "%", "**"]), e)
        if kind == "setitem":
            return self.setitem(depth)
        if kind == "assign" and self.rnd.random() < 0.15:
            # a slice with run-time bounds, only saved: its dims are fresh symbols that
            # tensorc may unify with anything they meet (docs/shapes.md)
            names = self.var_names(lambda vs: vs[0].a.ndim >= 1)
            if not names:
                raise Invalid("nothing to slice")
            x = self.choice(names)
            e = self.index_op(Node("var", {"name": x}), self.sig(self.vals_of(x)), runtime=True)
            name = self.new_name()
            self.opaque.add(name)
            return ("assign", name, e, None)
        if kind == "assign":
            e, _ = self.expr(depth)
            fn = None
            if self.rnd.random() < 0.15 and not e.uses_symbols() and e.names():
                self.nfns += 1
                fn = "f%d" % self.nfns
            return ("assign", self.new_name(), e, fn)
        if kind == "for":
            names = self.var_names(lambda vs: L.is_float(vs[0].dt))
            if not names:
                raise Invalid("no float to carry")
            acc = self.choice(names)
            name = self.new_name()
            init = ("assign", name, Node("var", {"name": acc}), None)
            if not self.try_stmt(init):
                raise Invalid("init")
            self.prog.stmts.append(init)
            ivar = "i%d" % self.nvars
            vs = self.vals_of(name)
            body_e, _ = self.expr(depth, want_float=True)
            step = Node("bin", {"op": "*"}, [Node("var", {"name": ivar}), Node("lit", {"value": 0.25})])
            mix = Node("bin", {"op": "*"}, [Node("var", {"name": name}), Node("lit", {"value": 0.5})])
            upd = Node("bin", {"op": "+"}, [mix, Node("bin", {"op": "+"}, [body_e, step])])
            if self.rnd.random() < 0.5:
                upd = Node("un", {"op": "tanh"}, [upd])
            upd = Node("astype", {"dt": vs[0].dt}, [upd]) if self.rnd.random() < 0.5 else upd
            count = self.choice([1, 2, 3] + list(self.prog.syms))
            sig = self.sig(vs)
            if sig and sig[0] is not None and self.rnd.random() < 0.4:  # name[i] = f(name[i], i): a row per trip
                row = Node("index", {"items": [("int", ivar)]}, [Node("var", {"name": name})])
                e = Node("bin", {"op": "+"}, [Node("bin", {"op": self.choice(["*", "+", "-"])}, [row, Node("lit", {"value": 0.5})]),
                                              Node("bin", {"op": "*"}, [Node("var", {"name": ivar}), Node("lit", {"value": 0.25})])])
                if self.rnd.random() < 0.5:
                    e = Node("un", {"op": self.choice(["tanh", "exp", "sin", "abs"])}, [e])
                return ("for", ivar, sig[0], [(name, e, [("int", ivar)])])
            return ("for", ivar, count, [(name, upd)])
        if kind == "if":
            c, _ = self.expr(depth)
            cond = Node("bin", {"op": self.choice([">", "<"])}, [Node("red", {"op": self.choice(["sum", "mean", "max"]), "axis": None}, [c]),
                                                                 self.literal("f32")])
            a, av = self.expr(depth)
            for _ in range(10):
                b, bv = self.expr(depth)
                if bv[0].dt == av[0].dt and all(x.a.shape == y.a.shape for x, y in zip(av, bv)):
                    break
            else:
                b = Node("un", {"op": "abs" if av[0].dt != "bool" else "logical_not"}, [a.copy()])
            name = self.new_name()
            return ("if", cond, [(name, a)], [(name, b)])
        # grad
        names = self.var_names(lambda vs: L.is_float(vs[0].dt))
        if not names:
            raise Invalid("no float to differentiate")
        wrt = self.choice(names)
        # the loss: differentiable ops of wrt (and values that do not depend on it)
        e = Node("var", {"name": wrt})
        for _ in range(self.rnd.randint(1, 3)):
            op = self.choice(["exp", "tanh", "sigmoid", "sin", "softplus", "mul", "add", "sq", "matmul", "mean", "gelu",
                              "div", "log", "slice", "T"])
            if op in ("mul", "add", "div"):
                other = self.literal_tensor([] if self.rnd.random() < 0.5 else self.grad_shape(e)[-1:], "f32")
                if op == "div":
                    other = Node("bin", {"op": "+"}, [Node("un", {"op": "abs"}, [other]), Node("lit", {"value": 1.0})])
                e = Node("bin", {"op": {"mul": "*", "add": "+", "div": "/"}[op]}, [e, other])
            elif op == "sq":
                e = Node("bin", {"op": "**"}, [e, Node("lit", {"value": 2})]) if self.rnd.random() < 0.5 else \
                    Node("bin", {"op": "*"}, [e, e.copy()])
            elif op == "log":
                e = Node("un", {"op": "log"}, [Node("bin", {"op": "+"}, [Node("un", {"op": "softplus"}, [e]), Node("lit", {"value": 0.5})])])
            elif op == "matmul":
                e = Node("matmul", {}, [e, self.literal_tensor(self.grad_shape(e)[-1:] + [self.choice([1, 2, 3])], "f32")])
            elif op == "mean":
                e = Node("red", {"op": self.choice(["mean", "sum", "logsumexp"]), "axis": 0, "keepdims": self.rnd.random() < 0.5}, [e])
            elif op == "slice":
                start, step = self.choice([None, 1]), self.choice([None, -1])
                if start == 1 and step == -1 and any(v.a.ndim == 0 or v.a.shape[0] < 2
                                                     for v in (self.interp.ev(e, env) for env in self.envs)):
                    # x[1::-1] of a symbolic dim has 2 rows to tensorc, assuming the
                    # dim has 2 (docs/shapes.md: "assumed"); NumPy gives 1 for a dim of
                    # 1 (a0[1:][1::-1] with N = 2, seed 1135945)
                    start = None
                e = Node("index", {"items": [("slice", start, None, step)]}, [e])
            elif op == "T":
                e = Node("T", {}, [e])
            else:
                e = Node("un", {"op": op}, [e])
        w = self.literal_tensor([], "f32")
        loss = Node("red", {"op": "sum", "axis": None}, [Node("bin", {"op": "*"}, [e, w])]) if self.rnd.random() < 0.6 else \
            Node("red", {"op": "mean", "axis": None}, [e])
        return ("grad", self.new_name(), loss, wrt)

    def grad_shape(self, e):
        """The constant shape of e (a loss being built), for literal operands:
        a loss reads no name but the one it differentiates, since tensorc may
        see two names as one value (x = y, or equal expressions), which the
        reference's finite differences cannot know."""
        sig = self.sig([self.interp.ev(e, env) for env in self.envs])
        if not all(isinstance(d, int) for d in sig):
            raise Invalid("a symbolic shape in the loss")
        return sig

    def setitem(self, depth):
        names = self.var_names(lambda vs: vs[0].a.ndim >= 1)
        if not names:
            raise Invalid("nothing to index")
        name = self.choice(names)
        vals = self.vals_of(name)
        dt = vals[0].dt
        op = self.choice([None, None, None, "+", "-", "*"])
        if self.rnd.random() < 0.3:
            mask = Node("bin", {"op": self.choice([">", "<"])}, [Node("var", {"name": name}), self.literal(dt)])
            return ("setitem", name, None, mask, self.literal(dt), op)
        items = self.index_op(Node("var", {"name": name}), self.sig(vals)).attrs["items"]
        items = [("list", sorted(set(it[1]))) if it[0] == "list" else it for it in items]
        sel = [v.a[L.index_tuple(items, env)].shape for v, env in zip(vals, self.envs)]
        r = self.rnd.random()
        if r < 0.4:
            value = self.literal(dt)
        elif r < 0.7 and all(s == sel[0] for s in sel):
            shape = [1 if self.rnd.random() < 0.2 else d for d in sel[0]]
            value = self.literal_tensor(shape[self.rnd.randint(0, len(shape)) if self.rnd.random() < 0.3 else 0:],
                                        self.choice([dt, dt, "f32", "i64"]))
        else:
            value, _ = self.expr(depth)
        return ("setitem", name, items, None, value, op)

    def generate(self, nstmts=None):
        self.make_inputs()
        self.start()
        nstmts = nstmts or self.rnd.randint(2, 10)
        tries = 0
        while sum(1 for s in self.prog.stmts) < nstmts and tries < 60:
            tries += 1
            try:
                s = self.statement()
            except Invalid:
                continue
            if self.try_stmt(s):
                self.prog.stmts.append(s)
        assigned = [s[1] for s in self.prog.stmts if s[0] in ("assign", "grad")] + \
                   [n for s in self.prog.stmts if s[0] == "for" for n, *_ in s[3]] + \
                   [n for s in self.prog.stmts if s[0] == "if" for n, _ in s[2]]
        assigned = list(dict.fromkeys(assigned))
        if not assigned:
            raise Invalid("no statement")
        k = min(len(assigned), self.rnd.randint(1, 4))
        self.prog.outputs = sorted(set(self.rnd.sample(assigned, k) + [assigned[-1]]), key=assigned.index)
        expected(self.prog)  # the whole program once more, in both modes, as the driver will
        return self.prog


def generate(seed, known_bugs=False):
    """The program of this seed (retrying with derived seeds when a draw fails)."""
    for attempt in range(20):
        try:
            return Gen(seed * 1000 + attempt if attempt else seed, known_bugs).generate()
        except Invalid:
            continue
        except Exception as e:  # a generator bug: say so, and draw again
            print("gen_program.py: seed %d (attempt %d): %s: %s" % (seed, attempt, type(e).__name__, e), file=sys.stderr)
            continue
    raise SystemExit("seed %d: no valid program" % seed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", help="write prog.tc, the inputs and the expected outputs here")
    ap.add_argument("--known-bugs", action="store_true", help="also generate what known bugs break (see the docstring)")
    a = ap.parse_args()
    prog = generate(a.seed, a.known_bugs)
    if a.out:
        write(prog, a.out)
        for r in range(len(prog.runs)):
            print("run%d: ./prog %s" % (r, " ".join(run_args(prog, r))))
    else:
        sys.stdout.write(render(prog))


if __name__ == "__main__":
    main()
