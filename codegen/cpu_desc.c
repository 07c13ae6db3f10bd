/* codegen/cpu_desc.c - the descriptors the runtime reads: runtime.h's
 * tc_program with a C main() for executables, and the pieces api.h's
 * tc_module is built from (cpu_api.c): argument and param descriptors and
 * the init entry, which sets the embedded params and then runs init.
 *
 * The LLVM struct types mirror the C structs; check_layout compares them
 * with the C compiler's idea of the same structs, since the target is
 * always the host.
 */
#include "cg_internal.h"

#include "tensorc/api.h"

#include <stddef.h>
#include <string.h>

LLVMValueRef cg_cstr(Cg *g, const char *s) {
  LLVMValueRef init = LLVMConstStringInContext(g->c, s, (unsigned)strlen(s), 0);
  LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), ".str");
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
  return LLVMConstBitCast(gv, g->t_ptr);
}

LLVMValueRef cg_const_array(Cg *g, const char *name, LLVMTypeRef t, LLVMValueRef *v, int n) {
  if (n == 0)
    return LLVMConstNull(LLVMPointerType(t, 0));
  LLVMValueRef init = LLVMConstArray(t, v, (unsigned)n);
  LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return LLVMConstBitCast(gv, LLVMPointerType(t, 0));
}

/* ---- the struct types ---- */

static LLVMTypeRef named(Cg *g, const char *name, LLVMTypeRef *fields, unsigned n) {
  LLVMTypeRef t = LLVMStructCreateNamed(g->c, name);
  LLVMStructSetBody(t, fields, n, 0);
  return t;
}

/* The LLVM structs must be the C structs byte for byte. */
static void check_layout(Cg *g, const CgDesc *d) {
  struct {
    LLVMTypeRef t;
    size_t size;
    int n;
    size_t off[12];
  } want[] = {
      {g->t_array, sizeof(tc_array), 4, {0, offsetof(tc_array, dtype), offsetof(tc_array, rank), offsetof(tc_array, shape)}},
      {d->dim, sizeof(tc_dimdesc), 2, {0, offsetof(tc_dimdesc, value)}},
      {d->arg, sizeof(tc_argdesc), 6, {0, offsetof(tc_argdesc, dtype), offsetof(tc_argdesc, rank),
                                       offsetof(tc_argdesc, dims), offsetof(tc_argdesc, has_default),
                                       offsetof(tc_argdesc, default_value)}},
      {d->param, sizeof(tc_paramdesc), 4, {0, offsetof(tc_paramdesc, dtype), offsetof(tc_paramdesc, rank),
                                           offsetof(tc_paramdesc, shape)}},
      {d->prog, sizeof(tc_program), 12, {0, offsetof(tc_program, nargs), offsetof(tc_program, args),
                                         offsetof(tc_program, nsyms), offsetof(tc_program, sym_names),
                                         offsetof(tc_program, nparams), offsetof(tc_program, params),
                                         offsetof(tc_program, nresults), offsetof(tc_program, init),
                                         offsetof(tc_program, main), offsetof(tc_program, gpu),
                                         offsetof(tc_program, cpu)}},
      {d->func, sizeof(tc_funcdesc), 8, {0, offsetof(tc_funcdesc, nargs), offsetof(tc_funcdesc, args),
                                         offsetof(tc_funcdesc, nresults), offsetof(tc_funcdesc, results),
                                         offsetof(tc_funcdesc, nsyms), offsetof(tc_funcdesc, sym_names),
                                         offsetof(tc_funcdesc, fn)}},
      {d->module, sizeof(tc_module), 11, {0, offsetof(tc_module, hash), offsetof(tc_module, name),
                                         offsetof(tc_module, signature), offsetof(tc_module, nparams),
                                         offsetof(tc_module, params), offsetof(tc_module, nfuncs),
                                         offsetof(tc_module, funcs), offsetof(tc_module, init),
                                         offsetof(tc_module, gpu), offsetof(tc_module, cpu)}},
      {d->gpu, sizeof(tc_gpu_image), 9, {0, offsetof(tc_gpu_image, ptx), offsetof(tc_gpu_image, cubin),
                                         offsetof(tc_gpu_image, cubin_size), offsetof(tc_gpu_image, nkernels),
                                         offsetof(tc_gpu_image, kernel_names), offsetof(tc_gpu_image, emu_kernels),
                                         offsetof(tc_gpu_image, flags), offsetof(tc_gpu_image, block_free)}},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    bool ok = LLVMABISizeOfType(g->td, want[i].t) == want[i].size;
    for (int j = 0; j < want[i].n; j++)
      ok = ok && LLVMOffsetOfElement(g->td, want[i].t, (unsigned)j) == want[i].off[j];
    if (!ok)
      ir_die((Loc){0}, "codegen: the LLVM layout of %s differs from the runtime's headers", LLVMGetStructName(want[i].t));
  }
}

CgDesc cg_desc_types(Cg *g) {
  CgDesc d;
  LLVMTypeRef p = g->t_ptr, i32 = g->t_i32;
  LLVMTypeRef dimf[2] = {i32, g->t_i64};
  d.dim = named(g, "tc_dimdesc", dimf, 2);
  LLVMTypeRef argf[6] = {p, i32, i32, LLVMArrayType(d.dim, IR_MAX_RANK), i32, g->t_f64};
  d.arg = named(g, "tc_argdesc", argf, 6);
  LLVMTypeRef paramf[4] = {p, i32, i32, LLVMArrayType(g->t_i64, IR_MAX_RANK)};
  d.param = named(g, "tc_paramdesc", paramf, 4);
  d.init_fn = LLVMFunctionType(i32, &g->t_ctxp, 1, 0);
  LLVMTypeRef argp = LLVMPointerType(d.arg, 0), namesp = LLVMPointerType(p, 0), fnp = LLVMPointerType(g->t_fn, 0);
  LLVMTypeRef gpuf[9] = {p, p, p, g->t_i64, i32, namesp, p, i32, p};
  d.gpu = named(g, "tc_gpu_image", gpuf, 9);
  LLVMTypeRef gpup = LLVMPointerType(d.gpu, 0);
  d.prog = LLVMStructCreateNamed(g->c, "tc_program");
  LLVMTypeRef progf[12] = {p, i32, argp, i32, namesp, i32, LLVMPointerType(d.param, 0), i32,
                           LLVMPointerType(d.init_fn, 0), fnp, gpup, LLVMPointerType(d.prog, 0)};
  LLVMStructSetBody(d.prog, progf, 12, 0);
  LLVMTypeRef funcf[8] = {p, i32, argp, i32, argp, i32, namesp, fnp};
  d.func = named(g, "tc_funcdesc", funcf, 8);
  d.module = LLVMStructCreateNamed(g->c, "tc_module");
  LLVMTypeRef modf[11] = {i32, g->t_i64, p, p, i32, LLVMPointerType(d.param, 0), i32, LLVMPointerType(d.func, 0),
                          LLVMPointerType(d.init_fn, 0), gpup, LLVMPointerType(d.module, 0)};
  LLVMStructSetBody(d.module, modf, 11, 0);
  check_layout(g, &d);
  return d;
}

/* ---- descriptors ---- */

/* tc_argdesc[] for arguments or results.  A dim that is an expression is
 * TC_DIM_COMPUTED, its value the index of its text in the symbol names
 * (the generated code checks an argument's; the runtime a result's after
 * the call). */
LLVMValueRef cg_value_descs(Cg *g, const CgDesc *d, const IfValue *v, int n, const char *name) {
  LLVMValueRef *descs = ir_alloc(sizeof(LLVMValueRef) * (size_t)(n + 1));
  for (int i = 0; i < n; i++) {
    LLVMValueRef dims[IR_MAX_RANK];
    for (int j = 0; j < IR_MAX_RANK; j++) {
      int sym = -1;
      int64_t value = 0;
      if (j < v[i].rank) {
        sym = v[i].dims[j].sym;
        value = v[i].dims[j].value;
      }
      LLVMValueRef f[2] = {cg_i32(g, sym), cg_i64(g, value)};
      dims[j] = LLVMConstNamedStruct(d->dim, f, 2);
    }
    LLVMValueRef f[6] = {cg_cstr(g, v[i].name),           cg_i32(g, v[i].dtype),
                         cg_i32(g, v[i].rank),             LLVMConstArray(d->dim, dims, IR_MAX_RANK),
                         cg_i32(g, v[i].has_default),      LLVMConstReal(g->t_f64, v[i].default_value)};
    descs[i] = LLVMConstNamedStruct(d->arg, f, 6);
  }
  return cg_const_array(g, name, d->arg, descs, n);
}

/* The symbols' names, then the computed result dims' texts. */
LLVMValueRef cg_sym_names(Cg *g, const IfFunc *f) {
  LLVMValueRef *names = ir_alloc(sizeof(LLVMValueRef) * (size_t)(f->nsyms + f->ntexts + 1));
  for (int i = 0; i < f->nsyms; i++)
    names[i] = cg_cstr(g, ir_sym_name(f->syms[i]));
  for (int i = 0; i < f->ntexts; i++)
    names[f->nsyms + i] = cg_cstr(g, f->texts[i]);
  return cg_const_array(g, "tc_sym_names", g->t_ptr, names, f->nsyms + f->ntexts);
}

/* tc_paramdesc[]: params' shapes are in the output, so they must be
 * constants (reported with ir_error; NULL then). */
LLVMValueRef cg_param_descs(Cg *g, const CgDesc *d, KModule *m, int *nparams) {
  int n = *nparams = m->graph ? m->graph->params.n : 0;
  LLVMValueRef *descs = ir_alloc(sizeof(LLVMValueRef) * (size_t)(n + 1));
  for (int i = 0; i < n; i++) {
    IrParam *p = m->graph->params.v[i];
    LLVMValueRef shape[IR_MAX_RANK];
    for (int j = 0; j < IR_MAX_RANK; j++) {
      int64_t c = 0;
      if (j < p->type.rank && !dim_is_const(p->type.dims[j], &c)) {
        ir_error(p->loc, "param %s: its shape must be known at compile time", p->name);
        return NULL;
      }
      shape[j] = cg_i64(g, c);
    }
    LLVMValueRef f[4] = {cg_cstr(g, p->name), cg_i32(g, p->type.dtype), cg_i32(g, p->type.rank),
                         LLVMConstArray(g->t_i64, shape, IR_MAX_RANK)};
    descs[i] = LLVMConstNamedStruct(d->param, f, 4);
  }
  return cg_const_array(g, "tc_params", d->param, descs, n);
}

/* int tc_init_entry(tc_ctx *): the embedded params' values (copied out of
 * the object's read-only data), then tc_fn_init if there is one. */
LLVMValueRef cg_init_entry(Cg *g, const CgDesc *d, KModule *m, LLVMValueRef initfn, const char *name) {
  LLVMValueRef entry = LLVMAddFunction(g->mod, name, d->init_fn);
  LLVMSetLinkage(entry, LLVMInternalLinkage);
  LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->c, entry, "entry"));
  LLVMValueRef ctx = LLVMGetParam(entry, 0);
  int np = m->graph ? m->graph->params.n : 0;
  for (int i = 0; i < np; i++) {
    IrParam *p = m->graph->params.v[i];
    if (!p->embed_data)
      continue;
    LLVMValueRef init = LLVMConstStringInContext(g->c, p->embed_data, (unsigned)p->embed_bytes, 1);
    LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), ir_sprintf("tc_embedded_%s", p->name));
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMInternalLinkage); /* a local symbol: `nm` shows where the weights are */
    LLVMSetAlignment(gv, 64);
    LLVMValueRef a[4] = {ctx, cg_i32(g, i), LLVMConstBitCast(gv, g->t_ptr), cg_i64(g, p->embed_bytes)};
    LLVMValueRef status = cg_call(g, "tcrt_set_param_copy", g->t_i32, 4, a);
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(g->c, entry, "fail");
    LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(g->c, entry, "next");
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntNE, status, cg_i32(g, 0), ""), fail, next);
    LLVMPositionBuilderAtEnd(g->b, fail);
    LLVMBuildRet(g->b, status);
    LLVMPositionBuilderAtEnd(g->b, next);
  }
  if (initfn) {
    LLVMValueRef a[3] = {ctx, LLVMConstNull(LLVMPointerType(g->t_array, 0)),
                         LLVMConstNull(LLVMPointerType(g->t_array, 0))};
    LLVMBuildRet(g->b, LLVMBuildCall2(g->b, g->t_fn, initfn, a, 3, ""));
  } else {
    LLVMBuildRet(g->b, cg_i32(g, 0));
  }
  return entry;
}

/* ---- executables ---- */

/* tc_program for the module: `cpu` is its CPU twin's (--device=auto) or NULL. */
LLVMValueRef cg_program_desc(Cg *g, const CgDesc *d, KModule *m, KFunc *mainf, LLVMValueRef mainfn, LLVMValueRef init,
                             LLVMValueRef cpu) {
  IfFunc f = cg_iface_func(mainf);
  int nparams;
  LLVMValueRef params = cg_param_descs(g, d, m, &nparams);
  if (!params)
    return NULL;
  LLVMValueRef pf[12] = {cg_cstr(g, m->name ? m->name : "tensorc"),
                         cg_i32(g, f.nargs),
                         cg_value_descs(g, d, f.args, f.nargs, "tc_args"),
                         cg_i32(g, f.nsyms),
                         cg_sym_names(g, &f),
                         cg_i32(g, nparams),
                         params,
                         cg_i32(g, mainf->nresults),
                         init,
                         mainfn,
                         cg_gpu_image_ref(g, d),
                         cpu ? cpu : LLVMConstNull(LLVMPointerType(d->prog, 0))};
  LLVMValueRef prog = LLVMAddGlobal(g->mod, d->prog, "tc_program_desc");
  LLVMSetInitializer(prog, LLVMConstNamedStruct(d->prog, pf, 12));
  LLVMSetGlobalConstant(prog, 1);
  LLVMSetLinkage(prog, LLVMPrivateLinkage);
  return prog;
}

/* int main(int argc, char **argv) { return tcrt_exe_main(argc, argv, &program); }
 * (tcrt_dist_main, libtensorc_rt_mpi's, for --dist=mpi: kernel.h, KModule.dist) */
void cg_emit_c_main(Cg *g, LLVMValueRef prog) {
  LLVMTypeRef mainp[2] = {g->t_i32, LLVMPointerType(g->t_ptr, 0)};
  LLVMValueRef cmain = LLVMAddFunction(g->mod, "main", LLVMFunctionType(g->t_i32, mainp, 2, 0));
  LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->c, cmain, "entry"));
  LLVMValueRef a[3] = {LLVMGetParam(cmain, 0), LLVMGetParam(cmain, 1), prog};
  LLVMBuildRet(g->b, cg_call(g, g->km->dist ? "tcrt_dist_main" : "tcrt_exe_main", g->t_i32, 3, a));
}
