"""The numbers abi_test printed against NumPy: the logits of mlp.tc's
forward pass from the params the program wrote (W1 b1 W2 b2 .npy)."""
import re
import sys

import numpy as np

out, pdir = sys.argv[1], sys.argv[2]
text = open(out).read()
p = {n: np.load(f"{pdir}/{n}.npy") for n in ("W1", "b1", "W2", "b2")}
X = np.array([[2, 0, 0, 1], [0, 2, 0, -1], [0, 0, 2, 0.5], [1.5, 0, 0, 0]], np.float32)
want = np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
got = np.array([[float(v) for v in m.split()] for m in re.findall(r"logits\[\d\] = (.*)", text)], np.float32)
if got.shape != want.shape or not np.allclose(got, want, rtol=1e-5, atol=1e-6):
    sys.exit(f"logits differ:\n got {got}\nwant {want}")
print("logits match NumPy")
