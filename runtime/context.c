/* runtime/context.c - the state of one running program: params, the
 * random stream, the thread count (and its pool of workers, threads.c)
 * and the last error message.
 *
 * One context per thread; nothing here is global, so two contexts run
 * side by side without sharing anything.
 */
#include "rt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tc_ctx *tcrt_ctx_new(int nparams) {
  tc_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx)
    return NULL;
  ctx->nparams = nparams;
  ctx->params = calloc(nparams > 0 ? (size_t)nparams : 1, sizeof(void *));
  if (!ctx->params) {
    free(ctx);
    return NULL;
  }
  ctx->threads = tcrt_default_threads();
  /* the C API's --profile: the table is printed by tcrt_ctx_free */
  const char *prof = getenv("TENSORC_PROFILE");
  if (prof && *prof && strcmp(prof, "0") != 0)
    tcrt_profile_start(ctx); /* out of memory: the program runs unprofiled */
  return ctx;
}

void tcrt_ctx_free(tc_ctx *ctx) {
  if (!ctx)
    return;
  rt_profile_close(ctx); /* while the device is open: the table names it */
  for (int i = 0; i < ctx->nparams; i++)
    if (!ctx->dev)
      tcrt_free(ctx->params[i]);
  if (ctx->dev)
    rt_dev_close(ctx); /* the params' device blocks too */
  /* blocks still live (results handed to the caller) outlive the context */
  rt_forget_blocks(ctx);
  rt_free_cache(ctx); /* the params' blocks too, cached just above */
  rt_pool_free(ctx->pool);
  free(ctx->params);
  free(ctx);
}

/* Errors with no context to hold them (a failed tcrt_api_create), per
 * thread like the contexts themselves. */
static _Thread_local char no_ctx_error[1024];

const char *tcrt_error(const tc_ctx *ctx) { return ctx ? ctx->error : no_ctx_error; }

int tcrt_fail(tc_ctx *ctx, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx ? ctx->error : no_ctx_error, sizeof no_ctx_error, fmt, ap);
  va_end(ap);
  if (ctx)
    ctx->status = code;
  return code;
}

/* A C API call that succeeds clears the last failure's text (and the
 * thread's text when ctx is NULL), so tc_error never reports an old one. */
void rt_clear_error(tc_ctx *ctx) {
  if (ctx)
    ctx->status = TC_OK;
  (ctx ? ctx->error : no_ctx_error)[0] = 0;
}

int tcrt_status(const tc_ctx *ctx) { return ctx && ctx->status ? ctx->status : TC_ERR_NOMEM; }

void *tcrt_param(tc_ctx *ctx, int i) { return i >= 0 && i < ctx->nparams ? ctx->params[i] : NULL; }

/* With a device open, params live in device memory (docs/gpu.md). */
void tcrt_set_param(tc_ctx *ctx, int i, void *data) {
  if (i < 0 || i >= ctx->nparams || ctx->params[i] == data)
    return;
  if (ctx->dev)
    tcrt_dev_free(ctx, ctx->params[i]);
  else
    tcrt_free(ctx->params[i]);
  ctx->params[i] = data;
}

int tcrt_set_param_copy(tc_ctx *ctx, int i, const void *data, int64_t bytes) {
  void *p = ctx->dev ? tcrt_dev_alloc_uninit(ctx, bytes) : tcrt_alloc(ctx, bytes);
  if (!p)
    return TC_ERR_NOMEM;
  int st = ctx->dev ? tcrt_dev_copy(ctx, p, data, bytes, TC_COPY_H2D) : (memcpy(p, data, (size_t)bytes), TC_OK);
  if (st) {
    ctx->dev ? tcrt_dev_free(ctx, p) : tcrt_free(p);
    return st;
  }
  tcrt_set_param(ctx, i, p);
  return TC_OK;
}

int tcrt_param_read(tc_ctx *ctx, int i, void *out, int64_t bytes) {
  void *p = tcrt_param(ctx, i);
  if (!p)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "param %d has no value", i);
  if (ctx->dev)
    return tcrt_dev_copy(ctx, out, p, bytes, TC_COPY_D2H);
  memcpy(out, p, (size_t)bytes);
  return TC_OK;
}

/* n <= 0: the default (the CPUs this process may use). */
void tcrt_set_threads(tc_ctx *ctx, int n) { ctx->threads = n > 0 ? (n < 4096 ? n : 4096) : tcrt_default_threads(); }
int tcrt_threads(const tc_ctx *ctx) { return ctx->threads; }
