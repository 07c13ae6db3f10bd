/* codegen/cpu_expr.c - kernel IR scalar expressions to LLVM values.
 *
 * A KExpr tree is evaluated bottom-up at the builder's current position;
 * each node becomes a value of its dtype's LLVM type (bool is i1 as a value
 * and one byte 0/1 in memory).  Operands already have the computation dtype
 * (the lowering inserts casts), so each op switches on the dtype class of
 * its first operand: float, integer or bool.
 *
 * The semantics are NumPy's, not C's, where they differ:
 *  - integer // and % round toward minus infinity, and a zero divisor gives
 *    0 instead of trapping (INT_MIN // -1 wraps, it does not trap either);
 *  - float // and % follow npy_divmod (fmod, then a sign fix-up);
 *  - maximum/minimum and max/min reductions propagate NaN (llvm.maxnum
 *    does not, so they are a compare and a select);
 *  - comparisons are ordered (false on NaN) except !=, which is true;
 *  - round is half-to-even (llvm.rint), x -> bool is x != 0 (NaN is true).
 * Math with an LLVM intrinsic uses it (exp, log, sqrt, sin, cos, pow,
 * floor, ceil, rint, fabs, copysign); the rest call libm's double
 * functions (expm1, log1p, tan, tanh, erf; f32 rounds the double result).
 * Integer pow is a small internal function doing repeated squaring.
 */
#include "cg_internal.h"

#include <math.h>
#include <string.h>

LLVMValueRef cg_i64(Cg *g, int64_t v) { return LLVMConstInt(g->t_i64, (unsigned long long)v, 1); }
LLVMValueRef cg_i32(Cg *g, int v) { return LLVMConstInt(g->t_i32, (unsigned long long)(int64_t)v, 1); }

LLVMTypeRef cg_type(Cg *g, DType dt) {
  switch (dt) {
  case DT_BOOL: return g->t_i1;
  case DT_I32: return g->t_i32;
  case DT_I64: return g->t_i64;
  case DT_F32: return g->t_f32;
  case DT_F64: return g->t_f64;
  default: ir_die((Loc){0}, "kernel IR: a value of dtype %s", ir_dtype_name(dt));
  }
}

LLVMTypeRef cg_mem_type(Cg *g, DType dt) { return dt == DT_BOOL ? g->t_i8 : cg_type(g, dt); }

/* ---- calls ---- */

LLVMValueRef cg_call(Cg *g, const char *name, LLVMTypeRef ret, int n, LLVMValueRef *args) {
  LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
  if (!fn) {
    LLVMTypeRef params[16];
    if (n > 16)
      ir_die((Loc){0}, "codegen: call to %s with %d arguments", name, n);
    for (int i = 0; i < n; i++)
      params[i] = LLVMTypeOf(args[i]);
    fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(ret, params, (unsigned)n, 0));
  }
  /* void calls must not be named */
  return LLVMBuildCall2(g->b, LLVMGlobalGetValueType(fn), fn, args, (unsigned)n, "");
}

/* An overloaded intrinsic (llvm.exp.f32, ...) on the type of its first operand. */
LLVMValueRef cg_intrinsic(Cg *g, const char *name, int n, LLVMValueRef *args) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  if (!id)
    ir_die((Loc){0}, "codegen: no intrinsic %s", name);
  LLVMTypeRef ty = LLVMTypeOf(args[0]);
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, &ty, 1);
  return LLVMBuildCall2(g->b, LLVMIntrinsicGetType(g->c, id, &ty, 1), fn, args, (unsigned)n, "");
}

static LLVMValueRef intrinsic(Cg *g, const char *name, int n, LLVMValueRef *args) {
  return cg_intrinsic(g, name, n, args);
}
static LLVMValueRef intrinsic1(Cg *g, const char *name, LLVMValueRef x) { return intrinsic(g, name, 1, &x); }

/* libm's double function `name`.  f32 goes through double and rounds
 * once: glibc's float versions (tanhf, ...) can be an ulp or two off, while
 * a double result rounded to float is almost always the correctly rounded
 * one, which is what NumPy prints. */
static LLVMValueRef libm(Cg *g, const char *name, LLVMValueRef x) {
  if (LLVMTypeOf(x) == g->t_f32) {
    LLVMValueRef d = LLVMBuildFPExt(g->b, x, g->t_f64, "");
    return LLVMBuildFPTrunc(g->b, cg_call(g, name, g->t_f64, 1, &d), g->t_f32, "");
  }
  return cg_call(g, name, g->t_f64, 1, &x);
}

/* ---- dims, variables, addresses ---- */

LLVMValueRef cg_sym_slot(Cg *g, int sym) {
  if (sym < 0 || sym > 1 << 20)
    ir_die((Loc){0}, "kernel IR: symbol %d", sym);
  if (sym >= g->nsyms) {
    int n = sym + 16;
    LLVMValueRef *v = ir_alloc(sizeof *v * (size_t)n);
    if (g->nsyms)
      memcpy(v, g->syms, sizeof *v * (size_t)g->nsyms);
    g->syms = v;
    g->nsyms = n;
  }
  if (!g->syms[sym]) {
    /* in the first block, before any use; 0 until a KS_SETSYM */
    g->syms[sym] = LLVMBuildAlloca(g->ab, g->t_i64, ir_sym_name(sym));
    LLVMBuildStore(g->ab, cg_i64(g, 0), g->syms[sym]);
  }
  return g->syms[sym];
}

LLVMValueRef cg_var_slot(Cg *g, int var) {
  if (var < 0 || var >= g->f->nvars)
    ir_die((Loc){0}, "kernel IR: loop variable %d of %d in %s", var, g->f->nvars, g->f->name);
  if (!g->vars[var]) /* in the first block, like the symbols */
    g->vars[var] = LLVMBuildAlloca(g->ab, g->t_i64, ir_sprintf("v%d", var));
  return g->vars[var];
}

/* The sum over terms of coef * product of symbols. */
LLVMValueRef cg_dim(Cg *g, Dim d) {
  if (d.overflow)
    ir_die((Loc){0}, "kernel IR: a dimension that overflowed");
  LLVMValueRef sum = NULL;
  for (int i = 0; i < d.n; i++) {
    const DimTerm *t = &d.t[i];
    LLVMValueRef v = NULL;
    for (int j = 0; j < t->deg; j++) {
      LLVMValueRef s = LLVMBuildLoad2(g->b, g->t_i64, cg_sym_slot(g, t->sym[j]), ir_sym_name(t->sym[j]));
      v = v ? LLVMBuildMul(g->b, v, s, "") : s;
    }
    if (!v)
      v = cg_i64(g, t->coef);
    else if (t->coef != 1)
      v = LLVMBuildMul(g->b, cg_i64(g, t->coef), v, "");
    sum = sum ? LLVMBuildAdd(g->b, sum, v, "") : v;
  }
  return sum ? sum : cg_i64(g, 0);
}

LLVMValueRef cg_numel(Cg *g, const KBuf *b) {
  LLVMValueRef n = cg_i64(g, 1);
  for (int i = 0; i < b->rank; i++)
    n = LLVMBuildMul(g->b, n, cg_dim(g, b->dims[i]), "");
  return n;
}

static LLVMValueRef as_i64(Cg *g, KExpr *e) { return cg_convert(g, cg_expr(g, e), e->dtype, DT_I64); }

LLVMValueRef cg_elem_ptr(Cg *g, int buf, KExpr **idx, int nidx, bool linear) {
  KBuf *kb = k_buf(g->f, buf);
  LLVMValueRef off;
  if (linear) {
    if (nidx != 1)
      ir_die((Loc){0}, "kernel IR: a linear access to %s with %d indices", kb->name, nidx);
    off = as_i64(g, idx[0]);
  } else {
    if (nidx != kb->rank)
      ir_die((Loc){0}, "kernel IR: %d indices into %s of rank %d", nidx, kb->name, kb->rank);
    /* Horner: ((i0 * d1 + i1) * d2 + i2) ... */
    off = cg_i64(g, 0);
    for (int i = 0; i < nidx; i++) {
      if (i > 0)
        off = LLVMBuildMul(g->b, off, cg_dim(g, kb->dims[i]), "");
      off = LLVMBuildAdd(g->b, off, as_i64(g, idx[i]), "");
    }
  }
  LLVMTypeRef mt = cg_mem_type(g, kb->dtype);
  LLVMValueRef base = LLVMBuildLoad2(g->b, g->t_ptr, g->bufs[buf], kb->name ? kb->name : "");
  base = LLVMBuildBitCast(g->b, base, LLVMPointerType(mt, 0), "");
  return LLVMBuildInBoundsGEP2(g->b, mt, base, &off, 1, "");
}

LLVMValueRef cg_load_elem(Cg *g, LLVMValueRef ptr, DType dt) {
  LLVMTypeRef mt = cg_mem_type(g, dt);
  LLVMValueRef v = LLVMBuildLoad2(g->b, mt, ptr, "");
  LLVMSetAlignment(v, (unsigned)LLVMABISizeOfType(g->td, mt));
  if (dt == DT_BOOL) /* any nonzero byte is true, as NumPy reads it */
    v = LLVMBuildICmp(g->b, LLVMIntNE, v, LLVMConstInt(g->t_i8, 0, 0), "");
  return v;
}

void cg_store_elem(Cg *g, LLVMValueRef ptr, LLVMValueRef v, DType dt) {
  LLVMTypeRef mt = cg_mem_type(g, dt);
  if (dt == DT_BOOL)
    v = LLVMBuildZExt(g->b, v, g->t_i8, "");
  LLVMValueRef st = LLVMBuildStore(g->b, v, ptr);
  LLVMSetAlignment(st, (unsigned)LLVMABISizeOfType(g->td, mt));
}

/* ---- conversions ---- */

static LLVMValueRef to_bool(Cg *g, LLVMValueRef v, DType from) {
  if (from == DT_BOOL)
    return v;
  if (ir_dtype_is_float(from)) /* une: NaN is true, as bool(nan) */
    return LLVMBuildFCmp(g->b, LLVMRealUNE, v, LLVMConstReal(LLVMTypeOf(v), 0.0), "");
  return LLVMBuildICmp(g->b, LLVMIntNE, v, LLVMConstInt(LLVMTypeOf(v), 0, 0), "");
}

LLVMValueRef cg_convert(Cg *g, LLVMValueRef v, DType from, DType to) {
  if (from == to)
    return v;
  LLVMTypeRef t = cg_type(g, to);
  if (to == DT_BOOL)
    return to_bool(g, v, from);
  if (from == DT_BOOL)
    return ir_dtype_is_float(to) ? LLVMBuildUIToFP(g->b, v, t, "") : LLVMBuildZExt(g->b, v, t, "");
  bool ff = ir_dtype_is_float(from), tf = ir_dtype_is_float(to);
  if (ff && tf)
    return to == DT_F64 ? LLVMBuildFPExt(g->b, v, t, "") : LLVMBuildFPTrunc(g->b, v, t, "");
  if (ff) /* the lowering only converts values in range */
    return LLVMBuildFPToSI(g->b, v, t, "");
  if (tf)
    return LLVMBuildSIToFP(g->b, v, t, "");
  return to == DT_I64 ? LLVMBuildSExt(g->b, v, t, "") : LLVMBuildTrunc(g->b, v, t, "");
}

/* ---- integer helpers ---- */

/* b ** e for e >= 0 by repeated squaring; 0 for e < 0 (the contract; NumPy
 * refuses negative integer powers).  One internal function per type. */
static LLVMValueRef ipow(Cg *g, LLVMValueRef base, LLVMValueRef ex) {
  LLVMTypeRef t = LLVMTypeOf(base);
  const char *name = t == g->t_i32 ? "tc_ipow_i32" : "tc_ipow_i64";
  LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
  LLVMTypeRef params[2] = {t, t};
  LLVMTypeRef fty = LLVMFunctionType(t, params, 2, 0);
  if (!fn) {
    fn = LLVMAddFunction(g->mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(g->c);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(g->c, fn, "entry");
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(g->c, fn, "head");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->c, fn, "body");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->c, fn, "done");
    LLVMBasicBlockRef zero = LLVMAppendBasicBlockInContext(g->c, fn, "negative");
    LLVMValueRef b0 = LLVMGetParam(fn, 0), e0 = LLVMGetParam(fn, 1);
    LLVMValueRef c0 = LLVMConstInt(t, 0, 0), c1 = LLVMConstInt(t, 1, 0);
    LLVMPositionBuilderAtEnd(b, entry);
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, e0, c0, ""), zero, head);
    LLVMPositionBuilderAtEnd(b, zero);
    LLVMBuildRet(b, c0);
    LLVMPositionBuilderAtEnd(b, head);
    LLVMValueRef r = LLVMBuildPhi(b, t, "r"), bb = LLVMBuildPhi(b, t, "b"), ee = LLVMBuildPhi(b, t, "e");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, ee, c0, ""), done, body);
    LLVMPositionBuilderAtEnd(b, body);
    LLVMValueRef odd = LLVMBuildICmp(b, LLVMIntNE, LLVMBuildAnd(b, ee, c1, ""), c0, "");
    LLVMValueRef r2 = LLVMBuildSelect(b, odd, LLVMBuildMul(b, r, bb, ""), r, "");
    LLVMValueRef bb2 = LLVMBuildMul(b, bb, bb, "");
    LLVMValueRef ee2 = LLVMBuildLShr(b, ee, c1, "");
    LLVMBuildBr(b, head);
    LLVMValueRef rv[2] = {c1, r2}, bv[2] = {b0, bb2}, ev[2] = {e0, ee2};
    LLVMBasicBlockRef from[2] = {entry, body};
    LLVMAddIncoming(r, rv, from, 2);
    LLVMAddIncoming(bb, bv, from, 2);
    LLVMAddIncoming(ee, ev, from, 2);
    LLVMPositionBuilderAtEnd(b, done);
    LLVMBuildRet(b, r);
    LLVMDisposeBuilder(b);
  }
  LLVMValueRef args[2] = {base, ex};
  return LLVMBuildCall2(g->b, fty, fn, args, 2, "");
}

/* Python's // and % on integers.  The divisor is made safe first: 0 and -1
 * divide by 1 (no trap on x/0 or INT_MIN/-1), then the results are fixed:
 * x // 0 = x % 0 = 0 (NumPy), x // -1 = -x (wrapping), x % -1 = 0. */
static LLVMValueRef int_floordiv_mod(Cg *g, bool mod, LLVMValueRef a, LLVMValueRef b) {
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef zero = LLVMConstInt(t, 0, 0), one = LLVMConstInt(t, 1, 0), m1 = LLVMConstAllOnes(t);
  LLVMValueRef bz = LLVMBuildICmp(g->b, LLVMIntEQ, b, zero, "");
  LLVMValueRef bm1 = LLVMBuildICmp(g->b, LLVMIntEQ, b, m1, "");
  LLVMValueRef safe = LLVMBuildSelect(g->b, LLVMBuildOr(g->b, bz, bm1, ""), one, b, "");
  LLVMValueRef q = LLVMBuildSDiv(g->b, a, safe, "");
  LLVMValueRef r = LLVMBuildSRem(g->b, a, safe, "");
  /* C truncates; floor differs when the remainder is nonzero and its sign
   * differs from the divisor's */
  LLVMValueRef fix = LLVMBuildAnd(g->b, LLVMBuildICmp(g->b, LLVMIntNE, r, zero, ""),
                                  LLVMBuildICmp(g->b, LLVMIntSLT, LLVMBuildXor(g->b, r, b, ""), zero, ""), "");
  if (mod) {
    r = LLVMBuildSelect(g->b, fix, LLVMBuildAdd(g->b, r, b, ""), r, "");
    return LLVMBuildSelect(g->b, bz, zero, r, "");
  }
  q = LLVMBuildSub(g->b, q, LLVMBuildZExt(g->b, fix, t, ""), "");
  q = LLVMBuildSelect(g->b, bm1, LLVMBuildSub(g->b, zero, a, ""), q, "");
  return LLVMBuildSelect(g->b, bz, zero, q, "");
}

/* NumPy's npy_divmod for floats: mod = fmod(a, b) moved to b's sign;
 * div = (a - mod) / b rounded to the nearest integer below. */
static LLVMValueRef float_floordiv_mod(Cg *g, bool want_mod, LLVMValueRef a, LLVMValueRef b) {
  LLVMBuilderRef B = g->b;
  LLVMTypeRef t = LLVMTypeOf(a);
  LLVMValueRef zero = LLVMConstReal(t, 0.0), one = LLVMConstReal(t, 1.0);
  LLVMValueRef mod = LLVMBuildFRem(B, a, b, "");
  LLVMValueRef bzero = LLVMBuildFCmp(B, LLVMRealOEQ, b, zero, "");
  /* `if (mod)` in C: NaN counts as nonzero, hence une */
  LLVMValueRef modnz = LLVMBuildFCmp(B, LLVMRealUNE, mod, zero, "");
  LLVMValueRef signs = LLVMBuildXor(B, LLVMBuildFCmp(B, LLVMRealOLT, b, zero, ""),
                                    LLVMBuildFCmp(B, LLVMRealOLT, mod, zero, ""), "");
  LLVMValueRef adj = LLVMBuildAnd(B, modnz, signs, "");
  if (want_mod) {
    LLVMValueRef cs[2] = {zero, b};
    LLVMValueRef m = LLVMBuildSelect(B, adj, LLVMBuildFAdd(B, mod, b, ""), mod, "");
    m = LLVMBuildSelect(B, modnz, m, intrinsic(g, "llvm.copysign", 2, cs), "");
    return LLVMBuildSelect(B, bzero, mod, m, "");
  }
  LLVMValueRef div = LLVMBuildFDiv(B, LLVMBuildFSub(B, a, mod, ""), b, "");
  div = LLVMBuildSelect(B, adj, LLVMBuildFSub(B, div, one, ""), div, "");
  LLVMValueRef fl = intrinsic1(g, "llvm.floor", div);
  LLVMValueRef up = LLVMBuildFCmp(B, LLVMRealOGT, LLVMBuildFSub(B, div, fl, ""), LLVMConstReal(t, 0.5), "");
  fl = LLVMBuildSelect(B, up, LLVMBuildFAdd(B, fl, one, ""), fl, "");
  LLVMValueRef q = LLVMBuildFDiv(B, a, b, "");
  LLVMValueRef cs[2] = {zero, q};
  LLVMValueRef res = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealUNE, div, zero, ""), fl,
                                     intrinsic(g, "llvm.copysign", 2, cs), "");
  return LLVMBuildSelect(B, bzero, q, res, "");
}

LLVMValueRef cg_maxmin(Cg *g, bool max, LLVMValueRef a, LLVMValueRef b, DType dt) {
  LLVMValueRef take_a;
  if (ir_dtype_is_float(dt)) /* a wins when it is larger or NaN; a NaN b wins otherwise */
    take_a = LLVMBuildOr(g->b, LLVMBuildFCmp(g->b, max ? LLVMRealOGT : LLVMRealOLT, a, b, ""),
                         LLVMBuildFCmp(g->b, LLVMRealUNO, a, a, ""), "");
  else if (dt == DT_BOOL)
    return max ? LLVMBuildOr(g->b, a, b, "") : LLVMBuildAnd(g->b, a, b, "");
  else
    take_a = LLVMBuildICmp(g->b, max ? LLVMIntSGT : LLVMIntSLT, a, b, "");
  return LLVMBuildSelect(g->b, take_a, a, b, "");
}

/* ---- ops ---- */

static LLVMValueRef compare(Cg *g, IrOp op, LLVMValueRef a, LLVMValueRef b, DType dt) {
  if (ir_dtype_is_float(dt)) {
    LLVMRealPredicate p = op == IR_LT   ? LLVMRealOLT
                          : op == IR_LE ? LLVMRealOLE
                          : op == IR_GT ? LLVMRealOGT
                          : op == IR_GE ? LLVMRealOGE
                          : op == IR_EQ ? LLVMRealOEQ
                                        : LLVMRealUNE;
    return LLVMBuildFCmp(g->b, p, a, b, "");
  }
  bool u = dt == DT_BOOL; /* false < true */
  LLVMIntPredicate p = op == IR_LT   ? (u ? LLVMIntULT : LLVMIntSLT)
                       : op == IR_LE ? (u ? LLVMIntULE : LLVMIntSLE)
                       : op == IR_GT ? (u ? LLVMIntUGT : LLVMIntSGT)
                       : op == IR_GE ? (u ? LLVMIntUGE : LLVMIntSGE)
                       : op == IR_EQ ? LLVMIntEQ
                                     : LLVMIntNE;
  return LLVMBuildICmp(g->b, p, a, b, "");
}

static _Noreturn void bad_op(IrOp op, DType dt) {
  ir_die((Loc){0}, "kernel IR: %s on %s operands", ir_op_name(op), ir_dtype_name(dt));
}

/* exp, log, ... : float operands only (the lowering casts integers). */
/* tanh of an f32 without a call, so the loop vectorises 8-wide: the
 * odd 13/6 rational approximation Eigen uses for float (x clamped to
 * +-7.905, where it is 1 in float; x itself below 4e-4 in magnitude).
 * Within 4e-7 relative of NumPy's float32 tanh over [-10, 10]
 * (tests/e2e); NaN stays NaN, -0 stays -0. */
static LLVMValueRef tanh_f32(Cg *g, LLVMValueRef x) {
  static const double alpha[7] = {4.89352455891786e-03,  6.37261928875436e-04, 1.48572235717979e-05,
                                  5.12229709037114e-08,  -8.60467152213735e-11, 2.00018790482477e-13,
                                  -2.76076847742355e-16};
  static const double beta[4] = {4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
                                 1.19825839466702e-06};
  LLVMBuilderRef B = g->b;
  LLVMTypeRef t = g->t_f32;
  LLVMValueRef lim[2] = {x, LLVMConstReal(t, 7.90531110763549805)};
  LLVMValueRef v = cg_intrinsic(g, "llvm.minnum", 2, lim);
  lim[0] = v, lim[1] = LLVMConstReal(t, -7.90531110763549805);
  v = cg_intrinsic(g, "llvm.maxnum", 2, lim);
  LLVMValueRef v2 = LLVMBuildFMul(B, v, v, "");
  LLVMValueRef p = LLVMConstReal(t, alpha[6]);
  for (int i = 5; i >= 0; i--)
    p = LLVMBuildFAdd(B, LLVMBuildFMul(B, p, v2, ""), LLVMConstReal(t, alpha[i]), "");
  p = LLVMBuildFMul(B, p, v, "");
  LLVMValueRef q = LLVMConstReal(t, beta[3]);
  for (int i = 2; i >= 0; i--)
    q = LLVMBuildFAdd(B, LLVMBuildFMul(B, q, v2, ""), LLVMConstReal(t, beta[i]), "");
  LLVMValueRef r = LLVMBuildFDiv(B, p, q, "");
  LLVMValueRef tiny = LLVMBuildFCmp(B, LLVMRealOLT, intrinsic1(g, "llvm.fabs", x), LLVMConstReal(t, 4e-4), "");
  LLVMValueRef nan = LLVMBuildFCmp(B, LLVMRealUNO, x, x, "");
  /* minnum/maxnum would have turned a NaN into the bound */
  return LLVMBuildSelect(B, LLVMBuildOr(B, tiny, nan, ""), x, r, "");
}

static LLVMValueRef float_unary(Cg *g, IrOp op, LLVMValueRef x, DType dt) {
  if (!ir_dtype_is_float(dt))
    bad_op(op, dt);
  LLVMBuilderRef B = g->b;
  LLVMTypeRef t = LLVMTypeOf(x);
  LLVMValueRef one = LLVMConstReal(t, 1.0);
  switch (op) {
  case IR_EXP: return intrinsic1(g, "llvm.exp", x);
  case IR_LOG: return intrinsic1(g, "llvm.log", x);
  case IR_SQRT: return intrinsic1(g, "llvm.sqrt", x);
  case IR_SIN: return intrinsic1(g, "llvm.sin", x);
  case IR_COS: return intrinsic1(g, "llvm.cos", x);
  case IR_LOG1P: return libm(g, "log1p", x);
  case IR_EXPM1: return libm(g, "expm1", x);
  case IR_TAN: return libm(g, "tan", x);
  case IR_TANH: return LLVMTypeOf(x) == g->t_f32 ? tanh_f32(g, x) : libm(g, "tanh", x);
  case IR_ERF: return libm(g, "erf", x);
  case IR_RSQRT: return LLVMBuildFDiv(B, one, intrinsic1(g, "llvm.sqrt", x), "");
  case IR_SIGMOID:
    return LLVMBuildFDiv(B, one, LLVMBuildFAdd(B, one, intrinsic1(g, "llvm.exp", LLVMBuildFNeg(B, x, "")), ""), "");
  case IR_GELU: { /* exact: 0.5 * x * (1 + erf(x / sqrt(2))) */
    LLVMValueRef e = libm(g, "erf", LLVMBuildFMul(B, x, LLVMConstReal(t, M_SQRT1_2), ""));
    return LLVMBuildFMul(B, LLVMBuildFMul(B, LLVMConstReal(t, 0.5), x, ""), LLVMBuildFAdd(B, one, e, ""), "");
  }
  case IR_SOFTPLUS: { /* PyTorch's threshold: above 20, exp overflows nothing but adds nothing */
    LLVMValueRef big = LLVMBuildFCmp(B, LLVMRealOGT, x, LLVMConstReal(t, 20.0), "");
    return LLVMBuildSelect(B, big, x, libm(g, "log1p", intrinsic1(g, "llvm.exp", x)), "");
  }
  default: bad_op(op, dt);
  }
}

/* Whether e is the constant v (through casts). */
static bool is_const(KExpr *e, double v) {
  while (e->kind == KX_CAST)
    e = e->args[0];
  return e->kind == KX_CONST && (ir_dtype_is_float(e->dtype) ? e->fval == v : (double)e->ival == v);
}

static LLVMValueRef emit_op(Cg *g, KExpr *e) {
  IrOp op = e->op;
  int want = ir_op_nargs(op);
  if (want >= 0 && e->nargs != want)
    ir_die((Loc){0}, "kernel IR: %s with %d operands", ir_op_name(op), e->nargs);
  if (e->nargs < 1 || e->nargs > 3)
    ir_die((Loc){0}, "kernel IR: %s with %d operands", ir_op_name(op), e->nargs);
  LLVMBuilderRef B = g->b;
  if (op == IR_WHERE) {
    LLVMValueRef c = cg_convert(g, cg_expr(g, e->args[0]), e->args[0]->dtype, DT_BOOL);
    LLVMValueRef a = cg_convert(g, cg_expr(g, e->args[1]), e->args[1]->dtype, e->dtype);
    LLVMValueRef b = cg_convert(g, cg_expr(g, e->args[2]), e->args[2]->dtype, e->dtype);
    return LLVMBuildSelect(B, c, a, b, "");
  }
  /* the computation dtype is the first operand's; the others are brought
   * to it (a no-op when the lowering already did) */
  DType dt = e->args[0]->dtype;
  LLVMValueRef a[3];
  for (int i = 0; i < e->nargs; i++)
    a[i] = cg_convert(g, cg_expr(g, e->args[i]), e->args[i]->dtype, dt);
  bool fl = ir_dtype_is_float(dt), bl = dt == DT_BOOL;
  LLVMValueRef x = a[0], y = a[1], r;
  DType rdt = dt;
  switch (op) {
  case IR_ADD: r = fl ? LLVMBuildFAdd(B, x, y, "") : bl ? LLVMBuildOr(B, x, y, "") : LLVMBuildAdd(B, x, y, ""); break;
  case IR_SUB: r = fl ? LLVMBuildFSub(B, x, y, "") : bl ? LLVMBuildXor(B, x, y, "") : LLVMBuildSub(B, x, y, ""); break;
  case IR_MUL: r = fl ? LLVMBuildFMul(B, x, y, "") : bl ? LLVMBuildAnd(B, x, y, "") : LLVMBuildMul(B, x, y, ""); break;
  case IR_DIV:
    if (!fl) { /* true division of integers: in the result's float type */
      rdt = ir_dtype_is_float(e->dtype) ? e->dtype : DT_F64;
      x = cg_convert(g, x, dt, rdt);
      y = cg_convert(g, y, dt, rdt);
    }
    r = LLVMBuildFDiv(B, x, y, "");
    break;
  case IR_FLOORDIV:
  case IR_MOD:
    if (bl)
      bad_op(op, dt);
    r = fl ? float_floordiv_mod(g, op == IR_MOD, x, y) : int_floordiv_mod(g, op == IR_MOD, x, y);
    break;
  case IR_POW: {
    if (bl)
      bad_op(op, dt);
    LLVMValueRef xy[2] = {x, y};
    if (fl && is_const(e->args[1], 0.5)) /* NumPy's fast path: sqrt(-inf) is NaN, pow(-inf, 0.5) inf */
      r = intrinsic1(g, "llvm.sqrt", x);
    else
      r = fl ? intrinsic(g, "llvm.pow", 2, xy) : ipow(g, x, y);
    break;
  }
  case IR_MAXIMUM: r = cg_maxmin(g, true, x, y, dt); break;
  case IR_MINIMUM: r = cg_maxmin(g, false, x, y, dt); break;
  case IR_CLIP: r = cg_maxmin(g, false, cg_maxmin(g, true, x, y, dt), a[2], dt); break;
  case IR_LT: case IR_LE: case IR_GT: case IR_GE: case IR_EQ: case IR_NE:
    r = compare(g, op, x, y, dt);
    rdt = DT_BOOL;
    break;
  case IR_AND: case IR_OR:
    x = cg_convert(g, x, dt, DT_BOOL);
    y = cg_convert(g, y, dt, DT_BOOL);
    r = op == IR_AND ? LLVMBuildAnd(B, x, y, "") : LLVMBuildOr(B, x, y, "");
    rdt = DT_BOOL;
    break;
  case IR_NOT:
    r = LLVMBuildNot(B, cg_convert(g, x, dt, DT_BOOL), "");
    rdt = DT_BOOL;
    break;
  case IR_NEG:
    if (bl)
      bad_op(op, dt);
    r = fl ? LLVMBuildFNeg(B, x, "") : LLVMBuildNeg(B, x, "");
    break;
  case IR_ABS:
    if (fl)
      r = intrinsic1(g, "llvm.fabs", x);
    else if (bl)
      r = x;
    else
      r = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSLT, x, LLVMConstInt(LLVMTypeOf(x), 0, 0), ""),
                          LLVMBuildNeg(B, x, ""), x, "");
    break;
  case IR_SIGN:
    if (bl) {
      r = x;
    } else if (fl) { /* 1, -1, +0 for either zero (NumPy), NaN stays */
      LLVMTypeRef t = LLVMTypeOf(x);
      LLVMValueRef z = LLVMConstReal(t, 0.0);
      r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOEQ, x, z, ""), z, x, "");
      r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, x, z, ""), LLVMConstReal(t, -1.0), r, "");
      r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, x, z, ""), LLVMConstReal(t, 1.0), r, "");
    } else {
      LLVMTypeRef t = LLVMTypeOf(x);
      LLVMValueRef z = LLVMConstInt(t, 0, 0);
      r = LLVMBuildSub(B, LLVMBuildZExt(B, LLVMBuildICmp(B, LLVMIntSGT, x, z, ""), t, ""),
                       LLVMBuildZExt(B, LLVMBuildICmp(B, LLVMIntSLT, x, z, ""), t, ""), "");
    }
    break;
  case IR_RELU: /* max(x, 0); olt keeps NaN */
    if (bl)
      r = x;
    else if (fl)
      r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, x, LLVMConstReal(LLVMTypeOf(x), 0.0), ""),
                          LLVMConstReal(LLVMTypeOf(x), 0.0), x, "");
    else
      r = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSLT, x, LLVMConstInt(LLVMTypeOf(x), 0, 0), ""),
                          LLVMConstInt(LLVMTypeOf(x), 0, 0), x, "");
    break;
  case IR_FLOOR: r = fl ? intrinsic1(g, "llvm.floor", x) : x; break;
  case IR_CEIL: r = fl ? intrinsic1(g, "llvm.ceil", x) : x; break;
  case IR_ROUND: r = fl ? intrinsic1(g, "llvm.rint", x) : x; break; /* half to even */
  case IR_ISNAN:
    r = fl ? LLVMBuildFCmp(B, LLVMRealUNO, x, x, "") : LLVMConstInt(g->t_i1, 0, 0);
    rdt = DT_BOOL;
    break;
  case IR_ISFINITE: /* |x| < inf is false for inf and NaN */
    r = fl ? LLVMBuildFCmp(B, LLVMRealOLT, intrinsic1(g, "llvm.fabs", x), LLVMConstReal(LLVMTypeOf(x), INFINITY), "")
           : LLVMConstInt(g->t_i1, 1, 0);
    rdt = DT_BOOL;
    break;
  case IR_COPY: case IR_DETACH: case IR_TO_DEVICE: r = x; break;
  default: r = float_unary(g, op, x, dt); break;
  }
  return cg_convert(g, r, rdt, e->dtype);
}

LLVMValueRef cg_expr(Cg *g, KExpr *e) {
  switch (e->kind) {
  case KX_CONST: {
    LLVMTypeRef t = cg_type(g, e->dtype);
    if (ir_dtype_is_float(e->dtype))
      return LLVMConstReal(t, e->fval);
    if (e->dtype == DT_BOOL)
      return LLVMConstInt(t, e->ival != 0 || e->fval != 0, 0);
    return LLVMConstInt(t, (unsigned long long)e->ival, 1);
  }
  case KX_VAR:
    return cg_convert(g, LLVMBuildLoad2(g->b, g->t_i64, cg_var_slot(g, e->var), ""), DT_I64, e->dtype);
  case KX_SYM:
    return cg_convert(g, LLVMBuildLoad2(g->b, g->t_i64, cg_sym_slot(g, e->sym), ""), DT_I64, e->dtype);
  case KX_DIM: return cg_convert(g, cg_dim(g, e->dim), DT_I64, e->dtype);
  case KX_ARG_DIM: {
    if (e->ival < 0 || e->ival >= IR_MAX_RANK)
      ir_die((Loc){0}, "kernel IR: shape[%lld] of argument %d", (long long)e->ival, e->buf);
    LLVMValueRef idx[3] = {cg_i64(g, e->buf), cg_i32(g, 3), cg_i64(g, e->ival)};
    LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, g->t_array, g->args, idx, 3, "");
    return cg_convert(g, LLVMBuildLoad2(g->b, g->t_i64, p, "argdim"), DT_I64, e->dtype);
  }
  case KX_LOAD: {
    DType bt = k_buf(g->f, e->buf)->dtype;
    LLVMValueRef v = cg_load_elem(g, cg_elem_ptr(g, e->buf, e->args, e->nargs, e->linear), bt);
    return cg_convert(g, v, bt, e->dtype);
  }
  case KX_CAST:
    if (e->nargs != 1)
      ir_die((Loc){0}, "kernel IR: a cast with %d operands", e->nargs);
    return cg_convert(g, cg_expr(g, e->args[0]), e->args[0]->dtype, e->dtype);
  case KX_OP: return emit_op(g, e);
  case KX_ACC:
    if (!g->acc)
      ir_die((Loc){0}, "kernel IR: acc outside a reduction's finalize");
    return cg_convert(g, g->acc, g->acc_dtype, e->dtype);
  case KX_ACC_INDEX:
    if (!g->acc_index)
      ir_die((Loc){0}, "kernel IR: acc_index outside an argmax/argmin's finalize");
    return cg_convert(g, g->acc_index, DT_I64, e->dtype);
  }
  ir_die((Loc){0}, "kernel IR: expression kind %d", (int)e->kind);
}
