/* ir/kernel_walk.c - questions asked of the kernel IR in several places.
 *
 * The memory planner, the schedule and placement passes and both code
 * generators need the same few facts about kernel-IR code: whether two
 * expressions are the same tree, whether a kernel reads its output only at
 * the point it writes, how an elementwise kernel's loads walk memory
 * relative to its store (contiguous, invariant, transposed: the schedule
 * pass decides from it and the CUDA emitter follows), what each statement
 * does to each buffer (read, write, free, ...), and what a piece of code
 * needs from outside itself (the parameters of an outlined CPU loop body or
 * of a GPU kernel).  They
 * are answered here once; k_stmt_refs is the one place that says which
 * operand of which statement is read and which is written.
 */
#include "kernel.h"

#include <string.h>

/* ---- expressions ---- */

bool k_expr_eq(const KExpr *a, const KExpr *b) {
  if (a == b)
    return true;
  if (!a || !b || a->kind != b->kind || a->dtype != b->dtype || a->nargs != b->nargs)
    return false;
  switch (a->kind) {
  case KX_CONST:
    if (a->ival != b->ival || a->fval != b->fval)
      return false;
    break;
  case KX_VAR:
    if (a->var != b->var)
      return false;
    break;
  case KX_SYM:
    if (a->sym != b->sym)
      return false;
    break;
  case KX_DIM:
    if (!dim_eq(a->dim, b->dim))
      return false;
    break;
  case KX_LOAD:
    if (a->buf != b->buf || a->linear != b->linear)
      return false;
    break;
  case KX_OP:
    if (a->op != b->op)
      return false;
    break;
  case KX_ARG_DIM:
    if (a->buf != b->buf || a->ival != b->ival)
      return false;
    break;
  case KX_LET:
  case KX_LETVAR:
    if (a->var != b->var)
      return false;
    break;
  case KX_CAST:
  case KX_ACC:
  case KX_ACC_INDEX: break; /* dtype and operands say it all */
  }
  for (int i = 0; i < a->nargs; i++)
    if (!k_expr_eq(a->args[i], b->args[i]))
      return false;
  return true;
}

/* Index 0 where k stores at the variable of a loop of extent 1: the same
 * (a one-row product read as `load %y[0, i1]`). */
static bool zero_of_unit_loop(const KExpr *idx, const KExpr *store, const KStmt *k) {
  if (idx->kind != KX_CONST || idx->ival != 0 || ir_dtype_is_float(idx->dtype) || store->kind != KX_VAR)
    return false;
  for (int l = 0; l < k->nloops; l++) {
    int64_t one;
    if (k->loopvar[l] == store->var)
      return dim_is_const(k->extent[l], &one) && one == 1;
  }
  return false;
}

bool k_load_at_store(const KExpr *load, const KStmt *k) {
  if (load->linear != k->store_linear || load->nargs != k->nstore)
    return false;
  for (int i = 0; i < load->nargs; i++)
    if (!k_expr_eq(load->args[i], k->store_idx[i]) && !zero_of_unit_loop(load->args[i], k->store_idx[i], k))
      return false;
  return true;
}

bool k_loads_at_store(const KExpr *e, int buf, const KStmt *k) {
  if (!e)
    return true;
  if (e->kind == KX_LOAD && e->buf == buf && !k_load_at_store(e, k))
    return false;
  for (int i = 0; i < e->nargs; i++)
    if (!k_loads_at_store(e->args[i], buf, k))
      return false;
  return true;
}

/* ---- access patterns of elementwise kernels ---- */

static bool is_loop_var(const KStmt *k, int var) {
  for (int i = 0; i < k->nloops; i++)
    if (k->loopvar[i] == var)
      return true;
  return false;
}

bool k_store_flat(KFunc *f, const KStmt *k) {
  if (k->kind != KS_KERNEL || k->nred || k->nloops < 1 || k->nstore != k->nloops || (k->store_linear && k->nstore != 1))
    return false;
  for (int i = 0; i < k->nstore; i++)
    if (k->store_idx[i]->kind != KX_VAR || k->store_idx[i]->var != k->loopvar[i])
      return false;
  const KBuf *out = k_buf(f, k->buf);
  for (int i = 1; i < k->nstore && !k->store_linear; i++)
    if (!dim_eq(out->dims[i], k->extent[i]))
      return false;
  return true;
}

enum { MAX_BOUND = 32 }; /* let-variables bound around a subexpression that we follow */

/* e reads no loop variable of k, not k's output, and only let-variables
 * bound inside e (bound[0..nbound) are those bound above this node). */
static bool invariant(const KStmt *k, const KExpr *e, int *bound, int nbound) {
  switch (e->kind) {
  case KX_VAR: return !is_loop_var(k, e->var);
  case KX_ACC:
  case KX_ACC_INDEX: return false;
  case KX_LETVAR:
    for (int i = 0; i < nbound; i++)
      if (bound[i] == e->var)
        return true;
    return false;
  case KX_LOAD:
    if (e->buf == k->buf) /* the kernel writes it as it runs */
      return false;
    break;
  case KX_LET:
    if (nbound == MAX_BOUND || !invariant(k, e->args[0], bound, nbound))
      return false;
    bound[nbound] = e->var;
    return invariant(k, e->args[1], bound, nbound + 1);
  default: break;
  }
  for (int i = 0; i < e->nargs; i++)
    if (!invariant(k, e->args[i], bound, nbound))
      return false;
  return true;
}

bool k_expr_invariant(const KStmt *k, const KExpr *e) {
  int bound[MAX_BOUND];
  return invariant(k, e, bound, 0);
}

bool k_expr_reads_var(const KExpr *e, int var) {
  if (e->kind == KX_VAR && e->var == var)
    return true;
  for (int i = 0; i < e->nargs; i++)
    if (k_expr_reads_var(e->args[i], var))
      return true;
  return false;
}

bool k_expr_reads_buf(const KExpr *e, int buf) {
  if (e->kind == KX_LOAD && e->buf == buf)
    return true;
  for (int i = 0; i < e->nargs; i++)
    if (k_expr_reads_buf(e->args[i], buf))
      return true;
  return false;
}

bool k_expr_has_load(const KExpr *e) {
  if (e->kind == KX_LOAD)
    return true;
  for (int i = 0; i < e->nargs; i++)
    if (k_expr_has_load(e->args[i]))
      return true;
  return false;
}

static bool is_one(const KExpr *e) { return e->kind == KX_CONST && !ir_dtype_is_float(e->dtype) && e->ival == 1; }

/* e is loop variable `var` plus an invariant term: *c is the term (NULL
 * when there is none).  The lowering writes a slice's index as
 * add(start, mul(i, step)); a step other than 1 is not contiguous. */
static bool split_var(const KStmt *k, const KExpr *e, int var, KExpr **c) {
  if (e->kind == KX_VAR && e->var == var) {
    *c = NULL;
    return true;
  }
  if (e->kind != KX_OP || e->nargs != 2)
    return false;
  for (int i = 0; i < 2; i++) {
    KExpr *other = e->args[1 - i];
    if (e->op == IR_MUL && is_one(other))
      return split_var(k, e->args[i], var, c);
    KExpr *inner;
    if (e->op == IR_ADD && k_expr_invariant(k, other) && split_var(k, e->args[i], var, &inner)) {
      *c = inner ? k_op2(IR_ADD, e->dtype, inner, other) : other;
      return true;
    }
  }
  return false;
}

bool k_load_contiguous(KFunc *f, const KStmt *k, const KExpr *e, KExpr ***base) {
  if (e->kind != KX_LOAD || e->linear != k->store_linear || e->nargs != k->nstore || k->nstore < 1)
    return false;
  const KBuf *in = k_buf(f, e->buf), *out = k_buf(f, k->buf);
  for (int i = 1; i < e->nargs && !e->linear; i++) /* the same strides */
    if (!dim_eq(in->dims[i], out->dims[i]))
      return false;
  KExpr **b = ir_alloc(sizeof(KExpr *) * (size_t)e->nargs);
  for (int i = 0; i < e->nargs; i++) {
    if (k->store_idx[i]->kind != KX_VAR || !split_var(k, e->args[i], k->store_idx[i]->var, &b[i]))
      return false;
    if (!b[i])
      b[i] = k_int(0);
  }
  if (base)
    *base = b;
  return true;
}

bool k_load_transposed(const KStmt *k, const KExpr *e) {
  int n = k->nloops;
  if (e->kind != KX_LOAD || e->linear || e->buf == k->buf || k->kind != KS_KERNEL || k->nred || n < 2 ||
      k->store_linear || k->nstore != n || e->nargs != n)
    return false;
  for (int i = 0; i < n; i++) {
    int want = i < n - 2 ? i : i == n - 2 ? n - 1 : n - 2; /* the last two swapped */
    const KExpr *st = k->store_idx[i], *ld = e->args[i];
    if (st->kind != KX_VAR || st->var != k->loopvar[i] || ld->kind != KX_VAR || ld->var != k->loopvar[want])
      return false;
  }
  return true;
}

/* ---- buffer references ---- */

void k_expr_refs(const KExpr *e, KRefFn fn, void *ctx) {
  if (!e)
    return;
  if (e->kind == KX_LOAD)
    fn(e->buf, KR_READ, ctx);
  for (int i = 0; i < e->nargs; i++)
    k_expr_refs(e->args[i], fn, ctx);
}

static void list_refs(const KList *l, KRefFn fn, void *ctx) {
  for (int i = 0; i < l->n; i++)
    k_stmt_refs(l->v[i], fn, ctx);
}

/* A call's buffer operand i: output or input. */
static KRefRole call_role(const KStmt *s, int i) {
  switch (s->call) {
  case KC_MATMUL: return i == 2 ? KR_WRITE : KR_READ; /* a, b, out, and an epilogue's bias */
  case KC_RAND: return KR_WRITE;
  case KC_PARAM_STORE: return KR_ESCAPE;
  case KC_DIST: return i == s->nbufs - 1 ? KR_WRITE : KR_READ; /* in, out */
  case KC_SEED:
  case KC_PRINT:
  case KC_SAVE: return KR_READ;
  }
  ir_die(s->loc, "kernel IR: call kind %d", (int)s->call);
}

void k_stmt_refs(const KStmt *s, KRefFn fn, void *ctx) {
  switch (s->kind) {
  case KS_KERNEL:
    fn(s->buf, KR_WRITE, ctx);
    k_expr_refs(s->value, fn, ctx);
    k_expr_refs(s->finalize, fn, ctx);
    for (int i = 0; i < s->nstore; i++)
      k_expr_refs(s->store_idx[i], fn, ctx);
    k_expr_refs(s->stream, fn, ctx);
    return;
  case KS_SCRATCH: /* buf = this thread's block, or src's row */
    fn(s->buf, KR_ASSIGN, ctx);
    fn(s->src, KR_READ, ctx);
    for (int i = 0; i < s->nstore; i++)
      k_expr_refs(s->store_idx[i], fn, ctx);
    return;
  case KS_ALLOC: fn(s->buf, KR_ASSIGN, ctx); return;
  case KS_FREE:
    fn(s->buf, KR_FREE, ctx);
    for (int i = 0; i < s->nkeep; i++)
      fn(s->keep[i], KR_KEEP, ctx);
    return;
  case KS_MOVE:
    fn(s->buf, KR_ASSIGN, ctx);
    fn(s->src, KR_READ, ctx);
    return;
  case KS_COPY:
    fn(s->buf, KR_WRITE, ctx);
    fn(s->src, KR_READ, ctx);
    return;
  case KS_SETSYM: k_expr_refs(s->cond, fn, ctx); return;
  case KS_CHECK:
    k_expr_refs(s->cond, fn, ctx);
    for (int i = 0; i < s->nexprs; i++)
      k_expr_refs(s->exprs[i], fn, ctx);
    return;
  case KS_CALL:
    for (int i = 0; i < s->nexprs; i++)
      k_expr_refs(s->exprs[i], fn, ctx);
    for (int i = 0; i < s->nbufs; i++)
      fn(s->bufs[i], call_role(s, i), ctx);
    return;
  case KS_FOR:
    k_expr_refs(s->cond, fn, ctx);
    k_expr_refs(s->stop, fn, ctx);
    k_expr_refs(s->step, fn, ctx);
    list_refs(&s->body, fn, ctx);
    return;
  case KS_IF:
    k_expr_refs(s->cond, fn, ctx);
    list_refs(&s->body, fn, ctx);
    list_refs(&s->orelse, fn, ctx);
    return;
  }
  ir_die(s->loc, "kernel IR: statement kind %d", (int)s->kind);
}

void k_stmt_exprs(KStmt *s, KExprFn fn, void *ctx) {
  KExpr *roots[3] = {0};
  switch (s->kind) {
  case KS_KERNEL:
    roots[0] = s->value, roots[1] = s->finalize, roots[2] = s->stream;
    for (int i = 0; i < s->nstore; i++)
      fn(s->store_idx[i], ctx);
    break;
  case KS_SCRATCH:
    for (int i = 0; i < s->nstore; i++)
      fn(s->store_idx[i], ctx);
    break;
  case KS_SETSYM:
  case KS_IF: roots[0] = s->cond; break;
  case KS_FOR: roots[0] = s->cond, roots[1] = s->stop, roots[2] = s->step; break;
  case KS_CHECK:
    roots[0] = s->cond;
    for (int i = 0; i < s->nexprs; i++)
      fn(s->exprs[i], ctx);
    break;
  case KS_CALL:
    for (int i = 0; i < s->nexprs; i++)
      fn(s->exprs[i], ctx);
    break;
  case KS_ALLOC:
  case KS_FREE:
  case KS_MOVE:
  case KS_COPY: break;
  }
  for (int i = 0; i < 3; i++)
    if (roots[i])
      fn(roots[i], ctx);
}

/* ---- what code needs from outside ---- */

KUses k_uses_new(const KFunc *f) {
  KUses u = {.nbufs = f->bufs.n, .nvars = f->nvars, .nsyms = ir_sym_count()};
  u.bufs = ir_alloc((size_t)u.nbufs + 1);
  u.vars = ir_alloc((size_t)u.nvars + 1);
  u.defs = ir_alloc((size_t)u.nvars + 1);
  u.syms = ir_alloc((size_t)u.nsyms + 1);
  return u;
}

static void dim_syms(KUses *u, Dim d) {
  for (int i = 0; i < d.n; i++)
    for (int k = 0; k < d.t[i].deg; k++)
      if (d.t[i].sym[k] < u->nsyms)
        u->syms[d.t[i].sym[k]] = true;
}

typedef struct UseCtx {
  KUses *u;
  const KFunc *f;
} UseCtx;

/* A buffer touched: it, and the symbols of its dims (its strides). */
static void use_buf(int buf, KRefRole role, void *ctx) {
  UseCtx *c = ctx;
  if (role != KR_READ && role != KR_WRITE)
    return; /* frees and keeps are host bookkeeping, not uses of the data */
  c->u->bufs[buf] = true;
  const KBuf *kb = c->f->bufs.v[buf];
  for (int i = 0; i < kb->rank; i++)
    dim_syms(c->u, kb->dims[i]);
}

static void use_expr(KExpr *e, void *ctx) {
  KUses *u = ((UseCtx *)ctx)->u;
  if (!e)
    return;
  if (e->kind == KX_VAR)
    u->vars[e->var] = true;
  if (e->kind == KX_SYM && e->sym < u->nsyms)
    u->syms[e->sym] = true;
  if (e->kind == KX_DIM)
    dim_syms(u, e->dim);
  for (int i = 0; i < e->nargs; i++)
    use_expr(e->args[i], ctx);
}

void k_uses_stmt(KUses *u, const KFunc *f, const KStmt *s) {
  UseCtx c = {u, f};
  k_stmt_refs(s, use_buf, &c);
  k_stmt_exprs((KStmt *)s, use_expr, &c);
  if (s->kind == KS_KERNEL)
    for (int i = 0; i < s->nloops; i++) {
      u->defs[s->loopvar[i]] = true;
      dim_syms(u, s->extent[i]);
    }
  if (s->kind == KS_SETSYM && s->buf < u->nsyms)
    u->syms[s->buf] = true;
  if (s->kind == KS_FOR) {
    u->defs[s->var] = true;
    k_uses_list(u, f, &s->body);
  }
  if (s->kind == KS_IF) {
    k_uses_list(u, f, &s->body);
    k_uses_list(u, f, &s->orelse);
  }
}

void k_uses_list(KUses *u, const KFunc *f, const KList *l) {
  for (int i = 0; i < l->n; i++)
    k_uses_stmt(u, f, l->v[i]);
}

/* ---- renaming a buffer ---- *
 *
 * Lowering shares expressions and keep lists between statements, so a
 * rename never mutates them: what changes is copied. */

KExpr *k_expr_map(KExpr *e, KExprLeaf leaf, void *ctx) {
  if (!e)
    return e;
  KExpr *r = leaf(e, ctx);
  if (r)
    return r;
  KExpr *out = e;
  for (int i = 0; i < e->nargs; i++) {
    KExpr *a = k_expr_map(e->args[i], leaf, ctx);
    if (a == e->args[i])
      continue;
    if (out == e) {
      out = ir_alloc(sizeof *out);
      *out = *e;
      out->args = ir_alloc(sizeof(KExpr *) * (size_t)e->nargs);
      memcpy(out->args, e->args, sizeof(KExpr *) * (size_t)e->nargs);
    }
    out->args[i] = a;
  }
  return out;
}

/* A load of ft[0] (its indices renamed too) as a load of ft[1]. */
static KExpr *rename_load(KExpr *e, void *ctx) {
  const int *ft = ctx;
  if (e->kind != KX_LOAD || e->buf != ft[0])
    return NULL;
  KExpr *out = ir_alloc(sizeof *out);
  *out = *e;
  out->buf = ft[1];
  out->args = e->nargs ? ir_alloc(sizeof(KExpr *) * (size_t)e->nargs) : NULL;
  for (int i = 0; i < e->nargs; i++)
    out->args[i] = k_expr_map(e->args[i], rename_load, ctx);
  return out;
}

/* e with loads of `from` made loads of `to`; a copy where anything changed. */
KExpr *k_expr_rename(KExpr *e, int from, int to) {
  int ft[2] = {from, to};
  return k_expr_map(e, rename_load, ft);
}

int *k_ints_rename(int *v, int n, int from, int to) {
  int *out = v;
  for (int i = 0; i < n; i++) {
    if (v[i] != from)
      continue;
    if (out == v) {
      out = ir_alloc(sizeof(int) * (size_t)n);
      memcpy(out, v, sizeof(int) * (size_t)n);
    }
    out[i] = to;
  }
  return out;
}

void k_stmt_rename(KStmt *s, int from, int to, bool keep_freed) {
  if (s->buf == from && s->kind != KS_SETSYM && !(keep_freed && s->kind == KS_FREE))
    s->buf = to;
  if ((s->kind == KS_MOVE || s->kind == KS_COPY || s->kind == KS_SCRATCH) && s->src == from)
    s->src = to;
  if (s->kind == KS_FREE)
    s->keep = k_ints_rename(s->keep, s->nkeep, from, to);
  if (s->kind == KS_CALL && s->nbufs)
    s->bufs = k_ints_rename(s->bufs, s->nbufs, from, to);
  s->value = k_expr_rename(s->value, from, to);
  s->finalize = k_expr_rename(s->finalize, from, to);
  s->stream = k_expr_rename(s->stream, from, to);
  s->cond = k_expr_rename(s->cond, from, to);
  s->stop = k_expr_rename(s->stop, from, to);
  s->step = k_expr_rename(s->step, from, to);
  for (int i = 0; i < s->nstore; i++) {
    KExpr *e = k_expr_rename(s->store_idx[i], from, to);
    if (e == s->store_idx[i])
      continue;
    KExpr **v = ir_alloc(sizeof(KExpr *) * (size_t)s->nstore);
    memcpy(v, s->store_idx, sizeof(KExpr *) * (size_t)s->nstore);
    v[i] = e;
    s->store_idx = v;
  }
  for (int i = 0; i < s->nexprs; i++) {
    KExpr *e = k_expr_rename(s->exprs[i], from, to);
    if (e == s->exprs[i])
      continue;
    KExpr **v = ir_alloc(sizeof(KExpr *) * (size_t)s->nexprs);
    memcpy(v, s->exprs, sizeof(KExpr *) * (size_t)s->nexprs);
    v[i] = e;
    s->exprs = v;
  }
  for (int i = 0; i < s->body.n; i++)
    k_stmt_rename(s->body.v[i], from, to, keep_freed);
  for (int i = 0; i < s->orelse.n; i++)
    k_stmt_rename(s->orelse.v[i], from, to, keep_freed);
}

/* The ops that the targets compute by a math-library call (the list of
 * primitives in kernel.h, and the composite ones before legalize). */
static bool math_call(IrOp op) {
  switch (op) {
  case IR_EXP: case IR_LOG: case IR_EXPM1: case IR_LOG1P: case IR_SIN: case IR_COS: case IR_TAN:
  case IR_TANH: case IR_ERF: case IR_POW: case IR_SIGMOID: case IR_GELU:
    return true;
  default: return false;
  }
}

bool k_expr_calls_math(const KExpr *e) {
  if (e->kind == KX_OP && math_call(e->op))
    return true;
  for (int i = 0; i < e->nargs; i++)
    if (k_expr_calls_math(e->args[i]))
      return true;
  return false;
}
