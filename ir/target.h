/* ir/target.h - what the code is compiled for, and the target's heuristics.
 *
 * The kernel-IR passes (lower, schedule, placement, legalize) read the
 * target and write what they decide into the IR; the code generators read
 * only the IR.  So a number like "a parallel loop needs 32K points" or "a
 * matmul epilogue runs on blocks of 1024 rows" is a field here, visible in
 * one place, not a constant inside an emitter.
 */
#ifndef TENSORC_TARGET_H
#define TENSORC_TARGET_H

#include <stdbool.h>
#include <stdint.h>

typedef enum TargetKind {
  TGT_CPU,  /* the host, through LLVM */
  TGT_CUDA, /* kernels as CUDA C through NVRTC; host code through LLVM */
} TargetKind;

typedef struct Target {
  TargetKind kind;
  const char *name; /* "cpu", "cuda" */
  /* the CPU */
  int64_t par_min_work;  /* a parallel loop of fewer points runs on the calling thread:
                          * waking threads costs microseconds, more than a small kernel */
  int lanes_f32, lanes_f64; /* partial accumulators of a vectorised float sum/max/min:
                             * four 512-bit registers' worth */
  /* a float sum adds its elements in blocks of this many (each in the
   * partials above on the CPU, in a thread's own accumulator on the GPU),
   * and the blocks' sums into an f64 total: the rounding error of a long
   * sum then grows with the block's length, not the row's (NumPy's
   * pairwise summation is as accurate; kernel.h, KStmt.block) */
  int sum_block;
  /* a matmul's fused epilogue runs on blocks of this many rows of the
   * product while they are in cache (0: once, on the whole product) */
  int64_t epilogue_rows;
  /* a bias/relu/gelu-tanh kernel right after a whole matmul is folded into
   * the library call (passes/blas_epilogue.c: cuBLASLt's epilogues) */
  bool blas_epilogues;
  /* a row kernel's intermediate row that its last stage overwrites is kept
   * in a per-thread block of this many bytes while it fits (L1-resident),
   * so the output row is written once; 0: never (passes/row_scratch.c) */
  int64_t row_scratch_bytes;
  /* a row kernel's last store into a buffer of at least this many bytes is
   * non-temporal (the buffer does not fit the caches; the stores skip the
   * read for ownership); 0: never */
  int64_t stream_min_bytes;
  /* the GPU */
  const char *gpu_arch; /* "sm_80" */
  int block_threads;    /* threads of a block of an elementwise kernel */
  int row_threads;      /* threads of a block that reduces one row */
  int64_t max_blocks;   /* grid-stride loops use at most this many blocks */
  int vector_bytes;     /* the widest load and store of a thread (16: ld.global.v4.f32): an elementwise
                         * kernel of 4- or 8-byte elements takes vector_bytes / size points at once;
                         * the CPU: a vector register (64: AVX-512), for a row kernel's stages */
  bool emulate;         /* --gpu-emulate: the kernels also run in the CPU emulator */
} Target;

/* target.c */
const Target *ir_target_cpu(void);
/* A CUDA target for arch ("sm_80"; NULL: the default). */
Target *ir_target_cuda(const char *arch, bool emulate);

#endif
