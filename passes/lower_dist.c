/* passes/lower_dist.c - the data-parallel built-ins (ir/ops.def, SPEC §8)
 * become one runtime call each, KC_DIST (ir/kernel.h), shown in the kernel
 * IR as `call dist.all_reduce_mean %in, %out`.  The runtime (runtime/dist.c)
 * runs them on MPI in a --dist=mpi executable and as the identity, rank 0
 * of 1, in any other.  The call reads and writes host memory: on the GPU
 * the placement pass gives it host copies of its device buffers
 * (docs/distributed.md, "On the GPU"). */
#include "lower_internal.h"

#include "../ir/target.h"

bool lw_dist(LCtx *C, IrNode *n) {
  int nin = n->op == IR_RANK || n->op == IR_WORLD_SIZE ? 0 : 1;
  KStmt *s = k_stmt(KS_CALL, n->loc);
  s->call = KC_DIST;
  s->op = n->op;
  s->nbufs = nin + 1;
  s->bufs = ir_alloc(sizeof(int) * 2);
  if (nin)
    s->bufs[0] = lw_buffer(C, n->args[0]);
  s->bufs[nin] = lw_alloc(C, n);
  if (n->op == IR_BROADCAST) {
    s->nexprs = 1;
    s->exprs = ir_alloc(sizeof(KExpr *));
    s->exprs[0] = k_cast(lw_scalar(C, n->args[1]), DT_I64);
  }
  lw_emit(C, s);
  return true;
}
