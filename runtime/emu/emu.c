/* runtime/emu/emu.c - the emulator's device memory: one arena, its
 * allocator, the copies in and out, and the fault handler that catches
 * host code reading device memory.
 *
 * The arena is one mmap'd range of address space (1 GiB by default),
 * reserved PROT_NONE; the kernel commits its pages when first touched.
 * Allocations are 256-byte granules (cudaMalloc's alignment) carved by a
 * first-fit allocator whose records live on the host heap, outside the
 * arena: a sorted array of chunks that tiles [0, top), each used or free.
 * A request takes the first free chunk that holds it (split if larger),
 * else grows top; a free merges with its free neighbours.  Everything
 * under one mutex, so host threads may share the arena.
 *
 * Missing-copy detection: [base, base + top) is readable and writable only
 * while a launch or a copy runs on some host thread (a count of those in
 * progress: the first to start opens it with mprotect, the last to end
 * closes it).  Otherwise host code that dereferences a device pointer
 * faults, and the SIGSEGV handler (installed by tcemu_init, after
 * AddressSanitizer's, to which it chains with every fault outside the
 * arena) names the address and aborts: generated code that reads device
 * memory without a copy is a compiler bug, found at once.  Beyond top the
 * arena stays PROT_NONE, so a kernel reading far past the last allocation
 * faults too.  The check is coarse while host threads overlap: one
 * thread's launch opens the arena to the others.
 *
 * Under AddressSanitizer the bytes of the arena that no live allocation
 * covers are poisoned, and each allocation is followed by a poisoned
 * granule, so a kernel that reads past its buffer or a freed one is
 * reported by ASan.
 */
#define _GNU_SOURCE /* REG_ERR, MAP_NORESERVE */
#include "emu_internal.h"

#include "tensorc/runtime.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef EMU_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
enum { REDZONE = 256 }; /* a poisoned granule after each allocation */
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
enum { REDZONE = 0 };
#endif

enum { GRANULE = 256 };
#define DEFAULT_ARENA ((size_t)1 << 30)

typedef struct Chunk {
  size_t off;  /* from the arena's base */
  size_t size; /* granules * GRANULE */
  size_t req;  /* the bytes asked for (used chunks) */
  bool used;
} Chunk;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Read by the SIGSEGV handler without the mutex: set once (base, size)
 * or atomic (top, active). */
static char *base;
static size_t arena_size;
static atomic_size_t top;  /* the end of the last chunk */
static atomic_int active;  /* launches and copies in progress, all threads */
static Chunk *chunks;      /* sorted by off, tiling [0, top) */
static int nchunks, cap;
static atomic_llong live, calls;
static struct sigaction prev_segv;

int emu_fail(char *err, size_t errsz, int code, const char *fmt, ...) {
  if (err && errsz) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* ---- the fault handler ---- */

/* write(2) of a string: the handler may only use async-signal-safe calls. */
static void say(const char *s) {
  size_t n = strlen(s);
  while (n) {
    ssize_t w = write(2, s, n);
    if (w <= 0) return;
    s += w, n -= (size_t)w;
  }
}

static void say_hex(uintptr_t a) {
  char buf[2 + 2 * sizeof a + 1], *p = buf + sizeof buf - 1;
  *p = 0;
  do
    *--p = "0123456789abcdef"[a & 15];
  while (a >>= 4);
  *--p = 'x', *--p = '0';
  say(p);
}

static bool faulted_on_write(void *uctx) {
#if defined(__x86_64__)
  return (((ucontext_t *)uctx)->uc_mcontext.gregs[REG_ERR] & 2) != 0; /* the page fault's W bit */
#else
  (void)uctx;
  return false; /* unknown: said as a read */
#endif
}

static void on_segv(int sig, siginfo_t *si, void *uctx) {
  uintptr_t a = (uintptr_t)si->si_addr, b = (uintptr_t)base;
  if (b && a - b < arena_size) {
    const char *kernel = emu_running_kernel();
    if (kernel) {
      say("tensorc emulator: kernel ");
      say(kernel);
      say(" accessed device memory outside every allocation at ");
      say_hex(a);
      say(" (an index out of bounds?)\n");
    } else if (a - b >= atomic_load(&top)) {
      say("tensorc emulator: host code accessed device memory outside every allocation at ");
      say_hex(a);
      say("\n");
    } else if (faulted_on_write(uctx)) {
      say("tensorc emulator: host code wrote device memory at ");
      say_hex(a);
      say(" (a missing host-to-device copy?)\n");
    } else {
      say("tensorc emulator: host code read device memory at ");
      say_hex(a);
      say(" (a missing device-to-host copy?)\n");
    }
    abort();
  }
  /* Not ours: whoever handled SIGSEGV before (AddressSanitizer, or the
   * default action, which returning to the fault with it restored runs). */
  if (prev_segv.sa_flags & SA_SIGINFO) {
    prev_segv.sa_sigaction(sig, si, uctx);
  } else if (prev_segv.sa_handler != SIG_DFL && prev_segv.sa_handler != SIG_IGN) {
    prev_segv.sa_handler(sig);
  } else {
    signal(SIGSEGV, SIG_DFL);
  }
}

int tcemu_init(size_t arena_bytes, char *err, size_t errsz) {
  int rc = 0;
  pthread_mutex_lock(&mu);
  if (base) goto done;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t size = arena_bytes ? (arena_bytes + page - 1) / page * page : DEFAULT_ARENA;
  void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    rc = emu_fail(err, errsz, TC_ERR_NOMEM, "GPU emulator: cannot reserve %zu bytes for device memory: %s", size,
                  strerror(errno));
    goto done;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &prev_segv) != 0) {
    munmap(p, size);
    rc = emu_fail(err, errsz, TC_ERR_RUNTIME, "GPU emulator: cannot install the SIGSEGV handler: %s", strerror(errno));
    goto done;
  }
  arena_size = size;
  base = p;
done:
  pthread_mutex_unlock(&mu);
  return rc;
}

/* ---- protection ---- */

/* Sets the protection of [from, to) of the arena (offsets); the mutex is held. */
static void protect(size_t from, size_t to, bool open) {
  if (to > from) mprotect(base + from, to - from, open ? PROT_READ | PROT_WRITE : PROT_NONE);
}

void emu_arena_enter(void) {
  pthread_mutex_lock(&mu);
  if (atomic_fetch_add(&active, 1) == 0) protect(0, atomic_load(&top), true);
  pthread_mutex_unlock(&mu);
}

void emu_arena_leave(void) {
  pthread_mutex_lock(&mu);
  if (atomic_fetch_sub(&active, 1) == 1) protect(0, atomic_load(&top), false);
  pthread_mutex_unlock(&mu);
}

/* ---- the allocator (the mutex is held) ---- */

/* Room for two more chunks (an allocation adds at most two), so that the
 * inserts after it cannot fail half-way. */
static bool reserve_chunks(void) {
  if (nchunks + 2 <= cap) return true;
  int ncap = cap ? 2 * cap : 64;
  Chunk *n = realloc(chunks, (size_t)ncap * sizeof *n);
  if (!n) return false;
  chunks = n, cap = ncap;
  return true;
}

static void insert_chunk(int at, Chunk c) {
  memmove(chunks + at + 1, chunks + at, (size_t)(nchunks - at) * sizeof *chunks);
  chunks[at] = c;
  nchunks++;
}

static void remove_chunk(int at) {
  memmove(chunks + at, chunks + at + 1, (size_t)(nchunks - at - 1) * sizeof *chunks);
  nchunks--;
}

/* The index of the chunk holding offset off, -1 if none. */
static int find_chunk(size_t off) {
  int lo = 0, hi = nchunks - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (off < chunks[mid].off) hi = mid - 1;
    else if (off >= chunks[mid].off + chunks[mid].size) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/* Grows top by `more` bytes: the new pages are open if a launch or copy
 * is in progress, and poisoned for ASan until allocated. */
static bool grow(size_t more) {
  size_t t = atomic_load(&top);
  if (more > arena_size - t) return false;
  if (atomic_load(&active) > 0) protect(t, t + more, true);
  POISON(base + t, more);
  atomic_store(&top, t + more);
  return true;
}

static void *alloc_locked(size_t req) {
  size_t size = (req ? (req + GRANULE - 1) / GRANULE * GRANULE : GRANULE) + REDZONE;
  if (size < req || !reserve_chunks()) return NULL;
  int i = 0;
  while (i < nchunks && (chunks[i].used || chunks[i].size < size)) i++;
  if (i == nchunks) {
    /* Nothing fits: extend the last chunk if it is free, else add one. */
    if (nchunks && !chunks[nchunks - 1].used) {
      i = nchunks - 1;
      if (!grow(size - chunks[i].size)) return NULL;
      chunks[i].size = size;
    } else {
      if (!grow(size)) return NULL;
      insert_chunk(nchunks, (Chunk){atomic_load(&top) - size, size, 0, false});
    }
  }
  if (chunks[i].size > size) {
    Chunk rest = {chunks[i].off + size, chunks[i].size - size, 0, false};
    insert_chunk(i + 1, rest);
    chunks[i].size = size;
  }
  chunks[i].used = true;
  chunks[i].req = req;
  UNPOISON(base + chunks[i].off, req);
  return base + chunks[i].off;
}

void *tcemu_malloc(int64_t bytes) {
  if (bytes < 0 || (uint64_t)bytes > SIZE_MAX / 2) return NULL;
  if (!base && tcemu_init(0, NULL, 0) != 0) return NULL;
  pthread_mutex_lock(&mu);
  void *p = alloc_locked((size_t)bytes);
  pthread_mutex_unlock(&mu);
  if (p) atomic_fetch_add(&live, 1), atomic_fetch_add(&calls, 1);
  return p;
}

void tcemu_free(void *dptr) {
  if (!dptr || !base) return;
  pthread_mutex_lock(&mu);
  uintptr_t off = (uintptr_t)dptr - (uintptr_t)base;
  int i = off < atomic_load(&top) ? find_chunk(off) : -1;
  if (i >= 0 && chunks[i].off == off && chunks[i].used) {
    chunks[i].used = false;
    POISON(base + off, chunks[i].size);
    atomic_fetch_sub(&live, 1);
    if (i + 1 < nchunks && !chunks[i + 1].used) {
      chunks[i].size += chunks[i + 1].size;
      remove_chunk(i + 1);
    }
    if (i > 0 && !chunks[i - 1].used) {
      chunks[i - 1].size += chunks[i].size;
      remove_chunk(i);
    }
  }
  pthread_mutex_unlock(&mu);
}

int64_t tcemu_live_allocations(void) { return atomic_load(&live); }
int64_t tcemu_malloc_calls(void) { return atomic_load(&calls); }

/* ---- queries and copies ---- */

/* Chunk i is live and [off, off + bytes) lies in its allocation, off
 * pointing at one of its bytes (at its start if it has none). */
static bool chunk_holds(int i, size_t off, uint64_t bytes) {
  if (i < 0 || !chunks[i].used || off < chunks[i].off) return false;
  size_t at = off - chunks[i].off, req = chunks[i].req;
  return at < (req ? req : 1) && bytes <= req - at;
}

bool tcemu_is_device(const void *p, int64_t bytes) {
  if (!base || !p || bytes < 0) return false;
  size_t off = (uintptr_t)p - (uintptr_t)base;
  pthread_mutex_lock(&mu);
  bool ok = off < atomic_load(&top) && chunk_holds(find_chunk(off), off, (uint64_t)bytes);
  pthread_mutex_unlock(&mu);
  return ok;
}

/* True when [p, p + max(bytes, 1)) overlaps the arena. */
bool emu_in_arena(const void *p, int64_t bytes) {
  uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
  if (!base) return false;
  return a >= b ? a - b < arena_size : (uint64_t)(bytes ? bytes : 1) > b - a;
}

/* Checks one side of a copy; 0 or a status with the message. */
static int check_side(const char *fn, const char *side, const void *p, int64_t bytes, bool device, char *err,
                      size_t errsz) {
  if (device && !tcemu_is_device(p, bytes))
    return emu_fail(err, errsz, TC_ERR_RUNTIME, "%s: the %s %p (%lld bytes) is not inside one device allocation", fn,
                    side, p, (long long)bytes);
  if (!device && emu_in_arena(p, bytes))
    return emu_fail(err, errsz, TC_ERR_RUNTIME, "%s: the %s %p is device memory, expected host memory", fn, side, p);
  if (!device && !p) return emu_fail(err, errsz, TC_ERR_RUNTIME, "%s: the %s is NULL", fn, side);
  return 0;
}

/* Copies of 0 bytes do nothing and check nothing, as memcpy's. */
static int copy(const char *fn, void *dst, bool dst_dev, const void *src, bool src_dev, int64_t bytes, char *err,
                size_t errsz) {
  if (bytes < 0) return emu_fail(err, errsz, TC_ERR_RUNTIME, "%s: a negative size (%lld bytes)", fn, (long long)bytes);
  if (!bytes) return 0;
  int rc = check_side(fn, "destination", dst, bytes, dst_dev, err, errsz);
  if (!rc) rc = check_side(fn, "source", src, bytes, src_dev, err, errsz);
  if (rc) return rc;
  emu_arena_enter();
  memmove(dst, src, (size_t)bytes);
  emu_arena_leave();
  return 0;
}

int tcemu_memcpy_htod(void *dst, const void *src, int64_t bytes, char *err, size_t errsz) {
  return copy("tcemu_memcpy_htod", dst, true, src, false, bytes, err, errsz);
}

int tcemu_memcpy_dtoh(void *dst, const void *src, int64_t bytes, char *err, size_t errsz) {
  return copy("tcemu_memcpy_dtoh", dst, false, src, true, bytes, err, errsz);
}

int tcemu_memcpy_dtod(void *dst, const void *src, int64_t bytes, char *err, size_t errsz) {
  return copy("tcemu_memcpy_dtod", dst, true, src, true, bytes, err, errsz);
}

int tcemu_memset_d8(void *dst, int value, int64_t bytes, char *err, size_t errsz) {
  const char *fn = "tcemu_memset_d8";
  if (bytes < 0) return emu_fail(err, errsz, TC_ERR_RUNTIME, "%s: a negative size (%lld bytes)", fn, (long long)bytes);
  if (!bytes) return 0;
  int rc = check_side(fn, "destination", dst, bytes, true, err, errsz);
  if (rc) return rc;
  emu_arena_enter();
  memset(dst, value, (size_t)bytes);
  emu_arena_leave();
  return 0;
}
