/* runtime/cuda_driver.c - the GPU through the CUDA driver API.
 *
 * libcuda.so.1 is opened with dlopen the first time a context opens the
 * device (TENSORC_LIBCUDA=PATH names another file, for tests), so a
 * program compiled for the GPU starts on machines without one and says why
 * it cannot run there.  Every entry point is looked up by name: the _v2
 * names where the API has them (the unsuffixed cuMemAlloc, cuMemcpy*... are
 * the 32-bit-size functions of CUDA 3.1), the unsuffixed ones where a
 * driver may predate the _v2 (cuEventElapsedTime_v2 is CUDA 12.8's).
 *
 * Opening (rt_cuda_open) does everything that can fail before the program
 * runs, so that --device=auto can still fall back to the CPU:
 *   1. load the driver; cuInit; the device cuda:N (ctx->dev_ordinal);
 *   2. its name, compute capability and peak memory bandwidth;
 *   3. its primary context, made current (the CUDA runtime, and so cuBLAS,
 *      uses the same one), and one stream;
 *   4. the module: the embedded cubin when the device's compute capability
 *      is the image's arch, else the PTX, compiled by the driver's JIT (its
 *      error log goes into the message when that fails);
 *   5. each kernel of the image's table.
 * After that every copy, memset, launch and matrix product is queued on
 * the one stream, in program order; a device-to-host copy waits for the
 * stream, since the host reads the data next.  Errors of queued work
 * surface at the next call that waits; TENSORC_CUDA_SYNC=1 waits after
 * every launch, so that a failing kernel is named.  Each entry makes the
 * context current first: a tc_ctx may move between threads.
 */
#include "rt_cuda.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the driver's entry points ---- */

typedef struct CudaApi {
  CUresult (*Init)(unsigned flags);
  CUresult (*DriverGetVersion)(int *version);
  CUresult (*DeviceGetCount)(int *count);
  CUresult (*DeviceGet)(CUdevice *dev, int ordinal);
  CUresult (*DeviceGetName)(char *name, int len, CUdevice dev);
  CUresult (*DeviceGetAttribute)(int *value, int attrib, CUdevice dev);
  CUresult (*DevicePrimaryCtxRetain)(CUcontext *pctx, CUdevice dev);
  CUresult (*DevicePrimaryCtxRelease)(CUdevice dev);
  CUresult (*CtxSetCurrent)(CUcontext ctx);
  CUresult (*CtxSynchronize)(void);
  CUresult (*MemAlloc)(CUdeviceptr *dptr, size_t bytes);
  CUresult (*MemFree)(CUdeviceptr dptr);
  CUresult (*MemGetInfo)(size_t *free_bytes, size_t *total_bytes);
  CUresult (*MemHostAlloc)(void **p, size_t bytes, unsigned flags);
  CUresult (*MemFreeHost)(void *p);
  CUresult (*MemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream);
  CUresult (*MemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes, CUstream stream);
  CUresult (*MemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream);
  CUresult (*MemsetD8Async)(CUdeviceptr dst, unsigned char value, size_t n, CUstream stream);
  CUresult (*ModuleLoadDataEx)(CUmodule *mod, const void *image, unsigned nopts, int *opts, void **values);
  CUresult (*ModuleUnload)(CUmodule mod);
  CUresult (*ModuleGetFunction)(CUfunction *fn, CUmodule mod, const char *name);
  CUresult (*OccupancyMaxPotentialBlockSize)(int *min_grid, int *block, CUfunction fn,
                                             size_t (*shared_of_block)(int block), size_t shared_bytes,
                                             int block_limit);
  CUresult (*LaunchKernel)(CUfunction fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                           unsigned bz, unsigned shared_bytes, CUstream stream, void **params, void **extra);
  CUresult (*StreamCreate)(CUstream *stream, unsigned flags);
  CUresult (*StreamDestroy)(CUstream stream);
  CUresult (*StreamSynchronize)(CUstream stream);
  CUresult (*EventCreate)(CUevent *event, unsigned flags);
  CUresult (*EventRecord)(CUevent event, CUstream stream);
  CUresult (*EventSynchronize)(CUevent event);
  CUresult (*EventElapsedTime)(float *ms, CUevent start, CUevent end);
  CUresult (*EventDestroy)(CUevent event);
  CUresult (*GetErrorName)(CUresult r, const char **name);
  CUresult (*GetErrorString)(CUresult r, const char **text);
} CudaApi;

/* The name to look up for each field, then the older name (or NULL). */
#define API_SYM(field, name, older) {offsetof(CudaApi, field), name, older}
static const struct {
  size_t offset;
  const char *name, *older;
} api_syms[] = {
    API_SYM(Init, "cuInit", NULL),
    API_SYM(DriverGetVersion, "cuDriverGetVersion", NULL),
    API_SYM(DeviceGetCount, "cuDeviceGetCount", NULL),
    API_SYM(DeviceGet, "cuDeviceGet", NULL),
    API_SYM(DeviceGetName, "cuDeviceGetName", NULL),
    API_SYM(DeviceGetAttribute, "cuDeviceGetAttribute", NULL),
    API_SYM(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", NULL),
    API_SYM(DevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"),
    API_SYM(CtxSetCurrent, "cuCtxSetCurrent", NULL),
    API_SYM(CtxSynchronize, "cuCtxSynchronize", NULL),
    API_SYM(MemAlloc, "cuMemAlloc_v2", NULL),
    API_SYM(MemFree, "cuMemFree_v2", NULL),
    API_SYM(MemGetInfo, "cuMemGetInfo_v2", NULL),
    API_SYM(MemHostAlloc, "cuMemHostAlloc", NULL),
    API_SYM(MemFreeHost, "cuMemFreeHost", NULL),
    API_SYM(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", NULL),
    API_SYM(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", NULL),
    API_SYM(MemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", NULL),
    API_SYM(MemsetD8Async, "cuMemsetD8Async", NULL),
    API_SYM(ModuleLoadDataEx, "cuModuleLoadDataEx", NULL),
    API_SYM(ModuleUnload, "cuModuleUnload", NULL),
    API_SYM(ModuleGetFunction, "cuModuleGetFunction", NULL),
    API_SYM(OccupancyMaxPotentialBlockSize, "cuOccupancyMaxPotentialBlockSize", NULL),
    API_SYM(LaunchKernel, "cuLaunchKernel", NULL),
    API_SYM(StreamCreate, "cuStreamCreate", NULL),
    API_SYM(StreamDestroy, "cuStreamDestroy_v2", "cuStreamDestroy"),
    API_SYM(StreamSynchronize, "cuStreamSynchronize", NULL),
    API_SYM(EventCreate, "cuEventCreate", NULL),
    API_SYM(EventRecord, "cuEventRecord", NULL),
    API_SYM(EventSynchronize, "cuEventSynchronize", NULL),
    API_SYM(EventElapsedTime, "cuEventElapsedTime_v2", "cuEventElapsedTime"),
    API_SYM(EventDestroy, "cuEventDestroy_v2", "cuEventDestroy"),
    API_SYM(GetErrorName, "cuGetErrorName", NULL),
    API_SYM(GetErrorString, "cuGetErrorString", NULL),
};

static CudaApi api;
static char load_error[512]; /* why the driver cannot be used ("" once loaded) */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load_driver(void) {
  const char *path = getenv("TENSORC_LIBCUDA");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    why = why ? why : "cannot be opened";
    /* dlerror usually names the file already */
    if (strstr(why, path))
      snprintf(load_error, sizeof load_error, "no CUDA driver (%s)", why);
    else
      snprintf(load_error, sizeof load_error, "no CUDA driver (%s: %s)", path, why);
    return;
  }
  for (size_t i = 0; i < sizeof api_syms / sizeof *api_syms; i++) {
    void *fn = dlsym(lib, api_syms[i].name);
    if (!fn && api_syms[i].older)
      fn = dlsym(lib, api_syms[i].older);
    if (!fn) {
      snprintf(load_error, sizeof load_error, "no CUDA driver (%s has no %s: a driver older than CUDA 11?)", path,
               api_syms[i].name);
      memset(&api, 0, sizeof api);
      return;
    }
    memcpy((char *)&api + api_syms[i].offset, &fn, sizeof fn);
  }
}

const char *rt_cuda_error(CUresult r, char *buf, size_t size) {
  const char *name = NULL, *text = NULL;
  if (api.GetErrorName)
    api.GetErrorName(r, &name);
  if (api.GetErrorString)
    api.GetErrorString(r, &text);
  if (name)
    snprintf(buf, size, "%s: %s", name, text ? text : "(no description)");
  else if (r == 34) /* the toolkit's stub libcuda answers this and names nothing */
    snprintf(buf, size, "CUDA_ERROR_STUB_LIBRARY: this libcuda is the toolkit's stub, not a driver");
  else
    snprintf(buf, size, "CUDA error %d", r);
  return buf;
}

/* A failed driver call while the program runs: exit code 1. */
static int cu_fail(tc_ctx *ctx, CUresult r, const char *what) {
  char e[256];
  return tcrt_fail(ctx, TC_ERR_RUNTIME, "CUDA: %s: %s", what, rt_cuda_error(r, e, sizeof e));
}

CUresult rt_cuda_make_current(const rt_cuda *cu) { return api.CtxSetCurrent(cu->cu); }

static CUdeviceptr dptr(const void *p) { return (CUdeviceptr)(uintptr_t)p; }

/* ---- the rt_device hooks ---- */

static void *cuda_alloc(tc_ctx *ctx, int64_t bytes) {
  rt_cuda *cu = ctx->dev_state;
  CUdeviceptr p = 0;
  /* cuMemAlloc refuses 0 bytes; the runtime wants a unique pointer */
  CUresult r = rt_cuda_make_current(cu);
  if (!r)
    r = api.MemAlloc(&p, bytes > 0 ? (size_t)bytes : 1);
  cu->last_alloc = r;
  return r ? NULL : (void *)(uintptr_t)p;
}

static int cuda_alloc_failed(tc_ctx *ctx, int64_t bytes) {
  rt_cuda *cu = ctx->dev_state;
  if (cu->last_alloc != CUDA_ERROR_OUT_OF_MEMORY) {
    char what[96];
    snprintf(what, sizeof what, "cuMemAlloc_v2 of %lld bytes", (long long)bytes);
    return cu_fail(ctx, cu->last_alloc, what);
  }
  size_t free_bytes = 0, total = 0;
  if (api.MemGetInfo(&free_bytes, &total))
    return tcrt_fail(ctx, TC_ERR_INPUT, "out of device memory: %lld bytes asked", (long long)bytes);
  return tcrt_fail(ctx, TC_ERR_INPUT, "out of device memory: %lld bytes asked, %zu free (cuda:%d has %zu)",
                   (long long)bytes, free_bytes, cu->ordinal, total);
}

static void cuda_free(tc_ctx *ctx, void *p) {
  rt_cuda *cu = ctx->dev_state;
  if (p && !rt_cuda_make_current(cu))
    api.MemFree(dptr(p));
}

static int cuda_copy(tc_ctx *ctx, void *dst, const void *src, int64_t bytes, int kind) {
  rt_cuda *cu = ctx->dev_state;
  CUresult r = rt_cuda_make_current(cu);
  const char *what = "cuCtxSetCurrent";
  if (!r && kind == TC_COPY_H2D) {
    /* from pageable memory: returns once src is staged, so the caller may reuse it */
    what = "cuMemcpyHtoDAsync_v2";
    r = api.MemcpyHtoDAsync(dptr(dst), src, (size_t)bytes, cu->stream);
  } else if (!r && kind == TC_COPY_D2H) {
    what = "cuMemcpyDtoHAsync_v2";
    r = api.MemcpyDtoHAsync(dst, dptr(src), (size_t)bytes, cu->stream);
    if (!r) {
      what = "waiting for a device-to-host copy (this or earlier queued work failed)";
      r = api.StreamSynchronize(cu->stream);
    }
  } else if (!r) {
    what = "cuMemcpyDtoDAsync_v2";
    r = api.MemcpyDtoDAsync(dptr(dst), dptr(src), (size_t)bytes, cu->stream);
  }
  if (r) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s (%lld bytes)", what, (long long)bytes);
    return cu_fail(ctx, r, msg);
  }
  return TC_OK;
}

static int cuda_zero(tc_ctx *ctx, void *dst, int64_t bytes) {
  rt_cuda *cu = ctx->dev_state;
  CUresult r = rt_cuda_make_current(cu);
  if (!r)
    r = api.MemsetD8Async(dptr(dst), 0, (size_t)bytes, cu->stream);
  return r ? cu_fail(ctx, r, "cuMemsetD8Async") : TC_OK;
}

static bool sync_each_launch(void) {
  const char *s = getenv("TENSORC_CUDA_SYNC");
  return s && *s && strcmp(s, "0") != 0;
}

/* The block size of a launch whose kernel takes any (img->block_free):
 * what the occupancy API says fills the device best, asked once per
 * kernel; the generator's `block` when it says nothing. */
static int free_block(rt_cuda *cu, int kernel, int block) {
  if (!cu->blocks[kernel]) {
    int min_grid = 0, best = 0;
    CUresult r = api.OccupancyMaxPotentialBlockSize(&min_grid, &best, cu->kernels[kernel], NULL, 0, 0);
    cu->blocks[kernel] = !r && best >= 32 && best <= 1024 ? best : block;
  }
  return cu->blocks[kernel];
}

static int cuda_launch(tc_ctx *ctx, int kernel, int64_t grid, int block, void **params) {
  rt_cuda *cu = ctx->dev_state;
  const char *name = ctx->gpu->kernel_names[kernel];
  if (ctx->gpu->block_free && ctx->gpu->block_free[kernel]) {
    /* grid-stride: the same threads in all, give or take a block */
    int chosen = free_block(cu, kernel, block);
    grid = (grid * block + chosen - 1) / chosen;
    block = chosen;
  }
  if (grid > 0x7fffffff)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "CUDA: kernel %s: a grid of %lld blocks is more than the 2^31-1 it can have",
                     name, (long long)grid);
  CUresult r = rt_cuda_make_current(cu);
  if (!r)
    r = api.LaunchKernel(cu->kernels[kernel], (unsigned)grid, 1, 1, (unsigned)block, 1, 1, 0, cu->stream, params,
                         NULL);
  const char *what = "launching";
  if (!r && sync_each_launch()) {
    what = "running (TENSORC_CUDA_SYNC)";
    r = api.StreamSynchronize(cu->stream);
  }
  if (r) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s kernel %s (%lld blocks of %d threads)", what, name, (long long)grid, block);
    return cu_fail(ctx, r, msg);
  }
  return TC_OK;
}

static int cuda_sync(tc_ctx *ctx) {
  rt_cuda *cu = ctx->dev_state;
  CUresult r = rt_cuda_make_current(cu);
  if (!r)
    r = api.StreamSynchronize(cu->stream);
  return r ? cu_fail(ctx, r, "waiting for the stream (queued work failed)") : TC_OK;
}

/* --profile: events on the stream, made on first use. */
static int cuda_interval(tc_ctx *ctx, int stop, double *ms) {
  rt_cuda *cu = ctx->dev_state;
  CUresult r = rt_cuda_make_current(cu);
  if (!r && !cu->ev_start)
    r = api.EventCreate(&cu->ev_start, 0);
  if (!r && !cu->ev_stop)
    r = api.EventCreate(&cu->ev_stop, 0);
  if (r)
    return cu_fail(ctx, r, "cuEventCreate");
  if (!stop) {
    r = api.EventRecord(cu->ev_start, cu->stream);
    return r ? cu_fail(ctx, r, "cuEventRecord") : TC_OK;
  }
  float elapsed = 0;
  if ((r = api.EventRecord(cu->ev_stop, cu->stream)))
    return cu_fail(ctx, r, "cuEventRecord");
  if ((r = api.EventSynchronize(cu->ev_stop)))
    return cu_fail(ctx, r, "waiting for a timed interval (queued work failed)");
  if ((r = api.EventElapsedTime(&elapsed, cu->ev_start, cu->ev_stop)))
    return cu_fail(ctx, r, "cuEventElapsedTime");
  if (ms)
    *ms = elapsed;
  return TC_OK;
}

/* Frees what open made, in reverse (also after a failed open). */
static void release(rt_cuda *cu) {
  if (!cu)
    return;
  if (cu->cu && !api.CtxSetCurrent(cu->cu)) {
    rt_cublas_close(cu);
    if (cu->ev_start)
      api.EventDestroy(cu->ev_start);
    if (cu->ev_stop)
      api.EventDestroy(cu->ev_stop);
    if (cu->module)
      api.ModuleUnload(cu->module);
    if (cu->stream)
      api.StreamDestroy(cu->stream);
  }
  if (cu->cu)
    api.DevicePrimaryCtxRelease(cu->dev);
  free(cu->kernels);
  free(cu->blocks);
  free(cu);
}

/* ---- pinned host memory (device.c's rt_load_buffer) ---- */

/* While a device is open, pinned memory is made in the primary context of
 * the last one opened (portable: every context may copy from it). */
static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static int open_devices;
static CUdevice pin_dev;

/* Before each pinned block: what freeing it needs.  64 bytes keep the
 * data as aligned as alloc.c's blocks (cuMemHostAlloc gives pages). */
typedef struct PinHead {
  CUcontext cu;
  CUdevice dev;
} PinHead;
enum { PIN_HEAD = 64 };

static void count_open_device(int delta, CUdevice dev) {
  pthread_mutex_lock(&pin_lock);
  open_devices += delta;
  if (delta > 0)
    pin_dev = dev;
  pthread_mutex_unlock(&pin_lock);
}

void *rt_cuda_pinned_alloc(size_t bytes) {
  pthread_mutex_lock(&pin_lock);
  bool any = open_devices > 0;
  CUdevice dev = pin_dev;
  pthread_mutex_unlock(&pin_lock);
  CUcontext c = NULL;
  void *p = NULL;
  /* the block holds its own reference to the context, which frees its
   * pinned memory when it goes */
  if (!any || api.DevicePrimaryCtxRetain(&c, dev))
    return NULL;
  if (api.CtxSetCurrent(c) || api.MemHostAlloc(&p, PIN_HEAD + bytes, CU_MEMHOSTALLOC_PORTABLE)) {
    api.DevicePrimaryCtxRelease(dev);
    return NULL;
  }
  *(PinHead *)p = (PinHead){c, dev};
  return (char *)p + PIN_HEAD;
}

void rt_cuda_pinned_free(void *p) {
  PinHead *h = (PinHead *)((char *)p - PIN_HEAD), pin = *h;
  if (!api.CtxSetCurrent(pin.cu)) {
    api.CtxSynchronize(); /* a copy from the block may still be queued */
    api.MemFreeHost(h);
  }
  api.DevicePrimaryCtxRelease(pin.dev);
}

static void cuda_close(tc_ctx *ctx) {
  rt_cuda *cu = ctx->dev_state;
  count_open_device(-1, cu->dev);
  release(cu);
  ctx->dev_state = NULL;
}

/* "cuda:0 (NVIDIA H100 80GB HBM3, sm_90)", and once a matrix product has
 * run, where it ran. */
static const char *cuda_describe(const tc_ctx *ctx) {
  rt_cuda *cu = ctx->dev_state;
  if (cu->blas_state > 0)
    snprintf(cu->described, sizeof cu->described, "%s, matmul: cuBLAS", cu->label);
  else if (cu->blas_state < 0)
    snprintf(cu->described, sizeof cu->described, "%s, matmul: CPU stand-in (%s)", cu->label, cu->blas_why);
  else
    return cu->label;
  return cu->described;
}

static const rt_device cuda_device = {.name = "cuda",
                                      .alloc = cuda_alloc,
                                      .free = cuda_free,
                                      .copy = cuda_copy,
                                      .zero = cuda_zero,
                                      .launch = cuda_launch,
                                      .matmul = rt_cublas_matmul,
                                      .matmul_epilogue = rt_cublaslt_matmul,
                                      .sync = cuda_sync,
                                      .interval = cuda_interval,
                                      .close = cuda_close,
                                      .describe = cuda_describe,
                                      .alloc_failed = cuda_alloc_failed};

/* ---- opening ---- */

/* Loads image (cubin or PTX) with the JIT's logs in err and info. */
static CUresult load_image(CUmodule *mod, const void *image, char *err, char *info, unsigned logsize) {
  int opts[4] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, CU_JIT_INFO_LOG_BUFFER,
                 CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
  /* the sizes are unsigned ints passed in the pointers themselves */
  void *values[4] = {err, (void *)(uintptr_t)logsize, info, (void *)(uintptr_t)logsize};
  err[0] = info[0] = '\0';
  CUresult r = api.ModuleLoadDataEx(mod, image, 4, opts, values);
  err[logsize - 1] = info[logsize - 1] = '\0';
  return r;
}

/* The JIT's log on one line: its lines joined by "; ". */
static void one_line(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
    s[--n] = '\0';
  for (char *p = s; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ';';
}

static void debug_log(const char *what, const char *log) {
  const char *level = getenv("TENSORC_DEBUG");
  if (log[0] && level && atoi(level) >= 4)
    fprintf(stderr, "tensorc: CUDA JIT log (%s):\n%s\n", what, log);
}

/* Step 4: the module, from the cubin when it was built for this device. */
static int load_module(tc_ctx *ctx, rt_cuda *cu, const tc_gpu_image *img) {
  enum { LOG = 8192 };
  char err[LOG], info[LOG], arch[32], e[256];
  snprintf(arch, sizeof arch, "sm_%d%d", cu->cc_major, cu->cc_minor);
  CUresult cubin_r = CUDA_SUCCESS;
  if (img->cubin && img->cubin_size > 0 && img->arch && strcmp(img->arch, arch) == 0) {
    cubin_r = load_image(&cu->module, img->cubin, err, info, LOG);
    debug_log("cubin", info);
    if (!cubin_r)
      return TC_OK;
    /* a cubin the driver cannot take (one from a newer toolkit): try the PTX */
  }
  if (!img->ptx)
    return tcrt_fail(ctx, TC_ERR_INPUT, "the GPU code has no PTX, and its cubin is for %s, not this device's %s",
                     img->arch ? img->arch : "no arch", arch);
  CUresult r = load_image(&cu->module, img->ptx, err, info, LOG);
  debug_log("PTX", info);
  if (!r)
    return TC_OK;
  char cubin_note[320] = "";
  if (cubin_r)
    snprintf(cubin_note, sizeof cubin_note, "; its %s cubin did not load either (%s)", arch,
             rt_cuda_error(cubin_r, e, sizeof e));
  if (r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
    int v = 0;
    api.DriverGetVersion(&v);
    return tcrt_fail(ctx, TC_ERR_INPUT,
                     "CUDA driver too old for the PTX: the driver is CUDA %d.%d, the PTX (for %s, from a newer NVRTC) "
                     "needs a newer one; update the driver, or compile with --gpu-arch=%s to embed a cubin for this "
                     "%s device%s",
                     v / 1000, v % 1000 / 10, img->arch ? img->arch : "?", arch, arch, cubin_note);
  }
  one_line(err);
  return tcrt_fail(ctx, TC_ERR_INPUT, "cannot load the GPU code on %s: the driver's JIT failed on the PTX for %s: %s%s%s%s",
                   cu->label, img->arch ? img->arch : "?", rt_cuda_error(r, e, sizeof e), err[0] ? "; JIT log: " : "", err, cubin_note);
}

/* Steps 1b-5 for the device cuda:N; cu is freed by the caller on failure. */
static int open_device(tc_ctx *ctx, rt_cuda *cu, const tc_gpu_image *img) {
  char e[256];
  CUresult r = api.DeviceGet(&cu->dev, cu->ordinal);
  if (r)
    return tcrt_fail(ctx, TC_ERR_INPUT, "no CUDA device cuda:%d (cuDeviceGet: %s)", cu->ordinal,
                     rt_cuda_error(r, e, sizeof e));
  /* 2. what it is */
  if ((r = api.DeviceGetAttribute(&cu->cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, cu->dev)) ||
      (r = api.DeviceGetAttribute(&cu->cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, cu->dev)))
    return tcrt_fail(ctx, TC_ERR_INPUT, "CUDA device cuda:%d: no compute capability (cuDeviceGetAttribute: %s)",
                     cu->ordinal, rt_cuda_error(r, e, sizeof e));
  if (api.DeviceGetName(cu->gpu_name, (int)sizeof cu->gpu_name, cu->dev))
    snprintf(cu->gpu_name, sizeof cu->gpu_name, "unnamed GPU");
  cu->gpu_name[sizeof cu->gpu_name - 1] = '\0';
  snprintf(cu->label, sizeof cu->label, "cuda:%d (%s, sm_%d%d)", cu->ordinal, cu->gpu_name, cu->cc_major,
           cu->cc_minor);
  int clock_khz = 0, bus_bits = 0;
  if (!api.DeviceGetAttribute(&clock_khz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, cu->dev) &&
      !api.DeviceGetAttribute(&bus_bits, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, cu->dev) && clock_khz > 0 &&
      bus_bits > 0)
    ctx->dev_peak_gbps = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9; /* double data rate */
  /* 3. the primary context, current on this thread; the stream */
  CUcontext pctx = NULL;
  if ((r = api.DevicePrimaryCtxRetain(&pctx, cu->dev)))
    return tcrt_fail(ctx, TC_ERR_INPUT, "cannot use %s (cuDevicePrimaryCtxRetain: %s)", cu->label,
                     rt_cuda_error(r, e, sizeof e));
  cu->cu = pctx;
  if ((r = api.CtxSetCurrent(cu->cu)) || (r = api.StreamCreate(&cu->stream, 0)))
    return tcrt_fail(ctx, TC_ERR_INPUT, "cannot use %s (%s)", cu->label, rt_cuda_error(r, e, sizeof e));
  /* 4. the module */
  int st = load_module(ctx, cu, img);
  if (st)
    return st;
  /* 5. its kernels */
  cu->kernels = calloc(img->nkernels > 0 ? (size_t)img->nkernels : 1, sizeof *cu->kernels);
  cu->blocks = calloc(img->nkernels > 0 ? (size_t)img->nkernels : 1, sizeof *cu->blocks);
  if (!cu->kernels || !cu->blocks)
    return tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory");
  for (int i = 0; i < img->nkernels; i++)
    if ((r = api.ModuleGetFunction(&cu->kernels[i], cu->module, img->kernel_names[i])))
      return tcrt_fail(ctx, TC_ERR_INPUT, "the GPU code has no kernel %s (cuModuleGetFunction: %s)",
                       img->kernel_names[i], rt_cuda_error(r, e, sizeof e));
  return TC_OK;
}

int rt_cuda_open(tc_ctx *ctx, const tc_gpu_image *img) {
  char e[256];
  /* 1. the driver and the device */
  pthread_once(&load_once, load_driver);
  if (load_error[0])
    return tcrt_fail(ctx, TC_ERR_INPUT, "%s", load_error);
  CUresult r = api.Init(0);
  if (r)
    return tcrt_fail(ctx, TC_ERR_INPUT, "no CUDA device (cuInit: %s)", rt_cuda_error(r, e, sizeof e));
  int count = 0;
  if ((r = api.DeviceGetCount(&count)))
    return tcrt_fail(ctx, TC_ERR_INPUT, "no CUDA device (cuDeviceGetCount: %s)", rt_cuda_error(r, e, sizeof e));
  if (count < 1)
    return tcrt_fail(ctx, TC_ERR_INPUT, "no CUDA device (cuDeviceGetCount: 0 devices)");
  if (ctx->dev_ordinal < 0 || ctx->dev_ordinal >= count)
    return tcrt_fail(ctx, TC_ERR_INPUT, "no CUDA device cuda:%d (the driver sees %d: cuda:0 to cuda:%d)",
                     ctx->dev_ordinal, count, count - 1);
  rt_cuda *cu = calloc(1, sizeof *cu);
  if (!cu)
    return tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory");
  cu->ordinal = ctx->dev_ordinal;
  ctx->dev_peak_gbps = 0;
  int st = open_device(ctx, cu, img);
  if (st) {
    release(cu);
    ctx->dev_peak_gbps = 0;
    return st;
  }
  ctx->dev_state = cu;
  ctx->dev = &cuda_device;
  count_open_device(1, cu->dev);
  return TC_OK;
}
