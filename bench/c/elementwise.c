/* (a) y = tanh(x) * 2 + x * x - 1 over 16M f32 (bench/tc/elementwise.tc). */
#include "elementwise.h"
#include "bench.h"

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 10);
  int64_t n = 16 << 20, shape[1] = {n};
  float *x = bench_alloc(n * 4), *y = bench_alloc(n * 4);
  bench_fill(x, n, -3.0f, 3.0f);
  elementwise_ctx *ctx = elementwise_create(NULL);
  if (!ctx) {
    fprintf(stderr, "bench: %s\n", elementwise_error(NULL));
    return 1;
  }
  DLTensor X = F32(x, 1, shape), Y = F32(y, 1, shape);
  TIME("a.tensorc", 2, reps, CALL(elementwise_error, ctx, elementwise_chain(ctx, &X, &Y)));
  double err = 0;
  for (int64_t i = 0; i < n; i += 4099)
    err = fmax(err, bench_relerr(y[i], tanh(x[i]) * 2.0 + (double)x[i] * x[i] - 1.0));
  bench_check("a.tensorc", err, 1e-4);
  elementwise_destroy(ctx);
  return 0;
}
