/* passes/pipeline.c - the pipeline, in order: what `tensorc --list-passes`
 * prints and what the driver runs, from the graph IR through lowering and
 * the kernel-IR passes to code generation, so that --dump-after,
 * --time-passes and TENSORC_DEBUG see every stage.  `level` says what a
 * stage takes and makes; resolve (the frontend's lowering) and codegen
 * (codegen/) run outside passes/, lower is pass_lower.
 */
#include "passes.h"

const PassInfo pass_pipeline[] = {
    {"resolve", PASS_GRAPH, NULL, NULL, "names, imports, consts, inlining, unrolling (the frontend's lowering to graph IR)",
     NULL},
    {"shape", PASS_GRAPH, pass_shape, NULL, "dtype, shape and device of every value", NULL},
    {"autodiff", PASS_GRAPH, pass_autodiff, NULL, "expand grad() in reverse mode", NULL},
    {"simplify", PASS_GRAPH, pass_simplify, NULL, "constant folding, identities, CSE, dead code", NULL},
    {"fusion", PASS_GRAPH, pass_fusion, NULL,
     "group elementwise, reduction and row ops (and matmul epilogues) into kernels", pass_fusion_dump},
    {"lower", PASS_LOWER, NULL, NULL, "fused groups to kernel IR: loop nests, buffers, calls", NULL},
    {"memplan", PASS_KERNEL, NULL, pass_memplan, "in-place updates, buffer reuse, allocations hoisted out of loops",
     NULL},
    {"blas_epilogue", PASS_KERNEL, NULL, pass_blas_epilogue,
     "bias, relu, gelu-tanh after a matmul into the library call (cuBLASLt epilogues; the GPU only)", NULL},
    {"empty_guard", PASS_KERNEL, NULL, pass_empty_guard,
     "a loop nest that may be empty runs its outermost loop over 0 when an inner extent is 0", NULL},
    {"schedule", PASS_KERNEL, NULL, pass_schedule,
     "how each loop runs on the target: serial, parallel, vector, gpu_grid/gpu_block/gpu_thread", NULL},
    {"exp_once", PASS_KERNEL, NULL, pass_exp_once,
     "a row kernel's exp(x - logsumexp) from the exp(x - max) its logsumexp computed (the CPU only)", NULL},
    {"row_scratch", PASS_KERNEL, NULL, pass_row_scratch,
     "a row kernel's rows in per-thread scratch, written to memory once (streaming stores where large; the CPU only)",
     NULL},
    {"placement", PASS_KERNEL, NULL, pass_placement, "host or device memory for every buffer, and the copies", NULL},
    {"dist_overlap", PASS_KERNEL, NULL, pass_dist_overlap,
     "--dist=mpi: each all-reduce started after its operand is made, waited for before its result is read", NULL},
    {"arena", PASS_KERNEL, NULL, pass_arena,
     "offsets in a per-function device arena for the constant-size device buffers (the GPU only)", NULL},
    {"legalize", PASS_KERNEL, NULL, pass_legalize, "NumPy's scalar semantics as primitive ops every target implements",
     NULL},
    {"codegen", PASS_CODEGEN, NULL, NULL, "LLVM (host code, CPU kernels), CUDA C through NVRTC (GPU kernels)", NULL},
};
const int pass_pipeline_len = sizeof pass_pipeline / sizeof pass_pipeline[0];
