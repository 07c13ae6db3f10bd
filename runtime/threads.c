/* runtime/threads.c - the thread pool behind parallel loops.
 *
 * tcrt_parallel_for(ctx, n, body, env) splits [0, n) into T contiguous
 * chunks, T = min(tcrt_threads(ctx), n): chunk t is [n*t/T, n*(t+1)/T).
 * The calling thread runs chunk 0 and T-1 workers run the rest; the call
 * returns when every chunk is done.  Generated code outlines a kernel's
 * outermost loop into `body` (codegen/cpu_parallel.c), and every iteration of
 * such a loop computes its own points in a fixed order, so the results do
 * not depend on T or on the chunking: only the speed does.
 *
 * One pool per context, made on the first parallel loop that wants more
 * than one thread (a context used with one thread never starts any) and
 * joined by tcrt_ctx_free.  Contexts share nothing, like the rest of the
 * runtime: two contexts on two threads have two pools.  A context is used
 * by one thread at a time, so a pool runs one loop at a time; a parallel
 * loop started from inside a chunk (nested) runs serially in that chunk.
 *
 * Workers sleep on a condition variable between loops; the caller bumps a
 * generation counter and broadcasts, then waits for the count of workers
 * still running to reach zero.  A wake-up costs some microseconds, which
 * is why generated code only calls here for loops with enough work (see
 * par_min_work in ir/target.c) and runs small ones inline.
 *
 * A pool belongs to the process that made it: after fork() the child has
 * no workers, so a pool made by another pid is abandoned (not joined: its
 * threads do not exist here) and a new one made.  If a worker cannot be
 * created the pool runs with the workers it has (possibly none): the
 * loop's results are the same, only slower.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "rt_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct rt_pool {
  pthread_mutex_t mu;
  pthread_cond_t work; /* a new loop (generation changed) or quit */
  pthread_cond_t done; /* running reached 0 */
  pthread_t *tids;
  int nworkers;        /* started; worker w runs chunk w+1 */
  int nchunks;         /* of the current loop: 1 + the workers that take part */
  uint64_t generation; /* bumped for every loop */
  int running;         /* workers not yet finished with the current loop */
  bool quit;
  pid_t pid;           /* the process that made the pool */
  /* the current loop */
  void (*body)(void *env, int64_t begin, int64_t end);
  void *env;
  int64_t n;
};

typedef struct Worker {
  rt_pool *pool;
  int index; /* chunk index - 1 */
} Worker;

/* Set while a thread runs a chunk: a parallel loop inside runs serially. */
static _Thread_local bool in_chunk;

static void run_chunk(void (*body)(void *, int64_t, int64_t), void *env, int64_t n, int t, int nchunks) {
  int64_t begin = (int64_t)((__int128)n * t / nchunks), end = (int64_t)((__int128)n * (t + 1) / nchunks);
  if (begin < end) {
    in_chunk = true;
    body(env, begin, end);
    in_chunk = false;
  }
}

static void *worker_main(void *arg) {
  Worker w = *(Worker *)arg;
  free(arg);
  rt_pool *p = w.pool;
  uint64_t seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->quit && p->generation == seen)
      pthread_cond_wait(&p->work, &p->mu);
    if (p->quit)
      break;
    seen = p->generation;
    if (w.index + 1 >= p->nchunks) /* not needed for this loop: it was not counted in `running` */
      continue;
    void (*body)(void *, int64_t, int64_t) = p->body;
    void *env = p->env;
    int64_t n = p->n;
    int nchunks = p->nchunks;
    pthread_mutex_unlock(&p->mu);
    run_chunk(body, env, n, w.index + 1, nchunks);
    pthread_mutex_lock(&p->mu);
    if (--p->running == 0)
      pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* A pool with up to `nworkers` workers; NULL when out of memory. */
static rt_pool *pool_new(int nworkers) {
  rt_pool *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->tids = calloc((size_t)nworkers, sizeof *p->tids);
  if (!p->tids) {
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->done, NULL);
  p->pid = getpid();
  for (int i = 0; i < nworkers; i++) {
    Worker *w = malloc(sizeof *w);
    if (!w)
      break;
    *w = (Worker){p, i};
    if (pthread_create(&p->tids[i], NULL, worker_main, w) != 0) {
      free(w);
      break; /* run with the workers made so far */
    }
    p->nworkers++;
  }
  return p;
}

void rt_pool_free(rt_pool *p) {
  if (!p)
    return;
  if (p->pid != getpid()) /* made before a fork: its threads are not in this process */
    return;
  pthread_mutex_lock(&p->mu);
  p->quit = true;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->nworkers; i++)
    pthread_join(p->tids[i], NULL);
  pthread_cond_destroy(&p->done);
  pthread_cond_destroy(&p->work);
  pthread_mutex_destroy(&p->mu);
  free(p->tids);
  free(p);
}

int tcrt_parallel_for(tc_ctx *ctx, int64_t n, void (*body)(void *env, int64_t begin, int64_t end), void *env) {
  if (n <= 0)
    return TC_OK;
  int64_t t = ctx ? ctx->threads : 1;
  if (t > n)
    t = n;
  if (t <= 1 || in_chunk) {
    body(env, 0, n);
    return TC_OK;
  }
  /* 1. the pool: made on first use, remade when the thread count grew or
   * after a fork */
  rt_pool *p = ctx->pool;
  if (p && (p->nworkers + 1 < ctx->threads || p->pid != getpid())) {
    rt_pool_free(p);
    p = ctx->pool = NULL;
  }
  if (!p)
    p = ctx->pool = pool_new(ctx->threads - 1);
  if (p && t > p->nworkers + 1)
    t = p->nworkers + 1;
  if (!p || t <= 1) {
    body(env, 0, n);
    return TC_OK;
  }
  /* 2. hand chunks 1..t-1 to the workers, run chunk 0 here, wait */
  pthread_mutex_lock(&p->mu);
  p->body = body;
  p->env = env;
  p->n = n;
  p->nchunks = (int)t;
  p->running = (int)t - 1;
  p->generation++;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  run_chunk(body, env, n, 0, (int)t);
  pthread_mutex_lock(&p->mu);
  while (p->running > 0)
    pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
  return TC_OK;
}

/* The CPUs this process may run on (taskset, cpusets), else the online
 * ones; capped at 256. */
int tcrt_default_threads(void) {
  int n = 0;
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    n = CPU_COUNT(&set);
#endif
  if (n <= 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c > 0 ? (int)(c < 256 ? c : 256) : 1;
  }
  return n < 256 ? n : 256;
}
