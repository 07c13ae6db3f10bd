/* tests/fuzz/libfuzzer/fuzz_npy.c - the .npy reader (runtime/npy.c): the
 * input is the file.  It is read once as its own dtype and once as each
 * runtime dtype declared (what an executable's argument and a param ask
 * for), so every conversion of cast.c sees the data. */
#include "fuzz_util.h"

#include "runtime/rt_files.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_quiet_stderr();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fz_memfile(data, size);
  for (tc_dtype want = TC_UNKNOWN; want <= TC_F64; want++) {
    tc_array a = {0};
    char warning[1200], err[1024];
    if (rt_npy_read(path, want, &a, warning, sizeof warning, err, sizeof err) == TC_OK)
      tcrt_free(a.data);
  }
  return 0;
}
