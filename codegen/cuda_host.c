/* codegen/cuda_host.c - the host side of GPU code, in the LLVM module.
 *
 * For a CUDA target the host code is still LLVM (cpu_host.c): it
 * allocates device memory, copies and calls cuBLAS through the runtime,
 * and for each device statement launches the kernels that cuda_kernel.c
 * wrote for it.  This file makes those launches and the module's
 * tc_gpu_image (runtime.h): the PTX and cubin NVRTC compiled, the kernel
 * table's names and which of its launches have a free block size, and with --gpu-emulate the table of host-compiled
 * kernels, linked in from the emulator object (cuda_link.c).
 *
 * A launch passes its parameters as cuLaunchKernel does, an array of
 * pointers to the values: a buffer's parameter is the address of the stack
 * slot that holds its device pointer, a symbol's or a loop variable's the
 * address of its i64 slot, the scratch's a slot filled by
 * tcrt_dev_scratch.  The grid is computed here from the launch's work, as
 * cg_cuda.h says, from the symbols' run-time values.
 */
#include "cg_internal.h"

#include "cg_cuda.h"

#include "tensorc/runtime.h"

#include <string.h>

_Static_assert(CG_K_RAND_F32 == (int)TC_KRAND_F32 && CG_K_RAND_F64 == (int)TC_KRAND_F64 &&
                   CG_K_RANDN_F32 == (int)TC_KRANDN_F32 && CG_K_RANDN_F64 == (int)TC_KRANDN_F64 &&
                   CG_K_RANDINT_I64 == (int)TC_KRANDINT && CG_K_EPILOGUE_F32 == (int)TC_KEPILOGUE_F32,
               "the prelude's kernels and the runtime's numbers must agree");

/* A constant byte array, as an i8*. */
static LLVMValueRef bytes_global(Cg *g, const char *name, const void *data, size_t n) {
  LLVMValueRef init = LLVMConstStringInContext(g->c, data, (unsigned)n, 1);
  LLVMValueRef v = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(v, init);
  LLVMSetGlobalConstant(v, 1);
  LLVMSetLinkage(v, LLVMPrivateLinkage);
  LLVMSetAlignment(v, 16);
  return LLVMConstBitCast(v, g->t_ptr);
}

LLVMValueRef cg_gpu_image_ref(Cg *g, const CgDesc *d) {
  LLVMTypeRef gp = LLVMPointerType(d->gpu, 0);
  if (!g->gpu)
    return LLVMConstNull(gp);
  if (g->gpu_image)
    return g->gpu_image;
  const CgCudaModule *cm = g->gpu->cm;
  LLVMValueRef *names = ir_alloc(sizeof(LLVMValueRef) * ((size_t)cm->nnames + 1));
  for (int i = 0; i < cm->nnames; i++)
    names[i] = cg_cstr(g, cm->names[i]);
  LLVMValueRef emu = LLVMConstNull(g->t_ptr);
  if (g->gpu->emu_table) { /* defined in the emulator object */
    LLVMValueRef t = LLVMAddGlobal(g->mod, g->t_i8, g->gpu->emu_table);
    LLVMSetLinkage(t, LLVMExternalLinkage);
    emu = LLVMConstBitCast(t, g->t_ptr);
  }
  LLVMValueRef *free_blocks = ir_alloc(sizeof(LLVMValueRef) * ((size_t)cm->nnames + 1));
  for (int i = 0; i < cm->nnames; i++)
    free_blocks[i] = LLVMConstInt(g->t_i8, cm->block_free[i], 0);
  LLVMValueRef f[9] = {cg_cstr(g, g->gpu->arch),
                       bytes_global(g, "tc_gpu_ptx", g->gpu->ptx, strlen(g->gpu->ptx) + 1),
                       bytes_global(g, "tc_gpu_cubin", g->gpu->cubin, g->gpu->cubin_len),
                       LLVMConstInt(g->t_i64, g->gpu->cubin_len, 0),
                       cg_i32(g, cm->nnames),
                       cg_const_array(g, "tc_gpu_kernel_names", g->t_ptr, names, cm->nnames),
                       emu,
                       cg_i32(g, g->gpu->flags),
                       cg_const_array(g, "tc_gpu_block_free", g->t_i8, free_blocks, cm->nnames)};
  LLVMValueRef img = LLVMAddGlobal(g->mod, d->gpu, "tc_gpu_image");
  LLVMSetInitializer(img, LLVMConstNamedStruct(d->gpu, f, 9));
  LLVMSetGlobalConstant(img, 1);
  LLVMSetLinkage(img, LLVMPrivateLinkage);
  return g->gpu_image = img;
}

/* min(max(v, lo), hi) on i64 values */
static LLVMValueRef clamp(Cg *g, LLVMValueRef v, int64_t lo, int64_t hi) {
  LLVMBuilderRef B = g->b;
  v = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSLT, v, cg_i64(g, lo), ""), cg_i64(g, lo), v, "");
  return LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSGT, v, cg_i64(g, hi), ""), cg_i64(g, hi), v, "");
}

/* ceil(v / d) of a non-negative v */
static LLVMValueRef ceil_div(Cg *g, LLVMValueRef v, int64_t d) {
  return LLVMBuildSDiv(g->b, LLVMBuildAdd(g->b, v, cg_i64(g, d - 1), ""), cg_i64(g, d), "");
}

static LLVMValueRef grid_of(Cg *g, const CgLaunch *l) {
  if (l->grid == CG_GRID_ONE)
    return cg_i64(g, 1);
  LLVMValueRef work = NULL;
  if (l->grid == CG_GRID_TILES) { /* the tiles: the last two factors in tiles, rounded up */
    work = cg_i64(g, 1);
    for (int i = 0; i < l->nfactor; i++) {
      LLVMValueRef d = cg_dim(g, l->factor[i]);
      work = LLVMBuildMul(g->b, work, i >= l->nfactor - 2 ? ceil_div(g, d, l->tile) : d, "");
    }
  } else if (!l->work.overflow) {
    work = cg_dim(g, l->work);
  } else { /* a product too complex for one Dim: its factors, multiplied here */
    work = cg_i64(g, 1);
    for (int i = 0; i < l->nfactor; i++)
      work = LLVMBuildMul(g->b, work, cg_dim(g, l->factor[i]), "");
  }
  if (l->grid == CG_GRID_POINTS) /* ceil(work / (block * lanes)) */
    work = ceil_div(g, work, (int64_t)l->block * (l->lanes > 1 ? l->lanes : 1));
  return clamp(g, work, 1, l->max_grid);
}

void cg_emit_launch(Cg *g, KStmt *s) {
  if (!g->gpu)
    ir_die(s->loc, "codegen: a device statement in a module without GPU code");
  const CgDeviceKernel *dk = cg_cuda_kernel_of(g->gpu->cm, s);
  LLVMBuilderRef B = g->b;
  /* 1. the parameters: pointers to their values' slots */
  LLVMTypeRef at = LLVMArrayType(g->t_ptr, (unsigned)(dk->nparams ? dk->nparams : 1));
  LLVMValueRef arr = cg_slot(g, at, "kparams");
  for (int i = 0; i < dk->nparams; i++) {
    const CgParam *p = &dk->params[i];
    LLVMValueRef slot;
    switch (p->kind) {
    case CP_BUF: slot = g->bufs[p->index]; break;
    case CP_SYM: slot = cg_sym_slot(g, p->index); break;
    case CP_VAR: slot = cg_var_slot(g, p->index); break;
    case CP_SCRATCH: {
      LLVMValueRef a[2] = {g->ctx, cg_i64(g, dk->scratch_bytes)};
      LLVMValueRef sp = cg_call(g, "tcrt_dev_scratch", g->t_ptr, 2, a);
      cg_return_if_null(g, sp);
      slot = cg_slot(g, g->t_ptr, "scratch");
      LLVMBuildStore(B, sp, slot);
      break;
    }
    default: ir_die(s->loc, "codegen: kernel parameter kind %d", (int)p->kind);
    }
    LLVMValueRef idx[2] = {cg_i64(g, 0), cg_i64(g, i)};
    LLVMBuildStore(B, LLVMBuildBitCast(B, slot, g->t_ptr, ""), LLVMBuildInBoundsGEP2(B, at, arr, idx, 2, ""));
  }
  LLVMValueRef params = LLVMBuildBitCast(B, arr, LLVMPointerType(g->t_ptr, 0), "");
  /* 2. the launches, in order: a later one reads what an earlier wrote */
  for (int k = 0; k < dk->nlaunch; k++) {
    const CgLaunch *l = &dk->launch[k];
    LLVMValueRef a[5] = {g->ctx, cg_i32(g, dk->index + k), grid_of(g, l), cg_i32(g, l->block), params};
    cg_return_if_nonzero(g, cg_call(g, "tcrt_dev_launch", g->t_i32, 5, a));
  }
}
