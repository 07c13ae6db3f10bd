/* frontend/resolve_prune.c - drops the results of FOR and IF regions that
 * nothing reads.
 *
 * Resolve carries every variable and param into a loop and out of every
 * branch (resolve.c, point 4), because while a body is lowered it cannot
 * know what the code after it will read.  Once the whole function is
 * built, a result with no use, whose loop-carried parameter is not read
 * inside the body either, is removed with its operand and yield; removing
 * one can leave another unused, so this runs to a fixed point.  Unused
 * UNDEF placeholders go too.
 */
#include "resolve.h"

static void count_uses(IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    for (int k = 0; k < n->nargs; k++)
      n->args[k]->mark++;
    if (n->body)
      count_uses(n->body);
    if (n->orelse)
      count_uses(n->orelse);
  }
}

static IrNode *last_node(IrBlock *b) { return b->nodes.v[b->nodes.n - 1]; }

static void remove_arg(IrNode *n, int k) {
  for (int i = k; i + 1 < n->nargs; i++)
    n->args[i] = n->args[i + 1];
  n->nargs--;
}

static void remove_param(IrBlock *b, int k) {
  for (int i = k; i + 1 < b->params.n; i++)
    b->params.v[i] = b->params.v[i + 1];
  b->params.n--;
}

/* Drops result k of FOR/IF `op` (whose RESULT nodes live in `b`). */
static void drop_result(IrBlock *b, IrNode *op, int k) {
  int w = 0;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->op == IR_RESULT && n->parent == op) {
      if (n->at.ival == k)
        continue;
      if (n->at.ival > k)
        n->at.ival--;
    }
    b->nodes.v[w++] = n;
  }
  b->nodes.n = w;
  if (op->op == IR_FOR) {
    remove_arg(op, 3 + k);
    remove_param(op->body, 1 + k);
    remove_arg(last_node(op->body), k);
  } else {
    remove_arg(last_node(op->body), k);
    remove_arg(last_node(op->orelse), k);
  }
}

static IrNode *find_result(IrBlock *b, IrNode *op, int k) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->op == IR_RESULT && n->parent == op && n->at.ival == k)
      return n;
  }
  return NULL;
}

static bool prune_block(IrBlock *b) {
  bool changed = false;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->body)
      changed |= prune_block(n->body);
    if (n->orelse)
      changed |= prune_block(n->orelse);
    if (n->op != IR_FOR && n->op != IR_IF)
      continue;
    int count = last_node(n->body)->nargs;
    for (int k = count - 1; k >= 0; k--) {
      IrNode *r = find_result(b, n, k);
      bool used = r && r->mark > 0;
      if (n->op == IR_FOR && ((IrNode *)n->body->params.v[1 + k])->mark > 0)
        used = true;
      if (!used) {
        drop_result(b, n, k);
        changed = true;
      }
    }
  }
  /* Unused UNDEF placeholders go too. */
  int w = 0;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->op == IR_UNDEF && n->mark == 0) {
      changed = true;
      continue;
    }
    b->nodes.v[w++] = n;
  }
  b->nodes.n = w;
  return changed;
}

void rs_prune_results(IrFunc *f) {
  for (;;) {
    ir_clear_marks(f->body);
    count_uses(f->body);
    if (!prune_block(f->body))
      break;
  }
  ir_clear_marks(f->body);
}
