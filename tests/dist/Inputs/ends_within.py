"""Runs a command that must fail: checks that it ends, with a non-zero exit
code, within SECONDS, then prints its output (stdout and stderr) and exit
code for FileCheck.  usage: ends_within.py SECONDS COMMAND..."""
import subprocess
import sys
import time

limit = float(sys.argv[1])
start = time.monotonic()
try:
    p = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=limit,
                       universal_newlines=True)
except subprocess.TimeoutExpired as e:
    sys.exit("still running after %g s: %s" % (limit, (e.output or b"")[-2000:]))
took = time.monotonic() - start
sys.stdout.write(p.stdout)
print("exit code %s, ended %s" % ("non-zero" if p.returncode else "zero", "in time" if took < limit else "late"))
