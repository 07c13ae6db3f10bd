/* runtime/emu/emu_internal.h - private to the emulator: what emu.c (the
 * device arena), fiber.c (fibers), launch.c (blocks and __syncthreads)
 * and warp.c (warp-level operations) share. */
#ifndef TENSORC_EMU_INTERNAL_H
#define TENSORC_EMU_INTERNAL_H

#include "emu.h"
#include "tc_emu.h"

/* EMU_ASAN: built with AddressSanitizer (gcc and clang say so differently) */
#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif

/* x86-64 switches fibers with a few instructions of its own (fiber.c);
 * elsewhere, or with -DEMU_UCONTEXT, with ucontext. */
#if defined(__x86_64__) && !defined(EMU_UCONTEXT)
#define EMU_ASM_SWITCH 1
typedef void *EmuContext; /* the stack pointer of a suspended fiber, its registers pushed below */
#else
#define EMU_ASM_SWITCH 0
#include <ucontext.h>
typedef ucontext_t EmuContext;
#endif

/* ===== emu.c: the device arena ===== */

/* Formats the message into err (if any) and returns code. */
int emu_fail(char *err, size_t errsz, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Device memory is readable and writable from enter to the matching
 * leave; enters and leaves from all host threads nest. */
void emu_arena_enter(void);
void emu_arena_leave(void);
/* True when [p, p + max(bytes, 1)) overlaps the arena, live or not. */
bool emu_in_arena(const void *p, int64_t bytes);

/* ===== fiber.c: a stack and a context to run one kernel thread ===== */

typedef struct EmuFiber {
  EmuContext ctx;
  char *stack; /* the usable part, above a guard page */
  size_t size;
  void (*body)(void *arg);
  void *arg;
  bool done;        /* body returned */
  bool dirty;       /* left suspended by a failed launch (ASan: unpoison before reuse) */
  void *fake_stack; /* ASan's fake stack of the fiber while it is switched out, kept for its next body */
} EmuFiber;

int emu_fiber_init(EmuFiber *f); /* maps the stack: 0, or -1 when it cannot */
void emu_fiber_free(EmuFiber *f);
/* Makes f run body(arg) from the start of its stack at the next resume. */
void emu_fiber_start(EmuFiber *f, void (*body)(void *), void *arg);
/* From the scheduler: runs f until it yields or its body returns. */
void emu_fiber_resume(EmuFiber *f);
/* From inside the running fiber: back to the scheduler. */
void emu_fiber_yield(void);
/* The scheduler will not resume f again (its launch failed). */
void emu_fiber_abandon(EmuFiber *f);

/* ===== launch.c: the block being run on this host thread ===== */

enum { MAX_BLOCK_THREADS = 1024, WARP = 32, MAX_WARPS = MAX_BLOCK_THREADS / WARP };

typedef enum { T_RUNNABLE, T_SYNC, T_WARP, T_EXITED } ThreadState;

typedef struct EmuThread {
  tcemu_thread pub; /* first: tcemu_current points here */
  ThreadState state;
  /* the warp operation it is at (warp.c) */
  int op, type, arg;
  unsigned mask;
  uint64_t value, result;
  EmuFiber *fiber; /* its stack from its first resume until it exits, else NULL */
} EmuThread;

typedef struct EmuWarp {
  unsigned exists;  /* lanes the block has (all 32 but in a last, partial warp) */
  unsigned exited;  /* lanes whose kernel returned */
  unsigned waiting; /* lanes at a warp operation */
} EmuWarp;

/* One per host thread, made on its first launch; its fibers are kept for
 * the next launch. */
typedef struct EmuHost {
  EmuThread *threads; /* MAX_BLOCK_THREADS */
  EmuFiber *fibers;   /* MAX_BLOCK_THREADS, never moved (threads point at them, a ucontext_t into itself) */
  int nfibers;        /* fibers[0..nfibers) have a stack */
  EmuFiber *idle[MAX_BLOCK_THREADS]; /* the block's stacks that no thread holds, the last freed on top */
  int nidle;
  EmuWarp warps[MAX_WARPS];
  /* the launch */
  const char *name;
  void (*fn)(void **params);
  void **params;
  tcemu_dim3 grid, block, block_idx;
  const void *checked[16]; /* pointer parameters found to be device memory */
  /* the block */
  int n;                                    /* threads in it */
  int nrunnable, nsync, nwarp, nexited;     /* threads in each state */
  bool failed;
  char error[512];
} EmuHost;

extern _Thread_local EmuHost *emu_host;

/* From inside a fiber: fails the launch with "kernel 'NAME' block (..):
 * thread (..) " + the message, and never returns (the scheduler abandons
 * the block). */
void emu_thread_fail(EmuThread *t, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* "thread (x, y, z)" */
void emu_thread_name(const EmuThread *t, char *buf, size_t size);
/* The kernel running on this host thread, NULL if none (for the SIGSEGV
 * handler). */
const char *emu_running_kernel(void);

/* ===== warp.c ===== */

/* Called when a thread's kernel returns: fails the launch if lanes of its
 * warp wait at an operation whose mask names it. */
void emu_warp_exit(EmuThread *t);
/* "__shfl_xor_sync" */
const char *emu_warp_op_name(int op);

#endif
