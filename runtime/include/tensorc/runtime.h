/* tensorc/runtime.h - libtensorc_rt, what compiled programs call at run time.
 *
 * A plain C library with no dependency on the compiler.  Generated code and
 * the executable's main() call these functions; they never exit or abort:
 * each returns a status (0 = success) and leaves a message in the context
 * (or in the caller's buffer where there is no context).
 *
 * Sectioned by the .c file that implements each part.
 */
#ifndef TENSORC_RUNTIME_H
#define TENSORC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TC_MAX_RANK 8

/* The numbering is the compiler's DType (ir/ir.h): keep them equal. */
typedef enum tc_dtype {
  TC_UNKNOWN = 0,
  TC_BOOL = 1, /* one byte, 0 or 1 */
  TC_I32 = 2,
  TC_I64 = 3,
  TC_F32 = 4,
  TC_F64 = 5,
} tc_dtype;

/* A dense C-order tensor.  `data` is owned by whoever made it (say so at
 * each function); rank 0 is a scalar of one element. */
typedef struct tc_array {
  void *data;
  tc_dtype dtype;
  int rank;
  int64_t shape[TC_MAX_RANK];
} tc_array;

/* Status codes. */
enum {
  TC_OK = 0,
  TC_ERR_RUNTIME = 1, /* the program failed while running (index out of range, ...) */
  TC_ERR_INPUT = 2,   /* a bad input: missing file, wrong dtype or shape, corrupt file */
  TC_ERR_NOMEM = 3,
};

/* ===== context.c: the state of one running program ===== */

typedef struct tc_ctx tc_ctx;

tc_ctx *tcrt_ctx_new(int nparams);
void tcrt_ctx_free(tc_ctx *ctx); /* frees the param buffers too */
/* The last error message, "" if none.  With ctx == NULL: the last error
 * of this thread that had no context (tcrt_api_create's). */
const char *tcrt_error(const tc_ctx *ctx);
/* The status of the last failure tcrt_error describes (TC_ERR_*): what
 * generated code returns when a runtime call gives NULL (an allocation:
 * TC_ERR_NOMEM on the host, TC_ERR_INPUT for device memory, SPEC §5). */
int tcrt_status(const tc_ctx *ctx);
/* Sets the error message (printf-style; ctx may be NULL, see above) and
 * returns `code`. */
int tcrt_fail(tc_ctx *ctx, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* warn.c: a run-time warning (NumPy's RuntimeWarning, e.g. an integer
 * division by zero): prints `message` and a newline on stderr unless
 * *done is set, and sets it, so each warning site speaks once a run. */
void tcrt_warn_once(int32_t *done, const char *message);
/* Param i's buffer (NULL until set).  Setting frees the previous buffer
 * unless it is the same pointer; the context owns param buffers. */
void *tcrt_param(tc_ctx *ctx, int i);
void tcrt_set_param(tc_ctx *ctx, int i, void *data);
/* Sets param i to a copy of `bytes` bytes at data (an embedded value),
 * in device memory when the context has a device open. */
int tcrt_set_param_copy(tc_ctx *ctx, int i, const void *data, int64_t bytes);
/* Copies param i's `bytes` bytes into host memory at out (from the device
 * when the params live there). */
int tcrt_param_read(tc_ctx *ctx, int i, void *out, int64_t bytes);
/* Threads for parallel loops: a new context has tcrt_default_threads();
 * n <= 0 sets that default again.  The results never depend on it. */
void tcrt_set_threads(tc_ctx *ctx, int n);
int tcrt_threads(const tc_ctx *ctx);

/* ===== threads.c: parallel loops ===== */

/* Runs body(env, begin, end) over blocks of contiguous indices that cover
 * [0, n) once each, on up to tcrt_threads(ctx) threads (the caller's
 * included), and returns when all are done; n <= 0 runs nothing.  Which
 * thread runs which block is decided at run time (see threads.c): body
 * must give results that do not depend on it.  A call from inside a block
 * runs serially.  The context's workers are started on first use and
 * joined by tcrt_ctx_free.  Returns TC_OK (it cannot fail: without
 * workers it runs everything on the calling thread). */
int tcrt_parallel_for(tc_ctx *ctx, int64_t n, void (*body)(void *env, int64_t begin, int64_t end), void *env);
/* The number of CPUs this process may run on (sched_getaffinity), at
 * least 1 and at most 256: the default thread count. */
int tcrt_default_threads(void);

/* ===== alloc.c: buffers ===== */

size_t tcrt_dtype_size(tc_dtype dt);
const char *tcrt_dtype_name(tc_dtype dt); /* "f32" */
int64_t tcrt_numel(const tc_array *a);
/* 64-byte-aligned, zero-filled; NULL (with the error set) on failure.  A
 * size of 0 still returns a unique non-NULL pointer.  With a context, the
 * block is linked to it, and tcrt_free keeps it in the context's cache for
 * a later tcrt_alloc of about its size (at most twice the request) rather
 * than returning it to the system; tcrt_ctx_free frees the cache.  ctx may
 * be NULL: a plain block. */
void *tcrt_alloc(tc_ctx *ctx, int64_t bytes);
/* The same, not zero-filled: for buffers whose first writer overwrites
 * every element (the compiler's memplan pass says which). */
void *tcrt_alloc_uninit(tc_ctx *ctx, int64_t bytes);
/* After a runtime call of the .tc line `where` ("FILE:LINE:COL") failed
 * (an allocation, a product whose BLAS cannot be loaded): the message gets
 * the line in front ("FILE:L:C: out of memory: N bytes asked") and the
 * status is returned, for the generated code to return. */
int tcrt_failed_at(tc_ctx *ctx, const char *where);
void tcrt_free(void *p);
/* Counts live tcrt_alloc blocks (for leak tests; cached blocks are not
 * live). */
int64_t tcrt_alloc_count(void);
/* Counts tcrt_alloc calls that succeeded since the process started. */
int64_t tcrt_alloc_calls(void);
/* Counts the blocks tcrt_alloc took from the system (not from a context's
 * cache) since the process started: constant in a steady-state loop. */
int64_t tcrt_malloc_calls(void);
/* The memory of a buffer the function returns as result k (its ALLOC
 * marked `-> outK` by memplan): results[k].data when the caller put a
 * block there of exactly `bytes` bytes (tcrt_api_call: the caller's own
 * output tensor; results[k]'s dtype, rank and shape say its size), zeroed
 * unless `uninit`; else tcrt_alloc / tcrt_alloc_uninit.  Whoever calls a
 * function zeroes `results` first (api.c). */
void *tcrt_result_alloc(tc_ctx *ctx, const tc_array *results, int k, int64_t bytes, int uninit);
/* The same for a result's device buffer (GPU code): the caller's kDLCUDA
 * output tensor for result k when tcrt_api_call lent one of exactly
 * `bytes` bytes and `uninit` (device memory cannot be zeroed from here),
 * else tcrt_dev_alloc / tcrt_dev_alloc_uninit.  Once a device buffer took
 * it, tcrt_result_alloc of result k returns that device memory too: the
 * result is in place, and tcrt_result_copy of it copies nothing. */
void *tcrt_dev_result_alloc(tc_ctx *ctx, int k, int64_t bytes, int uninit);
/* The copy of a result back to host memory (placement's `copy ... -> outK`):
 * tcrt_dev_copy, or nothing when dst is src (the result is in place). */
int tcrt_result_copy(tc_ctx *ctx, void *dst, const void *src, int64_t bytes, int kind);
/* Counts results tcrt_api_call copied into a caller's output tensor (not
 * written there in place) since the process started (tests). */
int64_t tcrt_api_output_copies(void);

/* ===== rng.c: Philox-4x32-10 ===== */

/* The stream is (seed, counter); every draw consumes counters, so the same
 * seed gives the same numbers whatever the number of threads. */
void tcrt_seed(tc_ctx *ctx, uint64_t seed);
int tcrt_rand(tc_ctx *ctx, tc_dtype dt, void *out, int64_t n);  /* uniform [0, 1) */
int tcrt_randn(tc_ctx *ctx, tc_dtype dt, void *out, int64_t n); /* standard normal */
int tcrt_randint(tc_ctx *ctx, int64_t lo, int64_t hi, int64_t *out, int64_t n); /* [lo, hi) */
int tcrt_randperm(tc_ctx *ctx, int64_t *out, int64_t n);         /* a permutation of 0..n-1 */
/* The raw generator, for tests: one Philox-4x32-10 block. */
void tcrt_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/* ===== device.c: the GPU (docs/gpu.md) ===== */

/* A program's GPU code, emitted by the compiler for --device=cuda: the
 * PTX and cubin NVRTC made, the kernel table (the prelude's kernels
 * first, in the order of the TC_K* numbers, then the program's), and
 * with --gpu-emulate the host-compiled kernels ({name, trampoline} pairs
 * in table order, ending with {NULL, NULL}). */
typedef struct tc_gpu_image {
  const char *arch; /* "sm_80" */
  const char *ptx;  /* NUL-terminated */
  const void *cubin;
  int64_t cubin_size;
  int nkernels;
  const char *const *kernel_names;
  const void *emu_kernels;
  int flags; /* TC_GPU_* */
  /* [nkernels]: 1 where any block size is correct (grid-stride, nothing
   * sized by the block), so the CUDA backend launches it with the
   * occupancy API's block size instead of the one given (the emulator
   * keeps that); NULL: none */
  const unsigned char *block_free;
} tc_gpu_image;
enum {
  TC_GPU_ALLOW_TF32 = 1, /* --allow-tf32: cuBLAS may use TF32 tensor cores for f32 */
  /* The functions read each tensor argument only through tcrt_dev_arg
   * (never on the host) and never write what it returns, so a caller's
   * device tensor can be handed to them as it is: tcrt_api_call then
   * borrows kDLCUDA inputs without a copy. */
  TC_GPU_DEVICE_ARGS = 2,
};
enum { TC_KRAND_F32, TC_KRAND_F64, TC_KRANDN_F32, TC_KRANDN_F64, TC_KRANDINT, TC_KEPILOGUE_F32 };
enum { TC_COPY_H2D = 1, TC_COPY_D2H = 2, TC_COPY_D2D = 3 };

/* Opens the device that runs img's kernels for the context: the emulator
 * when img carries emulated kernels, else the CUDA driver.  Fails with the
 * reason (TC_ERR_INPUT: no driver, no device, ...). */
int tcrt_dev_open(tc_ctx *ctx, const tc_gpu_image *img);
const char *tcrt_dev_name(const tc_ctx *ctx); /* "emulator", "cuda:0 (NVIDIA H100 80GB HBM3, sm_90)"; NULL: none open */
/* Device memory: zero-filled or not; NULL with the error set.  Freed
 * blocks are cached by the context for later requests (see device.c). */
void *tcrt_dev_alloc(tc_ctx *ctx, int64_t bytes);
void *tcrt_dev_alloc_uninit(tc_ctx *ctx, int64_t bytes);
void tcrt_dev_free(tc_ctx *ctx, void *p);
/* A buffer of the static device arena (passes/memplan_arena.c): bytes
 * [off, off + bytes) of the arena of `arena_bytes` that the calling
 * function (`key`, unique to it) has in this context, allocated on its
 * first call and kept until the context is freed; zero-filled when `zero`.
 * tcrt_dev_free leaves it alone.  NULL with the error set. */
void *tcrt_dev_arena(tc_ctx *ctx, const void *key, int64_t arena_bytes, int64_t off, int64_t bytes, int zero);
int64_t tcrt_dev_live_blocks(const tc_ctx *ctx); /* device blocks in use */
int64_t tcrt_dev_malloc_calls(void);             /* blocks the backends allocated, ever */
/* Copies bytes between host and device memory (TC_COPY_*). */
int tcrt_dev_copy(tc_ctx *ctx, void *dst, const void *src, int64_t bytes, int kind);
int64_t tcrt_dev_copy_calls(int kind);           /* copies of that TC_COPY_* kind, ever (tests) */
/* An argument's device copy, for GPU code that sets TC_GPU_DEVICE_ARGS:
 * when `arg` is a device tensor the running tcrt_api_call borrowed from
 * its caller, arg itself (no copy); else a new device block holding the
 * `bytes` bytes of host memory at arg.  Freed with tcrt_dev_free (which
 * leaves a borrowed tensor alone).  NULL on failure, with the error set. */
void *tcrt_dev_arg(tc_ctx *ctx, const void *arg, int64_t bytes);
/* Device memory of at least `bytes` the context keeps for kernels' scratch. */
void *tcrt_dev_scratch(tc_ctx *ctx, int64_t bytes);
/* Launches kernel `kernel` of the table on grid blocks of `block` threads;
 * params[i] points at the i-th parameter's value. */
int tcrt_dev_launch(tc_ctx *ctx, int kernel, int64_t grid, int block, void **params);
/* tcrt_matmul, tcrt_rand, ... on device memory. */
int tcrt_dev_matmul(tc_ctx *ctx, tc_dtype dt, int trans, const void *a, const void *b, void *c, int64_t batch,
                    int64_t m, int64_t n, int64_t k, int64_t stride_a, int64_t stride_b, int64_t stride_c);
/* c = act(op(a) @ op(b) + bias[col]), f32, m x n row-major, one product
 * (no batch); `epilogue` is TC_EPI_BIAS (bias f32[n]) or'd with at most
 * one of TC_EPI_RELU (x < 0 ? 0 : x) and TC_EPI_GELU_TANH (0.5 x (1 +
 * tanh(sqrt(2/pi) (x + 0.044715 x^3)))).  One cublasLtMatmul on a CUDA
 * device with cuBLASLt (cublaslt.c); else tcrt_dev_matmul and the
 * prelude's epilogue kernel (TC_KEPILOGUE_F32). */
int tcrt_dev_matmul_epilogue(tc_ctx *ctx, tc_dtype dt, int trans, int epilogue, const void *a, const void *b,
                             const void *bias, void *c, int64_t m, int64_t n, int64_t k);
enum { TC_EPI_BIAS = 1, TC_EPI_RELU = 2, TC_EPI_GELU_TANH = 4 };
int tcrt_dev_rand(tc_ctx *ctx, tc_dtype dt, void *out, int64_t n);
int tcrt_dev_randn(tc_ctx *ctx, tc_dtype dt, void *out, int64_t n);
int tcrt_dev_randint(tc_ctx *ctx, int64_t lo, int64_t hi, int64_t *out, int64_t n);
int tcrt_dev_randperm(tc_ctx *ctx, int64_t *out, int64_t n);

/* ===== profile.c: --profile (docs/runtime.md) ===== */

/* A kernel statement as the compiler describes it to the profiler: one
 * constant per statement of the generated code. */
typedef struct tc_prof_site {
  const char *name;  /* k3_sub_exp_sum (ir/kernel_name.c), matmul */
  const char *where; /* the statement's file:line */
  int32_t device;    /* 1: runs on the GPU, timed on the device's queue */
  int32_t reserved;
} tc_prof_site;
/* Nonzero while a context of the process profiles.  Generated code reads
 * it before each kernel statement and calls the two functions below only
 * when it is set (they check the context's own switch). */
extern int tcrt_profiling;
/* Returns the start, to pass to tcrt_prof_end with the bytes the
 * statement's buffers hold (each once) and its flops (0 but for matmuls). */
double tcrt_prof_begin(tc_ctx *ctx, const tc_prof_site *site);
void tcrt_prof_end(tc_ctx *ctx, const tc_prof_site *site, double start, int64_t bytes, int64_t flops);
/* Turns profiling on for the context (TENSORC_PROFILE=1 in the
 * environment does it in tcrt_ctx_new, and tcrt_ctx_free prints the table). */
int tcrt_profile_start(tc_ctx *ctx);
/* Prints the table on stderr and stops profiling. */
void tcrt_profile_finish(tc_ctx *ctx);

/* ===== npy.c, csv.c: files ===== */

/* Reads a .npy (versions 1.0, 2.0, 3.0) or .csv file, chosen by the
 * extension.  On success *out holds a tcrt_alloc'd buffer the caller
 * frees with tcrt_free.  .npy dtypes <f4 <f8 <i4 <i8 |b1 load as they are
 * (big-endian and Fortran-order data too, reordered); |u1 |i1 <i2 <u2 <u4
 * <u8 <f2 are converted (to i64, or f32 for <f2; a <u8 value past i64's
 * range is an error) and *warning is set to a message saying so (else
 * NULL; the text lives until this thread's next load).  CSV:
 * comma-separated numbers, an optional header row, '#' comments; loads as
 * f64 [rows, cols].  Errors (TC_ERR_INPUT) name the file and what is wrong:
 * missing, bad magic, truncated, unsupported dtype, a header whose
 * shape disagrees with the file size, a non-numeric CSV cell (with its line
 * and column), ragged rows. */
int tcrt_load(const char *path, tc_array *out, const char **warning, char *err, size_t errsize);
/* tcrt_load, with the .npy data converted to `want` (the declared dtype;
 * TC_UNKNOWN: as tcrt_load).  Converted when no value is lost (runtime/
 * cast.c: bool and integers to wider types, integers whose values all fit,
 * float16/float32 to a wider float), with *warning "PATH holds int16,
 * converted to the declared i32"; a float to an integer, float64 to f32 and
 * a value that does not fit are errors naming the file (and the value). */
int tcrt_load_as(const char *path, tc_dtype want, tc_array *out, const char **warning, char *err,
                 size_t errsize);
/* Writes .npy (version 1.0) or .csv by extension, to a temporary name in
 * the same directory renamed at the end: never a half-written file. */
int tcrt_save(const char *path, const tc_array *a, char *err, size_t errsize);
/* Converts between dtypes (NumPy's astype semantics, bool is x != 0). */
void tcrt_convert(tc_dtype to, void *dst, tc_dtype from, const void *src, int64_t n);

/* ===== blas.c: matrix products ===== */

/* tcrt_matmul's and tcrt_dev_matmul's `trans`: which operands are stored
 * transposed (0 for neither, or both flags or'd together). */
enum { TC_MM_TRANS_A = 1, TC_MM_TRANS_B = 2 };

/* C[b] = op(A[b]) @ op(B[b]) for b in 0..batch-1, row-major, op(A[b])
 * m x k, op(B[b]) k x n, C[b] m x n; the stride of a batch may be 0
 * (broadcast).  op(A[b]) is A[b] as stored (m x k, row length k), or with
 * TC_MM_TRANS_A in `trans` the transpose of the stored k x m matrix (row
 * length m); op(B[b]) likewise: stored k x n, or n x k with TC_MM_TRANS_B.
 * f32/f64 through the BLAS chosen at build time (cblas_sgemm / cblas_dgemm,
 * CblasTrans for a flag) on tcrt_threads(ctx) threads, i32/i64/bool by a
 * plain loop. */
int tcrt_matmul(tc_ctx *ctx, tc_dtype dt, int trans, const void *a, const void *b, void *c, int64_t batch,
                int64_t m, int64_t n, int64_t k, int64_t stride_a, int64_t stride_b, int64_t stride_c);
/* The BLAS library the runtime was built with (-DTENSORC_BLAS=), its
 * version and configuration, and the kernel set it picked for this CPU,
 * e.g. "scipy-openblas32: OpenBLAS 0.3.34 ... , core SkylakeX".  A static
 * string. */
const char *tcrt_blas_info(void);

/* ===== print.c: NumPy's text ===== */

/* The text NumPy's str() gives for the array (rank 0: the scalar, e.g.
 * "0.1", "3", "True"; arrays: "[[1. 2.]\n [3. 4.]]", summarised with "..."
 * beyond 1000 elements, as numpy's default print options).  Returns a
 * malloc'd string the caller frees, or NULL when out of memory. */
char *tcrt_format(const tc_array *a);
/* print(a, b, ...) as Python does: items separated by one space, then a
 * newline.  `sep` is 1 for every item but the first. */
void tcrt_print_str(const char *s, int sep);
void tcrt_print_array(const tc_array *a, int sep);
void tcrt_print_end(void);

/* ===== params.c: param directories ===== */

typedef struct tc_paramdesc tc_paramdesc;
/* Loads DIR/NAME.npy for each of the n params into the context, checking
 * dtype and shape against params[i]; a file converted on load (see
 * tcrt_load) calls warn(user, name, message) if warn is not NULL.  On
 * failure err holds "NAME: ..." naming the file, and the params loaded so
 * far stay loaded. */
int tcrt_params_load(tc_ctx *ctx, int n, const tc_paramdesc *params, const char *dir, char *err, size_t errsize,
                     void (*warn)(void *user, const char *name, const char *message), void *user);

/* ===== dist.c: data-parallel runs (SPEC §8, docs/distributed.md) =====
 * What rank(), world_size(), all_reduce() and broadcast() call.  In an
 * ordinary executable the process is rank 0 of 1 and all_reduce and
 * broadcast copy in to out; a --dist=mpi executable (tcrt_dist_main)
 * runs them on MPI.  in == out is allowed. */
enum { TC_REDUCE_SUM = 0, TC_REDUCE_MEAN = 1, TC_REDUCE_MAX = 2 };
int tcrt_rank(tc_ctx *ctx, int64_t *out);
int tcrt_world_size(tc_ctx *ctx, int64_t *out);
int tcrt_all_reduce(tc_ctx *ctx, int dtype, int op, const void *in, void *out, int64_t n);
int tcrt_broadcast(tc_ctx *ctx, int dtype, int64_t root, const void *in, void *out, int64_t n);
/* An all_reduce in two halves (passes/dist_overlap.c): start copies in to
 * out and starts reducing out in place (MPI_Iallreduce), wait number `id`
 * finishes it; out is not touched in between. */
int tcrt_all_reduce_start(tc_ctx *ctx, int id, int dtype, int op, const void *in, void *out, int64_t n);
int tcrt_all_reduce_wait(tc_ctx *ctx, int id);

/* ===== exe.c: the executable's main() ===== */

/* One dimension of a declared argument: a constant (sym < 0) or a symbol
 * (an index into tc_program.sym_names); symbols are bound by the first
 * argument that has them and checked against the others. */
typedef struct tc_dimdesc {
  int sym;
  int64_t value;
} tc_dimdesc;

typedef struct tc_argdesc {
  const char *name;
  tc_dtype dtype;
  int rank;
  tc_dimdesc dims[TC_MAX_RANK];
  int has_default; /* scalars only */
  double default_value;
} tc_argdesc;

struct tc_paramdesc {
  const char *name;
  tc_dtype dtype;
  int rank;
  int64_t shape[TC_MAX_RANK];
};

/* What the compiler emits for a program with `main`. */
typedef struct tc_program {
  const char *name; /* the module */
  int nargs;
  const tc_argdesc *args;
  int nsyms;
  const char *const *sym_names;
  int nparams;
  const tc_paramdesc *params;
  int nresults;
  /* Computes every param's initial value (tcrt_set_param). */
  int (*init)(tc_ctx *ctx);
  /* Runs main: args[i] as declared (scalars as rank-0 arrays), results
   * written to results[0..nresults-1] (buffers from tcrt_alloc, owned by
   * the caller afterwards). */
  int (*main)(tc_ctx *ctx, const tc_array *args, tc_array *results);
  /* --device=cuda: the GPU code, which these functions launch (NULL: CPU code) */
  const tc_gpu_image *gpu;
  /* --device=auto: the same program compiled for the CPU, run when no GPU
   * can be used (NULL otherwise) */
  const struct tc_program *cpu;
} tc_program;

/* The command line of SPEC §3:
 *   ./model NAME=VALUE ... [--seed N] [--threads N] [--params-in DIR]
 *           [--params-out DIR] [--quiet] [--device cpu|cuda|auto] [--help]
 * Returns the process exit code: 0 success, 1 the program failed while
 * running, 2 bad usage or bad input (one line naming the argument and the
 * file). */
int tcrt_exe_main(int argc, char **argv, const tc_program *prog);
/* The same under mpirun (libtensorc_rt_mpi, runtime/mpi/dist_mpi.c):
 * MPI initialised and finalised around it, the params broadcast from rank
 * 0, files and printing on rank 0, and a failing rank ending the job. */
int tcrt_dist_main(int argc, char **argv, const tc_program *prog);

#ifdef __cplusplus
}
#endif
#endif
