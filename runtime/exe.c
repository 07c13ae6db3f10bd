/* runtime/exe.c - the main() of a compiled executable: SPEC §3's command
 * line around a tc_program.
 *
 *   ./model NAME=VALUE ... [--seed N] [--threads N] [--params-in DIR]
 *           [--params-out DIR] [--quiet] [--device cpu|cuda|auto] [--profile]
 *           [--help]
 *
 * The steps, in order, so that every mistake in the input is found before
 * anything runs or is written:
 *   1. parse the command line (options, NAME=VALUE pairs, --help);
 *   2. check that --params-out could be created (but create nothing yet);
 *   3. bind main's arguments: scalars parsed per dtype (or their
 *      defaults), tensors loaded with tcrt_load and checked against the
 *      declaration: dtype (a CSV, always f64, is converted and must fit an
 *      integer dtype exactly), rank (a one-row or one-column CSV given to
 *      a rank-1 argument is taken as 1-D), constant dims, and symbolic
 *      dims, bound by the first argument that has them;
 *   4. seed, then the params: --params-in DIR/NAME.npy (checked against
 *      the param's dtype and shape) or prog->init;
 *   5. run main; print each result as print() would, one per line;
 *   6. --params-out: create DIR, write DIR/NAME.npy for every param.
 * A bad input is one line on stderr, "PROG: error: NAME: ..." naming the
 * argument and the file, and exit code 2; a failure inside the program
 * is exit code 1 (or 2 when the program reports TC_ERR_INPUT).  Nothing
 * here exits: tcrt_exe_main returns the code for main() to return.
 */
#include "rt_internal.h"
#include "rt_dist.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_BAD_INPUT = 2 };

typedef struct Run {
  const tc_program *prog;
  const char *argv0; /* for the usage line */
  const char *name;  /* the program's name in messages (basename of argv[0]) */
  /* options */
  uint64_t seed;
  int threads; /* 0: not given */
  const char *params_in, *params_out;
  int quiet, profile;
  const char *device; /* --device: cpu, cuda, auto (NULL: not given) */
  /* main's arguments */
  const char **values; /* the VALUE given for each argument, or NULL */
  tc_array *args;      /* bound values (tcrt_alloc'd data) */
  /* symbolic dims: the value, and the argument and axis that bound it */
  int64_t *sym_value;
  int *sym_arg, *sym_axis;
  tc_ctx *ctx;
} Run;

/* One line on stderr, "PROG: error: ...", and the exit code for bad input. */
static int bad(const Run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const Run *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: error: ", r->name);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return EXIT_BAD_INPUT;
}

/* ---------- describing types ---------- */

/* "f32[N, 65]", or "i64" for a scalar (bind.c). */
static void arg_type(const tc_program *prog, const tc_argdesc *d, char *buf, size_t size) {
  rt_decl_text(d, prog->nsyms, prog->sym_names, buf, size);
}

/* "90 rows (axis 0)", "1 column (axis 1)", "5 along axis 2". */
static void dim_phrase(int64_t n, int axis, char *buf, size_t size) {
  if (axis == 0)
    snprintf(buf, size, "%lld row%s (axis 0)", (long long)n, n == 1 ? "" : "s");
  else if (axis == 1)
    snprintf(buf, size, "%lld column%s (axis 1)", (long long)n, n == 1 ? "" : "s");
  else
    snprintf(buf, size, "%lld along axis %d", (long long)n, axis);
}

/* A scalar's default as the signature shows it ("20", "0.1", "True"). */
static char *default_text(const tc_argdesc *d) {
  union {
    uint8_t b;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
  } v;
  switch (d->dtype) {
  case TC_BOOL: v.b = d->default_value != 0; break;
  case TC_I32: v.i32 = (int32_t)d->default_value; break;
  case TC_I64: v.i64 = (int64_t)d->default_value; break;
  case TC_F32: v.f32 = (float)d->default_value; break;
  default: v.f64 = d->default_value; break;
  }
  tc_array a = {&v, d->dtype, 0, {0}};
  return tcrt_format(&a);
}

/* ---------- --help ---------- */

static void print_help(const Run *r) {
  const tc_program *p = r->prog;
  char type[256];
  printf("usage: %s", r->argv0);
  for (int i = 0; i < p->nargs; i++) {
    const tc_argdesc *d = &p->args[i];
    arg_type(p, d, type, sizeof type);
    if (d->rank > 0) {
      printf(" %s=FILE(%s)", d->name, type);
    } else if (d->has_default) {
      char *def = default_text(d);
      printf(" [%s=%s (default %s)]", d->name, type, def ? def : "?");
      free(def);
    } else {
      printf(" %s=%s", d->name, type);
    }
  }
  printf(" [--seed N] [--threads N] [--params-in DIR] [--params-out DIR] [--quiet] [--device cpu|cuda|auto]"
         " [--profile] [--help]\n");
  if (p->nargs > 0) {
    printf("\narguments of main (FILE is a .npy or .csv file; dims named by a letter must agree):\n");
    for (int i = 0; i < p->nargs; i++) {
      const tc_argdesc *d = &p->args[i];
      arg_type(p, d, type, sizeof type);
      printf("  %-20s %s", d->name, type);
      if (d->rank == 0 && d->has_default) {
        char *def = default_text(d);
        printf(", default %s", def ? def : "?");
        free(def);
      }
      printf("\n");
    }
  }
  if (p->nparams > 0) {
    printf("\nparams (DIR/NAME.npy for --params-in and --params-out):\n");
    for (int i = 0; i < p->nparams; i++) {
      rt_param_type(&p->params[i], type, sizeof type);
      printf("  %-20s %s\n", p->params[i].name, type);
    }
  }
  printf("\noptions:\n"
         "  --seed N             seed of the random stream (default 0)\n"
         "  --threads N          threads for parallel loops (default: the CPUs this process may use)\n"
         "  --params-in DIR      read every param from DIR/NAME.npy instead of initialising it\n"
         "  --params-out DIR     write every param to DIR/NAME.npy after main returns\n"
         "  --quiet              do not print what main returns\n"
         "  --device cpu|cuda|auto  where to run: a program compiled with --device=cuda runs on the GPU;\n"
         "                       one compiled with --device=auto on the GPU, or on the CPU where there is\n"
         "                       no usable GPU (default auto)\n"
         "  --profile            time every kernel: a table on stderr after the run\n"
         "  --help               this text\n");
}

/* ---------- the command line ---------- */

static int parse_u64(const char *s, uint64_t *out) {
  if (!*s || *s == '-' || *s == '+' || *s == ' ')
    return 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno)
    return 0;
  *out = v;
  return 1;
}

/* The value of option `opt` at argv[*i]: "--opt=V" or "--opt V".  NULL
 * (with the message printed) when it is missing. */
static const char *option_value(const Run *r, int argc, char **argv, int *i, const char *opt) {
  const char *a = argv[*i];
  size_t n = strlen(opt);
  if (a[n] == '=')
    return a + n + 1;
  if (*i + 1 >= argc) {
    bad(r, "%s needs a value (see --help)", opt);
    return NULL;
  }
  return argv[++*i];
}

/* Is `a` the option `opt`, alone or as "--opt=..."? */
static int is_option(const char *a, const char *opt) {
  size_t n = strlen(opt);
  return strncmp(a, opt, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

static int find_arg(const tc_program *p, const char *name, size_t len) {
  for (int i = 0; i < p->nargs; i++)
    if (strlen(p->args[i].name) == len && strncmp(p->args[i].name, name, len) == 0)
      return i;
  return -1;
}

static int parse_command_line(Run *r, int argc, char **argv) {
  const tc_program *p = r->prog;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (is_option(a, "--seed")) {
      if (!(v = option_value(r, argc, argv, &i, "--seed")))
        return EXIT_BAD_INPUT;
      if (!parse_u64(v, &r->seed))
        return bad(r, "--seed: expected a non-negative integer, got '%s'", v);
    } else if (is_option(a, "--threads")) {
      uint64_t n;
      if (!(v = option_value(r, argc, argv, &i, "--threads")))
        return EXIT_BAD_INPUT;
      if (!parse_u64(v, &n) || n < 1 || n > 4096)
        return bad(r, "--threads: expected a number of threads from 1 to 4096, got '%s'", v);
      r->threads = (int)n;
    } else if (is_option(a, "--params-in")) {
      if (!(v = option_value(r, argc, argv, &i, "--params-in")))
        return EXIT_BAD_INPUT;
      if (!*v)
        return bad(r, "--params-in: expected a directory, got ''");
      r->params_in = v;
    } else if (is_option(a, "--params-out")) {
      if (!(v = option_value(r, argc, argv, &i, "--params-out")))
        return EXIT_BAD_INPUT;
      if (!*v)
        return bad(r, "--params-out: expected a directory, got ''");
      r->params_out = v;
    } else if (is_option(a, "--device")) {
      if (!(v = option_value(r, argc, argv, &i, "--device")))
        return EXIT_BAD_INPUT;
      if (strcmp(v, "cpu") != 0 && strcmp(v, "auto") != 0 && strcmp(v, "cuda") != 0)
        return bad(r, "--device: expected cpu, cuda or auto, got '%s'", v);
      if (strcmp(v, "cuda") == 0 && !r->prog->gpu)
        return bad(r, "--device cuda: this program was built without CUDA support (compile it with --device=cuda)");
      if (strcmp(v, "cpu") == 0 && r->prog->gpu && !r->prog->cpu)
        return bad(r, "--device cpu: this program was built for the GPU only (tensorc --device=cuda; "
                      "--device=auto builds both)");
      r->device = v;
    } else if (strcmp(a, "--quiet") == 0) {
      r->quiet = 1;
    } else if (strcmp(a, "--profile") == 0) {
      r->profile = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      /* no argument's name starts with '-' */
      return bad(r, "unknown option '%.*s' (see --help)", (int)strcspn(a, "="), a);
    } else {
      const char *eq = strchr(a, '=');
      if (!eq)
        return bad(r, "unexpected '%s': arguments are NAME=VALUE (see --help)", a);
      if (eq == a)
        return bad(r, "malformed argument '%s': expected NAME=VALUE", a);
      int k = find_arg(p, a, (size_t)(eq - a));
      if (k < 0) {
        char names[512];
        size_t len = 0;
        names[0] = '\0';
        for (int j = 0; j < p->nargs && len < sizeof names; j++)
          len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", j ? ", " : "", p->args[j].name);
        if (p->nargs == 0)
          return bad(r, "unknown argument '%.*s': main takes no arguments", (int)(eq - a), a);
        return bad(r, "unknown argument '%.*s': main takes %s", (int)(eq - a), a, names);
      }
      if (r->values[k])
        return bad(r, "%s: given twice (%s=%s and %s)", p->args[k].name, p->args[k].name, r->values[k], a);
      if (!eq[1])
        return bad(r, "%s: no value after '='", p->args[k].name);
      r->values[k] = eq + 1;
    }
  }
  for (int k = 0; k < p->nargs; k++) {
    const tc_argdesc *d = &p->args[k];
    if (!r->values[k] && !(d->rank == 0 && d->has_default)) {
      char type[256];
      arg_type(p, d, type, sizeof type);
      return bad(r, "%s: missing (main needs %s=%s, %s)", d->name, d->name, d->rank ? "FILE" : "VALUE", type);
    }
  }
  return EXIT_OK;
}

/* ---------- --params-out: check early, create late ---------- */

/* Could `dir` be written, or created, by this process?  Walks up to the
 * nearest existing ancestor, so that a typo in the directory fails before a
 * long training run rather than after it, without creating anything. */
static int check_output_dir(const Run *r, const char *dir) {
  size_t n = strlen(dir);
  char *p = malloc(n + 2);
  if (!p)
    return bad(r, "out of memory");
  memcpy(p, dir, n + 1);
  int code = EXIT_OK;
  for (;;) {
    while (n > 1 && p[n - 1] == '/')
      p[--n] = '\0';
    struct stat st;
    if (stat(p, &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        code = bad(r, "--params-out %s: '%s' is not a directory", dir, p);
      else if (access(p, W_OK | X_OK) != 0)
        code = bad(r, "--params-out %s: cannot write in '%s': %s", dir, p, strerror(errno));
      break;
    }
    if (errno != ENOENT && errno != ENOTDIR) {
      code = bad(r, "--params-out %s: %s: %s", dir, p, strerror(errno));
      break;
    }
    char *slash = strrchr(p, '/');
    if (!slash) {
      strcpy(p, ".");
      n = 1;
    } else if (slash == p) {
      p[1] = '\0';
      n = 1;
    } else {
      *slash = '\0';
      n = (size_t)(slash - p);
    }
  }
  free(p);
  return code;
}

/* mkdir -p. */
static int make_dirs(const char *dir, char *err, size_t errsize) {
  size_t n = strlen(dir);
  char *p = malloc(n + 1);
  if (!p) {
    snprintf(err, errsize, "out of memory");
    return -1;
  }
  memcpy(p, dir, n + 1);
  int rc = 0;
  for (size_t i = 1; i <= n && rc == 0; i++) {
    if (p[i] != '/' && p[i] != '\0')
      continue;
    char c = p[i];
    p[i] = '\0';
    struct stat st;
    if (mkdir(p, 0777) != 0 && !(errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode))) {
      snprintf(err, errsize, "cannot create directory '%s': %s", p, strerror(errno));
      rc = -1;
    }
    p[i] = c;
  }
  free(p);
  return rc;
}

/* ---------- binding main's arguments ---------- */

static int parse_scalar(const Run *r, const tc_argdesc *d, const char *s, void *out) {
  char *end;
  switch (d->dtype) {
  case TC_BOOL:
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "1"))
      *(uint8_t *)out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "0"))
      *(uint8_t *)out = 0;
    else
      return bad(r, "%s: expected true or false (bool), got '%s'", d->name, s);
    return EXIT_OK;
  case TC_I32:
  case TC_I64: {
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || end == s || *s == ' ')
      return bad(r, "%s: expected an integer (%s), got '%s'", d->name, tcrt_dtype_name(d->dtype), s);
    if (errno == ERANGE || (d->dtype == TC_I32 && (v < INT32_MIN || v > INT32_MAX)))
      return bad(r, "%s: %s does not fit in %s", d->name, s, tcrt_dtype_name(d->dtype));
    if (d->dtype == TC_I32)
      *(int32_t *)out = (int32_t)v;
    else
      *(int64_t *)out = v;
    return EXIT_OK;
  }
  case TC_F32:
  case TC_F64: {
    double v = strtod(s, &end);
    if (*end || end == s || *s == ' ')
      return bad(r, "%s: expected a number (%s), got '%s'", d->name, tcrt_dtype_name(d->dtype), s);
    if (d->dtype == TC_F32)
      *(float *)out = (float)v;
    else
      *(double *)out = v;
    return EXIT_OK;
  }
  default: return bad(r, "%s: unsupported dtype %d", d->name, (int)d->dtype);
  }
}

static int has_extension(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* A CSV is f64; make it the declared dtype, refusing values an integer
 * (or bool) dtype cannot hold exactly. */
static int convert_csv(Run *r, int k, const char *path, tc_array *a) {
  const tc_argdesc *d = &r->prog->args[k];
  if (d->dtype == TC_F64)
    return EXIT_OK;
  int64_t n = tcrt_numel(a);
  const double *src = a->data;
  int64_t cols = a->rank == 2 ? a->shape[1] : 1;
  for (int64_t i = 0; d->dtype != TC_F32 && i < n; i++) {
    double v = src[i];
    int ok;
    if (d->dtype == TC_BOOL)
      ok = v == 0 || v == 1;
    else if (d->dtype == TC_I32)
      ok = v >= -2147483648.0 && v <= 2147483647.0 && v == (double)(int32_t)v;
    else
      ok = v >= -0x1p63 && v < 0x1p63 && v == (double)(int64_t)v;
    if (!ok)
      return bad(r, "%s: %s row %lld, column %lld: %.17g is not %s %s", d->name, path,
                 (long long)(i / cols + 1), (long long)(i % cols + 1), v, d->dtype == TC_BOOL ? "a" : "an",
                 tcrt_dtype_name(d->dtype));
  }
  void *dst = tcrt_alloc(r->ctx, n * (int64_t)tcrt_dtype_size(d->dtype));
  if (!dst)
    return bad(r, "%s: %s", d->name, tcrt_error(r->ctx));
  for (int64_t i = 0; i < n; i++) {
    switch (d->dtype) {
    case TC_BOOL: ((uint8_t *)dst)[i] = src[i] != 0; break;
    case TC_I32: ((int32_t *)dst)[i] = (int32_t)src[i]; break;
    case TC_I64: ((int64_t *)dst)[i] = (int64_t)src[i]; break;
    default: ((float *)dst)[i] = (float)src[i]; break;
    }
  }
  tcrt_free(a->data);
  a->data = dst;
  a->dtype = d->dtype;
  return EXIT_OK;
}

/* Loads argument k from its file and checks it against the declaration. */
static int bind_tensor(Run *r, int k) {
  const tc_program *p = r->prog;
  const tc_argdesc *d = &p->args[k];
  const char *path = r->values[k];
  tc_array *a = &r->args[k];
  char type[256], shape[256], err[1024], have[64], want[64];
  arg_type(p, d, type, sizeof type);
  int is_csv = has_extension(path, ".csv");
  if (!is_csv && !has_extension(path, ".npy"))
    return bad(r, "%s: expected a .npy or .csv file (%s), got '%s'", d->name, type, path);

  const char *warning = NULL;
  if (tcrt_load_as(path, d->dtype, a, &warning, err, sizeof err) != TC_OK) {
    memset(a, 0, sizeof *a);
    return bad(r, "%s: %s", d->name, err);
  }
  if (warning)
    fprintf(stderr, "%s: warning: %s: %s\n", r->name, d->name, warning);

  /* dtype: a .npy is the declared one now (tcrt_load_as converted it);
   * a CSV is f64, converted below */
  if (is_csv && d->rank == 1 && a->rank == 2 && (a->shape[0] == 1 || a->shape[1] == 1)) {
    /* one row or one column of a table is a vector */
    a->shape[0] *= a->shape[1];
    a->rank = 1;
  }

  /* rank */
  rt_shape_str(a->rank, a->shape, shape, sizeof shape);
  if (a->rank != d->rank)
    return bad(r, "%s: expected %s (rank %d), %s has rank %d, shape %s", d->name, type, d->rank, path,
               a->rank, shape);

  /* dims: constants must match, symbols must agree with their first use,
   * expressions (N + 1) are checked by main itself */
  RtBinder binder = {p->nsyms, r->sym_value, r->sym_arg, r->sym_axis};
  for (int ax = 0; ax < d->rank; ax++) {
    int64_t n = a->shape[ax];
    RtBind how = rt_bind_dim(&binder, d, k, ax, n);
    if (how == RT_BIND_NOT_CONSTANT) {
      dim_phrase(n, ax, have, sizeof have);
      return bad(r, "%s: expected %s, %s has %s, shape %s", d->name, type, path, have, shape);
    }
    if (how == RT_BIND_SYMBOL_DISAGREES) {
      int s = d->dims[ax].sym, j = r->sym_arg[s];
      dim_phrase(n, ax, have, sizeof have);
      snprintf(want, sizeof want, "%lld (axis %d)", (long long)r->sym_value[s], r->sym_axis[s]);
      return bad(r, "%s: %s=%s has %s but %s=%s has %s", p->sym_names[s], d->name, path, have,
                 p->args[j].name, r->values[j], want);
    }
  }
  return is_csv ? convert_csv(r, k, path, a) : EXIT_OK;
}

static int bind_args(Run *r) {
  const tc_program *p = r->prog;
  for (int k = 0; k < p->nargs; k++) {
    const tc_argdesc *d = &p->args[k];
    if (d->rank > 0) {
      int code = bind_tensor(r, k);
      if (code)
        return code;
      continue;
    }
    tc_array *a = &r->args[k];
    a->dtype = d->dtype;
    a->rank = 0;
    a->data = tcrt_alloc(r->ctx, 8);
    if (!a->data)
      return bad(r, "%s: %s", d->name, tcrt_error(r->ctx));
    if (r->values[k]) {
      int code = parse_scalar(r, d, r->values[k], a->data);
      if (code)
        return code;
    } else {
      switch (d->dtype) {
      case TC_BOOL: *(uint8_t *)a->data = d->default_value != 0; break;
      case TC_I32: *(int32_t *)a->data = (int32_t)d->default_value; break;
      case TC_I64: *(int64_t *)a->data = (int64_t)d->default_value; break;
      case TC_F32: *(float *)a->data = (float)d->default_value; break;
      default: *(double *)a->data = d->default_value; break;
      }
    }
  }
  return EXIT_OK;
}

/* ---------- params ---------- */

static void print_warning(void *user, const char *name, const char *message) {
  fprintf(stderr, "%s: warning: %s: %s\n", ((const Run *)user)->name, name, message);
}

static int load_params(Run *r) {
  char err[1024];
  if (tcrt_params_load(r->ctx, r->prog->nparams, r->prog->params, r->params_in, err, sizeof err, print_warning, r))
    return bad(r, "%s", err);
  return EXIT_OK;
}

static int save_params(Run *r) {
  const tc_program *p = r->prog;
  char err[1024];
  if (make_dirs(r->params_out, err, sizeof err) != 0) {
    fprintf(stderr, "%s: error: --params-out: %s\n", r->name, err);
    return EXIT_FAILED;
  }
  for (int i = 0; i < p->nparams; i++) {
    const tc_paramdesc *pd = &p->params[i];
    tc_array a = {NULL, pd->dtype, pd->rank, {0}};
    memcpy(a.shape, pd->shape, sizeof a.shape);
    if (!tcrt_param(r->ctx, i)) {
      fprintf(stderr, "%s: error: --params-out: param %s has no value\n", r->name, pd->name);
      return EXIT_FAILED;
    }
    /* a host copy: the params may live in device memory */
    int64_t bytes = tcrt_numel(&a) * (int64_t)tcrt_dtype_size(a.dtype);
    char *path = rt_param_path(r->params_out, pd->name);
    a.data = tcrt_alloc(r->ctx, bytes);
    if (!path || !a.data || tcrt_param_read(r->ctx, i, a.data, bytes)) {
      fprintf(stderr, "%s: error: %s\n", r->name, path && a.data ? tcrt_error(r->ctx) : "out of memory");
      free(path);
      tcrt_free(a.data);
      return EXIT_FAILED;
    }
    int code = tcrt_save(path, &a, err, sizeof err);
    tcrt_free(a.data);
    free(path);
    if (code) {
      fprintf(stderr, "%s: error: --params-out: %s\n", r->name, err);
      return EXIT_FAILED;
    }
  }
  return EXIT_OK;
}

/* ---------- running ---------- */

/* The exit code for a status the program returned: its message on stderr. */
static int program_failed(const Run *r, int status) {
  const char *msg = tcrt_error(r->ctx);
  fprintf(stderr, "%s: error: %s\n", r->name, *msg ? msg : "the program failed");
  return status == TC_ERR_INPUT ? EXIT_BAD_INPUT : EXIT_FAILED;
}

/* GPU code runs on the device, or not at all; a program built with
 * --device=auto carries its CPU build (p->cpu) for --device cpu and for
 * machines where the GPU cannot be opened (docs/gpu.md). */
static int choose_device(Run *r) {
  const tc_program *p = r->prog;
  if (!p->gpu)
    return EXIT_OK;
  const char *asked = r->device ? r->device : p->cpu ? "auto" : "cuda";
  if (strcmp(asked, "cpu") == 0) {
    r->prog = p->cpu; /* parse_command_line refused cpu without one */
    return EXIT_OK;
  }
  if (!tcrt_dev_open(r->ctx, p->gpu))
    return EXIT_OK;
  if (strcmp(asked, "auto") != 0 || !p->cpu)
    return bad(r, "--device %s: %s", asked, tcrt_error(r->ctx));
  if (!r->quiet)
    fprintf(stderr, "%s: note: no CUDA device (%s); running on the CPU\n", r->name, tcrt_error(r->ctx));
  r->ctx->error[0] = 0;
  r->prog = p->cpu;
  return EXIT_OK;
}

static int run(Run *r, int argc, char **argv) {
  const tc_program *p = r->prog;
  int code = parse_command_line(r, argc, argv);
  if (code)
    return code;
  if (r->params_out && (code = check_output_dir(r, r->params_out)))
    return code;
  if (!(r->ctx = tcrt_ctx_new(p->nparams))) {
    fprintf(stderr, "%s: error: out of memory\n", r->name);
    return EXIT_FAILED;
  }
  if (r->threads)
    tcrt_set_threads(r->ctx, r->threads);
  if ((code = choose_device(r)))
    return code;
  p = r->prog;
  if ((code = bind_args(r)))
    return code;

  if (r->profile && tcrt_profile_start(r->ctx))
    return program_failed(r, TC_ERR_NOMEM);
  tcrt_seed(r->ctx, r->seed);
  if (r->params_in) {
    if ((code = load_params(r)))
      return code;
  } else if (p->init) {
    int status = p->init(r->ctx);
    if (status)
      return program_failed(r, status);
  }
  int shared = rt_dist_share_params(r->ctx, p->nparams, p->params); /* --dist=mpi: rank 0's */
  if (shared)
    return program_failed(r, shared);

  tc_array *results = calloc(p->nresults > 0 ? (size_t)p->nresults : 1, sizeof *results);
  if (!results) {
    fprintf(stderr, "%s: error: out of memory\n", r->name);
    return EXIT_FAILED;
  }
  int status = p->main(r->ctx, r->args, results);
  if (getenv("TENSORC_DEVICE_STATS") && p->gpu) {
    fprintf(stderr, "device: %s, %lld blocks allocated in all, %lld live\n", tcrt_dev_name(r->ctx),
            (long long)tcrt_dev_malloc_calls(), (long long)tcrt_dev_live_blocks(r->ctx));
    rt_dev_print_stats(stderr);
  }
  if (r->profile)
    tcrt_profile_finish(r->ctx); /* the table, on stderr, also after a failure */
  if (status) {
    code = program_failed(r, status);
  } else {
    for (int i = 0; i < p->nresults && !r->quiet; i++) {
      tcrt_print_array(&results[i], 0);
      tcrt_print_end();
    }
    fflush(stdout);
    if (r->params_out && rt_dist_writer()) /* --dist=mpi: rank 0 writes */
      code = save_params(r);
  }
  /* The caller owns the result buffers, also those set before a failure. */
  for (int i = 0; i < p->nresults; i++)
    tcrt_free(results[i].data);
  free(results);
  return code;
}

int tcrt_exe_main(int argc, char **argv, const tc_program *prog) {
  Run r = {0};
  r.prog = prog;
  r.argv0 = argc > 0 && argv[0] ? argv[0] : prog->name;
  const char *slash = strrchr(r.argv0, '/');
  r.name = slash ? slash + 1 : r.argv0;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      print_help(&r);
      return EXIT_OK;
    }

  char label[256]; /* --dist=mpi: errors say which rank failed */
  r.name = rt_dist_label(r.name, label, sizeof label);
  int n = prog->nargs > 0 ? prog->nargs : 1, ns = prog->nsyms > 0 ? prog->nsyms : 1;
  r.values = calloc((size_t)n, sizeof *r.values);
  r.args = calloc((size_t)n, sizeof *r.args);
  r.sym_value = calloc((size_t)ns, sizeof *r.sym_value);
  r.sym_arg = malloc((size_t)ns * sizeof *r.sym_arg);
  r.sym_axis = calloc((size_t)ns, sizeof *r.sym_axis);
  int code;
  if (!r.values || !r.args || !r.sym_value || !r.sym_arg || !r.sym_axis) {
    fprintf(stderr, "%s: error: out of memory\n", r.name);
    code = EXIT_FAILED;
  } else {
    for (int s = 0; s < ns; s++)
      r.sym_arg[s] = -1;
    code = run(&r, argc, argv);
  }
  for (int i = 0; r.args && i < prog->nargs; i++)
    tcrt_free(r.args[i].data);
  tcrt_ctx_free(r.ctx);
  free(r.values);
  free(r.args);
  free(r.sym_value);
  free(r.sym_arg);
  free(r.sym_axis);
  fflush(stdout);
  /* TENSORC_ALLOC_STATS=1: how many buffers the run allocated, and how
   * many of them came from the system rather than the context's cache
   * (tests check that a training loop's steady state allocates nothing) */
  const char *stats = getenv("TENSORC_ALLOC_STATS");
  if (stats && *stats && strcmp(stats, "0") != 0)
    fprintf(stderr, "%s: tcrt_alloc calls: %lld, new blocks: %lld\n", r.name, (long long)tcrt_alloc_calls(),
            (long long)tcrt_malloc_calls());
  return code;
}
