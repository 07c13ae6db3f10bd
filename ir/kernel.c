/* ir/kernel.c - builders for the kernel IR (ir/kernel.h). */
#include "kernel.h"

#include <string.h>

static KExpr *expr(KExprKind kind, DType dt) {
  KExpr *e = ir_alloc(sizeof *e);
  e->kind = kind;
  e->dtype = dt;
  return e;
}

KExpr *k_const(DType dt, double v) {
  KExpr *e = expr(KX_CONST, dt);
  e->fval = v;
  /* a float constant (inf, nan, 1e300) has no integer value: converting
   * it would be undefined behaviour (clang's UBSan: float-cast-overflow) */
  e->ival = v >= -0x1p63 && v < 0x1p63 ? (int64_t)v : 0;
  return e;
}

KExpr *k_int(int64_t v) {
  KExpr *e = expr(KX_CONST, DT_I64);
  e->ival = v;
  e->fval = (double)v;
  return e;
}

KExpr *k_var(int var) {
  KExpr *e = expr(KX_VAR, DT_I64);
  e->var = var;
  return e;
}

KExpr *k_dim(Dim d) {
  int64_t c;
  if (dim_is_const(d, &c))
    return k_int(c);
  KExpr *e = expr(KX_DIM, DT_I64);
  e->dim = d;
  return e;
}

KExpr *k_op(IrOp op, DType dt, int nargs, KExpr **args) {
  KExpr *e = expr(KX_OP, dt);
  e->op = op;
  e->nargs = nargs;
  e->args = ir_alloc(sizeof(KExpr *) * (size_t)(nargs ? nargs : 1));
  memcpy(e->args, args, sizeof(KExpr *) * (size_t)nargs);
  return e;
}

KExpr *k_op2(IrOp op, DType dt, KExpr *a, KExpr *b) {
  KExpr *args[2] = {a, b};
  return k_op(op, dt, 2, args);
}

KExpr *k_cast(KExpr *e, DType dt) {
  if (e->dtype == dt)
    return e;
  KExpr *c = expr(KX_CAST, dt);
  c->nargs = 1;
  c->args = ir_alloc(sizeof(KExpr *));
  c->args[0] = e;
  return c;
}

KExpr *k_load(int buf, DType dt, int nidx, KExpr **idx) {
  KExpr *e = expr(KX_LOAD, dt);
  e->buf = buf;
  e->nargs = nidx;
  e->args = ir_alloc(sizeof(KExpr *) * (size_t)(nidx ? nidx : 1));
  if (nidx)
    memcpy(e->args, idx, sizeof(KExpr *) * (size_t)nidx);
  return e;
}

KStmt *k_stmt(KStmtKind kind, Loc loc) {
  KStmt *s = ir_alloc(sizeof *s);
  s->kind = kind;
  s->loc = loc;
  return s;
}

void k_push(KList *l, KStmt *s) {
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 8;
    KStmt **v = ir_alloc(sizeof(KStmt *) * (size_t)cap);
    if (l->n)
      memcpy(v, l->v, sizeof(KStmt *) * (size_t)l->n);
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = s;
}

int k_buf_new(KFunc *f, const char *name, DType dt, int rank, const Dim *dims, KBufKind kind) {
  KBuf *b = ir_alloc(sizeof *b);
  b->name = name;
  b->dtype = dt;
  b->rank = rank;
  for (int i = 0; i < rank; i++)
    b->dims[i] = dims[i];
  b->kind = kind;
  b->host = -1;
  ir_vec_push(&f->bufs, b);
  return f->bufs.n - 1;
}

KBuf *k_buf(KFunc *f, int i) {
  if (i < 0 || i >= f->bufs.n)
    ir_die((Loc){0}, "kernel IR: buffer %d of %d", i, f->bufs.n);
  return f->bufs.v[i];
}
