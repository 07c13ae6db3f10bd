/* passes/lower_rows.c - a row kernel computes a costly row value once.
 *
 * Fusion inlines a value read by two stages of a row kernel into both
 * (passes/fusion.c's cost rule: an exp read twice is recomputed rather
 * than given a buffer of [R, C], which would go through memory).  Softmax
 * is the case that matters:
 *
 *   stage %2[i0, 0] = sum(exp(sub(load %x[i0, i2], load %1[i0, 0])))  for reduce i2 < C
 *   stage %3[i0, i3] = div(exp(sub(load %x[i0, i3], load %1[i0, 0])), load %2[i0, 0])  for i3 < C
 *
 * evaluates exp twice per element.  The last stage's output row is a
 * place to keep it: nothing before the last stage reads that buffer, and
 * the row (4 KiB for 1024 f32) stays in L1 between the stages.  So the
 * expression shared by the last stage and an earlier reduction stage is
 * stored into the output row by a new stage placed before that reduction,
 * and both read it back:
 *
 *   stage %3[i0, i4] = exp(sub(load %x[i0, i4], load %1[i0, 0]))  for i4 < C
 *   stage %2[i0, 0] = sum(load %3[i0, i2])  for reduce i2 < C
 *   stage %3[i0, i3] = div(load %3[i0, i3], load %2[i0, 0])  for i3 < C
 *
 * The same values in the same order, so the same bits; memory sees the
 * output written once.  Only an expression that calls the math library
 * (below) is worth a pass over the row in L1: a subtraction (layer norm's
 * x - mean) is cheaper to recompute than to store and load.
 *
 * And a stage that divides by a row value (softmax's last stage, by the
 * row's sum) multiplies by its reciprocal instead, as PyTorch does:
 *
 *   stage %3[i0, i3] = mul(load %3[i0, i3], div(1, load %2[i0, 0]))  for i3 < C
 *
 * one division per row instead of one per element (a 16-lane division
 * costs ten cycles where a multiplication costs one); each quotient may
 * differ from the division's by an ulp.
 */
#include "lower_internal.h"

/* Loop variable `a[k]` of one stage is `b[k]` of another: the same tree
 * otherwise (a KExpr of the kinds a stage holds before legalize). */
static bool eq_mapped(const KExpr *x, const KExpr *y, const int *a, const int *b, int n) {
  if (x->kind == KX_VAR && y->kind == KX_VAR) {
    for (int k = 0; k < n; k++)
      if (x->var == a[k])
        return y->var == b[k];
    return x->var == y->var;
  }
  if (x->kind != y->kind || x->dtype != y->dtype || x->nargs != y->nargs || x->op != y->op ||
      x->kind == KX_LET || x->kind == KX_LETVAR || x->kind == KX_ACC || x->kind == KX_ACC_INDEX)
    return false;
  if (x->kind != KX_OP && x->kind != KX_CAST && x->kind != KX_LOAD) {
    KExpr xs = *x, ys = *y; /* leaves: compare as k_expr_eq does */
    xs.nargs = ys.nargs = 0;
    return k_expr_eq(&xs, &ys);
  }
  if (x->kind == KX_LOAD && (x->buf != y->buf || x->linear != y->linear))
    return false;
  for (int i = 0; i < x->nargs; i++)
    if (!eq_mapped(x->args[i], y->args[i], a, b, n))
      return false;
  return true;
}

/* Loop variables a[k] of one stage, b[k] of another; for replace, the
 * subtree `pat` (in a's variables) becomes `with`, and hits counts it. */
typedef struct {
  const int *a, *b;
  int n;
  const KExpr *pat;
  KExpr *with;
  int hits;
} VarMap;

static KExpr *rename_leaf(KExpr *e, void *ctx) {
  VarMap *m = ctx;
  if (e->kind != KX_VAR)
    return NULL;
  for (int k = 0; k < m->n; k++)
    if (e->var == m->a[k])
      return k_var(m->b[k]);
  return NULL;
}

/* e with variables a[k] renamed b[k]. */
static KExpr *rename_vars(KExpr *e, const int *a, const int *b, int n) {
  VarMap m = {a, b, n, NULL, NULL, 0};
  return k_expr_map(e, rename_leaf, &m);
}

static KExpr *replace_leaf(KExpr *e, void *ctx) {
  VarMap *m = ctx;
  if (!eq_mapped(m->pat, e, m->a, m->b, m->n))
    return NULL;
  m->hits++;
  return m->with;
}

/* e with every subtree equal to `pat` (pat's variables a[k] being e's
 * b[k]) replaced by `with`; *hits counts them. */
static KExpr *replace(KExpr *e, const KExpr *pat, const int *a, const int *b, int n, KExpr *with, int *hits) {
  VarMap m = {a, b, n, pat, with, 0};
  KExpr *r = k_expr_map(e, replace_leaf, &m);
  *hits += m.hits;
  return r;
}

/* The largest subtree of e (preorder: the outermost first) that calls the
 * math library, reads no `out`, and occurs in `other` (e's variables a[k]
 * being other's b[k]). */
static KExpr *shared(KExpr *e, const KExpr *other, const int *a, const int *b, int n, int out) {
  if (e->kind != KX_OP && e->kind != KX_CAST)
    return NULL;
  if (k_expr_calls_math(e) && !k_expr_reads_buf(e, out)) {
    int hits = 0;
    replace((KExpr *)other, e, a, b, n, e, &hits);
    if (hits)
      return e;
  }
  for (int i = 0; i < e->nargs; i++) {
    KExpr *s = shared(e->args[i], other, a, b, n, out);
    if (s)
      return s;
  }
  return NULL;
}

/* The last stage stores its row: its store indices end in its loop
 * variables, in order, after indices that read none of them (the row's). */
static bool stores_row(const KStmt *s) {
  int n = s->nloops;
  if (s->kind != KS_KERNEL || s->nred || n < 1 || s->store_linear || s->nstore < n)
    return false;
  for (int i = 0; i < n; i++) {
    const KExpr *x = s->store_idx[s->nstore - n + i];
    if (x->kind != KX_VAR || x->var != s->loopvar[i])
      return false;
  }
  for (int i = 0; i < s->nstore - n; i++)
    for (int k = 0; k < n; k++)
      if (k_expr_reads_var(s->store_idx[i], s->loopvar[k]))
        return false;
  return true;
}

static void note_load(int buf, KRefRole role, void *ctx) {
  (void)buf;
  (void)role;
  *(bool *)ctx = true;
}

/* Whether statement s reads or writes buffer b. */
static void note_ref(int buf, KRefRole role, void *ctx) {
  (void)role;
  int *p = ctx;
  if (buf == p[0])
    p[1] = 1;
}

static bool touches(const KStmt *s, int b) {
  int p[2] = {b, 0};
  k_stmt_refs(s, note_ref, p);
  return p[1] != 0;
}

void lw_share_row_values(LCtx *C, KList *stages) {
  if (stages->n < 2)
    return;
  KStmt *last = stages->v[stages->n - 1];
  if (!stores_row(last))
    return;
  int n = last->nloops, out = last->buf;
  for (int k = stages->n - 2; k >= 0; k--) {
    KStmt *s = stages->v[k];
    if (touches(s, out))
      return; /* the output row is read or written before the last stage: not free */
    if (s->kind != KS_KERNEL || !s->nred || s->nloops != n || s->nred != n || s->finalize)
      continue;
    bool same = true;
    for (int i = 0; i < n; i++)
      same &= dim_eq(s->extent[i], last->extent[i]);
    if (!same)
      continue;
    KExpr *e = shared(last->value, s->value, last->loopvar, s->loopvar, n, out);
    if (!e || e->dtype != k_buf(C->f, out)->dtype)
      continue; /* stored in another dtype, it would not read back the same */
    /* 1. a new stage stores e into the output row, before s */
    KStmt *st = k_stmt(KS_KERNEL, last->loc);
    int vars[2 * IR_MAX_RANK];
    st->nloops = n;
    for (int i = 0; i < n; i++) {
      vars[i] = lw_new_var(C);
      st->loopvar[i] = vars[i];
      st->extent[i] = last->extent[i];
    }
    st->buf = out;
    st->value = rename_vars(e, last->loopvar, vars, n);
    st->nstore = last->nstore;
    st->store_idx = ir_alloc(sizeof *st->store_idx * (size_t)st->nstore);
    for (int i = 0; i < st->nstore; i++)
      st->store_idx[i] = rename_vars(last->store_idx[i], last->loopvar, vars, n);
    /* 2. s and the last stage read it back, each at its own point */
    int hits = 0;
    KExpr **sidx = ir_alloc(sizeof *sidx * (size_t)last->nstore);
    for (int i = 0; i < last->nstore; i++)
      sidx[i] = rename_vars(last->store_idx[i], last->loopvar, s->loopvar, n);
    s->value = replace(s->value, e, last->loopvar, s->loopvar, n, k_load(out, e->dtype, last->nstore, sidx), &hits);
    last->value = replace(last->value, e, last->loopvar, last->loopvar, n,
                          k_load(out, e->dtype, last->nstore, last->store_idx), &hits);
    k_push(stages, NULL);
    for (int i = stages->n - 1; i > k; i--)
      stages->v[i] = stages->v[i - 1];
    stages->v[k] = st;
    return;
  }
}

/* A divisor that is a row value: it reads a buffer and none of stage s's
 * loop variables (softmax's sum, read once per row). */
static bool row_value(const KStmt *s, const KExpr *e) {
  bool loads = false;
  for (int i = 0; i < s->nloops; i++)
    if (k_expr_reads_var(e, s->loopvar[i]))
      return false;
  k_expr_refs(e, note_load, &loads);
  return loads;
}

static KExpr *reciprocal_leaf(KExpr *e, void *ctx) {
  const KStmt *s = ctx;
  if (e->kind != KX_OP || e->op != IR_DIV || e->nargs != 2 || !ir_dtype_is_float(e->dtype) ||
      e->args[0]->dtype != e->dtype || e->args[1]->dtype != e->dtype || e->args[0]->kind == KX_CONST ||
      !row_value(s, e->args[1]))
    return NULL;
  KExpr *r = k_op2(IR_DIV, e->dtype, k_const(e->dtype, 1.0), e->args[1]);
  return k_op2(IR_MUL, e->dtype, k_expr_map(e->args[0], reciprocal_leaf, ctx), r);
}

void lw_row_reciprocals(KList *stages) {
  for (int i = 0; i < stages->n; i++) {
    KStmt *s = stages->v[i];
    if (s->kind == KS_KERNEL)
      s->value = k_expr_map(s->value, reciprocal_leaf, s);
  }
}
