/* runtime/cublaslt.c - matrix products with a bias/activation epilogue:
 * c = act(op(a) @ op(b) + bias[col]), one cublasLtMatmul on the GPU.
 *
 * tcrt_dev_matmul_epilogue is what compiled programs call for a matmul
 * whose epilogue passes/blas_epilogue.c folded into the call.  On the CUDA
 * driver backend it runs as one cublasLtMatmul (rt_cublaslt_matmul, the
 * device's matmul_epilogue hook); where there is no cuBLASLt (the
 * emulator, a machine without the library, a handle that cannot be made)
 * or cuBLASLt finds no algorithm for the shape, it runs as the plain
 * product (tcrt_dev_matmul: cuBLAS or its CPU stand-in) followed by the
 * prelude's epilogue kernel tc_epilogue_f32 (codegen/cuda_prelude.cuh),
 * which computes what the folded kernel did.
 *
 * libcublasLt is opened with dlopen on the first such product of a
 * context (TENSORC_LIBCUBLASLT=PATH names the file; else libcublasLt.so.13,
 * .12, .11, libcublasLt.so, then /usr/local/cuda/lib64), with
 * rt_cuda_dlopen, the helper cublas.c uses.  Each context makes one
 * handle; every call goes on the context's stream.
 *
 * The mapping is cublas.c's (rt_cublas_args): our row-major C = op(A)
 * op(B) is the column-major D = C^T = op(B)^T op(A)^T, n x m.  cuBLASLt's
 * bias (CUBLASLT_EPILOGUE_BIAS) has "length ... matrix D rows" and "is
 * broadcasted to all columns" (cublasLt.h): bias[i] is added to row i of
 * D, which is column i of C, so our per-column bias f32[n] is cuBLASLt's
 * bias as it is.  RELU is max(x, 0) after the bias; GELU is the tanh
 * approximation, the only one cuBLASLt has, so the compiler folds only
 * that form (the language's gelu, the exact erf form, never folds).
 *
 * Plans: the descriptors (matmul, the three layouts) and the algorithm the
 * heuristic picked are kept per shape (m, n, k, transposes, epilogue, and
 * the operands' alignments, which the heuristic is told: a borrowed
 * argument may be less aligned than our 256-byte blocks), RT_LT_PLANS a
 * context, the oldest replaced; only the bias pointer is set on each call.  The workspace is a device block of the context,
 * grown to the largest an algorithm asked for (at most RT_LT_WORKSPACE).
 *
 * Precision: CUBLAS_COMPUTE_32F keeps f32 inputs; --allow-tf32
 * (TC_GPU_ALLOW_TF32) asks for CUBLAS_COMPUTE_32F_FAST_TF32, the same rule
 * as cublas.c's math mode.
 */
#include "rt_cuda.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cublasLt.h, cublas_api.h and library_types.h's values */
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77, CUDA_R_32F = 0 };
enum { CUBLASLT_MATMUL_DESC_TRANSA = 3, CUBLASLT_MATMUL_DESC_TRANSB = 4, CUBLASLT_MATMUL_DESC_EPILOGUE = 7,
       CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8 };
enum { CUBLASLT_EPILOGUE_DEFAULT = 1, CUBLASLT_EPILOGUE_RELU = 2, CUBLASLT_EPILOGUE_BIAS = 4,
       CUBLASLT_EPILOGUE_GELU = 32 };
enum { CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5 }; /* B, C, D: 6, 7, 8 */

typedef struct { uint64_t data[8]; } LtAlgo; /* cublasLtMatmulAlgo_t */
typedef struct LtHeuristic {                 /* cublasLtMatmulHeuristicResult_t */
  LtAlgo algo;
  size_t workspace_size;
  int state;
  float waves;
  int reserved[4];
} LtHeuristic;

typedef struct LtApi {
  int (*Create)(void **handle);
  int (*Destroy)(void *handle);
  int (*DescCreate)(void **desc, int compute, int scale);
  int (*DescDestroy)(void *desc);
  int (*DescSet)(void *desc, int attr, const void *buf, size_t size);
  int (*LayoutCreate)(void **layout, int type, uint64_t rows, uint64_t cols, int64_t ld);
  int (*LayoutDestroy)(void *layout);
  int (*PrefCreate)(void **pref);
  int (*PrefDestroy)(void *pref);
  int (*PrefSet)(void *pref, int attr, const void *buf, size_t size);
  int (*Heuristic)(void *handle, void *desc, void *a, void *b, void *c, void *d, void *pref, int requested,
                   LtHeuristic *results, int *returned);
  int (*Matmul)(void *handle, void *desc, const void *alpha, const void *a, void *adesc, const void *b, void *bdesc,
                const void *beta, const void *c, void *cdesc, void *d, void *ddesc, const LtAlgo *algo,
                void *workspace, size_t workspace_bytes, CUstream stream);
} LtApi;

#define LT_SYM(field, name) {offsetof(LtApi, field), name}
static const rt_cuda_sym lt_syms[] = {
    LT_SYM(Create, "cublasLtCreate"),
    LT_SYM(Destroy, "cublasLtDestroy"),
    LT_SYM(DescCreate, "cublasLtMatmulDescCreate"),
    LT_SYM(DescDestroy, "cublasLtMatmulDescDestroy"),
    LT_SYM(DescSet, "cublasLtMatmulDescSetAttribute"),
    LT_SYM(LayoutCreate, "cublasLtMatrixLayoutCreate"),
    LT_SYM(LayoutDestroy, "cublasLtMatrixLayoutDestroy"),
    LT_SYM(PrefCreate, "cublasLtMatmulPreferenceCreate"),
    LT_SYM(PrefDestroy, "cublasLtMatmulPreferenceDestroy"),
    LT_SYM(PrefSet, "cublasLtMatmulPreferenceSetAttribute"),
    LT_SYM(Heuristic, "cublasLtMatmulAlgoGetHeuristic"),
    LT_SYM(Matmul, "cublasLtMatmul"),
};

enum { RT_LT_PLANS = 16 };
#define RT_LT_WORKSPACE ((int64_t)32 << 20) /* what the heuristic may ask for (PyTorch's default on Hopper) */

/* One shape's descriptors and algorithm. */
typedef struct rt_lt_plan {
  bool used;
  int64_t m, n, k; /* ours (row-major) */
  bool trans_a, trans_b, tf32;
  int epilogue;    /* TC_EPI_* */
  uint32_t align[4]; /* of a, b, c (= d) and the bias, as the heuristic was told (align_of) */
  void *desc, *la, *lb, *lc;
  LtAlgo algo;
  size_t workspace_size;
} rt_lt_plan;

static LtApi lt;
static char lt_load_error[256]; /* why libcublasLt cannot be used ("" once loaded) */
static pthread_once_t lt_once = PTHREAD_ONCE_INIT;

static void load_cublaslt(void) {
  static const char *const names[] = {
      "libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so",
      "/usr/local/cuda/lib64/libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.12",
      "/usr/local/cuda/lib64/libcublasLt.so.11"};
  rt_cuda_load_api("libcublasLt", "TENSORC_LIBCUBLASLT", names, (int)(sizeof names / sizeof *names), lt_syms,
                   sizeof lt_syms / sizeof *lt_syms, &lt, sizeof lt, lt_load_error, sizeof lt_load_error);
}

int rt_cublaslt_epilogue(int epilogue) {
  int e = epilogue & TC_EPI_BIAS ? CUBLASLT_EPILOGUE_BIAS : 0;
  if (epilogue & TC_EPI_RELU)
    e |= CUBLASLT_EPILOGUE_RELU;
  if (epilogue & TC_EPI_GELU_TANH)
    e |= CUBLASLT_EPILOGUE_GELU;
  return e ? e : CUBLASLT_EPILOGUE_DEFAULT;
}

/* The context's handle, made on first use; on failure every epilogue of
 * the context takes the fallback from then on. */
static void make_handle(rt_cuda *cu) {
  pthread_once(&lt_once, load_cublaslt);
  cu->lt_state = -1;
  if (lt_load_error[0]) {
    snprintf(cu->lt_why, sizeof cu->lt_why, "%s", lt_load_error);
    return;
  }
  void *h = NULL;
  int st = rt_cuda_make_current(cu) ? -1 : lt.Create(&h);
  if (st) {
    snprintf(cu->lt_why, sizeof cu->lt_why, "cublasLtCreate: status %d", st);
    return;
  }
  cu->lt_plans = calloc(RT_LT_PLANS, sizeof *cu->lt_plans);
  if (!cu->lt_plans) {
    lt.Destroy(h);
    snprintf(cu->lt_why, sizeof cu->lt_why, "out of memory");
    return;
  }
  cu->lt_handle = h;
  cu->lt_state = 1;
}

static void drop_plan(rt_lt_plan *p) {
  if (p->desc)
    lt.DescDestroy(p->desc);
  void *layouts[3] = {p->la, p->lb, p->lc};
  for (int i = 0; i < 3; i++)
    if (layouts[i])
      lt.LayoutDestroy(layouts[i]);
  memset(p, 0, sizeof *p);
}

void rt_cublaslt_close(rt_cuda *cu) {
  for (int i = 0; cu->lt_plans && i < RT_LT_PLANS; i++)
    if (cu->lt_plans[i].used)
      drop_plan(&cu->lt_plans[i]);
  free(cu->lt_plans);
  cu->lt_plans = NULL;
  if (cu->lt_handle)
    lt.Destroy(cu->lt_handle);
  cu->lt_handle = NULL;
  cu->lt_workspace = NULL; /* a block of the context: freed with its blocks */
}

/* A pointer's alignment in bytes, at most 256: what cuBLASLt's heuristic
 * assumes of every operand unless told less (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*).
 * Our blocks are cuMemAlloc's, 256-aligned, but an argument's device twin
 * may be the caller's own tensor, aligned only to its element. */
static uint32_t align_of(const void *p) {
  uintptr_t v = (uintptr_t)p | 256;
  return (uint32_t)(v & -v);
}

static void alignments(const rt_matmul *mm, int epilogue, const void *bias, uint32_t *align) {
  align[0] = align_of(mm->a), align[1] = align_of(mm->b), align[2] = align_of(mm->c);
  align[3] = epilogue & TC_EPI_BIAS ? align_of(bias) : 256;
}

/* The descriptors of mm's shape and the heuristic's first algorithm into
 * p; false when cuBLASLt refuses (p is then left empty). */
static bool make_plan(rt_cuda *cu, const rt_matmul *mm, int epilogue, bool tf32, const void *bias, rt_lt_plan *p) {
  rt_gemm g = rt_cublas_args(mm);
  int ta = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, tb = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  int32_t epi = rt_cublaslt_epilogue(epilogue);
  *p = (rt_lt_plan){.used = true, .m = mm->m, .n = mm->n, .k = mm->k, .trans_a = mm->trans_a,
                    .trans_b = mm->trans_b, .tf32 = tf32, .epilogue = epilogue};
  alignments(mm, epilogue, bias, p->align);
  void *pref = NULL;
  LtHeuristic h;
  int found = 0;
  /* column-major layouts as stored: A is m x k (k x m with transa), B k x n (n x k), D m x n */
  bool ok = !lt.DescCreate(&p->desc, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F) &&
            !lt.DescSet(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta) &&
            !lt.DescSet(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb) &&
            !lt.DescSet(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi) &&
            (!(epilogue & TC_EPI_BIAS) || !lt.DescSet(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias)) &&
            !lt.LayoutCreate(&p->la, CUDA_R_32F, (uint64_t)(ta ? g.k : g.m), (uint64_t)(ta ? g.m : g.k), g.lda) &&
            !lt.LayoutCreate(&p->lb, CUDA_R_32F, (uint64_t)(tb ? g.n : g.k), (uint64_t)(tb ? g.k : g.n), g.ldb) &&
            !lt.LayoutCreate(&p->lc, CUDA_R_32F, (uint64_t)g.m, (uint64_t)g.n, g.ldc);
  uint64_t max_ws = (uint64_t)RT_LT_WORKSPACE;
  ok = ok && !lt.PrefCreate(&pref) && !lt.PrefSet(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_ws, sizeof max_ws);
  for (int i = 0; i < 4; i++) /* A, B, C, D: D is C */
    ok = ok && !lt.PrefSet(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES + i, &p->align[i < 3 ? i : 2],
                           sizeof(uint32_t));
  ok = ok && !lt.Heuristic(cu->lt_handle, p->desc, p->la, p->lb, p->lc, p->lc, pref, 1, &h, &found) && found > 0 &&
       h.state == 0;
  if (pref)
    lt.PrefDestroy(pref);
  if (!ok) {
    drop_plan(p);
    return false;
  }
  p->algo = h.algo;
  p->workspace_size = h.workspace_size;
  return true;
}

/* The plan of mm's shape: cached, or made in the next slot; NULL when
 * cuBLASLt refuses the shape. */
static rt_lt_plan *plan_for(rt_cuda *cu, const rt_matmul *mm, int epilogue, bool tf32, const void *bias) {
  uint32_t align[4];
  alignments(mm, epilogue, bias, align);
  for (int i = 0; i < RT_LT_PLANS; i++) {
    rt_lt_plan *p = &cu->lt_plans[i];
    if (p->used && p->m == mm->m && p->n == mm->n && p->k == mm->k && p->trans_a == mm->trans_a &&
        p->trans_b == mm->trans_b && p->epilogue == epilogue && p->tf32 == tf32 && !memcmp(p->align, align, sizeof align))
      return p;
  }
  rt_lt_plan *p = &cu->lt_plans[cu->lt_next_plan];
  cu->lt_next_plan = (cu->lt_next_plan + 1) % RT_LT_PLANS;
  if (p->used)
    drop_plan(p);
  return make_plan(cu, mm, epilogue, tf32, bias, p) ? p : NULL;
}

int rt_cublaslt_matmul(tc_ctx *ctx, const rt_matmul *mm, int epilogue, const void *bias, bool *done) {
  rt_cuda *cu = ctx->dev_state;
  *done = false;
  if (cu->lt_state == 0)
    make_handle(cu);
  rt_gemm g = rt_cublas_args(mm);
  if (cu->lt_state < 0 || mm->dt != TC_F32 || mm->batch != 1 || mm->k <= 0 || g.lda > INT_MAX ||
      g.ldb > INT_MAX || g.ldc > INT_MAX)
    return TC_OK; /* the fallback: k = 0 is the bias alone, which it does */
  if (rt_cuda_make_current(cu))
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "cuBLASLt: cannot make the CUDA context current");
  bool tf32 = ctx->gpu && (ctx->gpu->flags & TC_GPU_ALLOW_TF32);
  rt_lt_plan *p = plan_for(cu, mm, epilogue, tf32, bias);
  if (!p)
    return TC_OK;
  if ((int64_t)p->workspace_size > cu->lt_workspace_bytes) {
    tcrt_dev_free(ctx, cu->lt_workspace);
    cu->lt_workspace = tcrt_dev_alloc_uninit(ctx, (int64_t)p->workspace_size);
    cu->lt_workspace_bytes = cu->lt_workspace ? (int64_t)p->workspace_size : 0;
    if (!cu->lt_workspace)
      return TC_ERR_NOMEM; /* the device layer said why */
  }
  if ((epilogue & TC_EPI_BIAS) && lt.DescSet(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias))
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "cuBLASLt: cannot set the bias pointer");
  const float one = 1, zero = 0;
  int st = lt.Matmul(cu->lt_handle, p->desc, &one, g.a, p->la, g.b, p->lb, &zero, g.c, p->lc, g.c, p->lc, &p->algo,
                     cu->lt_workspace, p->workspace_size, cu->stream);
  if (st)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "cuBLASLt: f32 matmul with epilogue %d of %lld x %lld by %lld x %lld: status %d",
                     epilogue, (long long)mm->m, (long long)mm->k, (long long)mm->k, (long long)mm->n, st);
  *done = true;
  return TC_OK;
}

/* ---- the entry: cuBLASLt, or the product and the prelude's kernel ---- */

int tcrt_dev_matmul_epilogue(tc_ctx *ctx, tc_dtype dt, int trans, int epilogue, const void *a, const void *b,
                             const void *bias, void *c, int64_t m, int64_t n, int64_t k) {
  if (dt != TC_F32 || (epilogue & ~(TC_EPI_BIAS | TC_EPI_RELU | TC_EPI_GELU_TANH)) ||
      ((epilogue & TC_EPI_RELU) && (epilogue & TC_EPI_GELU_TANH)) || (trans & ~(TC_MM_TRANS_A | TC_MM_TRANS_B)))
    return tcrt_fail(ctx, TC_ERR_RUNTIME,
                     "matmul epilogue: dtype %d, epilogue %d, transpose flags %d; expected f32, TC_EPI_BIAS with at most "
                     "one of TC_EPI_RELU and TC_EPI_GELU_TANH, and TC_MM_TRANS_* flags",
                     (int)dt, epilogue, trans);
  if (m <= 0 || n <= 0)
    return TC_OK;
  if (!ctx->dev)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "GPU code ran without a device");
  rt_matmul mm = {dt, (trans & TC_MM_TRANS_A) != 0, (trans & TC_MM_TRANS_B) != 0, a, b, c, 1, m, n, k, 0, 0, m * n};
  bool done = false;
  int st = ctx->dev->matmul_epilogue ? ctx->dev->matmul_epilogue(ctx, &mm, epilogue, bias, &done) : TC_OK;
  if (st || done)
    return st;
  st = tcrt_dev_matmul(ctx, dt, trans, a, b, c, 1, m, n, k, 0, 0, m * n);
  if (st)
    return st;
  long long mm_rows = m, cols = n, flags = epilogue;
  const void *bias_arg = epilogue & TC_EPI_BIAS ? bias : c; /* a device pointer, unread without TC_EPI_BIAS */
  void *params[5] = {&c, (void *)&bias_arg, &mm_rows, &cols, &flags};
  int64_t grid = (m * n + 255) / 256;
  return tcrt_dev_launch(ctx, TC_KEPILOGUE_F32, grid > 65535 ? 65535 : grid, 256, params);
}
