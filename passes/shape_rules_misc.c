/* passes/shape_rules_misc.c - shape rules of grad and of the ops with side
 * effects: print, save, seed (param_store is with param reads in
 * shape_rules_source.c).
 *
 * grad(y, x) has x's type; y must be a float scalar and x a float value
 * (SPEC section 2: the gradient of a non-scalar or of an integer is a
 * compile error).
 */
#include "shape_internal.h"

void shape_grad(ShapeCtx *S, IrNode *n) {
  IrType y = sh_type(S, n->args[0]), x = sh_type(S, n->args[1]);
  if (y.rank != 0) {
    sh_error(S, n->loc, "grad needs a scalar, but the loss has shape %s", sh_tstr(&y));
    sh_note_operand(S, n, 0, "the loss");
    sh_poison(n);
    return;
  }
  if (!ir_dtype_is_float(y.dtype)) {
    sh_error(S, n->loc, "cannot take the gradient of an integer or bool value (%s)", sh_tstr(&y));
    sh_note_operand(S, n, 0, "the loss");
    sh_poison(n);
    return;
  }
  if (!ir_dtype_is_float(x.dtype)) {
    sh_error(S, n->loc, "cannot take the gradient with respect to an integer value (%s)", sh_tstr(&x));
    sh_note_operand(S, n, 1, "the value");
    sh_poison(n);
    return;
  }
  n->type = x;
  n->type.weak = false;
}

/* print, save: no value */
void shape_io(ShapeCtx *S, IrNode *n) {
  n->type = (IrType){.kind = TY_NONE};
}

void shape_seed(ShapeCtx *S, IrNode *n) {
  IrType t = sh_type(S, n->args[0]);
  n->type = (IrType){.kind = TY_NONE};
  if (!sh_is_int_scalar(&t))
    sh_error(S, n->loc, "seed needs an integer scalar, but got %s", sh_tstr(&t));
}

/* tdiv, trem, fmod, copysign: made by the legalize pass in the kernel IR,
 * never in a graph */
void shape_kernel_only(ShapeCtx *S, IrNode *n) {
  ir_die(n->loc, "shape: %s is a kernel-IR primitive, not a graph op", ir_op_name(n->op));
}
