"""Writes the inputs of bigfile.tc (10 MB each) into the folder argv[1]."""
import os
import random
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
SIZE = 10 * 1024 * 1024

block = """
def forward{i}(x: f32[B, 64]) -> f32[B, 10]:
    h = relu(x @ W1 + b1)  # a comment
    if h.shape[0] > 3:
        h = h[:, :-1] * 2.5e-3
    return h @ W2 + b2
"""
parts, size, i = ["param W1 = randn(64, 64)\n"], 0, 0
while size < SIZE:
    parts.append(block.format(i=i))
    size += len(parts[-1])
    i += 1
with open(os.path.join(out, "program.tc"), "w") as f:
    f.write("".join(parts))

with open(os.path.join(out, "line.tc"), "w") as f:
    f.write("def f(x):\n    return " + " + ".join(["x"] * (SIZE // 4)) + "\n")

rng = random.Random(1234)
with open(os.path.join(out, "garbage.tc"), "wb") as f:
    f.write(bytes(rng.getrandbits(8) for _ in range(SIZE)))
