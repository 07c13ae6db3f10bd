/* passes/memplan_arena.c - the `arena` pass: a static device arena per function.
 *
 * On a target with a device (CUDA, the emulator included) every device
 * buffer whose size is a compile-time constant, and whose memory lives and
 * dies inside one call of its function, gets an offset in that function's
 * device arena (KStmt.arena_off, printed `alloc.dev ... @arena+OFF`; the
 * function's size is KFunc.arena_bytes, printed `// device arena: N
 * bytes`).  The runtime allocates each function's arena once per context,
 * on first use (tcrt_dev_arena in runtime/device.c); an arena buffer is
 * its base plus the offset and its frees leave it alone.  Symbolic sizes
 * keep the context's cache.  On the CPU the pass does nothing.
 *
 * The unit is a MOVE class (as in placement: buffers one MOVE makes the
 * same pointer, a reshape or a carried value), since they share memory.
 * A class goes in the arena when it has exactly one ALLOC, a device
 * buffer of constant dims that memplan did not give the caller's memory
 * (`-> outK`), and none of its buffers is an argument, a param, an
 * argument's twin, a result or the source of a result's copy back, or
 * stored as a param (its pointer escapes the call).
 *
 * Lifetimes.  The function's statements are numbered in order, nested
 * bodies included (a `for` is its header, then its body); a class lives
 * from its ALLOC to its last use (not its frees, nor keep lists: a free
 * leaves arena memory alone, and lower frees at the end of a block), and a class referenced inside a `for` that does not contain
 * its ALLOC lives over the whole loop (its bytes must survive every
 * iteration).  A class allocated inside a loop gets one address for every
 * iteration, so it must die in the iteration that made it: one referenced
 * outside that loop, or in it before its ALLOC (its previous iteration's
 * value, carried), keeps the cache.  Two classes whose lives do not
 * overlap may share bytes; the offsets are chosen largest class first, at
 * the lowest multiple of TC_ARENA_ALIGN that overlaps no placed class
 * living at the same time.
 *
 * Requires: placement (KBuf.space).  Preserves: what every function
 * computes; the cache's buffers and frees as they were.
 */
#include "passes.h"

#include "../ir/kernel.h"

#include <stdlib.h>

/* cuBLAS, cuBLASLt and 128-bit vector loads want 256-byte aligned operands. */
enum { TC_ARENA_ALIGN = 256 };

typedef struct Loop {
  int start, end; /* the positions of a `for`: its header to its body's last statement */
} Loop;

typedef struct Class {
  int allocs;       /* ALLOC statements of the class's buffers */
  KStmt *alloc;     /* the (only) one */
  int alloc_pos;
  int *alloc_loops; /* the loops around it, outermost first */
  int nalloc_loops;
  bool excluded;    /* keeps the cache */
  int first, last;  /* its life, positions */
  int64_t bytes;
  int64_t off;
} Class;

/* One reference of a class: where, and inside which loops. */
typedef struct Ref {
  int cls, pos;
  int *loops; /* outermost first (shared with the walk's snapshot) */
  int nloops;
} Ref;

typedef struct Arena {
  KFunc *f;
  int *parent; /* union-find over buffers: MOVE classes */
  Class *cls;  /* by class root */
  Loop *loops;
  int nloops, caploops;
  Ref *refs;
  int nrefs, caprefs;
  int pos;      /* next statement's position */
  int stack[64]; /* the loops around the statement being walked */
  int depth;
} Arena;

static int find(Arena *A, int b) {
  while (A->parent[b] != b)
    b = A->parent[b] = A->parent[A->parent[b]];
  return b;
}

static void classes(Arena *A, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_MOVE) {
      int a = find(A, s->buf), b = find(A, s->src);
      if (a != b)
        A->parent[a] = b;
    }
    classes(A, &s->body);
    classes(A, &s->orelse);
  }
}

static int *snapshot(Arena *A) {
  int *v = ir_alloc(sizeof(int) * ((size_t)A->depth + 1));
  for (int i = 0; i < A->depth; i++)
    v[i] = A->stack[i];
  return v;
}

typedef struct Walk {
  Arena *A;
  int *loops; /* the snapshot of this statement's loops */
} Walk;

static void record(int buf, KRefRole role, void *ctx) {
  Walk *w = ctx;
  Arena *A = w->A;
  int c = find(A, buf);
  if (role == KR_ESCAPE)
    A->cls[c].excluded = true; /* stored as a param: outlives the call */
  if (role == KR_FREE || role == KR_KEEP)
    return; /* frees of arena memory do nothing, so they end no life (lower frees at a block's end) */
  if (A->nrefs == A->caprefs) {
    A->caprefs = A->caprefs ? 2 * A->caprefs : 64;
    Ref *v = ir_alloc(sizeof(Ref) * (size_t)A->caprefs);
    for (int i = 0; i < A->nrefs; i++)
      v[i] = A->refs[i];
    A->refs = v;
  }
  A->refs[A->nrefs++] = (Ref){c, A->pos, w->loops, A->depth};
}

/* Numbers the statements of l, records every reference of a buffer (a
 * statement's own, then its bodies') and every ALLOC. */
static void walk(Arena *A, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    Walk w = {A, snapshot(A)};
    KStmt own = *s; /* the statement without its nested bodies */
    own.body = own.orelse = (KList){0};
    k_stmt_refs(&own, record, &w);
    if (s->kind == KS_ALLOC) {
      Class *c = &A->cls[find(A, s->buf)];
      c->allocs++;
      c->alloc = s;
      c->alloc_pos = A->pos;
      c->alloc_loops = w.loops;
      c->nalloc_loops = A->depth;
    }
    if (s->kind == KS_COPY && s->out)
      A->cls[find(A, s->src)].excluded = true; /* a result's copy back: the brief's "result" */
    int here = A->pos++;
    if (s->kind == KS_FOR) {
      if (A->depth == (int)(sizeof A->stack / sizeof A->stack[0]))
        ir_die(s->loc, "arena: loops nested more than 64 deep");
      if (A->nloops == A->caploops) {
        A->caploops = A->caploops ? 2 * A->caploops : 16;
        Loop *v = ir_alloc(sizeof(Loop) * (size_t)A->caploops);
        for (int k = 0; k < A->nloops; k++)
          v[k] = A->loops[k];
        A->loops = v;
      }
      int id = A->nloops++;
      A->stack[A->depth++] = id;
      walk(A, &s->body);
      A->depth--;
      A->loops[id] = (Loop){here, A->pos - 1};
    } else {
      walk(A, &s->body);
      walk(A, &s->orelse);
    }
  }
}

/* The bytes of a buffer of constant dims; false when a dim is symbolic. */
static bool static_bytes(KBuf *kb, int64_t *bytes) {
  int64_t n = ir_dtype_size(kb->dtype);
  for (int d = 0; d < kb->rank; d++) {
    int64_t c;
    if (!dim_is_const(kb->dims[d], &c) || c < 0 || (c && n > INT64_MAX / 4 / c))
      return false;
    n *= c;
  }
  *bytes = n;
  return true;
}

/* Whether the class's one ALLOC may take arena bytes (before lifetimes). */
static bool candidate(Arena *A, int root) {
  Class *c = &A->cls[root];
  if (c->excluded || c->allocs != 1 || c->alloc->out)
    return false;
  KFunc *f = A->f;
  for (int b = 0; b < f->bufs.n; b++) {
    if (find(A, b) != root)
      continue;
    KBuf *kb = k_buf(f, b);
    if (kb->kind != KB_TEMP || kb->host >= 0 || kb->space != KM_DEVICE)
      return false;
    for (int r = 0; r < f->nresults; r++)
      if (f->results[r] == b)
        return false;
  }
  return static_bytes(k_buf(f, c->alloc->buf), &c->bytes);
}

/* Whether loop `id` is one of v[0..n). */
static bool among(const int *v, int n, int id) {
  for (int i = 0; i < n; i++)
    if (v[i] == id)
      return true;
  return false;
}

/* The class's life from its references; false when it is carried across
 * the iterations of a loop around its ALLOC (it keeps the cache). */
static bool life(Arena *A, int root) {
  Class *c = &A->cls[root];
  c->first = c->last = c->alloc_pos;
  for (int i = 0; i < A->nrefs; i++) {
    Ref *r = &A->refs[i];
    if (r->cls != root)
      continue;
    for (int k = 0; k < c->nalloc_loops; k++)
      if (!among(r->loops, r->nloops, c->alloc_loops[k]))
        return false; /* used outside a loop that allocates it anew each iteration */
    if (c->nalloc_loops && r->pos < c->alloc_pos)
      return false; /* read in an iteration before its ALLOC: the previous iteration's value */
    int first = r->pos, last = r->pos;
    for (int k = 0; k < r->nloops; k++) {
      if (among(c->alloc_loops, c->nalloc_loops, r->loops[k]))
        continue;
      Loop *L = &A->loops[r->loops[k]]; /* live over every iteration */
      if (L->start < first)
        first = L->start;
      if (L->end > last)
        last = L->end;
    }
    if (first < c->first)
      c->first = first;
    if (last > c->last)
      c->last = last;
  }
  return true;
}

static int64_t round_up(int64_t n) { return (n + TC_ARENA_ALIGN - 1) / TC_ARENA_ALIGN * TC_ARENA_ALIGN; }

/* Largest first; then in the order of their ALLOCs, for stable offsets. */
static Class *sort_base;
static int by_size(const void *x, const void *y) {
  const Class *a = &sort_base[*(const int *)x], *b = &sort_base[*(const int *)y];
  if (a->bytes != b->bytes)
    return a->bytes > b->bytes ? -1 : 1;
  return a->alloc_pos - b->alloc_pos;
}

static void plan_func(KFunc *f) {
  int nb = f->bufs.n;
  Arena A = {.f = f};
  A.parent = ir_alloc(sizeof(int) * ((size_t)nb + 1));
  A.cls = ir_alloc(sizeof(Class) * ((size_t)nb + 1));
  for (int b = 0; b < nb; b++)
    A.parent[b] = b;
  classes(&A, &f->body);
  walk(&A, &f->body);
  int *order = ir_alloc(sizeof(int) * ((size_t)nb + 1)), n = 0;
  for (int b = 0; b < nb; b++)
    if (find(&A, b) == b && candidate(&A, b) && life(&A, b))
      order[n++] = b;
  sort_base = A.cls;
  qsort(order, (size_t)n, sizeof(int), by_size);
  int64_t size = 0;
  for (int i = 0; i < n; i++) {
    Class *c = &A.cls[order[i]];
    int64_t need = round_up(c->bytes ? c->bytes : 1), off = 0;
    /* the lowest aligned offset clear of every placed class living at the
     * same time: the placed ones are few, so retry from each conflict */
    for (bool moved = true; moved;) {
      moved = false;
      for (int j = 0; j < i; j++) {
        Class *p = &A.cls[order[j]];
        bool together = p->first <= c->last && c->first <= p->last;
        if (together && off < p->off + round_up(p->bytes ? p->bytes : 1) && p->off < off + need) {
          off = p->off + round_up(p->bytes ? p->bytes : 1);
          moved = true;
        }
      }
    }
    c->off = off;
    c->alloc->arena = true;
    c->alloc->arena_off = off;
    if (off + need > size)
      size = off + need;
  }
  f->arena_bytes = size;
}

bool pass_arena(KModule *m) {
  if (!m->target || m->target->kind != TGT_CUDA)
    return true;
  for (int i = 0; i < m->funcs.n; i++)
    plan_func(m->funcs.v[i]);
  return true;
}
