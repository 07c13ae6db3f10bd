/* tests/unit/dim_test.c - unit tests of ir/dim.c and ir/type.c.
 *
 * Symbolic dims are the base of every shape check, so their algebra is
 * tested directly: canonical form (equal polynomials have equal bytes),
 * arithmetic, exact division, substitution, overflow and printing.
 * Exits 0 when every check passes; prints each failure.
 */
#include "ir/ir.h"

#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

static void check_fmt(Dim d, const char *want, int line) {
  char buf[128];
  dim_format(d, buf, sizeof buf);
  if (strcmp(buf, want) != 0) {
    fprintf(stderr, "%s:%d: dim_format gave '%s', want '%s'\n", __FILE__, line, buf, want);
    failures++;
  }
}
#define FMT(d, want) check_fmt((d), (want), __LINE__)

int main(void) {
  Loc nowhere = {0};
  int n = ir_sym_new("N", nowhere), m = ir_sym_new("M", nowhere), k = ir_sym_new("K", nowhere);
  CHECK(n == 1 && m == 2 && k == 3);
  CHECK(strcmp(ir_sym_name(m), "M") == 0);
  CHECK(strcmp(ir_sym_name(0), "?") == 0 && strcmp(ir_sym_name(99), "?") == 0);
  Dim N = dim_sym(n), M = dim_sym(m), K = dim_sym(k), c1 = dim_const(1), c2 = dim_const(2);

  /* printing */
  FMT(N, "N");
  FMT(dim_const(64), "64");
  FMT(dim_const(0), "0");
  FMT(dim_const(-3), "-3");
  FMT(dim_sub(N, c1), "N - 1");
  FMT(dim_mul(c2, N), "2*N");
  FMT(dim_mul(N, M), "N*M");
  FMT(dim_mul(M, N), "N*M");
  FMT(dim_add(M, N), "N + M");
  FMT(dim_sub(c1, N), "-N + 1");
  FMT(dim_mul(N, N), "N*N");
  FMT(dim_add(dim_mul(N, M), dim_sub(dim_mul(c2, N), c1)), "N*M + 2*N - 1");

  /* canonical: equal polynomials are equal bytes */
  Dim a = dim_add(dim_add(N, M), c1), b = dim_add(c1, dim_add(M, N));
  CHECK(dim_eq(a, b));
  CHECK(memcmp(&a, &b, sizeof a) == 0);
  CHECK(dim_eq(dim_sub(N, N), dim_const(0)));
  Dim z = dim_sub(N, N), zero = dim_const(0);
  CHECK(memcmp(&z, &zero, sizeof z) == 0);
  CHECK(dim_eq(dim_mul(dim_add(N, c1), dim_sub(N, c1)), dim_sub(dim_mul(N, N), c1)));
  CHECK(!dim_eq(N, M));

  /* predicates */
  int64_t c;
  int s;
  CHECK(dim_is_const(dim_const(7), &c) && c == 7);
  CHECK(dim_is_const(dim_const(0), &c) && c == 0);
  CHECK(!dim_is_const(N, NULL));
  CHECK(dim_is_sym(M, &s) && s == m);
  CHECK(!dim_is_sym(dim_mul(c2, N), NULL));
  CHECK(!dim_is_sym(dim_add(N, c1), NULL));

  /* exact division */
  Dim q;
  CHECK(dim_div_exact(dim_const(12), dim_const(4), &q) && dim_eq(q, dim_const(3)));
  CHECK(!dim_div_exact(dim_const(12), dim_const(5), &q));
  CHECK(!dim_div_exact(N, dim_const(0), &q));
  CHECK(dim_div_exact(dim_mul(dim_const(64), N), dim_const(32), &q) && dim_eq(q, dim_mul(c2, N)));
  CHECK(!dim_div_exact(N, c2, &q));
  CHECK(dim_div_exact(dim_mul(N, M), N, &q) && dim_eq(q, M));
  CHECK(dim_div_exact(dim_add(dim_mul(N, M), N), N, &q) && dim_eq(q, dim_add(M, c1)));
  CHECK(!dim_div_exact(dim_add(dim_mul(N, M), c1), N, &q));
  CHECK(dim_div_exact(dim_sub(dim_mul(N, N), c1), dim_add(N, c1), &q) && dim_eq(q, dim_sub(N, c1)));
  CHECK(!dim_div_exact(dim_add(dim_mul(N, N), c1), dim_add(N, c1), &q));
  Dim nm3 = dim_mul(dim_mul(dim_add(N, M), K), dim_const(3));
  CHECK(dim_div_exact(nm3, dim_add(N, M), &q) && dim_eq(q, dim_mul(dim_const(3), K)));
  CHECK(dim_div_exact(dim_const(0), N, &q) && dim_eq(q, dim_const(0)));

  /* substitution */
  CHECK(dim_eq(dim_subst(dim_sub(N, c1), n, dim_const(10)), dim_const(9)));
  CHECK(dim_eq(dim_subst(dim_mul(N, N), n, dim_add(M, c1)),
               dim_add(dim_add(dim_mul(M, M), dim_mul(c2, M)), c1)));
  CHECK(dim_eq(dim_subst(M, n, K), M));

  /* overflow: too many terms, too high a degree, a coefficient too large */
  Dim big = dim_add(dim_add(dim_add(N, M), K), c1);
  CHECK(!big.overflow);
  CHECK(dim_add(big, dim_mul(N, M)).overflow);
  CHECK(dim_mul(dim_mul(N, N), dim_mul(N, N)).overflow);
  CHECK(dim_mul(dim_const(INT64_MAX), c2).overflow);
  CHECK(dim_sub(dim_const(INT64_MIN), c1).overflow);
  Dim ov = dim_mul(dim_mul(N, N), dim_mul(N, N));
  CHECK(!dim_eq(ov, ov));
  CHECK(dim_add(ov, c1).overflow);
  FMT(ov, "?");
  FMT(dim_const(INT64_MIN), "-9223372036854775808");

  /* types */
  char buf[128];
  Dim d2[2] = {N, dim_const(64)};
  IrType t = ir_type_tensor(DT_F32, 2, d2);
  CHECK(strcmp(ir_type_format(&t, buf, sizeof buf), "f32[N, 64]") == 0);
  t.device = DEV_CUDA;
  CHECK(strcmp(ir_type_format(&t, buf, sizeof buf), "f32[N, 64]@cuda") == 0);
  IrType sc = ir_type_scalar(DT_I64);
  sc.weak = true;
  CHECK(strcmp(ir_type_format(&sc, buf, sizeof buf), "i64") == 0);
  CHECK(strcmp(ir_shape_format(&t, buf, sizeof buf), "[N, 64]") == 0);
  IrType none = {.kind = TY_NONE}, tup = {.kind = TY_TUPLE, .ntuple = 2};
  CHECK(strcmp(ir_type_format(&none, buf, sizeof buf), "none") == 0);
  CHECK(strcmp(ir_type_format(&tup, buf, sizeof buf), "tuple<2>") == 0);
  CHECK(ir_dtype_from_name("f64") == DT_F64 && ir_dtype_from_name("f16") == DT_UNKNOWN);
  CHECK(strcmp(ir_device_name(DEV_DEFAULT), "") == 0);
  char tiny[6];
  ir_type_format(&t, tiny, sizeof tiny);
  CHECK(strcmp(tiny, "f32[N") == 0);

  if (failures)
    fprintf(stderr, "dim_test: %d failures\n", failures);
  else
    printf("dim_test: ok\n");
  ir_arena_free_all();
  return failures != 0;
}
