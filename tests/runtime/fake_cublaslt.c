/* tests/runtime/fake_cublaslt.c - a stand-in for libcublasLt, built as
 * build/fake_cuda/libcublasLt.so.13: tests point TENSORC_LIBCUBLASLT at it
 * to run runtime/cublaslt.c without a GPU, on the fake driver
 * (fake_cuda.c), whose device memory is host memory.
 *
 * It is a reference of what cuBLASLt computes, from cublasLt.h's words:
 * D = epilogue(op(A) op(B)), column-major, op per CUBLASLT_MATMUL_DESC_TRANSA/B,
 * each matrix as its layout (rows, cols, ld) says; CUBLASLT_EPILOGUE_BIAS
 * adds bias[i] to row i of D ("length must match matrix D rows ...
 * broadcasted to all columns"), then RELU is max(x, 0) and GELU the tanh
 * approximation.  Layouts that disagree with the operation (op(A) not
 * m x k, ...) or a leading dimension below the rows are
 * CUBLAS_STATUS_INVALID_VALUE, as the real library's checks.
 * FAKE_CUBLASLT_MODE=refuse: the heuristic finds no algorithm.
 * fake_cublaslt_stats gives the calls counted and the last A alignment
 * the heuristic was told, for the test.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { OK = 0, INVALID_VALUE = 7, NOT_SUPPORTED = 15 };

typedef struct Desc {
  int compute, scale, transa, transb;
  int32_t epilogue;
  const float *bias;
} Desc;
typedef struct Layout {
  int type;
  uint64_t rows, cols;
  int64_t ld;
} Layout;
typedef struct Heuristic {
  uint64_t algo[8];
  size_t workspace_size;
  int state;
  float waves;
  int reserved[4];
} Heuristic;

static int creates, descs_live, layouts_live, heuristics, matmuls, last_compute;
static uint32_t pref_align_a = 256; /* the last minimum alignment of A set on a preference */

void fake_cublaslt_stats(int *out) {
  out[0] = creates, out[1] = heuristics, out[2] = matmuls, out[3] = descs_live, out[4] = layouts_live;
  out[5] = last_compute, out[6] = (int)pref_align_a;
}

int cublasLtCreate(void **h) {
  creates++;
  *h = malloc(1);
  return *h ? OK : INVALID_VALUE;
}
int cublasLtDestroy(void *h) {
  free(h);
  return OK;
}
int cublasLtMatmulDescCreate(void **d, int compute, int scale) {
  Desc *x = calloc(1, sizeof *x);
  if (!x)
    return INVALID_VALUE;
  x->compute = compute, x->scale = scale, x->epilogue = 1;
  descs_live++;
  *d = x;
  return OK;
}
int cublasLtMatmulDescDestroy(void *d) {
  descs_live--;
  free(d);
  return OK;
}
int cublasLtMatmulDescSetAttribute(void *d, int attr, const void *buf, size_t size) {
  Desc *x = d;
  switch (attr) {
  case 3: if (size != 4) return INVALID_VALUE; memcpy(&x->transa, buf, 4); return OK;
  case 4: if (size != 4) return INVALID_VALUE; memcpy(&x->transb, buf, 4); return OK;
  case 7: if (size != 4) return INVALID_VALUE; memcpy(&x->epilogue, buf, 4); return OK;
  case 8: if (size != sizeof(void *)) return INVALID_VALUE; memcpy(&x->bias, buf, sizeof(void *)); return OK;
  default: return INVALID_VALUE;
  }
}
int cublasLtMatrixLayoutCreate(void **l, int type, uint64_t rows, uint64_t cols, int64_t ld) {
  Layout *x = malloc(sizeof *x);
  if (!x || ld < (int64_t)rows)
    return free(x), INVALID_VALUE;
  *x = (Layout){type, rows, cols, ld};
  layouts_live++;
  *l = x;
  return OK;
}
int cublasLtMatrixLayoutDestroy(void *l) {
  layouts_live--;
  free(l);
  return OK;
}
int cublasLtMatmulPreferenceCreate(void **p) {
  *p = malloc(8);
  return *p ? OK : INVALID_VALUE;
}
int cublasLtMatmulPreferenceDestroy(void *p) {
  free(p);
  return OK;
}
/* The workspace limit (uint64_t) and the operands' minimum alignments
 * (uint32_t, A B C D: 5 6 7 8), each a power of two of at least 4 here. */
int cublasLtMatmulPreferenceSetAttribute(void *p, int attr, const void *buf, size_t size) {
  uint32_t a;
  if (p && attr == 1 && size == 8)
    return OK;
  if (!p || attr < 5 || attr > 8 || size != 4)
    return INVALID_VALUE;
  memcpy(&a, buf, 4);
  if (attr == 5)
    pref_align_a = a;
  return a >= 4 && a <= 256 && !(a & (a - 1)) ? OK : INVALID_VALUE;
}

/* op(X) of a column-major layout: rows x cols as op reads it. */
static uint64_t op_rows(const Layout *l, int trans) { return trans ? l->cols : l->rows; }
static uint64_t op_cols(const Layout *l, int trans) { return trans ? l->rows : l->cols; }

static int check_shapes(const Desc *d, const Layout *a, const Layout *b, const Layout *c) {
  if (a->type || b->type || c->type || d->scale)
    return INVALID_VALUE; /* CUDA_R_32F only here */
  if (op_rows(a, d->transa) != c->rows || op_cols(b, d->transb) != c->cols ||
      op_cols(a, d->transa) != op_rows(b, d->transb))
    return INVALID_VALUE;
  return OK;
}

int cublasLtMatmulAlgoGetHeuristic(void *h, void *desc, void *a, void *b, void *c, void *d, void *pref, int requested,
                                   Heuristic *results, int *returned) {
  (void)h, (void)pref;
  heuristics++;
  *returned = 0;
  if (requested < 1 || c != d || check_shapes(desc, a, b, c))
    return INVALID_VALUE;
  const char *mode = getenv("FAKE_CUBLASLT_MODE");
  if (mode && !strcmp(mode, "refuse"))
    return NOT_SUPPORTED; /* as the real one: no algorithm for the problem */
  memset(results, 0, sizeof *results);
  results->algo[0] = 42;
  results->workspace_size = 4096;
  *returned = 1;
  return OK;
}

int cublasLtMatmul(void *h, void *desc, const void *alpha, const void *A, void *adesc, const void *B, void *bdesc,
                   const void *beta, const void *C, void *cdesc, void *D, void *ddesc, const uint64_t *algo,
                   void *workspace, size_t ws, void *stream) {
  (void)h, (void)C, (void)stream;
  const Desc *x = desc;
  const Layout *la = adesc, *lb = bdesc, *lc = cdesc;
  if (cdesc != ddesc || check_shapes(x, la, lb, lc) || !algo || algo[0] != 42 || ws < 4096 || !workspace ||
      *(const float *)alpha != 1 || *(const float *)beta != 0)
    return INVALID_VALUE;
  if ((x->epilogue & 4) && !x->bias)
    return INVALID_VALUE;
  matmuls++;
  last_compute = x->compute;
  const float *a = A, *b = B;
  float *dd = D;
  uint64_t m = lc->rows, n = lc->cols, k = op_cols(la, x->transa);
  for (uint64_t i = 0; i < m; i++)
    for (uint64_t j = 0; j < n; j++) {
      double s = 0;
      for (uint64_t p = 0; p < k; p++) {
        double av = x->transa ? a[p + i * la->ld] : a[i + p * la->ld];
        double bv = x->transb ? b[j + p * lb->ld] : b[p + j * lb->ld];
        s += av * bv;
      }
      float v = (float)s;
      if (x->epilogue & 4)
        v += x->bias[i];
      if (x->epilogue & 2)
        v = fmaxf(v, 0.0f);
      if (x->epilogue & 32)
        v = 0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
      dd[i + j * lc->ld] = v;
    }
  return OK;
}
