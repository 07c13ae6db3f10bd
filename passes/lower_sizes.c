/* passes/lower_sizes.c - run-time checks of sizes (issue 13 items 2 and
 * 16): zeros(n), rand(n, m), arange(a, b), eye(n), linspace(a, b, n),
 * reshape(x, n, -1), broadcast_to(x, n, m) with sizes known only while
 * running, and buffers larger than every operand (x[:, None] + y, x @ y).
 *
 * Before anything is allocated or looped over, the lowering writes into
 * the kernel IR, at the op's place and with its .tc location:
 *   1. each size that is not a constant is not negative ("size -1 is
 *      negative", NumPy's "negative dimensions are not allowed");
 *   2. the tensor's byte count, computed in f64 so that it cannot wrap
 *      around (products of dims exact up to 2^53, and no rounding can
 *      bring a larger one back under the limit), is at most
 *      IR_MAX_TENSOR_BYTES (NumPy's "array is too big").
 * Constant shapes were checked by the shape pass.  Any other op's buffer
 * gets check 2 when its element count is not a divisor of an operand's
 * (a broadcast or outer product, matmul, cat, a gather): its dims come
 * from tensors that exist, but their product may still wrap around
 * (zeros(n)[:, None] + ones(m) with n = m = 2^31 is 2^64 bytes).  A result
 * no larger than an operand (elementwise, reductions, transposes) needs
 * no check.
 *
 * A check whose condition is all integer constants is decided here
 * (lw_always_true): a constant slice `e[1:]` of a constant size writes its
 * length as the slice's clamping arithmetic on constants, which holds.
 */
#include "lower_internal.h"

#include <stdio.h>

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

/* 2. the byte count of n's type within the limit (nothing when a dim has
 * no run-time value yet).  The message writes the constants in and the
 * others as values: "f32[%lld, 3] needs more than ...". */
static void check_bytes(LCtx *C, IrNode *n) {
  const IrType *t = &n->type;
  char fmt[256];
  size_t len = (size_t)snprintf(fmt, sizeof fmt, "%s[", ir_dtype_name(t->dtype));
  KExpr *values[IR_MAX_RANK];
  int nvalues = 0;
  KExpr *bytes = k_const(DT_F64, ir_dtype_size(t->dtype));
  for (int i = 0; i < t->rank && len < sizeof fmt; i++) {
    int64_t c;
    if (dim_is_const(t->dims[i], &c)) {
      len += (size_t)snprintf(fmt + len, sizeof fmt - len, "%s%lld", i ? ", " : "", (long long)c);
    } else if (lw_dim_known(C, t->dims[i])) {
      len += (size_t)snprintf(fmt + len, sizeof fmt - len, "%s%%lld", i ? ", " : "");
      values[nvalues++] = k_dim(t->dims[i]);
    } else {
      return;
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

void lw_check_sizes(LCtx *C, IrNode *n) {
  const IrType *t = &n->type;
  if (!sizes_from_values(n) || t->kind != TY_TENSOR)
    return;
  /* 1. */
  for (int i = 0; i < t->rank; i++) {
    Dim d = t->dims[i];
    if (is_const(d) || !lw_dim_known(C, d)) /* reshape's -1 is set from the others */
      continue;
    KExpr *v = k_dim(d);
    lw_check_values(C, k_op2(IR_GE, DT_BOOL, v, k_int(0)), n->loc, "size %lld is negative", 1, &v);
  }
  check_bytes(C, n);
}

static Dim numel(const IrType *t) {
  Dim p = dim_const(1);
  for (int i = 0; i < t->rank; i++)
    p = dim_mul(p, t->dims[i]);
  return p;
}

void lw_check_alloc(LCtx *C, IrNode *n) {
  if (sizes_from_values(n) || n->type.kind != TY_TENSOR)
    return; /* checked by lw_check_sizes */
  Dim total = numel(&n->type), q;
  if (is_const(total))
    return;
  for (int i = 0; i < n->nargs && !total.overflow; i++) {
    const IrType *a = &n->args[i]->type;
    if (a->kind == TY_TENSOR && a->rank > 0 && dim_div_exact(numel(a), total, &q))
      return; /* no larger than an operand, which exists */
  }
  check_bytes(C, n);
}

/* ===== checks decided at compile time ===== */

static int64_t floordiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* e's value when it is integer (or bool) arithmetic on constants, without
 * overflow. */
static bool fold_int(const KExpr *e, int64_t *v) {
  if (ir_dtype_is_float(e->dtype))
    return false;
  if (e->kind == KX_CONST) {
    *v = e->ival;
    return true;
  }
  if (e->kind == KX_CAST)
    return !ir_dtype_is_float(e->args[0]->dtype) && e->dtype == DT_I64 && fold_int(e->args[0], v);
  if (e->kind != KX_OP || e->nargs < 2 || e->nargs > 3)
    return false;
  int64_t a[3];
  for (int i = 0; i < e->nargs; i++)
    if (!fold_int(e->args[i], &a[i]))
      return false;
  switch (e->op) {
  case IR_ADD: return !__builtin_add_overflow(a[0], a[1], v);
  case IR_SUB: return !__builtin_sub_overflow(a[0], a[1], v);
  case IR_MUL: return !__builtin_mul_overflow(a[0], a[1], v);
  case IR_FLOORDIV:
    if (a[1] == 0 || (a[0] == INT64_MIN && a[1] == -1))
      return false;
    *v = floordiv(a[0], a[1]);
    return true;
  case IR_MAXIMUM: *v = a[0] > a[1] ? a[0] : a[1]; return true;
  case IR_MINIMUM: *v = a[0] < a[1] ? a[0] : a[1]; return true;
  case IR_LT: *v = a[0] < a[1]; return true;
  case IR_LE: *v = a[0] <= a[1]; return true;
  case IR_GT: *v = a[0] > a[1]; return true;
  case IR_GE: *v = a[0] >= a[1]; return true;
  case IR_EQ: *v = a[0] == a[1]; return true;
  case IR_NE: *v = a[0] != a[1]; return true;
  case IR_AND: *v = a[0] && a[1]; return true;
  case IR_WHERE: *v = a[0] ? a[1] : a[2]; return true;
  default: return false;
  }
}

bool lw_always_true(const KExpr *cond) {
  int64_t v;
  return fold_int(cond, &v) && v;
}
