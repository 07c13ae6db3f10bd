/* tests/unit/kernel_verify_test.c - ir/kernel_verify.c's check that every
 * size symbol is set before it is read, on kernel IR built by hand.
 *
 * `kernel_verify_test CASE` builds one function and verifies it: `good`
 * (N set, then read) prints "ok"; the others read N where not every path
 * has set it, and the verifier's internal error (exit 3) names N:
 *   alloc     an allocation of f32[N] before N's SETSYM
 *   extent    a kernel over i0 < N before it
 *   branch    N set in one branch of an `if` only, read after it
 *   loop      N set in a `for` body only (it may run zero times), read after
 *   result    a result of f32[N] where N is never set
 */
#include "ir/kernel.h"

#include <stdio.h>
#include <string.h>

static Loc L0;

static void setsym(KList *l, int sym) {
  KStmt *s = k_stmt(KS_SETSYM, L0);
  s->buf = sym;
  s->cond = k_int(4);
  k_push(l, s);
}

static void alloc(KList *l, int buf) {
  KStmt *s = k_stmt(KS_ALLOC, L0);
  s->buf = buf;
  k_push(l, s);
}

/* out[i0] = 0 for i0 < extent */
static void kernel(KFunc *f, KList *l, int out, Dim extent) {
  KStmt *k = k_stmt(KS_KERNEL, L0);
  k->buf = out;
  k->nloops = 1;
  k->extent[0] = extent;
  k->loopvar[0] = f->nvars++;
  k->value = k_const(DT_F32, 0);
  k->store_idx = ir_alloc(sizeof(KExpr *));
  k->store_idx[0] = k_var(k->loopvar[0]);
  k->nstore = 1;
  k_push(l, k);
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "good";
  KModule *m = ir_alloc(sizeof *m);
  m->name = "verify";
  KFunc *f = ir_alloc(sizeof *f);
  f->name = c;
  ir_vec_push(&m->funcs, f);
  int N = ir_sym_new("N", L0);
  Dim dn = dim_sym(N), d4 = dim_const(4);
  int y = k_buf_new(f, "y", DT_F32, 1, &dn, KB_TEMP), z = k_buf_new(f, "z", DT_F32, 1, &d4, KB_TEMP);
  KList *b = &f->body;
  if (!strcmp(c, "good")) {
    setsym(b, N);
    alloc(b, y);
    kernel(f, b, y, dn);
  } else if (!strcmp(c, "alloc")) {
    alloc(b, y);
    setsym(b, N);
  } else if (!strcmp(c, "extent")) {
    alloc(b, z);
    kernel(f, b, z, dn);
    setsym(b, N);
  } else if (!strcmp(c, "branch")) {
    KStmt *s = k_stmt(KS_IF, L0);
    s->cond = k_const(DT_BOOL, 1);
    setsym(&s->body, N);
    k_push(b, s);
    alloc(b, y);
  } else if (!strcmp(c, "loop")) {
    KStmt *s = k_stmt(KS_FOR, L0);
    s->var = f->nvars++;
    s->cond = k_int(0), s->stop = k_int(2), s->step = k_int(1);
    setsym(&s->body, N);
    k_push(b, s);
    alloc(b, y);
  } else if (!strcmp(c, "result")) {
    f->results = ir_alloc(sizeof(int));
    f->results[f->nresults++] = y;
  }
  k_verify_module(m);
  printf("ok\n");
  return 0;
}
