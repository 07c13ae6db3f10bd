/* tests/runtime/threads_test.c - runtime/threads.c: tcrt_parallel_for runs
 * every index of [0, n) exactly once, in non-empty blocks inside [0, n),
 * for any n and thread count; back-to-back loops (a worker that wakes late
 * must not run a block of the next loop with the last loop's body); a
 * nested loop runs serially on its thread; and a thread that is held up
 * has its blocks taken over by the others instead of being waited for.
 *
 *   threads_test    runs the checks; exit 0 when all pass
 */
#include "tensorc/runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

typedef struct Visits {
  _Atomic int *count; /* per index: how many times body ran it */
  _Atomic int bad_blocks; /* blocks empty or outside [0, n) */
  int64_t n;
  int tag; /* which loop this env belongs to (back-to-back loops) */
  _Atomic int wrong_tag;
} Visits;

static void visit(void *env, int64_t begin, int64_t end) {
  Visits *v = env;
  if (begin >= end || begin < 0 || end > v->n)
    atomic_fetch_add(&v->bad_blocks, 1);
  for (int64_t i = begin; i < end && i < v->n; i++)
    if (i >= 0)
      atomic_fetch_add(&v->count[i], 1);
}

/* Every index once, for sizes around the block and chunk boundaries. */
static void test_cover(void) {
  static const int64_t sizes[] = {1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 65, 100, 1000, 4099, 100003};
  static const int threads[] = {1, 2, 3, 4, 8};
  tc_ctx *ctx = tcrt_ctx_new(0);
  for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
    tcrt_set_threads(ctx, threads[t]);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
      int64_t n = sizes[s];
      Visits v = {.count = calloc((size_t)n, sizeof(_Atomic int)), .n = n};
      CHECK(tcrt_parallel_for(ctx, n, visit, &v) == TC_OK, "n=%lld: not TC_OK", (long long)n);
      int64_t wrong = 0;
      for (int64_t i = 0; i < n; i++)
        wrong += atomic_load(&v.count[i]) != 1;
      CHECK(wrong == 0, "threads=%d n=%lld: %lld indices not run exactly once", threads[t], (long long)n,
            (long long)wrong);
      CHECK(atomic_load(&v.bad_blocks) == 0, "threads=%d n=%lld: empty or out-of-range blocks", threads[t],
            (long long)n);
      free((void *)v.count);
    }
  }
  /* n <= 0 runs nothing */
  Visits none = {.n = 0};
  CHECK(tcrt_parallel_for(ctx, 0, visit, &none) == TC_OK && atomic_load(&none.bad_blocks) == 0, "n=0 ran body");
  CHECK(tcrt_parallel_for(ctx, -5, visit, &none) == TC_OK && atomic_load(&none.bad_blocks) == 0, "n<0 ran body");
  tcrt_ctx_free(ctx);
}

static void visit_tagged(void *env, int64_t begin, int64_t end) {
  Visits *v = env;
  if (v->tag != v->n) /* each loop's env has tag == n: a stale body/env pair would not */
    atomic_fetch_add(&v->wrong_tag, 1);
  visit(env, begin, end);
}

/* Many short loops in a row, each with its own env: a worker still waking
 * from loop k must not run loop k+1's blocks with loop k's env. */
static void test_back_to_back(void) {
  tc_ctx *ctx = tcrt_ctx_new(0);
  tcrt_set_threads(ctx, 4);
  int64_t wrong = 0, bad = 0, tags = 0;
  for (int k = 0; k < 20000; k++) {
    int64_t n = 1 + k % 97;
    Visits *v = calloc(1, sizeof *v);
    v->count = calloc((size_t)n, sizeof(_Atomic int));
    v->n = n;
    v->tag = (int)n;
    tcrt_parallel_for(ctx, n, visit_tagged, v);
    for (int64_t i = 0; i < n; i++)
      wrong += atomic_load(&v->count[i]) != 1;
    bad += atomic_load(&v->bad_blocks);
    tags += atomic_load(&v->wrong_tag);
    free((void *)v->count);
    free(v); /* freed at once: a late worker touching it is an ASan error */
  }
  CHECK(wrong == 0, "back to back: %lld indices not run exactly once", (long long)wrong);
  CHECK(bad == 0 && tags == 0, "back to back: %lld bad blocks, %lld stale envs", (long long)bad, (long long)tags);
  tcrt_ctx_free(ctx);
}

typedef struct Nested {
  tc_ctx *ctx;
  _Atomic int other_thread; /* inner blocks run on a thread other than the outer block's */
  _Atomic int inner_runs;
} Nested;

typedef struct Inner {
  Nested *outer;
  pthread_t self;
} Inner;

static void inner_body(void *env, int64_t begin, int64_t end) {
  Inner *in = env;
  if (!pthread_equal(in->self, pthread_self()))
    atomic_fetch_add(&in->outer->other_thread, 1);
  atomic_fetch_add(&in->outer->inner_runs, (int)(end - begin));
}

static void outer_body(void *env, int64_t begin, int64_t end) {
  Nested *o = env;
  for (int64_t i = begin; i < end; i++) {
    Inner in = {o, pthread_self()};
    tcrt_parallel_for(o->ctx, 1000, inner_body, &in);
  }
}

static void test_nested(void) {
  tc_ctx *ctx = tcrt_ctx_new(0);
  tcrt_set_threads(ctx, 4);
  Nested o = {.ctx = ctx};
  tcrt_parallel_for(ctx, 64, outer_body, &o);
  CHECK(atomic_load(&o.inner_runs) == 64 * 1000, "nested: %d inner indices run, want 64000", atomic_load(&o.inner_runs));
  CHECK(atomic_load(&o.other_thread) == 0, "nested: an inner loop ran on another thread");
  tcrt_ctx_free(ctx);
}

/* Two threads, n = 1600 (chunks of 800, blocks of 100).  The thread that
 * runs index 0 (the caller's chunk) stops there until the other thread has
 * run more than its own chunk, i.e. taken over blocks of the held-up one;
 * with whole chunks per thread it would wait out its 10 s limit. */
typedef struct Held {
  _Atomic int by_other; /* indices run by threads other than the held one */
  _Atomic bool holding;
  pthread_t held;
  _Atomic int64_t held_indices;
  bool timed_out;
} Held;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void held_body(void *env, int64_t begin, int64_t end) {
  Held *h = env;
  if (begin == 0) {
    h->held = pthread_self();
    atomic_store(&h->holding, true);
    double limit = now_s() + 10;
    while (atomic_load(&h->by_other) <= 800 && now_s() < limit)
      ;
    h->timed_out = atomic_load(&h->by_other) <= 800;
    atomic_fetch_add(&h->held_indices, end - begin);
    return;
  }
  /* wait until the holder is known, so that every other block is counted
   * for the right thread */
  while (!atomic_load(&h->holding))
    ;
  if (pthread_equal(h->held, pthread_self()))
    atomic_fetch_add(&h->held_indices, end - begin);
  else
    atomic_fetch_add(&h->by_other, (int)(end - begin));
}

static void test_held_up_thread(void) {
  tc_ctx *ctx = tcrt_ctx_new(0);
  tcrt_set_threads(ctx, 2);
  Held h = {0};
  tcrt_parallel_for(ctx, 1600, held_body, &h);
  CHECK(!h.timed_out, "held-up thread: the other thread did not take over its blocks (ran %d indices)",
        atomic_load(&h.by_other));
  CHECK(atomic_load(&h.by_other) + atomic_load(&h.held_indices) == 1600, "held-up thread: %d + %lld indices, want 1600",
        atomic_load(&h.by_other), (long long)atomic_load(&h.held_indices));
  tcrt_ctx_free(ctx);
}

int main(void) {
  test_cover();
  test_back_to_back();
  test_nested();
  test_held_up_thread();
  printf("threads: %d of %d checks passed\n", checks - failures, checks);
  return failures != 0;
}
