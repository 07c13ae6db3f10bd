/* runtime/dist.c - the collectives compiled programs call (SPEC §8), on
 * the transport rt_dist_install gave (rt_dist.h), or, without one, as one
 * process: rank 0 of 1, all_reduce and broadcast the identity. */
#include "rt_dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const rt_dist_ops *dist;

/* TENSORC_DIST_STATS: what the collectives cost (bench/dist.sh) */
static int64_t ncalls, nbytes;
static double seconds;

void rt_dist_install(const rt_dist_ops *ops) { dist = ops; }

bool rt_dist_writer(void) { return !dist || dist->rank == 0; }

const char *rt_dist_label(const char *name, char *buf, size_t size) {
  if (!dist || dist->size <= 1)
    return name;
  snprintf(buf, size, "%s: rank %d", name, dist->rank);
  return buf;
}

int tcrt_rank(tc_ctx *ctx, int64_t *out) {
  *out = dist ? dist->rank : 0;
  return TC_OK;
}

int tcrt_world_size(tc_ctx *ctx, int64_t *out) {
  *out = dist ? dist->size : 1;
  return TC_OK;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int failed(tc_ctx *ctx, const char *what, const char *err) {
  return tcrt_fail(ctx, TC_ERR_RUNTIME, "%s across %d processes failed: %s", what, dist->size, err);
}

int tcrt_all_reduce(tc_ctx *ctx, int dtype, int op, const void *in, void *out, int64_t n) {
  if (in != out)
    memmove(out, in, (size_t)n * tcrt_dtype_size((tc_dtype)dtype));
  if (!dist || dist->size == 1 || n == 0)
    return TC_OK;
  char err[256] = "";
  double t = now();
  if (dist->all_reduce((tc_dtype)dtype, op, out, out, n, err, sizeof err))
    return failed(ctx, "all_reduce", err);
  seconds += now() - t;
  ncalls++;
  nbytes += n * (int64_t)tcrt_dtype_size((tc_dtype)dtype);
  return TC_OK;
}

int tcrt_broadcast(tc_ctx *ctx, int dtype, int64_t root, const void *in, void *out, int64_t n) {
  int size = dist ? dist->size : 1;
  if (root < 0 || root >= size)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "broadcast: root %lld is not a rank (there are %d processes)",
                     (long long)root, size);
  if (in != out)
    memmove(out, in, (size_t)n * tcrt_dtype_size((tc_dtype)dtype));
  if (size == 1 || n == 0)
    return TC_OK;
  char err[256] = "";
  if (dist->broadcast((tc_dtype)dtype, (int)root, out, n, err, sizeof err))
    return failed(ctx, "broadcast", err);
  return TC_OK;
}

int rt_dist_share_params(tc_ctx *ctx, int nparams, const tc_paramdesc *params) {
  if (!dist || dist->size == 1)
    return TC_OK;
  if (ctx->dev)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "--dist=mpi runs on the CPU only (docs/distributed.md)");
  for (int i = 0; i < nparams && i < ctx->nparams; i++) {
    int64_t n = 1;
    for (int d = 0; d < params[i].rank; d++)
      n *= params[i].shape[d];
    char err[256] = "";
    if (ctx->params[i] && dist->broadcast(params[i].dtype, 0, ctx->params[i], n, err, sizeof err))
      return failed(ctx, "broadcasting the params", err);
  }
  return TC_OK;
}

void rt_dist_print_stats(void) {
  const char *s = getenv("TENSORC_DIST_STATS");
  if (!s || !*s || strcmp(s, "0") == 0 || !dist)
    return;
  fprintf(stderr, "dist: rank %d of %d: %lld all_reduce calls, %.3f ms, %lld bytes\n", dist->rank, dist->size,
          (long long)ncalls, seconds * 1e3, (long long)nbytes);
}
