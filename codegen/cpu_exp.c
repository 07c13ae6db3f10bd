/* codegen/cpu_exp.c - f32 exp as inline arithmetic, scalar or vector.
 *
 * llvm.exp.f32 becomes a call: libmvec's 8-wide _ZGVdN8v_expf in a loop
 * the loop vectoriser takes, a scalar expf call elsewhere (a vector
 * llvm.exp.v16f32 is split into 16 of them).  Instead f32 exp is this
 * small function, built once per type (float or a vector of floats) as an
 * internal alwaysinline function of plain instructions: inlined, the loop
 * vectoriser widens it like any arithmetic, and a vector reduction group
 * (cpu_vexpr.c) calls its vector form.  The method is Cephes' expf:
 *
 *   k = round(x log2 e)            (adding and subtracting 1.5 * 2^23)
 *   r = x - k ln2_hi - k ln2_lo    (ln2_hi has 9 bits: k ln2_hi is exact)
 *   exp(r) = 1 + r + r^2 P(r)      (degree 5, |r| <= ln2 / 2)
 *   exp(x) = exp(r) * 2^(k/2) * 2^(k - k/2)
 *
 * each a * b + c one llvm.fmuladd (an FMA where the CPU has one): within
 * an ulp of the exact value (0.97 ulp at most over every 128th f32
 * pattern; tests/e2e compare with NumPy).  The two powers of two keep every scale a normal float
 * for k in [-150, 128]: x is clamped to [-104, 89] first, where exp is
 * already 0 (below 2^-150) and inf (above FLT_MAX); NaN passes through
 * (both comparisons false), inf to inf and -inf to 0.
 */
#include "cg_internal.h"

#include <llvm-c/TargetMachine.h> /* LLVMGetHostCPUFeatures */
#include <string.h>

/* A float constant of type t (a scalar or vector type), every lane v. */
static LLVMValueRef fconst(LLVMTypeRef t, double v) {
  if (LLVMGetTypeKind(t) != LLVMVectorTypeKind)
    return LLVMConstReal(t, v);
  unsigned n = LLVMGetVectorSize(t);
  LLVMValueRef l[64], c = LLVMConstReal(LLVMGetElementType(t), v);
  for (unsigned i = 0; i < n; i++)
    l[i] = c;
  return LLVMConstVector(l, n);
}

static LLVMValueRef iconst(LLVMTypeRef t, long long v) {
  if (LLVMGetTypeKind(t) != LLVMVectorTypeKind)
    return LLVMConstInt(t, (unsigned long long)v, 1);
  unsigned n = LLVMGetVectorSize(t);
  LLVMValueRef l[64], c = LLVMConstInt(LLVMGetElementType(t), (unsigned long long)v, 1);
  for (unsigned i = 0; i < n; i++)
    l[i] = c;
  return LLVMConstVector(l, n);
}

/* a * b + c: one FMA where the CPU has one (llvm.fmuladd), else two
 * roundings. */
static LLVMValueRef fmuladd(Cg *g, LLVMBuilderRef b, LLVMValueRef x, LLVMValueRef y, LLVMValueRef z) {
  LLVMTypeRef ft = LLVMTypeOf(x);
  unsigned id = LLVMLookupIntrinsicID("llvm.fmuladd", 12);
  LLVMValueRef a[3] = {x, y, z};
  return LLVMBuildCall2(b, LLVMIntrinsicGetType(g->c, id, &ft, 1), LLVMGetIntrinsicDeclaration(g->mod, id, &ft, 1), a,
                        3, "");
}

/* Whether the host has AVX-512F, whose vscalefps computes p * 2^k (k a
 * float holding an integer) with one rounding: what the two powers of two
 * below do in eight integer and float instructions.  Only for a whole
 * 512-bit vector: the loop vectoriser cannot widen the scalar form. */
static bool scalef_ok(LLVMTypeRef ft) {
  static int has = -1;
  if (has < 0) {
    char *f = LLVMGetHostCPUFeatures();
    has = f && strstr(f, "+avx512f") != NULL;
    LLVMDisposeMessage(f);
  }
  return has && LLVMGetTypeKind(ft) == LLVMVectorTypeKind && LLVMGetVectorSize(ft) == 16;
}

static LLVMValueRef scalef(Cg *g, LLVMBuilderRef b, LLVMValueRef p, LLVMValueRef k) {
  const char *name = "llvm.x86.avx512.mask.scalef.ps.512";
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, NULL, 0);
  LLVMValueRef a[5] = {p, k, LLVMGetUndef(LLVMTypeOf(p)), LLVMConstInt(LLVMInt16TypeInContext(g->c), 0xffff, 0),
                       LLVMConstInt(g->t_i32, 4, 0) /* the current rounding mode */};
  return LLVMBuildCall2(b, LLVMIntrinsicGetType(g->c, id, NULL, 0), fn, a, 5, "");
}

/* The body of tc_expf on type ft (float or <N x float>). */
static void build_expf(Cg *g, LLVMValueRef fn, LLVMTypeRef ft) {
  LLVMTypeRef it = LLVMGetTypeKind(ft) == LLVMVectorTypeKind ? LLVMVectorType(g->t_i32, LLVMGetVectorSize(ft))
                                                              : g->t_i32;
  LLVMBuilderRef b = LLVMCreateBuilderInContext(g->c);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(g->c, fn, "entry"));
  LLVMValueRef x = LLVMGetParam(fn, 0);
  LLVMValueRef lo = fconst(ft, -104.0), hi = fconst(ft, 89.0);
  x = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, x, lo, ""), lo, x, "");
  x = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOGT, x, hi, ""), hi, x, "");
  /* k = round(x log2 e): the sum's low bits are k (|k| < 2^22) */
  LLVMValueRef magic = fconst(ft, 12582912.0); /* 1.5 * 2^23 */
  LLVMValueRef t = fmuladd(g, b, x, fconst(ft, 1.44269504088896341), magic);
  LLVMValueRef k = LLVMBuildFSub(b, t, magic, "k");
  LLVMValueRef r = fmuladd(g, b, k, fconst(ft, -0.693359375), x);
  r = fmuladd(g, b, k, fconst(ft, 2.12194440e-4), r);
  static const double P[] = {1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                             4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1};
  LLVMValueRef p = fconst(ft, P[0]);
  for (int i = 1; i < 6; i++)
    p = fmuladd(g, b, p, r, fconst(ft, P[i]));
  p = fmuladd(g, b, p, LLVMBuildFMul(b, r, r, ""), r);
  p = LLVMBuildFAdd(b, p, fconst(ft, 1.0), "");
  if (scalef_ok(ft)) { /* p * 2^k in one instruction, subnormals and all */
    LLVMBuildRet(b, scalef(g, b, p, k));
    LLVMDisposeBuilder(b);
    return;
  }
  /* 2^k1 * 2^k2, k1 = k >> 1, k2 = k - k1: both in [-75, 64]; k as an
   * integer is the low bits of t */
  LLVMValueRef ki = LLVMBuildSub(b, LLVMBuildBitCast(b, t, it, ""), iconst(it, 0x4B400000), "ki");
  LLVMValueRef k1 = LLVMBuildAShr(b, ki, iconst(it, 1), "");
  LLVMValueRef k2 = LLVMBuildSub(b, ki, k1, "");
  LLVMValueRef s1 = LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, k1, iconst(it, 127), ""), iconst(it, 23), ""), ft, "");
  LLVMValueRef s2 = LLVMBuildBitCast(b, LLVMBuildShl(b, LLVMBuildAdd(b, k2, iconst(it, 127), ""), iconst(it, 23), ""), ft, "");
  LLVMBuildRet(b, LLVMBuildFMul(b, LLVMBuildFMul(b, p, s1, ""), s2, ""));
  LLVMDisposeBuilder(b);
}

LLVMValueRef cg_expf(Cg *g, LLVMValueRef x) {
  LLVMTypeRef ft = LLVMTypeOf(x);
  bool vec = LLVMGetTypeKind(ft) == LLVMVectorTypeKind;
  const char *name = vec ? ir_sprintf("tc_expf.v%u", LLVMGetVectorSize(ft)) : "tc_expf";
  LLVMTypeRef fty = LLVMFunctionType(ft, &ft, 1, 0);
  LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
  if (!fn) {
    fn = LLVMAddFunction(g->mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    cg_add_attr(g, fn, "alwaysinline"); /* inside vectorised loops; emit.c inlines only these */
    build_expf(g, fn, ft);
  }
  return LLVMBuildCall2(g->b, fty, fn, &x, 1, "");
}
