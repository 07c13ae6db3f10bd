/* runtime/blas_lib.c - the BLAS library behind tcrt_matmul's float products,
 * chosen at build time (cmake/blas.cmake, -DTENSORC_BLAS=): which functions
 * to call, how to give it tensorc's thread count, and how it names itself.
 *
 *   TC_BLAS_SCIPY_OPENBLAS  PyPI's scipy-openblas32: OpenBLAS, 32-bit ints,
 *                           every symbol prefixed scipy_
 *   TC_BLAS_OPENBLAS        the system's OpenBLAS
 *   TC_BLAS_BLIS            BLIS, through its CBLAS layer
 *
 * Threads.  The library runs each product on the calling context's thread
 * count (tcrt_threads: --threads, the C interface's option, default every
 * CPU the process may use), not on its own environment variable.  The
 * libraries keep that count process-wide, and changing it while another
 * thread is inside a product is not safe, so setting the count and the
 * product are one critical section: products of different contexts take
 * turns (OpenBLAS's threaded level-3 calls take a lock of their own anyway).
 * The count is set only when it changes, so a steady program pays a mutex.
 */
#include "rt_internal.h"

#include <pthread.h>
#include <stdio.h>

#if defined(TC_BLAS_SCIPY_OPENBLAS)
#include <cblas.h>
#define SGEMM scipy_cblas_sgemm
#define DGEMM scipy_cblas_dgemm
static void set_threads(int n) { scipy_openblas_set_num_threads(n); }
static void describe(char *buf, size_t size) {
  snprintf(buf, size, "scipy-openblas32: %s, core %s", scipy_openblas_get_config(),
           scipy_openblas_get_corename());
}
#elif defined(TC_BLAS_OPENBLAS)
#include <cblas.h>
#define SGEMM cblas_sgemm
#define DGEMM cblas_dgemm
static void set_threads(int n) { openblas_set_num_threads(n); }
static void describe(char *buf, size_t size) {
  snprintf(buf, size, "system %s, core %s", openblas_get_config(), openblas_get_corename());
}
#elif defined(TC_BLAS_BLIS)
#include <blis.h>
#include <cblas.h>
#define SGEMM cblas_sgemm
#define DGEMM cblas_dgemm
static void set_threads(int n) { bli_thread_set_num_threads(n); }
static void describe(char *buf, size_t size) {
  snprintf(buf, size, "BLIS %s, config %s", bli_info_get_version_str(), bli_arch_string(bli_arch_query_id()));
}
#else
#error "no BLAS chosen: cmake/blas.cmake defines TC_BLAS_SCIPY_OPENBLAS, TC_BLAS_OPENBLAS or TC_BLAS_BLIS"
#endif

static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_threads; /* the count last given to the library; 0: none yet */

static void use_threads(int n) {
  if (n != blas_threads) {
    set_threads(n);
    blas_threads = n;
  }
}

void tcrt_blas_sgemm(int threads, bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b,
                     int ldb, float beta, float *c, int ldc) {
  pthread_mutex_lock(&blas_lock);
  use_threads(threads);
  SGEMM(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb,
        beta, c, ldc);
  pthread_mutex_unlock(&blas_lock);
}

void tcrt_blas_dgemm(int threads, bool ta, bool tb, int m, int n, int k, const double *a, int lda, const double *b,
                     int ldb, double beta, double *c, int ldc) {
  pthread_mutex_lock(&blas_lock);
  use_threads(threads);
  DGEMM(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb,
        beta, c, ldc);
  pthread_mutex_unlock(&blas_lock);
}

static char blas_info[512];
static void fill_info(void) { describe(blas_info, sizeof blas_info); }

const char *tcrt_blas_info(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, fill_info);
  return blas_info;
}
