/* passes/empty_guard.c - a loop nest that may be empty does not walk its
 * outer loops.
 *
 * A loop nest walks its outer loops even when an inner one has extent 0:
 * `sum(reshape(y, (k, -1)))` with y empty and k = 4.5e18 is a reduction
 * over loops k x 0, which counted k up to 4.5e18 doing nothing (and on the
 * GPU launched that many blocks of nothing).  A kernel has two nests, its
 * outer loops (the points it stores) and its reduced loops (run at each of
 * them).  Where a loop of a nest below the nest's outermost may have
 * extent 0 (it is not a positive constant nor the outermost's extent),
 * and the outermost's extent is a run-time size (a constant one wastes
 * what the program wrote), the outermost loop runs over a symbol set just
 * before the kernel:
 *   k.nz = where(ne(d, 0), k, 0)
 *   kernel %s[] = sum(load %y[i0, i1])  for reduce i0 < k.nz, i1 < d
 * so that the nest's count is 0 as soon as one extent is: each extent is
 * tested against 0 on its own (their product could overflow).  An empty
 * reduced nest leaves the accumulator at its identity, which the kernel
 * still stores (through its finalize) at every outer point, as it does for
 * any empty reduction; both code generators read the symbol as any other.
 *
 * The rows loops of fused row kernels keep their stages as they are (their
 * body is only stages, each over one row).
 *
 * Only the CPU needs it: the GPU's schedule flattens every nest it
 * launches (gpu_grid: one grid-stride loop over the product of the
 * extents; gpu_tile: tiles of the two innermost, ceil(0 / 32) = 0 of
 * them), so an empty inner loop is an empty launch there already
 * (tests/e2e/edge.py's `empty_rows` on the emulated GPU pins it).
 *
 * Requires: lower (before schedule).  Preserves: values, kernel numbers.
 */
#include "passes.h"

#include "ir/kernel.h"
#include "ir/target.h"

/* Whether the loop's extent may be 0 at run time. */
static bool may_be_empty(Dim extent) {
  int64_t c;
  return !dim_is_const(extent, &c) || c <= 0;
}

/* The nest of loops [from, to) of kernel k behind its guard, which goes
 * into l before the kernel: and(ne(extent, 0), ...) over the loops below
 * the outermost that may be empty, 0 for the outermost's extent if not. */
static void guard_nest(KList *l, KStmt *k, int from, int to) {
  if (to - from < 2 || dim_is_const(k->extent[from], NULL))
    return; /* a constant count of empty iterations is the program's own, never a run-time size */
  KExpr *cond = NULL;
  for (int i = from + 1; i < to; i++) {
    if (!may_be_empty(k->extent[i]) || dim_eq(k->extent[i], k->extent[from]))
      continue; /* never 0, or 0 exactly when the outermost is */
    KExpr *ne = k_op2(IR_NE, DT_BOOL, k_dim(k->extent[i]), k_int(0));
    cond = cond ? k_op2(IR_AND, DT_BOOL, cond, ne) : ne;
  }
  if (!cond)
    return;
  int sym0;
  char text[128];
  const char *name = ir_sprintf("%s.nz", dim_is_sym(k->extent[from], &sym0) ? ir_sym_name(sym0)
                                                                          : dim_format(k->extent[from], text, sizeof text));
  KStmt *s = k_stmt(KS_SETSYM, k->loc);
  s->buf = ir_sym_new(name, k->loc);
  KExpr *w[3] = {cond, k_dim(k->extent[from]), k_int(0)};
  s->cond = k_op(IR_WHERE, DT_I64, 3, w);
  k_push(l, s);
  k->extent[from] = dim_sym(s->buf);
}

static void guard_list(KList *l) {
  KList in = *l;
  *l = (KList){0};
  for (int i = 0; i < in.n; i++) {
    KStmt *s = in.v[i];
    if (s->kind == KS_KERNEL) {
      guard_nest(l, s, 0, s->nloops - s->nred);
      guard_nest(l, s, s->nloops - s->nred, s->nloops);
    } else if (s->kind == KS_FOR && !s->rows) {
      guard_list(&s->body);
    } else if (s->kind == KS_IF) {
      guard_list(&s->body);
      guard_list(&s->orelse);
    }
    k_push(l, s);
  }
}

bool pass_empty_guard(KModule *m) {
  if (m->target->kind != TGT_CPU)
    return true;
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    guard_list(&f->body);
  }
  return true;
}
