/* passes/legalize.c - the `legalize` pass: NumPy's scalar semantics, once.
 *
 * The graph's elementwise ops mean what NumPy means: // and % round toward
 * minus infinity and give 0 for an integer division by zero, maximum and
 * minimum propagate NaN, round is half to even, sign(NaN) is NaN, ...
 * Rather than each code generator knowing these rules, this pass rewrites
 * every KX_OP of the kernel IR into the primitives listed in ir/kernel.h,
 * whose meaning is the same in C, LLVM and CUDA, so the CPU and the GPU
 * compute the same bits.  An operand that an expansion uses more than once
 * is bound once with KX_LET (never copied: copies would grow exponentially
 * with nesting).  The rules, each NumPy's (npy_divmod, npy_floor_divide,
 * ...):
 *   int  a // b   b in {0, -1} divides by 1; q = tdiv, r = trem; q - 1
 *                 when r != 0 and r, b differ in sign; b == -1: -a
 *                 (wrapping); b == 0: 0
 *   int  a % b    r + b under the same condition; b in {0, -1}: 0
 *   float a % b   m = fmod(a, b), moved to b's sign; a zero keeps b's sign
 *   float a // b  (a - m) / b, floored (to the nearer integer below), a
 *                 zero keeps the quotient's sign; b == 0: a / b
 *   maximum(a, b) a when a > b or a is NaN, else b (minimum alike);
 *                 clip(x, lo, hi) = minimum(maximum(x, lo), hi)
 *   sign, relu, abs(int), isfinite, sigmoid, rsqrt, softplus (PyTorch's
 *   threshold 20), gelu (the erf form): selects and arithmetic
 *   f32 tanh      an odd 13/6 rational function (Eigen's float tanh):
 *                 within 4e-7 relative of NumPy, and it vectorises
 *   f32 log1p, expm1, tan, erf: computed in f64 and rounded once (the
 *                 f32 functions of math libraries differ by an ulp or two)
 *   pow(x, 0.5)   sqrt (NumPy's fast path: sqrt(-inf) is NaN, pow's inf)
 *   int / int     in the result's float type
 *   bool + - *    or, ne, and
 *   floor, ceil, round of integers; copy, detach, to: the operand itself
 *
 * Requires: lower.  Preserves: every value.
 */
#include "passes.h"

#include "../ir/kernel.h"

#include <math.h>

typedef struct Lg {
  KFunc *f;
} Lg;

/* ---- building blocks ---- */

static KExpr *op1(IrOp op, DType dt, KExpr *a) { return k_op(op, dt, 1, &a); }
static KExpr *op2(IrOp op, DType dt, KExpr *a, KExpr *b) { return k_op2(op, dt, a, b); }
static KExpr *cmp(IrOp op, KExpr *a, KExpr *b) { return k_op2(op, DT_BOOL, a, b); }
static KExpr *sel(KExpr *c, KExpr *a, KExpr *b) {
  KExpr *v[3] = {c, a, b};
  return k_op(IR_WHERE, a->dtype, 3, v);
}
static KExpr *num(DType dt, double v) { return k_const(dt, v); }
static KExpr *isnan_(KExpr *a) { return op1(IR_ISNAN, DT_BOOL, a); }

/* A value used more than once: a leaf is used as it is, anything else is
 * bound to a let-variable (wrapped around the result by bind_end). */
typedef struct Bind {
  int id; /* -1: no binding */
  KExpr *value;
} Bind;

static bool leaf(const KExpr *e) {
  return e->kind == KX_CONST || e->kind == KX_VAR || e->kind == KX_SYM || e->kind == KX_DIM || e->kind == KX_LETVAR ||
         e->kind == KX_ACC || e->kind == KX_ACC_INDEX || e->kind == KX_ARG_DIM;
}

static KExpr *share(Lg *L, KExpr *e, Bind *b) {
  *b = (Bind){-1, NULL}; /* all of it: gcc -O2 cannot see that bind_end reads value only with an id */
  if (leaf(e))
    return e;
  b->id = L->f->nlets++;
  b->value = e;
  KExpr *v = ir_alloc(sizeof *v);
  v->kind = KX_LETVAR;
  v->dtype = e->dtype;
  v->var = b->id;
  return v;
}

static KExpr *bind_end(const Bind *b, KExpr *body) {
  if (b->id < 0)
    return body;
  KExpr *v = ir_alloc(sizeof *v);
  v->kind = KX_LET;
  v->dtype = body->dtype;
  v->var = b->id;
  v->nargs = 2;
  v->args = ir_alloc(2 * sizeof(KExpr *));
  v->args[0] = b->value;
  v->args[1] = body;
  return v;
}

/* ---- the rules ---- */

static KExpr *maxmin(Lg *L, bool max, KExpr *a0, KExpr *b0, DType dt) {
  if (dt == DT_BOOL)
    return op2(max ? IR_OR : IR_AND, DT_BOOL, a0, b0);
  Bind ba, bb;
  KExpr *a = share(L, a0, &ba), *b = share(L, b0, &bb);
  KExpr *take_a = cmp(max ? IR_GT : IR_LT, a, b);
  if (ir_dtype_is_float(dt)) /* a wins when larger or NaN; a NaN b wins otherwise */
    take_a = op2(IR_OR, DT_BOOL, take_a, isnan_(a));
  return bind_end(&ba, bind_end(&bb, sel(take_a, a, b)));
}

static KExpr *int_floordiv_mod(Lg *L, bool mod, KExpr *a0, KExpr *b0, DType dt) {
  Bind ba, bb, bs, bq, br;
  KExpr *a = share(L, a0, &ba), *b = share(L, b0, &bb);
  KExpr *zero = num(dt, 0), *one = num(dt, 1);
  KExpr *bz = cmp(IR_EQ, b, zero), *bm1 = cmp(IR_EQ, b, num(dt, -1));
  KExpr *safe = share(L, sel(op2(IR_OR, DT_BOOL, bz, bm1), one, b), &bs);
  KExpr *q = share(L, op2(IR_TDIV, dt, a, safe), &bq), *r = share(L, op2(IR_TREM, dt, a, safe), &br);
  /* C truncates; floor differs when the remainder is nonzero and its sign differs from the divisor's */
  KExpr *fix = op2(IR_AND, DT_BOOL, cmp(IR_NE, r, zero), cmp(IR_NE, cmp(IR_LT, r, zero), cmp(IR_LT, b, zero)));
  KExpr *res;
  if (mod) {
    res = sel(fix, op2(IR_ADD, dt, r, b), r);
    res = sel(op2(IR_OR, DT_BOOL, bz, bm1), zero, res);
  } else {
    res = op2(IR_SUB, dt, q, k_cast(fix, dt));
    res = sel(bm1, op1(IR_NEG, dt, a), res);
    res = sel(bz, zero, res);
  }
  return bind_end(&ba, bind_end(&bb, bind_end(&bs, bind_end(&bq, bind_end(&br, res)))));
}

/* npy_divmod: mod = fmod(a, b) moved to b's sign; div = (a - mod) / b
 * rounded to the nearest integer below. */
static KExpr *float_floordiv_mod(Lg *L, bool want_mod, KExpr *a0, KExpr *b0, DType dt) {
  Bind ba, bb, bm, bd;
  KExpr *a = share(L, a0, &ba), *b = share(L, b0, &bb);
  KExpr *zero = num(dt, 0), *one = num(dt, 1);
  KExpr *m = share(L, op2(IR_FMOD, dt, a, b), &bm);
  KExpr *bzero = cmp(IR_EQ, b, zero);
  KExpr *modnz = cmp(IR_NE, m, zero); /* `if (mod)` in C: NaN counts as nonzero */
  KExpr *adj = op2(IR_AND, DT_BOOL, modnz, cmp(IR_NE, cmp(IR_LT, b, zero), cmp(IR_LT, m, zero)));
  KExpr *res;
  if (want_mod) {
    res = sel(adj, op2(IR_ADD, dt, m, b), m);
    res = sel(modnz, res, op2(IR_COPYSIGN, dt, zero, b));
    res = sel(bzero, m, res);
    return bind_end(&ba, bind_end(&bb, bind_end(&bm, res)));
  }
  KExpr *div = op2(IR_DIV, dt, op2(IR_SUB, dt, a, m), b);
  div = share(L, sel(adj, op2(IR_SUB, dt, div, one), div), &bd);
  Bind bf;
  KExpr *fl = share(L, op1(IR_FLOOR, dt, div), &bf);
  KExpr *up = cmp(IR_GT, op2(IR_SUB, dt, div, fl), num(dt, 0.5));
  KExpr *fl2 = sel(up, op2(IR_ADD, dt, fl, one), fl);
  KExpr *q = op2(IR_DIV, dt, a, b);
  res = sel(cmp(IR_NE, div, zero), fl2, op2(IR_COPYSIGN, dt, zero, q));
  res = sel(bzero, q, res);
  return bind_end(&ba, bind_end(&bb, bind_end(&bm, bind_end(&bd, bind_end(&bf, res)))));
}

/* tanh of an f32 without a call, so a loop of it vectorises: the odd
 * 13/6 rational approximation Eigen uses for float (x clamped to
 * +-7.905, where it is 1 in float; x itself below 4e-4 in magnitude).
 * NaN stays NaN, -0 stays -0. */
static KExpr *tanh_f32(Lg *L, KExpr *x0) {
  static const double alpha[7] = {4.89352455891786e-03,  6.37261928875436e-04, 1.48572235717979e-05,
                                  5.12229709037114e-08,  -8.60467152213735e-11, 2.00018790482477e-13,
                                  -2.76076847742355e-16};
  static const double beta[4] = {4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
                                 1.19825839466702e-06};
  const double lim = 7.90531110763549805;
  DType t = DT_F32;
  Bind bx, bv, b2;
  KExpr *x = share(L, x0, &bx);
  KExpr *v = share(L, op2(IR_FMAX, t, op2(IR_FMIN, t, x, num(t, lim)), num(t, -lim)), &bv);
  KExpr *v2 = share(L, op2(IR_MUL, t, v, v), &b2);
  KExpr *p = num(t, alpha[6]);
  for (int i = 5; i >= 0; i--)
    p = op2(IR_ADD, t, op2(IR_MUL, t, p, v2), num(t, alpha[i]));
  p = op2(IR_MUL, t, p, v);
  KExpr *q = num(t, beta[3]);
  for (int i = 2; i >= 0; i--)
    q = op2(IR_ADD, t, op2(IR_MUL, t, q, v2), num(t, beta[i]));
  KExpr *r = op2(IR_DIV, t, p, q);
  KExpr *tiny = cmp(IR_LT, op1(IR_ABS, t, x), num(t, 4e-4));
  KExpr *keep = op2(IR_OR, DT_BOOL, tiny, isnan_(x)); /* the clamp made a NaN the bound */
  return bind_end(&bx, bind_end(&bv, bind_end(&b2, sel(keep, x, r))));
}

/* f32 through f64, rounded once. */
static KExpr *via_f64(IrOp op, KExpr *x, DType dt) {
  if (dt == DT_F64)
    return op1(op, dt, x);
  return k_cast(op1(op, DT_F64, k_cast(x, DT_F64)), dt);
}

/* e is the constant v: through casts to a float type from a float or an
 * integer, which keep the values compared here, but not through one to
 * bool or to an integer (pow(x, f32(bool(0.5))) is x ** 1, not sqrt(x):
 * differential seed 1141879). */
static bool is_const(const KExpr *e, double v) {
  while (e->kind == KX_CAST && ir_dtype_is_float(e->dtype) && e->args[0]->dtype != DT_BOOL)
    e = e->args[0];
  return e->kind == KX_CONST && (ir_dtype_is_float(e->dtype) ? e->fval == v : (double)e->ival == v);
}

static _Noreturn void bad_op(IrOp op, DType dt) {
  ir_die((Loc){0}, "kernel IR: %s on %s operands", ir_op_name(op), ir_dtype_name(dt));
}

/* One op whose operands are legal already; the result in the op's own
 * result dtype (rdt), cast to e's dtype by the caller. */
static KExpr *rule(Lg *L, IrOp op, KExpr **a, int n, DType dt, DType *rdt) {
  bool fl = ir_dtype_is_float(dt), bl = dt == DT_BOOL;
  KExpr *x = a[0], *y = n > 1 ? a[1] : NULL;
  Bind bx;
  *rdt = dt;
  switch (op) {
  case IR_ADD: return bl ? op2(IR_OR, dt, x, y) : op2(op, dt, x, y);
  case IR_SUB: return bl ? cmp(IR_NE, x, y) : op2(op, dt, x, y);
  case IR_MUL: return bl ? op2(IR_AND, dt, x, y) : op2(op, dt, x, y);
  case IR_FLOORDIV:
  case IR_MOD:
    if (bl)
      bad_op(op, dt);
    return fl ? float_floordiv_mod(L, op == IR_MOD, x, y, dt) : int_floordiv_mod(L, op == IR_MOD, x, y, dt);
  case IR_POW:
    if (bl)
      bad_op(op, dt);
    if (fl && is_const(y, 0.5))
      return op1(IR_SQRT, dt, x);
    return op2(op, dt, x, y);
  case IR_MAXIMUM: return maxmin(L, true, x, y, dt);
  case IR_MINIMUM: return maxmin(L, false, x, y, dt);
  case IR_CLIP: return maxmin(L, false, maxmin(L, true, x, y, dt), a[2], dt);
  case IR_LT: case IR_LE: case IR_GT: case IR_GE: case IR_EQ: case IR_NE:
    *rdt = DT_BOOL;
    return cmp(op, x, y);
  case IR_AND:
  case IR_OR:
    *rdt = DT_BOOL;
    return op2(op, DT_BOOL, k_cast(x, DT_BOOL), k_cast(y, DT_BOOL));
  case IR_NOT:
    *rdt = DT_BOOL;
    return op1(op, DT_BOOL, k_cast(x, DT_BOOL));
  case IR_NEG:
    if (bl)
      bad_op(op, dt);
    return op1(op, dt, x);
  case IR_ABS:
    if (fl)
      return op1(op, dt, x);
    if (bl)
      return x;
    x = share(L, x, &bx);
    return bind_end(&bx, sel(cmp(IR_LT, x, num(dt, 0)), op1(IR_NEG, dt, x), x));
  case IR_SIGN:
    if (bl)
      return x;
    x = share(L, x, &bx);
    if (fl) { /* 1, -1, +0 for either zero (NumPy); NaN stays */
      KExpr *r = sel(cmp(IR_EQ, x, num(dt, 0)), num(dt, 0), x);
      r = sel(cmp(IR_LT, x, num(dt, 0)), num(dt, -1), r);
      return bind_end(&bx, sel(cmp(IR_GT, x, num(dt, 0)), num(dt, 1), r));
    }
    return bind_end(&bx, op2(IR_SUB, dt, k_cast(cmp(IR_GT, x, num(dt, 0)), dt), k_cast(cmp(IR_LT, x, num(dt, 0)), dt)));
  case IR_RELU: /* max(x, 0); lt is false for NaN, which stays */
    if (bl)
      return x;
    x = share(L, x, &bx);
    return bind_end(&bx, sel(cmp(IR_LT, x, num(dt, 0)), num(dt, 0), x));
  case IR_FLOOR:
  case IR_CEIL:
  case IR_ROUND: return fl ? op1(op, dt, x) : x;
  case IR_ISNAN:
    *rdt = DT_BOOL;
    return fl ? isnan_(x) : num(DT_BOOL, 0);
  case IR_ISFINITE: /* |x| < inf is false for inf and NaN */
    *rdt = DT_BOOL;
    return fl ? cmp(IR_LT, op1(IR_ABS, dt, x), num(dt, INFINITY)) : num(DT_BOOL, 1);
  case IR_COPY:
  case IR_DETACH:
  case IR_TO_DEVICE: return x;
  case IR_WHERE:
  case IR_DIV:
    ir_die((Loc){0}, "legalize: %s reached the dtype rule", ir_op_name(op));
  default: break;
  }
  /* float functions (the lowering casts integers) */
  if (!fl)
    bad_op(op, dt);
  KExpr *one = num(dt, 1);
  switch (op) {
  case IR_EXP: case IR_LOG: case IR_SQRT: case IR_SIN: case IR_COS: return op1(op, dt, x);
  case IR_LOG1P: case IR_EXPM1: case IR_TAN: case IR_ERF: return via_f64(op, x, dt);
  case IR_TANH: return dt == DT_F32 ? tanh_f32(L, x) : op1(op, dt, x);
  case IR_RSQRT: return op2(IR_DIV, dt, one, op1(IR_SQRT, dt, x));
  case IR_SIGMOID: return op2(IR_DIV, dt, one, op2(IR_ADD, dt, one, op1(IR_EXP, dt, op1(IR_NEG, dt, x))));
  case IR_GELU: { /* exact: 0.5 * x * (1 + erf(x / sqrt(2))), all of it in f64 and rounded once:
                    * below x = -2, 1 + erf cancels, and erf rounded to f32 first left gelu(-4)
                    * 1e-3 off (differential seed 1307024) */
    x = share(L, x, &bx);
    KExpr *xd = k_cast(x, DT_F64);
    KExpr *e = op1(IR_ERF, DT_F64, op2(IR_MUL, DT_F64, xd, num(DT_F64, M_SQRT1_2)));
    KExpr *g = op2(IR_MUL, DT_F64, op2(IR_MUL, DT_F64, num(DT_F64, 0.5), xd), op2(IR_ADD, DT_F64, num(DT_F64, 1), e));
    return bind_end(&bx, k_cast(g, dt));
  }
  case IR_SOFTPLUS: /* PyTorch's threshold: above 20, exp overflows nothing but adds nothing */
    x = share(L, x, &bx);
    return bind_end(&bx, sel(cmp(IR_GT, x, num(dt, 20)), x, via_f64(IR_LOG1P, op1(IR_EXP, dt, x), dt)));
  default: bad_op(op, dt);
  }
}

static KExpr *legal(Lg *L, KExpr *e) {
  if (!e)
    return e;
  KExpr **args = e->nargs ? ir_alloc(sizeof(KExpr *) * (size_t)e->nargs) : NULL;
  bool changed = false;
  for (int i = 0; i < e->nargs; i++) {
    args[i] = legal(L, e->args[i]);
    changed |= args[i] != e->args[i];
  }
  if (e->kind != KX_OP) {
    if (!changed)
      return e;
    KExpr *c = ir_alloc(sizeof *c);
    *c = *e;
    c->args = args;
    return c;
  }
  if (ir_opclass(e->op) == IRC_KERNEL)
    return e; /* legal already (a module legalized twice) */
  if (e->op == IR_WHERE)
    return sel(k_cast(args[0], DT_BOOL), k_cast(args[1], e->dtype), k_cast(args[2], e->dtype));
  /* the computation dtype is the first operand's (the lowering's rule) */
  DType dt = args[0]->dtype, rdt;
  for (int i = 1; i < e->nargs; i++)
    args[i] = k_cast(args[i], dt);
  if (e->op == IR_DIV) { /* true division of integers: in the result's float type */
    DType ft = ir_dtype_is_float(dt) ? dt : ir_dtype_is_float(e->dtype) ? e->dtype : DT_F64;
    return k_cast(op2(IR_DIV, ft, k_cast(args[0], ft), k_cast(args[1], ft)), e->dtype);
  }
  KExpr *r = rule(L, e->op, args, e->nargs, dt, &rdt);
  return k_cast(r, e->dtype);
}

static void legal_list(Lg *L, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    s->value = legal(L, s->value);
    s->finalize = legal(L, s->finalize);
    s->cond = legal(L, s->cond);
    s->stop = legal(L, s->stop);
    s->step = legal(L, s->step);
    if (s->nstore) {
      KExpr **v = ir_alloc(sizeof(KExpr *) * (size_t)s->nstore);
      for (int k = 0; k < s->nstore; k++)
        v[k] = legal(L, s->store_idx[k]);
      s->store_idx = v;
    }
    if (s->nexprs) {
      KExpr **v = ir_alloc(sizeof(KExpr *) * (size_t)s->nexprs);
      for (int k = 0; k < s->nexprs; k++)
        v[k] = legal(L, s->exprs[k]);
      s->exprs = v;
    }
    legal_list(L, &s->body);
    legal_list(L, &s->orelse);
  }
}

bool pass_legalize(KModule *m) {
  for (int i = 0; i < m->funcs.n; i++) {
    Lg L = {.f = m->funcs.v[i]};
    legal_list(&L, &L.f->body);
  }
  return true;
}
