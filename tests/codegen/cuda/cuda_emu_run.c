/* tests/codegen/cuda/cuda_emu_run.c - tensorc programs' generated CUDA C,
 * run in the GPU emulator (runtime/emu/) against what the CPU computes.
 *
 * The host side of a CUDA module (launches from the LLVM host code) is not
 * this emitter's; to run its kernels anyway, this program interprets the
 * kernel IR's host statements itself - allocations, copies, symbols,
 * checks, loops, runtime calls - and launches every device statement from
 * the module's CUDA C, compiled by the host C compiler in emulator mode,
 * exactly as its CgDeviceKernel (codegen/cg_cuda.h) says: the kernel
 * table's names, the parameters in order, the grid from `work`, `block`
 * and `max_grid`, the scratch.  So the e2e harness (tests/e2e/oracle.py)
 * can check whole programs on the emulated GPU against NumPy, as it does
 * for the CPU's executables (tensorc-emu in Inputs/ stands in for tensorc).
 *
 *   cuda_emu_run build PROG.tc OUT.so
 *       the module's CUDA C (cg_cuda_module) to OUT.cu, compiled to the
 *       shared object OUT.so with `cc -std=c11 -Wall -Wextra -Werror
 *       -ffp-contract=off -DTC_EMULATE -include tc_emu.h` (the sanitizers
 *       too in a sanitize build): the text must build without a warning
 *   cuda_emu_run exe PROG.tc MOD.so [NAME=VALUE ... --seed N]
 *       runs PROG's main as its executable would (tcrt_exe_main: the same
 *       arguments, seed, printed results, messages and exit codes), every
 *       kernel from MOD.so; a random draw into device memory runs the
 *       prelude's kernel and must equal runtime/rng.c's draw bit for bit.
 *       CUDA_EMU_TRACE=1 prints each launch on stderr
 *   cuda_emu_run rand MOD.so
 *       the prelude's random kernels against tcrt_rand, tcrt_randn and
 *       tcrt_randint, bit for bit: seeds, counts, first blocks, ranges and
 *       launch shapes; "rand: N of N draws match" at the end
 *
 * Matmuls run on the host (tcrt_matmul on copies): cuBLAS is the lead's,
 * not the emitter's.  Errors in this harness itself print "cuda_emu_run:"
 * and exit 3.
 */
#include "codegen/cg_cuda.h"
#include "codegen/codegen.h"
#include "codegen/iface.h"
#include "driver/driver.h"
#include "frontend/frontend.h"
#include "ir/kernel.h"
#include "passes/passes.h"

#include "emu.h"
#include "rt_internal.h"
#include "tc_emu.h"
#include "tensorc/runtime.h"

#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TC_SOURCE_DIR
#error "TC_SOURCE_DIR must name the source tree"
#endif
#ifndef TC_CC
#define TC_CC "cc"
#endif
#ifndef TC_EMU_SANFLAGS /* the sanitizers of a sanitize build, for the module too */
#define TC_EMU_SANFLAGS ""
#endif

static _Noreturn void fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cuda_emu_run: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(3);
}

/* ===== the module ===== */

static KModule *compile(const char *path) {
  fe_add_import_dir(TC_SOURCE_DIR "/lib");
  size_t len;
  const char *why;
  char *text = fe_read_file(path, &len, &why);
  if (!text)
    fatal("cannot read %s: %s", path, why);
  AstNode *ast = fe_parse(path, text, len);
  if (!ast)
    exit(1);
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  IrModule *m = NULL;
  KModule *km = NULL;
  for (int i = 0; i < pass_pipeline_len; i++) {
    const PassInfo *p = &pass_pipeline[i];
    bool ok = true;
    if (p->level == PASS_GRAPH && !p->run) {
      m = fe_resolve(ast, ir_strndup(base, strcspn(base, ".")));
      ok = m && dr_embed_files(m);
    } else if (p->level == PASS_GRAPH) {
      ok = p->run(m);
    } else if (p->level == PASS_LOWER) {
      km = pass_lower(m, ir_target_cuda("sm_80", true));
      ok = km != NULL;
    } else if (p->level == PASS_KERNEL) {
      ok = p->krun(km);
    }
    if (!ok)
      exit(1);
  }
  return km;
}

static int build(const char *prog, const char *so) {
  CgCudaModule *cm = cg_cuda_module(compile(prog));
  char *cu = ir_sprintf("%s.cu", so);
  FILE *f = fopen(cu, "w");
  if (!f || fputs(cm->source, f) < 0 || fclose(f) != 0)
    fatal("cannot write %s", cu);
  char *cmd = ir_sprintf("%s -std=c11 -Wall -Wextra -Wno-unused-parameter -Werror -ffp-contract=off -O1 -g -fPIC "
                         "-shared %s -DTC_EMULATE -include %s/runtime/emu/tc_emu.h -x c '%s' -o '%s'",
                         TC_CC, TC_EMU_SANFLAGS, TC_SOURCE_DIR, cu, so);
  int st = system(cmd);
  if (st != 0)
    fatal("the module's CUDA C does not build for the emulator:\n  %s", cmd);
  return 0;
}

/* The kernel table of MOD.so; the module's names must be it, in order. */
static const tcemu_kernel *load_table(const char *so, const CgCudaModule *cm) {
  void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    fatal("dlopen %s: %s", so, dlerror());
  const tcemu_kernel *t = dlsym(h, "tc_emu_kernels");
  if (!t)
    fatal("%s has no tc_emu_kernels", so);
  int n = 0;
  while (t[n].name)
    n++;
  if (cm && n != cm->nnames)
    fatal("%s's table has %d kernels, the module %d", so, n, cm->nnames);
  for (int i = 0; cm && i < n; i++)
    if (strcmp(t[i].name, cm->names[i]) != 0)
      fatal("kernel table entry %d is %s, the module says %s", i, t[i].name, cm->names[i]);
  for (int k = 0; k < CG_NUM_PRELUDE_KERNELS; k++)
    if (k >= n || strcmp(t[k].name, cg_cuda_prelude_kernel((CgPreludeKernel)k)) != 0)
      fatal("kernel table entry %d is not the prelude's %s", k, cg_cuda_prelude_kernel((CgPreludeKernel)k));
  return t;
}

static char err[1024];

static void *dev_alloc(int64_t bytes) {
  void *p = tcemu_malloc(bytes);
  if (!p)
    fatal("tcemu_malloc(%lld) failed", (long long)bytes);
  return p;
}

static void copy(int (*fn)(void *, const void *, int64_t, char *, size_t), void *dst, const void *src, int64_t n) {
  if (fn(dst, src, n, err, sizeof err) != 0)
    fatal("%s", err);
}

/* A 1-D launch, or a failed one's message. */
static int launch1(const tcemu_kernel *k, int64_t grid, int block, void **params) {
  if (getenv("CUDA_EMU_TRACE"))
    fprintf(stderr, "launch %s grid %lld block %d\n", k->name, (long long)grid, block);
  return tcemu_launch(k->name, k->fn, (unsigned)grid, 1, 1, (unsigned)block, 1, 1, params, err, sizeof err);
}

/* ===== the prelude's random kernels against runtime/rng.c ===== */

static int rand_mode(const char *so) {
  const tcemu_kernel *t = load_table(so, NULL);
  static const uint64_t seeds[] = {0, 42, 0xfedcba9876543210ull};
  static const int64_t counts[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 1000, 4099};
  static const int64_t before[] = {0, 1, 6}; /* elements drawn first: the draw starts at another block */
  static const int shapes[][2] = {{1, 32}, {3, 64}, {0, 256}}; /* grid 0: as the host sizes it */
  static const int64_t ranges[][2] = {{0, 10}, {-5, 5}, {0, 1}, {-3, 1000000007}, {INT64_MIN, INT64_MAX}};
  int draws = 0, same = 0;
  for (int k = 0; k < CG_NUM_PRELUDE_KERNELS; k++)
    for (size_t si = 0; si < sizeof seeds / sizeof *seeds; si++)
      for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++)
        for (size_t bi = 0; bi < sizeof before / sizeof *before; bi++)
          for (size_t gi = 0; gi < sizeof shapes / sizeof *shapes; gi++) {
            int64_t n = counts[ci];
            const int64_t *range = ranges[(ci + gi) % (sizeof ranges / sizeof *ranges)];
            tc_dtype dt = k == CG_K_RAND_F32 || k == CG_K_RANDN_F32 ? TC_F32 : k == CG_K_RANDINT_I64 ? TC_I64 : TC_F64;
            size_t es = tcrt_dtype_size(dt);
            tc_ctx *ctx = tcrt_ctx_new(0);
            tcrt_seed(ctx, seeds[si]);
            double skip[8];
            if (before[bi] && tcrt_rand(ctx, TC_F64, skip, before[bi]) != TC_OK)
              fatal("tcrt_rand: %s", tcrt_error(ctx));
            unsigned long long seed = ctx->seed, base = ctx->counter;
            void *want = calloc((size_t)n + 1, es), *got = calloc((size_t)n + 1, es);
            int st = k == CG_K_RAND_F32 || k == CG_K_RAND_F64 ? tcrt_rand(ctx, dt, want, n)
                     : k == CG_K_RANDINT_I64                  ? tcrt_randint(ctx, range[0], range[1], want, n)
                                                              : tcrt_randn(ctx, dt, want, n);
            if (st != TC_OK)
              fatal("the runtime's draw: %s", tcrt_error(ctx));
            void *d = dev_alloc(n * (int64_t)es);
            long long nn = n, lo = range[0], hi = range[1];
            void *params[6] = {&d, &nn, &seed, &base, &lo, &hi};
            int block = shapes[gi][1];
            int64_t grid = shapes[gi][0] ? shapes[gi][0] : n / block + (n % block != 0);
            if (grid < 1)
              grid = 1;
            if (launch1(&t[k], grid, block, params) != 0)
              fatal("%s", err);
            copy(tcemu_memcpy_dtoh, got, d, n * (int64_t)es);
            draws++;
            if (memcmp(want, got, (size_t)n * es) == 0)
              same++;
            else
              printf("MISMATCH %s: seed %llu, n %lld, base %llu, grid %lld x %d\n", t[k].name,
                     (unsigned long long)seed, (long long)n, base, (long long)grid, block);
            tcemu_free(d);
            free(want);
            free(got);
            tcrt_ctx_free(ctx);
          }
  printf("rand: %d of %d draws match runtime/rng.c\n", same, draws);
  return same == draws ? 0 : 1;
}

/* ===== the host side, interpreted ===== */

typedef struct Buf {
  void *p;
  bool dev; /* where p points */
} Buf;

/* A value of any dtype: floats in f (rounded to float for f32), the rest in i. */
typedef struct Val {
  double f;
  int64_t i;
} Val;

typedef struct Frame {
  KFunc *f;
  Buf *b;          /* by buffer number */
  int64_t *var;    /* by loop variable */
  Val *let;        /* by let-variable */
  const tc_array *args;
} Frame;

static struct {
  KModule *km;
  CgCudaModule *cm;
  const tcemu_kernel *table;
  tc_ctx *ctx;
  int64_t *sym;   /* by symbol id: one program, one set */
  void **param;   /* device buffers of the params, by param number */
  void *scratch;  /* the two-stage reductions' */
  int64_t scratch_bytes;
  bool inited;
} R;

static int64_t dim_value(Dim d) {
  int64_t v = 0;
  for (int i = 0; i < d.n; i++) {
    int64_t t = d.t[i].coef;
    for (int j = 0; j < d.t[i].deg; j++)
      t *= R.sym[d.t[i].sym[j]];
    v += t;
  }
  return v;
}

static int64_t numel(const KBuf *kb) {
  int64_t n = 1;
  for (int i = 0; i < kb->rank; i++)
    n *= dim_value(kb->dims[i]);
  return n;
}

static Val conv(Val v, DType from, DType to) {
  bool ff = ir_dtype_is_float(from), tf = ir_dtype_is_float(to);
  Val r = {0, 0};
  if (to == DT_BOOL)
    r.i = ff ? v.f != 0 || isnan(v.f) : v.i != 0;
  else if (tf)
    r.f = to == DT_F32 ? (double)(ff ? (float)v.f : (float)v.i) : ff ? v.f : (double)v.i;
  else
    r.i = ff ? (int64_t)v.f : v.i;
  if (to == DT_I32)
    r.i = (int32_t)r.i;
  return r;
}

static Val eval(Frame *F, KExpr *e);

static int64_t eval_i64(Frame *F, KExpr *e) { return conv(eval(F, e), e->dtype, DT_I64).i; }

static int64_t offset(Frame *F, const KBuf *kb, KExpr **idx, int n, bool linear) {
  if (linear)
    return eval_i64(F, idx[0]);
  int64_t off = 0;
  for (int i = 0; i < n; i++)
    off = off * dim_value(kb->dims[i]) + eval_i64(F, idx[i]);
  return off;
}

static Val load(DType dt, const void *p, int64_t i) {
  Val v = {0, 0};
  switch (dt) {
  case DT_BOOL: v.i = ((const unsigned char *)p)[i] != 0; break;
  case DT_I32: v.i = ((const int32_t *)p)[i]; break;
  case DT_I64: v.i = ((const int64_t *)p)[i]; break;
  case DT_F32: v.f = ((const float *)p)[i]; break;
  case DT_F64: v.f = ((const double *)p)[i]; break;
  default: fatal("a load of dtype %d", (int)dt);
  }
  return v;
}

/* The primitive ops (ir/kernel.h), for the host's scalar expressions. */
static Val op(IrOp op, DType dt, DType rdt, const Val *a) {
  Val r = {0, 0};
  bool fl = ir_dtype_is_float(dt);
  double x = a[0].f, y = a[1].f;
  int64_t p = a[0].i, q = a[1].i;
  uint64_t up = (uint64_t)p, uq = (uint64_t)q;
  switch (op) {
  case IR_ADD: fl ? (r.f = x + y) : (r.i = (int64_t)(up + uq)); break;
  case IR_SUB: fl ? (r.f = x - y) : (r.i = (int64_t)(up - uq)); break;
  case IR_MUL: fl ? (r.f = x * y) : (r.i = (int64_t)(up * uq)); break;
  case IR_DIV: r.f = x / y; break;
  case IR_TDIV: r.i = p / q; break;
  case IR_TREM: r.i = p % q; break;
  case IR_FMOD: r.f = fmod(x, y); break;
  case IR_COPYSIGN: r.f = copysign(x, y); break;
  case IR_FMIN: r.f = fmin(x, y); break;
  case IR_FMAX: r.f = fmax(x, y); break;
  case IR_POW:
    if (fl) {
      r.f = dt == DT_F32 ? (double)powf((float)x, (float)y) : pow(x, y);
    } else {
      uint64_t acc = 1, b = up;
      for (int64_t e = q < 0 ? 0 : q; e; e >>= 1, b *= b)
        if (e & 1)
          acc *= b;
      r.i = q < 0 ? 0 : (int64_t)acc;
    }
    break;
  case IR_NEG: fl ? (r.f = -x) : (r.i = (int64_t)(0 - up)); break;
  case IR_ABS: r.f = fabs(x); break;
  case IR_LT: r.i = fl ? x < y : p < q; break;
  case IR_LE: r.i = fl ? x <= y : p <= q; break;
  case IR_GT: r.i = fl ? x > y : p > q; break;
  case IR_GE: r.i = fl ? x >= y : p >= q; break;
  case IR_EQ: r.i = fl ? x == y : p == q; break;
  case IR_NE: r.i = fl ? x != y : p != q; break;
  case IR_AND: r.i = p && q; break;
  case IR_OR: r.i = p || q; break;
  case IR_NOT: r.i = !p; break;
  case IR_WHERE: return p ? a[1] : a[2];
  case IR_ISNAN: r.i = isnan(x); break;
  case IR_FLOOR: r.f = floor(x); break;
  case IR_CEIL: r.f = ceil(x); break;
  case IR_ROUND: r.f = rint(x); break;
  case IR_EXP: r.f = dt == DT_F32 ? expf((float)x) : exp(x); break;
  case IR_LOG: r.f = dt == DT_F32 ? logf((float)x) : log(x); break;
  case IR_SQRT: r.f = sqrt(x); break;
  case IR_SIN: r.f = dt == DT_F32 ? sinf((float)x) : sin(x); break;
  case IR_COS: r.f = dt == DT_F32 ? cosf((float)x) : cos(x); break;
  case IR_LOG1P: r.f = log1p(x); break;
  case IR_EXPM1: r.f = expm1(x); break;
  case IR_TAN: r.f = tan(x); break;
  case IR_TANH: r.f = tanh(x); break;
  case IR_ERF: r.f = erf(x); break;
  default: fatal("a host expression with %s", ir_op_name(op));
  }
  if (rdt == DT_F32)
    r.f = (float)r.f;
  if (rdt == DT_I32)
    r.i = (int32_t)r.i;
  return r;
}

static Val eval(Frame *F, KExpr *e) {
  Val v = {0, 0};
  switch (e->kind) {
  case KX_CONST:
    if (ir_dtype_is_float(e->dtype))
      v.f = e->dtype == DT_F32 ? (float)e->fval : e->fval;
    else
      v.i = e->dtype == DT_BOOL ? e->ival != 0 || e->fval != 0 : e->ival;
    return v;
  case KX_VAR: v.i = F->var[e->var]; return conv(v, DT_I64, e->dtype);
  case KX_SYM: v.i = R.sym[e->sym]; return conv(v, DT_I64, e->dtype);
  case KX_DIM: v.i = dim_value(e->dim); return conv(v, DT_I64, e->dtype);
  case KX_ARG_DIM: v.i = F->args[e->buf].shape[e->ival]; return conv(v, DT_I64, e->dtype);
  case KX_LOAD: {
    const KBuf *kb = k_buf(F->f, e->buf);
    if (F->b[e->buf].dev)
      fatal("a host expression loads %s, which is device memory (placement?)", kb->name);
    return conv(load(kb->dtype, F->b[e->buf].p, offset(F, kb, e->args, e->nargs, e->linear)), kb->dtype, e->dtype);
  }
  case KX_OP: {
    Val a[3] = {{0, 0}, {0, 0}, {0, 0}};
    for (int i = 0; i < e->nargs && i < 3; i++)
      a[i] = eval(F, e->args[i]);
    DType dt = e->op == IR_WHERE ? e->dtype : e->args[0]->dtype;
    return op(e->op, dt, e->dtype, a);
  }
  case KX_CAST: return conv(eval(F, e->args[0]), e->args[0]->dtype, e->dtype);
  case KX_LET:
    F->let[e->var] = eval(F, e->args[0]);
    return eval(F, e->args[1]);
  case KX_LETVAR: return F->let[e->var];
  default: fatal("a host expression of kind %d", (int)e->kind);
  }
}

static tc_array as_array(Frame *F, int buf) {
  const KBuf *kb = k_buf(F->f, buf);
  tc_array a = {.data = F->b[buf].p, .dtype = (tc_dtype)kb->dtype, .rank = kb->rank};
  for (int i = 0; i < kb->rank; i++)
    a.shape[i] = dim_value(kb->dims[i]);
  return a;
}

static int64_t bytes_of(Frame *F, int buf) {
  const KBuf *kb = k_buf(F->f, buf);
  return numel(kb) * ir_dtype_size(kb->dtype);
}

/* ---- device statements: launched as their CgDeviceKernel says ---- */

static int launch(Frame *F, KStmt *s) {
  const CgDeviceKernel *dk = cg_cuda_kernel_of(R.cm, s);
  enum { MAXP = 128 };
  if (dk->nparams > MAXP)
    fatal("%d parameters", dk->nparams);
  void *ptr[MAXP], *params[MAXP];
  long long val[MAXP];
  if (dk->scratch_bytes > R.scratch_bytes) {
    tcemu_free(R.scratch);
    R.scratch = dev_alloc(R.scratch_bytes = dk->scratch_bytes);
  }
  for (int i = 0; i < dk->nparams; i++) {
    const CgParam *p = &dk->params[i];
    switch (p->kind) {
    case CP_BUF:
      if (!F->b[p->index].dev)
        fatal("kernel %s: parameter %d (%s) is not device memory", dk->launch[0].name, i,
              k_buf(F->f, p->index)->name);
      ptr[i] = F->b[p->index].p;
      params[i] = &ptr[i];
      break;
    case CP_SYM: val[i] = R.sym[p->index]; params[i] = &val[i]; break;
    case CP_VAR: val[i] = F->var[p->index]; params[i] = &val[i]; break;
    case CP_SCRATCH: ptr[i] = R.scratch; params[i] = &ptr[i]; break;
    }
  }
  for (int j = 0; j < dk->nlaunch; j++) {
    const CgLaunch *L = &dk->launch[j];
    int64_t work = 1, grid = 1;
    for (int k = 0; k < L->nfactor; k++)
      work *= dim_value(L->factor[k]);
    if (!L->work.overflow && dim_value(L->work) != work)
      fatal("kernel %s: work %lld is not the product of its factors %lld", L->name, (long long)dim_value(L->work),
            (long long)work);
    if (L->grid == CG_GRID_POINTS)
      grid = work / L->block + (work % L->block != 0);
    else if (L->grid == CG_GRID_ROWS)
      grid = work;
    if (L->grid != CG_GRID_ONE)
      grid = grid < 1 ? 1 : grid > L->max_grid ? L->max_grid : grid;
    const tcemu_kernel *k = &R.table[dk->index + j];
    if (strcmp(k->name, L->name) != 0)
      fatal("kernel table entry %d is %s, the launch names %s", dk->index + j, k->name, L->name);
    if (launch1(k, grid, L->block, params) != 0)
      return tcrt_fail(R.ctx, TC_ERR_RUNTIME, "%s", err);
  }
  return TC_OK;
}

/* ---- host statements ---- */

static int run_func(KFunc *f, const tc_array *args, tc_array *results);
static int exec_list(Frame *F, KList *l);

/* A draw into device memory: the prelude's kernel from the context's
 * seed and counter, which must give runtime/rng.c's numbers (drawn on the
 * host too, which advances the counter as the host code will). */
static int rand_call(Frame *F, KStmt *s) {
  int buf = s->bufs[0];
  const KBuf *kb = k_buf(F->f, buf);
  int64_t n = numel(kb), bytes = n * ir_dtype_size(kb->dtype);
  void *host = F->b[buf].dev ? tcrt_alloc(NULL, bytes) : F->b[buf].p;
  unsigned long long seed = R.ctx->seed, base = R.ctx->counter;
  long long nn = n, lo = 0, hi = 0;
  int st, k = -1;
  switch (s->op) {
  case IR_RAND:
    st = tcrt_rand(R.ctx, (tc_dtype)kb->dtype, host, n);
    k = kb->dtype == DT_F32 ? CG_K_RAND_F32 : CG_K_RAND_F64;
    break;
  case IR_RANDN:
    st = tcrt_randn(R.ctx, (tc_dtype)kb->dtype, host, n);
    k = kb->dtype == DT_F32 ? CG_K_RANDN_F32 : CG_K_RANDN_F64;
    break;
  case IR_RANDINT:
    lo = eval_i64(F, s->exprs[0]);
    hi = eval_i64(F, s->exprs[1]);
    st = tcrt_randint(R.ctx, lo, hi, host, n);
    k = CG_K_RANDINT_I64;
    break;
  case IR_RANDPERM: st = tcrt_randperm(R.ctx, host, n); break; /* stays on the host */
  default: fatal("a random draw by %s", ir_op_name(s->op));
  }
  if (st == TC_OK && F->b[buf].dev) {
    if (k < 0) {
      copy(tcemu_memcpy_htod, F->b[buf].p, host, bytes);
    } else {
      void *params[6] = {&F->b[buf].p, &nn, &seed, &base, &lo, &hi};
      int64_t grid = n / 256 + (n % 256 != 0);
      if (launch1(&R.table[k], grid < 1 ? 1 : grid > 65535 ? 65535 : grid, 256, params) != 0)
        fatal("%s", err);
      void *got = tcrt_alloc(NULL, bytes);
      copy(tcemu_memcpy_dtoh, got, F->b[buf].p, bytes);
      if (memcmp(got, host, (size_t)bytes) != 0)
        fatal("MISMATCH: %s of %lld elements on the device differs from runtime/rng.c's", R.table[k].name, nn);
      tcrt_free(got);
    }
  }
  if (F->b[buf].dev)
    tcrt_free(host);
  return st;
}

/* A matmul on the host, on copies of device buffers (the emitter makes no
 * matmul kernel: the host code calls cuBLAS). */
static int matmul_call(Frame *F, KStmt *s) {
  int64_t e[9] = {0};
  for (int i = 0; i < s->nexprs && i < 9; i++)
    e[i] = eval_i64(F, s->exprs[i]);
  void *h[3];
  for (int i = 0; i < 3; i++) {
    h[i] = F->b[s->bufs[i]].p;
    if (F->b[s->bufs[i]].dev) {
      h[i] = tcrt_alloc(NULL, bytes_of(F, s->bufs[i]));
      copy(tcemu_memcpy_dtoh, h[i], F->b[s->bufs[i]].p, bytes_of(F, s->bufs[i]));
    }
  }
  DType dt = k_buf(F->f, s->bufs[2])->dtype;
  int64_t es = ir_dtype_size(dt);
  int st = tcrt_matmul(R.ctx, (tc_dtype)dt, (char *)h[0] + e[7] * es, h[1], (char *)h[2] + e[8] * es, e[0], e[1],
                       e[2], e[3], e[4], e[5], e[6]);
  for (int i = 0; i < 3; i++)
    if (F->b[s->bufs[i]].dev) {
      if (i == 2)
        copy(tcemu_memcpy_htod, F->b[s->bufs[i]].p, h[i], bytes_of(F, s->bufs[i]));
      tcrt_free(h[i]);
    }
  return st;
}

static int call(Frame *F, KStmt *s) {
  switch (s->call) {
  case KC_MATMUL: return matmul_call(F, s);
  case KC_RAND: return rand_call(F, s);
  case KC_SEED: tcrt_seed(R.ctx, (uint64_t)eval_i64(F, s->exprs[0])); return TC_OK;
  case KC_PRINT: {
    int next = 0;
    for (int i = 0; i < s->nstrs; i++) {
      if (s->strs[i]) {
        tcrt_print_str(s->strs[i], i > 0);
      } else {
        tc_array a = as_array(F, s->bufs[next++]);
        tcrt_print_array(&a, i > 0);
      }
    }
    tcrt_print_end();
    return TC_OK;
  }
  case KC_SAVE: {
    tc_array a = as_array(F, s->bufs[0]);
    return tcrt_save(s->str, &a, err, sizeof err) ? tcrt_fail(R.ctx, TC_ERR_RUNTIME, "%s", err) : TC_OK;
  }
  case KC_PARAM_STORE: R.param[s->index] = F->b[s->bufs[0]].p; return TC_OK;
  }
  fatal("runtime call %d", (int)s->call);
}

static void buf_free(Buf *b) {
  if (b->dev)
    tcemu_free(b->p);
  else
    tcrt_free(b->p);
  b->p = NULL;
}

static int exec_stmt(Frame *F, KStmt *s) {
  if (s->device)
    return launch(F, s);
  switch (s->kind) {
  case KS_ALLOC: {
    const KBuf *kb = k_buf(F->f, s->buf);
    int64_t bytes = bytes_of(F, s->buf);
    Buf *b = &F->b[s->buf];
    b->dev = kb->space == KM_DEVICE;
    if (b->dev) {
      b->p = dev_alloc(bytes);
      /* uninit memory holds NaNs and -1s: a kernel that reads it shows */
      if (tcemu_memset_d8(b->p, s->uninit ? 0xff : 0, bytes, err, sizeof err) != 0)
        fatal("%s", err);
    } else {
      b->p = s->uninit ? tcrt_alloc_uninit(R.ctx, bytes) : tcrt_alloc(R.ctx, bytes);
      if (!b->p)
        return TC_ERR_NOMEM;
    }
    return TC_OK;
  }
  case KS_FREE:
    for (int i = 0; i < s->nkeep; i++)
      if (F->b[s->keep[i]].p == F->b[s->buf].p)
        return TC_OK;
    buf_free(&F->b[s->buf]);
    return TC_OK;
  case KS_MOVE: F->b[s->buf] = F->b[s->src]; return TC_OK;
  case KS_SETSYM: R.sym[s->buf] = eval_i64(F, s->cond); return TC_OK;
  case KS_CHECK:
    if (!conv(eval(F, s->cond), s->cond->dtype, DT_BOOL).i)
      return tcrt_fail(R.ctx, TC_ERR_RUNTIME, "%s", s->message ? s->message : "check failed");
    return TC_OK;
  case KS_CALL: return call(F, s);
  case KS_FOR: {
    int64_t v = eval_i64(F, s->cond), stop = eval_i64(F, s->stop), step = eval_i64(F, s->step);
    for (; step > 0 ? v < stop : v > stop; v += step) {
      F->var[s->var] = v;
      int st = exec_list(F, &s->body);
      if (st)
        return st;
    }
    return TC_OK;
  }
  case KS_IF: return exec_list(F, conv(eval(F, s->cond), s->cond->dtype, DT_BOOL).i ? &s->body : &s->orelse);
  case KS_COPY: {
    Buf *d = &F->b[s->buf], *src = &F->b[s->src];
    int64_t bytes = bytes_of(F, s->buf);
    if (d->dev && src->dev)
      copy(tcemu_memcpy_dtod, d->p, src->p, bytes);
    else if (d->dev)
      copy(tcemu_memcpy_htod, d->p, src->p, bytes);
    else if (src->dev)
      copy(tcemu_memcpy_dtoh, d->p, src->p, bytes);
    else
      memcpy(d->p, src->p, (size_t)bytes);
    return TC_OK;
  }
  case KS_KERNEL: fatal("a kernel that is not a device kernel in a CUDA module");
  }
  fatal("statement kind %d", (int)s->kind);
}

static int exec_list(Frame *F, KList *l) {
  for (int i = 0; i < l->n; i++) {
    int st = exec_stmt(F, l->v[i]);
    if (st)
      return st;
  }
  return TC_OK;
}

static int run_func(KFunc *f, const tc_array *args, tc_array *results) {
  Frame F = {.f = f, .args = args};
  F.b = ir_alloc(sizeof(Buf) * (size_t)(f->bufs.n + 1));
  F.var = ir_alloc(sizeof(int64_t) * (size_t)(f->nvars + 1));
  F.let = ir_alloc(sizeof(Val) * (size_t)(f->nlets + 1));
  for (int b = 0; b < f->bufs.n; b++) {
    const KBuf *kb = k_buf(f, b);
    if (kb->kind == KB_ARG)
      F.b[b] = (Buf){args[kb->index].data, false};
    if (kb->kind == KB_PARAM)
      F.b[b] = (Buf){R.param[kb->index], true};
  }
  int st = exec_list(&F, &f->body);
  for (int r = 0; st == TC_OK && r < f->nresults; r++) {
    tc_array a = as_array(&F, f->results[r]);
    int64_t bytes = bytes_of(&F, f->results[r]);
    a.data = tcrt_alloc(NULL, bytes);
    if (F.b[f->results[r]].dev)
      copy(tcemu_memcpy_dtoh, a.data, F.b[f->results[r]].p, bytes);
    else
      memcpy(a.data, F.b[f->results[r]].p, (size_t)bytes);
    results[r] = a;
  }
  return st;
}

static KFunc *func(bool main) {
  for (int i = 0; i < R.km->funcs.n; i++) {
    KFunc *f = R.km->funcs.v[i];
    if (main ? f->is_main : f->is_init)
      return f;
  }
  return NULL;
}

static int64_t param_bytes(int i) {
  const IrParam *p = R.km->graph->params.v[i];
  int64_t n = 1;
  for (int d = 0; d < p->type.rank; d++)
    n *= dim_value(p->type.dims[d]);
  return n * ir_dtype_size(p->type.dtype);
}

/* tc_program.init: the embedded params (as cpu_desc.c's init entry
 * does), then the module's init. */
static int prog_init(tc_ctx *ctx) {
  R.ctx = ctx;
  R.inited = true;
  for (int i = 0; i < R.km->graph->params.n; i++) {
    const IrParam *p = R.km->graph->params.v[i];
    if (p->embed_data) {
      R.param[i] = dev_alloc(param_bytes(i));
      copy(tcemu_memcpy_htod, R.param[i], p->embed_data, param_bytes(i));
    }
  }
  KFunc *init = func(false);
  return init ? run_func(init, NULL, NULL) : TC_OK;
}

/* tc_program.main.  Params live on the device; the context holds host
 * copies, for --params-in (read before) and --params-out (written after). */
static int prog_main(tc_ctx *ctx, const tc_array *args, tc_array *results) {
  R.ctx = ctx;
  for (int i = 0; i < R.km->graph->params.n && !R.inited; i++)
    if (tcrt_param(ctx, i)) {
      R.param[i] = dev_alloc(param_bytes(i));
      copy(tcemu_memcpy_htod, R.param[i], tcrt_param(ctx, i), param_bytes(i));
    }
  int st = run_func(func(true), args, results);
  for (int i = 0; i < R.km->graph->params.n; i++)
    if (R.param[i]) {
      void *h = tcrt_alloc(NULL, param_bytes(i));
      copy(tcemu_memcpy_dtoh, h, R.param[i], param_bytes(i));
      tcrt_set_param(ctx, i, h);
    }
  return st;
}

static int exe_mode(const char *prog, const char *so, int argc, char **argv) {
  R.km = compile(prog);
  R.cm = cg_cuda_module(R.km);
  R.table = load_table(so, R.cm);
  R.sym = ir_alloc(sizeof(int64_t) * (size_t)(ir_sym_count() + 1));
  R.param = ir_alloc(sizeof(void *) * (size_t)(R.km->graph->params.n + 1));
  KFunc *f = func(true);
  if (!f)
    fatal("%s has no main", prog);
  /* main's descriptor, as cpu_desc.c makes it */
  IfFunc it = cg_iface_func(f);
  tc_argdesc *ad = ir_alloc(sizeof(tc_argdesc) * (size_t)(it.nargs + 1));
  for (int i = 0; i < it.nargs; i++) {
    const IfValue *v = &it.args[i];
    ad[i] = (tc_argdesc){.name = v->name, .dtype = (tc_dtype)v->dtype, .rank = v->rank,
                         .has_default = v->has_default, .default_value = v->default_value};
    for (int d = 0; d < v->rank; d++)
      ad[i].dims[d] = (tc_dimdesc){.sym = v->dims[d].sym, .value = v->dims[d].value};
  }
  const char **names = ir_alloc(sizeof(char *) * (size_t)(it.nsyms + 1));
  for (int i = 0; i < it.nsyms; i++)
    names[i] = ir_sym_name(it.syms[i]);
  int np = R.km->graph->params.n;
  tc_paramdesc *pd = ir_alloc(sizeof(tc_paramdesc) * (size_t)(np + 1));
  for (int i = 0; i < np; i++) {
    const IrParam *p = R.km->graph->params.v[i];
    pd[i] = (tc_paramdesc){.name = p->name, .dtype = (tc_dtype)p->type.dtype, .rank = p->type.rank};
    for (int d = 0; d < p->type.rank; d++)
      pd[i].shape[d] = dim_value(p->type.dims[d]);
  }
  tc_program desc = {.name = R.km->name, .nargs = it.nargs, .args = ad, .nsyms = it.nsyms, .sym_names = names,
                     .nparams = np, .params = pd, .nresults = f->nresults, .init = prog_init, .main = prog_main};
  /* argv[0] as the executable's would be: the program's stem */
  const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
  argv[0] = ir_strndup(base, strcspn(base, "."));
  int rc = tcrt_exe_main(argc, argv, &desc);
  fflush(stdout);
  return rc;
}

/* The module's emulator entry points live in this executable (dlopen
 * resolves them here): referenced, so the static runtime's objects that
 * define them are linked in. */
void *const cuda_emu_exports[] = {(void *)tcemu_warp_op, (void *)tcemu_syncthreads, (void *)tcemu_check_device};

int main(int argc, char **argv) {
  char e[256];
  if (tcemu_init(0, e, sizeof e) != 0)
    fatal("tcemu_init: %s", e);
  if (argc == 4 && strcmp(argv[1], "build") == 0)
    return build(argv[2], argv[3]);
  if (argc >= 4 && strcmp(argv[1], "exe") == 0)
    return exe_mode(argv[2], argv[3], argc - 3, argv + 3);
  if (argc == 3 && strcmp(argv[1], "rand") == 0)
    return rand_mode(argv[2]);
  fprintf(stderr, "usage: cuda_emu_run build PROG.tc OUT.so | exe PROG.tc MOD.so [ARGS] | rand MOD.so\n");
  return 2;
}
