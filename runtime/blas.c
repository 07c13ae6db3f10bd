/* runtime/blas.c - matrix products: C[b] = A[b] @ B[b] for each batch
 * entry b, every matrix dense and row-major.
 *
 * Floats go to OpenBLAS, one cblas_?gemm call per batch entry (OpenBLAS
 * threads inside each call; batches in the models tensorc compiles are
 * short, and a batched gemm interface would tie us to one BLAS).  Integer
 * and bool products are plain loops in i-p-j order, so that the inner loop
 * runs along rows of B and C.  Integers wrap on overflow, as NumPy's do:
 * the loops multiply and add in unsigned arithmetic, where C defines it.
 * Bool is NumPy's too: C[i,j] = OR over p of (A[i,p] AND B[p,j]).
 *
 * The strides are in elements, between consecutive batch entries; 0 means
 * the same matrix for every entry (NumPy's broadcasting of a batch of 1).
 * C must not overlap A or B.  Degenerate sizes are fine: m or n of 0 writes
 * nothing, k of 0 writes zeros (an empty sum), batch of 0 does nothing.
 */
#include "rt_internal.h"

#include <cblas.h>
#include <limits.h>
#include <string.h>

/* BLAS takes int sizes (unless built for 64-bit integers). */
static int fits_blas(int64_t x) { return x <= INT_MAX; }

static void gemm_f32(const float *a, const float *b, float *c, int64_t m, int64_t n, int64_t k) {
  /* lda, ldb and ldc must be at least 1 even for empty matrices, or the
   * reference checks in cblas reject the call. */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)(k > 0 ? k : 1), b,
              (int)(n > 0 ? n : 1), 0.0f, c, (int)(n > 0 ? n : 1));
}

static void gemm_f64(const double *a, const double *b, double *c, int64_t m, int64_t n, int64_t k) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, a, (int)(k > 0 ? k : 1), b,
              (int)(n > 0 ? n : 1), 0.0, c, (int)(n > 0 ? n : 1));
}

/* The integer loops, one per type; UT is the unsigned type of the same
 * width, in which the arithmetic is done. */
#define INT_GEMM(NAME, T, UT)                                                                                  \
  static void NAME(const T *a, const T *b, T *c, int64_t m, int64_t n, int64_t k) {                          \
    for (int64_t i = 0; i < m; i++) {                                                                          \
      UT *crow = (UT *)(c + i * n);                                                                            \
      memset(crow, 0, (size_t)n * sizeof(T));                                                                  \
      for (int64_t p = 0; p < k; p++) {                                                                        \
        UT x = (UT)a[i * k + p];                                                                               \
        const T *brow = b + p * n;                                                                             \
        for (int64_t j = 0; j < n; j++)                                                                        \
          crow[j] += x * (UT)brow[j];                                                                          \
      }                                                                                                        \
    }                                                                                                          \
  }

INT_GEMM(gemm_i32, int32_t, uint32_t)
INT_GEMM(gemm_i64, int64_t, uint64_t)

static void gemm_bool(const uint8_t *a, const uint8_t *b, uint8_t *c, int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; i++) {
    uint8_t *crow = c + i * n;
    memset(crow, 0, (size_t)n);
    for (int64_t p = 0; p < k; p++) {
      if (!a[i * k + p])
        continue;
      const uint8_t *brow = b + p * n;
      for (int64_t j = 0; j < n; j++)
        crow[j] |= brow[j] != 0;
    }
  }
}

int tcrt_matmul(tc_ctx *ctx, tc_dtype dt, const void *a, const void *b, void *c, int64_t batch, int64_t m,
                int64_t n, int64_t k, int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  /* 1. Check the arguments: generated code computes them, so a bad one is
   * a run-time error, never a crash. */
  if (batch < 0 || m < 0 || n < 0 || k < 0)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: negative size (batch %lld, m %lld, n %lld, k %lld)",
                     (long long)batch, (long long)m, (long long)n, (long long)k);
  if (stride_a < 0 || stride_b < 0 || stride_c < 0)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: negative batch stride");
  size_t size = tcrt_dtype_size(dt);
  if (size == 0)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: unknown dtype %d", (int)dt);
  if (batch == 0 || m == 0 || n == 0)
    return TC_OK;
  if ((dt == TC_F32 || dt == TC_F64) && (!fits_blas(m) || !fits_blas(n) || !fits_blas(k)))
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: %lld x %lld x %lld is too large for BLAS", (long long)m,
                     (long long)n, (long long)k);
  if (!c || (k > 0 && (!a || !b)))
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: missing buffer");
  /* 2. One product per batch entry. */
  for (int64_t e = 0; e < batch; e++) {
    char *ce = (char *)c + (size_t)(e * stride_c) * size;
    if (k == 0) {
      /* An empty sum (A and B may be NULL: they have no elements); not left
       * to BLAS, which may skip the write. */
      memset(ce, 0, (size_t)(m * n) * size);
      continue;
    }
    const char *ae = (const char *)a + (size_t)(e * stride_a) * size;
    const char *be = (const char *)b + (size_t)(e * stride_b) * size;
    switch (dt) {
    case TC_F32: gemm_f32((const float *)ae, (const float *)be, (float *)ce, m, n, k); break;
    case TC_F64: gemm_f64((const double *)ae, (const double *)be, (double *)ce, m, n, k); break;
    case TC_I32: gemm_i32((const int32_t *)ae, (const int32_t *)be, (int32_t *)ce, m, n, k); break;
    case TC_I64: gemm_i64((const int64_t *)ae, (const int64_t *)be, (int64_t *)ce, m, n, k); break;
    default: gemm_bool((const uint8_t *)ae, (const uint8_t *)be, (uint8_t *)ce, m, n, k); break;
    }
  }
  return TC_OK;
}
