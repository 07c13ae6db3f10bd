/* A C program on the installed runtime: tests/install/*.test build it with
 * find_package(tensorc) and with pkg-config.  tcrt_matmul needs OpenBLAS, so
 * a static link without it fails; api.h is included to check that its DLPack
 * include is found too. */
#include <stdio.h>
#include <stdlib.h>
#include <tensorc/api.h>
#include <tensorc/runtime.h>

int main(void) {
  tc_ctx *ctx = tcrt_ctx_new(0);
  if (!ctx)
    return 1;
  float a[4] = {1, 2, 3, 4}, c[4];
  if (tcrt_matmul(ctx, TC_F32, 0, a, a, c, 1, 2, 2, 2, 0, 0, 0) != TC_OK) {
    fprintf(stderr, "%s\n", tcrt_error(ctx));
    return 1;
  }
  tc_array t = {.data = c, .dtype = TC_F32, .rank = 2, .shape = {2, 2}};
  char *s = tcrt_format(&t);
  if (!s)
    return 1;
  printf("%s\nabi %d\n", s, TENSORC_ABI_VERSION);
  free(s);
  tcrt_ctx_free(ctx);
  return 0;
}
