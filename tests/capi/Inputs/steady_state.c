/* steady_state.c - a training loop written in C against examples/digits.tc
 * (compiled with `tensorc -c`): 50 calls of train_step on batches of 32
 * rows (data made here from a fixed seed), each followed by predict on the
 * batch.  After the first calls the context's cache (runtime/alloc.c)
 * holds every temporary a call needs, so calls 3..50 take no block from
 * the system (tcrt_malloc_calls), and destroying the context leaves no
 * block live (tcrt_alloc_count back to its baseline).  Prints one line per
 * check for FileCheck.
 */
#include "digits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 32, D = 64, K = 10, STEPS = 50, POOL = 320 };

static uint64_t state = 12345;
static double uniform(void) { /* a 64-bit LCG's top 53 bits, in [0, 1) */
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(state >> 11) / 9007199254740992.0;
}

/* POOL rows: class c is a fixed random prototype in 0..1 plus noise. */
static float X[POOL][D], proto[K][D];
static int64_t Y[POOL];

int main(void) {
  for (int c = 0; c < K; c++)
    for (int j = 0; j < D; j++)
      proto[c][j] = (float)uniform();
  for (int i = 0; i < POOL; i++) {
    Y[i] = i % K;
    for (int j = 0; j < D; j++)
      X[i][j] = proto[Y[i]][j] + 0.3f * (float)(uniform() - 0.5);
  }

  int64_t live0 = tcrt_alloc_count();
  digits_ctx *ctx = digits_create(NULL);
  if (!ctx) {
    printf("create failed: %s\n", digits_error(NULL));
    return 1;
  }
  int64_t xshape[2] = {B, D}, yshape[1] = {B}, none[1] = {0};
  float loss = 0, first_loss = 0;
  int64_t pred[B];
  DLTensor l = tc_tensor(&loss, 0, none, TC_F32), p = tc_tensor(pred, 1, yshape, TC_I64);
  int64_t mallocs_before = 0, allocs_before = 0, bad = 0;
  for (int step = 1; step <= STEPS; step++) {
    if (step == 3) {
      mallocs_before = tcrt_malloc_calls();
      allocs_before = tcrt_alloc_calls();
    }
    int row = (step - 1) * B % POOL;
    DLTensor x = tc_tensor(X[row], 2, xshape, TC_F32), y = tc_tensor(&Y[row], 1, yshape, TC_I64);
    int rc = digits_train_step(ctx, &x, &y, 0.5f, &l);
    int rc2 = digits_predict(ctx, &x, &p);
    if (rc || rc2) {
      printf("step %d failed: %s\n", step, digits_error(ctx));
      bad++;
    }
    if (step == 1)
      first_loss = loss;
  }
  int64_t mallocs = tcrt_malloc_calls() - mallocs_before, allocs = tcrt_alloc_calls() - allocs_before;
  printf("steps ok: %d\n", bad == 0);
  printf("new blocks in calls 3..%d: %lld\n", STEPS, (long long)mallocs);
  printf("tcrt_alloc calls per step (served by the cache): %lld\n", (long long)(allocs / (STEPS - 2)));
  printf("loss decreased: %d (%.4f -> %.4f)\n", loss < first_loss, first_loss, loss);

  /* accuracy on the whole pool, one batch at a time */
  int correct = 0;
  for (int row = 0; row + B <= POOL; row += B) {
    DLTensor x = tc_tensor(X[row], 2, xshape, TC_F32);
    if (digits_predict(ctx, &x, &p) == 0)
      for (int i = 0; i < B; i++)
        correct += pred[i] == Y[row + i];
  }
  printf("accuracy above 0.9: %d (%d/%d)\n", correct > 0.9 * POOL, correct, POOL);

  /* a smaller batch reuses the cached blocks (at most twice its sizes) */
  int64_t half[2] = {B / 2, D}, hy[1] = {B / 2};
  DLTensor x = tc_tensor(X[0], 2, half, TC_F32), y = tc_tensor(Y, 1, hy, TC_I64);
  DLTensor ph = tc_tensor(pred, 1, hy, TC_I64);
  mallocs_before = tcrt_malloc_calls();
  int rc = digits_train_step(ctx, &x, &y, 0.5f, &l) | digits_predict(ctx, &x, &ph);
  printf("half batch rc=%d new blocks: %lld\n", rc, (long long)(tcrt_malloc_calls() - mallocs_before));

  digits_destroy(ctx);
  printf("live blocks after destroy: %lld\n", (long long)(tcrt_alloc_count() - live0));
  return 0;
}
