/* runtime/cublas.c - matrix products on the GPU through cuBLAS.
 *
 * libcublas is opened with dlopen on the first matrix product of a context
 * on the CUDA driver backend (TENSORC_LIBCUBLAS=PATH names the file; else
 * libcublas.so.13, .12, .11, libcublas.so, from the loader's path, then from
 * /usr/local/cuda/lib64).  Each context makes one handle on its stream, so
 * a gemm is ordered with the kernels around it.  When the library cannot
 * be loaded or the handle made, products go to the CPU stand-in
 * (rt_dev_matmul_host) and tcrt_dev_name says so (TENSORC_DEVICE_STATS).
 *
 * The mapping (rt_cublas_args): our matrices are row-major and cuBLAS's
 * column-major, and a row-major r x c matrix is, read column-major, its
 * c x r transpose.  So C = op(A) op(B) is computed as
 * C^T = op(B)^T op(A)^T: cuBLAS's A is our B, its B our A, m and n swap,
 * and a transposed operand (trans_a / trans_b) is a flag, never a copy.
 * Batches are strided-batched with the strides as given (0 broadcasts one
 * operand over the batch).
 *
 * Precision: the handle's math mode is CUBLAS_DEFAULT_MATH, under which
 * single-precision gemms keep f32 inputs (TF32 tensor cores only with
 * CUBLAS_TF32_TENSOR_OP_MATH, per cublas_api.h: "allow accelerating single
 * precision routines using TF32 tensor cores"); --allow-tf32
 * (TC_GPU_ALLOW_TF32) sets that mode.  NVIDIA_TF32_OVERRIDE=0 can still
 * switch TF32 off; nothing switches it on behind our back.
 */
#include "rt_cuda.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cublas_api.h's values */
enum { CUBLAS_STATUS_SUCCESS = 0 };
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TF32_TENSOR_OP_MATH = 3 };

typedef struct CublasApi {
  int (*Create)(void **handle);
  int (*Destroy)(void *handle);
  int (*SetStream)(void *handle, CUstream stream);
  int (*SetMathMode)(void *handle, int mode);
  int (*Sgemm)(void *handle, int transa, int transb, int m, int n, int k, const float *alpha, const float *a,
               int lda, long long stride_a, const float *b, int ldb, long long stride_b, const float *beta, float *c,
               int ldc, long long stride_c, int batch);
  int (*Dgemm)(void *handle, int transa, int transb, int m, int n, int k, const double *alpha, const double *a,
               int lda, long long stride_a, const double *b, int ldb, long long stride_b, const double *beta,
               double *c, int ldc, long long stride_c, int batch);
  const char *(*GetStatusName)(int status); /* optional (cuBLAS 11.4.2 on) */
} CublasApi;

#define BLAS_SYM(field, name) {offsetof(CublasApi, field), name}
static const rt_cuda_sym blas_syms[] = {
    BLAS_SYM(Create, "cublasCreate_v2"),
    BLAS_SYM(Destroy, "cublasDestroy_v2"),
    BLAS_SYM(SetStream, "cublasSetStream_v2"),
    BLAS_SYM(SetMathMode, "cublasSetMathMode"),
    BLAS_SYM(Sgemm, "cublasSgemmStridedBatched"),
    BLAS_SYM(Dgemm, "cublasDgemmStridedBatched"),
};

static CublasApi blas;
static char blas_load_error[256]; /* why libcublas cannot be used ("" once loaded) */
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

/* dlopen's first candidate that opens; its reason when none does. */
static void *open_first(const char *const *names, int count, char *why, size_t whysize) {
  for (int i = 0; i < count; i++) {
    void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (lib)
      return lib;
    if (i == 0) { /* the first one's reason stands for all */
      const char *e = dlerror();
      snprintf(why, whysize, "%s", e ? e : names[i]);
    }
  }
  return NULL;
}

void *rt_cuda_dlopen(const char *env, const char *const *names, int count, char *why, size_t whysize) {
  const char *path = getenv(env);
  return path && *path ? open_first(&path, 1, why, whysize) : open_first(names, count, why, whysize);
}

void *rt_cuda_load_api(const char *libname, const char *env, const char *const *names, int count,
                       const rt_cuda_sym *syms, size_t nsyms, void *api, size_t apisize, char *err, size_t errsize) {
  char why[200] = "";
  void *lib = rt_cuda_dlopen(env, names, count, why, sizeof why);
  if (!lib) {
    snprintf(err, errsize, "no %s: %s", libname, why);
    return NULL;
  }
  for (size_t i = 0; i < nsyms; i++) {
    void *fn = dlsym(lib, syms[i].name);
    if (!fn) {
      snprintf(err, errsize, "%s has no %s", libname, syms[i].name);
      memset(api, 0, apisize);
      return NULL;
    }
    memcpy((char *)api + syms[i].offset, &fn, sizeof fn);
  }
  return lib;
}

static void load_cublas(void) {
  static const char *const names[] = {
      "libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so",
      "/usr/local/cuda/lib64/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.12",
      "/usr/local/cuda/lib64/libcublas.so.11"};
  void *lib = rt_cuda_load_api("libcublas", "TENSORC_LIBCUBLAS", names, (int)(sizeof names / sizeof *names),
                               blas_syms, sizeof blas_syms / sizeof *blas_syms, &blas, sizeof blas, blas_load_error,
                               sizeof blas_load_error);
  if (!lib)
    return;
  void *name_fn = dlsym(lib, "cublasGetStatusName");
  memcpy(&blas.GetStatusName, &name_fn, sizeof name_fn);
}

static const char *status_name(int st, char *buf, size_t size) {
  const char *name = blas.GetStatusName ? blas.GetStatusName(st) : NULL;
  snprintf(buf, size, "%s", name ? name : "cuBLAS status");
  size_t n = strlen(buf);
  if (!name)
    snprintf(buf + n, size - n, " %d", st);
  return buf;
}

/* The context's handle on its stream, made on first use; on failure the
 * context's products go to the CPU stand-in from then on. */
static void make_handle(tc_ctx *ctx, rt_cuda *cu) {
  char s[96];
  pthread_once(&blas_once, load_cublas);
  cu->blas_state = -1;
  if (blas_load_error[0]) {
    snprintf(cu->blas_why, sizeof cu->blas_why, "%s", blas_load_error);
    return;
  }
  if (rt_cuda_make_current(cu)) {
    snprintf(cu->blas_why, sizeof cu->blas_why, "cuCtxSetCurrent failed");
    return;
  }
  void *h = NULL;
  int st = blas.Create(&h);
  if (st) {
    snprintf(cu->blas_why, sizeof cu->blas_why, "cublasCreate_v2: %s", status_name(st, s, sizeof s));
    return;
  }
  int mode = ctx->gpu && (ctx->gpu->flags & TC_GPU_ALLOW_TF32) ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
  if ((st = blas.SetStream(h, cu->stream)) || (st = blas.SetMathMode(h, mode))) {
    snprintf(cu->blas_why, sizeof cu->blas_why, "cublasSetStream_v2 / cublasSetMathMode: %s",
             status_name(st, s, sizeof s));
    blas.Destroy(h);
    return;
  }
  cu->blas_handle = h;
  cu->blas_state = 1;
}

void rt_cublas_close(rt_cuda *cu) {
  rt_cublaslt_close(cu);
  if (cu->blas_handle)
    blas.Destroy(cu->blas_handle);
  cu->blas_handle = NULL;
}

static int64_t at_least_1(int64_t v) { return v > 1 ? v : 1; }

rt_gemm rt_cublas_args(const rt_matmul *mm) {
  rt_gemm g;
  g.m = mm->n;
  g.n = mm->m;
  g.k = mm->k;
  /* cuBLAS's A is our B: stored k x n (ld n), read column-major it is
   * op(B)^T already; stored n x k (trans_b, ld k), it needs the flag. */
  g.a = mm->b;
  g.trans_a = mm->trans_b;
  g.lda = at_least_1(mm->trans_b ? mm->k : mm->n);
  g.stride_a = mm->stride_b;
  /* cuBLAS's B is our A: m x k (ld k) or, with trans_a, k x m (ld m). */
  g.b = mm->a;
  g.trans_b = mm->trans_a;
  g.ldb = at_least_1(mm->trans_a ? mm->m : mm->k);
  g.stride_b = mm->stride_a;
  /* C: row-major m x n is column-major n x m with ld n */
  g.c = mm->c;
  g.ldc = at_least_1(mm->n);
  g.stride_c = mm->stride_c;
  g.batch = mm->batch;
  return g;
}

/* k == 0: each C block is zeros (a sum of nothing). */
static int zero_blocks(tc_ctx *ctx, const rt_matmul *mm) {
  int64_t es = (int64_t)tcrt_dtype_size(mm->dt), nblocks = mm->stride_c ? mm->batch : 1;
  for (int64_t b = 0; b < nblocks; b++) {
    int st = ctx->dev->zero(ctx, (char *)mm->c + b * mm->stride_c * es, mm->m * mm->n * es);
    if (st)
      return st;
  }
  return TC_OK;
}

int rt_cublas_matmul(tc_ctx *ctx, const rt_matmul *mm) {
  rt_cuda *cu = ctx->dev_state;
  if (cu->blas_state == 0)
    make_handle(ctx, cu);
  if (cu->blas_state < 0)
    return rt_dev_matmul_host(ctx, mm);
  if (mm->batch <= 0 || mm->m <= 0 || mm->n <= 0)
    return TC_OK;
  if (mm->k <= 0)
    return zero_blocks(ctx, mm);
  rt_gemm g = rt_cublas_args(mm);
  if (g.m > INT_MAX || g.n > INT_MAX || g.k > INT_MAX || g.lda > INT_MAX || g.ldb > INT_MAX || g.batch > INT_MAX)
    return tcrt_fail(ctx, TC_ERR_RUNTIME,
                     "cuBLAS: a matrix product of %lld x %lld by %lld x %lld (batch %lld) has a size above 2^31-1",
                     (long long)mm->m, (long long)mm->k, (long long)mm->k, (long long)mm->n, (long long)mm->batch);
  if (rt_cuda_make_current(cu))
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "cuBLAS: cannot make the CUDA context current");
  int ta = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, tb = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, st;
  if (mm->dt == TC_F32) {
    const float one = 1, zero = 0;
    st = blas.Sgemm(cu->blas_handle, ta, tb, (int)g.m, (int)g.n, (int)g.k, &one, g.a, (int)g.lda, g.stride_a, g.b,
                    (int)g.ldb, g.stride_b, &zero, g.c, (int)g.ldc, g.stride_c, (int)g.batch);
  } else if (mm->dt == TC_F64) {
    const double one = 1, zero = 0;
    st = blas.Dgemm(cu->blas_handle, ta, tb, (int)g.m, (int)g.n, (int)g.k, &one, g.a, (int)g.lda, g.stride_a, g.b,
                    (int)g.ldb, g.stride_b, &zero, g.c, (int)g.ldc, g.stride_c, (int)g.batch);
  } else {
    return rt_dev_matmul_host(ctx, mm); /* integers: cuBLAS has no such gemm */
  }
  if (st) {
    char s[96];
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "cuBLAS: %s gemm of %lld x %lld by %lld x %lld (batch %lld): %s",
                     mm->dt == TC_F32 ? "f32" : "f64", (long long)mm->m, (long long)mm->k, (long long)mm->k,
                     (long long)mm->n, (long long)mm->batch, status_name(st, s, sizeof s));
  }
  return TC_OK;
}
