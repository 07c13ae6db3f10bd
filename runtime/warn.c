/* runtime/warn.c - run-time warnings, NumPy's RuntimeWarning.
 *
 * A computation NumPy finishes with a warning (an integer division by
 * zero gives 0 and "divide by zero encountered in floor_divide") runs on
 * here too, and the generated code calls tcrt_warn_once at the warning's
 * site with a flag of its own: the first call prints the message (the
 * site's FILE:LINE:COL, "warning: ", what happened) on stderr, later ones
 * nothing, as NumPy's default filter shows each warning once a location.
 * The flag is set atomically: threads that hit the same site at once
 * print one line between them.
 */
#include "tensorc/runtime.h"

#include <stdatomic.h>
#include <stdio.h>

void tcrt_warn_once(int32_t *done, const char *message) {
  if (atomic_exchange((_Atomic int32_t *)done, 1))
    return;
  fprintf(stderr, "%s\n", message);
  fflush(stderr);
}
