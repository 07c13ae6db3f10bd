/* runtime/rt_internal.h - private to libtensorc_rt: the context's layout. */
#ifndef TENSORC_RT_INTERNAL_H
#define TENSORC_RT_INTERNAL_H

#include "tensorc/runtime.h"

typedef struct rt_pool rt_pool;

struct tc_ctx {
  void **params;       /* param buffers, owned */
  int nparams;
  uint64_t seed;       /* Philox key */
  uint64_t counter;    /* next unused Philox block */
  int threads;
  rt_pool *pool;       /* threads.c: workers for parallel loops, made on first use */
  char error[1024];
  struct BlockHead *blocks; /* live blocks allocated for this context, newest first */
  uint64_t next_serial;     /* of the next such block */
  struct BlockHead *cache;  /* freed blocks kept for reuse (alloc.c) */
  int ncached;
};

/* params.c: text for messages */
void rt_param_type(const tc_paramdesc *p, char *buf, size_t size);          /* "f32[64, 10]" */
void rt_shape_str(int rank, const int64_t *shape, char *buf, size_t size); /* NumPy's "(100, 65)" */
char *rt_param_path(const char *dir, const char *name);                     /* DIR/NAME.npy, malloc'd */

/* alloc.c: the context's blocks (see there). */
uint64_t rt_alloc_mark(const tc_ctx *ctx);
void rt_release_since(tc_ctx *ctx, uint64_t mark); /* frees blocks since mark, params excepted */
void rt_forget_blocks(tc_ctx *ctx);                /* unlinks all (the context is going away) */
void rt_detach_block(void *p);                     /* unlinks one (handed to the caller) */
void rt_free_cache(tc_ctx *ctx);                   /* returns the cached blocks to the system */

/* threads.c: joins the pool's workers and frees it (NULL is fine). */
void rt_pool_free(rt_pool *p);

#endif
