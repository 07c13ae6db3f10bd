/* classify.c - the digits model of examples/digits.tc, compiled with its
 * trained weights embedded (tensorc -c --params=DIR), linked into a plain C
 * program: classify the images of a .npy file, then continue training the
 * model from C with its compiled train_step.
 *
 *   classify IMAGES.npy [LABELS.npy] [STEPS]
 *
 * IMAGES: N x 64 pixels, 0..16 (any numeric dtype); LABELS: N integers.
 */
#include "digits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A .npy file converted to `dt` (the runtime's reader). */
static void *load(const char *path, tc_dtype dt, int rank, int64_t *shape) {
  tc_array a;
  char err[512];
  if (tcrt_load(path, &a, NULL, err, sizeof err) != TC_OK) {
    fprintf(stderr, "classify: %s\n", err);
    exit(2);
  }
  if (a.rank != rank) {
    fprintf(stderr, "classify: %s: expected %d dimensions, found %d\n", path, rank, a.rank);
    exit(2);
  }
  int64_t n = tcrt_numel(&a);
  void *out = malloc((size_t)n * tcrt_dtype_size(dt));
  tcrt_convert(dt, out, a.dtype, a.data, n);
  tcrt_free(a.data);
  memcpy(shape, a.shape, sizeof(int64_t) * (size_t)rank);
  return out;
}

static double accuracy(digits_ctx *ctx, float *x, int64_t n, const int64_t *labels, int64_t *pred) {
  int64_t xs[2] = {n, 64}, ps[1] = {n};
  DLTensor X = tc_tensor(x, 2, xs, TC_F32), P = tc_tensor(pred, 1, ps, TC_I64);
  if (digits_predict(ctx, &X, &P) != 0) {
    fprintf(stderr, "classify: predict: %s\n", digits_error(ctx));
    exit(1);
  }
  int64_t right = 0;
  for (int64_t i = 0; labels && i < n; i++)
    right += pred[i] == labels[i];
  return (double)right / (double)n;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: classify IMAGES.npy [LABELS.npy] [STEPS]\n");
    return 2;
  }
  digits_ctx *ctx = digits_create(NULL); /* the embedded weights */
  if (!ctx) {
    fprintf(stderr, "classify: %s\n", digits_error(NULL));
    return 1;
  }
  int64_t xs[2], ls[1];
  float *x = load(argv[1], TC_F32, 2, xs);
  int64_t n = xs[0];
  for (int64_t i = 0; i < n * 64; i++)
    x[i] /= 16.0f; /* as digits.tc scales its pixels */
  int64_t *labels = argc > 2 ? load(argv[2], TC_I64, 1, ls) : NULL;
  int64_t *pred = malloc(sizeof(int64_t) * (size_t)n);

  double acc = accuracy(ctx, x, n, labels, pred);
  printf("first predictions:");
  for (int64_t i = 0; i < n && i < 10; i++)
    printf(" %lld", (long long)pred[i]);
  printf("\n");
  if (labels)
    printf("accuracy with the embedded weights: %.4f (%lld images)\n", acc, (long long)n);

  /* more training, one compiled step per batch of 32, weights kept in ctx */
  int steps = argc > 3 ? atoi(argv[3]) : 0;
  for (int s = 0; s < steps && labels; s++) {
    int64_t b = 32, start = (s * b) % (n - b);
    int64_t bx[2] = {b, 64}, by[1] = {b};
    float loss;
    DLTensor X = tc_tensor(x + start * 64, 2, bx, TC_F32), Y = tc_tensor(labels + start, 1, by, TC_I64),
             L = tc_tensor(&loss, 0, NULL, TC_F32);
    if (digits_train_step(ctx, &X, &Y, 0.05f, &L) != 0) {
      fprintf(stderr, "classify: train_step: %s\n", digits_error(ctx));
      return 1;
    }
    if ((s + 1) % 25 == 0)
      printf("step %d loss %.4f\n", s + 1, loss);
  }
  if (steps && labels)
    printf("accuracy after %d more steps: %.4f\n", steps, accuracy(ctx, x, n, labels, pred));
  digits_destroy(ctx);
  free(x);
  free(labels);
  free(pred);
  return 0;
}
