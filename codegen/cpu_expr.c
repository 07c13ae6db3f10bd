/* codegen/cpu_expr.c - kernel IR scalar expressions to LLVM values.
 *
 * A KExpr tree is evaluated bottom-up at the builder's current position;
 * each node becomes a value of its dtype's LLVM type (bool is i1 as a value
 * and one byte 0/1 in memory).  The legalize pass has written NumPy's
 * semantics (floor division, NaN-propagating maximum, ...) as the
 * primitive ops of ir/kernel.h, so each op here is one instruction or
 * call: an LLVM intrinsic where there is one (f64 exp, log, sqrt, sin, cos,
 * pow, floor, ceil, rint, fabs, copysign), f32 exp inline (cpu_exp.c), libm's double functions for
 * log1p, expm1, tan, tanh and erf, and a small internal function for
 * integer pow (repeated squaring).  A KX_LET binds its value to a
 * let-variable while its body is built.  What stays here of NumPy's rules
 * is the conversions (astype) and the NaN-propagating max/min that
 * reductions combine with (cg_maxmin).
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

/* libm's double function `name` (legalize sends f32 through f64). */
static LLVMValueRef libm(Cg *g, const char *name, LLVMValueRef x) { return cg_call(g, name, g->t_f64, 1, &x); }

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
    cg_add_attr(g, fn, "alwaysinline"); /* inside vectorised loops; emit.c inlines only these */
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

/* The primitive ops of ir/kernel.h, one LLVM instruction or call each. */
static LLVMValueRef emit_op(Cg *g, KExpr *e) {
  IrOp op = e->op;
  int want = ir_op_nargs(op);
  if ((want >= 0 && e->nargs != want) || e->nargs < 1 || e->nargs > 3)
    ir_die((Loc){0}, "kernel IR: %s with %d operands", ir_op_name(op), e->nargs);
  if (op == IR_WHERE)
    return LLVMBuildSelect(g->b, cg_expr(g, e->args[0]), cg_expr(g, e->args[1]), cg_expr(g, e->args[2]), "");
  DType dt = e->args[0]->dtype;
  LLVMValueRef a[3];
  for (int i = 0; i < e->nargs; i++) {
    if (e->args[i]->dtype != dt)
      ir_die((Loc){0}, "kernel IR: %s of %s and %s (not legalized)", ir_op_name(op), ir_dtype_name(dt),
             ir_dtype_name(e->args[i]->dtype));
    a[i] = cg_expr(g, e->args[i]);
  }
  return cg_op(g, op, dt, a);
}

/* Primitive op `op` (not WHERE) on operands a[] of dtype dt, scalars or
 * vectors alike (cpu_vexpr.c passes vectors). */
LLVMValueRef cg_op(Cg *g, IrOp op, DType dt, LLVMValueRef *a) {
  LLVMBuilderRef B = g->b;
  bool fl = ir_dtype_is_float(dt), in = dt == DT_I32 || dt == DT_I64;
  LLVMValueRef x = a[0], y = a[1];
  switch (op) {
  case IR_ADD: if (fl) return LLVMBuildFAdd(B, x, y, ""); if (in) return LLVMBuildAdd(B, x, y, ""); break;
  case IR_SUB: if (fl) return LLVMBuildFSub(B, x, y, ""); if (in) return LLVMBuildSub(B, x, y, ""); break;
  case IR_MUL: if (fl) return LLVMBuildFMul(B, x, y, ""); if (in) return LLVMBuildMul(B, x, y, ""); break;
  case IR_DIV: if (fl) return LLVMBuildFDiv(B, x, y, ""); break;
  case IR_TDIV: if (in) return LLVMBuildSDiv(B, x, y, ""); break;
  case IR_TREM: if (in) return LLVMBuildSRem(B, x, y, ""); break;
  case IR_FMOD: if (fl) return LLVMBuildFRem(B, x, y, ""); break;
  case IR_COPYSIGN: if (fl) return intrinsic(g, "llvm.copysign", 2, a); break;
  case IR_FMIN: if (fl) return intrinsic(g, "llvm.minnum", 2, a); break;
  case IR_FMAX: if (fl) return intrinsic(g, "llvm.maxnum", 2, a); break;
  case IR_POW: if (fl) return intrinsic(g, "llvm.pow", 2, a); if (in) return ipow(g, x, y); break;
  case IR_NEG: if (fl) return LLVMBuildFNeg(B, x, ""); if (in) return LLVMBuildNeg(B, x, ""); break;
  case IR_ABS: if (fl) return intrinsic1(g, "llvm.fabs", x); break;
  case IR_LT: case IR_LE: case IR_GT: case IR_GE: case IR_EQ: case IR_NE: return compare(g, op, x, y, dt);
  case IR_AND: if (dt == DT_BOOL) return LLVMBuildAnd(B, x, y, ""); break;
  case IR_OR: if (dt == DT_BOOL) return LLVMBuildOr(B, x, y, ""); break;
  case IR_NOT: if (dt == DT_BOOL) return LLVMBuildNot(B, x, ""); break;
  case IR_ISNAN: if (fl) return LLVMBuildFCmp(B, LLVMRealUNO, x, x, ""); break;
  case IR_FLOOR: if (fl) return intrinsic1(g, "llvm.floor", x); break;
  case IR_CEIL: if (fl) return intrinsic1(g, "llvm.ceil", x); break;
  case IR_ROUND: if (fl) return intrinsic1(g, "llvm.rint", x); break; /* half to even */
  case IR_EXP: if (dt == DT_F32) return cg_expf(g, x); if (fl) return intrinsic1(g, "llvm.exp", x); break;
  case IR_LOG: if (fl) return intrinsic1(g, "llvm.log", x); break;
  case IR_SQRT: if (fl) return intrinsic1(g, "llvm.sqrt", x); break;
  case IR_SIN: if (fl) return intrinsic1(g, "llvm.sin", x); break;
  case IR_COS: if (fl) return intrinsic1(g, "llvm.cos", x); break;
  case IR_LOG1P: if (dt == DT_F64) return libm(g, "log1p", x); break;
  case IR_EXPM1: if (dt == DT_F64) return libm(g, "expm1", x); break;
  case IR_TAN: if (dt == DT_F64) return libm(g, "tan", x); break;
  case IR_TANH: if (dt == DT_F64) return libm(g, "tanh", x); break;
  case IR_ERF: if (dt == DT_F64) return libm(g, "erf", x); break;
  default: break;
  }
  ir_die((Loc){0}, "kernel IR: %s on %s operands is not a primitive (not legalized?)", ir_op_name(op),
         ir_dtype_name(dt));
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
    return cg_convert(
        g, LLVMBuildLoad2(g->b, g->t_i64, cg_sym_slot(g, e->sym), cg_debug_name(g, ir_sym_name(e->sym))),
        DT_I64, e->dtype);
  case KX_DIM: return cg_convert(g, cg_dim(g, e->dim), DT_I64, e->dtype);
  case KX_ARG_DIM: {
    if (e->ival < 0 || e->ival >= IR_MAX_RANK)
      ir_die((Loc){0}, "kernel IR: shape[%lld] of argument %d", (long long)e->ival, e->buf);
    LLVMValueRef idx[3] = {cg_i64(g, e->buf), cg_i32(g, 3), cg_i64(g, e->ival)};
    LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, g->t_array, g->args, idx, 3, "");
    return cg_convert(g, LLVMBuildLoad2(g->b, g->t_i64, p, "argdim"), DT_I64, e->dtype);
  }
  case KX_LOAD: {
    KBuf *kb = k_buf(g->f, e->buf);
    LLVMValueRef v = cg_load_elem(g, cg_elem_ptr(g, e->buf, e->args, e->nargs, e->linear), kb->dtype);
    const char *name = cg_debug_name(g, kb->name); /* -g: the element of x is %x */
    if (*name && LLVMIsAInstruction(v))
      LLVMSetValueName2(v, name, strlen(name));
    return cg_convert(g, v, kb->dtype, e->dtype);
  }
  case KX_CAST:
    if (e->nargs != 1)
      ir_die((Loc){0}, "kernel IR: a cast with %d operands", e->nargs);
    return cg_convert(g, cg_expr(g, e->args[0]), e->args[0]->dtype, e->dtype);
  case KX_OP: return emit_op(g, e);
  case KX_LET: {
    if (e->var < 0 || e->var >= g->f->nlets)
      ir_die((Loc){0}, "kernel IR: let-variable %d of %d", e->var, g->f->nlets);
    LLVMValueRef saved = g->lets[e->var];
    g->lets[e->var] = cg_expr(g, e->args[0]);
    LLVMValueRef r = cg_expr(g, e->args[1]);
    g->lets[e->var] = saved;
    return r;
  }
  case KX_LETVAR:
    if (e->var < 0 || e->var >= g->f->nlets || !g->lets[e->var])
      ir_die((Loc){0}, "kernel IR: let-variable %d outside its let", e->var);
    return g->lets[e->var];
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
