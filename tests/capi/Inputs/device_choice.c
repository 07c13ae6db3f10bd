/* device_choice.c - the runtime's side of the C interface on the device,
 * with hand-built module descriptors (what the compiler will emit):
 *   - GPU code that takes device arguments (TC_GPU_DEVICE_ARGS) and reads
 *     its argument through tcrt_dev_arg: a kDLCUDA input reaches it as the
 *     caller's own pointer, with no copy to the device, and its
 *     tcrt_dev_free leaves the caller's memory alone; a host input is
 *     copied in; a strided device input is copied on the device;
 *   - --device=auto's CPU twin (tc_module.cpu): a context that cannot open
 *     a GPU runs it, calls through the GPU module's funcdescs reach the
 *     twin's functions, and tcrt_api_device says why; "cuda" asked then
 *     fails with the reason, "cpu" asked takes the twin.
 * Prints one line per check for FileCheck.
 */
#include "tensorc/api.h"

#include <stdio.h>
#include <string.h>

static int failures;
#define EXPECT(cond)                                                                                         \
  do {                                                                                                       \
    if (!(cond)) {                                                                                           \
      printf("FAILED line %d: %s\n", __LINE__, #cond);                                                       \
      failures++;                                                                                            \
    }                                                                                                        \
  } while (0)

/* ---- the modules: inc(x: f32[N]) -> f32[N] and a param p: f32[2] ---- */

static const void *seen; /* the device pointer the GPU code read x from */
static const char *ran;  /* which code ran */

/* As generated code that takes device arguments would: x through
 * tcrt_dev_arg, the result (x + 1) in host memory. */
static int gpu_inc(tc_ctx *ctx, const tc_array *args, tc_array *res) {
  int64_t n = args[0].shape[0], bytes = n * 4;
  void *xd = tcrt_dev_arg(ctx, args[0].data, bytes);
  if (!xd)
    return TC_ERR_NOMEM;
  seen = xd;
  ran = "gpu";
  float *h = tcrt_alloc_uninit(ctx, bytes);
  int st = h ? tcrt_dev_copy(ctx, h, xd, bytes, TC_COPY_D2H) : TC_ERR_NOMEM;
  tcrt_dev_free(ctx, xd);
  if (st)
    return st;
  for (int64_t i = 0; i < n; i++)
    h[i] += 1;
  res[0] = (tc_array){h, TC_F32, 1, {n}};
  return TC_OK;
}

/* The CPU twin (x + 100, to tell them apart). */
static int cpu_inc(tc_ctx *ctx, const tc_array *args, tc_array *res) {
  int64_t n = args[0].shape[0];
  float *h = tcrt_alloc_uninit(ctx, n * 4);
  if (!h)
    return TC_ERR_NOMEM;
  ran = "cpu";
  for (int64_t i = 0; i < n; i++)
    h[i] = ((const float *)args[0].data)[i] + 100;
  res[0] = (tc_array){h, TC_F32, 1, {n}};
  return TC_OK;
}

static int init(tc_ctx *ctx) {
  static const float p[2] = {7, 8};
  return tcrt_set_param_copy(ctx, 0, p, sizeof p);
}

static const tc_argdesc x_arg = {"x", TC_F32, 1, {{0, 0}}, 0, 0};
static const tc_argdesc out_res = {"out", TC_F32, 1, {{0, 0}}, 0, 0};
static const char *const syms[] = {"N"};
static const tc_paramdesc params[] = {{"p", TC_F32, 1, {2}}};
static const tc_funcdesc gpu_funcs[] = {{"inc", 1, &x_arg, 1, &out_res, 1, syms, gpu_inc}};
static const tc_funcdesc cpu_funcs[] = {{"inc", 1, &x_arg, 1, &out_res, 1, syms, cpu_inc}};
static const tc_funcdesc two_funcs[] = {{"inc", 1, &x_arg, 1, &out_res, 1, syms, cpu_inc},
                                        {"inc2", 1, &x_arg, 1, &out_res, 1, syms, cpu_inc}};

/* the emulator: a kernel table with no kernels (the code launches none) */
static const struct {
  const char *name;
  void (*fn)(void **);
} no_kernels[] = {{NULL, NULL}};
static const tc_gpu_image emulated = {"sm_80", "", "", 0, 0, NULL, no_kernels, TC_GPU_DEVICE_ARGS, NULL};
/* the CUDA driver's image: this runtime finds no driver (the test does not run where a GPU is) */
static const tc_gpu_image driver = {"sm_80", "", "", 0, 0, NULL, NULL, TC_GPU_DEVICE_ARGS, NULL};

#define MODULE(nm, funcs, nf, gpu, cpu)                                                                      \
  { TENSORC_ABI_VERSION, 42, nm, "{}", 1, params, nf, funcs, init, gpu, cpu }
static const tc_module cpu_twin = MODULE("twin", cpu_funcs, 1, NULL, NULL);
static const tc_module on_emulator = MODULE("emu", gpu_funcs, 1, &emulated, NULL);
static const tc_module with_twin = MODULE("auto", gpu_funcs, 1, &driver, &cpu_twin);
static const tc_module gpu_only = MODULE("gpuonly", gpu_funcs, 1, &driver, NULL);
static const tc_module wrong_twin_cpu = MODULE("wrong", two_funcs, 2, NULL, NULL);
static const tc_module wrong_twin = MODULE("wrong", gpu_funcs, 1, &driver, &wrong_twin_cpu);

/* ---- calls ---- */

static int64_t n4[1] = {4};

static int call(tc_ctx *ctx, const tc_module *m, DLTensor *x, float out[4]) {
  DLTensor o = tc_tensor(out, 1, n4, TC_F32);
  void *argv[1] = {x};
  DLTensor *outs[1] = {&o};
  return tcrt_api_call(ctx, &m->funcs[0], argv, outs, NULL);
}

static void on_device(void) {
  tc_ctx *ctx = tcrt_api_create(&on_emulator, NULL, TENSORC_ABI_VERSION, 42);
  if (!ctx) {
    printf("emulator: %s\n", tcrt_error(NULL));
    failures++;
    return;
  }
  printf("emulator: %s\n", tcrt_api_device(ctx));
  float host[4] = {1, 2, 3, 4}, out[4] = {0};
  void *d = tcrt_dev_alloc(ctx, sizeof host);
  EXPECT(d && tcrt_dev_copy(ctx, d, host, sizeof host, TC_COPY_H2D) == 0);
  DLTensor xd = tc_tensor(d, 1, n4, TC_F32);
  xd.device = (DLDevice){kDLCUDA, 0};
  int64_t live = tcrt_dev_live_blocks(ctx), h2d = tcrt_dev_copy_calls(TC_COPY_H2D);
  int rc = call(ctx, &on_emulator, &xd, out);
  printf("cuda x: rc=%d read in place=%d copies to the device=%lld out=%g %g %g %g\n", rc, seen == d,
         (long long)(tcrt_dev_copy_calls(TC_COPY_H2D) - h2d), out[0], out[1], out[2], out[3]);
  printf("the caller's block still live: %d\n", tcrt_dev_live_blocks(ctx) == live);

  DLTensor xh = tc_tensor(host, 1, n4, TC_F32);
  h2d = tcrt_dev_copy_calls(TC_COPY_H2D);
  rc = call(ctx, &on_emulator, &xh, out);
  printf("cpu x: rc=%d read in place=%d copies to the device=%lld out=%g\n", rc, seen == (void *)host,
         (long long)(tcrt_dev_copy_calls(TC_COPY_H2D) - h2d), out[0]);

  /* every other element of 8 on the device */
  float wide[8] = {1, -1, 2, -1, 3, -1, 4, -1};
  void *w = tcrt_dev_alloc(ctx, sizeof wide);
  EXPECT(w && tcrt_dev_copy(ctx, w, wide, sizeof wide, TC_COPY_H2D) == 0);
  DLTensor xs = tc_tensor(w, 1, n4, TC_F32);
  xs.device = (DLDevice){kDLCUDA, 0};
  int64_t stride = 2, d2d = tcrt_dev_copy_calls(TC_COPY_D2D);
  xs.strides = &stride;
  h2d = tcrt_dev_copy_calls(TC_COPY_H2D);
  live = tcrt_dev_live_blocks(ctx);
  rc = call(ctx, &on_emulator, &xs, out);
  printf("strided cuda x: rc=%d read in place=%d copies to the device=%lld on it=%lld out=%g %g %g %g\n", rc,
         seen == w, (long long)(tcrt_dev_copy_calls(TC_COPY_H2D) - h2d),
         (long long)(tcrt_dev_copy_calls(TC_COPY_D2D) - d2d), out[0], out[1], out[2], out[3]);
  printf("its copy freed: %d\n", tcrt_dev_live_blocks(ctx) == live);

  DLTensor p;
  rc = tcrt_api_param(ctx, &on_emulator, "p", &p);
  printf("param p: rc=%d device=%d\n", rc, (int)p.device.device_type);
  tcrt_dev_free(ctx, d);
  tcrt_dev_free(ctx, w);
  tcrt_ctx_free(ctx);
}

static void auto_twin(void) {
  tc_ctx *ctx = tcrt_api_create(&with_twin, NULL, TENSORC_ABI_VERSION, 42);
  if (!ctx) {
    printf("auto: %s\n", tcrt_error(NULL));
    failures++;
    return;
  }
  printf("auto: %s\n", tcrt_api_device(ctx));
  float host[4] = {1, 2, 3, 4}, out[4] = {0};
  DLTensor xh = tc_tensor(host, 1, n4, TC_F32);
  ran = NULL;
  int rc = call(ctx, &with_twin, &xh, out); /* the GPU module's funcdesc */
  printf("auto call: rc=%d ran=%s out=%g\n", rc, ran ? ran : "nothing", out[0]);
  DLTensor p;
  float pv[2] = {0};
  rc = tcrt_api_param(ctx, &with_twin, "p", &p);
  if (!rc)
    memcpy(pv, p.data, sizeof pv);
  printf("auto param p: rc=%d device=%d value=%g %g\n", rc, (int)p.device.device_type, pv[0], pv[1]);
  DLTensor xd = xh;
  xd.device = (DLDevice){kDLCUDA, 0};
  rc = call(ctx, &with_twin, &xd, out);
  printf("auto cuda x: rc=%d %s\n", rc, tcrt_error(ctx));
  tcrt_ctx_free(ctx);

  tensorc_options opt = {0};
  opt.device = "cuda";
  printf("auto, ask cuda: %s\n",
         tcrt_api_create(&with_twin, &opt, TENSORC_ABI_VERSION, 42) ? "made" : tcrt_error(NULL));
  opt.device = "cpu";
  ctx = tcrt_api_create(&with_twin, &opt, TENSORC_ABI_VERSION, 42);
  printf("auto, ask cpu: %s\n", ctx ? tcrt_api_device(ctx) : tcrt_error(NULL));
  ran = NULL;
  rc = ctx ? call(ctx, &with_twin, &xh, out) : -1;
  printf("auto, ask cpu, call: rc=%d ran=%s\n", rc, ran ? ran : "nothing");
  tcrt_ctx_free(ctx);
  printf("gpu only, auto: %s\n",
         tcrt_api_create(&gpu_only, NULL, TENSORC_ABI_VERSION, 42) ? "made" : tcrt_error(NULL));
  printf("gpu only, ask cpu: %s\n",
         tcrt_api_create(&gpu_only, &opt, TENSORC_ABI_VERSION, 42) ? "made" : tcrt_error(NULL));
  printf("wrong twin: %s\n",
         tcrt_api_create(&wrong_twin, NULL, TENSORC_ABI_VERSION, 42) ? "made" : tcrt_error(NULL));
}

int main(void) {
  on_device();
  auto_twin();
  printf("failures: %d\n", failures);
  return failures != 0;
}
