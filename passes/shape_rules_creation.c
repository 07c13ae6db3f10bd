/* passes/shape_rules_creation.c - shape rules of ops that create tensors:
 * zeros/ones/full/empty, rand/randn, *_like, arange, linspace, eye,
 * randint and randperm.
 *
 * Sizes are integer scalar operands; where the pass knows their values as
 * dims (constants, x.shape[k], arithmetic of those) the shape uses them,
 * else a fresh symbol named after the operand stands for the run-time value
 * (zeros(n) with main's `n: i64` is f32[n]).  The default dtype is f32
 * (PyTorch's default float), at.dtype when the program gave one.
 */
#include "shape_internal.h"

#include <math.h>

/* Reads operands first.. as dims; false when reported. */
static bool read_dims(ShapeCtx *S, IrNode *n, int first, Dim *dims, int *rank) {
  int count = n->nargs - first;
  if (!sh_check_rank(S, n, count))
    return false;
  for (int i = 0; i < count; i++) {
    if (!sh_scalar_dim(S, n, n->args[first + i], "a size", &dims[i]))
      return false;
    int64_t c;
    if (dim_is_const(dims[i], &c) && c < 0) {
      sh_error(S, n->loc, "%s: negative dimensions are not allowed (got %lld)", ir_op_name(n->op), (long long)c);
      return false;
    }
  }
  *rank = count;
  return true;
}

/* zeros, ones, full, empty (FULL); rand, randn */
void shape_full(ShapeCtx *S, IrNode *n) {
  DType dt = n->at.dtype != DT_UNKNOWN ? n->at.dtype : DT_F32;
  if ((n->op == IR_RAND || n->op == IR_RANDN) && !ir_dtype_is_float(dt)) {
    sh_error(S, n->loc, "%s: the dtype must be a float type, but got %s", ir_op_name(n->op), ir_dtype_name(dt));
    sh_poison(n);
    return;
  }
  if (n->at.like) { /* rand(x.shape): the shape of the operand */
    IrType x = sh_type(S, n->args[0]);
    sh_set(n, dt, x.rank, x.dims, DEV_DEFAULT);
    return;
  }
  Dim dims[IR_MAX_RANK];
  int rank;
  if (!read_dims(S, n, 0, dims, &rank)) {
    sh_poison(n);
    return;
  }
  sh_set(n, dt, rank, dims, DEV_DEFAULT);
}

void shape_full_like(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  sh_set(n, n->at.dtype != DT_UNKNOWN ? n->at.dtype : x.dtype, x.rank, x.dims, x.device);
}

/* A number known at compile time: an integer symval, a literal, or the
 * negation or cast of one. */
static bool const_num(ShapeCtx *S, IrNode *v, double *out) {
  int64_t c;
  if (v->has_symval && dim_is_const(sh_resolve(S, v->symval), &c)) {
    *out = (double)c;
    return true;
  }
  switch (v->op) {
  case IR_CONST:
    *out = ir_dtype_is_float(v->at.dtype) ? v->at.fval : (double)v->at.ival;
    return true;
  case IR_NEG:
    if (const_num(S, v->args[0], out)) {
      *out = -*out;
      return true;
    }
    return false;
  case IR_CAST:
  case IR_CHECK_TYPE:
    return const_num(S, v->args[0], out);
  default:
    return false;
  }
}

static bool scalar_operands(ShapeCtx *S, IrNode *n, int count, const char *const *what) {
  for (int i = 0; i < count; i++) {
    IrType t = sh_type(S, n->args[i]);
    if (t.rank != 0) {
      sh_error(S, n->loc, "%s: %s must be a scalar, but got %s", ir_op_name(n->op), what[i], sh_tstr(&t));
      sh_note(S, n->args[i]->loc, "%s comes from here", sh_tstr(&t));
      return false;
    }
  }
  return true;
}

/* arange(start, stop, step): NumPy's length ceil((stop - start) / step). */
void shape_arange(ShapeCtx *S, IrNode *n) {
  static const char *const what[] = {"start", "stop", "step"};
  if (!scalar_operands(S, n, 3, what)) {
    sh_poison(n);
    return;
  }
  bool ints = true;
  for (int i = 0; i < 3; i++) {
    DType dt = n->args[i]->type.dtype;
    ints &= ir_dtype_is_int(dt) || dt == DT_BOOL;
  }
  DType dt = n->at.dtype != DT_UNKNOWN ? n->at.dtype : ints ? DT_I64 : DT_F32;
  double a, b, s;
  Dim len;
  bool ka = const_num(S, n->args[0], &a), kb = const_num(S, n->args[1], &b), ks = const_num(S, n->args[2], &s);
  if (ks && s == 0) {
    sh_error(S, n->loc, "arange: the step must not be zero");
    sh_poison(n);
    return;
  }
  if (ka && kb && ks) {
    double l = ceil((b - a) / s);
    if (!(l < 4.6e18)) { /* also NaN */
      sh_error(S, n->loc, "arange: too many elements (%g)", l);
      sh_poison(n);
      return;
    }
    len = dim_const(l > 0 ? (int64_t)l : 0);
  } else if (ints && ks && (s == 1 || s == -1)) {
    Dim da, db;
    if (!sh_scalar_dim(S, n, n->args[0], "start", &da) || !sh_scalar_dim(S, n, n->args[1], "stop", &db)) {
      sh_poison(n);
      return;
    }
    len = s == 1 ? dim_sub(db, da) : dim_sub(da, db);
    int64_t c;
    IrNode *from = n->args[s == 1 ? 0 : 1], *to = n->args[s == 1 ? 1 : 0];
    if (dim_is_const(len, &c))
      len = dim_const(c > 0 ? c : 0); /* arange(n, n + 3), arange(n, n - 1): 3, 0 */
    else if (!(to->op == IR_DIM && const_num(S, from, &a) && a == 0))
      len = sh_fresh(S, "len", n->loc); /* may be negative: the run time clamps it at 0, as NumPy */
    /* else arange(N), arange(x.shape[0]): a dim, never negative */
  } else {
    len = sh_fresh(S, "len", n->loc);
  }
  sh_set(n, dt, 1, &len, DEV_DEFAULT);
}

void shape_linspace(ShapeCtx *S, IrNode *n) {
  static const char *const what[] = {"start", "stop"};
  Dim d;
  int64_t c;
  if (!scalar_operands(S, n, 2, what) || !sh_scalar_dim(S, n, n->args[2], "the number of samples", &d)) {
    sh_poison(n);
    return;
  }
  if (dim_is_const(d, &c) && c < 0) {
    sh_error(S, n->loc, "linspace: the number of samples must not be negative, but got %lld", (long long)c);
    sh_poison(n);
    return;
  }
  sh_set(n, n->at.dtype != DT_UNKNOWN ? n->at.dtype : DT_F32, 1, &d, DEV_DEFAULT);
}

void shape_eye(ShapeCtx *S, IrNode *n) {
  Dim dims[2];
  int rank;
  if (!read_dims(S, n, 0, dims, &rank)) {
    sh_poison(n);
    return;
  }
  dims[1] = dims[0];
  sh_set(n, n->at.dtype != DT_UNKNOWN ? n->at.dtype : DT_F32, 2, dims, DEV_DEFAULT);
}

/* randint(lo, hi, dims...): integers in [lo, hi) */
void shape_randint(ShapeCtx *S, IrNode *n) {
  if (n->nargs < 2)
    ir_die(n->loc, "randint without bounds");
  for (int i = 0; i < 2; i++) {
    IrType t = sh_type(S, n->args[i]);
    if (!sh_is_int_scalar(&t)) {
      sh_error(S, n->loc, "randint: the bounds must be integer scalars, but got %s", sh_tstr(&t));
      sh_note(S, n->args[i]->loc, "%s comes from here", sh_tstr(&t));
      sh_poison(n);
      return;
    }
  }
  double lo, hi;
  if (const_num(S, n->args[0], &lo) && const_num(S, n->args[1], &hi) && lo >= hi) {
    sh_error(S, n->loc, "randint: low must be less than high, but got %.0f >= %.0f", lo, hi);
    sh_poison(n);
    return;
  }
  Dim dims[IR_MAX_RANK];
  int rank;
  if (!read_dims(S, n, 2, dims, &rank)) {
    sh_poison(n);
    return;
  }
  sh_set(n, ir_dtype_is_int(n->at.dtype) ? n->at.dtype : DT_I64, rank, dims, DEV_DEFAULT);
}

void shape_randperm(ShapeCtx *S, IrNode *n) {
  Dim d;
  int rank;
  if (!read_dims(S, n, 0, &d, &rank)) {
    sh_poison(n);
    return;
  }
  sh_set(n, DT_I64, 1, &d, DEV_DEFAULT);
}
