/* passes/autodiff_internal.h - what the autodiff pass (autodiff.c) shares
 * with its rule files (grad_rules*.c).  Private to passes/.
 *
 * A rule is `void grad_xxx(AdCtx *C, IrNode *n, IrNode *g)`: g is the
 * adjoint of n (n's shape), and the rule adds, with ad_acc(), the
 * contribution of every operand that the gradient needs (ad_wants()).
 * Rules build untyped nodes with the ad_* helpers; they are inserted just
 * before the grad() node and typed when the shape pass runs again.
 */
#ifndef TENSORC_AUTODIFF_INTERNAL_H
#define TENSORC_AUTODIFF_INTERNAL_H

#include "passes.h"

typedef struct AdCtx {
  IrBlock *blk;   /* where new nodes go: the grad()'s block ... */
  int at;         /* ... at this index (just before the grad) */
  Loc loc;        /* the grad()'s location, for new nodes */
  IrNode **scope; /* the nodes visible at the grad, in order; mark = index + 1 */
  int nscope;
  bool *live;   /* per scope index: on a path from x to y */
  IrNode **adj; /* per scope index: the adjoint so far, NULL = zero */
  bool failed;  /* a rule reported an error */
} AdCtx;

/* One prototype per rule named in ops.def (nograd has none). */
#define X(name, text, nargs, cls, shape, grad) void grad(AdCtx *C, IrNode *n, IrNode *g);
#include "../ir/ops.def"
#undef X

/* ---- autodiff_dist.c: --dist=mpi averages the params' gradients, in buckets ---- */
void ad_dist_buckets(IrModule *m);

/* ---- autodiff.c: building nodes ---- */
IrNode *ad_emit(AdCtx *C, IrOp op, int nargs, IrNode **args);
IrNode *ad_un(AdCtx *C, IrOp op, IrNode *a);
IrNode *ad_bin(AdCtx *C, IrOp op, IrNode *a, IrNode *b);
IrNode *ad_where(AdCtx *C, IrNode *c, IrNode *a, IrNode *b);
IrNode *ad_fconst(AdCtx *C, double v); /* a weak float scalar */
IrNode *ad_iconst(AdCtx *C, int64_t v);
IrNode *ad_zeros_like(AdCtx *C, IrNode *x);
/* An i64 scalar of value d: a constant, or x.shape[k] of some node among
 * n and its operands that has the dim d; NULL (with an error) if none. */
IrNode *ad_size(AdCtx *C, IrNode *n, Dim d);
/* reshape(v, dims of t), sizes found through ad_size(C, n, ...). */
IrNode *ad_reshape(AdCtx *C, IrNode *n, IrNode *v, const IrType *t);
/* Sums g, of type `from`, back to the broadcast-compatible type `to`:
 * leading axes summed away, stretched axes summed with keepdims; then a
 * cast to `to`'s dtype if it differs. */
IrNode *ad_sum_to(AdCtx *C, IrNode *n, IrNode *g, const IrType *from, const IrType *to);

/* ---- autodiff.c: adjoints ---- */
/* Whether operand v of the node being differentiated needs a gradient. */
bool ad_wants(AdCtx *C, IrNode *v);
/* Adds contribution g (of n's shape and dtype) to the adjoint of operand
 * i of n, summed back to the operand's shape. */
void ad_acc(AdCtx *C, IrNode *n, int i, IrNode *g);
/* The adjoint of v so far (NULL: none, or v not in scope). */
IrNode *ad_adjoint(AdCtx *C, IrNode *v);
/* Adds g, already of operand i's shape but of n's dtype, to its adjoint. */
void ad_acc_shaped(AdCtx *C, IrNode *n, int i, IrNode *g);
/* Adds a contribution already of v's shape. */
void ad_acc_exact(AdCtx *C, IrNode *v, IrNode *g);
/* The rule cannot handle this form: reports it. */
void ad_unsupported(AdCtx *C, IrNode *n, const char *what);

#endif
