/* bench.h - what every benchmark harness shares: a clock, a fixed-seed
 * random fill, DLTensor helpers, and TIME(), which runs a block some
 * warm-up times and then `reps` times and prints
 *
 *   RESULT <key> <median seconds> <min seconds> <reps>
 *
 * for bench/run.py to read.  CHECK lines say whether a result agrees with
 * a reference computed here in plain C (a few sampled rows or elements),
 * so that a fast but wrong compile does not go unnoticed.
 *
 * Header-only on purpose: each harness is one .c file compiled with the
 * object and header tensorc -c wrote.  The harnesses time only the call,
 * not process start, input generation or file loading.
 */
#ifndef BENCH_H
#define BENCH_H
#define _POSIX_C_SOURCE 200809L
#include <dlpack/dlpack.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int bench_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median (of a sorted copy: the caller's order is kept). */
static double bench_median(const double *t, int n, double *min) {
  double *s = malloc(sizeof(double) * (size_t)n);
  memcpy(s, t, sizeof(double) * (size_t)n);
  qsort(s, (size_t)n, sizeof(double), bench_cmp);
  double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  if (min)
    *min = s[0];
  free(s);
  return m;
}

/* Prints the RESULT line of `n` timings. */
static void bench_result(const char *key, const double *t, int n) {
  double min, med = bench_median(t, n, &min);
  printf("RESULT %s %.9g %.9g %d\n", key, med, min, n);
  fflush(stdout);
}

/* Runs the block (the variadic part: commas in it need no parentheses)
 * `warm` times untimed, then `reps` times timed; prints RESULT. */
#define TIME(key, warm, reps, ...)                                                                           \
  do {                                                                                                       \
    int reps_ = (reps);                                                                                      \
    double *t_ = malloc(sizeof(double) * (size_t)reps_);                                                     \
    for (int w_ = 0; w_ < (warm); w_++) {                                                                    \
      __VA_ARGS__;                                                                                           \
    }                                                                                                        \
    for (int r_ = 0; r_ < reps_; r_++) {                                                                     \
      double t0_ = bench_now();                                                                              \
      __VA_ARGS__;                                                                                           \
      t_[r_] = bench_now() - t0_;                                                                            \
    }                                                                                                        \
    bench_result((key), t_, reps_);                                                                          \
    free(t_);                                                                                                \
  } while (0)

/* Times one run of the block into *slot (for interleaved comparisons). */
#define TIME1(slot, ...)                                                                                     \
  do {                                                                                                       \
    double t0_ = bench_now();                                                                                \
    __VA_ARGS__;                                                                                             \
    *(slot) = bench_now() - t0_;                                                                             \
  } while (0)

/* splitmix64: a fixed-seed stream for the inputs. */
static uint64_t bench_state = 0x243F6A8885A308D3ull;
static uint64_t bench_next(void) {
  uint64_t z = (bench_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static float bench_uniform(void) { return (float)(bench_next() >> 40) * (1.0f / 16777216.0f); }
/* Uniform in [lo, hi). */
static void bench_fill(float *x, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * bench_uniform();
}

/* 64-byte aligned, touched (so page faults are not timed). */
static void *bench_alloc(int64_t bytes) {
  void *p = NULL;
  if (posix_memalign(&p, 64, (size_t)(bytes > 0 ? bytes : 64)) != 0) {
    fprintf(stderr, "bench: out of memory (%lld bytes)\n", (long long)bytes);
    exit(1);
  }
  memset(p, 0, (size_t)bytes);
  return p;
}

#define F32(data, ndim, shape) tc_tensor((data), (ndim), (shape), TC_F32)
#define I64(data, ndim, shape) tc_tensor((data), (ndim), (shape), TC_I64)

/* Exits with the model's error text when a call fails. */
#define CALL(errfn, ctx, expr)                                                                               \
  do {                                                                                                       \
    if ((expr) != 0) {                                                                                       \
      fprintf(stderr, "bench: %s failed: %s\n", #expr, errfn(ctx));                                          \
      exit(1);                                                                                               \
    }                                                                                                        \
  } while (0)

/* Prints CHECK <key> ok|FAIL <max relative error>. */
static void bench_check(const char *key, double maxerr, double tol) {
  printf("CHECK %s %s %.3g\n", key, maxerr <= tol ? "ok" : "FAIL", maxerr);
  fflush(stdout);
}
static double bench_relerr(double got, double want) { return fabs(got - want) / (fabs(want) + 1e-3); }

/* argv[1]: the number of repetitions (the runner's --quick lowers it). */
static int bench_reps(int argc, char **argv, int dflt) {
  int r = argc > 1 ? atoi(argv[1]) : dflt;
  return r > 0 ? r : dflt;
}
#endif
