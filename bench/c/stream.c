/* The machine's memory bandwidth, STREAM-style: copy (b = a) and triad
 * (a = b + s * c) over f32 arrays far larger than the caches, with one
 * thread and with every core (OpenMP).  Bytes counted as STREAM does:
 * each array read or written once (copy 8 bytes an element, triad 12),
 * no write-allocate traffic; the same rule the workloads' GB/s use.
 * Prints RESULT stream.<kind>.<threads> <median s> <min s> <reps> and
 * BYTES lines with the bytes each moves. */
#include "bench.h"
#include <omp.h>

static void init(float *a, float *b, float *c, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++)
    a[i] = 1.0f, b[i] = 2.0f, c[i] = 0.5f; /* first touch by the thread that uses it */
}
static void copy(float *restrict b, const float *restrict a, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++)
    b[i] = a[i];
}
static void triad(float *restrict a, const float *restrict b, const float *restrict c, int64_t n) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++)
    a[i] = b[i] + 3.0f * c[i];
}

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 10);
  int64_t n = 32 << 20; /* 128 MiB an array */
  float *a = bench_alloc(n * 4), *b = bench_alloc(n * 4), *c = bench_alloc(n * 4);
  int maxt = omp_get_max_threads();
  int counts[2] = {1, maxt};
  for (int k = 0; k < (maxt > 1 ? 2 : 1); k++) {
    int t = counts[k];
    omp_set_num_threads(t);
    init(a, b, c, n);
    char key[64];
    snprintf(key, sizeof key, "stream.copy.%d", t);
    TIME(key, 1, reps, copy(b, a, n));
    snprintf(key, sizeof key, "stream.triad.%d", t);
    TIME(key, 1, reps, triad(a, b, c, n));
  }
  printf("BYTES stream.copy %lld\nBYTES stream.triad %lld\n", (long long)(8 * n), (long long)(12 * n));
  printf("THREADS %d\n", maxt);
  return a[7] == 42.0f; /* keep the stores */
}
