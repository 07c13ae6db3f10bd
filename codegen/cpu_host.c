/* codegen/cpu_host.c - kernel IR to an LLVM module (LLVM C API): the host code.
 *
 * Every KFunc becomes
 *     int tc_fn_NAME(tc_ctx *ctx, const tc_array *args, tc_array *results)
 * with external linkage, returning 0 or a runtime status.  Variables are
 * stack slots made in the function's first block: one i8* per buffer
 * (NULL at entry, except arguments and params, which are borrowed), one i64
 * per loop variable and one per dimension symbol (made on first use, 0
 * until a KS_SETSYM), which keeps this file free of phi bookkeeping.  The
 * function is glue and stays unoptimised (optnone: LLVM's fast
 * instruction selector, no IR passes): its kernels, serial or parallel,
 * are outlined into functions of their own (cpu_parallel.c), where sroa
 * turns the slots into SSA values.  Statements map one to one:
 *   alloc/free/move    tcrt_alloc (tcrt_result_alloc, tcrt_dev_result_alloc for `-> outK`,
 *                      tcrt_dev_arena for `@arena+OFF`) / tcrt_free
 *                      and NULL (unless kept) / a copy
 *   check, calls       a branch to a block that returns the status
 *   for, if            the usual loop and diamond
 *   kernel             its loop nest (cpu_kernel.c) in an outlined body,
 *                      called directly or by tcrt_parallel_for
 *   a parallel for     an outlined body run by tcrt_parallel_for
 *                      (cpu_parallel.c)
 * A status is returned as soon as it is nonzero; nothing is freed on that
 * path (the process reports the error and exits).  On entry results[i]
 * is zero or the caller's memory for result i (tcrt_result_alloc takes
 * it for a buffer memplan marked `-> outI`); at the end, results[i] gets
 * the data, dtype, rank and shape of buffer f->results[i].
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

LLVMBasicBlockRef cg_block(Cg *g, const char *name) { return LLVMAppendBasicBlockInContext(g->c, g->fn, name); }

LLVMValueRef cg_buf_ptr(Cg *g, int buf) {
  KBuf *kb = k_buf(g->f, buf);
  return LLVMBuildLoad2(g->b, g->t_ptr, g->bufs[buf], kb->name ? kb->name : "");
}

LLVMValueRef cg_slot(Cg *g, LLVMTypeRef t, const char *name) { return LLVMBuildAlloca(g->ab, t, name); }

void cg_add_attr(Cg *g, LLVMValueRef fn, const char *name) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->c, kind, 0));
}

/* Returns `status` when it is nonzero, else goes on. */
void cg_return_if_nonzero(Cg *g, LLVMValueRef status) {
  LLVMBasicBlockRef fail = cg_block(g, "fail"), ok = cg_block(g, "ok");
  LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, status, cg_i32(g, 0), ""), fail, ok);
  LLVMPositionBuilderAtEnd(g->b, fail);
  LLVMBuildRet(g->b, status);
  LLVMPositionBuilderAtEnd(g->b, ok);
}

/* if (!p) return tcrt_status(ctx): a runtime call that gives memory (or
 * NULL after setting the error) failed; its status is the runtime's
 * (TC_ERR_NOMEM on the host, TC_ERR_INPUT for device memory, SPEC §5). */
void cg_return_if_null(Cg *g, LLVMValueRef p) {
  LLVMBasicBlockRef fail = cg_block(g, "nomem"), ok = cg_block(g, "ok");
  LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, p, ""), fail, ok);
  LLVMPositionBuilderAtEnd(g->b, fail);
  LLVMBuildRet(g->b, cg_call(g, "tcrt_status", g->t_i32, 1, &g->ctx));
  LLVMPositionBuilderAtEnd(g->b, ok);
}

/* if (failed) return tcrt_failed_at(ctx, "FILE:L:C"): the runtime's error
 * (an allocation's "out of memory: N bytes asked", a product's "cannot load
 * the BLAS library") with the statement's .tc line in front; without a
 * line, the runtime's status as it is. */
static void return_if_failed_at(Cg *g, LLVMValueRef failed, Loc loc) {
  LLVMBasicBlockRef fail = cg_block(g, "fail"), ok = cg_block(g, "ok");
  LLVMBuildCondBr(g->b, failed, fail, ok);
  LLVMPositionBuilderAtEnd(g->b, fail);
  if (loc.file) {
    const char *slash = strrchr(loc.file, '/');
    const char *where = ir_sprintf("%s:%d:%d", slash ? slash + 1 : loc.file, loc.line, loc.col);
    LLVMValueRef a[2] = {g->ctx, cg_cstr(g, where)};
    LLVMBuildRet(g->b, cg_call(g, "tcrt_failed_at", g->t_i32, 2, a));
  } else {
    LLVMBuildRet(g->b, cg_call(g, "tcrt_status", g->t_i32, 1, &g->ctx));
  }
  LLVMPositionBuilderAtEnd(g->b, ok);
}

/* return tcrt_fail(ctx, 1, "%s", msg) -- through "%s" so that a '%' in the
 * message is printed, not interpreted. */
static LLVMTypeRef fail_type(Cg *g, LLVMValueRef *fn) {
  LLVMTypeRef params[3] = {g->t_ctxp, g->t_i32, g->t_ptr};
  LLVMTypeRef fty = LLVMFunctionType(g->t_i32, params, 3, 1);
  *fn = LLVMGetNamedFunction(g->mod, "tcrt_fail");
  if (!*fn)
    *fn = LLVMAddFunction(g->mod, "tcrt_fail", fty);
  return fty;
}

static void build_fail(Cg *g, LLVMValueRef msg, int status) {
  LLVMValueRef fn;
  LLVMTypeRef fty = fail_type(g, &fn);
  if (!g->fmt_s)
    g->fmt_s = LLVMBuildGlobalStringPtr(g->b, "%s", "fmt.s");
  LLVMValueRef args[4] = {g->ctx, cg_i32(g, status), g->fmt_s, msg};
  LLVMBuildRet(g->b, LLVMBuildCall2(g->b, fty, fn, args, 4, "status"));
}

/* A check whose message is a format of its values (i64, %lld). */
static void build_fail_values(Cg *g, KStmt *s) {
  LLVMValueRef fn;
  LLVMTypeRef fty = fail_type(g, &fn);
  LLVMValueRef *args = ir_alloc(sizeof(LLVMValueRef) * (size_t)(3 + s->nexprs));
  args[0] = g->ctx, args[1] = cg_i32(g, s->input ? TC_ERR_INPUT : TC_ERR_RUNTIME);
  args[2] = LLVMBuildGlobalStringPtr(g->b, s->message, "fmt");
  for (int i = 0; i < s->nexprs; i++)
    args[3 + i] = cg_expr_i64(g, s->exprs[i]);
  LLVMBuildRet(g->b, LLVMBuildCall2(g->b, fty, fn, args, (unsigned)(3 + s->nexprs), "status"));
}

/* Fills the function's stack tc_array from buffer `buf`, for print and save. */
static LLVMValueRef stack_array(Cg *g, int buf) {
  KBuf *kb = k_buf(g->f, buf);
  if (!g->arr_tmp)
    g->arr_tmp = cg_slot(g, g->t_array, "arr");
  LLVMValueRef a = g->arr_tmp;
  LLVMBuildStore(g->b, cg_buf_ptr(g, buf), LLVMBuildStructGEP2(g->b, g->t_array, a, 0, ""));
  LLVMBuildStore(g->b, cg_i32(g, kb->dtype), LLVMBuildStructGEP2(g->b, g->t_array, a, 1, ""));
  LLVMBuildStore(g->b, cg_i32(g, kb->rank), LLVMBuildStructGEP2(g->b, g->t_array, a, 2, ""));
  for (int i = 0; i < kb->rank; i++) {
    LLVMValueRef idx[3] = {cg_i64(g, 0), cg_i32(g, 3), cg_i64(g, i)};
    LLVMBuildStore(g->b, cg_dim(g, kb->dims[i]), LLVMBuildInBoundsGEP2(g->b, g->t_array, a, idx, 3, ""));
  }
  return a;
}


/* ---- calls ---- */

static void need(KStmt *s, int nbufs, int nexprs) {
  if (s->nbufs < nbufs || s->nexprs < nexprs)
    ir_die(s->loc, "kernel IR: call %d with %d buffers and %d expressions", (int)s->call, s->nbufs, s->nexprs);
}

LLVMValueRef cg_expr_i64(Cg *g, KExpr *e) { return cg_convert(g, cg_expr(g, e), e->dtype, DT_I64); }

/* tcrt_dev_matmul_epilogue(ctx, dt, trans, epilogue, a, b, bias, c, m, n, k): a whole f32 product on the
 * device (blas_epilogue folds nothing else; the verifier checks it). */
static void emit_matmul_epilogue(Cg *g, KStmt *s) {
  _Static_assert((int)KE_BIAS == (int)TC_EPI_BIAS && (int)KE_RELU == (int)TC_EPI_RELU &&
                     (int)KE_GELU_TANH == (int)TC_EPI_GELU_TANH,
                 "the kernel IR's epilogue flags are the runtime's");
  need(s, 3 + ((s->epilogue & KE_BIAS) != 0), 7);
  if (k_buf(g->f, s->bufs[2])->space != KM_DEVICE)
    ir_die(s->loc, "kernel IR: a matmul epilogue on host memory (blas_epilogue is for GPU targets)");
  LLVMValueRef a[11] = {g->ctx, cg_i32(g, k_buf(g->f, s->bufs[2])->dtype), cg_i32(g, s->trans), cg_i32(g, s->epilogue),
                        cg_buf_ptr(g, s->bufs[0]), cg_buf_ptr(g, s->bufs[1]),
                        s->epilogue & KE_BIAS ? cg_buf_ptr(g, s->bufs[3]) : LLVMConstNull(g->t_ptr),
                        cg_buf_ptr(g, s->bufs[2])};
  for (int i = 0; i < 3; i++)
    a[8 + i] = cg_expr_i64(g, s->exprs[1 + i]);
  LLVMValueRef status = cg_call(g, "tcrt_dev_matmul_epilogue", g->t_i32, 11, a);
  return_if_failed_at(g, LLVMBuildICmp(g->b, LLVMIntNE, status, cg_i32(g, 0), ""), s->loc);
}

/* An all_reduce's TC_REDUCE_* (runtime.h) */
static int dist_reduce(const KStmt *s) {
  _Static_assert(TC_REDUCE_SUM == 0 && TC_REDUCE_MEAN == 1 && TC_REDUCE_MAX == 2, "the runtime's reductions");
  return s->op == IR_ALL_REDUCE_MEAN ? TC_REDUCE_MEAN : s->op == IR_ALL_REDUCE_MAX ? TC_REDUCE_MAX : TC_REDUCE_SUM;
}

static void emit_call(Cg *g, KStmt *s) {
  switch (s->call) {
  case KC_MATMUL: {
    need(s, 3, 7);
    if (s->epilogue) { /* bias/activation folded into the call (passes/blas_epilogue.c): cuBLASLt */
      emit_matmul_epilogue(g, s);
      return;
    }
    _Static_assert((int)KMM_TRANS_A == (int)TC_MM_TRANS_A && (int)KMM_TRANS_B == (int)TC_MM_TRANS_B,
                   "the kernel IR's transpose flags are the runtime's");
    LLVMValueRef a[13] = {g->ctx, cg_i32(g, k_buf(g->f, s->bufs[2])->dtype), cg_i32(g, s->trans),
                          cg_buf_ptr(g, s->bufs[0]), cg_buf_ptr(g, s->bufs[1]), cg_buf_ptr(g, s->bufs[2])};
    if (s->nexprs >= 9) { /* a block of rows (a matmul epilogue, passes/lower_ops.c): offsets into a and out */
      LLVMValueRef es = cg_i64(g, (int64_t)LLVMABISizeOfType(g->td, cg_mem_type(g, k_buf(g->f, s->bufs[2])->dtype)));
      for (int i = 0; i < 2; i++) {
        LLVMValueRef off = LLVMBuildMul(g->b, cg_expr_i64(g, s->exprs[7 + i]), es, "");
        a[3 + 2 * i] = LLVMBuildGEP2(g->b, g->t_i8, a[3 + 2 * i], &off, 1, "");
      }
    }
    for (int i = 0; i < 7; i++)
      a[6 + i] = cg_expr_i64(g, s->exprs[i]);
    bool dev = k_buf(g->f, s->bufs[2])->space == KM_DEVICE; /* cuBLAS, or its stand-in */
    LLVMValueRef status = cg_call(g, dev ? "tcrt_dev_matmul" : "tcrt_matmul", g->t_i32, 13, a);
    return_if_failed_at(g, LLVMBuildICmp(g->b, LLVMIntNE, status, cg_i32(g, 0), ""), s->loc);
    return;
  }
  case KC_RAND: {
    need(s, 1, s->op == IR_RANDINT ? 2 : 0);
    KBuf *out = k_buf(g->f, s->bufs[0]);
    bool dev = out->space == KM_DEVICE; /* the prelude's Philox kernels draw the same numbers */
    LLVMValueRef p = cg_buf_ptr(g, s->bufs[0]), n = cg_numel(g, out), st;
    if (s->op == IR_RAND || s->op == IR_RANDN) {
      LLVMValueRef a[4] = {g->ctx, cg_i32(g, out->dtype), p, n};
      st = cg_call(g, s->op == IR_RAND ? (dev ? "tcrt_dev_rand" : "tcrt_rand") : (dev ? "tcrt_dev_randn" : "tcrt_randn"),
                   g->t_i32, 4, a);
    } else if (s->op == IR_RANDINT) {
      LLVMValueRef a[5] = {g->ctx, cg_expr_i64(g, s->exprs[0]), cg_expr_i64(g, s->exprs[1]), p, n};
      st = cg_call(g, dev ? "tcrt_dev_randint" : "tcrt_randint", g->t_i32, 5, a);
    } else if (s->op == IR_RANDPERM) {
      LLVMValueRef a[3] = {g->ctx, p, n};
      st = cg_call(g, dev ? "tcrt_dev_randperm" : "tcrt_randperm", g->t_i32, 3, a);
    } else {
      ir_die(s->loc, "kernel IR: a random call for %s", ir_op_name(s->op));
    }
    cg_return_if_nonzero(g, st);
    return;
  }
  case KC_SEED: {
    need(s, 0, 1);
    LLVMValueRef a[2] = {g->ctx, cg_expr_i64(g, s->exprs[0])};
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
      g->errbuf = cg_slot(g, LLVMArrayType(g->t_i8, ERRSIZE), "errbuf");
    LLVMValueRef err = LLVMBuildBitCast(g->b, g->errbuf, g->t_ptr, "");
    LLVMValueRef a[4] = {LLVMBuildGlobalStringPtr(g->b, s->str, "path"), stack_array(g, s->bufs[0]), err,
                         cg_i64(g, ERRSIZE)};
    LLVMValueRef st = cg_call(g, "tcrt_save", g->t_i32, 4, a);
    LLVMBasicBlockRef fail = cg_block(g, "save.fail"), ok = cg_block(g, "ok");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, st, cg_i32(g, 0), ""), fail, ok);
    LLVMPositionBuilderAtEnd(g->b, fail);
    build_fail(g, err, TC_ERR_RUNTIME);
    LLVMPositionBuilderAtEnd(g->b, ok);
    return;
  }
  case KC_DIST: {
    /* tcrt_rank(ctx, out) ... tcrt_all_reduce(ctx, dt, op, in, out, n): runtime/dist.c */
    /* dist_overlap's halves: tcrt_all_reduce_start(ctx, id, dt, op, in, out, n), tcrt_all_reduce_wait(ctx, id) */
    if (s->part == KD_START) {
      need(s, 2, 0);
      KBuf *kb = k_buf(g->f, s->bufs[1]);
      LLVMValueRef a[7] = {g->ctx, cg_i32(g, s->index), cg_i32(g, kb->dtype), cg_i32(g, dist_reduce(s)),
                           cg_buf_ptr(g, s->bufs[0]), cg_buf_ptr(g, s->bufs[1]), cg_numel(g, kb)};
      cg_return_if_nonzero(g, cg_call(g, "tcrt_all_reduce_start", g->t_i32, 7, a));
      return;
    }
    if (s->part == KD_WAIT) {
      need(s, 1, 0);
      LLVMValueRef a[2] = {g->ctx, cg_i32(g, s->index)};
      cg_return_if_nonzero(g, cg_call(g, "tcrt_all_reduce_wait", g->t_i32, 2, a));
      return;
    }
    need(s, s->op == IR_RANK || s->op == IR_WORLD_SIZE ? 1 : 2, s->op == IR_BROADCAST);
    LLVMValueRef st, out = cg_buf_ptr(g, s->bufs[s->nbufs - 1]);
    if (s->op == IR_RANK || s->op == IR_WORLD_SIZE) {
      LLVMValueRef a[2] = {g->ctx, out};
      st = cg_call(g, s->op == IR_RANK ? "tcrt_rank" : "tcrt_world_size", g->t_i32, 2, a);
    } else {
      KBuf *kb = k_buf(g->f, s->bufs[1]);
      LLVMValueRef a[6] = {g->ctx, cg_i32(g, kb->dtype), NULL, cg_buf_ptr(g, s->bufs[0]), out, cg_numel(g, kb)};
      if (s->op == IR_BROADCAST) {
        a[2] = cg_expr_i64(g, s->exprs[0]);
        st = cg_call(g, "tcrt_broadcast", g->t_i32, 6, a);
      } else {
        a[2] = cg_i32(g, dist_reduce(s));
        st = cg_call(g, "tcrt_all_reduce", g->t_i32, 6, a);
      }
    }
    cg_return_if_nonzero(g, st);
    return;
  }
  case KC_PARAM_STORE: {
    need(s, 1, 0);
    LLVMValueRef a[3] = {g->ctx, cg_i32(g, s->index), cg_buf_ptr(g, s->bufs[0])};
    cg_call(g, "tcrt_set_param", g->t_void, 3, a);
    return;
  }
  }
  ir_die(s->loc, "kernel IR: call kind %d", (int)s->call);
}

/* ---- statements ---- */

/* The bytes of buffer b's data. */
static LLVMValueRef buf_bytes(Cg *g, int b) {
  KBuf *kb = k_buf(g->f, b);
  return LLVMBuildMul(g->b, cg_numel(g, kb), cg_i64(g, (int64_t)LLVMABISizeOfType(g->td, cg_mem_type(g, kb->dtype))),
                      "");
}

static void emit_stmt(Cg *g, KStmt *s);

/* A kernel statement or a matmul between --profile's calls (cpu_profile.c). */
void cg_emit_stmt(Cg *g, KStmt *s) {
  cg_debug_loc(g, s->loc); /* -g: what follows is this statement's line */
  if (!cg_prof_wanted(g, s)) {
    emit_stmt(g, s);
    return;
  }
  CgProf p = cg_prof_begin(g, s);
  emit_stmt(g, s);
  cg_prof_end(g, s, &p);
}

static void emit_stmt(Cg *g, KStmt *s) {
  LLVMBuilderRef B = g->b;
  switch (s->kind) {
  case KS_KERNEL:
    if (s->device)
      cg_emit_launch(g, s);
    else
      cg_emit_kernel(g, s);
    return;
  case KS_ALLOC: {
    KBuf *kb = k_buf(g->f, s->buf);
    LLVMValueRef a[2] = {g->ctx, buf_bytes(g, s->buf)}, p;
    const char *fn = kb->space == KM_DEVICE ? (s->uninit ? "tcrt_dev_alloc_uninit" : "tcrt_dev_alloc")
                                            : (s->uninit ? "tcrt_alloc_uninit" : "tcrt_alloc");
    if (s->arena) {
      /* bytes of the function's static device arena (memplan_arena.c): the
       * runtime finds it by the address of a global of this function's */
      const char *name = ir_sprintf("arena.%s", g->f->name);
      LLVMValueRef key = LLVMGetNamedGlobal(g->mod, name);
      if (!key) {
        key = LLVMAddGlobal(g->mod, g->t_i8, name);
        LLVMSetInitializer(key, LLVMConstInt(g->t_i8, 0, 0));
        LLVMSetLinkage(key, LLVMPrivateLinkage);
      }
      LLVMValueRef b[6] = {g->ctx, LLVMBuildBitCast(B, key, g->t_ptr, ""), cg_i64(g, g->f->arena_bytes),
                           cg_i64(g, s->arena_off), a[1], cg_i32(g, !s->uninit)};
      p = cg_call(g, "tcrt_dev_arena", g->t_ptr, 6, b);
    } else if (s->out && kb->space == KM_HOST) {
      /* returned as result out-1: the caller's memory when it passed a block of this size */
      LLVMValueRef b[5] = {g->ctx, g->results, cg_i32(g, s->out - 1), a[1], cg_i32(g, s->uninit)};
      p = cg_call(g, "tcrt_result_alloc", g->t_ptr, 5, b);
    } else if (s->out) { /* the same in device memory: the caller's kDLCUDA output */
      LLVMValueRef b[4] = {g->ctx, cg_i32(g, s->out - 1), a[1], cg_i32(g, s->uninit)};
      p = cg_call(g, "tcrt_dev_result_alloc", g->t_ptr, 4, b);
    } else {
      p = cg_call(g, fn, g->t_ptr, 2, a);
    }
    LLVMBuildStore(B, p, g->bufs[s->buf]);
    return_if_failed_at(g, LLVMBuildIsNull(g->b, p, ""), s->loc);
    return;
  }
  case KS_FREE: {
    /* a buffer may alias one that lives on (a carried value, a result):
     * which one is known only at run time */
    LLVMValueRef p = cg_buf_ptr(g, s->buf), kept = LLVMConstInt(g->t_i1, 0, 0);
    for (int i = 0; i < s->nkeep; i++)
      kept = LLVMBuildOr(B, kept, LLVMBuildICmp(B, LLVMIntEQ, p, cg_buf_ptr(g, s->keep[i]), ""), "");
    LLVMBasicBlockRef yes = cg_block(g, "free"), done = cg_block(g, "freed");
    LLVMBuildCondBr(B, kept, done, yes);
    LLVMPositionBuilderAtEnd(B, yes);
    if (k_buf(g->f, s->buf)->space == KM_DEVICE) {
      LLVMValueRef a[2] = {g->ctx, p};
      cg_call(g, "tcrt_dev_free", g->t_void, 2, a);
    } else {
      cg_call(g, "tcrt_free", g->t_void, 1, &p);
    }
    /* NULL only when freed: a kept buffer is still handed on (the lowering
     * frees every buffer a block owns, keeping the ones it yields) */
    LLVMBuildStore(B, LLVMConstNull(g->t_ptr), g->bufs[s->buf]);
    LLVMBuildBr(B, done);
    LLVMPositionBuilderAtEnd(B, done);
    return;
  }
  case KS_MOVE: LLVMBuildStore(B, cg_buf_ptr(g, s->src), g->bufs[s->buf]); return;
  case KS_COPY: {
    bool to_dev = k_buf(g->f, s->buf)->space == KM_DEVICE, from_dev = k_buf(g->f, s->src)->space == KM_DEVICE;
    if (!to_dev && !from_dev)
      ir_die(s->loc, "codegen: a copy between two host buffers");
    if (s->borrow) { /* the caller's device tensor as it is, or a copy (tcrt_dev_arg) */
      LLVMValueRef a[3] = {g->ctx, cg_buf_ptr(g, s->src), buf_bytes(g, s->buf)};
      LLVMValueRef p = cg_call(g, "tcrt_dev_arg", g->t_ptr, 3, a);
      LLVMBuildStore(B, p, g->bufs[s->buf]);
      cg_return_if_null(g, p);
      return;
    }
    int kind = to_dev && from_dev ? TC_COPY_D2D : to_dev ? TC_COPY_H2D : TC_COPY_D2H;
    LLVMValueRef a[5] = {g->ctx, cg_buf_ptr(g, s->buf), cg_buf_ptr(g, s->src), buf_bytes(g, s->buf), cg_i32(g, kind)};
    /* a result's copy back: none when it was computed in the caller's device tensor */
    cg_return_if_nonzero(g, cg_call(g, s->out ? "tcrt_result_copy" : "tcrt_dev_copy", g->t_i32, 5, a));
    return;
  }
  case KS_SETSYM: LLVMBuildStore(B, cg_expr_i64(g, s->cond), cg_sym_slot(g, s->buf)); return;
  case KS_CHECK: {
    LLVMValueRef ok_v = cg_convert(g, cg_expr(g, s->cond), s->cond->dtype, DT_BOOL);
    LLVMBasicBlockRef fail = cg_block(g, s->warn ? "check.warn" : "check.fail"), ok = cg_block(g, "ok");
    LLVMBuildCondBr(B, ok_v, ok, fail);
    LLVMPositionBuilderAtEnd(B, fail);
    if (s->warn) { /* one flag a site: the runtime prints the warning the first time */
      LLVMValueRef done = LLVMAddGlobal(g->mod, g->t_i32, "warned");
      LLVMSetInitializer(done, LLVMConstInt(g->t_i32, 0, 0));
      LLVMSetLinkage(done, LLVMPrivateLinkage);
      LLVMValueRef a[2] = {done, LLVMBuildGlobalStringPtr(B, s->message, "warning")};
      cg_call(g, "tcrt_warn_once", g->t_void, 2, a);
      LLVMBuildBr(B, ok);
    } else if (s->nexprs)
      build_fail_values(g, s);
    else
      build_fail(g, LLVMBuildGlobalStringPtr(B, s->message ? s->message : "check failed", "msg"),
                 s->input ? TC_ERR_INPUT : TC_ERR_RUNTIME);
    LLVMPositionBuilderAtEnd(B, ok);
    return;
  }
  case KS_CALL: emit_call(g, s); return;
  case KS_SCRATCH: cg_emit_scratch(g, s); return;
  case KS_FOR: {
    /* range() evaluates start, stop and step once */
    LLVMValueRef start = cg_expr_i64(g, s->cond), stop = cg_expr_i64(g, s->stop), step = cg_expr_i64(g, s->step);
    if (s->device) { /* a fused row kernel on the GPU */
      cg_emit_launch(g, s);
      return;
    }
    if (s->lkind[0] == KL_PARALLEL && !g->in_body) {
      cg_emit_parallel_for(g, s, start, stop, step);
      return;
    }
    CgLoop l;
    cg_loop_begin(g, &l, cg_var_slot(g, s->var), start, stop, step);
    cg_emit_list(g, &s->body);
    cg_loop_end(g, &l);
    return;
  }
  case KS_IF: {
    LLVMValueRef c = cg_convert(g, cg_expr(g, s->cond), s->cond->dtype, DT_BOOL);
    LLVMBasicBlockRef then = cg_block(g, "then"), other = s->orelse.n ? cg_block(g, "else") : NULL, join = cg_block(g, "endif");
    LLVMBuildCondBr(B, c, then, other ? other : join);
    LLVMPositionBuilderAtEnd(B, then);
    cg_emit_list(g, &s->body);
    LLVMBuildBr(B, join);
    if (other) {
      LLVMPositionBuilderAtEnd(B, other);
      cg_emit_list(g, &s->orelse);
      LLVMBuildBr(B, join);
    }
    LLVMPositionBuilderAtEnd(B, join);
    return;
  }
  }
  ir_die(s->loc, "kernel IR: statement kind %d", (int)s->kind);
}

void cg_emit_list(Cg *g, KList *l) {
  for (int i = 0; i < l->n; i++)
    cg_emit_stmt(g, l->v[i]);
}

/* ---- functions ---- */

static LLVMValueRef emit_func(Cg *g, KFunc *f, const char *prefix) {
  LLVMValueRef fn = LLVMAddFunction(g->mod, ir_sprintf("%s%s", prefix, f->name), g->t_fn);
  cg_add_attr(g, fn, "nounwind");
  /* glue (calls, allocation, checks; every loop nest is outlined): not
   * optimised, and selected by FastISel, which is what makes compiling it
   * cheap (optnone needs noinline) */
  cg_add_attr(g, fn, "optnone");
  cg_add_attr(g, fn, "noinline");
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

  cg_debug_func(g, fn, f->graph ? f->graph->loc : (Loc){0});

  /* 1. slots, in "entry"; the code starts in "start" */
  LLVMBasicBlockRef entry = cg_block(g, "entry"), start = cg_block(g, "start");
  LLVMPositionBuilderAtEnd(g->ab, entry);
  LLVMPositionBuilderAtEnd(g->b, start);
  int nb = f->bufs.n;
  g->bufs = ir_alloc(sizeof(LLVMValueRef) * (size_t)(nb ? nb : 1));
  for (int i = 0; i < nb; i++) {
    KBuf *kb = k_buf(f, i);
    g->bufs[i] = cg_slot(g, g->t_ptr, ir_sprintf("%s.addr", kb->name ? kb->name : "buf"));
    LLVMBuildStore(g->ab, LLVMConstNull(g->t_ptr), g->bufs[i]);
  }
  g->vars = ir_alloc(sizeof(LLVMValueRef) * (size_t)(f->nvars > 0 ? f->nvars : 1)); /* made on first use */
  g->lets = ir_alloc(sizeof(LLVMValueRef) * ((size_t)f->nlets + 1));

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
  cg_emit_list(g, &f->body);

  /* 4. results: data, dtype, rank, shape (zero beyond the rank) */
  for (int r = 0; r < f->nresults; r++) {
    KBuf *kb = k_buf(f, f->results[r]);
    LLVMValueRef idx[2] = {cg_i64(g, r), cg_i32(g, 0)};
    LLVMValueRef base = g->results;
    LLVMBuildStore(g->b, cg_buf_ptr(g, f->results[r]), LLVMBuildInBoundsGEP2(g->b, g->t_array, base, idx, 2, ""));
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

/* Module m's functions (named PREFIX fn_NAME) and its descriptor (*desc):
 * with lib the C interface's tc_module, else the executable's tc_program
 * (NULL without a main).  `cpu` is the CPU twin's descriptor or NULL.
 * With `api` the entry points too (model.h's functions or C's main);
 * without, the descriptor is private (a twin's).  False after a reported
 * error. */
static bool emit_program(Cg *g, const CgDesc *d, KModule *m, const IfModule *lib, bool shared, const char *prefix,
                         LLVMValueRef cpu, bool api, LLVMValueRef *desc) {
  KFunc *mainf = NULL;
  LLVMValueRef mainfn = NULL, initfn = NULL;
  LLVMValueRef *fns = ir_alloc(sizeof(LLVMValueRef) * (size_t)(m->funcs.n + 1));
  const char *fn_prefix = ir_sprintf("%sfn_", prefix);
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    fns[i] = emit_func(g, f, fn_prefix);
    if (f->is_main) {
      mainf = f;
      mainfn = fns[i];
    }
    if (f->is_init)
      initfn = fns[i];
  }
  LLVMValueRef init = cg_init_entry(g, d, m, initfn, ir_sprintf("%sinit_entry", prefix));
  /* A program's functions are reached through the descriptor (model.h's
   * functions, C's main): local symbols, so that two models linked into
   * one program do not clash.  Hand-built kernel IR (no graph:
   * tests/codegen) keeps them global: its harness calls them by name. */
  for (int i = 0; i < m->funcs.n; i++)
    if (((KFunc *)m->funcs.v[i])->graph)
      LLVMSetLinkage(fns[i], LLVMInternalLinkage);
  *desc = NULL;
  if (lib) {
    LLVMValueRef funcs;
    *desc = cg_module_desc(g, d, m, lib, fns, init, cpu, api ? ir_sprintf("%s_module", lib->prefix) : NULL, &funcs);
    if (*desc && api)
      cg_emit_api(g, d, lib, *desc, funcs, shared);
    return *desc != NULL;
  }
  if (!mainf)
    return true;
  *desc = cg_program_desc(g, d, m, mainf, mainfn, init, cpu);
  if (*desc && api)
    cg_emit_c_main(g, *desc);
  else if (*desc)
    LLVMSetValueName2(*desc, "tc_cpu_program_desc", strlen("tc_cpu_program_desc"));
  return *desc != NULL;
}

LLVMModuleRef cg_cpu_module(LLVMContextRef c, KModule *m, LLVMTargetDataRef td, const char *triple,
                            const IfModule *lib, bool shared, const CgGpu *gpu, const CgTwin *twin,
                            const char *debug_source) {
  Cg g = {0};
  g.c = c;
  g.td = td;
  g.km = m;
  g.gpu = gpu;
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
  if (debug_source)
    cg_debug_begin(&g, debug_source);
  CgDesc d = cg_desc_types(&g);

  /* --device=auto: the CPU build first, its descriptor the GPU one's `cpu` */
  LLVMValueRef cpu = NULL;
  bool ok = true;
  if (twin) {
    g.km = twin->m;
    g.gpu = NULL;
    ok = emit_program(&g, &d, twin->m, twin->lib, shared, "tc_cpu_", NULL, false, &cpu);
    g.km = m;
    g.gpu = gpu;
  }
  LLVMValueRef desc;
  ok = ok && emit_program(&g, &d, m, lib, shared, "tc_", cpu, true, &desc);
  cg_debug_finish(&g);
  LLVMDisposeBuilder(g.b);
  LLVMDisposeBuilder(g.ab);
  if (!ok) {
    LLVMDisposeModule(g.mod);
    return NULL;
  }
  return g.mod;
}
