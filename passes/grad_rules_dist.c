/* passes/grad_rules_dist.c - gradients of the collectives (ir/ops.def,
 * docs/distributed.md).
 *
 * Every rank differentiates its own loss; the rules give the gradient of
 * the sum of the ranks' losses, the quantity data-parallel training
 * descends.  With y = all_reduce_sum(x) on every rank, each rank's x
 * reaches every rank's y, so its adjoint is the sum of every rank's
 * adjoint of y: all_reduce_sum(g).  The mean divides by world_size on the
 * way back too: all_reduce_mean(g).  broadcast(x, root) hands root's x to
 * every rank: root gets the sum of the adjoints, the others nothing.
 * all_reduce max has no rule (nograd): which rank holds the maximum, and
 * how ties across ranks share it, would need two more collectives; it is a
 * compile error that names the op.  In one process every rule is the
 * identity, as the ops are. */
#include "autodiff_internal.h"

void grad_all_reduce_sum(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, ad_un(C, IR_ALL_REDUCE_SUM, g)); }

void grad_all_reduce_mean(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, ad_un(C, IR_ALL_REDUCE_MEAN, g)); }

void grad_broadcast(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *here = ad_bin(C, IR_EQ, ad_emit(C, IR_RANK, 0, NULL), n->args[1]);
  ad_acc(C, n, 0, ad_where(C, here, ad_un(C, IR_ALL_REDUCE_SUM, g), ad_fconst(C, 0)));
}
