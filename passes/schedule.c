/* passes/schedule.c - the `schedule` pass: how every loop runs.
 *
 * Lowering makes loop nests that say what is computed; this pass decides,
 * for the module's target, how each loop runs, and writes it into the IR
 * (KStmt.lkind, .lanes, .device) where the dump shows it and the code
 * generators read it.  Halide's ForType is the model.  The rules:
 *
 * CPU
 *  - a kernel whose iterations of the outermost loop are independent (see
 *    independent below) runs that loop in parallel, and so does a `for`
 *    that lower marked parallel (a fused row kernel's rows) when its body
 *    is only kernels, fors and ifs (nothing that allocates or can fail);
 *    inside a parallel loop everything is serial: one level of threads;
 *  - a float sum, max or min runs its innermost reduced loop vectorised,
 *    in the target's lanes of partial results (cpu_kernel.c says how);
 *    a float sum does so in blocks of the target's sum_block elements,
 *    the blocks' sums added in f64 (KStmt.block: NumPy-like accuracy);
 *  - an elementwise stage of a fused row kernel that stores a float row
 *    along its innermost loop runs that loop vectorised, a vector
 *    register's points (target->vector_bytes) at a time, the last ones
 *    masked (cpu_kernel.c): the row is in L1, and the loop vectoriser
 *    left to itself chose half a register and a scalar remainder;
 *  - everything else is serial (LLVM's loop vectoriser may still
 *    vectorise an elementwise loop: a serial mark promises nothing).
 *
 * CUDA (every kernel and fused row kernel runs on the device)
 *  - elementwise (no reduction), every point written once: all loops
 *    gpu_grid, one grid-stride loop over their product; `lanes` points at
 *    a time (128-bit loads and stores, target->vector_bytes) when the
 *    kernel is a plain map (vector_map below);
 *  - a transpose (out[..., i, j] = f(in[..., j, i]), tiled below): the two
 *    innermost loops gpu_tile, the others gpu_block: a block per 32x32
 *    tile, staged through shared memory so that both the reads of `in`
 *    and the writes of `out` are along a row;
 *  - a reduction with outer loops whose rows are long or not known: outer
 *    loops gpu_block (a block per output point), reduced loops gpu_thread
 *    (the block's threads stride over them, then reduce); short rows
 *    (fewer than SHORT_ROW points, constant): outer loops gpu_grid and the
 *    reduction serial in each thread;
 *  - a full reduction (no outer loop): reduced loops gpu_grid: per-block
 *    partials, combined by a second kernel in a fixed order;
 *  - a fused row kernel: its rows loops gpu_block, each stage's loops
 *    gpu_thread, with a barrier between stages;
 *  - a kernel whose points are not independent (x[idx] += v with repeated
 *    indices) is serial: one thread runs it in order, as the CPU does;
 *  - host `for` loops stay serial: their kernels are launched one by one;
 *  - a float sum, whatever its shape, sums each thread's elements in
 *    blocks of the target's sum_block, the blocks' sums in f64 (KStmt.block).
 *
 * A kernel is independent when each point of its non-reduced loops writes
 * its own element (every non-reduced loop variable is itself a store
 * index) and it reads its output buffer only at the point it writes (an
 * update in place).  The CPU needs only the outermost loop's variable to
 * be a store index (the inner loops of one iteration run in order).
 *
 * A plain map (vector_map) stores at its flat point (k_store_flat: point p
 * writes element p), its elements are 4 or 8 bytes, and each load either
 * reads element p + c of a buffer of the same element size (contiguous:
 * the same indices, maybe offset by a slice's start) or the same element
 * at every point (a scalar); nothing else reads the loop variables.  Then
 * the points p..p+lanes-1 are lanes neighbouring elements of every buffer,
 * one 128-bit access each where the pointers are aligned (the emitter
 * checks at run time).  A transpose is tiled when the kernel's only
 * transposed load (k_load_transposed, possibly repeated) reads a buffer
 * whose two innermost extents are not the constant 1, and its other loads
 * are scalars or read at the store's point (both read well in the tile's
 * write phase).
 *
 * Requires: lower (memplan may have run).  Preserves: everything else.
 */
#include "passes.h"

#include "../ir/kernel.h"

enum { SHORT_ROW = 64 };

/* Whether loop i's variable is one of the kernel's store indices. */
static bool stores_by(const KStmt *s, int i) {
  for (int k = 0; k < s->nstore; k++)
    if (s->store_idx[k]->kind == KX_VAR && s->store_idx[k]->var == s->loopvar[i])
      return true;
  return false;
}

/* The kernel's points of loops [0, outer) are independent (file comment). */
static bool independent(const KStmt *s, int outer) {
  if (outer < 1 || outer > s->nloops - s->nred)
    return false;
  for (int i = 0; i < outer; i++)
    if (!stores_by(s, i))
      return false;
  return k_loads_at_store(s->value, s->buf, s) && k_loads_at_store(s->finalize, s->buf, s);
}

/* Float sum/max/min: the reductions that run in partials (cpu_kernel.c). */
static int reduce_lanes(const Target *t, const KStmt *s) {
  DType dt = s->value->dtype;
  IrOp op = s->combine;
  if (op == IR_ANY || op == IR_ALL || !ir_dtype_is_float(dt) || !(op == IR_SUM || op == IR_MAX || op == IR_MIN))
    return 0;
  return dt == DT_F32 ? t->lanes_f32 : t->lanes_f64;
}

/* A float sum adds its elements in blocks (KStmt.block), any other
 * reduction in one accumulator. */
static int sum_block(const Target *t, const KStmt *s) {
  return s->nred && s->combine == IR_SUM && ir_dtype_is_float(s->value->dtype) ? t->sum_block : 0;
}

/* Whether a for's body can run as an outlined parallel body: kernels, and
 * fors and ifs of them (nothing that allocates, sets a symbol or fails). */
static bool outlinable(const KList *l) {
  for (int i = 0; i < l->n; i++) {
    const KStmt *s = l->v[i];
    if (s->kind == KS_FOR ? !outlinable(&s->body)
        : s->kind == KS_IF ? !outlinable(&s->body) || !outlinable(&s->orelse)
                           : s->kind != KS_KERNEL)
      return false;
  }
  return true;
}

static void set_all(KStmt *s, int from, int to, KLoopKind k) {
  for (int i = from; i < to; i++)
    s->lkind[i] = k;
}

/* ---- CPU ---- */

/* An elementwise stage of a row kernel that stores along its innermost
 * loop (the last store index is that loop's variable, no other reads it):
 * the points a vector register holds at a time (0: none). */
static int row_vector(const Target *t, KFunc *f, const KStmt *s) {
  int n = s->nloops;
  if (s->nred || n < 1 || s->store_linear || s->nstore < 1)
    return 0;
  const KExpr *last = s->store_idx[s->nstore - 1];
  if (last->kind != KX_VAR || last->var != s->loopvar[n - 1])
    return 0;
  for (int i = 0; i < s->nstore - 1; i++)
    if (k_expr_reads_var(s->store_idx[i], s->loopvar[n - 1]))
      return 0;
  DType dt = k_buf(f, s->buf)->dtype;
  return ir_dtype_is_float(dt) ? t->vector_bytes / ir_dtype_size(dt) : 0;
}

static void cpu_list(const Target *t, KFunc *f, KList *l, bool in_parallel, bool in_rows);

static void cpu_stmt(const Target *t, KFunc *f, KStmt *s, bool in_parallel, bool in_rows) {
  switch (s->kind) {
  case KS_KERNEL: {
    set_all(s, 0, s->nloops, KL_SERIAL);
    s->lanes = s->nred ? reduce_lanes(t, s) : in_rows ? row_vector(t, f, s) : 0;
    s->block = s->nred && s->lanes ? sum_block(t, s) : 0; /* blocks of whole groups of lanes */
    if (s->lanes)
      s->lkind[s->nloops - 1] = KL_VECTOR;
    if (!in_parallel && independent(s, 1))
      s->lkind[0] = KL_PARALLEL;
    return;
  }
  case KS_FOR: {
    bool par = !in_parallel && s->parallel && outlinable(&s->body);
    s->lkind[0] = par ? KL_PARALLEL : KL_SERIAL;
    cpu_list(t, f, &s->body, in_parallel || par, in_rows || s->rows);
    return;
  }
  case KS_IF:
    cpu_list(t, f, &s->body, in_parallel, in_rows);
    cpu_list(t, f, &s->orelse, in_parallel, in_rows);
    return;
  default: return;
  }
}

static void cpu_list(const Target *t, KFunc *f, KList *l, bool in_parallel, bool in_rows) {
  for (int i = 0; i < l->n; i++)
    cpu_stmt(t, f, l->v[i], in_parallel, in_rows);
}

/* ---- CUDA ---- */

/* A stage of a fused row kernel: the block's threads share its loops. */
static void gpu_stage(const Target *t, KStmt *s) {
  if (s->kind == KS_FOR) { /* the rows of a further row dim: every thread walks them */
    s->lkind[0] = KL_GPU_BLOCK;
    for (int i = 0; i < s->body.n; i++)
      gpu_stage(t, s->body.v[i]);
    return;
  }
  set_all(s, 0, s->nloops, KL_GPU_THREAD);
  s->block = sum_block(t, s);
}

/* Every load in e is contiguous with the store (of element size `size`)
 * or invariant, and no other part of e reads a loop variable. */
static bool vector_loads(KFunc *f, const KStmt *s, const KExpr *e, int size) {
  if (e->kind == KX_LOAD)
    return k_expr_invariant(s, e) ||
           (k_load_contiguous(f, s, e, NULL) && ir_dtype_size(k_buf(f, e->buf)->dtype) == size);
  if (e->kind == KX_VAR && !k_expr_invariant(s, e))
    return false;
  for (int i = 0; i < e->nargs; i++)
    if (!vector_loads(f, s, e->args[i], size))
      return false;
  return true;
}

/* The points a thread takes at once in an elementwise kernel: a plain map
 * of 4- or 8-byte elements (file comment) takes vector_bytes of each; 0:
 * one at a time. */
static int vector_map(const Target *t, KFunc *f, const KStmt *s) {
  DType dt = k_buf(f, s->buf)->dtype;
  int size = ir_dtype_size(dt);
  if (dt == DT_BOOL || t->vector_bytes < 2 * size || !k_store_flat(f, s) || !vector_loads(f, s, s->value, size))
    return 0;
  return t->vector_bytes / size;
}

/* Whether some load of e is transposed (*tr, the first one met) and every
 * load is that one, a scalar or at the store's point. */
static bool tile_loads(const KStmt *s, const KExpr *e, const KExpr **tr) {
  if (e->kind == KX_LOAD) {
    if (k_load_transposed(s, e)) {
      if (!*tr)
        *tr = e;
      return k_expr_eq(*tr, e);
    }
    return k_expr_invariant(s, e) || k_load_at_store(e, s);
  }
  for (int i = 0; i < e->nargs; i++)
    if (!tile_loads(s, e->args[i], tr))
      return false;
  return true;
}

/* An elementwise kernel to run as a tiled transpose (file comment). */
static bool tiled(const KStmt *s) {
  int n = s->nloops;
  int64_t c;
  if (s->nred || n < 2)
    return false;
  for (int i = n - 2; i < n; i++)
    if (dim_is_const(s->extent[i], &c) && c == 1) /* a transpose of a vector is a copy */
      return false;
  const KExpr *tr = NULL;
  return tile_loads(s, s->value, &tr) && tr;
}

static void gpu_kernel(const Target *t, KFunc *f, KStmt *s) {
  int n = s->nloops, nout = n - s->nred;
  s->device = true;
  s->lanes = 0;
  s->block = sum_block(t, s);
  set_all(s, 0, n, KL_SERIAL);
  if (nout > 0 && !independent(s, nout))
    return; /* one thread, in order */
  if (s->nred == 0 && tiled(s)) {
    set_all(s, 0, n - 2, KL_GPU_BLOCK);
    set_all(s, n - 2, n, KL_GPU_TILE);
    return;
  }
  if (s->nred == 0) {
    set_all(s, 0, n, KL_GPU_GRID);
    s->lanes = vector_map(t, f, s);
    return;
  }
  if (nout == 0) {
    set_all(s, 0, n, KL_GPU_GRID);
    return;
  }
  int64_t row = 1, c;
  bool known = true;
  for (int i = nout; i < n; i++)
    if (dim_is_const(s->extent[i], &c))
      row *= c;
    else
      known = false;
  if (known && row < SHORT_ROW) {
    set_all(s, 0, nout, KL_GPU_GRID);
    return;
  }
  set_all(s, 0, nout, KL_GPU_BLOCK);
  set_all(s, nout, n, KL_GPU_THREAD);
}

static void gpu_list(const Target *t, KFunc *f, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    switch (s->kind) {
    case KS_KERNEL: gpu_kernel(t, f, s); break;
    case KS_FOR:
      if (s->rows) {
        s->device = true;
        s->lkind[0] = KL_GPU_BLOCK;
        for (int k = 0; k < s->body.n; k++)
          gpu_stage(t, s->body.v[k]);
      } else {
        s->lkind[0] = KL_SERIAL;
        gpu_list(t, f, &s->body);
      }
      break;
    case KS_IF:
      gpu_list(t, f, &s->body);
      gpu_list(t, f, &s->orelse);
      break;
    default: break;
    }
  }
}

bool pass_schedule(KModule *m) {
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    if (m->target->kind == TGT_CUDA)
      gpu_list(m->target, f, &f->body);
    else
      cpu_list(m->target, f, &f->body, false, false);
  }
  m->scheduled = true;
  return true;
}
