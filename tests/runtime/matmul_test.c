/* tests/runtime/matmul_test.c - runtime/blas.c.
 *
 *   matmul_test run MANIFEST
 *       each line "DTYPE TRANS BATCH M N K SA SB SC A.npy B.npy C0.npy C.npy":
 *       loads the flat buffers A and B and C's initial contents C0, runs
 *       tcrt_matmul with the transpose flags TRANS, saves C; matmul_check.py
 *       compares with numpy.matmul (and checks that C's gaps between batch
 *       entries were not touched).
 *   matmul_test unit
 *       errors and degenerate sizes, in C.
 *   matmul_test blas
 *       the BLAS (runtime/blas_lib.c): what tcrt_blas_info says, and that
 *       each product runs on the context's thread count, the same bytes
 *       whatever that count (the library's own count read back from it).
 */
#include "tensorc/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The BLAS library's own thread count (tests/runtime/CMakeLists.txt gives
 * this file the runtime's TC_BLAS_* definition and the library's headers). */
#if defined(TC_BLAS_SCIPY_OPENBLAS)
#include <cblas.h>
static int library_threads(void) { return scipy_openblas_get_num_threads(); }
#elif defined(TC_BLAS_OPENBLAS)
#include <cblas.h>
static int library_threads(void) { return openblas_get_num_threads(); }
#elif defined(TC_BLAS_BLIS)
#include <blis.h>
static int library_threads(void) { return (int)bli_thread_get_num_threads(); }
#endif

static tc_dtype dtype_named(const char *s) {
  static const char *names[] = {"", "bool", "i32", "i64", "f32", "f64"};
  for (int d = 1; d <= 5; d++)
    if (!strcmp(s, names[d]))
      return (tc_dtype)d;
  return TC_UNKNOWN;
}

static int run(const char *manifest) {
  FILE *f = fopen(manifest, "r");
  if (!f) {
    perror(manifest);
    return 2;
  }
  char dt[16], pa[4096], pb[4096], pc0[4096], pc[4096], err[1024];
  long long batch, m, n, k, sa, sb, sc;
  int trans, cases = 0, status = 0;
  tc_ctx *ctx = tcrt_ctx_new(0);
  while (fscanf(f, "%15s %d %lld %lld %lld %lld %lld %lld %lld %4095s %4095s %4095s %4095s", dt, &trans, &batch, &m,
                &n, &k, &sa, &sb, &sc, pa, pb, pc0, pc) == 13) {
    tc_array a, b, c;
    if (tcrt_load(pa, &a, NULL, err, sizeof err) || tcrt_load(pb, &b, NULL, err, sizeof err) ||
        tcrt_load(pc0, &c, NULL, err, sizeof err)) {
      printf("load: %s\n", err);
      status = 2;
      break;
    }
    int code = tcrt_matmul(ctx, dtype_named(dt), trans, a.data, b.data, c.data, batch, m, n, k, sa, sb, sc);
    if (code) {
      printf("case %d: matmul failed: %s\n", cases, tcrt_error(ctx));
      status = 1;
    }
    if (tcrt_save(pc, &c, err, sizeof err)) {
      printf("save: %s\n", err);
      status = 2;
    }
    tcrt_free(a.data);
    tcrt_free(b.data);
    tcrt_free(c.data);
    cases++;
  }
  fclose(f);
  tcrt_ctx_free(ctx);
  printf("matmul: ran %d cases\n", cases);
  return status;
}

static void unit(void) {
  tc_ctx *ctx = tcrt_ctx_new(0);
  float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
  _Alignas(8) float c[16]; /* room for 4 elements of 8 bytes and a guard */
  /* 1. Errors, with the message kept in the context. */
  CHECK(tcrt_matmul(ctx, TC_F32, 0, a, b, c, 1, -1, 2, 2, 0, 0, 0) == TC_ERR_RUNTIME &&
            strstr(tcrt_error(ctx), "negative size"),
        "negative m: %s", tcrt_error(ctx));
  CHECK(tcrt_matmul(ctx, TC_F32, 0, a, b, c, -1, 1, 1, 1, 0, 0, 0) == TC_ERR_RUNTIME, "negative batch");
  CHECK(tcrt_matmul(ctx, TC_I64, 0, a, b, c, 1, 1, 1, -3, 0, 0, 0) == TC_ERR_RUNTIME, "negative k");
  CHECK(tcrt_matmul(ctx, TC_F32, 0, a, b, c, 2, 1, 1, 1, -1, 0, 1) == TC_ERR_RUNTIME, "negative stride");
  CHECK(tcrt_matmul(ctx, TC_UNKNOWN, 0, a, b, c, 1, 1, 1, 1, 0, 0, 0) == TC_ERR_RUNTIME, "unknown dtype");
  CHECK(tcrt_matmul(ctx, TC_F32, 0, a, b, c, 1, (int64_t)1 << 40, 1, 1, 0, 0, 0) == TC_ERR_RUNTIME &&
            strstr(tcrt_error(ctx), "too large"),
        "beyond BLAS's int: %s", tcrt_error(ctx));
  /* 2. k = 0: zeros, whatever C held, with A and B NULL or not. */
  for (tc_dtype dt = TC_BOOL; dt <= TC_F64; dt++) {
    memset(c, 0x5a, sizeof c);
    CHECK(tcrt_matmul(ctx, dt, 0, NULL, NULL, c, 2, 1, 2, 0, 0, 0, 2) == 0, "k = 0, %s", tcrt_dtype_name(dt));
    size_t bytes = 4 * tcrt_dtype_size(dt);
    int zero = 1;
    for (size_t i = 0; i < bytes; i++)
      zero &= ((unsigned char *)c)[i] == 0;
    CHECK(zero && ((unsigned char *)c)[bytes] == 0x5a, "k = 0 writes exactly the zeros of C, %s",
          tcrt_dtype_name(dt));
  }
  /* 3. m, n or batch of 0: nothing written, no buffers needed. */
  memset(c, 0x5a, sizeof c);
  CHECK(tcrt_matmul(ctx, TC_F64, 0, NULL, NULL, NULL, 3, 0, 4, 5, 0, 0, 0) == 0, "m = 0");
  CHECK(tcrt_matmul(ctx, TC_F32, 0, a, b, c, 1, 2, 0, 3, 0, 0, 0) == 0, "n = 0");
  CHECK(tcrt_matmul(ctx, TC_I32, 0, NULL, NULL, NULL, 0, 2, 2, 2, 0, 0, 0) == 0, "batch = 0");
  CHECK(((unsigned char *)c)[0] == 0x5a, "nothing written");
  /* 4. A small product by hand: [[1 2 3], [4 5 6]] @ [[1 0], [0 1], [1 1]]. */
  CHECK(tcrt_matmul(ctx, TC_F32, 0, a, b, c, 1, 2, 2, 3, 0, 0, 0) == 0, "2x3 @ 3x2");
  CHECK(c[0] == 4 && c[1] == 5 && c[2] == 10 && c[3] == 11, "2x3 @ 3x2 = [[4 5] [10 11]]: %g %g %g %g", c[0], c[1],
        c[2], c[3]);
  /* 5. The same product from transposed storage, each flag: A^T stored is
   * [[1 4] [2 5] [3 6]], B^T stored [[1 0 1] [0 1 1]]; integer and bool
   * loops too. */
  float at[6] = {1, 4, 2, 5, 3, 6}, bt[6] = {1, 0, 1, 0, 1, 1};
  for (int trans = 1; trans <= 3; trans++) {
    memset(c, 0, sizeof c);
    CHECK(tcrt_matmul(ctx, TC_F32, trans, trans & TC_MM_TRANS_A ? at : a, trans & TC_MM_TRANS_B ? bt : b, c, 1, 2, 2,
                      3, 0, 0, 0) == 0 &&
              c[0] == 4 && c[1] == 5 && c[2] == 10 && c[3] == 11,
          "f32, trans %d: %g %g %g %g", trans, c[0], c[1], c[2], c[3]);
    int64_t la[6], lb[6], lc[4];
    uint8_t ba[6] = {1, 0, 0, 0, 1, 0}, bb[6] = {0, 1, 0, 0, 1, 0}, bc[4]; /* [[1 0 0] [0 1 0]] @ [[0 1] [0 0] [1 0]] */
    for (int i = 0; i < 6; i++) {
      la[i] = (int64_t)(trans & TC_MM_TRANS_A ? at[i] : a[i]);
      lb[i] = (int64_t)(trans & TC_MM_TRANS_B ? bt[i] : b[i]);
    }
    CHECK(tcrt_matmul(ctx, TC_I64, trans, la, lb, lc, 1, 2, 2, 3, 0, 0, 0) == 0 && lc[0] == 4 && lc[1] == 5 &&
              lc[2] == 10 && lc[3] == 11,
          "i64, trans %d: %lld %lld %lld %lld", trans, (long long)lc[0], (long long)lc[1], (long long)lc[2],
          (long long)lc[3]);
    uint8_t bat[6] = {1, 0, 0, 1, 0, 0}, bbt[6] = {0, 0, 1, 1, 0, 0}; /* their transposes, stored */
    CHECK(tcrt_matmul(ctx, TC_BOOL, trans, trans & TC_MM_TRANS_A ? bat : ba, trans & TC_MM_TRANS_B ? bbt : bb, bc, 1,
                      2, 2, 3, 0, 0, 0) == 0 &&
              bc[0] == 0 && bc[1] == 1 && bc[2] == 0 && bc[3] == 0,
          "bool, trans %d: %d %d %d %d", trans, bc[0], bc[1], bc[2], bc[3]);
  }
  CHECK(tcrt_matmul(ctx, TC_F32, 4, a, b, c, 1, 2, 2, 3, 0, 0, 0) == TC_ERR_RUNTIME &&
            strstr(tcrt_error(ctx), "transpose flags 4"),
        "unknown flag: %s", tcrt_error(ctx));
  /* 6. Integers wrap as NumPy's do: (2^31 - 1) * 2 + 3 in i32. */
  int32_t ia[2] = {INT32_MAX, 3}, ib[2] = {2, 1}, ic[1];
  CHECK(tcrt_matmul(ctx, TC_I32, 0, ia, ib, ic, 1, 1, 1, 2, 0, 0, 0) == 0 && ic[0] == 1, "i32 wraps: %d", ic[0]);
  tcrt_ctx_free(ctx);
}

static void blas(void) {
  printf("blas: %s\n", tcrt_blas_info());
  enum { N = 256 };
  float *a = malloc(N * N * sizeof(float)), *b = malloc(N * N * sizeof(float));
  float *c1 = malloc(N * N * sizeof(float)), *c2 = malloc(N * N * sizeof(float));
  for (int i = 0; i < N * N; i++) {
    a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
  }
  tc_ctx *ctx = tcrt_ctx_new(0);
  tcrt_set_threads(ctx, 1);
  CHECK(tcrt_matmul(ctx, TC_F32, 0, a, b, c1, 1, N, N, N, 0, 0, 0) == 0, "1 thread");
  CHECK(library_threads() == 1, "the BLAS runs on the context's 1 thread, not %d", library_threads());
  tcrt_set_threads(ctx, 2);
  CHECK(tcrt_matmul(ctx, TC_F32, 0, a, b, c2, 1, N, N, N, 0, 0, 0) == 0, "2 threads");
  CHECK(library_threads() == 2, "the BLAS runs on the context's 2 threads, not %d", library_threads());
  CHECK(memcmp(c1, c2, N * N * sizeof(float)) == 0, "1 and 2 threads give the same bytes");
  tcrt_ctx_free(ctx);
  free(a), free(b), free(c1), free(c2);
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "run"))
    return run(argv[2]);
  if (argc == 2 && !strcmp(argv[1], "unit")) {
    unit();
    printf("matmul: %d of %d checks passed\n", checks - failures, checks);
    return failures ? 1 : 0;
  }
  if (argc == 2 && !strcmp(argv[1], "blas")) {
    blas();
    printf("blas: %d of %d checks passed\n", checks - failures, checks);
    return failures ? 1 : 0;
  }
  fprintf(stderr, "usage: matmul_test run MANIFEST | unit | blas\n");
  return 2;
}
