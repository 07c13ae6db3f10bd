/* tests/runtime/files_test.c - runtime/npy.c, csv.c and load.c: loading
 * and saving by extension, and tcrt_convert.
 *
 *   files_test copy IN OUT [IN OUT ...]
 *       loads each IN and saves it as OUT; prints one line a file
 *       ("IN: ok f32 (3, 4)", "IN: warning: ...", "IN: error 2: ...") and
 *       exits with the largest status.  npy_check.py and csv_check.py drive
 *       it and compare with NumPy.
 *   files_test convert IN DTYPE OUT
 *       loads IN, converts it with tcrt_convert, saves OUT (convert_check.py).
 *   files_test load DTYPE IN OUT [IN OUT ...]
 *       loads each IN as the declared DTYPE (tcrt_load_as) and saves it
 *       as OUT, printing as copy does (npy_convert_check.py).
 *   files_test unit DIR
 *       checks in C what needs no oracle: conversions at the edges, errors
 *       of tcrt_save, and that a failed save leaves no file behind in DIR,
 *       nor one killed by a signal while it writes (a fault, abort() from
 *       a fault handler as the GPU emulator's, SIGTERM): each in a child.
 */
#include "tensorc/runtime.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_shape(const tc_array *a) {
  printf("(");
  for (int i = 0; i < a->rank; i++)
    printf(i ? ", %lld" : "%lld", (long long)a->shape[i]);
  printf(a->rank == 1 ? ",)" : ")");
}

static tc_dtype dtype_named(const char *name) {
  static const char *names[] = {"", "bool", "i32", "i64", "f32", "f64"};
  for (int d = 1; d <= 5; d++)
    if (!strcmp(name, names[d]))
      return (tc_dtype)d;
  return TC_UNKNOWN;
}

/* want: TC_UNKNOWN for tcrt_load's own choice of dtype */
static int copy(int argc, char **argv, tc_dtype want) {
  int worst = 0;
  for (int i = 0; i + 1 < argc; i += 2) {
    tc_array a;
    const char *warning;
    char err[1024];
    int code = tcrt_load_as(argv[i], want, &a, &warning, err, sizeof err);
    if (code) {
      printf("%s: error %d: %s\n", argv[i], code, err);
      worst = code > worst ? code : worst;
      continue;
    }
    if (warning)
      printf("%s: warning: %s\n", argv[i], warning);
    printf("%s: ok %s ", argv[i], tcrt_dtype_name(a.dtype));
    print_shape(&a);
    printf("\n");
    code = tcrt_save(argv[i + 1], &a, err, sizeof err);
    if (code) {
      printf("%s: save error %d: %s\n", argv[i + 1], code, err);
      worst = code > worst ? code : worst;
    }
    tcrt_free(a.data);
  }
  return worst;
}

static int convert(const char *in, const char *dtype, const char *out) {
  tc_dtype to = dtype_named(dtype);
  tc_array a, b;
  char err[1024];
  if (to == TC_UNKNOWN || tcrt_load(in, &a, NULL, err, sizeof err)) {
    printf("convert: bad dtype or input: %s\n", to == TC_UNKNOWN ? dtype : err);
    return 2;
  }
  b = a;
  b.dtype = to;
  b.data = tcrt_alloc(NULL, tcrt_numel(&a) * (int64_t)tcrt_dtype_size(to));
  tcrt_convert(to, b.data, a.dtype, a.data, tcrt_numel(&a));
  int code = tcrt_save(out, &b, err, sizeof err);
  if (code)
    printf("convert: %s\n", err);
  tcrt_free(a.data);
  tcrt_free(b.data);
  return code;
}

/* ===== unit checks ===== */

#include "check.h"

static void test_convert(void) {
  /* Floats to integers: truncation, saturation, NaN to 0. */
  const double d[] = {1.9, -1.9, 2.5, -0.5, 3e9, -3e9, NAN, INFINITY, -INFINITY, 2147483647.0, -2147483648.0,
                      2147483647.9, -2147483648.9, 1e19, -1e19, 9.2e18};
  const int32_t want32[] = {1, -1, 2, 0, INT32_MAX, INT32_MIN, 0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN,
                            INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, INT32_MAX};
  const int64_t want64[] = {1, -1, 2, 0, 3000000000LL, -3000000000LL, 0, INT64_MAX, INT64_MIN, 2147483647,
                            -2147483648LL, 2147483647, -2147483648LL, INT64_MAX, INT64_MIN, 9200000000000000000LL};
  enum { ND = sizeof d / sizeof d[0] };
  int32_t i32[ND];
  int64_t i64[ND];
  float f[ND];
  tcrt_convert(TC_I32, i32, TC_F64, d, ND);
  tcrt_convert(TC_I64, i64, TC_F64, d, ND);
  for (int i = 0; i < ND; i++) {
    CHECK(i32[i] == want32[i], "f64 %g -> i32 gave %d", d[i], i32[i]);
    CHECK(i64[i] == want64[i], "f64 %g -> i64 gave %lld", d[i], (long long)i64[i]);
  }
  tcrt_convert(TC_F32, f, TC_F64, d, ND);
  tcrt_convert(TC_I32, i32, TC_F32, f, ND);
  tcrt_convert(TC_I64, i64, TC_F32, f, ND);
  CHECK(i32[4] == INT32_MAX && i32[6] == 0 && i32[0] == 1 && i64[13] == INT64_MAX && i64[14] == INT64_MIN,
        "f32 -> ints");
  /* 1e300 is beyond f32: inf, as IEEE rounding says. */
  double big = 1e300;
  tcrt_convert(TC_F32, f, TC_F64, &big, 1);
  CHECK(isinf(f[0]) && f[0] > 0, "f64 1e300 -> f32 gave %g", f[0]);
  /* i64 to i32 wraps, as astype. */
  const int64_t wide[] = {((int64_t)1 << 32) + 5, (int64_t)1 << 31, -((int64_t)1 << 31) - 1, -7};
  tcrt_convert(TC_I32, i32, TC_I64, wide, 4);
  CHECK(i32[0] == 5 && i32[1] == INT32_MIN && i32[2] == INT32_MAX && i32[3] == -7, "i64 -> i32 wraps: %d %d %d %d",
        i32[0], i32[1], i32[2], i32[3]);
  /* Anything to bool is x != 0 (NaN is true, -0.0 false); bool to numbers is 0/1. */
  const double b_in[] = {NAN, -0.0, 0.1, 0, -3};
  uint8_t b[5];
  tcrt_convert(TC_BOOL, b, TC_F64, b_in, 5);
  CHECK(b[0] == 1 && b[1] == 0 && b[2] == 1 && b[3] == 0 && b[4] == 1, "f64 -> bool");
  const uint8_t raw[3] = {0, 1, 7};
  tcrt_convert(TC_BOOL, b, TC_BOOL, raw, 3);
  CHECK(b[0] == 0 && b[1] == 1 && b[2] == 1, "bool -> bool normalises to 0/1");
  tcrt_convert(TC_F32, f, TC_BOOL, raw, 3);
  CHECK(f[0] == 0 && f[1] == 1 && f[2] == 1, "bool -> f32");
  int64_t odd = ((int64_t)1 << 53) + 1;
  double back;
  tcrt_convert(TC_F64, &back, TC_I64, &odd, 1);
  CHECK(back == 0x1p53, "i64 2^53+1 -> f64 rounds to even");
  /* In place, same dtype; n of 0 touches nothing. */
  int32_t same[3] = {1, 2, 3};
  tcrt_convert(TC_I32, same, TC_I32, same, 3);
  tcrt_convert(TC_I32, NULL, TC_F64, NULL, 0);
  CHECK(same[0] == 1 && same[2] == 3, "in place");
}

/* Whether DIR holds a file whose name contains `part`. */
static int dir_has(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  int found = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    found |= strstr(e->d_name, part) != NULL;
  if (d)
    closedir(d);
  return found;
}

static void test_save_errors(const char *dir) {
  char path[4096], err[1024];
  float v[24] = {1, 2, 3};
  tc_array a = {v, TC_F32, 3, {2, 3, 4}};
  tc_array loaded;
  /* 1. By extension. */
  snprintf(path, sizeof path, "%s/out.txt", dir);
  CHECK(tcrt_save(path, &a, err, sizeof err) == TC_ERR_INPUT && strstr(err, "unsupported file extension '.txt'"),
        "save .txt: %s", err);
  CHECK(tcrt_load(path, &loaded, NULL, err, sizeof err) == TC_ERR_INPUT && strstr(err, "'.txt'"), "load .txt: %s",
        err);
  snprintf(path, sizeof path, "%s/noext", dir);
  CHECK(tcrt_load(path, &loaded, NULL, err, sizeof err) == TC_ERR_INPUT && strstr(err, "no file extension"),
        "load without extension: %s", err);
  snprintf(path, sizeof path, "%s/UPPER.NPY", dir);
  CHECK(tcrt_save(path, &a, err, sizeof err) == 0, "save .NPY: %s", err);
  CHECK(tcrt_load(path, &loaded, NULL, err, sizeof err) == 0 && loaded.rank == 3, "load .NPY: %s", err);
  if (loaded.data)
    tcrt_free(loaded.data);
  /* 2. A rank-3 CSV fails after the temporary file was made: it is removed,
   * and an older file of that name is left as it was. */
  snprintf(path, sizeof path, "%s/keep.csv", dir);
  FILE *f = fopen(path, "w");
  fputs("9\n", f);
  fclose(f);
  CHECK(tcrt_save(path, &a, err, sizeof err) == TC_ERR_INPUT && strstr(err, "rank-3"), "rank-3 csv: %s", err);
  CHECK(tcrt_load(path, &loaded, NULL, err, sizeof err) == 0 && ((double *)loaded.data)[0] == 9,
        "the old file is intact");
  tcrt_free(loaded.data);
  CHECK(!dir_has(dir, ".tmp."), "no temporary file left after a failed save");
  /* 3. Replacing a file works; replacing a directory does not. */
  a.rank = 2;
  CHECK(tcrt_save(path, &a, err, sizeof err) == 0, "csv over an old file: %s", err);
  CHECK(tcrt_load(path, &loaded, NULL, err, sizeof err) == 0 && loaded.shape[0] == 2 && loaded.shape[1] == 3,
        "the new file replaced it");
  tcrt_free(loaded.data);
  snprintf(path, sizeof path, "%s/adir.npy", dir);
  mkdir(path, 0777);
  CHECK(tcrt_save(path, &a, err, sizeof err) == TC_ERR_INPUT && strstr(err, "cannot replace"), "save over a dir: %s",
        err);
  CHECK(tcrt_load(path, &loaded, NULL, err, sizeof err) == TC_ERR_INPUT && strstr(err, "is a directory"),
        "load a dir: %s", err);
  CHECK(!dir_has(dir, ".tmp."), "no temporary file left after a failed rename");
  snprintf(path, sizeof path, "%s/no/such/dir/x.npy", dir);
  CHECK(tcrt_save(path, &a, err, sizeof err) == TC_ERR_INPUT && strstr(err, "x.npy: cannot create"),
        "save into a missing dir: %s", err);
  /* 4. Arrays that cannot be saved. */
  snprintf(path, sizeof path, "%s/bad.npy", dir);
  tc_array neg = {v, TC_F32, 1, {-1}}, nodata = {NULL, TC_F32, 1, {3}}, nodt = {v, TC_UNKNOWN, 0, {0}};
  CHECK(tcrt_save(path, &neg, err, sizeof err) == TC_ERR_INPUT && strstr(err, "negative"), "negative dim: %s", err);
  CHECK(tcrt_save(path, &nodata, err, sizeof err) == TC_ERR_INPUT, "no data");
  CHECK(tcrt_save(path, &nodt, err, sizeof err) == TC_ERR_INPUT, "unknown dtype");
  CHECK(!dir_has(dir, "bad.npy"), "nothing written for a refused array");
  /* 5. Empty arrays save and load. */
  tc_array empty = {NULL, TC_I64, 2, {0, 5}};
  CHECK(tcrt_save(path, &empty, err, sizeof err) == 0, "empty array: %s", err);
  CHECK(tcrt_load(path, &loaded, NULL, err, sizeof err) == 0 && loaded.rank == 2 && loaded.shape[1] == 5 &&
            loaded.data != NULL,
        "empty array loads with a non-NULL buffer");
  tcrt_free(loaded.data);
  CHECK(tcrt_alloc_count() == 0, "every buffer freed (%lld live)", (long long)tcrt_alloc_count());
}

/* ---- a save killed while it writes ---- */

static void abort_on_segv(int sig) {
  (void)sig;
  abort(); /* as the GPU emulator reports host code reading device memory */
}

/* Runs `how` in a child that saves DIR/NAME; the parent waits (SIGTERM:
 * kills it once its temporary file exists).  Then no temporary file may
 * be left, whatever the child died of. */
static void killed_save(const char *dir, const char *name, const char *how) {
  char path[4096], err[1024], tmp[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp.", name);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    tc_array a = {NULL, TC_F32, 1, {64}};
    if (!strcmp(how, "sigterm")) { /* long enough to be killed while it writes */
      a = (tc_array){NULL, TC_F64, 2, {4000000, 1}};
      a.data = calloc(4000000, sizeof(double));
    } else { /* data that cannot be read: a fault inside the save */
      a.data = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (!strcmp(how, "abort"))
        signal(SIGSEGV, abort_on_segv);
    }
    int code = tcrt_save(path, &a, err, sizeof err);
    _exit(code ? 3 : 0);
  }
  if (!strcmp(how, "sigterm")) {
    for (int i = 0; i < 20000 && !dir_has(dir, tmp); i++)
      nanosleep(&(struct timespec){0, 500000}, NULL);
    kill(pid, SIGTERM);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0), "%s: the save was stopped (status %#x)", how, status);
  CHECK(!dir_has(dir, tmp), "%s: no temporary file left", how);
}

static void test_save_killed(const char *dir) {
  killed_save(dir, "fault.npy", "segv");
  killed_save(dir, "abort.npy", "abort");
  killed_save(dir, "term.csv", "sigterm");
  /* the handlers are installed only while a save runs */
  char path[4096], err[1024];
  float v[2] = {1, 2};
  tc_array a = {v, TC_F32, 1, {2}};
  snprintf(path, sizeof path, "%s/handlers.npy", dir);
  CHECK(tcrt_save(path, &a, err, sizeof err) == 0, "save: %s", err);
  struct sigaction now;
  sigaction(SIGTERM, NULL, &now);
  CHECK(!(now.sa_flags & SA_SIGINFO) && now.sa_handler == SIG_DFL, "SIGTERM's action is the default again");
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "copy") && argc % 2 == 0)
    return copy(argc - 2, argv + 2, TC_UNKNOWN);
  if (argc >= 5 && !strcmp(argv[1], "load") && argc % 2 == 1 && dtype_named(argv[2]))
    return copy(argc - 3, argv + 3, dtype_named(argv[2]));
  if (argc == 5 && !strcmp(argv[1], "convert"))
    return convert(argv[2], argv[3], argv[4]);
  if (argc == 3 && !strcmp(argv[1], "unit")) {
    test_convert();
    test_save_errors(argv[2]);
    test_save_killed(argv[2]);
    printf("files: %d of %d checks passed\n", checks - failures, checks);
    return failures ? 1 : 0;
  }
  fprintf(stderr, "usage: files_test copy IN OUT [IN OUT ...] | load DTYPE IN OUT [...] | convert IN DTYPE "
                  "OUT | unit DIR\n");
  return 2;
}
