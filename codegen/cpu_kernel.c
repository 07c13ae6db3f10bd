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
 * innermost reduced loop marked vector, with `lanes` partials) runs that
 * loop in blocks of LANES elements: element j goes to partial result j % LANES,
 * the last (extent % LANES) elements to a sequential tail, and at the end
 * the partials combine as a balanced tree, then with the tail.  The order
 * is fixed (it depends on the extent only, never on threads or on the
 * machine).  A block's values are computed by a loop of their own into a
 * small array, which the loop vectoriser vectorises (calls like exp
 * included); the LANES chains are independent, which lets the SLP
 * vectoriser turn the block's adds into one vector add (LLVM may not
 * reorder a float sum by itself); and the error of a long sum grows
 * LANES times slower, closer to NumPy's pairwise summation.  Other
 * reductions are a plain sequential loop (integers, whose sums the loop
 * vectoriser already reorders; products; argmax/argmin). */
enum { MAX_LANES = 64 };

/* One blocked inner loop over variable `var` < `ext` (see reduce_lanes):
 * element j of the blocks goes to lane[j % lanes], the rest to the tail
 * slot `acc`. */
static void reduce_blocked(Cg *g, KStmt *s, DType dt, int lanes, LLVMValueRef *lane, LLVMValueRef acc,
                           LLVMValueRef var, LLVMValueRef ext) {
  LLVMBuilderRef B = g->b;
  LLVMValueRef k = cg_i64(g, lanes);
  LLVMValueRef nblk = LLVMBuildSDiv(B, ext, k, "nblk"); /* extents are >= 0 */
  CgLoop blk, tail;
  cg_loop_begin(g, &blk, cg_slot(g, g->t_i64, "blk"), cg_i64(g, 0), nblk, NULL);
  LLVMValueRef base = LLVMBuildNSWMul(B, LLVMBuildLoad2(B, g->t_i64, blk.slot, ""), k, "");
  /* the block's values first, in a loop of its own into a small array:
   * the loop vectoriser vectorises it, calls (exp, ...) included, where
   * LANES copies of the expression left the calls scalar */
  LLVMTypeRef et = cg_type(g, dt);
  LLVMValueRef vals = LLVMBuildArrayAlloca(g->ab, et, cg_i32(g, lanes), "block");
  CgLoop in;
  cg_loop_begin(g, &in, cg_slot(g, g->t_i64, "j"), cg_i64(g, 0), k, NULL);
  LLVMValueRef j = LLVMBuildLoad2(B, g->t_i64, in.slot, "");
  LLVMBuildStore(B, LLVMBuildNSWAdd(B, base, j, ""), var);
  LLVMBuildStore(B, cg_convert(g, cg_expr(g, s->value), s->value->dtype, dt),
                 LLVMBuildInBoundsGEP2(B, et, vals, &j, 1, ""));
  cg_loop_end(g, &in);
  for (int l = 0; l < lanes; l++) {
    LLVMValueRef idx = cg_i64(g, l);
    reduce_step(g, s->combine, dt, lane[l], NULL, NULL,
                LLVMBuildLoad2(B, et, LLVMBuildInBoundsGEP2(B, et, vals, &idx, 1, ""), ""));
  }
  cg_loop_end(g, &blk);
  cg_loop_begin(g, &tail, var, LLVMBuildNSWMul(B, nblk, k, ""), ext, NULL);
  reduce_step(g, s->combine, dt, acc, NULL, NULL, cg_convert(g, cg_expr(g, s->value), s->value->dtype, dt));
  cg_loop_end(g, &tail);
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
  for (int i = 0; i < nout; i++)
    cg_loop_begin(g, &loops[i], cg_var_slot(g, s->loopvar[i]), i == 0 && begin ? begin : cg_i64(g, 0),
               i == 0 && end ? end : ext[i], NULL);
  if (nred == 0) {
    store_result(g, s, cg_expr(g, s->value), s->value->dtype);
  } else {
    IrOp op = s->combine;
    DType dt = s->value->dtype;
    if (op == IR_ANY || op == IR_ALL)
      dt = DT_BOOL; /* reduce truth values whatever the value's dtype */
    LLVMValueRef acc_slot = cg_slot(g, cg_type(g, dt), "acc.addr"), idx_slot = NULL, count_slot = NULL;
    LLVMBuildStore(g->b, identity(g, op, dt), acc_slot);
    if (is_arg_reduce(op)) {
      idx_slot = cg_slot(g, g->t_i64, "idx.addr");
      count_slot = cg_slot(g, g->t_i64, "count.addr");
      LLVMBuildStore(g->b, cg_i64(g, 0), idx_slot);
      LLVMBuildStore(g->b, cg_i64(g, 0), count_slot);
    }
    int lanes = s->lkind[n - 1] == KL_VECTOR ? s->lanes : 0;
    if (lanes < 0 || lanes > MAX_LANES || (lanes & (lanes - 1)))
      ir_die(s->loc, "kernel IR: a reduction in %d lanes", lanes);
    LLVMValueRef lane[MAX_LANES];
    for (int l = 0; l < lanes; l++) {
      lane[l] = cg_slot(g, cg_type(g, dt), "lane.addr");
      LLVMBuildStore(g->b, identity(g, op, dt), lane[l]);
    }
    /* with lanes, the innermost reduced loop is reduce_blocked's */
    int last = lanes ? n - 1 : n;
    for (int i = nout; i < last; i++)
      cg_loop_begin(g, &loops[i], cg_var_slot(g, s->loopvar[i]), cg_i64(g, 0), ext[i], NULL);
    if (lanes) {
      reduce_blocked(g, s, dt, lanes, lane, acc_slot, cg_var_slot(g, s->loopvar[n - 1]), ext[n - 1]);
    } else {
      LLVMValueRef v = cg_convert(g, cg_expr(g, s->value), s->value->dtype, dt);
      reduce_step(g, op, dt, acc_slot, idx_slot, count_slot, v);
    }
    for (int i = last - 1; i >= nout; i--)
      cg_loop_end(g, &loops[i]);
    if (lanes) { /* a tree by halves, as a vector is reduced: l = l + l[lanes/2] for l < lanes/2, ... */
      LLVMValueRef part[MAX_LANES];
      for (int l = 0; l < lanes; l++)
        part[l] = LLVMBuildLoad2(g->b, cg_type(g, dt), lane[l], "lane");
      for (int half = lanes / 2; half >= 1; half /= 2)
        for (int l = 0; l < half; l++)
          part[l] = combine(g, op, dt, part[l], part[l + half]);
      LLVMValueRef tail = LLVMBuildLoad2(g->b, cg_type(g, dt), acc_slot, "tail");
      LLVMBuildStore(g->b, combine(g, op, dt, part[0], tail), acc_slot);
    }
    /* finalize sees the accumulator through KX_ACC / KX_ACC_INDEX */
    g->acc = LLVMBuildLoad2(g->b, cg_type(g, dt), acc_slot, "acc");
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
  if (s->lkind[0] != KL_PARALLEL || g->in_body || n - nred < 1) {
    emit_kernel_range(g, s, NULL, NULL);
    return;
  }
  LLVMValueRef trips = cg_dim(g, s->extent[0]), work = trips;
  for (int i = 1; i < n; i++)
    work = LLVMBuildMul(g->b, work, cg_dim(g, s->extent[i]), "");
  cg_emit_parallel(g, s, trips, work, emit_kernel_range, NULL, 0);
}
