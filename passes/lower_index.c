/* passes/lower_index.c - indexing: x[...], x[...] = v, and mini-batches.
 *
 * An index expression is turned into a *plan*: for every axis of x, the
 * index it reads as a function of the output's loop variables - a fixed
 * scalar (normalised if negative, bounds-checked at run time), start +
 * i*step for a slice, or a load from an integer index tensor (gather),
 * whose broadcast shape sits where NumPy puts it.  INDEX is a map kernel
 * over the output reading x through the plan (x and integer index tensors
 * through lw_at, so fusion may inline them); INDEX_SET copies x, then
 * stores v through the same plan, over the selection's shape, which the
 * plan's walk derives (so the read and the write place axes alike).  A pure gather (integer tensors only)
 * may itself be inlined into its consumers (lw_gather_at), and so may a
 * set of one element per row, x[arange(N), t] = v (lw_row_set_at).
 */
#include "lower_internal.h"

#include <string.h>

/* a < 0 ? a + d : a, in i64 */
static KExpr *wrap(KExpr *a, KExpr *d) {
  KExpr *w[3] = {k_op2(IR_LT, DT_BOOL, a, k_int(0)), lw_i64op(IR_ADD, a, d), a};
  return k_op(IR_WHERE, DT_I64, 3, w);
}

static KExpr *clampi(KExpr *a, KExpr *lo, KExpr *hi) {
  return lw_i64op(IR_MINIMUM, lw_i64op(IR_MAXIMUM, a, lo), hi);
}

/* -d <= raw < d: an index of an axis of size d, negative from the end */
static KExpr *in_range(KExpr *raw, KExpr *d) {
  KExpr *neg_d = lw_i64op(IR_SUB, k_int(0), d);
  return k_op2(IR_AND, DT_BOOL, k_op2(IR_GE, DT_BOOL, raw, neg_d), k_op2(IR_LT, DT_BOOL, raw, d));
}

/* NumPy's message, of the index's value and the axis length. */
static const char *axis_error(int ax) {
  return ir_sprintf("index %%lld is out of bounds for axis %d with size %%lld", ax);
}

/* An index element out of range of the axis (arg: its length d), else
 * INT64_MIN: the max over a gather's index is the first bad one found. */
static KExpr *out_of_range(KExpr *elem, const void *d) {
  KExpr *raw = k_cast(elem, DT_I64);
  KExpr *w[3] = {in_range(raw, (KExpr *)d), k_int(INT64_MIN), raw};
  return k_op(IR_WHERE, DT_I64, 3, w);
}

/* An index tensor checked against an axis size d in a block. */
typedef struct GatherChecked {
  IrNode *index;
  KExpr *size;
  IrBlock *block;
} GatherChecked;

/* Whether index t was checked against size d earlier in this block (X[rows]
 * then y[rows]): a value of the graph never changes, so the same check
 * would find the same; else records this one. */
static bool checked_before(LCtx *C, IrNode *t, KExpr *d) {
  for (int i = 0; i < C->gathers_checked.n; i++) {
    GatherChecked *g = C->gathers_checked.v[i];
    if (g->index == t && g->block == C->block && k_expr_eq(g->size, d))
      return true;
  }
  GatherChecked *g = ir_alloc(sizeof *g);
  *g = (GatherChecked){t, d, C->block};
  ir_vec_push(&C->gathers_checked, g);
  return false;
}

/* A gather's indices out of range are an error, not clamped: a kernel
 * finds the largest index out of range of axis `ax` (size d) of x, or
 * INT64_MIN (max's identity) when there is none, and a check before the
 * gather reports it.  independent: t reads nothing that a row kernel being
 * built computes (fusion keeps the index of a set of one element per row
 * out of it), so even an inlined t can be checked before the row loop. */
static void check_gather(LCtx *C, IrNode *n, IrNode *t, int ax, KExpr *d, bool independent) {
  /* arange(n) on an axis of size n (logp[arange(N), y]) is in range */
  IrNode *x = n->args[0];
  if (ir_is_iota(t) && dim_eq(t->type.dims[0], x->type.dims[ax]))
    return;
  if (checked_before(C, t, d))
    return;
  /* In a stage of a row kernel being built (logsumexp(x[rows], axis=1)):
   * the check goes before its loop, where the index, computed before the
   * row kernel, is known; a row kernel holds only its stages. */
  KList *out = C->out, *allocs = C->allocs;
  int nrow = C->nrow;
  LVal *tv = lw_val(C, t);
  bool before = allocs && (tv->scalar || !((tv->deferred && !independent) || tv->pending || t->fuse == IR_FUSE_ROW));
  if (before)
    C->out = allocs, C->allocs = NULL, C->nrow = 0;
  int bad = lw_reduce_elements(C, n, t, "bad_index", DT_I64, IR_MAX, out_of_range, d);
  KExpr *found = k_load(bad, DT_I64, 0, NULL), *values[2] = {found, d};
  lw_check_values(C, k_op2(IR_EQ, DT_BOOL, found, k_int(INT64_MIN)), n->loc, axis_error(ax), 2, values);
  if (before)
    C->out = out, C->allocs = allocs, C->nrow = nrow;
}

typedef struct Plan {
  KExpr *xi[IR_MAX_RANK]; /* per axis of x: its index */
  int rank;               /* of the result */
} Plan;

/* Python slice start for a dimension d: normalised and clamped. */
static KExpr *slice_start(LCtx *C, IrNode *n, IrIndexItem *it, KExpr *d, KExpr *step, bool neg_step) {
  if (it->start < 0)
    return neg_step ? lw_i64op(IR_SUB, d, k_int(1)) : k_int(0);
  KExpr *s = wrap(k_cast(lw_scalar(C, n->args[it->start]), DT_I64), d);
  return neg_step ? clampi(s, k_int(-1), lw_i64op(IR_SUB, d, k_int(1))) : clampi(s, k_int(0), d);
}

static KExpr *slice_len(LCtx *C, IrNode *n, IrIndexItem *it, KExpr *d, KExpr *start, KExpr *step, bool neg_step) {
  KExpr *stop;
  if (it->stop < 0)
    stop = neg_step ? k_int(-1) : d;
  else {
    stop = wrap(k_cast(lw_scalar(C, n->args[it->stop]), DT_I64), d);
    stop = neg_step ? clampi(stop, k_int(-1), lw_i64op(IR_SUB, d, k_int(1))) : clampi(stop, k_int(0), d);
  }
  /* ceil((stop - start) / step), at least 0 */
  KExpr *span = lw_i64op(IR_SUB, stop, start);
  KExpr *adj = neg_step ? lw_i64op(IR_ADD, span, lw_i64op(IR_ADD, step, k_int(1)))
                        : lw_i64op(IR_ADD, span, lw_i64op(IR_SUB, step, k_int(1)));
  return lw_i64op(IR_MAXIMUM, lw_i64op(IR_FLOORDIV, adj, step), k_int(0));
}

/* The rank of x[items]: the axes of x no integer or tensor item takes,
 * one per None, and the advanced items' broadcast rank. */
static int plan_rank(IrNode *n, int xr) {
  int rank = xr, adv_rank = 0;
  for (int i = 0; i < n->at.nidx; i++) {
    IrIndexItem *it = &n->at.idx[i];
    if (it->kind == IDX_NEWAXIS)
      rank++;
    if (it->kind == IDX_SCALAR || it->kind == IDX_TENSOR)
      rank--;
    if (it->kind == IDX_TENSOR && n->args[it->arg]->type.rank > adv_rank)
      adv_rank = n->args[it->arg]->type.rank;
  }
  return rank + adv_rank;
}

/* The broadcast dim of the advanced items at axis j of their adv_rank
 * axes: one that is not 1 (the shape pass unified them), else 1. */
static Dim adv_dim(IrNode *n, int adv_rank, int j) {
  for (int i = 0; i < n->at.nidx; i++) {
    IrIndexItem *it = &n->at.idx[i];
    if (it->kind != IDX_TENSOR)
      continue;
    IrType *t = &n->args[it->arg]->type;
    int k = j - (adv_rank - t->rank);
    int64_t c;
    if (k >= 0 && !(dim_is_const(t->dims[k], &c) && c == 1))
      return t->dims[k];
  }
  return dim_const(1);
}

/* Builds the plan of INDEX / INDEX_SET node n for output variables `v`
 * (res->rank of them: the rank of x[items]).  The one place that knows
 * where NumPy puts each axis of x[items].  The read takes res from the
 * shape pass; x[items] = v, whose node has x's type, passes derive: the
 * walk writes res's dims (the selection v is broadcast to), a fresh symbol
 * for the length of a partial slice, bound here like the read's. */
static bool make_plan(LCtx *C, IrNode *n, IrNode *x, IrType *res, KExpr **v, Plan *p, bool derive) {
  int xr = x->type.rank, nidx = n->at.nidx;
  /* 1. Where advanced (tensor) indices go, and their broadcast rank. */
  int adv_rank = 0, first_adv = -1, last_adv = -1, nadv = 0;
  for (int i = 0; i < nidx; i++) {
    IrIndexItem *it = &n->at.idx[i];
    if (it->kind == IDX_TENSOR) {
      IrNode *t = n->args[it->arg];
      if (t->type.dtype == DT_BOOL) {
        ir_error(n->loc, "boolean mask indexing is not supported by the CPU backend yet");
        return false;
      }
      if (t->type.rank > adv_rank)
        adv_rank = t->type.rank;
      if (first_adv < 0)
        first_adv = i;
      last_adv = i;
      nadv++;
    }
  }
  /* Integers count as advanced indices when a tensor index is present
   * (NumPy), so `t[0, :, idx]` has non-adjacent advanced indices. */
  for (int i = 0; nadv && i < nidx; i++)
    if (n->at.idx[i].kind == IDX_SCALAR) {
      if (i < first_adv)
        first_adv = i;
      if (i > last_adv)
        last_adv = i;
    }
  bool adjacent = true;
  for (int i = first_adv; nadv && i <= last_adv; i++)
    if (n->at.idx[i].kind != IDX_TENSOR && n->at.idx[i].kind != IDX_SCALAR)
      adjacent = false;
  /* 2. Walk the items: x axes consumed, output axes produced. */
  int used = 0;
  for (int i = 0; i < nidx; i++)
    if (n->at.idx[i].kind != IDX_NEWAXIS && n->at.idx[i].kind != IDX_ELLIPSIS)
      used++;
  int out = nadv && !adjacent ? adv_rank : 0; /* non-adjacent: advanced dims first */
  int ax = 0;
  bool adv_placed = nadv && !adjacent;
  int adv_at = 0; /* output position of the advanced indices' dims */
  for (int j = 0; derive && adv_placed && j < adv_rank; j++)
    res->dims[j] = adv_dim(n, adv_rank, j);
  for (int i = 0; i < nidx; i++) {
    IrIndexItem *it = &n->at.idx[i];
    switch (it->kind) {
    case IDX_NEWAXIS:
      if (derive)
        res->dims[out] = dim_const(1);
      out++;
      break;
    case IDX_ELLIPSIS:
      for (int k = 0; k < xr - used; k++) {
        if (derive)
          res->dims[out] = x->type.dims[ax];
        p->xi[ax++] = v[out++];
      }
      break;
    case IDX_SCALAR: {
      if (ax >= xr)
        ir_die(n->loc, "index: too many items");
      KExpr *d = k_dim(x->type.dims[ax]);
      KExpr *raw = k_cast(lw_scalar(C, n->args[it->arg]), DT_I64);
      KExpr *idx = wrap(raw, d);
      KExpr *values[2] = {raw, d};
      lw_check_values(C, in_range(raw, d), n->loc, axis_error(ax), 2, values);
      p->xi[ax++] = idx;
      break;
    }
    case IDX_SLICE: {
      KExpr *d = k_dim(x->type.dims[ax]);
      bool neg = false;
      KExpr *step = k_int(1);
      if (it->step >= 0) {
        IrNode *sn = n->args[it->step];
        int64_t c;
        if (!(sn->has_symval && dim_is_const(sn->symval, &c))) {
          ir_error(n->loc, "a slice step must be known at compile time in the CPU backend");
          return false;
        }
        neg = c < 0;
        step = k_int(c);
      }
      KExpr *start = slice_start(C, n, it, d, step, neg);
      KExpr *len = slice_len(C, n, it, d, start, step, neg);
      if (derive && (it->start >= 0 || it->stop >= 0 || it->step >= 0)) {
        int sym = ir_sym_new("slice", n->loc);
        if (sym >= C->nsyms) {
          ir_error(n->loc, "too many symbols in this function for the CPU backend");
          return false;
        }
        res->dims[out] = dim_sym(sym);
      } else if (derive) {
        res->dims[out] = x->type.dims[ax];
      }
      lw_bind_sym(C, res->dims[out], len, n->loc);
      p->xi[ax++] = lw_i64op(IR_ADD, start, lw_i64op(IR_MUL, v[out], step));
      out++;
      break;
    }
    case IDX_TENSOR: {
      if (!adv_placed) {
        adv_at = out;
        for (int j = 0; derive && j < adv_rank; j++)
          res->dims[out + j] = adv_dim(n, adv_rank, j);
        out += adv_rank;
        adv_placed = true;
      }
      IrNode *t = n->args[it->arg];
      int tr = t->type.rank;
      KExpr *ti[IR_MAX_RANK];
      for (int j = 0; j < tr; j++) {
        int64_t c;
        ti[j] = dim_is_const(t->type.dims[j], &c) && c == 1 ? k_int(0) : v[adv_at + adv_rank - tr + j];
      }
      KExpr *d = k_dim(x->type.dims[ax]);
      KExpr *raw = k_cast(lw_at(C, t, ti), DT_I64);
      check_gather(C, n, t, ax, d, false);
      p->xi[ax++] = wrap(raw, d);
      break;
    }
    }
  }
  while (ax < xr) {
    if (derive)
      res->dims[out] = x->type.dims[ax];
    p->xi[ax++] = v[out++];
  }
  p->rank = out;
  if (out != res->rank)
    ir_die(n->loc, "index plan: %d output axes for a result of rank %d", out, res->rank);
  return true;
}

static bool lower_index(LCtx *C, IrNode *n) {
  IrNode *x = n->args[0];
  /* The plan first: it sets the symbols of slice lengths the allocation needs. */
  KExpr *v[IR_MAX_RANK];
  int vars[IR_MAX_RANK];
  for (int d = 0; d < n->type.rank; d++) {
    vars[d] = lw_new_var(C);
    v[d] = k_var(vars[d]);
  }
  Plan p;
  if (!make_plan(C, n, x, &n->type, v, &p, false))
    return false;
  int out = lw_alloc(C, n);
  KStmt *k = k_stmt(KS_KERNEL, n->loc);
  k->buf = out;
  k->nloops = k->nstore = n->type.rank;
  k->store_idx = ir_alloc(sizeof(KExpr *) * (size_t)(n->type.rank ? n->type.rank : 1));
  for (int d = 0; d < n->type.rank; d++) {
    k->extent[d] = n->type.dims[d];
    k->loopvar[d] = vars[d];
    k->store_idx[d] = v[d];
  }
  k->value = lw_at(C, x, p.xi);
  lw_emit(C, k);
  return true;
}

KExpr *lw_gather_at(LCtx *C, IrNode *n, KExpr **idx) {
  Plan p;
  if (!make_plan(C, n, n->args[0], &n->type, idx, &p, false))
    ir_die(n->loc, "lower: an inlined gather with no plan");
  return lw_at(C, n->args[0], p.xi);
}

/* x[arange(N), t] = v (or +=), ir_sets_one_per_row, at (i, j):
 * where(j == t[i], v[i], x[i, j]), or x[i, j] + v[i] there: one element
 * per row, so no two points collide. */
KExpr *lw_row_set_at(LCtx *C, IrNode *n, KExpr **idx) {
  IrNode *x = n->args[0], *v = n->args[1], *t = n->args[n->at.idx[1].arg];
  DType dt = x->type.dtype;
  KExpr *d = k_dim(x->type.dims[1]);
  check_gather(C, n, t, 1, d, true);
  KExpr *col = wrap(k_cast(lw_at(C, t, idx), DT_I64), d);
  KExpr *old = lw_at(C, x, idx), *val = lw_elem(C, v, 1, idx, dt);
  if (n->op == IR_INDEX_ADD)
    val = k_op2(IR_ADD, dt, old, val);
  KExpr *w[3] = {k_op2(IR_EQ, DT_BOOL, idx[1], col), val, old};
  return k_op(IR_WHERE, dt, 3, w);
}

/* The value broadcasts to the selection, whose lengths the run time gives
 * (a slice's bounds): NumPy's "could not broadcast".  The shape pass
 * assumed they agree, but where its lengths are assumptions (a slice of
 * constant bounds on a symbolic dim, docs/shapes.md) nothing else checks
 * the gradient of x[1::-1], whose forward slice may be dead code. */
static void check_value_fits(LCtx *C, IrNode *n, IrNode *val, const IrType *region) {
  char shape[128];
  ir_type_format(&val->type, shape, sizeof shape);
  for (int j = 0; j < val->type.rank && j < region->rank; j++) {
    Dim dv = val->type.dims[val->type.rank - 1 - j], dr = region->dims[region->rank - 1 - j];
    int64_t c;
    if ((dim_is_const(dv, &c) && c == 1) || dim_eq(dv, dr))
      continue;
    KExpr *values[2] = {k_dim(dr), k_dim(dv)};
    lw_check_values(C, k_op2(IR_EQ, DT_BOOL, values[0], values[1]), n->loc,
                    ir_sprintf("could not broadcast a value of %s into the selection: axis %d has size %%lld "
                               "there, %%lld in the value",
                               shape, region->rank - 1 - j),
                    2, values);
  }
}

/* x[...] = v: copy x, then store v (broadcast) through the plan.
 * INDEX_ADD stores old + v instead; the kernel runs its points in order,
 * so repeated indices accumulate. */
static bool lower_index_set(LCtx *C, IrNode *n) {
  IrNode *x = n->args[0], *val = n->args[1];
  int out = lw_alloc(C, n);
  if (ir_sets_one_per_row(n)) { /* one pass over x, no copy and scatter */
    KExpr **vars;
    KStmt *k = lw_map_kernel(C, out, n->loc, &vars);
    k->value = lw_row_set_at(C, n, vars);
    lw_emit(C, k);
    return true;
  }
  if (lw_val(C, x)->deferred) { /* x inlined (zeros_like(...) from autodiff): computed, not copied */
    KExpr **vars;
    KStmt *k = lw_map_kernel(C, out, n->loc, &vars);
    k->value = lw_at(C, x, vars);
    lw_emit(C, k);
  } else {
    lw_copy_into(C, out, lw_buffer(C, x), n->loc);
  }
  /* The selection's shape, x[...]'s: make_plan derives it (the node's
   * type is x's), binding the lengths of partial slices before the loops. */
  int xr = x->type.rank;
  IrType region = {.kind = TY_TENSOR, .dtype = x->type.dtype, .rank = plan_rank(n, xr)};
  KStmt *k = k_stmt(KS_KERNEL, n->loc);
  k->buf = out;
  k->nloops = region.rank;
  KExpr *v[IR_MAX_RANK];
  for (int d = 0; d < region.rank; d++) {
    k->loopvar[d] = lw_new_var(C);
    v[d] = k_var(k->loopvar[d]);
  }
  /* The plan's symbol bindings must come before the kernel's loops. */
  Plan p;
  if (!make_plan(C, n, x, &region, v, &p, true))
    return false;
  for (int d = 0; d < region.rank; d++)
    k->extent[d] = region.dims[d];
  check_value_fits(C, n, val, &region);
  k->value = lw_elem(C, val, region.rank, v, x->type.dtype);
  if (n->op == IR_INDEX_ADD)
    k->value = k_op2(IR_ADD, x->type.dtype, k_load(out, x->type.dtype, xr, p.xi), k->value);
  k->nstore = xr;
  k->store_idx = ir_alloc(sizeof(KExpr *) * (size_t)(xr ? xr : 1));
  for (int d = 0; d < xr; d++)
    k->store_idx[d] = p.xi[d];
  lw_emit(C, k);
  return true;
}

/* rows perm[i*size : i*size + rows] of x, rows = min(size, n - i*size). */
static bool lower_batch(LCtx *C, IrNode *n) {
  IrNode *x = n->args[0], *perm = n->args[1], *i = n->args[2];
  KExpr *start = lw_i64op(IR_MUL, k_cast(lw_scalar(C, i), DT_I64), k_int(n->at.ival));
  KExpr *rows = lw_i64op(IR_MINIMUM, k_int(n->at.ival), lw_i64op(IR_SUB, k_dim(x->type.dims[0]), start));
  int sym = n->at.sym;
  if (sym > 0 && sym < C->nsyms && !C->symset[sym]) {
    KStmt *s = k_stmt(KS_SETSYM, n->loc);
    s->buf = sym;
    s->cond = rows;
    lw_emit(C, s);
    /* re-set every iteration: the flag only stops a second SETSYM in the same body */
    C->symset[sym] = true;
  }
  int out = lw_alloc(C, n);
  KExpr **v;
  KStmt *k = lw_map_kernel(C, out, n->loc, &v);
  KExpr *pi[1] = {lw_i64op(IR_ADD, start, v[0])};
  /* in order (shuffle=False: arange(n)), row r of the batch is row start + r
   * of x: a contiguous copy that vectorises, not a gather through perm */
  bool in_order = ir_is_iota(perm);
  KExpr *row = in_order ? pi[0] : k_cast(k_load(lw_buffer(C, perm), perm->type.dtype, 1, pi), DT_I64);
  KExpr *xi[IR_MAX_RANK];
  xi[0] = row;
  for (int d = 1; d < x->type.rank; d++)
    xi[d] = v[d];
  k->value = k_load(lw_buffer(C, x), x->type.dtype, x->type.rank, xi);
  lw_emit(C, k);
  return true;
}

bool lw_index(LCtx *C, IrNode *n) {
  switch (n->op) {
  case IR_INDEX: return lower_index(C, n);
  case IR_INDEX_SET:
  case IR_INDEX_ADD: return lower_index_set(C, n);
  case IR_BATCH: return lower_batch(C, n);
  default: ir_die(n->loc, "lw_index: %s", ir_op_name(n->op));
  }
}
