#!/usr/bin/env python3
# A stand-in for `ptxas -arch=sm_NN -v FILE -o OUT`, so that
# scripts/ptxas-report.py's parsing is tested without the CUDA toolkit
# (ptxas_parse.test): FILE holds a report ptxas printed (recorded.ptxas-v),
# which goes to stderr with @ARCH@ made sm_NN, and exit status 255 when it
# has a "ptxas fatal" line, as ptxas's own.  Any other command line fails.
import re
import sys

args = sys.argv[1:]
if len(args) != 5 or not re.fullmatch(r"-arch=sm_\d+", args[0]) or args[1] != "-v" or args[3] != "-o":
    sys.exit("fake-ptxas: unexpected arguments: %s" % " ".join(args))
arch = args[0][len("-arch="):]
with open(args[2]) as f:
    report = [l for l in f.read().splitlines() if not l.startswith("//")]
sys.stderr.write("".join(l.replace("@ARCH@", arch) + "\n" for l in report))
sys.exit(255 if any(l.startswith("ptxas fatal") for l in report) else 0)
