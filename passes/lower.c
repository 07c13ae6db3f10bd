/* passes/lower.c - the `lower` pass: typed graph IR to kernel IR.
 *
 * Each graph op becomes one kernel (lower_ops.c, lower_index.c) or one
 * runtime call, writing a fresh buffer, unless the fusion pass said
 * otherwise (IrNode.fuse): an inlined value gets no code of its own and is
 * recomputed where it is read (lw_at), a reduction absorbed by its
 * consumer is built by that consumer, and the stages of a row kernel go
 * into one loop over the rows, emitted with the last stage.
 * This file owns the structure: arguments and their symbols, blocks, `for`
 * and `if`, results, and who frees which buffer.
 *
 * Ownership, the one rule that keeps loops from leaking: a buffer belongs
 * to the block whose op allocated it (a FOR/IF result belongs to the block
 * around the FOR/IF).  At the end of a block its buffers are freed, except
 * those the block hands on (yield, return, param_store) - compared by
 * pointer at run time, so values that alias a buffer (reshape, check_type,
 * detach: no copy) are handled without tracking.  A value handed on that
 * the block does not own (an argument, a param, an outer value) is copied
 * first, and a loop copies its initial values, so no two owned buffers
 * ever share a pointer.
 *
 * Requires: the shape pass.  Produces: a KModule (not a graph rewrite).
 */
#include "lower_internal.h"

#include <string.h>

/* ===== values ===== */

static PtrVec vals; /* LVal*, indexed by node->mark - 1 */

LVal *lw_val(LCtx *C, IrNode *n) {
  if (n->mark <= 0 || n->mark > vals.n)
    ir_die(n->loc, "lower: %s used before it was lowered", ir_op_name(n->op));
  return vals.v[n->mark - 1];
}

static LVal *new_val(IrNode *n) {
  LVal *v = ir_alloc(sizeof *v);
  v->buf = v->root = -1;
  ir_vec_push(&vals, v);
  n->mark = vals.n;
  return v;
}

void lw_emit(LCtx *C, KStmt *s) { k_push(C->out, s); }

int lw_new_var(LCtx *C) { return C->f->nvars++; }

int lw_new_buf(LCtx *C, IrNode *n, const char *name, DType dt, int rank, const Dim *dims) {
  return k_buf_new(C->f, name ? name : n && n->name ? n->name : NULL, dt, rank, dims, KB_TEMP);
}

void lw_set(LCtx *C, IrNode *n, int buf, bool owned) {
  LVal *v = new_val(n);
  v->buf = buf;
  v->root = buf;
  v->owned = owned;
  if (owned)
    ir_vec_push(&C->owned, (void *)(intptr_t)buf);
}

void lw_set_scalar(LCtx *C, IrNode *n, KExpr *e) { new_val(n)->scalar = e; }

void lw_emit_alloc(LCtx *C, int buf, Loc loc) {
  KStmt *s = k_stmt(KS_ALLOC, loc);
  s->buf = buf;
  k_push(C->allocs ? C->allocs : C->out, s);
}

int lw_alloc(LCtx *C, IrNode *n) {
  int b = lw_new_buf(C, n, NULL, n->type.dtype, n->type.rank, n->type.dims);
  KList *out = C->out; /* the check goes where the allocation goes */
  C->out = C->allocs ? C->allocs : out;
  lw_check_alloc(C, n);
  C->out = out;
  lw_emit_alloc(C, b, n->loc);
  lw_set(C, n, b, true);
  return b;
}

/* An owned copy of buffer `src` with v's type (for values handed on). */
static int copy_buffer(LCtx *C, IrNode *v, int src) {
  KBuf *kb = k_buf(C->f, src);
  int b = lw_new_buf(C, v, kb->name, kb->dtype, kb->rank, kb->dims);
  KStmt *s = k_stmt(KS_ALLOC, v->loc);
  s->buf = b;
  lw_emit(C, s);
  lw_copy_into(C, b, src, v->loc);
  return b;
}

/* A value fusion left without a buffer, wanted as one after all (an
 * inlined value read by an op that needs memory; fusion avoids this, so it
 * is a fallback): its kernel now, outside any row loop being built. */
static int materialise(LCtx *C, IrNode *v) {
  LVal *lv = lw_val(C, v);
  KList *out = C->out, *allocs = C->allocs;
  int nrow = C->nrow;
  C->out = allocs ? allocs : out;
  C->allocs = NULL;
  C->nrow = 0;
  int b;
  if (lv->pending) { /* a reduction: its own kernel after all */
    lv->pending = false;
    v->fuse = IR_FUSE_NONE;
    if (!lw_op(C, v))
      C->failed = true;
    b = lw_val(C, v)->buf;
  } else {
    b = lw_new_buf(C, v, NULL, v->type.dtype, v->type.rank, v->type.dims);
    lw_emit_alloc(C, b, v->loc);
    KExpr **vars;
    KStmt *k = lw_map_kernel(C, b, v->loc, &vars);
    k->value = k_cast(lw_deferred(C, v, vars), v->type.dtype);
    lw_emit(C, k);
    lv->deferred = false;
    lv->buf = lv->root = b;
    lv->owned = true;
    ir_vec_push(&C->owned, (void *)(intptr_t)b);
    ir_vec_push(&C->made, lv);
  }
  C->out = out;
  C->allocs = allocs;
  C->nrow = nrow;
  return b;
}

int lw_buffer(LCtx *C, IrNode *v) {
  LVal *lv = lw_val(C, v);
  if (lv->buf >= 0)
    return lv->buf;
  if (lv->deferred || lv->pending)
    return materialise(C, v);
  if (!lv->scalar)
    ir_die(v->loc, "lower: %s has no value here", ir_op_name(v->op));
  /* An inline scalar: store it into a one-element buffer, once. */
  int b = lw_new_buf(C, v, NULL, v->type.dtype, 0, NULL);
  lw_emit_alloc(C, b, v->loc);
  KStmt *k = k_stmt(KS_KERNEL, v->loc);
  k->buf = b;
  k->value = k_cast(lv->scalar, v->type.dtype);
  lw_emit(C, k);
  lv->buf = lv->root = b;
  lv->owned = true;
  ir_vec_push(&C->owned, (void *)(intptr_t)b);
  ir_vec_push(&C->made, lv);
  return b;
}

/* The values given a buffer since C->made had `from` entries lose it
 * again: the region that made them (a branch, a loop body) frees it at its
 * end, and a use after the region, or in the other branch, makes its own.
 * (A scalar const first saved inside an `if` was read after it from the
 * branch's freed buffer, and never allocated when the other branch ran:
 * differential seed 1082034.) */
static void forget_made(LCtx *C, int from) {
  for (int i = from; i < C->made.n; i++) {
    LVal *lv = C->made.v[i];
    lv->buf = lv->root = -1;
    lv->owned = false;
    lv->deferred = !lv->scalar; /* materialise() had cleared it */
  }
  C->made.n = from;
}

KExpr *lw_scalar(LCtx *C, IrNode *v) {
  LVal *lv = lw_val(C, v);
  if (lv->scalar)
    return lv->scalar;
  if (lv->deferred)
    return lw_at(C, v, NULL);
  return k_load(lv->buf, v->type.dtype, 0, NULL);
}

KExpr *lw_i64op(IrOp op, KExpr *a, KExpr *b) { return k_op2(op, DT_I64, k_cast(a, DT_I64), k_cast(b, DT_I64)); }

static KStmt *check_stmt(KExpr *cond, Loc loc, const char *file, const char *msg) {
  KStmt *s = k_stmt(KS_CHECK, loc);
  s->cond = cond;
  s->message = file ? ir_sprintf("%s:%d:%d: %s", file, loc.line, loc.col, msg) : msg;
  return s;
}

static const char *base_name(Loc loc) {
  const char *base = loc.file ? strrchr(loc.file, '/') : NULL;
  return base ? base + 1 : loc.file;
}

void lw_check(LCtx *C, KExpr *cond, Loc loc, const char *msg) {
  if (lw_always_true(cond)) /* all constants (lower_sizes.c) */
    return;
  KStmt *s = check_stmt(cond, loc, base_name(loc), msg);
  s->input = C->input_checks;
  lw_emit(C, s);
}

void lw_warn(LCtx *C, KExpr *cond, Loc loc, const char *msg) {
  KStmt *s = check_stmt(cond, loc, base_name(loc), ir_sprintf("warning: %s", msg));
  s->warn = true;
  lw_emit(C, s);
}

void lw_check_values(LCtx *C, KExpr *cond, Loc loc, const char *fmt, int n, KExpr **values) {
  /* the message is a printf format: a '%' in the file name is doubled */
  const char *file = base_name(loc);
  char *esc = NULL;
  if (file) {
    esc = ir_alloc(2 * strlen(file) + 1);
    char *o = esc;
    for (const char *p = file; *p; p++)
      if ((*o++ = *p) == '%')
        *o++ = '%';
    *o = 0;
  }
  KStmt *s = check_stmt(cond, loc, esc, fmt);
  s->input = C->input_checks;
  s->nexprs = n;
  s->exprs = ir_alloc(sizeof(KExpr *) * (size_t)n);
  for (int i = 0; i < n; i++)
    s->exprs[i] = k_cast(values[i], DT_I64);
  lw_emit(C, s);
}

/* Every symbol of d has a run-time value. */
bool lw_dim_known(LCtx *C, Dim d) {
  for (int i = 0; i < d.n; i++)
    for (int j = 0; j < d.t[i].deg; j++)
      if (d.t[i].sym[j] >= C->nsyms || !C->symset[d.t[i].sym[j]])
        return false;
  return !d.overflow;
}

/* d = coef*s + (terms of set symbols), with s the one unset symbol and
 * coef = +-1 (any coef when any_coef): the symbol that a value of d
 * determines (or -1). */
static int solvable_sym(LCtx *C, Dim d, int *coef, bool any_coef) {
  int found = -1;
  for (int i = 0; i < d.n; i++)
    for (int j = 0; j < d.t[i].deg; j++) {
      int s = d.t[i].sym[j];
      if (s < C->nsyms && C->symset[s])
        continue;
      if (found >= 0 || d.t[i].deg != 1 || (!any_coef && d.t[i].coef != 1 && d.t[i].coef != -1) || s >= C->nsyms ||
          d.t[i].coef > INT32_MAX || d.t[i].coef < -INT32_MAX)
        return -1;
      found = s;
      *coef = (int)d.t[i].coef;
    }
  return d.overflow ? -1 : found;
}

void lw_bind_sym(LCtx *C, Dim d, KExpr *value, Loc loc) {
  int sym, coef;
  if (!dim_is_sym(d, &sym) && (sym = solvable_sym(C, d, &coef, false)) >= 0) {
    /* a size the shape pass wrote in terms of a symbol set later (the
     * unifier picked that symbol): solve for it, s = coef * (value - rest) */
    Dim rest = dim_sub(d, dim_mul(dim_const(coef), dim_sym(sym)));
    KStmt *s = k_stmt(KS_SETSYM, loc);
    s->buf = sym;
    s->cond = lw_i64op(IR_MUL, k_int(coef), lw_i64op(IR_SUB, value, k_dim(rest)));
    lw_emit(C, s);
    C->symset[sym] = true;
    return;
  }
  if (!dim_is_sym(d, &sym) || sym >= C->nsyms || C->symset[sym]) {
    /* The shape pass decided what this size must be (unifying it with the
     * shapes around it): a run-time value must agree. */
    char want[128];
    if (value->kind != KX_CONST && lw_dim_known(C, d))
      lw_check(C, k_op2(IR_EQ, DT_BOOL, k_cast(value, DT_I64), k_dim(d)), loc,
               ir_sprintf("this size must be %s, as the shapes it is used with require",
                          dim_format(d, want, sizeof want)));
    return;
  }
  KStmt *s = k_stmt(KS_SETSYM, loc);
  s->buf = sym;
  s->cond = k_cast(value, DT_I64);
  lw_emit(C, s);
  C->symset[sym] = true;
}

/* ===== blocks ===== */

static void lower_block(LCtx *C, IrBlock *b);

/* The root buffer of a value (its own buffer; aliases share the pointer). */
static bool owned_here(LCtx *C, int buf) {
  for (int i = 0; i < C->owned.n; i++)
    if ((int)(intptr_t)C->owned.v[i] == buf)
      return true;
  return false;
}

/* Buffers for the values a block hands on; copies what it does not own
 * and repeats, so each handed-on buffer is distinct and owned. */
static int *hand_on(LCtx *C, IrNode **vals_, int n) {
  int *out = ir_alloc(sizeof(int) * (size_t)(n ? n : 1));
  int *roots = ir_alloc(sizeof(int) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    IrNode *v = vals_[i];
    if (v->op == IR_UNDEF) {
      out[i] = roots[i] = lw_buffer(C, v);
      continue;
    }
    int b = lw_buffer(C, v), root = lw_val(C, v)->root;
    bool dup = false;
    for (int j = 0; j < i; j++)
      dup |= roots[j] == root;
    if (!owned_here(C, root) || dup)
      b = root = copy_buffer(C, v, b);
    out[i] = b;
    roots[i] = root;
  }
  return out;
}

/* Frees the block's buffers except `keep`. */
static void free_owned(LCtx *C, Loc loc, int *keep, int nkeep) {
  for (int i = 0; i < C->owned.n; i++) {
    KStmt *s = k_stmt(KS_FREE, loc);
    s->buf = (int)(intptr_t)C->owned.v[i];
    s->keep = keep;
    s->nkeep = nkeep;
    lw_emit(C, s);
  }
}

/* The induction variable or a carried integer used as a size in the body
 * (randn(2 * i), ones(k)) names a symbol: set it at the top of every
 * iteration, where its value changes.  Without this the symbol kept its
 * initial 0 (and memplan, seeing no `set` in the loop, took the size for
 * loop-invariant).  A carried value with no initial value is skipped: it
 * is NULL on entry, and the shape pass rejects reading it before it is
 * assigned. */
static void bind_loop_syms(LCtx *C, IrNode *n) {
  for (int k = 0; k < n->body->params.n; k++) {
    IrNode *p = n->body->params.v[k];
    if (!p->has_symval || p->type.rank != 0 || !ir_dtype_is_int(p->type.dtype))
      continue;
    if (k == 0 || n->args[2 + k]->op != IR_UNDEF)
      lw_bind_sym(C, p->symval, lw_scalar(C, p), p->loc);
  }
}

static bool const_int(IrNode *n, int64_t *v) {
  if (n->op != IR_CONST || !ir_dtype_is_int(n->at.dtype))
    return false;
  *v = n->at.ival;
  return true;
}

/* Whether the loop runs at least once: constant bounds with a trip, or a
 * batches() loop over 0 to its count step 1 when a check before it makes
 * the count at least 1 (IR_NUM_BATCHES naming a value assigned only in the
 * loop and read after it). */
static bool runs_at_least_once(IrNode *n) {
  int64_t start, stop, step;
  if (!const_int(n->args[0], &start) || !const_int(n->args[2], &step))
    return false;
  if (n->args[1]->op == IR_NUM_BATCHES)
    return n->args[1]->at.str && start == 0 && step == 1;
  if (!const_int(n->args[1], &stop))
    return false;
  return step > 0 ? start < stop : step < 0 && start > stop;
}

/* for %i = start to stop step s iter(carried = inits) { body; yield } */
static void lower_for(LCtx *C, IrNode *n) {
  int ncarry = n->nargs - 3;
  KStmt *loop = k_stmt(KS_FOR, n->loc);
  loop->cond = lw_scalar(C, n->args[0]);
  loop->stop = lw_scalar(C, n->args[1]);
  loop->step = lw_scalar(C, n->args[2]);
  loop->var = lw_new_var(C);
  loop->nonempty = runs_at_least_once(n);
  if (n->args[2]->op != IR_CONST) /* a constant zero step is a compile error (the frontend) */
    lw_check(C, k_op2(IR_NE, DT_BOOL, k_cast(loop->step, DT_I64), k_int(0)), n->loc, "range() step must not be zero");
  /* 1. Carried buffers: each starts as an owned copy of its initial value. */
  int *carried = ir_alloc(sizeof(int) * (size_t)(ncarry ? ncarry : 1));
  for (int k = 0; k < ncarry; k++) {
    IrNode *init = n->args[3 + k], *arg = n->body->params.v[1 + k];
    IrType *t = &arg->type;
    carried[k] = lw_new_buf(C, arg, arg->name, t->dtype, t->rank, t->dims);
    if (init->op == IR_UNDEF)
      continue; /* NULL until the first iteration assigns it */
    int src = lw_buffer(C, init);
    KStmt *a = k_stmt(KS_ALLOC, n->loc);
    a->buf = carried[k];
    lw_emit(C, a);
    lw_copy_into(C, carried[k], src, n->loc);
  }
  /* 2. The body, in its own ownership scope. */
  KList *outer_out = C->out;
  PtrVec outer_owned = C->owned;
  C->out = &loop->body;
  C->owned = (PtrVec){0};
  lw_set_scalar(C, n->body->params.v[0], k_var(loop->var));
  for (int k = 0; k < ncarry; k++)
    lw_set(C, n->body->params.v[1 + k], carried[k], false);
  bind_loop_syms(C, n);
  int made = C->made.n;
  lower_block(C, n->body);
  if (C->failed) {
    C->out = outer_out;
    C->owned = outer_owned;
    return;
  }
  IrNode *y = n->body->nodes.v[n->body->nodes.n - 1];
  int *ys = hand_on(C, y->args, y->nargs);
  /* 3. End of iteration: free temps and the old carried values unless
   * yielded, then the yields become the carried values. */
  free_owned(C, y->loc, ys, ncarry);
  for (int k = 0; k < ncarry; k++) {
    KStmt *f = k_stmt(KS_FREE, y->loc);
    f->buf = carried[k];
    f->keep = ys;
    f->nkeep = ncarry;
    lw_emit(C, f);
  }
  for (int k = 0; k < ncarry; k++) {
    KStmt *m = k_stmt(KS_MOVE, y->loc);
    m->buf = carried[k];
    m->src = ys[k];
    lw_emit(C, m);
  }
  forget_made(C, made);
  C->out = outer_out;
  C->owned = outer_owned;
  lw_emit(C, loop);
  /* 4. The results are the carried buffers, owned out here. */
  for (int k = 0; k < ncarry; k++)
    ir_vec_push(&C->owned, (void *)(intptr_t)carried[k]);
  new_val(n)->tuple = carried;
}

static void lower_if(LCtx *C, IrNode *n) {
  KStmt *s = k_stmt(KS_IF, n->loc);
  s->cond = k_cast(lw_scalar(C, n->args[0]), DT_BOOL);
  IrNode *y1 = n->body->nodes.v[n->body->nodes.n - 1];
  int nres = y1->nargs;
  int *res = ir_alloc(sizeof(int) * (size_t)(nres ? nres : 1));
  for (int k = 0; k < nres; k++) {
    IrNode *v = y1->args[k];
    res[k] = lw_new_buf(C, v, v->name, v->type.dtype, v->type.rank, v->type.dims);
  }
  KList *outer_out = C->out;
  PtrVec outer_owned = C->owned;
  IrBlock *blocks[2] = {n->body, n->orelse};
  KList *lists[2] = {&s->body, &s->orelse};
  for (int side = 0; side < 2; side++) {
    C->out = lists[side];
    C->owned = (PtrVec){0};
    int made = C->made.n;
    lower_block(C, blocks[side]);
    if (C->failed) {
      C->out = outer_out;
      C->owned = outer_owned;
      return;
    }
    IrNode *y = blocks[side]->nodes.v[blocks[side]->nodes.n - 1];
    int *ys = hand_on(C, y->args, y->nargs);
    free_owned(C, y->loc, ys, y->nargs);
    for (int k = 0; k < nres; k++) {
      KStmt *m = k_stmt(KS_MOVE, y->loc);
      m->buf = res[k];
      m->src = ys[k];
      lw_emit(C, m);
    }
    forget_made(C, made);
  }
  C->out = outer_out;
  C->owned = outer_owned;
  lw_emit(C, s);
  for (int k = 0; k < nres; k++)
    ir_vec_push(&C->owned, (void *)(intptr_t)res[k]);
  new_val(n)->tuple = res;
}

static void lower_result(LCtx *C, IrNode *n) {
  IrNode *t = n->args[0];
  if (t->op == IR_FOR || t->op == IR_IF) {
    int b = lw_val(C, t)->tuple[n->at.ival];
    LVal *v = new_val(n);
    v->buf = v->root = b;
    v->owned = false; /* already counted as owned when the FOR/IF was lowered */
    return;
  }
  /* SPLIT: piece k along the axis */
  lw_op(C, n);
}

static void lower_param(LCtx *C, IrNode *n) {
  int idx = -1;
  for (int i = 0; i < C->gm->params.n; i++)
    if (strcmp(((IrParam *)C->gm->params.v[i])->name, n->at.str) == 0)
      idx = i;
  int b = k_buf_new(C->f, n->at.str, n->type.dtype, n->type.rank, n->type.dims, KB_PARAM);
  k_buf(C->f, b)->index = idx;
  lw_set(C, n, b, false);
}

static int param_index(LCtx *C, const char *name) {
  for (int i = 0; i < C->gm->params.n; i++)
    if (strcmp(((IrParam *)C->gm->params.v[i])->name, name) == 0)
      return i;
  ir_die((Loc){0}, "lower: unknown param %s", name);
}

/* A stage of row kernel n->group: lowered into the row loop's body, its
 * buffers allocated before the loop; the loop goes out with the last
 * stage (fusion made sure nothing in between reads a stage's result). */
static void lower_row_stage(LCtx *C, IrNode *n) {
  while (C->rows.n < n->group)
    ir_vec_push(&C->rows, NULL);
  LRow *g = C->rows.v[n->group - 1];
  if (!g) { /* the first stage is a reduction over the trailing axes */
    g = ir_alloc(sizeof *g);
    C->rows.v[n->group - 1] = g;
    IrNode *x = n->args[0];
    g->p = x->type.rank - n->at.naxes;
    if (ir_opclass(n->op) != IRC_REDUCE || g->p < 1)
      ir_die(n->loc, "lower: row kernel %d starts with %s", n->group, ir_op_name(n->op));
    for (int d = 0; d < g->p; d++) {
      KStmt *f = k_stmt(KS_FOR, n->loc);
      f->cond = k_int(0);
      f->stop = k_dim(x->type.dims[d]);
      f->step = k_int(1);
      f->var = lw_new_var(C);
      f->rows = true;
      f->parallel = d == 0; /* rows are independent */
      g->idx[d] = k_var(f->var);
      if (g->inner)
        k_push(&g->inner->body, f);
      else
        g->outer = f;
      g->inner = f;
    }
    for (int i = 0; i < C->block->nodes.n; i++) {
      IrNode *m = C->block->nodes.v[i];
      g->remaining += m->fuse == IR_FUSE_ROW && m->group == n->group;
    }
  }
  KList *out = C->out;
  C->allocs = out;
  C->out = &g->inner->body;
  C->nrow = g->p;
  C->rowidx = g->idx;
  if (!lw_op(C, n))
    C->failed = true;
  C->out = out;
  C->allocs = NULL;
  C->nrow = 0;
  C->rowidx = NULL;
  if (--g->remaining == 0) {
    lw_share_row_values(C, &g->inner->body);
    lw_row_reciprocals(&g->inner->body);
    lw_emit(C, g->outer);
  }
}

static void lower_node(LCtx *C, IrNode *n) {
  switch (n->fuse) {
  case IR_FUSE_INLINE:
    if (!lw_can_defer(C, n))
      break;
    new_val(n)->deferred = true;
    if (n->has_symval && n->type.rank == 0 && ir_dtype_is_int(n->type.dtype))
      lw_bind_sym(C, n->symval, lw_scalar(C, n), n->loc);
    return;
  case IR_FUSE_FINALIZE: /* built by its consumer */
  case IR_FUSE_EPILOGUE: new_val(n)->pending = true; return;
  case IR_FUSE_ROW: lower_row_stage(C, n); return;
  default: break;
  }
  switch (n->op) {
  case IR_FOR: lower_for(C, n); return;
  case IR_IF: lower_if(C, n); return;
  case IR_RESULT: lower_result(C, n); break; /* an if's or for's integer used as a size: bound below */
  case IR_YIELD: return; /* handled by the region's owner */
  case IR_RETURN: return; /* handled by the function */
  case IR_PARAM: lower_param(C, n); return;
  case IR_PARAM_STORE: return; /* at the end of the function */
  case IR_UNDEF: {
    int b = lw_new_buf(C, n, n->name, n->type.dtype, n->type.rank, n->type.dims);
    lw_set(C, n, b, false);
    return;
  }
  case IR_CONST:
    /* A Python float literal keeps its double value: an f64 consumer sees
     * 0.7, not f32(0.7) widened (the cast to an f32 consumer rounds once). */
    if (ir_dtype_is_float(n->at.dtype) && n->type.weak && ir_dtype_is_float(n->type.dtype))
      lw_set_scalar(C, n, k_const(DT_F64, n->at.fval));
    else
      lw_set_scalar(C, n, ir_dtype_is_float(n->at.dtype) ? k_const(n->type.dtype, n->at.fval)
                                                         : k_cast(k_int(n->at.ival), n->type.dtype));
    break; /* a size the simplify pass folded still sets its symbol (below) */
  case IR_GRAD:
    ir_error(n->loc, "grad() was not expanded by the autodiff pass");
    C->failed = true;
    lw_set_scalar(C, n, k_const(n->type.dtype, 0));
    return;
  case IR_PRINT: {
    KStmt *s = k_stmt(KS_CALL, n->loc);
    s->call = KC_PRINT;
    s->strs = n->at.strs;
    s->nstrs = n->at.nstrs;
    s->nbufs = n->nargs;
    s->bufs = ir_alloc(sizeof(int) * (size_t)(n->nargs ? n->nargs : 1));
    for (int i = 0; i < n->nargs; i++)
      s->bufs[i] = lw_buffer(C, n->args[i]);
    lw_emit(C, s);
    new_val(n);
    return;
  }
  case IR_SAVE: {
    KStmt *s = k_stmt(KS_CALL, n->loc);
    s->call = KC_SAVE;
    s->str = n->at.str;
    s->nbufs = 1;
    s->bufs = ir_alloc(sizeof(int));
    s->bufs[0] = lw_buffer(C, n->args[0]);
    lw_emit(C, s);
    new_val(n);
    return;
  }
  case IR_RANK:
  case IR_WORLD_SIZE:
  case IR_ALL_REDUCE_SUM:
  case IR_ALL_REDUCE_MEAN:
  case IR_ALL_REDUCE_MAX:
  case IR_BROADCAST:
    if (!lw_dist(C, n))
      C->failed = true;
    return;
  case IR_SEED: {
    KStmt *s = k_stmt(KS_CALL, n->loc);
    s->call = KC_SEED;
    s->nexprs = 1;
    s->exprs = ir_alloc(sizeof(KExpr *));
    s->exprs[0] = k_cast(lw_scalar(C, n->args[0]), DT_I64);
    lw_emit(C, s);
    new_val(n);
    return;
  }
  case IR_INDEX:
  case IR_INDEX_SET:
  case IR_INDEX_ADD:
  case IR_BATCH:
    if (!lw_index(C, n))
      C->failed = true;
    return;
  default:
    if (!lw_op(C, n))
      C->failed = true;
  }
  /* A scalar integer whose value names a fresh symbol (zeros(n)). */
  if (!C->failed && n->has_symval && n->type.rank == 0 && ir_dtype_is_int(n->type.dtype) && n->mark > 0)
    lw_bind_sym(C, n->symval, lw_scalar(C, n), n->loc);
}

static void lower_block(LCtx *C, IrBlock *b) {
  IrBlock *outer = C->block;
  C->block = b;
  for (int i = 0; i < b->nodes.n && !C->failed; i++)
    lower_node(C, b->nodes.v[i]);
  C->block = outer;
}

/* ===== functions ===== */

static void collect_syms(int *max, IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    for (int d = 0; d < n->type.rank; d++)
      for (int t = 0; t < n->type.dims[d].n; t++)
        for (int s = 0; s < n->type.dims[d].t[t].deg; s++)
          if (n->type.dims[d].t[t].sym[s] >= *max)
            *max = n->type.dims[d].t[t].sym[s] + 1;
    if (n->body)
      collect_syms(max, n->body);
    if (n->orelse)
      collect_syms(max, n->orelse);
  }
}

/* The run-time size of argument i's axis d. */
static KExpr *arg_dim(int i, int d) {
  KExpr *e = k_load(0, DT_I64, 0, NULL);
  e->kind = KX_ARG_DIM;
  e->buf = i;
  e->ival = d;
  return e;
}

static IrNode *arg_node(IrFunc *g, int i) { return g->args.v[i]; }

static int arg_dims_total(IrFunc *g) {
  int n = 0;
  for (int i = 0; i < g->args.n; i++)
    n += arg_node(g, i)->type.rank;
  return n;
}

/* Arguments: buffers borrowed from the caller; their dims bind symbols
 * or are checked (equalities the shape pass assumed are checked here),
 * by `check.input`: a shape that contradicts the signature is bad input
 * (SPEC §3: exit 2), not a failure of the program. */
static void lower_args(LCtx *C, IrFunc *g) {
  C->input_checks = true;
  for (int i = 0; i < g->args.n; i++) {
    IrNode *a = g->args.v[i];
    int b = k_buf_new(C->f, a->name, a->type.dtype, a->type.rank, a->type.dims, KB_ARG);
    k_buf(C->f, b)->index = i;
    lw_set(C, a, b, false);
  }
  C->f->nargs = g->args.n;
  /* A scalar argument used as a size (zeros(n), x[row:]) names a symbol. */
  for (int i = 0; i < g->args.n; i++) {
    IrNode *a = g->args.v[i];
    if (a->has_symval && a->type.rank == 0 && ir_dtype_is_int(a->type.dtype))
      lw_bind_sym(C, a->symval, k_load(i, a->type.dtype, 0, NULL), a->loc);
  }
  /* Every dim that is a symbol alone binds it first, so that a compound
   * dim (N + T) is solved or checked with whatever a later argument binds
   * (x: f32[N + T, 5], i: i32[N]). */
  bool *bound = ir_alloc(sizeof(bool) * (size_t)(arg_dims_total(g) + 1));
  for (int i = 0, k = 0; i < g->args.n; i++)
    for (int d = 0; d < arg_node(g, i)->type.rank; d++, k++) {
      int sym;
      Dim want = arg_node(g, i)->type.dims[d];
      if (dim_is_sym(want, &sym) && !C->symset[sym]) {
        lw_bind_sym(C, want, arg_dim(i, d), arg_node(g, i)->loc);
        bound[k] = true;
      }
    }
  /* Then the dims with one unknown symbol solve it (2*M: M = dim // 2),
   * until none is left that can: one may solve what another needs. */
  for (bool progress = true; progress;) {
    progress = false;
    for (int i = 0, k = 0; i < g->args.n; i++)
      for (int d = 0; d < arg_node(g, i)->type.rank; d++, k++) {
        Dim want = arg_node(g, i)->type.dims[d];
        int sym, coef;
        if (bound[k] || lw_dim_known(C, want) || (sym = solvable_sym(C, want, &coef, true)) < 0)
          continue;
        Dim rest = dim_sub(want, dim_mul(dim_const(coef), dim_sym(sym)));
        KStmt *s = k_stmt(KS_SETSYM, arg_node(g, i)->loc);
        s->buf = sym;
        KExpr *rest_e = dim_is_const(rest, NULL) && rest.n == 0 ? NULL : k_dim(rest);
        KExpr *got = arg_dim(i, d);
        s->cond = lw_i64op(IR_FLOORDIV, rest_e ? lw_i64op(IR_SUB, got, rest_e) : got, k_int(coef));
        lw_emit(C, s);
        C->symset[sym] = true;
        progress = true;
      }
  }
  /* Last, every dim not bound above is checked (an odd dim for 2*M fails
   * here); one still unknown has two symbols no argument gives alone. */
  for (int i = 0, k = 0; i < g->args.n; i++) {
    IrNode *a = g->args.v[i];
    for (int d = 0; d < a->type.rank; d++, k++) {
      if (bound[k])
        continue;
      Dim want = a->type.dims[d];
      char buf[128];
      const char *size = dim_format(want, buf, sizeof buf);
      if (!lw_dim_known(C, want)) {
        ir_error(a->loc,
                 "argument '%s': axis %d has size %s, which the arguments do not determine: more than one of its "
                 "symbols is unknown (expected each symbol to be some axis's whole size, or the only unknown in one)",
                 a->name, d, size);
        C->failed = true;
        continue;
      }
      const char *msg = ir_sprintf("argument '%s': axis %d must have size %s", a->name, d, size);
      KExpr *got = arg_dim(i, d);
      if (dim_is_const(want, NULL)) {
        lw_check(C, k_op2(IR_EQ, DT_BOOL, got, k_dim(want)), a->loc, msg);
        continue;
      }
      /* N + 1: the values, not only the symbols ("= 4, but has 5") */
      KExpr *values[2] = {k_dim(want), arg_dim(i, d)};
      lw_check_values(C, k_op2(IR_EQ, DT_BOOL, got, k_dim(want)), a->loc, ir_sprintf("%s = %%lld, but has %%lld", msg),
                      2, values);
    }
  }
  C->input_checks = false;
}

static KFunc *lower_func(LCtx *C, IrFunc *g) {
  KFunc *f = ir_alloc(sizeof *f);
  f->name = g->name;
  f->exported = g->exported;
  f->is_main = g->is_main;
  f->is_init = g->is_init;
  f->graph = g;
  C->f = f;
  C->out = &f->body;
  C->owned = (PtrVec){0};
  int nsyms = 1;
  for (int i = 0; i < g->args.n; i++) {
    IrNode *a = g->args.v[i];
    for (int d = 0; d < a->type.rank; d++)
      for (int t = 0; t < a->type.dims[d].n; t++)
        for (int s = 0; s < a->type.dims[d].t[t].deg; s++)
          if (a->type.dims[d].t[t].sym[s] >= nsyms)
            nsyms = a->type.dims[d].t[t].sym[s] + 1;
  }
  collect_syms(&nsyms, g->body);
  C->nsyms = nsyms + 64;
  C->symset = ir_alloc(sizeof(bool) * (size_t)C->nsyms);
  lower_args(C, g);
  lower_block(C, g->body);
  if (C->failed)
    return f;
  /* The end: param stores and results are handed on, the rest freed. */
  IrNode *ret = g->body->nodes.v[g->body->nodes.n - 1];
  PtrVec stores = {0};
  for (int i = 0; i < g->body->nodes.n; i++) {
    IrNode *n = g->body->nodes.v[i];
    if (n->op == IR_PARAM_STORE)
      ir_vec_push(&stores, n);
  }
  int nkeep = ret->nargs + stores.n;
  IrNode **handed = ir_alloc(sizeof(IrNode *) * (size_t)(nkeep ? nkeep : 1));
  for (int i = 0; i < ret->nargs; i++)
    handed[i] = ret->args[i];
  for (int i = 0; i < stores.n; i++)
    handed[ret->nargs + i] = ((IrNode *)stores.v[i])->args[0];
  int *keep = hand_on(C, handed, nkeep);
  for (int i = 0; i < stores.n; i++) {
    IrNode *st = stores.v[i];
    KStmt *s = k_stmt(KS_CALL, st->loc);
    s->call = KC_PARAM_STORE;
    s->index = param_index(C, st->at.str);
    s->nbufs = 1;
    s->bufs = ir_alloc(sizeof(int));
    s->bufs[0] = keep[ret->nargs + i];
    lw_emit(C, s);
  }
  free_owned(C, ret->loc, keep, nkeep);
  f->results = keep;
  f->nresults = ret->nargs;
  return f;
}

KModule *pass_lower(IrModule *m, const Target *target) {
  KModule *km = ir_alloc(sizeof *km);
  km->name = m->name;
  km->graph = m;
  km->target = target;
  km->dist = m->dist;
  bool ok = true;
  for (int i = 0; i < m->funcs.n; i++) {
    IrFunc *g = m->funcs.v[i];
    ir_clear_marks(g->body);
    for (int k = 0; k < g->args.n; k++)
      ((IrNode *)g->args.v[k])->mark = 0;
    vals = (PtrVec){0}; /* not .n = 0: the array may be a freed arena's (ir_arena_reset) */
    LCtx C = {.km = km, .gm = m};
    KFunc *f = lower_func(&C, g);
    ok &= !C.failed;
    ir_vec_push(&km->funcs, f);
    ir_clear_marks(g->body);
  }
  return ok ? km : NULL;
}
