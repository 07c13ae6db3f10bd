/* passes/memplan.c - the `memplan` pass: fewer allocations on the kernel IR.
 *
 * It runs on the kernel IR right after `lower` (DESIGN lists it before lower,
 * on the graph; buffers, frees and loops only exist here, see
 * docs/internals.md).  Three rewrites, in this order, each keeping the
 * ownership rule of lower (a block frees what it owns unless it hands it on,
 * compared by pointer):
 *
 * 1. In place.  A kernel `D[p] = f(..., S[p], ...)` writing a fresh buffer D
 *    (its ALLOC earlier in the same list, nothing between) writes S's memory
 *    instead when S's old value has no later reader: D is renamed S from
 *    there on and its ALLOC goes.  Only when every store is at a distinct
 *    point covering all of D (the loop variables, one per axis), every load
 *    of S is at exactly the stored index (so each element is read before it
 *    is written, at the same place), and S has D's dtype and dims.  S is
 *    either a temporary of the same list (allocated there, no reader after
 *    the kernel) or the carried buffer of the `for` whose body the list is,
 *    reassigned at the end of the body (`W -= lr * g`: the new W is written
 *    into the carried W, and the copy a loop makes of its initial values
 *    becomes a copy onto itself, which goes too).  The same through a loop
 *    over blocks of rows that ends in a matmul's epilogue (`W - lr * G`
 *    computed on each block of G as it is made): the epilogue stores into
 *    S, and D (G) stays a temporary, freed after the loop.  And a value a
 *    loop body yields (the loss) is written into the memory of the carried
 *    buffer it replaces when that is dead by then, grown when too small.
 * 2. Reuse.  A buffer T2 allocated after the last use of a buffer T1 of the
 *    same list, with the same dtype and dims, takes T1's memory (T2 is
 *    renamed T1), when T2's first writer overwrites every element (a fresh
 *    ALLOC is zero-filled; reused memory is not).
 * 3. Hoisting.  A buffer allocated inside a `for` and freed in the same list
 *    without escaping (not yielded, returned or stored as a param, no alias
 *    that outlives it) is allocated once around the outermost loop: before
 *    it when its size is loop-invariant: no symbol of its dims is set
 *    inside that loop (lower sets the symbols of loop variables and
 *    carried values in the loop, at every iteration), `alloc` before the
 *    `for`, `free` after; otherwise (a last, smaller batch) it grows: a
 *    capacity symbol starts at -1 and the buffer is reallocated only when
 *    it needs more elements than it has.  Either way the steady state of a
 *    training loop allocates nothing.  Memory that the first writer does not
 *    overwrite in full is zeroed by a kernel where the ALLOC was.
 *
 * A rename never mutates shared expressions or keep lists (lower shares
 * them between statements): changed ones are copied.
 *
 * Requires: lower (a KModule).  Preserves: the results of every function;
 * the ownership rule (checked by the verifier and by the sanitize build).
 */
#include "passes.h"

#include "../ir/kernel.h"

#include <string.h>

/* ===== references ===== */

/* How a statement refers to the buffers of a set. */
typedef struct Refs {
  int read;   /* loads, call inputs, MOVE sources */
  int write;  /* kernel stores, call outputs */
  int keep;   /* entries of FREE's keep lists */
  int freed;  /* FREE of the buffer */
  int assign; /* ALLOC, MOVE destination */
  int escape; /* param_store */
} Refs;

static int refs_total(Refs r) { return r.read + r.write + r.keep + r.freed + r.assign + r.escape; }

typedef struct RefCount {
  const bool *set;
  Refs *r;
} RefCount;

static void count_ref(int buf, KRefRole role, void *ctx) {
  RefCount *c = ctx;
  if (!c->set[buf])
    return;
  switch (role) {
  case KR_READ: c->r->read++; break;
  case KR_WRITE: c->r->write++; break;
  case KR_KEEP: c->r->keep++; break;
  case KR_FREE: c->r->freed++; break;
  case KR_ASSIGN: c->r->assign++; break;
  case KR_ESCAPE: c->r->escape++; break;
  }
}

static void stmt_refs(KStmt *s, const bool *set, Refs *r) {
  RefCount c = {set, r};
  k_stmt_refs(s, count_ref, &c);
}

/* The loads in e of buffers of the set. */
static int expr_loads(KExpr *e, const bool *set) {
  Refs r = {0};
  RefCount c = {set, &r};
  k_expr_refs(e, count_ref, &c);
  return r.read;
}

static void list_refs(KList *l, int from, int to, const bool *set, Refs *r) {
  RefCount c = {set, r};
  for (int i = from; i < to; i++)
    k_stmt_refs(l->v[i], count_ref, &c);
}

/* ===== the function being planned ===== */

typedef struct Fn {
  KFunc *f;
  int nb;
  bool *set;    /* scratch membership set, all false between uses */
  int *nasg;    /* assignments (ALLOC, MOVE destination) of each buffer */
  PtrVec moves; /* every MOVE statement */
} Fn;

static void count_assign(Fn *F, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_ALLOC)
      F->nasg[s->buf]++;
    if (s->kind == KS_MOVE) {
      F->nasg[s->buf]++;
      ir_vec_push(&F->moves, s);
    }
    count_assign(F, &s->body);
    count_assign(F, &s->orelse);
  }
}

/* Recomputed after every rewrite: the pass is quadratic at worst, and
 * kernel functions have hundreds of statements, not millions. */
static void analyse(Fn *F) {
  memset(F->nasg, 0, sizeof(int) * (size_t)F->nb);
  F->moves.n = 0;
  count_assign(F, &F->f->body);
}

/* The pure aliases of b: buffers whose only assignment is a MOVE from b or
 * from another of them (reshape, detach, ...), b included.  Fills F->set. */
static void alias_set(Fn *F, int b) {
  memset(F->set, 0, (size_t)F->nb);
  F->set[b] = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = 0; i < F->moves.n; i++) {
      KStmt *m = F->moves.v[i];
      if (F->set[m->src] && !F->set[m->buf] && F->nasg[m->buf] == 1) {
        F->set[m->buf] = true;
        changed = true;
      }
    }
  }
}

static void one_set(Fn *F, int b) {
  memset(F->set, 0, (size_t)F->nb);
  F->set[b] = true;
}

static Refs refs_in(Fn *F, KList *l, int from, int to) {
  Refs r = {0};
  list_refs(l, from, to, F->set, &r);
  return r;
}

/* References of the set in the whole function, results included (as reads). */
static Refs refs_all(Fn *F) {
  Refs r = refs_in(F, &F->f->body, 0, F->f->body.n);
  for (int i = 0; i < F->f->nresults; i++)
    r.read += F->set[F->f->results[i]];
  return r;
}

static int results_refs(Fn *F) {
  int n = 0;
  for (int i = 0; i < F->f->nresults; i++)
    n += F->set[F->f->results[i]];
  return n;
}

static bool is_temp(Fn *F, int b) { return k_buf(F->f, b)->kind == KB_TEMP; }

static bool same_type(Fn *F, int a, int b) {
  KBuf *x = k_buf(F->f, a), *y = k_buf(F->f, b);
  if (x->dtype != y->dtype || x->rank != y->rank)
    return false;
  for (int i = 0; i < x->rank; i++)
    if (!dim_eq(x->dims[i], y->dims[i]))
      return false;
  return true;
}

static bool numel(KBuf *kb, Dim *out) {
  Dim n = dim_const(1);
  for (int i = 0; i < kb->rank; i++)
    n = dim_mul(n, kb->dims[i]);
  *out = n;
  return !n.overflow;
}

/* ===== expressions ===== */

static bool keep_freed; /* rename: a FREE still frees `from` (its keep list is renamed) */

static void rename_list(KList *l, int start, int from, int to) {
  for (int i = start; i < l->n; i++)
    k_stmt_rename(l->v[i], from, to, keep_freed);
}

/* Renames `from` to `to` in l[start..] and, for the function's body, in the
 * results (evaluated after the last statement). */
static void rename_after(Fn *F, KList *l, int start, int from, int to) {
  rename_list(l, start, from, to);
  if (l == &F->f->body)
    F->f->results = k_ints_rename(F->f->results, F->f->nresults, from, to);
}

static void list_remove(KList *l, int i) {
  memmove(&l->v[i], &l->v[i + 1], sizeof(KStmt *) * (size_t)(l->n - i - 1));
  l->n--;
}

static void list_insert(KList *l, int i, KStmt *s) {
  k_push(l, s);
  memmove(&l->v[i + 1], &l->v[i], sizeof(KStmt *) * (size_t)(l->n - 1 - i));
  l->v[i] = s;
}

/* ===== who writes a whole buffer ===== */

/* Statement s writes every element of b exactly once, each at its own
 * point, without reading b or its aliases (F->set) first: the memory's old
 * contents do not matter, and a kernel reading another buffer at the stored
 * index may write over it. */
static KStmt *block_kernel(Fn *F, KStmt *loop);
static bool block_matmul(Fn *F, KStmt *loop, KStmt *call, int b);
static bool same_extent(KExpr *e, Dim d);

static bool writes_all(Fn *F, KStmt *s, int b) {
  if (s->kind == KS_FOR) { /* a matmul by blocks of rows, then its epilogue on each block */
    KStmt *K = block_kernel(F, s);
    KBuf *kb = k_buf(F->f, b);
    if (!K || !k_loads_at_store(K->value, b, K) || kb->rank < 1 || !same_extent(s->stop, kb->dims[0]))
      return false;
    bool written = K->buf == b && !expr_loads(K->value, F->set);
    for (int i = 0; i < s->body.n - 1; i++) {
      KStmt *t = s->body.v[i];
      Refs r = {0};
      stmt_refs(t, F->set, &r);
      if (refs_total(r) != r.write || (K->buf != b && t == K))
        return false;
      if (r.write && !(written = block_matmul(F, s, t, b)))
        return false;
    }
    int n = 0;
    one_set(F, b);
    n = expr_loads(K->value, F->set);
    alias_set(F, b);
    return written && n == expr_loads(K->value, F->set);
  }
  if (s->kind == KS_CALL) {
    if (s->call == KC_MATMUL && s->nbufs == 3 && s->bufs[2] == b)
      return !F->set[s->bufs[0]] && !F->set[s->bufs[1]];
    return s->call == KC_RAND && s->nbufs == 1 && s->bufs[0] == b;
  }
  if (s->kind != KS_KERNEL || s->buf != b)
    return false;
  if (expr_loads(s->value, F->set) || expr_loads(s->finalize, F->set))
    return false;
  for (int i = 0; i < s->nstore; i++)
    if (expr_loads(s->store_idx[i], F->set))
      return false;
  KBuf *kb = k_buf(F->f, b);
  int nout = s->nloops - s->nred;
  bool used[2 * IR_MAX_RANK] = {0};
  if (s->store_linear) {
    Dim n;
    return s->nstore == 1 && nout == 1 && s->store_idx[0]->kind == KX_VAR &&
           s->store_idx[0]->var == s->loopvar[0] && numel(kb, &n) && dim_eq(s->extent[0], n);
  }
  if (s->nstore != kb->rank)
    return false;
  int mapped = 0;
  for (int d = 0; d < kb->rank; d++) {
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

/* The first statement of l[from..] that touches the set (F->set). */
static KStmt *first_toucher(Fn *F, KList *l, int from) {
  for (int i = from; i < l->n; i++)
    if (refs_total(refs_in(F, l, i, i + 1)))
      return l->v[i];
  return NULL;
}

/* A kernel that zeroes buffer b (reused memory, where lower's ALLOC gave zeros). */
static KStmt *zero_kernel(Fn *F, int b, Loc loc) {
  KBuf *kb = k_buf(F->f, b);
  KStmt *k = k_stmt(KS_KERNEL, loc);
  k->buf = b;
  k->value = ir_dtype_is_float(kb->dtype) ? k_const(kb->dtype, 0.0) : k_cast(k_int(0), kb->dtype);
  if (kb->rank > 0) {
    Dim n;
    numel(kb, &n);
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

/* ===== 1. in place ===== */

/* The top-level index in l of the last statement using b other than by
 * freeing it (results count as after the end of the function's body); -1
 * if none.  A free of the shared memory after that point leaves b's own
 * free a no-op: a free clears the variable. */
static int last_use(Fn *F, KList *l, int b) {
  one_set(F, b);
  if (l == &F->f->body && results_refs(F))
    return l->n;
  for (int i = l->n - 1; i >= 0; i--) {
    Refs r = refs_in(F, l, i, i + 1);
    if (refs_total(r) - r.freed)
      return i;
  }
  return -1;
}

static int find_alloc(KList *l, int b, int before) {
  for (int i = 0; i < before; i++)
    if (l->v[i]->kind == KS_ALLOC && l->v[i]->buf == b)
      return i;
  return -1;
}

static bool dies_at(Fn *F, KList *l, int k, KStmt *loop, int S, int D, KStmt *K);

/* Can kernel l[k] (writing D) write into S instead?  See the file comment. */
static bool can_inplace(Fn *F, KList *l, int k, KStmt *loop, int S) {
  KStmt *K = l->v[k];
  int D = K->buf;
  KFunc *f = F->f;
  if (S == D || !is_temp(F, S) || !same_type(F, S, D) || !k_loads_at_store(K->value, S, K))
    return false;
  /* D: one ALLOC, earlier in this list, nothing between; used only here. */
  int a = find_alloc(l, D, k);
  if (a < 0 || F->nasg[D] != 1)
    return false;
  one_set(F, D);
  if (refs_total(refs_in(F, l, a + 1, k)) ||
      refs_total(refs_all(F)) != refs_total(refs_in(F, l, a, l->n)) + (l == &f->body ? results_refs(F) : 0))
    return false;
  alias_set(F, D);
  if (!writes_all(F, K, D))
    return false;
  return dies_at(F, l, k, loop, S, D, K);
}

/* S's old value has no reader after l[k] (which holds kernel K, reading S
 * only at K's stored index), and D (K's buffer) may be renamed S from
 * there on: S is one of the two shapes of the file comment. */
static bool dies_at(Fn *F, KList *l, int k, KStmt *loop, int S, int D, KStmt *K) {
  one_set(F, S);
  if (results_refs(F))
    return false;
  Refs total = refs_all(F);
  int j = find_alloc(l, S, k);
  if (j >= 0) { /* (S1) a temporary of this list */
    if (F->nasg[S] != 1 || refs_total(refs_in(F, l, 0, j)) ||
        refs_total(total) != refs_total(refs_in(F, l, 0, l->n)))
      return false;
  } else { /* (S2) the carried buffer of `loop`, reassigned at its end */
    if (!loop || &loop->body != l || loop->parallel)
      return false;
    int moves_here = 0;
    for (int i = 0; i < l->n; i++) {
      KStmt *s = l->v[i];
      if (s->kind == KS_MOVE && s->buf == S) {
        if (i <= k)
          return false;
        /* the buffer moved in is fresh each iteration: D, or allocated in
         * this list before any other reference to it */
        if (s->src != D) {
          int y = find_alloc(l, s->src, l->n);
          one_set(F, s->src);
          if (y < 0 || F->nasg[s->src] != 1 || refs_total(refs_in(F, l, 0, y)))
            return false;
          one_set(F, S);
        }
        moves_here++;
      }
    }
    Refs here = refs_in(F, l, 0, l->n);
    if (!moves_here || here.assign != moves_here)
      return false;
    /* the other assignments (outside this list) are ALLOCs: fresh memory */
    for (int i = 0; i < F->moves.n; i++) {
      KStmt *m = F->moves.v[i];
      bool in_l = false;
      for (int q = 0; q < l->n && !in_l; q++)
        in_l = l->v[q] == m;
      if (m->buf == S && !in_l)
        return false;
    }
  }
  /* No alias of S is read by the kernel or used after it. */
  alias_set(F, S);
  F->set[S] = false;
  if (expr_loads(K->value, F->set) || refs_total(refs_in(F, l, k + 1, l->n)))
    return false;
  /* After the kernel: S only freed (or reassigned once D is done with). */
  int lastD = last_use(F, l, D);
  one_set(F, S);
  for (int i = k + 1; i < l->n; i++) {
    KStmt *s = l->v[i];
    Refs r = refs_in(F, l, i, i + 1);
    if (!refs_total(r))
      continue;
    if (s->kind == KS_MOVE && s->buf == S) {
      if (s->src == D || i > lastD)
        return true; /* S holds a new value from here on */
      return false;
    }
    if (s->kind == KS_ALLOC && s->buf == S && i > lastD)
      return true;
    if (s->kind != KS_FREE || s->buf != S || r.keep)
      return false;
    bool keeps_d = false;
    for (int q = 0; q < s->nkeep; q++)
      keeps_d |= s->keep[q] == D;
    if (!keeps_d && i < lastD)
      return false; /* it would free D's memory while D is in use */
  }
  return true;
}

/* ---- the same through a loop over blocks of rows ---- */

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
static KStmt *block_kernel(Fn *F, KStmt *loop) {
  int64_t start, step, c;
  if (loop->kind != KS_FOR || loop->rows || !is_int_const(loop->cond, &start) || start != 0 ||
      !is_int_const(loop->step, &step) || step <= 0 || !loop->body.n)
    return NULL;
  KStmt *K = loop->body.v[loop->body.n - 1];
  if (K->kind != KS_KERNEL || K->nred || K->store_linear || !is_temp(F, K->buf))
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
 * (2-D, m = b), the block of loop (see block_kernel). */
static bool block_matmul(Fn *F, KStmt *loop, KStmt *call, int b) {
  KBuf *kb = k_buf(F->f, b);
  KStmt *K = block_kernel(F, loop);
  int64_t one;
  KExpr *x, *y;
  if (call->kind != KS_CALL || call->call != KC_MATMUL || call->nbufs != 3 || call->bufs[2] != b ||
      kb->rank != 2 || call->nexprs != 9 || !K || F->set[call->bufs[0]] || F->set[call->bufs[1]])
    return false;
  return is_int_const(call->exprs[0], &one) && one == 1 && same_extent(call->exprs[1], K->extent[0]) &&
         same_extent(call->exprs[2], kb->dims[1]) && is_op2(call->exprs[8], IR_MUL, &x, &y) &&
         x->kind == KX_VAR && x->var == loop->var && same_extent(y, kb->dims[1]);
}

/* The block loop l[f] ends in a kernel K updating its buffer D from S
 * (`W - lr * G` as G's matmul epilogue): K can store into S instead, and D
 * stays a temporary (the new value is S's from here on). */
static bool can_redirect(Fn *F, KList *l, int f, KStmt *loop, KStmt *K, int S) {
  int D = K->buf;
  KFunc *fn = F->f;
  KStmt *blk = l->v[f];
  if (S == D || !is_temp(F, S) || !same_type(F, S, D) || !k_loads_at_store(K->value, S, K) ||
      !k_loads_at_store(K->value, D, K))
    return false;
  /* in the block loop, S is read by K only (a matmul reading it would see
   * updated rows) */
  one_set(F, S);
  Refs body = refs_in(F, &blk->body, 0, blk->body.n);
  if (refs_total(body) != expr_loads(K->value, F->set) || body.write)
    return false;
  /* D: used in this list only */
  one_set(F, D);
  if (refs_total(refs_all(F)) != refs_total(refs_in(F, l, 0, l->n)) + (l == &fn->body ? results_refs(F) : 0))
    return false;
  return dies_at(F, l, f, loop, S, D, K);
}

/* Statements made no-ops by a rename: a move onto itself, a free that keeps
 * its own buffer, a kernel copying a buffer onto itself. */
static bool is_noop(KStmt *s) {
  if (s->kind == KS_MOVE)
    return s->buf == s->src;
  if (s->kind == KS_FREE) {
    for (int i = 0; i < s->nkeep; i++)
      if (s->keep[i] == s->buf)
        return true;
    return false;
  }
  if (s->kind == KS_KERNEL && !s->nred && s->value->kind == KX_LOAD && s->value->buf == s->buf &&
      s->value->linear == s->store_linear && s->value->nargs == s->nstore) {
    for (int i = 0; i < s->nstore; i++)
      if (!k_expr_eq(s->value->args[i], s->store_idx[i]))
        return false;
    return true;
  }
  return false;
}

/* l[i] frees a buffer that l[j] (j < i) already freed with the same keep
 * list, and nothing between assigns or frees the buffer or a kept one: the
 * first free cleared the variable (or kept it, and so would this one).
 * Renaming one buffer onto another leaves such a pair where lower freed
 * both at the end of a block (reuse: T2 became T1; in place: D became S).
 * Harmless at run time (a free of NULL does nothing) but a plan that
 * frees one buffer twice reads as a double free. */
static bool freed_again(Fn *F, KList *l, int i) {
  KStmt *s = l->v[i];
  if (s->kind != KS_FREE)
    return false;
  bool again = false;
  one_set(F, s->buf);
  for (int q = 0; q < s->nkeep; q++)
    F->set[s->keep[q]] = true;
  for (int j = i - 1; j >= 0; j--) {
    KStmt *t = l->v[j];
    if (t->kind == KS_FREE && t->buf == s->buf && t->nkeep == s->nkeep &&
        (!s->nkeep || !memcmp(t->keep, s->keep, sizeof(int) * (size_t)s->nkeep))) {
      again = true;
      break;
    }
    Refs r = {0};
    stmt_refs(t, F->set, &r);
    if (r.assign || r.freed)
      break;
  }
  memset(F->set, 0, (size_t)F->nb);
  return again;
}

static void drop_noops(Fn *F, KList *l) {
  for (int i = 0; i < l->n;) {
    KStmt *s = l->v[i];
    drop_noops(F, &s->body);
    drop_noops(F, &s->orelse);
    if (is_noop(s) || freed_again(F, l, i))
      list_remove(l, i);
    else
      i++;
  }
}

static int inplace_list(Fn *F, KList *l, KStmt *loop) {
  int done = 0;
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    done += inplace_list(F, &s->body, s->kind == KS_FOR ? s : NULL);
    done += inplace_list(F, &s->orelse, NULL);
  }
  for (int k = 0; k < l->n; k++) {
    KStmt *K = l->v[k], *blk = block_kernel(F, K);
    if (blk)
      K = blk; /* a block loop ending in its epilogue: try to redirect it */
    else if (K->kind != KS_KERNEL || K->nred || !is_temp(F, K->buf))
      continue;
    /* candidates: the buffers the kernel loads */
    PtrVec cands = {0};
    KExpr *stack[256];
    int sp = 0;
    stack[sp++] = K->value;
    while (sp) {
      KExpr *e = stack[--sp];
      if (e->kind == KX_LOAD)
        ir_vec_push(&cands, (void *)(intptr_t)e->buf);
      for (int a = 0; a < e->nargs && sp < 256; a++)
        stack[sp++] = e->args[a];
    }
    /* a carried buffer first (the loop then allocates nothing for it),
     * then the temporaries of this list */
    for (int c = 0; c < 2 * cands.n; c++) {
      int S = (int)(intptr_t)cands.v[c % cands.n], D = K->buf;
      if (blk) {
        if ((c < cands.n) != (find_alloc(l, S, k) < 0) || !can_redirect(F, l, k, loop, K, S))
          continue;
        K->buf = S;
        keep_freed = true;
        rename_after(F, l, k + 1, D, S);
        keep_freed = false;
        /* D is a temporary now, dead after the loop (lower's free of a
         * buffer handed on keeps it, and went as a no-op) */
        KStmt *fr = k_stmt(KS_FREE, l->v[k]->loc);
        fr->buf = D;
        list_insert(l, k + 1, fr);
        drop_noops(F, &F->f->body);
        analyse(F);
        done++;
        k = -1;
        break;
      }
      if ((c < cands.n) != (find_alloc(l, S, k) < 0) || !can_inplace(F, l, k, loop, S))
        continue;
      int a = find_alloc(l, D, k);
      K->buf = S;
      rename_after(F, l, k + 1, D, S);
      list_remove(l, a);
      drop_noops(F, &F->f->body);
      analyse(F);
      done++;
      k = -1; /* indices moved: look again from the start */
      break;
    }
  }
  return done;
}

/* ===== 1b. carried values take their buffer back ===== */

/* A loop body ending in `MOVE C = Y` (a carried value C; Y allocated in the
 * body, say the loss) whose old C is dead once Y is allocated: Y is written
 * into C's memory, grown when too small, instead of a fresh buffer each
 * iteration.  The capacity symbol starts at -1 before the loop, so the
 * first iteration (re)allocates: C may be NULL (a value first assigned in
 * the loop) or its initial copy, which is freed there instead of at the
 * end of the iteration. */
static bool can_take_carried(Fn *F, KList *l, int mv, int *y_at) {
  KStmt *m = l->v[mv];
  int C = m->buf, Y = m->src;
  KFunc *f = F->f;
  if (C == Y || !is_temp(F, C) || !is_temp(F, Y) || F->nasg[Y] != 1 || !same_type(F, C, Y))
    return false;
  int y = find_alloc(l, Y, mv);
  if (y < 0)
    return false;
  /* C: one MOVE (this one), its other assignments ALLOCs outside the body */
  int moves = 0;
  for (int i = 0; i < F->moves.n; i++)
    moves += ((KStmt *)F->moves.v[i])->buf == C;
  one_set(F, C);
  if (moves != 1 || results_refs(F) || refs_in(F, l, 0, l->n).assign != 1)
    return false;
  Refs before = refs_in(F, l, 0, y);
  if (refs_total(before) != before.read)
    return false;
  for (int i = y; i < l->n; i++) {
    KStmt *s = l->v[i];
    Refs r = refs_in(F, l, i, i + 1);
    if (!refs_total(r) || s == m)
      continue;
    bool keeps_y = false;
    for (int q = 0; s->kind == KS_FREE && q < s->nkeep; q++)
      keeps_y |= s->keep[q] == Y;
    if (s->kind != KS_FREE || s->buf != C || r.keep || !keeps_y)
      return false;
  }
  alias_set(F, C);
  F->set[C] = false;
  if (refs_total(refs_in(F, l, y, l->n)))
    return false;
  /* Y: used only in the body from its ALLOC on */
  one_set(F, Y);
  if (refs_total(refs_all(F)) != refs_total(refs_in(F, l, y, l->n)))
    return false;
  Dim n;
  if (!numel(k_buf(f, C), &n))
    return false;
  *y_at = y;
  return true;
}

static int carried_list(Fn *F, KList *l) {
  int done = 0;
  for (int i = 0; i < l->n; i++) {
    KStmt *loop = l->v[i];
    done += carried_list(F, &loop->body) + carried_list(F, &loop->orelse);
    if (loop->kind != KS_FOR || loop->parallel || loop->rows)
      continue;
    KList *b = &loop->body;
    for (int mv = 0; mv < b->n; mv++) {
      int y;
      if (b->v[mv]->kind != KS_MOVE || !can_take_carried(F, b, mv, &y))
        continue;
      int C = b->v[mv]->buf, Y = b->v[mv]->src;
      KBuf *kb = k_buf(F->f, C);
      Loc loc = b->v[y]->loc;
      Dim n;
      numel(kb, &n);
      alias_set(F, Y);
      KStmt *w = first_toucher(F, b, y + 1);
      bool zero = !w || !writes_all(F, w, Y);
      int cap = ir_sym_new(kb->name ? ir_sprintf("%s.%d.cap", kb->name, C) : ir_sprintf("%d.cap", C), loc);
      KStmt *init = k_stmt(KS_SETSYM, loc), *grow = k_stmt(KS_IF, loc), *fr = k_stmt(KS_FREE, loc),
            *al = k_stmt(KS_ALLOC, loc), *set = k_stmt(KS_SETSYM, loc);
      init->buf = set->buf = cap;
      init->cond = k_int(-1);
      set->cond = k_dim(n);
      grow->cond = k_op2(IR_GT, DT_BOOL, k_dim(n), k_dim(dim_sym(cap)));
      fr->buf = al->buf = C;
      k_push(&grow->body, fr);
      k_push(&grow->body, al);
      k_push(&grow->body, set);
      if (zero)
        k_push(&grow->orelse, zero_kernel(F, C, loc));
      b->v[y] = grow;
      rename_list(b, y + 1, Y, C);
      list_insert(l, i, init);
      i++;
      drop_noops(F, &F->f->body);
      analyse(F);
      done++;
      mv = -1;
    }
  }
  return done;
}

/* ===== 2. reuse ===== */

/* The symbols of b's dims are not set in l[from..to). */
static bool syms_stable(KFunc *f, KList *l, int from, int to, int b) {
  KBuf *kb = k_buf(f, b);
  for (int i = from; i < to; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_SETSYM)
      for (int d = 0; d < kb->rank; d++)
        for (int t = 0; t < kb->dims[d].n; t++)
          for (int q = 0; q < kb->dims[d].t[t].deg; q++)
            if (kb->dims[d].t[t].sym[q] == s->buf)
              return false;
    if (!syms_stable(f, &s->body, 0, s->body.n, b) || !syms_stable(f, &s->orelse, 0, s->orelse.n, b))
      return false;
  }
  return true;
}

/* Can T2 (allocated at l[i2]) take the memory of T1 (allocated at l[a1])? */
static bool can_reuse(Fn *F, KList *l, int a1, int i2) {
  int T1 = l->v[a1]->buf, T2 = l->v[i2]->buf;
  KFunc *f = F->f;
  if (T1 == T2 || !is_temp(F, T1) || F->nasg[T1] != 1 || !same_type(F, T1, T2) ||
      !syms_stable(f, l, a1, i2, T1))
    return false;
  /* T1 and its aliases: all uses in this list, none from i2 on but frees of T1 */
  alias_set(F, T1);
  if (refs_total(refs_all(F)) != refs_total(refs_in(F, l, a1, l->n)))
    return false;
  int lastT2 = last_use(F, l, T2);
  alias_set(F, T1);
  for (int i = i2; i < l->n; i++) {
    KStmt *s = l->v[i];
    Refs r = refs_in(F, l, i, i + 1);
    if (!refs_total(r))
      continue;
    if (s->kind != KS_FREE || s->buf != T1 || r.keep)
      return false;
    bool keeps_t2 = false;
    for (int q = 0; q < s->nkeep; q++)
      keeps_t2 |= s->keep[q] == T2;
    if (!keeps_t2 && i < lastT2)
      return false;
  }
  /* T2: one ALLOC, used only from here, its first writer overwrites it all. */
  one_set(F, T2);
  if (F->nasg[T2] != 1 ||
      refs_total(refs_all(F)) != refs_total(refs_in(F, l, i2, l->n)) + (l == &f->body ? results_refs(F) : 0))
    return false;
  alias_set(F, T2);
  KStmt *w = first_toucher(F, l, i2 + 1);
  return w && writes_all(F, w, T2);
}

static int reuse_list(Fn *F, KList *l) {
  int done = 0;
  for (int i = 0; i < l->n; i++) {
    done += reuse_list(F, &l->v[i]->body);
    done += reuse_list(F, &l->v[i]->orelse);
  }
  for (int i2 = 0; i2 < l->n; i2++) {
    if (l->v[i2]->kind != KS_ALLOC || !is_temp(F, l->v[i2]->buf))
      continue;
    for (int a1 = 0; a1 < i2; a1++) {
      if (l->v[a1]->kind != KS_ALLOC || !can_reuse(F, l, a1, i2))
        continue;
      int T1 = l->v[a1]->buf, T2 = l->v[i2]->buf;
      rename_after(F, l, i2 + 1, T2, T1);
      list_remove(l, i2);
      drop_noops(F, &F->f->body);
      analyse(F);
      done++;
      i2 = -1; /* statements moved: look again from the start */
      break;
    }
  }
  return done;
}

/* ===== 3. hoisting out of loops ===== */

typedef struct Site {
  KList *list; /* where the ALLOC is */
  int at;
  KStmt *outer;    /* the outermost enclosing FOR */
  KList *outer_in; /* the list holding it */
  bool varies;     /* a dim's symbol is set inside `outer` */
} Site;

static bool find_site(Fn *F, KList *l, int b, KStmt *outer, KList *outer_in, Site *out) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_ALLOC && s->buf == b) {
      *out = (Site){l, i, outer, outer_in, false};
      return true;
    }
    KStmt *o = outer ? outer : s->kind == KS_FOR ? s : NULL;
    KList *oi = outer ? outer_in : l;
    if (s->kind == KS_FOR && s->parallel) /* its iterations may run at once: each needs its own */
      o = NULL, oi = NULL;
    if (find_site(F, &s->body, b, o, oi, out) || find_site(F, &s->orelse, b, o, oi, out))
      return true;
  }
  return false;
}

static int hoist(Fn *F) {
  KFunc *f = F->f;
  int done = 0;
  for (int b = 0; b < F->nb; b++) {
    Site st;
    if (!is_temp(F, b) || F->nasg[b] != 1 || !find_site(F, &f->body, b, NULL, NULL, &st) || !st.outer)
      continue;
    KList *l = st.list;
    /* b and its aliases: used only in l from the ALLOC on, then freed there,
     * never kept, moved out, returned or stored. */
    alias_set(F, b);
    Refs all = refs_all(F);
    if (all.keep || all.escape || refs_total(all) != refs_total(refs_in(F, l, st.at, l->n)))
      continue;
    bool ok = true;
    int last_use = st.at, nfree = 0;
    for (int i = st.at + 1; i < l->n; i++) {
      Refs r = refs_in(F, l, i, i + 1);
      if (r.freed) {
        ok &= l->v[i]->kind == KS_FREE;
        nfree++;
      } else if (refs_total(r)) {
        ok &= nfree == 0; /* nothing after a free */
        last_use = i;
      }
    }
    (void)last_use;
    if (!ok || !nfree)
      continue;
    /* a MOVE out of the set to a buffer outside it would be an escape */
    for (int i = 0; i < F->moves.n && ok; i++) {
      KStmt *m = F->moves.v[i];
      ok = !F->set[m->src] || F->set[m->buf];
    }
    if (!ok)
      continue;
    KBuf *kb = k_buf(f, b);
    Dim n;
    if (!numel(kb, &n))
      continue;
    st.varies = !syms_stable(f, &st.outer->body, 0, st.outer->body.n, b);
    KStmt *w = first_toucher(F, l, st.at + 1);
    bool zero = !w || !writes_all(F, w, b);
    Loc loc = l->v[st.at]->loc;
    /* 1. the frees in the loop go; the ALLOC becomes a zeroing or a growth */
    for (int i = l->n - 1; i > st.at; i--)
      if (l->v[i]->kind == KS_FREE && F->set[l->v[i]->buf])
        list_remove(l, i);
    KStmt *before = NULL;
    if (!st.varies) {
      before = l->v[st.at];
      if (zero)
        l->v[st.at] = zero_kernel(F, b, loc);
      else
        list_remove(l, st.at);
    } else {
      const char *name = kb->name ? ir_sprintf("%s.%d.cap", kb->name, b) : ir_sprintf("%d.cap", b);
      int cap = ir_sym_new(name, loc);
      before = k_stmt(KS_SETSYM, loc);
      before->buf = cap;
      before->cond = k_int(-1);
      KStmt *grow = k_stmt(KS_IF, loc);
      grow->cond = k_op2(IR_GT, DT_BOOL, k_dim(n), k_dim(dim_sym(cap)));
      KStmt *fr = k_stmt(KS_FREE, loc), *set = k_stmt(KS_SETSYM, loc);
      fr->buf = b;
      set->buf = cap;
      set->cond = k_dim(n);
      k_push(&grow->body, fr);
      k_push(&grow->body, l->v[st.at]);
      k_push(&grow->body, set);
      if (zero)
        k_push(&grow->orelse, zero_kernel(F, b, loc));
      l->v[st.at] = grow;
    }
    /* 2. around the outermost loop: the allocation (or capacity) before it,
     * the one free after it */
    KList *ol = st.outer_in;
    int at = 0;
    while (ol->v[at] != st.outer)
      at++;
    KStmt *fr = k_stmt(KS_FREE, loc);
    fr->buf = b;
    list_insert(ol, at + 1, fr);
    list_insert(ol, at, before);
    analyse(F);
    done++;
  }
  return done;
}

/* ===== the pass ===== */

/* 4. Zero-fill.  An ALLOC whose first writer (the next statement of its
 * list that touches it or an alias) overwrites every element without
 * reading it needs no zeros: marked `uninit`. */
static void mark_uninit(Fn *F, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    mark_uninit(F, &s->body);
    mark_uninit(F, &s->orelse);
    if (s->kind != KS_ALLOC)
      continue;
    alias_set(F, s->buf);
    KStmt *w = first_toucher(F, l, i + 1);
    s->uninit = w && writes_all(F, w, s->buf);
  }
}

bool pass_memplan(KModule *m) {
  for (int i = 0; i < m->funcs.n; i++) {
    Fn F = {.f = m->funcs.v[i]};
    F.nb = F.f->bufs.n;
    F.set = ir_alloc((size_t)(F.nb ? F.nb : 1));
    F.nasg = ir_alloc(sizeof(int) * (size_t)(F.nb ? F.nb : 1));
    analyse(&F);
    inplace_list(&F, &F.f->body, NULL);
    carried_list(&F, &F.f->body);
    reuse_list(&F, &F.f->body);
    hoist(&F);
    mark_uninit(&F, &F.f->body);
  }
  return true;
}
