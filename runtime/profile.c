/* runtime/profile.c - --profile: time per kernel, and what it moved.
 *
 * The compiler gives every kernel statement (a CPU loop nest, a GPU
 * launch, a matrix product) a constant tc_prof_site: its name, the
 * statement's file:line, whether it runs on the device.  Around each such
 * statement the generated code loads tcrt_profiling and, only when it is
 * set, calls tcrt_prof_begin and tcrt_prof_end; the end passes the bytes
 * of the buffers the statement reads and writes, computed from their
 * shapes at run time (the compiler's count from the kernel IR: each buffer
 * read once and written once per call, not a hardware counter) and, for a matrix product, its
 * flops (2 m n k batch).  So a program that does not profile pays one load
 * and one branch per statement.
 *
 * CPU statements are timed with the monotonic clock, a parallel loop as a
 * whole.  Device statements are timed on the device's queue through the
 * backend's `interval` hook (CUDA events; the emulator's clock), which
 * waits for the statement's work at its end: profiling serialises the
 * host and the device.  A backend without the hook is synchronised and
 * timed with the host clock.
 *
 * The table (tcrt_profile_report) has one row per site (sites of one name
 * on one line together), sorted by total time: the same columns for both devices, % of the device's peak
 * bandwidth where the backend knows it (ctx->dev_peak_gbps), "-" elsewhere.
 */
#include "rt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tcrt_profiling;

typedef struct rt_profile rt_profile;

typedef struct ProfRow {
  const tc_prof_site *site; /* the key: one constant per statement (the first of the row's) */
  char *name, *where;       /* copied: the module may go before the table is printed */
  bool device;
  int64_t calls;
  double ms, bytes, flops;
} ProfRow;

struct rt_profile {
  ProfRow *rows;
  int n, cap;
  int last;            /* the row found last: a loop hits the same few */
  int timing_failures; /* device intervals that failed: timed on the host instead */
};

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

int tcrt_profile_start(tc_ctx *ctx) {
  if (ctx->profile)
    return TC_OK;
  ctx->profile = calloc(1, sizeof *ctx->profile);
  if (!ctx->profile)
    return tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory starting the profile");
  __atomic_fetch_add(&tcrt_profiling, 1, __ATOMIC_RELAXED);
  return TC_OK;
}

static void profile_free(tc_ctx *ctx) {
  rt_profile *p = ctx->profile;
  if (!p)
    return;
  for (int i = 0; i < p->n; i++) {
    free(p->rows[i].name);
    free(p->rows[i].where);
  }
  free(p->rows);
  free(p);
  ctx->profile = NULL;
  __atomic_fetch_sub(&tcrt_profiling, 1, __ATOMIC_RELAXED);
}

/* Device statements: the start of an interval on the device's queue. */
double tcrt_prof_begin(tc_ctx *ctx, const tc_prof_site *site) {
  if (!ctx->profile)
    return 0;
  if (site->device && ctx->dev) {
    double unused = 0;
    if (ctx->dev->interval && ctx->dev->interval(ctx, 0, &unused) == TC_OK)
      return -1; /* the device times it */
    if (!ctx->dev->interval && ctx->dev->sync)
      ctx->dev->sync(ctx);
  }
  return now_ms();
}

static ProfRow *row_of(rt_profile *p, const tc_prof_site *site, bool device) {
  if (p->last < p->n && p->rows[p->last].site == site)
    return &p->rows[p->last];
  for (int i = 0; i < p->n; i++)
    if (p->rows[i].site == site)
      return &p->rows[p->last = i];
  /* Sites of one name on one line share a row: the matmuls of a line's
   * forward and backward passes, in several functions. */
  const char *name = site->name ? site->name : "?", *where = site->where ? site->where : "?";
  for (int i = 0; i < p->n; i++)
    if (p->rows[i].device == device && strcmp(p->rows[i].name, name) == 0 && strcmp(p->rows[i].where, where) == 0)
      return &p->rows[p->last = i];
  if (p->n == p->cap) {
    int cap = p->cap ? 2 * p->cap : 32;
    ProfRow *v = realloc(p->rows, sizeof *v * (size_t)cap);
    if (!v)
      return NULL;
    p->rows = v;
    p->cap = cap;
  }
  ProfRow *r = &p->rows[p->n];
  *r = (ProfRow){.site = site,
                .name = strdup(name),
                .where = strdup(where),
                .device = device};
  if (!r->name || !r->where) {
    free(r->name);
    free(r->where);
    return NULL;
  }
  p->last = p->n++;
  return r;
}

/* start: what tcrt_prof_begin returned (-1: an interval on the device). */
void tcrt_prof_end(tc_ctx *ctx, const tc_prof_site *site, double start, int64_t bytes, int64_t flops) {
  rt_profile *p = ctx->profile;
  if (!p)
    return;
  bool device = site->device && ctx->dev;
  double ms;
  if (device && start < 0) {
    if (ctx->dev->interval(ctx, 1, &ms) != TC_OK) {
      ms = 0;
      p->timing_failures++;
    }
  } else {
    if (device && ctx->dev->sync)
      ctx->dev->sync(ctx);
    ms = now_ms() - start;
  }
  ProfRow *r = row_of(p, site, device);
  if (!r)
    return; /* out of memory: the sample is lost, the program goes on */
  r->calls++;
  r->ms += ms;
  r->bytes += (double)bytes;
  r->flops += (double)flops;
}

/* ---- the table ---- */

static int by_time(const void *a, const void *b) {
  const ProfRow *x = a, *y = b;
  if (x->ms != y->ms)
    return x->ms < y->ms ? 1 : -1;
  return strcmp(x->name, y->name);
}

/* A rate to three digits or so, or "-" when there is nothing to divide. */
static void rate(FILE *out, int width, double amount, double ms, double scale) {
  if (!(ms > 0 && amount > 0)) {
    fprintf(out, " %*s", width, "-");
    return;
  }
  double v = amount / (ms * 1e-3) / scale;
  fprintf(out, " %*.*f", width, v >= 100 ? 0 : v >= 10 ? 1 : v >= 1 ? 2 : 3, v);
}

void tcrt_profile_report(tc_ctx *ctx) {
  rt_profile *p = ctx->profile;
  if (!p)
    return;
  FILE *out = stderr;
  if (p->n > 0) /* an empty table has no rows array: qsort's NULL is undefined */
    qsort(p->rows, (size_t)p->n, sizeof *p->rows, by_time);
  p->last = 0;
  int wname = 6, wwhere = 9, wdev = 6;
  double ms = 0, bytes = 0;
  int64_t calls = 0;
  const char *dev_name = tcrt_dev_name(ctx) ? tcrt_dev_name(ctx) : "device";
  for (int i = 0; i < p->n; i++) {
    const ProfRow *r = &p->rows[i];
    int len = (int)strlen(r->name), wlen = (int)strlen(r->where), dlen = (int)strlen(r->device ? dev_name : "cpu");
    wname = len > wname ? len : wname;
    wwhere = wlen > wwhere ? wlen : wwhere;
    wdev = dlen > wdev ? dlen : wdev;
    ms += r->ms;
    bytes += r->bytes;
    calls += r->calls;
  }
  fprintf(out, "profile: %d kernel%s, %.3f ms in all, by total time\n", p->n, p->n == 1 ? "" : "s", ms);
  /* "mean µs": µ is two bytes and one column */
  fprintf(out, "%-*s  %-*s  %-*s %8s %11s %12s %11s %9s %7s %9s\n", wname, "kernel", wwhere, "file:line", wdev,
          "device", "calls", "total ms", "mean \xc2\xb5s", "MB moved", "GB/s", "% peak", "GFLOP/s");
  for (int i = 0; i < p->n; i++) {
    const ProfRow *r = &p->rows[i];
    fprintf(out, "%-*s  %-*s  %-*s %8lld %11.3f %11.1f %11.3f", wname, r->name, wwhere, r->where, wdev,
            r->device ? dev_name : "cpu", (long long)r->calls, r->ms, r->calls ? r->ms * 1e3 / (double)r->calls : 0.0,
            r->bytes * 1e-6);
    rate(out, 9, r->bytes, r->ms, 1e9);
    if (r->device && ctx->dev_peak_gbps > 0 && r->ms > 0)
      fprintf(out, " %6.1f%%", 100 * r->bytes / (r->ms * 1e-3) / 1e9 / ctx->dev_peak_gbps);
    else
      fprintf(out, " %7s", "-");
    rate(out, 9, r->flops, r->ms, 1e9);
    fputc('\n', out);
  }
  fprintf(out, "%-*s  %-*s  %-*s %8lld %11.3f %11s %11.3f", wname, "total", wwhere, "", wdev, "", (long long)calls, ms,
          "", bytes * 1e-6);
  rate(out, 9, bytes, ms, 1e9);
  fputc('\n', out);
  fprintf(out, "bytes moved: the sizes of the buffers each kernel reads and writes, computed by the compiler from "
               "its kernel IR (each buffer read once and written once per call), not a hardware counter\n");
  if (p->timing_failures)
    fprintf(out, "note: %d device timings failed and count as 0 ms\n", p->timing_failures);
}

void tcrt_profile_finish(tc_ctx *ctx) {
  tcrt_profile_report(ctx);
  profile_free(ctx);
}

/* tcrt_ctx_free: TENSORC_PROFILE's table, if anything ran. */
void rt_profile_close(tc_ctx *ctx) {
  if (ctx->profile && ctx->profile->n > 0)
    tcrt_profile_report(ctx);
  profile_free(ctx);
}
