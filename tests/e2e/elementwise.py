"""Elementwise built-ins against NumPy: arithmetic with broadcasting and weak
scalars, the unary functions, maximum/minimum/where/clip, comparisons,
logical ops, isnan/isfinite; f32, f64, i32, i64 and bool operands; NaN and
inf inputs."""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402
from oracle import F32, F64, I32, I64, np  # noqa: E402

# "program: case" -> why it fails (a compiler/runtime bug, seen failing).
KNOWN_FAILURES = {
}


def build(s):
    # ---- f32 -------------------------------------------------------------
    p = s.program("f32", "x: f32[N, M], y: f32[M], pos: f32[N, M], u: f32[N, M], h: f32[N, M], "
                         "col: f32[N, 1], d: f64[N, M], s: f32")
    for n, m in ((4, 5), (3, 7)):
        halves = (s.ints(-8, 9, (n, m)) * 0.5).astype(F32)   # ties for round()
        p.run(x=s.normal((n, m)), y=s.normal((m,)), pos=s.uniform(0.1, 4.0, (n, m)),
              u=s.uniform(-0.9, 0.9, (n, m)), h=halves, col=s.normal((n, 1)),
              d=s.normal((n, m), F64), s=1.75)
    # arithmetic, broadcasting [N, M] with [M] and [N, 1], weak scalars
    for e in ("x + y", "x - y", "x * y", "x / pos", "y / pos", "x + col", "col - y", "col * y",
              "x + 2.5", "2.5 - x", "x * 2", "3 * x", "x / 4", "1 / pos", "x - 1", "x + s", "s * y",
              "-x", "x ** 2", "pos ** 0.5", "pos ** y", "2.0 ** x", "x ** 3", "pos ** -1.5",
              "x // y", "x % y", "x // 0.3", "x % 0.7", "-x % 0.7", "7.5 // pos", "7.5 % pos"):
        p.check(e)
    p.check("+x", "x")
    p.check("x + d", "x.astype(F64) + d")
    p.check("d * x", "d * x.astype(F64)")
    p.check("d / 2.5")
    p.check("x * 2.5 + y * 0.5 - 1.0", tol=(1e-5, 1e-5))
    p.check("t * t - x", "(x * y + np.float32(1)) ** 2 - x", pre=["t = x * y + 1.0"], tol=(1e-5, 1e-5))
    p.check("(x + y) * (x - y) / (pos + 1.0)", tol=(1e-5, 1e-5))
    # unary
    for e, want in (("neg(x)", "np.negative(x)"), ("abs(x)", "np.abs(x)"), ("sign(x)", "np.sign(x)"),
                    ("exp(x)", "np.exp(x)"), ("log(pos)", "np.log(pos)"), ("log1p(pos)", "np.log1p(pos)"),
                    ("log1p(u)", "np.log1p(u)"), ("expm1(x)", "np.expm1(x)"), ("sqrt(pos)", "np.sqrt(pos)"),
                    ("rsqrt(pos)", "rsqrt(pos)"), ("sin(x)", "np.sin(x)"), ("cos(x)", "np.cos(x)"),
                    ("tan(u)", "np.tan(u)"), ("tanh(x)", "np.tanh(x)"), ("sigmoid(x)", "sigmoid(x)"),
                    ("relu(x)", "relu(x)"), ("gelu(x)", "gelu(x)"), ("softplus(x)", "softplus(x)"),
                    ("softplus(x * 30.0)", "softplus(x * np.float32(30))"),
                    ("floor(x)", "np.floor(x)"), ("ceil(x)", "np.ceil(x)"), ("round(x)", "np.round(x)"),
                    ("round(h)", "np.round(h)"), ("floor(h)", "np.floor(h)"), ("ceil(h)", "np.ceil(h)"),
                    ("sign(h)", "np.sign(h)"), ("abs(h)", "np.abs(h)"), ("relu(h)", "relu(h)"),
                    ("exp(d)", "np.exp(d)"), ("gelu(d)", "gelu(d)"), ("sigmoid(d)", "sigmoid(d)")):
        p.check(e, want)
    p.check("h.round()", "np.round(h)")
    p.check("x.clip(-0.5, 0.5)", "np.clip(x, np.float32(-0.5), np.float32(0.5))")
    # maximum minimum where clip
    for e, want in (("maximum(x, y)", None), ("minimum(x, y)", None), ("maximum(x, 0.0)", None),
                    ("minimum(x, 0)", "np.minimum(x, np.float32(0))"), ("maximum(x, d)", "np.maximum(x.astype(F64), d)"),
                    ("where(x > 0.0, x, y)", "np.where(x > 0, x, y)"),
                    ("where(x > y, 1.0, 0.0)", "np.where(x > y, np.float32(1), np.float32(0))"),
                    ("where(x > 0.0, x, 0.0)", "np.where(x > 0, x, np.float32(0))"),
                    ("where(u < 0.0, d, x)", "np.where(u < 0, d, x.astype(F64))"),
                    ("clip(x, -0.5, 0.5)", "np.clip(x, np.float32(-0.5), np.float32(0.5))"),
                    ("clip(x, 0, 1)", "np.clip(x, np.float32(0), np.float32(1))"),
                    ("clip(x, -abs(y), abs(y))", "np.clip(x, -np.abs(y), np.abs(y))")):
        p.check(e, want)
    # comparisons and logic
    for e in ("x < y", "x <= 0.0", "x > y", "x >= s", "x == x", "x != y", "h == 0.5", "h != 0",
              "col > y", "y < x"):
        p.check(e)
    for e, want in (("logical_and(x > 0.0, y > 0.0)", "np.logical_and(x > 0, y > 0)"),
                    ("logical_or(x > 0.0, y > 0.0)", "np.logical_or(x > 0, y > 0)"),
                    ("logical_not(x > 0.0)", "np.logical_not(x > 0)"),
                    ("(x > 0.0) and (u > 0.0)", "np.logical_and(x > 0, u > 0)"),
                    ("(x > 0.0) or (u > 0.0)", "np.logical_or(x > 0, u > 0)"),
                    ("not (x > 0.0)", "np.logical_not(x > 0)"),
                    ("isnan(x)", "np.isnan(x)"), ("isfinite(x)", "np.isfinite(x)"),
                    ("isnan(sqrt(u))", "np.isnan(np.sqrt(u))"), ("isfinite(log(u + 0.9))", "np.isfinite(np.log(u + np.float32(0.9)))")):
        p.check(e, want)

    # ---- f64 -------------------------------------------------------------
    p = s.program("f64", "a: f64[N], pos: f64[N], t: f64")
    for n in (6, 11):
        p.run(a=s.normal((n,), F64), pos=s.uniform(0.1, 4.0, (n,), F64), t=-0.3)
    for e in ("a + pos", "a - 2.5", "a * 2", "a / pos", "a / 3", "a // pos", "a % pos", "a ** 2", "pos ** a",
              "a + t", "-a", "a > t", "a == a"):
        p.check(e)
    for e, want in (("exp(a)", "np.exp(a)"), ("log(pos)", "np.log(pos)"), ("log1p(pos)", "np.log1p(pos)"),
                    ("expm1(a)", "np.expm1(a)"), ("sqrt(pos)", "np.sqrt(pos)"), ("rsqrt(pos)", "1.0 / np.sqrt(pos)"),
                    ("sin(a)", "np.sin(a)"), ("cos(a)", "np.cos(a)"), ("tan(a)", "np.tan(a)"), ("tanh(a)", "np.tanh(a)"),
                    ("sigmoid(a)", "sigmoid(a)"), ("relu(a)", "relu(a)"), ("gelu(a)", "gelu(a)"),
                    ("softplus(a)", "softplus(a)"), ("floor(a)", "np.floor(a)"), ("ceil(a)", "np.ceil(a)"),
                    ("round(a * 2.0)", "np.round(a * 2.0)"), ("abs(a)", "np.abs(a)"), ("sign(a)", "np.sign(a)"),
                    ("maximum(a, pos)", "np.maximum(a, pos)"), ("minimum(a, 0.0)", "np.minimum(a, 0.0)"),
                    ("clip(a, -1, 1)", "np.clip(a, -1.0, 1.0)"), ("where(a > 0.0, a, pos)", "np.where(a > 0, a, pos)")):
        p.check(e, want)

    # ---- integers and bools ---------------------------------------------
    p = s.program("int", "i: i64[N, M], j: i64[M], k: i32[N, M], q: i32[M], bb: bool[N, M], cc: bool[N, M], "
                         "xf: f32[N, M], n: i64")
    for nn, m in ((3, 4), (5, 2)):
        p.run(i=s.ints(-9, 10, (nn, m)), j=s.nonzero_ints(-4, 5, (m,)), k=s.ints(-9, 10, (nn, m), I32),
              q=s.nonzero_ints(-4, 5, (m,), I32), bb=s.bools((nn, m)), cc=s.bools((nn, m)), xf=s.normal((nn, m)), n=3)
    for e in ("i + j", "i - j", "i * j", "i // j", "i % j", "-i % j", "i ** 2", "i ** 3", "j ** n",
              "i + 1", "2 - i", "i * n", "i // 3", "i % 3", "-i // 4", "i // -4", "i % -4",
              "k + 1", "k * 2", "k - q", "k * q", "k // q", "k % q", "k + i", "i - k", "k ** 2",
              "bb + cc", "bb * cc", "bb + 1", "bb + i", "bb * k",
              "-i", "-k", "i < j", "i == 0", "k >= q", "bb == cc", "bb != cc", "i != n", "k == j"):
        p.check(e)
    for e, want in (("i / j", "f32(i) / f32(j)"), ("k / q", "f32(k) / f32(q)"), ("i / 2", "f32(i) / F32(2)"),
                    ("bb / 2", "f32(bb) / F32(2)"), ("i * 2.5", "f32(i) * F32(2.5)"), ("k * 2.5", "f32(k) * F32(2.5)"),
                    ("i + xf", "f32(i) + xf"), ("xf * k", "xf * f32(k)"), ("bb * xf", "f32(bb) * xf"),
                    ("i ** 0.5", "f32(i) ** F32(0.5)"),
                    ("abs(i)", "np.abs(i)"), ("abs(k)", "np.abs(k)"), ("sign(i)", "np.sign(i)"), ("sign(k)", "np.sign(k)"),
                    ("neg(i)", "np.negative(i)"), ("relu(i)", "relu(i)"), ("relu(k)", "relu(k)"),
                    ("floor(i)", "i"), ("ceil(k)", "k"), ("round(i)", "i"),
                    ("exp(i)", "np.exp(f32(i))"), ("sqrt(abs(i))", "np.sqrt(f32(np.abs(i)))"),
                    ("sigmoid(k)", "sigmoid(f32(k))"), ("tanh(i)", "np.tanh(f32(i))"), ("log1p(abs(k))", "np.log1p(f32(np.abs(k)))"),
                    ("maximum(i, j)", "np.maximum(i, j)"), ("minimum(k, q)", "np.minimum(k, q)"),
                    ("maximum(i, 0)", "np.maximum(i, 0)"), ("minimum(k, 2)", "np.minimum(k, 2)"),
                    ("maximum(bb, cc)", "np.maximum(bb, cc)"), ("minimum(bb, cc)", "np.minimum(bb, cc)"),
                    ("where(bb, i, j)", "np.where(bb, i, j)"), ("where(bb, i, 0)", "np.where(bb, i, 0)"),
                    ("where(bb, k, 1.5)", "np.where(bb, f32(k), F32(1.5))"), ("where(bb, k, q)", "np.where(bb, k, q)"),
                    ("where(cc, i, k)", "np.where(cc, i, i64(k))"),
                    ("clip(i, -2, 2)", "np.clip(i, -2, 2)"), ("clip(k, -2, 2)", "np.clip(k, -2, 2)"),
                    ("clip(i, j, 5)", "np.clip(i, j, 5)"),
                    ("logical_and(bb, cc)", "np.logical_and(bb, cc)"), ("logical_or(bb, cc)", "np.logical_or(bb, cc)"),
                    ("logical_not(bb)", "np.logical_not(bb)"), ("bb and cc", "np.logical_and(bb, cc)"),
                    ("bb or cc", "np.logical_or(bb, cc)"), ("not bb", "np.logical_not(bb)"),
                    ("logical_and(i, j)", "np.logical_and(i, j)"), ("logical_not(k)", "np.logical_not(k)"),
                    ("isnan(i)", "np.isnan(i)"), ("isfinite(k)", "np.isfinite(k)")):
        p.check(e, want)

    # ---- NaN, inf, signed zeros, huge and tiny values -------------------
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e30, -1e30, 1e-30,
                        88.0, -88.0, 100.0, -100.0, 3.0, np.nan], dtype=F32)
    other = np.array([1.0, np.nan, 2.0, -np.inf, 0.0, np.inf, np.nan, -0.5, 2.5, 1.0, 1.0, -1.0,
                      0.0, 5.0, -5.0, 1.0, np.inf, 0.0], dtype=F32)
    p = s.program("special", "z: f32[N], w: f32[N], zd: f64[N]")
    p.run(z=special, w=other, zd=special.astype(F64))
    for e, want in (("z + w", None), ("z * w", None), ("z / w", None), ("z - z", None), ("z * 0.0", None),
                    ("z // w", None), ("z % w", None), ("z ** 2", None), ("w ** 0.5", None),
                    ("exp(z)", "np.exp(z)"), ("log(z)", "np.log(z)"), ("log1p(z)", "np.log1p(z)"),
                    ("expm1(z)", "np.expm1(z)"), ("sqrt(z)", "np.sqrt(z)"), ("rsqrt(z)", "rsqrt(z)"),
                    ("tanh(z)", "np.tanh(z)"), ("sigmoid(z)", "sigmoid(z)"), ("softplus(z)", "softplus(z)"),
                    ("gelu(z)", "gelu(z)"), ("relu(z)", "relu(z)"), ("abs(z)", "np.abs(z)"), ("sign(z)", "np.sign(z)"),
                    ("floor(z)", "np.floor(z)"), ("ceil(z)", "np.ceil(z)"), ("round(z)", "np.round(z)"),
                    ("sin(z)", "np.sin(z)"), ("cos(z)", "np.cos(z)"),
                    ("maximum(z, w)", "np.maximum(z, w)"), ("minimum(z, w)", "np.minimum(z, w)"),
                    ("maximum(z, 0.0)", "np.maximum(z, F32(0))"), ("clip(z, -1.0, 1.0)", "np.clip(z, F32(-1), F32(1))"),
                    ("where(isnan(z), 0.0, z)", "np.where(np.isnan(z), F32(0), z)"),
                    ("isnan(z)", "np.isnan(z)"), ("isfinite(z)", "np.isfinite(z)"), ("isnan(z * 0.0)", "np.isnan(z * F32(0))"),
                    ("z == z", None), ("z != z", None), ("z < w", None), ("z >= w", None), ("z == inf", "z == np.inf"),
                    ("z == -inf", "z == -np.inf"), ("where(z > nan, 1, 0)", "np.where(z > np.nan, 1, 0)"),
                    ("zd * 2.0", None), ("exp(zd)", "np.exp(zd)"), ("log(zd)", "np.log(zd)"), ("sigmoid(zd)", "sigmoid(zd)"),
                    ("softplus(zd)", "softplus(zd)"), ("isnan(zd)", "np.isnan(zd)"), ("maximum(zd, 0.0)", "np.maximum(zd, 0.0)")):
        p.check(e, want)
    # size-1 dims and scalars broadcasting
    p = s.program("broadcast", "a: f32[1, M], c: f32[N, 1], e: f32[1], sc: f32, t3: f32[K, 1, M]")
    for nn, m, k in ((3, 4, 2), (1, 1, 1), (2, 5, 3)):
        p.run(a=s.normal((1, m)), c=s.normal((nn, 1)), e=s.normal((1,)), sc=np.float32(0.25), t3=s.normal((k, 1, m)))
    for e in ("a + c", "c * a", "a - e", "e * c", "a * sc", "c + t3", "t3 * a", "t3 - e", "a + c + e",
              "maximum(a, c)", "where(a > c, a, c)", "a < c", "c / (a * a + 1.0)"):
        p.check(e)


if __name__ == "__main__":
    oracle.main(build, KNOWN_FAILURES)
