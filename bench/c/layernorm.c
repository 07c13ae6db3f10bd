/* (c) layer norm over the rows of a 4096 x 1024 f32 matrix, with a scale
 * and a shift of 1024 each (bench/tc/layernorm.tc). */
#include "layernorm.h"
#include "bench.h"

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 20);
  int64_t r = 4096, c = 1024, shape[2] = {r, c}, vshape[1] = {c};
  float *x = bench_alloc(r * c * 4), *y = bench_alloc(r * c * 4);
  float *g = bench_alloc(c * 4), *b = bench_alloc(c * 4);
  bench_fill(x, r * c, -4.0f, 4.0f);
  bench_fill(g, c, 0.5f, 1.5f);
  bench_fill(b, c, -0.5f, 0.5f);
  layernorm_ctx *ctx = layernorm_create(NULL);
  if (!ctx) {
    fprintf(stderr, "bench: %s\n", layernorm_error(NULL));
    return 1;
  }
  DLTensor X = F32(x, 2, shape), Y = F32(y, 2, shape), G = F32(g, 1, vshape), B = F32(b, 1, vshape);
  TIME("c.tensorc", 2, reps, CALL(layernorm_error, ctx, layernorm_layernorm(ctx, &X, &G, &B, &Y)));
  double err = 0;
  for (int64_t i = 0; i < r; i += 257) {
    const float *row = x + i * c;
    double mu = 0, var = 0;
    for (int64_t j = 0; j < c; j++)
      mu += row[j];
    mu /= (double)c;
    for (int64_t j = 0; j < c; j++)
      var += (row[j] - mu) * (row[j] - mu);
    var /= (double)c;
    for (int64_t j = 0; j < c; j += 31)
      err = fmax(err, bench_relerr(y[i * c + j], (row[j] - mu) / sqrt(var + 1e-5) * g[j] + b[j]));
  }
  bench_check("c.tensorc", err, 1e-3);
  layernorm_destroy(ctx);
  return 0;
}
