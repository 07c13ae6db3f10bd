/* passes/shape_rules_dist.c - shape rules of the data-parallel built-ins
 * (ir/ops.def, SPEC §8): every rank holds a value of the same type, so
 * each collective's result has its operand's type. */
#include "shape_internal.h"

/* rank(), world_size(): an i64 scalar known only at run time */
void shape_dist_index(ShapeCtx *S, IrNode *n) {
  n->type = ir_type_scalar(DT_I64);
}

/* all_reduce(x, op=): x's type; the mean of integers would not be one */
void shape_all_reduce(ShapeCtx *S, IrNode *n) {
  IrType t = sh_type(S, n->args[0]);
  if (t.kind != TY_TENSOR) {
    sh_poison(n);
    return;
  }
  bool mean = n->op == IR_ALL_REDUCE_MEAN, sum = n->op == IR_ALL_REDUCE_SUM;
  if ((mean && !ir_dtype_is_float(t.dtype)) || (sum && t.dtype == DT_BOOL)) {
    sh_error(S, n->loc, "all_reduce(op=\"%s\") needs a %s tensor, but got %s (cast it with .astype(f32))",
             mean ? "mean" : "sum", mean ? "float" : "number", sh_tstr(&t));
    sh_poison(n);
    return;
  }
  n->type = t;
  n->type.weak = false;
}

/* broadcast(x, root): x's type; root an integer scalar */
void shape_broadcast(ShapeCtx *S, IrNode *n) {
  IrType t = sh_type(S, n->args[0]), root = sh_type(S, n->args[1]);
  if (t.kind != TY_TENSOR) {
    sh_poison(n);
    return;
  }
  if (!sh_is_int_scalar(&root)) {
    sh_error(S, n->loc, "broadcast(root=) needs an integer rank, but got %s", sh_tstr(&root));
    sh_poison(n);
    return;
  }
  n->type = t;
  n->type.weak = false;
}
