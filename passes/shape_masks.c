/* passes/shape_masks.c - boolean-mask assignments become selects.
 *
 * Once every type is known (the end of the shape pass), x[mask] = v is
 * where(mask, v, x) with v cast to x's dtype, and the read of x[mask] op= v
 * (index with at.keepdims) is x itself, so x[mask] += v is
 * where(mask, x + v, x).  The rules that allow them are in
 * shape_rules_index.c; after this, fusion and both backends see only
 * elementwise ops.
 */
#include "shape_internal.h"

/* The operand position of n's bool mask (typed), or -1. */
static int mask_arg(IrNode *n) {
  if (n->at.nidx != 1 || (n->at.idx[0].kind != IDX_TENSOR && n->at.idx[0].kind != IDX_SCALAR))
    return -1;
  int arg = n->at.idx[0].arg;
  IrType *t = &n->args[arg]->type;
  return t->kind == TY_TENSOR && t->dtype == DT_BOOL && t->rank > 0 ? arg : -1;
}

static void to_where(IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->body)
      to_where(n->body);
    if (n->orelse)
      to_where(n->orelse);
    int m = n->op == IR_INDEX || n->op == IR_INDEX_SET ? mask_arg(n) : -1;
    if (m < 0)
      continue;
    IrNode *x = n->args[0], *mask = n->args[m];
    n->at.idx = NULL;
    n->at.nidx = 0;
    n->at.keepdims = false;
    if (n->op == IR_INDEX) { /* the read of x[mask] op= v */
      n->op = IR_COPY;
      n->nargs = 1;
      continue;
    }
    IrNode *v = n->args[1];
    if (v->type.dtype != x->type.dtype)
      v = sh_insert_cast(b, i++, v, x->type.dtype);
    IrNode **args = ir_alloc(sizeof(IrNode *) * 3);
    args[0] = mask, args[1] = v, args[2] = x;
    n->op = IR_WHERE;
    n->args = args;
    n->nargs = 3;
  }
}

void sh_masks_to_where(IrFunc *f) { to_where(f->body); }
