/* codegen/cpu_parallel.c - loop nests outlined from the host functions:
 * the loops that run on the context's threads, and the serial kernels.
 *
 * The schedule pass marks a kernel's outermost loop, or a `for`, parallel
 * (passes/schedule.c says when); this file outlines such a loop into a
 * function the runtime's thread pool runs in chunks.  A serial kernel is
 * outlined the same way and called once: the host functions are left
 * with glue, which is compiled without optimisation (cpu_host.c), and
 * every loop nest is in a function the pipeline optimises (emit.c).
 */
#include "cg_internal.h"

#include <string.h>

/* ---- outlined bodies ----
 *
 * A parallel loop (a KS_KERNEL's outermost loop, or a KS_FOR marked
 * parallel) becomes an internal function
 *     void tc_fn_NAME.parK(i8 *env, i64 begin, i64 end)
 * running iterations [begin, end), and the caller fills an `env` struct on
 * its stack with what the body reads: the context and argument array,
 * the buffer pointers, symbols and outer loop variables the body uses (a
 * symbol the function has not set yet is 0 in both), in the order
 * cpu_dedup.c's canonical form gives them, and up to two more values (a
 * for's start and step).  The body builds its own slots from the env, so
 * the code inside is built by the same functions as inline code.  Then,
 * when the loop's points (trip count times the points of one iteration)
 * reach the target's par_min_work, the caller calls
 * tcrt_parallel_for(ctx, trips, body, env), which splits [0, trips) over
 * the context's threads; below that it calls body(env, 0, trips) itself:
 * waking threads costs microseconds, more than a small kernel's whole
 * run.  Inside a body, loops run serially.  A serial kernel is
 * tc_fn_NAME.kerK, called as body(env, 0, its outermost extent).  A
 * statement identical to one already outlined (cpu_dedup.c) calls that
 * body instead of making another. */

/* The env's next field, in the body. */
static LLVMValueRef field(Cg *g, LLVMTypeRef envt, LLVMValueRef envp, int *k, const char *name) {
  LLVMTypeRef t = LLVMStructGetTypeAtIndex(envt, (unsigned)*k);
  LLVMValueRef v = LLVMBuildLoad2(g->b, t, LLVMBuildStructGEP2(g->b, envt, envp, (unsigned)*k, ""), name);
  ++*k;
  return v;
}

/* An outlined body: the function, its type, and the env the caller filled. */
typedef struct Body {
  LLVMValueRef fn, env;
  LLVMTypeRef type;
} Body;

/* Outlines s into an internal function named after the caller,
 * tc_fn_NAME.<kind>K, or finds the body an identical statement already has
 * (cpu_dedup.c), and fills its env on the caller's stack. */
static Body outline(Cg *g, KStmt *s, const char *kind, RangeFn range, LLVMValueRef *extra, int nextra) {
  KFunc *f = g->f;
  CgCanon cn = cg_canon(g, s, kind, nextra);
  const int *bl = cn.bufs.v, *sl = cn.syms.v, *vl = cn.vars.v;
  int nbl = cn.bufs.n, nsl = cn.syms.n, nvl = cn.vars.n;
  /* 1. the env: ctx, args, buffers, symbols, variables, extras */
  int nfield = 2 + nbl + nsl + nvl + nextra;
  LLVMTypeRef *ft = ir_alloc(sizeof(LLVMTypeRef) * (size_t)nfield);
  ft[0] = g->t_ctxp;
  ft[1] = LLVMPointerType(g->t_array, 0);
  for (int i = 2; i < nfield; i++)
    ft[i] = i < 2 + nbl ? g->t_ptr : g->t_i64;
  LLVMTypeRef envt = LLVMStructTypeInContext(g->c, ft, (unsigned)nfield, 0);
  LLVMValueRef env = cg_slot(g, envt, "env");
  LLVMValueRef *val = ir_alloc(sizeof(LLVMValueRef) * (size_t)nfield);
  int k = 0;
  val[k++] = g->ctx;
  val[k++] = g->args;
  for (int i = 0; i < nbl; i++)
    val[k++] = cg_buf_ptr(g, bl[i]);
  for (int i = 0; i < nsl; i++) /* a symbol the function has not set yet is 0 */
    val[k++] = LLVMBuildLoad2(g->b, g->t_i64, cg_sym_slot(g, sl[i]), "");
  for (int i = 0; i < nvl; i++)
    val[k++] = LLVMBuildLoad2(g->b, g->t_i64, cg_var_slot(g, vl[i]), "");
  for (int i = 0; i < nextra; i++)
    val[k++] = extra[i];
  for (int i = 0; i < nfield; i++)
    LLVMBuildStore(g->b, val[i], LLVMBuildStructGEP2(g->b, envt, env, (unsigned)i, ""));
  LLVMTypeRef bp[3] = {g->t_ptr, g->t_i64, g->t_i64};
  LLVMTypeRef bty = LLVMFunctionType(g->t_void, bp, 3, 0);
  LLVMValueRef envi8 = LLVMBuildBitCast(g->b, env, g->t_ptr, "");
  LLVMValueRef body = cg_body_find(g, cn.key);
  if (body)
    return (Body){body, envi8, bty};

  /* 2. the body, built with the Cg switched over to it */
  /* named after the function: tc_fn_NAME.parN (tc_cpu_fn_... for --device=auto's CPU build) */
  body = LLVMAddFunction(g->mod, ir_sprintf("%s.%s%d", LLVMGetValueName(g->fn), kind, g->nbodies++), bty);
  cg_body_add(g, cn.key, body);
  LLVMSetLinkage(body, LLVMInternalLinkage);
  cg_add_attr(g, body, "nounwind");
  /* called directly by the host function: never copy the kernel into it
   * (compile time; emit.c's pipeline) */
  cg_add_attr(g, body, "noinline");
  Cg saved = *g;
  int nb = f->bufs.n;
  g->fn = body;
  g->b = LLVMCreateBuilderInContext(g->c);
  g->ab = LLVMCreateBuilderInContext(g->c);
  g->bufs = ir_alloc(sizeof(LLVMValueRef) * ((size_t)nb + 1));
  g->vars = ir_alloc(sizeof(LLVMValueRef) * ((size_t)f->nvars + 1));
  g->lets = ir_alloc(sizeof(LLVMValueRef) * ((size_t)f->nlets + 1));
  g->syms = NULL; /* made on first use (cg_sym_slot): the env's below, the rest 0 */
  g->nsyms = 0;
  g->arr_tmp = g->errbuf = g->acc = g->acc_index = NULL;
  g->in_body = true;
  cg_debug_func(g, body, s->loc); /* -g: the body is at its kernel's line */
  LLVMSetValueName2(LLVMGetParam(body, 1), cg_debug_name(g, "begin"), strlen(cg_debug_name(g, "begin")));
  LLVMSetValueName2(LLVMGetParam(body, 2), cg_debug_name(g, "end"), strlen(cg_debug_name(g, "end")));
  LLVMBasicBlockRef entry = cg_block(g, "entry"), start = cg_block(g, "start");
  LLVMPositionBuilderAtEnd(g->ab, entry);
  LLVMPositionBuilderAtEnd(g->b, start);
  LLVMValueRef envp = LLVMBuildBitCast(g->b, LLVMGetParam(body, 0), LLVMPointerType(envt, 0), "env");
  k = 0;
  g->ctx = field(g, envt, envp, &k, "ctx");
  g->args = field(g, envt, envp, &k, "args");
  for (int i = 0; i < nbl; i++) {
    KBuf *kb = k_buf(f, bl[i]);
    g->bufs[bl[i]] = cg_slot(g, g->t_ptr, ir_sprintf("%s.addr", kb->name ? kb->name : "buf"));
    LLVMBuildStore(g->b, field(g, envt, envp, &k, cg_debug_name(g, kb->name)), g->bufs[bl[i]]);
  }
  for (int i = 0; i < nsl; i++)
    LLVMBuildStore(g->b, field(g, envt, envp, &k, cg_debug_name(g, ir_sym_name(sl[i]))), cg_sym_slot(g, sl[i]));
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
  saved.bodies = g->bodies;
  *g = saved;
  return (Body){body, envi8, bty};
}

/* body(env, 0, trips): the whole range on this thread. */
static void call_body(Cg *g, const Body *b, LLVMValueRef trips) {
  LLVMValueRef a[3] = {b->env, cg_i64(g, 0), trips};
  LLVMBuildCall2(g->b, b->type, b->fn, a, 3, "");
}

void cg_emit_parallel(Cg *g, KStmt *s, LLVMValueRef trips, LLVMValueRef work, RangeFn range, LLVMValueRef *extra,
                      int nextra) {
  Body b = outline(g, s, "par", range, extra, nextra);
  /* through the pool when there is enough work */
  LLVMBasicBlockRef par = cg_block(g, "parallel"), ser = cg_block(g, "serial"), join = cg_block(g, "joined");
  LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSGE, work, cg_i64(g, g->km->target->par_min_work), ""), par, ser);
  LLVMPositionBuilderAtEnd(g->b, par);
  LLVMValueRef a[4] = {g->ctx, trips, b.fn, b.env};
  cg_return_if_nonzero(g, cg_call(g, "tcrt_parallel_for", g->t_i32, 4, a));
  LLVMBuildBr(g->b, join);
  LLVMPositionBuilderAtEnd(g->b, ser);
  call_body(g, &b, trips);
  LLVMBuildBr(g->b, join);
  LLVMPositionBuilderAtEnd(g->b, join);
}

void cg_emit_serial(Cg *g, KStmt *s, LLVMValueRef trips, RangeFn range) {
  Body b = outline(g, s, "ker", range, NULL, 0);
  call_body(g, &b, trips);
}

/* The points of a list's kernels (a nested for's body counted once). */
LLVMValueRef cg_list_work(Cg *g, KList *l) {
  LLVMValueRef w = cg_i64(g, 0);
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    LLVMValueRef p = cg_i64(g, 1);
    if (s->kind == KS_KERNEL)
      for (int j = 0; j < s->nloops; j++)
        p = LLVMBuildMul(g->b, p, cg_dim(g, s->extent[j]), "");
    else if (s->kind == KS_FOR)
      p = cg_list_work(g, &s->body);
    else if (s->kind == KS_IF)
      p = LLVMBuildAdd(g->b, cg_list_work(g, &s->body), cg_list_work(g, &s->orelse), "");
    w = LLVMBuildAdd(g->b, w, p, "");
  }
  return w;
}

/* A parallel for's iterations [begin, end): var = start + k * step. */
static void for_range(Cg *g, KStmt *s, LLVMValueRef begin, LLVMValueRef end) {
  CgLoop l;
  cg_loop_begin(g, &l, cg_slot(g, g->t_i64, "k"), begin, end, NULL);
  LLVMValueRef k = LLVMBuildLoad2(g->b, g->t_i64, l.slot, "");
  LLVMBuildStore(g->b, LLVMBuildAdd(g->b, g->par_extra[0], LLVMBuildMul(g->b, k, g->par_extra[1], ""), ""),
                 cg_var_slot(g, s->var));
  cg_emit_list(g, &s->body);
  cg_loop_end(g, &l);
}

void cg_emit_parallel_for(Cg *g, KStmt *s, LLVMValueRef start, LLVMValueRef stop, LLVMValueRef step) {
  LLVMBuilderRef B = g->b;
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
  cg_emit_parallel(g, s, trips, LLVMBuildMul(B, trips, cg_list_work(g, &s->body), ""), for_range, extra, 2);
}
