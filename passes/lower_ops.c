/* passes/lower_ops.c - one kernel (or runtime call) per graph op.
 *
 * Elementwise ops are map kernels over the output's index space, reading
 * each operand through broadcasting (a size-1 axis reads index 0).
 * Reductions loop over the kept axes outside and the reduced axes inside;
 * mean, var, std and logsumexp are a reduction with a `finalize`
 * expression, var/std/logsumexp after a first kernel for the mean or max.
 * Shape ops whose data does not move (reshape, squeeze, check_type, ...)
 * share their operand's buffer; the others are map kernels whose loads use
 * permuted, flipped or offset indices.  matmul and random numbers are
 * runtime calls.
 */
#include "lower_internal.h"

#include <string.h>

/* ===== helpers ===== */

static int norm_axis(int a, int rank) { return a < 0 ? a + rank : a; }

static void lower_with_reduction(LCtx *C, IrNode *n, IrNode *r, int out);
static void lower_epilogue(LCtx *C, IrNode *e, IrNode *m);
static void reshape_sizes(LCtx *C, IrNode *n, IrNode *x);

KExpr *lw_elem(LCtx *C, IrNode *v, int rank, KExpr **idx, DType as) {
  LVal *lv = lw_val(C, v);
  if (lv->scalar)
    return k_cast(lv->scalar, as);
  int vr = v->type.rank, off = rank - vr;
  KExpr *ix[IR_MAX_RANK];
  for (int j = 0; j < vr; j++) {
    int64_t c;
    ix[j] = dim_is_const(v->type.dims[j], &c) && c == 1 ? k_int(0) : idx[j + off];
  }
  return k_cast(lw_at(C, v, ix), as);
}

KExpr *lw_at(LCtx *C, IrNode *v, KExpr **idx) {
  LVal *lv = lw_val(C, v);
  if (lv->scalar)
    return k_cast(lv->scalar, v->type.dtype);
  if (lv->deferred)
    return k_cast(lw_deferred(C, v, idx), v->type.dtype);
  return k_load(lw_buffer(C, v), v->type.dtype, v->type.rank, idx);
}

int lw_reduce_elements(LCtx *C, IrNode *n, IrNode *t, const char *name, DType rdt, IrOp combine,
                       KExpr *(*value)(KExpr *elem, const void *arg), const void *arg) {
  int rank = t->type.rank;
  int out = lw_new_buf(C, n, name, rdt, 0, NULL);
  lw_emit_alloc(C, out, n->loc);
  ir_vec_push(&C->owned, (void *)(intptr_t)out);
  KStmt *k = k_stmt(KS_KERNEL, n->loc);
  k->buf = out;
  k->combine = combine;
  KExpr *idx[IR_MAX_RANK];
  for (int j = 0; j < rank; j++) {
    k->loopvar[j] = lw_new_var(C);
    k->extent[j] = t->type.dims[j];
    idx[j] = k_var(k->loopvar[j]);
  }
  k->nloops = k->nred = rank;
  if (rank == 0) { /* a reduction over one element */
    k->loopvar[0] = lw_new_var(C);
    k->extent[0] = dim_const(1);
    k->nloops = k->nred = 1;
  }
  k->store_idx = ir_alloc(sizeof(KExpr *));
  k->value = value(lw_at(C, t, idx), arg);
  lw_emit(C, k);
  return out;
}

/* A map kernel; in a row stage the first nrow axes are the row loops'. */
KStmt *lw_map_kernel(LCtx *C, int out, Loc loc, KExpr ***vars) {
  KBuf *b = k_buf(C->f, out);
  KStmt *k = k_stmt(KS_KERNEL, loc);
  int p = C->nrow && b->rank >= C->nrow ? C->nrow : 0;
  k->buf = out;
  k->nstore = b->rank;
  k->store_idx = ir_alloc(sizeof(KExpr *) * (size_t)(b->rank ? b->rank : 1));
  for (int i = 0; i < b->rank; i++) {
    if (i < p) {
      k->store_idx[i] = C->rowidx[i];
      continue;
    }
    k->extent[k->nloops] = b->dims[i];
    k->loopvar[k->nloops] = lw_new_var(C);
    k->store_idx[i] = k_var(k->loopvar[k->nloops++]);
  }
  *vars = k->store_idx;
  return k;
}

static Dim numel(const Dim *dims, int rank) {
  Dim n = dim_const(1);
  for (int i = 0; i < rank; i++)
    n = dim_mul(n, dims[i]);
  return n;
}

void lw_copy_into(LCtx *C, int dst, int src, Loc loc) {
  KBuf *d = k_buf(C->f, dst), *s = k_buf(C->f, src);
  KStmt *k = k_stmt(KS_KERNEL, loc);
  k->buf = dst;
  k->nloops = 1;
  k->extent[0] = numel(d->dims, d->rank);
  k->loopvar[0] = lw_new_var(C);
  KExpr *v = k_var(k->loopvar[0]);
  KExpr *ld = k_load(src, s->dtype, 1, &v);
  ld->linear = true;
  k->value = k_cast(ld, d->dtype);
  k->nstore = 1;
  k->store_idx = ir_alloc(sizeof(KExpr *));
  k->store_idx[0] = v;
  k->store_linear = true;
  lw_emit(C, k);
}

/* A buffer that shares v's data under n's shape (no copy). */
static void alias(LCtx *C, IrNode *n, IrNode *v) {
  LVal *lv = lw_val(C, v);
  if (lv->scalar && n->type.rank == 0) {
    lw_set_scalar(C, n, k_cast(lv->scalar, n->type.dtype));
    return;
  }
  int src = lw_buffer(C, v);
  int root = lw_val(C, v)->root;
  int b = lw_new_buf(C, n, NULL, n->type.dtype, n->type.rank, n->type.dims);
  KStmt *m = k_stmt(KS_MOVE, n->loc);
  m->buf = b;
  m->src = src;
  lw_emit(C, m);
  lw_set(C, n, b, false);
  lw_val(C, n)->root = root;
}

static bool all_scalar(LCtx *C, IrNode *n) {
  if (n->type.rank != 0)
    return false;
  for (int i = 0; i < n->nargs; i++)
    if (!lw_val(C, n->args[i])->scalar)
      return false;
  return true;
}

/* ===== elementwise ===== */

static KExpr *elementwise_value(LCtx *C, IrNode *n, int rank, KExpr **idx) {
  DType dt = n->type.dtype;
  KExpr *a[3];
  switch (ir_opclass(n->op)) {
  case IRC_UNARY:
    switch (n->op) {
    case IR_CAST: return k_cast(lw_elem(C, n->args[0], rank, idx, n->args[0]->type.dtype), dt);
    case IR_NOT: a[0] = lw_elem(C, n->args[0], rank, idx, DT_BOOL); return k_op(IR_NOT, DT_BOOL, 1, a);
    case IR_ISNAN:
    case IR_ISFINITE: {
      DType in = n->args[0]->type.dtype;
      if (!ir_dtype_is_float(in))
        return k_const(DT_BOOL, n->op == IR_ISFINITE);
      a[0] = lw_elem(C, n->args[0], rank, idx, in);
      return k_op(n->op, DT_BOOL, 1, a);
    }
    case IR_FLOOR:
    case IR_CEIL:
    case IR_ROUND:
      if (!ir_dtype_is_float(dt))
        return lw_elem(C, n->args[0], rank, idx, dt);
      /* fallthrough */
    default: a[0] = lw_elem(C, n->args[0], rank, idx, dt); return k_op(n->op, dt, 1, a);
    }
  case IRC_BINARY:
    if (n->op == IR_AND || n->op == IR_OR) {
      a[0] = lw_elem(C, n->args[0], rank, idx, DT_BOOL);
      a[1] = lw_elem(C, n->args[1], rank, idx, DT_BOOL);
      return k_op(n->op, DT_BOOL, 2, a);
    }
    if (n->op >= IR_LT && n->op <= IR_NE) {
      DType c = ir_dtype_compared(n->args[0]->type.dtype, n->args[1]->type.dtype);
      a[0] = lw_elem(C, n->args[0], rank, idx, c);
      a[1] = lw_elem(C, n->args[1], rank, idx, c);
      return k_op(n->op, DT_BOOL, 2, a);
    }
    if (ir_checks_int_operand(n))
      lw_check_int_arith(C, n);
    a[0] = lw_elem(C, n->args[0], rank, idx, dt);
    a[1] = lw_elem(C, n->args[1], rank, idx, dt);
    return k_op(n->op, dt, 2, a);
  case IRC_TERNARY:
    if (n->op == IR_WHERE) {
      a[0] = lw_elem(C, n->args[0], rank, idx, DT_BOOL);
      a[1] = lw_elem(C, n->args[1], rank, idx, dt);
      a[2] = lw_elem(C, n->args[2], rank, idx, dt);
      return k_op(IR_WHERE, dt, 3, a);
    }
    /* clip(x, lo, hi) = minimum(maximum(x, lo), hi) */
    return k_op2(IR_MINIMUM, dt,
                 k_op2(IR_MAXIMUM, dt, lw_elem(C, n->args[0], rank, idx, dt), lw_elem(C, n->args[1], rank, idx, dt)),
                 lw_elem(C, n->args[2], rank, idx, dt));
  default: ir_die(n->loc, "not elementwise");
  }
}

/* A matmul fusion left to its epilogue n: found through n's inlined operands. */
static IrNode *pending_matmul(LCtx *C, IrNode *n) {
  for (int i = 0; i < n->nargs; i++) {
    IrNode *a = n->args[i];
    LVal *lv = lw_val(C, a);
    if (lv->pending && a->op == IR_MATMUL)
      return a;
    IrNode *m = lv->deferred ? pending_matmul(C, a) : NULL;
    if (m)
      return m;
  }
  return NULL;
}

static void lower_elementwise(LCtx *C, IrNode *n) {
  if (all_scalar(C, n)) { /* arithmetic on constants and dims stays inline */
    lw_set_scalar(C, n, elementwise_value(C, n, 0, NULL));
    return;
  }
  IrNode *mm = pending_matmul(C, n);
  if (mm) {
    lower_epilogue(C, n, mm);
    return;
  }
  int out = lw_alloc(C, n);
  for (int i = 0; i < n->nargs; i++)
    if (lw_val(C, n->args[i])->pending) {
      lower_with_reduction(C, n, n->args[i], out);
      return;
    }
  KExpr **vars;
  KStmt *k = lw_map_kernel(C, out, n->loc, &vars);
  k->value = elementwise_value(C, n, n->type.rank, vars);
  lw_emit(C, k);
}

/* ===== reductions ===== */

/* Loops: kept axes outside (in order), reduced axes inside.  Fills `xidx`
 * (an index into x per axis) and `sidx` (the store index). */
static KStmt *reduce_kernel(LCtx *C, IrNode *n, IrNode *x, int out, KExpr **xidx, bool keepdims) {
  /* (in a row stage the kept axes are the row loops') */
  int r = x->type.rank;
  bool red[IR_MAX_RANK] = {0};
  if (!n->at.has_axes)
    for (int i = 0; i < r; i++)
      red[i] = true;
  for (int i = 0; i < n->at.naxes; i++)
    red[norm_axis(n->at.axes[i], r)] = true;
  KStmt *k = k_stmt(KS_KERNEL, n->loc);
  k->buf = out;
  KBuf *ob = k_buf(C->f, out);
  k->store_idx = ir_alloc(sizeof(KExpr *) * (size_t)(ob->rank + 1));
  int loops = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < r; i++) {
      if (red[i] != (pass == 1))
        continue;
      if (pass == 0 && i < C->nrow) {
        xidx[i] = C->rowidx[i];
        continue;
      }
      k->loopvar[loops] = lw_new_var(C);
      KExpr *v = k_var(k->loopvar[loops]);
      k->extent[loops++] = x->type.dims[i];
      xidx[i] = v;
      if (pass == 1)
        k->nred++;
    }
  if (k->nred == 0) { /* axis=() or a scalar: a reduction over one element */
    k->loopvar[loops] = lw_new_var(C);
    k->extent[loops++] = dim_const(1);
    k->nred = 1;
  }
  k->nloops = loops;
  for (int i = 0; i < r; i++) {
    if (!red[i])
      k->store_idx[k->nstore++] = xidx[i];
    else if (keepdims)
      k->store_idx[k->nstore++] = k_int(0);
  }
  if (k->nstore != ob->rank)
    ir_die(n->loc, "reduce: store rank %d vs buffer rank %d", k->nstore, ob->rank);
  return k;
}

static Dim reduced_count(IrNode *n, IrNode *x) {
  int r = x->type.rank;
  Dim c = dim_const(1);
  for (int i = 0; i < r; i++) {
    bool red = !n->at.has_axes;
    for (int j = 0; j < n->at.naxes; j++)
      red |= norm_axis(n->at.axes[j], r) == i;
    if (red)
      c = dim_mul(c, x->type.dims[i]);
  }
  return c;
}

static KExpr *acc(DType dt) {
  KExpr *e = k_var(0);
  e->kind = KX_ACC;
  e->dtype = dt;
  return e;
}

/* A temporary holding x's mean (or max) with the reduced axes kept. */
static int keepdims_stat(LCtx *C, IrNode *n, IrNode *x, IrOp combine, DType dt) {
  Dim dims[IR_MAX_RANK];
  int r = x->type.rank;
  for (int i = 0; i < r; i++) {
    bool red = !n->at.has_axes;
    for (int j = 0; j < n->at.naxes; j++)
      red |= norm_axis(n->at.axes[j], r) == i;
    dims[i] = red ? dim_const(1) : x->type.dims[i];
  }
  int t = lw_new_buf(C, n, "stat", dt, r, dims);
  lw_emit_alloc(C, t, n->loc);
  ir_vec_push(&C->owned, (void *)(intptr_t)t);
  KExpr *xidx[IR_MAX_RANK];
  KStmt *k = reduce_kernel(C, n, x, t, xidx, true);
  k->combine = combine;
  k->value = lw_elem(C, x, r, xidx, dt);
  if (combine == IR_SUM)
    k->finalize = k_op2(IR_DIV, dt, acc(dt), k_cast(k_dim(reduced_count(n, x)), dt));
  lw_emit(C, k);
  return t;
}

/* The reduction's kernel into `out` (not emitted; a var/std/logsumexp's
 * first kernel is). */
static KStmt *reduce_stmt(LCtx *C, IrNode *n, int out) {
  IrNode *x = n->args[0];
  DType dt = n->type.dtype;
  int r = x->type.rank;
  KExpr *xidx[IR_MAX_RANK];
  bool keep = n->at.keepdims;
  if ((n->op == IR_ARGMAX || n->op == IR_ARGMIN) && !n->at.has_axes)
    keep = false;
  KStmt *k = reduce_kernel(C, n, x, out, xidx, keep);
  KExpr *count = k_cast(k_dim(reduced_count(n, x)), ir_dtype_is_float(dt) ? dt : DT_F64);
  switch (n->op) {
  case IR_SUM:
  case IR_PROD:
    k->combine = n->op;
    k->value = lw_elem(C, x, r, xidx, dt);
    break;
  case IR_MAX:
  case IR_MIN:
  case IR_ANY:
  case IR_ALL:
    k->combine = n->op;
    k->value = lw_elem(C, x, r, xidx, dt);
    break;
  case IR_ARGMAX:
  case IR_ARGMIN:
    k->combine = n->op;
    k->value = lw_elem(C, x, r, xidx, x->type.dtype);
    break;
  case IR_MEAN:
    k->combine = IR_SUM;
    k->value = lw_elem(C, x, r, xidx, dt);
    k->finalize = k_op2(IR_DIV, dt, acc(dt), count);
    break;
  case IR_VAR:
  case IR_STD: {
    int m = keepdims_stat(C, n, x, IR_SUM, dt);
    KExpr *d = k_op2(IR_SUB, dt, lw_elem(C, x, r, xidx, dt), k_load(m, dt, 0, NULL));
    KExpr *midx[IR_MAX_RANK];
    for (int i = 0; i < r; i++)
      midx[i] = xidx[i];
    /* the mean's index: 0 on reduced axes */
    for (int i = 0; i < r; i++) {
      int64_t c;
      if (dim_is_const(k_buf(C->f, m)->dims[i], &c) && c == 1)
        midx[i] = k_int(0);
    }
    d->args[1] = k_load(m, dt, r, midx);
    k->combine = IR_SUM;
    k->value = k_op2(IR_MUL, dt, d, d);
    KExpr *den = k_op2(IR_SUB, dt, count, k_const(dt, (double)n->at.ival));
    k->finalize = k_op2(IR_DIV, dt, acc(dt), den);
    if (n->op == IR_STD) {
      KExpr *a1[1] = {k->finalize};
      k->finalize = k_op(IR_SQRT, dt, 1, a1);
    }
    break;
  }
  case IR_LOGSUMEXP: {
    int mx = keepdims_stat(C, n, x, IR_MAX, dt);
    KExpr *midx[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
      int64_t c;
      midx[i] = dim_is_const(k_buf(C->f, mx)->dims[i], &c) && c == 1 ? k_int(0) : xidx[i];
    }
    /* shift by the max, or by 0 where the max is not finite */
    KExpr *m = k_load(mx, dt, r, midx);
    KExpr *fin[1] = {m};
    KExpr *w[3] = {k_op(IR_ISFINITE, DT_BOOL, 1, fin), m, k_const(dt, 0)};
    KExpr *shift = k_op(IR_WHERE, dt, 3, w);
    KExpr *e[1] = {k_op2(IR_SUB, dt, lw_elem(C, x, r, xidx, dt), shift)};
    k->combine = IR_SUM;
    k->value = k_op(IR_EXP, dt, 1, e);
    /* the finalize runs at the output point: index the max there */
    KExpr *oidx[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
      int64_t c;
      oidx[i] = dim_is_const(k_buf(C->f, mx)->dims[i], &c) && c == 1 ? k_int(0) : xidx[i];
    }
    KExpr *m2 = k_load(mx, dt, r, oidx);
    KExpr *fin2[1] = {m2};
    KExpr *w2[3] = {k_op(IR_ISFINITE, DT_BOOL, 1, fin2), m2, k_const(dt, 0)};
    KExpr *lg[1] = {acc(dt)};
    k->finalize = k_op2(IR_ADD, dt, k_op(IR_LOG, dt, 1, lg), k_op(IR_WHERE, dt, 3, w2));
    break;
  }
  default: ir_die(n->loc, "lower: reduction %s", ir_op_name(n->op));
  }
  return k;
}

static void lower_reduce(LCtx *C, IrNode *n) { lw_emit(C, reduce_stmt(C, n, lw_alloc(C, n))); }

/* out = n(..., r, ...) where fusion left reduction r to n: r's kernel,
 * with n computed from r's result in its finalize (at the output point,
 * where r's store index is n's index too: same shape). */
static void lower_with_reduction(LCtx *C, IrNode *n, IrNode *r, int out) {
  KStmt *k = reduce_stmt(C, r, out);
  LVal *rv = lw_val(C, r);
  rv->pending = false;
  rv->scalar = k_cast(k->finalize ? k->finalize : acc(r->type.dtype), r->type.dtype);
  k->finalize = elementwise_value(C, n, n->type.rank, k->store_idx);
  rv->scalar = NULL;
  lw_emit(C, k);
}

/* ===== creation ===== */

static void rand_call(LCtx *C, IrNode *n, int out) {
  KStmt *s = k_stmt(KS_CALL, n->loc);
  s->call = KC_RAND;
  s->op = n->op;
  s->nbufs = 1;
  s->bufs = ir_alloc(sizeof(int));
  s->bufs[0] = out;
  if (n->op == IR_RANDINT) {
    s->nexprs = 2;
    s->exprs = ir_alloc(2 * sizeof(KExpr *));
    s->exprs[0] = k_cast(lw_scalar(C, n->args[0]), DT_I64);
    s->exprs[1] = k_cast(lw_scalar(C, n->args[1]), DT_I64);
  }
  lw_emit(C, s);
}

/* The value of a fill, arange, linspace or eye at index v. */
static KExpr *creation_value(LCtx *C, IrNode *n, KExpr **v) {
  DType dt = n->type.dtype;
  switch (n->op) {
  case IR_FULL:
  case IR_FULL_LIKE: return k_cast(k_const(DT_F64, n->at.fval), dt);
  case IR_ARANGE: {
    KExpr *start = lw_scalar(C, n->args[0]), *step = lw_scalar(C, n->args[2]);
    DType cd = ir_dtype_is_float(dt) ? DT_F64 : DT_I64;
    return k_cast(k_op2(IR_ADD, cd, k_cast(start, cd), k_op2(IR_MUL, cd, k_cast(v[0], cd), k_cast(step, cd))), dt);
  }
  case IR_LINSPACE: {
    KExpr *a = k_cast(lw_scalar(C, n->args[0]), DT_F64), *b = k_cast(lw_scalar(C, n->args[1]), DT_F64);
    KExpr *num = k_cast(lw_scalar(C, n->args[2]), DT_I64);
    KExpr *div = k_cast(lw_i64op(IR_MAXIMUM, lw_i64op(IR_SUB, num, k_int(1)), k_int(1)), DT_F64);
    KExpr *step = k_op2(IR_DIV, DT_F64, k_op2(IR_SUB, DT_F64, b, a), div);
    KExpr *y = k_op2(IR_ADD, DT_F64, a, k_op2(IR_MUL, DT_F64, k_cast(v[0], DT_F64), step));
    KExpr *w[3] = {k_op2(IR_EQ, DT_BOOL, v[0], lw_i64op(IR_SUB, num, k_int(1))), b, y};
    KExpr *last = k_op(IR_WHERE, DT_F64, 3, w);
    KExpr *w2[3] = {k_op2(IR_GT, DT_BOOL, num, k_int(1)), last, a};
    return k_cast(k_op(IR_WHERE, DT_F64, 3, w2), dt);
  }
  case IR_EYE: return k_cast(k_op2(IR_EQ, DT_BOOL, v[0], v[1]), dt);
  default: ir_die(n->loc, "lower: creation value of %s", ir_op_name(n->op));
  }
}

/* arange's length, when the shape pass could not compute it:
 * ceil((stop - start) / step). */
static void arange_length(LCtx *C, IrNode *n) {
  /* a constant zero step is a compile error (the shape pass), a run-time one this check */
  if (n->args[2]->op != IR_CONST)
    lw_check(C, k_op2(IR_NE, DT_BOOL, k_cast(lw_scalar(C, n->args[2]), DT_F64), k_const(DT_F64, 0)), n->loc,
             "arange: the step must not be zero");
  KExpr *span = k_op2(IR_SUB, DT_F64, k_cast(lw_scalar(C, n->args[1]), DT_F64), k_cast(lw_scalar(C, n->args[0]), DT_F64));
  KExpr *q[1] = {k_op2(IR_DIV, DT_F64, span, k_cast(lw_scalar(C, n->args[2]), DT_F64))};
  KExpr *len = k_op2(IR_MAXIMUM, DT_F64, k_op(IR_CEIL, DT_F64, 1, q), k_const(DT_F64, 0));
  lw_bind_sym(C, n->type.dims[0], k_cast(len, DT_I64), n->loc);
}

static void lower_creation(LCtx *C, IrNode *n) {
  DType dt = n->type.dtype;
  if (n->op == IR_ARANGE)
    arange_length(C, n);
  lw_check_sizes(C, n);
  int out = lw_alloc(C, n);
  KExpr **v;
  switch (n->op) {
  case IR_FULL:
  case IR_FULL_LIKE:
  case IR_ARANGE:
  case IR_LINSPACE:
  case IR_EYE: {
    KStmt *k = lw_map_kernel(C, out, n->loc, &v);
    k->value = creation_value(C, n, v);
    lw_emit(C, k);
    return;
  }
  case IR_RAND:
  case IR_RANDN:
  case IR_RANDINT:
  case IR_RANDPERM: rand_call(C, n, out); return;
  case IR_TENSOR:
    for (int64_t i = 0; i < n->at.ndata; i++) {
      KStmt *k = k_stmt(KS_KERNEL, n->loc);
      k->buf = out;
      k->value = k_cast(k_const(DT_F64, n->at.data[i]), dt);
      k->nstore = 1;
      k->store_idx = ir_alloc(sizeof(KExpr *));
      k->store_idx[0] = k_int(i);
      k->store_linear = true;
      lw_emit(C, k);
    }
    return;
  default: ir_die(n->loc, "lower: creation %s", ir_op_name(n->op));
  }
}

/* ===== values fusion inlined ===== */

/* Whether n (marked IR_FUSE_INLINE) is left to its consumers; emits what
 * must still happen at n's place (symbols, size checks).  Elementwise ops
 * on inline scalars stay inline scalars as before. */
bool lw_can_defer(LCtx *C, IrNode *n) {
  switch (ir_opclass(n->op)) {
  case IRC_UNARY:
  case IRC_BINARY:
  case IRC_TERNARY: return !all_scalar(C, n);
  case IRC_CREATION:
    if (n->op == IR_ARANGE)
      arange_length(C, n);
    lw_check_sizes(C, n);
    return true;
  case IRC_MOVEMENT:
    lw_check_sizes(C, n);
    if (n->op == IR_RESHAPE)
      reshape_sizes(C, n, n->args[0]);
    return !lw_val(C, n->args[0])->scalar || n->type.rank > 0;
  default: return true;
  }
}

static bool unit(Dim d) {
  int64_t c;
  return dim_is_const(d, &c) && c == 1;
}

KExpr *lw_deferred(LCtx *C, IrNode *n, KExpr **idx) {
  IrNode *x = n->nargs ? n->args[0] : NULL;
  KExpr *xi[IR_MAX_RANK];
  switch (ir_opclass(n->op)) {
  case IRC_UNARY:
  case IRC_BINARY:
  case IRC_TERNARY: return elementwise_value(C, n, n->type.rank, idx);
  case IRC_CREATION: return creation_value(C, n, idx);
  case IRC_INDEX: return n->op == IR_INDEX ? lw_gather_at(C, n, idx) : lw_row_set_at(C, n, idx);
  case IRC_MOVEMENT: {
    int r = x->type.rank;
    switch (n->op) {
    case IR_BROADCAST_TO: return lw_elem(C, x, n->type.rank, idx, n->type.dtype);
    case IR_TRANSPOSE:
      for (int j = 0; j < r; j++)
        xi[n->at.naxes ? norm_axis(n->at.axes[j], r) : r - 1 - j] = idx[j];
      return lw_at(C, x, xi);
    case IR_FLIP:
      for (int j = 0; j < r; j++) {
        bool flip = !n->at.has_axes;
        for (int a = 0; a < n->at.naxes; a++)
          flip |= norm_axis(n->at.axes[a], r) == j;
        xi[j] = flip ? lw_i64op(IR_SUB, lw_i64op(IR_SUB, k_dim(x->type.dims[j]), k_int(1)), idx[j]) : idx[j];
      }
      return lw_at(C, x, xi);
    case IR_UNSQUEEZE:
    case IR_SQUEEZE:
    case IR_RESHAPE:
    case IR_FLATTEN: { /* only size-1 axes come or go (fusion checked): the others map in order */
      int j = 0;
      for (int i = 0; i < r; i++) {
        if (unit(x->type.dims[i])) {
          xi[i] = k_int(0);
          continue;
        }
        while (j < n->type.rank && unit(n->type.dims[j]))
          j++;
        if (j >= n->type.rank)
          ir_die(n->loc, "lower: %s is not a size-1 view", ir_op_name(n->op));
        xi[i] = idx[j++];
      }
      return lw_at(C, x, xi);
    }
    default: break;
    }
    break;
  }
  default: break;
  }
  ir_die(n->loc, "lower: %s cannot be inlined", ir_op_name(n->op));
}

/* ===== movement ===== */

/* reshape with sizes known only while running: the -1 size (a fresh
 * symbol of the shape pass) is computed, and the element counts checked,
 * as NumPy does ("cannot reshape array of size 6 into shape (4,newaxis)"). */
static void reshape_sizes(LCtx *C, IrNode *n, IrNode *x) {
  Dim total = dim_const(1), known = dim_const(1);
  for (int i = 0; i < x->type.rank; i++)
    total = dim_mul(total, x->type.dims[i]);
  int fresh = -1, sym;
  for (int i = 0; i < n->type.rank; i++) {
    Dim d = n->type.dims[i];
    if (fresh < 0 && dim_is_sym(d, &sym) && sym < C->nsyms && !C->symset[sym])
      fresh = i;
    else
      known = dim_mul(known, d);
  }
  if (fresh < 0 && dim_eq(total, known))
    return;
  char have[128];
  dim_format(total, have, sizeof have);
  if (fresh >= 0) {
    lw_check(C, k_op2(IR_NE, DT_BOOL, k_dim(known), k_int(0)), n->loc,
             ir_sprintf("reshape: cannot infer the -1 size of a tensor of %s elements when the other sizes multiply "
                        "to 0", have));
    lw_bind_sym(C, n->type.dims[fresh], lw_i64op(IR_FLOORDIV, k_dim(total), k_dim(known)), n->loc);
    known = dim_mul(known, n->type.dims[fresh]);
  }
  const char *what = n->at.str ? ir_sprintf("%s needs a tensor of one element, but this one has %s", n->at.str, have)
                                : ir_sprintf("reshape: cannot reshape a tensor of %s elements into the sizes given", have);
  lw_check(C, k_op2(IR_EQ, DT_BOOL, k_dim(total), k_dim(known)), n->loc, what);
}

static void lower_movement(LCtx *C, IrNode *n) {
  IrNode *x = n->args[0];
  lw_check_sizes(C, n);
  switch (n->op) {
  case IR_RESHAPE: reshape_sizes(C, n, x); alias(C, n, x); return;
  case IR_FLATTEN:
  case IR_SQUEEZE:
  case IR_UNSQUEEZE: alias(C, n, x); return;
  default: break;
  }
  int out = lw_alloc(C, n);
  KExpr **v;
  if (n->op == IR_CAT || n->op == IR_STACK) {
    int axis = norm_axis(n->at.axes[0], n->type.rank);
    Dim offset = dim_const(0);
    for (int i = 0; i < n->nargs; i++) {
      IrNode *a = n->args[i];
      KStmt *k = k_stmt(KS_KERNEL, n->loc);
      k->buf = out;
      k->nloops = a->type.rank;
      KExpr *vars[IR_MAX_RANK];
      for (int d = 0; d < a->type.rank; d++) {
        k->extent[d] = a->type.dims[d];
        k->loopvar[d] = lw_new_var(C);
        vars[d] = k_var(k->loopvar[d]);
      }
      k->value = lw_elem(C, a, a->type.rank, vars, n->type.dtype);
      k->nstore = n->type.rank;
      k->store_idx = ir_alloc(sizeof(KExpr *) * (size_t)n->type.rank);
      for (int d = 0, s = 0; d < n->type.rank; d++) {
        if (n->op == IR_STACK && d == axis)
          k->store_idx[d] = k_int(i);
        else if (n->op == IR_CAT && d == axis)
          k->store_idx[d] = lw_i64op(IR_ADD, vars[s++], k_dim(offset));
        else
          k->store_idx[d] = vars[s++];
      }
      if (n->op == IR_CAT)
        offset = dim_add(offset, a->type.dims[axis]);
      lw_emit(C, k);
    }
    return;
  }
  KStmt *k = lw_map_kernel(C, out, n->loc, &v);
  KExpr *xi[IR_MAX_RANK];
  switch (n->op) {
  case IR_TRANSPOSE:
  case IR_BROADCAST_TO:
  case IR_FLIP: k->value = k_cast(lw_deferred(C, n, v), n->type.dtype); break;
  case IR_RESULT: { /* a piece of split */
    IrNode *sp = x;
    IrNode *src = sp->args[0];
    int axis = norm_axis(sp->at.axes[0], src->type.rank);
    for (int j = 0; j < src->type.rank; j++)
      xi[j] = j == axis ? lw_i64op(IR_ADD, v[j], lw_i64op(IR_MUL, k_int(n->at.ival), k_dim(n->type.dims[axis])))
                        : v[j];
    k->value = k_load(lw_buffer(C, src), src->type.dtype, src->type.rank, xi);
    break;
  }
  default: ir_die(n->loc, "lower: movement %s", ir_op_name(n->op));
  }
  lw_emit(C, k);
}

/* ===== linear algebra ===== */

/* v as a contiguous buffer of dtype dt with `dims` (broadcast copy when
 * its shape differs). */
static int materialize(LCtx *C, IrNode *v, DType dt, int rank, const Dim *dims) {
  bool same = v->type.dtype == dt && v->type.rank == rank;
  for (int i = 0; same && i < rank; i++)
    same = dim_eq(v->type.dims[i], dims[i]);
  if (same)
    return lw_buffer(C, v);
  int b = lw_new_buf(C, v, NULL, dt, rank, dims);
  KStmt *a = k_stmt(KS_ALLOC, v->loc);
  a->buf = b;
  lw_emit(C, a);
  ir_vec_push(&C->owned, (void *)(intptr_t)b);
  KExpr **vars;
  KStmt *k = lw_map_kernel(C, b, v->loc, &vars);
  k->value = lw_elem(C, v, rank, vars, dt);
  lw_emit(C, k);
  return b;
}

/* What a matmul reads for its operand o: o's own buffer, or, when o is a
 * transpose of the last two axes of X that fusion inlined (a.T @ b, x @
 * W.T, the backward's g @ b.T and a.T @ g), X's buffer with a transpose
 * flag (*trans), so that no kernel writes the transpose out.  A transpose
 * with a buffer of its own (read by other ops too, or --no-fuse) is
 * already written: reading it costs nothing more. */
static IrNode *stored_operand(LCtx *C, IrNode *o, bool *trans) {
  *trans = ir_swaps_last_two(o) && lw_val(C, o)->deferred;
  return *trans ? o->args[0] : o;
}

static void lower_matmul(LCtx *C, IrNode *n) {
  IrNode *a = n->args[0], *b = n->args[1];
  DType dt = n->type.dtype;
  int ra = a->type.rank, rb = b->type.rank, ro = n->type.rank;
  Dim m = ra >= 2 ? a->type.dims[ra - 2] : dim_const(1), k = a->type.dims[ra - 1];
  Dim nn = rb >= 2 ? b->type.dims[rb - 1] : dim_const(1);
  int nbatch = ro - (ra >= 2) - (rb >= 2);
  if (nbatch < 0)
    nbatch = 0;
  Dim bdims[IR_MAX_RANK];
  for (int i = 0; i < nbatch; i++)
    bdims[i] = n->type.dims[i];
  Dim batch = numel(bdims, nbatch);
  /* Each operand, as stored (transposed or not): unbatched (stride 0) or
   * brought to the full batch shape. */
  int bufs[2], trans = 0;
  KExpr *strides[2];
  IrNode *ops[2] = {a, b};
  Dim mats[2][2] = {{m, k}, {rb >= 2 ? b->type.dims[rb - 2] : k, nn}};
  for (int i = 0; i < 2; i++) {
    bool t;
    IrNode *o = stored_operand(C, ops[i], &t);
    if (t)
      trans |= i ? KMM_TRANS_B : KMM_TRANS_A;
    int ro_ = o->type.rank;
    if (ro_ <= 2) {
      bufs[i] = materialize(C, o, dt, ro_, o->type.dims);
      strides[i] = k_int(0);
    } else {
      Dim full[IR_MAX_RANK];
      for (int d = 0; d < nbatch; d++)
        full[d] = bdims[d];
      full[nbatch] = mats[i][t];
      full[nbatch + 1] = mats[i][!t];
      bufs[i] = materialize(C, o, dt, nbatch + 2, full);
      strides[i] = k_dim(dim_mul(mats[i][0], mats[i][1]));
    }
  }
  int out = lw_alloc(C, n);
  KStmt *s = k_stmt(KS_CALL, n->loc);
  s->call = KC_MATMUL;
  s->nbufs = 3;
  s->bufs = ir_alloc(3 * sizeof(int));
  s->bufs[0] = bufs[0];
  s->bufs[1] = bufs[1];
  s->bufs[2] = out;
  s->trans = trans;
  s->nexprs = 7;
  s->exprs = ir_alloc(7 * sizeof(KExpr *));
  s->exprs[0] = k_dim(batch);
  s->exprs[1] = k_dim(m);
  s->exprs[2] = k_dim(nn);
  s->exprs[3] = k_dim(k);
  s->exprs[4] = nbatch ? strides[0] : k_int(0);
  s->exprs[5] = nbatch ? strides[1] : k_int(0);
  s->exprs[6] = k_dim(dim_mul(m, nn));
  lw_emit(C, s);
}

/* e = epilogue(m), m = a @ b (2-D), fusion's IR_FUSE_EPILOGUE, on blocks
 * of the target's epilogue_rows (B) rows, each still in cache when the
 * epilogue reads it:
 *   for r0 = 0 to M step B:
 *     rows = min(B, M - r0)
 *     call matmul a[r0:], b, m[r0:] (rows x N)
 *     kernel m[r0 + i, j] = e(... m[r0 + i, j] ...)  for i < rows, j < N
 * or, when B is 0 (the GPU: one library call, then one kernel), the call
 * and the kernel on the whole product (r0 = 0, rows = M).
 * e is m's only reader, so it is written in place: e's value is m's buffer.
 * Operands read transposed as in lower_matmul (see stored_operand), with
 * one limit: a block of rows of op(a) = a.T is a block of columns of the
 * stored a, whose row length stays M while the call's m is the block's
 * rows, and the runtime takes no separate row length.  So a is read
 * transposed only when there is one block (B is 0, or M is a constant of
 * at most B rows: the SGD update of a weight, W - lr * (x.T @ g), with up
 * to B rows of W); else the transpose is written out as before.  b is read
 * whole by every block: always fine. */
static void lower_epilogue(LCtx *C, IrNode *e, IrNode *m) {
  DType dt = m->type.dtype;
  Dim M = m->type.dims[0], N = m->type.dims[1], K = m->args[0]->type.dims[1];
  int64_t block = C->km->target->epilogue_rows, rows_c;
  bool ta, tb;
  IrNode *a = stored_operand(C, m->args[0], &ta), *b = stored_operand(C, m->args[1], &tb);
  if (ta && block > 0 && !(dim_is_const(M, &rows_c) && rows_c <= block)) {
    ta = false;
    a = m->args[0];
  }
  int ab = materialize(C, a, dt, 2, a->type.dims), bb = materialize(C, b, dt, 2, b->type.dims);
  lw_val(C, m)->pending = false;
  int mb = lw_alloc(C, m);
  KStmt *loop = NULL;
  KList *into = NULL; /* where the call and the kernel go: the loop's body, or the function */
  KExpr *r0 = k_int(0);
  Dim rows = M;
  if (block > 0) {
    loop = k_stmt(KS_FOR, m->loc);
    loop->cond = k_int(0);
    loop->stop = k_dim(M);
    loop->step = k_int(block);
    loop->var = lw_new_var(C);
    into = &loop->body;
    r0 = k_var(loop->var);
    int sym = ir_sym_new("rows", m->loc);
    KStmt *set = k_stmt(KS_SETSYM, m->loc);
    set->buf = sym;
    set->cond = lw_i64op(IR_MINIMUM, k_int(block), lw_i64op(IR_SUB, k_dim(M), r0));
    k_push(into, set);
    rows = dim_sym(sym);
  }
  KStmt *s = k_stmt(KS_CALL, m->loc);
  s->call = KC_MATMUL;
  s->nbufs = 3;
  s->bufs = ir_alloc(3 * sizeof(int));
  s->bufs[0] = ab;
  s->bufs[1] = bb;
  s->bufs[2] = mb;
  s->trans = (ta ? KMM_TRANS_A : 0) | (tb ? KMM_TRANS_B : 0);
  s->nexprs = 9;
  s->exprs = ir_alloc(9 * sizeof(KExpr *));
  s->exprs[0] = k_int(1);
  s->exprs[1] = k_dim(rows);
  s->exprs[2] = k_dim(N);
  s->exprs[3] = k_dim(K);
  s->exprs[4] = k_int(0);
  s->exprs[5] = k_int(0);
  s->exprs[6] = k_dim(dim_mul(rows, N));
  if (loop) { /* element offsets of the block in a (rows, or with ta columns of the one block) and in m */
    s->exprs[7] = ta ? r0 : lw_i64op(IR_MUL, r0, k_dim(K));
    s->exprs[8] = lw_i64op(IR_MUL, r0, k_dim(N));
  } else {
    s->nexprs = 7;
  }
  if (into)
    k_push(into, s);
  else
    lw_emit(C, s);
  /* the epilogue on the block, in place */
  KStmt *k = k_stmt(KS_KERNEL, e->loc);
  k->buf = mb;
  k->nloops = 2;
  k->extent[0] = rows;
  k->extent[1] = N;
  k->loopvar[0] = lw_new_var(C);
  k->loopvar[1] = lw_new_var(C);
  k->nstore = 2;
  k->store_idx = ir_alloc(2 * sizeof(KExpr *));
  k->store_idx[0] = loop ? lw_i64op(IR_ADD, r0, k_var(k->loopvar[0])) : k_var(k->loopvar[0]);
  k->store_idx[1] = k_var(k->loopvar[1]);
  k->value = k_cast(elementwise_value(C, e, 2, k->store_idx), dt);
  if (into) {
    k_push(into, k);
    lw_emit(C, loop);
  } else {
    lw_emit(C, k);
  }
  lw_set(C, e, mb, false);
  lw_val(C, e)->root = lw_val(C, m)->root;
}

/* NumPy's dot as one reduction: out[a_outer..., b_outer..., j] =
 * sum_r a[a_outer..., r] * b[b_outer..., r, j] (b 1-D: no j, no b_outer). */
static void lower_dot_reduce(LCtx *C, IrNode *n) {
  IrNode *a = n->args[0], *b = n->args[1];
  DType dt = n->type.dtype;
  int ra = a->type.rank, rb = b->type.rank, ro = n->type.rank;
  int out = lw_alloc(C, n);
  KStmt *k = k_stmt(KS_KERNEL, n->loc);
  k->buf = out;
  KExpr *o[IR_MAX_RANK], *ai[IR_MAX_RANK], *bi[IR_MAX_RANK];
  k->store_idx = ir_alloc(sizeof(KExpr *) * (size_t)(ro + 1));
  for (int d = 0; d < ro; d++) {
    k->extent[d] = n->type.dims[d];
    k->loopvar[d] = lw_new_var(C);
    o[d] = k->store_idx[d] = k_var(k->loopvar[d]);
  }
  k->nstore = ro;
  k->loopvar[ro] = lw_new_var(C);
  KExpr *r = k_var(k->loopvar[ro]);
  k->extent[ro] = a->type.dims[ra - 1];
  k->nloops = ro + 1;
  k->nred = 1;
  int d = 0;
  for (int i = 0; i < ra - 1; i++)
    ai[i] = o[d++];
  ai[ra - 1] = r;
  for (int i = 0; i < rb - 2; i++)
    bi[i] = o[d++];
  if (rb >= 2) {
    bi[rb - 2] = r;
    bi[rb - 1] = o[d++];
  } else {
    bi[0] = r;
  }
  k->combine = IR_SUM;
  k->value = k_op2(IR_MUL, dt, k_cast(k_load(lw_buffer(C, a), a->type.dtype, ra, ai), dt),
                   k_cast(k_load(lw_buffer(C, b), b->type.dtype, rb, bi), dt));
  lw_emit(C, k);
}

static bool lower_linalg(LCtx *C, IrNode *n) {
  IrNode *a = n->args[0], *b = n->args[1];
  if (n->op == IR_OUTER) {
    int out = lw_alloc(C, n);
    KExpr **v;
    KStmt *k = lw_map_kernel(C, out, n->loc, &v);
    KExpr *la = k_load(lw_buffer(C, a), a->type.dtype, 1, &v[0]), *lb = k_load(lw_buffer(C, b), b->type.dtype, 1, &v[1]);
    la->linear = lb->linear = true;
    k->value = k_op2(IR_MUL, n->type.dtype, k_cast(la, n->type.dtype), k_cast(lb, n->type.dtype));
    lw_emit(C, k);
    return true;
  }
  if (n->op == IR_DOT && (a->type.rank == 0 || b->type.rank == 0)) { /* dot with a scalar multiplies */
    int out = lw_alloc(C, n);
    KExpr **v;
    KStmt *k = lw_map_kernel(C, out, n->loc, &v);
    k->value = k_op2(IR_MUL, n->type.dtype, lw_elem(C, a, n->type.rank, v, n->type.dtype),
                     lw_elem(C, b, n->type.rank, v, n->type.dtype));
    lw_emit(C, k);
    return true;
  }
  if (n->op == IR_DOT && (a->type.rank > 2 || b->type.rank > 2 || (a->type.rank == 1 && b->type.rank == 1))) {
    lower_dot_reduce(C, n);
    return true;
  }
  lower_matmul(C, n);
  return true;
}

/* ===== the dispatcher ===== */

bool lw_op(LCtx *C, IrNode *n) {
  switch (ir_opclass(n->op)) {
  case IRC_UNARY:
    if (n->op == IR_DETACH || n->op == IR_COPY || n->op == IR_TO_DEVICE) {
      alias(C, n, n->args[0]);
      return true;
    }
    lower_elementwise(C, n);
    return true;
  case IRC_BINARY:
  case IRC_TERNARY: lower_elementwise(C, n); return true;
  case IRC_REDUCE: lower_reduce(C, n); return true;
  case IRC_CREATION: lower_creation(C, n); return true;
  case IRC_MOVEMENT:
    if (n->op == IR_SPLIT) { /* its pieces are lowered by RESULT */
      lw_set(C, n, -1, false);
      return true;
    }
    lower_movement(C, n);
    return true;
  case IRC_MATMUL: return lower_linalg(C, n);
  case IRC_SOURCE:
    if (n->op == IR_TENSOR) {
      lower_creation(C, n);
      return true;
    }
    if (n->op == IR_CHECK_TYPE) {
      alias(C, n, n->args[0]);
      return true;
    }
    break;
  case IRC_CONTROL:
    if (n->op == IR_RESULT) { /* a piece of split */
      lower_movement(C, n);
      return true;
    }
    break;
  case IRC_INDEX:
    switch (n->op) {
    case IR_DIM: {
      IrNode *x = n->args[0];
      lw_set_scalar(C, n, k_dim(x->type.dims[norm_axis((int)n->at.ival, x->type.rank)]));
      return true;
    }
    case IR_NDIM: lw_set_scalar(C, n, k_int(n->args[0]->type.rank)); return true;
    case IR_NUM_BATCHES: {
      KExpr *rows = lw_scalar(C, n->args[0]);
      KExpr *size = k_int(n->at.ival);
      KExpr *num = n->at.keepdims ? rows : lw_i64op(IR_ADD, rows, k_int(n->at.ival - 1));
      lw_set_scalar(C, n, lw_i64op(IR_FLOORDIV, num, size));
      if (n->at.str) /* a name assigned only in the loop is read after it */
        lw_check(C, k_op2(IR_GE, DT_BOOL, lw_scalar(C, n), k_int(1)), n->loc,
                 ir_sprintf("batches() gave no batch, so '%s', assigned only inside the loop, has no value after it",
                            n->at.str));
      return true;
    }
    default: break;
    }
    break;
  default: break;
  }
  ir_error(n->loc, "%s is not supported by the CPU backend yet", ir_op_name(n->op));
  return false;
}
