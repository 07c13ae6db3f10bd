/* driver/main.c - the tensorc command.
 *
 * Reads the options (SPEC §3), parses the program, runs the pipeline of
 * passes/pipeline.c in order (logging, timing, verifying and dumping after
 * each as asked), and writes what --emit names.  Exit codes: 0 success,
 * 1 compile errors, 2 usage errors, 3 internal errors (ir_die).
 *
 * TENSORC_DEBUG=n is the one debug ladder: 1 pass names and times, 2 the IR
 * after each pass that ran, 3 and 4 are for the code generators' output and
 * logs (arriving with them).
 */
#include "codegen/codegen.h"
#include "driver.h"
#include "frontend/frontend.h"
#include "ir/kernel.h"
#include "passes/passes.h"

#include <llvm/Config/llvm-config.h> /* LLVM_VERSION_MAJOR */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef TENSORC_VERSION
#define TENSORC_VERSION "0.0.0"
#endif
#ifndef TENSORC_STDLIB_DIR
#define TENSORC_STDLIB_DIR "lib"
#endif

typedef enum Emit { EMIT_EXE, EMIT_OBJ, EMIT_SHARED, EMIT_ASM, EMIT_LLVM, EMIT_CUDA, EMIT_PTX, EMIT_IR, EMIT_AST, EMIT_TOKENS } Emit;
static const char *emit_names[] = {"exe", "obj", "shared", "asm", "llvm", "cuda", "ptx", "ir", "ast", "tokens"};

typedef struct Options {
  const char *input;
  const char *output;
  Emit emit;
  bool emit_given;
  const char *dump_after; /* pass name or "all" */
  bool dump_tokens;       /* --dump-tokens: the token stream on stderr */
  bool dump_ast;          /* --dump-ast: the syntax tree on stderr */
  bool time_passes;
  int debug;              /* TENSORC_DEBUG */
  int opt;                /* -O0 .. -O3 */
  const char *params_dir; /* --params=DIR */
  const char *name;       /* --name: the C interface's prefix */
  bool no_fuse;           /* --no-fuse: skip fusion, one kernel per op */
  bool no_memplan;        /* --no-memplan: every buffer allocated where lower put it */
  const char *device;     /* --device: cpu, cuda, auto */
  const char *gpu_arch;   /* --gpu-arch=sm_NN */
  bool gpu_emulate;       /* --gpu-emulate */
  bool allow_tf32;        /* --allow-tf32 */
  const char *dump_dot;   /* --dump-dot=FILE */
  bool debug_info;        /* -g */
  const char *dist;       /* --dist=mpi (docs/distributed.md) */
  int64_t dist_bucket;    /* --dist-bucket=BYTES (0: autodiff_dist.c's 25 MiB) */
} Options;

static const char usage[] =
    "usage: tensorc [options] FILE.tc\n"
    "  -o PATH             output path (default: FILE without .tc, or FILE.o with -c)\n"
    "  -c                  object file and header (FILE.h) instead of an executable\n"
    "  --emit=KIND         exe | obj | shared | asm | llvm | cuda | ptx | ir | ast | tokens\n"
    "  --dump-after=PASS   IR after PASS ('all' for every pass) on stderr\n"
    "  --dump-tokens       the token stream on stderr\n"
    "  --dump-ast          the syntax tree on stderr\n"
    "  --list-passes       the pipeline, in order\n"
    "  --dump-dot=FILE     the final IR as a Graphviz graph, one cluster a kernel\n"
    "  --device=D          cpu | cuda | auto\n"
    "  --gpu-arch=sm_NN    GPU target for NVRTC (default sm_80)\n"
    "  --gpu-emulate       run the CUDA kernels in a CPU emulator (a testing aid, docs/gpu.md)\n"
    "  --allow-tf32        let cuBLAS use TF32 tensor cores for f32 products (faster, ~1e-3 relative error)\n"
    "  --dist=mpi          a data-parallel executable for mpirun (docs/distributed.md); without it\n"
    "                      rank(), world_size(), all_reduce() and broadcast() compile for one\n"
    "                      process: rank 0 of 1, the identity\n"
    "  --dist-bucket=BYTES the most bytes of gradients one all-reduce averages (default 26214400)\n"
    "  --params=DIR        embed DIR/NAME.npy as the initial value of each param\n"
    "  --name=NAME         prefix of the C interface's names (default: FILE's stem)\n"
    "  -O0 .. -O3          optimisation level (default -O2)\n"
    "  -g                  debug info: the .tc file and line of kernels, entries and their code\n"
    "  -I DIR              import path\n"
    "  --time-passes       time of every pass, LLVM and linking included\n"
    "  --no-fuse           skip the fusion pass: one kernel per op (for comparison)\n"
    "  --no-memplan        skip the memplan pass (in-place updates, reuse, hoisting)\n"
    "  --version, --help\n"
    "Dumps, --time-passes and --dump-dot are side channels: the output is written as well.\n"
    "Environment: TENSORC_DEBUG=1 pass names and times, 2 also the IR after each pass,\n"
    "  3 also the generated LLVM IR and CUDA C, 4 also optimised LLVM IR and NVRTC's log.\n"
    "Exit codes: 0 success, 1 compile errors, 2 usage errors, 3 internal errors.\n";

static _Noreturn void usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "tensorc: error: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(run 'tensorc --help' for the options)\n");
  ir_arena_free_all();
  exit(2);
}

static bool starts(const char *s, const char *prefix, const char **rest) {
  size_t n = strlen(prefix);
  if (strncmp(s, prefix, n) != 0)
    return false;
  *rest = s + n;
  return true;
}

static void list_passes(void) {
  for (int i = 0; i < pass_pipeline_len; i++)
    printf("%2d. %-9s %s\n", i + 1, pass_pipeline[i].name, pass_pipeline[i].what);
}

static bool known_pass(const char *name) {
  if (strcmp(name, "all") == 0)
    return true;
  for (int i = 0; i < pass_pipeline_len; i++)
    if (strcmp(pass_pipeline[i].name, name) == 0)
      return true;
  return false;
}

static bool c_identifier(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return false;
  return true;
}

static void parse_options(int argc, char **argv, Options *o) {
  const char *v;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      exit(0);
    } else if (strcmp(a, "--version") == 0) {
      printf("tensorc %s\n", TENSORC_VERSION);
      /* the targets this build can compile for */
      printf("targets: cpu (LLVM %d)", LLVM_VERSION_MAJOR);
      if (cg_nvrtc_available())
        printf(", cuda (NVRTC %s: %s; --gpu-emulate)\n", cg_nvrtc_version(), cg_nvrtc_archs());
      else
        printf("; cuda: not built (NVRTC was not found when tensorc was built)\n");
      exit(0);
    } else if (strcmp(a, "--list-passes") == 0) {
      list_passes();
      exit(0);
    } else if (strcmp(a, "-o") == 0) {
      if (++i >= argc)
        usage_error("%s needs a path", "-o");
      o->output = argv[i];
    } else if (strcmp(a, "-g") == 0) {
      o->debug_info = true;
    } else if (strcmp(a, "-c") == 0) {
      o->emit = EMIT_OBJ;
      o->emit_given = true;
    } else if (starts(a, "--emit=", &v)) {
      size_t k = 0;
      while (k < sizeof emit_names / sizeof emit_names[0] && strcmp(emit_names[k], v) != 0)
        k++;
      if (k == sizeof emit_names / sizeof emit_names[0])
        usage_error("unknown --emit kind '%s' (exe, obj, shared, asm, llvm, cuda, ptx, ir, ast, tokens)", v);
      o->emit = (Emit)k;
      o->emit_given = true;
    } else if (starts(a, "--dump-after=", &v)) {
      if (!known_pass(v))
        usage_error("unknown pass '%s' (see --list-passes)", v);
      o->dump_after = v;
    } else if (strcmp(a, "--dump-tokens") == 0) {
      o->dump_tokens = true;
    } else if (strcmp(a, "--dump-ast") == 0) {
      o->dump_ast = true;
    } else if (strcmp(a, "--time-passes") == 0) {
      o->time_passes = true;
    } else if (strcmp(a, "--no-fuse") == 0) {
      o->no_fuse = true;
    } else if (strcmp(a, "--no-memplan") == 0) {
      o->no_memplan = true;
    } else if (strcmp(a, "-I") == 0) {
      if (++i >= argc)
        usage_error("%s needs a directory", "-I");
      fe_add_import_dir(argv[i]);
    } else if (starts(a, "-I", &v) && *v) {
      fe_add_import_dir(v);
    } else if (starts(a, "--device=", &v)) {
      if (strcmp(v, "cpu") && strcmp(v, "cuda") && strcmp(v, "auto"))
        usage_error("unknown device '%s' (cpu, cuda, auto)", v);
      o->device = v;
    } else if (starts(a, "-O", &v) && strlen(v) == 1 && v[0] >= '0' && v[0] <= '3') {
      o->opt = v[0] - '0';
    } else if (starts(a, "--params=", &v) && *v) {
      o->params_dir = v;
    } else if (starts(a, "--name=", &v)) {
      if (!c_identifier(v))
        usage_error("--name=%s: the name must be a C identifier", v);
      o->name = v;
    } else if (starts(a, "--gpu-arch=", &v)) {
      if (strncmp(v, "sm_", 3) != 0 || !v[3] || strspn(v + 3, "0123456789") != strlen(v + 3))
        usage_error("--gpu-arch=%s: expected sm_NN (e.g. sm_80)", v);
      o->gpu_arch = v;
    } else if (strcmp(a, "--gpu-emulate") == 0) {
      o->gpu_emulate = true;
    } else if (starts(a, "--dist=", &v)) {
      if (strcmp(v, "mpi") != 0)
        usage_error("unknown --dist '%s' (mpi)", v);
      if (!cg_dist_available())
        usage_error("--dist=%s: this tensorc was built without MPI (install libopenmpi-dev and rebuild)", v);
      o->dist = v;
    } else if (starts(a, "--dist-bucket=", &v)) {
      char *end;
      long long n = strtoll(v, &end, 10);
      if (!*v || *end || n < 1)
        usage_error("--dist-bucket=%s: expected a number of bytes, 1 or more", v);
      o->dist_bucket = n;
    } else if (strcmp(a, "--allow-tf32") == 0) {
      o->allow_tf32 = true;
    } else if (starts(a, "--dump-dot=", &v)) {
      if (!*v)
        usage_error("%s needs a file name", "--dump-dot=");
      o->dump_dot = v;
    } else if (a[0] == '-' && a[1]) {
      usage_error("unknown option '%s'", a);
    } else {
      if (o->input)
        usage_error("more than one input file ('%s')", a);
      o->input = a;
    }
  }
  if (!o->input)
    usage_error("%s", "no input file");
  const char *dbg = getenv("TENSORC_DEBUG");
  o->debug = dbg ? atoi(dbg) : 0;
}

/* -o PATH must be writable before any work is done: an existing
 * directory, or a path in a directory that is missing or read-only, is a
 * usage error (exit 2) now rather than a linker's message at the end. */
static _Noreturn void bad_output(const char *path, const char *why, const char *dir) {
  fprintf(stderr, "tensorc: error: -o %s: ", path);
  fprintf(stderr, why, dir);
  fputc('\n', stderr);
  ir_arena_free_all();
  exit(2);
}

static void check_output_path(const char *path) {
  if (!path || strcmp(path, "-") == 0)
    return;
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    bad_output(path, "that is a directory; expected a file name%s", "");
  const char *slash = strrchr(path, '/');
  const char *dir = !slash ? "." : slash == path ? "/" : ir_strndup(path, (size_t)(slash - path));
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    bad_output(path, "the directory '%s' does not exist", dir);
  if (access(dir, W_OK | X_OK) != 0)
    bad_output(path, "the directory '%s' is not writable", dir);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static const char *module_name(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 3 && strcmp(base + n - 3, ".tc") == 0)
    n -= 3;
  return ir_strndup(base, n);
}

/* The module's name as a C identifier: other characters become '_'. */
static const char *c_prefix(const char *module) {
  char *p = ir_sprintf("%s%s", module[0] >= '0' && module[0] <= '9' ? "_" : "", module);
  for (char *c = p; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
      *c = '_';
  return p;
}

static bool dump_asked(const Options *o, const char *name) {
  return o->debug >= 2 || (o->dump_after && (strcmp(o->dump_after, "all") == 0 || strcmp(o->dump_after, name) == 0));
}

/* Logs, times, verifies and dumps one stage: the graph IR m, or the kernel
 * IR km once there is one. */
static void after_pass(const Options *o, const PassInfo *p, IrModule *m, KModule *km, double seconds, bool ok) {
  if (o->time_passes || o->debug >= 1)
    fprintf(stderr, "tensorc: pass %-9s %8.3f ms%s\n", p->name, seconds * 1e3, ok ? "" : " (errors)");
  if (!ok || (!m && !km) || p->level == PASS_CODEGEN)
    return;
#ifdef TENSORC_VERIFY
  if (km)
    k_verify_module(km);
  else
    ir_verify_module(m, strcmp(p->name, "resolve") != 0);
#endif
  if (dump_asked(o, p->name)) {
    fprintf(stderr, "// ----- IR after %s -----\n", p->name);
    if (km)
      k_print_module(stderr, km);
    else if (p->dump)
      p->dump(stderr, m);
    else
      ir_print_module(stderr, m);
  }
}

static int finish(int code) {
  fflush(stdout);
  ir_arena_free_all();
  return code;
}

/* The codegen stage: what --emit names, for the module's target.  False
 * after a user error (reported) or a usage error (printed; ir_error_count
 * stays 0, so the exit code is 2). */
static bool emit_code(const Options *o, KModule *km, KModule *cpu_twin, IrModule *m, const char *text, size_t len) {
  /* Default output: FILE without .tc (exe), or with .o / .so / .s / .ll / .cu / .ptx. */
  static const char *ext[] = {[EMIT_EXE] = "", [EMIT_OBJ] = ".o", [EMIT_SHARED] = ".so", [EMIT_ASM] = ".s",
                              [EMIT_LLVM] = ".ll", [EMIT_CUDA] = ".cu", [EMIT_PTX] = ".ptx"};
  static const CgEmit kinds[] = {[EMIT_EXE] = CG_EXE, [EMIT_OBJ] = CG_OBJ, [EMIT_SHARED] = CG_SHARED,
                                 [EMIT_ASM] = CG_ASM, [EMIT_LLVM] = CG_LLVM, [EMIT_CUDA] = CG_CUDA,
                                 [EMIT_PTX] = CG_PTX};
  if (o->emit > EMIT_PTX) {
    fprintf(stderr, "tensorc: error: --emit=%s is not code\n", emit_names[o->emit]);
    return false;
  }
  size_t n = strlen(o->input);
  const char *stem = ir_strndup(o->input, n - (n > 3 && strcmp(o->input + n - 3, ".tc") == 0 ? 3 : 0));
  const char *path = o->output ? o->output : ir_sprintf("%s%s", stem, ext[o->emit]);
  if (o->emit == EMIT_EXE && strcmp(path, o->input) == 0)
    path = ir_sprintf("%s.out", o->input);
  CgOptions cgo = {.opt = o->opt,
                   .prefix = o->name ? o->name : c_prefix(m->name),
                   .source_text = text,
                   .source_len = len,
                   .source = o->input,
                   .dump = dump_asked(o, "codegen"),
                   .allow_tf32 = o->allow_tf32,
                   .cpu_twin = cpu_twin,
                   .time_stages = o->time_passes || o->debug >= 1,
                   .debug_info = o->debug_info};
  /* -c: model.o and model.h beside it */
  if (o->emit == EMIT_OBJ && strcmp(path, "-") != 0) {
    size_t k = strlen(path);
    cgo.header = k > 2 && strcmp(path + k - 2, ".o") == 0 ? ir_sprintf("%.*s.h", (int)(k - 2), path)
                                                          : ir_sprintf("%s.h", path);
  }
  return cg_emit(km, kinds[o->emit], path, &cgo);
}

int main(int argc, char **argv) {
  Options o = {.emit = EMIT_EXE, .opt = 2};
  parse_options(argc, argv, &o);
  check_output_path(o.output);
  fe_add_import_dir(TENSORC_STDLIB_DIR);

  size_t len;
  const char *why;
  char *text = fe_read_file(o.input, &len, &why);
  if (!text) {
    fprintf(stderr, "tensorc: error: cannot read '%s': %s\n", o.input, why);
    return finish(2);
  }
  if (o.emit == EMIT_TOKENS || o.dump_tokens) {
    ir_source_add(o.input, text, len);
    bool ok = fe_dump_tokens(o.emit == EMIT_TOKENS ? stdout : stderr, o.input, text, len);
    if (o.emit == EMIT_TOKENS || !ok || ir_error_count())
      return finish(ok && ir_error_count() == 0 ? 0 : 1);
  }

  /* 1. parse */
  double t0 = now();
  AstNode *ast = fe_parse(o.input, text, len);
  if (o.time_passes || o.debug >= 1)
    fprintf(stderr, "tensorc: parse         %8.3f ms\n", (now() - t0) * 1e3);
  if (!ast)
    return finish(1);
  if (o.dump_ast && o.emit != EMIT_AST)
    fe_ast_print(stderr, ast);
  if (o.emit == EMIT_AST) {
    fe_ast_print(stdout, ast);
    return finish(ir_error_count() ? 1 : 0);
  }

  /* 2. the pipeline, in order (passes/pipeline.c): the graph passes,
   * then, when code, a kernel-IR dump or a picture is asked for, lowering,
   * the kernel-IR passes and code generation */
  /* dumps and timings are side channels (SPEC §3): the output is written
   * whatever they ask */
  bool want_code = o.emit != EMIT_IR;
  const PassInfo *lower_pass = NULL;
  for (int i = 0; i < pass_pipeline_len && !lower_pass; i++)
    if (pass_pipeline[i].level == PASS_LOWER)
      lower_pass = &pass_pipeline[i];
  /* a kernel-IR pass named in --dump-after asks for the kernel IR alone;
   * `all` and TENSORC_DEBUG=2 show it when code is made */
  bool want_kernels = want_code || o.dump_dot;
  for (const PassInfo *p = lower_pass; p && p < pass_pipeline + pass_pipeline_len; p++)
    if (o.dump_after && strcmp(o.dump_after, p->name) == 0 && p->level != PASS_CODEGEN)
      want_kernels = true;
  /* --emit=cuda and --emit=ptx are GPU code: they imply --device=cuda */
  bool gpu_emit = o.emit == EMIT_CUDA || o.emit == EMIT_PTX;
  if (gpu_emit && o.device && strcmp(o.device, "cpu") == 0) {
    fprintf(stderr, "tensorc: error: --emit=%s makes GPU code, but --device=cpu was given\n", emit_names[o.emit]);
    return finish(2);
  }
  bool cuda = (o.device && strcmp(o.device, "cpu") != 0) || gpu_emit;
  /* --dist=mpi makes an executable, for the CPU or the GPU (docs/distributed.md) */
  if (o.dist && (o.emit == EMIT_OBJ || o.emit == EMIT_SHARED)) {
    fprintf(stderr, "tensorc: error: --dist=%s makes an executable, not %s\n", o.dist,
            o.emit == EMIT_OBJ ? "an object file" : "a shared library");
    return finish(2);
  }
  const Target *target = cuda ? ir_target_cuda(o.gpu_arch, o.gpu_emulate) : ir_target_cpu();
  /* --device=auto: the kernel IR twice, for the GPU (dumped) and for the
   * CPU (km_cpu, the CPU code compiled beside the GPU code, docs/gpu.md) */
  bool twin = cuda && !gpu_emit && strcmp(o.device, "auto") == 0;

  IrModule *m = NULL;
  KModule *km = NULL, *km_cpu = NULL;
  for (int i = 0; i < pass_pipeline_len; i++) {
    const PassInfo *p = &pass_pipeline[i];
    if (p->level != PASS_GRAPH && !want_kernels)
      break;
    t0 = now();
    bool ok = true;
    switch (p->level) {
    case PASS_GRAPH:
      if (!p->run) { /* resolve: the frontend's lowering */
        m = fe_resolve(ast, module_name(o.input));
        ok = m != NULL;
        if (ok)
          m->dist = o.dist, m->dist_bucket = o.dist_bucket;
      } else if (!(o.no_fuse && strcmp(p->name, "fusion") == 0)) {
        /* --no-fuse: every node keeps fuse = NONE, so lower makes one kernel per op */
        ok = p->run(m);
      }
      break;
    case PASS_LOWER:
      km = pass_lower(m, target);
      ok = km != NULL;
      if (ok && twin)
        ok = (km_cpu = pass_lower(m, ir_target_cpu())) != NULL;
      break;
    case PASS_KERNEL:
      if (!(o.no_memplan && strcmp(p->name, "memplan") == 0))
        ok = p->krun(km) && (!km_cpu || p->krun(km_cpu));
      break;
    case PASS_CODEGEN:
      if (!want_code)
        continue;
      if (o.dump_dot && !dr_write_dot(km, o.dump_dot))
        return finish(2);
      ok = emit_code(&o, km, km_cpu, m, text, len);
      break;
    }
    after_pass(&o, p, m, km, now() - t0, ok);
    if (!ok)
      return finish(p->level == PASS_CODEGEN && ir_error_count() == 0 ? 2 : 1);
    if (p->level == PASS_GRAPH && !p->run && !dr_embed_files(m))
      return finish(1);
    /* --params=DIR needs the params' types, and must come before the
     * passes that would treat init's stores as live */
    if (strcmp(p->name, "shape") == 0 && o.params_dir && !dr_embed_dir(m, o.params_dir))
      return finish(1);
  }
  if (o.dump_dot && !want_code && km && !dr_write_dot(km, o.dump_dot))
    return finish(2);

  /* 3. --emit=ir: the graph IR after the graph passes */
  if (o.emit == EMIT_IR) {
    FILE *out = stdout;
    if (o.output && strcmp(o.output, "-") != 0) {
      /* Written to a temporary name and renamed: never a half-written file. */
      const char *tmp = ir_sprintf("%s.tmp%ld", o.output, (long)clock());
      out = fopen(tmp, "w");
      if (!out) {
        fprintf(stderr, "tensorc: error: cannot write '%s'\n", o.output);
        return finish(2);
      }
      ir_print_module(out, m);
      bool bad = ferror(out);
      bad |= fclose(out) != 0;
      if (bad || rename(tmp, o.output) != 0) {
        remove(tmp);
        fprintf(stderr, "tensorc: error: cannot write '%s'\n", o.output);
        return finish(2);
      }
      return finish(0);
    }
    ir_print_module(out, m);
  }
  return finish(0);
}
