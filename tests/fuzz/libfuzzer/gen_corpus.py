#!/usr/bin/env python3
"""Writes the seed corpora of the reader and C API targets (the frontend's
seeds are the .tc files of examples/, lib/ and tests/, see README.md):

  gen_corpus.py OUT_DIR        (OUT_DIR/npy, csv, params, capi)

Run once to make corpus/; what fuzzing adds is merged in by scripts/fuzz.sh.
Deterministic: the same files every run.
"""
import io
import os
import struct
import sys

import numpy as np


def npy_bytes(a, version=None):
    f = io.BytesIO()
    if version is None:
        np.save(f, a, allow_pickle=False)
    else:
        np.lib.format.write_array(f, a, version=version, allow_pickle=False)
    return f.getvalue()


def npy_files():
    rng = np.random.default_rng(7)
    out = {
        "f32_2x3.npy": npy_bytes(rng.standard_normal((2, 3)).astype(np.float32)),
        "f64_5.npy": npy_bytes(np.array([0.5, -1.0, np.nan, np.inf, 1e300])),
        "i32_scalar.npy": npy_bytes(np.array(7, dtype=np.int32)),
        "i64_2x2x2.npy": npy_bytes(np.arange(8, dtype=np.int64).reshape(2, 2, 2)),
        "bool_4.npy": npy_bytes(np.array([True, False, True, True])),
        "empty_0x3.npy": npy_bytes(np.zeros((0, 3), dtype=np.float32)),
        "u8_3.npy": npy_bytes(np.array([0, 1, 255], dtype=np.uint8)),
        "i16_3.npy": npy_bytes(np.array([-3, 0, 300], dtype=np.int16)),
        "f16_2.npy": npy_bytes(np.array([1.5, -2.0], dtype=np.float16)),
        "big_endian_f64.npy": npy_bytes(np.array([1.0, 2.5], dtype=">f8")),
        "fortran_3x2.npy": npy_bytes(np.asfortranarray(np.arange(6, dtype=np.float32).reshape(3, 2))),
        "v2_f32.npy": npy_bytes(np.ones(3, dtype=np.float32), version=(2, 0)),
        "v3_i64.npy": npy_bytes(np.arange(3, dtype=np.int64), version=(3, 0)),
        "rank8.npy": npy_bytes(np.zeros((1,) * 8, dtype=np.float32)),
    }
    # hand-made headers: key order, spacing, trailing commas, Python 2 long
    header = b"{'shape': (2L,), 'fortran_order': False, 'descr': '<i8' , }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    out["py2_long.npy"] = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + struct.pack("<2q", 1, 2)
    return out


def csv_files():
    return {
        "plain.csv": b"1,2,3\n4,5,6\n",
        "header.csv": b"a,b\n1.5,2\n-3,4e2\n",
        "semicolon.csv": b"x;y\n1;2\n3;4\n",
        "quoted.csv": b'"name, with comma","#"\n"1.0","2"\n',
        "comments.csv": b"# a comment\n\n1,2 # after\n3,4\r\n",
        "bom.csv": b"\xef\xbb\xbf1,2\n",
        "special.csv": b"nan,inf,-inf,infinity\n1e308,-1e-308,0,-0\n",
        "ragged.csv": b"1,2\n3\n",
        "empty_cell.csv": b"1,,3\n",
        "one_column.csv": b"1\n2\n3\n",
        "huge_int.csv": b"9.3e18,-9.3e18,2147483648,1e400\n",
    }


def params_files(npys):
    # header: dtype (1 + b % 5: bool i32 i64 f32 f64), rank, one byte per dim
    # (index into 0 1 2 3 4 5 8 16), then the .npy file
    def decl(dtype, dims):
        index = [0, 1, 2, 3, 4, 5, 8, 16]
        return bytes([dtype - 1, len(dims)] + [index.index(d) for d in dims])
    return {
        "f32_2x3.bin": decl(4, [2, 3]) + npys["f32_2x3.npy"],
        "f64_5.bin": decl(5, [5]) + npys["f64_5.npy"],
        "i64_as_f64.bin": decl(5, [2, 2, 2]) + npys["i64_2x2x2.npy"],
        "wrong_shape.bin": decl(4, [3, 2]) + npys["f32_2x3.npy"],
        "bool.bin": decl(1, [4]) + npys["bool_4.npy"],
        "i32_scalar.bin": decl(2, []) + npys["i32_scalar.npy"],
        "refused.bin": decl(1, [3]) + npys["i16_3.npy"],
    }


def capi_files():
    # fuzz_capi.c's encoding: function, how (bit 0: raw results), then per
    # tensor: flags 0 (declared rank, CPU, C order, data), dtype 0 (the
    # declared), one byte per dim (index into 0 1 2 3 4 5 7 8 16 ...),
    # the data bytes; per scalar: 0 then 8 bytes (an integer k as k + 2^20),
    # or for an integer 1 then its 8 bytes (any value).
    index = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 7: 6, 8: 7, 16: 8}

    def tensor(dims, itemsize, fill=b"\x3f"):
        n = int(np.prod(dims)) if dims else 1
        return bytes([0, 0] + [index[d] for d in dims]) + (fill * (n * itemsize))[: n * itemsize]

    def scalar(raw):
        return b"\x00" + raw.ljust(8, b"\x00")

    f32 = lambda v: struct.pack("<f", v)
    out = {
        "predict.bin": bytes([0, 0]) + tensor([2, 4], 4) + tensor([2], 8),
        "predict_raw.bin": bytes([0, 1]) + tensor([3, 4], 4),
        "logits.bin": bytes([1, 0]) + tensor([2, 4], 4) + tensor([2, 3], 4),
        "train_step.bin": bytes([2, 0]) + tensor([2, 4], 4) + tensor([2], 8, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        + scalar(f32(0.1)) + tensor([], 4),
        "scale.bin": bytes([3, 0]) + tensor([4], 4) + scalar(struct.pack("<d", 2.0)) + scalar(b"\x01")
        + scalar(struct.pack("<q", 3 + 2**20)) + tensor([4], 4),
        "fold.bin": bytes([4, 1]) + tensor([8], 4) + scalar(struct.pack("<q", 2 + 2**20)),
        "fold_bad_k.bin": bytes([4, 1]) + tensor([8], 4) + scalar(struct.pack("<q", 3 + 2**20)),
        # an empty x reshaped to k = 4.5e18 rows: a hang until passes/empty_guard.c
        "fold_empty_huge_k.bin": bytes([4, 1]) + tensor([0], 4) + b"\x01" + struct.pack("<q", 4500000000000000000),
        "tail.bin": bytes([5, 0]) + tensor([5], 4) + tensor([4], 4),
        "tail_empty.bin": bytes([5, 1]) + tensor([0], 4),
    }
    # strided: flags 8 (strides follow the dims), a transposed 2x4 view
    out["logits_strided.bin"] = bytes([1, 1, 8, 0, 2, 4, 1 + 8, 2 + 8]) + b"\x3f" * 32
    return out


def main():
    root = sys.argv[1]
    npys = npy_files()
    for target, files in (("npy", npys), ("csv", csv_files()), ("params", params_files(npys)),
                          ("capi", capi_files())):
        os.makedirs(os.path.join(root, target), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(root, target, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
