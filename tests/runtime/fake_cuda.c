/* tests/runtime/fake_cuda.c - a stand-in for libcuda.so.1, for testing the
 * runtime's CUDA driver backend (runtime/cuda_driver.c) without a GPU.
 *
 * Built as build/fake_cuda/libcuda.so.1; a test points TENSORC_LIBCUDA at
 * it.  FAKE_CUDA picks how it behaves:
 *   (unset)    one device, "Fake GPU", compute capability FAKE_CUDA_CC
 *              (default 80); device memory is host malloc, copies memcpy;
 *              launches fail with CUDA_ERROR_NOT_SUPPORTED (this fake runs
 *              no kernels);
 *   nodevice   cuInit answers CUDA_ERROR_NO_DEVICE;
 *   nodevices  cuInit succeeds, cuDeviceGetCount says 0;
 *   oldptx     loading PTX fails with CUDA_ERROR_UNSUPPORTED_PTX_VERSION
 *              (the driver says it is CUDA 12.2);
 *   jitfail    loading PTX fails with CUDA_ERROR_INVALID_PTX and a JIT log;
 *   oom        cuMemAlloc fails with CUDA_ERROR_OUT_OF_MEMORY; cuMemGetInfo
 *              says 1000 bytes free of 4096.
 * FAKE_CUDA_MEM=BYTES gives the device that much memory: cuMemAlloc fails
 * with CUDA_ERROR_OUT_OF_MEMORY past it, cuMemGetInfo says what is left.
 * FAKE_CUDA_LAUNCH=skip makes launches succeed without running anything
 * (the results are then zeros or stale: for tests of memory, not numbers).
 * FAKE_CUDA_BLOCK=N is the block size cuOccupancyMaxPotentialBlockSize
 * answers (default 768).
 * FAKE_CUDA_VERBOSE=1 prints on stderr what was loaded (cubin or PTX), each
 * launch's kernel, grid and block, each occupancy query and each pinned
 * host allocation.
 * The declarations are written out, as in the runtime, not taken from
 * cuda.h: the point is to check the runtime's against the real header's
 * values, which the numbers below are (cuda.h, CUDA 13).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream, *CUevent;

enum {
  SUCCESS = 0,
  ERROR_INVALID_VALUE = 1,
  ERROR_OUT_OF_MEMORY = 2,
  ERROR_NO_DEVICE = 100,
  ERROR_INVALID_DEVICE = 101,
  ERROR_INVALID_PTX = 218,
  ERROR_UNSUPPORTED_PTX_VERSION = 222,
  ERROR_NOT_FOUND = 500,
  ERROR_NOT_SUPPORTED = 801,
};

static int mode_is(const char *m) {
  const char *s = getenv("FAKE_CUDA");
  return s && strcmp(s, m) == 0;
}

static int handles; /* the fake handles point here */

CUresult cuInit(unsigned flags) { return flags ? ERROR_INVALID_VALUE : mode_is("nodevice") ? ERROR_NO_DEVICE : SUCCESS; }

CUresult cuDriverGetVersion(int *v) {
  *v = mode_is("oldptx") ? 12020 : 13000;
  return SUCCESS;
}

CUresult cuDeviceGetCount(int *n) {
  *n = mode_is("nodevices") ? 0 : 1;
  return SUCCESS;
}

CUresult cuDeviceGet(CUdevice *d, int ordinal) {
  if (ordinal != 0)
    return ERROR_INVALID_DEVICE;
  *d = 0;
  return SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
  (void)d;
  snprintf(name, (size_t)len, "Fake GPU");
  return SUCCESS;
}

CUresult cuDeviceGetAttribute(int *v, int attr, CUdevice d) {
  (void)d;
  const char *cc = getenv("FAKE_CUDA_CC");
  int ccn = cc ? atoi(cc) : 80;
  switch (attr) {
  case 75: /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR */
    *v = ccn / 10;
    return SUCCESS;
  case 76: /* ..._MINOR */
    *v = ccn % 10;
    return SUCCESS;
  case 36: /* CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, kHz: an H100's */
    *v = 2619000;
    return SUCCESS;
  case 37: /* CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, bits */
    *v = 5120;
    return SUCCESS;
  default:
    return ERROR_INVALID_VALUE;
  }
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) {
  (void)d;
  *c = &handles;
  return SUCCESS;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { return d == 0 ? SUCCESS : ERROR_INVALID_DEVICE; }
CUresult cuCtxSetCurrent(CUcontext c) { return c == &handles ? SUCCESS : ERROR_INVALID_VALUE; }

/* FAKE_CUDA_MEM's bookkeeping: each block starts with its size */
enum { HEADER = 16 };
static size_t mem_used;

static size_t mem_limit(void) {
  const char *s = getenv("FAKE_CUDA_MEM");
  return s && *s ? (size_t)strtoull(s, NULL, 10) : 0;
}

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
  if (mode_is("oom"))
    return ERROR_OUT_OF_MEMORY;
  if (bytes == 0)
    return ERROR_INVALID_VALUE; /* as the real one */
  size_t limit = mem_limit();
  if (limit && bytes > limit - mem_used)
    return ERROR_OUT_OF_MEMORY;
  char *m = calloc(1, HEADER + bytes);
  if (!m)
    return ERROR_OUT_OF_MEMORY;
  memcpy(m, &bytes, sizeof bytes);
  mem_used += bytes;
  *p = (CUdeviceptr)(uintptr_t)(m + HEADER);
  return SUCCESS;
}
CUresult cuMemFree_v2(CUdeviceptr p) {
  if (!p)
    return SUCCESS;
  char *m = (char *)(uintptr_t)p - HEADER;
  size_t bytes;
  memcpy(&bytes, m, sizeof bytes);
  mem_used -= bytes;
  free(m);
  return SUCCESS;
}
/* pinned host memory: ordinary memory here */
CUresult cuMemHostAlloc(void **p, size_t bytes, unsigned flags) {
  if (flags & ~1u) /* CU_MEMHOSTALLOC_PORTABLE only */
    return ERROR_INVALID_VALUE;
  *p = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
  if (getenv("FAKE_CUDA_VERBOSE"))
    fprintf(stderr, "fake cuda: %zu bytes of pinned host memory\n", bytes);
  return *p ? SUCCESS : ERROR_OUT_OF_MEMORY;
}
CUresult cuMemFreeHost(void *p) {
  free(p);
  return SUCCESS;
}
CUresult cuCtxSynchronize(void) { return SUCCESS; }

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) {
  size_t limit = mem_limit();
  *free_bytes = limit ? limit - mem_used : 1000;
  *total = limit ? limit : 4096;
  return SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, CUstream s) {
  (void)s;
  memcpy((void *)(uintptr_t)dst, src, n);
  return SUCCESS;
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, CUstream s) {
  (void)s;
  memcpy(dst, (const void *)(uintptr_t)src, n);
  return SUCCESS;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
  (void)s;
  memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
  return SUCCESS;
}
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, CUstream s) {
  (void)s;
  memset((void *)(uintptr_t)dst, v, n);
  return SUCCESS;
}

/* options: CU_JIT_ERROR_LOG_BUFFER (5) and its size (6) are where the log goes */
CUresult cuModuleLoadDataEx(CUmodule *m, const void *image, unsigned nopts, int *opts, void **values) {
  int is_cubin = memcmp(image, "\x7f" "ELF", 4) == 0;
  if (getenv("FAKE_CUDA_VERBOSE"))
    fprintf(stderr, "fake cuda: loading %s\n", is_cubin ? "the cubin" : "the PTX");
  if (!is_cubin && mode_is("oldptx"))
    return ERROR_UNSUPPORTED_PTX_VERSION;
  if (!is_cubin && mode_is("jitfail")) {
    char *log = NULL;
    size_t size = 0;
    for (unsigned i = 0; i < nopts; i++) {
      if (opts[i] == 5)
        log = values[i];
      if (opts[i] == 6)
        size = (size_t)(uintptr_t)values[i];
    }
    if (log && size)
      snprintf(log, size, "ptxas application ptx input, line 7; error   : fake JIT error\nptxas fatal   : fake stop\n");
    return ERROR_INVALID_PTX;
  }
  *m = &handles;
  return SUCCESS;
}
CUresult cuModuleUnload(CUmodule m) { return m == &handles ? SUCCESS : ERROR_INVALID_VALUE; }
CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name) {
  (void)m;
  *f = (void *)name;
  return SUCCESS;
}

/* The block size FAKE_CUDA_BLOCK says (default 768), as a real driver
 * would for the kernel on its device. */
CUresult cuOccupancyMaxPotentialBlockSize(int *min_grid, int *block, CUfunction f, size_t (*shared_of_block)(int),
                                          size_t shared, int limit) {
  (void)shared_of_block, (void)shared, (void)limit;
  const char *b = getenv("FAKE_CUDA_BLOCK");
  *block = b && *b ? atoi(b) : 768;
  *min_grid = 264;
  if (getenv("FAKE_CUDA_VERBOSE"))
    fprintf(stderr, "fake cuda: occupancy of %s: block %d\n", (const char *)f, *block);
  return SUCCESS;
}

/* the function handles are the kernels' names (cuModuleGetFunction) */
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, CUstream s, void **params, void **extra) {
  (void)gy, (void)gz, (void)by, (void)bz, (void)shared, (void)s, (void)params, (void)extra;
  if (getenv("FAKE_CUDA_VERBOSE"))
    fprintf(stderr, "fake cuda: launch %s: grid %u, block %u\n", (const char *)f, gx, bx);
  const char *launch = getenv("FAKE_CUDA_LAUNCH");
  return launch && strcmp(launch, "skip") == 0 ? SUCCESS : ERROR_NOT_SUPPORTED;
}

CUresult cuStreamCreate(CUstream *s, unsigned flags) {
  (void)flags;
  *s = &handles;
  return SUCCESS;
}
CUresult cuStreamDestroy_v2(CUstream s) { return s == &handles ? SUCCESS : ERROR_INVALID_VALUE; }
CUresult cuStreamSynchronize(CUstream s) { return s == &handles ? SUCCESS : ERROR_INVALID_VALUE; }
CUresult cuEventCreate(CUevent *e, unsigned flags) {
  (void)flags;
  *e = &handles;
  return SUCCESS;
}
CUresult cuEventRecord(CUevent e, CUstream s) { return e && s ? SUCCESS : ERROR_INVALID_VALUE; }
CUresult cuEventSynchronize(CUevent e) { return e ? SUCCESS : ERROR_INVALID_VALUE; }
CUresult cuEventElapsedTime(float *ms, CUevent a, CUevent b) {
  *ms = 0.25f;
  return a && b ? SUCCESS : ERROR_INVALID_VALUE;
}
CUresult cuEventDestroy_v2(CUevent e) { return e ? SUCCESS : ERROR_INVALID_VALUE; }

static const struct {
  int code;
  const char *name, *text;
} errors[] = {
    {ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an "
                                                                          "unsupported toolchain."},
    {ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported (the fake driver runs no kernels)"},
};

static CUresult error_field(CUresult r, const char **out, int text) {
  for (size_t i = 0; i < sizeof errors / sizeof *errors; i++)
    if (errors[i].code == r) {
      *out = text ? errors[i].text : errors[i].name;
      return SUCCESS;
    }
  *out = NULL;
  return ERROR_INVALID_VALUE;
}
CUresult cuGetErrorName(CUresult r, const char **s) { return error_field(r, s, 0); }
CUresult cuGetErrorString(CUresult r, const char **s) { return error_field(r, s, 1); }
