/* runtime/params.c - param directories: DIR/NAME.npy for every param,
 * read by executables (--params-in) and by tcrt_api_create (params_in). */
#include "rt_files.h"
#include "rt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_param_type(const tc_paramdesc *p, char *buf, size_t size) {
  size_t len = (size_t)snprintf(buf, size, "%s", tcrt_dtype_name(p->dtype));
  for (int i = 0; i < p->rank && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "[", (long long)p->shape[i]);
  if (p->rank > 0 && len < size)
    snprintf(buf + len, size - len, "]");
}

void rt_shape_str(int rank, const int64_t *shape, char *buf, size_t size) {
  size_t len = (size_t)snprintf(buf, size, "(");
  for (int i = 0; i < rank && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (len < size)
    snprintf(buf + len, size - len, rank == 1 ? ",)" : ")");
}

char *rt_param_path(const char *dir, const char *name) {
  size_t size = strlen(dir) + strlen(name) + 8;
  char *path = malloc(size);
  if (path)
    snprintf(path, size, "%s/%s.npy", dir, name);
  return path;
}

/* Loads param i from the .npy file at path and checks it against the
 * declaration.  The path is always DIR/NAME.npy, so the .npy reader is
 * called directly (not through tcrt_load_as, which picks the format by the
 * extension): tests/fuzz/libfuzzer/fuzz_params.c hands it an in-memory file. */
int rt_param_load_file(tc_ctx *ctx, int i, const tc_paramdesc *pd, const char *path, char *err, size_t errsize,
                       void (*warn)(void *, const char *, const char *), void *user) {
  tc_array a = {0};
  char warning[1200] = "";
  char msg[1024], type[256], shape[256];
  if (rt_npy_read(path, pd->dtype, &a, warning, sizeof warning, msg, sizeof msg) != TC_OK) {
    snprintf(err, errsize, "%s: %s", pd->name, msg);
    return TC_ERR_INPUT;
  }
  if (warning[0] && warn)
    warn(user, pd->name, warning);
  rt_param_type(pd, type, sizeof type);
  rt_shape_str(a.rank, a.shape, shape, sizeof shape);
  int same = a.rank == pd->rank;
  for (int ax = 0; same && ax < a.rank; ax++)
    same = a.shape[ax] == pd->shape[ax];
  int code = TC_OK;
  if (a.dtype != pd->dtype) {
    snprintf(err, errsize, "%s: expected %s, %s holds %s", pd->name, tcrt_dtype_name(pd->dtype), path,
             tcrt_dtype_name(a.dtype));
    code = TC_ERR_INPUT;
  } else if (!same) {
    snprintf(err, errsize, "%s: expected %s, %s has shape %s", pd->name, type, path, shape);
    code = TC_ERR_INPUT;
  }
  if (code) {
    tcrt_free(a.data);
    return code;
  }
  /* with a device open the params live there: a copy, the file's buffer freed */
  code = ctx->dev ? tcrt_set_param_copy(ctx, i, a.data, tcrt_numel(&a) * (int64_t)tcrt_dtype_size(a.dtype)) : TC_OK;
  if (ctx->dev) {
    tcrt_free(a.data);
    if (code) {
      snprintf(err, errsize, "%s: %s", pd->name, tcrt_error(ctx));
      return code;
    }
  } else {
    tcrt_set_param(ctx, i, a.data);
  }
  return TC_OK;
}

static int load_one(tc_ctx *ctx, int i, const tc_paramdesc *pd, const char *dir, char *err, size_t errsize,
                    void (*warn)(void *, const char *, const char *), void *user) {
  char *path = rt_param_path(dir, pd->name);
  if (!path) {
    snprintf(err, errsize, "out of memory");
    return TC_ERR_NOMEM;
  }
  int code = rt_param_load_file(ctx, i, pd, path, err, errsize, warn, user);
  free(path);
  return code;
}

int tcrt_params_load(tc_ctx *ctx, int n, const tc_paramdesc *params, const char *dir, char *err, size_t errsize,
                     void (*warn)(void *user, const char *name, const char *message), void *user) {
  for (int i = 0; i < n; i++) {
    int code = load_one(ctx, i, &params[i], dir, err, errsize, warn, user);
    if (code)
      return code;
  }
  return TC_OK;
}
