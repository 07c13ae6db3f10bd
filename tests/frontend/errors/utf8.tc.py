"""Writes the inputs of utf8.tc into the folder argv[1]."""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "bad.tc"), "wb") as f:
    f.write(b"def f(x):\n"
            b"    \xc3\xa9 = 1\n"              # valid UTF-8, not ASCII
            b"    y = \xff\xfe + x\n"          # not UTF-8
            b"    s = \"a\xc3(\"\n"            # a cut sequence in a string
            b"    z\x00 = 1\n"                 # NUL
            b"    w = \x01\n"                  # control byte
            b"    v = \xed\xa0\x80\n"          # an encoded surrogate
            b"    # a comment may hold anything: \xff\x00\xc3\n"
            b"    return x\n")
with open(os.path.join(out, "good.tc"), "wb") as f:
    f.write("# comments and strings hold UTF-8: ✓\n"
            "const S = \"naïve ✓\"\n".encode())
