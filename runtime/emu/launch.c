/* runtime/emu/launch.c - tcemu_launch: runs a grid on the calling host
 * thread, block after block, each block's threads as fibers (fiber.c),
 * and __syncthreads().
 *
 * The scheduler of a block is round-robin in the order of the threads'
 * linear index: a pass resumes every runnable thread once, and a thread
 * runs until its kernel returns or it waits, at __syncthreads() or at a
 * warp-level operation (warp.c, which makes the warp's lanes runnable
 * again when the last of them arrives).  After a pass with no runnable
 * thread left: if every thread waits at __syncthreads() the barrier
 * releases them all; if all have exited the block is done; anything else
 * can never make progress, and on a GPU it hangs or is undefined (the
 * classic case: some threads return early, the others wait at
 * __syncthreads()), so the launch fails with a message saying who waits
 * where.  There is no preemption and the order is fixed, so a program
 * gives the same results every run; blocks run in order, x fastest.
 *
 * The state of the block being run lives in a per-host-thread EmuHost
 * (emu_internal.h), and tcemu_current points at the running thread's
 * record: two host threads can run launches at once, each with its own
 * fibers and its own copy of __shared__ variables (thread-local).  The
 * fibers and their stacks are kept for the host thread's next launch and
 * unmapped when the thread exits.  A thread takes an idle fiber when it
 * first runs and gives it back when its kernel returns, so the threads of
 * a block that never wait all run on one stack, warm in the cache; a block
 * uses as many stacks as it has threads waiting at once.
 *
 * Errors found inside a fiber (a warp operation gone wrong, a parameter
 * that is not device memory, a misaligned 128-bit access: tc_emu.h's
 * vector loads and stores call tcemu_misaligned, and count themselves in
 * tcemu_vector_accesses) set the host's error and switch back to the
 * scheduler for good; the scheduler abandons the block's other fibers, and
 * tcemu_launch returns the error.
 */
#include "emu_internal.h"

#include "tensorc/runtime.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Thread_local tcemu_thread *tcemu_current;
_Thread_local EmuHost *emu_host;

/* The destructor of a host thread's EmuHost (the key's only use). */
static pthread_key_t host_key;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_free(void *p) {
  EmuHost *h = p;
  for (int i = 0; i < h->nfibers; i++) emu_fiber_free(&h->fibers[i]);
  free(h->fibers);
  free(h->threads);
  free(h);
}

static void make_key(void) { pthread_key_create(&host_key, host_free); }

static EmuHost *host_get(void) {
  if (emu_host) return emu_host;
  pthread_once(&host_once, make_key);
  EmuHost *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->threads = calloc(MAX_BLOCK_THREADS, sizeof *h->threads);
  h->fibers = calloc(MAX_BLOCK_THREADS, sizeof *h->fibers);
  if (!h->threads || !h->fibers) {
    free(h->threads);
    free(h->fibers);
    free(h);
    return NULL;
  }
  pthread_setspecific(host_key, h);
  return emu_host = h;
}

const char *emu_running_kernel(void) { return tcemu_current && emu_host ? emu_host->name : NULL; }

void emu_thread_name(const EmuThread *t, char *buf, size_t size) {
  snprintf(buf, size, "thread (%u, %u, %u)", t->pub.thread_idx.x, t->pub.thread_idx.y, t->pub.thread_idx.z);
}

/* Starts the host's error with "kernel 'NAME' block (x, y, z): "; returns
 * its length. */
static int error_prefix(EmuHost *h) {
  int k = snprintf(h->error, sizeof h->error, "kernel '%s' block (%u, %u, %u): ", h->name, h->block_idx.x,
                   h->block_idx.y, h->block_idx.z);
  return k < (int)sizeof h->error ? k : (int)sizeof h->error - 1;
}

void emu_thread_fail(EmuThread *t, const char *fmt, ...) {
  EmuHost *h = emu_host;
  int k = error_prefix(h);
  char who[64];
  emu_thread_name(t, who, sizeof who);
  k += snprintf(h->error + k, sizeof h->error - (size_t)k, "%s ", who);
  if (k < (int)sizeof h->error) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->error + k, sizeof h->error - (size_t)k, fmt, ap);
    va_end(ap);
  }
  h->failed = true;
  for (;;) emu_fiber_yield(); /* the scheduler never resumes a failed block */
}

uint64_t tcemu_vector_accesses;

void tcemu_misaligned(const void *p, int bytes, bool store) {
  if (!tcemu_current || !emu_host) { /* not from a kernel: nothing to fail */
    fprintf(stderr, "tensorc emulator: a misaligned %d-byte %s at %p outside a kernel\n", bytes,
            store ? "store" : "load", p);
    abort();
  }
  emu_thread_fail((EmuThread *)tcemu_current,
                  "a %d-byte %s at %p, which is not %d-byte aligned (misaligned address: on a GPU the launch fails)",
                  bytes, store ? "store" : "load", p, bytes);
}

bool tcemu_check_device(const void *p, const char *kernel, int index) {
  EmuHost *h = emu_host;
  bool in_launch = h && tcemu_current;
  bool cacheable = in_launch && index >= 0 && index < (int)(sizeof h->checked / sizeof *h->checked);
  /* Every thread of the grid runs the trampoline: look each pointer up once. */
  if (cacheable && p && h->checked[index] == p) return true;
  if (tcemu_is_device(p, 0)) {
    if (cacheable) h->checked[index] = p;
    return true;
  }
  if (in_launch && !h->failed) {
    const char *why = !p                   ? "is NULL"
                      : emu_in_arena(p, 1) ? "is device memory but no live allocation (freed?)"
                                           : "is not device memory (a host pointer: a missing host-to-device copy?)";
    snprintf(h->error, sizeof h->error, "kernel '%s': parameter %d (%p) %s", kernel, index, p, why);
    h->failed = true;
  }
  return false;
}

/* ---- the block scheduler ---- */

/* A fiber's body: the kernel (through its trampoline) for one thread. */
static void thread_main(void *arg) {
  EmuThread *t = arg;
  EmuHost *h = emu_host;
  h->fn(h->params);
  if (h->failed) return; /* the trampoline found a bad parameter */
  t->state = T_EXITED;
  h->nexited++;
  h->nrunnable--;
  emu_warp_exit(t);
}

void tcemu_syncthreads(void) {
  EmuHost *h = emu_host;
  EmuThread *t = (EmuThread *)tcemu_current;
  t->state = T_SYNC;
  h->nsync++;
  h->nrunnable--;
  emu_fiber_yield();
}

/* The first thread in state s, for messages. */
static EmuThread *first_in(EmuHost *h, ThreadState s) {
  for (int i = 0; i < h->n; i++)
    if (h->threads[i].state == s) return &h->threads[i];
  return NULL;
}

/* No thread can run and the block is not done: say who waits where. */
static void report_deadlock(EmuHost *h) {
  int k = error_prefix(h);
  char who[64];
  EmuThread *t;
  k += snprintf(h->error + k, sizeof h->error - (size_t)k, "deadlock:");
  if ((t = first_in(h, T_SYNC)) && k < (int)sizeof h->error) {
    emu_thread_name(t, who, sizeof who);
    k += snprintf(h->error + k, sizeof h->error - (size_t)k, " %d of %d threads wait at __syncthreads() (%s first);",
                  h->nsync, h->n, who);
  }
  if ((t = first_in(h, T_WARP)) && k < (int)sizeof h->error) {
    emu_thread_name(t, who, sizeof who);
    k += snprintf(h->error + k, sizeof h->error - (size_t)k, " %d wait at a warp operation (%s at %s);", h->nwarp,
                  who, emu_warp_op_name(t->op));
  }
  if ((t = first_in(h, T_EXITED)) && k < (int)sizeof h->error) {
    emu_thread_name(t, who, sizeof who);
    k += snprintf(h->error + k, sizeof h->error - (size_t)k, " %d have exited (%s first);", h->nexited, who);
  }
  if (k < (int)sizeof h->error)
    snprintf(h->error + k, sizeof h->error - (size_t)k, " on a GPU this hangs or is undefined");
  h->failed = true;
}

/* Runs the block h->block_idx: returns when all its threads have exited
 * or the launch failed. */
static void run_block(EmuHost *h) {
  int n = h->n;
  for (int i = 0; i < n; i++) {
    EmuThread *t = &h->threads[i];
    t->pub.block_idx = h->block_idx;
    t->state = T_RUNNABLE;
    t->fiber = NULL;
    h->idle[i] = &h->fibers[n - 1 - i];
  }
  h->nidle = n;
  for (int w = 0; w * WARP < n; w++) {
    int lanes = n - w * WARP < WARP ? n - w * WARP : WARP;
    h->warps[w] = (EmuWarp){lanes == WARP ? ~0u : (1u << lanes) - 1, 0, 0};
  }
  h->nrunnable = n;
  h->nsync = h->nwarp = h->nexited = 0;

  for (;;) {
    /* 1. A pass: every runnable thread runs until it waits or exits. */
    for (int i = 0; i < n && !h->failed; i++) {
      EmuThread *t = &h->threads[i];
      if (t->state != T_RUNNABLE) continue;
      if (!t->fiber) {
        t->fiber = h->idle[--h->nidle];
        emu_fiber_start(t->fiber, thread_main, t);
      }
      tcemu_current = &t->pub;
      emu_fiber_resume(t->fiber);
      tcemu_current = NULL;
      if (t->fiber->done) { /* its stack is free for the next thread to start */
        h->idle[h->nidle++] = t->fiber;
        t->fiber = NULL;
      }
    }
    /* 2. Done, or more to run (threads a warp operation released). */
    if (h->failed || h->nexited == n) break;
    if (h->nrunnable > 0) continue;
    /* 3. Everyone at __syncthreads(): release them. */
    if (h->nsync == n) {
      for (int i = 0; i < n; i++) h->threads[i].state = T_RUNNABLE;
      h->nrunnable = n;
      h->nsync = 0;
      continue;
    }
    /* 4. Stuck. */
    report_deadlock(h);
    break;
  }
  if (h->failed)
    for (int i = 0; i < n; i++)
      if (h->threads[i].fiber) emu_fiber_abandon(h->threads[i].fiber);
}

int tcemu_launch(const char *name, void (*fn)(void **params), unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                 unsigned by, unsigned bz, void **params, char *err, size_t errsz) {
  if (!name) name = "?";
  if (err && errsz) err[0] = 0;
  uint64_t nthreads = (uint64_t)bx * by * bz;
  if (nthreads == 0 || nthreads > MAX_BLOCK_THREADS)
    return emu_fail(err, errsz, TC_ERR_RUNTIME,
                    "kernel '%s': a block of %llu threads (%u x %u x %u); a block has 1 to %d threads", name,
                    (unsigned long long)nthreads, bx, by, bz, MAX_BLOCK_THREADS);
  if (bz > 64)
    return emu_fail(err, errsz, TC_ERR_RUNTIME, "kernel '%s': a block of %u x %u x %u threads; z is at most 64", name,
                    bx, by, bz);
  if (!gx || !gy || !gz || gx > 0x7fffffffu || gy > 65535 || gz > 65535)
    return emu_fail(err, errsz, TC_ERR_RUNTIME,
                    "kernel '%s': a grid of %u x %u x %u blocks; x is 1 to 2^31-1, y and z 1 to 65535", name, gx, gy,
                    gz);
  if (tcemu_current)
    return emu_fail(err, errsz, TC_ERR_RUNTIME,
                    "kernel '%s': launched from inside a kernel (the emulator has no dynamic parallelism)", name);
  if (!fn) return emu_fail(err, errsz, TC_ERR_RUNTIME, "kernel '%s': no function to run", name);
  EmuHost *h = host_get();
  if (!h) return emu_fail(err, errsz, TC_ERR_NOMEM, "kernel '%s': out of memory for the emulator's threads", name);
  while (h->nfibers < (int)nthreads) {
    if (emu_fiber_init(&h->fibers[h->nfibers]) != 0)
      return emu_fail(err, errsz, TC_ERR_NOMEM, "kernel '%s': cannot map a stack for emulated thread %d", name,
                      h->nfibers);
    h->nfibers++;
  }

  h->name = name;
  h->fn = fn;
  h->params = params;
  h->grid = (tcemu_dim3){gx, gy, gz};
  h->block = (tcemu_dim3){bx, by, bz};
  h->n = (int)nthreads;
  /* What a thread's record says besides its block is the same in every
   * block: set once here, not per block (run_block). */
  for (unsigned i = 0; i < (unsigned)nthreads; i++) {
    tcemu_thread *p = &h->threads[i].pub;
    p->thread_idx = (tcemu_dim3){i % bx, i / bx % by, i / (bx * by)};
    p->block_dim = h->block;
    p->grid_dim = h->grid;
    p->lane = i % WARP;
    p->warp = i / WARP;
  }
  memset(h->checked, 0, sizeof h->checked);
  h->failed = false;
  emu_arena_enter();
  for (unsigned z = 0; z < gz && !h->failed; z++)
    for (unsigned y = 0; y < gy && !h->failed; y++)
      for (unsigned x = 0; x < gx && !h->failed; x++) {
        h->block_idx = (tcemu_dim3){x, y, z};
        run_block(h);
      }
  emu_arena_leave();
  h->name = NULL;
  if (h->failed) return emu_fail(err, errsz, TC_ERR_RUNTIME, "%s", h->error);
  return 0;
}
