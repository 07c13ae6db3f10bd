/* passes/shape_rules_linalg.c - shape rules of matmul, dot and outer.
 *
 * matmul is NumPy's: a 1-D left operand gets a 1 prepended and a 1-D right
 * operand a 1 appended (both removed from the result), the batch dims
 * broadcast, the inner dims must be equal (unified).  dot is NumPy's dot
 * (scalar operands multiply; N-D . 1-D sums over the last axis; N-D . M-D
 * gives a.shape[:-1] + b.shape[:-2] + b.shape[-1:]); outer flattens both.
 * The dtype is promoted as for elementwise ops.
 */
#include "shape_internal.h"

static bool devices(ShapeCtx *S, IrNode *n, Device *dev) {
  if (sh_device(S, n, 0, 2, dev))
    return true;
  sh_poison(n);
  return false;
}

static DType promoted(ShapeCtx *S, IrNode *n) {
  IrType a = sh_type(S, n->args[0]), b = sh_type(S, n->args[1]);
  return sh_promote(&a, &b, NULL);
}

/* "inner dimensions differ" with notes at both operands */
static void inner_clash(ShapeCtx *S, IrNode *n, const IrType *a, const IrType *b, Dim da, Dim db) {
  const char *sym = n->op == IR_MATMUL ? "@" : "and";
  sh_error(S, n->loc, "%s: inner dimensions differ: %s %s %s (%s)", ir_op_name(n->op), sh_tstr(a), sym,
           sh_tstr(b), sh_clash(da, db));
  sh_note_operand(S, n, 0, "left operand");
  sh_note_operand(S, n, 1, "right operand");
  sh_poison(n);
}

void shape_matmul(ShapeCtx *S, IrNode *n) {
  IrType a = sh_type(S, n->args[0]), b = sh_type(S, n->args[1]);
  if (a.rank == 0 || b.rank == 0) {
    sh_error(S, n->loc, "matmul: operands must have at least one dimension, but the %s operand is a scalar (%s)",
             a.rank == 0 ? "left" : "right", sh_tstr(a.rank == 0 ? &a : &b));
    sh_note_operand(S, n, a.rank == 0 ? 0 : 1, a.rank == 0 ? "left operand" : "right operand");
    sh_poison(n);
    return;
  }
  Dim ka = a.dims[a.rank - 1], kb = b.dims[b.rank >= 2 ? b.rank - 2 : 0];
  if (!sh_unify(S, ka, kb)) {
    inner_clash(S, n, &a, &b, ka, kb);
    return;
  }
  /* batch dims: everything before the last two, broadcast */
  int ba = a.rank > 2 ? a.rank - 2 : 0, bb = b.rank > 2 ? b.rank - 2 : 0;
  int br = ba > bb ? ba : bb;
  Dim dims[IR_MAX_RANK + 2];
  for (int i = 1; i <= br; i++) {
    Dim x = i <= ba ? sh_resolve(S, a.dims[ba - i]) : dim_const(1);
    Dim y = i <= bb ? sh_resolve(S, b.dims[bb - i]) : dim_const(1);
    int64_t c;
    Dim r;
    if (dim_is_const(x, &c) && c == 1)
      r = y;
    else if (dim_is_const(y, &c) && c == 1)
      r = x;
    else if (sh_unify(S, x, y))
      r = sh_resolve(S, x);
    else {
      sh_error(S, n->loc, "matmul: batch dimensions cannot be broadcast: %s @ %s (%s)", sh_tstr(&a), sh_tstr(&b),
               sh_clash(x, y));
      sh_note_operand(S, n, 0, "left operand");
      sh_note_operand(S, n, 1, "right operand");
      sh_poison(n);
      return;
    }
    dims[br - i] = r;
  }
  int r = br;
  if (a.rank >= 2)
    dims[r++] = a.dims[a.rank - 2];
  if (b.rank >= 2)
    dims[r++] = b.dims[b.rank - 1];
  Device dev;
  if (!devices(S, n, &dev))
    return;
  for (int i = 0; i < r; i++)
    dims[i] = sh_resolve(S, dims[i]);
  sh_set(n, promoted(S, n), r, dims, dev);
}

void shape_dot(ShapeCtx *S, IrNode *n) {
  IrType a = sh_type(S, n->args[0]), b = sh_type(S, n->args[1]);
  Device dev;
  if (!devices(S, n, &dev))
    return;
  DType dt = promoted(S, n);
  if (a.rank == 0 || b.rank == 0) { /* a scalar multiplies */
    IrType *t = a.rank == 0 ? &b : &a;
    sh_set(n, dt, t->rank, t->dims, dev);
    return;
  }
  Dim ka = a.dims[a.rank - 1], kb = b.dims[b.rank >= 2 ? b.rank - 2 : 0];
  if (!sh_unify(S, ka, kb)) {
    inner_clash(S, n, &a, &b, ka, kb);
    return;
  }
  int rank = a.rank - 1 + b.rank - 1;
  if (!sh_check_rank(S, n, rank)) {
    sh_poison(n);
    return;
  }
  Dim dims[IR_MAX_RANK];
  int r = 0;
  for (int i = 0; i < a.rank - 1; i++)
    dims[r++] = sh_resolve(S, a.dims[i]);
  for (int i = 0; i < b.rank - 2; i++)
    dims[r++] = sh_resolve(S, b.dims[i]);
  if (b.rank >= 2)
    dims[r++] = sh_resolve(S, b.dims[b.rank - 1]);
  sh_set(n, dt, r, dims, dev);
}

static Dim size_of(const IrType *t) {
  Dim s = dim_const(1);
  for (int i = 0; i < t->rank; i++)
    s = dim_mul(s, t->dims[i]);
  return s;
}

void shape_outer(ShapeCtx *S, IrNode *n) {
  IrType a = sh_type(S, n->args[0]), b = sh_type(S, n->args[1]);
  Device dev;
  if (!devices(S, n, &dev))
    return;
  Dim dims[2] = {size_of(&a), size_of(&b)};
  sh_set(n, promoted(S, n), 2, dims, dev);
}
