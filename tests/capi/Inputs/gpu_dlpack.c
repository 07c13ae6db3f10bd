/* gpu_dlpack.c - the C interface on the device (docs/runtime.md), against
 * dev.tc compiled with `tensorc -c --device=cuda --gpu-emulate`; built
 * with -DCPU_MODEL, against dev.tc compiled for the CPU (two models cannot
 * share one program: their functions' symbols would clash).  Prints one
 * line per check for FileCheck.
 *
 * Device tensors: under emulation device memory is the emulator's arena,
 * which host code cannot touch, so this program allocates its kDLCUDA
 * tensors with the runtime's tcrt_dev_alloc on the model's context and
 * fills them with tcrt_dev_copy.  A real program would use cudaMalloc and
 * cudaMemcpy (or a CuPy/PyTorch tensor) on the context's GPU instead.
 */
#include "dev.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define EXPECT(cond)                                                                                         \
  do {                                                                                                       \
    if (!(cond)) {                                                                                           \
      printf("FAILED line %d: %s\n", __LINE__, #cond);                                                       \
      failures++;                                                                                            \
    }                                                                                                        \
  } while (0)

enum { N = 3 };
static int64_t shape[2] = {N, 4};
static float X[N][4] = {{1, 2, 3, 4}, {-1, 0.5f, 8, 2}, {0, 0, 1, -3}};
#ifdef CPU_MODEL
/* A model compiled for the CPU: device tensors and a GPU are refused. */
int main(void) {
  dev_ctx *cpu = dev_create(NULL);
  if (!cpu) {
    printf("create failed: %s\n", dev_error(NULL));
    return 1;
  }
  float got[N][4];
  printf("cpu model device: %s\n", dev_device(cpu));
  /* the data pointers are never read: the tensors are refused first */
  DLTensor xd = tc_tensor(X, 2, shape, TC_F32), xh = xd, out = tc_tensor(got, 2, shape, TC_F32), od = out;
  xd.device = od.device = (DLDevice){kDLCUDA, 0};
  printf("cuda tensor to the cpu: rc=%d %s\n", dev_scale(cpu, &xd, 2.0f, &out), dev_error(cpu));
  printf("cuda output from the cpu: rc=%d %s\n", dev_mix(cpu, &xh, &xh, &od), dev_error(cpu));
  printf("cpu call: rc=%d\n", dev_mix(cpu, &xh, &xh, &out));
  dev_destroy(cpu);
  tensorc_options opt = {0};
  opt.device = "cuda";
  printf("cpu model, ask cuda: %s\n", dev_create(&opt) ? "made" : dev_error(NULL));
  setenv("TC_DEVICE", "cuda:0", 1);
  printf("cpu model, TC_DEVICE=cuda:0: %s\n", dev_create(NULL) ? "made" : dev_error(NULL));
  setenv("TC_DEVICE", "cpu", 1);
  dev_ctx *c = dev_create(NULL);
  printf("cpu model, TC_DEVICE=cpu: %s\n", c ? dev_device(c) : dev_error(NULL));
  dev_destroy(c);
  return failures != 0;
}
#else
static float Y[N][4] = {{0.5f, 1, 0, 2}, {3, -1, 1, 1}, {2, 2, -2, 0}};

/* A kDLCUDA tensor over new device memory of the model's context holding host data. */
static DLTensor device_tensor(dev_ctx *ctx, const void *host, int64_t bytes) {
  tc_ctx *tc = (tc_ctx *)ctx;
  void *d = tcrt_dev_alloc(tc, bytes);
  EXPECT(d != NULL);
  if (host)
    EXPECT(tcrt_dev_copy(tc, d, host, bytes, TC_COPY_H2D) == 0);
  DLTensor t = tc_tensor(d, 2, shape, TC_F32);
  t.device = (DLDevice){kDLCUDA, 0};
  return t;
}

static void read_back(dev_ctx *ctx, void *host, const DLTensor *t, int64_t bytes) {
  EXPECT(tcrt_dev_copy((tc_ctx *)ctx, host, t->data, bytes, TC_COPY_D2H) == 0);
}

static int close_to(float got[N][4], float want[N][4]) {
  for (int i = 0; i < N; i++)
    for (int j = 0; j < 4; j++)
      if (fabsf(got[i][j] - want[i][j]) > 1e-6f)
        return 0;
  return 1;
}

/* The copies of each kind since the last call. */
static int64_t h2d, d2h, d2d;
static void copies_since(void) {
  static int64_t last[4];
  int64_t now[4] = {0, tcrt_dev_copy_calls(TC_COPY_H2D), tcrt_dev_copy_calls(TC_COPY_D2H),
                    tcrt_dev_copy_calls(TC_COPY_D2D)};
  h2d = now[1] - last[1], d2h = now[2] - last[2], d2d = now[3] - last[3];
  memcpy(last, now, sizeof last);
}

int main(void) {
  dev_ctx *ctx = dev_create(NULL);
  if (!ctx) {
    printf("create failed: %s\n", dev_error(NULL));
    return 1;
  }
  printf("device: %s\n", dev_device(ctx));
  float want_scale[N][4], want_mix[N][4], got[N][4];
  for (int i = 0; i < N; i++)
    for (int j = 0; j < 4; j++) {
      want_scale[i][j] = X[i][j] * 2.0f + 0.5f;
      want_mix[i][j] = X[i][j] + 2.0f * Y[i][j];
    }
  int64_t bytes = sizeof X;

  /* 1. a kDLCUDA input, a kDLCPU output */
  DLTensor xd = device_tensor(ctx, X, bytes);
  DLTensor out = tc_tensor(got, 2, shape, TC_F32);
  memset(got, 0, sizeof got);
  DLTensor xh = tc_tensor(X, 2, shape, TC_F32);
  copies_since();
  int rc = dev_scale(ctx, &xh, 2.0f, &out);
  copies_since();
  int64_t host_h2d = h2d, host_d2h = d2h;
  EXPECT(rc == 0 && host_h2d >= 1);
  rc = dev_scale(ctx, &xd, 2.0f, &out);
  copies_since();
  printf("cuda in, cpu out: rc=%d ok=%d\n", rc, close_to(got, want_scale));
  /* against the same call with x on the host: in place, x's copy to the
   * device is gone; staged, x makes one more trip, device to host */
  printf("copies: h2d=%lld d2h=%lld d2d=%lld; with x on the host h2d=%lld d2h=%lld\n", (long long)h2d,
         (long long)d2h, (long long)d2d, (long long)host_h2d, (long long)host_d2h);
  printf("copies as the header says: %d\n", DEV_DEVICE_ARGS_IN_PLACE
                                                ? h2d == host_h2d - 1 && d2h == host_d2h
                                                : h2d == host_h2d && d2h == host_d2h + 1);

  /* 2. kDLCUDA in and out: the kernel writes the output in place, so
   * nothing crosses but the scalar s (host to device) */
  DLTensor od = device_tensor(ctx, NULL, bytes);
  copies_since();
  rc = dev_scale(ctx, &xd, 2.0f, &od);
  copies_since();
  int64_t dev_h2d = h2d, dev_d2h = d2h, dev_d2d = d2d;
  memset(got, 0, sizeof got);
  read_back(ctx, got, &od, bytes);
  printf("cuda in, cuda out: rc=%d ok=%d\n", rc, close_to(got, want_scale));
  printf("cuda out in place: h2d=%lld d2h=%lld d2d=%lld\n", (long long)dev_h2d, (long long)dev_d2h,
         (long long)dev_d2d);

  /* 3. a mix: x on the host, y on the device, the result on the device */
  DLTensor yd = device_tensor(ctx, Y, bytes);
  rc = dev_mix(ctx, &xh, &yd, &od);
  memset(got, 0, sizeof got);
  read_back(ctx, got, &od, bytes);
  printf("cpu x, cuda y, cuda out: rc=%d ok=%d\n", rc, close_to(got, want_mix));

  /* 4. a strided device input: the rows of a 3x8 device array, 4 columns used */
  float wide[N][8];
  for (int i = 0; i < N; i++)
    for (int j = 0; j < 8; j++)
      wide[i][j] = j < 4 ? X[i][j] : 1000.0f;
  DLTensor sd = device_tensor(ctx, wide, sizeof wide);
  int64_t strides[2] = {8, 1};
  sd.strides = strides;
  memset(got, 0, sizeof got);
  rc = dev_scale(ctx, &sd, 2.0f, &out);
  printf("strided cuda in: rc=%d ok=%d\n", rc, close_to(got, want_scale));
  /* and a strided device output: the same 3x8 array's first 4 columns */
  rc = dev_mix(ctx, &xh, &yd, &sd);
  read_back(ctx, wide, &sd, sizeof wide);
  int strided_ok = 1;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < 8; j++)
      strided_ok &= j < 4 ? fabsf(wide[i][j] - want_mix[i][j]) <= 1e-6f : wide[i][j] == 1000.0f;
  printf("strided cuda out: rc=%d ok=%d\n", rc, strided_ok);

  /* 5. the caller's device memory is intact and the context keeps only what it had */
  float back[N][4];
  read_back(ctx, back, &xd, bytes);
  printf("input unchanged: %d\n", memcmp(back, X, sizeof X) == 0);

  /* 6. mistakes */
  DLTensor other = xd;
  other.device.device_id = 1;
  printf("other gpu: rc=%d %s\n", dev_scale(ctx, &other, 2.0f, &out), dev_error(ctx));
  DLTensor vulkan = xd;
  vulkan.device.device_type = (DLDeviceType)7;
  printf("other device type: rc=%d %s\n", dev_scale(ctx, &vulkan, 2.0f, &out), dev_error(ctx));

  /* 7. the param, as a view on the device */
  DLTensor w;
  rc = dev_param(ctx, "w", &w);
  float wh[4] = {0};
  if (!rc)
    EXPECT(tcrt_dev_copy((tc_ctx *)ctx, wh, w.data, sizeof wh, TC_COPY_D2H) == 0);
  printf("param w: rc=%d device=%d/%d value=%g\n", rc, (int)w.device.device_type, (int)w.device.device_id,
         wh[0]);

  /* 8. the device a context asks for */
  tensorc_options opt = {0};
  opt.device = "cpu";
  printf("ask cpu: %s\n", dev_create(&opt) ? "made" : dev_error(NULL));
  opt.device = "cuda:1";
  printf("ask cuda:1: %s\n", dev_create(&opt) ? "made" : dev_error(NULL));
  opt.device = "gpu";
  printf("ask gpu: %s\n", dev_create(&opt) ? "made" : dev_error(NULL));
  setenv("TC_DEVICE", "cuda:1", 1);
  printf("TC_DEVICE=cuda:1: %s\n", dev_create(NULL) ? "made" : dev_error(NULL));
  opt.device = "cuda:0"; /* the option wins over the environment */
  dev_ctx *c0 = dev_create(&opt);
  printf("option cuda:0 beside TC_DEVICE=cuda:1: %s\n", c0 ? dev_device(c0) : dev_error(NULL));
  dev_destroy(c0);
  setenv("TC_DEVICE", "cpu", 1);
  printf("TC_DEVICE=cpu: %s\n", dev_create(NULL) ? "made" : dev_error(NULL));
  unsetenv("TC_DEVICE");

  tc_ctx *tc = (tc_ctx *)ctx;
  tcrt_dev_free(tc, xd.data);
  tcrt_dev_free(tc, od.data);
  tcrt_dev_free(tc, yd.data);
  tcrt_dev_free(tc, sd.data);
  printf("device blocks left: %lld (the param)\n", (long long)tcrt_dev_live_blocks(tc));
  dev_destroy(ctx);
  printf("failures: %d\n", failures);
  return failures != 0;
}
#endif
