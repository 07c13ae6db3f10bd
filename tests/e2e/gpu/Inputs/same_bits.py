"""Usage: same_bits.py DIR_A DIR_B: every .npy of DIR_A has the same bytes in DIR_B."""
import os
import sys

import numpy as np

a, b = sys.argv[1:3]
names = sorted(f for f in os.listdir(a) if f.endswith(".npy"))
bad = [f for f in names if np.load(os.path.join(a, f)).tobytes() != np.load(os.path.join(b, f)).tobytes()]
print("%d files, %d differ%s" % (len(names), len(bad), (": " + " ".join(bad)) if bad else ""))
sys.exit(1 if bad or not names else 0)
