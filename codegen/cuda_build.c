/* codegen/cuda_build.c - the GPU half of a CUDA target's output.
 *
 * An executable, object file or shared library compiled for
 * --device=cuda holds, besides the LLVM host code:
 *   1. the module's CUDA C (cuda_kernel.c) compiled by NVRTC for the
 *      target's arch: the PTX (for newer GPUs' JIT) and the cubin, both
 *      embedded in the tc_gpu_image the host code points at (cuda_host.c);
 *   2. with --gpu-emulate, the same CUDA C compiled by the host C compiler
 *      with the emulator's built-ins (runtime/emu/tc_emu.h) and -DTC_EMULATE
 *      into an object linked beside the host code: its table of kernel
 *      trampolines is the image's emu_kernels, and the runtime then runs
 *      the kernels in the emulator.  Every symbol of that object but the
 *      table is made local (objcopy), and the table is named after the
 *      module's C prefix, so two models link into one program.
 * The host compiler builds the emulated kernels with -ffp-contract=off,
 * as NVRTC builds with --fmad=false: a*b+c rounds twice everywhere.
 */
#include "cg_internal.h"

#include "tensorc/runtime.h" /* TC_GPU_* */

#include "cg_cuda.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TENSORC_CC
#define TENSORC_CC "cc"
#endif
#ifndef TENSORC_RT_LDFLAGS
#define TENSORC_RT_LDFLAGS ""
#endif
#ifndef TENSORC_EMU_INCLUDE
#define TENSORC_EMU_INCLUDE ""
#endif

static const Loc nowhere = {0};

/* tc_emu.h: installed beside the compiler (share/tensorc/emu), else the
 * source tree's. */
static const char *emu_header(void) {
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 64);
  char *slash = len > 0 ? (self[len] = 0, strrchr(self, '/')) : NULL;
  if (slash) {
    strcpy(slash, "/../share/tensorc/emu/tc_emu.h");
    if (access(self, R_OK) == 0)
      return ir_strdup(self);
  }
  return ir_sprintf("%s/tc_emu.h", TENSORC_EMU_INCLUDE);
}

static char *temp_file(const char *suffix) {
  const char *tmpdir = getenv("TMPDIR");
  char *path = ir_sprintf("%s/tensorc-XXXXXX%s", tmpdir && tmpdir[0] ? tmpdir : "/tmp", suffix);
  int fd = mkstemps(path, (int)strlen(suffix));
  if (fd < 0) {
    ir_error(nowhere, "cannot create a temporary file %s: %s", path, strerror(errno));
    return NULL;
  }
  close(fd);
  return path;
}

/* 2. the emulated kernels: an object whose one global symbol is `table`. */
static char *emulated_object(const char *source, const char *table) {
  char *src = temp_file(".c"), *obj = src ? temp_file(".o") : NULL;
  if (!obj) {
    if (src)
      unlink(src);
    return NULL;
  }
  FILE *f = fopen(src, "w");
  bool ok = f && fputs(source, f) >= 0;
  ok &= f && fclose(f) == 0;
  if (!ok)
    ir_error(nowhere, "cannot write %s", src);
  char *argv[32];
  int n = 0;
  argv[n++] = TENSORC_CC;
  argv[n++] = "-std=c11";
  argv[n++] = "-O1";
  argv[n++] = "-fPIC";
  argv[n++] = "-ffp-contract=off";
  argv[n++] = "-w";
  argv[n++] = "-DTC_EMULATE";
  argv[n++] = ir_sprintf("-Dtc_emu_kernels=%s", table);
  argv[n++] = "-include";
  argv[n++] = (char *)emu_header();
  char *extra = ir_strdup(TENSORC_RT_LDFLAGS); /* a sanitized runtime: sanitized kernels */
  for (char *w = strtok(extra, " "); w && n < 24; w = strtok(NULL, " "))
    argv[n++] = w;
  argv[n++] = "-c";
  argv[n++] = src;
  argv[n++] = "-o";
  argv[n++] = obj;
  argv[n] = NULL;
  ok = ok && cg_run(argv);
  char *oc[] = {"objcopy", ir_sprintf("--keep-global-symbol=%s", table), obj, NULL};
  ok = ok && cg_run(oc);
  unlink(src);
  if (!ok) {
    unlink(obj);
    return NULL;
  }
  return obj;
}

bool cg_gpu_build(KModule *m, const CgOptions *o, CgGpu *gpu, char **emu_obj) {
  const char *arch = m->target->gpu_arch;
  *emu_obj = NULL;
  if (!cg_nvrtc_available()) {
    fprintf(stderr, "tensorc: error: this tensorc was built without CUDA (NVRTC): it cannot compile for "
                    "--device=cuda\n");
    return false;
  }
  if (!cg_nvrtc_arch_ok(arch)) {
    fprintf(stderr, "tensorc: error: --gpu-arch=%s: NVRTC %s compiles for %s\n", arch, cg_nvrtc_version(),
            cg_nvrtc_archs());
    return false;
  }
  CgCudaModule *cm = cg_cuda_module(m);
  CgGpuImage img;
  char *err = NULL;
  if (!cg_nvrtc_compile(cm->source, ir_sprintf("%s.cu", m->name ? m->name : "tensorc"), arch, false, &img, &err))
    ir_die(nowhere, "%s", err); /* the generated CUDA C is the compiler's fault */
  /* the image lives as long as the module; the arena owns copies */
  *gpu = (CgGpu){.cm = cm, .arch = arch, .ptx = ir_strndup(img.ptx, img.ptx_len), .cubin_len = img.cubin_len,
                  /* placement reads every argument through copy.arg (tcrt_dev_arg) */
                  .flags = TC_GPU_DEVICE_ARGS | (o->allow_tf32 ? TC_GPU_ALLOW_TF32 : 0)};
  void *cubin = ir_alloc(img.cubin_len + 1);
  memcpy(cubin, img.cubin, img.cubin_len);
  gpu->cubin = cubin;
  cg_gpu_image_free(&img);
  if (m->target->emulate) {
    gpu->emu_table = ir_sprintf("tc_emu_kernels_%s", o->prefix ? o->prefix : "tensorc");
    if (!(*emu_obj = emulated_object(cm->source, gpu->emu_table)))
      return false;
  }
  return true;
}
