/* passes/lower_arith.c - the run-time checks of integer arithmetic.
 *
 * Two rules of NumPy's integer arithmetic need a look at the values:
 *  - a // b and a % b give 0 where b is 0 (passes/legalize.c spells the
 *    rule out), and NumPy says so once: "RuntimeWarning: divide by zero
 *    encountered in floor_divide".  So does tensorc: a `check.warn`
 *    before the kernel that divides prints "FILE:LINE:COL: warning: divide
 *    by zero encountered in floor_divide" (or "remainder") once a run
 *    when b holds a zero, and the program goes on;
 *  - a ** b with a negative b is NumPy's ValueError "Integers to negative
 *    integer powers are not allowed": a `check` before the kernel, a
 *    run-time error naming the exponent.
 * A scalar operand is tested as it is; a tensor one by a small reduction
 * kernel over its own elements (not the broadcast result's), any(b == 0)
 * or min(b), which runs wherever the schedule puts it (on the GPU too:
 * the placement pass copies its one-element result back for the host's
 * check, as for a gather's index check).  A constant operand needs no
 * check: a zero divisor or a negative exponent is a compile error
 * (passes/simplify.c), anything else is fine.  Float division by zero
 * stays IEEE's (inf, nan) without a warning (docs/language.md).
 */
#include "lower_internal.h"

#include <stdint.h>

/* Whether n's check was emitted already: an inlined op is lowered again
 * at each of its uses. */
static bool seen(LCtx *C, IrNode *n) {
  for (int i = 0; i < C->arith_checked.n; i++)
    if (C->arith_checked.v[i] == n)
      return true;
  ir_vec_push(&C->arith_checked, n);
  return false;
}

/* The reduction `combine` (ANY, MIN) of value(b's element) over b's
 * elements, as a scalar expression: the element itself for a scalar b,
 * else a load of the one-element buffer a kernel computes it into.
 * value's arg is the DType the element is taken in. */
static KExpr *over_elements(LCtx *C, IrNode *n, IrNode *b, IrOp combine, DType rdt, const char *name,
                            KExpr *(*value)(KExpr *, const void *), DType dt) {
  LVal *lv = lw_val(C, b);
  if (lv->scalar)
    return value(lv->scalar, &dt);
  return k_load(lw_reduce_elements(C, n, b, name, rdt, combine, value, &dt), rdt, 0, NULL);
}

static KExpr *is_zero(KExpr *x, const void *dtp) {
  DType dt = *(const DType *)dtp;
  return k_op2(IR_EQ, DT_BOOL, k_cast(x, dt), k_const(dt, 0));
}
static KExpr *as_i64(KExpr *x, const void *dtp) { return (void)dtp, k_cast(x, DT_I64); }

static void emit(LCtx *C, IrNode *n, IrNode *b) {
  DType dt = n->type.dtype;
  if (n->op == IR_POW) {
    KExpr *least = over_elements(C, n, b, IR_MIN, DT_I64, "least_exponent", as_i64, dt);
    lw_check_values(C, k_op2(IR_GE, DT_BOOL, least, k_int(0)), n->loc,
                    "integers to negative integer powers are not allowed: found the exponent %lld", 1, &least);
    return;
  }
  KExpr *zero = over_elements(C, n, b, IR_ANY, DT_BOOL, "zero_divisor", is_zero, dt);
  lw_warn(C, k_op(IR_NOT, DT_BOOL, 1, &zero), n->loc,
          n->op == IR_FLOORDIV ? "divide by zero encountered in floor_divide" : "divide by zero encountered in remainder");
}

void lw_check_int_arith(LCtx *C, IrNode *n) {
  IrNode *b = n->args[1];
  if (b->op == IR_CONST || seen(C, n))
    return;
  if (!C->allocs) {
    emit(C, n, b);
    return;
  }
  /* In a stage of a row kernel being built: the check goes before its
   * loop, where an operand computed before the row kernel is known.  One
   * the row kernel itself computes (a stage of it, or inlined into it) is
   * not checked: a gap, for a rare program (docs/language.md). */
  LVal *lv = lw_val(C, b);
  if (!lv->scalar && (lv->deferred || lv->pending || (b->fuse == IR_FUSE_ROW && b->group == n->group)))
    return;
  KList *out = C->out, *allocs = C->allocs;
  int nrow = C->nrow;
  C->out = allocs, C->allocs = NULL, C->nrow = 0;
  emit(C, n, b);
  C->out = out, C->allocs = allocs, C->nrow = nrow;
}
