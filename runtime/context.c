/* runtime/context.c - the state of one running program: params, the
 * random stream, the thread count and the last error message.
 *
 * One context per thread; nothing here is global, so two contexts run
 * side by side without sharing anything.
 */
#include "rt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
  ctx->threads = 1;
  return ctx;
}

void tcrt_ctx_free(tc_ctx *ctx) {
  if (!ctx)
    return;
  for (int i = 0; i < ctx->nparams; i++)
    tcrt_free(ctx->params[i]);
  free(ctx->params);
  free(ctx);
}

const char *tcrt_error(const tc_ctx *ctx) { return ctx ? ctx->error : "no context"; }

int tcrt_fail(tc_ctx *ctx, int code, const char *fmt, ...) {
  if (ctx) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
  }
  return code;
}

void *tcrt_param(tc_ctx *ctx, int i) { return i >= 0 && i < ctx->nparams ? ctx->params[i] : NULL; }

void tcrt_set_param(tc_ctx *ctx, int i, void *data) {
  if (i < 0 || i >= ctx->nparams || ctx->params[i] == data)
    return;
  tcrt_free(ctx->params[i]);
  ctx->params[i] = data;
}

void tcrt_set_threads(tc_ctx *ctx, int n) { ctx->threads = n > 0 ? n : 1; }
int tcrt_threads(const tc_ctx *ctx) { return ctx->threads; }
