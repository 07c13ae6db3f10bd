/* tests/fuzz/libfuzzer/fuzz_util.c - see fuzz_util.h. */
#define _GNU_SOURCE
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const char *fz_memfile(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("tensorc-fuzz-input", MFD_CLOEXEC);
    if (fd < 0) {
      perror("fuzz: memfd_create");
      abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
    perror("fuzz: writing the memfd");
    abort();
  }
  return path;
}

void fz_quiet_stderr(void) {
  if (getenv("TC_FUZZ_VERBOSE"))
    return;
  FILE *null = fopen("/dev/null", "w");
  if (null)
    stderr = null;
}

uint8_t fz_u8(FzBytes *b) {
  if (!b->n)
    return 0;
  b->n--;
  return *b->p++;
}

int64_t fz_pick(FzBytes *b, const int64_t *table, int n) {
  uint8_t sel = fz_u8(b);
  if (!(sel & 0x80))
    return table[sel % n];
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v |= (uint64_t)fz_u8(b) << (8 * i);
  return (int64_t)v;
}
