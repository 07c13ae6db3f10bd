/* runtime/alloc.c - buffers: 64-byte aligned (one cache line, and the
 * widest vector loads), zero-filled, counted so tests can check that a
 * steady-state loop allocates nothing.
 *
 * A block allocated for a context is also linked into the context's list
 * (in a 64-byte head before the data, so the alignment holds): when a call
 * through the C interface fails half-way, the generated code returns at
 * once without freeing its temporaries, and rt_release_since frees every
 * block the call made that is not a param. */
#include "rt_internal.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static atomic_llong live_blocks;

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
  struct BlockHead *prev, *next;
  uint64_t serial;
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

void *tcrt_alloc(tc_ctx *ctx, int64_t bytes) {
  if (bytes < 0 || (uint64_t)bytes > ((uint64_t)1 << 46)) {
    tcrt_fail(ctx, TC_ERR_NOMEM, "cannot allocate %lld bytes", (long long)bytes);
    return NULL;
  }
  size_t size = ((size_t)bytes + 63) & ~(size_t)63;
  if (size == 0)
    size = 64;
  char *block = aligned_alloc(64, HEAD + size);
  if (!block) {
    tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory allocating %lld bytes", (long long)bytes);
    return NULL;
  }
  memset(block, 0, HEAD + size);
  BlockHead *h = (BlockHead *)block;
  if (ctx) {
    h->owner = ctx;
    h->serial = ctx->next_serial++;
    h->next = ctx->blocks;
    if (ctx->blocks)
      ctx->blocks->prev = h;
    ctx->blocks = h;
  }
  atomic_fetch_add(&live_blocks, 1);
  return block + HEAD;
}

void tcrt_free(void *p) {
  if (!p)
    return;
  BlockHead *h = head_of(p);
  unlink_block(h);
  atomic_fetch_sub(&live_blocks, 1);
  free(h);
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
