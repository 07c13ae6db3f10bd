/* tests/runtime/Inputs/emu_kernels.cu.h - the kernels of emu_test.c,
 * written as tensorc's CUDA backend writes them (docs/gpu.md): CUDA C that
 * NVRTC would take, and C11 after runtime/emu/tc_emu.h.  Under TC_EMULATE
 * each kernel has its trampoline NAME__emu and the file ends with the
 * kernel table tc_emu_kernels.  The kernels named bad_* are wrong on
 * purpose: the emulator must report them. */

/* What the prelude (codegen/cuda_prelude.h) says. */
#ifdef TC_EMULATE
#define TC_KERNEL __global__
#else
#define TC_KERNEL extern "C" __global__
#endif

__device__ __forceinline__ float warp_sum_f32(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v; /* every lane holds the sum */
}

__device__ __forceinline__ float warp_max_f32(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ double warp_sum_f64(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v; /* lane 0 holds the sum */
}

__device__ long long warp_sum_i64(long long v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

// elementwise, grid-stride
// launch: grid = any, block = any
TC_KERNEL void k_gauss(float *__restrict__ y, float *__restrict__ x, long long n) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x) {
    float v = x[i];
    y[i] = 2.0f * v + expf(-v * v);
  }
}

// per-block partial sums: a shared-memory tree
// launch: grid = any, block = a power of two up to 1024
TC_KERNEL void k_block_sum(double *__restrict__ partial, double *__restrict__ x, long long n) {
  __shared__ double buf[1024];
  unsigned t = threadIdx.x;
  double acc = 0.0;
  for (long long i = (long long)blockIdx.x * blockDim.x + t; i < n; i += (long long)blockDim.x * gridDim.x)
    acc += x[i];
  buf[t] = acc;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (t < s) buf[t] += buf[t + s];
    __syncthreads();
  }
  if (t == 0) partial[blockIdx.x] = buf[0];
}

// per-block partial sums: warp shuffles, then shared memory across warps
// launch: grid = any, block = 256
TC_KERNEL void k_warp_sum_f32(float *__restrict__ partial, float *__restrict__ x, long long n) {
  __shared__ float red[32];
  unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  float acc = 0.0f;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x)
    acc += x[i];
  acc = warp_sum_f32(acc);
  if (lane == 0) red[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = warp_sum_f32(lane < blockDim.x / 32 ? red[lane] : 0.0f);
    if (lane == 0) partial[blockIdx.x] = acc;
  }
}

// launch: grid = any, block = 256
TC_KERNEL void k_warp_sum_f64(double *__restrict__ partial, double *__restrict__ x, long long n) {
  __shared__ double red[32];
  unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  double acc = 0.0;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x)
    acc += x[i];
  acc = warp_sum_f64(acc);
  if (lane == 0) red[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = warp_sum_f64(lane < blockDim.x / 32 ? red[lane] : 0.0);
    if (lane == 0) partial[blockIdx.x] = acc;
  }
}

// launch: grid = any, block = 256
TC_KERNEL void k_warp_sum_i64(long long *__restrict__ partial, long long *__restrict__ x, long long n) {
  __shared__ long long red[32];
  unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  long long acc = 0;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x)
    acc += x[i];
  acc = warp_sum_i64(acc);
  if (lane == 0) red[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = warp_sum_i64(lane < blockDim.x / 32 ? red[lane] : 0);
    if (lane == 0) partial[blockIdx.x] = acc;
  }
}

// softmax over each row: one block per row (grid-stride over rows)
// launch: grid = any, block = a multiple of 32
TC_KERNEL void k_softmax_rows(float *__restrict__ y, float *__restrict__ x, long long rows, long long cols) {
  __shared__ float red[32];
  unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
  const float neg_inf = __int_as_float((int)0xff800000u);
  for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
    float *xr = x + r * cols, *yr = y + r * cols;
    float m = neg_inf;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, xr[c]);
    m = warp_max_f32(m);
    if (lane == 0) red[warp] = m;
    __syncthreads();
    m = warp_max_f32(lane < nwarps ? red[lane] : neg_inf);
    __syncthreads(); /* everyone has read red before it is reused */
    float s = 0.0f;
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += expf(xr[c] - m);
    s = warp_sum_f32(s);
    if (lane == 0) red[warp] = s;
    __syncthreads();
    s = warp_sum_f32(lane < nwarps ? red[lane] : 0.0f);
    __syncthreads();
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = expf(xr[c] - m) / s;
  }
}

// launch: grid = ceil(n / block), block = any
TC_KERNEL void k_atomics(int *__restrict__ ci, float *__restrict__ cf, unsigned long long *__restrict__ cu,
                         long long *__restrict__ cl, double *__restrict__ cd, unsigned *__restrict__ cn,
                         int *__restrict__ minmax, long long n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  atomicAdd(ci, 1);
  atomicAdd(cf, 1.0f);
  atomicAdd(cu, 1ull);
  atomicAdd(cl, 3ll);
  atomicAdd(cd, 0.5);
  atomicAdd(cn, 2u);
  atomicMax(&minmax[0], (int)i);
  atomicMin(&minmax[1], (int)i - 5);
}

// compare-and-swap loops and exchanges
// launch: grid = ceil(n / block), block = any
TC_KERNEL void k_cas(int *__restrict__ c, unsigned *__restrict__ cn, unsigned long long *__restrict__ cu,
                     int *__restrict__ last, float *__restrict__ lastf, unsigned *__restrict__ lastn,
                     unsigned long long *__restrict__ lastu, long long n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int old = *c, seen;
  while ((seen = atomicCAS(c, old, old + 2)) != old) old = seen;
  unsigned oldn = *cn, seenn;
  while ((seenn = atomicCAS(cn, oldn, oldn + 5u)) != oldn) oldn = seenn;
  unsigned long long oldu = *cu, seenu;
  while ((seenu = atomicCAS(cu, oldu, oldu + 3ull)) != oldu) oldu = seenu;
  atomicExch(last, (int)i);
  atomicExch(lastf, (float)i);
  atomicExch(lastn, (unsigned)i);
  atomicExch(lastu, (unsigned long long)i);
}

// float atomics in an order that matters: the emulator's order is fixed
// launch: grid = ceil(n / block), block = any
TC_KERNEL void k_float_order(float *__restrict__ sum, float *__restrict__ x, long long n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(sum, x[i]);
}

// votes; lanes 0-15 and 16-31 also vote apart, with two half masks
// launch: grid = any, block = a multiple of 32
TC_KERNEL void k_votes(unsigned *__restrict__ ballot, int *__restrict__ flags, unsigned *__restrict__ halves,
                       long long n) {
  unsigned t = blockIdx.x * blockDim.x + threadIdx.x, lane = threadIdx.x % 32, w = t / 32;
  unsigned b = __ballot_sync(0xffffffffu, t % 3 == 0 && t < n);
  int any = __any_sync(0xffffffffu, t == 37);
  int all = __all_sync(0xffffffffu, t < n);
  unsigned h;
  if (lane < 16) h = __ballot_sync(0x0000ffffu, t % 2 == 0);
  else h = __ballot_sync(0xffff0000u, t % 4 == 1);
  if (lane == 0) {
    ballot[w] = b;
    flags[2 * w] = any;
    flags[2 * w + 1] = all;
    halves[2 * w] = h;
  }
  if (lane == 16) halves[2 * w + 1] = h;
}

// prefix sums with __shfl_up_sync, broadcasts and rotations with
// __shfl_sync, shifts with __shfl_down_sync, over more value types
// launch: grid = 1, block = a multiple of 32
TC_KERNEL void k_scan(int *__restrict__ incl, long long *__restrict__ bcast, unsigned *__restrict__ rot,
                      unsigned long long *__restrict__ down, double *__restrict__ xr) {
  unsigned t = threadIdx.x, lane = t % 32;
  int v = (int)t + 1;
  for (int d = 1; d < 32; d <<= 1) {
    int u = __shfl_up_sync(0xffffffffu, v, d);
    if (lane >= (unsigned)d) v += u;
  }
  incl[t] = v;
  long w = (long)t * 1000000007L;
  bcast[t] = __shfl_sync(0xffffffffu, w, 5);
  rot[t] = __shfl_sync(0xffffffffu, t * 3u, (int)(lane + 1));
  down[t] = __shfl_down_sync(0xffffffffu, (unsigned long long)t << 40, 3) +
            __shfl_xor_sync(0xffffffffu, (unsigned long)t, 2);
  xr[t] = __shfl_xor_sync(0xffffffffu, (double)t + 0.25, 1);
}

// grids and blocks in three dimensions
// launch: grid = any, block = any
TC_KERNEL void k_index3d(int *__restrict__ out) {
  unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  unsigned nt = blockDim.x * blockDim.y * blockDim.z;
  unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  out[b * nt + t] = (int)(b * 10000 + threadIdx.z * 100 + threadIdx.y * 10 + threadIdx.x);
}

// __syncwarp, warpSize, __threadfence, bit casts, __ldg, a failing CAS
// launch: grid = 1, block = 32
TC_KERNEL void k_misc(int *__restrict__ out, long long *__restrict__ out64, float *__restrict__ f,
                      double *__restrict__ d) {
  __shared__ int flag, cell;
  if (threadIdx.x == 0) flag = 7;
  __syncwarp(0xffffffffu);
  out[threadIdx.x] = flag + warpSize;
  __threadfence();
  if (threadIdx.x == 0) {
    out[32] = __float_as_int(1.0f);
    f[0] = __int_as_float(0x40490fdb);
    out64[0] = __double_as_longlong(1.0);
    d[0] = __longlong_as_double(0x4000000000000000ll);
    cell = 5;
    out[33] = atomicCAS(&cell, 4, 9); /* no swap: returns 5 */
    out[34] = cell;
    out[35] = atomicCAS(&cell, 5, 9); /* swaps: returns 5 */
    out[36] = cell;
    out[37] = __ldg(&out[32]);
  }
}

// a deep stack: 64 KiB of locals per thread
// launch: grid = 1, block = 64
TC_KERNEL void k_deep(float *__restrict__ out) {
  float buf[16384];
  for (int i = 0; i < 16384; i++) buf[i] = (float)(i % 7 + threadIdx.x);
  float s = 0.0f;
  for (int i = 16383; i >= 0; i--) s += buf[i];
  out[threadIdx.x] = s;
}

// WRONG: half the threads return before a __syncthreads()
TC_KERNEL void bad_deadlock(float *__restrict__ x) {
  if (threadIdx.x >= blockDim.x / 2) return;
  __syncthreads();
  x[threadIdx.x] = 1.0f;
}

// WRONG: lanes 16-31 exit, lanes 0-15 shuffle with them
TC_KERNEL void bad_shfl_exited(float *__restrict__ x) {
  float v = (float)threadIdx.x;
  if (threadIdx.x % 32 >= 16) return;
  x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, v, 16);
}

// WRONG: lanes 0-15 exit first, then lanes 16-31 shuffle with them
TC_KERNEL void bad_shfl_exited_early(float *__restrict__ x) {
  float v = (float)threadIdx.x;
  if (threadIdx.x % 32 < 16) return;
  x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, v, 16);
}

// WRONG in a block of 48: the second warp has lanes 0-15 only
TC_KERNEL void bad_shfl_missing_lane(float *__restrict__ x) {
  float v = (float)threadIdx.x;
  x[threadIdx.x] = v + __shfl_down_sync(0xffffffffu, v, 16);
}

// WRONG: odd lanes shuffle while even lanes vote
TC_KERNEL void bad_mixed_ops(float *__restrict__ x) {
  float v = (float)threadIdx.x;
  if (threadIdx.x % 2) v = __shfl_xor_sync(0xffffffffu, v, 1);
  else v = (float)__ballot_sync(0xffffffffu, v > 3.0f);
  x[threadIdx.x] = v;
}

// WRONG: thread 0 waits at __syncthreads() while its warp shuffles
TC_KERNEL void bad_sync_vs_warp(float *__restrict__ x) {
  float v = (float)threadIdx.x;
  if (threadIdx.x == 0) __syncthreads();
  else v = __shfl_xor_sync(0xffffffffu, v, 1);
  x[threadIdx.x] = v;
}

// WRONG: a mask that leaves out the calling lane
TC_KERNEL void bad_mask(float *__restrict__ x) {
  if (threadIdx.x == 1) __syncwarp(0x1u);
  x[threadIdx.x] = 0.0f;
}

// WRONG: a shuffle whose source lane is not in the mask
TC_KERNEL void bad_shfl_outside_mask(float *__restrict__ x) {
  if (threadIdx.x < 16) x[threadIdx.x] = __shfl_sync(0x0000ffffu, x[threadIdx.x], 20);
}

// WRONG: reads far past its buffer, outside every allocation
TC_KERNEL void bad_oob(float *__restrict__ y, float *__restrict__ x, long long n) {
  if (threadIdx.x == 0) y[0] = x[n + (1ll << 26)];
}

// WRONG: reads one element past its buffer (inside the arena)
TC_KERNEL void bad_past_end(float *__restrict__ y, float *__restrict__ x, long long n) {
  if (threadIdx.x == 0) y[0] = x[n];
}

// WRONG: recursion far deeper than a thread's stack
__device__ float deeper(volatile float *x, int n) {
  volatile float pad[256];
  pad[n % 256] = x[0];
  return n ? deeper(x, n - 1) + pad[n % 256] : x[0];
}
TC_KERNEL void bad_stack_overflow(float *__restrict__ x) { x[threadIdx.x] = deeper(x, 1 << 20); }

#ifdef TC_EMULATE
void k_gauss__emu(void **params) {
  float *y = *(float **)params[0];
  float *x = *(float **)params[1];
  long long n = *(long long *)params[2];
  if (!tcemu_check_device(y, "k_gauss", 0) || !tcemu_check_device(x, "k_gauss", 1)) return;
  k_gauss(y, x, n);
}

void k_block_sum__emu(void **params) {
  double *partial = *(double **)params[0];
  double *x = *(double **)params[1];
  long long n = *(long long *)params[2];
  if (!tcemu_check_device(partial, "k_block_sum", 0) || !tcemu_check_device(x, "k_block_sum", 1)) return;
  k_block_sum(partial, x, n);
}

void k_warp_sum_f32__emu(void **params) {
  float *partial = *(float **)params[0];
  float *x = *(float **)params[1];
  long long n = *(long long *)params[2];
  if (!tcemu_check_device(partial, "k_warp_sum_f32", 0) || !tcemu_check_device(x, "k_warp_sum_f32", 1)) return;
  k_warp_sum_f32(partial, x, n);
}

void k_warp_sum_f64__emu(void **params) {
  double *partial = *(double **)params[0];
  double *x = *(double **)params[1];
  long long n = *(long long *)params[2];
  if (!tcemu_check_device(partial, "k_warp_sum_f64", 0) || !tcemu_check_device(x, "k_warp_sum_f64", 1)) return;
  k_warp_sum_f64(partial, x, n);
}

void k_warp_sum_i64__emu(void **params) {
  long long *partial = *(long long **)params[0];
  long long *x = *(long long **)params[1];
  long long n = *(long long *)params[2];
  if (!tcemu_check_device(partial, "k_warp_sum_i64", 0) || !tcemu_check_device(x, "k_warp_sum_i64", 1)) return;
  k_warp_sum_i64(partial, x, n);
}

void k_softmax_rows__emu(void **params) {
  float *y = *(float **)params[0];
  float *x = *(float **)params[1];
  long long rows = *(long long *)params[2];
  long long cols = *(long long *)params[3];
  if (!tcemu_check_device(y, "k_softmax_rows", 0) || !tcemu_check_device(x, "k_softmax_rows", 1)) return;
  k_softmax_rows(y, x, rows, cols);
}

void k_atomics__emu(void **params) {
  int *ci = *(int **)params[0];
  float *cf = *(float **)params[1];
  unsigned long long *cu = *(unsigned long long **)params[2];
  long long *cl = *(long long **)params[3];
  double *cd = *(double **)params[4];
  unsigned *cn = *(unsigned **)params[5];
  int *minmax = *(int **)params[6];
  long long n = *(long long *)params[7];
  if (!tcemu_check_device(ci, "k_atomics", 0) || !tcemu_check_device(cf, "k_atomics", 1) ||
      !tcemu_check_device(cu, "k_atomics", 2) || !tcemu_check_device(cl, "k_atomics", 3) ||
      !tcemu_check_device(cd, "k_atomics", 4) || !tcemu_check_device(cn, "k_atomics", 5) ||
      !tcemu_check_device(minmax, "k_atomics", 6))
    return;
  k_atomics(ci, cf, cu, cl, cd, cn, minmax, n);
}

void k_cas__emu(void **params) {
  int *c = *(int **)params[0];
  unsigned *cn = *(unsigned **)params[1];
  unsigned long long *cu = *(unsigned long long **)params[2];
  int *last = *(int **)params[3];
  float *lastf = *(float **)params[4];
  unsigned *lastn = *(unsigned **)params[5];
  unsigned long long *lastu = *(unsigned long long **)params[6];
  long long n = *(long long *)params[7];
  if (!tcemu_check_device(c, "k_cas", 0) || !tcemu_check_device(cn, "k_cas", 1) ||
      !tcemu_check_device(cu, "k_cas", 2) || !tcemu_check_device(last, "k_cas", 3) ||
      !tcemu_check_device(lastf, "k_cas", 4) || !tcemu_check_device(lastn, "k_cas", 5) ||
      !tcemu_check_device(lastu, "k_cas", 6))
    return;
  k_cas(c, cn, cu, last, lastf, lastn, lastu, n);
}

void k_float_order__emu(void **params) {
  float *sum = *(float **)params[0];
  float *x = *(float **)params[1];
  long long n = *(long long *)params[2];
  if (!tcemu_check_device(sum, "k_float_order", 0) || !tcemu_check_device(x, "k_float_order", 1)) return;
  k_float_order(sum, x, n);
}

void k_votes__emu(void **params) {
  unsigned *ballot = *(unsigned **)params[0];
  int *flags = *(int **)params[1];
  unsigned *halves = *(unsigned **)params[2];
  long long n = *(long long *)params[3];
  if (!tcemu_check_device(ballot, "k_votes", 0) || !tcemu_check_device(flags, "k_votes", 1) ||
      !tcemu_check_device(halves, "k_votes", 2))
    return;
  k_votes(ballot, flags, halves, n);
}

void k_scan__emu(void **params) {
  int *incl = *(int **)params[0];
  long long *bcast = *(long long **)params[1];
  unsigned *rot = *(unsigned **)params[2];
  unsigned long long *down = *(unsigned long long **)params[3];
  double *xr = *(double **)params[4];
  if (!tcemu_check_device(incl, "k_scan", 0) || !tcemu_check_device(bcast, "k_scan", 1) ||
      !tcemu_check_device(rot, "k_scan", 2) || !tcemu_check_device(down, "k_scan", 3) ||
      !tcemu_check_device(xr, "k_scan", 4))
    return;
  k_scan(incl, bcast, rot, down, xr);
}

void k_index3d__emu(void **params) {
  int *out = *(int **)params[0];
  if (!tcemu_check_device(out, "k_index3d", 0)) return;
  k_index3d(out);
}

void k_misc__emu(void **params) {
  int *out = *(int **)params[0];
  long long *out64 = *(long long **)params[1];
  float *f = *(float **)params[2];
  double *d = *(double **)params[3];
  if (!tcemu_check_device(out, "k_misc", 0) || !tcemu_check_device(out64, "k_misc", 1) ||
      !tcemu_check_device(f, "k_misc", 2) || !tcemu_check_device(d, "k_misc", 3))
    return;
  k_misc(out, out64, f, d);
}

void k_deep__emu(void **params) {
  float *out = *(float **)params[0];
  if (!tcemu_check_device(out, "k_deep", 0)) return;
  k_deep(out);
}

/* The bad_* kernels that take one buffer. */
#define ONE_BUFFER_TRAMPOLINE(NAME)                                                                            \
  void NAME##__emu(void **params) {                                                                            \
    float *x = *(float **)params[0];                                                                           \
    if (!tcemu_check_device(x, #NAME, 0)) return;                                                              \
    NAME(x);                                                                                                   \
  }
ONE_BUFFER_TRAMPOLINE(bad_deadlock)
ONE_BUFFER_TRAMPOLINE(bad_shfl_exited)
ONE_BUFFER_TRAMPOLINE(bad_shfl_exited_early)
ONE_BUFFER_TRAMPOLINE(bad_shfl_missing_lane)
ONE_BUFFER_TRAMPOLINE(bad_mixed_ops)
ONE_BUFFER_TRAMPOLINE(bad_sync_vs_warp)
ONE_BUFFER_TRAMPOLINE(bad_mask)
ONE_BUFFER_TRAMPOLINE(bad_shfl_outside_mask)
ONE_BUFFER_TRAMPOLINE(bad_stack_overflow)

void bad_oob__emu(void **params) {
  float *y = *(float **)params[0];
  float *x = *(float **)params[1];
  long long n = *(long long *)params[2];
  if (!tcemu_check_device(y, "bad_oob", 0) || !tcemu_check_device(x, "bad_oob", 1)) return;
  bad_oob(y, x, n);
}

void bad_past_end__emu(void **params) {
  float *y = *(float **)params[0];
  float *x = *(float **)params[1];
  long long n = *(long long *)params[2];
  if (!tcemu_check_device(y, "bad_past_end", 0) || !tcemu_check_device(x, "bad_past_end", 1)) return;
  bad_past_end(y, x, n);
}

const tcemu_kernel tc_emu_kernels[] = {
    {"k_gauss", k_gauss__emu},
    {"k_block_sum", k_block_sum__emu},
    {"k_warp_sum_f32", k_warp_sum_f32__emu},
    {"k_warp_sum_f64", k_warp_sum_f64__emu},
    {"k_warp_sum_i64", k_warp_sum_i64__emu},
    {"k_softmax_rows", k_softmax_rows__emu},
    {"k_atomics", k_atomics__emu},
    {"k_cas", k_cas__emu},
    {"k_float_order", k_float_order__emu},
    {"k_votes", k_votes__emu},
    {"k_scan", k_scan__emu},
    {"k_index3d", k_index3d__emu},
    {"k_misc", k_misc__emu},
    {"k_deep", k_deep__emu},
    {"bad_deadlock", bad_deadlock__emu},
    {"bad_shfl_exited", bad_shfl_exited__emu},
    {"bad_shfl_exited_early", bad_shfl_exited_early__emu},
    {"bad_shfl_missing_lane", bad_shfl_missing_lane__emu},
    {"bad_mixed_ops", bad_mixed_ops__emu},
    {"bad_sync_vs_warp", bad_sync_vs_warp__emu},
    {"bad_mask", bad_mask__emu},
    {"bad_shfl_outside_mask", bad_shfl_outside_mask__emu},
    {"bad_stack_overflow", bad_stack_overflow__emu},
    {"bad_oob", bad_oob__emu},
    {"bad_past_end", bad_past_end__emu},
    {0, 0},
};
#endif
