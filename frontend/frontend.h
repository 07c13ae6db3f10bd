/* frontend/frontend.h - the frontend's interface: parsing (ast.h) and the
 * resolve stage that lowers a parsed program to graph IR.
 */
#ifndef TENSORC_FRONTEND_H
#define TENSORC_FRONTEND_H

#include "ast.h"

/* load.c: reading source files and finding imported modules. */

/* Reads a whole file into arena memory (NUL-terminated, *len without the
 * NUL).  Returns NULL and sets *why on failure. */
char *fe_read_file(const char *path, size_t *len, const char **why);
/* Import path, searched in order: the -I directories, then the standard
 * library directory. */
void fe_add_import_dir(const char *dir);
/* Finds, reads and parses module `name`; NULL after reporting an error at
 * loc.  Each module is parsed once. */
AstNode *fe_load_module(const char *name, Loc loc);
/* Forgets the import path and the loaded modules (before ir_arena_reset,
 * which frees them): for a process that compiles many programs. */
void fe_load_reset(void);

/* resolve.c: the `resolve` stage.  Binds names, evaluates consts, inlines
 * every call, unrolls `for p in params()` and list loops, and turns
 * variables into SSA values with structured for/if regions.  The module gets
 * one function per entry point (`main`, each `export def`) plus `init`,
 * which computes the params' initial values.  Returns NULL after reporting
 * errors. */
IrModule *fe_resolve(AstNode *program, const char *module_name);

#endif
