/* passes/memplan.c - the `memplan` pass: fewer allocations on the kernel IR.
 *
 * It runs on the kernel IR right after `lower` (DESIGN lists it before lower,
 * on the graph; buffers, frees and loops only exist here, see
 * docs/internals.md).  Three rewrites, in this order, each keeping the
 * ownership rule of lower (a block frees what it owns unless it hands it on,
 * compared by pointer), after a first one that removes buffers:
 *
 * 0. Row views.  A buffer that only copies a block of consecutive rows of
 *    an argument (a mini-batch without shuffling) is read in the argument
 *    itself: its matmuls with an offset, its loads with the block's start
 *    (memplan_views.c says when).
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
 * The files: memplan_internal.h lists them (this one holds the pass and
 * what the rewrites share: who refers to which buffer, renames, no-ops).
 *
 * Requires: lower (a KModule).  Preserves: the results of every function;
 * the ownership rule (checked by the verifier and by the sanitize build).
 */
#include "memplan_internal.h"

#include <string.h>

/* ===== references ===== */

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

void mp_stmt_refs(KStmt *s, const bool *set, Refs *r) {
  RefCount c = {set, r};
  k_stmt_refs(s, count_ref, &c);
}

/* The loads in e of buffers of the set. */
int mp_expr_loads(KExpr *e, const bool *set) {
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
void mp_analyse(Fn *F) {
  memset(F->nasg, 0, sizeof(int) * (size_t)F->nb);
  F->moves.n = 0;
  count_assign(F, &F->f->body);
}

/* The pure aliases of b: buffers whose only assignment is a MOVE from b or
 * from another of them (reshape, detach, ...), b included.  Fills F->set. */
void mp_alias_set(Fn *F, int b) {
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

void mp_one_set(Fn *F, int b) {
  memset(F->set, 0, (size_t)F->nb);
  F->set[b] = true;
}

Refs mp_refs_in(Fn *F, KList *l, int from, int to) {
  Refs r = {0};
  list_refs(l, from, to, F->set, &r);
  return r;
}

/* References of the set in the whole function, results included (as reads). */
Refs mp_refs_all(Fn *F) {
  Refs r = mp_refs_in(F, &F->f->body, 0, F->f->body.n);
  for (int i = 0; i < F->f->nresults; i++)
    r.read += F->set[F->f->results[i]];
  return r;
}

int mp_results_refs(Fn *F) {
  int n = 0;
  for (int i = 0; i < F->f->nresults; i++)
    n += F->set[F->f->results[i]];
  return n;
}

bool mp_is_temp(Fn *F, int b) { return k_buf(F->f, b)->kind == KB_TEMP; }

bool mp_same_type(Fn *F, int a, int b) {
  KBuf *x = k_buf(F->f, a), *y = k_buf(F->f, b);
  if (x->dtype != y->dtype || x->rank != y->rank)
    return false;
  for (int i = 0; i < x->rank; i++)
    if (!dim_eq(x->dims[i], y->dims[i]))
      return false;
  return true;
}

bool mp_numel(KBuf *kb, Dim *out) {
  Dim n = dim_const(1);
  for (int i = 0; i < kb->rank; i++)
    n = dim_mul(n, kb->dims[i]);
  *out = n;
  return !n.overflow;
}

/* The top-level index in l of the last statement using b other than by
 * freeing it (results count as after the end of the function's body); -1
 * if none.  A free of the shared memory after that point leaves b's own
 * free a no-op: a free clears the variable. */
int mp_last_use(Fn *F, KList *l, int b) {
  mp_one_set(F, b);
  if (l == &F->f->body && mp_results_refs(F))
    return l->n;
  for (int i = l->n - 1; i >= 0; i--) {
    Refs r = mp_refs_in(F, l, i, i + 1);
    if (mp_refs_total(r) - r.freed)
      return i;
  }
  return -1;
}

int mp_find_alloc(KList *l, int b, int before) {
  for (int i = 0; i < before; i++)
    if (l->v[i]->kind == KS_ALLOC && l->v[i]->buf == b)
      return i;
  return -1;
}

/* The symbols of b's dims are not set in l[from..to). */
bool mp_syms_stable(KFunc *f, KList *l, int from, int to, int b) {
  KBuf *kb = k_buf(f, b);
  for (int i = from; i < to; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_SETSYM)
      for (int d = 0; d < kb->rank; d++)
        for (int t = 0; t < kb->dims[d].n; t++)
          for (int q = 0; q < kb->dims[d].t[t].deg; q++)
            if (kb->dims[d].t[t].sym[q] == s->buf)
              return false;
    if (!mp_syms_stable(f, &s->body, 0, s->body.n, b) || !mp_syms_stable(f, &s->orelse, 0, s->orelse.n, b))
      return false;
  }
  return true;
}

/* ===== edits ===== */

void mp_rename_list(KList *l, int start, int from, int to, bool keep_freed) {
  for (int i = start; i < l->n; i++)
    k_stmt_rename(l->v[i], from, to, keep_freed);
}

/* Renames `from` to `to` in l[start..] and, for the function's body, in the
 * results (evaluated after the last statement). */
void mp_rename_after(Fn *F, KList *l, int start, int from, int to, bool keep_freed) {
  mp_rename_list(l, start, from, to, keep_freed);
  if (l == &F->f->body)
    F->f->results = k_ints_rename(F->f->results, F->f->nresults, from, to);
}

void mp_replan(Fn *F) {
  mp_drop_noops(F, &F->f->body);
  mp_analyse(F);
}

void mp_merge_buffer(Fn *F, KList *l, int alloc, int start, int from, int into) {
  mp_rename_after(F, l, start, from, into, false);
  mp_list_remove(l, alloc);
  mp_replan(F);
}

void mp_list_remove(KList *l, int i) {
  memmove(&l->v[i], &l->v[i + 1], sizeof(KStmt *) * (size_t)(l->n - i - 1));
  l->n--;
}

void mp_list_insert(KList *l, int i, KStmt *s) {
  k_push(l, s);
  memmove(&l->v[i + 1], &l->v[i], sizeof(KStmt *) * (size_t)(l->n - 1 - i));
  l->v[i] = s;
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
  mp_one_set(F, s->buf);
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
    mp_stmt_refs(t, F->set, &r);
    if (r.assign || r.freed)
      break;
  }
  memset(F->set, 0, (size_t)F->nb);
  return again;
}

void mp_drop_noops(Fn *F, KList *l) {
  for (int i = 0; i < l->n;) {
    KStmt *s = l->v[i];
    mp_drop_noops(F, &s->body);
    mp_drop_noops(F, &s->orelse);
    if (is_noop(s) || freed_again(F, l, i))
      mp_list_remove(l, i);
    else
      i++;
  }
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
    mp_alias_set(F, s->buf);
    KStmt *w = mp_first_toucher(F, l, i + 1);
    s->uninit = w && mp_writes_all(F, w, s->buf);
  }
}

bool pass_memplan(KModule *m) {
  for (int i = 0; i < m->funcs.n; i++) {
    Fn F = {.f = m->funcs.v[i]};
    F.nb = F.f->bufs.n;
    F.set = ir_alloc((size_t)(F.nb ? F.nb : 1));
    F.nasg = ir_alloc(sizeof(int) * (size_t)(F.nb ? F.nb : 1));
    mp_analyse(&F);
    if (!m->target->blas_epilogues) /* a view is a matmul offset, which the library's epilogues do not take */
      mp_views(&F, &F.f->body);
    mp_inplace(&F, &F.f->body, NULL);
    mp_carried(&F, &F.f->body);
    mp_reuse(&F, &F.f->body);
    mp_hoist(&F);
    mp_drop_noops(&F, &F.f->body); /* lower's `free %y unless %y` of a yielded value, rewrites or not */
    mark_uninit(&F, &F.f->body);
    mp_analyse(&F);
    mp_results(&F);
  }
  return true;
}
