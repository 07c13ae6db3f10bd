/* runtime/emu/fiber.c - fibers: each kernel thread of a block runs on a
 * stack of its own, and the scheduler (launch.c) switches between them.
 *
 * A fiber is a stack of STACK_BYTES from mmap, with a PROT_NONE guard
 * page below it so that a kernel thread that overflows its stack faults
 * instead of writing into its neighbour's, and a saved context.  Stacks
 * are mapped once and reused by every block and launch of the host thread
 * (launch.c keeps them, and hands a stack to a thread when it first runs
 * and takes it back when it exits: a block whose threads never wait runs
 * them all on one stack).  Pages are committed only when touched.
 * Switches always go through the host thread's own stack: the scheduler
 * resumes a fiber, the fiber yields back (at a barrier) or its body
 * returns.  So a kernel thread costs two switches, in and out, and two
 * more for each time it waits.
 *
 * Switches must be cheap: the emulator runs every kernel of the end-to-end
 * tests, a million threads a launch.  ucontext's swapcontext saves and
 * restores the signal mask, a system call each time, about 0.2 us a
 * switch.  On x86-64 a switch is instead emu_ctx_switch below, 16
 * instructions: it pushes the callee-saved registers on the stack being
 * left and stores its stack pointer, loads the other's and pops its
 * registers; the compiler has saved whatever else it needs around the
 * call, as around any call.  A thread's trip to the scheduler and back at
 * a barrier, two switches, takes about 20 ns in an optimised build.  What
 * ucontext saves besides is left alone on purpose: the signal mask is the
 * host thread's and no kernel changes it, nor the floating-point
 * environment (CUDA device code has no way to), so MXCSR and the x87
 * control word need no switching.  A new fiber starts from a stack made to
 * look like a suspended one that continues at fiber_main.  Other
 * architectures, or builds with -DEMU_UCONTEXT, use ucontext (makecontext
 * / swapcontext): the same fibers, slower.
 *
 * Under AddressSanitizer each switch is announced with
 * __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber, which
 * tell ASan which stack is current (else it takes fiber stacks for wild
 * memory).  A fiber's fake stack (ASan's detect_stack_use_after_return) is
 * kept from one body to the next on the same stack, not destroyed at each
 * exit: ASan would map a new one for every kernel thread (about 10 us
 * each); the fake stacks outlive the fibers when the host thread exits,
 * since ASan destroys one only in a switch away from it.  A fiber left suspended by a failed launch never unwinds, so its
 * stack keeps the poison of its frames' redzones: it is unpoisoned before
 * the stack is used again.
 */
#define _GNU_SOURCE /* MAP_STACK, MAP_NORESERVE */
#include "emu_internal.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#define STACK_BYTES ((size_t)256 << 10)

/* The scheduler's side of this host thread: its context while a fiber
 * runs, the fiber running, and (ASan) the bounds of the host stack. */
static _Thread_local EmuContext sched_ctx;
static _Thread_local EmuFiber *running;
#ifdef EMU_ASAN
static _Thread_local const void *host_stack;
static _Thread_local size_t host_stack_size;
#endif

static void fiber_main(void);

#if EMU_ASM_SWITCH
/* emu_ctx_switch(save, to): saves the callee-saved registers on the
 * current stack and the stack pointer in *save, then continues the
 * context saved in to: pops its registers and its return address, and
 * jumps there.  A jump rather than `ret`: the CPU predicts a `ret` from
 * its stack of return addresses, whose top is the caller of this switch,
 * never where the other context goes on, so every return would be
 * mispredicted; an indirect jump is predicted from where it went before,
 * and the threads of a block mostly go on at the same place (the same
 * barrier).  rbp is saved like the others; a new fiber's is 0, which ends
 * frame-pointer backtraces.  The .cfi lines let a debugger or profiler
 * stopped inside the switch unwind through it. */
void emu_ctx_switch(void **save, void *to) __attribute__((visibility("hidden")));
__asm__(".text\n"
        ".p2align 4\n"
        ".globl emu_ctx_switch\n"
        ".hidden emu_ctx_switch\n"
        ".type emu_ctx_switch, @function\n"
        "emu_ctx_switch:\n"
        "  .cfi_startproc\n"
        "  pushq %rbp; .cfi_adjust_cfa_offset 8; .cfi_rel_offset %rbp, 0\n"
        "  pushq %rbx; .cfi_adjust_cfa_offset 8; .cfi_rel_offset %rbx, 0\n"
        "  pushq %r12; .cfi_adjust_cfa_offset 8; .cfi_rel_offset %r12, 0\n"
        "  pushq %r13; .cfi_adjust_cfa_offset 8; .cfi_rel_offset %r13, 0\n"
        "  pushq %r14; .cfi_adjust_cfa_offset 8; .cfi_rel_offset %r14, 0\n"
        "  pushq %r15; .cfi_adjust_cfa_offset 8; .cfi_rel_offset %r15, 0\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n" /* the other stack has the same frame: the unwind rules hold */
        "  popq %r15; .cfi_adjust_cfa_offset -8; .cfi_restore %r15\n"
        "  popq %r14; .cfi_adjust_cfa_offset -8; .cfi_restore %r14\n"
        "  popq %r13; .cfi_adjust_cfa_offset -8; .cfi_restore %r13\n"
        "  popq %r12; .cfi_adjust_cfa_offset -8; .cfi_restore %r12\n"
        "  popq %rbx; .cfi_adjust_cfa_offset -8; .cfi_restore %rbx\n"
        "  popq %rbp; .cfi_adjust_cfa_offset -8; .cfi_restore %rbp\n"
        "  popq %rcx; .cfi_adjust_cfa_offset -8; .cfi_register %rip, %rcx\n"
        "  jmpq *%rcx\n"
        "  .cfi_endproc\n"
        ".size emu_ctx_switch, .-emu_ctx_switch\n");

static inline void ctx_switch(EmuContext *save, EmuContext *to) { emu_ctx_switch(save, *to); }

/* For a fiber whose body returned: where its registers go does not matter. */
static inline void ctx_exit(EmuContext *to) {
  void *gone;
  emu_ctx_switch(&gone, *to);
}

/* The stack of a fiber suspended in emu_ctx_switch, as fiber_main will
 * find it: from the top, a null return address for fiber_main (where a
 * caller's would be; backtraces stop there), fiber_main as the address
 * emu_ctx_switch goes on at, 16-byte aligned so that fiber_main starts as
 * if called, and the six registers it pops, all 0. */
static void ctx_make(EmuFiber *f) {
  uintptr_t top = ((uintptr_t)f->stack + f->size) & ~(uintptr_t)15;
  void **sp = (void **)top - 2;
  sp[1] = NULL;
  sp[0] = (void *)(uintptr_t)fiber_main;
  sp -= 6;
  for (int i = 0; i < 6; i++) sp[i] = NULL;
  f->ctx = sp;
}

static int ctx_init(EmuFiber *f) { return 0; } /* ctx_make writes all there is */
#else
static inline void ctx_switch(EmuContext *save, EmuContext *to) { swapcontext(save, to); }
static inline void ctx_exit(EmuContext *to) { setcontext(to); }

static void ctx_make(EmuFiber *f) {
  f->ctx.uc_stack.ss_sp = f->stack;
  f->ctx.uc_stack.ss_size = f->size;
  f->ctx.uc_link = NULL;
  makecontext(&f->ctx, fiber_main, 0);
}

/* makecontext needs a context that getcontext filled in. */
static int ctx_init(EmuFiber *f) { return getcontext(&f->ctx); }
#endif

int emu_fiber_init(EmuFiber *f) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, STACK_BYTES + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (m == MAP_FAILED) return -1;
  if (mprotect(m, page, PROT_NONE) != 0 || ctx_init(f) != 0) {
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
  __sanitizer_finish_switch_fiber(f->fake_stack, &host_stack, &host_stack_size);
#endif
  f->body(f->arg);
  f->done = true;
#ifdef EMU_ASAN
  __sanitizer_start_switch_fiber(&f->fake_stack, host_stack, host_stack_size); /* kept for the next body */
#endif
  ctx_exit(&sched_ctx);
  __builtin_unreachable(); /* nothing resumes a fiber whose body returned before ctx_make again */
}

void emu_fiber_start(EmuFiber *f, void (*body)(void *), void *arg) {
  if (f->dirty) {
#ifdef EMU_ASAN
    ASAN_UNPOISON_MEMORY_REGION(f->stack, f->size);
#endif
    f->dirty = false;
  }
  ctx_make(f);
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
  ctx_switch(&sched_ctx, &f->ctx);
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
  ctx_switch(&f->ctx, &sched_ctx);
#ifdef EMU_ASAN
  __sanitizer_finish_switch_fiber(f->fake_stack, NULL, NULL);
#endif
}

void emu_fiber_abandon(EmuFiber *f) {
  if (!f->done) f->dirty = true;
  f->done = true;
}
