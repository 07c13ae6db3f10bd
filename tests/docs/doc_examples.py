"""Compile and run the example programs of docs/*.md, so the docs stay true.

An example is checked when the line before its fenced block is a marker:

    <!-- check -->                 compile to an executable, run it (exit 0)
    <!-- check: OPTION ... -->     with options (below)

and the block that follows it (after any prose) is its expected output when
the line before that block is `<!-- output -->` (stdout, or stderr with the
`error` option). Options, space separated:

    emit=KIND      `tensorc --emit=KIND` instead of an executable (obj for a
                   module without `main`); for tokens, ast and ir the output
                   block is what it prints
    error          the compile must fail with exit 1; the output block is
                   the first lines of its stderr
    fails          the executable must stop with exit 1 (a run-time error);
                   the output block is the first lines of its stderr
    args=A,B       the executable's arguments (NAME=VALUE words), commas
                   between them
    file=NAME      the program's file name (default example.tc), for
                   messages that quote it
    flags=F,G      more tensorc options, commas between them
    stderr         the output block is (part of) the compiler's stderr, for
                   dumps such as --dump-after=fusion
    part           the output block is a run of consecutive lines anywhere
                   in the output, not all of it
    gpu            needs a tensorc built with NVRTC (`tensorc --version`
                   lists cuda); skipped, and counted as skipped, without

The output is compared line by line, trailing spaces ignored. The markers
are HTML comments, so the rendered docs show nothing of them.

    python3 tests/docs/doc_examples.py --tensorc build/bin/tensorc --work /tmp/de docs *.md */README.md
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

MARK = re.compile(r"^<!--\s*check(?::\s*(.*?))?\s*-->\s*$")
OUTPUT_MARK = re.compile(r"^<!--\s*output\s*-->\s*$")
FENCE = re.compile(r"^(\s*)```")
TEXT_KINDS = ("tokens", "ast", "ir")  # kinds printed on stdout


class Example:
    def __init__(self, doc, line, options, code):
        self.doc, self.line, self.options, self.code = doc, line, options, code
        self.expected = None  # list of lines, when the doc shows the output

    def name(self):
        return "%s:%d" % (os.path.basename(self.doc), self.line)


def read_block(lines, i):
    """The fenced block starting at lines[i]: (text lines, index after it)."""
    indent = len(FENCE.match(lines[i]).group(1))
    body = []
    i += 1
    while i < len(lines) and not FENCE.match(lines[i]):
        body.append(lines[i][indent:])
        i += 1
    if i == len(lines):
        raise SystemExit("unclosed ``` block")
    return body, i + 1


def parse_options(doc, line, text):
    opts = {}
    for word in (text or "").split():
        key, eq, value = word.partition("=")
        if key not in ("emit", "error", "fails", "args", "file", "flags", "stderr", "part", "gpu"):
            raise SystemExit("%s:%d: unknown check option '%s': expected emit=, error, fails, "
                             "args=, file=, flags=, stderr, part or gpu" % (doc, line, key))
        opts[key] = value if eq else True
    return opts


def examples_of(doc):
    lines = open(doc, encoding="utf-8").read().split("\n")
    found, i, last = [], 0, None
    while i < len(lines):
        m = MARK.match(lines[i])
        if m:
            if i + 1 >= len(lines) or not FENCE.match(lines[i + 1]):
                raise SystemExit("%s:%d: expected a ``` block on the line after the check marker"
                                 % (doc, i + 1))
            body, after = read_block(lines, i + 1)
            last = Example(doc, i + 2, parse_options(doc, i + 1, m.group(1)), body)
            found.append(last)
            i = after
            continue
        if OUTPUT_MARK.match(lines[i]):
            if last is None or last.expected is not None:
                raise SystemExit("%s:%d: an output marker without a checked example before it"
                                 % (doc, i + 1))
            if i + 1 >= len(lines) or not FENCE.match(lines[i + 1]):
                raise SystemExit("%s:%d: expected a ``` block on the line after the output marker"
                                 % (doc, i + 1))
            last.expected, i = read_block(lines, i + 1)
            continue
        i += 1
    return found


def compare(expected, got, what, prefix_only, part=False):
    got_lines = [l.rstrip() for l in got.rstrip("\n").split("\n")] if got else []
    want = [l.rstrip() for l in expected]
    if part:
        if any(got_lines[k:k + len(want)] == want for k in range(len(got_lines))):
            return None
        return "%s does not hold the doc's lines:\n  %s\nit is:\n  %s" % (
            what, "\n  ".join(want), "\n  ".join(got_lines))
    if prefix_only:
        got_lines = got_lines[:len(want)]
    if got_lines == want:
        return None
    diff = ["%s differs from the doc:" % what]
    for k in range(max(len(want), len(got_lines))):
        a = want[k] if k < len(want) else "<none>"
        b = got_lines[k] if k < len(got_lines) else "<none>"
        if a != b:
            diff.append("  line %d: doc:  %s" % (k + 1, a))
            diff.append("  line %d: got:  %s" % (k + 1, b))
    return "\n".join(diff)


def run(cmd, cwd, timeout=60):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout)


def check(ex, tensorc, work):
    """None when the example behaves as its doc says, else the reason."""
    d = os.path.join(work, ex.name().replace(":", "_").replace(".md", ""))
    os.makedirs(d, exist_ok=True)
    src = ex.options.get("file", "example.tc")
    with open(os.path.join(d, src), "w") as f:
        f.write("\n".join(ex.code) + "\n")
    flags = [f for f in ex.options.get("flags", "").split(",") if f]
    emit = ex.options.get("emit")
    exe = os.path.join(d, os.path.splitext(src)[0])  # messages name it
    cmd = [tensorc, "-O0"] + flags + [src]
    if emit:
        cmd += ["--emit=" + emit] + ([] if emit in TEXT_KINDS else ["-o", os.path.join(d, "out")])
    else:
        cmd += ["-o", exe]
    c = run(cmd, d)
    if "error" in ex.options:
        if c.returncode != 1:
            return "expected a compile error (exit 1), got exit %d\n%s" % (c.returncode, c.stderr)
        return ex.expected and compare(ex.expected, c.stderr, "the compiler's stderr", True)
    if c.returncode != 0:
        return "tensorc %s failed (exit %d):\n%s" % (" ".join(cmd[1:]), c.returncode, c.stderr)
    part = "part" in ex.options
    if "stderr" in ex.options:
        return ex.expected and compare(ex.expected, c.stderr, "the compiler's stderr", False, part)
    if emit:
        if ex.expected and emit not in TEXT_KINDS:
            return "an output block after an --emit=%s example: only tokens, ast and ir print" % emit
        return ex.expected and compare(ex.expected, c.stdout, "--emit=%s's output" % emit, False, part)
    args = [a for a in ex.options.get("args", "").split(",") if a]
    r = run([exe] + args, d)
    if "fails" in ex.options:
        if r.returncode != 1:
            return "expected a run-time error (exit 1), got exit %d\n%s" % (r.returncode, r.stderr)
        return ex.expected and compare(ex.expected, r.stderr, "the run's stderr", True)
    if r.returncode != 0:
        return "the executable failed (exit %d):\n%s" % (r.returncode, r.stderr)
    return ex.expected and compare(ex.expected, r.stdout, "the run's stdout", False, part)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tensorc", default="tensorc")
    ap.add_argument("--work", required=True, help="scratch directory (emptied first)")
    ap.add_argument("docs", nargs="+", help="Markdown files, or folders whose *.md to read")
    a = ap.parse_args()
    tensorc = os.path.abspath(shutil.which(a.tensorc) or a.tensorc)
    a.work = os.path.abspath(a.work)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    version = run([tensorc, "--version"], a.work).stdout
    have_gpu = "cuda (NVRTC" in version
    failures, count, skipped = 0, 0, 0
    docs = []
    for path in a.docs:
        docs += sorted(glob.glob(os.path.join(path, "*.md"))) if os.path.isdir(path) else [path]
    for doc in docs:
        for ex in examples_of(doc):
            if "gpu" in ex.options and not have_gpu:
                skipped += 1
                continue
            count += 1
            why = check(ex, tensorc, a.work)
            if why:
                failures += 1
                print("FAIL %s (%s)\n%s\n" % (ex.name(), doc, why))
    print("%d examples checked, %d failed" % (count, failures))
    if skipped:
        print("%d GPU examples skipped: this tensorc has no NVRTC" % skipped)
    if count == 0:
        print("no example is marked with <!-- check -->")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
