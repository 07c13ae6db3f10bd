/* bench/models/softmax.c - what bench (b) could take on this machine: a
 * hand-written AVX-512 softmax of a 4096 x 1024 f32 matrix, rows over
 * OpenMP threads, in the four ways its output can be written.  Not a
 * harness of run.py: a model to compare tensorc's code with
 * (docs/performance.md, "Row kernels that write their output once").
 *
 *   cc -O3 -march=native -fopenmp bench/models/softmax.c -o /tmp/sm -lm
 *   OMP_NUM_THREADS=2 /tmp/sm [rows]
 *
 * Each way runs the same max, exp (a degree-6 polynomial scaled by
 * vscalefps, as codegen/cpu_exp.c) and sum per row:
 *   in place   exp into the output row, then the row scaled in place
 *              (tensorc before the row_scratch pass);
 *   scratch    exp into a per-thread row in L1, the scaled row stored
 *              with plain stores;
 *   stream     the same, the output stored non-temporally;
 *   fused      stream, with the sum taken as exp is stored.
 * Prints the median and the best of 31 runs of each, in ms. */
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { IN_PLACE, SCRATCH, STREAM, FUSED, NWAYS };
static const char *names[NWAYS] = {"in place", "scratch", "stream", "fused"};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static __m512 vexp(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.f)), _mm512_set1_ps(89.f));
  __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), 0);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  return _mm512_scalef_ps(p, k);
}

/* One row of c floats (a multiple of 64), x to y, through scr. */
static void row(const float *x, float *y, float *scr, int c, int way) {
  __m512 m[4];
  for (int k = 0; k < 4; k++)
    m[k] = _mm512_set1_ps(-INFINITY);
  for (int j = 0; j < c; j += 64)
    for (int k = 0; k < 4; k++)
      m[k] = _mm512_max_ps(m[k], _mm512_loadu_ps(x + j + 16 * k));
  __m512 vm = _mm512_set1_ps(_mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m[0], m[1]), _mm512_max_ps(m[2], m[3]))));
  float *t = way == IN_PLACE ? y : scr;
  __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  if (way == FUSED) {
    for (int j = 0; j < c; j += 64)
      for (int k = 0; k < 4; k++) {
        __m512 e = vexp(_mm512_sub_ps(_mm512_loadu_ps(x + j + 16 * k), vm));
        _mm512_store_ps(t + j + 16 * k, e);
        s[k] = _mm512_add_ps(s[k], e);
      }
  } else {
    for (int j = 0; j < c; j += 16)
      _mm512_storeu_ps(t + j, vexp(_mm512_sub_ps(_mm512_loadu_ps(x + j), vm)));
    for (int j = 0; j < c; j += 64)
      for (int k = 0; k < 4; k++)
        s[k] = _mm512_add_ps(s[k], _mm512_loadu_ps(t + j + 16 * k));
  }
  __m512 inv = _mm512_set1_ps(1.f / _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[1]), _mm512_add_ps(s[2], s[3]))));
  for (int j = 0; j < c; j += 16) {
    __m512 v = _mm512_mul_ps(_mm512_loadu_ps(t + j), inv);
    if (way == STREAM || way == FUSED)
      _mm512_stream_ps(y + j, v);
    else
      _mm512_storeu_ps(y + j, v);
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int r = argc > 1 ? atoi(argv[1]) : 4096, c = 1024, reps = 31;
  float *x = aligned_alloc(64, (size_t)r * c * 4), *y = aligned_alloc(64, (size_t)r * c * 4);
  for (long i = 0; i < (long)r * c; i++)
    x[i] = (float)((i * 2654435761u) % 8000) / 1000.f - 4.f;
  memset(y, 0, (size_t)r * c * 4);
  for (int way = 0; way < NWAYS; way++) {
    double t[31];
    for (int k = 0; k < reps; k++) {
      double t0 = now();
#pragma omp parallel
      {
        float scr[1024] __attribute__((aligned(64)));
#pragma omp for schedule(static)
        for (int i = 0; i < r; i++)
          row(x + (long)i * c, y + (long)i * c, scr, c, way);
      }
      t[k] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    printf("%-9s median %.3f ms, best %.3f ms\n", names[way], t[reps / 2] * 1e3, t[0] * 1e3);
  }
  return y[12345] == 42.f; /* keep the stores */
}
