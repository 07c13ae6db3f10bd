"""with_asan.py LIB CMD ARGS... - runs CMD, with the ASan runtime preloaded
when LIB (a `tensorc --emit=shared` library) needs one.

In the ASan+UBSan build the library links the sanitized runtime, and a
python that is not built with ASan cannot dlopen it: ASan aborts with "ASan
runtime does not come first in initial library list".  Preloading the
runtime the library names (ldd) makes it load; leak checking is off, as the
interpreter itself leaks at exit.  In the normal build this runs CMD as is.
"""
import os
import subprocess
import sys

lib, cmd = sys.argv[1], sys.argv[2:]
env = dict(os.environ)
deps = subprocess.run(["ldd", lib], capture_output=True, text=True, check=True).stdout
for line in deps.splitlines():
    name, _, rest = line.strip().partition(" => ")
    if ("libasan" in name or "libclang_rt.asan" in name) and rest:
        env["LD_PRELOAD"] = rest.split()[0]
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
os.execvpe(cmd[0], cmd, env)
