/* frontend/resolve_env.c - environments of names (see resolve_env.h).
 *
 * An environment is a small array searched linearly: a function has tens of
 * names, and copies are taken at every branch and loop, so a flat array in
 * the IR arena is both the simplest and the cheapest.
 */
#include "resolve_env.h"

#include <string.h>

Binding *rs_env_get(Env *e, const char *name) {
  for (int i = 0; i < e->n; i++)
    if (strcmp(e->v[i].name, name) == 0)
      return &e->v[i];
  return NULL;
}

void rs_env_set(Env *e, const char *name, IrNode *node) {
  Binding *b = rs_env_get(e, name);
  if (b) {
    b->node = node;
    b->unset = NULL; /* a new value is assigned on every path to here */
    return;
  }
  if (e->n == e->cap) {
    int cap = e->cap ? e->cap * 2 : 16;
    Binding *v = ir_alloc(sizeof(Binding) * (size_t)cap);
    if (e->n)
      memcpy(v, e->v, sizeof(Binding) * (size_t)e->n);
    e->v = v;
    e->cap = cap;
  }
  e->v[e->n++] = (Binding){.name = name, .node = node};
}

Env rs_env_copy(const Env *e) {
  Env c = {0};
  c.cap = e->n ? e->n : 1;
  c.v = ir_alloc(sizeof(Binding) * (size_t)c.cap);
  if (e->n)
    memcpy(c.v, e->v, sizeof(Binding) * (size_t)e->n);
  c.n = e->n;
  return c;
}

const Unassigned *rs_unassigned(const char *why, Loc assigned, IrNode *guard) {
  Unassigned *u = ir_alloc(sizeof *u);
  *u = (Unassigned){why, assigned, guard};
  return u;
}

void rs_guard_read(const Unassigned *u, const char *name) {
  if (!u->guard->at.str)
    u->guard->at.str = name;
}
