/* frontend/resolve_env.h - the environment of names while resolving: which
 * IR value each Python name holds on the current path, and why a name may
 * be unassigned there.
 *
 * Depends on the graph IR only (ir/ir.h), not on the rest of the frontend,
 * so the rules for names can be read, and tested, on their own.
 */
#ifndef TENSORC_RESOLVE_ENV_H
#define TENSORC_RESOLVE_ENV_H

#include "ir/ir.h"

/* Why a name may be unassigned, for the note at its assignment. */
typedef struct Unassigned {
  const char *why;  /* "assigned only inside this loop, which may run zero times";
                       NULL: poisoned, its value had an error (rs_poison) */
  Loc assigned;
  IrNode *guard;    /* a batches() loop's num_batches: reading is allowed, and
                       makes the program check at run time that it is >= 1 */
} Unassigned;

typedef struct Binding {
  const char *name;
  IrNode *node;
  const char *alias; /* a loop variable standing for this param */
  /* Some path reaches here without assigning the name: reading it is an
   * error, or, past a batches() loop, a run-time check that it ran. */
  const struct Unassigned *unset;
  Loc assigned; /* its last assignment on the path that assigns it */
} Binding;

typedef struct Env {
  Binding *v;
  int n, cap;
} Env;

Binding *rs_env_get(Env *e, const char *name); /* NULL when not bound */
/* Binds `name` to `node` on every path to here (clears `unset`). */
void rs_env_set(Env *e, const char *name, IrNode *node);
Env rs_env_copy(const Env *e);
const Unassigned *rs_unassigned(const char *why, Loc assigned, IrNode *guard);
/* `name`, which only a batches() loop assigns (u->guard), is read (or carried
 * into a later loop): the lowering checks that the loop ran, its message
 * naming the first such read. */
void rs_guard_read(const Unassigned *u, const char *name);

#endif
