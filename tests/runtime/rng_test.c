/* tests/runtime/rng_test.c - runtime/rng.c: the Philox-4x32-10 block
 * function against Random123's known answers, the stream's layout (which
 * words of which blocks each element reads), the moments and ranges of
 * rand/randn/randint/randperm on 10^6 draws, reproducibility and errors.
 *
 *   rng_test             runs the checks; exit 0 when all pass
 *   rng_test dump SEED   prints one fixed sequence of draws, which
 *                        rng_ref.py recomputes from its own Philox
 */
#include "tensorc/runtime.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define N 1000000

static void test_known_answers(void) {
  /* Random123's kat_vectors for philox4x32_10. */
  static const struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (int t = 0; t < 3; t++) {
    uint32_t out[4];
    tcrt_philox4x32_10(kat[t].ctr, kat[t].key, out);
    CHECK(!memcmp(out, kat[t].out, sizeof out), "kat %d: %08x %08x %08x %08x", t, out[0], out[1], out[2], out[3]);
  }
}

/* The layout of docs/runtime.md: block b = philox({b lo, b hi, 0, 0}, {seed lo, seed hi}). */
static void block(uint64_t seed, uint64_t b, uint32_t w[4]) {
  uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), 0, 0}, key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  tcrt_philox4x32_10(ctr, key, w);
}

static void test_layout(tc_ctx *ctx) {
  const uint64_t seed = 0x123456789abcdef0u;
  tcrt_seed(ctx, seed);
  float f[10];
  CHECK(tcrt_rand(ctx, TC_F32, f, 10) == 0, "rand f32");
  uint32_t w[4];
  for (int i = 0; i < 10; i++) {
    block(seed, (uint64_t)i / 4, w);
    CHECK(f[i] == (float)(w[i % 4] >> 8) * 0x1p-24f, "rand f32 element %d", i);
  }
  /* 10 floats took blocks 0..2; f64 takes two words an element from block 3 on. */
  double d[3];
  CHECK(tcrt_rand(ctx, TC_F64, d, 3) == 0, "rand f64");
  for (int i = 0; i < 3; i++) {
    block(seed, 3 + (uint64_t)i / 2, w);
    uint64_t x = (uint64_t)w[2 * (i % 2)] << 32 | w[2 * (i % 2) + 1];
    CHECK(d[i] == (double)(x >> 11) * 0x1p-53, "rand f64 element %d", i);
  }
  int64_t r[3];
  CHECK(tcrt_randint(ctx, 0, 1000, r, 3) == 0, "randint");
  for (int i = 0; i < 3; i++) {
    block(seed, 5 + (uint64_t)i / 2, w);
    uint64_t x = (uint64_t)w[2 * (i % 2)] << 32 | w[2 * (i % 2) + 1];
    CHECK(r[i] == (int64_t)(((unsigned __int128)x * 1000) >> 64), "randint element %d", i);
  }
}

static void test_reproducible(tc_ctx *ctx) {
  float a[103], b[103], c[103];
  tcrt_seed(ctx, 42);
  tcrt_rand(ctx, TC_F32, a, 103);
  tcrt_seed(ctx, 42);
  tcrt_set_threads(ctx, 8);
  tcrt_rand(ctx, TC_F32, b, 103);
  tcrt_set_threads(ctx, 1);
  CHECK(!memcmp(a, b, sizeof a), "same seed, same numbers (whatever the threads)");
  tcrt_seed(ctx, 43);
  tcrt_rand(ctx, TC_F32, c, 103);
  CHECK(memcmp(a, c, sizeof a) != 0, "another seed, other numbers");
  /* A draw of 8 is two draws of 4: whole blocks, taken in order. */
  tcrt_seed(ctx, 42);
  tcrt_rand(ctx, TC_F32, c, 4);
  tcrt_rand(ctx, TC_F32, c + 4, 4);
  CHECK(!memcmp(a, c, 8 * sizeof(float)), "rand(8) == rand(4), rand(4)");
  /* Two draws in a row differ; the default seed is 0. */
  tcrt_rand(ctx, TC_F32, c, 103);
  CHECK(memcmp(a, c, sizeof a) != 0, "the stream advances");
  tc_ctx *fresh = tcrt_ctx_new(0), *zero = tcrt_ctx_new(0);
  tcrt_seed(zero, 0);
  tcrt_rand(fresh, TC_F32, a, 103);
  tcrt_rand(zero, TC_F32, b, 103);
  CHECK(!memcmp(a, b, sizeof a), "default seed is 0");
  tcrt_ctx_free(fresh);
  tcrt_ctx_free(zero);
}

static void moments(const double *x, int64_t n, double m[4]) {
  double mean = 0, v = 0, s = 0, k = 0;
  for (int64_t i = 0; i < n; i++)
    mean += x[i];
  mean /= n;
  for (int64_t i = 0; i < n; i++) {
    double d = x[i] - mean;
    v += d * d, s += d * d * d, k += d * d * d * d;
  }
  v /= n, s /= n, k /= n;
  m[0] = mean, m[1] = v, m[2] = s / pow(v, 1.5), m[3] = k / (v * v);
}

static void test_uniform(tc_ctx *ctx, double *x) {
  /* Sampling error of the mean of 10^6 uniforms is 2.9e-4 and of the
   * variance 7.5e-5: the bounds are about 5 sigma. */
  float *f = malloc(N * sizeof *f);
  tcrt_seed(ctx, 1);
  CHECK(tcrt_rand(ctx, TC_F32, f, N) == 0, "rand f32");
  double lo = 1, hi = 0, m[4];
  for (int i = 0; i < N; i++)
    x[i] = f[i], lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
  moments(x, N, m);
  CHECK(lo >= 0 && hi < 1 && lo < 1e-5 && hi > 1 - 1e-5, "rand f32 range [%g, %g]", lo, hi);
  CHECK(fabs(m[0] - 0.5) < 1.5e-3 && fabs(m[1] - 1.0 / 12) < 4e-4, "rand f32 mean %g var %g", m[0], m[1]);
  free(f);
  CHECK(tcrt_rand(ctx, TC_F64, x, N) == 0, "rand f64");
  lo = 1, hi = 0;
  for (int i = 0; i < N; i++)
    lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
  moments(x, N, m);
  CHECK(lo >= 0 && hi < 1 && lo < 1e-5 && hi > 1 - 1e-5, "rand f64 range [%g, %g]", lo, hi);
  CHECK(fabs(m[0] - 0.5) < 1.5e-3 && fabs(m[1] - 1.0 / 12) < 4e-4, "rand f64 mean %g var %g", m[0], m[1]);
}

static void test_normal(tc_ctx *ctx, double *x) {
  /* Sampling errors at 10^6: mean 1e-3, variance 1.4e-3, skewness 2.4e-3,
   * kurtosis 4.9e-3. */
  float *f = malloc(N * sizeof *f);
  tcrt_seed(ctx, 2);
  CHECK(tcrt_randn(ctx, TC_F32, f, N) == 0, "randn f32");
  int finite = 1;
  for (int i = 0; i < N; i++)
    x[i] = f[i], finite &= isfinite(x[i]) != 0;
  double m[4];
  moments(x, N, m);
  CHECK(finite, "randn f32 finite");
  CHECK(fabs(m[0]) < 5e-3 && fabs(m[1] - 1) < 7e-3 && fabs(m[2]) < 0.012 && fabs(m[3] - 3) < 0.025,
        "randn f32 moments %g %g %g %g", m[0], m[1], m[2], m[3]);
  free(f);
  CHECK(tcrt_randn(ctx, TC_F64, x, N) == 0, "randn f64");
  finite = 1;
  int64_t beyond3 = 0;
  for (int i = 0; i < N; i++)
    finite &= isfinite(x[i]) != 0, beyond3 += fabs(x[i]) > 3;
  moments(x, N, m);
  CHECK(finite, "randn f64 finite");
  CHECK(fabs(m[0]) < 5e-3 && fabs(m[1] - 1) < 7e-3 && fabs(m[2]) < 0.012 && fabs(m[3] - 3) < 0.025,
        "randn f64 moments %g %g %g %g", m[0], m[1], m[2], m[3]);
  /* P(|z| > 3) = 0.0026998; sigma of the count is 52. */
  CHECK(llabs(beyond3 - 2700) < 260, "randn f64 tails: %lld beyond 3 sigma", (long long)beyond3);
}

static void test_randint(tc_ctx *ctx) {
  int64_t *r = malloc(N * sizeof *r);
  int64_t count[10] = {0};
  tcrt_seed(ctx, 3);
  CHECK(tcrt_randint(ctx, -3, 7, r, N) == 0, "randint");
  int in_range = 1;
  for (int i = 0; i < N; i++) {
    in_range &= r[i] >= -3 && r[i] < 7;
    if (r[i] >= -3 && r[i] < 7)
      count[r[i] + 3]++;
  }
  CHECK(in_range, "randint in [-3, 7)");
  /* Each count is 10^5 with sigma 300. */
  for (int v = 0; v < 10; v++)
    CHECK(llabs(count[v] - N / 10) < 1500, "randint value %d drawn %lld times", v - 3, (long long)count[v]);
  /* The whole int64 range, and ranges of one value. */
  CHECK(tcrt_randint(ctx, INT64_MIN, INT64_MAX, r, N) == 0, "randint full range");
  int64_t neg = 0;
  for (int i = 0; i < N; i++)
    neg += r[i] < 0;
  CHECK(llabs(neg - N / 2) < 2500, "randint full range: %lld negative", (long long)neg);
  tcrt_randint(ctx, INT64_MAX - 1, INT64_MAX, r, 100);
  int all = 1;
  for (int i = 0; i < 100; i++)
    all &= r[i] == INT64_MAX - 1;
  CHECK(all, "randint of a one-value range at the top");
  free(r);
}

static void test_randperm(tc_ctx *ctx) {
  int64_t p[1000];
  char seen[1000] = {0};
  tcrt_seed(ctx, 4);
  CHECK(tcrt_randperm(ctx, p, 1000) == 0, "randperm");
  int ok = 1;
  for (int i = 0; i < 1000; i++) {
    ok &= p[i] >= 0 && p[i] < 1000 && !seen[p[i] < 0 || p[i] >= 1000 ? 0 : p[i]];
    if (p[i] >= 0 && p[i] < 1000)
      seen[p[i]] = 1;
  }
  CHECK(ok, "randperm(1000) is a permutation");
  CHECK(tcrt_randperm(ctx, p, 0) == 0, "randperm(0)");
  CHECK(tcrt_randperm(ctx, p, 1) == 0 && p[0] == 0, "randperm(1)");
  /* All 24 orders of 4 come out equally often: 10^5 / 24 each, sigma 63. */
  int64_t count[256] = {0};
  for (int t = 0; t < 100000; t++) {
    tcrt_randperm(ctx, p, 4);
    count[p[0] * 64 + p[1] * 16 + p[2] * 4 + p[3]]++;
  }
  int orders = 0, even = 1;
  for (int i = 0; i < 256; i++)
    if (count[i]) {
      orders++;
      even &= llabs(count[i] - 100000 / 24) < 350;
    }
  CHECK(orders == 24 && even, "randperm(4): %d orders, evenly drawn: %d", orders, even);
}

static void test_errors(tc_ctx *ctx) {
  int64_t r[4];
  float f[4];
  CHECK(tcrt_randint(ctx, 5, 5, r, 4) == TC_ERR_RUNTIME && strstr(tcrt_error(ctx), "[5, 5)"), "randint empty: %s",
        tcrt_error(ctx));
  CHECK(tcrt_randint(ctx, 5, 4, r, 4) == TC_ERR_RUNTIME, "randint hi < lo");
  CHECK(tcrt_rand(ctx, TC_I32, f, 4) == TC_ERR_RUNTIME && strstr(tcrt_error(ctx), "i32"), "rand i32: %s",
        tcrt_error(ctx));
  CHECK(tcrt_randn(ctx, TC_BOOL, f, 4) == TC_ERR_RUNTIME, "randn bool");
  CHECK(tcrt_rand(ctx, TC_F32, f, -1) == TC_ERR_RUNTIME, "rand negative count");
  CHECK(tcrt_randperm(ctx, r, -2) == TC_ERR_RUNTIME, "randperm negative");
  CHECK(tcrt_rand(ctx, TC_F32, NULL, 0) == 0, "rand of nothing");
}

/* One fixed sequence for rng_ref.py: every kind of draw, in one stream. */
static int dump(uint64_t seed) {
  tc_ctx *ctx = tcrt_ctx_new(0);
  tcrt_seed(ctx, seed);
  float f[7];
  double d[5];
  int64_t r[9];
  tcrt_rand(ctx, TC_F32, f, 7);
  for (int i = 0; i < 7; i++)
    printf("rand_f32 %a\n", f[i]);
  tcrt_rand(ctx, TC_F64, d, 5);
  for (int i = 0; i < 5; i++)
    printf("rand_f64 %a\n", d[i]);
  tcrt_randn(ctx, TC_F32, f, 7);
  for (int i = 0; i < 7; i++)
    printf("randn_f32 %.9g\n", f[i]);
  tcrt_randn(ctx, TC_F64, d, 5);
  for (int i = 0; i < 5; i++)
    printf("randn_f64 %.17g\n", d[i]);
  tcrt_randint(ctx, -5, 1000, r, 9);
  for (int i = 0; i < 9; i++)
    printf("randint %" PRId64 "\n", r[i]);
  tcrt_randint(ctx, INT64_MIN, INT64_MAX, r, 3);
  for (int i = 0; i < 3; i++)
    printf("randint_full %" PRId64 "\n", r[i]);
  tcrt_randperm(ctx, r, 9);
  for (int i = 0; i < 9; i++)
    printf("randperm %" PRId64 "\n", r[i]);
  tcrt_rand(ctx, TC_F32, f, 1);
  printf("rand_f32 %a\n", f[0]);
  tcrt_ctx_free(ctx);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "dump"))
    return dump(strtoull(argv[2], NULL, 0));
  tc_ctx *ctx = tcrt_ctx_new(0);
  double *x = malloc(N * sizeof *x);
  test_known_answers();
  test_layout(ctx);
  test_reproducible(ctx);
  test_uniform(ctx, x);
  test_normal(ctx, x);
  test_randint(ctx);
  test_randperm(ctx);
  test_errors(ctx);
  free(x);
  tcrt_ctx_free(ctx);
  printf("rng: %d of %d checks passed\n", checks - failures, checks);
  return failures ? 1 : 0;
}
