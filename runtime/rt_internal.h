/* runtime/rt_internal.h - private to libtensorc_rt: the context's layout. */
#ifndef TENSORC_RT_INTERNAL_H
#define TENSORC_RT_INTERNAL_H

#include "tensorc/runtime.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct rt_pool rt_pool;

/* blas_lib.c: one product C = op(A) @ op(B) + beta*C, row-major, by the BLAS
 * chosen at build time, on `threads` threads (see blas_lib.c), once
 * rt_blas_load has opened the library: it returns NULL then, else why not. */
const char *rt_blas_load(void);
void tcrt_blas_sgemm(int threads, bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b,
                     int ldb, float beta, float *c, int ldc);
void tcrt_blas_dgemm(int threads, bool ta, bool tb, int m, int n, int k, const double *a, int lda, const double *b,
                     int ldb, double beta, double *c, int ldc);

/* device.c: one matrix product on device memory, as tcrt_dev_matmul got
 * it: C[b] = op(A[b]) @ op(B[b]) for b < batch, row-major, C[b] m x n;
 * op(A[b]) is m x k, stored as such or, with trans_a, as its k x m
 * transpose (B likewise: k x n, or n x k with trans_b). */
typedef struct rt_matmul {
  tc_dtype dt;
  bool trans_a, trans_b;
  const void *a, *b;
  void *c;
  int64_t batch, m, n, k, stride_a, stride_b, stride_c; /* strides in elements; 0 broadcasts */
} rt_matmul;

/* device.c: a device backend (the emulator; the CUDA driver) */
typedef struct rt_device {
  const char *name;
  void *(*alloc)(tc_ctx *ctx, int64_t bytes); /* NULL when out of memory */
  void (*free)(tc_ctx *ctx, void *p);
  int (*copy)(tc_ctx *ctx, void *dst, const void *src, int64_t bytes, int kind);
  int (*zero)(tc_ctx *ctx, void *dst, int64_t bytes);
  int (*launch)(tc_ctx *ctx, int kernel, int64_t grid, int block, void **params);
  /* Optional; NULL where the backend has none. */
  /* A matrix product in the device's library (cuBLAS); NULL: the CPU
   * stand-in (operands copied to the host, OpenBLAS, the result back). */
  int (*matmul)(tc_ctx *ctx, const rt_matmul *mm);
  /* A product with a bias/activation epilogue (TC_EPI_*) in the library
   * (cuBLASLt); *done false: not taken (no library, a shape it refuses),
   * tcrt_dev_matmul_epilogue then runs matmul and the prelude's kernel. */
  int (*matmul_epilogue)(tc_ctx *ctx, const rt_matmul *mm, int epilogue, const void *bias, bool *done);
  int (*sync)(tc_ctx *ctx); /* waits until the work queued so far is done */
  /* --profile: marks the start (stop = 0) or the end (stop = 1) of an
   * interval on the device's queue; at the end, waits for it and sets *ms
   * to its length (CUDA events; the emulator's clock). */
  int (*interval)(tc_ctx *ctx, int stop, double *ms);
  void (*close)(tc_ctx *ctx); /* frees ctx->dev_state, after every block is freed */
  /* tcrt_dev_name for this context ("cuda:0 (NVIDIA H100 80GB HBM3,
   * sm_90)"); NULL: the backend's name. */
  const char *(*describe)(const tc_ctx *ctx);
  /* Why alloc just returned NULL, into ctx's error ("out of device memory:
   * N bytes asked, M free", or the driver's error); returns the status.
   * NULL: "out of device memory: N bytes asked". */
  int (*alloc_failed)(tc_ctx *ctx, int64_t bytes);
} rt_device;

typedef struct rt_devblock {
  void *ptr;
  int64_t bytes;
  bool cached; /* freed: waiting for a later request */
} rt_devblock;

/* One entry function's device arena in a context (device.c, tcrt_dev_arena). */
typedef struct rt_devarena {
  const void *key; /* the function's (a private global of the generated code) */
  void *base;
  int64_t bytes;
} rt_devarena;

struct tc_ctx {
  void **params;       /* param buffers, owned */
  int nparams;
  uint64_t seed;       /* Philox key */
  uint64_t counter;    /* next unused Philox block */
  int threads;
  rt_pool *pool;       /* threads.c: workers for parallel loops, made on first use */
  char error[1024];
  int status; /* of the failure `error` describes (tcrt_status) */
  struct BlockHead *blocks; /* live blocks allocated for this context, newest first */
  uint64_t next_serial;     /* of the next such block */
  struct BlockHead *cache;  /* freed blocks kept for reuse (alloc.c) */
  int ncached;
  /* device.c: the GPU, when the program has GPU code and opened it */
  const rt_device *dev;
  const tc_gpu_image *gpu;
  rt_devblock *devblocks; /* the context's device blocks, live and cached */
  int ndevblocks, capdevblocks;
  rt_devarena *arenas;    /* the entry functions' static device arenas, made on first use */
  int narenas;
  void *scratch;          /* device scratch (two-stage reductions' partials) */
  int64_t scratch_bytes;
  void *dev_state;        /* the backend's own state for this context (CUDA context, stream, ...) */
  int dev_ordinal;        /* which GPU: TC_DEVICE=cuda:N, or the API's choice */
  double dev_peak_gbps;   /* the device's peak memory bandwidth in GB/s (--profile); 0: unknown */
  struct rt_profile *profile; /* --profile: the table being collected (NULL: not profiling) */
  /* api.c: the module a context made by tcrt_api_create runs (the one
   * given, or its CPU twin m->cpu under --device=auto without a GPU), the
   * one given (whose funcdescs the generated wrappers pass), and why it
   * runs where it does (tcrt_api_device) */
  const struct tc_module *module, *module_given;
  char device_text[320];
  /* api.c: the caller's device tensors the running call borrows
   * (tcrt_dev_arg serves them without a copy); NULL between calls */
  const void *const *borrowed;
  int nborrowed;
  /* api.c: the caller's kDLCUDA output tensors the running call may write
   * in place, by result (tcrt_dev_result_alloc): the memory or NULL, its
   * bytes, and whether a device buffer took it; NULL between calls */
  void **dev_out;
  int64_t *dev_out_bytes;
  bool *dev_out_taken;
  int ndev_out;
};

/* params.c: text for messages */
/* bind.c: declared types, for exe.c and api.c.  rt_decl_text writes
 * "f32[N, N + 1]"; rt_bind_dim checks one dim of argument `arg` against
 * its declaration, binding the symbol when it is new (sym_arg[s] < 0). */
void rt_decl_text(const tc_argdesc *d, int nsyms, const char *const *sym_names, char *buf, size_t size);
typedef struct RtBinder {
  int nsyms;
  int64_t *sym_value; /* per symbol: its value, once bound */
  int *sym_arg;       /* the argument that bound it, or -1 */
  int *sym_axis;      /* and the axis (NULL: not kept) */
} RtBinder;
typedef enum RtBind { RT_BIND_OK, RT_BIND_NOT_CONSTANT, RT_BIND_SYMBOL_DISAGREES } RtBind;
RtBind rt_bind_dim(RtBinder *b, const tc_argdesc *d, int arg, int axis, int64_t got);
void rt_param_type(const tc_paramdesc *p, char *buf, size_t size);          /* "f32[64, 10]" */
void rt_shape_str(int rank, const int64_t *shape, char *buf, size_t size); /* NumPy's "(100, 65)" */
char *rt_param_path(const char *dir, const char *name);                     /* DIR/NAME.npy, malloc'd */
/* Loads param i from the .npy file at path (tcrt_params_load's step for one param). */
int rt_param_load_file(tc_ctx *ctx, int i, const tc_paramdesc *pd, const char *path, char *err, size_t errsize,
                       void (*warn)(void *, const char *, const char *), void *user);

/* alloc.c: the context's blocks (see there). */
uint64_t rt_alloc_mark(const tc_ctx *ctx);
void rt_release_since(tc_ctx *ctx, uint64_t mark); /* frees blocks since mark, params excepted */
void rt_clear_error(tc_ctx *ctx);                  /* after a C API call that succeeded */
void rt_forget_blocks(tc_ctx *ctx);                /* unlinks all (the context is going away) */
void rt_detach_block(void *p);                     /* unlinks one (handed to the caller) */
void rt_free_cache(tc_ctx *ctx);                   /* returns the cached blocks to the system */
/* A block in memory that get gives (64-byte aligned) and put takes back,
 * for tcrt_free (pinned host memory); in no context, never cached, not
 * zeroed; NULL when get gives nothing. */
void *rt_alloc_with(int64_t bytes, void *(*get)(size_t), void (*put)(void *block));

/* rng.c: takes `blocks` Philox blocks from the stream; returns the first. */
uint64_t rt_take_blocks(tc_ctx *ctx, uint64_t blocks);

/* device.c: the CPU stand-in for cuBLAS: mm's operands copied to host
 * memory, OpenBLAS, the result copied back. */
int rt_dev_matmul_host(tc_ctx *ctx, const rt_matmul *mm);

/* device.c: TENSORC_DEVICE_STATS's line on device memory (requests,
 * blocks, bytes, cache releases), for the whole process. */
void rt_dev_print_stats(FILE *out);

/* device.c: the buffer a .npy load reads its data into (npy.c): with a
 * CUDA device open, one of RT_PINNED_LOAD_BYTES or more is pinned host
 * memory, which the copy to the device reads directly and asynchronously;
 * else (and with the emulator) tcrt_alloc's.  tcrt_free frees either. */
void *rt_load_buffer(int64_t bytes);

/* device.c: frees the context's device memory (tcrt_ctx_free). */
void rt_dev_close(tc_ctx *ctx);

/* profile.c: prints TENSORC_PROFILE's table if anything ran, and frees it. */
void rt_profile_close(tc_ctx *ctx);

/* threads.c: joins the pool's workers and frees it (NULL is fine). */
void rt_pool_free(rt_pool *p);

#endif
