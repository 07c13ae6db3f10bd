"""Counts tcrt_alloc calls of a training executable (TENSORC_ALLOC_STATS=1)
at several epoch counts: the steady state must allocate a constant, small
number of buffers per epoch (memplan), and the output must not change."""
import os
import re
import subprocess
import sys

exe, ref, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])


def run(path, epochs):
    env = dict(os.environ, TENSORC_ALLOC_STATS="1")
    p = subprocess.run([path, "epochs=%d" % epochs], env=env, capture_output=True, text=True, check=True)
    m = re.search(r"tcrt_alloc calls: (\d+)", p.stderr)
    assert m, p.stderr
    return int(m.group(1)), p.stdout


counts = {}
for e in (1, 2, 4):
    counts[e], out = run(exe, e)
    ref_count, ref_out = run(ref, e)
    assert out == ref_out, "epochs=%d: the output differs from --no-memplan:\n%s\n%s" % (e, out, ref_out)
    if e == 2:
        ref_per_epoch = ref_count - run(ref, 1)[0]
per_epoch = counts[2] - counts[1]
print("allocations per epoch: %d (without memplan: %d)" % (per_epoch, ref_per_epoch))
assert counts[4] - counts[2] == 2 * per_epoch, counts
assert per_epoch <= limit, "%d allocations per epoch, expected at most %d" % (per_epoch, limit)
print("steady state ok")
