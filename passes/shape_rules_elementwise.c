/* passes/shape_rules_elementwise.c - shape rules of elementwise ops.
 *
 * Shapes broadcast as NumPy's (sh_broadcast); dtypes follow PyTorch
 * (sh_promote): categories bool < integer < float, Python scalars (weak)
 * do not decide the dtype within their category, true division and the
 * float functions of integers give f32, comparisons and logical ops bool.
 * A result is weak only when every operand is: arithmetic on Python
 * numbers stays a Python number.
 */
#include "shape_internal.h"

/* The operand's shape and device with dtype `dt`. */
static void same_shape(ShapeCtx *S, IrNode *n, DType dt, bool weak) {
  IrType t = sh_type(S, n->args[0]);
  n->type = t;
  n->type.dtype = dt;
  n->type.weak = weak;
}

void shape_unary(ShapeCtx *S, IrNode *n) {
  IrType t = sh_type(S, n->args[0]);
  if (t.dtype == DT_BOOL && n->op == IR_NEG) {
    sh_error(S, n->loc, "neg: cannot negate a bool value (%s); use logical_not", sh_tstr(&t));
    sh_poison(n);
    return;
  }
  same_shape(S, n, t.dtype, t.weak);
  sh_symval_arith(S, n);
}

/* exp, log, sqrt, ... : integers and bools compute in f32 */
void shape_unary_float(ShapeCtx *S, IrNode *n) {
  IrType t = sh_type(S, n->args[0]);
  same_shape(S, n, ir_dtype_is_float(t.dtype) ? t.dtype : DT_F32, t.weak);
}

void shape_unary_bool(ShapeCtx *S, IrNode *n) {
  IrType t = sh_type(S, n->args[0]);
  same_shape(S, n, DT_BOOL, t.weak);
}

void shape_cast(ShapeCtx *S, IrNode *n) {
  if (n->at.dtype == DT_UNKNOWN)
    ir_die(n->loc, "cast without a dtype");
  same_shape(S, n, n->at.dtype, false);
  sh_symval_arith(S, n);
}

void shape_to_device(ShapeCtx *S, IrNode *n) {
  IrType t = sh_type(S, n->args[0]);
  same_shape(S, n, t.dtype, false);
  if (n->at.device != DEV_DEFAULT)
    n->type.device = n->at.device;
}

/* Broadcast shape and device of operands first..first+count-1 into n;
 * false (reported) on a clash. */
static bool bcast(ShapeCtx *S, IrNode *n, int first, int count, DType dt, bool weak) {
  Dim dims[IR_MAX_RANK];
  int rank;
  Device dev;
  if (!sh_broadcast(S, n, first, count, &rank, dims) || !sh_device(S, n, first, count, &dev)) {
    sh_poison(n);
    return false;
  }
  sh_set(n, dt, rank, dims, dev);
  n->type.weak = weak;
  return true;
}

void shape_binary(ShapeCtx *S, IrNode *n) {
  IrType a = sh_type(S, n->args[0]), b = sh_type(S, n->args[1]);
  bool weak;
  DType dt = sh_promote(&a, &b, &weak);
  if (dt == DT_BOOL) {
    switch (n->op) {
    case IR_SUB:
      sh_error(S, n->loc, "sub: cannot subtract bool values (%s - %s); use logical_xor (!=) or cast first",
               sh_tstr(&a), sh_tstr(&b));
      sh_poison(n);
      return;
    case IR_FLOORDIV:
    case IR_MOD:
    case IR_POW:
      dt = DT_I64; /* arithmetic, not logic: bools count as integers */
      break;
    default:
      break; /* add, mul, maximum, minimum of bools: or, and */
    }
  }
  if (bcast(S, n, 0, 2, dt, weak))
    sh_symval_arith(S, n);
}

/* True division: integers and bools divide in f32. */
void shape_true_div(ShapeCtx *S, IrNode *n) {
  IrType a = sh_type(S, n->args[0]), b = sh_type(S, n->args[1]);
  bool weak;
  DType dt = sh_promote(&a, &b, &weak);
  bcast(S, n, 0, 2, ir_dtype_is_float(dt) ? dt : DT_F32, weak);
}

void shape_compare(ShapeCtx *S, IrNode *n) {
  IrType a = sh_type(S, n->args[0]), b = sh_type(S, n->args[1]);
  bcast(S, n, 0, 2, DT_BOOL, a.weak && b.weak);
}

void shape_logical(ShapeCtx *S, IrNode *n) {
  IrType a = sh_type(S, n->args[0]), b = sh_type(S, n->args[1]);
  bcast(S, n, 0, 2, DT_BOOL, a.weak && b.weak);
}

/* where(cond, a, b): cond must be bool; the dtype is a's and b's. */
void shape_where(ShapeCtx *S, IrNode *n) {
  IrType c = sh_type(S, n->args[0]), a = sh_type(S, n->args[1]), b = sh_type(S, n->args[2]);
  if (c.dtype != DT_BOOL) {
    sh_error(S, n->loc, "where: the condition must be bool, but got %s", sh_tstr(&c));
    sh_note_operand(S, n, 0, "the condition");
    sh_poison(n);
    return;
  }
  bool weak;
  DType dt = sh_promote(&a, &b, &weak);
  bcast(S, n, 0, 3, dt, weak);
}

/* clip(x, lo, hi): x's dtype promoted with the bounds'. */
void shape_clip(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]), lo = sh_type(S, n->args[1]), hi = sh_type(S, n->args[2]);
  IrType xl = x;
  xl.dtype = sh_promote(&x, &lo, &xl.weak);
  bool weak;
  DType dt = sh_promote(&xl, &hi, &weak);
  if (dt == DT_BOOL)
    dt = DT_I64;
  bcast(S, n, 0, 3, dt, weak);
}
