/* tests/runtime/exe_test.c - tcrt_exe_main around a hand-written program,
 * standing in for what the compiler emits for:
 *
 *   param W = [1.0, 2.0, 3.0]           # f32[3]
 *   param count = 0                     # i64
 *   def main(data: f32[N, 3], labels: i64[N], epochs: i64 = 2,
 *            lr: f32 = 0.1, shuffle: bool = False):
 *       print("rows", data.shape[0])
 *       W += epochs; count += 1
 *       return data.sum(axis=0), labels.sum() * epochs, W, lr, shuffle,
 *              count, rand()
 *
 * main fails at run time (exit 1) when epochs < 0, and reports bad input
 * (exit 2) for a negative label, as generated code would.  With
 * EXE_TEST_PROGRAM=noargs it runs a program with no arguments or params.
 * After tcrt_exe_main returns, every tcrt_alloc'd buffer must be freed.
 */
#include "tensorc/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_W, P_COUNT };

static const char *const syms[] = {"N"};

/* dims: {sym, value}; sym 0 is N, -1 a constant */
static const tc_argdesc args[] = {
    {.name = "data", .dtype = TC_F32, .rank = 2, .dims = {{0, 0}, {-1, 3}}},
    {.name = "labels", .dtype = TC_I64, .rank = 1, .dims = {{0, 0}}},
    {.name = "epochs", .dtype = TC_I64, .has_default = 1, .default_value = 2},
    {.name = "lr", .dtype = TC_F32, .has_default = 1, .default_value = 0.1},
    {.name = "shuffle", .dtype = TC_BOOL, .has_default = 1, .default_value = 0},
};

static const tc_paramdesc params[] = {
    {"W", TC_F32, 1, {3}},
    {"count", TC_I64, 0, {0}},
};

static int init(tc_ctx *ctx) {
  float *w = tcrt_alloc(ctx, 3 * sizeof(float));
  int64_t *count = tcrt_alloc(ctx, sizeof(int64_t));
  if (!w || !count) {
    tcrt_free(w);
    tcrt_free(count);
    return TC_ERR_NOMEM;
  }
  w[0] = 1, w[1] = 2, w[2] = 3;
  *count = 0;
  tcrt_set_param(ctx, P_W, w);
  tcrt_set_param(ctx, P_COUNT, count);
  return TC_OK;
}

/* A result buffer of `bytes`, or NULL with the error set. */
static void *result(tc_ctx *ctx, tc_array *r, tc_dtype dt, int rank, int64_t n) {
  r->dtype = dt;
  r->rank = rank;
  r->shape[0] = n;
  r->data = tcrt_alloc(ctx, (rank ? n : 1) * (int64_t)tcrt_dtype_size(dt));
  return r->data;
}

static int run_main(tc_ctx *ctx, const tc_array *a, tc_array *res) {
  const float *data = a[0].data;
  const int64_t *labels = a[1].data;
  int64_t n = a[0].shape[0], epochs = *(const int64_t *)a[2].data;
  if (epochs < 0)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "range(epochs): epochs is %lld, expected >= 0", (long long)epochs);
  for (int64_t i = 0; i < n; i++)
    if (labels[i] < 0)
      return tcrt_fail(ctx, TC_ERR_INPUT, "labels: label %lld is negative", (long long)labels[i]);
  tcrt_print_str("rows", 0);
  tc_array rows = {&n, TC_I64, 0, {0}};
  tcrt_print_array(&rows, 1);
  tcrt_print_end();

  float *w = tcrt_param(ctx, P_W);
  int64_t *count = tcrt_param(ctx, P_COUNT);
  for (int j = 0; j < 3; j++)
    w[j] += (float)epochs;
  *count += 1;

  float *sums = result(ctx, &res[0], TC_F32, 1, 3);
  int64_t *lsum = result(ctx, &res[1], TC_I64, 0, 1);
  float *wcopy = result(ctx, &res[2], TC_F32, 1, 3);
  float *lr = result(ctx, &res[3], TC_F32, 0, 1);
  uint8_t *shuffle = result(ctx, &res[4], TC_BOOL, 0, 1);
  int64_t *cnt = result(ctx, &res[5], TC_I64, 0, 1);
  double *noise = result(ctx, &res[6], TC_F64, 0, 1);
  if (!sums || !lsum || !wcopy || !lr || !shuffle || !cnt || !noise)
    return TC_ERR_NOMEM; /* the caller frees what was set */
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < 3; j++)
      sums[j] += data[i * 3 + j];
  for (int64_t i = 0; i < n; i++)
    *lsum += labels[i];
  *lsum *= epochs;
  memcpy(wcopy, w, 3 * sizeof(float));
  *lr = *(const float *)a[3].data;
  *shuffle = *(const uint8_t *)a[4].data;
  *cnt = *count;
  return tcrt_rand(ctx, TC_F64, noise, 1);
}

static const tc_program prog = {
    .name = "exe_test",
    .nargs = 5,
    .args = args,
    .nsyms = 1,
    .sym_names = syms,
    .nparams = 2,
    .params = params,
    .nresults = 7,
    .init = init,
    .main = run_main,
};

static int noargs_main(tc_ctx *ctx, const tc_array *a, tc_array *res) {
  double *m = tcrt_alloc(ctx, 4 * sizeof(double));
  if (!m)
    return TC_ERR_NOMEM;
  m[0] = 1, m[1] = 0.5, m[2] = -2, m[3] = 1e-3;
  res[0] = (tc_array){m, TC_F64, 2, {2, 2}};
  return TC_OK;
}

static const tc_program noargs = {.name = "noargs", .nresults = 1, .main = noargs_main};

int main(int argc, char **argv) {
  const char *which = getenv("EXE_TEST_PROGRAM");
  int code = tcrt_exe_main(argc, argv, which && strcmp(which, "noargs") == 0 ? &noargs : &prog);
  if (tcrt_alloc_count() != 0) {
    fprintf(stderr, "exe_test: %lld buffers leaked\n", (long long)tcrt_alloc_count());
    return 99;
  }
  return code;
}
