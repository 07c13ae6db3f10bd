/* codegen/codegen.h - from kernel IR to machine code.
 *
 * One entry, cg_emit, for every target and output kind.  The host code
 * (entry points, runtime calls, the memory plan) is LLVM for every target
 * (cpu_host.c); the kernels are LLVM loop nests on the CPU (cpu_kernel.c,
 * cpu_parallel.c) and CUDA C on the GPU.  emit.c writes LLVM IR text,
 * assembly, an object file, or an executable linked against
 * libtensorc_rt by the system C compiler; cuda_nvrtc.c compiles the
 * generated CUDA C to PTX and a cubin with NVRTC (docs/gpu.md).
 */
#ifndef TENSORC_CODEGEN_H
#define TENSORC_CODEGEN_H

#include "../ir/kernel.h"

typedef enum CgEmit { CG_LLVM, CG_ASM, CG_OBJ, CG_EXE, CG_SHARED, CG_CUDA, CG_PTX } CgEmit;

typedef struct CgOptions {
  int opt;              /* -O0 .. -O3 */
  const char *prefix;   /* of the C interface's names (NULL: the module's name) */
  const char *source_text; /* the program's text, hashed into the model hash */
  size_t source_len;
  const char *header;   /* also write the C header here (tensorc -c), or NULL */
  const char *source;   /* the .tc file, named in the header */
  bool dump;            /* --dump-after=codegen: the generated LLVM IR (or CUDA C) on stderr */
  bool allow_tf32;      /* --allow-tf32: the image's TC_GPU_ALLOW_TF32 */
  bool debug_info;      /* -g: DWARF with the .tc file and lines (cpu_debug.c) */
  bool time_stages; /* --time-passes: codegen's own stages (LLVM IR, optimisation, object, link) on stderr */
  /* --device=auto: the same program lowered for the CPU, compiled beside
   * the GPU code (tc_program.cpu, tc_module.cpu); NULL otherwise */
  KModule *cpu_twin;
} CgOptions;

/* Compiles the module for its target (m->target; the module has been
 * through the schedule, placement and legalize passes) and writes `kind`
 * to `path` (through a temporary file renamed at the end).  An executable
 * gets the program's main(); every other kind the C interface of SPEC §4
 * (the exported functions, create/destroy/error/param).  Reports the
 * user's errors with ir_error and returns false; returns false with a
 * message on stderr and no ir_error for what this build cannot make. */
bool cg_emit(KModule *m, CgEmit kind, const char *path, const CgOptions *o);
bool cg_dist_available(void); /* this build has the MPI runtime (--dist=mpi, docs/distributed.md) */
bool cg_emit_cuda(KModule *m, CgEmit kind, const char *path, const CgOptions *o); /* CG_CUDA, CG_PTX (cuda_emit.c) */

/* ===== cuda_emit.c: --emit=cuda and --emit=ptx ===== */

/* Writes the module's CUDA C (CG_CUDA) or its PTX for m->target->gpu_arch
 * (CG_PTX, through NVRTC) to path.  An arch NVRTC does not accept (or no
 * NVRTC for PTX) is a usage error on stderr (false, no ir_error); NVRTC
 * rejecting the generated code is an internal error (exit 3). */
bool cg_emit_cuda(KModule *m, CgEmit kind, const char *path, const CgOptions *o);

/* ===== cuda_nvrtc.c: CUDA C to PTX and cubin through NVRTC ===== */

/* The GPU architecture compiled for when none is asked for (Ampere). */
#define CG_DEFAULT_GPU_ARCH "sm_80"

/* One module compiled for one architecture. */
typedef struct CgGpuImage {
  const char *arch;   /* "sm_80" (static storage) */
  char *ptx;          /* NUL-terminated PTX text for compute_NN, JIT-able by newer drivers */
  size_t ptx_len;     /* without the NUL */
  void *cubin;        /* the ELF cubin for sm_NN */
  size_t cubin_len;
} CgGpuImage;

bool cg_nvrtc_available(void);          /* this tensorc was built with NVRTC */
const char *cg_nvrtc_version(void);     /* NVRTC's version, "13.0"; NULL without NVRTC */
/* The archs this NVRTC accepts (nvrtcGetSupportedArchs), as a static string
 * "sm_75 sm_80 ..."; "" without NVRTC. */
const char *cg_nvrtc_archs(void);
bool cg_nvrtc_arch_ok(const char *arch); /* "sm_NN" is one of cg_nvrtc_archs() */

/* Compiles `source` (called `name`, e.g. "digits.cu", in messages) for
 * `arch` with the options tensorc always uses: -std=c++17, --fmad=false (a*b+c
 * is never contracted into an fma, so float results round as on the CPU),
 * -default-device, and -lineinfo when `lineinfo`.  Fills *out with the PTX
 * and the cubin (malloc'ed; cg_gpu_image_free frees them).  On failure
 * returns false and sets *error to a malloc'ed message: for code NVRTC
 * rejects, "internal error: NVRTC rejected the generated CUDA C ..." with
 * NVRTC's log and each line the log names quoted from `source`.  One call
 * runs at a time (calls from several threads wait for each other). */
bool cg_nvrtc_compile(const char *source, const char *name, const char *arch, bool lineinfo,
                      CgGpuImage *out, char **error);
void cg_gpu_image_free(CgGpuImage *img);

#endif
