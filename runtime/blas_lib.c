/* runtime/blas_lib.c - the BLAS library behind tcrt_matmul's float products,
 * chosen at build time (cmake/blas.cmake, -DTENSORC_BLAS=): which functions
 * to call, how to give it tensorc's thread count, and how it names itself.
 *
 *   TC_BLAS_SCIPY_OPENBLAS  PyPI's scipy-openblas32: OpenBLAS, 32-bit ints,
 *                           every symbol prefixed scipy_
 *   TC_BLAS_OPENBLAS        the system's OpenBLAS
 *   TC_BLAS_BLIS            BLIS, through its CBLAS layer
 *
 * Loading.  The library is opened with dlopen (by its soname, TC_BLAS_SONAME,
 * found through the program's rpath) on the first float product, not when
 * the program starts: OpenBLAS starts its threads when it is loaded, and
 * they spin for about 0.1 s of CPU looking for work, which a program with no
 * product (and the compiler itself, which links the runtime for its .npy
 * reader) would pay on every start (docs/performance.md "BLAS").
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

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#ifndef TC_BLAS_SONAME
#error "cmake/blas.cmake defines TC_BLAS_SONAME, the library's name for dlopen"
#endif

#if defined(TC_BLAS_SCIPY_OPENBLAS)
#include <cblas.h>
typedef __typeof__(scipy_cblas_sgemm) sgemm_fn;
typedef __typeof__(scipy_cblas_dgemm) dgemm_fn;
#define SGEMM_NAME "scipy_cblas_sgemm"
#define DGEMM_NAME "scipy_cblas_dgemm"
#define THREADS_NAME "scipy_openblas_set_num_threads"
static void describe(void *lib, char *buf, size_t size) {
  char *(*config)(void) = (char *(*)(void))dlsym(lib, "scipy_openblas_get_config");
  char *(*core)(void) = (char *(*)(void))dlsym(lib, "scipy_openblas_get_corename");
  snprintf(buf, size, "scipy-openblas32: %s, core %s", config ? config() : "?", core ? core() : "?");
}
#elif defined(TC_BLAS_OPENBLAS)
#include <cblas.h>
typedef __typeof__(cblas_sgemm) sgemm_fn;
typedef __typeof__(cblas_dgemm) dgemm_fn;
#define SGEMM_NAME "cblas_sgemm"
#define DGEMM_NAME "cblas_dgemm"
#define THREADS_NAME "openblas_set_num_threads"
static void describe(void *lib, char *buf, size_t size) {
  char *(*config)(void) = (char *(*)(void))dlsym(lib, "openblas_get_config");
  char *(*core)(void) = (char *(*)(void))dlsym(lib, "openblas_get_corename");
  snprintf(buf, size, "system %s, core %s", config ? config() : "?", core ? core() : "?");
}
#elif defined(TC_BLAS_BLIS)
#include <blis.h>
#include <cblas.h>
typedef __typeof__(cblas_sgemm) sgemm_fn;
typedef __typeof__(cblas_dgemm) dgemm_fn;
#define SGEMM_NAME "cblas_sgemm"
#define DGEMM_NAME "cblas_dgemm"
#define THREADS_NAME "bli_thread_set_num_threads"
static void describe(void *lib, char *buf, size_t size) {
  char *(*version)(void) = (char *(*)(void))dlsym(lib, "bli_info_get_version_str");
  arch_t (*arch_id)(void) = (arch_t(*)(void))dlsym(lib, "bli_arch_query_id");
  char *(*arch_name)(arch_t) = (char *(*)(arch_t))dlsym(lib, "bli_arch_string");
  snprintf(buf, size, "BLIS %s, config %s", version ? version() : "?",
           arch_id && arch_name ? arch_name(arch_id()) : "?");
}
#else
#error "no BLAS chosen: cmake/blas.cmake defines TC_BLAS_SCIPY_OPENBLAS, TC_BLAS_OPENBLAS or TC_BLAS_BLIS"
#endif

/* The library's functions, NULL until blas_open has run; blas_error says
 * why they are still NULL after it. */
static struct {
  void *lib;
  sgemm_fn *sgemm;
  dgemm_fn *dgemm;
  void (*set_threads)(int);
} blas;
static char blas_error[300];
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_open(void) {
  void *lib = dlopen(TC_BLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    snprintf(blas_error, sizeof blas_error, "cannot load the BLAS library: %s", why ? why : TC_BLAS_SONAME);
    return;
  }
  void *s = dlsym(lib, SGEMM_NAME), *d = dlsym(lib, DGEMM_NAME), *t = dlsym(lib, THREADS_NAME);
  if (!s || !d || !t) {
    snprintf(blas_error, sizeof blas_error, "the BLAS library %s has no %s", TC_BLAS_SONAME,
             !s ? SGEMM_NAME : !d ? DGEMM_NAME : THREADS_NAME);
    return;
  }
  blas.lib = lib;
  blas.sgemm = (sgemm_fn *)s;
  blas.dgemm = (dgemm_fn *)d;
  blas.set_threads = (void (*)(int))t;
}

const char *rt_blas_load(void) {
  pthread_once(&blas_once, blas_open);
  return blas.lib ? NULL : blas_error;
}

static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
static int blas_threads; /* the count last given to the library; 0: none yet */

static void use_threads(int n) {
  if (n != blas_threads) {
    blas.set_threads(n);
    blas_threads = n;
  }
}

void tcrt_blas_sgemm(int threads, bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b,
                     int ldb, float beta, float *c, int ldc) {
  pthread_mutex_lock(&blas_lock);
  use_threads(threads);
  blas.sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb,
        beta, c, ldc);
  pthread_mutex_unlock(&blas_lock);
}

void tcrt_blas_dgemm(int threads, bool ta, bool tb, int m, int n, int k, const double *a, int lda, const double *b,
                     int ldb, double beta, double *c, int ldc) {
  pthread_mutex_lock(&blas_lock);
  use_threads(threads);
  blas.dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb,
        beta, c, ldc);
  pthread_mutex_unlock(&blas_lock);
}

static char blas_info[512];
static void fill_info(void) {
  const char *why = rt_blas_load();
  if (why)
    snprintf(blas_info, sizeof blas_info, "%s", why);
  else
    describe(blas.lib, blas_info, sizeof blas_info);
}

const char *tcrt_blas_info(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, fill_info);
  return blas_info;
}
