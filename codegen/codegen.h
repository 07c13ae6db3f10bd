/* codegen/codegen.h - from kernel IR to machine code.
 *
 * One entry, cg_emit, for every target and output kind.  The host code
 * (entry points, runtime calls, the memory plan) is LLVM for every target
 * (cpu_host.c); the kernels are LLVM loop nests on the CPU (cpu_kernel.c,
 * cpu_parallel.c) and CUDA C on the GPU.  emit.c writes LLVM IR text,
 * assembly, an object file, or an executable linked against
 * libtensorc_rt by the system C compiler.
 */
#ifndef TENSORC_CODEGEN_H
#define TENSORC_CODEGEN_H

#include "../ir/kernel.h"

typedef enum CgEmit { CG_LLVM, CG_ASM, CG_OBJ, CG_EXE, CG_SHARED, CG_CUDA, CG_PTX } CgEmit;

typedef struct CgOptions {
  int opt;              /* -O0 .. -O3 */
  const char *prefix;   /* of the C interface's names (NULL: the module's name) */
  const char *source_text; /* the program's text, hashed into the model hash */
  size_t source_len;
  const char *header;   /* also write the C header here (tensorc -c), or NULL */
  const char *source;   /* the .tc file, named in the header */
  bool dump;            /* --dump-after=codegen: the generated LLVM IR (or CUDA C) on stderr */
} CgOptions;

/* Compiles the module for its target (m->target; the module has been
 * through the schedule, placement and legalize passes) and writes `kind`
 * to `path` (through a temporary file renamed at the end).  An executable
 * gets the program's main(); every other kind the C interface of SPEC §4
 * (the exported functions, create/destroy/error/param).  Reports the
 * user's errors with ir_error and returns false; returns false with a
 * message on stderr and no ir_error for what this build cannot make. */
bool cg_emit(KModule *m, CgEmit kind, const char *path, const CgOptions *o);

#endif
