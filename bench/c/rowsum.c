/* (d) sum over axis 1 of a 4096 x 4096 f32 matrix (bench/tc/rowsum.tc). */
#include "rowsum.h"
#include "bench.h"

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 10);
  int64_t r = 4096, c = 4096, shape[2] = {r, c}, oshape[1] = {r};
  float *x = bench_alloc(r * c * 4), *y = bench_alloc(r * 4);
  bench_fill(x, r * c, -1.0f, 1.0f);
  rowsum_ctx *ctx = rowsum_create(NULL);
  if (!ctx) {
    fprintf(stderr, "bench: %s\n", rowsum_error(NULL));
    return 1;
  }
  DLTensor X = F32(x, 2, shape), Y = F32(y, 1, oshape);
  TIME("d.tensorc", 2, reps, CALL(rowsum_error, ctx, rowsum_rowsum(ctx, &X, &Y)));
  double err = 0;
  for (int64_t i = 0; i < r; i += 97) {
    double s = 0;
    for (int64_t j = 0; j < c; j++)
      s += x[i * c + j];
    /* absolute error relative to the row's scale (sqrt(c) * 0.58) */
    err = fmax(err, fabs(y[i] - s) / 37.0);
  }
  bench_check("d.tensorc", err, 1e-4);
  rowsum_destroy(ctx);
  return 0;
}
