/* runtime/rt_internal.h - private to libtensorc_rt: the context's layout. */
#ifndef TENSORC_RT_INTERNAL_H
#define TENSORC_RT_INTERNAL_H

#include "tensorc/runtime.h"

struct tc_ctx {
  void **params;       /* param buffers, owned */
  int nparams;
  uint64_t seed;       /* Philox key */
  uint64_t counter;    /* next unused Philox block */
  int threads;
  char error[1024];
};

#endif
