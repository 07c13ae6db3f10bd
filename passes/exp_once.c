/* passes/exp_once.c - the `exp_once` pass: a row kernel that computes a
 * row's logsumexp and then exp(x - logsumexp) computes exp once an
 * element, as softmax's row kernel does.
 *
 * The gradient of logsumexp is exp(x - lse) (passes/grad_rules_shape.c),
 * so log_softmax's and cross-entropy's backward pass fuse into a row
 * kernel (row_kernel.h) with a stage A
 *
 *     L[i] = sum(exp(sub(V, M))) then add(log(acc), M)        over j
 *
 * (lower_ops.c's logsumexp: V reads x[i, j], M is the row's max made
 * finite), and a later stage B writing a buffer O's row whole whose value
 * holds exp(sub(V', load L[i])), V' being V with B's loop variable k for
 * j.  On a CPU (the target's row_scratch_bytes) they become
 *
 *     O[i, k] = exp(sub(V', M))                                 new, before A
 *     L[i] = sum(load O[i, j]) then add(log(acc), M)
 *     S[i] = exp(sub(M, load L[i]))                             new, after A
 *     O[i, k] = ... mul(load O[i, k], load S[i]) ...            B
 *
 * since exp(x - lse) = exp(x - m) * exp(m - lse): one exp a row instead
 * of one an element.  S, the row's factor, is stored where the row's max
 * was (M loads it), which nothing after A reads.  Both factors are at most
 * 1 (m is the max, lse >= m), and the product is as close to exp(x - lse)
 * as that is to the exact value (lse's rounding moves both alike).  The row_scratch pass, next,
 * keeps O's row in the thread's scratch row from the new stage to B, as
 * it does softmax's; the GPU's row is in global memory, where exp is the
 * cheaper of the two.
 *
 * Conditions: M loads one element, at the row, of a buffer of the exp's
 * dtype that is the kernel's own and that no stage after A reads; O is a
 * temporary of the exp's dtype, its row one dim of A's extent; no stage
 * before B touches O, and B reads it nowhere else; V and
 * M read neither O nor let-variables, M not j; and no buffer the kernel
 * reads may share O's memory, since the new stage writes O's row before A
 * reads V: O is allocated right before the kernel (a new block while they
 * are live), or none of them is joined to O by a MOVE (a loop's carried
 * value, `x = x - lr * grad(...)`, is, but its new value's block is
 * allocated in the loop body, right before the kernel).
 */
#include "passes.h"

#include "../ir/kernel.h"
#include "../ir/target.h"
#include "row_kernel.h"

/* e can be copied into another stage: no let-variable, no accumulator. */
static bool portable(const KExpr *e) {
  if (e->kind == KX_LET || e->kind == KX_LETVAR || e->kind == KX_ACC || e->kind == KX_ACC_INDEX)
    return false;
  for (int i = 0; i < e->nargs; i++)
    if (!portable(e->args[i]))
      return false;
  return true;
}

/* Stage s loads buffer b (in its value, finalize or store indices). */
static bool stage_reads(const KStmt *s, int b) {
  if (k_expr_reads_buf(s->value, b) || (s->finalize && k_expr_reads_buf(s->finalize, b)))
    return true;
  for (int i = 0; i < s->nstore; i++)
    if (k_expr_reads_buf(s->store_idx[i], b))
      return true;
  return false;
}

static bool is_op(const KExpr *e, IrOp op, int nargs) {
  return e && e->kind == KX_OP && e->op == op && e->nargs == nargs;
}

/* Stage A's parts: sum(exp(sub(V, M))) then add(log(acc), M). */
typedef struct Lse {
  KStmt *stage;
  KExpr *v, *m, *load; /* load: L[i] as later stages read it */
} Lse;

static bool lse_stage(KStmt *s, const Rows *r, Lse *out) {
  if (s->kind != KS_KERNEL || s->nloops != 1 || s->nred != 1 || s->combine != IR_SUM || s->store_linear ||
      !at_row(s->store_idx, r) || !is_op(s->value, IR_EXP, 1) || !is_op(s->value->args[0], IR_SUB, 2) ||
      !is_op(s->finalize, IR_ADD, 2) || !is_op(s->finalize->args[0], IR_LOG, 1) ||
      s->finalize->args[0]->args[0]->kind != KX_ACC)
    return false;
  KExpr *v = s->value->args[0]->args[0], *m = s->value->args[0]->args[1];
  if (!k_expr_eq(m, s->finalize->args[1]) || k_expr_reads_var(m, s->loopvar[0]) || !portable(v) ||
      !portable(m))
    return false;
  for (int i = r->n; i < s->nstore; i++)
    if (k_expr_reads_var(s->store_idx[i], s->loopvar[0]))
      return false;
  *out = (Lse){s, v, m, k_load(s->buf, s->value->dtype, s->nstore, s->store_idx)};
  return true;
}

/* What B's rewrite looks for and puts in its place. */
typedef struct Match {
  const Lse *a;
  KExpr *v;    /* V with B's loop variable */
  KExpr *with; /* mul(load O[i, k], exp(sub(M, L[i]))) */
  int hits;
} Match;

static KExpr *replace_exp(KExpr *e, void *ctx) {
  Match *mt = ctx;
  if (!is_op(e, IR_EXP, 1) || !is_op(e->args[0], IR_SUB, 2) || !k_expr_eq(e->args[0]->args[0], mt->v) ||
      !k_expr_eq(e->args[0]->args[1], mt->a->load))
    return NULL;
  mt->hits++;
  return mt->with;
}

static KExpr *var_to(KExpr *e, void *ctx) {
  const int *ft = ctx;
  return e->kind == KX_VAR && e->var == ft[0] ? k_var(ft[1]) : NULL;
}

/* References to one buffer (count_ref). */
typedef struct Refs {
  int buf, any;
} Refs;

static void count_ref(int buf, KRefRole role, void *ctx) {
  Refs *c = ctx;
  (void)role;
  c->any += buf == c->buf;
}

/* Buffers joined to b by MOVEs (either way, transitively) in l: marked. */
static bool mark_moves(const KList *l, bool *joined) {
  bool grew = false;
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_MOVE && joined[s->buf] != joined[s->src])
      joined[s->buf] = joined[s->src] = grew = true;
    grew |= mark_moves(&s->body, joined);
    grew |= mark_moves(&s->orelse, joined);
  }
  return grew;
}

/* The one element e loads (every load of e is of it); NULL if none, or
 * several. */
static const KExpr *only_load(const KExpr *e) {
  if (e->kind == KX_LOAD) {
    for (int i = 0; i < e->nargs; i++)
      if (k_expr_has_load(e->args[i])) /* an index that loads: not a plain element */
        return NULL;
    return e;
  }
  const KExpr *found = NULL;
  for (int i = 0; i < e->nargs; i++) {
    const KExpr *l = only_load(e->args[i]);
    if (!l && k_expr_has_load(e->args[i]))
      return NULL;
    if (l && found && !k_expr_eq(l, found))
      return NULL;
    if (l)
      found = l;
  }
  return found;
}

/* O is allocated afresh in list l before the row kernel l[at], nothing
 * between touching it: a new block, while every buffer the kernel reads
 * is live, so none of them has O's memory. */
static bool fresh(const KList *l, int at, int o) {
  Refs c = {.buf = o};
  for (int i = at - 1; i >= 0; i--) {
    KStmt *s = l->v[i];
    if (s->kind == KS_ALLOC && s->buf == o)
      return c.any == 0;
    k_stmt_refs(s, count_ref, &c);
  }
  return false;
}

/* No stage of the kernel reads a buffer that may share O's memory. */
static bool apart(KFunc *f, const Rows *r, int o) {
  bool *joined = ir_alloc((size_t)f->bufs.n + 1);
  joined[o] = true;
  while (mark_moves(&f->body, joined))
    ;
  joined[o] = false; /* O itself: the conditions on its loads are separate */
  const KList *body = &r->loop->body;
  for (int i = 0; i < body->n; i++)
    for (int b = 0; b < f->bufs.n; b++)
      if (joined[b] && stage_reads(body->v[i], b))
        return false;
  return true;
}

/* s into l at position at. */
static void insert(KList *l, int at, KStmt *s) {
  k_push(l, s);
  for (int i = l->n - 1; i > at; i--)
    l->v[i] = l->v[i - 1];
  l->v[at] = s;
}

/* The rewrite for stage A and stage B = body[b] of the row kernel l[at]:
 * whether it applied. */
static bool exp_once(KFunc *f, const KList *l, int at, const Rows *r, const Lse *A, int b) {
  KList *body = &r->loop->body;
  KStmt *B = body->v[b];
  int o = B->buf, d = r->n;
  KBuf *ob = k_buf(f, o);
  DType dt = A->stage->value->dtype;
  if (!writes_row(f, B, r) || B->nloops != 1 || ob->kind != KB_TEMP || ob->dtype != dt || ob->rank != d + 1 ||
      !dim_eq(B->extent[0], A->stage->extent[0]) || k_expr_reads_buf(A->v, o) || k_expr_reads_buf(A->m, o) ||
      stage_reads(B, o))
    return false;
  for (int i = 0; i < b; i++)
    if (body->v[i]->buf == o || stage_reads(body->v[i], o))
      return false;
  int k = B->loopvar[0], ft[2] = {A->stage->loopvar[0], k};
  KExpr *idx[IR_MAX_RANK];
  for (int i = 0; i < d; i++)
    idx[i] = k_var(r->var[i]);
  idx[d] = k_var(k);
  /* the row's factor exp(M - L[i]), computed once: in B's loop it would
   * be an exp an element again (its loads may alias B's stores, so LLVM
   * does not hoist it).  It goes where the row's max was, M's one buffer,
   * which no stage after A reads any more (a new buffer would be an
   * allocation in a training loop's steady state, after memplan). */
  const KExpr *mload = only_load(A->m);
  if (!mload || mload->linear || mload->nargs < d || !at_row(mload->args, r) ||
      k_buf(f, mload->buf)->dtype != dt || !private_to(f, r->loop, mload->buf))
    return false;
  for (int i = d; i < mload->nargs; i++)
    if (mload->args[i]->kind != KX_CONST) /* the row's own element: each row writes its factor there */
      return false;
  int sb = mload->buf;
  Match mt = {.a = A,
              .v = k_expr_map(A->v, var_to, ft),
              .with =
                  k_op2(IR_MUL, dt, k_load(o, dt, d + 1, idx), k_load(sb, dt, mload->nargs, mload->args))};
  KExpr *value = k_expr_map(B->value, replace_exp, &mt);
  if (!mt.hits || !(fresh(l, at, o) || apart(f, r, o)))
    return false;
  int a = 0;
  while (body->v[a] != A->stage)
    a++;
  for (int i = a + 1; i < body->n; i++)
    if (body->v[i]->buf == sb ||
        stage_reads(body->v[i], sb)) /* B's value as it was: the new one reads the scale */
      return false;
  KStmt *scale = k_stmt(KS_KERNEL, A->stage->loc);
  scale->buf = sb;
  scale->nstore = mload->nargs;
  scale->store_idx = mload->args;
  KExpr *sub = k_op2(IR_SUB, A->m->dtype, A->m, A->load);
  scale->value = k_op(IR_EXP, dt, 1, &sub);
  /* the new stage: B's loop and store, exp(V' - M) */
  KStmt *e = k_stmt(KS_KERNEL, A->stage->loc);
  *e = *B;
  e->loc = A->stage->loc;
  e->stream = NULL;
  KExpr *diff = k_op2(IR_SUB, A->stage->value->args[0]->dtype, mt.v, A->m);
  e->value = k_op(IR_EXP, dt, 1, &diff);
  B->value = value;
  /* A sums O's row */
  KExpr *aidx[IR_MAX_RANK];
  for (int i = 0; i < d; i++)
    aidx[i] = k_var(r->var[i]);
  aidx[d] = k_var(A->stage->loopvar[0]);
  A->stage->value = k_load(o, dt, d + 1, aidx);
  /* e goes right before A, the scale right after it */
  insert(body, a + 1, scale);
  insert(body, a, e);
  return true;
}

static void walk(KFunc *f, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    Rows r;
    if (row_kernel(s, &r)) {
      KList *body = &r.loop->body;
      for (int a = 0; a < body->n; a++) {
        Lse A;
        if (!lse_stage(body->v[a], &r, &A))
          continue;
        for (int b = a + 1; b < body->n; b++)
          if (exp_once(f, l, i, &r, &A, b))
            break;
      }
    } else if (s->kind == KS_FOR) {
      walk(f, &s->body);
    } else if (s->kind == KS_IF) {
      walk(f, &s->body);
      walk(f, &s->orelse);
    }
  }
}

bool pass_exp_once(KModule *m) {
  if (m->target->kind != TGT_CPU || m->target->row_scratch_bytes <= 0)
    return true;
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    walk(f, &f->body);
  }
  return true;
}
