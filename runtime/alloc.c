/* runtime/alloc.c - buffers: 64-byte aligned (one cache line, and the
 * widest vector loads), zero-filled, counted so tests can check that a
 * steady-state loop allocates nothing.
 *
 * A block allocated for a context is also linked into the context's list
 * (in a 64-byte head before the data, so the alignment holds): when a call
 * through the C interface fails half-way, the generated code returns at
 * once without freeing its temporaries, and rt_release_since frees every
 * block the call made that is not a param.
 *
 * The context's workspace: freeing a block still linked to its context
 * puts it in the context's cache instead of returning it to the system,
 * and the context's next tcrt_alloc takes the smallest cached block that
 * holds the request and is at most twice its size (zeroed again).  The
 * temporaries of one call are thus the next call's, and a steady loop of
 * calls (a train_step called from C, the epochs of an executable) asks
 * the system for nothing: tcrt_malloc_calls() stays put.  A block handed
 * to the caller is detached first (rt_detach_block) and is never cached;
 * tcrt_ctx_free frees the cache.  Cached blocks do not count as live
 * (tcrt_alloc_count), and under AddressSanitizer they are poisoned. */
#include "rt_internal.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#ifdef RT_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* A context's cache holds at most this many blocks; beyond, tcrt_free
 * returns them to the system. */
enum { CACHE_MAX_BLOCKS = 4096 };

static atomic_llong live_blocks, alloc_calls, malloc_calls;

size_t tcrt_dtype_size(tc_dtype dt) {
  switch (dt) {
  case TC_BOOL: return 1;
  case TC_I32: case TC_F32: return 4;
  case TC_I64: case TC_F64: return 8;
  default: return 0;
  }
}

const char *tcrt_dtype_name(tc_dtype dt) {
  switch (dt) {
  case TC_BOOL: return "bool";
  case TC_I32: return "i32";
  case TC_I64: return "i64";
  case TC_F32: return "f32";
  case TC_F64: return "f64";
  default: return "unknown";
  }
}

int64_t tcrt_numel(const tc_array *a) {
  int64_t n = 1;
  for (int i = 0; i < a->rank; i++)
    n *= a->shape[i];
  return n;
}

typedef struct BlockHead {
  tc_ctx *owner; /* NULL: not in a list */
  struct BlockHead *prev, *next; /* the context's live list; next: the cache's */
  uint64_t serial;
  size_t size;  /* of the data, a multiple of 64 */
  void (*put)(void *block); /* NULL: malloc'd; else gives back memory from elsewhere (rt_alloc_with) */
} BlockHead;

enum { HEAD = 64 };
_Static_assert(sizeof(BlockHead) <= HEAD, "the block head must fit its 64 bytes");

static BlockHead *head_of(void *p) { return (BlockHead *)((char *)p - HEAD); }

static void unlink_block(BlockHead *h) {
  tc_ctx *ctx = h->owner;
  if (!ctx)
    return;
  if (h->prev)
    h->prev->next = h->next;
  else
    ctx->blocks = h->next;
  if (h->next)
    h->next->prev = h->prev;
  h->owner = NULL;
  h->prev = h->next = NULL;
}

static void link_block(tc_ctx *ctx, BlockHead *h) {
  h->owner = ctx;
  h->serial = ctx->next_serial++;
  h->prev = NULL;
  h->next = ctx->blocks;
  if (ctx->blocks)
    ctx->blocks->prev = h;
  ctx->blocks = h;
}

/* The smallest cached block of at least `size` bytes and at most twice
 * that, taken out of the cache; NULL if none. */
static BlockHead *take_cached(tc_ctx *ctx, size_t size) {
  BlockHead **best = NULL;
  for (BlockHead **pp = &ctx->cache; *pp; pp = &(*pp)->next) {
    size_t s = (*pp)->size;
    if (s >= size && s / 2 <= size && (!best || s < (*best)->size)) {
      best = pp;
      if (s == size)
        break;
    }
  }
  if (!best)
    return NULL;
  BlockHead *h = *best;
  *best = h->next;
  h->next = NULL;
  ctx->ncached--;
  return h;
}

static void *alloc(tc_ctx *ctx, int64_t bytes, bool zero);

void *tcrt_alloc(tc_ctx *ctx, int64_t bytes) { return alloc(ctx, bytes, true); }
void *tcrt_alloc_uninit(tc_ctx *ctx, int64_t bytes) { return alloc(ctx, bytes, false); }

static void *alloc(tc_ctx *ctx, int64_t bytes, bool zero) {
  if (bytes < 0) {
    tcrt_fail(ctx, TC_ERR_NOMEM, "cannot allocate %lld bytes", (long long)bytes);
    return NULL;
  }
  if ((uint64_t)bytes > ((uint64_t)1 << 46)) { /* 64 TiB: more than any machine this runs on */
    tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory: %lld bytes asked", (long long)bytes);
    return NULL;
  }
  size_t size = ((size_t)bytes + 63) & ~(size_t)63;
  if (size == 0)
    size = 64;
  BlockHead *h = ctx ? take_cached(ctx, size) : NULL;
  if (h) {
    UNPOISON((char *)h + HEAD, h->size);
    if (zero)
      memset((char *)h + HEAD, 0, size); /* the caller sees `size` bytes of it */
  } else {
    char *block = aligned_alloc(64, HEAD + size);
    if (!block) {
      tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory: %lld bytes asked", (long long)bytes);
      return NULL;
    }
    memset(block, 0, zero ? HEAD + size : HEAD);
    h = (BlockHead *)block;
    h->size = size;
    atomic_fetch_add(&malloc_calls, 1);
  }
  if (ctx)
    link_block(ctx, h);
  atomic_fetch_add(&live_blocks, 1);
  atomic_fetch_add(&alloc_calls, 1);
  return (char *)h + HEAD;
}

int tcrt_failed_at(tc_ctx *ctx, const char *where) {
  char msg[sizeof ctx->error];
  snprintf(msg, sizeof msg, "%s", tcrt_error(ctx));
  return tcrt_fail(ctx, tcrt_status(ctx), "%s: %s", where, msg);
}

void tcrt_free(void *p) {
  if (!p)
    return;
  BlockHead *h = head_of(p);
  tc_ctx *ctx = h->owner;
  unlink_block(h);
  atomic_fetch_sub(&live_blocks, 1);
  if (h->put) {
    h->put(h);
    return;
  }
  if (ctx && ctx->ncached < CACHE_MAX_BLOCKS) {
    h->next = ctx->cache;
    ctx->cache = h;
    ctx->ncached++;
    POISON(p, h->size);
    return;
  }
  free(h);
}

void *rt_alloc_with(int64_t bytes, void *(*get)(size_t), void (*put)(void *block)) {
  if (bytes < 0 || (uint64_t)bytes > ((uint64_t)1 << 46))
    return NULL;
  size_t size = ((size_t)bytes + 63) & ~(size_t)63;
  BlockHead *h = get(HEAD + (size ? size : 64));
  if (!h)
    return NULL;
  memset(h, 0, HEAD);
  h->size = size ? size : 64;
  h->put = put;
  atomic_fetch_add(&malloc_calls, 1);
  atomic_fetch_add(&live_blocks, 1);
  atomic_fetch_add(&alloc_calls, 1);
  return (char *)h + HEAD;
}

void rt_free_cache(tc_ctx *ctx) {
  while (ctx->cache) {
    BlockHead *h = ctx->cache;
    ctx->cache = h->next;
    UNPOISON((char *)h + HEAD, h->size);
    free(h);
  }
  ctx->ncached = 0;
}

uint64_t rt_alloc_mark(const tc_ctx *ctx) { return ctx->next_serial; }

static bool is_param(const tc_ctx *ctx, const void *p) {
  for (int i = 0; i < ctx->nparams; i++)
    if (ctx->params[i] == p)
      return true;
  return false;
}

void rt_release_since(tc_ctx *ctx, uint64_t mark) {
  /* the list is newest first */
  BlockHead *h = ctx->blocks;
  while (h && h->serial >= mark) {
    BlockHead *next = h->next;
    if (!is_param(ctx, (char *)h + HEAD))
      tcrt_free((char *)h + HEAD);
    h = next;
  }
}

void rt_detach_block(void *p) {
  if (p)
    unlink_block(head_of(p));
}

void rt_forget_blocks(tc_ctx *ctx) {
  while (ctx->blocks)
    unlink_block(ctx->blocks);
}

int64_t tcrt_alloc_count(void) { return atomic_load(&live_blocks); }

int64_t tcrt_alloc_calls(void) { return atomic_load(&alloc_calls); }

int64_t tcrt_malloc_calls(void) { return atomic_load(&malloc_calls); }
