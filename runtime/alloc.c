/* runtime/alloc.c - buffers: 64-byte aligned (one cache line, and the
 * widest vector loads), zero-filled, counted so tests can check that a
 * steady-state loop allocates nothing. */
#include "rt_internal.h"

#include <stdatomic.h>
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

void *tcrt_alloc(tc_ctx *ctx, int64_t bytes) {
  if (bytes < 0 || (uint64_t)bytes > ((uint64_t)1 << 46)) {
    tcrt_fail(ctx, TC_ERR_NOMEM, "cannot allocate %lld bytes", (long long)bytes);
    return NULL;
  }
  size_t size = ((size_t)bytes + 63) & ~(size_t)63;
  if (size == 0)
    size = 64;
  void *p = aligned_alloc(64, size);
  if (!p) {
    tcrt_fail(ctx, TC_ERR_NOMEM, "out of memory allocating %lld bytes", (long long)bytes);
    return NULL;
  }
  memset(p, 0, size);
  atomic_fetch_add(&live_blocks, 1);
  return p;
}

void tcrt_free(void *p) {
  if (!p)
    return;
  atomic_fetch_sub(&live_blocks, 1);
  free(p);
}

int64_t tcrt_alloc_count(void) { return atomic_load(&live_blocks); }
