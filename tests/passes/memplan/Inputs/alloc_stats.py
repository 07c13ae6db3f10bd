"""Counts tcrt_alloc calls of a training executable (TENSORC_ALLOC_STATS=1)
at several epoch counts: the steady state must allocate a constant, small
number of buffers per epoch (memplan), take no new block from the system
per epoch (the context's cache, runtime/alloc.c: epochs=1 and 4 give the
same total), and the output must not change."""
import os
import re
import subprocess
import sys

exe, ref, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])


def run(path, epochs):
    env = dict(os.environ, TENSORC_ALLOC_STATS="1")
    p = subprocess.run([path, "epochs=%d" % epochs], env=env, capture_output=True, text=True, check=True)
    m = re.search(r"tcrt_alloc calls: (\d+), new blocks: (\d+)", p.stderr)
    assert m, p.stderr
    return int(m.group(1)), int(m.group(2)), p.stdout


counts, blocks, ref_blocks = {}, {}, {}
for e in (1, 2, 4):
    counts[e], blocks[e], out = run(exe, e)
    ref_count, ref_blocks[e], ref_out = run(ref, e)
    assert out == ref_out, "epochs=%d: the output differs from --no-memplan:\n%s\n%s" % (e, out, ref_out)
    if e == 2:
        ref_per_epoch = ref_count - run(ref, 1)[0]
per_epoch = counts[2] - counts[1]
print("allocations per epoch: %d (without memplan: %d)" % (per_epoch, ref_per_epoch))
assert counts[4] - counts[2] == 2 * per_epoch, counts
assert per_epoch <= limit, "%d allocations per epoch, expected at most %d" % (per_epoch, limit)
print("new blocks per epoch: %d (without memplan: %d)" % ((blocks[4] - blocks[1]) // 3,
                                                          (ref_blocks[4] - ref_blocks[1]) // 3))
assert blocks[4] == blocks[1], "new blocks: %s" % blocks
assert ref_blocks[4] == ref_blocks[1], "new blocks without memplan: %s" % ref_blocks
print("steady state ok")
