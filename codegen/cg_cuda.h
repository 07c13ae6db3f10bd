/* codegen/cg_cuda.h - what the CUDA C emitter and the host code share.
 *
 * Every statement the schedule pass marked `device` (a kernel, or a fused
 * row kernel's rows loop) becomes one or two __global__ functions in the
 * module's CUDA C (cuda_kernel.c) and, in the host code (cpu_host.c), the
 * launches of them.  Both sides read the same CgDeviceKernel: the names,
 * the parameters in order and how the grid is sized, so the two can never
 * disagree.  docs/gpu.md describes the launch kinds.
 */
#ifndef TENSORC_CG_CUDA_H
#define TENSORC_CG_CUDA_H

#include "../ir/kernel.h"
#include "../ir/target.h"

/* One kernel parameter, passed by the host as a pointer to its value
 * (cuLaunchKernel's kernelParams). */
typedef enum CgParamKind {
  CP_BUF,     /* a buffer's device pointer (T *); index = buffer number */
  CP_SYM,     /* a dimension symbol's value (long long); index = symbol id */
  CP_VAR,     /* a host loop variable's value (long long); index = variable number */
  CP_SCRATCH, /* the context's device scratch memory (void *): a two-stage reduction's partials */
} CgParamKind;

typedef struct CgParam {
  CgParamKind kind;
  int index;
} CgParam;

/* How a launch's grid is sized; block is always `block` threads. */
typedef enum CgGrid {
  CG_GRID_POINTS, /* grid = clamp(ceil(work / (block * lanes)), 1, max_grid): a thread per point (per lanes
                   * points), grid-stride */
  CG_GRID_ROWS,   /* grid = clamp(work, 1, max_grid): a block per row (gpu_block loops), grid-stride */
  CG_GRID_ONE,    /* grid = 1 (the final stage of a full reduction; a serial kernel with block = 1) */
  CG_GRID_TILES,  /* grid = clamp(tiles, 1, max_grid): a block per tile of a transpose, grid-stride; tiles =
                   * the factors' product with each of the last two divided by `tile`, rounded up */
} CgGrid;

typedef struct CgLaunch {
  const char *name; /* the __global__ function */
  CgGrid grid;
  Dim work;         /* POINTS: points of the gpu_grid loops; ROWS: iterations of the gpu_block loops */
  int block;        /* threads per block */
  int64_t max_grid;
  /* work is the product of these extents (ONE: none).  A Dim holds at
   * most DIM_MAX_TERMS terms of degree DIM_MAX_DEG: when the product does
   * not fit, work.overflow is set and the host multiplies the factors. */
  Dim factor[2 * IR_MAX_RANK];
  int nfactor;
  int lanes; /* POINTS: points a thread takes at once (128-bit accesses; 0 or 1: one) */
  int tile;  /* TILES: a tile's side */
  /* Any block size is correct (a grid-stride POINTS kernel: no shared
   * memory, nothing sized by the block), so the runtime may take the
   * occupancy API's instead of `block`; reductions and tiles depend on
   * theirs. */
  bool block_free;
} CgLaunch;

typedef struct CgDeviceKernel {
  KStmt *stmt;        /* the statement it runs (device = true) */
  int index;          /* in the module's kernel table: launch[k] is entry index + k */
  CgLaunch launch[2]; /* two for a full reduction: partials, then the final combine */
  int nlaunch;
  CgParam *params;    /* the same for every launch of the statement */
  int nparams;
  int64_t scratch_bytes; /* device scratch it needs (CP_SCRATCH), 0 if none */
} CgDeviceKernel;

/* The prelude's random kernels (codegen/cuda_prelude.cuh): the first
 * entries of every module's kernel table, in this order, before the
 * module's own kernels.  Each writes a draw of n elements exactly as
 * runtime/rng.c's tcrt_rand/tcrt_randn/tcrt_randint write it for the
 * context's seed when the context's counter is `base` (the runtime then
 * advances the counter by the blocks the draw used, as rng.c does):
 *   tc_rand_f32(float *out, long long n, unsigned long long seed, unsigned long long base)
 *   tc_rand_f64(double *out, long long n, unsigned long long seed, unsigned long long base)
 *   tc_randn_f32(float *out, long long n, unsigned long long seed, unsigned long long base)
 *   tc_randn_f64(double *out, long long n, unsigned long long seed, unsigned long long base)
 *   tc_randint_i64(long long *out, long long n, unsigned long long seed, unsigned long long base,
 *                  long long lo, long long hi)            -- lo < hi, checked by the caller
 * They are grid-stride loops over the draw's Philox blocks, correct for
 * any grid and block; launch them as CG_GRID_POINTS with work = n, block =
 * target->block_threads, max_grid = target->max_blocks.  randperm stays on
 * the host (its steps are sequential).  After them, launched only by the
 * runtime (tcrt_dev_matmul_epilogue's fallback):
 *   tc_epilogue_f32(float *c, const float *bias, long long m, long long n, long long flags) */
typedef enum CgPreludeKernel {
  CG_K_RAND_F32,
  CG_K_RAND_F64,
  CG_K_RANDN_F32,
  CG_K_RANDN_F64,
  CG_K_RANDINT_I64,
  CG_K_EPILOGUE_F32, /* a matmul's epilogue where cuBLASLt does not take it (runtime/cublaslt.c) */
  CG_NUM_PRELUDE_KERNELS
} CgPreludeKernel;

typedef struct CgCudaModule {
  char *source;          /* the whole CUDA C translation unit (prelude included) */
  CgDeviceKernel *kernels; /* every device statement of every function, in order */
  int nkernels;
  const char **names;    /* the kernel table: every __global__ function, by index
                          * (CgPreludeKernel first, then the kernels' launches in order) */
  bool *block_free;      /* [nnames]: the launch's block_free (the prelude's: true) */
  int nnames;
} CgCudaModule;

/* cuda_kernel.c: the CUDA C of every device statement of a scheduled,
 * placed, legalized module for a CUDA target. */
CgCudaModule *cg_cuda_module(KModule *m);
/* The name of a prelude kernel (names[k] of every module). */
const char *cg_cuda_prelude_kernel(CgPreludeKernel k);
/* The kernel of a device statement (dies when there is none). */
const CgDeviceKernel *cg_cuda_kernel_of(const CgCudaModule *cm, const KStmt *s);

#endif
