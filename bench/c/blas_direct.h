/* bench/c/blas_direct.h - the BLAS of tensorc's runtime, called directly:
 * bench/run.py compiles the harnesses with the build's lib/tensorc_rt.cflags
 * (cmake/blas.cmake: which library, its headers) and links them with
 * lib/tensorc_rt.ldflags.  direct_sgemm is a row-major C = A @ B of n x n;
 * direct_core names the kernels the library picked for this CPU. */
#ifndef TENSORC_BENCH_BLAS_DIRECT_H
#define TENSORC_BENCH_BLAS_DIRECT_H

#if defined(TC_BLAS_SCIPY_OPENBLAS)
#include <cblas.h>
#define direct_cblas_sgemm scipy_cblas_sgemm
static const char *direct_core(void) { return scipy_openblas_get_corename(); }
static int direct_threads(void) { return scipy_openblas_get_num_threads(); }
#elif defined(TC_BLAS_BLIS)
#include <blis.h>
#include <cblas.h>
#define direct_cblas_sgemm cblas_sgemm
static const char *direct_core(void) { return bli_arch_string(bli_arch_query_id()); }
static int direct_threads(void) { return (int)bli_thread_get_num_threads(); }
#else /* TC_BLAS_OPENBLAS, or a build from before cmake/blas.cmake */
#include <cblas.h>
#define direct_cblas_sgemm cblas_sgemm
static const char *direct_core(void) { return openblas_get_corename(); }
static int direct_threads(void) { return openblas_get_num_threads(); }
#endif

static void direct_sgemm(const float *a, const float *b, float *c, int n) {
  direct_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
}

#endif
