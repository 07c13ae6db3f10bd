/* driver/driver.h - what the driver's files share. */
#ifndef TENSORC_DRIVER_H
#define TENSORC_DRIVER_H

#include "ir/ir.h"

/* embed.c: compile-time param values.  After resolve: every
 * `param X = embed("f.npy")` gets the file's type and bytes.  After the
 * shape pass: --params=DIR, DIR/NAME.npy for every other param, checked
 * against its type.  Both report with ir_error and return false. */
bool dr_embed_files(IrModule *m);
bool dr_embed_dir(IrModule *m, const char *dir);

/* dot.c: --dump-dot=FILE, the kernel IR as a Graphviz graph, written to a
 * temporary name and renamed; false (with a message) when it cannot be. */
struct KModule;
bool dr_write_dot(struct KModule *km, const char *path);

#endif
