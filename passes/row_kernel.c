/* passes/row_kernel.c - finding row kernels and their rows (row_kernel.h). */
#include "row_kernel.h"

bool row_kernel(KStmt *s, Rows *r) {
  if (s->kind != KS_FOR || !s->rows || s->device)
    return false;
  r->n = 0;
  for (;;) {
    if (r->n == IR_MAX_RANK)
      return false;
    r->var[r->n++] = s->var;
    if (s->body.n == 1 && s->body.v[0]->kind == KS_FOR && s->body.v[0]->rows) {
      s = s->body.v[0];
      continue;
    }
    for (int i = 0; i < s->body.n; i++)
      if (s->body.v[i]->kind != KS_KERNEL)
        return false;
    r->loop = s;
    return true;
  }
}

bool at_row(KExpr *const *idx, const Rows *r) {
  for (int i = 0; i < r->n; i++)
    if (idx[i]->kind != KX_VAR || idx[i]->var != r->var[i])
      return false;
  return true;
}

bool writes_row(KFunc *f, const KStmt *s, const Rows *r) {
  KBuf *kb = k_buf(f, s->buf);
  int d = r->n;
  if (s->kind != KS_KERNEL || s->nred || s->store_linear || kb->rank <= d || s->nstore != kb->rank ||
      s->nloops != kb->rank - d || !at_row(s->store_idx, r))
    return false;
  for (int i = d; i < kb->rank; i++)
    if (s->store_idx[i]->kind != KX_VAR || s->store_idx[i]->var != s->loopvar[i - d] ||
        !dim_eq(s->extent[i - d], kb->dims[i]))
      return false;
  return true;
}

/* References to one buffer: its data uses (reads, writes, escapes) and
 * assignments (its ALLOC, a MOVE into it). */
typedef struct Refs {
  int buf, data, assigns;
} Refs;

static void count_ref(int buf, KRefRole role, void *ctx) {
  Refs *c = ctx;
  if (buf != c->buf)
    return;
  c->data += role == KR_READ || role == KR_WRITE || role == KR_ESCAPE;
  c->assigns += role == KR_ASSIGN;
}

static Refs list_refs(const KList *l, int b) {
  Refs c = {.buf = b};
  for (int i = 0; i < l->n; i++)
    k_stmt_refs(l->v[i], count_ref, &c);
  return c;
}

bool private_to(KFunc *f, const KStmt *r, int b) {
  for (int i = 0; i < f->nresults; i++)
    if (f->results[i] == b)
      return false;
  Refs all = list_refs(&f->body, b), in = list_refs(&r->body, b);
  return all.assigns == 1 && all.data == in.data;
}
