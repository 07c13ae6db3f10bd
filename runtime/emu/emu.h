/* runtime/emu/emu.h - the GPU emulator's host side: device memory and
 * kernel launches, for the runtime's CUDA path when there is no GPU.
 *
 * Internal to libtensorc_rt (not installed).  Device memory is a separate
 * arena (emu.c) that host code cannot read outside launches and copies;
 * kernels are the generated CUDA C compiled by the host compiler with
 * tc_emu.h first, launched through their trampolines (launch.c).  Like the
 * rest of the runtime, nothing here exits or aborts for an error: each
 * call returns a status and writes a message into the caller's buffer
 * (err may be NULL).  The one exception is the fault handler, which stops
 * the process when host code reads device memory: that is a bug in
 * generated code, not a user's mistake.
 */
#ifndef TENSORC_EMU_H
#define TENSORC_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 on success; on failure a status (TC_ERR_RUNTIME / TC_ERR_NOMEM) and a
 * message in err.  Idempotent (later calls keep the first arena) and
 * thread safe.  The arena: arena_bytes (0: 1 GiB) of address space
 * reserved with mmap, pages committed when first touched.  Also installs
 * the SIGSEGV handler that names host reads of device memory. */
int tcemu_init(size_t arena_bytes, char *err, size_t errsz);
/* Device memory in the arena, 256-byte aligned, not zeroed; a size of 0
 * still gives a unique pointer.  NULL when the arena is full (or bytes <
 * 0).  Calls tcemu_init(0) first if no one has. */
void *tcemu_malloc(int64_t bytes);
/* NULL, and pointers that are not the start of a live allocation, are
 * ignored. */
void tcemu_free(void *dptr);
int64_t tcemu_live_allocations(void); /* for tests counting device allocations */
int64_t tcemu_malloc_calls(void);     /* total successful tcemu_malloc calls */

/* Copies: the device side must lie inside one live allocation and the
 * host side outside the arena; otherwise they fail with a message.  A
 * copy of 0 bytes does nothing and checks nothing (as memcpy). */
int tcemu_memcpy_htod(void *dst, const void *src, int64_t bytes, char *err, size_t errsz);
int tcemu_memcpy_dtoh(void *dst, const void *src, int64_t bytes, char *err, size_t errsz);
int tcemu_memcpy_dtod(void *dst, const void *src, int64_t bytes, char *err, size_t errsz);
int tcemu_memset_d8(void *dst, int value, int64_t bytes, char *err, size_t errsz);
/* The whole range [p, p + bytes) inside one live allocation, p pointing
 * at one of its bytes (or at its start if it has none: tcemu_malloc(0)). */
bool tcemu_is_device(const void *p, int64_t bytes);

/* Runs fn(params) on a grid of gx*gy*gz blocks of bx*by*bz threads;
 * returns after all finish.  Fails (status + message naming the kernel)
 * on: a block of more than 1024 threads or 0 (or bz > 64), a grid
 * dimension of 0 (or gy, gz > 65535), a launch from inside a kernel, a
 * deadlock (some threads wait at __syncthreads while others exited or
 * wait at a warp operation), a warp operation whose partner lane exited
 * or does not exist or that meets another operation, a pointer parameter
 * that is not device memory (trampolines call tcemu_check_device).
 * Blocks run in order (x fastest), the threads of a block round-robin in
 * order of their linear index: the same program gives the same results
 * every run. */
int tcemu_launch(const char *name, void (*fn)(void **params), unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                 unsigned by, unsigned bz, void **params, char *err, size_t errsz);

#endif
