/* passes/passes.h - the graph -> graph passes and the pipeline.
 *
 * Every pass has the same shape: it takes the module, rewrites it in place,
 * reports the user's mistakes through ir_error and returns false when it
 * found any.  The pipeline (pipeline.c) is the literal list of passes.
 */
#ifndef TENSORC_PASSES_H
#define TENSORC_PASSES_H

#include "../ir/ir.h"

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
 * Preserves: the graph.  pass_fusion_dump is its --dump-after text: the IR,
 * then one line per kernel to be with the ops it holds and the memory
 * traffic fusion saved. */
bool pass_fusion(IrModule *m);
void pass_fusion_dump(FILE *out, IrModule *m);

/* lower.c - typed graph IR to kernel IR, one kernel per fused group (one
 * per op without the fusion pass).  Requires: shape.  Returns NULL after reporting what the CPU backend
 * cannot lower yet (grad before autodiff exists, ...). */
struct KModule;
struct KModule *pass_lower(IrModule *m);

/* memplan.c - on the kernel IR, after lower: kernels write in place where
 * the buffer they read dies there, buffers of one size take the memory of
 * dead ones, and buffers allocated in loops are allocated once around them.
 * Requires: pass_lower's KModule.  Preserves: every function's results and
 * the ownership rule of lower (docs/internals.md). */
void pass_memplan(struct KModule *m);

/* pipeline.c */
typedef bool (*PassFn)(IrModule *m);
typedef struct PassInfo {
  const char *name;
  PassFn run; /* NULL: the stage runs outside passes/ (resolve: the frontend) */
  const char *what;
  void (*dump)(FILE *out, IrModule *m); /* --dump-after text; NULL: the graph IR */
} PassInfo;
extern const PassInfo pass_pipeline[];
extern const int pass_pipeline_len;

#endif
