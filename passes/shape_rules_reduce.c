/* passes/shape_rules_reduce.c - shape rules of reductions.
 *
 * at.has_axes/at.axes/at.naxes hold the user's axes (negative counts from
 * the end); no axis= reduces everything, axis=() nothing.  Each axis is
 * normalized and range-checked and may appear once.  keepdims leaves a 1
 * in place of each reduced axis.  The dtype depends on the op (NumPy /
 * PyTorch): sum and prod of bools and integers give i64, mean, var, std and
 * logsumexp of them f32, max and min keep it, argmax/argmin give i64,
 * any/all bool.
 */
#include "shape_internal.h"

/* The reduced shape of operand 0 into rank/dims; false when reported. */
static bool reduce_shape(ShapeCtx *S, IrNode *n, int *rank, Dim *dims) {
  IrType t = sh_type(S, n->args[0]);
  bool red[IR_MAX_RANK] = {0};
  if (!n->at.has_axes) {
    for (int i = 0; i < t.rank; i++)
      red[i] = true;
  } else {
    if (n->at.naxes < 0 || n->at.naxes > IR_MAX_RANK)
      ir_die(n->loc, "reduction with %d axes", n->at.naxes);
    for (int i = 0; i < n->at.naxes; i++) {
      int ax;
      if (!sh_axis(S, n, n->at.axes[i], t.rank, &ax))
        return false;
      if (red[ax]) {
        sh_error(S, n->loc, "%s: axis %d is given twice", ir_op_name(n->op), n->at.axes[i]);
        return false;
      }
      red[ax] = true;
    }
  }
  /* max, min, argmax, argmin have no value for an empty axis (NumPy:
   * "zero-size array to reduction operation maximum which has no identity") */
  bool needs_elems = n->op == IR_MAX || n->op == IR_MIN || n->op == IR_ARGMAX || n->op == IR_ARGMIN;
  int r = 0;
  for (int i = 0; i < t.rank; i++) {
    int64_t c;
    if (red[i] && needs_elems && dim_is_const(t.dims[i], &c) && c == 0) {
      sh_error(S, n->loc, "%s: axis %d of %s is empty, and an empty reduction has no %s", ir_op_name(n->op),
               i, sh_tstr(&t), n->op == IR_MIN || n->op == IR_ARGMIN ? "minimum" : "maximum");
      return false;
    }
    if (!red[i])
      dims[r++] = t.dims[i];
    else if (n->at.keepdims)
      dims[r++] = dim_const(1);
  }
  *rank = r;
  return true;
}

static void reduce_to(ShapeCtx *S, IrNode *n, DType dt) {
  Dim dims[IR_MAX_RANK];
  int rank;
  if (!reduce_shape(S, n, &rank, dims)) {
    sh_poison(n);
    return;
  }
  sh_set(n, dt, rank, dims, n->args[0]->type.device);
}

/* sum, prod */
void shape_reduce(ShapeCtx *S, IrNode *n) {
  DType dt = n->args[0]->type.dtype;
  reduce_to(S, n, ir_dtype_is_float(dt) ? dt : DT_I64);
}

/* mean, var, std, logsumexp */
void shape_reduce_float(ShapeCtx *S, IrNode *n) {
  DType dt = n->args[0]->type.dtype;
  reduce_to(S, n, ir_dtype_is_float(dt) ? dt : DT_F32);
}

/* max, min */
void shape_reduce_keep(ShapeCtx *S, IrNode *n) { reduce_to(S, n, n->args[0]->type.dtype); }

/* argmax, argmin: one axis at most; none means the flattened index */
void shape_reduce_arg(ShapeCtx *S, IrNode *n) {
  if (n->at.has_axes && n->at.naxes != 1) {
    sh_error(S, n->loc, "%s: expected a single axis, but got %d", ir_op_name(n->op), n->at.naxes);
    sh_poison(n);
    return;
  }
  reduce_to(S, n, DT_I64);
}

/* any, all */
void shape_reduce_bool(ShapeCtx *S, IrNode *n) { reduce_to(S, n, DT_BOOL); }
