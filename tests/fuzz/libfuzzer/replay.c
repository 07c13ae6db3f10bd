/* tests/fuzz/libfuzzer/replay.c - main() for a fuzz target in a build
 * without libFuzzer (gcc, or clang without -DTENSORC_LIBFUZZER=ON): runs
 * each file given, and each file of each directory given, once through the
 * target's LLVMFuzzerTestOneInput, as a libFuzzer binary does with file
 * arguments.  The corpora and the inputs that once crashed are replayed
 * this way in every build (tests/fuzz/libfuzzer/replay.test).
 *
 *   fuzz_npy FILE|DIR...      ends with "replay: N inputs" on stdout
 * Arguments starting with '-' (libFuzzer's options) are ignored.  A crash
 * is the target's: this file only reads.  A file that cannot be read is an
 * error (exit 2), so a mistyped path does not pass silently. */
#include "fuzz_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The whole file in a buffer of exactly its size, as libFuzzer gives it,
 * so that AddressSanitizer sees a read past the end. */
static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap)
      buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (!buf) {
    fprintf(stderr, "replay: out of memory reading %s\n", path);
    return -1;
  }
  uint8_t *exact = malloc(n ? n : 1);
  memcpy(exact, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(exact, n);
  free(exact);
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The regular files of a directory, in name order (reproducible). */
static int run_dir(const char *dir, int *count) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: cannot open %s\n", dir);
    return -1;
  }
  char **names = NULL;
  int n = 0, bad = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    names = realloc(names, sizeof *names * (size_t)(n + 1));
    size_t size = strlen(dir) + strlen(e->d_name) + 2;
    names[n] = malloc(size);
    snprintf(names[n++], size, "%s/%s", dir, e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, by_name);
  for (int i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      bad |= run_file(names[i]);
      ++*count;
    }
    free(names[i]);
  }
  free(names);
  return bad;
}

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  int count = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (argv[i][0] == '-')
      continue;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      bad |= run_dir(argv[i], &count);
    } else {
      bad |= run_file(argv[i]);
      count++;
    }
  }
  printf("replay: %d inputs\n", count);
  return bad ? 2 : 0;
}
