/* codegen/codegen.h - from kernel IR to machine code.
 *
 * cpu_llvm.c builds an LLVM module through the LLVM C API; emit.c writes
 * it as LLVM IR text, assembly, an object file, or an executable linked
 * against libtensorc_rt by the system C compiler.
 */
#ifndef TENSORC_CODEGEN_H
#define TENSORC_CODEGEN_H

#include "../ir/kernel.h"

typedef enum CgEmit { CG_LLVM, CG_ASM, CG_OBJ, CG_EXE } CgEmit;

/* Compiles the module for the host CPU at -O`opt` (0..3) and writes `kind`
 * to `path` (through a temporary file renamed at the end).  Reports
 * failures with ir_error and returns false. */
bool cg_emit_cpu(KModule *m, CgEmit kind, const char *path, int opt);

#endif
