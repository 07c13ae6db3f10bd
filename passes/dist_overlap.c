/* passes/dist_overlap.c - the `dist_overlap` pass: --dist=mpi's
 * all-reduces overlapped with the code around them (docs/distributed.md,
 * "Overlap").
 *
 * Each `call dist.all_reduce_OP %in, %out` of a --dist=mpi module becomes
 * two calls, a start (MPI_Iallreduce) and a wait, numbered alike (`#K`):
 *
 *   call dist.all_reduce_mean.start #0 %grad_bucket, %grad_mean
 *   ... the statements that touch neither buffer ...
 *   call dist.all_reduce_mean.wait #0 %grad_mean
 *
 * The start goes up, right after the last statement before it that
 * touches its buffers (the packing of a gradient bucket), taking along the
 * allocation and the device-to-host copy placement made for it; the wait
 * goes down, right before the first statement after it that touches its
 * result (the unpacking the update reads), taking along placement's copy
 * back to the device and the free.  A bucket's all-reduce thus runs while
 * the backward code of the later buckets does (autodiff_dist.c lays the
 * buckets out in the order the backward pass makes them).  The start
 * copies %in into %out and reduces %out in place, so the statements in
 * between may read or write %in but touch %out not at all; nothing moves
 * out of its statement list, nor across a statement that sets a symbol
 * the buffers' sizes read.  An all-reduce with nothing to overlap stays
 * one call.
 *
 * Requires: placement (its copies move with the calls).  Preserves: what
 * every function computes (every rank starts the collectives in the same
 * order, as MPI requires, since every rank runs the same code). */
#include "passes.h"

#include "../ir/kernel.h"

#include <string.h>

typedef struct Overlap {
  KFunc *f;
  bool *set; /* by buffer: the start's or the wait's buffers */
  bool sized_by_syms; /* one of them has a symbolic size */
  int next_id; /* the module's next start/wait number */
} Overlap;

static void mark(int buf, KRefRole role, void *ctx) {
  Overlap *O = ctx;
  O->set[buf] = true;
  KBuf *kb = k_buf(O->f, buf);
  for (int d = 0; d < kb->rank; d++)
    O->sized_by_syms |= !dim_is_const(kb->dims[d], NULL);
}

typedef struct Touch {
  const bool *set;
  bool found;
} Touch;

static void touch(int buf, KRefRole role, void *ctx) {
  Touch *t = ctx;
  t->found |= t->set[buf];
}

static bool touches(Overlap *O, KStmt *s) {
  Touch t = {.set = O->set};
  k_stmt_refs(s, touch, &t);
  return t.found;
}

static bool sets_symbol(const KList *l);

static bool stmt_sets_symbol(const KStmt *s) {
  return s->kind == KS_SETSYM || sets_symbol(&s->body) || sets_symbol(&s->orelse);
}

static bool sets_symbol(const KList *l) {
  for (int i = 0; i < l->n; i++)
    if (stmt_sets_symbol(l->v[i]))
      return true;
  return false;
}

/* Whether statement s may run on the other side of the moving calls. */
static bool can_pass(Overlap *O, KStmt *s) { return !touches(O, s) && !(O->sized_by_syms && stmt_sets_symbol(s)); }

static void clear(Overlap *O) {
  memset(O->set, 0, (size_t)O->f->bufs.n);
  O->sized_by_syms = false;
}

static bool is_all_reduce(const KStmt *s) {
  return s->kind == KS_CALL && s->call == KC_DIST && !s->part &&
         (s->op == IR_ALL_REDUCE_SUM || s->op == IR_ALL_REDUCE_MEAN || s->op == IR_ALL_REDUCE_MAX);
}

static KStmt *part_of(KStmt *s, int part, int id) {
  KStmt *p = k_stmt(KS_CALL, s->loc);
  *p = *s;
  p->part = part;
  p->index = id;
  if (part == KD_WAIT) {
    p->bufs = ir_alloc(sizeof(int));
    p->bufs[0] = s->bufs[s->nbufs - 1];
    p->nbufs = 1;
  }
  return p;
}

/* Splits the all-reduce at l[c]; returns where the scan goes on (the
 * first statement after the start). */
static int split(Overlap *O, KList *l, int c) {
  KStmt *s = l->v[c];
  int id = O->next_id;
  KStmt *start = part_of(s, KD_START, id), *wait = part_of(s, KD_WAIT, id);
  /* up: the start and what placement made for it (alloc, copy d2h) */
  KList up = {0}, passed_up = {0};
  clear(O);
  k_stmt_refs(start, mark, O);
  int j = c - 1;
  for (; j >= 0; j--) {
    KStmt *t = l->v[j];
    if (can_pass(O, t)) {
      k_push(&passed_up, t);
      continue;
    }
    bool made = (t->kind == KS_ALLOC || t->kind == KS_COPY) && O->set[t->buf]; /* the start's buffer made here */
    if (!made)
      break;
    k_push(&up, t);
    k_stmt_refs(t, mark, O);
  }
  /* down: the wait and what placement made for it (copy h2d, free) */
  KList down = {0}, passed_down = {0};
  clear(O);
  k_stmt_refs(wait, mark, O);
  int k = c + 1;
  for (; k < l->n; k++) {
    KStmt *t = l->v[k];
    if (can_pass(O, t)) {
      k_push(&passed_down, t);
      continue;
    }
    bool done = (t->kind == KS_COPY && O->set[t->src]) || (t->kind == KS_FREE && O->set[t->buf]);
    if (!done)
      break;
    k_push(&down, t);
    k_stmt_refs(t, mark, O);
  }
  if (passed_up.n + passed_down.n == 0)
    return c + 1; /* nothing to overlap: one call */
  O->next_id++;
  /* l[0..j], up (in order), start, passed_up (in order), passed_down, wait, down, l[k..] */
  KList out = {0};
  for (int i = 0; i <= j; i++)
    k_push(&out, l->v[i]);
  for (int i = up.n - 1; i >= 0; i--)
    k_push(&out, up.v[i]);
  k_push(&out, start);
  int next = out.n;
  for (int i = passed_up.n - 1; i >= 0; i--)
    k_push(&out, passed_up.v[i]);
  for (int i = 0; i < passed_down.n; i++)
    k_push(&out, passed_down.v[i]);
  k_push(&out, wait);
  for (int i = 0; i < down.n; i++)
    k_push(&out, down.v[i]);
  for (int i = k; i < l->n; i++)
    k_push(&out, l->v[i]);
  *l = out;
  return next;
}

static void overlap_list(Overlap *O, KList *l) {
  for (int i = 0; i < l->n;) {
    KStmt *s = l->v[i];
    overlap_list(O, &s->body);
    overlap_list(O, &s->orelse);
    i = is_all_reduce(s) ? split(O, l, i) : i + 1;
  }
}

bool pass_dist_overlap(KModule *m) {
  if (!m->dist)
    return true;
  Overlap O = {0};
  for (int i = 0; i < m->funcs.n; i++) {
    O.f = m->funcs.v[i];
    O.set = ir_alloc((size_t)O.f->bufs.n + 1);
    overlap_list(&O, &O.f->body);
  }
  return true;
}
