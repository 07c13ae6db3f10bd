/* codegen/cpu_llvm.c - kernel IR to an LLVM module (LLVM C API).
 *
 * Every KFunc becomes
 *     int tc_fn_NAME(tc_ctx *ctx, const tc_array *args, tc_array *results)
 * with external linkage, returning 0 or a runtime status.  Variables are
 * stack slots made in the function's first block: one i8* per buffer
 * (NULL at entry, except arguments and params, which are borrowed), one i64
 * per loop variable and one per dimension symbol (made on first use, 0
 * until a KS_SETSYM).  mem2reg turns them into SSA values at -O1 and above,
 * which keeps this file free of phi bookkeeping.  Statements map one to one:
 *   alloc/free/move    tcrt_alloc / tcrt_free and NULL (unless kept) / a copy
 *   check, calls       a branch to a block that returns the status
 *   for, if            the usual loop and diamond
 *   kernel             a loop nest over loopvar[]; reductions keep an
 *                      accumulator slot that the innermost nred loops
 *                      update (float sum/max/min in 16 or 8 partials in a
 *                      fixed order, which vectorises), then store finalize;
 *                      a kernel marked parallel has its outermost loop
 *                      outlined into a body run by tcrt_parallel_for
 *                      (see "parallel loops" below), as has a for marked
 *                      parallel
 * A status is returned as soon as it is nonzero; nothing is freed on that
 * path (the process reports the error and exits).  At the end, results[i]
 * gets the data, dtype, rank and shape of buffer f->results[i].
 *
 * Then the module's entry for the runtime: for an executable, the
 * tc_program descriptor and a C main() (cpu_desc.c); for an object file
 * or shared library, the C interface of SPEC §4 (cpu_api.c).
 */
#include "cg_internal.h"

#include "tensorc/runtime.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

_Static_assert(DT_BOOL == (int)TC_BOOL && DT_I32 == (int)TC_I32 && DT_I64 == (int)TC_I64 && DT_F32 == (int)TC_F32 &&
                   DT_F64 == (int)TC_F64,
               "DType and tc_dtype numbering must agree");
_Static_assert(IR_MAX_RANK == TC_MAX_RANK, "ranks must agree");

/* ---- small helpers ---- */

static LLVMBasicBlockRef block(Cg *g, const char *name) { return LLVMAppendBasicBlockInContext(g->c, g->fn, name); }

static LLVMValueRef buf_ptr(Cg *g, int buf) {
  KBuf *kb = k_buf(g->f, buf);
  return LLVMBuildLoad2(g->b, g->t_ptr, g->bufs[buf], kb->name ? kb->name : "");
}

static LLVMValueRef slot(Cg *g, LLVMTypeRef t, const char *name) { return LLVMBuildAlloca(g->ab, t, name); }

static void add_attr(Cg *g, LLVMValueRef fn, const char *name) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->c, kind, 0));
}

/* Returns `status` when it is nonzero, else goes on. */
static void return_if_nonzero(Cg *g, LLVMValueRef status) {
  LLVMBasicBlockRef fail = block(g, "fail"), ok = block(g, "ok");
  LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, status, cg_i32(g, 0), ""), fail, ok);
  LLVMPositionBuilderAtEnd(g->b, fail);
  LLVMBuildRet(g->b, status);
  LLVMPositionBuilderAtEnd(g->b, ok);
}

/* return tcrt_fail(ctx, 1, "%s", msg) -- through "%s" so that a '%' in the
 * message is printed, not interpreted. */
static void build_fail(Cg *g, LLVMValueRef msg) {
  LLVMValueRef fn = LLVMGetNamedFunction(g->mod, "tcrt_fail");
  LLVMTypeRef params[3] = {g->t_ctxp, g->t_i32, g->t_ptr};
  LLVMTypeRef fty = LLVMFunctionType(g->t_i32, params, 3, 1);
  if (!fn)
    fn = LLVMAddFunction(g->mod, "tcrt_fail", fty);
  if (!g->fmt_s)
    g->fmt_s = LLVMBuildGlobalStringPtr(g->b, "%s", "fmt.s");
  LLVMValueRef args[4] = {g->ctx, cg_i32(g, TC_ERR_RUNTIME), g->fmt_s, msg};
  LLVMBuildRet(g->b, LLVMBuildCall2(g->b, fty, fn, args, 4, "status"));
}

/* Fills the function's stack tc_array from buffer `buf`, for print and save. */
static LLVMValueRef stack_array(Cg *g, int buf) {
  KBuf *kb = k_buf(g->f, buf);
  if (!g->arr_tmp)
    g->arr_tmp = slot(g, g->t_array, "arr");
  LLVMValueRef a = g->arr_tmp;
  LLVMBuildStore(g->b, buf_ptr(g, buf), LLVMBuildStructGEP2(g->b, g->t_array, a, 0, ""));
  LLVMBuildStore(g->b, cg_i32(g, kb->dtype), LLVMBuildStructGEP2(g->b, g->t_array, a, 1, ""));
  LLVMBuildStore(g->b, cg_i32(g, kb->rank), LLVMBuildStructGEP2(g->b, g->t_array, a, 2, ""));
  for (int i = 0; i < kb->rank; i++) {
    LLVMValueRef idx[3] = {cg_i64(g, 0), cg_i32(g, 3), cg_i64(g, i)};
    LLVMBuildStore(g->b, cg_dim(g, kb->dims[i]), LLVMBuildInBoundsGEP2(g->b, g->t_array, a, idx, 3, ""));
  }
  return a;
}

/* ---- loops ---- */

typedef struct Loop {
  LLVMBasicBlockRef head, exit;
  LLVMValueRef slot, step; /* step NULL: +1, and the test is var < stop */
} Loop;

static void loop_begin(Cg *g, Loop *l, LLVMValueRef var, LLVMValueRef start, LLVMValueRef stop, LLVMValueRef step) {
  l->slot = var;
  l->step = step;
  l->head = block(g, "loop");
  LLVMBasicBlockRef body = block(g, "body");
  l->exit = block(g, "done");
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

static void loop_end(Cg *g, Loop *l) {
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

/* Float sums, maxima and minima run their innermost reduced loop in
 * blocks of LANES elements: element j goes to partial result j % LANES,
 * the last (extent % LANES) elements to a sequential tail, and at the end
 * the partials combine as a balanced tree, then with the tail.  The order
 * is fixed (it depends on the extent only, never on threads or on the
 * machine).  A block's values are computed by a loop of their own into a
 * small array, which the loop vectoriser vectorises (calls like exp
 * included); the LANES chains are independent, which lets the SLP
 * vectoriser turn the block's adds into one vector add (LLVM may not
 * reorder a float sum by itself); and the error of a long sum grows
 * LANES times slower, closer to NumPy's pairwise summation.  LANES fills
 * two 256-bit registers.  0: a plain sequential loop (integers, whose sums
 * the loop vectoriser already reorders; products; argmax/argmin). */
static int reduce_lanes(IrOp op, DType dt) {
  if (!ir_dtype_is_float(dt) || !(op == IR_SUM || op == IR_MAX || op == IR_MIN))
    return 0;
  return dt == DT_F32 ? 16 : 8;
}
enum { MAX_LANES = 16 };

/* One blocked inner loop over variable `var` < `ext` (see reduce_lanes):
 * element j of the blocks goes to lane[j % lanes], the rest to the tail
 * slot `acc`. */
static void reduce_blocked(Cg *g, KStmt *s, DType dt, int lanes, LLVMValueRef *lane, LLVMValueRef acc,
                           LLVMValueRef var, LLVMValueRef ext) {
  LLVMBuilderRef B = g->b;
  LLVMValueRef k = cg_i64(g, lanes);
  LLVMValueRef nblk = LLVMBuildSDiv(B, ext, k, "nblk"); /* extents are >= 0 */
  Loop blk, tail;
  loop_begin(g, &blk, slot(g, g->t_i64, "blk"), cg_i64(g, 0), nblk, NULL);
  LLVMValueRef base = LLVMBuildNSWMul(B, LLVMBuildLoad2(B, g->t_i64, blk.slot, ""), k, "");
  /* the block's values first, in a loop of its own into a small array:
   * the loop vectoriser vectorises it, calls (exp, ...) included, where
   * LANES copies of the expression left the calls scalar */
  LLVMTypeRef et = cg_type(g, dt);
  LLVMValueRef vals = LLVMBuildArrayAlloca(g->ab, et, cg_i32(g, lanes), "block");
  Loop in;
  loop_begin(g, &in, slot(g, g->t_i64, "j"), cg_i64(g, 0), k, NULL);
  LLVMValueRef j = LLVMBuildLoad2(B, g->t_i64, in.slot, "");
  LLVMBuildStore(B, LLVMBuildNSWAdd(B, base, j, ""), var);
  LLVMBuildStore(B, cg_convert(g, cg_expr(g, s->value), s->value->dtype, dt),
                 LLVMBuildInBoundsGEP2(B, et, vals, &j, 1, ""));
  loop_end(g, &in);
  for (int l = 0; l < lanes; l++) {
    LLVMValueRef idx = cg_i64(g, l);
    reduce_step(g, s->combine, dt, lane[l], NULL, NULL,
                LLVMBuildLoad2(B, et, LLVMBuildInBoundsGEP2(B, et, vals, &idx, 1, ""), ""));
  }
  loop_end(g, &blk);
  loop_begin(g, &tail, var, LLVMBuildNSWMul(B, nblk, k, ""), ext, NULL);
  reduce_step(g, s->combine, dt, acc, NULL, NULL, cg_convert(g, cg_expr(g, s->value), s->value->dtype, dt));
  loop_end(g, &tail);
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
  Loop loops[2 * IR_MAX_RANK];
  for (int i = 0; i < nout; i++)
    loop_begin(g, &loops[i], cg_var_slot(g, s->loopvar[i]), i == 0 && begin ? begin : cg_i64(g, 0),
               i == 0 && end ? end : ext[i], NULL);
  if (nred == 0) {
    store_result(g, s, cg_expr(g, s->value), s->value->dtype);
  } else {
    IrOp op = s->combine;
    DType dt = s->value->dtype;
    if (op == IR_ANY || op == IR_ALL)
      dt = DT_BOOL; /* reduce truth values whatever the value's dtype */
    LLVMValueRef acc_slot = slot(g, cg_type(g, dt), "acc.addr"), idx_slot = NULL, count_slot = NULL;
    LLVMBuildStore(g->b, identity(g, op, dt), acc_slot);
    if (is_arg_reduce(op)) {
      idx_slot = slot(g, g->t_i64, "idx.addr");
      count_slot = slot(g, g->t_i64, "count.addr");
      LLVMBuildStore(g->b, cg_i64(g, 0), idx_slot);
      LLVMBuildStore(g->b, cg_i64(g, 0), count_slot);
    }
    int lanes = reduce_lanes(op, dt);
    LLVMValueRef lane[MAX_LANES];
    for (int l = 0; l < lanes; l++) {
      lane[l] = slot(g, cg_type(g, dt), "lane.addr");
      LLVMBuildStore(g->b, identity(g, op, dt), lane[l]);
    }
    /* with lanes, the innermost reduced loop is reduce_blocked's */
    int last = lanes ? n - 1 : n;
    for (int i = nout; i < last; i++)
      loop_begin(g, &loops[i], cg_var_slot(g, s->loopvar[i]), cg_i64(g, 0), ext[i], NULL);
    if (lanes) {
      reduce_blocked(g, s, dt, lanes, lane, acc_slot, cg_var_slot(g, s->loopvar[n - 1]), ext[n - 1]);
    } else {
      LLVMValueRef v = cg_convert(g, cg_expr(g, s->value), s->value->dtype, dt);
      reduce_step(g, op, dt, acc_slot, idx_slot, count_slot, v);
    }
    for (int i = last - 1; i >= nout; i--)
      loop_end(g, &loops[i]);
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
    loop_end(g, &loops[i]);
}

/* ---- parallel loops ----
 *
 * A parallel loop (a KS_KERNEL's outermost loop, or a KS_FOR marked
 * parallel) becomes an internal function
 *     void tc_fn_NAME.parK(i8 *env, i64 begin, i64 end)
 * running iterations [begin, end), and the caller fills an `env` struct on
 * its stack with what the body reads: the context and argument array,
 * every buffer pointer and outer loop variable the body uses, every
 * symbol the function has set so far (a symbol not yet made is 0 in both)
 * and up to two more values (a for's start and step).  The body builds
 * its own slots from the env, so the code inside is built by the same
 * functions as inline code.  Then, when the loop's points (trip count
 * times the points of one iteration) reach PAR_MIN_WORK, the caller calls
 * tcrt_parallel_for(ctx, trips, body, env), which splits [0, trips) over
 * the context's threads; below that it calls body(env, 0, trips) itself
 * (which LLVM may inline): waking threads costs microseconds, more than a
 * small kernel's whole run.  Inside a body, loops run serially. */
enum { PAR_MIN_WORK = 1 << 15 };

typedef struct Uses {
  bool *bufs, *vars, *defs; /* buffers and variables read; variables defined inside */
} Uses;

static void uses_expr(Uses *u, KExpr *e) {
  if (!e)
    return;
  if (e->kind == KX_LOAD)
    u->bufs[e->buf] = true;
  if (e->kind == KX_VAR)
    u->vars[e->var] = true;
  for (int i = 0; i < e->nargs; i++)
    uses_expr(u, e->args[i]);
}

static void uses_list(Uses *u, KList *l);

static void uses_stmt(Uses *u, KStmt *s) {
  switch (s->kind) {
  case KS_KERNEL:
    u->bufs[s->buf] = true;
    uses_expr(u, s->value);
    uses_expr(u, s->finalize);
    for (int i = 0; i < s->nstore; i++)
      uses_expr(u, s->store_idx[i]);
    for (int i = 0; i < s->nloops; i++)
      u->defs[s->loopvar[i]] = true;
    return;
  case KS_FOR:
    uses_expr(u, s->cond);
    uses_expr(u, s->stop);
    uses_expr(u, s->step);
    u->defs[s->var] = true;
    uses_list(u, &s->body);
    return;
  case KS_IF:
    uses_expr(u, s->cond);
    uses_list(u, &s->body);
    uses_list(u, &s->orelse);
    return;
  default: ir_die(s->loc, "codegen: statement kind %d in a parallel loop", (int)s->kind);
  }
}

static void uses_list(Uses *u, KList *l) {
  for (int i = 0; i < l->n; i++)
    uses_stmt(u, l->v[i]);
}

/* Whether a for's body can be outlined: kernels, and fors and ifs of
 * them (nothing that allocates, sets a symbol or can fail). */
static bool outlinable(KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_FOR ? !outlinable(&s->body)
        : s->kind == KS_IF ? !outlinable(&s->body) || !outlinable(&s->orelse)
                           : s->kind != KS_KERNEL)
      return false;
  }
  return true;
}

typedef void (*RangeFn)(Cg *g, KStmt *s, LLVMValueRef begin, LLVMValueRef end);

/* The env's next field, in the body. */
static LLVMValueRef field(Cg *g, LLVMTypeRef envt, LLVMValueRef envp, int *k, const char *name) {
  LLVMTypeRef t = LLVMStructGetTypeAtIndex(envt, (unsigned)*k);
  LLVMValueRef v = LLVMBuildLoad2(g->b, t, LLVMBuildStructGEP2(g->b, envt, envp, (unsigned)*k, ""), name);
  ++*k;
  return v;
}

static void emit_parallel(Cg *g, KStmt *s, LLVMValueRef trips, LLVMValueRef work, RangeFn range, LLVMValueRef *extra,
                          int nextra) {
  KFunc *f = g->f;
  int nb = f->bufs.n, nv = f->nvars;
  Uses u = {ir_alloc((size_t)nb + 1), ir_alloc((size_t)nv + 1), ir_alloc((size_t)nv + 1)};
  uses_stmt(&u, s);
  /* 1. the env: ctx, args, buffers, symbols, variables, extras */
  int nfield = 2 + nextra, *bl = ir_alloc(sizeof(int) * ((size_t)nb + 1)), *sl = ir_alloc(sizeof(int) * ((size_t)g->nsyms + 1)),
      *vl = ir_alloc(sizeof(int) * ((size_t)nv + 1)), nbl = 0, nsl = 0, nvl = 0;
  for (int i = 0; i < nb; i++)
    if (u.bufs[i])
      bl[nbl++] = i;
  for (int i = 0; i < g->nsyms; i++)
    if (g->syms[i])
      sl[nsl++] = i;
  for (int i = 0; i < nv; i++)
    if (u.vars[i] && !u.defs[i])
      vl[nvl++] = i;
  nfield += nbl + nsl + nvl;
  LLVMTypeRef *ft = ir_alloc(sizeof(LLVMTypeRef) * (size_t)nfield);
  ft[0] = g->t_ctxp;
  ft[1] = LLVMPointerType(g->t_array, 0);
  for (int i = 2; i < nfield; i++)
    ft[i] = i < 2 + nbl ? g->t_ptr : g->t_i64;
  LLVMTypeRef envt = LLVMStructTypeInContext(g->c, ft, (unsigned)nfield, 0);
  LLVMValueRef env = slot(g, envt, "env");
  LLVMValueRef *val = ir_alloc(sizeof(LLVMValueRef) * (size_t)nfield);
  int k = 0;
  val[k++] = g->ctx;
  val[k++] = g->args;
  for (int i = 0; i < nbl; i++)
    val[k++] = buf_ptr(g, bl[i]);
  for (int i = 0; i < nsl; i++)
    val[k++] = LLVMBuildLoad2(g->b, g->t_i64, g->syms[sl[i]], "");
  for (int i = 0; i < nvl; i++)
    val[k++] = LLVMBuildLoad2(g->b, g->t_i64, cg_var_slot(g, vl[i]), "");
  for (int i = 0; i < nextra; i++)
    val[k++] = extra[i];
  for (int i = 0; i < nfield; i++)
    LLVMBuildStore(g->b, val[i], LLVMBuildStructGEP2(g->b, envt, env, (unsigned)i, ""));

  /* 2. the body, built with the Cg switched over to it */
  LLVMTypeRef bp[3] = {g->t_ptr, g->t_i64, g->t_i64};
  LLVMTypeRef bty = LLVMFunctionType(g->t_void, bp, 3, 0);
  LLVMValueRef body = LLVMAddFunction(g->mod, ir_sprintf("tc_fn_%s.par%d", f->name, g->nbodies++), bty);
  LLVMSetLinkage(body, LLVMInternalLinkage);
  add_attr(g, body, "nounwind");
  Cg saved = *g;
  g->fn = body;
  g->b = LLVMCreateBuilderInContext(g->c);
  g->ab = LLVMCreateBuilderInContext(g->c);
  g->bufs = ir_alloc(sizeof(LLVMValueRef) * ((size_t)nb + 1));
  g->vars = ir_alloc(sizeof(LLVMValueRef) * ((size_t)nv + 1));
  g->syms = ir_alloc(sizeof(LLVMValueRef) * ((size_t)saved.nsyms + 1));
  g->arr_tmp = g->errbuf = g->acc = g->acc_index = NULL;
  g->in_body = true;
  LLVMBasicBlockRef entry = block(g, "entry"), start = block(g, "start");
  LLVMPositionBuilderAtEnd(g->ab, entry);
  LLVMPositionBuilderAtEnd(g->b, start);
  LLVMValueRef envp = LLVMBuildBitCast(g->b, LLVMGetParam(body, 0), LLVMPointerType(envt, 0), "env");
  k = 0;
  g->ctx = field(g, envt, envp, &k, "ctx");
  g->args = field(g, envt, envp, &k, "args");
  for (int i = 0; i < nbl; i++) {
    KBuf *kb = k_buf(f, bl[i]);
    g->bufs[bl[i]] = slot(g, g->t_ptr, ir_sprintf("%s.addr", kb->name ? kb->name : "buf"));
    LLVMBuildStore(g->b, field(g, envt, envp, &k, ""), g->bufs[bl[i]]);
  }
  for (int i = 0; i < nsl; i++) {
    g->syms[sl[i]] = slot(g, g->t_i64, ir_sym_name(sl[i]));
    LLVMBuildStore(g->b, field(g, envt, envp, &k, ""), g->syms[sl[i]]);
  }
  for (int i = 0; i < nvl; i++)
    LLVMBuildStore(g->b, field(g, envt, envp, &k, ""), cg_var_slot(g, vl[i]));
  for (int i = 0; i < nextra; i++)
    g->par_extra[i] = field(g, envt, envp, &k, "");
  range(g, s, LLVMGetParam(body, 1), LLVMGetParam(body, 2));
  LLVMBuildRetVoid(g->b);
  LLVMBuildBr(g->ab, start);
  LLVMDisposeBuilder(g->b);
  LLVMDisposeBuilder(g->ab);
  saved.fmt_s = g->fmt_s;
  saved.nbodies = g->nbodies;
  *g = saved;

  /* 3. the call: through the pool when there is enough work */
  LLVMValueRef envi8 = LLVMBuildBitCast(g->b, env, g->t_ptr, "");
  LLVMBasicBlockRef par = block(g, "parallel"), ser = block(g, "serial"), join = block(g, "joined");
  LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSGE, work, cg_i64(g, PAR_MIN_WORK), ""), par, ser);
  LLVMPositionBuilderAtEnd(g->b, par);
  LLVMValueRef a[4] = {g->ctx, trips, body, envi8};
  return_if_nonzero(g, cg_call(g, "tcrt_parallel_for", g->t_i32, 4, a));
  LLVMBuildBr(g->b, join);
  LLVMPositionBuilderAtEnd(g->b, ser);
  LLVMValueRef ba[3] = {envi8, cg_i64(g, 0), trips};
  LLVMBuildCall2(g->b, bty, body, ba, 3, "");
  LLVMBuildBr(g->b, join);
  LLVMPositionBuilderAtEnd(g->b, join);
}

/* The points of a list's kernels (a nested for's body counted once). */
static LLVMValueRef list_work(Cg *g, KList *l) {
  LLVMValueRef w = cg_i64(g, 0);
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    LLVMValueRef p = cg_i64(g, 1);
    if (s->kind == KS_KERNEL)
      for (int j = 0; j < s->nloops; j++)
        p = LLVMBuildMul(g->b, p, cg_dim(g, s->extent[j]), "");
    else if (s->kind == KS_FOR)
      p = list_work(g, &s->body);
    else if (s->kind == KS_IF)
      p = LLVMBuildAdd(g->b, list_work(g, &s->body), list_work(g, &s->orelse), "");
    w = LLVMBuildAdd(g->b, w, p, "");
  }
  return w;
}

static void emit_kernel(Cg *g, KStmt *s) {
  int n = s->nloops, nred = s->nred;
  if (n < 0 || n > 2 * IR_MAX_RANK || nred < 0 || nred > n || !s->value)
    ir_die(s->loc, "kernel IR: a kernel with %d loops, %d reduced", n, nred);
  if (!s->parallel || g->in_body || n - nred < 1) {
    emit_kernel_range(g, s, NULL, NULL);
    return;
  }
  LLVMValueRef trips = cg_dim(g, s->extent[0]), work = trips;
  for (int i = 1; i < n; i++)
    work = LLVMBuildMul(g->b, work, cg_dim(g, s->extent[i]), "");
  emit_parallel(g, s, trips, work, emit_kernel_range, NULL, 0);
}

/* Whether two expressions are the same tree. */
static bool expr_same(KExpr *a, KExpr *b) {
  if (a == b)
    return true;
  if (!a || !b || a->kind != b->kind || a->dtype != b->dtype || a->op != b->op || a->fval != b->fval ||
      a->ival != b->ival || a->var != b->var || a->sym != b->sym || a->buf != b->buf || a->linear != b->linear ||
      a->nargs != b->nargs || (a->kind == KX_DIM && !dim_eq(a->dim, b->dim)))
    return false;
  for (int i = 0; i < a->nargs; i++)
    if (!expr_same(a->args[i], b->args[i]))
      return false;
  return true;
}

/* Every load of the kernel's output buffer in e reads the point it stores. */
static bool reads_own_point(KStmt *s, KExpr *e) {
  if (!e)
    return true;
  if (e->kind == KX_LOAD && e->buf == s->buf) {
    if (e->linear != s->store_linear || e->nargs != s->nstore)
      return false;
    for (int i = 0; i < e->nargs; i++)
      if (!expr_same(e->args[i], s->store_idx[i]))
        return false;
  }
  for (int i = 0; i < e->nargs; i++)
    if (!reads_own_point(s, e->args[i]))
      return false;
  return true;
}

/* The rule for a kernel's `parallel` mark: it has an outer (not reduced)
 * loop, one of its store indices is that loop's variable itself (so two
 * iterations never write the same element: not so for x[idx] = v or
 * x[idx] += v with repeated indices, which must run in order), and it reads
 * its output buffer only at the point it writes (an update in place). */
static bool kernel_parallel(KStmt *s) {
  if (s->nloops - s->nred < 1)
    return false;
  bool own = false;
  for (int i = 0; i < s->nstore; i++)
    own |= s->store_idx[i]->kind == KX_VAR && s->store_idx[i]->var == s->loopvar[0];
  return own && reads_own_point(s, s->value) && reads_own_point(s, s->finalize);
}

static void mark_parallel(KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_KERNEL && !s->parallel)
      s->parallel = kernel_parallel(s);
    mark_parallel(&s->body);
    mark_parallel(&s->orelse);
  }
}

/* ---- calls ---- */

static void need(KStmt *s, int nbufs, int nexprs) {
  if (s->nbufs < nbufs || s->nexprs < nexprs)
    ir_die(s->loc, "kernel IR: call %d with %d buffers and %d expressions", (int)s->call, s->nbufs, s->nexprs);
}

static LLVMValueRef expr_i64(Cg *g, KExpr *e) { return cg_convert(g, cg_expr(g, e), e->dtype, DT_I64); }

static void emit_call(Cg *g, KStmt *s) {
  switch (s->call) {
  case KC_MATMUL: {
    need(s, 3, 7);
    LLVMValueRef a[12] = {g->ctx, cg_i32(g, k_buf(g->f, s->bufs[2])->dtype), buf_ptr(g, s->bufs[0]),
                          buf_ptr(g, s->bufs[1]), buf_ptr(g, s->bufs[2])};
    if (s->nexprs >= 9) { /* a block of rows (a matmul epilogue, passes/lower_ops.c): offsets into a and out */
      LLVMValueRef es = cg_i64(g, (int64_t)LLVMABISizeOfType(g->td, cg_mem_type(g, k_buf(g->f, s->bufs[2])->dtype)));
      for (int i = 0; i < 2; i++) {
        LLVMValueRef off = LLVMBuildMul(g->b, expr_i64(g, s->exprs[7 + i]), es, "");
        a[2 + 2 * i] = LLVMBuildGEP2(g->b, g->t_i8, a[2 + 2 * i], &off, 1, "");
      }
    }
    for (int i = 0; i < 7; i++)
      a[5 + i] = expr_i64(g, s->exprs[i]);
    return_if_nonzero(g, cg_call(g, "tcrt_matmul", g->t_i32, 12, a));
    return;
  }
  case KC_RAND: {
    need(s, 1, s->op == IR_RANDINT ? 2 : 0);
    KBuf *out = k_buf(g->f, s->bufs[0]);
    LLVMValueRef p = buf_ptr(g, s->bufs[0]), n = cg_numel(g, out), st;
    if (s->op == IR_RAND || s->op == IR_RANDN) {
      LLVMValueRef a[4] = {g->ctx, cg_i32(g, out->dtype), p, n};
      st = cg_call(g, s->op == IR_RAND ? "tcrt_rand" : "tcrt_randn", g->t_i32, 4, a);
    } else if (s->op == IR_RANDINT) {
      LLVMValueRef a[5] = {g->ctx, expr_i64(g, s->exprs[0]), expr_i64(g, s->exprs[1]), p, n};
      st = cg_call(g, "tcrt_randint", g->t_i32, 5, a);
    } else if (s->op == IR_RANDPERM) {
      LLVMValueRef a[3] = {g->ctx, p, n};
      st = cg_call(g, "tcrt_randperm", g->t_i32, 3, a);
    } else {
      ir_die(s->loc, "kernel IR: a random call for %s", ir_op_name(s->op));
    }
    return_if_nonzero(g, st);
    return;
  }
  case KC_SEED: {
    need(s, 0, 1);
    LLVMValueRef a[2] = {g->ctx, expr_i64(g, s->exprs[0])};
    cg_call(g, "tcrt_seed", g->t_void, 2, a);
    return;
  }
  case KC_PRINT: {
    int next = 0;
    for (int i = 0; i < s->nstrs; i++) {
      LLVMValueRef sep = cg_i32(g, i > 0);
      if (s->strs[i]) {
        LLVMValueRef a[2] = {LLVMBuildGlobalStringPtr(g->b, s->strs[i], "str"), sep};
        cg_call(g, "tcrt_print_str", g->t_void, 2, a);
      } else {
        if (next >= s->nbufs)
          ir_die(s->loc, "kernel IR: print with more pieces than buffers");
        LLVMValueRef a[2] = {stack_array(g, s->bufs[next++]), sep};
        cg_call(g, "tcrt_print_array", g->t_void, 2, a);
      }
    }
    cg_call(g, "tcrt_print_end", g->t_void, 0, NULL);
    return;
  }
  case KC_SAVE: {
    need(s, 1, 0);
    if (!s->str)
      ir_die(s->loc, "kernel IR: save without a path");
    enum { ERRSIZE = 256 };
    if (!g->errbuf)
      g->errbuf = slot(g, LLVMArrayType(g->t_i8, ERRSIZE), "errbuf");
    LLVMValueRef err = LLVMBuildBitCast(g->b, g->errbuf, g->t_ptr, "");
    LLVMValueRef a[4] = {LLVMBuildGlobalStringPtr(g->b, s->str, "path"), stack_array(g, s->bufs[0]), err,
                         cg_i64(g, ERRSIZE)};
    LLVMValueRef st = cg_call(g, "tcrt_save", g->t_i32, 4, a);
    LLVMBasicBlockRef fail = block(g, "save.fail"), ok = block(g, "ok");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, st, cg_i32(g, 0), ""), fail, ok);
    LLVMPositionBuilderAtEnd(g->b, fail);
    build_fail(g, err);
    LLVMPositionBuilderAtEnd(g->b, ok);
    return;
  }
  case KC_PARAM_STORE: {
    need(s, 1, 0);
    LLVMValueRef a[3] = {g->ctx, cg_i32(g, s->index), buf_ptr(g, s->bufs[0])};
    cg_call(g, "tcrt_set_param", g->t_void, 3, a);
    return;
  }
  }
  ir_die(s->loc, "kernel IR: call kind %d", (int)s->call);
}

/* ---- statements ---- */

static void emit_list(Cg *g, KList *l);

/* A parallel for's iterations [begin, end): var = start + k * step. */
static void emit_for_range(Cg *g, KStmt *s, LLVMValueRef begin, LLVMValueRef end) {
  Loop l;
  loop_begin(g, &l, slot(g, g->t_i64, "k"), begin, end, NULL);
  LLVMValueRef k = LLVMBuildLoad2(g->b, g->t_i64, l.slot, "");
  LLVMBuildStore(g->b, LLVMBuildAdd(g->b, g->par_extra[0], LLVMBuildMul(g->b, k, g->par_extra[1], ""), ""),
                 cg_var_slot(g, s->var));
  emit_list(g, &s->body);
  loop_end(g, &l);
}

static void emit_stmt(Cg *g, KStmt *s) {
  LLVMBuilderRef B = g->b;
  switch (s->kind) {
  case KS_KERNEL: emit_kernel(g, s); return;
  case KS_ALLOC: {
    KBuf *kb = k_buf(g->f, s->buf);
    LLVMValueRef bytes = LLVMBuildMul(B, cg_numel(g, kb), cg_i64(g, (int64_t)LLVMABISizeOfType(g->td, cg_mem_type(g, kb->dtype))), "");
    LLVMValueRef a[2] = {g->ctx, bytes};
    LLVMValueRef p = cg_call(g, s->uninit ? "tcrt_alloc_uninit" : "tcrt_alloc", g->t_ptr, 2, a);
    LLVMBuildStore(B, p, g->bufs[s->buf]);
    /* the runtime has set the message */
    LLVMBasicBlockRef fail = block(g, "nomem"), ok = block(g, "ok");
    LLVMBuildCondBr(B, LLVMBuildIsNull(B, p, ""), fail, ok);
    LLVMPositionBuilderAtEnd(B, fail);
    LLVMBuildRet(B, cg_i32(g, TC_ERR_NOMEM));
    LLVMPositionBuilderAtEnd(B, ok);
    return;
  }
  case KS_FREE: {
    /* a buffer may alias one that lives on (a carried value, a result):
     * which one is known only at run time */
    LLVMValueRef p = buf_ptr(g, s->buf), kept = LLVMConstInt(g->t_i1, 0, 0);
    for (int i = 0; i < s->nkeep; i++)
      kept = LLVMBuildOr(B, kept, LLVMBuildICmp(B, LLVMIntEQ, p, buf_ptr(g, s->keep[i]), ""), "");
    LLVMBasicBlockRef yes = block(g, "free"), done = block(g, "freed");
    LLVMBuildCondBr(B, kept, done, yes);
    LLVMPositionBuilderAtEnd(B, yes);
    cg_call(g, "tcrt_free", g->t_void, 1, &p);
    /* NULL only when freed: a kept buffer is still handed on (the lowering
     * frees every buffer a block owns, keeping the ones it yields) */
    LLVMBuildStore(B, LLVMConstNull(g->t_ptr), g->bufs[s->buf]);
    LLVMBuildBr(B, done);
    LLVMPositionBuilderAtEnd(B, done);
    return;
  }
  case KS_MOVE: LLVMBuildStore(B, buf_ptr(g, s->src), g->bufs[s->buf]); return;
  case KS_SETSYM: LLVMBuildStore(B, expr_i64(g, s->cond), cg_sym_slot(g, s->buf)); return;
  case KS_CHECK: {
    LLVMValueRef ok_v = cg_convert(g, cg_expr(g, s->cond), s->cond->dtype, DT_BOOL);
    LLVMBasicBlockRef fail = block(g, "check.fail"), ok = block(g, "ok");
    LLVMBuildCondBr(B, ok_v, ok, fail);
    LLVMPositionBuilderAtEnd(B, fail);
    build_fail(g, LLVMBuildGlobalStringPtr(B, s->message ? s->message : "check failed", "msg"));
    LLVMPositionBuilderAtEnd(B, ok);
    return;
  }
  case KS_CALL: emit_call(g, s); return;
  case KS_FOR: {
    /* range() evaluates start, stop and step once */
    LLVMValueRef start = expr_i64(g, s->cond), stop = expr_i64(g, s->stop), step = expr_i64(g, s->step);
    if (s->parallel && !g->in_body && outlinable(&s->body)) {
      /* trips = ceil((stop - start) / step), 0 when empty (or step 0) */
      LLVMValueRef zero = cg_i64(g, 0), pos = LLVMBuildICmp(B, LLVMIntSGT, step, zero, "");
      LLVMValueRef szero = LLVMBuildICmp(B, LLVMIntEQ, step, zero, "");
      LLVMValueRef span = LLVMBuildSelect(B, pos, LLVMBuildSub(B, stop, start, ""), LLVMBuildSub(B, start, stop, ""), "");
      LLVMValueRef astep = LLVMBuildSelect(B, pos, step, LLVMBuildNeg(B, step, ""), "");
      astep = LLVMBuildSelect(B, szero, cg_i64(g, 1), astep, "");
      LLVMValueRef q = LLVMBuildSDiv(B, LLVMBuildAdd(B, span, LLVMBuildSub(B, astep, cg_i64(g, 1), ""), ""), astep, "");
      LLVMValueRef trips = LLVMBuildSelect(B, LLVMBuildAnd(B, LLVMBuildICmp(B, LLVMIntSGT, span, zero, ""),
                                                           LLVMBuildNot(B, szero, ""), ""),
                                           q, zero, "trips");
      LLVMValueRef extra[2] = {start, step};
      emit_parallel(g, s, trips, LLVMBuildMul(B, trips, list_work(g, &s->body), ""), emit_for_range, extra, 2);
      return;
    }
    Loop l;
    loop_begin(g, &l, cg_var_slot(g, s->var), start, stop, step);
    emit_list(g, &s->body);
    loop_end(g, &l);
    return;
  }
  case KS_IF: {
    LLVMValueRef c = cg_convert(g, cg_expr(g, s->cond), s->cond->dtype, DT_BOOL);
    LLVMBasicBlockRef then = block(g, "then"), other = s->orelse.n ? block(g, "else") : NULL, join = block(g, "endif");
    LLVMBuildCondBr(B, c, then, other ? other : join);
    LLVMPositionBuilderAtEnd(B, then);
    emit_list(g, &s->body);
    LLVMBuildBr(B, join);
    if (other) {
      LLVMPositionBuilderAtEnd(B, other);
      emit_list(g, &s->orelse);
      LLVMBuildBr(B, join);
    }
    LLVMPositionBuilderAtEnd(B, join);
    return;
  }
  }
  ir_die(s->loc, "kernel IR: statement kind %d", (int)s->kind);
}

static void emit_list(Cg *g, KList *l) {
  for (int i = 0; i < l->n; i++)
    emit_stmt(g, l->v[i]);
}

/* ---- functions ---- */

static LLVMValueRef emit_func(Cg *g, KFunc *f) {
  LLVMValueRef fn = LLVMAddFunction(g->mod, ir_sprintf("tc_fn_%s", f->name), g->t_fn);
  add_attr(g, fn, "nounwind");
  g->f = f;
  g->fn = fn;
  g->ctx = LLVMGetParam(fn, 0);
  g->args = LLVMGetParam(fn, 1);
  g->results = LLVMGetParam(fn, 2);
  LLVMSetValueName2(g->ctx, "ctx", 3);
  LLVMSetValueName2(g->args, "args", 4);
  LLVMSetValueName2(g->results, "results", 7);
  g->syms = NULL;
  g->nsyms = 0;
  g->arr_tmp = g->errbuf = NULL;
  g->acc = g->acc_index = NULL;

  /* 1. slots, in "entry"; the code starts in "start" */
  LLVMBasicBlockRef entry = block(g, "entry"), start = block(g, "start");
  LLVMPositionBuilderAtEnd(g->ab, entry);
  LLVMPositionBuilderAtEnd(g->b, start);
  int nb = f->bufs.n;
  g->bufs = ir_alloc(sizeof(LLVMValueRef) * (size_t)(nb ? nb : 1));
  for (int i = 0; i < nb; i++) {
    KBuf *kb = k_buf(f, i);
    g->bufs[i] = slot(g, g->t_ptr, ir_sprintf("%s.addr", kb->name ? kb->name : "buf"));
    LLVMBuildStore(g->ab, LLVMConstNull(g->t_ptr), g->bufs[i]);
  }
  g->vars = ir_alloc(sizeof(LLVMValueRef) * (size_t)(f->nvars > 0 ? f->nvars : 1)); /* made on first use */

  /* 2. borrowed buffers: arguments and params */
  for (int i = 0; i < nb; i++) {
    KBuf *kb = k_buf(f, i);
    LLVMValueRef p = NULL;
    if (kb->kind == KB_ARG) {
      LLVMValueRef idx[2] = {cg_i64(g, kb->index), cg_i32(g, 0)};
      p = LLVMBuildLoad2(g->b, g->t_ptr, LLVMBuildInBoundsGEP2(g->b, g->t_array, g->args, idx, 2, ""), "");
    } else if (kb->kind == KB_PARAM) {
      LLVMValueRef a[2] = {g->ctx, cg_i32(g, kb->index)};
      p = cg_call(g, "tcrt_param", g->t_ptr, 2, a);
    }
    if (p)
      LLVMBuildStore(g->b, p, g->bufs[i]);
  }

  /* 3. the body */
  emit_list(g, &f->body);

  /* 4. results: data, dtype, rank, shape (zero beyond the rank) */
  for (int r = 0; r < f->nresults; r++) {
    KBuf *kb = k_buf(f, f->results[r]);
    LLVMValueRef idx[2] = {cg_i64(g, r), cg_i32(g, 0)};
    LLVMValueRef base = g->results;
    LLVMBuildStore(g->b, buf_ptr(g, f->results[r]), LLVMBuildInBoundsGEP2(g->b, g->t_array, base, idx, 2, ""));
    idx[1] = cg_i32(g, 1);
    LLVMBuildStore(g->b, cg_i32(g, kb->dtype), LLVMBuildInBoundsGEP2(g->b, g->t_array, base, idx, 2, ""));
    idx[1] = cg_i32(g, 2);
    LLVMBuildStore(g->b, cg_i32(g, kb->rank), LLVMBuildInBoundsGEP2(g->b, g->t_array, base, idx, 2, ""));
    for (int i = 0; i < IR_MAX_RANK; i++) {
      LLVMValueRef sidx[3] = {cg_i64(g, r), cg_i32(g, 3), cg_i64(g, i)};
      LLVMValueRef d = i < kb->rank ? cg_dim(g, kb->dims[i]) : cg_i64(g, 0);
      LLVMBuildStore(g->b, d, LLVMBuildInBoundsGEP2(g->b, g->t_array, base, sidx, 3, ""));
    }
  }
  LLVMBuildRet(g->b, cg_i32(g, 0));
  LLVMBuildBr(g->ab, start);
  g->f = NULL;
  return fn;
}

/* ---- the module ---- */

LLVMModuleRef cg_cpu_module(LLVMContextRef c, KModule *m, LLVMTargetDataRef td, const char *triple,
                            const IfModule *lib, bool shared) {
  Cg g = {0};
  g.c = c;
  g.td = td;
  g.mod = LLVMModuleCreateWithNameInContext(m->name ? m->name : "tensorc", c);
  LLVMSetTarget(g.mod, triple);
  LLVMSetModuleDataLayout(g.mod, td);
  g.t_void = LLVMVoidTypeInContext(c);
  g.t_i1 = LLVMInt1TypeInContext(c);
  g.t_i8 = LLVMInt8TypeInContext(c);
  g.t_i32 = LLVMInt32TypeInContext(c);
  g.t_i64 = LLVMInt64TypeInContext(c);
  g.t_f32 = LLVMFloatTypeInContext(c);
  g.t_f64 = LLVMDoubleTypeInContext(c);
  g.t_ptr = LLVMPointerType(g.t_i8, 0);
  g.t_ctxp = LLVMPointerType(LLVMStructCreateNamed(c, "tc_ctx"), 0);
  LLVMTypeRef arrf[4] = {g.t_ptr, g.t_i32, g.t_i32, LLVMArrayType(g.t_i64, IR_MAX_RANK)};
  g.t_array = LLVMStructCreateNamed(c, "tc_array");
  LLVMStructSetBody(g.t_array, arrf, 4, 0);
  LLVMTypeRef fnp[3] = {g.t_ctxp, LLVMPointerType(g.t_array, 0), LLVMPointerType(g.t_array, 0)};
  g.t_fn = LLVMFunctionType(g.t_i32, fnp, 3, 0);
  g.b = LLVMCreateBuilderInContext(c);
  g.ab = LLVMCreateBuilderInContext(c);
  CgDesc d = cg_desc_types(&g);

  KFunc *mainf = NULL;
  LLVMValueRef mainfn = NULL, initfn = NULL;
  LLVMValueRef *fns = ir_alloc(sizeof(LLVMValueRef) * (size_t)(m->funcs.n + 1));
  for (int i = 0; i < m->funcs.n; i++)
    mark_parallel(&((KFunc *)m->funcs.v[i])->body);
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    fns[i] = emit_func(&g, f);
    if (f->is_main) {
      mainf = f;
      mainfn = fns[i];
    }
    if (f->is_init)
      initfn = fns[i];
  }
  LLVMValueRef init = cg_init_entry(&g, &d, m, initfn);
  bool ok = lib ? cg_emit_library(&g, &d, m, lib, fns, init, shared)
                : !mainf || cg_emit_program(&g, &d, m, mainf, mainfn, init);
  LLVMDisposeBuilder(g.b);
  LLVMDisposeBuilder(g.ab);
  if (!ok) {
    LLVMDisposeModule(g.mod);
    return NULL;
  }
  return g.mod;
}
