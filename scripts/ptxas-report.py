#!/usr/bin/env python3
"""ptxas-report.py - what ptxas makes of tensorc's PTX, one row per kernel.

The CUDA backend ships PTX next to each cubin (docs/gpu.md, "NVRTC and
ptxas"), and a driver JIT-compiles it for newer GPUs; so the PTX must
assemble for every architecture we claim, without register spills where we
promise none.  This runs `ptxas -arch=sm_NN -v` on each PTX file for each
architecture asked for and prints one table:

    arch   kernel   registers  spill_stores  spill_loads  shared_bytes  file

(spills and shared memory in bytes; rows by file, arch, then name; a
function that is no kernel, called and not inlined, has no register count
of its own: "-").  The numbers come
from ptxas -v's report on stderr:

    ptxas info    : Compiling entry function 'k0_axpb' for 'sm_80'
    ptxas info    : Function properties for k0_axpb
        0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
    ptxas info    : Used 32 registers, used 1 barriers, 128 bytes smem

Exit status 1 when ptxas fails on any file and arch (its message is shown),
or when --no-spills PATTERN (a regular expression, searched in kernel names)
matches a kernel that spills.  PTX assembles only for its own `.target` and
newer: without --arch each file is reported for its own target.

    scripts/ptxas-report.py --arch sm_75,sm_80,sm_90 out/           # every *.ptx below out/
    scripts/ptxas-report.py --no-spills '^k' --ptxas /opt/cuda/bin/ptxas model.sm_80.ptx

Python 3 standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

COLUMNS = ("arch", "kernel", "registers", "spill_stores", "spill_loads", "shared_bytes", "file")

FUNCTION = re.compile(r"Compiling (?:entry )?function '([^']+)'")
PROPERTIES = re.compile(r"Function properties for (\S+)")
SPILLS = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
REGISTERS = re.compile(r"Used (\d+) registers")
SHARED = re.compile(r"(\d+) bytes smem")
TARGET = re.compile(r"^\s*\.target\s+(sm_\d+)", re.M)


def find_ptxas(given):
    """--ptxas, else ptxas on PATH, else the toolkit's usual places."""
    if given:
        return given
    for cand in (shutil.which("ptxas"),
                 os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "ptxas"),
                 "/usr/local/cuda/bin/ptxas"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def ptx_files(paths):
    """The files named, and every *.ptx below each directory named."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".ptx")]
        else:
            files.append(p)
    return files


def parse(text):
    """ptxas -v's report to {function: row}, in the order ptxas names them.
    `Used N registers` belongs to the function being compiled; the spill
    line to the function whose properties precede it (kernels and called
    functions alike)."""
    rows, compiling, props = {}, None, None

    def row(name):
        return rows.setdefault(name, {"registers": "-", "spill_stores": 0, "spill_loads": 0,
                                      "shared_bytes": 0})
    for line in text.splitlines():
        m = FUNCTION.search(line)
        if m:
            compiling = m.group(1)
            row(compiling)
            continue
        m = PROPERTIES.search(line)
        if m:
            props = m.group(1)
            row(props)
            continue
        m = SPILLS.search(line)
        if m and props:
            row(props)["spill_stores"] = int(m.group(1))
            row(props)["spill_loads"] = int(m.group(2))
            continue
        m = REGISTERS.search(line)
        if m and compiling:
            row(compiling)["registers"] = int(m.group(1))
            s = SHARED.search(line)
            row(compiling)["shared_bytes"] = int(s.group(1)) if s else 0
    return rows


def run_ptxas(ptxas, arch, path):
    """(ok, report text) of one ptxas run; the cubin is thrown away."""
    try:
        p = subprocess.run([ptxas, "-arch=" + arch, "-v", path, "-o", os.devnull],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    except OSError as e:
        return False, str(e)
    return p.returncode == 0, p.stdout


def own_target(path):
    try:
        with open(path, errors="replace") as f:
            m = TARGET.search(f.read())
    except OSError:
        return None
    return m.group(1) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="PTX", help="PTX files, or directories of *.ptx")
    ap.add_argument("--arch", help="comma-separated sm_NN list (default: each file's .target)")
    ap.add_argument("--no-spills", metavar="PATTERN",
                    help="a spill in a kernel whose name matches this regular expression is an error")
    ap.add_argument("--ptxas", metavar="PATH", help="the ptxas to run (default: PATH, then /usr/local/cuda)")
    args = ap.parse_args()

    archs = [a.strip() for a in args.arch.split(",") if a.strip()] if args.arch else None
    for a in archs or []:
        if not re.fullmatch(r"sm_\d+[a-z]?", a):
            ap.error("--arch: '%s' is no sm_NN" % a)
    no_spills = None
    if args.no_spills is not None:
        try:
            no_spills = re.compile(args.no_spills)
        except re.error as e:
            ap.error("--no-spills: %s" % e)
    ptxas = find_ptxas(args.ptxas)
    if not ptxas:
        print("ptxas-report: error: no ptxas found (give --ptxas PATH)", file=sys.stderr)
        return 1
    files = ptx_files(args.paths)
    if not files:
        print("ptxas-report: error: no PTX files in %s" % " ".join(args.paths), file=sys.stderr)
        return 1

    table, errors = [], []
    for path in files:
        for arch in archs or [own_target(path) or "sm_80"]:
            ok, text = run_ptxas(ptxas, arch, path)
            if not ok:
                errors.append("ptxas -arch=%s failed on %s:\n%s" % (arch, path, text.rstrip()))
                continue
            for line in text.splitlines():
                if "warning" in line:
                    print("ptxas-report: %s (%s): %s" % (path, arch, line.strip()), file=sys.stderr)
            for name, r in sorted(parse(text).items()):
                table.append(dict(r, arch=arch, kernel=name, file=path))
                spilled = r["spill_stores"] or r["spill_loads"]
                if no_spills and spilled and no_spills.search(name):
                    errors.append("%s spills on %s: %d bytes stored, %d bytes loaded (%s; --no-spills %s)"
                                  % (name, arch, r["spill_stores"], r["spill_loads"], path, args.no_spills))

    cells = [COLUMNS] + [tuple(str(r[c]) for c in COLUMNS) for r in table]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    sys.stdout.flush()
    for e in errors:
        print("ptxas-report: error: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
