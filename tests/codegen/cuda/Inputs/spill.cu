// k_spill must spill registers on every arch: its 96 loads all happen before
// the first store (which may alias them, so none is loaded again), and
// __launch_bounds__(1024) leaves 64 registers a thread.  k_fits spills
// nothing.  For ptxas_spills.test.
#define TC_KERNEL extern "C" __global__
TC_KERNEL void __launch_bounds__(1024) k_spill(float *y, const float *x, long long n) {
  float v[96];
#pragma unroll
  for (int j = 0; j < 96; j++)
    v[j] = x[j * n + threadIdx.x];
  float s = 0.0f;
#pragma unroll
  for (int j = 0; j < 96; j++)
    s += v[j] * v[95 - j];
#pragma unroll
  for (int j = 0; j < 96; j++)
    y[j * n + threadIdx.x] = v[j] * s;
}
TC_KERNEL void k_fits(float *y) { y[threadIdx.x] *= 2.0f; }
