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

/* in copied to out, then reduced there across the processes: at once
 * (id < 0) or started as request id, finished by tcrt_all_reduce_wait. */
static int reduce(tc_ctx *ctx, int id, int dtype, int op, const void *in, void *out, int64_t n) {
  if (in != out)
    memmove(out, in, (size_t)n * tcrt_dtype_size((tc_dtype)dtype));
  if (!dist || dist->size == 1 || n == 0)
    return TC_OK;
  char err[256] = "";
  double t = now();
  if (id < 0 ? dist->all_reduce((tc_dtype)dtype, op, out, out, n, err, sizeof err)
             : dist->start(id, (tc_dtype)dtype, op, out, n, err, sizeof err))
    return failed(ctx, "all_reduce", err);
  seconds += now() - t;
  ncalls++;
  nbytes += n * (int64_t)tcrt_dtype_size((tc_dtype)dtype);
  return TC_OK;
}

int tcrt_all_reduce(tc_ctx *ctx, int dtype, int op, const void *in, void *out, int64_t n) {
  return reduce(ctx, -1, dtype, op, in, out, n);
}

int tcrt_all_reduce_start(tc_ctx *ctx, int id, int dtype, int op, const void *in, void *out, int64_t n) {
  return reduce(ctx, id, dtype, op, in, out, n);
}

/* The starts' and the waits' time counts, not what runs between them:
 * the all-reduce time overlapping left exposed. */
int tcrt_all_reduce_wait(tc_ctx *ctx, int id) {
  if (!dist || dist->size == 1)
    return TC_OK;
  char err[256] = "";
  double t = now();
  if (dist->wait(id, err, sizeof err))
    return failed(ctx, "all_reduce", err);
  seconds += now() - t;
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

/* Param i = rank 0's, broadcast through a host copy when it lives on the
 * device (MPI needs no device memory) and copied back there. */
static int share_param(tc_ctx *ctx, const tc_paramdesc *desc, void *p) {
  int64_t n = 1;
  for (int d = 0; d < desc->rank; d++)
    n *= desc->shape[d];
  int64_t bytes = n * (int64_t)tcrt_dtype_size(desc->dtype);
  void *host = ctx->dev ? tcrt_alloc(ctx, bytes) : p;
  if (!host)
    return TC_ERR_NOMEM;
  int st = ctx->dev ? tcrt_dev_copy(ctx, host, p, bytes, TC_COPY_D2H) : TC_OK;
  char err[256] = "";
  if (!st && dist->broadcast(desc->dtype, 0, host, n, err, sizeof err))
    st = failed(ctx, "broadcasting the params", err);
  if (!st && ctx->dev)
    st = tcrt_dev_copy(ctx, p, host, bytes, TC_COPY_H2D);
  if (ctx->dev)
    tcrt_free(host);
  return st;
}

int rt_dist_share_params(tc_ctx *ctx, int nparams, const tc_paramdesc *params) {
  if (!dist || dist->size == 1)
    return TC_OK;
  for (int i = 0; i < nparams && i < ctx->nparams; i++) {
    int st = ctx->params[i] ? share_param(ctx, &params[i], ctx->params[i]) : TC_OK;
    if (st)
      return st;
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
