/* codegen/emit.c - from an LLVM module to a file: LLVM IR text, assembly,
 * an object file or an executable.
 *
 * 1. A target machine for the host: the default triple, the host CPU's
 *    name and features (the executable runs where it was compiled, like
 *    -march=native), position-independent code so that the default PIE
 *    link works.
 * 2. cpu_host.c builds the module with the machine's data layout (struct
 *    offsets and GEPs depend on it); LLVMVerifyModule checks it, and a
 *    failure is a compiler bug.
 * 3. At -O1 and -O2 a short function pipeline chosen for this code runs
 *    (kernel_pipeline: simplification, LICM, the loop vectoriser);
 *    -O3 runs LLVM's default<O3>, loop unrolling included.  Both through
 *    the new pass manager with the target machine, so the vectorisers see
 *    the host's vector registers.
 * 4. The output is written to a temporary name and renamed, so a failed run
 *    never leaves a half-written file.  An executable is the object in a
 *    temporary file linked by the system C compiler against libtensorc_rt:
 *        cc OBJ -o OUT.tmpPID RUNTIME BLAS -lm -ldl
 *    BLAS is -lopenblas or -lblis, or -L DIR -Wl,-rpath,DIR -lscipy_openblas
 *    for the library of -DTENSORC_BLAS=scipy-openblas (cmake/blas.cmake),
 *    which lives beside the runtime.  RUNTIME is the static libtensorc_rt.a by full path when it exists
 *    (-ltensorc_rt would pick the .so), else -L DIR -ltensorc_rt with an
 *    rpath.  DIR is ../lib beside the running tensorc (an installed
 *    compiler's runtime, or the build tree's lib/ next to its bin/), else
 *    TENSORC_RT_LIB_DIR; that and cc (TENSORC_CC) are set by
 *    codegen/CMakeLists.txt to the build tree's runtime and compiler.
 *
 * TENSORC_DEBUG=3 prints the generated LLVM IR on stderr; 4 also prints it
 * after optimisation.  --time-passes (and TENSORC_DEBUG=1) time each of
 * these stages on stderr (stage_done).
 */
#include "cg_internal.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Support.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Error.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TENSORC_RT_LIB_DIR
#define TENSORC_RT_LIB_DIR ""
#endif
#ifndef TENSORC_CC
#define TENSORC_CC "cc"
#endif
#ifndef TENSORC_MPI_LIBS /* MPI's libraries (CMake's FindMPI): --dist=mpi executables link them */
#define TENSORC_MPI_LIBS ""
#endif
#ifndef TENSORC_LINKER_FLAG /* -fuse-ld=gold, or "" for the C compiler's default linker */
#define TENSORC_LINKER_FLAG ""
#endif
#ifndef TENSORC_RT_LDFLAGS /* extra link flags the runtime needs (sanitizers) */
#define TENSORC_RT_LDFLAGS ""
#endif

extern char **environ;

static const Loc nowhere = {0};

/* --time-passes: each stage of code generation on its own line (the
 * driver's "pass codegen" line is their sum), so the slowest is visible.
 * `start` is the stage's start, set to now for the next stage. */
static bool time_stages;

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void stage_done(const char *stage, double *start) {
  double t = seconds_now();
  if (time_stages)
    fprintf(stderr, "tensorc:   codegen %-12s %8.3f ms\n", stage, (t - *start) * 1e3);
  *start = t;
}

/* ---- 1. the target machine ---- */

static LLVMTargetMachineRef host_machine(int opt, char **triple_out) {
  static bool inited;
  if (!inited) {
    if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter())
      ir_die(nowhere, "codegen: LLVM has no backend for this machine");
    /* glibc's vector math (libmvec, part of -lm): the loop vectoriser then
     * turns exp/log/sin/cos/pow calls into 4/8-lane calls.  The C API has
     * no other way to set the TargetLibraryInfo's vector library. */
    const char *args[] = {"tensorc", "-vector-library=LIBMVEC-X86"};
    LLVMParseCommandLineOptions(2, args, NULL);
    inited = true;
  }
  char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
  LLVMTargetRef target;
  if (LLVMGetTargetFromTriple(triple, &target, &err))
    ir_die(nowhere, "codegen: no LLVM target for %s: %s", triple, err);
  char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
  LLVMCodeGenOptLevel level = opt <= 0   ? LLVMCodeGenLevelNone
                              : opt == 1 ? LLVMCodeGenLevelLess
                              : opt == 2 ? LLVMCodeGenLevelDefault
                                         : LLVMCodeGenLevelAggressive;
  LLVMTargetMachineRef tm =
      LLVMCreateTargetMachine(target, triple, cpu, features, level, LLVMRelocPIC, LLVMCodeModelDefault);
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
  if (!tm)
    ir_die(nowhere, "codegen: cannot create an LLVM target machine for %s", triple);
  *triple_out = triple;
  return tm;
}

/* ---- 3. optimisation ---- */

/* The pipeline for -O1 and -O2, chosen for this code instead of LLVM's
 * whole -O2 module pipeline, which spent most of its time on work our
 * modules do not need (the CGSCC inliner walk, repeated instcombines,
 * jump threading, ...): the host functions are straight-line calls into
 * the runtime, and the kernels are loop nests whose one big win is the
 * loop vectoriser.  Every function gets: SSA form (sroa), local
 * simplification, loop-invariant code motion (loads of the parallel
 * body's environment, the buffer pointers), loops in the shape the
 * vectoriser wants (rotated, canonical induction variable), libmvec's
 * vector math functions made known to it (inject-tli-mappings; see
 * host_machine), the loop vectoriser, and a clean-up.  No SLP vectoriser:
 * it found nothing to do in these kernels (the objects of every bench
 * program and example are the same instructions without it) and cost 5%
 * of the compile (bench/tc/mlp.tc: 1.403 G -> 1.336 G instructions).  The only calls worth inlining are the
 * small helpers cpu_expr.c marks alwaysinline (integer powers); the
 * outlined bodies are noinline (cpu_parallel.c), so the host function's
 * direct call does not copy a kernel into it.  The host functions
 * themselves are optnone (cpu_host.c): the pipeline skips them and the
 * code generator selects their instructions with FastISel; they hold no
 * loops but `for`s of calls.  Identical kernels have one body
 * (cpu_dedup.c).  On digits.tc: 3.12 G instructions -> 1.47 G for the
 * whole command (docs/performance.md, "(h) compile time"). */
static const char *const kernel_pipeline =
    "always-inline,"
    "function(sroa,early-cse<memssa>,simplifycfg,instcombine,"
    "loop-simplify,lcssa,loop-mssa(licm),loop-rotate,indvars,"
    "inject-tli-mappings,loop-vectorize,instcombine,simplifycfg)";

static void optimise(LLVMModuleRef mod, LLVMTargetMachineRef tm, int opt) {
  if (opt <= 0)
    return;
  /* -O3: LLVM's own pipeline, loop unrolling included. */
  const char *pipeline = opt >= 3 ? "default<O3>" : kernel_pipeline;
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMErrorRef err = LLVMRunPasses(mod, pipeline, tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (err) {
    char *msg = LLVMGetErrorMessage(err);
    ir_die(nowhere, "codegen: the LLVM pass pipeline failed: %s", msg);
  }
}

/* ---- 4. files ---- */

/* Writes the module as `kind` (not CG_EXE) to `file`, "-" meaning stdout. */
static bool write_module(LLVMModuleRef mod, LLVMTargetMachineRef tm, CgEmit kind, const char *file) {
  char *err = NULL;
  if (strcmp(file, "-") == 0) {
    if (kind == CG_LLVM) {
      char *text = LLVMPrintModuleToString(mod);
      fputs(text, stdout);
      LLVMDisposeMessage(text);
      return fflush(stdout) == 0;
    }
    LLVMMemoryBufferRef mb;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, kind == CG_ASM ? LLVMAssemblyFile : LLVMObjectFile, &err,
                                            &mb)) {
      ir_error(nowhere, "cannot generate code: %s", err);
      LLVMDisposeMessage(err);
      return false;
    }
    fwrite(LLVMGetBufferStart(mb), 1, LLVMGetBufferSize(mb), stdout);
    LLVMDisposeMemoryBuffer(mb);
    return fflush(stdout) == 0;
  }
  bool failed = kind == CG_LLVM ? LLVMPrintModuleToFile(mod, file, &err)
                                : LLVMTargetMachineEmitToFile(tm, mod, (char *)file,
                                                              kind == CG_ASM ? LLVMAssemblyFile : LLVMObjectFile, &err);
  if (failed) {
    ir_error(nowhere, "cannot write %s: %s", file, err ? err : "unknown error");
    LLVMDisposeMessage(err);
    unlink(file);
    return false;
  }
  return true;
}

static bool publish(const char *tmp, const char *path) {
  if (rename(tmp, path) != 0) {
    ir_error(nowhere, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return false;
  }
  return true;
}

bool cg_run(char **argv) {
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
  if (rc != 0) {
    ir_error(nowhere, "cannot run '%s': %s", argv[0], strerror(rc));
    return false;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      ir_error(nowhere, "waiting for '%s': %s", argv[0], strerror(errno));
      return false;
    }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ir_error(nowhere, "'%s' failed: it exited with status %d", argv[0],
             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return false;
  }
  return true;
}

/* The runtime's directories, best first: ../lib beside this executable
 * (NULL when it cannot be found), then the compiled-in build tree's lib/. */
static void runtime_dirs(const char *dirs[2]) {
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 8); /* room for /../lib */
  char *slash = len > 0 ? (self[len] = 0, strrchr(self, '/')) : NULL;
  char *lib = NULL;
  if (slash) {
    strcpy(slash, "/../lib");
    lib = realpath(self, NULL);
  }
  dirs[0] = lib ? ir_strdup(lib) : NULL;
  free(lib);
  dirs[1] = TENSORC_RT_LIB_DIR;
}

bool cg_dist_available(void) { return TENSORC_MPI_LIBS[0] != 0; }

/* --dist=mpi: libtensorc_rt_mpi (its main, MPI's transport) before the
 * runtime it calls into, and MPI's libraries after both. */
static int link_dist(char **argv, int n, const char *dist) {
  const char *dirs[2];
  runtime_dirs(dirs);
  for (int i = 0; i < 2; i++)
    if (dirs[i] && dirs[i][0] && access(ir_sprintf("%s/libtensorc_rt_mpi.a", dirs[i]), R_OK) == 0) {
      argv[n++] = ir_sprintf("%s/libtensorc_rt_mpi.a", dirs[i]);
      return n;
    }
  argv[n++] = "-ltensorc_rt_mpi";
  return n;
}

static bool link_exe(const char *obj, const char *extra_obj, const char *out, bool shared, const char *dist) {
  char *argv[64];
  int n = 0;
  argv[n++] = TENSORC_CC;
  if (TENSORC_LINKER_FLAG[0]) /* gold, when the build found it (codegen/CMakeLists.txt) */
    argv[n++] = TENSORC_LINKER_FLAG;
  if (shared)
    argv[n++] = "-shared";
  argv[n++] = (char *)obj;
  if (extra_obj) /* the emulated kernels (cuda_build.c) */
    argv[n++] = (char *)extra_obj;
  argv[n++] = "-o";
  argv[n++] = (char *)out;
  if (dist)
    n = link_dist(argv, n, dist);
  const char *dirs[2], *dir = NULL;
  runtime_dirs(dirs);
  for (int i = 0; i < 2 && !dir; i++) /* the static runtime by full path */
    if (dirs[i] && dirs[i][0] && access(ir_sprintf("%s/libtensorc_rt.a", dirs[i]), R_OK) == 0)
      argv[n++] = ir_sprintf("%s/libtensorc_rt.a", dir = dirs[i]);
  for (int i = 0; i < 2 && !dir; i++) /* else the shared one, with an rpath */
    if (dirs[i] && dirs[i][0] && access(ir_sprintf("%s/libtensorc_rt.so", dirs[i]), R_OK) == 0) {
      dir = dirs[i];
      argv[n++] = ir_sprintf("-L%s", dir);
      argv[n++] = ir_sprintf("-Wl,-rpath,%s", dir);
      argv[n++] = "-ltensorc_rt";
    }
  if (!dir) /* else wherever cc finds it */
    argv[n++] = "-ltensorc_rt";
  /* the BLAS (cmake/blas.cmake): the system's by name, or scipy-openblas's
   * library, which lives beside the runtime */
  if (TENSORC_BLAS_BESIDE_RT) {
    const char *blas_dir = dir ? dir : TENSORC_RT_LIB_DIR;
    argv[n++] = ir_sprintf("-L%s", blas_dir);
    argv[n++] = ir_sprintf("-Wl,-rpath,%s", blas_dir);
  }
  argv[n++] = "-l" TENSORC_BLAS_LIBNAME;
  argv[n++] = "-lm";
  argv[n++] = "-ldl"; /* the runtime dlopens libcuda and libcublas */
  char *mpi = ir_strdup(dist ? TENSORC_MPI_LIBS : "");
  for (char *w = strtok(mpi, " "); w && n < 56; w = strtok(NULL, " "))
    argv[n++] = w;
  /* extra flags: words separated by spaces */
  char *extra = ir_strdup(TENSORC_RT_LDFLAGS);
  for (char *w = strtok(extra, " "); w && n < 62; w = strtok(NULL, " "))
    argv[n++] = w;
  argv[n] = NULL;
  return cg_run(argv);
}

/* An object file holding obj and extra_obj (the emulated kernels): cc -r. */
static bool link_relocatable(const char *obj, const char *extra_obj, const char *out) {
  char *argv[] = {TENSORC_CC, "-r", "-nostdlib", (char *)obj, (char *)extra_obj, "-o", (char *)out, NULL};
  return cg_run(argv);
}

static char *temp_object(void) {
  const char *tmpdir = getenv("TMPDIR");
  char *obj = ir_sprintf("%s/tensorc-XXXXXX.o", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
  int fd = mkstemps(obj, 2);
  if (fd < 0) {
    ir_error(nowhere, "cannot create a temporary file %s: %s", obj, strerror(errno));
    return NULL;
  }
  close(fd);
  return obj;
}

/* An object file with the emulated kernels linked in. */
static bool write_object_with(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *path, const char *extra_obj) {
  char *obj = temp_object();
  if (!obj)
    return false;
  char *tmp = ir_sprintf("%s.tmp%ld", path, (long)getpid());
  double t = seconds_now();
  bool ok = write_module(mod, tm, CG_OBJ, obj);
  stage_done("object", &t);
  ok = ok && link_relocatable(obj, extra_obj, tmp);
  stage_done("link", &t);
  unlink(obj);
  if (!ok) {
    unlink(tmp);
    return false;
  }
  return publish(tmp, path);
}

static bool write_exe(LLVMModuleRef mod, LLVMTargetMachineRef tm, const char *path, bool shared, const char *extra_obj,
                      const char *dist) {
  if (strcmp(path, "-") == 0) {
    ir_error(nowhere, "cannot write %s to standard output", shared ? "a shared library" : "an executable");
    return false;
  }
  char *obj = temp_object();
  if (!obj)
    return false;
  char *tmp = ir_sprintf("%s.tmp%ld", path, (long)getpid());
  double t = seconds_now();
  bool ok = write_module(mod, tm, CG_OBJ, obj);
  stage_done("object", &t);
  ok = ok && link_exe(obj, extra_obj, tmp, shared, dist);
  stage_done("link", &t);
  unlink(obj);
  if (!ok) {
    unlink(tmp);
    return false;
  }
  return publish(tmp, path);
}

static void dump(LLVMModuleRef mod, const char *when) {
  char *text = LLVMPrintModuleToString(mod);
  fprintf(stderr, "// ----- LLVM IR %s -----\n%s", when, text);
  LLVMDisposeMessage(text);
}

static bool emit_llvm(KModule *m, CgEmit kind, const char *path, const CgOptions *o, const CgGpu *gpu,
                      const char *emu_obj) {
  bool has_main = false;
  int opt = o->opt;
  for (int i = 0; i < m->funcs.n; i++)
    has_main |= ((KFunc *)m->funcs.v[i])->is_main;
  if (kind == CG_EXE && !has_main) {
    ir_error(nowhere, "cannot build an executable: the program has no main function");
    return false;
  }
  /* everything but an executable is a library: the C interface */
  IfModule *lib = kind == CG_EXE ? NULL : cg_iface(m, o->prefix ? o->prefix : m->name ? m->name : "tensorc", o->source_text, o->source_len);
  const char *dbg = getenv("TENSORC_DEBUG");
  int debug = dbg ? atoi(dbg) : 0;
  time_stages = o->time_stages;
  double t = seconds_now();

  char *triple;
  LLVMTargetMachineRef tm = host_machine(opt, &triple);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
  LLVMContextRef c = LLVMContextCreate();
  if (gpu && lib)
    lib->device_args = true; /* kDLCUDA inputs in place: the header says so */
  /* --device=auto: the CPU build, in the same module */
  CgTwin twin = {o->cpu_twin, NULL};
  if (gpu && o->cpu_twin && lib) {
    twin.lib = cg_iface(o->cpu_twin, lib->prefix, o->source_text, o->source_len);
    lib->device = "auto"; /* the header says so */
  }
  LLVMModuleRef mod =
      cg_cpu_module(c, m, td, triple, lib, kind == CG_SHARED, gpu, gpu && o->cpu_twin ? &twin : NULL,
                    o->debug_info ? (o->source ? o->source : "program.tc") : NULL);
  bool ok = mod != NULL;
  if (ok) {
    char *err = NULL;
    if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &err)) {
      dump(mod, "that failed verification");
      ir_die(nowhere, "codegen: invalid LLVM module: %s", err);
    }
    LLVMDisposeMessage(err);
    if (debug >= 3 || o->dump)
      dump(mod, "generated");
    stage_done("llvm-ir", &t);
    optimise(mod, tm, opt);
    stage_done("llvm-opt", &t);
    if (debug >= 4 && opt > 0)
      dump(mod, "optimised");
    if (kind == CG_EXE || kind == CG_SHARED) {
      ok = write_exe(mod, tm, path, kind == CG_SHARED, emu_obj, kind == CG_EXE ? m->dist : NULL); /* times "object" and "link" */
    } else if (kind == CG_OBJ && emu_obj && strcmp(path, "-") != 0) {
      ok = write_object_with(mod, tm, path, emu_obj);
    } else if (strcmp(path, "-") == 0) {
      ok = write_module(mod, tm, kind, path);
      stage_done("write", &t);
    } else {
      char *tmp = ir_sprintf("%s.tmp%ld", path, (long)getpid());
      ok = write_module(mod, tm, kind, tmp) && publish(tmp, path);
      stage_done("write", &t);
    }
    LLVMDisposeModule(mod);
  }
  if (ok && o->header)
    ok = cg_write_header(lib, m, o->header, o->source ? o->source : m->name);
  LLVMContextDispose(c);
  LLVMDisposeTargetData(td);
  LLVMDisposeTargetMachine(tm);
  LLVMDisposeMessage(triple);
  return ok;
}

bool cg_emit(KModule *m, CgEmit kind, const char *path, const CgOptions *o) {
  if (!m->target)
    ir_die(nowhere, "codegen: a module without a target");
  if (kind == CG_CUDA || kind == CG_PTX)
    return cg_emit_cuda(m, kind, path, o);
  if (m->target->kind != TGT_CUDA)
    return emit_llvm(m, kind, path, o, NULL, NULL);
  CgGpu gpu;
  char *emu_obj = NULL;
  time_stages = o->time_stages;
  double t = seconds_now();
  bool built = cg_gpu_build(m, o, &gpu, &emu_obj);
  stage_done("gpu (nvrtc)", &t);
  bool ok = built && emit_llvm(m, kind, path, o, &gpu, emu_obj);
  if (emu_obj)
    unlink(emu_obj);
  return ok;
}
