/* passes/passes.h - the passes, on both IR levels, and the pipeline.
 *
 * Every pass has the same shape: it takes the module (graph IR, or kernel
 * IR after lower), rewrites it in place, reports the user's mistakes
 * through ir_error and returns false when it found any.  The pipeline
 * (pipeline.c) is the literal list of passes, code generation included.
 */
#ifndef TENSORC_PASSES_H
#define TENSORC_PASSES_H

#include "../ir/ir.h"
#include "../ir/target.h"

/* shape.c - dtype, shape and device of every value.
 * Requires: resolved module (no calls, no names).  Preserves: everything;
 * sets IrNode.type everywhere and IrParam.type, substitutes bound symbols. */
bool pass_shape(IrModule *m);

/* autodiff.c - expands every grad(y, x) into the nodes of its reverse-mode
 * gradient, inserted before it.  Requires: shape.  Preserves: everything
 * else; runs the shape pass again to type the new nodes. */
bool pass_autodiff(IrModule *m);

/* simplify.c - constant folding, exact algebraic identities, common
 * subexpressions and dead code, to a fixed point.  Requires: shape,
 * autodiff.  Preserves: types, names and locations of the values kept. */
bool pass_simplify(IrModule *m);

/* fusion.c - decides which values get no buffer (computed inside their
 * consumers), which reductions and elementwise ops run as one loop over
 * rows, and which matmuls get their epilogue blockwise; sets IrNode.fuse
 * and IrNode.group for the lowering.  Requires: shape, autodiff, simplify.
 * Preserves: the graph.  pass_fusion_dump (fusion_report.c) is its
 * --dump-after text: the IR, then one line per kernel to be with the ops
 * it holds and the memory traffic fusion saved. */
bool pass_fusion(IrModule *m);
void pass_fusion_dump(FILE *out, IrModule *m);

/* ---- the kernel IR (ir/kernel.h) ---- */
struct KModule;

/* lower.c - typed graph IR to kernel IR, one kernel per fused group (one
 * per op without the fusion pass), for `target` (its epilogue block).
 * Requires: shape.  Returns NULL after reporting what cannot be lowered. */
struct KModule *pass_lower(IrModule *m, const Target *target);

/* memplan.c (and memplan_*.c) - on the kernel IR, after lower: kernels
 * write in place where the buffer they read dies there, buffers of one
 * size take the memory of dead ones, and buffers allocated in loops are
 * allocated once around them.
 * Requires: pass_lower's KModule.  Preserves: every function's results and
 * the ownership rule of lower (docs/internals.md). */
bool pass_memplan(struct KModule *m);

/* blas_epilogue.c - on targets with Target.blas_epilogues, a kernel that
 * computes act(product + bias[col]) in place right after a whole f32
 * matmul is folded into the call (KStmt.epilogue).  Requires: memplan.
 * Preserves: values, kernel numbers (KStmt.folded). */
bool pass_blas_epilogue(struct KModule *m);

/* empty_guard.c - a kernel's loop nest (its outer loops, its reduced
 * loops) with a loop below the outermost that may run zero times runs its
 * outermost over a symbol set before it, 0 when one of those extents is
 * (each tested against 0), so that no nest walks a huge outer extent
 * around an empty inner one.  Requires: lower.  Preserves: values,
 * kernel numbers. */
bool pass_empty_guard(struct KModule *m);

/* schedule.c - how every loop runs on the module's target: serial,
 * parallel, vector, gpu_grid, gpu_block, gpu_thread (KStmt.lkind), and
 * which kernels run on the GPU.  Requires: lower.  Preserves: the rest. */
bool pass_schedule(struct KModule *m);

/* exp_once.c - in a row kernel, exp(x - lse) after a logsumexp stage
 * becomes the logsumexp's exp(x - max), kept in the output row, times
 * exp(max - lse) (CPU).  Requires: schedule; before row_scratch.
 * Preserves: every value (to rounding); adds a stage. */
bool pass_exp_once(struct KModule *m);

/* row_scratch.c - a row kernel's intermediate row in a per-thread scratch
 * row, its last stores non-temporal where the buffer is large (CPU).
 * Requires: schedule.  Preserves: every value; adds KS_SCRATCH statements,
 * KB_SCRATCH buffers and `stream` marks. */
bool pass_row_scratch(struct KModule *m);

/* placement.c - where every buffer lives (host or device memory) and the
 * copies between them, for the module's target.  Requires: schedule.
 * Preserves: the results of every function (on the host). */
bool pass_placement(struct KModule *m);

/* dist_overlap.c - --dist=mpi: each all-reduce split into a start, right
 * after what makes its operand, and a wait, right before what reads its
 * result (KStmt.part).  Requires: placement.  Preserves: values. */
bool pass_dist_overlap(struct KModule *m);
/* memplan_arena.c - on a target with a device, an offset in the
 * function's device arena for every device buffer of constant size that
 * lives and dies inside one call (KStmt.arena, KFunc.arena_bytes).
 * Requires: placement.  Preserves: values; the rest of the plan. */
bool pass_arena(struct KModule *m);

/* legalize.c - NumPy's scalar semantics (floor division, modulo, NaN-
 * propagating maximum/minimum, sign, relu, ...) written as the primitive
 * ops that every code generator implements one to one, so that all
 * targets compute the same bits.  Requires: lower.  Preserves: values. */
bool pass_legalize(struct KModule *m);

/* ---- pipeline.c: the passes in order ---- */
typedef enum PassLevel {
  PASS_GRAPH,   /* IrModule -> IrModule */
  PASS_LOWER,   /* IrModule -> KModule (pass_lower) */
  PASS_KERNEL,  /* KModule -> KModule */
  PASS_CODEGEN, /* KModule -> files (codegen/, run by the driver) */
} PassLevel;
typedef struct PassInfo {
  const char *name;
  PassLevel level;
  bool (*run)(IrModule *m);        /* PASS_GRAPH (NULL for resolve: the frontend runs it) */
  bool (*krun)(struct KModule *m); /* PASS_KERNEL */
  const char *what;
  void (*dump)(FILE *out, IrModule *m); /* PASS_GRAPH's --dump-after text; NULL: the graph IR */
} PassInfo;
extern const PassInfo pass_pipeline[];
extern const int pass_pipeline_len;

#endif
