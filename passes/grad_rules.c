/* passes/grad_rules.c - gradient rules of the elementwise ops.
 *
 * One rule per GRAD_RULE name of ir/ops.def (see autodiff_internal.h for
 * the contract).  g is the adjoint of n; x, a, b are n's operands.  The
 * products below broadcast like the forward op; ad_acc sums them back to
 * each operand's shape.
 */
#include "autodiff_internal.h"

#define A(i) (n->args[i])
#define K(v) ad_fconst(C, (v))
#define MUL(p, q) ad_bin(C, IR_MUL, (p), (q))
#define DIV(p, q) ad_bin(C, IR_DIV, (p), (q))
#define ADD(p, q) ad_bin(C, IR_ADD, (p), (q))
#define SUB(p, q) ad_bin(C, IR_SUB, (p), (q))

/* ---- one operand ---- */

void grad_neg(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, ad_un(C, IR_NEG, g)); }
void grad_abs(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, MUL(g, ad_un(C, IR_SIGN, A(0)))); }
void grad_zero(AdCtx *C, IrNode *n, IrNode *g) { (void)C, (void)n, (void)g; } /* sign, floor, //: flat */
void grad_exp(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, MUL(g, n)); }
void grad_log(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, DIV(g, A(0))); }
void grad_log1p(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, DIV(g, ADD(A(0), K(1)))); }
void grad_expm1(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, MUL(g, ADD(n, K(1)))); }
void grad_sqrt(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, DIV(g, MUL(n, K(2)))); }
/* d x^-1/2 = -1/2 x^-3/2 = -1/2 rsqrt(x) / x */
void grad_rsqrt(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, DIV(MUL(g, MUL(n, K(-0.5))), A(0))); }
void grad_sin(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, MUL(g, ad_un(C, IR_COS, A(0)))); }
void grad_cos(AdCtx *C, IrNode *n, IrNode *g) {
  ad_acc(C, n, 0, ad_un(C, IR_NEG, MUL(g, ad_un(C, IR_SIN, A(0)))));
}
void grad_tan(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, MUL(g, ADD(MUL(n, n), K(1)))); }
void grad_tanh(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, MUL(g, SUB(K(1), MUL(n, n)))); }
void grad_sigmoid(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, MUL(g, MUL(n, SUB(K(1), n)))); }
/* the mask x > 0: the subgradient at 0 is 0, as in PyTorch */
void grad_relu(AdCtx *C, IrNode *n, IrNode *g) {
  ad_acc(C, n, 0, ad_where(C, ad_bin(C, IR_GT, A(0), K(0)), g, K(0)));
}
/* d/dx x*Phi(x) = Phi(x) + x*phi(x), Phi(x) = (1 + erf(x/sqrt 2))/2 */
void grad_gelu(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *x = A(0);
  IrNode *cdf = MUL(ADD(ad_un(C, IR_ERF, MUL(x, K(0.70710678118654752440))), K(1)), K(0.5));
  IrNode *pdf = MUL(ad_un(C, IR_EXP, MUL(MUL(x, x), K(-0.5))), K(0.39894228040143267794));
  ad_acc(C, n, 0, MUL(g, ADD(cdf, MUL(x, pdf))));
}
/* d erf(x) = 2/sqrt(pi) exp(-x^2) */
void grad_erf(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *x = A(0);
  ad_acc(C, n, 0, MUL(g, MUL(ad_un(C, IR_EXP, ad_un(C, IR_NEG, MUL(x, x))), K(1.12837916709551257390))));
}
void grad_softplus(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, MUL(g, ad_un(C, IR_SIGMOID, A(0)))); }
/* float -> float: cast back (ad_acc casts to the operand's dtype) */
void grad_cast(AdCtx *C, IrNode *n, IrNode *g) {
  if (ir_dtype_is_float(A(0)->type.dtype) && ir_dtype_is_float(n->type.dtype))
    ad_acc(C, n, 0, g);
}
void grad_stop(AdCtx *C, IrNode *n, IrNode *g) { (void)C, (void)n, (void)g; } /* detach */
void grad_to_device(AdCtx *C, IrNode *n, IrNode *g) {
  Device from = A(0)->type.device;
  if (from != DEV_DEFAULT && from != n->type.device) { /* moved back */
    g = ad_un(C, IR_TO_DEVICE, g);
    g->at.device = from;
  }
  ad_acc(C, n, 0, g);
}
void grad_copy(AdCtx *C, IrNode *n, IrNode *g) { ad_acc(C, n, 0, g); } /* copy, check_type */

/* ---- two or three operands ---- */

void grad_add(AdCtx *C, IrNode *n, IrNode *g) {
  ad_acc(C, n, 0, g);
  ad_acc(C, n, 1, g);
}

void grad_sub(AdCtx *C, IrNode *n, IrNode *g) {
  ad_acc(C, n, 0, g);
  if (ad_wants(C, A(1)))
    ad_acc(C, n, 1, ad_un(C, IR_NEG, g));
}

void grad_mul(AdCtx *C, IrNode *n, IrNode *g) {
  if (ad_wants(C, A(0)))
    ad_acc(C, n, 0, MUL(g, A(1)));
  if (ad_wants(C, A(1)))
    ad_acc(C, n, 1, MUL(g, A(0)));
}

/* d(a/b)/db = -(a/b)/b */
void grad_div(AdCtx *C, IrNode *n, IrNode *g) {
  if (ad_wants(C, A(0)))
    ad_acc(C, n, 0, DIV(g, A(1)));
  if (ad_wants(C, A(1)))
    ad_acc(C, n, 1, ad_un(C, IR_NEG, DIV(MUL(g, n), A(1))));
}

/* a - b*floor(a/b): 1 and -floor(a/b) */
void grad_mod(AdCtx *C, IrNode *n, IrNode *g) {
  ad_acc(C, n, 0, g);
  if (ad_wants(C, A(1)))
    ad_acc(C, n, 1, ad_un(C, IR_NEG, MUL(g, ad_un(C, IR_FLOOR, DIV(A(0), A(1))))));
}

/* b a^(b-1) and a^b log a */
void grad_pow(AdCtx *C, IrNode *n, IrNode *g) {
  if (ad_wants(C, A(0)))
    ad_acc(C, n, 0, MUL(g, MUL(A(1), ad_bin(C, IR_POW, A(0), SUB(A(1), K(1))))));
  if (ad_wants(C, A(1)))
    ad_acc(C, n, 1, MUL(g, MUL(n, ad_un(C, IR_LOG, A(0)))));
}

/* to the larger (smaller); ties split half and half, as PyTorch */
static void maxmin(AdCtx *C, IrNode *n, IrNode *g, IrOp wins) {
  IrNode *w =
      ad_where(C, ad_bin(C, wins, A(0), A(1)), K(1), ad_where(C, ad_bin(C, IR_EQ, A(0), A(1)), K(0.5), K(0)));
  if (ad_wants(C, A(0)))
    ad_acc(C, n, 0, MUL(g, w));
  if (ad_wants(C, A(1)))
    ad_acc(C, n, 1, MUL(g, SUB(K(1), w)));
}
void grad_maximum(AdCtx *C, IrNode *n, IrNode *g) { maxmin(C, n, g, IR_GT); }
void grad_minimum(AdCtx *C, IrNode *n, IrNode *g) { maxmin(C, n, g, IR_LT); }

/* where(c, a, b): to the chosen side */
void grad_where(AdCtx *C, IrNode *n, IrNode *g) {
  if (ad_wants(C, A(1)))
    ad_acc(C, n, 1, ad_where(C, A(0), g, K(0)));
  if (ad_wants(C, A(2)))
    ad_acc(C, n, 2, ad_where(C, A(0), K(0), g));
}

/* clip(x, lo, hi) = min(max(x, lo), hi) */
void grad_clip(AdCtx *C, IrNode *n, IrNode *g) {
  IrNode *x = A(0), *lo = A(1), *hi = A(2);
  if (ad_wants(C, x)) {
    IrNode *in = ad_bin(C, IR_AND, ad_bin(C, IR_GE, x, lo), ad_bin(C, IR_LE, x, hi));
    ad_acc(C, n, 0, ad_where(C, in, g, K(0)));
  }
  if (ad_wants(C, lo))
    ad_acc(C, n, 1,
           ad_where(C, ad_bin(C, IR_AND, ad_bin(C, IR_LT, x, lo), ad_bin(C, IR_LE, lo, hi)), g, K(0)));
  if (ad_wants(C, hi))
    ad_acc(C, n, 2,
           ad_where(C, ad_bin(C, IR_OR, ad_bin(C, IR_GT, x, hi), ad_bin(C, IR_GT, lo, hi)), g, K(0)));
}
