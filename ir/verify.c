/* ir/verify.c - structural checks of the graph IR, run after every pass in
 * debug and test builds (TENSORC_VERIFY).
 *
 * Checks: operand counts against the op table; every operand defined
 * earlier in the same block, an enclosing block, or as a block parameter of
 * an enclosing region (SSA dominance for structured regions); FOR/IF
 * regions end in a YIELD of the right arity; RESULT reads an existing
 * element; a function ends in RETURN; with `typed`, every value has a type.
 * A failure is a compiler bug: it dies with the location of the bad node.
 */
#include "ir.h"

/* Visibility is tracked with `mark`: 1 = defined and in scope. */
static void set_visible(IrBlock *b, int v) {
  for (int i = 0; i < b->params.n; i++)
    ((IrNode *)b->params.v[i])->mark = v;
  for (int i = 0; i < b->nodes.n; i++)
    ((IrNode *)b->nodes.v[i])->mark = v;
}

static int yield_count(IrBlock *b, IrNode *owner) {
  IrNode *last = b->nodes.n ? b->nodes.v[b->nodes.n - 1] : NULL;
  if (!last || last->op != IR_YIELD)
    ir_die(owner->loc, "%s region does not end in yield", ir_op_name(owner->op));
  return last->nargs;
}

static void verify_block(IrBlock *b, bool typed) {
  for (int i = 0; i < b->params.n; i++)
    ((IrNode *)b->params.v[i])->mark = 1;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    int want = ir_op_nargs(n->op);
    if (want >= 0 && want != n->nargs)
      ir_die(n->loc, "%s has %d operands, the op table says %d", ir_op_name(n->op), n->nargs, want);
    for (int k = 0; k < n->nargs; k++)
      if (!n->args[k] || n->args[k]->mark != 1)
        ir_die(n->loc, "operand %d of %s is not defined before its use", k, ir_op_name(n->op));
    if (n->op == IR_YIELD && i != b->nodes.n - 1)
      ir_die(n->loc, "yield in the middle of a block");
    if (n->op == IR_FOR) {
      if (n->nargs < 3 || !n->body || n->body->params.n != n->nargs - 2)
        ir_die(n->loc, "for: %d operands but %d block params", n->nargs, n->body ? n->body->params.n : -1);
      if (yield_count(n->body, n) != n->nargs - 3)
        ir_die(n->loc, "for: yield arity differs from the carried values");
      verify_block(n->body, typed);
      set_visible(n->body, 0);
    }
    if (n->op == IR_IF) {
      if (!n->body || !n->orelse || yield_count(n->body, n) != yield_count(n->orelse, n))
        ir_die(n->loc, "if: branches yield different counts");
      verify_block(n->body, typed);
      set_visible(n->body, 0);
      verify_block(n->orelse, typed);
      set_visible(n->orelse, 0);
    }
    if (n->op == IR_RESULT) {
      IrNode *t = n->args[0];
      int count = t->op == IR_FOR ? t->nargs - 3 : t->op == IR_IF ? yield_count(t->body, t)
                : t->op == IR_SPLIT ? (int)t->at.ival : -1;
      if (count < 0 || n->at.ival < 0 || n->at.ival >= count)
        ir_die(n->loc, "result %lld of %s is out of range", (long long)n->at.ival, ir_op_name(t->op));
    }
    if (n->op == IR_INDEX || n->op == IR_INDEX_SET || n->op == IR_INDEX_ADD)
      for (int k = 0; k < n->at.nidx; k++) {
        IrIndexItem *it = &n->at.idx[k];
        int refs[4] = {it->arg, it->start, it->stop, it->step};
        int first = n->op == IR_INDEX ? 1 : 2; /* operands before the index items */
        for (int r = 0; r < 4; r++)
          if (refs[r] >= 0 && (refs[r] < first || refs[r] >= n->nargs))
            ir_die(n->loc, "index item %d refers to operand %d of %d", k, refs[r], n->nargs);
      }
    if (typed && n->type.kind == TY_UNKNOWN)
      ir_die(n->loc, "%s has no type after the shape pass", ir_op_name(n->op));
    n->mark = 1;
  }
}

bool ir_verify_module(IrModule *m, bool typed) {
  for (int i = 0; i < m->funcs.n; i++) {
    IrFunc *f = m->funcs.v[i];
    ir_clear_marks(f->body);
    for (int k = 0; k < f->args.n; k++)
      ((IrNode *)f->args.v[k])->mark = 1;
    IrNode *last = f->body->nodes.n ? f->body->nodes.v[f->body->nodes.n - 1] : NULL;
    if (!last || last->op != IR_RETURN)
      ir_die(f->loc, "function @%s does not end in return", f->name);
    verify_block(f->body, typed);
    ir_clear_marks(f->body);
    for (int k = 0; k < f->args.n; k++)
      ((IrNode *)f->args.v[k])->mark = 0;
  }
  return true;
}
