/* passes/memplan_results.c - memplan's last mark: results straight into
 * the caller's memory.
 *
 * A function's result k is a buffer R.  When R is (an alias of) a buffer B
 * allocated once, at the top level of the function, and B's pointer goes
 * nowhere else - every alias of it is made at the top level by a MOVE,
 * none is stored as a param or moved into a buffer assigned elsewhere,
 * and every FREE of one keeps an alias already made (the lowering's
 * `free %B unless %R`) - then B's memory may be the caller's: its ALLOC is
 * marked `-> outK` (KStmt.out), and the code takes the block the caller
 * passes for result k (tcrt_result_alloc), so the last kernel writes the
 * caller's tensor and the runtime copies nothing.  The runtime passes such
 * a block only where it is safe (C order, aligned, host memory, not
 * overlapping an argument, a param or another output; runtime/api.c), and
 * the code takes it only when its byte size is B's (a size computed while
 * running included); else B is a block of its own, as before.
 *
 * Otherwise the result is copied, and KFunc.results_why says why, in the
 * dump: an argument or a param returned as it is, the same value as an
 * earlier result (the runtime copies it from that one), a value assigned
 * more than once (carried by a loop, chosen by an `if`), computed inside a
 * loop or a branch, stored as a param too, or freed before the end.
 */
#include "memplan_internal.h"

/* %name.N, as the dumps write buffer N. */
static const char *buf_text(KFunc *f, int b) {
  KBuf *kb = k_buf(f, b);
  return kb->name ? ir_sprintf("%%%s.%d", kb->name, b) : ir_sprintf("%%%d", b);
}

/* The top-level statement of l assigning b (ALLOC or MOVE), or NULL. */
static KStmt *top_assign(KList *l, int b) {
  for (int i = 0; i < l->n; i++)
    if ((l->v[i]->kind == KS_ALLOC || l->v[i]->kind == KS_MOVE) && l->v[i]->buf == b)
      return l->v[i];
  return NULL;
}

typedef struct Escape {
  Fn *F;
  bool nested;  /* inside a for or an if */
  bool escapes; /* a member stored as a param, or moved into a non-member */
  bool freed;   /* a member freed where no member made before is kept */
  bool *made;   /* members assigned so far, at the top level */
} Escape;

static void note_escape(int buf, KRefRole role, void *ctx) {
  Escape *e = ctx;
  if (e->F->set[buf] && role == KR_ESCAPE)
    e->escapes = true;
}

/* Where B's pointer goes in l (F->set: B and its pure aliases). */
static void walk(Escape *e, KList *l) {
  Fn *F = e->F;
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    k_stmt_refs(s, note_escape, e);
    if (s->kind == KS_MOVE && F->set[s->src] && (!F->set[s->buf] || e->nested))
      e->escapes = true;
    if (s->kind == KS_MOVE && F->set[s->buf] && !e->nested)
      e->made[s->buf] = true;
    if (s->kind == KS_FREE && F->set[s->buf]) {
      bool kept = false;
      for (int q = 0; q < s->nkeep; q++)
        kept |= F->set[s->keep[q]] && e->made[s->keep[q]];
      if (!kept || e->nested)
        e->freed = true;
    }
    bool was = e->nested;
    e->nested = true;
    walk(e, &s->body);
    walk(e, &s->orelse);
    e->nested = was;
  }
}

/* Marks result r's ALLOC, or says why it cannot be the caller's memory. */
static const char *mark_result(Fn *F, int r) {
  KFunc *f = F->f;
  int R = f->results[r], b = R;
  for (int q = 0; q < r; q++)
    if (f->results[q] == R)
      return ir_sprintf("the same value as out%d", q);
  if (k_buf(f, R)->kind == KB_ARG)
    return "an argument, returned as it is";
  if (k_buf(f, R)->kind == KB_PARAM)
    return "a param's buffer";
  KStmt *a;
  for (;;) { /* back through the MOVEs to the ALLOC */
    if (F->nasg[b] != 1)
      return ir_sprintf("%s is assigned more than once (carried by a loop, or chosen by an if)", buf_text(f, b));
    if (!(a = top_assign(&f->body, b)))
      return ir_sprintf("%s is computed inside a loop or a branch", buf_text(f, b));
    if (a->kind == KS_ALLOC)
      break;
    b = a->src;
    if (!mp_is_temp(F, b))
      return k_buf(f, b)->kind == KB_ARG ? "an argument, returned as it is" : "a param's buffer";
  }
  if (a->out)
    return ir_sprintf("the same value as out%d", a->out - 1);
  mp_alias_set(F, b);
  Escape e = {F, false, false, false, ir_alloc((size_t)F->nb)};
  e.made[b] = true;
  walk(&e, &f->body);
  if (e.escapes)
    return ir_sprintf("%s is also stored as a param or handed to another buffer", buf_text(f, b));
  if (e.freed)
    return ir_sprintf("%s may be freed before the end", buf_text(f, b));
  a->out = r + 1;
  return NULL;
}

void mp_results(Fn *F) {
  KFunc *f = F->f;
  f->results_why = ir_alloc(sizeof(char *) * ((size_t)f->nresults + 1));
  for (int r = 0; r < f->nresults; r++)
    f->results_why[r] = mark_result(F, r);
}
