/* passes/pipeline.c - the pipeline, in order: what `tensorc --list-passes`
 * prints and what the driver runs.  A pass whose `run` is NULL runs
 * elsewhere (resolve is the frontend's lowering) or is not written yet; the
 * `what` text says which.
 */
#include "passes.h"

const PassInfo pass_pipeline[] = {
    {"resolve", NULL, "names, imports, consts, inlining, unrolling (the frontend's lowering to graph IR)"},
    {"shape", pass_shape, "dtype, shape and device of every value"},
    {"autodiff", pass_autodiff, "expand grad() in reverse mode"},
    {"simplify", pass_simplify, "constant folding, identities, CSE, dead code"},
    {"fusion", NULL, "group elementwise and reduction ops into kernels (not implemented yet)"},
    {"memplan", NULL, "buffer reuse and in-place updates (not implemented yet)"},
    {"lower", NULL, "fused groups to kernel IR (not implemented yet)"},
};
const int pass_pipeline_len = sizeof pass_pipeline / sizeof pass_pipeline[0];
