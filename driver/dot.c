/* driver/dot.c - writes --dump-dot=FILE: the final kernel IR as a
 * Graphviz graph (ir/kernel_dot.c draws it), through a temporary file
 * renamed at the end, so a failure never leaves half a picture. */
#include "driver.h"
#include "ir/kernel.h"

#include <time.h>

bool dr_write_dot(struct KModule *km, const char *path) {
  const char *tmp = ir_sprintf("%s.tmp%ld", path, (long)clock());
  FILE *out = fopen(tmp, "w");
  if (out) {
    k_print_dot(out, km);
    bool bad = ferror(out);
    bad |= fclose(out) != 0;
    if (!bad && rename(tmp, path) == 0)
      return true;
    remove(tmp);
  }
  fprintf(stderr, "tensorc: error: cannot write '%s'\n", path);
  return false;
}
