"""Bare list literals as tensors (issue 13 item 8): nested lists, NumPy's
dtype rules with the default float f32, nan/inf/pi, lists as operands,
arguments and indices, and literals across lines, against NumPy."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, I64, np  # noqa: E402

KNOWN_FAILURES = {}


def build(s):
    p = s.program("lists", "x: f32[3], M: f32[2, 3]")
    p.run(x=s.smallf((3,)), M=s.smallf((2, 3)))
    for e, want in (
            ("[1.0, 2.0, 3.0]", "np.array([1, 2, 3], F32)"),
            ("[[1, 2.5], [3, 4]]", "np.array([[1, 2.5], [3, 4]], F32)"),
            ("[1, -2, 3]", "np.array([1, -2, 3], I64)"),
            ("[True, False, True]", "np.array([True, False, True])"),
            ("[True, 2]", "np.array([True, 2], I64)"),
            ("[nan, inf, -inf]", "np.array([np.nan, np.inf, -np.inf], F32)"),
            ("[pi, -pi, 2 * pi]", "np.array([np.pi, -np.pi, 2 * np.pi], F32)"),
            ("[[[1], [2]], [[3], [4]]]", "np.array([[[1], [2]], [[3], [4]]], I64)"),
            ("[]", "np.array([], F32)"),
            ("x + [1, 2, 3]", "x + np.array([1, 2, 3], F32)"),
            ("x * [0.5, 2.0, -1.0]", "x * np.array([0.5, 2, -1], F32)"),
            ("M + [[1.0], [2.0]]", "M + np.array([[1], [2]], F32)"),
            ("M @ [1.0, 0.0, -1.0]", "M @ np.array([1, 0, -1], F32)"),
            ("x[[2, 0, 1]]", "x[[2, 0, 1]]"),
            ("M[[1, 0], [0, 2]]", "M[[1, 0], [0, 2]]"),
            ("sum([1.5, 2.5, 3.0])", "F32(7)"),
            ("maximum(x, [0.0, 1.0, 2.0])", "np.maximum(x, np.array([0, 1, 2], F32))"),
            ("where([True, False, True], x, 0.0)", "np.where(np.array([True, False, True]), x, F32(0))"),
            ("stack([x, [1.0, 2.0, 3.0]])", "np.stack([x, np.array([1, 2, 3], F32)])"),
            ("[1, 2, 3] / 2", "np.array([0.5, 1, 1.5], F32)"),
            ("[1, 2, 3] * 2", "np.array([2, 4, 6], I64)"),
            ("[1.0, 2.0] == [1.0, 3.0]", "np.array([True, False])")):
        p.check(e, want)
    p.block("across lines", ["w = [", "    [1, 2],", "    [3, 4],", "]", 'save("w.npy", w * 10)'],
            {"w": "np.array([[10, 20], [30, 40]], I64)"})
    p.block("a literal bound to a name, then indexed", ["lit = [1.0, 2.0, 3.0]", "lit[1] = -x[0]", 'save("lit.npy", lit)'],
            {"lit": "np.array([1, -x[0], 3], F32)"})
    p.block("printed", ["print([1.5, 2.0])", "print([[1, 2], [3, 4]])"],
            stdout=lambda ns: "%s\n%s\n" % (np.array([1.5, 2.0], F32), np.array([[1, 2], [3, 4]])))


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
