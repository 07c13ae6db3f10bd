/* passes/lower_sizes.c - run-time checks of sizes given by values (issue 13
 * items 2 and 16): zeros(n), rand(n, m), arange(a, b), eye(n),
 * linspace(a, b, n), reshape(x, n, -1), broadcast_to(x, n, m) with sizes
 * known only while running.
 *
 * Before anything is allocated or looped over, the lowering writes into
 * the kernel IR, at the op's place and with its .tc location:
 *   1. each size that is not a constant is not negative ("size -1 is
 *      negative", NumPy's "negative dimensions are not allowed");
 *   2. the tensor's byte count, computed in f64 so that it cannot wrap
 *      around (products of dims exact up to 2^53, and no rounding can
 *      bring a larger one back under the limit), is at most
 *      IR_MAX_TENSOR_BYTES (NumPy's "array is too big").
 * Constant shapes were checked by the shape pass; shapes made of an
 * operand's dims (elementwise results, matmul, cat) come from tensors that
 * exist, so only ops that turn values into sizes are checked here.
 */
#include "lower_internal.h"

#include <stdio.h>
#include <string.h>

/* The ops whose result dims may come from integer values rather than
 * from a tensor operand's dims. */
static bool sizes_from_values(IrNode *n) {
  switch (n->op) {
  case IR_FULL:
  case IR_RAND:
  case IR_RANDN: return !n->at.like; /* rand(x.shape) has x's dims */
  case IR_ARANGE:
  case IR_LINSPACE:
  case IR_EYE:
  case IR_RANDINT:
  case IR_RESHAPE:
  case IR_BROADCAST_TO: return true;
  default: return false;
  }
}

static bool is_const(Dim d) { return dim_is_const(d, NULL); }

void lw_check_sizes(LCtx *C, IrNode *n) {
  const IrType *t = &n->type;
  if (!sizes_from_values(n) || t->kind != TY_TENSOR)
    return;
  bool all_known = true;
  for (int i = 0; i < t->rank; i++) {
    Dim d = t->dims[i];
    if (is_const(d))
      continue;
    if (!lw_dim_known(C, d)) { /* reshape's -1, set from the other sizes */
      all_known = false;
      continue;
    }
    KExpr *v = k_dim(d);
    lw_check_values(C, k_op2(IR_GE, DT_BOOL, v, k_int(0)), n->loc, "size %lld is negative", 1, &v);
  }
  if (!all_known)
    return;
  /* 2. "f32[%lld, 3]": the constants written in, the others as values */
  char fmt[256];
  size_t len = (size_t)snprintf(fmt, sizeof fmt, "%s[", ir_dtype_name(t->dtype));
  KExpr *values[IR_MAX_RANK];
  int nvalues = 0;
  KExpr *bytes = k_const(DT_F64, ir_dtype_size(t->dtype));
  for (int i = 0; i < t->rank && len < sizeof fmt; i++) {
    int64_t c;
    if (dim_is_const(t->dims[i], &c)) {
      len += (size_t)snprintf(fmt + len, sizeof fmt - len, "%s%lld", i ? ", " : "", (long long)c);
    } else {
      len += (size_t)snprintf(fmt + len, sizeof fmt - len, "%s%%lld", i ? ", " : "");
      values[nvalues++] = k_dim(t->dims[i]);
    }
    bytes = k_op2(IR_MUL, DT_F64, bytes, k_cast(k_dim(t->dims[i]), DT_F64));
  }
  if (nvalues == 0 || len >= sizeof fmt)
    return;
  lw_check_values(C, k_op2(IR_LE, DT_BOOL, bytes, k_const(DT_F64, (double)IR_MAX_TENSOR_BYTES)), n->loc,
                  ir_sprintf("%s] needs more than the %lld bytes (2^48, 256 TiB) a tensor may hold", fmt,
                             (long long)IR_MAX_TENSOR_BYTES),
                  nvalues, values);
}
