/* runtime/emu/fiber.c - fibers: each kernel thread of a block runs on its
 * own stack, and the scheduler (launch.c) switches between them.
 *
 * A fiber is a ucontext_t (makecontext / swapcontext) and a stack of
 * STACK_BYTES from mmap with a PROT_NONE guard page below it, so that a
 * kernel thread that overflows its stack faults instead of writing into
 * its neighbour's.  Stacks are mapped once and reused by every block and
 * launch of the host thread (launch.c keeps them); pages are committed
 * only when touched.  Switches always go through the host thread's own
 * stack: the scheduler resumes a fiber, the fiber yields back (at a
 * barrier) or its body returns.
 *
 * Under AddressSanitizer each switch is announced with
 * __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber, which
 * tell ASan which stack is current (else it takes fiber stacks for wild
 * memory).  A fiber left suspended by a failed launch never unwinds, so
 * its stack keeps the poison of its frames' redzones: it is unpoisoned
 * before the stack is used again.
 */
#define _GNU_SOURCE /* MAP_STACK, MAP_NORESERVE */
#include "emu_internal.h"

#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#ifdef EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#define STACK_BYTES ((size_t)256 << 10)

/* The scheduler's side of this host thread: its context while a fiber
 * runs, the fiber running, and (ASan) the bounds of the host stack. */
static _Thread_local ucontext_t sched_ctx;
static _Thread_local EmuFiber *running;
#ifdef EMU_ASAN
static _Thread_local const void *host_stack;
static _Thread_local size_t host_stack_size;
#endif

int emu_fiber_init(EmuFiber *f) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, STACK_BYTES + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (m == MAP_FAILED) return -1;
  if (mprotect(m, page, PROT_NONE) != 0 || getcontext(&f->ctx) != 0) {
    munmap(m, STACK_BYTES + page);
    return -1;
  }
  f->stack = m + page;
  f->size = STACK_BYTES;
  f->done = true;
  f->dirty = false;
  return 0;
}

void emu_fiber_free(EmuFiber *f) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (f->stack) munmap(f->stack - page, f->size + page);
  f->stack = NULL;
}

/* The first code a fiber runs: its body, then back to the scheduler for
 * good (the context is made afresh for its next body). */
static void fiber_main(void) {
  EmuFiber *f = running;
#ifdef EMU_ASAN
  __sanitizer_finish_switch_fiber(NULL, &host_stack, &host_stack_size);
#endif
  f->body(f->arg);
  f->done = true;
#ifdef EMU_ASAN
  __sanitizer_start_switch_fiber(NULL, host_stack, host_stack_size); /* NULL: this stack's frames are gone */
#endif
  setcontext(&sched_ctx);
}

void emu_fiber_start(EmuFiber *f, void (*body)(void *), void *arg) {
  if (f->dirty) {
#ifdef EMU_ASAN
    ASAN_UNPOISON_MEMORY_REGION(f->stack, f->size);
#endif
    f->dirty = false;
  }
  f->ctx.uc_stack.ss_sp = f->stack;
  f->ctx.uc_stack.ss_size = f->size;
  f->ctx.uc_link = NULL;
  makecontext(&f->ctx, fiber_main, 0);
  f->body = body;
  f->arg = arg;
  f->done = false;
}

void emu_fiber_resume(EmuFiber *f) {
  running = f;
#ifdef EMU_ASAN
  void *fake = NULL;
  __sanitizer_start_switch_fiber(&fake, f->stack, f->size);
#endif
  swapcontext(&sched_ctx, &f->ctx);
#ifdef EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
  running = NULL;
}

void emu_fiber_yield(void) {
  EmuFiber *f = running;
#ifdef EMU_ASAN
  __sanitizer_start_switch_fiber(&f->fake_stack, host_stack, host_stack_size);
#endif
  swapcontext(&f->ctx, &sched_ctx);
#ifdef EMU_ASAN
  __sanitizer_finish_switch_fiber(f->fake_stack, NULL, NULL);
#endif
}

void emu_fiber_abandon(EmuFiber *f) {
  if (!f->done) f->dirty = true;
  f->done = true;
}
