/* passes/row_scratch.c - the `row_scratch` pass: a row kernel writes its
 * output to memory once.
 *
 * Softmax lowers to four stages over a row: its max, exp(x - max) into
 * the output row, that row's sum, and the output row scaled in place.
 * The output row is written twice; its first write of every cache line
 * reads the line from memory (for ownership), and the scale reads it back
 * while the memory system is busy with the next rows.  On the CPU (the
 * target's row_scratch_bytes and stream_min_bytes; 0 turns a rule off,
 * as on the GPU) this pass rewrites top-level row kernels whose bodies are
 * stages only, or a chain of rows loops around such a body (softmax over
 * the last axis of a rank-3 tensor: `rows i0 < B { rows i1 < T { stages
 * } }`, whose row is B[i0, i1, ...]):
 *
 *  1. Scratch rows.  When a stage F writes a buffer B's row whole, and a
 *     later stage L, the last to write B, overwrites it whole, with every
 *     access of B from F to L at the iteration's row (B[i, ...], i the
 *     rows loops' variables), then F and the stages up to L write a scratch
 *     row instead (KS_SCRATCH, first in the body: the thread's own block,
 *     in L1 with the row it reads), and they and L read it; L stores B.
 *     Stages before F and after L still read B itself, which L has written
 *     whole.  A row too large for the block uses B's own row as its
 *     scratch (the same code as before the pass: F writes B's row, L
 *     overwrites it).  A buffer private to the kernel (the function's
 *     own, read and written by nothing else: softmax's exp in its
 *     backward pass) is kept in the scratch row from F to its last read,
 *     and its memory is touched only by rows too large for the block.
 *  2. Streaming stores.  The last stage to write a buffer, when it stores
 *     the row whole in vectors of the target's width and no later stage
 *     reads the buffer, is marked `stream if BYTES >= stream_min_bytes`:
 *     where the buffer is that large (the run's sizes) the stores are
 *     non-temporal (no read for ownership; they do not evict the rows the
 *     kernel reads), which the CPU emitter does where the row is aligned
 *     to a vector (codegen/cpu_kernel.c, store_vector).
 *
 * A stage "writes B's row whole" when it is elementwise, stores
 * B[i, j1, ..., jn] with i the rows variables and j1..jn its own loops in
 * order, over extents equal to B's other dims.  Runs after schedule (the
 * stages' vector marks stay as they are: a stage's last store index is
 * still its innermost loop) and before placement (which gives the scratch
 * buffers their space like every other).
 */
#include "passes.h"

#include <string.h>

#include "../ir/kernel.h"
#include "../ir/target.h"
#include "row_kernel.h"

/* What a walk over the loads of one buffer finds or makes. */
typedef struct Loads {
  int buf;
  const Rows *rows;
  int to; /* the scratch buffer the loads are redirected to */
  bool any, off_row;
} Loads;

static void find_loads(const KExpr *e, Loads *L) {
  if (!e)
    return;
  if (e->kind == KX_LOAD && e->buf == L->buf) {
    L->any = true;
    if (e->linear || e->nargs < L->rows->n || !at_row(e->args, L->rows))
      L->off_row = true;
  }
  for (int i = 0; i < e->nargs; i++)
    find_loads(e->args[i], L);
}

/* Loads of the stage's value, finalize and store indices (one in a store
 * index counts as off the row: only values are redirected). */
static Loads stage_loads(const KStmt *s, int buf, const Rows *r) {
  Loads L = {.buf = buf, .rows = r};
  find_loads(s->value, &L);
  find_loads(s->finalize, &L);
  bool any = L.any;
  L.any = false;
  for (int i = 0; i < s->nstore; i++)
    find_loads(s->store_idx[i], &L);
  L.off_row |= L.any;
  L.any |= any;
  return L;
}

/* B[i..., a...] read as scratch[a...] */
static KExpr *to_scratch(KExpr *e, void *ctx) {
  Loads *L = ctx;
  if (e->kind != KX_LOAD || e->buf != L->buf)
    return NULL;
  return k_load(L->to, e->dtype, e->nargs - L->rows->n, e->args + L->rows->n);
}

static void redirect_loads(KStmt *s, Loads *L) {
  s->value = k_expr_map(s->value, to_scratch, L);
  s->finalize = k_expr_map(s->finalize, to_scratch, L);
}

/* Rule 1 for buffer b in row kernel r: returns whether it applied. */
static bool scratch_row(const Target *t, KFunc *f, const Rows *r, int b) {
  KList *body = &r->loop->body;
  KBuf *kb = k_buf(f, b);
  int d = r->n;
  if (kb->kind != KB_TEMP || kb->rank <= d)
    return false;
  int64_t one = 1, c;
  for (int i = d; i < kb->rank; i++)
    one *= dim_is_const(kb->dims[i], &c) ? c : 2;
  if (one == 1) /* a row of one element (a per-row statistic) is in L1 as it is */
    return false;
  bool priv = private_to(f, r->loop, b);
  /* from the first write to the last write (the last access of a private buffer) */
  int first = -1, last = -1;
  for (int i = 0; i < body->n; i++) {
    KStmt *s = body->v[i];
    bool writes = s->kind == KS_KERNEL && s->buf == b;
    if (first < 0 && writes)
      first = i;
    if (first >= 0 && (writes || (priv && stage_loads(s, b, r).any)))
      last = i;
  }
  if (first < 0 || last == first)
    return false;
  for (int i = first; i <= last; i++) {
    KStmt *s = body->v[i];
    Loads L = stage_loads(s, b, r);
    if (L.off_row || (i == first && L.any) || (s->buf == b && !writes_row(f, s, r)))
      return false;
  }
  int sb = k_buf_new(f, kb->name ? ir_sprintf("%s.row", kb->name) : NULL, kb->dtype, kb->rank - d, kb->dims + d,
                     KB_SCRATCH);
  Loads L = {.buf = b, .rows = r, .to = sb};
  for (int i = first; i <= last; i++) {
    KStmt *s = body->v[i];
    redirect_loads(s, &L);
    if (s->buf == b && (i < last || priv)) { /* B[i..., j...] = v  becomes  scratch[j...] = v */
      s->buf = sb;
      s->store_idx += d;
      s->nstore -= d;
    }
  }
  KStmt *sc = k_stmt(KS_SCRATCH, r->loop->loc);
  sc->buf = sb;
  sc->src = b;
  sc->scratch_bytes = t->row_scratch_bytes;
  sc->nstore = kb->rank;
  sc->store_idx = ir_alloc(sizeof(KExpr *) * (size_t)kb->rank);
  for (int i = 0; i < kb->rank; i++)
    sc->store_idx[i] = i < d ? k_var(r->var[i]) : k_int(0);
  k_push(body, sc); /* then moved to the front */
  for (int i = body->n - 1; i > 0; i--)
    body->v[i] = body->v[i - 1];
  body->v[0] = sc;
  return true;
}

/* BYTES >= min, over the buffer's dims. */
static KExpr *at_least(KBuf *kb, int64_t min) {
  KExpr *bytes = k_int(ir_dtype_size(kb->dtype));
  for (int i = 0; i < kb->rank; i++)
    bytes = k_op2(IR_MUL, DT_I64, bytes, k_dim(kb->dims[i]));
  return k_op2(IR_GE, DT_BOOL, bytes, k_int(min));
}

/* Rule 2 for the stages of row kernel r. */
static void stream_stores(const Target *t, KFunc *f, const Rows *r) {
  KList *body = &r->loop->body;
  for (int i = 0; i < body->n; i++) {
    KStmt *s = body->v[i];
    if (s->kind != KS_KERNEL || !writes_row(f, s, r) || s->lkind[s->nloops - 1] != KL_VECTOR ||
        s->lanes * ir_dtype_size(k_buf(f, s->buf)->dtype) != t->vector_bytes)
      continue;
    bool later = false; /* another stage writes or reads the buffer after s */
    for (int k = i + 1; k < body->n && !later; k++)
      later = body->v[k]->buf == s->buf || stage_loads(body->v[k], s->buf, r).any;
    if (!later)
      s->stream = at_least(k_buf(f, s->buf), t->stream_min_bytes);
  }
}

static void walk(const Target *t, KFunc *f, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    Rows r;
    if (row_kernel(s, &r)) {
      if (t->row_scratch_bytes > 0) { /* each buffer a stage writes, once (the body grows meanwhile) */
        KList stages = r.loop->body;
        stages.v = ir_alloc(sizeof(KStmt *) * (size_t)(stages.n + 1));
        memcpy(stages.v, r.loop->body.v, sizeof(KStmt *) * (size_t)stages.n);
        bool *tried = ir_alloc((size_t)f->bufs.n + 1);
        for (int k = 0; k < stages.n; k++)
          if (!tried[stages.v[k]->buf]) {
            tried[stages.v[k]->buf] = true;
            scratch_row(t, f, &r, stages.v[k]->buf);
          }
      }
      if (t->stream_min_bytes > 0)
        stream_stores(t, f, &r);
      continue;
    }
    if (s->kind == KS_FOR && !s->rows) {
      walk(t, f, &s->body);
    } else if (s->kind == KS_IF) {
      walk(t, f, &s->body);
      walk(t, f, &s->orelse);
    }
  }
}

bool pass_row_scratch(KModule *m) {
  if (m->target->kind != TGT_CPU)
    return true;
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    walk(m->target, f, &f->body);
  }
  return true;
}
