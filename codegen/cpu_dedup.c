/* codegen/cpu_dedup.c - one outlined body for identical kernels.
 *
 * The statements cpu_parallel.c outlines (kernels, parallel `for`s) are
 * often the same code in several functions: a training program's main and
 * train_step carry the same forward and backward kernels, predict the
 * same forward ones.  They differ only in how their function numbered its
 * buffers, loop variables and symbols, so each distinct statement gets
 * one body, and the others call it (--emit=llvm shows tc_fn_train_step
 * calling @tc_fn_main.par3).
 *
 * Identity is decided on the kernel IR, structurally: the key is the
 * statement written out in a canonical form, with every field code
 * generation reads (loops and their kinds, the value, the store's access
 * map, reductions, nested statements, check messages, ...), where
 * buffers, symbols, loop variables and let-variables are numbered in the
 * order they first appear, and each buffer is described where it first
 * appears (dtype, rank, dims, memory space).  Two statements with the
 * same key build the same LLVM function.  The same order is the order of
 * the body's env: its buffers, then its symbols, then the loop variables
 * it reads but does not define, so one caller's env fits the other's
 * body.  With -g the statement's source location is part of the key (a
 * body is at its kernel's line), and so is the module (--device=auto
 * builds two).
 */
#include "cg_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct Canon {
  FILE *o;
  Cg *g;
  KFunc *f;
  int *buf_id, *var_id, *let_id, *sym_id; /* 1 + the canonical number, 0: not seen yet */
  bool *var_defined;
  int nsym_ids, nlets_seen;
  CgInts bufs, syms, vars; /* the original numbers, in canonical order */
} Canon;

static void push(CgInts *v, int x) {
  if (v->n == v->cap) {
    int cap = v->cap ? 2 * v->cap : 16;
    int *nv = ir_alloc(sizeof(int) * (size_t)cap);
    if (v->n)
      memcpy(nv, v->v, sizeof(int) * (size_t)v->n);
    v->v = nv;
    v->cap = cap;
  }
  v->v[v->n++] = x;
}

static int sym(Canon *c, int s) {
  if (s < 0 || s >= c->nsym_ids)
    ir_die((Loc){0}, "kernel IR: symbol %d", s);
  if (!c->sym_id[s]) {
    push(&c->syms, s);
    c->sym_id[s] = c->syms.n;
  }
  return c->sym_id[s] - 1;
}

static void dim(Canon *c, Dim d) {
  fprintf(c->o, "[%d%s", d.n, d.overflow ? " overflow" : "");
  for (int i = 0; i < d.n; i++) {
    fprintf(c->o, " %lld", (long long)d.t[i].coef);
    for (int k = 0; k < d.t[i].deg; k++)
      fprintf(c->o, "*s%d", sym(c, d.t[i].sym[k]));
  }
  fputc(']', c->o);
}

/* A buffer: its canonical number, and where it first appears what it is. */
static void buf(Canon *c, int b) {
  if (b < 0 || b >= c->f->bufs.n)
    ir_die((Loc){0}, "kernel IR: buffer %d of %d", b, c->f->bufs.n);
  if (c->buf_id[b]) {
    fprintf(c->o, " b%d", c->buf_id[b] - 1);
    return;
  }
  push(&c->bufs, b);
  c->buf_id[b] = c->bufs.n;
  KBuf *kb = k_buf(c->f, b);
  fprintf(c->o, " b%d{%d %d %d", c->bufs.n - 1, (int)kb->dtype, (int)kb->space, kb->rank);
  for (int i = 0; i < kb->rank; i++)
    dim(c, kb->dims[i]);
  fputc('}', c->o);
}

static int var(Canon *c, int v) {
  if (v < 0 || v >= c->f->nvars)
    ir_die((Loc){0}, "kernel IR: loop variable %d of %d", v, c->f->nvars);
  if (!c->var_id[v]) {
    push(&c->vars, v);
    c->var_id[v] = c->vars.n;
  }
  return c->var_id[v] - 1;
}

static int define(Canon *c, int v) {
  int id = var(c, v);
  c->var_defined[v] = true;
  return id;
}

static void expr(Canon *c, const KExpr *e) {
  if (!e) {
    fputs(" -", c->o);
    return;
  }
  fprintf(c->o, " (%d %d %d", (int)e->kind, (int)e->dtype, (int)e->op);
  switch (e->kind) {
  case KX_CONST: fprintf(c->o, " %a %lld", e->fval, (long long)e->ival); break;
  case KX_VAR: fprintf(c->o, " v%d", var(c, e->var)); break;
  case KX_SYM: fprintf(c->o, " s%d", sym(c, e->sym)); break;
  case KX_DIM: dim(c, e->dim); break;
  case KX_LOAD: buf(c, e->buf), fprintf(c->o, " %d", e->linear); break;
  case KX_ARG_DIM: fprintf(c->o, " a%d.%lld", e->buf, (long long)e->ival); break; /* the caller's args, in the env */
  case KX_LET:
  case KX_LETVAR:
    if (e->var < 0 || e->var >= c->f->nlets)
      ir_die((Loc){0}, "kernel IR: let-variable %d of %d", e->var, c->f->nlets);
    if (!c->let_id[e->var])
      c->let_id[e->var] = ++c->nlets_seen;
    fprintf(c->o, " l%d", c->let_id[e->var] - 1);
    break;
  case KX_OP:
  case KX_CAST:
  case KX_ACC:
  case KX_ACC_INDEX: break;
  }
  for (int i = 0; i < e->nargs; i++)
    expr(c, e->args[i]);
  fputc(')', c->o);
}

static void exprs(Canon *c, KExpr **v, int n) {
  fprintf(c->o, " #%d", n);
  for (int i = 0; i < n; i++)
    expr(c, v[i]);
}

static void str(Canon *c, const char *s) {
  if (s)
    fprintf(c->o, " \"%zu:%s\"", strlen(s), s); /* the length: no quoting needed */
  else
    fputs(" null", c->o);
}

static void list(Canon *c, const KList *l);

static void stmt(Canon *c, const KStmt *s) {
  fprintf(c->o, "\n{%d", (int)s->kind);
  if (c->g->dbg)
    fprintf(c->o, " @%s:%d:%d", s->loc.file ? s->loc.file : "", s->loc.line, s->loc.col);
  switch (s->kind) {
  case KS_KERNEL:
    fprintf(c->o, " loops %d red %d comb %d lanes %d block %d dev %d", s->nloops, s->nred, (int)s->combine,
            s->lanes, s->block, s->device);
    for (int i = 0; i < s->nloops; i++) {
      fprintf(c->o, " v%d<", define(c, s->loopvar[i]));
      dim(c, s->extent[i]);
      fprintf(c->o, ":%d", (int)s->lkind[i]);
    }
    buf(c, s->buf);
    fprintf(c->o, " linear %d", s->store_linear);
    exprs(c, s->store_idx, s->nstore);
    expr(c, s->value);
    expr(c, s->finalize);
    expr(c, s->stream);
    break;
  case KS_SCRATCH:
    buf(c, s->buf), buf(c, s->src), fprintf(c->o, " bytes %lld", (long long)s->scratch_bytes);
    exprs(c, s->store_idx, s->nstore);
    break;
  case KS_ALLOC: buf(c, s->buf), fprintf(c->o, " uninit %d out %d", s->uninit, s->out); break;
  case KS_FREE:
    buf(c, s->buf);
    fprintf(c->o, " keep %d", s->nkeep);
    for (int i = 0; i < s->nkeep; i++)
      buf(c, s->keep[i]);
    break;
  case KS_MOVE:
  case KS_COPY: buf(c, s->buf), buf(c, s->src), fprintf(c->o, " borrow %d", s->borrow); break;
  case KS_SETSYM: fprintf(c->o, " s%d", sym(c, s->buf)), expr(c, s->cond); break;
  case KS_CHECK:
    fprintf(c->o, " warn %d", s->warn);
    str(c, s->message);
    expr(c, s->cond);
    exprs(c, s->exprs, s->nexprs);
    break;
  case KS_CALL:
    fprintf(c->o, " call %d op %d index %d trans %d epi %d", (int)s->call, (int)s->op, s->index, s->trans,
            s->epilogue);
    fprintf(c->o, " bufs %d", s->nbufs);
    for (int i = 0; i < s->nbufs; i++)
      buf(c, s->bufs[i]);
    exprs(c, s->exprs, s->nexprs);
    fprintf(c->o, " strs %d", s->nstrs);
    for (int i = 0; i < s->nstrs; i++)
      str(c, s->strs[i]);
    str(c, s->str);
    break;
  case KS_FOR:
    /* the bounds are the caller's (evaluated before the loop): read before the variable is defined */
    expr(c, s->cond), expr(c, s->stop), expr(c, s->step);
    fprintf(c->o, " v%d kind %d dev %d rows %d", define(c, s->var), (int)s->lkind[0], s->device, s->rows);
    list(c, &s->body);
    break;
  case KS_IF:
    expr(c, s->cond);
    list(c, &s->body);
    list(c, &s->orelse);
    break;
  }
  fputc('}', c->o);
}

static void list(Canon *c, const KList *l) {
  fprintf(c->o, " [%d", l->n);
  for (int i = 0; i < l->n; i++)
    stmt(c, l->v[i]);
  fputc(']', c->o);
}

CgCanon cg_canon(Cg *g, KStmt *s, const char *kind, int nextra) {
  KFunc *f = g->f;
  Canon c = {.g = g, .f = f, .nsym_ids = ir_sym_count()};
  c.buf_id = ir_alloc(sizeof(int) * ((size_t)f->bufs.n + 1));
  c.var_id = ir_alloc(sizeof(int) * ((size_t)f->nvars + 1));
  c.var_defined = ir_alloc(sizeof(bool) * ((size_t)f->nvars + 1));
  c.let_id = ir_alloc(sizeof(int) * ((size_t)f->nlets + 1));
  c.sym_id = ir_alloc(sizeof(int) * ((size_t)c.nsym_ids + 1));
  char *text = NULL;
  size_t len = 0;
  c.o = open_memstream(&text, &len);
  if (!c.o)
    ir_die((Loc){0}, "codegen: out of memory");
  fprintf(c.o, "%p %s %d", (void *)g->km, kind, nextra);
  stmt(&c, s);
  fclose(c.o);
  CgCanon r = {.key = ir_strdup(text), .bufs = c.bufs, .syms = c.syms};
  free(text);
  for (int i = 0; i < c.vars.n; i++)
    if (!c.var_defined[c.vars.v[i]])
      push(&r.vars, c.vars.v[i]);
  return r;
}

/* ---- the module's bodies, by key ---- */

struct CgBodies {
  PtrVec keys; /* char* */
  PtrVec fns;  /* LLVMValueRef */
};

LLVMValueRef cg_body_find(Cg *g, const char *key) {
  if (!g->bodies)
    return NULL;
  for (int i = 0; i < g->bodies->keys.n; i++)
    if (strcmp(g->bodies->keys.v[i], key) == 0)
      return g->bodies->fns.v[i];
  return NULL;
}

void cg_body_add(Cg *g, const char *key, LLVMValueRef fn) {
  if (!g->bodies)
    g->bodies = ir_alloc(sizeof *g->bodies);
  ir_vec_push(&g->bodies->keys, (void *)key);
  ir_vec_push(&g->bodies->fns, fn);
}
