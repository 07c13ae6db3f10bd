/* codegen/cuda_prelude.cuh - the first part of every module's CUDA C.
 *
 * tensorc embeds this file in the compiler (codegen/CMakeLists.txt turns
 * it into a C string at build time) and writes it at the top of each
 * module, before the module's kernels (codegen/cuda_kernel.c).  The same
 * text must compile two ways (docs/gpu.md):
 *   - as CUDA C++17 by NVRTC (-default-device: functions without
 *     __global__ are device functions; no #include, NVRTC has no system
 *     headers);
 *   - as C11 by the host compiler for the emulator, after
 *     runtime/emu/tc_emu.h (`cc -std=c11 -DTC_EMULATE -include tc_emu.h`),
 *     where __device__ means static: every helper here is `__device__`, so
 *     two modules in one process never clash.
 *
 * It holds: TC_KERNEL; the constants the kernels use by name (infinities,
 * integer limits); integer arithmetic that wraps (NumPy's, and C's signed
 * overflow is undefined); integer pow; 128-bit loads and stores
 * (TC_VLOAD, TC_VSTORE); the argmax/argmin rule of a tree
 * reduction; and Philox-4x32-10 with the random kernels the runtime
 * launches for rand, randn and randint on the device.  Those kernels are
 * the first entries of every module's kernel table, in the order of
 * CgPreludeKernel (codegen/cg_cuda.h).
 */

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define TC_KERNEL extern "C" __global__
#else
#define TC_KERNEL __global__
#endif

/* ===== constants by their bits (no <math.h> under NVRTC) ===== */

#define TC_INF_F32 __int_as_float(0x7f800000)
#define TC_NINF_F32 __int_as_float((int)0xff800000u)
#define TC_INF_F64 __longlong_as_double(0x7ff0000000000000LL)
#define TC_NINF_F64 __longlong_as_double((long long)0xfff0000000000000ULL)
#define TC_F32_BITS(b) __int_as_float((int)(b))               /* a NaN, bit for bit */
#define TC_F64_BITS(b) __longlong_as_double((long long)(b))
#define TC_I32_MIN (-2147483647 - 1)
#define TC_I32_MAX 2147483647
#define TC_I64_MIN (-9223372036854775807LL - 1)
#define TC_I64_MAX 9223372036854775807LL
/* An argmax/argmin accumulator that has seen no element yet. */
#define TC_NO_INDEX TC_I64_MAX

/* ===== integers: wrapping, as NumPy's (and the CPU backend's) ===== */

__device__ __forceinline__ int tc_add_i32(int a, int b) { return (int)((unsigned)a + (unsigned)b); }
__device__ __forceinline__ int tc_sub_i32(int a, int b) { return (int)((unsigned)a - (unsigned)b); }
__device__ __forceinline__ int tc_mul_i32(int a, int b) { return (int)((unsigned)a * (unsigned)b); }
__device__ __forceinline__ int tc_neg_i32(int a) { return (int)(0u - (unsigned)a); }
__device__ __forceinline__ long long tc_add_i64(long long a, long long b) {
  return (long long)((unsigned long long)a + (unsigned long long)b);
}
__device__ __forceinline__ long long tc_sub_i64(long long a, long long b) {
  return (long long)((unsigned long long)a - (unsigned long long)b);
}
__device__ __forceinline__ long long tc_mul_i64(long long a, long long b) {
  return (long long)((unsigned long long)a * (unsigned long long)b);
}
__device__ __forceinline__ long long tc_neg_i64(long long a) { return (long long)(0ULL - (unsigned long long)a); }

/* b ** e by repeated squaring, 0 for e < 0 (ir/kernel.h's pow of integers). */
__device__ __forceinline__ int tc_ipow_i32(int b, int e) {
  if (e < 0)
    return 0;
  unsigned r = 1u, x = (unsigned)b;
  for (; e != 0; e >>= 1) {
    if (e & 1)
      r *= x;
    x *= x;
  }
  return (int)r;
}
__device__ __forceinline__ long long tc_ipow_i64(long long b, long long e) {
  if (e < 0)
    return 0;
  unsigned long long r = 1u, x = (unsigned long long)b;
  for (; e != 0; e >>= 1) {
    if (e & 1)
      r *= x;
    x *= x;
  }
  return (long long)r;
}

/* ===== 128-bit loads and stores =====
 *
 * An elementwise kernel's vector loop (docs/gpu.md) reads and writes 4
 * floats or ints, or 2 doubles or long longs, at once: T is float4, int4,
 * double2 or longlong2 (CUDA's built-in types; tc_emu.h declares them for
 * the emulator) and p is 16-byte aligned, which the kernel checks at run
 * time before it takes that loop.  On the GPU an access through a T
 * pointer is one ld.global.v4.f32 / st.global.v4.f32 (.v2.f64); the
 * emulator copies the bytes and fails the launch on a misaligned p, as a
 * GPU would. */
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define TC_VLOAD(T, p) (*(const T *)(p))
#define TC_VSTORE(T, p, v) (*(T *)(p) = (v))
#else
#define TC_VLOAD(T, p) tcemu_vload_##T(p)
#define TC_VSTORE(T, p, v) tcemu_vstore_##T((p), (v))
#endif

/* ===== argmax / argmin: whether (v, i) beats the best (b, bi) so far =====
 *
 * NumPy's answer is the first index of the best value, or of the first
 * NaN if there is one.  A reduction that combines partial results in a
 * tree (threads, warps, blocks) gets it with a rule that does not depend
 * on the order of the combines: a NaN beats any number, and between equal
 * values (or two NaNs) the smaller index wins.  A thread that visits its
 * elements in increasing index and starts from (identity, TC_NO_INDEX)
 * keeps the first best as the CPU's loop does. */
#define TC_ARG_TAKES_FLOAT(name, T, better)                                                        \
  __device__ __forceinline__ int name(T v, long long i, T b, long long bi) {                       \
    if (v != v)                                                                                    \
      return b == b || i < bi;                                                                     \
    return b == b && (v better b || (v == b && i < bi));                                          \
  }
#define TC_ARG_TAKES_INT(name, T, better)                                                          \
  __device__ __forceinline__ int name(T v, long long i, T b, long long bi) {                       \
    return v better b || (v == b && i < bi);                                                       \
  }
TC_ARG_TAKES_FLOAT(tc_argmax_takes_f32, float, >)
TC_ARG_TAKES_FLOAT(tc_argmax_takes_f64, double, >)
TC_ARG_TAKES_FLOAT(tc_argmin_takes_f32, float, <)
TC_ARG_TAKES_FLOAT(tc_argmin_takes_f64, double, <)
TC_ARG_TAKES_INT(tc_argmax_takes_i32, int, >)
TC_ARG_TAKES_INT(tc_argmax_takes_i64, long long, >)
TC_ARG_TAKES_INT(tc_argmin_takes_i32, int, <)
TC_ARG_TAKES_INT(tc_argmin_takes_i64, long long, <)
#undef TC_ARG_TAKES_FLOAT
#undef TC_ARG_TAKES_INT

/* ===== Philox-4x32-10: runtime/rng.c, word for word =====
 *
 * Block `block` of the stream of `seed`: key = {seed lo, seed hi},
 * counter = {block lo, block hi, 0, 0}; ten rounds, the key bumped by the
 * Weyl constants before each round but the first.  Each random kernel
 * below writes element i from the words rng.c's header names, so a draw
 * made on the device equals tcrt_rand/tcrt_randn/tcrt_randint's for the
 * same seed and first block (`base`, the context's counter). */
__device__ __forceinline__ void tc_philox(unsigned long long seed, unsigned long long block, unsigned w[4]) {
  unsigned k0 = (unsigned)seed, k1 = (unsigned)(seed >> 32);
  unsigned c0 = (unsigned)block, c1 = (unsigned)(block >> 32), c2 = 0u, c3 = 0u;
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += 0x9E3779B9u; /* the golden ratio */
      k1 += 0xBB67AE85u; /* sqrt(3) - 1 */
    }
    unsigned long long p0 = 0xD2511F53ULL * c0, p1 = 0xCD9E8D57ULL * c2;
    unsigned n0 = (unsigned)(p1 >> 32) ^ c1 ^ k0, n2 = (unsigned)(p0 >> 32) ^ c3 ^ k1;
    c1 = (unsigned)p1;
    c3 = (unsigned)p0;
    c0 = n0;
    c2 = n2;
  }
  w[0] = c0;
  w[1] = c1;
  w[2] = c2;
  w[3] = c3;
}

/* The uniforms and Box-Muller of rng.c, the same operations in the same
 * types: u24 in [0, 1) exactly a float, u53 a double, the open forms in
 * (0, 1) for the logarithm; Box-Muller in double for both dtypes. */
__device__ __forceinline__ float tc_u24(unsigned w) { return (float)(w >> 8) * 0x1p-24f; }
__device__ __forceinline__ double tc_u53(unsigned long long x) { return (double)(x >> 11) * 0x1p-53; }
__device__ __forceinline__ double tc_u32_open(unsigned w) { return ((double)(w >> 8) + 0.5) * 0x1p-24; }
__device__ __forceinline__ double tc_u53_open(unsigned long long x) { return ((double)(x >> 11) + 0.5) * 0x1p-53; }
__device__ __forceinline__ unsigned long long tc_words64(const unsigned w[4], int first) {
  return (unsigned long long)w[first] << 32 | w[first + 1];
}
__device__ __forceinline__ void tc_box_muller(double u1, double u2, double *z0, double *z1) {
  double r = sqrt(-2.0 * log(u1));
  double t = 6.283185307179586 * u2; /* 2 pi */
  *z0 = r * cos(t);
  *z1 = r * sin(t);
}
/* A number in [0, range) from 64 random bits: the high half of x * range. */
__device__ __forceinline__ unsigned long long tc_below(unsigned long long x, unsigned long long range) {
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
  return __umul64hi(x, range);
#else
  return (unsigned long long)(((unsigned __int128)x * range) >> 64);
#endif
}

/* ===== the random kernels (CgPreludeKernel order) =====
 *
 * Each thread makes the elements of one Philox block at a time, in a
 * grid-stride loop over the blocks of the draw, so any grid and block
 * size gives the same numbers; the runtime launches them like an
 * elementwise kernel of n points (docs/gpu.md). */

// rand f32: element i = u24(word i%4 of block base + i/4)
TC_KERNEL void tc_rand_f32(float *__restrict__ out, long long n, unsigned long long seed, unsigned long long base) {
  const long long nblocks = (n + 3) / 4;
  for (long long b = blockIdx.x * (long long)blockDim.x + threadIdx.x; b < nblocks; b += (long long)gridDim.x * blockDim.x) {
    unsigned w[4];
    tc_philox(seed, base + (unsigned long long)b, w);
    for (int j = 0; j < 4 && 4 * b + j < n; j++)
      out[4 * b + j] = tc_u24(w[j]);
  }
}

// rand f64: element i = u53(words 2(i%2), 2(i%2)+1 of block base + i/2)
TC_KERNEL void tc_rand_f64(double *__restrict__ out, long long n, unsigned long long seed, unsigned long long base) {
  const long long nblocks = (n + 1) / 2;
  for (long long b = blockIdx.x * (long long)blockDim.x + threadIdx.x; b < nblocks; b += (long long)gridDim.x * blockDim.x) {
    unsigned w[4];
    tc_philox(seed, base + (unsigned long long)b, w);
    out[2 * b] = tc_u53(tc_words64(w, 0));
    if (2 * b + 1 < n)
      out[2 * b + 1] = tc_u53(tc_words64(w, 2));
  }
}

// randn f32: pair j = i/2 is Box-Muller of words 2(j%2), 2(j%2)+1 of block base + j/2
TC_KERNEL void tc_randn_f32(float *__restrict__ out, long long n, unsigned long long seed, unsigned long long base) {
  const long long nblocks = (n + 3) / 4;
  for (long long b = blockIdx.x * (long long)blockDim.x + threadIdx.x; b < nblocks; b += (long long)gridDim.x * blockDim.x) {
    unsigned w[4];
    tc_philox(seed, base + (unsigned long long)b, w);
    for (int p = 0; p < 2 && 4 * b + 2 * p < n; p++) {
      double z0, z1;
      tc_box_muller(tc_u32_open(w[2 * p]), (double)tc_u24(w[2 * p + 1]), &z0, &z1);
      out[4 * b + 2 * p] = (float)z0;
      if (4 * b + 2 * p + 1 < n)
        out[4 * b + 2 * p + 1] = (float)z1;
    }
  }
}

// randn f64: pair j = i/2 is Box-Muller of the four words of block base + j
TC_KERNEL void tc_randn_f64(double *__restrict__ out, long long n, unsigned long long seed, unsigned long long base) {
  const long long nblocks = (n + 1) / 2;
  for (long long b = blockIdx.x * (long long)blockDim.x + threadIdx.x; b < nblocks; b += (long long)gridDim.x * blockDim.x) {
    unsigned w[4];
    double z0, z1;
    tc_philox(seed, base + (unsigned long long)b, w);
    tc_box_muller(tc_u53_open(tc_words64(w, 0)), tc_u53(tc_words64(w, 2)), &z0, &z1);
    out[2 * b] = z0;
    if (2 * b + 1 < n)
      out[2 * b + 1] = z1;
  }
}

// randint i64 in [lo, hi): element i = lo + below(words 2(i%2), 2(i%2)+1 of block base + i/2, hi - lo)
TC_KERNEL void tc_randint_i64(long long *__restrict__ out, long long n, unsigned long long seed, unsigned long long base,
                              long long lo, long long hi) {
  const unsigned long long range = (unsigned long long)hi - (unsigned long long)lo;
  const long long nblocks = (n + 1) / 2;
  for (long long b = blockIdx.x * (long long)blockDim.x + threadIdx.x; b < nblocks; b += (long long)gridDim.x * blockDim.x) {
    unsigned w[4];
    tc_philox(seed, base + (unsigned long long)b, w);
    out[2 * b] = (long long)((unsigned long long)lo + tc_below(tc_words64(w, 0), range));
    if (2 * b + 1 < n)
      out[2 * b + 1] = (long long)((unsigned long long)lo + tc_below(tc_words64(w, 2), range));
  }
}

/* ===== a matmul's epilogue (after the random kernels in CgPreludeKernel order) =====
 *
 * c[i, j] = act(c[i, j] + bias[j]) over a row-major m x n product, flags
 * the runtime's TC_EPI_* (1 bias, 2 relu, 4 gelu's tanh form): what
 * tcrt_dev_matmul_epilogue (runtime/cublaslt.c) runs after the plain
 * product where cuBLASLt does not take the epilogue.  The same arithmetic
 * as the kernel passes/blas_epilogue.c folded: relu keeps NaN (x < 0 is
 * false for it), as legalize writes relu. */
TC_KERNEL void tc_epilogue_f32(float *__restrict__ c, const float *__restrict__ bias, long long m, long long n,
                               long long flags) {
  for (long long p = blockIdx.x * (long long)blockDim.x + threadIdx.x; p < m * n; p += (long long)gridDim.x * blockDim.x) {
    float x = c[p];
    if (flags & 1)
      x = x + bias[p % n];
    if (flags & 2)
      x = x < 0.0f ? 0.0f : x;
    if (flags & 4)
      x = 0.5f * x * (1.0f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)));
    c[p] = x;
  }
}

#ifdef TC_EMULATE
/* The random kernels' trampolines (the module's own follow its kernels). */
#define TC_RAND_EMU(name, T)                                                                        \
  void name##__emu(void **p) {                                                                      \
    T *out = *(T **)p[0];                                                                           \
    if (!tcemu_check_device(out, #name, 0))                                                         \
      return;                                                                                       \
    name(out, *(long long *)p[1], *(unsigned long long *)p[2], *(unsigned long long *)p[3]);        \
  }
TC_RAND_EMU(tc_rand_f32, float)
TC_RAND_EMU(tc_rand_f64, double)
TC_RAND_EMU(tc_randn_f32, float)
TC_RAND_EMU(tc_randn_f64, double)
#undef TC_RAND_EMU
void tc_randint_i64__emu(void **p) {
  long long *out = *(long long **)p[0];
  if (!tcemu_check_device(out, "tc_randint_i64", 0))
    return;
  tc_randint_i64(out, *(long long *)p[1], *(unsigned long long *)p[2], *(unsigned long long *)p[3],
                 *(long long *)p[4], *(long long *)p[5]);
}
void tc_epilogue_f32__emu(void **p) {
  float *c = *(float **)p[0];
  const float *bias = *(const float **)p[1];
  long long flags = *(long long *)p[4];
  if (!tcemu_check_device(c, "tc_epilogue_f32", 0) || ((flags & 1) && !tcemu_check_device(bias, "tc_epilogue_f32", 1)))
    return;
  tc_epilogue_f32(c, bias, *(long long *)p[2], *(long long *)p[3], flags);
}
#endif
