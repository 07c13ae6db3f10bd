/* codegen/codegen.h - from kernel IR to machine code.
 *
 * cpu_llvm.c builds an LLVM module through the LLVM C API; emit.c writes
 * it as LLVM IR text, assembly, an object file, or an executable linked
 * against libtensorc_rt by the system C compiler.
 */
#ifndef TENSORC_CODEGEN_H
#define TENSORC_CODEGEN_H

#include "../ir/kernel.h"

typedef enum CgEmit { CG_LLVM, CG_ASM, CG_OBJ, CG_EXE, CG_SHARED } CgEmit;

typedef struct CgOptions {
  int opt;              /* -O0 .. -O3 */
  const char *prefix;   /* of the C interface's names (NULL: the module's name) */
  const char *source_text; /* the program's text, hashed into the model hash */
  size_t source_len;
  const char *header;   /* also write the C header here (tensorc -c), or NULL */
  const char *source;   /* the .tc file, named in the header */
} CgOptions;

/* Compiles the module for the host CPU and writes `kind` to `path`
 * (through a temporary file renamed at the end).  An executable gets the
 * program's main(); every other kind the C interface of SPEC §4 (the
 * exported functions, create/destroy/error/param).  Reports failures with
 * ir_error and returns false. */
bool cg_emit_cpu(KModule *m, CgEmit kind, const char *path, const CgOptions *o);

#endif
