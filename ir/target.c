/* ir/target.c - the targets and their heuristics (see target.h).
 *
 * The numbers are measured ones: PAR_MIN_WORK and the epilogue block come
 * from bench/ (docs/performance.md); the GPU block sizes are the usual
 * 256 threads (8 warps), enough to hide latency on every arch from sm_75
 * on without limiting occupancy by registers; 16-byte accesses are the
 * widest a thread has (LDG.128), and fewer, wider loads keep more bytes in
 * flight per thread.
 */
#include "target.h"

#include "ir.h"

static const Target cpu = {
    .kind = TGT_CPU,
    .name = "cpu",
    .par_min_work = 1 << 15,
    /* four 512-bit registers of partials: four independent chains of
     * adds (or max), so that an add's latency (4 cycles) does not bound a
     * row in L1; one register (16 lanes) held bench (d) to 14 bytes a
     * cycle, below the L3's bandwidth */
    .lanes_f32 = 64,
    .lanes_f64 = 32,
    /* 32 elements to each of the 64 partials (a sum of 0.1s is then
     * 3e-7 off, NumPy's pairwise sum 5e-8); with 16 partials, blocks of
     * 256 cost bench (d) 4% in their per-block work, 512 nothing
     * measurable, 1024 put 64 in each partial (6e-7 off) */
    .sum_block = 2048,
    /* a 512-bit register: the points an elementwise row stage takes at
     * once (passes/schedule.c) */
    .vector_bytes = 64,
    /* 1024 rows of 1024 floats: 4 MiB, in L3; every block costs OpenBLAS
     * another packing of b, so blocks are large (bench (e): 128 rows lost
     * 10% at 1024^3) */
    .epilogue_rows = 1024,
    /* a row of 4096 floats; with the row of the input it stays in L1.
     * Bench (b), softmax of 4096 x 1024, modelled in C: the exp stage
     * writing the output row and the scale stage reading it back took
     * 0.78 ms, a scratch row instead 0.51-0.57 ms (docs/performance.md,
     * "Row kernels that write their output once") */
    .row_scratch_bytes = 16384,
    /* non-temporal stores: the same model with 8 MiB of output or less
     * (in L3 with its input) ran as fast with them as without, with 16
     * MiB 10-20% faster (0.47 against 0.51-0.57 ms) */
    .stream_min_bytes = 8 << 20,
};

const Target *ir_target_cpu(void) { return &cpu; }

Target *ir_target_cuda(const char *arch, bool emulate) {
  Target *t = ir_alloc(sizeof *t);
  *t = cpu;
  t->kind = TGT_CUDA;
  t->name = "cuda";
  t->epilogue_rows = 0; /* cuBLAS makes the whole product, then one epilogue kernel */
  t->blas_epilogues = true; /* ... or cuBLASLt makes both (passes/blas_epilogue.c) */
  t->row_scratch_bytes = 0; /* a block's row kernel reads its rows from global memory */
  t->stream_min_bytes = 0;
  t->gpu_arch = arch ? arch : "sm_80";
  t->block_threads = 256;
  t->row_threads = 256;
  t->max_blocks = 65535;
  t->vector_bytes = 16;
  t->sum_block = 16; /* a thread's own elements: 16 per f32 partial, as on the CPU */
  t->emulate = emulate;
  return t;
}
