/* (f), (g) the 784-256-10 MLP of bench/tc/mlp.tc on 60,000 synthetic
 * samples (uniform pixels in [0, 1), uniform labels 0..9, fixed seed):
 *   f.tensorc.epoch   one SGD epoch, batch 64, the loop inside the compiled
 *                     train_epoch (938 steps, the last of 32 rows);
 *   f.tensorc.steps   the same epoch as 938 calls of the compiled train_step
 *                     from C (what a C program driving training pays);
 *   g.tensorc.predict inference of all 60,000 rows, predict() on batches of
 *                     1024 (the last of 608).
 * argv[1]: repetitions of the epoch (predict runs 3x as many). */
#include "mlp.h"
#include "bench.h"

enum { NS = 60000, D = 784, H = 256, K = 10 };

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 3);
  float *x = bench_alloc((int64_t)NS * D * 4), *logits = bench_alloc((int64_t)NS * K * 4);
  int64_t *y = bench_alloc((int64_t)NS * 8);
  bench_fill(x, (int64_t)NS * D, 0.0f, 1.0f);
  for (int i = 0; i < NS; i++)
    y[i] = (int64_t)(bench_next() % K);
  mlp_ctx *ctx = mlp_create(NULL);
  if (!ctx) {
    fprintf(stderr, "bench: %s\n", mlp_error(NULL));
    return 1;
  }
  const float lr = 0.01f;
  float loss = 0;
  int64_t xs[2] = {NS, D}, ys[1] = {NS};
  DLTensor X = F32(x, 2, xs), Y = I64(y, 1, ys), L = F32(&loss, 0, NULL);

  /* (f) the epoch inside the compiled code, and the same epoch as one call
   * of train_step per batch: alternated, so that a change of the machine's
   * load between them does not favour one (timed in two blocks, the steps
   * once took 234 ms against the loop's 185, 183 against 180 in the run
   * before) */
  double *te = malloc(sizeof(double) * (size_t)reps), *ts = malloc(sizeof(double) * (size_t)reps);
  float loss_epoch = 0;
  for (int r = 0; r < reps; r++) {
    TIME1(&te[r], CALL(mlp_error, ctx, mlp_train_epoch(ctx, &X, &Y, lr, &L)));
    loss_epoch = loss;
    TIME1(&ts[r], {
      for (int64_t s = 0; s < NS; s += 64) {
        int64_t b = NS - s < 64 ? NS - s : 64, bx[2] = {b, D}, by[1] = {b};
        DLTensor Xb = F32(x + s * D, 2, bx), Yb = I64(y + s, 1, by);
        CALL(mlp_error, ctx, mlp_train_step(ctx, &Xb, &Yb, lr, &L));
      }
    });
  }
  bench_result("f.tensorc.epoch", te, reps);
  bench_result("f.tensorc.steps", ts, reps);
  free(te);
  free(ts);
  bench_check("f.tensorc.epoch", loss_epoch > 1.0f && loss_epoch < 4.0f ? 0.0 : 1.0, 0.0);
  bench_check("f.tensorc.steps", loss > 1.0f && loss < 4.0f ? 0.0 : 1.0, 0.0);

  /* (g) inference in batches of 1024 */
  TIME("g.tensorc.predict", 1, 3 * reps, {
    for (int64_t s = 0; s < NS; s += 1024) {
      int64_t b = NS - s < 1024 ? NS - s : 1024, bx[2] = {b, D}, bo[2] = {b, K};
      DLTensor Xb = F32(x + s * D, 2, bx), Ob = F32(logits + s * K, 2, bo);
      CALL(mlp_error, ctx, mlp_predict(ctx, &Xb, &Ob));
    }
  });
  /* check a few rows against the context's own weights */
  DLTensor w1, b1, w2, b2;
  CALL(mlp_error, ctx, mlp_param(ctx, "W1", &w1));
  CALL(mlp_error, ctx, mlp_param(ctx, "b1", &b1));
  CALL(mlp_error, ctx, mlp_param(ctx, "W2", &w2));
  CALL(mlp_error, ctx, mlp_param(ctx, "b2", &b2));
  const float *W1 = w1.data, *B1 = b1.data, *W2 = w2.data, *B2 = b2.data;
  double err = 0, h[H];
  for (int64_t i = 0; i < NS; i += 4999) {
    for (int j = 0; j < H; j++) {
      double s = B1[j];
      for (int p = 0; p < D; p++)
        s += (double)x[i * D + p] * W1[p * H + j];
      h[j] = s > 0 ? s : 0;
    }
    for (int k = 0; k < K; k++) {
      double s = B2[k];
      for (int j = 0; j < H; j++)
        s += h[j] * W2[j * K + k];
      err = fmax(err, bench_relerr(logits[i * K + k], s));
    }
  }
  bench_check("g.tensorc.predict", err, 1e-3);
  mlp_destroy(ctx);
  return 0;
}
