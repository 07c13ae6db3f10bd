/* tests/codegen/cuda/nvrtc_test.c - the NVRTC wrapper (codegen/cuda_nvrtc.c).
 *
 * Three commands, each run by a lit test of this folder:
 *
 *   nvrtc_test api            what this tensorc knows of NVRTC: version and
 *                             archs, cg_nvrtc_arch_ok on good and bad names;
 *                             without NVRTC, that every entry point says so
 *   nvrtc_test module DIR     compiles a hand-written module in the style of
 *                             docs/gpu.md (an elementwise grid-stride kernel,
 *                             a row reduction through __shfl_xor_sync and
 *                             __shared__) for sm_75, sm_80 and sm_90, checks the
 *                             PTX and the cubin, and writes both to DIR
 *                             (tc_module.sm_NN.ptx / .cubin) for ptxas
 *   nvrtc_test compile FILE ARCH [OUT]
 *                             compiles FILE and writes its PTX to OUT; on
 *                             failure prints cg_nvrtc_compile's message
 *
 * The module is the wrapper's own test, independent of the emitter: it
 * defines TC_KERNEL itself rather than using the prelude
 * (codegen/cuda_prelude.cuh).  Checks print "FAIL: ..." and make the
 * exit status 1; the output that lit's FileCheck reads says what was seen.
 */
#include "codegen/codegen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                                     \
  do {                                                                                                       \
    if (!(cond)) {                                                                                           \
      printf("FAIL: %s:%d: %s: ", __FILE__, __LINE__, #cond);                                                \
      printf(__VA_ARGS__);                                                                                   \
      printf("\n");                                                                                          \
      failures++;                                                                                            \
    }                                                                                                        \
  } while (0)

/* Two kernels as the CUDA backend will write them.  sq() has no
 * __device__: -default-device makes it one.  k0 computes a*x+b, which
 * --fmad=false keeps as a rounded multiply and a rounded add. */
static const char module_src[] =
    "#define TC_KERNEL extern \"C\" __global__\n"
    "\n"
    "static float sq(float v) { return v * v; }\n"
    "\n"
    "// launch: grid = min(ceil(n / 256), 1024), block = 256\n"
    "TC_KERNEL void k0_axpb(float *__restrict__ y, const float *__restrict__ a,\n"
    "                       const float *__restrict__ x, const float *__restrict__ b, long long n) {\n"
    "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;\n"
    "       i += (long long)gridDim.x * blockDim.x)\n"
    "    y[i] = a[i] * x[i] + b[i];\n"
    "}\n"
    "\n"
    "// launch: grid = min(rows, 1024), block = 256\n"
    "TC_KERNEL void k1_sumsq_rows(float *__restrict__ out, const float *__restrict__ x,\n"
    "                             long long rows, long long cols) {\n"
    "  __shared__ float red[32];\n"
    "  int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = (blockDim.x + 31) / 32;\n"
    "  for (long long r = blockIdx.x; r < rows; r += gridDim.x) {\n"
    "    float acc = 0.0f;\n"
    "    for (long long c = threadIdx.x; c < cols; c += blockDim.x)\n"
    "      acc += sq(x[r * cols + c]);\n"
    "    for (int o = 16; o > 0; o /= 2)\n"
    "      acc += __shfl_xor_sync(0xffffffffu, acc, o);\n"
    "    if (lane == 0)\n"
    "      red[warp] = acc;\n"
    "    __syncthreads();\n"
    "    if (warp == 0) {\n"
    "      acc = lane < warps ? red[lane] : 0.0f;\n"
    "      for (int o = 16; o > 0; o /= 2)\n"
    "        acc += __shfl_xor_sync(0xffffffffu, acc, o);\n"
    "      if (lane == 0)\n"
    "        out[r] = acc;\n"
    "    }\n"
    "    __syncthreads();\n"
    "  }\n"
    "}\n";

static const char *const kernels[] = {"k0_axpb", "k1_sumsq_rows"};

static bool write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(data, 1, len, f) == len;
  if (f && fclose(f) != 0)
    ok = false;
  CHECK(ok, "cannot write %s", path);
  return ok;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0, got;
  char *s = malloc(cap);
  while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (n + 1 == cap)
      s = realloc(s, cap *= 2);
  }
  fclose(f);
  s[n] = '\0';
  return s;
}

/* `.entry NAME(` with NAME unmangled: TC_KERNEL's extern "C" worked. */
static bool has_entry(const char *ptx, const char *name) {
  char want[128];
  snprintf(want, sizeof want, ".entry %s(", name);
  return strstr(ptx, want) != NULL;
}

/* ---- api ---- */

static int cmd_api(void) {
  const char *archs = cg_nvrtc_archs();
  printf("available: %s\n", cg_nvrtc_available() ? "yes" : "no");
  printf("version: %s\n", cg_nvrtc_version() ? cg_nvrtc_version() : "(none)");
  printf("archs: %s\n", archs);
  /* never a prefix or another spelling */
  const char *bad[] = {"sm_8", "sm_800", "compute_80", "80", "sm_80 ", "", NULL};
  for (int i = 0; i < (int)(sizeof bad / sizeof *bad); i++)
    CHECK(!cg_nvrtc_arch_ok(bad[i]), "'%s' accepted", bad[i] ? bad[i] : "(null)");

  CgGpuImage img;
  char *err = NULL;
  if (cg_nvrtc_available()) {
    int major = 0, minor = 0;
    CHECK(sscanf(cg_nvrtc_version(), "%d.%d", &major, &minor) == 2 && major >= 12, "version '%s'",
          cg_nvrtc_version());
    printf("default arch %s: %s\n", CG_DEFAULT_GPU_ARCH, cg_nvrtc_arch_ok(CG_DEFAULT_GPU_ARCH) ? "ok" : "no");
    /* every listed arch is accepted, and nothing else of the form sm_NN */
    for (int a = 10; a < 200; a++) {
      char name[16], spaced[20];
      snprintf(name, sizeof name, "sm_%d", a);
      snprintf(spaced, sizeof spaced, " %s ", name);
      char listed[512];
      snprintf(listed, sizeof listed, " %s ", archs);
      CHECK(cg_nvrtc_arch_ok(name) == (strstr(listed, spaced) != NULL), "%s", name);
    }
    /* an arch NVRTC lacks is the caller's bug, and says what there is */
    CHECK(!cg_nvrtc_compile(module_src, "m.cu", "sm_70", false, &img, &err), "sm_70 compiled");
    printf("sm_70: %s\n", err ? err : "(no message)");
    CHECK(img.ptx == NULL && img.cubin == NULL, "image left filled");
  } else {
    CHECK(!cg_nvrtc_compile(module_src, "m.cu", CG_DEFAULT_GPU_ARCH, false, &img, &err), "compiled");
    printf("compile: %s\n", err ? err : "(no message)");
    CHECK(img.ptx == NULL && img.ptx_len == 0 && img.cubin == NULL && img.cubin_len == 0, "image filled");
  }
  free(err);
  cg_gpu_image_free(&img);
  return failures != 0;
}

/* ---- module ---- */

/* One arch: compile, check the PTX and the cubin, write both. */
static void module_for(const char *dir, const char *arch, bool lineinfo) {
  CgGpuImage img;
  char *err = NULL;
  if (!cg_nvrtc_compile(module_src, "tc_module.cu", arch, lineinfo, &img, &err)) {
    CHECK(false, "%s: %s", arch, err);
    free(err);
    return;
  }
  CHECK(err == NULL, "error set on success");
  CHECK(strcmp(img.arch, arch) == 0, "image arch %s", img.arch);
  CHECK(strlen(img.ptx) == img.ptx_len, "ptx_len %zu, strlen %zu", img.ptx_len, strlen(img.ptx));
  int entries = 0;
  for (int i = 0; i < 2; i++) {
    CHECK(has_entry(img.ptx, kernels[i]), "%s: no .entry %s", arch, kernels[i]);
    entries += has_entry(img.ptx, kernels[i]);
  }
  /* the PTX is for this arch: JIT-able from it upwards */
  char target[32];
  snprintf(target, sizeof target, ".target %s\n", arch);
  CHECK(strstr(img.ptx, target) != NULL, "%s: no '.target %s'", arch, arch);
  /* --fmad=false: a*x+b is mul.rn then add.rn, and nothing is an fma */
  CHECK(strstr(img.ptx, "mul.rn.f32") && !strstr(img.ptx, "fma."), "%s: a contracted multiply-add", arch);
  /* -lineinfo: .loc directives exactly when asked for */
  CHECK((strstr(img.ptx, "\t.loc\t") != NULL) == lineinfo, "%s: .loc %s", arch,
        lineinfo ? "missing" : "without -lineinfo");
  /* an ELF file, for NVIDIA's GPUs (e_machine 190, EM_CUDA) */
  const unsigned char *elf = img.cubin;
  CHECK(img.cubin_len > 64 && memcmp(elf, "\177ELF", 4) == 0, "%s: cubin is no ELF", arch);
  CHECK(img.cubin_len > 64 && elf[18] == 190 && elf[19] == 0, "%s: cubin e_machine %d", arch,
        elf[18] | elf[19] << 8);

  char path[1024];
  snprintf(path, sizeof path, "%s/tc_module.%s.ptx", dir, arch);
  write_file(path, img.ptx, img.ptx_len);
  snprintf(path, sizeof path, "%s/tc_module.%s.cubin", dir, arch);
  write_file(path, img.cubin, img.cubin_len);
  printf("%s: %d entries, .target %s, %s, cubin ELF\n", arch, entries, arch,
         lineinfo ? "lineinfo" : "no lineinfo");
  cg_gpu_image_free(&img);
  CHECK(img.ptx == NULL && img.cubin == NULL && img.ptx_len == 0, "image not cleared");
}

static int cmd_module(const char *dir) {
  module_for(dir, "sm_75", false);
  module_for(dir, "sm_80", true);
  module_for(dir, "sm_90", false);
  return failures != 0;
}

/* ---- compile ---- */

static int cmd_compile(const char *file, const char *arch, const char *out) {
  char *src = read_file(file);
  if (!src) {
    fprintf(stderr, "nvrtc_test: cannot read %s\n", file);
    return 2;
  }
  const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
  CgGpuImage img;
  char *err = NULL;
  bool ok = cg_nvrtc_compile(src, name, arch, false, &img, &err);
  if (!ok)
    fprintf(stderr, "%s\n", err);
  else if (out)
    ok = write_file(out, img.ptx, img.ptx_len);
  free(err);
  free(src);
  cg_gpu_image_free(&img);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "api") == 0)
    return cmd_api();
  if (argc == 3 && strcmp(argv[1], "module") == 0)
    return cmd_module(argv[2]);
  if ((argc == 4 || argc == 5) && strcmp(argv[1], "compile") == 0)
    return cmd_compile(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
  fprintf(stderr, "usage: nvrtc_test api | module DIR | compile FILE ARCH [OUT.ptx]\n");
  return 2;
}
