#!/usr/bin/env python3
"""Writes the libFuzzer dictionary of the frontend target: the language's
tokens, taken from the sources so that it never falls behind them.

  gen_dict.py SOURCE_DIR OUT

  - keywords and operators: the quoted patterns of frontend/lexer.l
    (and the Python keywords it refuses, PYKW1/PYKW2);
  - built-in functions and their keyword arguments: the table of
    frontend/builtins.c ({"zeros", "*shape dtype=", ...});
  - op names: the "text" column of ir/ops.def;
  - dtypes and a few shapes of literals the grammar cares about.
"""
import os
import re
import sys


def tokens(src):
    out = []
    lexer = open(os.path.join(src, "frontend", "lexer.l")).read()
    out += re.findall(r'^"([^"\s]+)"\s', lexer, re.M)
    for group in re.findall(r"^PYKW\d\s+\(([^)]*)\)", lexer, re.M):
        out += group.split("|")
    builtins = open(os.path.join(src, "frontend", "builtins.c")).read()
    for name, sig in re.findall(r'\{"([A-Za-z_0-9.]+)", "([^"]*)",', builtins):
        out.append(name)
        for word in sig.split():
            word = word.lstrip("*").rstrip("=")
            if word:
                out.append(word + "=")
    ops = open(os.path.join(src, "ir", "ops.def")).read()
    out += re.findall(r'^X\(\s*\w+\s*,\s*"([^"]+)"', ops, re.M)
    out += ["f32", "f64", "i32", "i64", "bool", "params()", "grad(", ".T", ".shape", ".astype(",
            "[N, M]", "f32[N]", "-> f32", ":\n    ", "\n", "    ", "1e-3", "0.5", "inf", "nan", "pi",
            "(", ")", "[", "]", ",", ":", ".", "=", "<", ">", "+", "-", "*", "/", "%", "@", "'", '"', "#", "\\\n"]
    seen, unique = set(), []
    for t in out:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    return unique


def quote(t):
    body = "".join("\\x%02x" % ord(c) if c in '"\\' or not 32 <= ord(c) < 127 else c for c in t)
    return '"%s"' % body


def main():
    src, out = sys.argv[1], sys.argv[2]
    text = "".join(quote(t) + "\n" for t in tokens(src))
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("# tensorc tokens for libFuzzer (tests/fuzz/libfuzzer/gen_dict.py)\n" + text)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
