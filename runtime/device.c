/* runtime/device.c - the GPU, behind one interface.
 *
 * Code compiled for --device=cuda calls these functions for everything it
 * does with the GPU: device memory, copies, kernel launches, matrix
 * products, random numbers.  Below them sits one backend, chosen when the
 * context opens its device (tcrt_dev_open):
 *   - the emulator (runtime/emu/), when the program carries host-compiled
 *     copies of its kernels (tensorc --gpu-emulate): the kernels run on the
 *     CPU, device memory is the emulator's separate arena, and matrix
 *     products go to a CPU stand-in (the operands copied out, OpenBLAS, the
 *     result copied back) behind the interface cuBLAS sits behind;
 *   - otherwise the CUDA driver API, loaded with dlopen (cuda_driver.c),
 *     with cuBLAS for matrix products (cublas.c); opening it fails with
 *     the reason (no driver, no device, a driver too old for the PTX).
 *
 * Device memory is cached per context like host memory (alloc.c): a freed
 * block waits in the context's list for a later request of at most twice
 * its size, so the steady state of a training loop allocates nothing on
 * the device (tcrt_dev_malloc_calls counts the backend's allocations).
 * Before the cache comes the static arena: each entry function's device
 * buffers of constant size (passes/memplan_arena.c gave them offsets) lie
 * in one block per context and function, allocated on the function's
 * first call and kept until the context is freed (tcrt_dev_arena).
 * Random numbers are the prelude's Philox kernels (codegen/cuda_prelude.cuh),
 * launched with the context's seed and counter, so a draw gives the CPU's
 * numbers; a permutation is drawn on the host and copied.
 */
#include "rt_cuda.h"
#include "rt_internal.h"

#include "emu/emu.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_llong dev_malloc_calls;

int64_t tcrt_dev_malloc_calls(void) { return dev_malloc_calls; }

/* TENSORC_DEVICE_STATS's memory line (rt_dev_print_stats): requests
 * (tcrt_dev_alloc*), the bytes of the backend's allocations, and how often
 * an allocation that failed released the cache and retried (and how many
 * cached blocks that freed) */
static atomic_llong dev_requests, dev_malloc_bytes, dev_releases, dev_released_blocks;
/* the static arenas (tcrt_dev_arena): how many were allocated, their
 * bytes (both also counted in the backend's allocations above), and the
 * buffers they served */
static atomic_llong dev_arenas, dev_arena_bytes, dev_arena_buffers;

/* .npy loads of at least this many bytes go through pinned host memory
 * when a CUDA device is open (rt_load_buffer): below it, the driver's own
 * staging costs about the same as pinning (page-locking is itself slow) */
enum { RT_PINNED_LOAD_BYTES = 1 << 20 };
static atomic_llong pinned_loads;

/* copies by TC_COPY_* kind, for tests that a device tensor went in or out
 * of a call without a copy */
static atomic_llong dev_copy_calls[4];

int64_t tcrt_dev_copy_calls(int kind) { return kind >= TC_COPY_H2D && kind <= TC_COPY_D2D ? dev_copy_calls[kind] : 0; }

/* ---- the emulator backend ---- */

typedef struct EmuKernel {
  const char *name;
  void (*fn)(void **params);
} EmuKernel;

static void *emu_alloc(tc_ctx *ctx, int64_t bytes) {
  (void)ctx;
  return tcemu_malloc(bytes);
}
static void emu_free(tc_ctx *ctx, void *p) {
  (void)ctx;
  tcemu_free(p);
}

static int emu_copy(tc_ctx *ctx, void *dst, const void *src, int64_t bytes, int kind) {
  char err[512];
  int st = kind == TC_COPY_H2D   ? tcemu_memcpy_htod(dst, src, bytes, err, sizeof err)
           : kind == TC_COPY_D2H ? tcemu_memcpy_dtoh(dst, src, bytes, err, sizeof err)
                                 : tcemu_memcpy_dtod(dst, src, bytes, err, sizeof err);
  return st ? tcrt_fail(ctx, st, "GPU emulator: %s", err) : TC_OK;
}

static int emu_zero(tc_ctx *ctx, void *dst, int64_t bytes) {
  char err[512];
  int st = tcemu_memset_d8(dst, 0, bytes, err, sizeof err);
  return st ? tcrt_fail(ctx, st, "GPU emulator: %s", err) : TC_OK;
}

static int emu_launch(tc_ctx *ctx, int kernel, int64_t grid, int block, void **params) {
  const EmuKernel *k = (const EmuKernel *)ctx->gpu->emu_kernels + kernel;
  char err[1024];
  int st = tcemu_launch(k->name, k->fn, (unsigned)grid, 1, 1, (unsigned)block, 1, 1, params, err, sizeof err);
  return st ? tcrt_fail(ctx, st, "GPU emulator: %s", err) : TC_OK;
}

/* --profile: the emulator runs a launch before returning, so the host's
 * monotonic clock times it.  One interval at a time per thread, as a
 * context runs on one thread and never nests them. */
static _Thread_local struct timespec emu_interval_start;

static int emu_interval(tc_ctx *ctx, int stop, double *ms) {
  (void)ctx;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  if (!stop) {
    emu_interval_start = t;
    return TC_OK;
  }
  *ms = (double)(t.tv_sec - emu_interval_start.tv_sec) * 1e3 + (double)(t.tv_nsec - emu_interval_start.tv_nsec) * 1e-6;
  return TC_OK;
}

static const rt_device emulator = {.name = "emulator", .alloc = emu_alloc, .free = emu_free, .copy = emu_copy,
                                   .zero = emu_zero, .launch = emu_launch, .interval = emu_interval};

/* ---- opening ---- */

int tcrt_dev_open(tc_ctx *ctx, const tc_gpu_image *img) {
  if (!img)
    return tcrt_fail(ctx, TC_ERR_INPUT, "this program has no GPU code (compile it with --device=cuda)");
  if (img->emu_kernels) {
    char err[512];
    int st = tcemu_init(0, err, sizeof err);
    if (st)
      return tcrt_fail(ctx, st, "GPU emulator: %s", err);
    ctx->dev = &emulator;
  } else {
    int st = rt_cuda_open(ctx, img); /* sets ctx->dev */
    if (st)
      return st;
  }
  ctx->gpu = img;
  return TC_OK;
}

const char *tcrt_dev_name(const tc_ctx *ctx) {
  if (!ctx->dev)
    return NULL;
  return ctx->dev->describe ? ctx->dev->describe(ctx) : ctx->dev->name;
}

/* ---- memory ---- */

/* The context's device blocks: live ones and cached ones, by pointer. */
static rt_devblock *find_block(tc_ctx *ctx, const void *p) {
  for (int i = 0; i < ctx->ndevblocks; i++)
    if (ctx->devblocks[i].ptr == p)
      return &ctx->devblocks[i];
  return NULL;
}

/* Returns the context's cached blocks to the backend, once the queued work
 * that may still read them is done; false if waiting for it failed. */
static bool release_cache(tc_ctx *ctx) {
  if (ctx->dev->sync && ctx->dev->sync(ctx))
    return false;
  int kept = 0;
  for (int i = 0; i < ctx->ndevblocks; i++) {
    if (ctx->devblocks[i].cached) {
      ctx->dev->free(ctx, ctx->devblocks[i].ptr);
      dev_released_blocks++;
    } else {
      ctx->devblocks[kept++] = ctx->devblocks[i];
    }
  }
  ctx->ndevblocks = kept;
  dev_releases++;
  return true;
}

static bool has_cached_block(const tc_ctx *ctx) {
  for (int i = 0; i < ctx->ndevblocks; i++)
    if (ctx->devblocks[i].cached)
      return true;
  return false;
}

/* A new block from the backend.  When the device is out of memory while
 * the cache holds blocks too small or too large for this request, they
 * are freed and the allocation tried once more; NULL with the error set
 * when that fails too. */
static void *backend_alloc(tc_ctx *ctx, int64_t bytes) {
  void *p = ctx->dev->alloc(ctx, bytes);
  if (!p && has_cached_block(ctx)) {
    if (!release_cache(ctx))
      return NULL;
    p = ctx->dev->alloc(ctx, bytes);
  }
  if (!p) { /* bad input in SPEC §5's sense: exit code 2 */
    if (ctx->dev->alloc_failed)
      ctx->dev->alloc_failed(ctx, bytes);
    else
      tcrt_fail(ctx, TC_ERR_INPUT, "out of device memory: %lld bytes asked", (long long)bytes);
    return NULL;
  }
  dev_malloc_calls++;
  dev_malloc_bytes += bytes;
  return p;
}

static void *dev_alloc(tc_ctx *ctx, int64_t bytes, bool zero) {
  if (!ctx->dev) {
    tcrt_fail(ctx, TC_ERR_RUNTIME, "GPU code ran without a device");
    return NULL;
  }
  if (bytes < 0) {
    tcrt_fail(ctx, TC_ERR_NOMEM, "cannot allocate %lld bytes of device memory", (long long)bytes);
    return NULL;
  }
  dev_requests++;
  rt_devblock *best = NULL;
  for (int i = 0; i < ctx->ndevblocks; i++) {
    rt_devblock *b = &ctx->devblocks[i];
    if (b->cached && b->bytes >= bytes && b->bytes <= 2 * bytes + 256 && (!best || b->bytes < best->bytes))
      best = b;
  }
  if (!best) {
    void *p = backend_alloc(ctx, bytes);
    if (!p)
      return NULL;
    if (ctx->ndevblocks == ctx->capdevblocks) {
      int cap = ctx->capdevblocks ? 2 * ctx->capdevblocks : 64;
      rt_devblock *v = realloc(ctx->devblocks, sizeof *v * (size_t)cap);
      if (!v) {
        ctx->dev->free(ctx, p);
        tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory");
        return NULL;
      }
      ctx->devblocks = v;
      ctx->capdevblocks = cap;
    }
    best = &ctx->devblocks[ctx->ndevblocks++];
    *best = (rt_devblock){p, bytes, false};
  }
  best->cached = false;
  if (zero && bytes > 0 && ctx->dev->zero(ctx, best->ptr, bytes))
    return NULL;
  return best->ptr;
}

void *tcrt_dev_alloc(tc_ctx *ctx, int64_t bytes) { return dev_alloc(ctx, bytes, true); }
void *tcrt_dev_alloc_uninit(tc_ctx *ctx, int64_t bytes) { return dev_alloc(ctx, bytes, false); }

/* The calling function's arena, found by its key, or allocated now.
 * One block per function rather than one shared block sized for the
 * largest: separate arenas never overlap, whichever calls may be running
 * at once (none nest today: the frontend inlines calls, but a program's
 * main and its exported functions share the context), at the cost of the
 * sum of their sizes instead of the largest. */
static void *arena_base(tc_ctx *ctx, const void *key, int64_t arena_bytes) {
  for (int i = 0; i < ctx->narenas; i++)
    if (ctx->arenas[i].key == key)
      return ctx->arenas[i].base;
  rt_devarena *v = realloc(ctx->arenas, sizeof *v * (size_t)(ctx->narenas + 1));
  if (!v) {
    tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory");
    return NULL;
  }
  ctx->arenas = v;
  void *base = backend_alloc(ctx, arena_bytes);
  if (!base)
    return NULL;
  ctx->arenas[ctx->narenas++] = (rt_devarena){key, base, arena_bytes};
  dev_arenas++;
  dev_arena_bytes += arena_bytes;
  return base;
}

void *tcrt_dev_arena(tc_ctx *ctx, const void *key, int64_t arena_bytes, int64_t off, int64_t bytes, int zero) {
  if (!ctx->dev) {
    tcrt_fail(ctx, TC_ERR_RUNTIME, "GPU code ran without a device");
    return NULL;
  }
  if (off < 0 || bytes < 0 || off > arena_bytes - bytes) {
    tcrt_fail(ctx, TC_ERR_RUNTIME, "internal error: arena buffer [%lld, +%lld) outside an arena of %lld bytes",
              (long long)off, (long long)bytes, (long long)arena_bytes);
    return NULL;
  }
  char *base = arena_base(ctx, key, arena_bytes);
  if (!base)
    return NULL;
  dev_arena_buffers++;
  if (zero && bytes > 0 && ctx->dev->zero(ctx, base + off, bytes))
    return NULL;
  return base + off;
}

/* A pointer that is no block of the cache (an arena buffer) is left alone. */
void tcrt_dev_free(tc_ctx *ctx, void *p) {
  for (int i = 0; i < ctx->nborrowed; i++)
    if (ctx->borrowed[i] == p)
      return; /* the caller's tensor, lent to the running call (api.c) */
  rt_devblock *b = p ? find_block(ctx, p) : NULL;
  if (b)
    b->cached = true;
}

void rt_dev_close(tc_ctx *ctx) {
  for (int i = 0; i < ctx->ndevblocks; i++)
    ctx->dev->free(ctx, ctx->devblocks[i].ptr);
  free(ctx->devblocks);
  ctx->devblocks = NULL;
  ctx->ndevblocks = ctx->capdevblocks = 0;
  for (int i = 0; i < ctx->narenas; i++)
    ctx->dev->free(ctx, ctx->arenas[i].base);
  free(ctx->arenas);
  ctx->arenas = NULL;
  ctx->narenas = 0;
  if (ctx->dev && ctx->dev->close)
    ctx->dev->close(ctx);
}

void rt_dev_print_stats(FILE *out) {
  fprintf(out, "device memory: %lld requests, %lld blocks allocated (%lld bytes), %lld cache releases (%lld blocks "
          "freed), %lld pinned loads, %lld arenas (%lld bytes) serving %lld buffers\n", (long long)dev_requests,
          (long long)dev_malloc_calls, (long long)dev_malloc_bytes, (long long)dev_releases,
          (long long)dev_released_blocks, (long long)pinned_loads, (long long)dev_arenas, (long long)dev_arena_bytes,
          (long long)dev_arena_buffers);
}

void *rt_load_buffer(int64_t bytes) {
  void *p = NULL;
  if (bytes >= RT_PINNED_LOAD_BYTES && (p = rt_alloc_with(bytes, rt_cuda_pinned_alloc, rt_cuda_pinned_free)))
    pinned_loads++;
  return p ? p : tcrt_alloc(NULL, bytes);
}

int64_t tcrt_dev_live_blocks(const tc_ctx *ctx) {
  int64_t n = 0;
  for (int i = 0; i < ctx->ndevblocks; i++)
    n += !ctx->devblocks[i].cached;
  return n;
}

int tcrt_dev_copy(tc_ctx *ctx, void *dst, const void *src, int64_t bytes, int kind) {
  if (!ctx->dev)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "GPU code ran without a device");
  if (bytes <= 0)
    return TC_OK;
  if (kind >= TC_COPY_H2D && kind <= TC_COPY_D2D)
    dev_copy_calls[kind]++;
  return ctx->dev->copy(ctx, dst, src, bytes, kind);
}

void *tcrt_dev_scratch(tc_ctx *ctx, int64_t bytes) {
  if (ctx->scratch_bytes < bytes) {
    tcrt_dev_free(ctx, ctx->scratch);
    ctx->scratch = tcrt_dev_alloc_uninit(ctx, bytes);
    ctx->scratch_bytes = ctx->scratch ? bytes : 0;
  }
  return ctx->scratch;
}

/* ---- kernels ---- */

int tcrt_dev_launch(tc_ctx *ctx, int kernel, int64_t grid, int block, void **params) {
  if (!ctx->dev)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "GPU code ran without a device");
  if (kernel < 0 || kernel >= ctx->gpu->nkernels)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "internal error: kernel %d of %d", kernel, ctx->gpu->nkernels);
  if (grid < 1 || block < 1)
    return TC_OK; /* nothing to do: the host computed an empty grid */
  return ctx->dev->launch(ctx, kernel, grid, block, params);
}

/* ---- library calls ---- */

/* The CPU stand-in for cuBLAS: the operands to host memory, OpenBLAS
 * (tcrt_matmul, the transpose flags passed on), the result back.  a and b
 * hold what the strides and sizes say they read (m * k and k * n elements
 * a batch entry, transposed or not); c is written whole (batch blocks of
 * m x n). */
int rt_dev_matmul_host(tc_ctx *ctx, const rt_matmul *mm) {
  if (mm->batch <= 0 || mm->m <= 0 || mm->n <= 0)
    return TC_OK;
  size_t es = tcrt_dtype_size(mm->dt);
  int64_t na = (mm->batch - 1) * mm->stride_a + mm->m * mm->k, nb = (mm->batch - 1) * mm->stride_b + mm->k * mm->n;
  int64_t nc = (mm->batch - 1) * mm->stride_c + mm->m * mm->n;
  void *ha = tcrt_alloc_uninit(ctx, na * (int64_t)es), *hb = tcrt_alloc_uninit(ctx, nb * (int64_t)es);
  void *hc = tcrt_alloc(ctx, nc * (int64_t)es);
  int st = !ha || !hb || !hc ? TC_ERR_NOMEM : TC_OK;
  if (!st)
    st = tcrt_dev_copy(ctx, ha, mm->a, na * (int64_t)es, TC_COPY_D2H);
  if (!st)
    st = tcrt_dev_copy(ctx, hb, mm->b, nb * (int64_t)es, TC_COPY_D2H);
  if (!st) /* rows between the batches stay */
    st = tcrt_dev_copy(ctx, hc, mm->c, nc * (int64_t)es, TC_COPY_D2H);
  int trans = (mm->trans_a ? TC_MM_TRANS_A : 0) | (mm->trans_b ? TC_MM_TRANS_B : 0);
  if (!st)
    st = tcrt_matmul(ctx, mm->dt, trans, ha, hb, hc, mm->batch, mm->m, mm->n, mm->k, mm->stride_a, mm->stride_b,
                     mm->stride_c);
  if (!st)
    st = tcrt_dev_copy(ctx, mm->c, hc, nc * (int64_t)es, TC_COPY_H2D);
  tcrt_free(ha);
  tcrt_free(hb);
  tcrt_free(hc);
  return st;
}

int tcrt_dev_matmul(tc_ctx *ctx, tc_dtype dt, int trans, const void *a, const void *b, void *c, int64_t batch,
                    int64_t m, int64_t n, int64_t k, int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  if (batch <= 0 || m <= 0 || n <= 0)
    return TC_OK;
  if (trans & ~(TC_MM_TRANS_A | TC_MM_TRANS_B))
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "matmul: transpose flags %d, expected a combination of TC_MM_TRANS_A (1) and "
                     "TC_MM_TRANS_B (2)", trans);
  rt_matmul mm = {dt, (trans & TC_MM_TRANS_A) != 0, (trans & TC_MM_TRANS_B) != 0, a, b, c, batch, m, n, k,
                  stride_a, stride_b, stride_c};
  if (ctx->dev && ctx->dev->matmul && (dt == TC_F32 || dt == TC_F64))
    return ctx->dev->matmul(ctx, &mm);
  return rt_dev_matmul_host(ctx, &mm);
}

/* Launches prelude random kernel `kernel` over n elements that take
 * `blocks` Philox blocks from the stream. */
static int rand_kernel(tc_ctx *ctx, int kernel, void *out, int64_t n, uint64_t blocks, int64_t lo, int64_t hi) {
  if (n <= 0)
    return TC_OK;
  uint64_t seed = ctx->seed, base = rt_take_blocks(ctx, blocks);
  long long nn = n, l = lo, h = hi;
  void *params[6] = {&out, &nn, &seed, &base, &l, &h};
  int64_t grid = (n + 255) / 256;
  return tcrt_dev_launch(ctx, kernel, grid > 1024 ? 1024 : grid, 256, params);
}

int tcrt_dev_rand(tc_ctx *ctx, tc_dtype dt, void *out, int64_t n) {
  if (dt == TC_F32)
    return rand_kernel(ctx, TC_KRAND_F32, out, n, ((uint64_t)n + 3) / 4, 0, 0);
  return rand_kernel(ctx, TC_KRAND_F64, out, n, ((uint64_t)n + 1) / 2, 0, 0);
}

int tcrt_dev_randn(tc_ctx *ctx, tc_dtype dt, void *out, int64_t n) {
  if (dt == TC_F32)
    return rand_kernel(ctx, TC_KRANDN_F32, out, n, ((uint64_t)n + 3) / 4, 0, 0);
  return rand_kernel(ctx, TC_KRANDN_F64, out, n, ((uint64_t)n + 1) / 2, 0, 0);
}

int tcrt_dev_randint(tc_ctx *ctx, int64_t lo, int64_t hi, int64_t *out, int64_t n) {
  if (hi <= lo)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "randint: empty range [%lld, %lld): high must be greater than low",
                     (long long)lo, (long long)hi);
  return rand_kernel(ctx, TC_KRANDINT, out, n, ((uint64_t)n + 1) / 2, lo, hi);
}

/* A shuffle is sequential (Fisher-Yates): drawn on the host, copied. */
int tcrt_dev_randperm(tc_ctx *ctx, int64_t *out, int64_t n) {
  int64_t *h = tcrt_alloc_uninit(ctx, (n > 0 ? n : 0) * 8);
  if (!h)
    return TC_ERR_NOMEM;
  int st = tcrt_randperm(ctx, h, n);
  if (!st)
    st = tcrt_dev_copy(ctx, out, h, n * 8, TC_COPY_H2D);
  tcrt_free(h);
  return st;
}
