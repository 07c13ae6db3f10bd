/* passes/memplan_views.c - 0. row views: a buffer that is only a copy of a
 * block of consecutive rows of an argument is read in the argument itself.
 *
 *   alloc %V : f32[rows, 784]
 *   kernel %V[i, j] = load %S[add(r0, i), j]  for i < rows, j < 784
 *   ... call matmul %V, ... / load %V[e, f] ...
 *   free %V
 *
 * becomes the calls reading S from element r0 * 784 on (the call's
 * offset_a) and the loads reading %S[add(e, r0), f]: no buffer, no copy.
 * That is a mini-batch of `batches(X, y, size=B, shuffle=False)`: the
 * batch is rows [i*B, i*B + rows) of X (passes/lower_index.c, lower_batch),
 * read by the forward's matmul and the weight gradient's `x.T @ g` and,
 * for the labels, by the loss's kernels.  Before, every step copied the
 * batch (200 KiB at batch 64 of 784 floats) and, at 50,176 points, woke the
 * thread pool to do it.
 *
 * When: S is an argument that nothing in the function writes (the caller's
 * memory, borrowed, read-only here), the copy is a kernel storing V at its
 * flat point from a load of S of V's dtype, contiguous (k_load_contiguous:
 * S[v + b] for V[v], b invariant in the kernel), and b reads only
 * constants, loop variables (of the loops around, which do not change
 * while V lives: a loop variable is set by its own loop only) and argument
 * dims.  Every other reference to V or to its aliases (MOVEs) comes after
 * the copy in the same list or in bodies nested there, and is a load of V
 * or of an alias of its dims, the a operand of a matmul call, a MOVE
 * making an alias, or a FREE; no keep list names them.  Not where a
 * matmul's bias/activation is folded into the library call (the GPU,
 * Target.blas_epilogues): that folding takes whole matrices, no offsets.
 */
#include "memplan_internal.h"

#include <string.h>

typedef struct View {
  Fn *F;
  int src;      /* S */
  KExpr **base; /* V[v] is S[v + base] */
  KExpr *flat;  /* the same as one element offset into S */
} View;

static bool is_matmul(const KStmt *s) { return s->kind == KS_CALL && s->call == KC_MATMUL; }

/* Constants, loop variables, argument dims: the same value wherever V is read. */
static bool stable_expr(const KExpr *e) {
  if (e->kind != KX_CONST && e->kind != KX_VAR && e->kind != KX_OP && e->kind != KX_CAST && e->kind != KX_ARG_DIM)
    return false;
  for (int i = 0; i < e->nargs; i++)
    if (!stable_expr(e->args[i]))
      return false;
  return true;
}

/* The references of V's alias set (F->set) in s that the rewrite handles:
 * counted per statement, so that mp_stmt_refs' totals can be compared. */
static bool handled(Fn *F, const KBuf *vb, KStmt *s) {
  Refs r = {0};
  mp_stmt_refs(s, F->set, &r);
  if (!mp_refs_total(r))
    return true;
  if (r.write || r.escape || r.keep)
    return false;
  switch (s->kind) {
  case KS_MOVE: return true; /* an alias made (its dest is in the set) or, a set source to elsewhere: checked by the caller */
  case KS_FREE: return true;
  case KS_CALL: return is_matmul(s) && s->nbufs == 3 && r.read == 1 && F->set[s->bufs[0]];
  case KS_FOR:
  case KS_IF:
    /* the nested statements are looked at one by one */
    for (int i = 0; i < s->body.n; i++)
      if (!handled(F, vb, s->body.v[i]))
        return false;
    for (int i = 0; i < s->orelse.n; i++)
      if (!handled(F, vb, s->orelse.v[i]))
        return false;
    return true;
  default: return !r.assign; /* loads in expressions: each checked when rewritten (same dims) */
  }
}

/* Whether every load of the set in e is of a buffer with V's dims (or linear). */
static bool loads_ok(Fn *F, const KBuf *vb, const KExpr *e) {
  if (!e)
    return true;
  if (e->kind == KX_LOAD && F->set[e->buf] && !e->linear) {
    KBuf *kb = k_buf(F->f, e->buf);
    if (kb->rank != vb->rank)
      return false;
    for (int d = 0; d < vb->rank; d++)
      if (!dim_eq(kb->dims[d], vb->dims[d]))
        return false;
  }
  for (int i = 0; i < e->nargs; i++)
    if (!loads_ok(F, vb, e->args[i]))
      return false;
  return true;
}

typedef struct LoadCheck {
  Fn *F;
  const KBuf *vb;
  bool ok;
} LoadCheck;

static void check_root(KExpr *e, void *ctx) {
  LoadCheck *c = ctx;
  c->ok = c->ok && loads_ok(c->F, c->vb, e);
}

static bool list_loads_ok(Fn *F, const KBuf *vb, KList *l, int from) {
  LoadCheck c = {F, vb, true};
  for (int i = from; i < l->n && c.ok; i++) {
    k_stmt_exprs(l->v[i], check_root, &c);
    c.ok = c.ok && list_loads_ok(F, vb, &l->v[i]->body, 0) && list_loads_ok(F, vb, &l->v[i]->orelse, 0);
  }
  return c.ok;
}

/* ---- the rewrite ---- */

static bool is_zero(const KExpr *e) { return e->kind == KX_CONST && e->ival == 0; }

/* a + b and a * b, without the terms of 0 (the dumps stay readable) */
static KExpr *add_i64(KExpr *a, KExpr *b) { return is_zero(a) ? b : is_zero(b) ? a : k_op2(IR_ADD, DT_I64, a, b); }
static KExpr *mul_i64(KExpr *a, KExpr *b) { return is_zero(a) || is_zero(b) ? k_int(0) : k_op2(IR_MUL, DT_I64, a, b); }

static KExpr *view_load(KExpr *e, void *ctx) {
  View *v = ctx;
  if (e->kind != KX_LOAD || !v->F->set[e->buf])
    return NULL;
  KExpr **idx = ir_alloc(sizeof(KExpr *) * (size_t)(e->nargs ? e->nargs : 1));
  for (int i = 0; i < e->nargs; i++) {
    KExpr *inner = k_expr_map(e->args[i], view_load, v); /* an index may load V too */
    idx[i] = add_i64(inner, e->linear ? v->flat : v->base[i]);
  }
  KExpr *n = k_load(v->src, e->dtype, e->nargs, idx);
  n->linear = e->linear;
  return n;
}

static KExpr *map_root(View *v, KExpr *e) { return e ? k_expr_map(e, view_load, v) : NULL; }

static KExpr **map_roots(View *v, KExpr **es, int n) {
  if (!n)
    return es;
  KExpr **out = ir_alloc(sizeof(KExpr *) * (size_t)n);
  for (int i = 0; i < n; i++)
    out[i] = map_root(v, es[i]);
  return out;
}

/* A matmul reading V as a: S from element offset_a + flat on. */
static void view_call(View *v, KStmt *s) {
  int *bufs = ir_alloc(sizeof(int) * 3);
  memcpy(bufs, s->bufs, sizeof(int) * 3);
  bufs[0] = v->src;
  KExpr **ex = ir_alloc(sizeof(KExpr *) * 9);
  memcpy(ex, s->exprs, sizeof(KExpr *) * (size_t)s->nexprs);
  if (s->nexprs < 9)
    ex[7] = k_int(0), ex[8] = k_int(0);
  ex[7] = add_i64(ex[7], v->flat);
  s->bufs = bufs;
  s->exprs = ex;
  s->nexprs = 9;
}

static void rewrite_list(View *v, KList *l, int from) {
  Fn *F = v->F;
  for (int i = from; i < l->n;) {
    KStmt *s = l->v[i];
    Refs r = {0};
    mp_stmt_refs(s, F->set, &r);
    bool gone = (s->kind == KS_MOVE && F->set[s->buf]) || (s->kind == KS_FREE && F->set[s->buf]);
    if (gone) {
      mp_list_remove(l, i);
      continue;
    }
    if (mp_refs_total(r)) {
      if (is_matmul(s))
        view_call(v, s);
      else {
        s->value = map_root(v, s->value);
        s->finalize = map_root(v, s->finalize);
        s->store_idx = map_roots(v, s->store_idx, s->nstore);
        s->cond = map_root(v, s->cond);
        s->stop = map_root(v, s->stop);
        s->step = map_root(v, s->step);
        if (s->kind != KS_CALL)
          s->exprs = map_roots(v, s->exprs, s->nexprs);
      }
      rewrite_list(v, &s->body, 0);
      rewrite_list(v, &s->orelse, 0);
    }
    i++;
  }
}

/* l[i] allocates V and l[i+1] copies a block of rows of an argument into it. */
static bool try_view(Fn *F, KList *l, int i) {
  KStmt *a = l->v[i], *k = i + 1 < l->n ? l->v[i + 1] : NULL;
  if (a->kind != KS_ALLOC || !k || k->kind != KS_KERNEL || k->buf != a->buf || k->nred || k->finalize ||
      !mp_is_temp(F, a->buf) || F->nasg[a->buf] != 1 || !k_store_flat(F->f, k))
    return false;
  KExpr *val = k->value, **base;
  if (val->kind != KX_LOAD || val->buf == k->buf || k_buf(F->f, val->buf)->kind != KB_ARG ||
      k_buf(F->f, val->buf)->dtype != k_buf(F->f, k->buf)->dtype || !k_load_contiguous(F->f, k, val, &base))
    return false;
  KBuf *vb = k_buf(F->f, a->buf), *sb = k_buf(F->f, val->buf);
  if (vb->rank != sb->rank || val->linear || k->nloops != vb->rank)
    return false;
  for (int d = 0; d < vb->rank; d++) /* all of V */
    if (!dim_eq(k->extent[d], vb->dims[d]))
      return false;
  KExpr *flat = k_int(0);
  for (int d = 0; d < vb->rank; d++) {
    if (!stable_expr(base[d]) || !k_expr_invariant(k, base[d]))
      return false;
    flat = add_i64(mul_i64(flat, k_dim(sb->dims[d])), base[d]);
  }
  /* S is never written here */
  mp_alias_set(F, val->buf);
  Refs sr = mp_refs_all(F);
  if (sr.write || sr.escape || sr.freed)
    return false;
  /* every reference to V's aliases: here, after the copy, and handled */
  mp_alias_set(F, a->buf);
  Refs all = mp_refs_all(F), here = mp_refs_in(F, l, i, l->n);
  if (memcmp(&all, &here, sizeof all) || mp_results_refs(F))
    return false;
  for (int j = i + 2; j < l->n; j++)
    if (!handled(F, vb, l->v[j]))
      return false;
  for (int j = 0; j < F->moves.n; j++) { /* a MOVE from the set makes an alias (nothing else) */
    KStmt *m = F->moves.v[j];
    if (F->set[m->src] && !F->set[m->buf])
      return false;
  }
  if (!list_loads_ok(F, vb, l, i + 2))
    return false;
  View v = {F, val->buf, base, flat};
  rewrite_list(&v, l, i + 2);
  mp_list_remove(l, i + 1);
  mp_list_remove(l, i);
  memset(F->set, 0, (size_t)F->nb);
  mp_replan(F);
  return true;
}

int mp_views(Fn *F, KList *l) {
  int n = 0;
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    n += mp_views(F, &s->body) + mp_views(F, &s->orelse);
    if (try_view(F, l, i)) {
      n++;
      i--; /* l[i] is now the statement after the copy */
    }
  }
  return n;
}
