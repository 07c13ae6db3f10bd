/* runtime/threads.c - the thread pool behind parallel loops.
 *
 * tcrt_parallel_for(ctx, n, body, env) splits [0, n) into T contiguous
 * chunks, T = min(tcrt_threads(ctx), n): chunk t is [n*t/T, n*(t+1)/T),
 * and each chunk into blocks of about an eighth of it.  The calling thread
 * owns chunk 0 and T-1 workers own the rest.  Each runs its own chunk's
 * blocks in order, claiming them one at a time from the chunk's atomic
 * counter, and then claims what is left of the other chunks.  So a worker
 * that wakes up late, or shares its core with another process, costs the
 * loop a share of a block rather than a whole chunk, and when all threads
 * keep up every thread runs its own chunk, in the same rows from one loop
 * to the next (their data stays in that core's cache).  Generated code
 * outlines a kernel's outermost loop into `body` (codegen/cpu_parallel.c),
 * and every iteration of such a loop computes its own points in a fixed
 * order, so the results do not depend on T or on who ran which block: only
 * the speed does.
 *
 * One pool per context, made on the first parallel loop that wants more
 * than one thread (a context used with one thread never starts any) and
 * joined by tcrt_ctx_free.  Contexts share nothing, like the rest of the
 * runtime: two contexts on two threads have two pools.  A context is used
 * by one thread at a time, so a pool runs one loop at a time; a parallel
 * loop started from inside a block (nested) runs serially in that block.
 *
 * Workers sleep on a condition variable between loops; the caller bumps a
 * generation counter and broadcasts, runs blocks until none is left, then
 * waits for the workers still running one (spinning briefly first, since
 * the last block ends soon).  A worker that wakes after every block was
 * claimed is not waited for: the loop is closed and it sleeps again.  A
 * wake-up costs some microseconds, which is why generated code only calls
 * here for loops with enough work (see par_min_work in ir/target.c) and
 * runs small ones inline.
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
#include <stdatomic.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* A chunk's blocks: whoever runs one claims it from `next` (the owner
 * first, then any participant that has finished its own chunk). */
typedef struct Chunk {
  _Atomic int64_t next; /* first unclaimed index */
  int64_t end;
  char pad[64 - 2 * sizeof(int64_t)]; /* one cache line per chunk */
} Chunk;

struct rt_pool {
  pthread_mutex_t mu;
  pthread_cond_t work; /* a new loop (generation changed) or quit */
  pthread_cond_t done; /* active reached 0 */
  pthread_t *tids;
  int nworkers;        /* started; worker w owns chunk w+1 */
  uint64_t generation; /* bumped for every loop */
  bool open;           /* the current loop still takes workers */
  _Atomic int active;  /* workers inside the current loop (changed under mu;
                          the caller also spins on it) */
  bool quit;
  pid_t pid; /* the process that made the pool */
  /* the current loop */
  void (*body)(void *env, int64_t begin, int64_t end);
  void *env;
  int nchunks;
  int64_t grain; /* indices per claim */
  Chunk *chunks; /* nworkers + 1 */
};

typedef struct Worker {
  rt_pool *pool;
  int index; /* chunk index - 1 */
} Worker;

/* Set while a thread runs a chunk: a parallel loop inside runs serially. */
static _Thread_local bool in_chunk;

/* Claims and runs blocks of chunk `c` until it has none left. */
static void drain_chunk(rt_pool *p, Chunk *c) {
  for (;;) {
    int64_t b = atomic_fetch_add_explicit(&c->next, p->grain, memory_order_relaxed);
    if (b >= c->end)
      return;
    int64_t e = c->end - b < p->grain ? c->end : b + p->grain;
    p->body(p->env, b, e);
  }
}

/* Runs the loop's blocks, own chunk `t` first, then the others' leftovers. */
static void take_part(rt_pool *p, int t) {
  in_chunk = true;
  for (int i = 0; i < p->nchunks; i++)
    drain_chunk(p, &p->chunks[(t + i) % p->nchunks]);
  in_chunk = false;
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
    /* A worker that wakes after the loop is over (the others ran its
     * chunk) or that this loop does not use sleeps again. */
    if (!p->open || w.index + 1 >= p->nchunks)
      continue;
    atomic_fetch_add(&p->active, 1);
    pthread_mutex_unlock(&p->mu);
    take_part(p, w.index + 1);
    pthread_mutex_lock(&p->mu);
    if (atomic_fetch_sub(&p->active, 1) == 1)
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
  p->chunks = aligned_alloc(64, (size_t)(nworkers + 1) * sizeof *p->chunks);
  if (!p->tids || !p->chunks) {
    free(p->tids);
    free(p->chunks);
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
  free(p->chunks);
  free(p);
}

/* How long the caller, done with its blocks, spins for the workers still
 * running one before it sleeps: about a block of a loop worth running in
 * parallel, so that it is not put to sleep (and woken, which costs some
 * microseconds more) for the last one. */
enum { SPIN_NS = 50 * 1000 };

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Until no worker runs a block or SPIN_NS have passed. */
static void spin_for_workers(rt_pool *p) {
  int64_t deadline = now_ns() + SPIN_NS;
  while (atomic_load(&p->active) > 0 && now_ns() < deadline) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
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
  /* 2. the loop's chunks, in blocks of about 1/BLOCKS_PER_CHUNK of one */
  enum { BLOCKS_PER_CHUNK = 8 };
  pthread_mutex_lock(&p->mu);
  p->body = body;
  p->env = env;
  p->nchunks = (int)t;
  p->grain = n / (t * BLOCKS_PER_CHUNK) > 1 ? n / (t * BLOCKS_PER_CHUNK) : 1;
  for (int c = 0; c < t; c++) {
    atomic_store_explicit(&p->chunks[c].next, (int64_t)((__int128)n * c / t), memory_order_relaxed);
    p->chunks[c].end = (int64_t)((__int128)n * (c + 1) / t);
  }
  p->open = true;
  p->generation++;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  /* 3. run chunk 0 and whatever the workers have not claimed yet */
  take_part(p, 0);
  /* 4. every block is claimed: wait for the workers running one.  A worker
   * that has not woken up yet is not waited for: `open` turns it away. */
  spin_for_workers(p);
  pthread_mutex_lock(&p->mu);
  p->open = false;
  while (atomic_load(&p->active) > 0)
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
