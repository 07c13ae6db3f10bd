/* codegen/cpu_vexpr.c - a reduction's value at `width` points at once.
 *
 * A vectorised reduction (cpu_kernel.c) adds a group of neighbouring
 * points of its innermost loop at a time.  When its value reads that
 * loop's variable only as the last index of its loads (x[i0, i1] over i1:
 * `width` neighbouring elements, one vector load) and is made of ops that
 * are single vector instructions, the group is evaluated here directly as
 * vectors: the parts that do not read the variable are scalars, evaluated
 * by cg_expr and splat where they meet a vector.  A mask (the last,
 * partial group of a row) makes the loads masked: no lane beyond the row
 * is read.  Anything else (a strided load, a library call) goes through
 * cpu_kernel.c's group array instead.
 */
#include "cg_internal.h"

#include <string.h>

/* Whether e reads loop variable v or a let-variable (whose value may be a
 * vector). */
static bool varies(const KExpr *e, int v) {
  if ((e->kind == KX_VAR && e->var == v) || e->kind == KX_LETVAR)
    return true;
  for (int i = 0; i < e->nargs; i++)
    if (varies(e->args[i], v))
      return true;
  return false;
}

/* The ops evaluated as vectors: one instruction each (or cpu_exp.c's f32
 * exp, inline arithmetic).  Integers only compare: the loop variable with
 * an index (where(j == t[i], ...), a one-hot row). */
static bool vector_op(IrOp op, DType dt) {
  switch (op) {
  case IR_LT: case IR_LE: case IR_GT: case IR_GE: case IR_EQ: case IR_NE:
    return ir_dtype_is_float(dt) || dt == DT_I64;
  case IR_ADD: case IR_SUB: case IR_MUL: case IR_DIV: case IR_NEG: case IR_ABS: case IR_FMIN: case IR_FMAX:
  case IR_SQRT: case IR_ISNAN:
    return ir_dtype_is_float(dt);
  case IR_AND: case IR_OR: case IR_NOT: return dt == DT_BOOL;
  case IR_EXP: return dt == DT_F32;
  default: return false;
  }
}

bool cg_vec_ok(Cg *g, const KExpr *e, int var) {
  if (!varies(e, var))
    return true;
  switch (e->kind) {
  case KX_LOAD: {
    if (e->linear || e->nargs < 1 || !ir_dtype_is_float(e->dtype) || !ir_dtype_is_float(k_buf(g->f, e->buf)->dtype))
      return false;
    const KExpr *last = e->args[e->nargs - 1];
    if (last->kind != KX_VAR || last->var != var)
      return false;
    for (int i = 0; i < e->nargs - 1; i++)
      if (varies(e->args[i], var))
        return false;
    return true;
  }
  case KX_CAST: return e->nargs == 1 && ir_dtype_is_float(e->dtype) && ir_dtype_is_float(e->args[0]->dtype) &&
                       cg_vec_ok(g, e->args[0], var);
  case KX_OP:
    if (e->nargs < 1 || e->nargs > 3 || e->nargs != (e->op == IR_WHERE ? 3 : ir_op_nargs(e->op)) ||
        (e->op != IR_WHERE && !vector_op(e->op, e->args[0]->dtype)))
      return false;
    for (int i = 0; i < e->nargs; i++)
      if (!cg_vec_ok(g, e->args[i], var))
        return false;
    return true;
  case KX_LET: return cg_vec_ok(g, e->args[0], var) && cg_vec_ok(g, e->args[1], var);
  case KX_LETVAR: return true;
  case KX_VAR: return e->dtype == DT_I64; /* the variable itself: its `width` values */
  default: return false;
  }
}

static bool is_vector(LLVMValueRef v) { return LLVMGetTypeKind(LLVMTypeOf(v)) == LLVMVectorTypeKind; }

/* f32 <-> f64, lane by lane (cg_vec_ok lets no other cast through). */
static LLVMValueRef convert(Cg *g, LLVMValueRef v, DType from, DType to) {
  if (from == to || !is_vector(v))
    return cg_convert(g, v, from, to);
  LLVMTypeRef t = LLVMVectorType(cg_type(g, to), LLVMGetVectorSize(LLVMTypeOf(v)));
  return to == DT_F64 ? LLVMBuildFPExt(g->b, v, t, "") : LLVMBuildFPTrunc(g->b, v, t, "");
}

/* v in every lane of a vector of `width` (v itself when it is one). */
LLVMValueRef cg_vec_splat(Cg *g, LLVMValueRef v, int width) {
  if (is_vector(v))
    return v;
  LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(v), (unsigned)width);
  LLVMValueRef one = LLVMBuildInsertElement(g->b, LLVMGetUndef(vt), v, cg_i32(g, 0), "");
  return LLVMBuildShuffleVector(g->b, one, LLVMGetUndef(vt), LLVMConstNull(LLVMVectorType(g->t_i32, (unsigned)width)),
                                "splat");
}

LLVMValueRef cg_vec_mask(Cg *g, LLVMValueRef count, int first, int width) {
  LLVMValueRef idx[64];
  for (int l = 0; l < width && l < 64; l++)
    idx[l] = cg_i32(g, first + l);
  LLVMValueRef n = cg_vec_splat(g, LLVMBuildTrunc(g->b, count, g->t_i32, ""), width);
  return LLVMBuildICmp(g->b, LLVMIntSLT, LLVMConstVector(idx, (unsigned)width), n, "in");
}

/* A pointer to `width` elements from p (an element pointer). */
static LLVMValueRef vec_ptr(Cg *g, LLVMValueRef p, LLVMTypeRef et, int width) {
  return LLVMBuildBitCast(g->b, p, LLVMPointerType(LLVMVectorType(et, (unsigned)width), 0), "");
}

/* llvm.masked.load / llvm.masked.store on vector pointer p. */
static LLVMValueRef masked(Cg *g, bool load, LLVMValueRef p, LLVMValueRef v, LLVMValueRef mask, unsigned align) {
  LLVMTypeRef pt = LLVMTypeOf(p), vt = LLVMGetElementType(pt);
  LLVMTypeRef tys[2] = {vt, pt};
  const char *name = load ? "llvm.masked.load" : "llvm.masked.store";
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, tys, 2);
  LLVMValueRef la[4] = {p, cg_i32(g, (int)align), mask, LLVMConstNull(vt)};
  LLVMValueRef sa[4] = {v, p, cg_i32(g, (int)align), mask};
  return LLVMBuildCall2(g->b, LLVMIntrinsicGetType(g->c, id, tys, 2), fn, load ? la : sa, 4, "");
}

bool cg_vec_store_ok(Cg *g, const KStmt *s) {
  int n = s->nloops, var = s->loopvar[n - 1];
  if (s->nred || s->store_linear || s->nstore < 1 || !ir_dtype_is_float(k_buf(g->f, s->buf)->dtype) ||
      !ir_dtype_is_float(s->value->dtype) || !cg_vec_ok(g, s->value, var) || !k_loads_at_store(s->value, s->buf, s))
    return false; /* (an update in place reads its output only where it writes) */
  const KExpr *last = s->store_idx[s->nstore - 1];
  if (last->kind != KX_VAR || last->var != var)
    return false;
  for (int i = 0; i < s->nstore - 1; i++)
    if (varies(s->store_idx[i], var))
      return false;
  return true;
}

void cg_vec_store(Cg *g, KStmt *s, LLVMValueRef base, int width, LLVMValueRef mask, bool nt) {
  int var = s->loopvar[s->nloops - 1];
  DType bt = k_buf(g->f, s->buf)->dtype;
  LLVMValueRef v = cg_vec_splat(g, cg_vec_expr(g, s->value, var, base, width, mask), width);
  v = convert(g, v, s->value->dtype, bt);
  LLVMBuildStore(g->b, base, cg_var_slot(g, var));
  LLVMTypeRef et = cg_mem_type(g, bt);
  LLVMValueRef p = vec_ptr(g, cg_elem_ptr(g, s->buf, s->store_idx, s->nstore, false), et, width);
  unsigned align = (unsigned)LLVMABISizeOfType(g->td, et);
  if (mask) {
    masked(g, false, p, v, mask, align);
    return;
  }
  LLVMValueRef st = LLVMBuildStore(g->b, v, p);
  LLVMSetAlignment(st, nt ? align * (unsigned)width : align);
  if (nt) { /* !nontemporal !{i32 1}: the backend's streaming store (vmovntps), which needs the alignment */
    LLVMMetadataRef one = LLVMValueAsMetadata(cg_i32(g, 1));
    LLVMSetMetadata(st, LLVMGetMDKindIDInContext(g->c, "nontemporal", 11),
                    LLVMMetadataAsValue(g->c, LLVMMDNodeInContext2(g->c, &one, 1)));
  }
}

LLVMValueRef cg_vec_expr(Cg *g, KExpr *e, int var, LLVMValueRef base, int width, LLVMValueRef mask) {
  LLVMBuilderRef B = g->b;
  if (!varies(e, var))
    return cg_expr(g, e);
  switch (e->kind) {
  case KX_LOAD: { /* the last index is `var`: the elements from `base` on */
    KBuf *kb = k_buf(g->f, e->buf);
    LLVMBuildStore(B, base, cg_var_slot(g, var));
    LLVMTypeRef et = cg_mem_type(g, kb->dtype);
    LLVMValueRef p = vec_ptr(g, cg_elem_ptr(g, e->buf, e->args, e->nargs, false), et, width);
    unsigned align = (unsigned)LLVMABISizeOfType(g->td, et);
    LLVMValueRef v;
    if (mask) {
      v = masked(g, true, p, NULL, mask, align);
    } else {
      v = LLVMBuildLoad2(B, LLVMGetElementType(LLVMTypeOf(p)), p, "");
      LLVMSetAlignment(v, align);
    }
    return convert(g, v, kb->dtype, e->dtype);
  }
  case KX_CAST:
    return convert(g, cg_vec_expr(g, e->args[0], var, base, width, mask), e->args[0]->dtype, e->dtype);
  case KX_OP: {
    LLVMValueRef a[3];
    for (int i = 0; i < e->nargs; i++)
      a[i] = cg_vec_splat(g, cg_vec_expr(g, e->args[i], var, base, width, mask), width);
    if (e->op == IR_WHERE)
      return LLVMBuildSelect(B, a[0], a[1], a[2], "");
    return cg_op(g, e->op, e->args[0]->dtype, a);
  }
  case KX_LET: {
    if (e->var < 0 || e->var >= g->f->nlets)
      ir_die((Loc){0}, "kernel IR: let-variable %d of %d", e->var, g->f->nlets);
    LLVMValueRef saved = g->lets[e->var];
    g->lets[e->var] = cg_vec_expr(g, e->args[0], var, base, width, mask);
    LLVMValueRef r = cg_vec_expr(g, e->args[1], var, base, width, mask);
    g->lets[e->var] = saved;
    return r;
  }
  case KX_LETVAR:
    if (e->var < 0 || e->var >= g->f->nlets || !g->lets[e->var])
      ir_die((Loc){0}, "kernel IR: let-variable %d outside its let", e->var);
    return g->lets[e->var];
  case KX_VAR: { /* base, base + 1, ..., base + width - 1 */
    LLVMValueRef *steps = ir_alloc(sizeof *steps * (size_t)width);
    for (int i = 0; i < width; i++)
      steps[i] = cg_i64(g, i);
    return LLVMBuildAdd(B, cg_vec_splat(g, base, width), LLVMConstVector(steps, (unsigned)width), "");
  }
  default: ir_die((Loc){0}, "kernel IR: expression kind %d in a vector group (cg_vec_ok?)", (int)e->kind);
  }
}
