/* passes/simplify.c - the simplify pass: constant folding, algebraic
 * identities, common subexpressions and dead code, repeated to a fixed
 * point (each round can expose work for the next).
 *
 * The user errors it finds: an integer // or % by a constant zero, an
 * integer to a constant negative power (compile errors at the operator;
 * `7 // 0` would fold to NumPy's 0, `arange(3) ** -1` compute nonsense).
 *
 * Requires: shape (every value typed), autodiff (no grad left).
 * Preserves: types, names, locations; values only move to an equal
 * earlier value.  Nothing is created: a folded node becomes a `const` in
 * place, keeping its type (a folded f32 scalar of a non-weak operation
 * stays non-weak) and its symval.
 *
 * One round:
 *  1. A preorder walk of each function (a node, then its regions).  Each
 *     node's operands are redirected to their replacements first, then:
 *     a. Folding: an elementwise op, cast or scalar full/full_like whose
 *        operands are all scalar constants is evaluated exactly as the CPU
 *        code would (the lowering's operand casts, f32 rounding after every
 *        f32 operation, expf/powf for f32 and libm's double functions
 *        rounded for tanh, erf, ...; NumPy's // and % and integer
 *        wrap-around).  Float-to-integer casts out of range are left alone.
 *        Python floats (weak float scalars: `0.1 * 3`, `sqrt(2.0)`) fold
 *        in f64 and keep the double, as Python computes them: the value is
 *        rounded once, to the dtype of the tensor it ends up in, so an f64
 *        program sees f64 constants and an f32 one NumPy's f32 rounding of
 *        the double.
 *     b. Identities that are exact: x*1, 1*x, x+0, 0+x, x-0, x/1, x**1,
 *        neg(neg(x)), casts, copies, detaches, reshapes, broadcasts,
 *        squeezes and flattens to the operand's own type, transposes by the
 *        identity permutation, reductions over no axes.  The result's type
 *        must equal x's (dtype, shape, device, weak), so `x + zeros(3)` with
 *        a scalar x, which broadcasts, stays.  x*0 never folds (NaN, inf).
 *        Caveat: x + 0.0 is x also for x = -0.0, where IEEE gives +0.0.
 *     c. CSE: a pure node equal to one seen before (same op, attributes,
 *        operands and type) is replaced by it.  The table is scoped by
 *        blocks: a region sees the entries of the blocks around it made
 *        before it, never those of a sibling branch, and its own entries
 *        are dropped when it ends, so the kept node always dominates.
 *        Random numbers, I/O, params, undef, check_type and regions are
 *        never merged.
 *     A replaced node hands its user name to its replacement when that
 *     has none.  A node is only replaced by one with the same symval, so
 *     a dimension symbol keeps the node that binds it at run time.
 *     d. A `dim` of a value that an argument has on some axis reads the
 *        argument's (its value is the same; the value may then be dead).
 *  2. Dead code, mark and sweep: the roots are return, I/O and random
 *     numbers (removing one would shift the random stream); a live node
 *     makes its operands and the for/if around it live, a live for/if its
 *     yields.  Unlisted for/if regions with no live result and no effect
 *     inside go as a whole.  Then, for every symbol a live type mentions,
 *     the first node that bound it before the pass (in lowering order) is
 *     kept, so the lowering still sets it before its first use.
 */
#include "passes.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ===== 1a. constant folding ===== */

/* A scalar value: i for bool (0/1) and integers, f for floats. */
typedef struct Val {
  DType dt;
  double f;
  int64_t i;
} Val;

static double rnd(DType dt, double x) { return dt == DT_F32 ? (double)(float)x : x; }

static int64_t wrap(DType dt, uint64_t u) { return dt == DT_I32 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u; }

/* The lowering's and codegen's conversion; false where the CPU code
 * would be undefined (a float out of the integer's range). */
static bool convert(Val v, DType to, Val *out) {
  Val r = {.dt = to};
  bool vf = ir_dtype_is_float(v.dt);
  if (to == DT_BOOL) {
    r.i = vf ? v.f != 0 : v.i != 0; /* NaN is true */
  } else if (ir_dtype_is_float(to)) {
    if (vf)
      r.f = rnd(to, v.f);
    else
      r.f = to == DT_F32 ? (double)(float)v.i : (double)v.i; /* one rounding */
  } else if (vf) {
    double lim = to == DT_I32 ? 2147483648.0 : 9223372036854775808.0;
    double t = trunc(v.f);
    if (!isfinite(t) || t >= lim || t < -lim)
      return false;
    r.i = (int64_t)t;
  } else {
    r.i = wrap(to, (uint64_t)v.i);
  }
  *out = r;
  return true;
}

static bool is_const(IrNode *v) { return v->op == IR_CONST && v->type.kind == TY_TENSOR && v->type.rank == 0; }

/* Whether n is a Python float (a weak float scalar): its value is a
 * double, rounded once where it meets a tensor's dtype (the lowering
 * makes it an f64 constant), as NumPy does with `0.1 * 3`. */
static bool python_float(IrNode *n) { return n->type.weak && ir_dtype_is_float(n->type.dtype); }

/* The dtype n's folding computes in: a Python float's in f64, so that
 * `zeros(3, dtype=f64) + 0.1 * 3` is 0.30000000000000004, not f32's
 * 0.300000012 widened; anything else in its own dtype. */
static DType fold_dtype(IrNode *n) { return python_float(n) ? DT_F64 : n->type.dtype; }

/* A constant's value in its type's dtype (what the lowering makes of it);
 * a Python float's keeps its double value (under its type's dtype). */
static bool const_val(IrNode *v, Val *out) {
  if (!is_const(v) || v->at.dtype == DT_UNKNOWN)
    return false;
  Val raw = {.dt = v->at.dtype};
  if (ir_dtype_is_float(raw.dt))
    raw.f = v->at.fval;
  else
    raw.i = raw.dt == DT_BOOL ? v->at.ival != 0 : v->at.ival;
  if (!convert(raw, fold_dtype(v), out))
    return false;
  out->dt = v->type.dtype;
  return true;
}

/* f32 runs the f-suffixed function, as LLVM's intrinsics do. */
static double fexp(DType dt, double x) { return dt == DT_F32 ? expf((float)x) : exp(x); }

static bool fold_float_unary(IrOp op, DType dt, double x, double *r) {
  switch (op) {
  case IR_NEG: *r = -x; return true;
  case IR_ABS: *r = fabs(x); return true;
  case IR_SIGN: *r = x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x; return true;
  case IR_RELU: *r = x < 0 ? 0.0 : x; return true;
  case IR_FLOOR: *r = floor(x); return true;
  case IR_CEIL: *r = ceil(x); return true;
  case IR_ROUND: *r = rint(x); return true; /* half to even */
  case IR_SQRT: *r = rnd(dt, sqrt(x)); return true;
  case IR_EXP: *r = fexp(dt, x); return true;
  case IR_LOG: *r = dt == DT_F32 ? logf((float)x) : log(x); return true;
  case IR_SIN: *r = dt == DT_F32 ? sinf((float)x) : sin(x); return true;
  case IR_COS: *r = dt == DT_F32 ? cosf((float)x) : cos(x); return true;
  case IR_LOG1P: *r = rnd(dt, log1p(x)); return true; /* libm's double functions */
  case IR_EXPM1: *r = rnd(dt, expm1(x)); return true;
  case IR_TAN: *r = rnd(dt, tan(x)); return true;
  case IR_TANH: *r = rnd(dt, tanh(x)); return true;
  case IR_ERF: *r = rnd(dt, erf(x)); return true;
  case IR_RSQRT: *r = rnd(dt, 1.0 / rnd(dt, sqrt(x))); return true;
  case IR_SIGMOID: *r = rnd(dt, 1.0 / rnd(dt, 1.0 + fexp(dt, -x))); return true;
  case IR_GELU: {
    double e = rnd(dt, erf(rnd(dt, x * rnd(dt, M_SQRT1_2))));
    *r = rnd(dt, rnd(dt, 0.5 * x) * rnd(dt, 1.0 + e));
    return true;
  }
  case IR_SOFTPLUS: *r = x > 20.0 ? x : rnd(dt, log1p(fexp(dt, x))); return true;
  case IR_COPY:
  case IR_DETACH: *r = x; return true;
  default: return false;
  }
}

static bool fold_int_unary(IrOp op, DType dt, int64_t x, int64_t *r) {
  bool b = dt == DT_BOOL;
  switch (op) {
  case IR_NEG: *r = wrap(dt, 0 - (uint64_t)x); return !b;
  case IR_ABS: *r = b || x >= 0 ? x : wrap(dt, 0 - (uint64_t)x); return true;
  case IR_SIGN: *r = b ? x : (x > 0) - (x < 0); return true;
  case IR_RELU: *r = x < 0 ? 0 : x; return true;
  case IR_FLOOR:
  case IR_CEIL:
  case IR_ROUND:
  case IR_COPY:
  case IR_DETACH: *r = x; return true;
  default: return false;
  }
}

static bool fold_unary(IrNode *n, Val a, Val *r) {
  DType dt = fold_dtype(n);
  switch (n->op) {
  case IR_CAST: return convert(a, dt, r);
  case IR_NOT:
    if (!convert(a, DT_BOOL, r))
      return false;
    r->i = !r->i;
    return true;
  case IR_ISNAN:
  case IR_ISFINITE:
    r->dt = DT_BOOL;
    if (!ir_dtype_is_float(a.dt))
      r->i = n->op == IR_ISFINITE;
    else
      r->i = n->op == IR_ISNAN ? isnan(a.f) : isfinite(a.f);
    return true;
  case IR_TO_DEVICE: return false;
  default: break;
  }
  Val x;
  if (!convert(a, dt, &x))
    return false;
  *r = x;
  if (ir_dtype_is_float(dt)) {
    if (!fold_float_unary(n->op, dt, x.f, &r->f))
      return false;
    r->f = rnd(dt, r->f);
    return true;
  }
  return fold_int_unary(n->op, dt, x.i, &r->i);
}

/* Python's // and % on integers, as codegen's int_floordiv_mod. */
static int64_t int_divmod(DType dt, bool mod, int64_t a, int64_t b) {
  if (b == 0)
    return 0;
  if (b == -1)
    return mod ? 0 : wrap(dt, 0 - (uint64_t)a);
  int64_t q = a / b, m = a % b;
  bool fix = m != 0 && ((m ^ b) < 0);
  return mod ? (fix ? m + b : m) : q - fix;
}

/* NumPy's npy_divmod, step by step as codegen's float_floordiv_mod. */
static double float_divmod(DType dt, bool want_mod, double a, double b) {
  double mod = fmod(a, b); /* exact in any precision */
  bool modnz = mod != 0 || isnan(mod);
  bool adj = modnz && ((b < 0) != (mod < 0));
  if (want_mod) {
    double m = adj ? rnd(dt, mod + b) : mod;
    m = modnz ? m : copysign(0.0, b);
    return b == 0 ? mod : m;
  }
  double div = rnd(dt, rnd(dt, a - mod) / b);
  if (adj)
    div = rnd(dt, div - 1);
  double fl = floor(div);
  if (rnd(dt, div - fl) > 0.5)
    fl = rnd(dt, fl + 1);
  double q = rnd(dt, a / b);
  double res = div != 0 || isnan(div) ? fl : copysign(0.0, q);
  return b == 0 ? q : res;
}

static int64_t int_pow(DType dt, int64_t base, int64_t e) {
  if (e < 0)
    return 0;
  uint64_t r = 1, b = (uint64_t)base;
  for (uint64_t ee = (uint64_t)e; ee; ee >>= 1) {
    if (ee & 1)
      r *= b;
    b *= b;
  }
  return wrap(dt, r);
}

static bool fold_float_binary(IrOp op, DType dt, double x, double y, double *r) {
  switch (op) {
  case IR_ADD: *r = x + y; return true;
  case IR_SUB: *r = x - y; return true;
  case IR_MUL: *r = x * y; return true;
  case IR_DIV: *r = x / y; return true;
  case IR_FLOORDIV:
  case IR_MOD: *r = float_divmod(dt, op == IR_MOD, x, y); return true;
  case IR_POW:
    if (y == 0.5) /* codegen's fast path */
      *r = sqrt(x);
    else
      *r = dt == DT_F32 ? powf((float)x, (float)y) : pow(x, y);
    return true;
  case IR_MAXIMUM: *r = x > y || isnan(x) ? x : y; return true;
  case IR_MINIMUM: *r = x < y || isnan(x) ? x : y; return true;
  default: return false;
  }
}

static bool fold_int_binary(IrOp op, DType dt, int64_t x, int64_t y, int64_t *r) {
  uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
  if (dt == DT_BOOL) {
    switch (op) {
    case IR_ADD:
    case IR_MAXIMUM: *r = x | y; return true;
    case IR_MUL:
    case IR_MINIMUM: *r = x & y; return true;
    default: return false;
    }
  }
  switch (op) {
  case IR_ADD: *r = wrap(dt, ux + uy); return true;
  case IR_SUB: *r = wrap(dt, ux - uy); return true;
  case IR_MUL: *r = wrap(dt, ux * uy); return true;
  case IR_FLOORDIV:
  case IR_MOD: *r = int_divmod(dt, op == IR_MOD, x, y); return true;
  case IR_POW: *r = int_pow(dt, x, y); return true;
  case IR_MAXIMUM: *r = x > y ? x : y; return true;
  case IR_MINIMUM: *r = x < y ? x : y; return true;
  default: return false;
  }
}

static bool fold_binary(IrNode *n, Val a, Val b, Val *r) {
  DType dt = fold_dtype(n);
  Val x, y;
  r->dt = dt;
  if (n->op == IR_AND || n->op == IR_OR) {
    if (!convert(a, DT_BOOL, &x) || !convert(b, DT_BOOL, &y))
      return false;
    r->i = n->op == IR_AND ? x.i && y.i : x.i || y.i;
    return true;
  }
  if (n->op >= IR_LT && n->op <= IR_NE) {
    DType c = ir_dtype_compared(a.dt, b.dt);
    if (!convert(a, c, &x) || !convert(b, c, &y))
      return false;
    bool fl = ir_dtype_is_float(c);
    double p = fl ? x.f : (double)0, q = fl ? y.f : (double)0;
    int64_t i = x.i, j = y.i;
    switch (n->op) {
    case IR_LT: r->i = fl ? p < q : i < j; break;
    case IR_LE: r->i = fl ? p <= q : i <= j; break;
    case IR_GT: r->i = fl ? p > q : i > j; break;
    case IR_GE: r->i = fl ? p >= q : i >= j; break;
    case IR_EQ: r->i = fl ? p == q : i == j; break;
    default: r->i = fl ? p != q : i != j; break; /* NaN != NaN */
    }
    return true;
  }
  if (!convert(a, dt, &x) || !convert(b, dt, &y))
    return false;
  if (ir_dtype_is_float(dt)) {
    if (!fold_float_binary(n->op, dt, x.f, y.f, &r->f))
      return false;
    r->f = rnd(dt, r->f);
    return true;
  }
  return fold_int_binary(n->op, dt, x.i, y.i, &r->i);
}

static bool fold_ternary(IrNode *n, Val *a, Val *r) {
  DType dt = fold_dtype(n);
  Val c, x, y;
  if (n->op == IR_WHERE) {
    if (!convert(a[0], DT_BOOL, &c) || !convert(a[1], dt, &x) || !convert(a[2], dt, &y))
      return false;
    *r = c.i ? x : y;
    return true;
  }
  /* clip(x, lo, hi) = minimum(maximum(x, lo), hi) */
  Val lo, hi, m;
  if (!convert(a[0], dt, &x) || !convert(a[1], dt, &lo) || !convert(a[2], dt, &hi))
    return false;
  r->dt = dt;
  m.dt = dt;
  if (ir_dtype_is_float(dt))
    return fold_float_binary(IR_MAXIMUM, dt, x.f, lo.f, &m.f) && fold_float_binary(IR_MINIMUM, dt, m.f, hi.f, &r->f);
  return fold_int_binary(IR_MAXIMUM, dt, x.i, lo.i, &m.i) && fold_int_binary(IR_MINIMUM, dt, m.i, hi.i, &r->i);
}

/* n becomes `const v`, in place: same type, name, location, symval. */
static void become_const(IrNode *n, Val v) {
  n->op = IR_CONST;
  n->nargs = 0;
  n->args = NULL;
  memset(&n->at, 0, sizeof n->at);
  n->at.dtype = v.dt;
  if (ir_dtype_is_float(v.dt)) {
    n->at.fval = v.f;
  } else {
    n->at.ival = v.i;
    n->at.fval = (double)v.i;
    if (ir_dtype_is_int(v.dt) && !n->has_symval) {
      n->has_symval = true;
      n->symval = dim_const(v.i);
    }
  }
}

/* Folds n into a constant when its value is known; true if it did. */
static bool fold(IrNode *n) {
  IrType *t = &n->type;
  if (n->op == IR_CONST || t->kind != TY_TENSOR || t->rank != 0 || t->device != DEV_DEFAULT || t->dtype == DT_UNKNOWN)
    return false;
  Val a[3], r = {.dt = t->dtype};
  if (n->op == IR_FULL || n->op == IR_FULL_LIKE) { /* a scalar zeros_like(loss), ones_like(loss) */
    Val fill = {.dt = DT_F64, .f = n->at.fval};
    if (!convert(fill, t->dtype, &r))
      return false;
    become_const(n, r);
    return true;
  }
  IrOpClass c = ir_opclass(n->op);
  if (c != IRC_UNARY && c != IRC_BINARY && c != IRC_TERNARY)
    return false;
  for (int k = 0; k < n->nargs; k++)
    if (n->args[k]->type.device != DEV_DEFAULT || !const_val(n->args[k], &a[k]))
      return false;
  bool ok = c == IRC_UNARY ? fold_unary(n, a[0], &r) : c == IRC_BINARY ? fold_binary(n, a[0], a[1], &r) : fold_ternary(n, a, &r);
  if (!ok || r.dt != fold_dtype(n))
    return false;
  r.dt = t->dtype; /* a Python float keeps its double value */
  become_const(n, r);
  return true;
}

/* ===== 1b. identities ===== */

/* Whether v is one number everywhere (a constant or a full/full_like):
 * that number, in f64. */
static bool fill_value(IrNode *v, double *c) {
  Val x, d;
  if (is_const(v)) {
    if (!const_val(v, &x))
      return false;
  } else if ((v->op == IR_FULL || v->op == IR_FULL_LIKE) && v->type.kind == TY_TENSOR) {
    Val fill = {.dt = DT_F64, .f = v->at.fval};
    if (!convert(fill, v->type.dtype, &x))
      return false;
  } else {
    return false;
  }
  if (!convert(x, DT_F64, &d))
    return false;
  *c = d.f;
  return true;
}

static bool is_fill(IrNode *v, double c) {
  double d;
  return fill_value(v, &d) && d == c;
}

/* Zeros that leave every value as it is, signed zeros included (IEEE):
 * x + -0.0 and x - 0.0 are x, but -0.0 + 0.0 is 0.0 (NumPy prints "0."),
 * so in a float sum only a -0.0 operand goes, in a difference only a 0.0
 * subtrahend.  Integer zeros have no sign. */
static bool is_add_zero(IrNode *v, IrNode *n) {
  double d;
  return fill_value(v, &d) && d == 0 && (!ir_dtype_is_float(n->type.dtype) || signbit(d));
}

static bool is_sub_zero(IrNode *v, IrNode *n) {
  double d;
  return fill_value(v, &d) && d == 0 && (!ir_dtype_is_float(n->type.dtype) || !signbit(d));
}

/* Whether n's uses may read m instead: same type (with weak) and no
 * symbol lost (the lowering binds a symbol where a node with that symval
 * is computed). */
static bool can_replace(IrNode *n, IrNode *m) {
  if (!ir_type_eq(&n->type, &m->type) || n->type.weak != m->type.weak)
    return false;
  return !n->has_symval || (m->has_symval && dim_eq(n->symval, m->symval));
}

static bool identity_perm(IrNode *n) {
  int r = n->type.rank;
  if (n->at.naxes == 0)
    return r <= 1; /* no axes: reversed */
  for (int i = 0; i < n->at.naxes; i++)
    if ((n->at.axes[i] < 0 ? n->at.axes[i] + r : n->at.axes[i]) != i)
      return false;
  return true;
}

/* The value n equals, or NULL. */
static IrNode *identity(IrNode *n) {
  IrNode *x = n->nargs > 0 ? n->args[0] : NULL, *y = n->nargs > 1 ? n->args[1] : NULL, *r = NULL;
  switch (n->op) {
  case IR_ADD: r = is_add_zero(y, n) ? x : is_add_zero(x, n) ? y : NULL; break;
  case IR_SUB: r = is_sub_zero(y, n) ? x : NULL; break;
  case IR_MUL: r = is_fill(y, 1) ? x : is_fill(x, 1) ? y : NULL; break;
  case IR_DIV:
  case IR_POW: r = is_fill(y, 1) ? x : NULL; break;
  case IR_NEG: r = x->op == IR_NEG ? x->args[0] : NULL; break;
  case IR_CAST:
  case IR_COPY:
  case IR_DETACH:
  case IR_RESHAPE:
  case IR_BROADCAST_TO:
  case IR_SQUEEZE:
  case IR_FLATTEN: r = x; break;
  case IR_TRANSPOSE: r = identity_perm(n) ? x : NULL; break;
  case IR_SUM:
  case IR_MEAN:
  case IR_PROD:
  case IR_MAX:
  case IR_MIN: r = n->at.has_axes && n->at.naxes == 0 ? x : NULL; break;
  default: break;
  }
  return r && r != n && can_replace(n, r) ? r : NULL;
}

/* The user's errors of integer arithmetic with a constant operand, found
 * in the first round, before folding would make a value of them:
 *  - // or % by zero (Python's ZeroDivisionError; a run-time zero gives
 *    0 and a warning, passes/lower_arith.c);
 *  - a negative power (NumPy's "Integers to negative integer powers are
 *    not allowed"; a run-time one is a run-time error, lower_arith.c;
 *    two Python ints, 2 ** -1, are 0.5 as in Python: the frontend). */
static bool int_arith_error(IrNode *n) {
  double c;
  if (!ir_dtype_is_int(n->type.dtype) || n->nargs != 2 || !fill_value(n->args[1], &c))
    return false;
  if ((n->op == IR_FLOORDIV || n->op == IR_MOD) && c == 0) {
    ir_error(n->loc, "integer %s by zero: expected a nonzero divisor, found the constant 0",
             n->op == IR_FLOORDIV ? "division (//)" : "modulo (%)");
    return true;
  }
  if (n->op == IR_POW && c < 0) {
    ir_error(n->loc, "integers to negative integer powers are not allowed: expected an exponent >= 0, found the "
             "constant %lld (a float base or exponent, e.g. 2.0, gives a float power)", (long long)c);
    return true;
  }
  return false;
}

/* ===== 1c. CSE ===== */

static bool cse_ok(IrNode *n) {
  if (n->body || n->orelse || (n->type.kind != TY_TENSOR && !(n->op == IR_SPLIT && n->type.kind == TY_TUPLE)))
    return false;
  switch (n->op) {
  case IR_RAND:
  case IR_RANDN:
  case IR_RANDINT:
  case IR_RANDPERM:
  case IR_ARG:
  case IR_PARAM:
  case IR_UNDEF:
  case IR_BLOCK_ARG:
  case IR_CHECK_TYPE: return false;
  default: break;
  }
  switch (ir_opclass(n->op)) {
  case IRC_IO:
  case IRC_AUTODIFF: return false;
  case IRC_CONTROL: return n->op == IR_RESULT;
  default: return true;
  }
}

/* Every attribute; those an op does not use are zero on both sides.
 * Constants compare by value (ints may or may not carry fval). */
static bool attrs_eq(IrNode *n, IrNode *m) {
  const IrAttrs *a = &n->at, *b = &m->at;
  if (n->op == IR_CONST) {
    if (a->dtype != b->dtype)
      return false;
    return ir_dtype_is_float(a->dtype) ? memcmp(&a->fval, &b->fval, sizeof a->fval) == 0 : a->ival == b->ival;
  }
  if (a->ival != b->ival || memcmp(&a->fval, &b->fval, sizeof a->fval) != 0 || a->dtype != b->dtype ||
      a->device != b->device || a->naxes != b->naxes || a->has_axes != b->has_axes || a->keepdims != b->keepdims ||
      a->nidx != b->nidx || a->ndata != b->ndata || a->rank != b->rank || a->decl != b->decl || a->sym != b->sym ||
      a->has_default != b->has_default || a->like != b->like || a->nstrs != b->nstrs || a->strs != b->strs)
    return false;
  if (a->naxes > 0 && memcmp(a->axes, b->axes, sizeof(int) * (size_t)a->naxes) != 0)
    return false;
  if ((a->str == NULL) != (b->str == NULL) || (a->str && strcmp(a->str, b->str) != 0))
    return false;
  for (int i = 0; i < a->nidx; i++) {
    const IrIndexItem *p = &a->idx[i], *q = &b->idx[i];
    if (p->kind != q->kind || p->arg != q->arg || p->start != q->start || p->stop != q->stop || p->step != q->step)
      return false;
  }
  if (a->ndata > 0 && memcmp(a->data, b->data, sizeof(double) * (size_t)a->ndata) != 0)
    return false;
  return a->rank == 0 || memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->rank) == 0;
}

static bool same_node(IrNode *n, IrNode *m) {
  if (n->op != m->op || n->nargs != m->nargs || n->type.kind != m->type.kind || n->type.ntuple != m->type.ntuple)
    return false;
  for (int k = 0; k < n->nargs; k++)
    if (n->args[k] != m->args[k])
      return false;
  return attrs_eq(n, m) && can_replace(n, m);
}

static uint64_t hash_node(IrNode *n) {
  uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
  MIX(n->op);
  MIX(n->nargs);
  for (int k = 0; k < n->nargs; k++)
    MIX((uintptr_t)n->args[k]);
  MIX(n->type.dtype);
  MIX(n->type.rank);
  MIX(n->at.dtype);
  MIX(n->at.naxes);
  if (n->op == IR_CONST && ir_dtype_is_float(n->at.dtype)) {
    uint64_t bits;
    memcpy(&bits, &n->at.fval, sizeof bits);
    MIX(bits);
  } else {
    MIX(n->at.ival);
  }
#undef MIX
  return h;
}

/* ===== the pass's state ===== */

/* A hash table of CSE candidates whose entries are pushed and popped
 * with the blocks: entry k shadows prev[k] in its bucket. */
typedef struct Ctx {
  IrNode **nodes; /* by mark - 1: every node, block param and argument */
  IrNode **repl;  /* what a node was replaced by, NULL if nothing */
  IrNode **owner; /* the for/if around a node, NULL at the top */
  bool *live;
  int n, cap;
  /* the scoped table */
  IrNode **ent;
  int *prev, *bucket;
  int nent, *head, nbuckets;
  bool changed;
  bool first_round; /* the user's errors are looked for once */
  bool failed;      /* one was reported */
  IrFunc *f;        /* the function walked */
} Ctx;

static void number(Ctx *C, IrNode *v, IrNode *owner) {
  if (C->n == C->cap) {
    int cap = C->cap ? 2 * C->cap : 256;
    IrNode **a = ir_alloc(sizeof(IrNode *) * (size_t)cap), **o = ir_alloc(sizeof(IrNode *) * (size_t)cap);
    if (C->n) {
      memcpy(a, C->nodes, sizeof(IrNode *) * (size_t)C->n);
      memcpy(o, C->owner, sizeof(IrNode *) * (size_t)C->n);
    }
    C->nodes = a, C->owner = o, C->cap = cap;
  }
  C->nodes[C->n] = v;
  C->owner[C->n] = owner;
  v->mark = ++C->n;
}

static void number_block(Ctx *C, IrBlock *b) {
  for (int i = 0; i < b->params.n; i++)
    number(C, b->params.v[i], b->owner);
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    number(C, n, b->owner);
    if (n->body)
      number_block(C, n->body);
    if (n->orelse)
      number_block(C, n->orelse);
  }
}

/* Numbers a function's values and sizes the tables. */
static void setup(Ctx *C, IrFunc *f) {
  memset(C, 0, sizeof *C);
  C->f = f;
  for (int i = 0; i < f->args.n; i++)
    number(C, f->args.v[i], NULL);
  number_block(C, f->body);
  size_t n = (size_t)C->n;
  C->repl = ir_alloc(sizeof(IrNode *) * n);
  C->live = ir_alloc(sizeof(bool) * n);
  C->ent = ir_alloc(sizeof(IrNode *) * n);
  C->prev = ir_alloc(sizeof(int) * n);
  C->bucket = ir_alloc(sizeof(int) * n);
  C->nbuckets = 64;
  while (C->nbuckets < 2 * C->n)
    C->nbuckets *= 2;
  C->head = ir_alloc(sizeof(int) * (size_t)C->nbuckets);
  for (int i = 0; i < C->nbuckets; i++)
    C->head[i] = -1;
}

static IrNode *find(Ctx *C, IrNode *v) {
  while (v->mark > 0 && v->mark <= C->n && C->nodes[v->mark - 1] == v && C->repl[v->mark - 1])
    v = C->repl[v->mark - 1];
  return v;
}

static void replace(Ctx *C, IrNode *n, IrNode *m) {
  C->repl[n->mark - 1] = m;
  if (!m->name && n->name)
    m->name = n->name;
  C->changed = true;
}

static IrNode *cse_lookup_or_add(Ctx *C, IrNode *n) {
  int b = (int)(hash_node(n) & (uint64_t)(C->nbuckets - 1));
  for (int e = C->head[b]; e >= 0; e = C->prev[e])
    if (same_node(n, C->ent[e]))
      return C->ent[e];
  int e = C->nent++;
  C->ent[e] = n;
  C->bucket[e] = b;
  C->prev[e] = C->head[b];
  C->head[b] = e;
  return NULL;
}

static void cse_pop(Ctx *C, int to) {
  while (C->nent > to) {
    int e = --C->nent;
    C->head[C->bucket[e]] = C->prev[e];
  }
}

/* 1. fold, identities and CSE, in one preorder walk */
/* `dim v {axis=k}` reads only v's shape: when an argument of the
 * function has that size on some axis j, it becomes `dim arg {axis=j}`,
 * so that v, when nothing else reads it, is dead code.  grad() names the
 * sizes of its broadcasts by the forward values (passes/autodiff.c,
 * ad_size): sum(softmax(x) * t)'s product stayed alive for its shape
 * alone, a row kernel's stage writing N x C floats nothing read. */
static bool dim_from_arg(Ctx *C, IrNode *n) {
  IrNode *v = n->args[0];
  if (v->op == IR_ARG || v->type.kind != TY_TENSOR || n->at.ival < 0 || n->at.ival >= v->type.rank)
    return false;
  Dim d = v->type.dims[n->at.ival];
  for (int i = 0; i < C->f->args.n; i++) {
    IrNode *a = C->f->args.v[i];
    int j = ir_type_axis(&a->type, d);
    if (j >= 0) {
      n->args[0] = a;
      n->at.ival = j;
      return true;
    }
  }
  return false;
}

static void walk(Ctx *C, IrBlock *b) {
  int scope = C->nent;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    for (int k = 0; k < n->nargs; k++)
      n->args[k] = find(C, n->args[k]);
    if (n->op == IR_RESULT)
      n->parent = n->args[0];
    if (C->first_round && int_arith_error(n))
      C->failed = true;
    if (n->op == IR_DIM && dim_from_arg(C, n))
      C->changed = true;
    if (fold(n))
      C->changed = true;
    IrNode *r = identity(n);
    if (r) {
      replace(C, n, r);
      continue;
    }
    if (n->body)
      walk(C, n->body);
    if (n->orelse)
      walk(C, n->orelse);
    if (cse_ok(n)) {
      IrNode *m = cse_lookup_or_add(C, n);
      if (m)
        replace(C, n, m);
    }
  }
  cse_pop(C, scope);
}

/* ===== 2. dead code ===== */

static bool is_root(IrNode *n) {
  switch (n->op) {
  case IR_RETURN:
  case IR_RAND:
  case IR_RANDN:
  case IR_RANDINT:
  case IR_RANDPERM:
  case IR_GRAD: return true;
  default: return ir_opclass(n->op) == IRC_IO;
  }
}

static void mark_live(Ctx *C, IrNode *v, PtrVec *work) {
  if (v->mark <= 0 || v->mark > C->n || C->live[v->mark - 1])
    return;
  C->live[v->mark - 1] = true;
  ir_vec_push(work, v);
}

static IrNode *yield_of(IrBlock *b) {
  IrNode *last = b && b->nodes.n ? b->nodes.v[b->nodes.n - 1] : NULL;
  return last && last->op == IR_YIELD ? last : NULL;
}

static void propagate(Ctx *C, PtrVec *work) {
  while (work->n) {
    IrNode *v = work->v[--work->n];
    for (int k = 0; k < v->nargs; k++)
      mark_live(C, v->args[k], work);
    IrNode *own = C->owner[v->mark - 1];
    if (own)
      mark_live(C, own, work);
    IrNode *y;
    if ((y = yield_of(v->body)))
      mark_live(C, y, work);
    if ((y = yield_of(v->orelse)))
      mark_live(C, y, work);
  }
}

static void add_sym(int **syms, int *nsyms, int s) {
  if (s >= *nsyms) {
    int n = *nsyms ? *nsyms : 64;
    while (n <= s)
      n *= 2;
    int *a = ir_alloc(sizeof(int) * (size_t)n);
    if (*nsyms)
      memcpy(a, *syms, sizeof(int) * (size_t)*nsyms);
    *syms = a, *nsyms = n;
  }
}

static void dim_syms(Dim d, void (*fn)(void *, int), void *ctx) {
  for (int t = 0; t < d.n; t++)
    for (int s = 0; s < d.t[t].deg; s++)
      fn(ctx, d.t[t].sym[s]);
}

/* The symbols a value's type and symval mention. */
static void value_syms(IrNode *v, void (*fn)(void *, int), void *ctx) {
  if (v->type.kind == TY_TENSOR && v->type.rank > 0 && v->type.rank <= IR_MAX_RANK)
    for (int d = 0; d < v->type.rank; d++)
      dim_syms(v->type.dims[d], fn, ctx);
  if (v->has_symval)
    dim_syms(v->symval, fn, ctx);
}

/* The symbol v binds when the lowering reaches it, 0 if none. */
static int binds(IrNode *v) {
  int s;
  if (v->op == IR_BATCH && v->at.sym > 0)
    return v->at.sym;
  if (v->has_symval && v->type.kind == TY_TENSOR && v->type.rank == 0 && ir_dtype_is_int(v->type.dtype) &&
      dim_is_sym(v->symval, &s))
    return s;
  return 0;
}

typedef struct SymCtx {
  int *first; /* symbol -> mark of its first binder, 0 if none; -1: an argument */
  int nsyms;
  bool *need;
} SymCtx;

static void need_sym(void *p, int s) {
  SymCtx *S = p;
  if (s >= 0 && s < S->nsyms)
    S->need[s] = true;
}

static void grow_syms(void *p, int s) {
  SymCtx *S = p;
  add_sym(&S->first, &S->nsyms, s);
}

/* Keeps, for every symbol a live value mentions, the node that bound it
 * first before the pass (the values are in lowering order by mark). */
static void keep_binders(Ctx *C, IrFunc *f, PtrVec *work) {
  SymCtx S = {0};
  for (int i = 0; i < C->n; i++) {
    value_syms(C->nodes[i], grow_syms, &S);
    if (C->nodes[i]->op == IR_BATCH)
      grow_syms(&S, C->nodes[i]->at.sym);
  }
  if (!S.nsyms)
    return;
  S.need = ir_alloc(sizeof(bool) * (size_t)S.nsyms);
  for (int i = 0; i < f->args.n; i++) { /* arguments bind their dims first */
    IrNode *a = f->args.v[i];
    int s;
    for (int d = 0; a->type.kind == TY_TENSOR && d < a->type.rank; d++)
      if (dim_is_sym(a->type.dims[d], &s) && s < S.nsyms)
        S.first[s] = -1;
  }
  for (int i = 0; i < C->n; i++) {
    int s = binds(C->nodes[i]);
    if (s > 0 && s < S.nsyms && S.first[s] == 0)
      S.first[s] = i + 1;
  }
  for (bool again = true; again;) {
    again = false;
    memset(S.need, 0, sizeof(bool) * (size_t)S.nsyms);
    for (int i = 0; i < C->n; i++)
      if (C->live[i])
        value_syms(C->nodes[i], need_sym, &S);
    for (int s = 0; s < S.nsyms; s++)
      if (S.need[s] && S.first[s] > 0 && !C->live[S.first[s] - 1]) {
        mark_live(C, C->nodes[S.first[s] - 1], work);
        again = true;
      }
    propagate(C, work);
  }
}

static int sweep(Ctx *C, IrBlock *b) {
  int removed = 0, k = 0;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (!C->live[n->mark - 1]) {
      removed++;
      continue;
    }
    if (n->body)
      removed += sweep(C, n->body);
    if (n->orelse)
      removed += sweep(C, n->orelse);
    b->nodes.v[k++] = n;
  }
  b->nodes.n = k;
  return removed;
}

/* Returns the number of nodes removed. */
static int dead_code(Ctx *C, IrFunc *f) {
  PtrVec work = {0};
  for (int i = 0; i < f->args.n; i++)
    mark_live(C, f->args.v[i], &work);
  for (int i = 0; i < C->n; i++) {
    IrNode *v = C->nodes[i];
    if (is_root(v))
      mark_live(C, v, &work);
  }
  propagate(C, &work);
  keep_binders(C, f, &work);
  return sweep(C, f->body);
}

/* ===== the pass ===== */

static bool simplify_func(IrFunc *f) {
  bool ok = true;
  for (int round = 0; round < 32; round++) {
    Ctx ctx, *C = &ctx;
    setup(C, f);
    C->first_round = round == 0;
    walk(C, f->body);
    ok = ok && !C->failed;
    int removed = dead_code(C, f);
    for (int i = 0; i < C->n; i++)
      C->nodes[i]->mark = 0;
    if (!C->changed && removed == 0)
      break;
  }
  return ok;
}

bool pass_simplify(IrModule *m) {
  bool ok = true;
  for (int i = 0; i < m->funcs.n; i++)
    ok = simplify_func(m->funcs.v[i]) && ok;
  return ok;
}
