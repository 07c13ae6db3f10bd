/* codegen/cuda_reduce.c - reductions in CUDA C: accumulators, the combine
 * step, and the deterministic block reduction.
 *
 * An accumulator has the value's dtype (bool for any/all, as an int 0/1)
 * and starts at the combine op's identity; argmax/argmin keep the index of
 * the best element too (acci, TC_NO_INDEX until one is seen).  A thread
 * folds its elements in order of their index with cpu_kernel.c's step
 * (sum, prod, any, all; max/min take a NaN), or for argmax/argmin the
 * prelude's tc_argmax_takes_* rule: a NaN beats a number, and of equal
 * values (or two NaNs) the smaller index wins.  That rule does not depend
 * on the order in which partial results meet, so a tree of them gives the
 * CPU's answer: the first best element, or the first NaN.
 *
 * A float sum in blocks (KStmt.block, the schedule pass): a thread adds
 * its own elements to acc `block` at a time, and each full block's sum
 * (acc, then reset) to an f64 total; at the end acc = total + acc, rounded
 * once, so the error grows with the block's length, not the thread's
 * share of a long row (cg_cuda_fold*).
 *
 * A block reduction (cg_cuda_block_reduce): each warp combines its 32
 * accumulators in a butterfly of __shfl_xor_sync (offsets 16, 8, 4, 2, 1;
 * afterwards every lane holds the warp's result), lane 0 of each warp
 * writes it to a __shared__ array of 32, and after a __syncthreads() every
 * warp reads the array (the identity past the last warp) and combines it
 * in the same butterfly; a second __syncthreads() lets the array be written
 * again (the next row, the next stage).  Every step is fixed by the block
 * size, so the result is the same bits on every GPU and in the emulator.
 */
#include "cuda_internal.h"

static const Loc nowhere = {0};

#define LINE(...) cg_cuda_line(C, __VA_ARGS__)

CgRed cg_cuda_red_of(const KStmt *s) {
  CgRed r = {.op = s->combine, .dt = s->value->dtype, .arg = s->combine == IR_ARGMAX || s->combine == IR_ARGMIN,
             .block = s->block};
  if (r.block && (r.op != IR_SUM || !ir_dtype_is_float(r.dt)))
    ir_die(s->loc, "cuda: a %s reduction in blocks (schedule?)", ir_op_name(r.op));
  if (r.op == IR_ANY || r.op == IR_ALL)
    r.dt = DT_BOOL; /* truth values, whatever the value's dtype */
  return r;
}

static const char *sfx(DType dt) { return dt == DT_F32 ? "f32" : dt == DT_F64 ? "f64" : dt == DT_I64 ? "i64" : "i32"; }

/* The __shared__ array a block reduction of dtype dt uses. */
static const char *red_array(DType dt) { return ir_sprintf("red_%s", dt == DT_BOOL ? "i32" : sfx(dt)); }

static const char *identity(const CgRed *r) {
  bool fl = ir_dtype_is_float(r->dt);
  switch (r->op) {
  case IR_SUM: return cg_cuda_const(r->dt, 0, 0);
  case IR_PROD: return cg_cuda_const(r->dt, 1, 1);
  case IR_ANY: return "0";
  case IR_ALL: return "1";
  case IR_MAX:
  case IR_ARGMAX:
    return fl ? (r->dt == DT_F32 ? "TC_NINF_F32" : "TC_NINF_F64")
              : r->dt == DT_BOOL ? "0" : r->dt == DT_I32 ? "TC_I32_MIN" : "TC_I64_MIN";
  case IR_MIN:
  case IR_ARGMIN:
    return fl ? (r->dt == DT_F32 ? "TC_INF_F32" : "TC_INF_F64")
              : r->dt == DT_BOOL ? "1" : r->dt == DT_I32 ? "TC_I32_MAX" : "TC_I64_MAX";
  default: ir_die(nowhere, "cuda: reduction by %s", ir_op_name(r->op));
  }
}

/* combine(acc, v) for the reductions that keep one value (cpu_kernel.c's
 * combine: v wins a max/min when larger/smaller or NaN). */
static const char *combine(const CgRed *r, const char *acc, const char *v) {
  bool fl = ir_dtype_is_float(r->dt), bl = r->dt == DT_BOOL;
  const char *t = sfx(r->dt);
  switch (r->op) {
  case IR_SUM: return fl ? ir_sprintf("%s + %s", acc, v) : bl ? ir_sprintf("%s | %s", acc, v) : ir_sprintf("tc_add_%s(%s, %s)", t, acc, v);
  case IR_PROD: return fl ? ir_sprintf("%s * %s", acc, v) : bl ? ir_sprintf("%s & %s", acc, v) : ir_sprintf("tc_mul_%s(%s, %s)", t, acc, v);
  case IR_ANY: return ir_sprintf("%s | %s", acc, v);
  case IR_ALL: return ir_sprintf("%s & %s", acc, v);
  case IR_MAX:
  case IR_MIN: {
    char c = r->op == IR_MAX ? '>' : '<';
    if (bl)
      return ir_sprintf("%s %c %s", acc, r->op == IR_MAX ? '|' : '&', v);
    if (fl)
      return ir_sprintf("(%s %c %s || %s != %s) ? %s : %s", v, c, acc, v, v, v, acc);
    return ir_sprintf("%s %c %s ? %s : %s", v, c, acc, v, acc);
  }
  default: ir_die(nowhere, "cuda: reduction by %s", ir_op_name(r->op));
  }
}

void cg_cuda_red_decl(Cu *C, const CgRed *r) {
  LINE("%s acc = %s;", cg_cuda_type(r->dt), identity(r));
  if (r->arg)
    LINE("long long acci = TC_NO_INDEX;");
}

/* acc = combine(acc, v); for argmax/argmin, v at index vi. */
void cg_cuda_red_step(Cu *C, const CgRed *r, const char *v, const char *vi) {
  if (!r->arg) {
    LINE("acc = %s;", combine(r, "acc", v));
    return;
  }
  LINE("if (tc_%s_takes_%s(%s, %s, acc, acci)) {", r->op == IR_ARGMAX ? "argmax" : "argmin", sfx(r->dt), v, vi);
  LINE("  acc = %s;", v);
  LINE("  acci = %s;", vi);
  LINE("}");
}

void cg_cuda_fold_begin(Cu *C, const CgRed *r) {
  if (r->block) {
    LINE("double total = 0.0; /* the sums of the blocks of %d before this one */", r->block);
    LINE("int in_block = 0;");
  }
}

void cg_cuda_fold(Cu *C, const KStmt *s, const CgRed *r, const char *vi) {
  cg_cuda_red_step(C, r, cg_cuda_red_value(C, s, r), vi);
  if (r->block)
    LINE("if (++in_block == %d) { total += acc; acc = %s; in_block = 0; }", r->block, identity(r));
}

void cg_cuda_fold_end(Cu *C, const CgRed *r) {
  if (r->block)
    LINE("acc = (%s)(total + acc);", cg_cuda_type(r->dt));
}

static void warp_reduce(Cu *C, const CgRed *r) {
  LINE("for (int o = 16; o > 0; o >>= 1) {");
  C->depth++;
  LINE("const %s other = __shfl_xor_sync(0xffffffffu, acc, o);", cg_cuda_type(r->dt));
  if (r->arg)
    LINE("const long long other_i = __shfl_xor_sync(0xffffffffu, acci, o);");
  cg_cuda_red_step(C, r, "other", "other_i");
  cg_cuda_close(C);
}

/* Every thread's acc (and acci) becomes the block's (file comment). */
void cg_cuda_block_reduce(Cu *C, const CgRed *r) {
  const char *red = red_array(r->dt);
  LINE("// the block combines: each warp by shuffles, then the warps' results");
  warp_reduce(C, r);
  LINE("if (lane == 0) {");
  LINE("  %s[warp] = acc;", red);
  if (r->arg)
    LINE("  red_idx[warp] = acci;");
  LINE("}");
  LINE("__syncthreads();");
  LINE("acc = lane < nwarps ? %s[lane] : %s;", red, identity(r));
  if (r->arg)
    LINE("acci = lane < nwarps ? red_idx[lane] : TC_NO_INDEX;");
  warp_reduce(C, r);
  LINE("__syncthreads(); /* all have read %s: it may be written again */", red);
}

/* Stores `finalize` (or the accumulator) with KX_ACC bound to acc. */
void cg_cuda_red_finish(Cu *C, const KStmt *s, const CgRed *r) {
  C->acc = "acc";
  C->acc_dtype = r->dt;
  C->acc_index = r->arg ? "acci" : NULL;
  if (r->arg)
    LINE("if (acci == TC_NO_INDEX) acci = 0; /* no element at all: the CPU's answer */");
  if (s->finalize)
    cg_cuda_store(C, s, cg_cuda_expr(C, s->finalize), s->finalize->dtype);
  else if (r->arg)
    cg_cuda_store(C, s, "acci", DT_I64);
  else
    cg_cuda_store(C, s, "acc", r->dt);
  C->acc = C->acc_index = NULL;
}

/* The reduced value at the current point, as the accumulator's dtype. */
const char *cg_cuda_red_value(Cu *C, const KStmt *s, const CgRed *r) {
  return cg_cuda_convert(cg_cuda_expr(C, s->value), s->value->dtype, r->dt);
}

/* The block's result, then thread 0 stores `finalize` of it. */
void cg_cuda_block_finish(Cu *C, const KStmt *s, const CgRed *r) {
  cg_cuda_block_reduce(C, r);
  LINE("if (threadIdx.x == 0) {");
  C->depth++;
  cg_cuda_red_finish(C, s, r);
  cg_cuda_close(C);
}

/* The __shared__ arrays and warp numbers of the block reductions of reds,
 * declared at the top of their kernel: one array per accumulator type
 * (red_f32, ...), red_idx for argmax/argmin. */
void cg_cuda_red_shared(Cu *C, const KStmt *const *reds, int n) {
  bool used[DT_F64 + 1] = {0}, idx = false;
  for (int i = 0; i < n; i++) {
    CgRed r = cg_cuda_red_of(reds[i]);
    used[r.dt == DT_BOOL ? DT_I32 : r.dt] = true;
    idx |= r.arg;
  }
  for (int dt = DT_BOOL; dt <= DT_F64; dt++)
    if (used[dt])
      LINE("__shared__ %s %s[32];", cg_cuda_type((DType)dt), red_array((DType)dt));
  if (idx)
    LINE("__shared__ long long red_idx[32];");
  if (n > 0)
    LINE("const int lane = threadIdx.x %% 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;");
}
