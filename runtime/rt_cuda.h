/* runtime/rt_cuda.h - private to libtensorc_rt: the CUDA driver backend.
 *
 * cuda_driver.c opens the device through libcuda (dlopen) and keeps one
 * rt_cuda per context in ctx->dev_state; cublas.c runs matrix products on
 * its stream through libcublas (dlopen too).  The CUDA types and the few
 * enum values used are declared here, not taken from cuda.h, so that the
 * runtime builds on machines without the CUDA headers; the values are
 * those of cuda.h and cublas_api.h (CUDA 13, unchanged since CUDA 11).
 */
#ifndef TENSORC_RT_CUDA_H
#define TENSORC_RT_CUDA_H

#include "rt_internal.h"

#include <stdbool.h>
#include <stdint.h>

typedef int CUresult; /* CUDA_SUCCESS or a CUDA_ERROR_* */
typedef int CUdevice;
typedef unsigned long long CUdeviceptr; /* CUdeviceptr_v2: 64 bits */
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
};
enum { /* CUdevice_attribute */
  CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36,       /* kHz */
  CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37, /* bits */
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};
enum { CU_MEMHOSTALLOC_PORTABLE = 1 }; /* cuMemHostAlloc's flags */
enum { /* CUjit_option */
  CU_JIT_INFO_LOG_BUFFER = 3,
  CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

/* One context's device (ctx->dev_state). */
typedef struct rt_cuda {
  int ordinal;            /* cuda:N */
  CUdevice dev;
  CUcontext cu;           /* the device's primary context (shared with cuBLAS) */
  CUstream stream;        /* every copy, memset, launch and gemm goes here */
  CUmodule module;        /* the image's kernels */
  CUfunction *kernels;    /* [img->nkernels], in the table's order */
  int *blocks;            /* [img->nkernels]: a free-block kernel's block size (occupancy API); 0: not asked yet */
  CUevent ev_start, ev_stop; /* --profile's intervals, made on first use */
  int cc_major, cc_minor; /* compute capability */
  char gpu_name[256];     /* "NVIDIA H100 80GB HBM3" */
  char label[384];        /* tcrt_dev_name: "cuda:0 (NVIDIA H100 80GB HBM3, sm_90)" */
  char described[768];    /* the label and where matrix products ran (cuda_describe) */
  CUresult last_alloc;    /* what the last cuMemAlloc said (out of memory or another error) */
  /* cublas.c */
  int blas_state;         /* 0: not tried yet; 1: the handle is ready; -1: matmuls on the CPU stand-in */
  void *blas_handle;      /* cublasHandle_t */
  char blas_why[256];     /* -1: why cuBLAS cannot be used */
  /* cublaslt.c */
  int lt_state;           /* 0: not tried yet; 1: the handle is ready; -1: epilogues by the fallback */
  void *lt_handle;        /* cublasLtHandle_t */
  char lt_why[256];       /* -1: why cuBLASLt cannot be used */
  void *lt_workspace;     /* device memory for cublasLtMatmul (a block of the context) */
  int64_t lt_workspace_bytes;
  struct rt_lt_plan *lt_plans; /* descriptors and algorithm per shape, RT_LT_PLANS of them */
  int lt_next_plan;       /* the slot the next new shape takes (round robin) */
} rt_cuda;

/* cuda_driver.c */
int rt_cuda_open(tc_ctx *ctx, const tc_gpu_image *img); /* sets ctx->dev, or fails with the reason */
/* "CUDA_ERROR_X: text" for a driver status, into buf. */
const char *rt_cuda_error(CUresult r, char *buf, size_t size);
CUresult rt_cuda_make_current(const rt_cuda *cu); /* the context, on this thread */
/* Pinned (page-locked) host memory from cuMemHostAlloc, while a CUDA
 * device is open in the process; NULL otherwise or when the driver has
 * none.  The block keeps the device's primary context alive; freeing it
 * waits for the work queued there (an async copy may still read it). */
void *rt_cuda_pinned_alloc(size_t bytes);
void rt_cuda_pinned_free(void *p);

/* cublas.c: the rt_device.matmul hook; the CPU stand-in when libcublas
 * cannot be loaded or its handle made (TENSORC_DEVICE_STATS says which). */
int rt_cublas_matmul(tc_ctx *ctx, const rt_matmul *mm);
void rt_cublas_close(rt_cuda *cu); /* destroys the handle (the library stays loaded) */

/* cublas.c: dlopen of a CUDA library: $env's file when set, else the
 * first of names that opens; NULL with the reason in why. */
void *rt_cuda_dlopen(const char *env, const char *const *names, int count, char *why, size_t whysize);

/* One function of a CUDA library: its name and where its pointer goes in
 * the library's table of functions. */
typedef struct rt_cuda_sym {
  size_t offset;
  const char *name;
} rt_cuda_sym;

/* cublas.c: rt_cuda_dlopen, then every one of syms into api (a table of
 * apisize bytes).  NULL with api zeroed and the reason in err ("no LIB:
 * why" or "LIB has no SYM") when the library or a function is missing. */
void *rt_cuda_load_api(const char *libname, const char *env, const char *const *names, int count,
                       const rt_cuda_sym *syms, size_t nsyms, void *api, size_t apisize, char *err, size_t errsize);

/* cublaslt.c: the rt_device.matmul_epilogue hook (one cublasLtMatmul);
 * *done false when libcublasLt cannot be loaded or refuses the shape. */
int rt_cublaslt_matmul(tc_ctx *ctx, const rt_matmul *mm, int epilogue, const void *bias, bool *done);
void rt_cublaslt_close(rt_cuda *cu); /* the plans and the handle */
/* cublaslt.c: cuBLASLt's epilogue (CUBLASLT_EPILOGUE_*) for TC_EPI_*
 * flags.  With rt_cublas_args's column-major D = C^T (n x m), the bias
 * runs along D's rows, as CUBLASLT_EPILOGUE_BIAS broadcasts it: bias[i]
 * is added to row i of D, which is column i of our C.  Pure, for tests. */
int rt_cublaslt_epilogue(int epilogue);

/* cublas.c: the column-major cuBLAS call that computes the row-major
 * product mm (C^T = op(B)^T op(A)^T: the operands swapped, transposes as
 * flags).  Pure, for tests: tests/runtime/cublas_test.c runs it through a
 * CPU reference of column-major strided-batched gemm. */
typedef struct rt_gemm {
  bool trans_a, trans_b;      /* cuBLAS's transa, transb (CUBLAS_OP_T when true) */
  int64_t m, n, k;            /* cuBLAS's m, n, k: C is m x n column-major */
  const void *a, *b;          /* cuBLAS's A and B: mm's b and a */
  void *c;
  int64_t lda, ldb, ldc;
  int64_t stride_a, stride_b, stride_c, batch;
} rt_gemm;
rt_gemm rt_cublas_args(const rt_matmul *mm);

#endif
