/* codegen/cuda_expr.c - kernel IR scalar expressions as CUDA C.
 *
 * A KExpr tree becomes a sequence of SSA-style locals, one per operation,
 * written before the statement that needs the value:
 *
 *     const float v1 = b8_x[i0 * 64 + i1];
 *     const float v2 = b10_b[i1];
 *     const float v3 = v1 + v2;
 *
 * and cg_cuda_expr returns the operand naming the value ("v3"); leaves
 * (constants, loop variables, symbols) are operands as they are.  The
 * legalize pass has written NumPy's semantics as the primitive ops of
 * ir/kernel.h, so each op is one C operator or math function: IEEE
 * arithmetic in the value's type (the emulator compiles with
 * -ffp-contract=off and NVRTC runs with --fmad=false, so a*b+c rounds
 * twice as on the CPU); integer add, sub, mul and neg wrap through the
 * prelude's tc_add_i32... (C's signed overflow is undefined, NumPy's
 * wraps); comparisons are C's, which are ordered except != (true with a
 * NaN), as ir/kernel.h asks; where evaluates both sides, as the CPU's
 * select does.  A bool is an int 0/1 as a value and an unsigned char in
 * memory.  A KX_LET's value becomes a local `const T tN` the first time
 * its variable is used (so a binding never used costs nothing and leaves
 * no unused local), named after the let-variable so the text matches the
 * kernel IR's `(tN = ...; ...)` in the comment above the kernel.
 * Constants are exact: hex float literals, and inf and NaN by their bits.
 * A load the kernel has read already in another form (Cu.subst_load: a
 * lane of a 128-bit load, an element of a shared-memory tile) is that
 * text instead of a global read; the rest of the code is the same.
 */
#include "cuda_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

static const Loc nowhere = {0};

void cg_cuda_line(Cu *C, const char *fmt, ...) {
  for (int i = 0; i < C->depth; i++)
    fputs("  ", C->o);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(C->o, fmt, ap);
  va_end(ap);
  fputc('\n', C->o);
}

void cg_cuda_close(Cu *C) {
  C->depth--;
  cg_cuda_line(C, "}");
}

/* ---- types and names ---- */

const char *cg_cuda_type(DType dt) {
  switch (dt) {
  case DT_BOOL: return "int";
  case DT_I32: return "int";
  case DT_I64: return "long long";
  case DT_F32: return "float";
  case DT_F64: return "double";
  default: ir_die(nowhere, "cuda: a value of dtype %s", ir_dtype_name(dt));
  }
}

const char *cg_cuda_mem_type(DType dt) { return dt == DT_BOOL ? "unsigned char" : cg_cuda_type(dt); }

/* A suffix made of the identifier characters of s ("grad(loss, W1)" ->
 * "grad_loss_W1"), empty when there are none. */
static const char *ident(const char *s) {
  size_t n = s ? strlen(s) : 0;
  char *out = ir_alloc(n + 2), *p = out;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c))
      *p++ = (char)c;
    else if (p > out && p[-1] != '_')
      *p++ = '_';
  }
  while (p > out && p[-1] == '_')
    p--;
  *p = 0;
  return out;
}

/* The number first: b12 and s3 cannot clash with each other, with the
 * kernels' own locals (i, v, t, p, q, r, acc...) or with C keywords. */
const char *cg_cuda_buf_name(const KFunc *f, int buf) {
  const char *id = ident(((const KBuf *)f->bufs.v[buf])->name);
  return id[0] ? ir_sprintf("b%d_%s", buf, id) : ir_sprintf("b%d", buf);
}

const char *cg_cuda_sym_name(int sym) {
  const char *id = ident(ir_sym_name(sym));
  return id[0] ? ir_sprintf("s%d_%s", sym, id) : ir_sprintf("s%d", sym);
}

/* ---- constants ---- */

static const char *int_const(DType dt, int64_t v) {
  if (dt == DT_I32) {
    int32_t x = (int32_t)v; /* the CPU's LLVMConstInt keeps the low bits */
    return x == INT32_MIN ? "TC_I32_MIN" : x < 0 ? ir_sprintf("(%d)", x) : ir_sprintf("%d", x);
  }
  return v == INT64_MIN ? "TC_I64_MIN" : v < 0 ? ir_sprintf("(%lldLL)", (long long)v) : ir_sprintf("%lldLL", (long long)v);
}

const char *cg_cuda_const(DType dt, double fval, int64_t ival) {
  switch (dt) {
  case DT_BOOL: return ival != 0 || fval != 0 ? "1" : "0";
  case DT_I32:
  case DT_I64: return int_const(dt, ival);
  case DT_F32: {
    float x = (float)fval;
    if (isinf(x))
      return x > 0 ? "TC_INF_F32" : "TC_NINF_F32";
    if (isnan(x)) {
      uint32_t bits;
      memcpy(&bits, &x, sizeof bits);
      return ir_sprintf("TC_F32_BITS(0x%08xu)", (unsigned)bits);
    }
    return ir_sprintf(signbit(x) ? "(%af)" : "%af", (double)x);
  }
  case DT_F64:
    if (isinf(fval))
      return fval > 0 ? "TC_INF_F64" : "TC_NINF_F64";
    if (isnan(fval)) {
      uint64_t bits;
      memcpy(&bits, &fval, sizeof bits);
      return ir_sprintf("TC_F64_BITS(0x%016llxULL)", (unsigned long long)bits);
    }
    return ir_sprintf(signbit(fval) ? "(%a)" : "%a", fval);
  default: ir_die(nowhere, "cuda: a constant of dtype %s", ir_dtype_name(dt));
  }
}

/* ---- dimensions and addresses ---- */

/* The sum over terms of coef * product of symbols, in long long. */
const char *cg_cuda_dim(Dim d) {
  if (d.overflow)
    ir_die(nowhere, "cuda: a dimension that overflowed");
  if (d.n == 0)
    return "0";
  char *sum = NULL;
  for (int i = 0; i < d.n; i++) {
    const DimTerm *t = &d.t[i];
    /* with a symbol (long long) the product is long long; a constant
     * alone is one only when it needs to be */
    long long c = (long long)(t->coef < 0 ? -t->coef : t->coef);
    char *term = t->deg == 0 || c != 1 ? ir_sprintf(c > INT32_MAX ? "%lldLL" : "%lld", c) : NULL;
    for (int j = 0; j < t->deg; j++)
      term = term ? ir_sprintf("%s * %s", term, cg_cuda_sym_name(t->sym[j])) : (char *)cg_cuda_sym_name(t->sym[j]);
    if (!sum)
      sum = t->coef < 0 ? ir_sprintf("-%s", term) : term;
    else
      sum = ir_sprintf("%s %c %s", sum, t->coef < 0 ? '-' : '+', term);
  }
  /* a bare constant or symbol needs no parentheses */
  return d.n == 1 && d.t[0].coef >= 0 && (d.t[0].deg == 0 || (d.t[0].deg == 1 && d.t[0].coef == 1)) ? sum
                                                                                                      : ir_sprintf("(%s)", sum);
}

/* An index operand in long long. */
static const char *index_of(Cu *C, KExpr *e) { return cg_cuda_convert(cg_cuda_expr(C, e), e->dtype, DT_I64); }

const char *cg_cuda_elem(Cu *C, int buf, KExpr **idx, int nidx, bool linear) {
  const KBuf *kb = k_buf(C->f, buf);
  const char *off;
  if (linear) {
    if (nidx != 1)
      ir_die(nowhere, "cuda: a linear access to %s with %d indices", kb->name, nidx);
    off = index_of(C, idx[0]);
  } else {
    if (nidx != kb->rank)
      ir_die(nowhere, "cuda: %d indices into %s of rank %d", nidx, kb->name, kb->rank);
    /* Horner: ((i0 * d1 + i1) * d2 + i2) ... */
    off = nidx ? index_of(C, idx[0]) : "0";
    for (int i = 1; i < nidx; i++) {
      const char *d = cg_cuda_dim(kb->dims[i]), *x = index_of(C, idx[i]);
      if (strcmp(d, "1") != 0) /* a dim of 1 strides nothing */
        off = ir_sprintf(i > 1 && strchr(off, '+') ? "(%s) * %s" : "%s * %s", off, d);
      if (strcmp(x, "0LL") != 0)
        off = ir_sprintf("%s + %s", off, x);
    }
  }
  return ir_sprintf("%s[%s]", cg_cuda_buf_name(C->f, buf), off);
}

void cg_cuda_store(Cu *C, const KStmt *s, const char *v, DType vdt) {
  DType bt = k_buf(C->f, s->buf)->dtype;
  const char *x = cg_cuda_convert(v, vdt, bt);
  if (bt == DT_BOOL)
    x = ir_sprintf("(unsigned char)%s", x);
  cg_cuda_line(C, "%s = %s;", cg_cuda_elem(C, s->buf, s->store_idx, s->nstore, s->store_linear), x);
}

/* ---- conversions ---- */

const char *cg_cuda_convert(const char *v, DType from, DType to) {
  if (from == to)
    return v;
  if (to == DT_BOOL) /* != 0 is true for a NaN, as bool(nan) */
    return ir_sprintf("(%s != 0)", v);
  /* bool is 0/1 already; float to int truncates (the lowering converts
   * values in range only); the rest are C's conversions */
  return ir_sprintf("(%s)%s", cg_cuda_type(to), v);
}

/* A constant converted to dtype `to` (the lowering writes f32(2) as a
 * cast of an f64 constant), as a constant; NULL for the conversions whose
 * result C leaves undefined out of range (float to int): those stay casts. */
static const char *fold_cast(const KExpr *k, DType to) {
  DType from = k->dtype;
  bool fl = ir_dtype_is_float(from);
  if (to == DT_BOOL)
    return fl ? (k->fval != 0 || isnan(k->fval) ? "1" : "0") : (k->ival != 0 ? "1" : "0");
  if (from == DT_BOOL) {
    int64_t b = k->ival != 0 || k->fval != 0;
    return cg_cuda_const(to, (double)b, b);
  }
  if (to == DT_F32) /* rounded once, from the value itself */
    return cg_cuda_const(to, fl ? (double)(float)k->fval : (double)(float)k->ival, 0);
  if (to == DT_F64)
    return cg_cuda_const(to, fl ? k->fval : (double)k->ival, 0);
  if (fl)
    return NULL;
  return cg_cuda_const(to, 0, to == DT_I32 ? (int64_t)(int32_t)k->ival : k->ival);
}

/* ---- ops ---- */

/* A local `const T NAME = value;`: NAME is `want` (a let's tN) or the next vN. */
static const char *new_local(Cu *C, const char *want, DType dt, const char *value) {
  const char *name = want ? want : ir_sprintf("v%d", ++C->ntemp);
  cg_cuda_line(C, "const %s %s = %s;", cg_cuda_type(dt), name, value);
  return name;
}

/* The C text of a primitive op (ir/kernel.h) on operands a[] of dtype
 * dt, or NULL when op is not a primitive on dt. */
static const char *op_text(IrOp op, DType dt, const char **a) {
  bool fl = ir_dtype_is_float(dt), in = ir_dtype_is_int(dt);
  const char *sfx = dt == DT_F32 ? "f" : "";              /* expf, expf, ... */
  const char *it = dt == DT_I32 ? "i32" : "i64";          /* tc_add_i32, ... */
  const char *x = a[0], *y = a[1];
  switch (op) {
  case IR_ADD: return fl ? ir_sprintf("%s + %s", x, y) : in ? ir_sprintf("tc_add_%s(%s, %s)", it, x, y) : NULL;
  case IR_SUB: return fl ? ir_sprintf("%s - %s", x, y) : in ? ir_sprintf("tc_sub_%s(%s, %s)", it, x, y) : NULL;
  case IR_MUL: return fl ? ir_sprintf("%s * %s", x, y) : in ? ir_sprintf("tc_mul_%s(%s, %s)", it, x, y) : NULL;
  case IR_DIV: return fl ? ir_sprintf("%s / %s", x, y) : NULL;
  case IR_TDIV: return in ? ir_sprintf("%s / %s", x, y) : NULL;
  case IR_TREM: return in ? ir_sprintf("%s %% %s", x, y) : NULL;
  case IR_FMOD: return fl ? ir_sprintf("fmod%s(%s, %s)", sfx, x, y) : NULL;
  case IR_COPYSIGN: return fl ? ir_sprintf("copysign%s(%s, %s)", sfx, x, y) : NULL;
  case IR_FMIN: return fl ? ir_sprintf("fmin%s(%s, %s)", sfx, x, y) : NULL;
  case IR_FMAX: return fl ? ir_sprintf("fmax%s(%s, %s)", sfx, x, y) : NULL;
  case IR_POW: return fl ? ir_sprintf("pow%s(%s, %s)", sfx, x, y) : in ? ir_sprintf("tc_ipow_%s(%s, %s)", it, x, y) : NULL;
  case IR_NEG: return fl ? ir_sprintf("-%s", x) : in ? ir_sprintf("tc_neg_%s(%s)", it, x) : NULL;
  case IR_ABS: return fl ? ir_sprintf("fabs%s(%s)", sfx, x) : NULL;
  /* C's comparisons: ordered, except != (true with a NaN); bools are 0/1 */
  case IR_LT: return ir_sprintf("%s < %s", x, y);
  case IR_LE: return ir_sprintf("%s <= %s", x, y);
  case IR_GT: return ir_sprintf("%s > %s", x, y);
  case IR_GE: return ir_sprintf("%s >= %s", x, y);
  case IR_EQ: return ir_sprintf("%s == %s", x, y);
  case IR_NE: return ir_sprintf("%s != %s", x, y);
  case IR_AND: return dt == DT_BOOL ? ir_sprintf("%s && %s", x, y) : NULL;
  case IR_OR: return dt == DT_BOOL ? ir_sprintf("%s || %s", x, y) : NULL;
  case IR_NOT: return dt == DT_BOOL ? ir_sprintf("!%s", x) : NULL;
  case IR_ISNAN: return fl ? ir_sprintf("%s != %s", x, x) : NULL;
  case IR_FLOOR: return fl ? ir_sprintf("floor%s(%s)", sfx, x) : NULL;
  case IR_CEIL: return fl ? ir_sprintf("ceil%s(%s)", sfx, x) : NULL;
  case IR_ROUND: return fl ? ir_sprintf("rint%s(%s)", sfx, x) : NULL; /* half to even */
  case IR_EXP: return fl ? ir_sprintf("exp%s(%s)", sfx, x) : NULL;
  case IR_LOG: return fl ? ir_sprintf("log%s(%s)", sfx, x) : NULL;
  case IR_SQRT: return fl ? ir_sprintf("sqrt%s(%s)", sfx, x) : NULL;
  case IR_SIN: return fl ? ir_sprintf("sin%s(%s)", sfx, x) : NULL;
  case IR_COS: return fl ? ir_sprintf("cos%s(%s)", sfx, x) : NULL;
  /* f64 only: legalize sends f32 through f64 */
  case IR_LOG1P: return dt == DT_F64 ? ir_sprintf("log1p(%s)", x) : NULL;
  case IR_EXPM1: return dt == DT_F64 ? ir_sprintf("expm1(%s)", x) : NULL;
  case IR_TAN: return dt == DT_F64 ? ir_sprintf("tan(%s)", x) : NULL;
  case IR_TANH: return dt == DT_F64 ? ir_sprintf("tanh(%s)", x) : NULL;
  case IR_ERF: return dt == DT_F64 ? ir_sprintf("erf(%s)", x) : NULL;
  default: return NULL;
  }
}

static const char *expr(Cu *C, KExpr *e, const char *want);

static const char *emit_op(Cu *C, KExpr *e, const char *want) {
  IrOp op = e->op;
  int nargs = ir_op_nargs(op);
  if ((nargs >= 0 && e->nargs != nargs) || e->nargs < 1 || e->nargs > 3)
    ir_die(nowhere, "cuda: %s with %d operands", ir_op_name(op), e->nargs);
  const char *a[3] = {NULL, NULL, NULL};
  for (int i = 0; i < e->nargs; i++)
    a[i] = cg_cuda_expr(C, e->args[i]);
  if (op == IR_WHERE) {
    if (e->args[0]->dtype != DT_BOOL || e->args[1]->dtype != e->dtype || e->args[2]->dtype != e->dtype)
      ir_die(nowhere, "cuda: where of %s, %s and %s (not legalized)", ir_dtype_name(e->args[0]->dtype),
             ir_dtype_name(e->args[1]->dtype), ir_dtype_name(e->args[2]->dtype));
    return new_local(C, want, e->dtype, ir_sprintf("%s ? %s : %s", a[0], a[1], a[2]));
  }
  DType dt = e->args[0]->dtype;
  for (int i = 1; i < e->nargs; i++)
    if (e->args[i]->dtype != dt)
      ir_die(nowhere, "cuda: %s of %s and %s (not legalized)", ir_op_name(op), ir_dtype_name(dt),
             ir_dtype_name(e->args[i]->dtype));
  const char *text = op_text(op, dt, a);
  if (!text)
    ir_die(nowhere, "cuda: %s on %s operands is not a primitive (not legalized?)", ir_op_name(op), ir_dtype_name(dt));
  /* comparisons and logic give bools; everything else the operands' dtype */
  DType rdt = op == IR_LT || op == IR_LE || op == IR_GT || op == IR_GE || op == IR_EQ || op == IR_NE ||
                      op == IR_AND || op == IR_OR || op == IR_NOT || op == IR_ISNAN
                  ? DT_BOOL
                  : dt;
  if (rdt == e->dtype)
    return new_local(C, want, rdt, text);
  return new_local(C, want, e->dtype, cg_cuda_convert(new_local(C, NULL, rdt, text), rdt, e->dtype));
}

/* ---- let-variables ---- */

void cg_cuda_reset_lets(Cu *C) {
  int n = C->f->nlets;
  C->let_expr = ir_alloc(sizeof(KExpr *) * (size_t)(n + 1));
  C->let_name = ir_alloc(sizeof(char *) * (size_t)(n + 1));
  C->let_taken = ir_alloc((size_t)(n + 1));
}

static void check_let(Cu *C, const KExpr *e) {
  if (e->var < 0 || e->var >= C->f->nlets)
    ir_die(nowhere, "cuda: let-variable %d of %d", e->var, C->f->nlets);
}

/* The local of let-variable e->var, emitted at its first use. */
static const char *let_value(Cu *C, KExpr *e) {
  check_let(C, e);
  int v = e->var;
  if (C->let_name[v])
    return C->let_name[v];
  if (!C->let_expr[v])
    ir_die(nowhere, "cuda: let-variable %d outside its let", v);
  KExpr *value = C->let_expr[v];
  /* tN; a let reached twice in one kernel (through a shared
   * subexpression) gets tN_K, K from the locals' counter */
  const char *name = C->let_taken[v] ? ir_sprintf("t%d_%d", v, ++C->ntemp) : ir_sprintf("t%d", v);
  C->let_taken[v] = true;
  /* the value's own local is named tN; a leaf gets a copy */
  const char *x = expr(C, value, name);
  if (strcmp(x, name) != 0)
    cg_cuda_line(C, "const %s %s = %s;", cg_cuda_type(value->dtype), name, x);
  C->let_name[v] = name;
  return cg_cuda_convert(name, value->dtype, e->dtype);
}

/* ---- expressions ---- */

const char *cg_cuda_expr(Cu *C, KExpr *e) { return expr(C, e, NULL); }

/* e's operand; the local of e itself, if it gets one, is named `want`
 * (when not NULL). */
static const char *expr(Cu *C, KExpr *e, const char *want) {
  switch (e->kind) {
  case KX_CONST: return cg_cuda_const(e->dtype, e->fval, e->ival);
  case KX_VAR: return cg_cuda_convert(ir_sprintf("i%d", e->var), DT_I64, e->dtype);
  case KX_SYM: return cg_cuda_convert(cg_cuda_sym_name(e->sym), DT_I64, e->dtype);
  case KX_DIM: return cg_cuda_convert(cg_cuda_dim(e->dim), DT_I64, e->dtype);
  case KX_ARG_DIM:
    ir_die(nowhere, "cuda: an argument's shape (arg%d.shape[%lld]) in device code", e->buf, (long long)e->ival);
  case KX_LOAD: {
    DType bt = k_buf(C->f, e->buf)->dtype;
    const char *x = NULL;
    for (int i = 0; i < C->nsubst && !x; i++) /* read already: a vector's lane, a tile's element */
      if (k_expr_eq(C->subst_load[i], e))
        x = C->subst_text[i];
    if (!x)
      x = cg_cuda_elem(C, e->buf, e->args, e->nargs, e->linear);
    if (bt == DT_BOOL) /* any nonzero byte is true, as NumPy reads it */
      x = ir_sprintf("%s != 0", x);
    if (bt == e->dtype)
      return new_local(C, want, bt, x);
    return cg_cuda_convert(new_local(C, NULL, bt, x), bt, e->dtype);
  }
  case KX_CAST: {
    if (e->nargs != 1)
      ir_die(nowhere, "cuda: a cast with %d operands", e->nargs);
    if (e->args[0]->dtype == e->dtype)
      return cg_cuda_expr(C, e->args[0]);
    const char *folded = e->args[0]->kind == KX_CONST ? fold_cast(e->args[0], e->dtype) : NULL;
    if (folded)
      return folded;
    return new_local(C, want, e->dtype, cg_cuda_convert(cg_cuda_expr(C, e->args[0]), e->args[0]->dtype, e->dtype));
  }
  case KX_OP: return emit_op(C, e, want);
  case KX_LET: {
    check_let(C, e);
    if (e->nargs != 2)
      ir_die(nowhere, "cuda: a let with %d operands", e->nargs);
    int v = e->var;
    KExpr *saved_expr = C->let_expr[v];
    const char *saved_name = C->let_name[v];
    C->let_expr[v] = e->args[0];
    C->let_name[v] = NULL;
    const char *r = expr(C, e->args[1], want);
    C->let_expr[v] = saved_expr;
    C->let_name[v] = saved_name;
    return r;
  }
  case KX_LETVAR: return let_value(C, e);
  case KX_ACC:
    if (!C->acc)
      ir_die(nowhere, "cuda: acc outside a reduction's finalize");
    return cg_cuda_convert(C->acc, C->acc_dtype, e->dtype);
  case KX_ACC_INDEX:
    if (!C->acc_index)
      ir_die(nowhere, "cuda: acc_index outside an argmax/argmin's finalize");
    return cg_cuda_convert(C->acc_index, DT_I64, e->dtype);
  }
  ir_die(nowhere, "cuda: expression kind %d", (int)e->kind);
}
