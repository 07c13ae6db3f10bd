/* codegen/cpu_kernel.c - a kernel's loop nest, as LLVM IR.
 *
 * A KS_KERNEL is a loop nest over loopvar[], outermost first; the value is
 * evaluated at every point and stored, or, for a reduction, combined into
 * an accumulator slot that the innermost nred loops update, and then
 * `finalize` is stored.  How each loop runs is the schedule pass's mark:
 * a parallel outermost loop is outlined (cpu_parallel.c), a vector
 * innermost reduced loop runs in `lanes` partial results (below); the
 * rest are plain loops.  The loops of a `for` statement use the same
 * CgLoop helpers.
 */
#include "cg_internal.h"

#include <llvm-c/DebugInfo.h> /* LLVMTemporaryMDNode: a loop's self-referencing metadata */

#include <math.h>

/* ---- loops ---- */


void cg_loop_begin(Cg *g, CgLoop *l, LLVMValueRef var, LLVMValueRef start, LLVMValueRef stop, LLVMValueRef step) {
  l->slot = var;
  l->step = step;
  l->head = cg_block(g, "loop");
  LLVMBasicBlockRef body = cg_block(g, "body");
  l->exit = cg_block(g, "done");
  LLVMBuildStore(g->b, start, var);
  LLVMBuildBr(g->b, l->head);
  LLVMPositionBuilderAtEnd(g->b, l->head);
  LLVMValueRef v = LLVMBuildLoad2(g->b, g->t_i64, var, "i");
  LLVMValueRef go = LLVMBuildICmp(g->b, LLVMIntSLT, v, stop, "");
  if (step) /* range() with a negative step counts down */
    go = LLVMBuildSelect(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, step, cg_i64(g, 0), ""), go,
                         LLVMBuildICmp(g->b, LLVMIntSGT, v, stop, ""), "");
  LLVMBuildCondBr(g->b, go, body, l->exit);
  LLVMPositionBuilderAtEnd(g->b, body);
}

void cg_loop_end(Cg *g, CgLoop *l) {
  LLVMValueRef v = LLVMBuildLoad2(g->b, g->t_i64, l->slot, "");
  /* kernel loops count 0..n-1 and cannot wrap: nsw helps the vectoriser */
  v = l->step ? LLVMBuildAdd(g->b, v, l->step, "") : LLVMBuildNSWAdd(g->b, v, cg_i64(g, 1), "");
  LLVMBuildStore(g->b, v, l->slot);
  LLVMBuildBr(g->b, l->head);
  LLVMPositionBuilderAtEnd(g->b, l->exit);
}

/* ---- kernels ---- */

static bool is_arg_reduce(IrOp op) { return op == IR_ARGMAX || op == IR_ARGMIN; }

/* The value every reduction starts from (ARGMAX/ARGMIN: MAX/MIN's). */
static LLVMValueRef identity(Cg *g, IrOp op, DType dt) {
  LLVMTypeRef t = cg_type(g, dt);
  bool fl = ir_dtype_is_float(dt);
  switch (op) {
  case IR_SUM: return fl ? LLVMConstReal(t, 0.0) : LLVMConstInt(t, 0, 0);
  case IR_PROD: return fl ? LLVMConstReal(t, 1.0) : LLVMConstInt(t, 1, 0);
  case IR_ANY: return LLVMConstInt(g->t_i1, 0, 0);
  case IR_ALL: return LLVMConstInt(g->t_i1, 1, 0);
  case IR_MAX:
  case IR_ARGMAX:
    if (fl)
      return LLVMConstReal(t, -INFINITY);
    return dt == DT_BOOL ? LLVMConstInt(t, 0, 0) : dt == DT_I32 ? cg_i32(g, INT32_MIN) : cg_i64(g, INT64_MIN);
  case IR_MIN:
  case IR_ARGMIN:
    if (fl)
      return LLVMConstReal(t, INFINITY);
    return dt == DT_BOOL ? LLVMConstInt(t, 1, 0) : dt == DT_I32 ? cg_i32(g, INT32_MAX) : cg_i64(g, INT64_MAX);
  default: ir_die((Loc){0}, "kernel IR: reduction by %s", ir_op_name(op));
  }
}

/* combine(a, b) for the reductions that keep one value (not ARGMAX/ARGMIN). */
static LLVMValueRef combine(Cg *g, IrOp op, DType dt, LLVMValueRef acc, LLVMValueRef v) {
  LLVMBuilderRef B = g->b;
  bool fl = ir_dtype_is_float(dt), bl = dt == DT_BOOL;
  switch (op) {
  case IR_SUM: return fl ? LLVMBuildFAdd(B, acc, v, "") : bl ? LLVMBuildOr(B, acc, v, "") : LLVMBuildAdd(B, acc, v, "");
  case IR_PROD: return fl ? LLVMBuildFMul(B, acc, v, "") : bl ? LLVMBuildAnd(B, acc, v, "") : LLVMBuildMul(B, acc, v, "");
  case IR_ANY: return LLVMBuildOr(B, acc, v, "");
  case IR_ALL: return LLVMBuildAnd(B, acc, v, "");
  /* v first: it wins when larger or NaN, and a NaN accumulator stays */
  case IR_MAX: return cg_maxmin(g, true, v, acc, dt);
  case IR_MIN: return cg_maxmin(g, false, v, acc, dt);
  default: ir_die((Loc){0}, "kernel IR: reduction by %s", ir_op_name(op));
  }
}

/* acc = combine(acc, v), and for ARGMAX/ARGMIN idx = count when v wins. */
static void reduce_step(Cg *g, IrOp op, DType dt, LLVMValueRef acc_slot, LLVMValueRef idx_slot,
                        LLVMValueRef count_slot, LLVMValueRef v) {
  LLVMBuilderRef B = g->b;
  LLVMValueRef acc = LLVMBuildLoad2(B, cg_type(g, dt), acc_slot, "acc");
  LLVMValueRef r;
  if (is_arg_reduce(op)) {
    bool max = op == IR_ARGMAX, fl = ir_dtype_is_float(dt), bl = dt == DT_BOOL;
    LLVMValueRef take;
    if (fl) /* strictly better, or the first NaN (NumPy: a NaN is the answer at its first occurrence) */
      take = LLVMBuildOr(B, LLVMBuildFCmp(B, max ? LLVMRealOGT : LLVMRealOLT, v, acc, ""),
                         LLVMBuildAnd(B, LLVMBuildFCmp(B, LLVMRealUNO, v, v, ""),
                                      LLVMBuildFCmp(B, LLVMRealORD, acc, acc, ""), ""),
                         "");
    else
      take = LLVMBuildICmp(B, max ? (bl ? LLVMIntUGT : LLVMIntSGT) : (bl ? LLVMIntULT : LLVMIntSLT), v, acc, "");
    LLVMValueRef count = LLVMBuildLoad2(B, g->t_i64, count_slot, "count");
    LLVMValueRef idx = LLVMBuildLoad2(B, g->t_i64, idx_slot, "idx");
    LLVMBuildStore(B, LLVMBuildSelect(B, take, count, idx, ""), idx_slot);
    LLVMBuildStore(B, LLVMBuildNSWAdd(B, count, cg_i64(g, 1), ""), count_slot);
    r = LLVMBuildSelect(B, take, v, acc, "");
  } else {
    r = combine(g, op, dt, acc, v);
  }
  LLVMBuildStore(B, r, acc_slot);
}

static void store_result(Cg *g, KStmt *s, LLVMValueRef v, DType vdt) {
  DType bt = k_buf(g->f, s->buf)->dtype;
  LLVMValueRef p = cg_elem_ptr(g, s->buf, s->store_idx, s->nstore, s->store_linear);
  cg_store_elem(g, p, cg_convert(g, v, vdt, bt), bt);
}

/* A vectorised reduction (the schedule pass: float sum, max and min, its
 * innermost reduced loop marked vector, with `lanes` partials) runs each
 * run of that loop in groups of LANES elements: element j goes to
 * partial j % LANES; the last group of a run, when the extent is not a
 * multiple of LANES, holds the reduction's identity in its missing lanes
 * (no scalar tail).  The partials are LANES / VW vectors of VW lanes (a
 * 512-bit register each): independent chains of adds, so that an add's
 * latency does not bound the loop.  A float sum in blocks (KStmt.block)
 * restarts its partials from zero every `block` elements and adds them,
 * lane by lane, into f64 totals (so each f32 partial holds block / LANES
 * elements: the rounding error grows with the block, not the row, as
 * with NumPy's pairwise summation); max and min keep one set of
 * partials.  At the end of the run the totals combine as a balanced tree
 * (across the vectors by halves, then within the last one by shuffles),
 * and the result joins the accumulator (f64 for a sum in blocks, rounded
 * once when the reduction ends).  The order is fixed (it depends on the
 * extents only, never on threads or on the machine).
 *
 * A group's values are vectors straight from the value's expression when
 * it reads the loop's variable only as the last index of its loads
 * (cpu_vexpr.c: one vector load each, the last group's loads masked).
 * Otherwise they are computed by a loop of their own into a small array,
 * which the loop vectoriser vectorises (calls like exp included), and
 * read back as vectors (LLVM may not reorder a float sum by itself).
 * Other reductions are a plain sequential loop (integers, whose sums the
 * loop vectoriser already reorders; products; argmax/argmin). */
enum { MAX_LANES = 64, VECTOR_BYTES = 64 };

/* The group loop asks the loop vectoriser for exactly VW elements a step
 * (llvm.loop.vectorize.width): its stores into the group's array are
 * then as wide as the vector loads that read them back.  Left to itself
 * it chose 256-bit stores on this AVX-512 machine, and a 512-bit load of
 * two narrower stores stalls store-to-load forwarding (layer norm's
 * variance stage spent a third of its time there).  Not for a value that
 * calls the math library: libmvec's f64 exp is at most 8 wide here, and a
 * forced 16 left LLVM's llvm.exp.v16f32 to 16 scalar calls. */
static void vectorize_width(Cg *g, LLVMValueRef latch, int width) {
  LLVMContextRef c = g->c;
  LLVMMetadataRef self = LLVMTemporaryMDNode(c, NULL, 0);
  LLVMMetadataRef w[2] = {LLVMMDStringInContext2(c, "llvm.loop.vectorize.width", 25),
                          LLVMValueAsMetadata(cg_i32(g, width))};
  LLVMMetadataRef on[2] = {LLVMMDStringInContext2(c, "llvm.loop.vectorize.enable", 26),
                           LLVMValueAsMetadata(LLVMConstInt(g->t_i1, 1, 0))};
  LLVMMetadataRef ops[3] = {self, LLVMMDNodeInContext2(c, w, 2), LLVMMDNodeInContext2(c, on, 2)};
  LLVMMetadataRef loop = LLVMMDNodeInContext2(c, ops, 3);
  LLVMMetadataReplaceAllUsesWith(self, loop);
  LLVMSetMetadata(latch, LLVMGetMDKindIDInContext(c, "llvm.loop", 9), LLVMMetadataAsValue(c, loop));
}

/* What a vectorised reduction keeps: nvec vectors of vw partials (dtype
 * dt) and as many of totals (dtype adt); whether its groups are vector
 * expressions (cpu_vexpr.c) or go through an array. */
typedef struct Lanes {
  int lanes, nvec, vw;
  DType dt, adt;
  bool direct;
  LLVMValueRef part[MAX_LANES], total[MAX_LANES];
} Lanes;

static LLVMValueRef splat(Cg *g, IrOp op, DType dt, int n) {
  LLVMValueRef id[MAX_LANES];
  for (int l = 0; l < n; l++)
    id[l] = identity(g, op, dt);
  return LLVMConstVector(id, (unsigned)n);
}

/* Vector c of a group combined into partials c. */
static void into_part(Cg *g, KStmt *s, Lanes *L, int c, LLVMValueRef v) {
  LLVMTypeRef vt = LLVMVectorType(cg_type(g, L->dt), (unsigned)L->vw);
  LLVMBuildStore(g->b, combine(g, s->combine, L->dt, LLVMBuildLoad2(g->b, vt, L->part[c], ""), v), L->part[c]);
}

/* The group of LANES elements from `base` into the partials; `count`:
 * NULL for a whole group, else how many of its elements there are (fewer
 * than LANES, maybe none: the others are the identity). */
static void reduce_group(Cg *g, KStmt *s, Lanes *L, LLVMValueRef var, LLVMValueRef base, LLVMValueRef count) {
  LLVMBuilderRef B = g->b;
  LLVMTypeRef et = cg_type(g, L->dt), vt = LLVMVectorType(et, (unsigned)L->vw);
  if (L->direct) {
    for (int c = 0; c < L->nvec; c++) {
      /* lane l of vector c is element c * vw + l */
      LLVMValueRef mask = count ? cg_vec_mask(g, count, c * L->vw, L->vw) : NULL;
      LLVMValueRef from = LLVMBuildNSWAdd(B, base, cg_i64(g, (int64_t)c * L->vw), "");
      LLVMValueRef v = cg_vec_expr(g, s->value, s->loopvar[s->nloops - 1], from, L->vw, mask);
      v = cg_vec_splat(g, v, L->vw); /* a value that does not read the variable is a scalar */
      if (mask)
        v = LLVMBuildSelect(B, mask, v, splat(g, s->combine, L->dt, L->vw), "");
      into_part(g, s, L, c, v);
    }
    return;
  }
  /* the group's values first, in a loop of its own into a small array:
   * the loop vectoriser vectorises it, calls (exp, ...) included, where
   * LANES copies of the expression left the calls scalar */
  LLVMValueRef vals = LLVMBuildAlloca(g->ab, LLVMArrayType(et, (unsigned)L->lanes), "group");
  LLVMSetAlignment(vals, (unsigned)(L->vw * ir_dtype_size(L->dt)));
  LLVMValueRef elems = LLVMBuildBitCast(B, vals, LLVMPointerType(et, 0), "");
  LLVMValueRef vec[MAX_LANES];
  for (int c = 0; c < L->nvec; c++) {
    LLVMValueRef off = cg_i64(g, (int64_t)c * L->vw);
    vec[c] = LLVMBuildBitCast(B, LLVMBuildInBoundsGEP2(B, et, elems, &off, 1, ""), LLVMPointerType(vt, 0), "");
    if (count) /* the missing elements */
      LLVMSetAlignment(LLVMBuildStore(B, splat(g, s->combine, L->dt, L->vw), vec[c]),
                       (unsigned)(L->vw * ir_dtype_size(L->dt)));
  }
  CgLoop in;
  cg_loop_begin(g, &in, cg_slot(g, g->t_i64, "j"), cg_i64(g, 0), count ? count : cg_i64(g, L->lanes), NULL);
  LLVMValueRef j = LLVMBuildLoad2(B, g->t_i64, in.slot, "");
  LLVMBuildStore(B, LLVMBuildNSWAdd(B, base, j, ""), var);
  LLVMBuildStore(B, cg_convert(g, cg_expr(g, s->value), s->value->dtype, L->dt),
                 LLVMBuildInBoundsGEP2(B, et, elems, &j, 1, ""));
  LLVMBasicBlockRef latch = LLVMGetInsertBlock(B);
  cg_loop_end(g, &in);
  if (!k_expr_calls_math(s->value))
    vectorize_width(g, LLVMGetBasicBlockTerminator(latch), L->vw);
  for (int c = 0; c < L->nvec; c++) {
    LLVMValueRef v = LLVMBuildLoad2(B, vt, vec[c], "");
    LLVMSetAlignment(v, (unsigned)(L->vw * ir_dtype_size(L->dt)));
    into_part(g, s, L, c, v);
  }
}

/* `if (n > 0) {`: what follows runs only then, up to end_if(g, done). */
static LLVMBasicBlockRef if_positive(Cg *g, LLVMValueRef n) {
  LLVMBasicBlockRef then = cg_block(g, "rest"), done = cg_block(g, "rest.done");
  LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSGT, n, cg_i64(g, 0), ""), then, done);
  LLVMPositionBuilderAtEnd(g->b, then);
  return done;
}

static void end_if(Cg *g, LLVMBasicBlockRef done) {
  LLVMBuildBr(g->b, done);
  LLVMPositionBuilderAtEnd(g->b, done);
}

/* The last, partial group of `count` elements from `base` (reduce_group),
 * skipped when there is none: a row whose length is a multiple of the
 * lanes (1024 floats) would otherwise load and combine a group of
 * identities every run. */
static void reduce_rest(Cg *g, KStmt *s, Lanes *L, LLVMValueRef var, LLVMValueRef base, LLVMValueRef count) {
  LLVMBasicBlockRef done = if_positive(g, count);
  reduce_group(g, s, L, var, base, count);
  end_if(g, done);
}

/* `ngrp` whole groups from element `from` into the partials (a constant
 * ngrp, a full block's, lets LLVM unroll the loop). */
static void reduce_groups(Cg *g, KStmt *s, Lanes *L, LLVMValueRef var, LLVMValueRef from, LLVMValueRef ngrp) {
  LLVMBuilderRef B = g->b;
  CgLoop grp;
  cg_loop_begin(g, &grp, cg_slot(g, g->t_i64, "grp"), cg_i64(g, 0), ngrp, NULL);
  LLVMValueRef base = LLVMBuildNSWAdd(
      B, from, LLVMBuildNSWMul(B, LLVMBuildLoad2(B, g->t_i64, grp.slot, ""), cg_i64(g, L->lanes), ""), "");
  reduce_group(g, s, L, var, base, NULL);
  cg_loop_end(g, &grp);
}

/* A block of a sum: `ngrp` groups from `from`, and the last partial one
 * of `count` elements if count is not NULL, into partials that start from
 * zero, then added, lane by lane, into the totals. */
static void block_into_totals(Cg *g, KStmt *s, Lanes *L, LLVMValueRef var, LLVMValueRef from, LLVMValueRef ngrp,
                              LLVMValueRef count) {
  LLVMBuilderRef B = g->b;
  LLVMTypeRef pt = LLVMVectorType(cg_type(g, L->dt), (unsigned)L->vw);
  LLVMTypeRef tt = LLVMVectorType(cg_type(g, L->adt), (unsigned)L->vw);
  for (int c = 0; c < L->nvec; c++)
    LLVMBuildStore(B, splat(g, s->combine, L->dt, L->vw), L->part[c]);
  reduce_groups(g, s, L, var, from, ngrp);
  if (count)
    reduce_rest(g, s, L, var, LLVMBuildNSWAdd(B, from, LLVMBuildNSWMul(B, ngrp, cg_i64(g, L->lanes), ""), ""), count);
  for (int c = 0; c < L->nvec; c++) {
    LLVMValueRef p = LLVMBuildLoad2(B, pt, L->part[c], "");
    if (L->dt != L->adt) /* f32 partials into f64 totals */
      p = LLVMBuildFPExt(B, p, tt, "");
    LLVMBuildStore(B, combine(g, s->combine, L->adt, LLVMBuildLoad2(B, tt, L->total[c], ""), p), L->total[c]);
  }
}

/* One run of the vector loop over `var` < `ext` (see above), its result
 * combined into the accumulator slot `acc` (of dtype L->adt). */
static void reduce_vector(Cg *g, KStmt *s, Lanes *L, LLVMValueRef acc, LLVMValueRef var, LLVMValueRef ext) {
  LLVMBuilderRef B = g->b;
  IrOp op = s->combine;
  LLVMTypeRef pt = LLVMVectorType(cg_type(g, L->dt), (unsigned)L->vw);
  LLVMTypeRef tt = LLVMVectorType(cg_type(g, L->adt), (unsigned)L->vw);
  LLVMValueRef k = cg_i64(g, L->lanes);
  LLVMValueRef body = LLVMBuildNSWMul(B, LLVMBuildSDiv(B, ext, k, ""), k, "body"); /* ext >= 0 */
  LLVMValueRef rest = LLVMBuildNSWSub(B, ext, body, "rest");
  for (int c = 0; c < L->nvec; c++) {
    LLVMBuildStore(B, splat(g, op, L->dt, L->vw), L->part[c]);
    if (s->block)
      LLVMBuildStore(B, splat(g, op, L->adt, L->vw), L->total[c]);
  }
  if (s->block) {
    /* whole blocks (a constant number of groups each), then the rest of
     * the groups and the last partial one as one more; each block's
     * partials into the totals */
    LLVMValueRef size = cg_i64(g, s->block);
    LLVMValueRef nfull = LLVMBuildSDiv(B, body, size, "nfull");
    CgLoop blk;
    cg_loop_begin(g, &blk, cg_slot(g, g->t_i64, "blk"), cg_i64(g, 0), nfull, NULL);
    LLVMValueRef from = LLVMBuildNSWMul(B, LLVMBuildLoad2(B, g->t_i64, blk.slot, ""), size, "");
    block_into_totals(g, s, L, var, from, cg_i64(g, s->block / L->lanes), NULL);
    cg_loop_end(g, &blk);
    LLVMValueRef from_rest = LLVMBuildNSWMul(B, nfull, size, "");
    block_into_totals(g, s, L, var, from_rest, LLVMBuildSDiv(B, LLVMBuildNSWSub(B, body, from_rest, ""), k, ""), rest);
  } else {
    reduce_groups(g, s, L, var, cg_i64(g, 0), LLVMBuildSDiv(B, body, k, ""));
    reduce_rest(g, s, L, var, body, rest);
  }
  /* the tree by halves: across the vectors, then within the last one by shuffles */
  LLVMValueRef v[MAX_LANES] = {0};
  for (int c = 0; c < L->nvec; c++)
    v[c] = LLVMBuildLoad2(B, s->block ? tt : pt, s->block ? L->total[c] : L->part[c], "lanes");
  for (int half = L->nvec / 2; half >= 1; half /= 2)
    for (int c = 0; c < half; c++)
      v[c] = combine(g, op, L->adt, v[c], v[c + half]);
  LLVMValueRef r = v[0];
  for (int half = L->vw / 2; half >= 1; half /= 2) {
    LLVMValueRef lo[MAX_LANES], hi[MAX_LANES];
    for (int l = 0; l < half; l++) {
      lo[l] = cg_i32(g, l);
      hi[l] = cg_i32(g, l + half);
    }
    LLVMValueRef und = LLVMGetUndef(LLVMTypeOf(r));
    r = combine(g, op, L->adt, LLVMBuildShuffleVector(B, r, und, LLVMConstVector(lo, (unsigned)half), ""),
                LLVMBuildShuffleVector(B, r, und, LLVMConstVector(hi, (unsigned)half), ""));
  }
  r = LLVMBuildExtractElement(B, r, cg_i32(g, 0), "");
  LLVMBuildStore(B, combine(g, op, L->adt, LLVMBuildLoad2(B, cg_type(g, L->adt), acc, ""), r), acc);
}

/* The whole vectors of store_vector's loop over [from, body). */
static void store_vectors(Cg *g, KStmt *s, LLVMValueRef from, LLVMValueRef body, bool nt) {
  CgLoop l;
  cg_loop_begin(g, &l, cg_slot(g, g->t_i64, "vec"), from, body, cg_i64(g, s->lanes));
  cg_vec_store(g, s, LLVMBuildLoad2(g->b, g->t_i64, l.slot, ""), s->lanes, NULL, nt);
  cg_loop_end(g, &l);
}

/* An elementwise kernel's innermost loop marked vector (the schedule
 * pass: a row kernel's stage) over [from, to): `lanes` points at a time
 * as vector expressions (cpu_vexpr.c), the last ones masked; a value that
 * is not one (a library call, a strided load) is a plain loop that asks
 * the loop vectoriser for `lanes` points a step.  A stage marked `stream`
 * (passes/row_scratch.c) stores its whole vectors non-temporally when its
 * condition holds and its first point is aligned to a vector (the
 * streaming store needs it; a row of a size that is not a multiple of the
 * vector takes plain stores), its masked last one plainly.  The stores
 * are ordered before another thread reads them by the thread pool's
 * mutex (a locked instruction on x86), and a thread sees its own. */
static void store_vector(Cg *g, KStmt *s, LLVMValueRef from, LLVMValueRef to) {
  LLVMBuilderRef B = g->b;
  int w = s->lanes;
  if (!cg_vec_store_ok(g, s)) {
    CgLoop l;
    cg_loop_begin(g, &l, cg_var_slot(g, s->loopvar[s->nloops - 1]), from, to, NULL);
    store_result(g, s, cg_expr(g, s->value), s->value->dtype);
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(B);
    cg_loop_end(g, &l);
    vectorize_width(g, LLVMGetBasicBlockTerminator(latch), w);
    return;
  }
  LLVMValueRef k = cg_i64(g, w);
  LLVMValueRef n = LLVMBuildNSWSub(B, to, from, "");
  LLVMValueRef body = LLVMBuildNSWAdd(B, from, LLVMBuildNSWMul(B, LLVMBuildSDiv(B, n, k, ""), k, ""), "body"); /* n >= 0 */
  if (s->stream) {
    LLVMBuildStore(B, from, cg_var_slot(g, s->loopvar[s->nloops - 1]));
    int bytes = w * ir_dtype_size(k_buf(g->f, s->buf)->dtype);
    LLVMValueRef first = LLVMBuildPtrToInt(B, cg_elem_ptr(g, s->buf, s->store_idx, s->nstore, false), g->t_i64, "");
    LLVMValueRef aligned =
        LLVMBuildICmp(B, LLVMIntEQ, LLVMBuildAnd(B, first, cg_i64(g, bytes - 1), ""), cg_i64(g, 0), "");
    LLVMValueRef go = LLVMBuildAnd(B, cg_convert(g, cg_expr(g, s->stream), s->stream->dtype, DT_BOOL), aligned, "");
    LLVMBasicBlockRef nt = cg_block(g, "stream"), plain = cg_block(g, "plain"), join = cg_block(g, "stored");
    LLVMBuildCondBr(B, go, nt, plain);
    LLVMPositionBuilderAtEnd(B, nt);
    store_vectors(g, s, from, body, true);
    LLVMBuildBr(B, join);
    LLVMPositionBuilderAtEnd(B, plain);
    store_vectors(g, s, from, body, false);
    LLVMBuildBr(B, join);
    LLVMPositionBuilderAtEnd(B, join);
  } else {
    store_vectors(g, s, from, body, false);
  }
  /* the masked last vector, when there is one */
  LLVMValueRef rest = LLVMBuildNSWSub(B, to, body, "");
  LLVMBasicBlockRef done = if_positive(g, rest);
  cg_vec_store(g, s, body, w, cg_vec_mask(g, rest, 0, w), false);
  end_if(g, done);
}

/* A row kernel's scratch row (KS_SCRATCH, passes/row_scratch.c): an
 * alloca of scratch_bytes in the function's entry (an outlined body's: a
 * thread's own) when the row's bytes fit, else the row of src that the
 * kernel's last stage overwrites; chosen at every row (its sizes are the
 * run's). */
void cg_emit_scratch(Cg *g, KStmt *s) {
  LLVMBuilderRef B = g->b;
  KBuf *kb = k_buf(g->f, s->buf);
  LLVMValueRef bytes = cg_i64(g, ir_dtype_size(kb->dtype));
  for (int i = 0; i < kb->rank; i++)
    bytes = LLVMBuildMul(B, bytes, cg_dim(g, kb->dims[i]), "");
  LLVMValueRef block = LLVMBuildAlloca(g->ab, LLVMArrayType(g->t_i8, (unsigned)s->scratch_bytes), "scratch");
  LLVMSetAlignment(block, VECTOR_BYTES);
  LLVMValueRef own = LLVMBuildBitCast(B, block, g->t_ptr, "");
  LLVMValueRef row = LLVMBuildBitCast(B, cg_elem_ptr(g, s->src, s->store_idx, s->nstore, false), g->t_ptr, "");
  LLVMValueRef fits = LLVMBuildICmp(B, LLVMIntULE, bytes, cg_i64(g, s->scratch_bytes), "");
  LLVMBuildStore(B, LLVMBuildSelect(B, fits, own, row, "scratch"), g->bufs[s->buf]);
}

/* The kernel's loop nest, its outermost loop over [begin, end) (NULL: the
 * whole extent).  Reductions keep an accumulator slot that the innermost
 * nred loops update (see reduce_lanes), then store `finalize`. */
static void emit_kernel_range(Cg *g, KStmt *s, LLVMValueRef begin, LLVMValueRef end) {
  int n = s->nloops, nred = s->nred, nout = n - nred;
  /* trip counts depend on symbols only: evaluated once, before the nest */
  LLVMValueRef ext[2 * IR_MAX_RANK];
  for (int i = 0; i < n; i++)
    ext[i] = cg_dim(g, s->extent[i]);
  CgLoop loops[2 * IR_MAX_RANK];
  /* an elementwise loop marked vector: its innermost loop is store_vector's */
  bool vec = n > 0 && nred == 0 && s->lkind[n - 1] == KL_VECTOR && s->lanes > 0;
  if (vec && s->lanes > MAX_LANES)
    ir_die(s->loc, "kernel IR: an elementwise vector loop of %d lanes", s->lanes);
  for (int i = 0; i < nout - (vec ? 1 : 0); i++)
    cg_loop_begin(g, &loops[i], cg_var_slot(g, s->loopvar[i]), i == 0 && begin ? begin : cg_i64(g, 0),
               i == 0 && end ? end : ext[i], NULL);
  if (vec) {
    store_vector(g, s, n == 1 && begin ? begin : cg_i64(g, 0), n == 1 && end ? end : ext[n - 1]);
    nout--;
  } else if (nred == 0) {
    store_result(g, s, cg_expr(g, s->value), s->value->dtype);
  } else {
    IrOp op = s->combine;
    DType dt = s->value->dtype;
    if (op == IR_ANY || op == IR_ALL)
      dt = DT_BOOL; /* reduce truth values whatever the value's dtype */
    int lanes = s->lkind[n - 1] == KL_VECTOR ? s->lanes : 0;
    if (lanes < 0 || lanes > MAX_LANES || (lanes & (lanes - 1)))
      ir_die(s->loc, "kernel IR: a reduction in %d lanes", lanes);
    if (s->block && (!lanes || op != IR_SUM || !ir_dtype_is_float(dt) || s->block % lanes))
      ir_die(s->loc, "kernel IR: a reduction in blocks of %d, %d lanes (schedule?)", s->block, lanes);
    DType adt = s->block ? DT_F64 : dt; /* the blocks' sums add up in f64 */
    LLVMValueRef acc_slot = cg_slot(g, cg_type(g, adt), "acc.addr"), idx_slot = NULL, count_slot = NULL;
    LLVMBuildStore(g->b, identity(g, op, adt), acc_slot);
    if (is_arg_reduce(op)) {
      idx_slot = cg_slot(g, g->t_i64, "idx.addr");
      count_slot = cg_slot(g, g->t_i64, "count.addr");
      LLVMBuildStore(g->b, cg_i64(g, 0), idx_slot);
      LLVMBuildStore(g->b, cg_i64(g, 0), count_slot);
    }
    /* the partials: vectors of a register's width */
    int vw = lanes && lanes * ir_dtype_size(dt) > VECTOR_BYTES ? VECTOR_BYTES / ir_dtype_size(dt) : lanes;
    Lanes L = {.lanes = lanes, .nvec = vw ? lanes / vw : 0, .vw = vw, .dt = dt, .adt = adt,
               .direct = lanes && cg_vec_ok(g, s->value, s->loopvar[n - 1])};
    for (int c = 0; c < L.nvec; c++) {
      L.part[c] = cg_slot(g, LLVMVectorType(cg_type(g, dt), (unsigned)L.vw), "part.addr");
      L.total[c] = cg_slot(g, LLVMVectorType(cg_type(g, adt), (unsigned)L.vw), "total.addr");
    }
    /* with lanes, the innermost reduced loop is reduce_vector's */
    int last = lanes ? n - 1 : n;
    for (int i = nout; i < last; i++)
      cg_loop_begin(g, &loops[i], cg_var_slot(g, s->loopvar[i]), cg_i64(g, 0), ext[i], NULL);
    if (lanes) {
      reduce_vector(g, s, &L, acc_slot, cg_var_slot(g, s->loopvar[n - 1]), ext[n - 1]);
    } else {
      LLVMValueRef v = cg_convert(g, cg_expr(g, s->value), s->value->dtype, dt);
      reduce_step(g, op, dt, acc_slot, idx_slot, count_slot, v);
    }
    for (int i = last - 1; i >= nout; i--)
      cg_loop_end(g, &loops[i]);
    /* finalize sees the accumulator through KX_ACC / KX_ACC_INDEX */
    g->acc = cg_convert(g, LLVMBuildLoad2(g->b, cg_type(g, adt), acc_slot, "acc"), adt, dt); /* rounded once */
    g->acc_dtype = dt;
    g->acc_index = idx_slot ? LLVMBuildLoad2(g->b, g->t_i64, idx_slot, "idx") : NULL;
    if (s->finalize)
      store_result(g, s, cg_expr(g, s->finalize), s->finalize->dtype);
    else if (idx_slot)
      store_result(g, s, g->acc_index, DT_I64);
    else
      store_result(g, s, g->acc, dt);
    g->acc = g->acc_index = NULL;
  }
  for (int i = nout - 1; i >= 0; i--)
    cg_loop_end(g, &loops[i]);
}

void cg_emit_kernel(Cg *g, KStmt *s) {
  int n = s->nloops, nred = s->nred;
  if (n < 0 || n > 2 * IR_MAX_RANK || nred < 0 || nred > n || !s->value)
    ir_die(s->loc, "kernel IR: a kernel with %d loops, %d reduced", n, nred);
  if (g->in_body) { /* inside an outlined body: inline */
    emit_kernel_range(g, s, NULL, NULL);
    return;
  }
  /* the host function is glue, compiled without optimisation (cpu_host.c):
   * a serial kernel is outlined like a parallel one, into a function the
   * pipeline optimises, and called once over its whole outer range (a
   * full reduction has none: the range is not used) */
  LLVMValueRef trips = n - nred >= 1 ? cg_dim(g, s->extent[0]) : cg_i64(g, 1);
  if (s->lkind[0] != KL_PARALLEL || n - nred < 1) {
    cg_emit_serial(g, s, trips, emit_kernel_range);
    return;
  }
  LLVMValueRef work = trips;
  for (int i = 1; i < n; i++)
    work = LLVMBuildMul(g->b, work, cg_dim(g, s->extent[i]), "");
  cg_emit_parallel(g, s, trips, work, emit_kernel_range, NULL, 0);
}
