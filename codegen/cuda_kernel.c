/* codegen/cuda_kernel.c - the device statements of a module as CUDA C.
 *
 * The module's text is the prelude (cuda_prelude.cuh), then, for every
 * statement the schedule pass marked `device` (a kernel, or a fused row
 * kernel's rows loop), in function order and depth first, one or two
 * __global__ functions, then, under TC_EMULATE, the emulator's trampolines
 * and kernel table.  Each statement's CgDeviceKernel (cg_cuda.h) tells
 * the host code what to launch: names, parameters, how to size the grid.
 *
 * The loop kinds (passes/schedule.c) make six shapes of kernel:
 *   points  all non-reduced loops gpu_grid, reduced loops (if any) serial:
 *           a grid-stride loop over the flattened points; each thread
 *           decomposes its point into the loop variables (C order) and
 *           runs the reduction, if any, by itself.  An elementwise kernel
 *           with `lanes` takes that many points at once with 128-bit
 *           accesses where aligned (cuda_access.c);
 *   tile    the two innermost loops gpu_tile, the others gpu_block: a
 *           transpose, a block per 32x32 tile staged through shared
 *           memory (cuda_access.c);
 *   rows    outer loops gpu_block, reduced loops gpu_thread: a block per
 *           output point (grid-stride over blocks); its threads stride
 *           over the reduced points, then the block reduces (below) and
 *           thread 0 stores;
 *   fused   a rows loop (and its nested rows loops, flattened): a block
 *           per row; the stages run in order, a reducing stage as `rows`,
 *           a non-reducing one with the threads striding over its points,
 *           and __syncthreads() after each, as later stages read what
 *           earlier ones wrote;
 *   full    no outer loop, reduced loops gpu_grid: NAME_part, a grid of
 *           at most MAX_PARTS blocks each writing one partial result to
 *           the scratch, then NAME_final, one block combining the partials
 *           in a fixed order.  The number of partials depends on the
 *           extent only (never on the device), so every GPU and the
 *           emulator give the same bits;
 *   serial  all loops serial (points that are not independent, or no
 *           loops): one thread runs the loop nest in order.
 *
 * The reductions themselves (accumulators, the combine step, the
 * deterministic block reduction through shuffles and __shared__ memory)
 * are cuda_reduce.c's; the scalar expressions cuda_expr.c's.
 */
#include "cuda_internal.h"

#include <stdlib.h>
#include <string.h>

static const Loc nowhere = {0};

/* Partial results of a full reduction: a constant, not the device's
 * multiprocessor count, so that the result is the same on every GPU. */
enum { MAX_PARTS = 1024 };

static const char *const prelude_names[CG_NUM_PRELUDE_KERNELS] = {
    [CG_K_RAND_F32] = "tc_rand_f32",   [CG_K_RAND_F64] = "tc_rand_f64",       [CG_K_RANDN_F32] = "tc_randn_f32",
    [CG_K_RANDN_F64] = "tc_randn_f64", [CG_K_RANDINT_I64] = "tc_randint_i64",
    [CG_K_EPILOGUE_F32] = "tc_epilogue_f32",
};

const char *cg_cuda_prelude_kernel(CgPreludeKernel k) {
  if ((int)k < 0 || k >= CG_NUM_PRELUDE_KERNELS)
    ir_die(nowhere, "cuda: prelude kernel %d", (int)k);
  return prelude_names[k];
}

typedef enum Shape { SH_POINTS, SH_TILE, SH_ROWS, SH_FUSED, SH_FULL, SH_SERIAL } Shape;

/* What the emulator section needs of each kernel written. */
typedef struct Written {
  const char *name;
  int nparams;
  const char **type, **pname; /* each parameter's C type (no __restrict__) and name */
} Written;

typedef struct Mod {
  Cu C;
  PtrVec kernels; /* CgDeviceKernel* */
  PtrVec names;   /* the kernel table */
  PtrVec written; /* Written*, in table order after the prelude's */
} Mod;

#define LINE(...) cg_cuda_line(C, __VA_ARGS__)

/* ---- which kernel shape ---- */

static bool all_kind(const KStmt *s, int from, int to, KLoopKind k) {
  for (int i = from; i < to; i++)
    if (s->lkind[i] != k)
      return false;
  return true;
}

static Shape shape_of(const KStmt *s) {
  if (s->kind == KS_FOR) {
    if (!s->rows)
      ir_die(s->loc, "cuda: a device `for` that is not a row kernel");
    return SH_FUSED;
  }
  if (s->kind != KS_KERNEL)
    ir_die(s->loc, "cuda: a device statement of kind %d", (int)s->kind);
  int n = s->nloops, nout = n - s->nred;
  if (n < 0 || n > 2 * IR_MAX_RANK || s->nred < 0 || nout < 0 || !s->value)
    ir_die(s->loc, "cuda: a kernel with %d loops, %d reduced", n, s->nred);
  if (all_kind(s, 0, n, KL_SERIAL))
    return SH_SERIAL;
  if (nout == 0 && all_kind(s, 0, n, KL_GPU_GRID))
    return SH_FULL;
  if (nout > 0 && all_kind(s, 0, nout, KL_GPU_GRID) && all_kind(s, nout, n, KL_SERIAL))
    return SH_POINTS;
  if (s->nred == 0 && n >= 2 && all_kind(s, 0, n - 2, KL_GPU_BLOCK) && all_kind(s, n - 2, n, KL_GPU_TILE))
    return SH_TILE;
  if (nout > 0 && s->nred > 0 && all_kind(s, 0, nout, KL_GPU_BLOCK) && all_kind(s, nout, n, KL_GPU_THREAD))
    return SH_ROWS;
  ir_die(s->loc, "cuda: loop kinds that make no CUDA kernel (schedule pass?)");
}

/* ---- names ---- */

/* The statement's name (ir/kernel_name.c: the same on the CPU, and in
 * --profile), then the shape where it adds one: k3_sub_exp_sum_rows. */
static const char *kernel_name(const KModule *m, const KStmt *s, Shape sh) {
  const char *name = k_kernel_name(m, s);
  if (sh == SH_ROWS)
    return ir_sprintf("%s_rows", name);
  return sh == SH_TILE ? ir_sprintf("%s_tile", name) : name;
}

/* ---- loops ---- */

/* The product of the extents as a long long expression: one Dim when it
 * fits (constants fold: 64 * 10 is 640, never an int product that could
 * overflow), else the factors multiplied in long long. */
const char *cg_cuda_product(const Dim *ext, int n) {
  Dim d = dim_const(1);
  for (int i = 0; i < n && !d.overflow; i++)
    d = dim_mul(d, ext[i]);
  if (!d.overflow)
    return cg_cuda_dim(d);
  const char *p = "1LL";
  for (int i = 0; i < n; i++)
    p = ir_sprintf("%s * %s", p, cg_cuda_dim(ext[i]));
  return p;
}

void cg_cuda_flat_vars(Cu *C, int n, const int *vars, const Dim *ext, const char *p) {
  if (n == 1 && C->var_read[vars[0]])
    LINE("const long long i%d = %s;", vars[0], p);
  const char *rest = p;
  for (int i = n - 1; i > 0; i--) { /* the variables nothing reads are left out */
    if (C->var_read[vars[i]])
      LINE("const long long i%d = %s %% %s;", vars[i], rest, cg_cuda_dim(ext[i]));
    if (i == 1) {
      if (C->var_read[vars[0]])
        LINE("const long long i%d = %s / %s;", vars[0], rest, cg_cuda_dim(ext[i]));
    } else {
      bool outer_read = false; /* the quotient is needed by an outer variable */
      for (int j = 0; j < i; j++)
        outer_read |= C->var_read[vars[j]];
      if (!outer_read)
        break;
      const char *next = ir_sprintf("%s%d", p, n - i);
      LINE("const long long %s = %s / %s;", next, rest, cg_cuda_dim(ext[i]));
      rest = next;
    }
  }
}

const char *cg_cuda_flat_open(Cu *C, int n, const int *vars, const Dim *ext, const char *p, const char *start,
                              const char *bound, const char *stride) {
  if (!bound)
    bound = cg_cuda_product(ext, n);
  if (n == 1)
    p = ir_sprintf("i%d", vars[0]);
  if (strcmp(stride, "1") == 0)
    LINE("for (long long %s = %s; %s < %s; %s++) {", p, start, p, bound, p);
  else
    LINE("for (long long %s = %s; %s < %s; %s += %s) {", p, start, p, bound, p, stride);
  C->depth++;
  if (n > 1)
    cg_cuda_flat_vars(C, n, vars, ext, p);
  return p;
}

/* The current point of s's outer loops: its value stored, or reduced over
 * the reduced loops, either by this thread alone, in order, or by the
 * whole block: its threads stride over the reduced points, the block
 * combines, thread 0 stores. */
static void reduce_point(Cu *C, const KStmt *s, bool block) {
  int n = s->nloops, nout = n - s->nred;
  if (s->nred == 0) {
    cg_cuda_store(C, s, cg_cuda_expr(C, s->value), s->value->dtype);
    return;
  }
  CgRed r = cg_cuda_red_of(s);
  cg_cuda_red_decl(C, &r);
  cg_cuda_fold_begin(C, &r);
  const char *q = cg_cuda_flat_open(C, s->nred, s->loopvar + nout, s->extent + nout, "q",
                                    block ? "threadIdx.x" : "0", NULL, block ? "blockDim.x" : "1");
  cg_cuda_fold(C, s, &r, q);
  cg_cuda_close(C);
  cg_cuda_fold_end(C, &r);
  if (block)
    cg_cuda_block_finish(C, s, &r);
  else
    cg_cuda_red_finish(C, s, &r);
}

/* ---- the five shapes ---- */

static void emit_serial(Cu *C, const KStmt *s) {
  int nout = s->nloops - s->nred;
  LINE("// one thread, in order: the points are not independent");
  if (nout > 0)
    cg_cuda_flat_open(C, nout, s->loopvar, s->extent, "p", "0", NULL, "1");
  reduce_point(C, s, false);
  if (nout > 0)
    cg_cuda_close(C);
}

static void emit_points(Cu *C, const KStmt *s) {
  if (s->lanes) {
    cg_cuda_emit_vector_map(C, s);
    return;
  }
  int nout = s->nloops - s->nred;
  LINE("const long long work = %s;", cg_cuda_product(s->extent, nout));
  cg_cuda_flat_open(C, nout, s->loopvar, s->extent, "p", CG_GRID_START, "work", CG_GRID_STRIDE);
  reduce_point(C, s, false);
  cg_cuda_close(C);
}

static void emit_rows(Cu *C, const KStmt *s) {
  int nout = s->nloops - s->nred;
  LINE("const long long rows = %s;", cg_cuda_product(s->extent, nout));
  cg_cuda_flat_open(C, nout, s->loopvar, s->extent, "r", "blockIdx.x", "rows", "gridDim.x");
  reduce_point(C, s, true);
  cg_cuda_close(C);
}

/* A full reduction's first kernel: each block's partial result. */
static void emit_part(Cu *C, const KStmt *s) {
  CgRed r = cg_cuda_red_of(s);
  LINE("const long long work = %s;", cg_cuda_product(s->extent, s->nloops));
  cg_cuda_red_decl(C, &r);
  cg_cuda_fold_begin(C, &r);
  const char *p = cg_cuda_flat_open(C, s->nloops, s->loopvar, s->extent, "p", CG_GRID_START, "work", CG_GRID_STRIDE);
  cg_cuda_fold(C, s, &r, p);
  cg_cuda_close(C);
  cg_cuda_fold_end(C, &r);
  cg_cuda_block_reduce(C, &r);
  LINE("if (threadIdx.x == 0) {");
  LINE("  ((%s *)scratch)[blockIdx.x] = acc;", cg_cuda_type(r.dt));
  if (r.arg)
    LINE("  ((long long *)scratch + %d)[blockIdx.x] = acci;", MAX_PARTS);
  LINE("}");
}

/* The second: one block combines the partials, in order of the blocks. */
static void emit_final(Cu *C, const KStmt *s, const char *part, int part_block) {
  CgRed r = cg_cuda_red_of(s);
  LINE("const long long work = %s;", cg_cuda_product(s->extent, s->nloops));
  LINE("/* %s's grid, as the host sized it: clamp(ceil(work / %d), 1, %d) blocks */", part, part_block, MAX_PARTS);
  LINE("long long parts = (work + %d) / %d;", part_block - 1, part_block);
  LINE("if (parts > %d) parts = %d;", MAX_PARTS, MAX_PARTS);
  LINE("if (parts < 1) parts = 1;");
  cg_cuda_red_decl(C, &r);
  LINE("for (long long j = threadIdx.x; j < parts; j += blockDim.x) {");
  C->depth++;
  LINE("const %s part = ((const %s *)scratch)[j];", cg_cuda_type(r.dt), cg_cuda_type(r.dt));
  if (r.arg)
    LINE("const long long part_i = ((const long long *)scratch + %d)[j];", MAX_PARTS);
  cg_cuda_red_step(C, &r, "part", "part_i");
  cg_cuda_close(C);
  cg_cuda_block_finish(C, s, &r);
}

static void stmt_comment(Cu *C, const KStmt *s, const char *prefix);

/* The stages of a fused row kernel (and of nested rows loops that are not
 * flattened into the grid), in order, a barrier after each. */
static void emit_stages(Cu *C, const KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *st = l->v[i];
    if (st->kind == KS_FOR && st->rows) {
      /* every thread walks a further row dim */
      if (st->step->kind != KX_CONST || st->step->ival != 1)
        ir_die(st->loc, "cuda: a rows loop whose step is not 1");
      const char *start = cg_cuda_expr(C, st->cond), *stop = cg_cuda_expr(C, st->stop);
      LINE("for (long long i%d = %s; i%d < %s; i%d++) {", st->var, start, st->var, stop, st->var);
      C->depth++;
      emit_stages(C, &st->body);
      cg_cuda_close(C);
      continue;
    }
    if (st->kind != KS_KERNEL)
      ir_die(st->loc, "cuda: a row kernel's stage of kind %d", (int)st->kind);
    int n = st->nloops, nout = n - st->nred;
    if (!all_kind(st, 0, n, KL_GPU_THREAD))
      ir_die(st->loc, "cuda: a row kernel's stage whose loops are not gpu_thread");
    stmt_comment(C, st, "");
    LINE("{");
    C->depth++;
    if (st->nred > 0) {
      /* the block reduces each outer point in turn (all threads walk them) */
      if (nout > 0)
        cg_cuda_flat_open(C, nout, st->loopvar, st->extent, "p", "0", NULL, "1");
      reduce_point(C, st, true);
      if (nout > 0)
        cg_cuda_close(C);
    } else if (n > 0) {
      cg_cuda_flat_open(C, n, st->loopvar, st->extent, "q", "threadIdx.x", NULL, "blockDim.x");
      cg_cuda_store(C, st, cg_cuda_expr(C, st->value), st->value->dtype);
      cg_cuda_close(C);
    } else {
      LINE("if (threadIdx.x == 0) {");
      C->depth++;
      cg_cuda_store(C, st, cg_cuda_expr(C, st->value), st->value->dtype);
      cg_cuda_close(C);
    }
    cg_cuda_close(C);
    LINE("__syncthreads(); /* later stages read what this one wrote */");
  }
}

/* The rows loops flattened into a fused kernel's grid: s, and each rows
 * loop that is alone in its parent's body.  Returns how many; *stages is
 * the innermost body. */
static int rows_chain(const KStmt *s, int *vars, Dim *ext, const KList **stages) {
  int n = 0;
  for (;;) {
    if (s->cond->kind != KX_CONST || s->cond->ival != 0 || s->step->kind != KX_CONST || s->step->ival != 1)
      ir_die(s->loc, "cuda: a rows loop that does not count 0, 1, ...");
    const KExpr *e = s->stop;
    if (e->kind != KX_CONST && e->kind != KX_SYM && e->kind != KX_DIM)
      ir_die(s->loc, "cuda: a rows loop whose extent is not a dimension");
    vars[n] = s->var;
    ext[n++] = e->kind == KX_CONST ? dim_const(e->ival) : e->kind == KX_SYM ? dim_sym(e->sym) : e->dim;
    if (s->body.n != 1 || s->body.v[0]->kind != KS_FOR || !s->body.v[0]->rows || n == 2 * IR_MAX_RANK)
      break;
    s = s->body.v[0];
  }
  *stages = &s->body;
  return n;
}

static void emit_fused(Cu *C, const KStmt *s) {
  int vars[2 * IR_MAX_RANK];
  Dim ext[2 * IR_MAX_RANK];
  const KList *stages;
  int n = rows_chain(s, vars, ext, &stages);
  LINE("const long long rows = %s;", cg_cuda_product(ext, n));
  cg_cuda_flat_open(C, n, vars, ext, "r", "blockIdx.x", "rows", "gridDim.x");
  emit_stages(C, stages);
  cg_cuda_close(C);
}

/* ---- comments and signatures ---- */

/* text as // lines, each wrapped at a space near 110 columns. */
static void comment(Cu *C, const char *prefix, const char *text) {
  enum { WIDTH = 110 };
  char *copy = ir_strdup(text);
  for (char *p = copy; *p; p++)
    if (*p == '\\') /* a backslash ending a // line would continue it */
      *p = '/';
  bool first = true;
  for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
    const char *lead = first ? prefix : "";
    first = false;
    while (strlen(line) + strlen(lead) > WIDTH) {
      int cut = WIDTH - (int)strlen(lead);
      while (cut > 20 && line[cut] != ' ')
        cut--;
      if (cut <= 20)
        break; /* no space to wrap at: one long line */
      int end = cut;
      while (end > 0 && line[end - 1] == ' ')
        end--;
      LINE("// %s%.*s", lead, end, line);
      line += cut;
      while (*line == ' ')
        line++;
      lead = "    ";
    }
    LINE("// %s%s", lead, line);
  }
}

/* The kernel IR text of s (k_print_stmt) as a comment. */
static void stmt_comment(Cu *C, const KStmt *s, const char *prefix) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f)
    ir_die(s->loc, "cuda: out of memory");
  k_print_stmt(f, C->f, (KStmt *)s);
  fclose(f);
  comment(C, prefix, text);
  free(text);
}

static const char *work_text(const CgLaunch *L) {
  char buf[256];
  if (!L->work.overflow)
    return ir_strdup(dim_format(L->work, buf, sizeof buf));
  const char *t = "";
  for (int i = 0; i < L->nfactor; i++)
    t = ir_sprintf("%s%s(%s)", t, i ? "*" : "", dim_format(L->factor[i], buf, sizeof buf));
  return t;
}

/* t, parenthesised when it is more than one term ("N - 1"). */
static const char *paren(const char *t) { return strchr(t, ' ') ? ir_sprintf("(%s)", t) : t; }

static const char *launch_text(const CgLaunch *L) {
  switch (L->grid) {
  case CG_GRID_POINTS:
    if (L->lanes > 1)
      return ir_sprintf("grid = clamp(ceil(%s / (%d * %d)), 1, %lld), block = %d", paren(work_text(L)), L->lanes,
                        L->block, (long long)L->max_grid, L->block);
    return ir_sprintf("grid = clamp(ceil(%s / %d), 1, %lld), block = %d", paren(work_text(L)), L->block,
                      (long long)L->max_grid, L->block);
  case CG_GRID_TILES: {
    char a[128], b[128];
    const char *lead = "";
    for (int i = 0; i < L->nfactor - 2; i++)
      lead = ir_sprintf("%s%s * ", lead, paren(dim_format(L->factor[i], a, sizeof a)));
    return ir_sprintf("grid = clamp(%sceil(%s / %d) * ceil(%s / %d), 1, %lld), block = %d", lead,
                      paren(dim_format(L->factor[L->nfactor - 2], a, sizeof a)), L->tile,
                      paren(ir_strdup(dim_format(L->factor[L->nfactor - 1], b, sizeof b))), L->tile,
                      (long long)L->max_grid, L->block);
  }
  case CG_GRID_ROWS:
    return ir_sprintf("grid = clamp(%s, 1, %lld), block = %d", work_text(L), (long long)L->max_grid, L->block);
  case CG_GRID_ONE: return ir_sprintf("grid = 1, block = %d", L->block);
  }
  ir_die(nowhere, "cuda: launch kind %d", (int)L->grid);
}

static void mark_written(int buf, KRefRole role, void *ctx) {
  if (role == KR_WRITE)
    ((bool *)ctx)[buf] = true;
}

/* The parameters (cg_cuda.h's order: buffers, symbols, loop variables of
 * the host, scratch), with their C types and names in *w. */
static void params(CgDeviceKernel *dk, KFunc *f, KStmt *s, bool scratch, Written *w) {
  KUses u = k_uses_new(f);
  k_uses_stmt(&u, f, s);
  bool *wr = ir_alloc((size_t)f->bufs.n + 1);
  k_stmt_refs(s, mark_written, wr);
  int max = u.nbufs + u.nsyms + u.nvars + 1, n = 0;
  dk->params = ir_alloc(sizeof(CgParam) * (size_t)max);
  w->type = ir_alloc(sizeof(char *) * (size_t)max);
  w->pname = ir_alloc(sizeof(char *) * (size_t)max);
  for (int b = 0; b < u.nbufs; b++) {
    if (!u.bufs[b])
      continue;
    const KBuf *kb = k_buf(f, b);
    if (kb->space != KM_DEVICE)
      ir_die(s->loc, "cuda: a device kernel touches %s, which is not in device memory (placement?)", kb->name);
    dk->params[n] = (CgParam){CP_BUF, b};
    w->type[n] = ir_sprintf("%s%s *", wr[b] ? "" : "const ", cg_cuda_mem_type(kb->dtype));
    w->pname[n++] = cg_cuda_buf_name(f, b);
  }
  for (int sym = 0; sym < u.nsyms; sym++)
    if (u.syms[sym]) {
      dk->params[n] = (CgParam){CP_SYM, sym};
      w->type[n] = "long long ";
      w->pname[n++] = cg_cuda_sym_name(sym);
    }
  for (int v = 0; v < u.nvars; v++)
    if (u.vars[v] && !u.defs[v]) {
      dk->params[n] = (CgParam){CP_VAR, v};
      w->type[n] = "long long ";
      w->pname[n++] = ir_sprintf("i%d", v);
    }
  if (scratch) {
    dk->params[n] = (CgParam){CP_SCRATCH, 0};
    w->type[n] = "void *";
    w->pname[n++] = "scratch";
  }
  dk->nparams = w->nparams = n;
}

static bool is_pointer(const char *type) { return type[strlen(type) - 1] == '*'; }

/* The statements whose reductions the kernel's blocks do: a row
 * reduction or a full one, or a fused kernel's reducing stages. */
static int block_reductions(const KStmt *s, Shape sh, const KStmt **reds, int max) {
  int n = 0;
  if (sh == SH_ROWS || sh == SH_FULL)
    reds[n++] = s;
  if (sh != SH_FUSED)
    return n;
  const KStmt *todo[64]; /* the rows loops still to look into */
  int nt = 0;
  todo[nt++] = s;
  while (nt > 0) {
    const KStmt *x = todo[--nt];
    for (int i = 0; i < x->body.n; i++) {
      const KStmt *st = x->body.v[i];
      if (st->kind == KS_FOR && nt < 64)
        todo[nt++] = st;
      else if (st->kind == KS_KERNEL && st->nred && n < max)
        reds[n++] = st;
    }
  }
  return n;
}

static void kernel_open(Cu *C, const KStmt *s, Shape sh, const CgDeviceKernel *dk, const CgLaunch *L,
                        const Written *w) {
  fputc('\n', C->o);
  if (s->loc.file)
    LINE("// %s:%d", s->loc.file, s->loc.line);
  stmt_comment(C, s, "");
  LINE("// launch: %s%s%s", launch_text(L), L->block_free ? " (free: the runtime may choose it)" : "",
       dk->scratch_bytes ? ir_sprintf("; scratch: %lld bytes", (long long)dk->scratch_bytes) : "");
  const char *list = "";
  for (int i = 0; i < w->nparams; i++)
    list = ir_sprintf("%s%s%s%s%s", list, i ? ", " : "", w->type[i], is_pointer(w->type[i]) ? "__restrict__ " : "",
                      w->pname[i]);
  LINE("TC_KERNEL void %s(%s) {", L->name, list);
  C->depth++;
  const KStmt *reds[64];
  cg_cuda_red_shared(C, reds, block_reductions(s, sh, reds, 64));
}

/* ---- device statements ---- */

static void set_launch(CgLaunch *L, const char *name, CgGrid grid, const Dim *ext, int n, int block, int64_t max_grid) {
  L->name = name;
  L->grid = grid;
  L->block = block;
  L->max_grid = max_grid;
  L->nfactor = n;
  L->work = dim_const(1);
  for (int i = 0; i < n; i++) {
    L->factor[i] = ext[i];
    if (!L->work.overflow)
      L->work = dim_mul(L->work, ext[i]);
  }
}

static void device_stmt(Mod *M, KFunc *f, KStmt *s) {
  Cu *C = &M->C;
  const Target *t = C->m->target;
  C->f = f;
  Shape sh = shape_of(s);
  CgDeviceKernel *dk = ir_alloc(sizeof *dk);
  dk->stmt = s;
  dk->index = M->names.n;
  Written proto = {0};
  params(dk, f, s, sh == SH_FULL, &proto);
  KUses u = k_uses_new(f);
  k_uses_stmt(&u, f, s);
  C->var_read = u.vars;
  const char *name = kernel_name(C->m, s, sh);
  int nout = s->kind == KS_KERNEL ? s->nloops - s->nred : 0;
  switch (sh) {
  case SH_POINTS:
    set_launch(&dk->launch[0], name, CG_GRID_POINTS, s->extent, nout, t->block_threads, t->max_blocks);
    dk->launch[0].lanes = s->lanes;
    dk->launch[0].block_free = true;
    break;
  case SH_TILE:
    set_launch(&dk->launch[0], name, CG_GRID_TILES, s->extent, nout, t->block_threads, t->max_blocks);
    dk->launch[0].tile = CG_TILE;
    break;
  case SH_ROWS: set_launch(&dk->launch[0], name, CG_GRID_ROWS, s->extent, nout, t->row_threads, t->max_blocks); break;
  case SH_FUSED: {
    int vars[2 * IR_MAX_RANK];
    Dim ext[2 * IR_MAX_RANK];
    const KList *stages;
    int n = rows_chain(s, vars, ext, &stages);
    set_launch(&dk->launch[0], name, CG_GRID_ROWS, ext, n, t->row_threads, t->max_blocks);
    break;
  }
  case SH_FULL:
    set_launch(&dk->launch[0], ir_sprintf("%s_part", name), CG_GRID_POINTS, s->extent, s->nloops, t->block_threads,
               MAX_PARTS);
    set_launch(&dk->launch[1], ir_sprintf("%s_final", name), CG_GRID_ONE, NULL, 0, t->block_threads, 1);
    dk->scratch_bytes = (int64_t)MAX_PARTS * (8 + 8); /* a value (at most 8 bytes) and an index per partial */
    break;
  case SH_SERIAL: set_launch(&dk->launch[0], name, CG_GRID_ONE, NULL, 0, 1, 1); break;
  }
  dk->nlaunch = sh == SH_FULL ? 2 : 1;
  for (int j = 0; j < dk->nlaunch; j++) {
    Written *w = ir_alloc(sizeof *w);
    *w = proto;
    w->name = dk->launch[j].name;
    cg_cuda_reset_lets(C);
    C->ntemp = 0;
    kernel_open(C, s, sh, dk, &dk->launch[j], w);
    switch (sh) {
    case SH_POINTS: emit_points(C, s); break;
    case SH_TILE: cg_cuda_emit_tile(C, s); break;
    case SH_ROWS: emit_rows(C, s); break;
    case SH_FUSED: emit_fused(C, s); break;
    case SH_FULL:
      if (j == 0)
        emit_part(C, s);
      else
        emit_final(C, s, dk->launch[0].name, dk->launch[0].block);
      break;
    case SH_SERIAL: emit_serial(C, s); break;
    }
    cg_cuda_close(C);
    ir_vec_push(&M->names, (void *)w->name);
    ir_vec_push(&M->written, w);
  }
  ir_vec_push(&M->kernels, dk);
}

/* Every device statement of l, in order, depth first. */
static void walk(Mod *M, KFunc *f, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->device) {
      device_stmt(M, f, s);
    } else if (s->kind == KS_FOR) {
      walk(M, f, &s->body);
    } else if (s->kind == KS_IF) {
      walk(M, f, &s->body);
      walk(M, f, &s->orelse);
    }
  }
}

/* ---- the emulator's part ---- */

/* NAME__emu(params): unpacks cuLaunchKernel-style parameters (pointers to
 * the values), checks the pointers are device memory, calls NAME. */
static void trampoline(Cu *C, const Written *w) {
  LINE("void %s__emu(void **p) {", w->name);
  C->depth++;
  const char *args = "";
  for (int i = 0; i < w->nparams; i++) {
    LINE("%s%s = *(%s*)p[%d];", w->type[i], w->pname[i], w->type[i], i);
    args = ir_sprintf("%s%s%s", args, i ? ", " : "", w->pname[i]);
  }
  for (int i = 0; i < w->nparams; i++)
    if (is_pointer(w->type[i])) {
      LINE("if (!tcemu_check_device(%s, \"%s\", %d))", w->pname[i], w->name, i);
      LINE("  return;");
    }
  LINE("%s(%s);", w->name, args);
  cg_cuda_close(C);
}

static void emulator_part(Mod *M) {
  Cu *C = &M->C;
  fputc('\n', C->o);
  LINE("#ifdef TC_EMULATE");
  LINE("// ===== the emulator (runtime/emu/): each kernel's trampoline, then the kernel table =====");
  for (int i = 0; i < M->written.n; i++)
    trampoline(C, M->written.v[i]);
  LINE("const tcemu_kernel tc_emu_kernels[] = {");
  for (int i = 0; i < M->names.n; i++)
    LINE("    {\"%s\", %s__emu},", (const char *)M->names.v[i], (const char *)M->names.v[i]);
  LINE("    {NULL, NULL},");
  LINE("};");
  LINE("#endif");
}

/* ---- the module ---- */

CgCudaModule *cg_cuda_module(KModule *m) {
  const Target *t = m->target;
  if (!t || t->kind != TGT_CUDA || !m->scheduled)
    ir_die(nowhere, "cuda: a module not scheduled for a CUDA target");
  /* block reductions shuffle whole warps with a full mask */
  if (t->block_threads < 32 || t->block_threads > 1024 || t->block_threads % 32 || t->row_threads < 32 ||
      t->row_threads > 1024 || t->row_threads % 32 || t->max_blocks < 1)
    ir_die(nowhere, "cuda: blocks of %d and %d threads (whole warps, at most 1024)", t->block_threads, t->row_threads);
  Mod M = {.C.m = m};
  char *text = NULL;
  size_t len = 0;
  M.C.o = open_memstream(&text, &len);
  if (!M.C.o)
    ir_die(nowhere, "cuda: out of memory");
  fprintf(M.C.o, "// %s.cu: CUDA C made by tensorc for %s; docs/gpu.md says how to read it.\n\n",
          m->name ? m->name : "module", t->gpu_arch);
  fputs(cg_cuda_prelude_text, M.C.o);
  fputs("\n// ===== the module's kernels =====\n", M.C.o);
  for (int k = 0; k < CG_NUM_PRELUDE_KERNELS; k++)
    ir_vec_push(&M.names, (void *)prelude_names[k]);
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    walk(&M, f, &f->body);
  }
  emulator_part(&M);
  fclose(M.C.o);
  CgCudaModule *cm = ir_alloc(sizeof *cm);
  cm->source = ir_strdup(text);
  free(text);
  cm->nkernels = M.kernels.n;
  cm->kernels = ir_alloc(sizeof(CgDeviceKernel) * (size_t)(M.kernels.n + 1));
  for (int i = 0; i < M.kernels.n; i++)
    cm->kernels[i] = *(CgDeviceKernel *)M.kernels.v[i];
  cm->nnames = M.names.n;
  cm->names = ir_alloc(sizeof(char *) * (size_t)M.names.n);
  for (int i = 0; i < M.names.n; i++)
    cm->names[i] = M.names.v[i];
  cm->block_free = ir_alloc(sizeof(bool) * (size_t)M.names.n);
  for (int k = 0; k < CG_NUM_PRELUDE_KERNELS; k++)
    cm->block_free[k] = true; /* grid-stride over the draw, any grid and block */
  for (int i = 0; i < cm->nkernels; i++)
    for (int j = 0; j < cm->kernels[i].nlaunch; j++)
      cm->block_free[cm->kernels[i].index + j] = cm->kernels[i].launch[j].block_free;
  return cm;
}

const CgDeviceKernel *cg_cuda_kernel_of(const CgCudaModule *cm, const KStmt *s) {
  for (int i = 0; i < cm->nkernels; i++)
    if (cm->kernels[i].stmt == s)
      return &cm->kernels[i];
  ir_die(s->loc, "cuda: no kernel for this statement (not a device statement?)");
}
