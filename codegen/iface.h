/* codegen/iface.h - a compiled model's interface, computed once from the
 * kernel IR and written three ways: as LLVM descriptors (cpu_desc.c,
 * cpu_api.c), as the C header of `tensorc -c` and as the JSON signature
 * bindings read (iface.c).  Internal to codegen/.
 */
#ifndef TENSORC_CG_IFACE_H
#define TENSORC_CG_IFACE_H

#include "codegen.h"

/* One dim of an argument or a result. */
typedef struct IfDim {
  int sym;          /* index into the function's symbols; -1: constant; IF_DIM_COMPUTED */
  int64_t value;    /* the constant */
  const char *text; /* as written: "64", "B", "N - 1" */
} IfDim;
#define IF_DIM_COMPUTED (-2) /* runtime.h's TC_DIM_COMPUTED */

typedef struct IfValue {
  const char *name;
  DType dtype;
  int rank;
  IfDim dims[IR_MAX_RANK];
  bool has_default;
  double default_value;
} IfValue;

typedef struct IfFunc {
  KFunc *kf;
  const char *name;
  int nargs, nresults, nsyms;
  IfValue *args, *results;
  int *syms;               /* symbol ids, in order of first appearance in the arguments */
  int ntexts;              /* computed dims (arguments', then results'): their text, numbered from nsyms on */
  const char **texts;
  const char *workspace;   /* bytes of temporaries per call, "1536*B + 256"; NULL: depends on data */
  const char *workspace_c; /* the same as a C macro body, "1536*(B) + 256" */
} IfFunc;

typedef struct IfModule {
  const char *prefix; /* of the C names: model_create, ... */
  uint64_t hash;      /* of the source and the interface */
  int nfuncs;         /* exported functions */
  IfFunc *funcs;
  const char *json; /* the signature */
  /* What the header says the functions run on: NULL is the target's name
   * ("cpu", "cuda"); a --device=auto build sets "auto" (a GPU module with
   * its CPU twin, tc_module.cpu).  device_args: the GPU code reads its
   * arguments through tcrt_dev_arg (TC_GPU_DEVICE_ARGS), so the header
   * promises kDLCUDA inputs without a copy. */
  const char *device;
  bool device_args;
} IfModule;

/* The arguments (and results) of one function. */
IfFunc cg_iface_func(KFunc *f);
/* The exported functions, the hash and the JSON of module m. */
IfModule *cg_iface(KModule *m, const char *prefix, const char *source, size_t len);
/* `tensorc -c`'s header: through a temporary file renamed at the end. */
bool cg_write_header(const IfModule *it, KModule *m, const char *path, const char *source);

#endif
