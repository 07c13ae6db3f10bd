/* passes/blas_epilogue.c - a matmul's bias and activation folded into its
 * library call (cuBLASLt's epilogues), on targets that have them.
 *
 * On the GPU (Target.epilogue_rows 0) a matmul fused with its epilogue is
 * lowered as one call and one kernel that rewrites the product in place:
 *   call matmul %x, %W, %y, 1, M, N, K, 0, 0, M*N
 *   kernel %y[i0, i1] = relu(add(load %y[i0, i1], load %b[i1]))  for i0 < M, i1 < N
 * When the kernel computes exactly act(y + bias[col]) - bias a vector of
 * f32 indexed by the column, act none, relu or the tanh form of gelu - the
 * call can compute it itself, and the kernel goes:
 *   call matmul.bias_relu %x, %W, %y, %b, 1, M, N, K, 0, 0, M*N
 * (KStmt.epilogue, the bias as the call's fourth buffer).  The runtime runs
 * it as one cublasLtMatmul, or as the plain product and the prelude's
 * epilogue kernel where cuBLASLt is not there (runtime/cublaslt.c).
 *
 * The kernel must be the statement right after the call, store into the
 * call's output at every point (its loops the output's two dims, stored at
 * [i0, i1]) and read the output only at the point it stores: then nothing
 * reads the plain product but the kernel, and everything after the kernel
 * reads what the folded call writes.  A bias kernel followed by an
 * activation kernel (`y = x @ W + b` read once more by a long gelu
 * expression) folds in two steps.  Only f32, unbatched, no block offsets:
 * what cuBLASLt's epilogues take.  The tanh form of gelu is matched in one
 * spelling, 0.5 * y * (1 + tanh(0.7978845608 * (y + 0.044715 * y * y * y)))
 * up to the order of the factors; the language's gelu is the exact erf
 * form, which cuBLASLt has no epilogue for, so it never folds.
 *
 * KStmt.folded counts the kernels a call absorbed, so that kernel numbers
 * (ir/kernel_name.c) stay those of the CPU, where nothing folds.
 *
 * Requires: memplan (the in-place kernel is final).  Preserves: values.
 */
#include "passes.h"

#include "ir/kernel.h"
#include "ir/target.h"

#include <math.h>

/* ---- the kernel's value ---- */

typedef struct Epi {
  int flags; /* KE_* */
  int bias;  /* the bias buffer (KE_BIAS) */
} Epi;

/* A load of the call's output at the kernel's store point. */
static bool is_product(const KExpr *e, const KStmt *k) {
  return e->kind == KX_LOAD && e->buf == k->buf && k_load_at_store(e, k);
}

/* A float constant near v: the lowering writes a literal as a cast of
 * the f64 constant to the kernel's dtype (`f32(0.5)`). */
static bool is_const(const KExpr *e, double v) {
  if (e->kind == KX_CAST && ir_dtype_is_float(e->dtype))
    e = e->args[0];
  return e->kind == KX_CONST && ir_dtype_is_float(e->dtype) && fabs(e->fval - v) <= 1e-6 * fabs(v);
}

/* The factors of a product tree mul(mul(a, b), c), into v (at most max). */
static int factors(const KExpr *e, const KExpr **v, int n, int max) {
  if (e->kind == KX_OP && e->op == IR_MUL) {
    n = factors(e->args[0], v, n, max);
    return factors(e->args[1], v, n, max);
  }
  if (n < max)
    v[n] = e;
  return n + 1;
}

/* e is c * y * ... (nprod loads of the product, one constant c, and one
 * further factor returned in *rest when rest is not NULL), in any order. */
static bool product_of(const KExpr *e, const KStmt *k, double c, int nprod, const KExpr **rest) {
  const KExpr *v[6];
  int n = factors(e, v, 0, 6), want = 1 + nprod + (rest != NULL), seen_c = 0, seen_y = 0, seen_rest = 0;
  if (n != want)
    return false;
  for (int i = 0; i < n; i++) {
    if (!seen_c && is_const(v[i], c))
      seen_c = 1;
    else if (is_product(v[i], k))
      seen_y++;
    else if (rest && !seen_rest)
      *rest = v[i], seen_rest = 1;
    else
      return false;
  }
  return seen_c && seen_y == nprod;
}

/* add(a, b) with one operand matching `is_a` and the other returned. */
static const KExpr *add_with(const KExpr *e, bool (*is_a)(const KExpr *, const KStmt *), const KStmt *k) {
  if (e->kind != KX_OP || e->op != IR_ADD)
    return NULL;
  if (is_a(e->args[0], k))
    return e->args[1];
  if (is_a(e->args[1], k))
    return e->args[0];
  return NULL;
}

static bool is_one(const KExpr *e, const KStmt *k) { return (void)k, is_const(e, 1.0); }

/* gelu's tanh form of the product:
 * 0.5 * y * (1 + tanh(sqrt(2/pi) * (y + 0.044715 * y * y * y))). */
static bool is_gelu_tanh(const KExpr *e, const KStmt *k) {
  const KExpr *paren = NULL, *arg = NULL, *sum;
  if (!product_of(e, k, 0.5, 1, &paren))
    return false;
  const KExpr *th = add_with(paren, is_one, k);
  if (!th || th->kind != KX_OP || th->op != IR_TANH || !product_of(th->args[0], k, 0.7978845608028654, 0, &arg))
    return false;
  if (!(sum = add_with(arg, is_product, k)))
    return false;
  return product_of(sum, k, 0.044715, 3, NULL);
}

/* The bias: a load of a rank-1 f32 buffer of the output's columns (not
 * the output itself) at the kernel's column variable. */
static int bias_of(KFunc *f, const KStmt *k, const KExpr *e) {
  if (e->kind != KX_LOAD || e->linear || e->nargs != 1 || e->buf == k->buf)
    return -1;
  KBuf *b = k_buf(f, e->buf), *out = k_buf(f, k->buf);
  const KExpr *i = e->args[0];
  if (b->rank != 1 || b->dtype != DT_F32 || !dim_eq(b->dims[0], out->dims[1]) || i->kind != KX_VAR ||
      i->var != k->loopvar[1])
    return -1;
  return e->buf;
}

/* What kernel k computes of the product, or flags 0: act(y + bias) or act(y). */
static Epi match_value(KFunc *f, const KStmt *k) {
  Epi none = {0, -1}, r = {0, -1};
  const KExpr *e = k->value, *inner = e;
  if (e->kind == KX_OP && e->op == IR_RELU && e->nargs == 1) {
    r.flags = KE_RELU;
    inner = e->args[0];
  } else if (is_gelu_tanh(e, k)) {
    return (Epi){KE_GELU_TANH, -1};
  }
  if (is_product(inner, k))
    return r.flags ? r : none;
  if (inner->kind != KX_OP || inner->op != IR_ADD || inner->nargs != 2)
    return none;
  for (int i = 0; i < 2; i++) {
    if (is_product(inner->args[i], k) && (r.bias = bias_of(f, k, inner->args[1 - i])) >= 0) {
      r.flags |= KE_BIAS;
      return r;
    }
  }
  return none;
}

/* ---- the statements ---- */

static bool is_const_int(const KExpr *e, int64_t v) { return e->kind == KX_CONST && e->ival == v; }

/* A call that can take an epilogue: an unbatched f32 matmul on whole
 * matrices whose epilogue has no activation yet. */
static bool foldable_call(KFunc *f, const KStmt *s) {
  if (s->kind != KS_CALL || s->call != KC_MATMUL || s->nexprs != 7 || !is_const_int(s->exprs[0], 1))
    return false;
  KBuf *out = k_buf(f, s->bufs[2]);
  return out->dtype == DT_F32 && out->rank == 2 && !(s->epilogue & (KE_RELU | KE_GELU_TANH));
}

/* Kernel k rewrites the output of call c at every point, elementwise. */
static bool whole_in_place(KFunc *f, const KStmt *c, const KStmt *k) {
  if (k->kind != KS_KERNEL || k->buf != c->bufs[2] || k->nred || k->nloops != 2 || k->store_linear || k->finalize)
    return false;
  KBuf *out = k_buf(f, k->buf);
  return k_store_flat(f, k) && dim_eq(k->extent[0], out->dims[0]) && dim_eq(k->extent[1], out->dims[1]) &&
         k_loads_at_store(k->value, k->buf, k);
}

static void fold_list(KFunc *f, KList *l) {
  int n = 0;
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    fold_list(f, &s->body);
    fold_list(f, &s->orelse);
    KStmt *c = n ? l->v[n - 1] : NULL;
    Epi e = {0, -1};
    if (c && foldable_call(f, c) && whole_in_place(f, c, s))
      e = match_value(f, s);
    if (e.flags && !((e.flags & KE_BIAS) && (c->epilogue & KE_BIAS))) {
      if (e.flags & KE_BIAS) {
        int *bufs = ir_alloc(4 * sizeof(int));
        for (int b = 0; b < 3; b++)
          bufs[b] = c->bufs[b];
        bufs[3] = e.bias;
        c->bufs = bufs;
        c->nbufs = 4;
      }
      c->epilogue |= e.flags;
      c->folded++;
      continue; /* the kernel goes */
    }
    l->v[n++] = s;
  }
  l->n = n;
}

bool pass_blas_epilogue(KModule *m) {
  if (!m->target->blas_epilogues)
    return true;
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    fold_list(f, &f->body);
  }
  return true;
}
