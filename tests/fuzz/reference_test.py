"""Checks of the differential fuzzer's reference (fuzzlang.py) itself, for
the rules its false alarms taught it: each would let a correct compiler
fail a campaign again if it regressed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzlang as L  # noqa: E402
from fuzzlang import Invalid, Node, V, np  # noqa: E402


def invalid(interp, node, env):
    try:
        interp.ev(node, env)
    except Invalid:
        return True
    return False


def main():
    it = L.Interp(None)
    # an f64 result of f32 arithmetic is "rounded" even where its value is
    # exact (seed 1099426: a0 - var(eye(3), ddof=1))
    env = {"a": V(np.zeros(3), "f64")}
    var = Node("red", {"op": "var", "axis": None, "ddof": 1}, [Node("eye", {"n": 3})])
    r = it.ev(Node("bin", {"op": "-"}, [Node("var", {"name": "a"}), var]), env)
    assert r.dt == "f64" and r.rounded, "f64 from f32 not flagged rounded"
    assert not it.ev(Node("bin", {"op": "+"}, [Node("var", {"name": "a"})] * 2), env).rounded, "exact f64 flagged"
    # argmax over every element: equal rows are a tie (seed 1206166)
    env = {"g": V(np.array([[1.0, 3.0], [1.0, 3.0]], np.float32), "f32")}
    am = Node("red", {"op": "argmax", "axis": None}, [Node("var", {"name": "g"})])
    assert invalid(it, am, env), "a tie across rows was not seen"
    # a rank above tensorc's 8 is not a program (seed 1402841)
    env = {"x": V(np.zeros((1,) * 8, np.float32), "f32")}
    assert invalid(it, Node("unsqueeze", {"axis": 0}, [Node("var", {"name": "x"})]), env), "rank 9 accepted"
    assert not invalid(it, Node("un", {"op": "neg"}, [Node("var", {"name": "x"})]), env), "rank 8 refused"
    print("reference ok")


if __name__ == "__main__":
    main()
