#!/usr/bin/env python3
"""Fuzz the compiler with malformed programs: it must never crash or hang.

Writes COUNT programs (10,000 by default) into OUT, deterministically from
SEED: mutations of the valid programs below (tokens deleted, duplicated,
swapped or replaced, lines re-indented, shuffled or cut, invalid UTF-8 and
control bytes spliced in, brackets and operators nested thousands deep) and
plain random bytes.  Then it runs `tensorc --emit=ir` on each, JOBS at a
time, and fails when any run

  - dies by a signal (a crash, an abort, a sanitizer report),
  - exits with a code other than 0 or 1 (3 is an internal error: a bug),
  - exits 1 without printing "error:" on stderr, or
  - takes more than TIMEOUT seconds.

It prints one summary line, and the failures (first 20) with the file, the
reason and the last line of stderr; OUT/failures.txt lists them all.  The
inputs that passed are deleted (unless --keep); the failing ones stay in
OUT, to reproduce them.

  gen_fuzz.py --tensorc build/bin/tensorc --out /tmp/fuzz [--count N]
              [--seed S] [--jobs J] [--timeout SECONDS] [--keep]
"""
import argparse
import os
import random
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

# ---- the valid programs that the mutations start from ----

SEEDS = [
    # SPEC §1.1: the whole language in one program.
    '''import nn

const H = 64
param W1 = randn(64, H) * sqrt(2.0 / 64)
param b1 = zeros(H)
param W2 = randn(H, 10) * sqrt(2.0 / H)
param b2 = zeros(10)

def forward(x: f32[B, 64]) -> f32[B, 10]:
    h = relu(x @ W1 + b1)
    return h @ W2 + b2

export def predict(x: f32[B, 64]) -> i64[B]:
    return forward(x).argmax(axis=1)

def main(data: f32[N, 65], epochs: i64 = 20, lr: f32 = 0.1):
    X = data[:, :-1] / 16.0
    y = data[:, -1].astype(i64)
    for epoch in range(epochs):
        for xb, yb in batches(X, y, size=32, shuffle=True):
            loss = nn.cross_entropy(forward(xb), yb)
            for p in params():
                p -= lr * grad(loss, p)
        print("epoch", epoch, "loss", loss, "accuracy", mean(predict(X) == y))
''',
    # Indexing and slicing.
    '''def pick(x: f32[N, M], logp: f32[N, 10], y: i64[N]) -> f32[N]:
    a = x[:, :-1]
    b = x[::2, 1:3]
    c = x[..., None]
    d = x[::-1, 0]
    e = logp[arange(N), y]
    x[0, 1:] = 0.0
    return a.sum(axis=1) + d + e
''',
    # Control flow and assignment forms.
    '''const K = 3

def f(a: f32[N], b: f32[N], n: i64) -> (f32[N], f32):
    s = 0.0
    t, u = a, b
    for i in range(n):
        s += (a * b).sum()
    for i in range(1, n, 2):
        t *= 2.0
    for v in [a, b]:
        u -= v / 3
    if s > 1.0:
        s = s ** 2
    elif not s < -1.0 and n != 0:
        s = -s
    else:
        pass
    return t + u, s

export def g(x: f32[N]) -> f32:
    y, z = f(x, x, K)
    return z
''',
    # Expressions: precedence, literals, calls, methods.
    '''def e(x: f32[N, 4], w: f32[4, 4]) -> f32[N, 4]:
    a = -x ** 2 + 2 ** -1 * x // 3 % 5
    b = x @ w @ w.T
    c = [[1, 2], [3, 4]]
    d = tensor([[1.5, 2.5], [3.5, 4.5]], dtype=f64)
    m = where(x > 0, x, 0.0 * x)
    n = maximum(x, zeros_like(x)).reshape(-1, 2).reshape(N, 4)
    s = "file.npy"
    save(s, m)
    seed(3)
    return a + b + m + n + clip(x, -1.0, 1.0) * (True or False) + x.mean(axis=0, keepdims=True)
''',
    # Params, types with dimension expressions, training step.
    '''param W = randn(8, 8) * 0.01
param bias = zeros(8)

def layer(x: f32[B, 8]) -> f32[B, 8]:
    return tanh(x @ W + bias)

export def train_step(x: f32[B, 8], y: f32[B, 8], lr: f32) -> f32:
    loss = ((layer(x) - y) ** 2).mean()
    W -= lr * grad(loss, W)
    bias -= lr * grad(loss, bias)
    return loss

def shift(x: f32[N]) -> f32[N - 1]:
    return x[1:] - x[:-1]

def twice(x: f32[N]) -> f32[2 * N]:
    return cat([x, x], axis=0)
''',
]

VOCAB = [
    "def", "export", "return", "param", "const", "import", "for", "in", "range", "if",
    "elif", "else", "and", "or", "not", "True", "False", "None", "pass", "x", "y", "f32",
    "i64", "N", "0", "1", "2.5", "1e-3", '"s"', "'t'", "(", ")", "[", "]", ",", ":", ".",
    "...", "=", "+=", "-=", "**=", "@=", "+", "-", "*", "/", "//", "%", "**", "@", "<", "<=",
    ">", ">=", "==", "!=", "->", "\n", "\n    ", "\n        ", ";", "$", "while", "lambda",
    "sum(", "x.T", "x[", "grad(", "params()", "batches(", "nn.", "\\\n",
]

TOKEN_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*|\d+\.?\d*(?:[eE][+-]?\d+)?|"[^"\n]*"|'
                      r"'[^'\n]*'|\*\*=?|//=?|->|\.\.\.|[-+*/%@<>=!]=|\n[ ]*|#[^\n]*|[ ]+|.",
                      re.S)


def tokens(text):
    return TOKEN_RE.findall(text)


# ---- mutations ----

def m_delete(rng, t):
    for _ in range(rng.randint(1, 3)):
        if t:
            del t[rng.randrange(len(t))]
    return t


def m_duplicate(rng, t):
    i = rng.randrange(len(t))
    t.insert(i, t[i])
    return t


def m_swap(rng, t):
    i, j = rng.randrange(len(t)), rng.randrange(len(t))
    if rng.random() < 0.5 and i + 1 < len(t):
        j = i + 1
    t[i], t[j] = t[j], t[i]
    return t


def m_replace(rng, t):
    for _ in range(rng.randint(1, 3)):
        t[rng.randrange(len(t))] = rng.choice(VOCAB)
    return t


def m_insert(rng, t):
    t.insert(rng.randrange(len(t) + 1), rng.choice(VOCAB))
    return t


def token_mutation(rng, text):
    t = tokens(text)
    if not t:
        return text
    f = rng.choice([m_delete, m_duplicate, m_swap, m_replace, m_insert])
    return "".join(f(rng, t))


def reindent(rng, text):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        body = lines[i].lstrip(" \t")
        lines[i] = rng.choice(["", " ", "  ", "   ", "    ", "     ", "\t", "    \t",
                               " " * rng.randint(0, 40)]) + body
    return "\n".join(lines)


def lines_mutation(rng, text):
    lines = text.split("\n")
    k = rng.random()
    if k < 0.4:
        rng.shuffle(lines)
    elif k < 0.7:
        i = rng.randrange(len(lines))
        lines[i:i] = lines[i:i + rng.randint(1, 4)] * rng.randint(1, 3)
    else:
        del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def truncate(rng, text):
    return text[:rng.randrange(len(text) + 1)]


def splice_bytes(rng, data):
    data = bytearray(data)
    junk = [b"\xff", b"\xfe", b"\xc3", b"\xc3\xa9", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
            b"\x00", b"\x01", b"\x7f", b"\r", b"\x0c", b"\xe2\x9c\x93", b"\xc0\xaf", b"\x80"]
    for _ in range(rng.randint(1, 5)):
        data[rng.randrange(len(data) + 1):0] = rng.choice(junk)
    return bytes(data)


def deep(rng, text):
    n = rng.choice([10, 100, 255, 256, 257, 1000, 5000, 20000])
    k = rng.random()
    if k < 0.25:
        expr = "(" * n + "x" + ")" * n
    elif k < 0.4:
        expr = "[" * n + "1" + "]" * rng.randint(0, n)
    elif k < 0.55:
        expr = "-" * n + "x"
    elif k < 0.65:
        expr = "not " * n + "x"
    elif k < 0.75:
        expr = "x" + " ** x" * n
    elif k < 0.85:
        expr = " + ".join(["x"] * n)
    else:
        expr = "f(" * n + "x" + ")" * n
    body = "def f(x):\n    return %s\n" % expr
    if rng.random() < 0.3:  # deep blocks too
        depth = rng.choice([50, 99, 100, 101, 150])
        body += "def g(x):\n" + "".join(" " * (4 * i) + "if x:\n" for i in range(1, depth))
        body += " " * (4 * depth) + "pass\n"
    return body


def random_bytes(rng):
    n = rng.choice([0, 1, 2, 10, 100, 1000, 5000])
    if rng.random() < 0.5:  # printable-ish: more likely to reach the parser
        alphabet = b"abcdefxyz0123456789 ()[]:.,=+-*/@<>#\"'\n    \tdefreturnif"
        return bytes(rng.choice(alphabet) for _ in range(n))
    return bytes(rng.getrandbits(8) for _ in range(n))


def make_program(rng):
    """One malformed (or, by chance, valid) program as bytes."""
    k = rng.random()
    text = rng.choice(SEEDS)
    if k < 0.05:
        return random_bytes(rng)
    if k < 0.10:
        return deep(rng, text).encode()
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        f = rng.choice([token_mutation, token_mutation, token_mutation, reindent,
                        lines_mutation, truncate])
        text = f(rng, text)
    data = text.encode()
    if k > 0.9:
        data = splice_bytes(rng, data)
    return data


# ---- running the compiler ----

def run_one(tensorc, path, timeout):
    """Returns (exit code, None) when the run is fine, else (exit code,
    (reason, last line of stderr))."""
    start = time.monotonic()
    try:
        p = subprocess.run([tensorc, "--emit=ir", path], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ("took more than %g s" % timeout, "")
    err = p.stderr.decode("utf-8", "replace")
    last = err.strip().split("\n")[-1] if err.strip() else ""
    if p.returncode < 0:
        return p.returncode, ("killed by signal %d" % -p.returncode, last)
    if p.returncode == 3:
        return p.returncode, ("internal error (exit 3)", last)
    if p.returncode not in (0, 1):
        return p.returncode, ("exit code %d" % p.returncode, last)
    if p.returncode == 1 and "error:" not in err:
        return p.returncode, ("exit 1 without an error message", last)
    if time.monotonic() - start > timeout:
        return p.returncode, ("took more than %g s" % timeout, last)
    return p.returncode, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tensorc", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--jobs", type=int, default=min(4, max(2, os.cpu_count() or 2)))
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--keep", action="store_true", help="keep the inputs that passed too")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    paths = []
    for i in range(args.count):
        path = os.path.join(args.out, "fuzz_%05d.tc" % i)
        with open(path, "wb") as f:
            f.write(make_program(rng))
        paths.append(path)

    start = time.monotonic()
    # Threads are enough: each one waits on its own tensorc process.
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda p: run_one(args.tensorc, p, args.timeout), paths))
    elapsed = time.monotonic() - start

    failures = [(p, r[1]) for p, r in zip(paths, results) if r[1] is not None]
    accepted = sum(1 for r in results if r[0] == 0 and r[1] is None)
    rejected = sum(1 for r in results if r[0] == 1 and r[1] is None)
    if not args.keep:  # the failing inputs stay, to reproduce them
        for p, r in zip(paths, results):
            if r[1] is None:
                os.remove(p)
    with open(os.path.join(args.out, "failures.txt"), "w") as f:
        for p, (why, last) in failures:
            f.write("%s: %s: %s\n" % (p, why, last))
    print("fuzz: %d programs: %d rejected with errors, %d accepted, %d failures; "
          "%.1f s with %d jobs (seed %d)"
          % (len(paths), rejected, accepted, len(failures), elapsed, args.jobs, args.seed))
    for p, (why, last) in failures[:20]:
        print("FAIL %s: %s: %s" % (p, why, last))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
