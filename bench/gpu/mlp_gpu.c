/* bench/gpu/mlp_gpu.c - (f), (g) on the GPU: the CPU bench's MLP
 * (bench/tc/mlp.tc, compiled with --device=cuda) on NS synthetic samples,
 * timed as bench/c/mlp.c times it on the CPU:
 *   f.tensorc.epoch    one SGD epoch, batch 64, the loop inside train_epoch;
 *   f.tensorc.steps    the same epoch as calls of train_step from C;
 *   g.tensorc.predict  inference in batches of 1024;
 *   f.launches / f.matmuls  kernel launches and cuBLAS calls of one
 *                      train_step (counted by wrapping tcrt_dev_launch,
 *                      tcrt_dev_matmul and tcrt_dev_matmul_epilogue at link
 *                      time: -Wl,--wrap=...).  A product with a folded
 *                      epilogue is one cublasLtMatmul, one call; where
 *                      cuBLASLt is missing its fallback's plain product is
 *                      a tcrt_dev_matmul too, so it counts twice, and its
 *                      epilogue kernel is a launch.
 * The data are host arrays (the C interface copies each call's inputs to
 * the device: the epoch pays one copy of X, a step one batch); the loss
 * and the logits come back to the host, so every call has finished when
 * it returns.
 *   mlp_gpu [REPS [NS]]     (NS default 60000) */
#include "mlp.h"
#include "bench.h"

enum { D = 784, K = 10 };

/* The wrappers count and jump to the real function, whatever its
 * arguments (x86-64: a tail jump leaves the argument registers and the
 * stack as the caller set them). */
long long gpubench_launches, gpubench_matmuls;
__asm__(".text\n.globl __wrap_tcrt_dev_launch\n__wrap_tcrt_dev_launch:\n"
        "  lock incq gpubench_launches(%rip)\n  jmp __real_tcrt_dev_launch\n"
        ".globl __wrap_tcrt_dev_matmul\n__wrap_tcrt_dev_matmul:\n"
        "  lock incq gpubench_matmuls(%rip)\n  jmp __real_tcrt_dev_matmul\n"
        ".globl __wrap_tcrt_dev_matmul_epilogue\n__wrap_tcrt_dev_matmul_epilogue:\n"
        "  lock incq gpubench_matmuls(%rip)\n  jmp __real_tcrt_dev_matmul_epilogue\n");

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 3);
  int64_t ns = argc > 2 && atoll(argv[2]) > 0 ? atoll(argv[2]) : 60000;
  float *x = bench_alloc(ns * D * 4), *logits = bench_alloc(ns * K * 4);
  int64_t *y = bench_alloc(ns * 8);
  bench_fill(x, ns * D, 0.0f, 1.0f);
  for (int64_t i = 0; i < ns; i++)
    y[i] = (int64_t)(bench_next() % K);
  mlp_ctx *ctx = mlp_create(NULL);
  if (!ctx) {
    printf("FAILED all create: %s\n", mlp_error(NULL));
    return 1;
  }
  const float lr = 0.01f;
  float loss = 0;
  int64_t xs[2] = {ns, D}, ys[1] = {ns};
  DLTensor X = F32(x, 2, xs), Y = I64(y, 1, ys), L = F32(&loss, 0, NULL);
  printf("INFO samples %lld\n", (long long)ns);

  /* one step, counted (also the warm-up of the step's path) */
  {
    int64_t bx[2] = {64, D}, by[1] = {64};
    DLTensor Xb = F32(x, 2, bx), Yb = I64(y, 1, by);
    long long l0 = gpubench_launches, m0 = gpubench_matmuls;
    CALL(mlp_error, ctx, mlp_train_step(ctx, &Xb, &Yb, lr, &L));
    printf("COUNT f.launches %lld\nCOUNT f.matmuls %lld\n", gpubench_launches - l0, gpubench_matmuls - m0);
  }

  CALL(mlp_error, ctx, mlp_train_epoch(ctx, &X, &Y, lr, &L)); /* warm-up */
  TIME("f.tensorc.epoch", 0, reps, CALL(mlp_error, ctx, mlp_train_epoch(ctx, &X, &Y, lr, &L)));
  bench_check("f.tensorc.epoch", loss > 1.0f && loss < 4.0f ? 0.0 : 1.0, 0.0);

  TIME("f.tensorc.steps", 0, reps, {
    for (int64_t s = 0; s < ns; s += 64) {
      int64_t b = ns - s < 64 ? ns - s : 64, bx[2] = {b, D}, by[1] = {b};
      DLTensor Xb = F32(x + s * D, 2, bx), Yb = I64(y + s, 1, by);
      CALL(mlp_error, ctx, mlp_train_step(ctx, &Xb, &Yb, lr, &L));
    }
  });
  bench_check("f.tensorc.steps", loss > 1.0f && loss < 4.0f ? 0.0 : 1.0, 0.0);

  TIME("g.tensorc.predict", 1, 3 * reps, {
    for (int64_t s = 0; s < ns; s += 1024) {
      int64_t b = ns - s < 1024 ? ns - s : 1024, bx[2] = {b, D}, bo[2] = {b, K};
      DLTensor Xb = F32(x + s * D, 2, bx), Ob = F32(logits + s * K, 2, bo);
      CALL(mlp_error, ctx, mlp_predict(ctx, &Xb, &Ob));
    }
  });
  /* the weights stay on the device: check that the logits are finite and
   * not all one class (the numbers themselves are the e2e tests' job) */
  int64_t counts[K] = {0}, bad = 0;
  for (int64_t i = 0; i < ns; i++) {
    int best = 0;
    for (int k = 0; k < K; k++) {
      bad += !isfinite(logits[i * K + k]);
      if (logits[i * K + k] > logits[i * K + best])
        best = k;
    }
    counts[best]++;
  }
  int64_t top = 0;
  for (int k = 0; k < K; k++)
    top = counts[k] > top ? counts[k] : top;
  bench_check("g.tensorc.predict", bad ? 1.0 : (double)top / (double)ns, 0.99);
  mlp_destroy(ctx);
  return 0;
}
