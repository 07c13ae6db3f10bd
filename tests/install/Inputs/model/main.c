/* Calls the model that tensorc_add_model compiled (SPEC §4's interface). */
#include <stdio.h>

#include "model.h"

int main(void) {
  model_ctx *ctx = model_create(NULL);
  if (!ctx) {
    fprintf(stderr, "model_create failed\n");
    return 1;
  }
  float x[6] = {0, 0, 0, 1, 2, 3}, y[6];
  int64_t shape[2] = {2, 3};
  DLTensor tx = {.data = x, .device = {kDLCPU, 0}, .ndim = 2, .dtype = {kDLFloat, 32, 1}, .shape = shape};
  DLTensor ty = tx;
  ty.data = y;
  if (model_predict(ctx, &tx, &ty) != 0) {
    fprintf(stderr, "model_predict: %s\n", model_error(ctx));
    model_destroy(ctx);
    return 1;
  }
  for (int i = 0; i < 6; i++)
    printf("%.4f%c", y[i], i % 3 == 2 ? '\n' : ' ');
  model_destroy(ctx);
  return 0;
}
