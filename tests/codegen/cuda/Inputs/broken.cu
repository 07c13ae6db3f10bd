// Not valid CUDA C: cg_nvrtc_compile must quote lines 6 and 9 of this file
// with NVRTC's log (nvrtc_error.test).
#define TC_KERNEL extern "C" __global__
TC_KERNEL void k0_broken(float *__restrict__ y, long long n) {
  for (long long i = threadIdx.x; i < n; i += blockDim.x)
    y[i] = undefined_value * 2.0f;
}
TC_KERNEL void k1_broken(float *__restrict__ y) {
  y[0] = undefined_fn(y);
}
