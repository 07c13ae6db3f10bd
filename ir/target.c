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
    .lanes_f32 = 16,
    .lanes_f64 = 8,
    /* 1024 rows of 1024 floats: 4 MiB, in L3; every block costs OpenBLAS
     * another packing of b, so blocks are large (bench (e): 128 rows lost
     * 10% at 1024^3) */
    .epilogue_rows = 1024,
};

const Target *ir_target_cpu(void) { return &cpu; }

Target *ir_target_cuda(const char *arch, bool emulate) {
  Target *t = ir_alloc(sizeof *t);
  *t = cpu;
  t->kind = TGT_CUDA;
  t->name = "cuda";
  t->epilogue_rows = 0; /* cuBLAS makes the whole product, then one epilogue kernel */
  t->blas_epilogues = true; /* ... or cuBLASLt makes both (passes/blas_epilogue.c) */
  t->gpu_arch = arch ? arch : "sm_80";
  t->block_threads = 256;
  t->row_threads = 256;
  t->max_blocks = 65535;
  t->vector_bytes = 16;
  t->emulate = emulate;
  return t;
}
