/* passes/memplan_writes.c - who writes a whole buffer: a statement that
 * stores every element of a buffer once without reading its old contents
 * (a kernel over the buffer's own points, a matmul, a random draw, a collective, a matmul
 * by blocks of rows ending in its epilogue, a row kernel whose first stage
 * touching the buffer writes its row).  In place, reuse and hoisting
 * ask it before giving a buffer memory that holds something else, and the
 * pass before marking an allocation `uninit`.
 */
#include "memplan_internal.h"

/* ---- a matmul by blocks of rows, its epilogue on each block ---- */

static KExpr *uncast(KExpr *e) {
  while (e && e->kind == KX_CAST && ir_dtype_is_int(e->dtype))
    e = e->args[0];
  return e;
}

static bool is_int_const(KExpr *e, int64_t *v) {
  e = uncast(e);
  if (!e || e->kind != KX_CONST)
    return false;
  *v = e->ival;
  return true;
}

/* e is op(a, b) up to integer casts; its operands in *a, *b. */
static bool is_op2(KExpr *e, IrOp op, KExpr **a, KExpr **b) {
  e = uncast(e);
  if (!e || e->kind != KX_OP || e->op != op || e->nargs != 2)
    return false;
  *a = uncast(e->args[0]);
  *b = uncast(e->args[1]);
  return true;
}

static bool same_extent(KExpr *e, Dim d) {
  int64_t c, v;
  e = uncast(e);
  if (dim_is_const(d, &c))
    return is_int_const(e, &v) && v == c;
  return e->kind == KX_DIM && dim_eq(e->dim, d);
}

/* `for r0 = 0 to M step c { rows = minimum(c, M - r0); ...; K }` where
 * kernel K (top level in the body, reading nothing of the body after it)
 * writes D[r0 + i, j...] for i < rows and every j: over the whole loop,
 * every element of D once (a matmul's epilogue, passes/lower_ops.c). */
KStmt *mp_block_kernel(Fn *F, KStmt *loop) {
  int64_t start, step, c;
  if (loop->kind != KS_FOR || loop->rows || !is_int_const(loop->cond, &start) || start != 0 ||
      !is_int_const(loop->step, &step) || step <= 0 || !loop->body.n)
    return NULL;
  KStmt *K = loop->body.v[loop->body.n - 1];
  if (K->kind != KS_KERNEL || K->nred || K->store_linear || !mp_is_temp(F, K->buf))
    return NULL;
  KBuf *kb = k_buf(F->f, K->buf);
  if (kb->rank < 1 || K->nstore != kb->rank || !same_extent(loop->stop, kb->dims[0]))
    return NULL;
  /* rows = minimum(step, M - r0), set once in the body, before K */
  int rows = -1, nset = 0;
  for (int i = 0; i < loop->body.n; i++) {
    KStmt *s = loop->body.v[i];
    KExpr *a, *b, *m, *r;
    if (s->kind != KS_SETSYM)
      continue;
    nset++;
    if (is_op2(s->cond, IR_MINIMUM, &a, &b) && is_int_const(a, &c) && c == step &&
        is_op2(b, IR_SUB, &m, &r) && same_extent(m, kb->dims[0]) && r->kind == KX_VAR && r->var == loop->var)
      rows = s->buf;
  }
  if (rows < 0 || nset != 1)
    return NULL;
  /* the stores: r0 + i (i over rows), then one loop per other axis */
  int nout = K->nloops;
  bool used[2 * IR_MAX_RANK] = {0};
  for (int d = 0; d < kb->rank; d++) {
    KExpr *e = uncast(K->store_idx[d]), *v = e, *x;
    if (d == 0 && (!is_op2(e, IR_ADD, &x, &v) || x->kind != KX_VAR || x->var != loop->var))
      return NULL;
    int64_t z;
    if (d > 0 && is_int_const(v, &z) && z == 0 && dim_is_const(kb->dims[d], &c) && c == 1)
      continue;
    if (v->kind != KX_VAR)
      return NULL;
    int j = 0;
    while (j < nout && K->loopvar[j] != v->var)
      j++;
    if (j == nout || used[j] || !dim_eq(K->extent[j], d == 0 ? dim_sym(rows) : kb->dims[d]))
      return NULL;
    used[j] = true;
  }
  for (int j = 0; j < nout; j++)
    if (!used[j])
      return NULL;
  return K;
}

/* call is `matmul a[r0:], b, m[r0:]` writing rows r0 .. r0 + rows of m
 * (2-D, m = b), the block of loop (see mp_block_kernel). */
static bool block_matmul(Fn *F, KStmt *loop, KStmt *call, int b) {
  KBuf *kb = k_buf(F->f, b);
  KStmt *K = mp_block_kernel(F, loop);
  int64_t one;
  KExpr *x, *y;
  if (call->kind != KS_CALL || call->call != KC_MATMUL || call->nbufs != 3 || call->bufs[2] != b ||
      kb->rank != 2 || call->nexprs != 9 || !K || F->set[call->bufs[0]] || F->set[call->bufs[1]])
    return false;
  return is_int_const(call->exprs[0], &one) && one == 1 && same_extent(call->exprs[1], K->extent[0]) &&
         same_extent(call->exprs[2], kb->dims[1]) && is_op2(call->exprs[8], IR_MUL, &x, &y) &&
         x->kind == KX_VAR && x->var == loop->var && same_extent(y, kb->dims[1]);
}

/* Kernel s writes every element of b once, each at its own point, without
 * reading b or its aliases (F->set): its first nrow store indices are the
 * variables rowvar[] of the row loops around it (a row kernel's stage,
 * which writes its row of b), the others its own loops over the rest of
 * b's dims (or 0 on a dim of 1). */
static bool kernel_writes_all(Fn *F, KStmt *s, int b, const int *rowvar, int nrow) {
  if (s->kind != KS_KERNEL || s->buf != b)
    return false;
  if (mp_expr_loads(s->value, F->set) || mp_expr_loads(s->finalize, F->set))
    return false;
  for (int i = 0; i < s->nstore; i++)
    if (mp_expr_loads(s->store_idx[i], F->set))
      return false;
  KBuf *kb = k_buf(F->f, b);
  int nout = s->nloops - s->nred;
  bool used[2 * IR_MAX_RANK] = {0};
  if (s->store_linear) {
    Dim n;
    return !nrow && s->nstore == 1 && nout == 1 && s->store_idx[0]->kind == KX_VAR &&
           s->store_idx[0]->var == s->loopvar[0] && mp_numel(kb, &n) && dim_eq(s->extent[0], n);
  }
  if (s->nstore != kb->rank || nrow > kb->rank)
    return false;
  for (int d = 0; d < nrow; d++)
    if (s->store_idx[d]->kind != KX_VAR || s->store_idx[d]->var != rowvar[d])
      return false;
  int mapped = 0;
  for (int d = nrow; d < kb->rank; d++) {
    KExpr *e = s->store_idx[d];
    int64_t c;
    if (e->kind == KX_CONST && e->ival == 0 && dim_is_const(kb->dims[d], &c) && c == 1)
      continue;
    if (e->kind != KX_VAR)
      return false;
    int j = 0;
    while (j < nout && s->loopvar[j] != e->var)
      j++;
    if (j == nout || used[j] || !dim_eq(s->extent[j], kb->dims[d]))
      return false;
    used[j] = true;
    mapped++;
  }
  return mapped == nout; /* no outer loop left that would write a point twice */
}

/* A row kernel's loop (`kernel rows`, with one nested `rows` loop per
 * further row dim) over b's leading dims, whose first stage touching b
 * (or an alias) writes b's whole row: every iteration writes its row
 * before anything reads it, so the loop writes all of b (softmax's
 * output, a row's max or sum).  rowvar[] gets the loops' variables. */
static bool rows_write_all(Fn *F, KStmt *loop, int b, int *rowvar, int nrow) {
  KBuf *kb = k_buf(F->f, b);
  if (loop->kind != KS_FOR || !loop->rows || nrow >= kb->rank || !same_extent(loop->stop, kb->dims[nrow]))
    return false;
  rowvar[nrow] = loop->var;
  KStmt *t = mp_first_toucher(F, &loop->body, 0);
  if (t && t->kind == KS_FOR)
    return rows_write_all(F, t, b, rowvar, nrow + 1);
  return t && kernel_writes_all(F, t, b, rowvar, nrow + 1);
}

/* ===== who writes a whole buffer ===== */

/* Statement s writes every element of b exactly once, each at its own
 * point, without reading b or its aliases (F->set) first: the memory's old
 * contents do not matter, and a kernel reading another buffer at the stored
 * index may write over it. */
bool mp_writes_all(Fn *F, KStmt *s, int b) {
  if (s->kind == KS_FOR && s->rows) {
    int rowvar[IR_MAX_RANK];
    return rows_write_all(F, s, b, rowvar, 0);
  }
  if (s->kind == KS_FOR) { /* a matmul by blocks of rows, then its epilogue on each block */
    KStmt *K = mp_block_kernel(F, s);
    KBuf *kb = k_buf(F->f, b);
    if (!K || !k_loads_at_store(K->value, b, K) || kb->rank < 1 || !same_extent(s->stop, kb->dims[0]))
      return false;
    bool written = K->buf == b && !mp_expr_loads(K->value, F->set);
    for (int i = 0; i < s->body.n - 1; i++) {
      KStmt *t = s->body.v[i];
      Refs r = {0};
      mp_stmt_refs(t, F->set, &r);
      if (mp_refs_total(r) != r.write || (K->buf != b && t == K))
        return false;
      if (r.write && !(written = block_matmul(F, s, t, b)))
        return false;
    }
    int n = 0;
    mp_one_set(F, b);
    n = mp_expr_loads(K->value, F->set);
    mp_alias_set(F, b);
    return written && n == mp_expr_loads(K->value, F->set);
  }
  if (s->kind == KS_CALL) {
    if (s->call == KC_MATMUL && s->nbufs == 3 && s->bufs[2] == b)
      return !F->set[s->bufs[0]] && !F->set[s->bufs[1]];
    if (s->call == KC_DIST && s->bufs[s->nbufs - 1] == b) /* a collective: its result from its operand */
      return s->nbufs == 1 || !F->set[s->bufs[0]];
    return s->call == KC_RAND && s->nbufs == 1 && s->bufs[0] == b;
  }
  return kernel_writes_all(F, s, b, NULL, 0);
}

/* The first statement of l[from..] that touches the set (F->set). */
KStmt *mp_first_toucher(Fn *F, KList *l, int from) {
  for (int i = from; i < l->n; i++)
    if (mp_refs_total(mp_refs_in(F, l, i, i + 1)))
      return l->v[i];
  return NULL;
}

/* A kernel that zeroes buffer b (reused memory, where lower's ALLOC gave zeros). */
KStmt *mp_zero_kernel(Fn *F, int b, Loc loc) {
  KBuf *kb = k_buf(F->f, b);
  KStmt *k = k_stmt(KS_KERNEL, loc);
  k->buf = b;
  k->value = ir_dtype_is_float(kb->dtype) ? k_const(kb->dtype, 0.0) : k_cast(k_int(0), kb->dtype);
  if (kb->rank > 0) {
    Dim n;
    mp_numel(kb, &n);
    k->nloops = 1;
    k->extent[0] = n;
    k->loopvar[0] = F->f->nvars++;
    k->store_idx = ir_alloc(sizeof(KExpr *));
    k->store_idx[0] = k_var(k->loopvar[0]);
    k->nstore = 1;
    k->store_linear = true;
  }
  return k;
}
