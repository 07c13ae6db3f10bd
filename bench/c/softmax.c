/* (b) row softmax of a 4096 x 1024 f32 matrix (bench/tc/softmax.tc). */
#include "softmax.h"
#include "bench.h"

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 20);
  int64_t r = 4096, c = 1024, shape[2] = {r, c};
  float *x = bench_alloc(r * c * 4), *y = bench_alloc(r * c * 4);
  bench_fill(x, r * c, -4.0f, 4.0f);
  softmax_ctx *ctx = softmax_create(NULL);
  if (!ctx) {
    fprintf(stderr, "bench: %s\n", softmax_error(NULL));
    return 1;
  }
  DLTensor X = F32(x, 2, shape), Y = F32(y, 2, shape);
  TIME("b.tensorc", 2, reps, CALL(softmax_error, ctx, softmax_softmax(ctx, &X, &Y)));
  double err = 0;
  for (int64_t i = 0; i < r; i += 257) {
    const float *row = x + i * c;
    double m = row[0], s = 0;
    for (int64_t j = 1; j < c; j++)
      m = fmax(m, row[j]);
    for (int64_t j = 0; j < c; j++)
      s += exp(row[j] - m);
    for (int64_t j = 0; j < c; j += 31)
      err = fmax(err, bench_relerr(y[i * c + j] * 1e3, exp(row[j] - m) / s * 1e3));
  }
  bench_check("b.tensorc", err, 1e-4);
  softmax_destroy(ctx);
  return 0;
}
