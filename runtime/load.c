/* runtime/load.c - tcrt_load and tcrt_save, which pick .npy or .csv by the
 * file's extension, and tcrt_convert, NumPy's astype.
 *
 * Saving never leaves a half-written file under the final name: the data
 * goes to PATH.tmp.PID.N in the same directory (so the rename cannot cross
 * file systems), is closed (which reports a full disk), and is renamed over
 * PATH; on any failure the temporary file is removed.  The file is created
 * with mode 0666 less the umask, as fopen would.  A signal that ends the
 * process while a file is being written (abort(), the GPU emulator's
 * fault report, a segfault, Ctrl-C or kill) removes it too: while a save
 * is in progress its temporary name is listed (from before the file is
 * created, so no moment is left uncovered), and a handler for those
 * signals unlinks the listed names before the signal's previous action
 * runs (installed only while some save is in progress, so a program
 * embedding the runtime keeps its own handlers otherwise).  SIGKILL and
 * power loss still leave PATH.tmp.PID.N behind; PATH itself is never
 * half-written.
 *
 * Conversions follow NumPy's astype where NumPy is defined, and define what
 * C leaves undefined: float to integer truncates toward zero and saturates
 * at the integer type's bounds, NaN gives 0 (NumPy on x86 gives INT_MIN for
 * both, an accident of the cvttsd2si instruction; C makes both undefined
 * behaviour).  i64 to i32 wraps modulo 2^32, as NumPy.  Anything to bool is
 * x != 0, so NaN is true.
 */
#include "rt_files.h"
#include "rt_internal.h"
#include "rt_dist.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int rt_file_error(char *err, size_t errsize, int code, const char *fmt, ...) {
  if (err && errsize > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
  }
  return code;
}

void rt_printable(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
      *s = '?';
}

void rt_shape_repr(const int64_t *shape, int rank, char *buf, size_t size) {
  size_t len = 0;
  len += (size_t)snprintf(buf, size, "(");
  for (int i = 0; i < rank && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (len < size)
    snprintf(buf + len, size - len, rank == 1 ? ",)" : ")");
}

/* The extension of the file name (after the last '/'), "" if none. */
static const char *extension(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  return dot && dot != base ? dot : "";
}

enum { FMT_NPY, FMT_CSV, FMT_NONE };

static int format_of(const char *path, char *err, size_t errsize, int *code) {
  const char *ext = extension(path);
  if (!strcasecmp(ext, ".npy"))
    return FMT_NPY;
  if (!strcasecmp(ext, ".csv"))
    return FMT_CSV;
  if (!*ext)
    *code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: no file extension (expected .npy or .csv)", path);
  else
    *code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: unsupported file extension '%s' (expected .npy or .csv)",
                          path, ext);
  return FMT_NONE;
}

int tcrt_load_as(const char *path, tc_dtype want, tc_array *out, const char **warning, char *err,
                 size_t errsize) {
  /* the warning names the file, so it is made here; one per thread, kept
   * until this thread's next load */
  static _Thread_local char warning_text[1200];
  warning_text[0] = '\0';
  if (warning)
    *warning = NULL;
  if (err && errsize)
    err[0] = '\0';
  if (!path || !out)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "tcrt_load: no path or no output");
  memset(out, 0, sizeof *out);
  int code = TC_OK;
  switch (format_of(path, err, errsize, &code)) {
  case FMT_NPY:
    code = rt_npy_read(path, want, out, warning_text, sizeof warning_text, err, errsize);
    if (!code && warning && warning_text[0])
      *warning = warning_text;
    return code;
  case FMT_CSV: return rt_csv_read(path, out, err, errsize); /* f64: the caller converts (exe.c) */
  default: return code;
  }
}

int tcrt_load(const char *path, tc_array *out, const char **warning, char *err, size_t errsize) {
  return tcrt_load_as(path, TC_UNKNOWN, out, warning, err, errsize);
}

/* ===== saving through a temporary file ===== */

static atomic_uint temp_serial;

/* ---- temporary files a fatal signal removes ----
 * Slots hold the names of saves in progress (a save that finds no free
 * slot, or a name too long for one, is simply not listed).  The handler
 * reads them without a lock: a slot's name is written before it is marked
 * busy, and unlink(2) is async-signal-safe. */
enum { PENDING_SLOTS = 16, PENDING_NAME = 4096 };
static char pending_name[PENDING_SLOTS][PENDING_NAME];
static atomic_bool pending_busy[PENDING_SLOTS];
static pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;
static int pending_saves; /* saves in progress; the handlers are installed while > 0 */
static const int fatal_signals[] = {SIGABRT, SIGSEGV, SIGBUS, SIGINT, SIGTERM, SIGHUP, SIGQUIT};
enum { NFATAL = sizeof fatal_signals / sizeof fatal_signals[0] };
static struct sigaction previous[NFATAL];

static void on_fatal_signal(int sig, siginfo_t *si, void *uctx) {
  int k = 0;
  while (k < NFATAL - 1 && fatal_signals[k] != sig)
    k++;
  const struct sigaction *prev = &previous[k];
  bool custom = (prev->sa_flags & SA_SIGINFO) || (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN);
  /* A fault or abort ends the save whatever handles it next (the GPU
   * emulator's handler aborts); an interrupt ends the process only by its
   * default action: a program's own SIGINT handler may carry on. */
  if (sig == SIGABRT || sig == SIGSEGV || sig == SIGBUS || !custom)
    for (int i = 0; i < PENDING_SLOTS; i++)
      if (atomic_load(&pending_busy[i]))
        unlink(pending_name[i]);
  if (prev->sa_flags & SA_SIGINFO) {
    prev->sa_sigaction(sig, si, uctx);
  } else if (prev->sa_handler == SIG_IGN) {
    return;
  } else if (prev->sa_handler != SIG_DFL) {
    prev->sa_handler(sig);
  } else {
    /* the default action, once this handler returns (the signal is
     * blocked until then; a fault simply happens again) */
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

/* Lists a save's temporary name; the first save in progress installs the
 * handlers.  Returns the slot, or -1 when not listed. */
static int pending_add(const char *name) {
  int slot = -1;
  pthread_mutex_lock(&pending_mu);
  if (pending_saves++ == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < NFATAL; k++)
      sigaction(fatal_signals[k], &sa, &previous[k]);
  }
  for (int i = 0; i < PENDING_SLOTS && slot < 0 && strlen(name) < PENDING_NAME; i++)
    if (!atomic_load(&pending_busy[i])) {
      memcpy(pending_name[i], name, strlen(name) + 1);
      atomic_store(&pending_busy[i], true);
      slot = i;
    }
  pthread_mutex_unlock(&pending_mu);
  return slot;
}

/* The save is over (renamed or removed): unlists it; the last one puts the
 * previous handlers back. */
static void pending_remove(int slot) {
  pthread_mutex_lock(&pending_mu);
  if (slot >= 0)
    atomic_store(&pending_busy[slot], false);
  if (--pending_saves == 0)
    for (int k = 0; k < NFATAL; k++)
      sigaction(fatal_signals[k], &previous[k], NULL);
  pthread_mutex_unlock(&pending_mu);
}

/* Creates PATH.tmp.PID.N exclusively and lists it (*slot, pending_add);
 * *tmp gets the malloc'd name.  The name is listed before the file exists,
 * so a signal at any moment after the open finds it listed (a SIGTERM
 * right after the open, before the listing, left the file behind); one
 * that comes before the open unlinks a name that is not there yet. */
static FILE *open_temp(const char *path, char **tmp, int *slot, char *err, size_t errsize, int *code) {
  size_t size = strlen(path) + 64;
  char *name = malloc(size);
  if (!name) {
    *code = rt_file_error(err, errsize, TC_ERR_NOMEM, "%s: out of memory", path);
    return NULL;
  }
  for (int attempt = 0; attempt < 100; attempt++) {
    snprintf(name, size, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&temp_serial, 1));
    *slot = pending_add(name);
    int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int open_errno = errno;
    if (fd < 0)
      pending_remove(*slot);
    if (fd < 0 && open_errno == EEXIST)
      continue;
    if (fd < 0) {
      /* Name the file the user asked for: the temporary name is ours. */
      *code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot create: %s", path, strerror(open_errno));
      free(name);
      return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
      *code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot create: %s", path, strerror(errno));
      close(fd);
      unlink(name);
      pending_remove(*slot);
      free(name);
      return NULL;
    }
    *tmp = name;
    return f;
  }
  *code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot create a temporary file beside it", path);
  free(name);
  return NULL;
}

static int check_array(const char *path, const tc_array *a, char *err, size_t errsize) {
  if (!a)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: no array to save", path);
  if (tcrt_dtype_size(a->dtype) == 0)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot save an array of unknown dtype %d", path,
                         (int)a->dtype);
  if (a->rank < 0 || a->rank > TC_MAX_RANK)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot save an array of rank %d", path, a->rank);
  int64_t n = 1;
  for (int i = 0; i < a->rank; i++) {
    if (a->shape[i] < 0)
      return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot save an array with negative dimension %lld",
                           path, (long long)a->shape[i]);
    if (a->shape[i] && n > INT64_MAX / 8 / a->shape[i])
      return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: the array is too large to save", path);
    n *= a->shape[i];
  }
  if (n > 0 && !a->data)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: the array has no data", path);
  return TC_OK;
}

int tcrt_save(const char *path, const tc_array *a, char *err, size_t errsize) {
  if (err && errsize)
    err[0] = '\0';
  if (!path)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "tcrt_save: no path");
  if (!rt_dist_writer()) /* --dist=mpi: rank 0 writes the files */
    return TC_OK;
  int code = TC_OK;
  int fmt = format_of(path, err, errsize, &code);
  if (fmt == FMT_NONE)
    return code;
  if ((code = check_array(path, a, err, errsize)))
    return code;
  char *tmp = NULL;
  int slot = -1;
  FILE *f = open_temp(path, &tmp, &slot, err, errsize, &code);
  if (!f)
    return code;
  code = fmt == FMT_NPY ? rt_npy_write(f, path, a, err, errsize) : rt_csv_write(f, path, a, err, errsize);
  /* fclose flushes: a full disk shows up here if not before. */
  int write_failed = ferror(f);
  int close_failed = fclose(f) != 0;
  if (!code && (write_failed || close_failed))
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: write failed: %s", path, strerror(errno));
  if (!code && rename(tmp, path) != 0)
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot replace the file: %s", path, strerror(errno));
  if (code)
    unlink(tmp);
  pending_remove(slot);
  free(tmp);
  return code;
}

/* ===== astype ===== */

/* Float to integer: truncation toward zero inside the range, saturation
 * outside it, 0 for NaN.  The bounds are compared in double, where 2^63 and
 * -2^63 (and 2^31, -2^31 - 1) are exact. */
static inline int64_t to_i64(double x) {
  if (x != x)
    return 0;
  if (x >= 0x1p63)
    return INT64_MAX;
  if (x < -0x1p63)
    return INT64_MIN;
  return (int64_t)x;
}

static inline int32_t to_i32(double x) {
  if (x != x)
    return 0;
  if (x >= 2147483648.0)
    return INT32_MAX;
  if (x <= -2147483649.0)
    return INT32_MIN;
  return (int32_t)x;
}

/* Wraps modulo 2^32 as NumPy does; unsigned first so that no step is an
 * out-of-range signed conversion but the last, which GCC and Clang define
 * as modular. */
static inline int32_t wrap_i32(int64_t x) { return (int32_t)(uint32_t)(uint64_t)x; }

#define CONVERT(TD, TS, EXPR)                                                                                  \
  do {                                                                                                         \
    TD *d = dst;                                                                                               \
    const TS *s = src;                                                                                         \
    for (int64_t i = 0; i < n; i++) {                                                                          \
      TS x = s[i];                                                                                             \
      d[i] = (EXPR);                                                                                           \
    }                                                                                                          \
  } while (0)

void tcrt_convert(tc_dtype to, void *dst, tc_dtype from, const void *src, int64_t n) {
  if (n <= 0 || tcrt_dtype_size(to) == 0 || tcrt_dtype_size(from) == 0)
    return;
  if (to == from && to != TC_BOOL) {
    memmove(dst, src, (size_t)n * tcrt_dtype_size(to));
    return;
  }
  switch (to) {
  case TC_BOOL:
    switch (from) {
    case TC_BOOL: CONVERT(uint8_t, uint8_t, x != 0); return;
    case TC_I32: CONVERT(uint8_t, int32_t, x != 0); return;
    case TC_I64: CONVERT(uint8_t, int64_t, x != 0); return;
    case TC_F32: CONVERT(uint8_t, float, x != 0); return;
    case TC_F64: CONVERT(uint8_t, double, x != 0); return;
    default: return;
    }
  case TC_I32:
    switch (from) {
    case TC_BOOL: CONVERT(int32_t, uint8_t, x != 0); return;
    case TC_I64: CONVERT(int32_t, int64_t, wrap_i32(x)); return;
    case TC_F32: CONVERT(int32_t, float, to_i32(x)); return;
    case TC_F64: CONVERT(int32_t, double, to_i32(x)); return;
    default: return;
    }
  case TC_I64:
    switch (from) {
    case TC_BOOL: CONVERT(int64_t, uint8_t, x != 0); return;
    case TC_I32: CONVERT(int64_t, int32_t, x); return;
    case TC_F32: CONVERT(int64_t, float, to_i64(x)); return;
    case TC_F64: CONVERT(int64_t, double, to_i64(x)); return;
    default: return;
    }
  case TC_F32:
    switch (from) {
    case TC_BOOL: CONVERT(float, uint8_t, x != 0); return;
    case TC_I32: CONVERT(float, int32_t, (float)x); return;
    case TC_I64: CONVERT(float, int64_t, (float)x); return;
    case TC_F64: CONVERT(float, double, (float)x); return;
    default: return;
    }
  case TC_F64:
    switch (from) {
    case TC_BOOL: CONVERT(double, uint8_t, x != 0); return;
    case TC_I32: CONVERT(double, int32_t, x); return;
    case TC_I64: CONVERT(double, int64_t, (double)x); return;
    case TC_F32: CONVERT(double, float, x); return;
    default: return;
    }
  default: return;
  }
}
