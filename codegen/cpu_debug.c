/* codegen/cpu_debug.c - `-g`: DWARF debug info for the LLVM module, so
 * that gdb and perf point at .tc lines.
 *
 * One compile unit for the program's file; one DISubprogram for each
 * entry function (tc_fn_NAME at the line of its `def`) and each outlined
 * parallel loop body (tc_fn_NAME.parN at its kernel's line).  Instructions
 * get the location of the kernel-IR statement they were built for:
 * cg_emit_stmt sets the builder's current location (cg_debug_loc), so every
 * instruction of a statement carries the statement's file, line and column.
 * A statement from another file (an imported module such as nn.tc) is in a
 * DILexicalBlockFile of that file inside the function's subprogram.
 *
 * LLVM's verifier wants every instruction of a function with a subprogram
 * located in that subprogram, and every call to have a location.  Rather
 * than follow the builder through every helper, cg_debug_finish walks the
 * module once: a function without a subprogram (the C interface's
 * wrappers, C's main, the init entry) gets one named after it, an
 * instruction with no location takes the previous one in its function
 * (else the function's line), and a location in another function's scope
 * (a builder that moved) is remade in this one, keeping its line.
 *
 * With -g the values of the user's program are named in `--emit=llvm`:
 * element loads after their buffer ("%x"), loop variables and symbols, the
 * parallel bodies' parameters and the fields of their environment.
 */
#include "cg_internal.h"

#include <llvm-c/DebugInfo.h>
#include <stdlib.h>
#include <string.h>

typedef struct BlockFile {
  LLVMMetadataRef block, sp; /* a DILexicalBlockFile and the subprogram it is in */
  const char *file;
} BlockFile;

struct CgDebug {
  LLVMDIBuilderRef dib;
  LLVMMetadataRef cu, file; /* the program's file */
  const char *file_name;
  LLVMMetadataRef fn_type; /* one subroutine type serves every function */
  PtrVec blocks;           /* BlockFile* */
};

/* A DIFile by absolute directory (gdb finds the source from anywhere). */
static LLVMMetadataRef di_file(CgDebug *d, const char *given) {
  char *real = realpath(given, NULL);
  const char *path = real ? ir_strdup(real) : given;
  free(real);
  const char *slash = strrchr(path, '/');
  const char *dir = slash ? ir_strndup(path, (size_t)(slash - path)) : ".";
  const char *base = slash ? slash + 1 : path;
  return LLVMDIBuilderCreateFile(d->dib, base, strlen(base), dir, strlen(dir));
}

void cg_debug_begin(Cg *g, const char *source) {
  CgDebug *d = ir_alloc(sizeof *d);
  memset(d, 0, sizeof *d);
  d->dib = LLVMCreateDIBuilder(g->mod);
  d->file_name = source;
  d->file = di_file(d, source);
  static const char producer[] = "tensorc";
  d->cu =
      LLVMDIBuilderCreateCompileUnit(d->dib, LLVMDWARFSourceLanguageC, d->file, producer, strlen(producer), 0,
                                     "", 0, 0, "", 0, LLVMDWARFEmissionFull, 0, 0, 0, "", 0, "", 0);
  d->fn_type = LLVMDIBuilderCreateSubroutineType(d->dib, d->file, NULL, 0, LLVMDIFlagZero);
  LLVMAddModuleFlag(g->mod, LLVMModuleFlagBehaviorWarning, "Debug Info Version", strlen("Debug Info Version"),
                    LLVMValueAsMetadata(LLVMConstInt(g->t_i32, LLVMDebugMetadataVersion(), 0)));
  LLVMAddModuleFlag(g->mod, LLVMModuleFlagBehaviorWarning, "Dwarf Version", strlen("Dwarf Version"),
                    LLVMValueAsMetadata(LLVMConstInt(g->t_i32, 4, 0)));
  g->dbg = d;
}

static LLVMMetadataRef subprogram(CgDebug *d, LLVMValueRef fn, unsigned line) {
  size_t len;
  const char *name = LLVMGetValueName2(fn, &len);
  LLVMMetadataRef sp = LLVMDIBuilderCreateFunction(
      d->dib, d->file, name, len, name, len, d->file, line, d->fn_type,
      LLVMGetLinkage(fn) == LLVMInternalLinkage || LLVMGetLinkage(fn) == LLVMPrivateLinkage, 1, line,
      LLVMDIFlagPrototyped, 0);
  LLVMSetSubprogram(fn, sp);
  return sp;
}

/* The scope of a location in `file` inside subprogram sp. */
static LLVMMetadataRef scope_for(CgDebug *d, LLVMMetadataRef sp, const char *file) {
  if (!file || strcmp(file, d->file_name) == 0)
    return sp;
  for (int i = 0; i < d->blocks.n; i++) {
    BlockFile *b = d->blocks.v[i];
    if (b->sp == sp && strcmp(b->file, file) == 0)
      return b->block;
  }
  BlockFile *b = ir_alloc(sizeof *b);
  b->sp = sp;
  b->file = file;
  b->block = LLVMDIBuilderCreateLexicalBlockFile(d->dib, sp, di_file(d, file), 0);
  ir_vec_push(&d->blocks, b);
  return b->block;
}

void cg_debug_func(Cg *g, LLVMValueRef fn, Loc loc) {
  CgDebug *d = g->dbg;
  if (!d)
    return;
  /* in the Cg, so that cpu_parallel.c's save and restore of it comes back
   * to the enclosing function's subprogram */
  g->dbg_scope = subprogram(d, fn, loc.file ? (unsigned)loc.line : 0);
  LLVMMetadataRef at = LLVMDIBuilderCreateDebugLocation(g->c, loc.file ? (unsigned)loc.line : 0,
                                                        loc.file ? (unsigned)loc.col : 0, g->dbg_scope, NULL);
  LLVMSetCurrentDebugLocation2(g->b, at);
  LLVMSetCurrentDebugLocation2(g->ab, at);
}

void cg_debug_loc(Cg *g, Loc loc) {
  CgDebug *d = g->dbg;
  if (!d || !g->dbg_scope || !loc.file)
    return;
  LLVMMetadataRef at = LLVMDIBuilderCreateDebugLocation(g->c, (unsigned)loc.line, (unsigned)loc.col,
                                                        scope_for(d, g->dbg_scope, loc.file), NULL);
  LLVMSetCurrentDebugLocation2(g->b, at);
}

const char *cg_debug_name(Cg *g, const char *name) { return g->dbg && name ? name : ""; }

/* A location's scope is sp, or a block file inside sp. */
static bool in_scope(CgDebug *d, LLVMMetadataRef scope, LLVMMetadataRef sp) {
  if (scope == sp)
    return true;
  for (int i = 0; i < d->blocks.n; i++) {
    BlockFile *b = d->blocks.v[i];
    if (b->block == scope)
      return b->sp == sp;
  }
  return false;
}

void cg_debug_finish(Cg *g) {
  CgDebug *d = g->dbg;
  if (!d)
    return;
  for (LLVMValueRef fn = LLVMGetFirstFunction(g->mod); fn; fn = LLVMGetNextFunction(fn)) {
    if (LLVMIsDeclaration(fn))
      continue;
    LLVMMetadataRef sp = LLVMGetSubprogram(fn);
    if (!sp)
      sp = subprogram(d, fn, 0);
    LLVMMetadataRef last = LLVMDIBuilderCreateDebugLocation(g->c, 0, 0, sp, NULL);
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
        LLVMMetadataRef at = LLVMInstructionGetDebugLoc(in);
        if (at && !in_scope(d, LLVMDILocationGetScope(at), sp))
          at = LLVMDIBuilderCreateDebugLocation(g->c, LLVMDILocationGetLine(at), LLVMDILocationGetColumn(at),
                                                sp, NULL);
        if (!at)
          at = last;
        LLVMInstructionSetDebugLoc(in, at);
        last = at;
      }
  }
  LLVMDIBuilderFinalize(d->dib);
  LLVMDisposeDIBuilder(d->dib);
  g->dbg = NULL;
}
