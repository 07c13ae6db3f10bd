/* frontend/load.c - source files and the import path.
 *
 * `import nn` looks for nn.tc in each -I directory, then in the standard
 * library directory the driver adds last.  A module is parsed once and
 * shared by everything that imports it.
 */
#include "frontend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static PtrVec import_dirs;

typedef struct Loaded {
  const char *name;
  AstNode *ast; /* NULL: failed (reported once) */
} Loaded;
static PtrVec loaded;

char *fe_read_file(const char *path, size_t *len, const char **why) {
  struct stat st;
  if (stat(path, &st) != 0) {
    *why = strerror(errno);
    return NULL;
  }
  if (S_ISDIR(st.st_mode)) {
    *why = "is a directory";
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  if (!f) {
    *why = strerror(errno);
    return NULL;
  }
  /* Read in chunks rather than trusting st_size (pipes, /dev/stdin). */
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    fclose(f);
    *why = "out of memory";
    return NULL;
  }
  for (;;) {
    if (n == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        free(buf);
        fclose(f);
        *why = "out of memory";
        return NULL;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    if (got == 0)
      break;
    n += got;
  }
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    *why = "read error";
    return NULL;
  }
  char *text = ir_strndup(buf, n);
  free(buf);
  *len = n;
  return text;
}

/* DIR may be a list separated by ':'.  A leading $ORIGIN in an entry is the
 * directory of the running tensorc, so that an installed compiler finds the
 * standard library beside it (TENSORC_STDLIB_DIR, set in the top-level
 * CMakeLists.txt, is "$ORIGIN/../share/tensorc/lib:SOURCE/lib"). */
void fe_add_import_dir(const char *dir) {
  for (const char *end;; dir = end + 1) {
    end = strchr(dir, ':');
    char *d = ir_strndup(dir, end ? (size_t)(end - dir) : strlen(dir));
    if (strncmp(d, "$ORIGIN", 7) == 0 && (d[7] == '/' || !d[7])) {
      char self[4096];
      ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
      char *slash = len > 0 ? (self[len] = 0, strrchr(self, '/')) : NULL;
      d = slash ? (*slash = 0, ir_sprintf("%s%s", self, d + 7)) : NULL;
    }
    if (d && *d)
      ir_vec_push(&import_dirs, d);
    if (!end)
      break;
  }
}

void fe_load_reset(void) {
  import_dirs = (PtrVec){0};
  loaded = (PtrVec){0};
}

AstNode *fe_load_module(const char *name, Loc loc) {
  for (int i = 0; i < loaded.n; i++) {
    Loaded *l = loaded.v[i];
    if (strcmp(l->name, name) == 0)
      return l->ast;
  }
  Loaded *l = ir_alloc(sizeof *l);
  l->name = ir_strdup(name);
  ir_vec_push(&loaded, l);
  for (int i = 0; i < import_dirs.n; i++) {
    const char *path = ir_sprintf("%s/%s.tc", (const char *)import_dirs.v[i], name);
    size_t len;
    const char *why;
    char *text = fe_read_file(path, &len, &why);
    if (!text)
      continue;
    l->ast = fe_parse(path, text, len);
    if (!l->ast)
      ir_note(loc, "while importing '%s' from %s", name, path);
    return l->ast;
  }
  ir_error(loc, "cannot find module '%s' (looked for %s.tc in %d import director%s)", name, name,
           import_dirs.n, import_dirs.n == 1 ? "y" : "ies");
  for (int i = 0; i < import_dirs.n; i++)
    ir_note((Loc){0}, "searched %s", (const char *)import_dirs.v[i]);
  return NULL;
}
