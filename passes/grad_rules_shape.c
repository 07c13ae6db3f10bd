/* passes/grad_rules_shape.c - gradient rules of reductions, linear
 * algebra, movement and indexing.
 *
 * Reductions bring the adjoint back to the operand's shape by reshaping it
 * to the keepdims shape and broadcasting (keep()/spread()); matmul promotes
 * 1-D operands as NumPy does, multiplies by the other operand transposed
 * and sums over batch dims that were broadcast; gathers scatter-add with
 * INDEX_ADD, since an index may repeat.
 */
#include "autodiff_internal.h"

#include <string.h>

#define A(i) (n->args[i])
#define K(v) ad_fconst(C, (v))
#define MUL(p, q) ad_bin(C, IR_MUL, (p), (q))
#define DIV(p, q) ad_bin(C, IR_DIV, (p), (q))
#define SUB(p, q) ad_bin(C, IR_SUB, (p), (q))

/* ---- reductions ---- */

/* Which axes of x reduction n reduces. */
static void reduced(IrNode *n, bool *red) {
  int r = A(0)->type.rank;
  for (int k = 0; k < r; k++)
    red[k] = !n->at.has_axes;
  if (n->at.has_axes)
    for (int i = 0; i < n->at.naxes; i++) {
      int a = n->at.axes[i] < 0 ? n->at.axes[i] + r : n->at.axes[i];
      if (a >= 0 && a < r)
        red[a] = true;
    }
}

/* v, of n's shape, reshaped to the keepdims shape (broadcasts against x). */
static IrNode *keep(AdCtx *C, IrNode *n, IrNode *v) {
  if (n->at.keepdims)
    return v;
  bool red[IR_MAX_RANK];
  reduced(n, red);
  IrType t = A(0)->type;
  for (int k = 0; k < t.rank; k++)
    if (red[k])
      t.dims[k] = dim_const(1);
  return ad_reshape(C, n, v, &t);
}

/* v, of n's shape, broadcast to x's shape. */
static IrNode *spread(AdCtx *C, IrNode *n, IrNode *v) {
  IrNode *args[1 + IR_MAX_RANK];
  IrType *t = &A(0)->type;
  args[0] = keep(C, n, v);
  for (int k = 0; k < t->rank; k++)
    args[1 + k] = ad_size(C, n, t->dims[k]);
  return ad_emit(C, IR_BROADCAST_TO, 1 + t->rank, args);
}

/* The number of elements reduced, an i64 scalar. */
static IrNode *count(AdCtx *C, IrNode *n) {
  bool red[IR_MAX_RANK];
  reduced(n, red);
  IrNode *c = ad_iconst(C, 1);
  for (int k = 0; k < A(0)->type.rank; k++)
    if (red[k])
      c = MUL(c, ad_size(C, n, A(0)->type.dims[k]));
  return c;
}

void grad_sum(AdCtx *C, IrNode *n, IrNode *g) { ad_acc_shaped(C, n, 0, spread(C, n, g)); }
void grad_mean(AdCtx *C, IrNode *n, IrNode *g) { ad_acc_shaped(C, n, 0, spread(C, n, DIV(g, count(C, n)))); }
/* prod / x: right where no element is zero */
void grad_prod(AdCtx *C, IrNode *n, IrNode *g) { ad_acc_shaped(C, n, 0, DIV(spread(C, n, MUL(g, n)), A(0))); }

/* to the positions equal to the result, shared evenly among ties; hit
 * (and so the gradient) has x's dtype: the 0 is zeros_like(x) (two weak
 * constants alone would make it f64) */
static void maxmin(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *hit = ad_where(C, ad_bin(C, IR_EQ, A(0), keep(C, n, n)), K(1), ad_zeros_like(C, A(0)));
  IrNode *ties = ad_un(C, IR_SUM, hit);
  ties->at = n->at;
  ties->at.keepdims = true;
  ad_acc_shaped(C, n, 0, MUL(hit, DIV(keep(C, n, g), ties)));
}
void grad_max(AdCtx *C, IrNode *n, IrNode *g) { maxmin(C, n, g); }
void grad_min(AdCtx *C, IrNode *n, IrNode *g) { maxmin(C, n, g); }

/* var: 2 (x - mean) / (N - ddof); std: (x - mean) / ((N - ddof) std) */
static IrNode *centered(AdCtx *C, IrNode *n) {
  IrNode *m = ad_un(C, IR_MEAN, A(0));
  m->at = n->at;
  m->at.keepdims = true;
  m->at.ival = 0;
  return SUB(A(0), m);
}
void grad_var(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *d = ad_bin(C, IR_SUB, count(C, n), ad_iconst(C, n->at.ival));
  ad_acc_shaped(C, n, 0, MUL(centered(C, n), keep(C, n, DIV(MUL(g, K(2)), d))));
}
void grad_std(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *d = ad_bin(C, IR_SUB, count(C, n), ad_iconst(C, n->at.ival));
  ad_acc_shaped(C, n, 0, MUL(centered(C, n), keep(C, n, DIV(g, MUL(n, d)))));
}
/* softmax */
void grad_logsumexp(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *p = ad_un(C, IR_EXP, SUB(A(0), keep(C, n, n)));
  ad_acc_shaped(C, n, 0, MUL(p, keep(C, n, g)));
}

/* ---- linear algebra ---- */

/* The last two axes of v (rank r) swapped. */
static IrNode *swap_last(AdCtx *C, IrNode *v, int r) {
  IrNode *t = ad_un(C, IR_TRANSPOSE, v);
  t->at.naxes = r;
  for (int k = 0; k < r; k++)
    t->at.axes[k] = k;
  t->at.axes[r - 2] = r - 1, t->at.axes[r - 1] = r - 2;
  return t;
}

/* NumPy matmul: 1-D operands get a 1 prepended (a) or appended (b); the
 * batch dims broadcast.  ga = g @ b^T, gb = a^T @ g, each summed back over
 * the batch dims its operand did not have, then reshaped to the operand. */
void grad_matmul(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *a = A(0), *b = A(1);
  IrType ta = a->type, tb = b->type, to = n->type;
  if (ta.rank == 1) {
    ta.rank = 2, ta.dims[1] = ta.dims[0], ta.dims[0] = dim_const(1);
    to.dims[to.rank] = to.rank ? to.dims[to.rank - 1] : dim_const(1);
    if (to.rank)
      to.dims[to.rank - 1] = dim_const(1);
    to.rank++;
  }
  if (tb.rank == 1) {
    tb.rank = 2, tb.dims[1] = dim_const(1);
    to.dims[to.rank++] = dim_const(1);
  }
  IrNode *a2 = a->type.rank == 1 ? ad_reshape(C, n, a, &ta) : a;
  IrNode *b2 = b->type.rank == 1 ? ad_reshape(C, n, b, &tb) : b;
  IrNode *g2 = to.rank != n->type.rank ? ad_reshape(C, n, g, &to) : g;
  if (ad_wants(C, a)) {
    IrNode *ga = ad_bin(C, IR_MATMUL, g2, swap_last(C, b2, tb.rank));
    IrType from = to; /* [batch..., n, k] */
    from.dims[from.rank - 1] = ta.dims[ta.rank - 1];
    ga = ad_sum_to(C, n, ga, &from, &ta);
    if (a->type.rank == 1)
      ga = ad_reshape(C, n, ga, &a->type);
    ad_acc_exact(C, a, ga);
  }
  if (ad_wants(C, b)) {
    IrNode *gb = ad_bin(C, IR_MATMUL, swap_last(C, a2, ta.rank), g2);
    IrType from = to; /* [batch..., k, m] */
    from.dims[from.rank - 2] = tb.dims[tb.rank - 2];
    gb = ad_sum_to(C, n, gb, &from, &tb);
    if (b->type.rank == 1)
      gb = ad_reshape(C, n, gb, &b->type);
    ad_acc_exact(C, b, gb);
  }
}

void grad_dot(AdCtx *C, IrNode *n, IrNode *g) {
  if (A(0)->type.rank > 1 || A(1)->type.rank > 1) {
    grad_matmul(C, n, g);
    return;
  }
  if (ad_wants(C, A(0)))
    ad_acc_exact(C, A(0), ad_sum_to(C, n, MUL(g, A(1)), &A(1)->type, &A(0)->type));
  if (ad_wants(C, A(1)))
    ad_acc_exact(C, A(1), ad_sum_to(C, n, MUL(g, A(0)), &A(0)->type, &A(1)->type));
}

/* outer(a, b)[i, j] = a[i] b[j]: ga = g @ b, gb = g^T @ a */
void grad_outer(AdCtx *C, IrNode *n, IrNode *g) {
  if (ad_wants(C, A(0)))
    ad_acc_exact(C, A(0), ad_bin(C, IR_MATMUL, g, A(1)));
  if (ad_wants(C, A(1)))
    ad_acc_exact(C, A(1), ad_bin(C, IR_MATMUL, swap_last(C, g, 2), A(0)));
}

/* ---- movement ---- */

/* reshape, squeeze, unsqueeze, flatten: reshape back */
void grad_reshape(AdCtx *C, IrNode *n, IrNode *g) {
  if (ad_wants(C, A(0)))
    ad_acc_shaped(C, n, 0, ad_reshape(C, n, g, &A(0)->type));
}

void grad_transpose(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *t = ad_un(C, IR_TRANSPOSE, g);
  if (n->at.naxes) { /* the inverse permutation */
    int r = n->at.naxes;
    t->at.naxes = r;
    for (int k = 0; k < r; k++) {
      int p = n->at.axes[k] < 0 ? n->at.axes[k] + r : n->at.axes[k];
      t->at.axes[p] = k;
    }
  }
  ad_acc_shaped(C, n, 0, t);
}

void grad_broadcast_to(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, g); }

void grad_flip(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *t = ad_un(C, IR_FLIP, g);
  t->at = n->at;
  ad_acc_shaped(C, n, 0, t);
}

/* An INDEX of v taking `item` at axis `axis` of a rank-r value, all of the
 * other axes whole.  item.arg/start/stop are operand nodes or NULL. */
static IrNode *take(AdCtx *C, IrNode *v, int r, int axis, IrIndexKind kind, IrNode *p, IrNode *q) {
  IrNode *args[3] = {v, p, q};
  int nargs = 1 + (p != NULL) + (q != NULL);
  IrNode *t = ad_emit(C, IR_INDEX, nargs, args);
  t->at.nidx = axis + 1;
  t->at.idx = ir_alloc(sizeof(IrIndexItem) * (size_t)(axis + 1));
  for (int k = 0; k <= axis; k++)
    t->at.idx[k] = (IrIndexItem){.kind = IDX_SLICE, .arg = -1, .start = -1, .stop = -1, .step = -1};
  IrIndexItem *it = &t->at.idx[axis];
  it->kind = kind;
  if (kind == IDX_SCALAR)
    it->arg = 1;
  else
    it->start = 1, it->stop = 2;
  (void)r;
  return t;
}

static int norm_axis(int a, int r) { return a < 0 ? a + r : a; }

/* each operand's slice of the adjoint along the axis */
void grad_cat(AdCtx *C, IrNode *n, IrNode *g) {
  int r = n->type.rank, axis = norm_axis(n->at.axes[0], r);
  IrNode *off = ad_iconst(C, 0);
  for (int i = 0; i < n->nargs; i++) {
    IrNode *end = ad_bin(C, IR_ADD, off, ad_size(C, n, A(i)->type.dims[axis]));
    if (ad_wants(C, A(i)))
      ad_acc_exact(C, A(i), ad_reshape(C, n, take(C, g, r, axis, IDX_SLICE, off, end), &A(i)->type));
    off = end;
  }
}

void grad_stack(AdCtx *C, IrNode *n, IrNode *g) {
  int r = n->type.rank, axis = norm_axis(n->at.axes[0], r);
  for (int i = 0; i < n->nargs; i++)
    if (ad_wants(C, A(i)))
      ad_acc_exact(C, A(i), take(C, g, r, axis, IDX_SCALAR, ad_iconst(C, i), NULL));
}

/* the adjoints of the split's results, zeros for those not used, joined */
void grad_split(AdCtx *C, IrNode *n, IrNode *g) {
  (void)g;
  int parts = (int)n->at.ival;
  IrNode **res = ir_alloc(sizeof(IrNode *) * (size_t)(parts ? parts : 1));
  for (int i = 0; i < C->nscope; i++) {
    IrNode *v = C->scope[i];
    if (v->op == IR_RESULT && v->args[0] == n && v->at.ival >= 0 && v->at.ival < parts)
      res[v->at.ival] = v;
  }
  IrNode **gs = ir_alloc(sizeof(IrNode *) * (size_t)(parts ? parts : 1));
  for (int k = 0; k < parts; k++) {
    if (!res[k]) {
      ad_unsupported(C, n, "a split() whose results are not all read");
      return;
    }
    gs[k] = ad_adjoint(C, res[k]);
    if (!gs[k])
      gs[k] = ad_zeros_like(C, res[k]);
  }
  IrNode *c = ad_emit(C, IR_CAT, parts, gs);
  c->at.axes[0] = n->at.axes[0];
  c->at.naxes = 1, c->at.has_axes = true;
  ad_acc_exact(C, A(0), c);
}

/* ---- indexing ---- */

/* x[...]: scatter-add into zeros (a gather may repeat indices) */
void grad_index(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode **args = ir_alloc(sizeof(IrNode *) * (size_t)(n->nargs + 1));
  args[0] = ad_zeros_like(C, A(0));
  args[1] = g;
  for (int i = 1; i < n->nargs; i++)
    args[i + 1] = A(i);
  IrNode *s = ad_emit(C, IR_INDEX_ADD, n->nargs + 1, args);
  s->at = n->at;
  s->at.idx = ir_alloc(sizeof(IrIndexItem) * (size_t)(n->at.nidx ? n->at.nidx : 1));
  for (int k = 0; k < n->at.nidx; k++) {
    IrIndexItem it = n->at.idx[k];
    it.arg += it.arg >= 0, it.start += it.start >= 0, it.stop += it.stop >= 0, it.step += it.step >= 0;
    s->at.idx[k] = it;
  }
  ad_acc_exact(C, A(0), s);
}

/* The value v of x[...] = v or x[...] += v gets g's region, summed to
 * v's shape when v was broadcast. */
static void grad_region_value(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode **args = ir_alloc(sizeof(IrNode *) * (size_t)n->nargs);
  args[0] = g;
  for (int i = 2; i < n->nargs; i++)
    args[i - 1] = A(i);
  IrNode *s = ad_emit(C, IR_INDEX, n->nargs - 1, args);
  s->at = n->at;
  s->at.idx = ir_alloc(sizeof(IrIndexItem) * (size_t)(n->at.nidx ? n->at.nidx : 1));
  for (int k = 0; k < n->at.nidx; k++) {
    IrIndexItem it = n->at.idx[k];
    it.arg -= it.arg >= 0, it.start -= it.start >= 0, it.stop -= it.stop >= 0, it.step -= it.step >= 0;
    s->at.idx[k] = it;
  }
  /* Sum the region back to v's shape: leading axes away, and the axes
   * where v has 1 kept (a no-op where the region has 1 too).  Only the
   * region's rank is needed, and it follows from the items. */
  int xr = A(0)->type.rank, used = 0, rank = 0, adv = 0;
  for (int k = 0; k < n->at.nidx; k++) {
    IrIndexItem *it = &n->at.idx[k];
    used += it->kind != IDX_NEWAXIS && it->kind != IDX_ELLIPSIS;
    rank += it->kind == IDX_SLICE || it->kind == IDX_NEWAXIS;
    if (it->kind == IDX_TENSOR && A(it->arg)->type.rank > adv)
      adv = A(it->arg)->type.rank;
  }
  rank += adv + (xr - used); /* what ... (explicit or implied at the end) spans */
  IrType from = A(1)->type, *to = &A(1)->type;
  from.dtype = n->type.dtype;
  from.rank = rank;
  for (int k = 0; k < rank; k++)
    from.dims[k] = dim_const(2); /* "not 1": only which are 1 in v matters */
  if (rank < to->rank) {
    ad_unsupported(C, n, "an assignment of a value with more dims than its region");
    return;
  }
  s = ad_sum_to(C, n, s, &from, to);
  ad_acc_exact(C, A(1), s);
}

/* x[...] = v: x gets the adjoint with the region zeroed, v the region */
void grad_index_set(AdCtx *C, IrNode *n, IrNode *g) {
  if (ad_wants(C, A(0))) {
    IrNode **args = ir_alloc(sizeof(IrNode *) * (size_t)n->nargs);
    memcpy(args, n->args, sizeof(IrNode *) * (size_t)n->nargs);
    args[0] = g;
    args[1] = K(0);
    IrNode *s = ad_emit(C, IR_INDEX_SET, n->nargs, args);
    s->at = n->at;
    ad_acc_exact(C, A(0), s);
  }
  if (ad_wants(C, A(1)))
    grad_region_value(C, n, g);
}

/* x with x[...] += v (the gradient of a gather, so a second-order
 * gradient goes through it): x gets the adjoint, v the region */
void grad_index_add(AdCtx *C, IrNode *n, IrNode *g) {
  if (ad_wants(C, A(0)))
    ad_acc_exact(C, A(0), g);
  if (ad_wants(C, A(1)))
    grad_region_value(C, n, g);
}

/* rows perm[i*size : i*size + rows] of x: scatter-add them back */
void grad_batch(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *start = MUL(A(2), ad_iconst(C, n->at.ival));
  IrNode *stop = ad_bin(C, IR_ADD, start, ad_size(C, n, n->type.dims[0]));
  IrNode *rows = take(C, A(1), 1, 0, IDX_SLICE, start, stop);
  IrNode *args[3] = {ad_zeros_like(C, A(0)), g, rows};
  IrNode *s = ad_emit(C, IR_INDEX_ADD, 3, args);
  s->at.nidx = 1;
  s->at.idx = ir_alloc(sizeof(IrIndexItem));
  s->at.idx[0] = (IrIndexItem){.kind = IDX_TENSOR, .arg = 2, .start = -1, .stop = -1, .step = -1};
  ad_acc_exact(C, A(0), s);
}
