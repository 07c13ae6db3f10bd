/* tests/fuzz/libfuzzer/fuzz_util.h - what the fuzz targets share: an
 * in-memory file for the readers that take a path, the fuzz bytes read as
 * a stream of small numbers, and quiet diagnostics.  No target writes a
 * file or exits on bad input (README.md). */
#ifndef TENSORC_FUZZ_UTIL_H
#define TENSORC_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The entry points: libFuzzer's, or replay.c's main() in a normal build. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "/proc/self/fd/N" of a memfd holding exactly these bytes (one memfd per
 * process, rewritten each call): a regular file to the readers' fopen and
 * fstat, but nothing on disk.  Aborts if the kernel has no memfd: a broken
 * harness, not an input. */
const char *fz_memfile(const uint8_t *data, size_t size);

/* Diagnostics (frontend errors, run-time warnings) go to the C stream
 * stderr; unless TC_FUZZ_VERBOSE is set they are dropped, as printing
 * them would be most of the time of an execution.  File descriptor 2 is
 * left alone, so sanitizer and libFuzzer reports still show. */
void fz_quiet_stderr(void);

/* The fuzz bytes, taken from the front; past the end every read gives 0. */
typedef struct FzBytes {
  const uint8_t *p;
  size_t n;
} FzBytes;
uint8_t fz_u8(FzBytes *b);
/* One of the `n` values of `table`, or (high bit of the selector set) a
 * raw little-endian 64-bit value from the bytes: sizes worth trying first,
 * anything else sometimes. */
int64_t fz_pick(FzBytes *b, const int64_t *table, int n);

#endif
