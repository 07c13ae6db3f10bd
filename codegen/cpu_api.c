/* codegen/cpu_api.c - the C interface of SPEC §4 in the object file:
 * PREFIX_module (api.h's tc_module: params, one tc_funcdesc per exported
 * function, the init entry, the hash and the JSON signature) and the
 * functions model.h declares, each a few instructions around the runtime:
 *
 *   PREFIX_create(opt)              tcrt_api_create(&PREFIX_module, opt, ABI, HASH)
 *   PREFIX_create_checked(opt, a, h) tcrt_api_create(&PREFIX_module, opt, a, h)
 *   PREFIX_destroy(ctx)             tcrt_ctx_free(ctx)
 *   PREFIX_error(ctx)               tcrt_error(ctx)
 *   PREFIX_param(ctx, name, view)   tcrt_api_param(ctx, &PREFIX_module, name, view)
 *   PREFIX_F(ctx, a, b, ..., out)   argv = {a, &b, ...} (tensors by pointer,
 *                                   scalars by the address of a copy);
 *                                   tcrt_api_call(ctx, &funcs[i], argv, {out}, NULL)
 *
 * A shared library also gets `tensorc_module`, a pointer to the module
 * under a fixed name, which python/tensorc.py looks up.
 */
#include "cg_internal.h"

#include "tensorc/api.h"

#include <string.h>

/* A function with external linkage and the given prototype. */
static LLVMValueRef define(Cg *g, const char *name, LLVMTypeRef ret, LLVMTypeRef *params, int n) {
  LLVMValueRef fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(ret, params, (unsigned)n, 0));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateEnumAttribute(g->c, LLVMGetEnumAttributeKindForName("nounwind", 8), 0));
  LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->c, fn, "entry"));
  return fn;
}

static LLVMTypeRef scalar_type(Cg *g, DType dt) { return dt == DT_BOOL ? g->t_i1 : cg_type(g, dt); }

/* PREFIX_F(ctx, args..., outs...) for one exported function. */
static void wrapper(Cg *g, const IfModule *it, const IfFunc *f, LLVMValueRef desc) {
  int n = 1 + f->nargs + f->nresults;
  LLVMTypeRef *types = ir_alloc(sizeof(LLVMTypeRef) * (size_t)n);
  types[0] = g->t_ctxp;
  for (int k = 0; k < f->nargs; k++)
    types[1 + k] = f->args[k].rank == 0 ? scalar_type(g, f->args[k].dtype) : g->t_ptr;
  for (int r = 0; r < f->nresults; r++)
    types[1 + f->nargs + r] = g->t_ptr;
  LLVMValueRef fn = define(g, ir_sprintf("%s_%s", it->prefix, f->name), g->t_i32, types, n);
  LLVMValueRef argv = LLVMBuildArrayAlloca(g->b, g->t_ptr, cg_i32(g, f->nargs > 0 ? f->nargs : 1), "argv");
  LLVMValueRef outs = LLVMBuildArrayAlloca(g->b, g->t_ptr, cg_i32(g, f->nresults > 0 ? f->nresults : 1), "outs");
  for (int k = 0; k < f->nargs; k++) {
    LLVMValueRef v = LLVMGetParam(fn, (unsigned)(1 + k));
    LLVMSetValueName2(v, f->args[k].name, strlen(f->args[k].name));
    if (f->args[k].rank == 0) {
      /* a scalar: C's bool is one byte holding 0 or 1, the runtime's too */
      DType dt = f->args[k].dtype;
      LLVMTypeRef mt = cg_mem_type(g, dt);
      LLVMValueRef slot = LLVMBuildAlloca(g->b, mt, "");
      LLVMBuildStore(g->b, dt == DT_BOOL ? LLVMBuildZExt(g->b, v, mt, "") : v, slot);
      v = LLVMBuildBitCast(g->b, slot, g->t_ptr, "");
      if (dt == DT_BOOL) /* the C ABI passes _Bool zero-extended */
        LLVMAddAttributeAtIndex(fn, (unsigned)(2 + k),
                                LLVMCreateEnumAttribute(g->c, LLVMGetEnumAttributeKindForName("zeroext", 7), 0));
    }
    LLVMValueRef idx = cg_i64(g, k);
    LLVMBuildStore(g->b, v, LLVMBuildInBoundsGEP2(g->b, g->t_ptr, argv, &idx, 1, ""));
  }
  for (int r = 0; r < f->nresults; r++) {
    LLVMValueRef idx = cg_i64(g, r);
    LLVMBuildStore(g->b, LLVMGetParam(fn, (unsigned)(1 + f->nargs + r)),
                   LLVMBuildInBoundsGEP2(g->b, g->t_ptr, outs, &idx, 1, ""));
  }
  LLVMValueRef a[5] = {LLVMGetParam(fn, 0), desc, argv, outs, LLVMConstNull(LLVMPointerType(g->t_array, 0))};
  LLVMBuildRet(g->b, cg_call(g, "tcrt_api_call", g->t_i32, 5, a));
}

LLVMValueRef cg_module_desc(Cg *g, const CgDesc *d, KModule *m, const IfModule *it, LLVMValueRef *fns,
                            LLVMValueRef init, LLVMValueRef cpu, const char *name, LLVMValueRef *funcs_out) {
  int nparams;
  LLVMValueRef params = cg_param_descs(g, d, m, &nparams);
  if (!params)
    return NULL;
  LLVMValueRef *funcs = ir_alloc(sizeof(LLVMValueRef) * (size_t)(it->nfuncs + 1));
  for (int i = 0; i < it->nfuncs; i++) {
    const IfFunc *f = &it->funcs[i];
    int k = 0;
    while (m->funcs.v[k] != f->kf)
      k++;
    LLVMValueRef ff[8] = {cg_cstr(g, f->name),
                          cg_i32(g, f->nargs),
                          cg_value_descs(g, d, f->args, f->nargs, "tc_args"),
                          cg_i32(g, f->nresults),
                          cg_value_descs(g, d, f->results, f->nresults, "tc_results"),
                          cg_i32(g, f->nsyms),
                          cg_sym_names(g, f),
                          fns[k]};
    funcs[i] = LLVMConstNamedStruct(d->func, ff, 8);
  }
  LLVMValueRef funcv = cg_const_array(g, "tc_funcs", d->func, funcs, it->nfuncs);
  LLVMValueRef mf[11] = {cg_i32(g, TENSORC_ABI_VERSION),
                        LLVMConstInt(g->t_i64, it->hash, 0),
                        cg_cstr(g, it->prefix),
                        cg_cstr(g, it->json),
                        cg_i32(g, nparams),
                        params,
                        cg_i32(g, it->nfuncs),
                        funcv,
                        init,
                        cg_gpu_image_ref(g, d),
                        cpu ? cpu : LLVMConstNull(LLVMPointerType(d->module, 0))};
  LLVMValueRef mod = LLVMAddGlobal(g->mod, d->module, name ? name : "tc_cpu_module");
  LLVMSetInitializer(mod, LLVMConstNamedStruct(d->module, mf, 11));
  LLVMSetGlobalConstant(mod, 1);
  if (!name)
    LLVMSetLinkage(mod, LLVMPrivateLinkage);
  *funcs_out = funcv;
  return mod;
}

void cg_emit_api(Cg *g, const CgDesc *d, const IfModule *it, LLVMValueRef mod, LLVMValueRef funcv, bool shared) {
  /* 1. python/tensorc.py's handle on the module */
  if (shared) {
    LLVMValueRef alias = LLVMAddGlobal(g->mod, LLVMPointerType(d->module, 0), "tensorc_module");
    LLVMSetInitializer(alias, mod);
    LLVMSetGlobalConstant(alias, 1);
  }

  /* 2. create, create_checked, destroy, error, param */
  LLVMTypeRef optp = g->t_ptr;
  LLVMTypeRef tcreate[3] = {optp, g->t_i32, g->t_i64};
  LLVMValueRef fn = define(g, ir_sprintf("%s_create", it->prefix), g->t_ctxp, tcreate, 1);
  LLVMValueRef a[5] = {mod, LLVMGetParam(fn, 0), cg_i32(g, TENSORC_ABI_VERSION), LLVMConstInt(g->t_i64, it->hash, 0)};
  LLVMBuildRet(g->b, cg_call(g, "tcrt_api_create", g->t_ctxp, 4, a));
  fn = define(g, ir_sprintf("%s_create_checked", it->prefix), g->t_ctxp, tcreate, 3);
  LLVMValueRef b[4] = {mod, LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), LLVMGetParam(fn, 2)};
  LLVMBuildRet(g->b, cg_call(g, "tcrt_api_create", g->t_ctxp, 4, b));
  fn = define(g, ir_sprintf("%s_destroy", it->prefix), g->t_void, &g->t_ctxp, 1);
  LLVMValueRef c = LLVMGetParam(fn, 0);
  cg_call(g, "tcrt_ctx_free", g->t_void, 1, &c);
  LLVMBuildRetVoid(g->b);
  fn = define(g, ir_sprintf("%s_error", it->prefix), g->t_ptr, &g->t_ctxp, 1);
  c = LLVMGetParam(fn, 0);
  LLVMBuildRet(g->b, cg_call(g, "tcrt_error", g->t_ptr, 1, &c));
  LLVMTypeRef tparam[3] = {g->t_ctxp, g->t_ptr, g->t_ptr};
  fn = define(g, ir_sprintf("%s_param", it->prefix), g->t_i32, tparam, 3);
  LLVMValueRef p[4] = {LLVMGetParam(fn, 0), mod, LLVMGetParam(fn, 1), LLVMGetParam(fn, 2)};
  LLVMBuildRet(g->b, cg_call(g, "tcrt_api_param", g->t_i32, 4, p));

  /* 3. one function per export */
  for (int i = 0; i < it->nfuncs; i++) {
    LLVMValueRef idx = cg_i64(g, i);
    wrapper(g, it, &it->funcs[i], LLVMConstInBoundsGEP2(d->func, funcv, &idx, 1));
  }
}
