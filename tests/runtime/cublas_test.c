/* tests/runtime/cublas_test.c - the cuBLAS path without a GPU.
 *
 *   cublas_test args       rt_cublas_args (runtime/cublas.c): for every
 *                          transpose pair and random sizes, batches and
 *                          strides (padded, 0 for a broadcast), the
 *                          column-major call it gives, run by a CPU
 *                          reference of cuBLAS's strided-batched gemm,
 *                          equals the row-major product by definition;
 *                          and its leading dimensions are ones cuBLAS takes.
 *   cublas_test standin LIBCUDA
 *                          through the fake driver (tests/runtime/fake_cuda.c,
 *                          device memory in host memory) without libcublas:
 *                          the matmul hook falls back to the CPU stand-in,
 *                          which handles transposes, broadcasts and k = 0,
 *                          and the device's name says where products ran.
 *   cublas_test lt LIBCUDA LIBCUBLASLT
 *                          tcrt_dev_matmul_epilogue (runtime/cublaslt.c)
 *                          through the fake driver and the fake libcublasLt
 *                          (fake_cublaslt.c, cuBLASLt's column-major
 *                          semantics as cublasLt.h states them): every
 *                          epilogue and transpose pair equals the row-major
 *                          act(op(A) op(B) + bias[col]); one handle, plans
 *                          cached per shape and alignment, freed with the
 *                          context, f32 compute; a refused shape takes the
 *                          fallback.
 * Values are small integers, so every sum is exact in double.
 */
#include "check.h"
#include "rt_cuda.h"

#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned rng = 12345;
static int64_t rnd(int64_t lo, int64_t hi) { /* in [lo, hi] */
  rng = rng * 1103515245u + 12345u;
  return lo + (int64_t)((rng >> 16) % (unsigned)(hi - lo + 1));
}

/* op(X[b]) (i, p) of a row-major operand stored rows x cols, or with trans
 * as its cols x rows transpose. */
static double row_major_op(const double *x, bool trans, int64_t b, int64_t stride, int64_t rows, int64_t cols,
                           int64_t i, int64_t p) {
  return trans ? x[b * stride + p * rows + i] : x[b * stride + i * cols + p];
}

/* cuBLAS's gemmStridedBatched with alpha 1, beta 0, column-major. */
static void ref_gemm(const rt_gemm *g) {
  const double *a = g->a, *b = g->b;
  double *c = g->c;
  for (int64_t t = 0; t < g->batch; t++)
    for (int64_t i = 0; i < g->m; i++)
      for (int64_t j = 0; j < g->n; j++) {
        double s = 0;
        for (int64_t p = 0; p < g->k; p++) {
          double av = g->trans_a ? a[t * g->stride_a + p + i * g->lda] : a[t * g->stride_a + i + p * g->lda];
          double bv = g->trans_b ? b[t * g->stride_b + j + p * g->ldb] : b[t * g->stride_b + p + j * g->ldb];
          s += av * bv;
        }
        c[t * g->stride_c + i + j * g->ldc] = s;
      }
}

/* One random case: operands in host memory (buf_a, buf_b), sizes and
 * strides chosen here; returns the number of elements of each. */
typedef struct Case {
  rt_matmul mm;
  int64_t na, nb, nc;
} Case;

static Case random_case(bool ta, bool tb, int64_t kmin) {
  Case c;
  memset(&c, 0, sizeof c);
  rt_matmul *mm = &c.mm;
  mm->dt = TC_F64;
  mm->trans_a = ta;
  mm->trans_b = tb;
  mm->batch = rnd(1, 3);
  mm->m = rnd(1, 5);
  mm->n = rnd(1, 5);
  mm->k = rnd(kmin, 5);
  int64_t pick_a = rnd(0, 2), pick_b = rnd(0, 2);
  mm->stride_a = pick_a == 0 ? 0 : mm->m * mm->k + (pick_a == 2 ? 3 : 0);
  mm->stride_b = pick_b == 0 ? 0 : mm->k * mm->n + (pick_b == 2 ? 2 : 0);
  mm->stride_c = mm->m * mm->n + rnd(0, 1) * 4;
  c.na = (mm->batch - 1) * mm->stride_a + mm->m * mm->k;
  c.nb = (mm->batch - 1) * mm->stride_b + mm->k * mm->n;
  c.nc = (mm->batch - 1) * mm->stride_c + mm->m * mm->n;
  return c;
}

static void fill(double *x, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    x[i] = (double)rnd(-4, 4);
}

/* The row-major product by definition, into want (nc elements, the gaps
 * between blocks left as they are). */
static void by_definition(const rt_matmul *mm, const double *a, const double *b, double *want) {
  for (int64_t t = 0; t < mm->batch; t++)
    for (int64_t i = 0; i < mm->m; i++)
      for (int64_t j = 0; j < mm->n; j++) {
        double s = 0;
        for (int64_t p = 0; p < mm->k; p++)
          s += row_major_op(a, mm->trans_a, t, mm->stride_a, mm->m, mm->k, i, p) *
               row_major_op(b, mm->trans_b, t, mm->stride_b, mm->k, mm->n, p, j);
        want[t * mm->stride_c + i * mm->n + j] = s;
      }
}

static int test_args(void) {
  for (int round = 0; round < 400; round++) {
    bool ta = round & 1, tb = round & 2;
    Case c = random_case(ta, tb, 1);
    rt_matmul *mm = &c.mm;
    double *a = malloc(sizeof *a * c.na), *b = malloc(sizeof *b * c.nb);
    double *got = calloc(c.nc, sizeof *got), *want = calloc(c.nc, sizeof *want);
    fill(a, c.na);
    fill(b, c.nb);
    mm->a = a;
    mm->b = b;
    mm->c = got;
    by_definition(mm, a, b, want);
    rt_gemm g = rt_cublas_args(mm);
    /* what cuBLAS asks of its arguments */
    CHECK(g.lda >= (g.trans_a ? g.k : g.m) && g.lda >= 1, "round %d: lda %lld", round, (long long)g.lda);
    CHECK(g.ldb >= (g.trans_b ? g.n : g.k) && g.ldb >= 1, "round %d: ldb %lld", round, (long long)g.ldb);
    CHECK(g.ldc >= g.m, "round %d: ldc %lld < m %lld", round, (long long)g.ldc, (long long)g.m);
    CHECK(g.batch == mm->batch && g.c == mm->c, "round %d: batch or C changed", round);
    ref_gemm(&g);
    int bad = 0;
    for (int64_t i = 0; i < c.nc; i++)
      bad += got[i] != want[i];
    CHECK(!bad, "round %d (trans %d %d, batch %lld, %lldx%lld @ %lldx%lld, strides %lld %lld %lld): %d elements differ",
          round, ta, tb, (long long)mm->batch, (long long)mm->m, (long long)mm->k, (long long)mm->k, (long long)mm->n,
          (long long)mm->stride_a, (long long)mm->stride_b, (long long)mm->stride_c, bad);
    free(a), free(b), free(got), free(want);
  }
  printf("cublas args: %d of %d checks passed\n", checks - failures, checks);
  return failures != 0;
}

/* Device copies of host data (fake driver: device memory is host memory,
 * but every access goes through the runtime's copies anyway). */
static void *to_device(tc_ctx *ctx, const double *x, int64_t n) {
  void *d = tcrt_dev_alloc_uninit(ctx, n * 8);
  if (d && tcrt_dev_copy(ctx, d, x, n * 8, TC_COPY_H2D))
    return NULL;
  return d;
}

static int test_standin(const char *libcuda) {
  setenv("TENSORC_LIBCUDA", libcuda, 1);
  setenv("TENSORC_LIBCUBLAS", "/nonexistent/libcublas.so", 1);
  static const char *const names[] = {"k0"};
  tc_gpu_image img = {.arch = "sm_80", .ptx = "// no PTX: the fake driver loads anything", .nkernels = 1,
                      .kernel_names = names};
  tc_ctx *ctx = tcrt_ctx_new(0);
  int st = tcrt_dev_open(ctx, &img);
  CHECK(st == TC_OK, "open: %s", tcrt_error(ctx));
  if (st)
    return 1;
  CHECK(!strcmp(tcrt_dev_name(ctx), "cuda:0 (Fake GPU, sm_80)"), "name before a product: %s", tcrt_dev_name(ctx));
  /* 2 x 2619 MHz x 640 bytes: the fake reports an H100's memory */
  CHECK(ctx->dev_peak_gbps > 3352.3 && ctx->dev_peak_gbps < 3352.4, "peak %g GB/s", ctx->dev_peak_gbps);
  double ms = -1;
  CHECK(ctx->dev->interval(ctx, 0, NULL) == TC_OK && ctx->dev->interval(ctx, 1, &ms) == TC_OK && ms == 0.25,
        "interval: %g ms, %s", ms, tcrt_error(ctx));
  for (int round = 0; round < 60; round++) {
    bool ta = round & 1, tb = round & 2;
    Case c = random_case(ta, tb, round % 5 == 4 ? 0 : 1); /* some k = 0 */
    if (round % 5 == 4)
      c.mm.k = 0, c.na = (c.mm.batch - 1) * c.mm.stride_a, c.nb = (c.mm.batch - 1) * c.mm.stride_b;
    rt_matmul *mm = &c.mm;
    double *a = malloc(sizeof *a * (c.na + 1)), *b = malloc(sizeof *b * (c.nb + 1));
    double *got = malloc(sizeof *got * c.nc), *want = malloc(sizeof *want * c.nc);
    fill(a, c.na);
    fill(b, c.nb);
    fill(want, c.nc); /* the gaps between C's blocks must stay */
    memcpy(got, want, sizeof *got * c.nc);
    by_definition(mm, a, b, want);
    void *da = to_device(ctx, a, c.na), *db = to_device(ctx, b, c.nb), *dc = to_device(ctx, got, c.nc);
    mm->a = da, mm->b = db, mm->c = dc;
    st = da && db && dc ? ctx->dev->matmul(ctx, mm) : TC_ERR_NOMEM;
    CHECK(st == TC_OK, "round %d: %s", round, tcrt_error(ctx));
    if (!st)
      st = tcrt_dev_copy(ctx, got, dc, c.nc * 8, TC_COPY_D2H);
    int bad = 0;
    for (int64_t i = 0; i < c.nc; i++)
      bad += got[i] != want[i];
    CHECK(!st && !bad, "round %d (trans %d %d, batch %lld, k %lld): %d elements differ", round, ta, tb,
          (long long)mm->batch, (long long)mm->k, bad);
    tcrt_dev_free(ctx, da), tcrt_dev_free(ctx, db), tcrt_dev_free(ctx, dc);
    free(a), free(b), free(got), free(want);
  }
  const char *name = tcrt_dev_name(ctx);
  CHECK(strstr(name, "cuda:0 (Fake GPU, sm_80), matmul: CPU stand-in (no libcublas: ") == name, "name: %s", name);
  tcrt_ctx_free(ctx);
  printf("cublas standin: %d of %d checks passed\n", checks - failures, checks);
  return failures != 0;
}

/* ---- cuBLASLt (runtime/cublaslt.c) on the fake driver and the fake libcublasLt ---- */

static double act(int epi, double v) {
  if (epi & TC_EPI_RELU)
    return v < 0 ? 0 : v;
  if (epi & TC_EPI_GELU_TANH)
    return 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  return v;
}

static void *to_device_f32(tc_ctx *ctx, const float *x, int64_t n) {
  void *d = tcrt_dev_alloc_uninit(ctx, n * 4);
  if (d && tcrt_dev_copy(ctx, d, x, n * 4, TC_COPY_H2D))
    return NULL;
  return d;
}

/* One product with an epilogue through tcrt_dev_matmul_epilogue, a read
 * from `skew` elements into its block (a borrowed tensor's alignment); the
 * number of elements off (gelu to 1e-5, the rest exactly: small integers). */
static int lt_case_at(tc_ctx *ctx, int epi, bool ta, bool tb, int64_t m, int64_t n, int64_t k, int skew, int *st) {
  float *a = malloc(sizeof *a * (m * k + skew)), *b = malloc(sizeof *b * k * n), *bias = malloc(sizeof *bias * n);
  float *got = malloc(sizeof *got * m * n);
  for (int64_t i = 0; i < m * k + skew; i++)
    a[i] = (float)rnd(-3, 3);
  for (int64_t i = 0; i < k * n; i++)
    b[i] = (float)rnd(-3, 3);
  for (int64_t i = 0; i < n; i++)
    bias[i] = (float)rnd(-5, 5);
  float *da0 = to_device_f32(ctx, a, m * k + skew), *db = to_device_f32(ctx, b, k * n);
  float *dbias = to_device_f32(ctx, bias, n), *dc = tcrt_dev_alloc_uninit(ctx, m * n * 4);
  const float *da = da0 ? da0 + skew : NULL, *ha = a + skew;
  int trans = (ta ? TC_MM_TRANS_A : 0) | (tb ? TC_MM_TRANS_B : 0), bad = 0;
  *st = da && db && dbias && dc ? tcrt_dev_matmul_epilogue(ctx, TC_F32, trans, epi, da, db, dbias, dc, m, n, k)
                                : TC_ERR_NOMEM;
  if (!*st)
    *st = tcrt_dev_copy(ctx, got, dc, m * n * 4, TC_COPY_D2H);
  for (int64_t i = 0; !*st && i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++) /* a stored m x k or (ta) k x m; b k x n or (tb) n x k */
        s += (double)(ta ? ha[p * m + i] : ha[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      double want = act(epi, s + (epi & TC_EPI_BIAS ? bias[j] : 0)); /* the bias per column of the row-major C */
      bad += fabs(got[i * n + j] - want) > 1e-5 * (1 + fabs(want));
    }
  tcrt_dev_free(ctx, da0), tcrt_dev_free(ctx, db), tcrt_dev_free(ctx, dbias), tcrt_dev_free(ctx, dc);
  free(a), free(b), free(bias), free(got);
  return bad;
}

static int lt_case(tc_ctx *ctx, int epi, bool ta, bool tb, int64_t m, int64_t n, int64_t k, int *st) {
  return lt_case_at(ctx, epi, ta, tb, m, n, k, 0, st);
}

static int test_lt(const char *libcuda, const char *liblt) {
  /* the flags as cublasLt.h numbers its epilogues */
  CHECK(rt_cublaslt_epilogue(0) == 1 && rt_cublaslt_epilogue(TC_EPI_RELU) == 2 &&
            rt_cublaslt_epilogue(TC_EPI_BIAS) == 4 && rt_cublaslt_epilogue(TC_EPI_BIAS | TC_EPI_RELU) == 6 &&
            rt_cublaslt_epilogue(TC_EPI_GELU_TANH) == 32 && rt_cublaslt_epilogue(TC_EPI_BIAS | TC_EPI_GELU_TANH) == 36,
        "CUBLASLT_EPILOGUE_* mapping");
  setenv("TENSORC_LIBCUDA", libcuda, 1);
  setenv("TENSORC_LIBCUBLAS", "/nonexistent/libcublas.so", 1);
  setenv("TENSORC_LIBCUBLASLT", liblt, 1);
  void *lib = dlopen(liblt, RTLD_NOW);
  void (*stats)(int *) = lib ? (void (*)(int *))dlsym(lib, "fake_cublaslt_stats") : NULL;
  CHECK(stats != NULL, "no fake_cublaslt_stats in %s", liblt);
  if (!stats)
    return 1;
  static const char *const names[] = {"tc_rand_f32", "tc_rand_f64", "tc_randn_f32", "tc_randn_f64",
                                      "tc_randint_i64", "tc_epilogue_f32"};
  tc_gpu_image img = {.arch = "sm_80", .ptx = "// no PTX", .nkernels = 6, .kernel_names = names};
  tc_ctx *ctx = tcrt_ctx_new(0);
  int st = tcrt_dev_open(ctx, &img);
  CHECK(st == TC_OK, "open: %s", tcrt_error(ctx));
  if (st)
    return 1;
  static const int epis[] = {0, TC_EPI_BIAS, TC_EPI_RELU, TC_EPI_BIAS | TC_EPI_RELU, TC_EPI_GELU_TANH,
                             TC_EPI_BIAS | TC_EPI_GELU_TANH};
  int rounds = 96;
  for (int round = 0; round < rounds; round++) {
    bool ta = round & 1, tb = round & 2;
    int epi = epis[(round / 4) % 6];
    int64_t m = rnd(1, 6), n = rnd(1, 6), k = rnd(1, 6);
    int bad = lt_case(ctx, epi, ta, tb, m, n, k, &st);
    CHECK(!st && !bad, "round %d (trans %d %d, epilogue %d, %lldx%lld @ %lldx%lld): %s, %d elements differ", round, ta,
          tb, epi, (long long)m, (long long)k, (long long)k, (long long)n, st ? tcrt_error(ctx) : "ok", bad);
  }
  int s0[7], s1[7];
  stats(s0);
  CHECK(s0[0] == 1 && s0[2] == rounds, "one handle, every product one cublasLtMatmul: %d handles, %d of %d", s0[0],
        s0[2], rounds);
  CHECK(s0[5] == 68, "compute type %d, expected CUBLAS_COMPUTE_32F (68) without --allow-tf32", s0[5]);
  CHECK(s0[3] <= 16 && s0[4] == 3 * s0[3], "plans kept: %d descriptors, %d layouts", s0[3], s0[4]);
  /* the same shape again: its plan, no new heuristic query */
  int64_t m = 3, n = 4, k = 5;
  lt_case(ctx, TC_EPI_BIAS, false, false, m, n, k, &st);
  stats(s0);
  int bad = lt_case(ctx, TC_EPI_BIAS, false, false, m, n, k, &st);
  stats(s1);
  CHECK(!st && !bad && s1[1] == s0[1] && s1[2] == s0[2] + 1, "cached plan: %d -> %d queries", s0[1], s1[1]);
  /* A read 4 bytes into its block: the heuristic is told, and the shape
   * gets a plan of its own */
  bad = lt_case_at(ctx, TC_EPI_BIAS, false, false, m, n, k, 1, &st);
  stats(s0);
  CHECK(!st && !bad && s0[1] == s1[1] + 1 && s0[6] == 4, "A at 4 bytes: %d -> %d queries, alignment %d told",
        s1[1], s0[1], s0[6]);
  /* refused: the plain product and the prelude's kernel, whose launch the
   * fake driver does not run */
  setenv("FAKE_CUBLASLT_MODE", "refuse", 1);
  lt_case(ctx, TC_EPI_BIAS | TC_EPI_RELU, false, false, 7, 7, 7, &st);
  stats(s1);
  CHECK(st != TC_OK && strstr(tcrt_error(ctx), "launch") && s1[2] == s0[2],
        "refused shape: status %d, %s; %d cuBLASLt products (none new)", st, tcrt_error(ctx), s1[2]);
  unsetenv("FAKE_CUBLASLT_MODE");
  tcrt_ctx_free(ctx);
  stats(s1);
  CHECK(s1[3] == 0 && s1[4] == 0, "after the context: %d descriptors and %d layouts left", s1[3], s1[4]);
  printf("cublaslt: %d of %d checks passed\n", checks - failures, checks);
  return failures != 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "args"))
    return test_args();
  if (argc == 3 && !strcmp(argv[1], "standin"))
    return test_standin(argv[2]);
  if (argc == 4 && !strcmp(argv[1], "lt"))
    return test_lt(argv[2], argv[3]);
  fprintf(stderr, "usage: cublas_test args | standin LIBCUDA | lt LIBCUDA LIBCUBLASLT\n");
  return 2;
}
