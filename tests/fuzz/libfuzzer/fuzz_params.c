/* tests/fuzz/libfuzzer/fuzz_params.c - the params reader (--params-in,
 * params_in of the C API; runtime/params.c): one param's file read and
 * checked against its declaration, then set in a context.
 *
 * Input: the declaration, then the file:
 *   byte 0      dtype (1 + b % 5: bool i32 i64 f32 f64)
 *   byte 1      rank (b % 9)
 *   rank bytes  the dims, each one of 0 1 2 3 4 5 8 16
 *   the rest    the .npy file */
#include "fuzz_util.h"

#include "runtime/rt_files.h"
#include "runtime/rt_internal.h"

static tc_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_quiet_stderr();
  ctx = tcrt_ctx_new(1);
  return 0;
}

static void ignore_warning(void *user, const char *name, const char *message) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int64_t dims[] = {0, 1, 2, 3, 4, 5, 8, 16};
  FzBytes b = {data, size};
  tc_paramdesc pd = {"w", (tc_dtype)(1 + fz_u8(&b) % 5), fz_u8(&b) % 9, {0}};
  for (int i = 0; i < pd.rank; i++)
    pd.shape[i] = dims[fz_u8(&b) % 8];
  char err[1024];
  rt_param_load_file(ctx, 0, &pd, fz_memfile(b.p, b.n), err, sizeof err, ignore_warning, NULL);
  tcrt_set_param(ctx, 0, NULL); /* each input starts from no value */
  return 0;
}
