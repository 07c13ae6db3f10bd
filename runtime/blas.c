/* runtime/blas.c - matrix products: C[b] = op(A[b]) @ op(B[b]) for each
 * batch entry b, every matrix dense and row-major; op() is the matrix as
 * stored, or its transpose when `trans` says so (TC_MM_TRANS_A/B): the
 * lowering passes `x.T @ y` and the backward of a product this way rather
 * than copying a transpose into a new buffer.
 *
 * Floats go to the BLAS chosen at build time (blas_lib.c), one ?gemm call
 * per batch entry on the context's thread count (the library threads inside
 * each call; batches in the models tensorc compiles are short, and a batched
 * gemm interface would tie us to one BLAS).  Integer
 * and bool products are plain loops (see INT_GEMM).  Integers wrap on overflow, as NumPy's do:
 * the loops multiply and add in unsigned arithmetic, where C defines it.
 * Bool is NumPy's too: C[i,j] = OR over p of (A[i,p] AND B[p,j]).
 *
 * The strides are in elements, between consecutive batch entries; 0 means
 * the same matrix for every entry (NumPy's broadcasting of a batch of 1).
 * C must not overlap A or B.  Degenerate sizes are fine: m or n of 0 writes
 * nothing, k of 0 writes zeros (an empty sum), batch of 0 does nothing.
 */
#include "rt_internal.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* BLAS takes int sizes (unless built for 64-bit integers). */
static int fits_blas(int64_t x) { return x <= INT_MAX; }

/* The row length of a stored operand: op(A) is m x k, stored m x k, or
 * k x m with TC_MM_TRANS_A (then lda = m); op(B) k x n, stored k x n or
 * n x k (ldb = k).  At least 1 even for empty matrices, or the reference
 * checks in cblas reject the call. */
static int ld(int64_t cols) { return (int)(cols > 0 ? cols : 1); }

static void gemm_f32(int threads, int trans, const float *a, const float *b, float *c, int64_t m, int64_t n,
                     int64_t k) {
  bool ta = trans & TC_MM_TRANS_A, tb = trans & TC_MM_TRANS_B;
  tcrt_blas_sgemm(threads, ta, tb, (int)m, (int)n, (int)k, a, ld(ta ? m : k), b, ld(tb ? k : n), 0.0f, c, ld(n));
}

static void gemm_f64(int threads, int trans, const double *a, const double *b, double *c, int64_t m, int64_t n,
                     int64_t k) {
  bool ta = trans & TC_MM_TRANS_A, tb = trans & TC_MM_TRANS_B;
  tcrt_blas_dgemm(threads, ta, tb, (int)m, (int)n, (int)k, a, ld(ta ? m : k), b, ld(tb ? k : n), 0.0, c, ld(n));
}

/* Element offsets of op(A)[i,p] and op(B)[p,j] in the stored operands. */
#define A_AT(i, p) (ta ? (p) * m + (i) : (i) * k + (p))
#define B_AT(p, j) (tb ? (j) * k + (p) : (p) * n + (j))

/* The integer loops, one per type; UT is the unsigned type of the same
 * width, in which the arithmetic is done.  In i-p-j order, so that the
 * inner loop runs along rows of B and C; with B stored transposed, in
 * i-j-p order instead, so that it runs along a row of the stored B. */
#define INT_GEMM(NAME, T, UT)                                                                                  \
  static void NAME(int trans, const T *a, const T *b, T *c, int64_t m, int64_t n, int64_t k) {               \
    bool ta = trans & TC_MM_TRANS_A, tb = trans & TC_MM_TRANS_B;                                               \
    for (int64_t i = 0; i < m; i++) {                                                                          \
      UT *crow = (UT *)(c + i * n);                                                                            \
      if (tb) {                                                                                                \
        for (int64_t j = 0; j < n; j++) {                                                                      \
          UT s = 0;                                                                                            \
          for (int64_t p = 0; p < k; p++)                                                                      \
            s += (UT)a[A_AT(i, p)] * (UT)b[B_AT(p, j)];                                                        \
          crow[j] = s;                                                                                         \
        }                                                                                                      \
        continue;                                                                                              \
      }                                                                                                        \
      memset(crow, 0, (size_t)n * sizeof(T));                                                                  \
      for (int64_t p = 0; p < k; p++) {                                                                        \
        UT x = (UT)a[A_AT(i, p)];                                                                              \
        const T *brow = b + p * n;                                                                             \
        for (int64_t j = 0; j < n; j++)                                                                        \
          crow[j] += x * (UT)brow[j];                                                                          \
      }                                                                                                        \
    }                                                                                                          \
  }

INT_GEMM(gemm_i32, int32_t, uint32_t)
INT_GEMM(gemm_i64, int64_t, uint64_t)

static void gemm_bool(int trans, const uint8_t *a, const uint8_t *b, uint8_t *c, int64_t m, int64_t n, int64_t k) {
  bool ta = trans & TC_MM_TRANS_A, tb = trans & TC_MM_TRANS_B;
  for (int64_t i = 0; i < m; i++) {
    uint8_t *crow = c + i * n;
    memset(crow, 0, (size_t)n);
    for (int64_t p = 0; p < k; p++) {
      if (!a[A_AT(i, p)])
        continue;
      for (int64_t j = 0; j < n; j++)
        crow[j] |= b[B_AT(p, j)] != 0;
    }
  }
}

#undef A_AT
#undef B_AT

int tcrt_matmul(tc_ctx *ctx, tc_dtype dt, int trans, const void *a, const void *b, void *c, int64_t batch,
                int64_t m, int64_t n, int64_t k, int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  /* 1. Check the arguments: generated code computes them, so a bad one is
   * a run-time error, never a crash. */
  if (batch < 0 || m < 0 || n < 0 || k < 0)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: negative size (batch %lld, m %lld, n %lld, k %lld)",
                     (long long)batch, (long long)m, (long long)n, (long long)k);
  if (stride_a < 0 || stride_b < 0 || stride_c < 0)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: negative batch stride");
  if (trans & ~(TC_MM_TRANS_A | TC_MM_TRANS_B))
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: transpose flags %d, expected a combination of TC_MM_TRANS_A (1) and "
                     "TC_MM_TRANS_B (2)", trans);
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
  const char *no_blas = dt == TC_F32 || dt == TC_F64 ? rt_blas_load() : NULL;
  if (no_blas)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: %s", no_blas);
  /* 2. One product per batch entry, on the context's threads. */
  int threads = ctx ? tcrt_threads(ctx) : tcrt_default_threads();
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
    case TC_F32: gemm_f32(threads, trans, (const float *)ae, (const float *)be, (float *)ce, m, n, k); break;
    case TC_F64: gemm_f64(threads, trans, (const double *)ae, (const double *)be, (double *)ce, m, n, k); break;
    case TC_I32: gemm_i32(trans, (const int32_t *)ae, (const int32_t *)be, (int32_t *)ce, m, n, k); break;
    case TC_I64: gemm_i64(trans, (const int64_t *)ae, (const int64_t *)be, (int64_t *)ce, m, n, k); break;
    default: gemm_bool(trans, (const uint8_t *)ae, (const uint8_t *)be, (uint8_t *)ce, m, n, k); break;
    }
  }
  return TC_OK;
}
