/* runtime/emu/tc_emu.h - CUDA C's device built-ins, for the emulator.
 *
 * The host C compiler reads this header first (`cc -include tc_emu.h
 * -DTC_EMULATE`) and then the very CUDA C text that NVRTC compiles for a
 * GPU, so that generated kernels build as C11 and run on the CPU emulator
 * (runtime/emu/, docs/gpu.md).  It is also what the emulator itself
 * includes for the types it shares with kernels.
 *
 * Each kernel thread is a fiber; the fibers of a block run one at a time
 * on one host thread, and the blocks of a grid one after another.  Hence:
 * - `threadIdx`, `blockIdx`, `blockDim`, `gridDim` read the running
 *   fiber's record (tcemu_current, a thread-local pointer the scheduler
 *   sets before it switches to a fiber);
 * - `__shared__` is `static __thread`: one copy per host thread, which the
 *   blocks that host thread runs use in turn, as blocks on one GPU
 *   multiprocessor use its shared memory;
 * - `__syncthreads()` and the warp-level operations (shuffles, votes,
 *   `__syncwarp`) switch to the scheduler until every thread they wait for
 *   has arrived.  A warp operation deposits the lane's value; the last lane
 *   of the group to arrive computes every lane's result (so one barrier
 *   suffices), and errors (a partner lane that exited or does not exist,
 *   lanes at different operations) fail the launch with a message;
 * - atomics are the compiler's __atomic built-ins: the fibers of a block
 *   never run at once, but two host threads may run launches at once;
 * - the math functions are libm's (<math.h>);
 * - the vector types (float4, ...) are structs of CUDA's layout, and a
 *   128-bit access must be aligned, as on a GPU;
 * - `__device__` functions are static (see below).
 * Shuffles take the CUDA value types int, unsigned, long long, unsigned
 * long long, float, double (and long, unsigned long, which are int64_t on
 * LP64), chosen with _Generic; the width is always 32.
 */
#ifndef TENSORC_TC_EMU_H
#define TENSORC_TC_EMU_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ===== what the emulator shares with kernels ===== */

typedef struct tcemu_dim3 {
  unsigned x, y, z;
} tcemu_dim3;

/* The running kernel thread, as kernels see it.  The emulator's record of
 * a thread starts with this (launch.c). */
typedef struct tcemu_thread {
  tcemu_dim3 thread_idx, block_idx, block_dim, grid_dim;
  unsigned lane; /* threadIdx's linear index % 32 */
  unsigned warp; /* threadIdx's linear index / 32 */
} tcemu_thread;

/* Set while a fiber runs, NULL in host code. */
extern _Thread_local tcemu_thread *tcemu_current;
static inline tcemu_thread *tcemu_self(void) { return tcemu_current; }

/* The module's kernel table (docs/gpu.md): one entry per kernel, then
 * {NULL, NULL}.  fn is the kernel's trampoline NAME__emu. */
typedef struct tcemu_kernel {
  const char *name;
  void (*fn)(void **params);
} tcemu_kernel;

/* Trampolines call this for each pointer parameter: true when p points
 * into a live device allocation; otherwise it fails the running launch
 * ("kernel 'NAME': parameter INDEX ... is not device memory") and returns
 * false, and the trampoline returns without calling the kernel. */
bool tcemu_check_device(const void *p, const char *kernel, int index);

/* The scheduler's entry points (launch.c, warp.c). */
void tcemu_syncthreads(void);
enum {
  TCEMU_SHFL_XOR,
  TCEMU_SHFL_DOWN,
  TCEMU_SHFL_UP,
  TCEMU_SHFL_IDX,
  TCEMU_BALLOT,
  TCEMU_ANY,
  TCEMU_ALL,
  TCEMU_SYNCWARP,
  TCEMU_NUM_WARP_OPS
};
/* One warp-level operation: `type` tells shuffles of different types apart
 * (they must not meet), `value` is the shuffled bits or the vote's
 * predicate, `arg` the lane mask, delta or source lane.  Returns the
 * shuffled bits, the ballot, or any/all as 0/1. */
uint64_t tcemu_warp_op(int op, int type, unsigned mask, uint64_t value, int arg);

/* ===== the CUDA keywords ===== */

/* Device functions are local to their module (as each NVRTC module is on
 * its own), which C needs anyway: an inline function with external
 * linkage may not use this header's static helpers or hold a __shared__
 * variable.  So generated code writes `__device__ [__forceinline__] T
 * f(...)`, never `static __device__`. */
#define __global__
#define __device__ static __attribute__((unused))
#define __forceinline__ __attribute__((always_inline)) inline
#define __restrict__ restrict
#define __shared__ static __thread

#define threadIdx (tcemu_self()->thread_idx)
#define blockIdx (tcemu_self()->block_idx)
#define blockDim (tcemu_self()->block_dim)
#define gridDim (tcemu_self()->grid_dim)
#define warpSize 32

#define __syncthreads() tcemu_syncthreads()
#define __syncwarp(mask) ((void)tcemu_warp_op(TCEMU_SYNCWARP, 0, (mask), 0, 0))
#define __threadfence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define __ldg(p) (*(p))

/* ===== shuffles and votes ===== */

/* One function per value type: the value travels as its bytes in a
 * uint64_t (memcpy, so no aliasing questions). */
#define TCEMU_SHFL_FN(suffix, T, code)                                                                         \
  static inline T tcemu_shfl_##suffix(int op, unsigned mask, T v, int arg) {                                    \
    uint64_t bits = 0;                                                                                         \
    memcpy(&bits, &v, sizeof v);                                                                               \
    bits = tcemu_warp_op(op, code, mask, bits, arg);                                                           \
    memcpy(&v, &bits, sizeof v);                                                                               \
    return v;                                                                                                  \
  }
TCEMU_SHFL_FN(i32, int, 1)
TCEMU_SHFL_FN(u32, unsigned, 2)
TCEMU_SHFL_FN(l, long, 3)
TCEMU_SHFL_FN(ul, unsigned long, 4)
TCEMU_SHFL_FN(i64, long long, 5)
TCEMU_SHFL_FN(u64, unsigned long long, 6)
TCEMU_SHFL_FN(f32, float, 7)
TCEMU_SHFL_FN(f64, double, 8)
#undef TCEMU_SHFL_FN

#define TCEMU_SHFL(op, mask, v, arg)                                                                           \
  _Generic((v),                                                                                                \
      int: tcemu_shfl_i32,                                                                                     \
      unsigned: tcemu_shfl_u32,                                                                                \
      long: tcemu_shfl_l,                                                                                      \
      unsigned long: tcemu_shfl_ul,                                                                            \
      long long: tcemu_shfl_i64,                                                                               \
      unsigned long long: tcemu_shfl_u64,                                                                      \
      float: tcemu_shfl_f32,                                                                                   \
      double: tcemu_shfl_f64)((op), (mask), (v), (int)(arg))

#define __shfl_xor_sync(mask, v, lanemask) TCEMU_SHFL(TCEMU_SHFL_XOR, mask, v, lanemask)
#define __shfl_down_sync(mask, v, delta) TCEMU_SHFL(TCEMU_SHFL_DOWN, mask, v, delta)
#define __shfl_up_sync(mask, v, delta) TCEMU_SHFL(TCEMU_SHFL_UP, mask, v, delta)
#define __shfl_sync(mask, v, srclane) TCEMU_SHFL(TCEMU_SHFL_IDX, mask, v, srclane)

#define __ballot_sync(mask, pred) ((unsigned)tcemu_warp_op(TCEMU_BALLOT, 0, (mask), (pred) != 0, 0))
#define __any_sync(mask, pred) ((int)tcemu_warp_op(TCEMU_ANY, 0, (mask), (pred) != 0, 0))
#define __all_sync(mask, pred) ((int)tcemu_warp_op(TCEMU_ALL, 0, (mask), (pred) != 0, 0))

/* ===== atomics: each returns the old value, as CUDA's do ===== */

#define TCEMU_ATOMIC_INT(suffix, T)                                                                            \
  static inline T tcemu_atomic_add_##suffix(T *p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }  \
  static inline T tcemu_atomic_exch_##suffix(T *p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); } \
  static inline T tcemu_atomic_cas_##suffix(T *p, T cmp, T v) {                                                 \
    __atomic_compare_exchange_n(p, &cmp, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                        \
    return cmp; /* the old value, whether or not it was swapped */                                             \
  }
TCEMU_ATOMIC_INT(i32, int)
TCEMU_ATOMIC_INT(u32, unsigned)
TCEMU_ATOMIC_INT(i64, long long)
TCEMU_ATOMIC_INT(u64, unsigned long long)
#undef TCEMU_ATOMIC_INT

/* Floating-point add and exchange: a compare-and-swap loop on the value's
 * bits (the generic __atomic built-ins take any 4- or 8-byte type). */
#define TCEMU_ATOMIC_FLOAT(suffix, T)                                                                          \
  static inline T tcemu_atomic_add_##suffix(T *p, T v) {                                                       \
    T old, sum;                                                                                                \
    __atomic_load(p, &old, __ATOMIC_RELAXED);                                                                  \
    do                                                                                                         \
      sum = old + v;                                                                                           \
    while (!__atomic_compare_exchange(p, &old, &sum, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));              \
    return old;                                                                                                \
  }                                                                                                            \
  static inline T tcemu_atomic_exch_##suffix(T *p, T v) {                                                      \
    T old;                                                                                                     \
    __atomic_exchange(p, &v, &old, __ATOMIC_SEQ_CST);                                                          \
    return old;                                                                                                \
  }
TCEMU_ATOMIC_FLOAT(f32, float)
TCEMU_ATOMIC_FLOAT(f64, double)
#undef TCEMU_ATOMIC_FLOAT

static inline int tcemu_atomic_max_i32(int *p, int v) {
  int old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
  }
  return old;
}
static inline int tcemu_atomic_min_i32(int *p, int v) {
  int old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
  }
  return old;
}

#define atomicAdd(p, v)                                                                                        \
  _Generic((p),                                                                                                \
      int *: tcemu_atomic_add_i32,                                                                             \
      unsigned *: tcemu_atomic_add_u32,                                                                        \
      long long *: tcemu_atomic_add_i64,                                                                       \
      unsigned long long *: tcemu_atomic_add_u64,                                                              \
      float *: tcemu_atomic_add_f32,                                                                           \
      double *: tcemu_atomic_add_f64)((p), (v))
#define atomicExch(p, v)                                                                                       \
  _Generic((p),                                                                                                \
      int *: tcemu_atomic_exch_i32,                                                                            \
      unsigned *: tcemu_atomic_exch_u32,                                                                       \
      unsigned long long *: tcemu_atomic_exch_u64,                                                             \
      float *: tcemu_atomic_exch_f32)((p), (v))
#define atomicCAS(p, cmp, v)                                                                                   \
  _Generic((p),                                                                                                \
      int *: tcemu_atomic_cas_i32,                                                                             \
      unsigned *: tcemu_atomic_cas_u32,                                                                        \
      unsigned long long *: tcemu_atomic_cas_u64)((p), (cmp), (v))
#define atomicMax(p, v) tcemu_atomic_max_i32((p), (v))
#define atomicMin(p, v) tcemu_atomic_min_i32((p), (v))

/* ===== vector types ===== */

/* CUDA's float4, int4, double2 and longlong2 (x, y, z, w; 16-byte
 * aligned, as CUDA declares them) and their make_ functions: the 128-bit
 * loads and stores of elementwise kernels.  Generated code reads and
 * writes them through the prelude's TC_VLOAD / TC_VSTORE, which here are
 * these tcemu_vload_T / tcemu_vstore_T: a memcpy (no aliasing question),
 * after checking the address is 16-byte aligned, which a GPU requires of
 * a 128-bit access (CUDA_ERROR_MISALIGNED_ADDRESS): a misaligned one fails
 * the launch (tcemu_misaligned). */
typedef struct __attribute__((aligned(16))) float4 {
  float x, y, z, w;
} float4;
typedef struct __attribute__((aligned(16))) int4 {
  int x, y, z, w;
} int4;
typedef struct __attribute__((aligned(16))) double2 {
  double x, y;
} double2;
typedef struct __attribute__((aligned(16))) longlong2 {
  long long x, y;
} longlong2;

static inline float4 make_float4(float x, float y, float z, float w) {
  float4 v = {x, y, z, w};
  return v;
}
static inline int4 make_int4(int x, int y, int z, int w) {
  int4 v = {x, y, z, w};
  return v;
}
static inline double2 make_double2(double x, double y) {
  double2 v = {x, y};
  return v;
}
static inline longlong2 make_longlong2(long long x, long long y) {
  longlong2 v = {x, y};
  return v;
}

/* Fails the running launch: a `bytes`-byte load (or store) at p, which is
 * not aligned to `bytes`.  Never returns. */
void tcemu_misaligned(const void *p, int bytes, bool store) __attribute__((noreturn));
/* 128-bit loads and stores made so far, by every launch of the process:
 * for tests that the vector loop ran (and that it did not). */
extern uint64_t tcemu_vector_accesses;

#define TCEMU_VECTOR_FN(T, E)                                                                                  \
  static inline T tcemu_vload_##T(const E *p) {                                                                \
    T v;                                                                                                       \
    if ((uintptr_t)p % sizeof v)                                                                               \
      tcemu_misaligned(p, (int)sizeof v, false);                                                               \
    __atomic_fetch_add(&tcemu_vector_accesses, 1, __ATOMIC_RELAXED);                                           \
    memcpy(&v, p, sizeof v);                                                                                   \
    return v;                                                                                                  \
  }                                                                                                            \
  static inline void tcemu_vstore_##T(E *p, T v) {                                                             \
    if ((uintptr_t)p % sizeof v)                                                                               \
      tcemu_misaligned(p, (int)sizeof v, true);                                                                \
    __atomic_fetch_add(&tcemu_vector_accesses, 1, __ATOMIC_RELAXED);                                           \
    memcpy(p, &v, sizeof v);                                                                                   \
  }
TCEMU_VECTOR_FN(float4, float)
TCEMU_VECTOR_FN(int4, int)
TCEMU_VECTOR_FN(double2, double)
TCEMU_VECTOR_FN(longlong2, long long)
#undef TCEMU_VECTOR_FN

/* ===== reinterpreting bits ===== */

static inline int __float_as_int(float x) {
  int i;
  memcpy(&i, &x, sizeof i);
  return i;
}
static inline float __int_as_float(int i) {
  float x;
  memcpy(&x, &i, sizeof x);
  return x;
}
static inline long long __double_as_longlong(double x) {
  long long i;
  memcpy(&i, &x, sizeof i);
  return i;
}
static inline double __longlong_as_double(long long i) {
  double x;
  memcpy(&x, &i, sizeof x);
  return x;
}

#endif
