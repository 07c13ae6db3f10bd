/* tensorc/api.h - the C interface of a compiled model (SPEC §4).
 *
 * `tensorc -c model.tc` writes model.o and model.h; model.h includes this
 * header and declares model_create, model_destroy, model_error, one
 * function per `export def` and model_param.  Those functions are thin
 * wrappers the compiler generates around what is declared here: a
 * tc_module descriptor per model and tcrt_api_* functions that check the
 * caller's DLPack tensors against it.
 *
 * Tensors cross the interface as DLPack DLTensors (dlpack/dlpack.h):
 *   - inputs are borrowed: a C-order CPU tensor of the declared dtype is
 *     read in place; a strided one is copied into a contiguous temporary;
 *   - on a context that runs on a GPU (docs/runtime.md), inputs may also be
 *     kDLCUDA tensors on the context's device: C-order ones are handed to
 *     the GPU code without a copy where the module allows it
 *     (TC_GPU_DEVICE_ARGS), else staged through the host; CPU tensors are
 *     copied to the device;
 *   - outputs are caller-owned tensors (CPU, or kDLCUDA on a context that
 *     runs on a GPU; the declared dtype; any strides on the CPU, C order on
 *     the device) whose shape must be the result's: checked before the call
 *     where the result's dims follow from the arguments' dims, else after.
 * Status codes are runtime.h's TC_OK, TC_ERR_RUNTIME, TC_ERR_INPUT,
 * TC_ERR_NOMEM; the text is in model_error(ctx).  A context is used by one
 * thread at a time; two contexts share nothing.
 */
#ifndef TENSORC_API_H
#define TENSORC_API_H

#include <dlpack/dlpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "tensorc/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below (or one it points at, as tc_gpu_image)
 * or a tcrt_api_* signature changes.  4: tc_gpu_image.block_free. */
#define TENSORC_ABI_VERSION 4

/* What model_create takes; all-zero (or a NULL pointer) is the default. */
typedef struct tensorc_options {
  uint64_t seed;         /* the random stream (params' initial values, rand()) */
  int threads;           /* 0: the runtime's default */
  const char *params_in; /* load DIR/NAME.npy for every param instead of initialising them */
  /* Where a model compiled for the GPU runs: "cuda", "cuda:N", "cpu" or
   * "auto"; NULL: $TC_DEVICE, else "auto" (the GPU when one opens, else
   * the CPU code compiled beside it by --device=auto).  See tcrt_api_create. */
  const char *device;
} tensorc_options;

/* One exported function.  Arguments use tc_argdesc (runtime.h) with
 * symbols indexing sym_names; results too.  A dim whose sym is
 * TC_DIM_COMPUTED is neither a constant nor one symbol (its text, "N - 1",
 * is sym_names[value], after the nsyms symbols): an argument's is checked
 * by the function itself, a result's is known only after the call.  (An
 * argument dim (sym -1, value -1), from older compilers, is the same
 * without its text.) */
#define TC_DIM_COMPUTED (-2)

typedef struct tc_funcdesc {
  const char *name;
  int nargs;
  const tc_argdesc *args;
  int nresults;
  const tc_argdesc *results;
  int nsyms;
  const char *const *sym_names;
  int (*fn)(tc_ctx *ctx, const tc_array *args, tc_array *results);
} tc_funcdesc;

/* Everything the runtime needs to know about a compiled model. */
typedef struct tc_module {
  int abi_version; /* TENSORC_ABI_VERSION of the compiler that made it */
  uint64_t hash;   /* of the source and the interface: header and object must agree */
  const char *name;
  const char *signature; /* the interface as JSON, for bindings (python/tensorc.py) */
  int nparams;
  const tc_paramdesc *params;
  int nfuncs;
  const tc_funcdesc *funcs;
  /* Sets embedded params, then computes the others' initial values. */
  int (*init)(tc_ctx *ctx);
  /* --device=cuda: the GPU code the functions launch (NULL: CPU code) */
  const tc_gpu_image *gpu;
  /* --device=auto: the same module compiled for the CPU, used by a context
   * that cannot open a GPU (NULL otherwise); its funcs are in the same order */
  const struct tc_module *cpu;
} tc_module;

/* DLPack 0.8's kDLBool (older dlpack.h lack the name); uint8 is not taken
 * for bool: its values need not be 0 or 1. */
#define TC_DLPACK_BOOL 6

/* A CPU DLTensor over C-order data of dtype dt (no strides, no offset;
 * shape is the caller's, rank ndim; bool is DLPack's kDLBool, 8 bits). */
static inline DLTensor tc_tensor(void *data, int ndim, int64_t *shape, tc_dtype dt) {
  DLTensor t = {0};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.shape = shape;
  t.dtype.lanes = 1;
  switch (dt) {
  case TC_BOOL: t.dtype.code = TC_DLPACK_BOOL, t.dtype.bits = 8; break;
  case TC_I32: t.dtype.code = kDLInt, t.dtype.bits = 32; break;
  case TC_I64: t.dtype.code = kDLInt, t.dtype.bits = 64; break;
  case TC_F32: t.dtype.code = kDLFloat, t.dtype.bits = 32; break;
  default: t.dtype.code = kDLFloat, t.dtype.bits = 64; break;
  }
  return t;
}

/* The runtime's ABI version (what it was built with). */
int tcrt_abi_version(void);

/* A new context for module m: checks that `abi` (the header's) and the
 * module's version are the runtime's and that `hash` (the header's) is
 * the module's, chooses the device, then seeds, and loads or initialises
 * the params.  NULL on failure, with the reason in tcrt_error(NULL) (per
 * thread).  The device (opt->device, else $TC_DEVICE, else "auto"):
 *   - a module without GPU code runs on the CPU; "cuda" is an error;
 *   - "cuda" / "cuda:N": GPU N (0 for "cuda"), an error if it cannot open;
 *   - "auto": the GPU 0 when it opens, else m->cpu (--device=auto), else
 *     the error;
 *   - "cpu": m->cpu, an error for a module compiled for the GPU only. */
tc_ctx *tcrt_api_create(const tc_module *m, const tensorc_options *opt, int abi, uint64_t hash);

/* Where the context runs, and why: "cuda:0 (emulator)", "cpu", "cpu (no
 * CUDA device: ...)", "cpu (asked: cpu)".  Valid while the context is. */
const char *tcrt_api_device(const tc_ctx *ctx);

/* Calls f: argv[i] is a `const DLTensor *` for a tensor argument and a
 * pointer to the C value (float, double, int32_t, int64_t, bool) for a
 * scalar one.  With outs != NULL the results are written into outs[r]
 * (caller-owned DLTensors).  With outs == NULL they are handed over in
 * raw[r] as runtime buffers the caller frees with tcrt_free (bindings
 * use this to wrap them without a copy).  On failure nothing the call
 * allocated is left behind; params it had already updated keep their new
 * values. */
int tcrt_api_call(tc_ctx *ctx, const tc_funcdesc *f, void *const *argv, DLTensor *const *outs, tc_array *raw);
/* f may be a function of the module given to tcrt_api_create or of the one
 * the context runs (its CPU twin): the same index is called either way.
 * Raw results are host memory wherever the context runs. */

/* Fills *view with param `name` of the context: a DLTensor over the
 * context's own buffer (writable; shape points into the module
 * descriptor), kDLCUDA when the context runs on a GPU, else kDLCPU.  It
 * stays valid until a call that assigns the param. */
int tcrt_api_param(tc_ctx *ctx, const tc_module *m, const char *name, DLTensor *view);

#ifdef __cplusplus
}
#endif
#endif
