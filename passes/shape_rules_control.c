/* passes/shape_rules_control.c - shape rules of structured control flow:
 * for, if, yield, result, return.
 *
 * for: the body is walked with its block arguments typed by the initial
 * values.  A variable first assigned inside the loop (initial value UNDEF)
 * takes the type of the value the body yields; a variable initialised with
 * a Python scalar (total = 0) takes the dtype of `total + loss` (the end of
 * the pass inserts a cast before the loop).  Those types are learned by
 * walking the body with a guess, holding its diagnostics back, and walking
 * it again (diagnostics dropped, bindings undone) while the guess was wrong.
 * Then each yielded value must have the variable's type: a shape that
 * changes from one iteration to the next is an error.
 *
 * if: both branches are walked; a variable assigned in one branch only
 * takes that branch's type; two assigned values must agree (dims unified,
 * Python scalars promoted, cast at the end of the pass).  A value that no
 * path assigns stays "undefined" and reading it is an error.
 */
#include "shape_internal.h"

#include <string.h>

static IrNode *yield_of(IrNode *owner, IrBlock *b, int count) {
  if (!b || b->nodes.n == 0)
    ir_die(owner->loc, "%s region without a yield", ir_op_name(owner->op));
  IrNode *y = b->nodes.v[b->nodes.n - 1];
  if (y->op != IR_YIELD || y->nargs != count)
    ir_die(owner->loc, "%s region must end with a yield of %d values", ir_op_name(owner->op), count);
  return y;
}

static bool is_value(IrNode *v) { return v->type.kind == TY_TENSOR; }

static const char *var_name(IrNode *a, IrNode *b, IrNode *c) {
  return a && a->name ? a->name : b && b->name ? b->name : c && c->name ? c->name : "value";
}

/* The variable an if's k-th result is assigned to: its RESULT's name. */
static const char *result_name(ShapeCtx *S, IrNode *n, int k) {
  IrBlock *b = S->cur_block;
  for (int i = S->cur_index + 1; b && i < b->nodes.n; i++) {
    IrNode *r = b->nodes.v[i];
    if (r->op == IR_RESULT && r->nargs == 1 && r->args[0] == n && r->at.ival == k)
      return r->name;
  }
  return NULL;
}

static bool check_int_operand(ShapeCtx *S, IrNode *n, IrNode *a, const char *what) {
  if (sh_is_undef(S, a)) {
    sh_error(S, n->loc, "'%s' is used before it is assigned", a->name ? a->name : "value");
    return false;
  }
  if (a->type.kind == TY_UNKNOWN)
    return false;
  IrType t = sh_type(S, a);
  if (!sh_is_int_scalar(&t)) {
    sh_error(S, a->loc, "range() needs integer arguments, but the %s is %s", what, sh_tstr(&t));
    return false;
  }
  return true;
}

/* Types the loop's block arguments: the induction variable, then each
 * carried value (undefined or poisoned ones get the poison type). */
static void set_block_args(ShapeCtx *S, IrNode *n, int nc, const IrType *cur, const bool *undef,
                           const bool *poison) {
  IrNode *iv = n->body->params.v[0];
  iv->type = ir_type_scalar(DT_I64);
  iv->has_symval = false;
  for (int k = 0; k < nc; k++) {
    IrNode *p = n->body->params.v[1 + k];
    p->has_symval = false;
    sh_info(S, p)->undef = undef[k];
    if (undef[k] || poison[k])
      sh_poison(p);
    else
      p->type = cur[k];
  }
}

/* What a walk of the body teaches about the variables whose type is
 * learned: one first assigned in the loop has the type of what the body
 * assigns; one initialised with a Python scalar has that scalar promoted
 * with it.  Updates cur; true if anything changed. */
static bool refine(ShapeCtx *S, IrNode *n, IrNode *y, int nc, const IrType *init, const bool *learn, IrType *cur,
                   bool *undef, const bool *poison) {
  bool changed = false;
  for (int k = 0; k < nc; k++) {
    IrNode *v = y->args[k];
    if (!learn[k] || poison[k] || v == n->body->params.v[1 + k] || sh_is_undef(S, v) || !is_value(v))
      continue;
    IrType t = sh_type(S, v), want = t;
    if (init[k].kind == TY_TENSOR) { /* a Python scalar */
      if (t.rank != 0)
        continue; /* a shape change: reported by the final check */
      want = init[k];
      want.dtype = sh_promote(&init[k], &t, &want.weak);
      want.device = t.device;
    }
    if (undef[k] || !ir_type_eq(&want, &cur[k]) || want.weak != cur[k].weak)
      cur[k] = want, undef[k] = false, changed = true;
  }
  return changed;
}

/* The loop's carried types: the initial values' types, except for the
 * variables whose type is learned (learn[k]); those start from what the
 * last walk of this loop learned.  The body is walked with these types,
 * its diagnostics held back; if the body shows that a learned type was
 * wrong, the walk is undone (diagnostics and bindings) and repeated with
 * the better types.  Remembering what was learned keeps nested loops from
 * being walked exponentially often. */
void shape_for(ShapeCtx *S, IrNode *n) {
  if (n->nargs < 3 || !n->body)
    ir_die(n->loc, "malformed for");
  int nc = n->nargs - 3;
  if (n->body->params.n != 1 + nc)
    ir_die(n->loc, "for with %d carried values but %d block arguments", nc, n->body->params.n);
  static const char *const what[] = {"start", "stop", "step"};
  for (int i = 0; i < 3; i++)
    check_int_operand(S, n, n->args[i], what[i]);
  int64_t step;
  if (n->args[2]->has_symval && dim_is_const(n->args[2]->symval, &step) && step == 0)
    sh_error(S, n->args[2]->loc, "range() step must not be zero");

  /* 1. the carried values' types before the loop */
  size_t sz = (size_t)(nc + 1);
  IrType *cur = ir_alloc(sizeof(IrType) * sz), *init = ir_alloc(sizeof(IrType) * sz);
  bool *undef = ir_alloc(sz), *poison = ir_alloc(sz), *learn = ir_alloc(sz);
  NodeInfo *e = sh_info(S, n);
  for (int k = 0; k < nc; k++) {
    IrNode *v = n->args[3 + k];
    if (sh_is_undef(S, v)) {
      undef[k] = learn[k] = true; /* init[k] stays TY_UNKNOWN */
    } else if (!is_value(v)) {
      poison[k] = true;
    } else {
      init[k] = cur[k] = sh_type(S, v);
      learn[k] = cur[k].weak && cur[k].rank == 0;
    }
    if (learn[k] && e->elems && e->nelems == nc && e->elems[k].kind == TY_TENSOR)
      cur[k] = e->elems[k], undef[k] = false; /* what the last walk learned */
  }
  IrNode *y = yield_of(n, n->body, nc);

  /* 2. walk until the learned types hold */
  for (int attempt = 0;; attempt++) {
    SubstSave save;
    sh_subst_save(S, &save);
    int mark = sh_hold(S);
    set_block_args(S, n, nc, cur, undef, poison);
    sh_walk_block(S, n->body);
    y = yield_of(n, n->body, nc);
    bool changed = attempt < 3 && refine(S, n, y, nc, init, learn, cur, undef, poison);
    if (!changed) {
      sh_subst_forget(&save);
      sh_release(S, mark, true);
      break;
    }
    sh_release(S, mark, false);
    sh_subst_restore(S, &save);
  }

  /* 3. every yielded value against its variable's type */
  for (int k = 0; k < nc; k++) {
    IrNode *v = y->args[k], *p = n->body->params.v[1 + k];
    if (poison[k] || undef[k] || v == p || sh_is_undef(S, v) || !is_value(v))
      continue;
    IrType t = sh_type(S, v), before = cur[k];
    for (int i = 0; i < before.rank; i++)
      before.dims[i] = sh_resolve(S, before.dims[i]);
    bool same = before.dtype == t.dtype && before.rank == t.rank &&
                !(before.device != DEV_DEFAULT && t.device != DEV_DEFAULT && before.device != t.device);
    for (int i = 0; same && i < t.rank; i++)
      same = sh_unify(S, before.dims[i], t.dims[i]);
    if (!same) {
      bool shape = before.rank != t.rank || before.dtype == t.dtype;
      sh_error(S, v->loc, "'%s' changes %s inside the loop: %s before, %s after one iteration",
               var_name(p, v, n->args[3 + k]), shape ? "shape" : "type", sh_tstr(&before), sh_tstr(&t));
      sh_note(S, n->loc, "the loop starts here");
    }
  }

  /* 4. the tuple; undefined elements stay undefined */
  for (int k = 0; k < nc; k++)
    if (poison[k])
      sh_poison_type(&cur[k]);
  e = sh_info(S, n); /* the walk may have moved the table */
  e->nelems = nc;
  e->elems = cur;
  e->elem_undef = undef;
  memset(&n->type, 0, sizeof n->type);
  n->type.kind = TY_TUPLE;
  n->type.ntuple = nc;
}

void shape_if(ShapeCtx *S, IrNode *n) {
  if (n->nargs < 1 || !n->body)
    ir_die(n->loc, "malformed if");
  IrNode *c = n->args[0];
  if (sh_is_undef(S, c)) {
    sh_error(S, n->loc, "'%s' is used before it is assigned", c->name ? c->name : "value");
  } else if (c->type.kind == TY_TENSOR) {
    IrType t = sh_type(S, c);
    if (t.rank != 0 || t.dtype != DT_BOOL)
      sh_error(S, c->loc, "if: the condition must be a bool scalar, but got %s", sh_tstr(&t));
  }
  sh_walk_block(S, n->body);
  sh_walk_block(S, n->orelse);
  if (n->body->nodes.n == 0)
    ir_die(n->loc, "if region without a yield");
  int ny = ((IrNode *)n->body->nodes.v[n->body->nodes.n - 1])->nargs;
  IrNode *yt = yield_of(n, n->body, ny);
  IrNode *ye = n->orelse ? yield_of(n, n->orelse, ny) : NULL;
  if (!ye && ny > 0)
    ir_die(n->loc, "if with results but no else region");
  IrType *elems = ir_alloc(sizeof(IrType) * (size_t)(ny + 1));
  bool *undef = ir_alloc(sizeof(bool) * (size_t)(ny + 1));
  for (int k = 0; k < ny; k++) {
    IrNode *a = yt->args[k], *b = ye->args[k];
    bool ua = sh_is_undef(S, a), ub = sh_is_undef(S, b);
    if ((!ua && !is_value(a)) || (!ub && !is_value(b))) {
      sh_poison_type(&elems[k]);
      continue;
    }
    if (ua && ub) {
      undef[k] = true;
      sh_poison_type(&elems[k]);
      continue;
    }
    if (ua || ub) {
      elems[k] = sh_type(S, ua ? b : a);
      continue;
    }
    IrType ta = sh_type(S, a), tb = sh_type(S, b), r = ta;
    bool ok = true;
    if (ta.dtype != tb.dtype) {
      if ((ta.weak || tb.weak) && ta.rank == 0 && tb.rank == 0)
        r.dtype = sh_promote(&ta, &tb, NULL);
      else
        ok = false;
    }
    ok &= ta.rank == tb.rank;
    ok &= !(ta.device != DEV_DEFAULT && tb.device != DEV_DEFAULT && ta.device != tb.device);
    for (int i = 0; ok && i < ta.rank; i++)
      ok = sh_unify(S, ta.dims[i], tb.dims[i]);
    if (!ok) {
      const char *name = result_name(S, n, k);
      sh_error(S, n->loc, "'%s' is %s in one branch and %s in the other", name ? name : var_name(a, b, NULL),
               sh_tstr(&ta), sh_tstr(&tb));
      sh_note(S, a->loc, "here it is %s", sh_tstr(&ta));
      sh_note(S, b->loc, "here it is %s", sh_tstr(&tb));
      sh_poison_type(&elems[k]);
      continue;
    }
    for (int i = 0; i < r.rank; i++)
      r.dims[i] = sh_resolve(S, r.dims[i]);
    r.weak = ta.weak && tb.weak;
    if (r.device == DEV_DEFAULT)
      r.device = tb.device;
    elems[k] = r; /* a Python scalar branch is cast at the end of the pass */
  }
  NodeInfo *e = sh_info(S, n);
  e->nelems = ny;
  e->elems = elems;
  e->elem_undef = undef;
  memset(&n->type, 0, sizeof n->type);
  n->type.kind = TY_TUPLE;
  n->type.ntuple = ny;
}

void shape_yield(ShapeCtx *S, IrNode *n) {
  memset(&n->type, 0, sizeof n->type);
  n->type.kind = TY_NONE;
}

void shape_return(ShapeCtx *S, IrNode *n) {
  memset(&n->type, 0, sizeof n->type);
  n->type.kind = TY_NONE;
}

/* The k-th element of a for, if or split. */
void shape_result(ShapeCtx *S, IrNode *n) {
  n->has_symval = false;
  if (n->nargs != 1)
    ir_die(n->loc, "result takes one operand");
  IrNode *t = n->args[0];
  sh_info(S, n)->undef = false;
  if (t->type.kind == TY_UNKNOWN) {
    sh_poison(n);
    return;
  }
  NodeInfo *e = sh_info_get(S, t);
  int64_t k = n->at.ival;
  if (t->type.kind != TY_TUPLE || !e || !e->elems || k < 0 || k >= e->nelems)
    ir_die(n->loc, "result %lld of a value that is not a tuple of that size", (long long)k);
  if (t->op == IR_SPLIT) {
    n->type = *e->elems;
  } else if (e->elem_undef && e->elem_undef[k]) {
    sh_poison(n);
    sh_info(S, n)->undef = true;
    return;
  } else {
    n->type = e->elems[k];
  }
  if (n->type.kind == TY_TENSOR)
    for (int i = 0; i < n->type.rank; i++)
      n->type.dims[i] = sh_resolve(S, n->type.dims[i]);
}
