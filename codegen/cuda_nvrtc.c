/* codegen/cuda_nvrtc.c - generated CUDA C to PTX and a cubin, through NVRTC.
 *
 * tensorc compiles ahead of time, so a model carries its GPU code in two
 * forms: the cubin for the architecture asked for (sm_NN, loaded as is) and
 * the PTX, which the driver of a newer GPU JIT-compiles.  One NVRTC compile
 * with -arch=sm_NN gives both: nvrtcGetCUBIN returns the cubin, and
 * nvrtcGetPTX the very PTX that a compile for compute_NN gives (`.target
 * sm_NN`; checked byte for byte with NVRTC 13.0, whose -arch=compute_NN
 * compile has no cubin at all).  So there is one compile, not two.
 *
 * The options are fixed (docs/gpu.md, "NVRTC and ptxas"): -std=c++17;
 * --fmad=false, because the CPU backend never contracts a*b+c into a fused
 * multiply-add and the same program must round the same way on both; the
 * other float options are NVRTC's IEEE defaults (no flush to zero, correctly
 * rounded division and sqrt); -default-device, so helper functions of the
 * prelude need no __device__; -lineinfo on request, for profilers.
 *
 * The CUDA C is the compiler's own output: when NVRTC rejects it, that is a
 * tensorc bug, and the message is written for whoever fixes it: NVRTC's log,
 * then every line the log blames, quoted from the source with its number.
 * Nothing falls back to another path.
 *
 * NVRTC's version and architectures are read once (pthread_once), and one
 * compile runs at a time under a mutex: the compiler calls this from one
 * thread, and the lock keeps a second caller from racing the first.
 *
 * Built without NVRTC (TENSORC_HAVE_NVRTC unset: no toolkit, or
 * -DTENSORC_CUDA=OFF) the same functions exist and report that.
 */
#include "codegen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The caller frees messages and images with free(), so they come from
 * malloc; running out of memory in the compiler is fatal anyway. */
static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fprintf(stderr, "tensorc: out of memory\n");
    abort();
  }
  return p;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xrealloc(NULL, n), s, n);
}

void cg_gpu_image_free(CgGpuImage *img) {
  if (!img)
    return;
  free(img->ptx);
  free(img->cubin);
  memset(img, 0, sizeof *img);
}

#ifdef TENSORC_HAVE_NVRTC

#include <nvrtc.h>
#include <pthread.h>

/* ---- a growing message ---- */

typedef struct Buf {
  char *s;
  size_t n, cap;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(Buf *b, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    buf_add(b, small, (size_t)n);
    return;
  }
  char *big = xrealloc(NULL, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  buf_add(b, big, (size_t)n);
  free(big);
}

/* ---- what this NVRTC is: read once ---- */

enum { MAX_ARCHS = 64 };
static pthread_once_t info_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;
static char version[32];
static char arch_names[MAX_ARCHS][16]; /* "sm_80": CgGpuImage.arch points here */
static int n_archs;
static char archs_text[MAX_ARCHS * 16];

static void read_info(void) {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) == NVRTC_SUCCESS)
    snprintf(version, sizeof version, "%d.%d", major, minor);
  else
    snprintf(version, sizeof version, "(unknown version)");
  int n = 0;
  if (nvrtcGetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0)
    return;
  int *archs = xrealloc(NULL, (size_t)n * sizeof *archs);
  if (nvrtcGetSupportedArchs(archs) == NVRTC_SUCCESS) {
    size_t len = 0;
    for (int i = 0; i < n && n_archs < MAX_ARCHS && len + 16 < sizeof archs_text; i++) {
      snprintf(arch_names[n_archs], sizeof arch_names[0], "sm_%d", archs[i]);
      len += (size_t)snprintf(archs_text + len, sizeof archs_text - len, "%s%s", len ? " " : "",
                              arch_names[n_archs]);
      n_archs++;
    }
  }
  free(archs);
}

static int arch_index(const char *arch) {
  pthread_once(&info_once, read_info);
  for (int i = 0; arch && i < n_archs; i++)
    if (strcmp(arch, arch_names[i]) == 0)
      return i;
  return -1;
}

bool cg_nvrtc_available(void) { return true; }

const char *cg_nvrtc_version(void) {
  pthread_once(&info_once, read_info);
  return version;
}

const char *cg_nvrtc_archs(void) {
  pthread_once(&info_once, read_info);
  return archs_text;
}

bool cg_nvrtc_arch_ok(const char *arch) { return arch_index(arch) >= 0; }

/* ---- compiling ---- */

/* Line `line` (1-based) of `src` into *len characters at the result; NULL
 * when the source is shorter. */
static const char *source_line(const char *src, long line, size_t *len) {
  for (long i = 1; i < line && src; i++) {
    src = strchr(src, '\n');
    if (src)
      src++;
  }
  if (!src || !*src)
    return NULL;
  const char *end = strchr(src, '\n');
  *len = end ? (size_t)(end - src) : strlen(src);
  return src;
}

/* The line number of a log line "NAME(LINE): error: ..." (also "catastrophic
 * error"), or 0 for any other line (warnings, the line NVRTC quotes, its
 * caret, the summary). */
static long error_line(const char *l, size_t len, const char *name) {
  size_t nl = strlen(name);
  if (len <= nl + 1 || strncmp(l, name, nl) != 0 || l[nl] != '(')
    return 0;
  char *end;
  long line = strtol(l + nl + 1, &end, 10);
  if (end == l + nl + 1 || (size_t)(end - l) + 3 > len || strncmp(end, "): ", 3) != 0)
    return 0;
  /* the kind of message: the words up to the next ':' */
  const char *kind = end + 3, *colon = memchr(kind, ':', len - (size_t)(kind - l));
  if (!colon)
    return 0;
  for (const char *p = kind; p + 5 <= colon; p++)
    if (strncmp(p, "error", 5) == 0)
      return line;
  return 0;
}

/* The message for code NVRTC would not compile: the log, then the source
 * lines its errors name, each once, in the order of the log. */
static char *rejected(const char *source, const char *name, const char *arch, nvrtcResult r,
                      const char *log) {
  Buf b = {0};
  buf_printf(&b, "internal error: NVRTC rejected the generated CUDA C (%s for %s: %s)\n", name, arch,
             nvrtcGetErrorString(r));
  if (!*log) {
    buf_printf(&b, "NVRTC %s wrote no log\n", version);
    return b.s;
  }
  buf_printf(&b, "NVRTC %s's log:\n%s", version, log);
  if (log[strlen(log) - 1] != '\n')
    buf_add(&b, "\n", 1);

  enum { MAX_QUOTED = 50 };
  long quoted[MAX_QUOTED];
  int n_quoted = 0;
  for (const char *l = log; *l;) {
    const char *nl = strchr(l, '\n');
    size_t len = nl ? (size_t)(nl - l) : strlen(l);
    long line = error_line(l, len, name);
    bool seen = false;
    for (int i = 0; i < n_quoted; i++)
      seen |= quoted[i] == line;
    size_t text_len;
    const char *text = line > 0 && !seen ? source_line(source, line, &text_len) : NULL;
    if (text && n_quoted < MAX_QUOTED) {
      if (n_quoted == 0)
        buf_printf(&b, "the lines of %s named above:\n", name);
      quoted[n_quoted++] = line;
      buf_printf(&b, "%6ld | %.*s\n", line, (int)text_len, text);
    }
    l += len + (nl != NULL);
  }
  return b.s;
}

static char *program_log(nvrtcProgram prog) {
  size_t n = 0;
  if (nvrtcGetProgramLogSize(prog, &n) != NVRTC_SUCCESS || n == 0)
    return xstrdup("");
  char *log = xrealloc(NULL, n + 1);
  if (nvrtcGetProgramLog(prog, log) != NVRTC_SUCCESS)
    n = 0;
  log[n] = '\0';
  return log;
}

static char *nvrtc_failed(const char *what, const char *name, nvrtcResult r) {
  Buf b = {0};
  buf_printf(
      &b, "internal error: NVRTC rejected the generated CUDA C (%s: %s %s%s)", name, what,
      r == NVRTC_SUCCESS ? "gave nothing" : "failed: ", r == NVRTC_SUCCESS ? "" : nvrtcGetErrorString(r));
  return b.s;
}

static nvrtcResult take_ptx(nvrtcProgram prog, CgGpuImage *out) {
  size_t n = 0; /* with the NUL */
  nvrtcResult r = nvrtcGetPTXSize(prog, &n);
  if (r != NVRTC_SUCCESS || n < 2)
    return r;
  out->ptx = xrealloc(NULL, n);
  r = nvrtcGetPTX(prog, out->ptx);
  out->ptx[n - 1] = '\0';
  out->ptx_len = r == NVRTC_SUCCESS ? strlen(out->ptx) : 0;
  return r;
}

static nvrtcResult take_cubin(nvrtcProgram prog, CgGpuImage *out) {
  size_t n = 0;
  nvrtcResult r = nvrtcGetCUBINSize(prog, &n);
  if (r != NVRTC_SUCCESS || n == 0)
    return r;
  out->cubin = xrealloc(NULL, n);
  r = nvrtcGetCUBIN(prog, out->cubin);
  out->cubin_len = r == NVRTC_SUCCESS ? n : 0;
  return r;
}

/* Steps, under compile_lock: 1. create and compile the program; 2. take
 * the PTX and the cubin; 3. at TENSORC_DEBUG=4 show NVRTC's log (its
 * warnings) even when it compiled. */
static bool compile_locked(const char *source, const char *name, int arch, bool lineinfo, CgGpuImage *out,
                           char **error) {
  nvrtcProgram prog;
  nvrtcResult r = nvrtcCreateProgram(&prog, source, name, 0, NULL, NULL);
  if (r != NVRTC_SUCCESS) {
    *error = nvrtc_failed("nvrtcCreateProgram", name, r);
    return false;
  }
  char arch_opt[32];
  snprintf(arch_opt, sizeof arch_opt, "-arch=%s", arch_names[arch]);
  const char *opts[] = {arch_opt, "-std=c++17", "--fmad=false", "-default-device", "-lineinfo"};
  int n_opts = lineinfo ? 5 : 4;
  r = nvrtcCompileProgram(prog, n_opts, opts);
  char *log = program_log(prog);
  bool ok = r == NVRTC_SUCCESS;
  if (!ok)
    *error = rejected(source, name, arch_names[arch], r, log);

  /* 2. both forms; a compile for sm_NN always has a cubin */
  if (ok && ((r = take_ptx(prog, out)) != NVRTC_SUCCESS || out->ptx_len == 0)) {
    *error = nvrtc_failed("nvrtcGetPTX", name, r);
    ok = false;
  }
  if (ok && ((r = take_cubin(prog, out)) != NVRTC_SUCCESS || out->cubin_len == 0)) {
    *error = nvrtc_failed("nvrtcGetCUBIN", name, r);
    ok = false;
  }
  out->arch = arch_names[arch];

  /* 3. the debug ladder's level 4: NVRTC's logs */
  const char *dbg = getenv("TENSORC_DEBUG");
  if (ok && dbg && atoi(dbg) >= 4 && *log)
    fprintf(stderr, "NVRTC log for %s (%s):\n%s\n", name, arch_names[arch], log);
  free(log);
  nvrtcDestroyProgram(&prog);
  if (!ok)
    cg_gpu_image_free(out);
  return ok;
}

bool cg_nvrtc_compile(const char *source, const char *name, const char *arch, bool lineinfo, CgGpuImage *out,
                      char **error) {
  memset(out, 0, sizeof *out);
  *error = NULL;
  if (!name)
    name = "tensorc.cu";
  int a = arch_index(arch);
  if (a < 0) {
    /* the caller checks an arch a user gave with cg_nvrtc_arch_ok first */
    Buf b = {0};
    buf_printf(&b, "internal error: NVRTC %s cannot compile for '%s'; it can for: %s", version,
               arch ? arch : "(null)", archs_text);
    *error = b.s;
    return false;
  }
  pthread_mutex_lock(&compile_lock);
  bool ok = compile_locked(source, name, a, lineinfo, out, error);
  pthread_mutex_unlock(&compile_lock);
  return ok;
}

#else /* !TENSORC_HAVE_NVRTC */

#define NO_CUDA "this tensorc was built without CUDA (NVRTC not found at build time)"

bool cg_nvrtc_available(void) { return false; }
const char *cg_nvrtc_version(void) { return NULL; }
const char *cg_nvrtc_archs(void) { return ""; }
bool cg_nvrtc_arch_ok(const char *arch) { return false; }

bool cg_nvrtc_compile(const char *source, const char *name, const char *arch, bool lineinfo, CgGpuImage *out,
                      char **error) {
  memset(out, 0, sizeof *out);
  *error = xstrdup(NO_CUDA);
  return false;
}

#endif
