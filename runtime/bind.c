/* runtime/bind.c - declared argument types, shared by the executable's
 * command line (exe.c) and the C interface (api.c).
 *
 * A declaration is a dtype and dims (tc_dimdesc): a constant, a symbol
 * bound by the first argument that has it and checked against the others,
 * or TC_DIM_COMPUTED, an expression of symbols ("N + 1") that the
 * generated code checks itself; its text is sym_names[value], after the
 * nsyms symbols.  Each caller words its own messages (a file and its rows
 * for the executable, a DLTensor's axis for the C interface); what a
 * declaration says and whether a dim agrees with it are decided here once.
 */
#include "rt_internal.h"
#include "tensorc/api.h" /* TC_DIM_COMPUTED */

#include <stdio.h>

void rt_decl_text(const tc_argdesc *d, int nsyms, const char *const *sym_names, char *buf, size_t size) {
  size_t len = (size_t)snprintf(buf, size, "%s", tcrt_dtype_name(d->dtype));
  for (int i = 0; i < d->rank && len < size; i++) {
    const tc_dimdesc *dim = &d->dims[i];
    const char *sep = i ? ", " : "[";
    if (dim->sym >= 0 && dim->sym < nsyms)
      len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, sym_names[dim->sym]);
    else if (dim->sym == TC_DIM_COMPUTED && dim->value >= nsyms)
      len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, sym_names[dim->value]);
    else if (dim->sym < 0 && dim->value < 0) /* an expression without its text (older objects) */
      len += (size_t)snprintf(buf + len, size - len, "%s?", sep);
    else
      len += (size_t)snprintf(buf + len, size - len, "%s%lld", sep, (long long)dim->value);
  }
  if (d->rank > 0 && len < size)
    snprintf(buf + len, size - len, "]");
}

RtBind rt_bind_dim(RtBinder *b, const tc_argdesc *d, int arg, int axis, int64_t got) {
  const tc_dimdesc *dim = &d->dims[axis];
  if (dim->sym == TC_DIM_COMPUTED || (dim->sym < 0 && dim->value < 0))
    return RT_BIND_OK; /* an expression of symbols: the generated code checks it */
  if (dim->sym < 0 || dim->sym >= b->nsyms)
    return got == dim->value ? RT_BIND_OK : RT_BIND_NOT_CONSTANT;
  int s = dim->sym;
  if (b->sym_arg[s] < 0) {
    b->sym_arg[s] = arg;
    if (b->sym_axis)
      b->sym_axis[s] = axis;
    b->sym_value[s] = got;
    return RT_BIND_OK;
  }
  return b->sym_value[s] == got ? RT_BIND_OK : RT_BIND_SYMBOL_DISAGREES;
}
