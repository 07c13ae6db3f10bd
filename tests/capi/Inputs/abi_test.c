/* abi_test.c - every feature of the C interface (SPEC §4) against mlp.tc,
 * compiled with `tensorc -c`.  Prints one line per check for FileCheck;
 * numbers are checked against NumPy by abi_check.py from the files this
 * writes (DIR/...npy is not needed: the values are printed).
 *
 *   abi_test DIR     (DIR: a scratch directory for --params-in files)
 */
#include "mlp.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define EXPECT(cond)                                                                                                   \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      printf("FAILED line %d: %s\n", __LINE__, #cond);                                                                 \
      failures++;                                                                                                      \
    }                                                                                                                  \
  } while (0)

/* Four samples of the toy data set: the class is which of x[0..2] is largest. */
static float X[4][4] = {{2, 0, 0, 1}, {0, 2, 0, -1}, {0, 0, 2, 0.5f}, {1.5f, 0, 0, 0}};
static int64_t Y[4] = {0, 1, 2, 0};
static int64_t xshape[2] = {4, 4}, yshape[1] = {4};

static void success(mlp_ctx *ctx) {
  DLTensor x = tc_tensor(X, 2, xshape, TC_F32);
  float out[4][3];
  int64_t oshape[2] = {4, 3};
  DLTensor o = tc_tensor(out, 2, oshape, TC_F32);
  int rc = mlp_logits(ctx, &x, &o);
  printf("logits rc=%d\n", rc);
  for (int i = 0; i < 4; i++)
    printf("logits[%d] = %.6f %.6f %.6f\n", i, out[i][0], out[i][1], out[i][2]);

  /* a strided input: every other column of a 4x8 array */
  float wide[4][8];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      wide[i][2 * j] = X[i][j], wide[i][2 * j + 1] = 1e9f;
  int64_t strides[2] = {8, 2};
  DLTensor xs = tc_tensor(wide, 2, xshape, TC_F32);
  xs.strides = strides;
  /* and a strided output: the transpose of a 3x4 array */
  float outT[3][4];
  int64_t ostrides[2] = {1, 4};
  DLTensor oT = tc_tensor(outT, 2, oshape, TC_F32);
  oT.strides = ostrides;
  rc = mlp_logits(ctx, &xs, &oT);
  int same = rc == 0;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 3; j++)
      same &= outT[j][i] == out[i][j];
  printf("strided rc=%d same=%d\n", rc, same);

  /* byte_offset: the last two rows */
  int64_t two[2] = {2, 4}, tshape[1] = {2};
  int64_t pred[2];
  DLTensor x2 = tc_tensor(X, 2, two, TC_F32), p2 = tc_tensor(pred, 1, tshape, TC_I64);
  x2.byte_offset = 2 * 4 * sizeof(float);
  rc = mlp_predict(ctx, &x2, &p2);
  printf("offset rc=%d same=%d\n", rc, rc == 0 && (float)pred[0] >= 0);

  /* scalars of every C type */
  float v[3] = {1, 2, 3}, r[3];
  int64_t n3[1] = {3};
  DLTensor vt = tc_tensor(v, 1, n3, TC_F32), rt = tc_tensor(r, 1, n3, TC_F32);
  rc = mlp_scale(ctx, &vt, 0.5, true, 10, &rt);
  printf("scale(true) rc=%d %g %g %g\n", rc, r[0], r[1], r[2]);
  rc = mlp_scale(ctx, &vt, 0.5, false, -1, &rt);
  printf("scale(false) rc=%d %g %g %g\n", rc, r[0], r[1], r[2]);

  /* a result dim that is an expression */
  float t[2];
  int64_t n2[1] = {2};
  DLTensor tt = tc_tensor(t, 1, n2, TC_F32);
  rc = mlp_tail(ctx, &vt, &tt);
  printf("tail rc=%d %g %g\n", rc, t[0], t[1]);
  rc = mlp_tail(ctx, &vt, &rt);
  printf("tail wrong rc=%d %s\n", rc, mlp_error(ctx));
}

static void errors(mlp_ctx *ctx) {
  float out[4][3];
  int64_t pred[4], oshape[2] = {4, 3}, bad[2] = {4, 5}, three[1] = {3};
  DLTensor x = tc_tensor(X, 2, xshape, TC_F32), o = tc_tensor(out, 2, oshape, TC_F32);
  DLTensor p = tc_tensor(pred, 1, yshape, TC_I64);
  /* wrong shape */
  DLTensor xb = tc_tensor(X, 2, bad, TC_F32);
  printf("wrong shape rc=%d %s\n", mlp_logits(ctx, &xb, &o), mlp_error(ctx));
  DLTensor x1 = tc_tensor(X, 1, yshape, TC_F32);
  printf("wrong rank rc=%d %s\n", mlp_logits(ctx, &x1, &o), mlp_error(ctx));
  DLTensor ob = tc_tensor(out, 2, bad, TC_F32);
  printf("wrong output rc=%d %s\n", mlp_logits(ctx, &x, &ob), mlp_error(ctx));
  /* symbolic dims that disagree */
  DLTensor y3 = tc_tensor(Y, 1, three, TC_I64);
  float loss;
  DLTensor l = tc_tensor(&loss, 0, NULL, TC_F32);
  printf("disagree rc=%d %s\n", mlp_train_step(ctx, &x, &y3, 0.1f, &l), mlp_error(ctx));
  /* wrong dtype */
  DLTensor x64 = tc_tensor(X, 2, xshape, TC_F64);
  printf("wrong dtype rc=%d %s\n", mlp_logits(ctx, &x64, &o), mlp_error(ctx));
  DLTensor pf = tc_tensor(pred, 1, yshape, TC_F64);
  printf("wrong output dtype rc=%d %s\n", mlp_predict(ctx, &x, &pf), mlp_error(ctx));
  DLTensor xgpu = x;
  xgpu.device.device_type = kDLCUDA;
  printf("wrong device rc=%d %s\n", mlp_logits(ctx, &xgpu, &o), mlp_error(ctx));
  /* NULL arguments */
  printf("null input rc=%d %s\n", mlp_logits(ctx, NULL, &o), mlp_error(ctx));
  printf("null output rc=%d %s\n", mlp_predict(ctx, &x, NULL), mlp_error(ctx));
  printf("null context rc=%d %s\n", mlp_predict(NULL, &x, &p), mlp_error(NULL));
  DLTensor nodata = tc_tensor(NULL, 2, xshape, TC_F32);
  printf("null data rc=%d %s\n", mlp_logits(ctx, &nodata, &o), mlp_error(ctx));
  printf("null param name rc=%d %s\n", mlp_param(ctx, NULL, &o), mlp_error(ctx));
  printf("unknown param rc=%d %s\n", mlp_param(ctx, "W9", &o), mlp_error(ctx));
  /* a failure inside the function, after it allocated: nothing is left behind */
  int64_t before = tcrt_alloc_count();
  float v[6] = {1, 2, 3, 4, 5, 6};
  int64_t six[1] = {6};
  DLTensor vt = tc_tensor(v, 1, six, TC_F32);
  printf("run-time error rc=%d %s\n", mlp_fold(ctx, &vt, 4, &l), mlp_error(ctx));
  printf("leaked blocks after the error: %lld\n", (long long)(tcrt_alloc_count() - before));
  int rc = mlp_fold(ctx, &vt, 3, &l);
  printf("fold ok rc=%d %g\n", rc, loss);
  /* still usable after errors */
  printf("after errors rc=%d\n", mlp_predict(ctx, &x, &p));
}

static void params(mlp_ctx *ctx, const char *dir) {
  DLTensor w;
  int rc = mlp_param(ctx, "W2", &w);
  printf("param W2 rc=%d ndim=%d shape=%lld,%lld dtype=%d/%d\n", rc, w.ndim, (long long)w.shape[0],
         (long long)w.shape[1], w.dtype.code, w.dtype.bits);
  /* write the params as .npy files (a tiny writer: header + data) for params_in */
  const char *names[] = {"W1", "b1", "W2", "b2"};
  for (int i = 0; i < 4; i++) {
    DLTensor t;
    mlp_param(ctx, names[i], &t);
    char path[512], header[128];
    snprintf(path, sizeof path, "%s/%s.npy", dir, names[i]);
    int len = t.ndim == 2 ? snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                                     (long long)t.shape[0], (long long)t.shape[1])
                          : snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld,), }",
                                     (long long)t.shape[0]);
    while ((10 + len + 1) % 64)
      header[len++] = ' ';
    header[len++] = '\n';
    FILE *f = fopen(path, "wb");
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)len, 0};
    fwrite(pre, 1, 10, f);
    fwrite(header, 1, (size_t)len, f);
    int64_t n = t.shape[0] * (t.ndim == 2 ? t.shape[1] : 1);
    fwrite(t.data, sizeof(float), (size_t)n, f);
    fclose(f);
  }
}

/* ---- two contexts on two threads ---- */

typedef struct Run {
  float losses[50];
  float w2[24];
  int rc;
} Run;

static void *train(void *arg) {
  Run *r = arg;
  tensorc_options opt = {.seed = 7};
  mlp_ctx *ctx = mlp_create(&opt);
  if (!ctx) {
    r->rc = -1;
    return NULL;
  }
  DLTensor x = tc_tensor(X, 2, xshape, TC_F32), y = tc_tensor(Y, 1, yshape, TC_I64);
  for (int i = 0; i < 50 && !r->rc; i++) {
    DLTensor l = tc_tensor(&r->losses[i], 0, NULL, TC_F32);
    r->rc = mlp_train_step(ctx, &x, &y, 0.5f, &l);
  }
  DLTensor w;
  mlp_param(ctx, "W2", &w);
  memcpy(r->w2, w.data, sizeof r->w2);
  mlp_destroy(ctx);
  return NULL;
}

static void threads(void) {
  Run a = {0}, b = {0};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, train, &a);
  pthread_create(&tb, NULL, train, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  printf("threads rc=%d,%d identical=%d\n", a.rc, b.rc,
         memcmp(a.losses, b.losses, sizeof a.losses) == 0 && memcmp(a.w2, b.w2, sizeof a.w2) == 0);
  printf("loss first=%.4f last=%.4f decreased=%d\n", a.losses[0], a.losses[49], a.losses[49] < a.losses[0] / 4);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: abi_test DIR\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  int64_t base = tcrt_alloc_count();
  printf("abi %d, hash %016llx\n", MLP_ABI_VERSION, (unsigned long long)MLP_HASH);
  mlp_ctx *ctx = mlp_create(NULL);
  printf("create %s\n", ctx ? "ok" : mlp_error(NULL));
  if (!ctx)
    return 1;
  success(ctx);
  errors(ctx);
  params(ctx, argv[1]);

  /* params_in: a second context with the first one's params gives the same logits */
  tensorc_options opt = {.params_in = argv[1]};
  mlp_ctx *c2 = mlp_create(&opt);
  float o1[4][3], o2[4][3];
  int64_t oshape[2] = {4, 3};
  DLTensor x = tc_tensor(X, 2, xshape, TC_F32), a = tc_tensor(o1, 2, oshape, TC_F32),
           b = tc_tensor(o2, 2, oshape, TC_F32);
  int rc1 = mlp_logits(ctx, &x, &a), rc2 = c2 ? mlp_logits(c2, &x, &b) : -1;
  printf("params_in rc=%d,%d same=%d\n", rc1, rc2, memcmp(o1, o2, sizeof o1) == 0);
  mlp_destroy(c2);
  opt.params_in = "/nonexistent";
  printf("params_in missing: %s %s\n", mlp_create(&opt) ? "created" : "NULL", mlp_error(NULL));

  /* the header's ABI version and hash are checked */
  printf("hash mismatch: %s %s\n", mlp_create_checked(NULL, MLP_ABI_VERSION, MLP_HASH ^ 1) ? "created" : "NULL",
         mlp_error(NULL));
  printf("abi mismatch: %s %s\n", mlp_create_checked(NULL, MLP_ABI_VERSION + 1, MLP_HASH) ? "created" : "NULL",
         mlp_error(NULL));
  mlp_destroy(ctx);
  threads();
  printf("live blocks at the end: %lld\n", (long long)(tcrt_alloc_count() - base));
  printf("failures: %d\n", failures);
  return failures != 0;
}
