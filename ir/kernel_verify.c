/* ir/kernel_verify.c - structural checks of the kernel IR: every buffer
 * exists, loads and stores index every axis of their buffer (or give one
 * flat index), loop variables are in range, reductions have a combine op,
 * row kernels hold only stages, every size symbol is set before it is read.
 * A failure is a compiler bug (ir_die).
 */
#include "kernel.h"

#include <limits.h>
#include <string.h>

/* ---- symbols set before they are read ----
 *
 * A must-analysis over the statements in order: `set` holds the symbols
 * every path to here has set (a SETSYM).  A statement reads the symbols
 * of its expressions, its extents and the dims of the buffers it touches
 * (k_uses_stmt: their strides and sizes); an `if` sets what both branches
 * set, a `for` what it set before (its body may run zero times), or what
 * its body set when it is `nonempty` (runs at least once).  The
 * symbols a function's results have are read after its body. */

static void need_syms(const KUses *u, const bool *set, Loc loc) {
  for (int i = 0; i < u->nsyms; i++)
    if (u->syms[i] && !set[i])
      ir_die(loc, "kernel IR: size symbol %s read before it is set", ir_sym_name(i));
}

static void buf_syms(KUses *u, const KBuf *b) {
  for (int d = 0; d < b->rank; d++)
    for (int t = 0; t < b->dims[d].n; t++)
      for (int k = 0; k < b->dims[d].t[t].deg; k++)
        if (b->dims[d].t[t].sym[k] < u->nsyms)
          u->syms[b->dims[d].t[t].sym[k]] = true;
}

/* The symbols statement s reads itself (a for's or an if's header, not
 * their bodies; not the symbol a SETSYM sets). */
static void check_stmt_syms(const KFunc *f, const KStmt *s, const bool *set) {
  KStmt head = *s;
  head.body = (KList){0};
  head.orelse = (KList){0};
  if (s->kind == KS_SETSYM)
    head.buf = INT_MAX; /* k_uses_stmt counts the symbol set as used */
  KUses u = k_uses_new(f);
  k_uses_stmt(&u, f, &head);
  if (s->kind == KS_ALLOC) /* its size (k_uses_stmt counts only reads and writes of the data) */
    buf_syms(&u, k_buf((KFunc *)f, s->buf));
  need_syms(&u, set, s->loc);
}

static void check_list_syms(const KFunc *f, const KList *l, bool *set, int nsyms) {
  for (int i = 0; i < l->n; i++) {
    const KStmt *s = l->v[i];
    check_stmt_syms(f, s, set);
    if (s->kind == KS_SETSYM)
      set[s->buf] = true;
    else if (s->kind == KS_FOR) {
      bool *inner = ir_alloc((size_t)nsyms + 1);
      memcpy(inner, set, (size_t)nsyms);
      check_list_syms(f, &s->body, inner, nsyms);
      if (s->nonempty)
        memcpy(set, inner, (size_t)nsyms);
    } else if (s->kind == KS_IF) {
      bool *then = ir_alloc((size_t)nsyms + 1), *orelse = ir_alloc((size_t)nsyms + 1);
      memcpy(then, set, (size_t)nsyms);
      memcpy(orelse, set, (size_t)nsyms);
      check_list_syms(f, &s->body, then, nsyms);
      check_list_syms(f, &s->orelse, orelse, nsyms);
      for (int k = 0; k < nsyms; k++)
        set[k] = then[k] && orelse[k];
    }
  }
}

static void verify_syms(const KFunc *f) {
  int nsyms = ir_sym_count();
  bool *set = ir_alloc((size_t)nsyms + 1);
  check_list_syms(f, &f->body, set, nsyms);
  KUses u = k_uses_new(f);
  for (int r = 0; r < f->nresults; r++)
    buf_syms(&u, k_buf((KFunc *)f, f->results[r]));
  need_syms(&u, set, f->graph ? f->graph->loc : (Loc){0});
}

static void verify_expr(KFunc *f, KExpr *e, Loc loc) {
  switch (e->kind) {
  case KX_LOAD: {
    KBuf *b = k_buf(f, e->buf);
    if (!e->linear && e->nargs != b->rank)
      ir_die(loc, "kernel IR: load of %d indices from a rank-%d buffer", e->nargs, b->rank);
    break;
  }
  case KX_VAR:
    if (e->var < 0 || e->var >= f->nvars)
      ir_die(loc, "kernel IR: loop variable i%d of %d", e->var, f->nvars);
    break;
  case KX_ARG_DIM:
    if (e->buf < 0 || e->buf >= f->nargs)
      ir_die(loc, "kernel IR: argument %d of %d", e->buf, f->nargs);
    break;
  case KX_LET:
  case KX_LETVAR:
    if (e->var < 0 || e->var >= f->nlets)
      ir_die(loc, "kernel IR: let-variable t%d of %d", e->var, f->nlets);
    break;
  default: break;
  }
  for (int i = 0; i < e->nargs; i++)
    verify_expr(f, e->args[i], loc);
}

static void verify_epilogue(KFunc *f, const KStmt *s) {
  bool bias = s->epilogue & KE_BIAS;
  if (s->call != KC_MATMUL || s->nbufs != 3 + bias || s->nexprs != 7 ||
      (s->epilogue & ~(KE_BIAS | KE_RELU | KE_GELU_TANH)) || (s->epilogue & KE_RELU && s->epilogue & KE_GELU_TANH))
    ir_die(s->loc, "kernel IR: epilogue %d on a call of kind %d with %d buffers and %d expressions", s->epilogue,
           (int)s->call, s->nbufs, s->nexprs);
  KBuf *out = k_buf(f, s->bufs[2]);
  if (out->dtype != DT_F32 || out->rank != 2)
    ir_die(s->loc, "kernel IR: a matmul epilogue on a product that is not a f32 matrix");
  if (bias) {
    KBuf *b = k_buf(f, s->bufs[3]);
    if (b->dtype != DT_F32 || b->rank != 1 || !dim_eq(b->dims[0], out->dims[1]))
      ir_die(s->loc, "kernel IR: a matmul epilogue's bias is not f32 of the product's columns");
  }
}

static void verify_list(KFunc *f, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    switch (s->kind) {
    case KS_KERNEL: {
      KBuf *b = k_buf(f, s->buf);
      if (!s->store_linear && s->nstore != b->rank)
        ir_die(s->loc, "kernel IR: store of %d indices into a rank-%d buffer", s->nstore, b->rank);
      for (int k = 0; k < s->nloops; k++)
        if (s->loopvar[k] < 0 || s->loopvar[k] >= f->nvars)
          ir_die(s->loc, "kernel IR: loop %d runs variable i%d of %d", k, s->loopvar[k], f->nvars);
      if (s->nred && !s->combine)
        ir_die(s->loc, "kernel IR: reduction without a combine op");
      verify_expr(f, s->value, s->loc);
      if (s->finalize)
        verify_expr(f, s->finalize, s->loc);
      for (int k = 0; k < s->nstore; k++)
        verify_expr(f, s->store_idx[k], s->loc);
      if (s->stream)
        verify_expr(f, s->stream, s->loc);
      break;
    }
    case KS_SCRATCH: {
      KBuf *b = k_buf(f, s->buf), *src = k_buf(f, s->src);
      if (b->dtype != src->dtype || s->nstore != src->rank || b->rank >= src->rank || s->scratch_bytes <= 0)
        ir_die(s->loc, "kernel IR: a scratch row that is not a row of its buffer");
      for (int k = 0; k < s->nstore; k++)
        verify_expr(f, s->store_idx[k], s->loc);
      break;
    }
    case KS_ALLOC:
    case KS_FREE: k_buf(f, s->buf); break;
    case KS_MOVE: k_buf(f, s->buf), k_buf(f, s->src); break;
    case KS_COPY: {
      KBuf *d = k_buf(f, s->buf), *src = k_buf(f, s->src);
      if (d->dtype != src->dtype || d->rank != src->rank)
        ir_die(s->loc, "kernel IR: a copy between buffers of different types");
      break;
    }
    case KS_CALL:
      for (int k = 0; k < s->nbufs; k++)
        k_buf(f, s->bufs[k]);
      if (s->epilogue) /* blas_epilogue's fold: an unbatched f32 product, its bias f32[n] */
        verify_epilogue(f, s);
      for (int k = 0; k < s->nexprs; k++)
        verify_expr(f, s->exprs[k], s->loc);
      break;
    case KS_FOR:
      verify_expr(f, s->cond, s->loc), verify_expr(f, s->stop, s->loc), verify_expr(f, s->step, s->loc);
      /* a row kernel holds only its scratch rows, then its stages: no
       * allocation inside the loop */
      for (int k = 0, stages = 0; s->rows && k < s->body.n; k++) {
        KStmt *b = s->body.v[k];
        if (b->kind == KS_SCRATCH && !stages)
          continue;
        stages = 1;
        if (b->kind != KS_KERNEL && !(b->kind == KS_FOR && b->rows))
          ir_die(s->loc, "kernel IR: a row kernel holds a statement of kind %d", (int)b->kind);
      }
      verify_list(f, &s->body);
      break;
    case KS_IF:
      verify_expr(f, s->cond, s->loc);
      verify_list(f, &s->body);
      verify_list(f, &s->orelse);
      break;
    case KS_CHECK:
      for (int k = 0; k < s->nexprs; k++)
        verify_expr(f, s->exprs[k], s->loc);
      /* fall through */
    case KS_SETSYM: verify_expr(f, s->cond, s->loc); break;
    }
  }
}

bool k_verify_module(KModule *m) {
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    verify_list(f, &f->body);
    for (int r = 0; r < f->nresults; r++)
      k_buf(f, f->results[r]);
    verify_syms(f);
  }
  return true;
}
