/* (e) C = A @ B and relu(A @ B + bias) for square f32 matrices of 1024 and
 * 2048: tensorc (bench/tc/sgemm.tc) against the sgemm of the BLAS tensorc's
 * runtime links called directly (blas_direct.h; cmake/blas.cmake), and the same
 * followed by a separate bias + ReLU loop in plain C (what an unfused
 * epilogue costs).  The four are interleaved, one of each per repetition,
 * so that a machine busy with something else slows them alike.
 * argv[1]: repetitions at 1024 (a quarter at 2048); argv[2]: the largest
 * size (default 2048). */
#include "blas_direct.h"
#include "sgemm.h"
#include "tensorc/runtime.h"
#include "bench.h"

static double check(const float *a, const float *b, const float *bias, const float *c, int64_t n) {
  double err = 0;
  for (int64_t i = 0; i < n; i += n / 7 + 1)
    for (int64_t j = 0; j < n; j += n / 5 + 3) {
      double s = 0;
      for (int64_t p = 0; p < n; p++)
        s += (double)a[i * n + p] * b[p * n + j];
      if (bias)
        s = fmax(s + bias[j], 0.0);
      err = fmax(err, fabs(c[i * n + j] - s) / sqrt((double)n));
    }
  return err;
}

static void blas_mm(const float *a, const float *b, float *c, int n) { direct_sgemm(a, b, c, n); }

static void bias_relu(float *c, const float *bias, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      float v = c[i * n + j] + bias[j];
      c[i * n + j] = v > 0.0f ? v : 0.0f;
    }
}

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 20);
  int64_t top = argc > 2 ? atoll(argv[2]) : 2048;
  sgemm_ctx *ctx = sgemm_create(NULL);
  if (!ctx) {
    fprintf(stderr, "bench: %s\n", sgemm_error(NULL));
    return 1;
  }
  for (int64_t n = 1024; n <= top; n *= 2) {
    int64_t shape[2] = {n, n}, vshape[1] = {n};
    float *a = bench_alloc(n * n * 4), *b = bench_alloc(n * n * 4), *c = bench_alloc(n * n * 4);
    float *bias = bench_alloc(n * 4);
    bench_fill(a, n * n, -1.0f, 1.0f);
    bench_fill(b, n * n, -1.0f, 1.0f);
    bench_fill(bias, n, -1.0f, 1.0f);
    DLTensor A = F32(a, 2, shape), B = F32(b, 2, shape), C = F32(c, 2, shape), V = F32(bias, 1, vshape);
    int r = n > 1024 ? (reps + 3) / 4 : reps;
    double *t = malloc(sizeof(double) * 4 * (size_t)r);
    char key[64];

    /* correctness first (and a warm-up of each) */
    CALL(sgemm_error, ctx, sgemm_mm(ctx, &A, &B, &C));
    snprintf(key, sizeof key, "e.tensorc.mm.%lld", (long long)n);
    bench_check(key, check(a, b, NULL, c, n), 1e-5);
    CALL(sgemm_error, ctx, sgemm_mm_bias_relu(ctx, &A, &B, &V, &C));
    snprintf(key, sizeof key, "e.tensorc.mm_bias_relu.%lld", (long long)n);
    bench_check(key, check(a, b, bias, c, n), 1e-5);
    blas_mm(a, b, c, (int)n);
    if (n == 1024) /* the library as the runtime describes it, after a product (which set its threads) */
      printf("INFO openblas %s threads=%d\nINFO openblas.core %s\n", tcrt_blas_info(), direct_threads(),
             direct_core());

    for (int i = 0; i < r; i++) {
      TIME1(&t[i], CALL(sgemm_error, ctx, sgemm_mm(ctx, &A, &B, &C)));
      TIME1(&t[r + i], blas_mm(a, b, c, (int)n));
      TIME1(&t[2 * r + i], CALL(sgemm_error, ctx, sgemm_mm_bias_relu(ctx, &A, &B, &V, &C)));
      TIME1(&t[3 * r + i], blas_mm(a, b, c, (int)n); bias_relu(c, bias, n));
    }
    const char *names[4] = {"tensorc.mm", "openblas.mm", "tensorc.mm_bias_relu", "openblas.mm_bias_relu"};
    for (int k = 0; k < 4; k++) {
      snprintf(key, sizeof key, "e.%s.%lld", names[k], (long long)n);
      bench_result(key, t + k * r, r);
    }
    free(t), free(a), free(b), free(c), free(bias);
  }
  sgemm_destroy(ctx);
  return 0;
}
