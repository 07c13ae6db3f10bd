/* tests/fuzz/libfuzzer/fuzz_csv.c - the CSV reader (runtime/csv.c): the
 * input is the file.  What it reads (f64) is then converted to every
 * runtime dtype, as an executable does for a declared argument. */
#include "fuzz_util.h"

#include "runtime/rt_files.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_quiet_stderr();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tc_array a = {0};
  char err[1024];
  if (rt_csv_read(fz_memfile(data, size), &a, err, sizeof err) != TC_OK)
    return 0;
  int64_t n = tcrt_numel(&a);
  void *out = tcrt_alloc(NULL, n * 8);
  for (tc_dtype to = TC_BOOL; out && to <= TC_F64; to++)
    tcrt_convert(to, out, TC_F64, a.data, n);
  tcrt_free(out);
  tcrt_free(a.data);
  return 0;
}
