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
 *                      update, then store finalize
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

/* acc = combine(acc, v), and for ARGMAX/ARGMIN idx = count when v wins. */
static void reduce_step(Cg *g, IrOp op, DType dt, LLVMValueRef acc_slot, LLVMValueRef idx_slot,
                        LLVMValueRef count_slot, LLVMValueRef v) {
  LLVMBuilderRef B = g->b;
  LLVMValueRef acc = LLVMBuildLoad2(B, cg_type(g, dt), acc_slot, "acc");
  bool fl = ir_dtype_is_float(dt), bl = dt == DT_BOOL;
  LLVMValueRef r;
  switch (op) {
  case IR_SUM: r = fl ? LLVMBuildFAdd(B, acc, v, "") : bl ? LLVMBuildOr(B, acc, v, "") : LLVMBuildAdd(B, acc, v, ""); break;
  case IR_PROD: r = fl ? LLVMBuildFMul(B, acc, v, "") : bl ? LLVMBuildAnd(B, acc, v, "") : LLVMBuildMul(B, acc, v, ""); break;
  case IR_ANY: r = LLVMBuildOr(B, acc, v, ""); break;
  case IR_ALL: r = LLVMBuildAnd(B, acc, v, ""); break;
  /* v first: it wins when larger or NaN, and a NaN accumulator stays */
  case IR_MAX: r = cg_maxmin(g, true, v, acc, dt); break;
  case IR_MIN: r = cg_maxmin(g, false, v, acc, dt); break;
  case IR_ARGMAX:
  case IR_ARGMIN: {
    bool max = op == IR_ARGMAX;
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
    break;
  }
  default: ir_die((Loc){0}, "kernel IR: reduction by %s", ir_op_name(op));
  }
  LLVMBuildStore(B, r, acc_slot);
}

static void store_result(Cg *g, KStmt *s, LLVMValueRef v, DType vdt) {
  DType bt = k_buf(g->f, s->buf)->dtype;
  LLVMValueRef p = cg_elem_ptr(g, s->buf, s->store_idx, s->nstore, s->store_linear);
  cg_store_elem(g, p, cg_convert(g, v, vdt, bt), bt);
}

static void emit_kernel(Cg *g, KStmt *s) {
  int n = s->nloops, nred = s->nred, nout = n - nred;
  if (n < 0 || n > 2 * IR_MAX_RANK || nred < 0 || nred > n || !s->value)
    ir_die(s->loc, "kernel IR: a kernel with %d loops, %d reduced", n, nred);
  /* trip counts depend on symbols only: evaluated once, before the nest */
  LLVMValueRef ext[2 * IR_MAX_RANK];
  for (int i = 0; i < n; i++)
    ext[i] = cg_dim(g, s->extent[i]);
  Loop loops[2 * IR_MAX_RANK];
  for (int i = 0; i < nout; i++)
    loop_begin(g, &loops[i], cg_var_slot(g, s->loopvar[i]), cg_i64(g, 0), ext[i], NULL);
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
    for (int i = nout; i < n; i++)
      loop_begin(g, &loops[i], cg_var_slot(g, s->loopvar[i]), cg_i64(g, 0), ext[i], NULL);
    LLVMValueRef v = cg_convert(g, cg_expr(g, s->value), s->value->dtype, dt);
    reduce_step(g, op, dt, acc_slot, idx_slot, count_slot, v);
    for (int i = n - 1; i >= nout; i--)
      loop_end(g, &loops[i]);
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

static void emit_stmt(Cg *g, KStmt *s) {
  LLVMBuilderRef B = g->b;
  switch (s->kind) {
  case KS_KERNEL: emit_kernel(g, s); return;
  case KS_ALLOC: {
    KBuf *kb = k_buf(g->f, s->buf);
    LLVMValueRef bytes = LLVMBuildMul(B, cg_numel(g, kb), cg_i64(g, (int64_t)LLVMABISizeOfType(g->td, cg_mem_type(g, kb->dtype))), "");
    LLVMValueRef a[2] = {g->ctx, bytes};
    LLVMValueRef p = cg_call(g, "tcrt_alloc", g->t_ptr, 2, a);
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

static void add_attr(Cg *g, LLVMValueRef fn, const char *name) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->c, kind, 0));
}

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
  g->vars = ir_alloc(sizeof(LLVMValueRef) * (size_t)(f->nvars > 0 ? f->nvars : 1));
  for (int i = 0; i < f->nvars; i++)
    g->vars[i] = slot(g, g->t_i64, ir_sprintf("v%d", i));

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
