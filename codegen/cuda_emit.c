/* codegen/cuda_emit.c - --emit=cuda and --emit=ptx: a module's CUDA C, or
 * its PTX through NVRTC, to a file.
 *
 * --emit=cuda writes cg_cuda_module's translation unit as it is (the text
 * NVRTC compiles and the emulator builds).  --emit=ptx compiles it with
 * cg_nvrtc_compile for the target's architecture (--gpu-arch, checked
 * here against what this NVRTC accepts: a usage error listing them) and
 * writes the PTX.  The CUDA C is the compiler's own output, so NVRTC
 * rejecting it is a compiler bug: NVRTC's message and exit code 3, the
 * code of every internal error (ir_die).  As every output of cg_emit,
 * files are written to a temporary name and renamed ("-" is stdout).
 */
#include "cuda_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const Loc nowhere = {0};

/* Writes len bytes of text to path through a temporary file. */
static bool write_text(const char *path, const char *text, size_t len) {
  if (strcmp(path, "-") == 0) {
    fwrite(text, 1, len, stdout);
    if (fflush(stdout) != 0) {
      ir_error(nowhere, "cannot write to standard output: %s", strerror(errno));
      return false;
    }
    return true;
  }
  char *tmp = ir_sprintf("%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    ir_error(nowhere, "cannot write %s: %s", path, strerror(errno));
    return false;
  }
  bool ok = fwrite(text, 1, len, f) == len;
  ok &= fclose(f) == 0;
  if (!ok || rename(tmp, path) != 0) {
    ir_error(nowhere, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return false;
  }
  return true;
}

/* The file name NVRTC's messages use: the output's stem, or the module's. */
static const char *source_name(KModule *m, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  if (strcmp(path, "-") == 0 || !base[0])
    return ir_sprintf("%s.cu", m->name ? m->name : "module");
  size_t n = strlen(base);
  if (n > 4 && strcmp(base + n - 4, ".ptx") == 0)
    n -= 4;
  return ir_sprintf("%.*s.cu", (int)n, base);
}

bool cg_emit_cuda(KModule *m, CgEmit kind, const char *path, const CgOptions *o) {
  if (kind != CG_CUDA && kind != CG_PTX)
    ir_die(nowhere, "cuda: cg_emit_cuda asked for output kind %d", (int)kind);
  const char *arch = m->target->gpu_arch ? m->target->gpu_arch : CG_DEFAULT_GPU_ARCH;
  /* a usage error (exit 2), checked before any work */
  if (kind == CG_PTX && !cg_nvrtc_available()) {
    fprintf(stderr, "tensorc: error: --emit=ptx needs NVRTC, and this tensorc was built without CUDA (NVRTC not "
                    "found at build time)\n");
    return false;
  }
  if (cg_nvrtc_available() && !cg_nvrtc_arch_ok(arch)) {
    fprintf(stderr, "tensorc: error: --gpu-arch=%s: NVRTC %s cannot compile for it; it can for: %s\n", arch,
            cg_nvrtc_version(), cg_nvrtc_archs());
    return false;
  }
  CgCudaModule *cm = cg_cuda_module(m);
  const char *dbg = getenv("TENSORC_DEBUG");
  if (o->dump || (dbg && atoi(dbg) >= 3))
    fprintf(stderr, "// ----- CUDA C generated -----\n%s", cm->source);
  if (kind == CG_CUDA)
    return write_text(path, cm->source, strlen(cm->source));
  CgGpuImage img;
  char *err = NULL;
  if (!cg_nvrtc_compile(cm->source, source_name(m, path), arch, false, &img, &err)) {
    /* cg_nvrtc_compile's message starts "internal error: NVRTC rejected ..." */
    fprintf(stderr, "tensorc: %s\n", err ? err : "internal error: NVRTC failed without a message");
    free(err);
    fflush(stderr);
    exit(3);
  }
  bool ok = write_text(path, img.ptx, img.ptx_len);
  cg_gpu_image_free(&img);
  return ok;
}
