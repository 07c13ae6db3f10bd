/* error_cleared.c - the error text of a context (and of no context) says
 * why the last call failed, and a call that succeeds clears it (issue 13
 * item 18): a caller that checks mlp_error after a good call must not see
 * an old failure.  Prints one line per check for error_cleared.test. */
#include "mlp.h"

#include <stdio.h>

static float X[2][4] = {{2, 0, 0, 1}, {0, 2, 0, -1}};

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  /* a failed create leaves its reason in mlp_error(NULL); a good one clears it */
  tensorc_options bad = {.params_in = "/nonexistent"};
  printf("bad create: %s [%s]\n", mlp_create(&bad) ? "created" : "NULL", mlp_error(NULL));
  mlp_ctx *ctx = mlp_create(NULL);
  printf("good create: %s [%s]\n", ctx ? "ok" : "NULL", mlp_error(NULL));
  if (!ctx)
    return 1;

  int64_t xshape[2] = {2, 4}, wrong[2] = {2, 5}, oshape[2] = {2, 3};
  float out[2][3];
  DLTensor x = tc_tensor(X, 2, xshape, TC_F32), xw = tc_tensor(X, 2, wrong, TC_F32);
  DLTensor o = tc_tensor(out, 2, oshape, TC_F32);
  int rc = mlp_logits(ctx, &xw, &o);
  printf("bad call rc=%d [%s]\n", rc, mlp_error(ctx));
  rc = mlp_logits(ctx, &x, &o);
  printf("good call rc=%d [%s]\n", rc, mlp_error(ctx));

  /* the same for params */
  DLTensor view;
  rc = mlp_param(ctx, "W9", &view);
  printf("bad param rc=%d [%s]\n", rc, mlp_error(ctx));
  rc = mlp_param(ctx, "W1", &view);
  printf("good param rc=%d [%s]\n", rc, mlp_error(ctx));

  /* a run-time failure (reshape that does not fit), then a good call */
  float v[6] = {1, 2, 3, 4, 5, 6};
  int64_t vshape[1] = {6}, none[1] = {0};
  float loss;
  DLTensor vt = tc_tensor(v, 1, vshape, TC_F32), l = tc_tensor(&loss, 0, none, TC_F32);
  rc = mlp_fold(ctx, &vt, 4, &l);
  printf("run-time error rc=%d [%s]\n", rc, mlp_error(ctx));
  rc = mlp_fold(ctx, &vt, 3, &l);
  printf("good fold rc=%d [%s] %g\n", rc, mlp_error(ctx), loss);
  mlp_destroy(ctx);
  return 0;
}
