"""Writes the inputs of nesting.tc into the folder argv[1]."""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def write(name, text):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)


n = 10000
write("parens.tc", "def f(x):\n    return " + "(" * n + "x" + ")" * n + "\n")
write("lists.tc", "const A = " + "[" * n + "1" + "]" * n + "\n")
# 256 levels is allowed: a tensor literal nested to the limit parses.
write("deepest.tc", "def f(x):\n    return " + "[" * 256 + "x" + "]" * 256 + "\n")
# Unary operators nest without brackets: the parser's own stack limit.
write("minus.tc", "def f(x):\n    return " + "-" * n + "x\n")
# A long left-nested chain: the syntax tree's depth limit.
write("chain.tc", "def f(x):\n    return " + " + ".join(["x"] * 3000) + "\n")
write("elif.tc", "def f(x):\n    if x:\n        pass\n" + "    elif x:\n        pass\n" * 1500)
write("indent.tc", "def f(x):\n" + "".join(" " * (4 * i) + "if x:\n" for i in range(1, 120)))
