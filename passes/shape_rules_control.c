/* passes/shape_rules_control.c - shape rules of structured control flow:
 * for, if, yield, result, return.
 *
 * for: the body is walked with its block arguments typed by the initial
 * values.  A variable first assigned inside the loop (initial value UNDEF)
 * takes the type of the value the body yields; a variable initialised with
 * a Python scalar (total = 0) takes the dtype of `total + loss` (a cast is
 * inserted before the loop).  Those types are learned by walking the body
 * speculatively, with errors silenced and the substitution restored, before
 * the real walk.  After the real walk each yielded value must have the
 * variable's type: a shape that changes from one iteration to the next is an
 * error.
 *
 * if: both branches are walked; a variable assigned in one branch only
 * takes that branch's type; two assigned values must agree (dims unified,
 * Python scalars promoted).  A value that no path assigns stays "undefined"
 * and reading it is an error.
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

/* After a speculative walk: learns the types of variables that were
 * undefined or Python scalars before the loop.  True if anything changed. */
static bool refine(ShapeCtx *S, IrNode *n, IrNode *y, int nc, IrType *cur, bool *undef, const bool *poison) {
  bool changed = false;
  for (int k = 0; k < nc; k++) {
    IrNode *v = y->args[k];
    if (poison[k] || v == n->body->params.v[1 + k] || sh_is_undef(S, v) || !is_value(v))
      continue;
    IrType t = sh_type(S, v);
    if (undef[k]) {
      cur[k] = t, undef[k] = false, changed = true;
    } else if (cur[k].weak && cur[k].rank == 0 && t.rank == 0 && (t.dtype != cur[k].dtype || !t.weak)) {
      IrType p = cur[k];
      p.dtype = sh_promote(&cur[k], &t, &p.weak);
      p.device = t.device;
      if (!ir_type_eq(&p, &cur[k]) || p.weak != cur[k].weak)
        cur[k] = p, changed = true;
    }
  }
  return changed;
}

void shape_for(ShapeCtx *S, IrNode *n) {
  IrBlock *parent = S->cur_block;
  int index = S->cur_index;
  if (n->nargs < 3 || !n->body || !parent)
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
  IrType *cur = ir_alloc(sizeof(IrType) * (size_t)(nc + 1));
  bool *undef = ir_alloc(sizeof(bool) * (size_t)(nc + 1)), *poison = ir_alloc(sizeof(bool) * (size_t)(nc + 1));
  bool learn = false;
  for (int k = 0; k < nc; k++) {
    IrNode *init = n->args[3 + k];
    if (sh_is_undef(S, init))
      undef[k] = learn = true;
    else if (!is_value(init))
      poison[k] = true;
    else
      cur[k] = sh_type(S, init), learn |= cur[k].weak;
  }
  IrNode *y = yield_of(n, n->body, nc);

  /* 2. speculative walks (nested loops: a few levels only) */
  for (int iter = 0; learn && iter < 3 && S->silent < 4; iter++) {
    SubstSave save;
    sh_subst_save(S, &save);
    S->silent++;
    set_block_args(S, n, nc, cur, undef, poison);
    sh_walk_block(S, n->body);
    S->silent--;
    bool changed = refine(S, n, y, nc, cur, undef, poison);
    sh_subst_restore(S, &save);
    if (!changed)
      break;
  }

  /* 3. the real walk, then every yielded value against its variable */
  set_block_args(S, n, nc, cur, undef, poison);
  sh_walk_block(S, n->body);
  y = yield_of(n, n->body, nc);
  for (int k = 0; k < nc; k++) {
    IrNode *v = y->args[k], *p = n->body->params.v[1 + k];
    if (poison[k] || v == p || sh_is_undef(S, v) || !is_value(v))
      continue;
    IrType t = sh_type(S, v);
    if (undef[k]) { /* not learned (deep nesting): take it as it comes */
      cur[k] = t, undef[k] = false;
      continue;
    }
    IrType before = cur[k];
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

  /* 4. casts of Python-scalar initial values that took another dtype */
  for (int k = 0; k < nc && !S->silent; k++) {
    IrNode *init = n->args[3 + k];
    if (undef[k] || poison[k])
      continue;
    if (init->op == IR_UNDEF) {
      if (init->type.kind == TY_UNKNOWN)
        init->type = cur[k];
      continue;
    }
    if (is_value(init) && init->type.dtype != cur[k].dtype) {
      n->args[3 + k] = sh_insert_cast(parent, index, init, cur[k].dtype);
      index++;
      S->cur_index = index;
    }
  }
  for (int k = 0; k < nc; k++)
    if (n->args[3 + k]->op == IR_UNDEF && !undef[k] && !poison[k] && n->args[3 + k]->type.kind == TY_UNKNOWN)
      n->args[3 + k]->type = cur[k];

  /* 5. the tuple */
  NodeInfo *e = sh_info(S, n);
  e->nelems = nc;
  e->elems = cur;
  e->elem_undef = undef;
  for (int k = 0; k < nc; k++)
    if (poison[k])
      sh_poison_type(&cur[k]);
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
      IrNode *u = ua ? a : b;
      elems[k] = sh_type(S, ua ? b : a);
      if (u->op == IR_UNDEF && u->type.kind == TY_UNKNOWN && !S->silent)
        u->type = elems[k];
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
    /* a Python scalar branch takes the other branch's dtype */
    if (!S->silent) {
      if (ta.dtype != r.dtype)
        yt->args[k] = sh_insert_cast(n->body, n->body->nodes.n - 1, a, r.dtype);
      if (tb.dtype != r.dtype)
        ye->args[k] = sh_insert_cast(n->orelse, n->orelse->nodes.n - 1, b, r.dtype);
    }
    elems[k] = r;
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
