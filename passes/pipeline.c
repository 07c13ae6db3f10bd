/* passes/pipeline.c - the pipeline, in order: what `tensorc --list-passes`
 * prints and what the driver runs.  A pass whose `run` is NULL runs
 * elsewhere (resolve is the frontend's lowering; lower and memplan work on
 * the kernel IR, run by the driver); the `what` text says which; `dump`, when set, is the pass's own
 * --dump-after text.
 */
#include "passes.h"

const PassInfo pass_pipeline[] = {
    {"resolve", NULL, "names, imports, consts, inlining, unrolling (the frontend's lowering to graph IR)", NULL},
    {"shape", pass_shape, "dtype, shape and device of every value", NULL},
    {"autodiff", pass_autodiff, "expand grad() in reverse mode", NULL},
    {"simplify", pass_simplify, "constant folding, identities, CSE, dead code", NULL},
    {"fusion", pass_fusion, "group elementwise, reduction and row ops (and matmul epilogues) into kernels",
     pass_fusion_dump},
    {"lower", NULL, "fused groups to kernel IR (run by the driver: it makes a KModule)", NULL},
    {"memplan", NULL,
     "on the kernel IR, after lower (run by the driver): in-place updates, buffer reuse, allocations hoisted out of "
     "loops",
     NULL},
};
const int pass_pipeline_len = sizeof pass_pipeline / sizeof pass_pipeline[0];
