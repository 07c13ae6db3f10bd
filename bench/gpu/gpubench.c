/* bench/gpu/gpubench.c - the GPU rows (a)-(e) of the benchmark: tensorc's
 * kernels on data that stays on the device (gpubench.tc, written by
 * programs.py with the sizes of gpubench_sizes.h), timed through the C
 * interface as bench/c/ times the CPU: only the calls, warm-up first,
 * median of the repetitions.
 *
 * A call may return before its kernels finish, so one repetition is a
 * block of R calls back to back followed by the workload's probe, which
 * copies a few values to the host and so waits for the kernels; the
 * repetition's time is the block's over R (the probe's few microseconds
 * spread over R calls).  PyTorch is timed the same way (torchbench.py:
 * R calls, then torch.cuda.synchronize()).
 *
 *   gpubench [BLOCKS [CALLS_PER_BLOCK]]
 *
 * Prints RESULT / CHECK / BYTES / FLOPS lines (bench/gpu/run.py reads
 * them); a workload that fails prints FAILED and the others still run;
 * exit status 1 when any failed. */
#include "gpubench.h"
#include "gpubench_sizes.h"
#include "bench.h"

typedef int (*step_fn)(gpubench_ctx *);
typedef int (*probe_fn)(gpubench_ctx *, DLTensor *);

static int failures;

static int failed(gpubench_ctx *ctx, const char *key, const char *what) {
  printf("FAILED %s %s: %s\n", key, what, gpubench_error(ctx));
  fflush(stdout);
  failures++;
  return 0;
}

/* Runs the workload once and probes it (the check's values, and a warm-up),
 * then times BLOCKS blocks of `calls` calls and a probe. */
static int time_gpu(gpubench_ctx *ctx, const char *key, int blocks, int calls, step_fn step, probe_fn probe,
                    DLTensor *out) {
  if (step(ctx) || step(ctx) || probe(ctx, out))
    return failed(ctx, key, "warm-up");
  double *t = malloc(sizeof(double) * (size_t)blocks);
  for (int b = 0; b < blocks; b++) {
    double t0 = bench_now();
    for (int c = 0; c < calls; c++)
      if (step(ctx)) {
        free(t);
        return failed(ctx, key, "call");
      }
    if (probe(ctx, out)) {
      free(t);
      return failed(ctx, key, "probe");
    }
    t[b] = (bench_now() - t0) / calls;
  }
  bench_result(key, t, blocks);
  free(t);
  return 1;
}

/* (b) the softmax of row x, in double */
static double softmax_err(const float *x, const float *y, int64_t n) {
  double m = -INFINITY, s = 0, err = 0;
  for (int64_t j = 0; j < n; j++)
    m = fmax(m, x[j]);
  for (int64_t j = 0; j < n; j++)
    s += exp((double)x[j] - m);
  for (int64_t j = 0; j < n; j++)
    err = fmax(err, bench_relerr(y[j], exp((double)x[j] - m) / s));
  return err;
}

/* (c) the layer norm of row x, scaled by g and shifted by b */
static double layernorm_err(const float *x, const float *y, const float *g, const float *b, int64_t n) {
  double mu = 0, var = 0, err = 0;
  for (int64_t j = 0; j < n; j++)
    mu += x[j];
  mu /= (double)n;
  for (int64_t j = 0; j < n; j++)
    var += ((double)x[j] - mu) * ((double)x[j] - mu);
  var /= (double)n;
  for (int64_t j = 0; j < n; j++) {
    double want = ((double)x[j] - mu) / sqrt(var + 1e-5) * g[j] + b[j];
    err = fmax(err, fabs(y[j] - want) / (fabs(want) + 1.0));
  }
  return err;
}

static void rows_workloads(gpubench_ctx *ctx, int i, int64_t r, int blocks, int calls, step_fn sm, probe_fn smp,
                           step_fn ln, probe_fn lnp) {
  int64_t shape[2] = {4, SM_C};
  float *p = bench_alloc(4 * SM_C * 4);
  DLTensor P = F32(p, 2, shape);
  char key[64];
  snprintf(key, sizeof key, "b%d.tensorc", i);
  printf("BYTES b%d %lld\n", i, (long long)(2 * 4 * r * SM_C));
  if (time_gpu(ctx, key, blocks, calls, sm, smp, &P))
    bench_check(key, fmax(softmax_err(p, p + SM_C, SM_C), softmax_err(p + 2 * SM_C, p + 3 * SM_C, SM_C)), 1e-4);
  snprintf(key, sizeof key, "c%d.tensorc", i);
  printf("BYTES c%d %lld\n", i, (long long)(2 * 4 * r * SM_C + 2 * 4 * SM_C));
  if (time_gpu(ctx, key, blocks, calls, ln, lnp, &P))
    bench_check(key, layernorm_err(p, p + SM_C, p + 2 * SM_C, p + 3 * SM_C, SM_C), 1e-4);
  free(p);
}

int main(int argc, char **argv) {
  int blocks = bench_reps(argc, argv, 10), calls = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 20;
  gpubench_ctx *ctx = gpubench_create(NULL);
  if (!ctx) {
    printf("FAILED all create: %s\n", gpubench_error(NULL));
    return 1;
  }

  /* (a) elementwise chain */
  {
    int64_t shape[2] = {2, 64};
    float p[128];
    DLTensor P = F32(p, 2, shape);
    printf("BYTES a %lld\n", (long long)(2 * 4 * EW_N));
    if (time_gpu(ctx, "a.tensorc", blocks, calls, gpubench_ew, gpubench_ew_probe, &P)) {
      double err = 0;
      for (int j = 0; j < 64; j++)
        err = fmax(err, bench_relerr(p[64 + j], tanh(p[j]) * 2.0 + (double)p[j] * p[j] - 1.0));
      bench_check("a.tensorc", err, 1e-4);
    }
  }

  rows_workloads(ctx, 1, SM1_R, blocks, calls, gpubench_sm1, gpubench_sm1_probe, gpubench_ln1, gpubench_ln1_probe);
  rows_workloads(ctx, 2, SM2_R, blocks, calls, gpubench_sm2, gpubench_sm2_probe, gpubench_ln2, gpubench_ln2_probe);

  /* (d) row sum: row 0 against its sum in double */
  {
    int64_t xs[1] = {RS_C}, ys[1] = {8};
    float *x = bench_alloc(RS_C * 4), y[8];
    DLTensor X = F32(x, 1, xs), Y = F32(y, 1, ys);
    printf("BYTES d %lld\n", (long long)(4 * RS_R * RS_C + 4 * RS_R));
    if (time_gpu(ctx, "d.tensorc", blocks, calls, gpubench_rs, gpubench_rs_probe_y, &Y)) {
      if (gpubench_rs_probe_x(ctx, &X))
        failed(ctx, "d.tensorc", "probe x");
      else {
        double s = 0, a = 0;
        for (int64_t j = 0; j < RS_C; j++)
          s += x[j], a += fabs(x[j]);
        bench_check("d.tensorc", fabs(y[0] - s) / a, 1e-5);
      }
    }
    free(x);
  }

  /* (e) sgemm: c[0:2, 0:8] against a[0:2] @ b[:, 0:8] in double */
  {
    int64_t as[2] = {2, MM_N}, bs[2] = {MM_N, 8}, cs[2] = {2, 8};
    float *a = bench_alloc(2 * MM_N * 4), *b = bench_alloc(MM_N * 8 * 4), c[16];
    DLTensor A = F32(a, 2, as), B = F32(b, 2, bs), C = F32(c, 2, cs);
    printf("FLOPS e %lld\n", (long long)(2 * MM_N * MM_N * MM_N));
    if (time_gpu(ctx, "e.tensorc", blocks, calls, gpubench_mm, gpubench_mm_probe_c, &C)) {
      if (gpubench_mm_probe_a(ctx, &A) || gpubench_mm_probe_b(ctx, &B))
        failed(ctx, "e.tensorc", "probe a, b");
      else {
        double err = 0;
        for (int i = 0; i < 2; i++)
          for (int j = 0; j < 8; j++) {
            double s = 0;
            for (int64_t k = 0; k < MM_N; k++)
              s += (double)a[i * MM_N + k] * b[k * 8 + j];
            err = fmax(err, fabs(c[i * 8 + j] - s) / sqrt((double)MM_N));
          }
        bench_check("e.tensorc", err, 1e-4);
      }
    }
    free(a), free(b);
  }
  gpubench_destroy(ctx);
  return failures ? 1 : 0;
}
