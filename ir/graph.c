/* ir/graph.c - the op table and constructors for nodes, blocks and modules.
 *
 * The op table is generated from ops.def: names, operand counts and classes
 * are never listed a second time by hand.
 */
#include "ir.h"

#include <string.h>

static const struct {
  const char *name;
  int nargs;
  IrOpClass cls;
} op_table[IR_NUM_OPS] = {
#define X(name, text, nargs, cls, shape, grad) [IR_##name] = {text, nargs, cls},
#include "ops.def"
#undef X
};

const char *ir_op_name(IrOp op) { return op < IR_NUM_OPS ? op_table[op].name : "?"; }
int ir_op_nargs(IrOp op) { return op_table[op].nargs; }
IrOpClass ir_opclass(IrOp op) { return op_table[op].cls; }

bool ir_checks_int_operand(const IrNode *n) {
  return (n->op == IR_FLOORDIV || n->op == IR_MOD || n->op == IR_POW) && ir_dtype_is_int(n->type.dtype);
}

/* Checks the operand count against the table: a wrong count is a compiler
 * bug, never the user's mistake (the frontend checks call arity). */
IrNode *ir_node_new(IrOp op, Loc loc, int nargs, IrNode **args) {
  if (op >= IR_NUM_OPS)
    ir_die(loc, "bad op %d", (int)op);
  if (op_table[op].nargs >= 0 && op_table[op].nargs != nargs)
    ir_die(loc, "op %s takes %d operands, got %d", op_table[op].name, op_table[op].nargs, nargs);
  IrNode *n = ir_alloc(sizeof *n);
  n->op = op;
  n->loc = loc;
  n->nargs = nargs;
  if (nargs > 0) {
    n->args = ir_alloc(sizeof(IrNode *) * (size_t)nargs);
    for (int i = 0; i < nargs; i++) {
      if (!args[i])
        ir_die(loc, "op %s: operand %d is NULL", op_table[op].name, i);
      n->args[i] = args[i];
    }
  }
  return n;
}

IrBlock *ir_block_new(IrNode *owner) {
  IrBlock *b = ir_alloc(sizeof *b);
  b->owner = owner;
  return b;
}

void ir_block_append(IrBlock *b, IrNode *n) { ir_vec_push(&b->nodes, n); }

IrParam *ir_module_param(IrModule *m, const char *name) {
  for (int i = 0; i < m->params.n; i++) {
    IrParam *p = m->params.v[i];
    if (strcmp(p->name, name) == 0)
      return p;
  }
  return NULL;
}

bool ir_swaps_last_two(const IrNode *n) {
  int r = n->args && n->nargs == 1 ? n->args[0]->type.rank : 0;
  if (n->op != IR_TRANSPOSE || n->type.kind != TY_TENSOR || r < 2)
    return false;
  if (n->at.naxes == 0) /* reversed: the last two swapped only for a matrix */
    return r == 2;
  if (n->at.naxes != r)
    return false;
  for (int i = 0; i < r; i++) {
    int ax = n->at.axes[i] < 0 ? n->at.axes[i] + r : n->at.axes[i];
    if (ax != (i == r - 2 ? r - 1 : i == r - 1 ? r - 2 : i))
      return false;
  }
  return true;
}

void ir_clear_marks(IrBlock *b) {
  for (int i = 0; i < b->params.n; i++)
    ((IrNode *)b->params.v[i])->mark = 0;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    n->mark = 0;
    if (n->body)
      ir_clear_marks(n->body);
    if (n->orelse)
      ir_clear_marks(n->orelse);
  }
}

/* v is an integer constant `want` (a size the shape pass knows counts). */
static bool const_int(const IrNode *v, int64_t want) {
  int64_t c;
  return v->has_symval && dim_is_const(v->symval, &c) && c == want;
}

bool ir_is_iota(const IrNode *t) {
  return t->op == IR_ARANGE && t->type.rank == 1 && const_int(t->args[0], 0) && const_int(t->args[2], 1);
}

bool ir_sets_one_per_row(const IrNode *n) {
  if ((n->op != IR_INDEX_SET && n->op != IR_INDEX_ADD) || n->at.nidx != 2 || n->type.kind != TY_TENSOR)
    return false;
  const IrNode *x = n->args[0], *v = n->args[1];
  const IrIndexItem *a = &n->at.idx[0], *b = &n->at.idx[1];
  if (x->type.rank != 2 || a->kind != IDX_TENSOR || b->kind != IDX_TENSOR || v->type.rank > 1)
    return false;
  const IrNode *rows = n->args[a->arg], *t = n->args[b->arg];
  Dim nrows = x->type.dims[0];
  return ir_is_iota(rows) && dim_eq(rows->type.dims[0], nrows) && ir_dtype_is_int(t->type.dtype) &&
         t->type.rank == 1 && dim_eq(t->type.dims[0], nrows) &&
         (v->type.rank == 0 || dim_eq(v->type.dims[0], nrows) || dim_eq(v->type.dims[0], dim_const(1)));
}
