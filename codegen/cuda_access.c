/* codegen/cuda_access.c - elementwise kernels shaped by how they walk memory.
 *
 * The schedule pass (passes/schedule.c) marks two kinds of elementwise
 * kernel whose global memory traffic the plain grid-stride loop of
 * cuda_kernel.c would waste; this file writes them.
 *
 * A vector map (`gpu_grid.vN` on the innermost loop, KStmt.lanes = N): a
 * plain map whose every per-point load is contiguous with its store
 * (k_load_contiguous: element p + c at point p), of 4- or 8-byte
 * elements, so N neighbouring points are one 16-byte access of each
 * buffer:
 *   1. each contiguous load's base pointer: its element at point 0 (the
 *      buffer itself, or a slice's first element);
 *   2. head: the points before the output is 16-byte aligned; the vectors
 *      start there when every pointer is then aligned too (checked at run
 *      time, `((unsigned long long)ptr & 15) == 0`: a slice may start
 *      anywhere), else there are none (nvec = 0);
 *   3. the vector loop, grid-stride over the groups of N points: one
 *      TC_VLOAD (cuda_prelude.cuh) per buffer, the kernel's SSA code once
 *      per lane, each in a block with the same names, each load replaced
 *      by its lane (Cu.subst_load): the same operations on the same
 *      values, so the same bits as one point at a time; one TC_VSTORE;
 *   4. the scalar loop over the rest: the head and the tail (every point
 *      when unaligned), as an ordinary points kernel computes them.
 * Loads of the same element at every point (a scalar) stay scalar reads.
 *
 * A tiled transpose (the two innermost loops `gpu_tile`, the others
 * `gpu_block`): out[..., a, b] = f(in[..., b, a]).  Read point by point, a
 * warp's threads (neighbouring b) would read `in` a row apart.  Instead a
 * block takes a CG_TILE x CG_TILE tile of (a, b) (grid-stride over the
 * tiles, the gpu_block loops' points included):
 *   1. its warps read the tile's rows of `in` along in's last dim (a) into
 *      shared memory, one element a thread per row;
 *   2. __syncthreads();
 *   3. they write out's rows along out's last dim (b), each thread
 *      evaluating f at its point with the load replaced by its element of
 *      the tile (the other loads, scalars or at the store's point, read
 *      global memory along b too);
 *   4. __syncthreads() before the next tile overwrites this one.
 * The tile has a column of padding (CG_TILE + 1 wide), so that the 32
 * threads of a warp reading one column of it hit 32 different banks.
 */
#include "cuda_internal.h"

#include <string.h>

#define LINE(...) cg_cuda_line(C, __VA_ARGS__)

/* ---- the vector map ---- */

/* The CUDA vector type of 16 bytes of dt's elements. */
static const char *vec_type(const KStmt *s, DType dt) {
  switch (dt) {
  case DT_F32: return "float4";
  case DT_I32: return "int4";
  case DT_F64: return "double2";
  case DT_I64: return "longlong2";
  default: ir_die(s->loc, "cuda: 128-bit accesses to %s elements", ir_dtype_name(dt));
  }
}

/* The distinct loads of e that the vector loop reads as vectors (the
 * contiguous ones) into v; dies on what a vector loop cannot compute. */
static void vector_loads(Cu *C, const KStmt *s, const KExpr *e, PtrVec *v) {
  if (e->kind == KX_LOAD) {
    if (k_expr_invariant(s, e)) /* a scalar: read as it is, in every lane */
      return;
    if (!k_load_contiguous(C->f, s, e, NULL))
      ir_die(s->loc, "cuda: a vector map reads %s elsewhere than at its points (schedule?)",
             k_buf(C->f, e->buf)->name);
    for (int i = 0; i < v->n; i++)
      if (k_expr_eq(v->v[i], e))
        return;
    ir_vec_push(v, (void *)e);
    return;
  }
  if (e->kind == KX_VAR && !k_expr_invariant(s, e))
    ir_die(s->loc, "cuda: a vector map reads loop variable i%d (schedule?)", e->var);
  for (int i = 0; i < e->nargs; i++)
    vector_loads(C, s, e->args[i], v);
}

static bool all_zero(KExpr **idx, int n) {
  for (int i = 0; i < n; i++)
    if (idx[i]->kind != KX_CONST || idx[i]->ival != 0)
      return false;
  return true;
}

void cg_cuda_emit_vector_map(Cu *C, const KStmt *s) {
  KFunc *f = C->f;
  int n = s->nloops, lanes = s->lanes;
  DType odt = k_buf(f, s->buf)->dtype;
  int size = ir_dtype_size(odt);
  const char *vt = vec_type(s, odt), *out = cg_cuda_buf_name(f, s->buf);
  if (!k_store_flat(f, s) || lanes * size != 16)
    ir_die(s->loc, "cuda: %d lanes of a kernel that is not a map of %d-byte elements (schedule?)", lanes,
           size);
  PtrVec loads = {0};
  vector_loads(C, s, s->value, &loads);
  int nl = loads.n;
  const char **ptr = ir_alloc(sizeof(char *) * (size_t)(nl + 1)),
             **w = ir_alloc(sizeof(char *) * (size_t)(nl + 1));
  const char **text = ir_alloc(sizeof(char *) * (size_t)(nl + 1));

  LINE("const long long work = %s;", cg_cuda_product(s->extent, n));
  LINE("// %d points a time by 128-bit accesses where every pointer is 16-byte aligned at one point", lanes);
  /* 1. the base pointers */
  for (int i = 0; i < nl; i++) {
    const KExpr *ld = loads.v[i];
    KExpr **base;
    k_load_contiguous(f, s, ld, &base);
    DType lt = k_buf(f, ld->buf)->dtype;
    if (ir_dtype_size(lt) != size || lt == DT_BOOL)
      ir_die(s->loc, "cuda: a vector map of %s elements reads %s ones (schedule?)", ir_dtype_name(odt),
             ir_dtype_name(lt));
    w[i] = ir_sprintf("w%d", i + 1);
    if (all_zero(base, ld->nargs)) {
      ptr[i] = cg_cuda_buf_name(f, ld->buf);
      continue;
    }
    ptr[i] = ir_sprintf("a%d", i + 1);
    const char *first = cg_cuda_elem(C, ld->buf, base, ld->nargs, ld->linear);
    LINE("const %s *const %s = &%s; /* the element point 0 reads */", cg_cuda_mem_type(lt), ptr[i], first);
  }
  /* 2. where the vectors start, if they can */
  LINE("// head: the points before %s is 16-byte aligned", out);
  LINE("long long head = (long long)((16 - ((unsigned long long)%s & 15)) & 15) / %d;", out, size);
  LINE("if (head > work)");
  LINE("  head = work;");
  LINE("long long nvec = (work - head) / %d;", lanes);
  const char *ored = ir_sprintf("(unsigned long long)(%s + head)", out);
  for (int i = 0; i < nl; i++)
    if (strcmp(ptr[i], out) != 0)
      ored = ir_sprintf("%s | (unsigned long long)(%s + head)", ored, ptr[i]);
  LINE("if (((%s) & 15) != 0)", ored);
  LINE("  nvec = 0; /* not all aligned at the same point: one point a time */");
  /* 3. the vectors */
  LINE("for (long long g = %s; g < nvec; g += %s) {", CG_GRID_START, CG_GRID_STRIDE);
  C->depth++;
  LINE("const long long p = head + g * %d;", lanes);
  for (int i = 0; i < nl; i++) {
    const char *lvt = vec_type(s, k_buf(f, ((const KExpr *)loads.v[i])->buf)->dtype);
    LINE("const %s %s = TC_VLOAD(%s, %s + p);", lvt, w[i], lvt, ptr[i]);
  }
  const char *outs = "";
  for (int l = 0; l < lanes; l++)
    outs = ir_sprintf("%s%sout%d", outs, l ? ", " : "", l);
  LINE("%s %s;", cg_cuda_type(odt), outs);
  /* each lane in a block of its own, with the same names: the same code
   * but for the lane it reads */
  C->subst_load = (const KExpr *const *)loads.v;
  C->subst_text = text;
  int ntemp = C->ntemp, top = ntemp, nlets = f->nlets + 1;
  bool *taken = ir_alloc((size_t)nlets);
  memcpy(taken, C->let_taken, (size_t)nlets);
  for (int l = 0; l < lanes; l++) {
    LINE("{ // point p + %d", l);
    C->depth++;
    C->ntemp = ntemp;
    memcpy(C->let_taken, taken, (size_t)nlets);
    for (int i = 0; i < nl; i++)
      text[i] = ir_sprintf("%s.%c", w[i], "xyzw"[l]);
    C->nsubst = nl;
    LINE("out%d = %s;", l, cg_cuda_convert(cg_cuda_expr(C, s->value), s->value->dtype, odt));
    cg_cuda_close(C);
    top = C->ntemp > top ? C->ntemp : top;
  }
  C->nsubst = 0;
  LINE("TC_VSTORE(%s, %s + p, make_%s(%s));", vt, out, vt, outs);
  cg_cuda_close(C);
  /* 4. the rest */
  LINE("// the points before and after the vectors (all of them when unaligned), one a time");
  LINE("const long long rest = work - nvec * %d;", lanes);
  LINE("for (long long j = %s; j < rest; j += %s) {", CG_GRID_START, CG_GRID_STRIDE);
  C->depth++;
  LINE("const long long p = j < head ? j : j + nvec * %d;", lanes);
  cg_cuda_flat_vars(C, n, s->loopvar, s->extent, "p");
  C->ntemp = ntemp; /* the lanes' names again: the same code, reading memory */
  memcpy(C->let_taken, taken, (size_t)nlets);
  cg_cuda_store(C, s, cg_cuda_expr(C, s->value), s->value->dtype);
  cg_cuda_close(C);
  C->ntemp = C->ntemp > top ? C->ntemp : top;
}

/* ---- the tiled transpose ---- */

static const KExpr *transposed(const KStmt *s, const KExpr *e) {
  if (k_load_transposed(s, e))
    return e;
  for (int i = 0; i < e->nargs; i++) {
    const KExpr *t = transposed(s, e->args[i]);
    if (t)
      return t;
  }
  return NULL;
}

void cg_cuda_emit_tile(Cu *C, const KStmt *s) {
  int n = s->nloops, T = CG_TILE;
  const KExpr *tr = transposed(s, s->value);
  if (!tr)
    ir_die(s->loc, "cuda: a gpu_tile kernel without a transposed load (schedule?)");
  int va = s->loopvar[n - 2], vb = s->loopvar[n - 1]; /* out[..., a, b] = f(in[..., b, a]) */
  const char *A = cg_cuda_dim(s->extent[n - 2]), *B = cg_cuda_dim(s->extent[n - 1]);
  LINE("__shared__ %s tile[%d][%d]; /* tile[b][a] of in; a column of padding: a column is in 32 banks */",
       cg_cuda_mem_type(k_buf(C->f, tr->buf)->dtype), T, T + 1);
  LINE("const long long ntile_a = (%s + %d) / %d, ntile_b = (%s + %d) / %d;", A, T - 1, T, B, T - 1, T);
  if (n > 2)
    LINE("const long long tiles = %s * ntile_a * ntile_b;", cg_cuda_product(s->extent, n - 2));
  else
    LINE("const long long tiles = ntile_a * ntile_b;");
  LINE("const int tx = threadIdx.x %% %d, ty = threadIdx.x / %d, ty_step = blockDim.x / %d;", T, T, T);
  LINE("for (long long r = blockIdx.x; r < tiles; r += gridDim.x) {");
  C->depth++;
  LINE("const long long tile_a = r / ntile_b %% ntile_a * %d, tile_b = r %% ntile_b * %d;", T, T);
  if (n > 2) {
    LINE("const long long outer = r / (ntile_a * ntile_b);");
    cg_cuda_flat_vars(C, n - 2, s->loopvar, s->extent, "outer");
  }
  /* 1. read along in's last dim (a) */
  LINE("for (int k = ty; k < %d; k += ty_step) {", T);
  C->depth++;
  LINE("const long long i%d = tile_a + tx, i%d = tile_b + k;", va, vb);
  LINE("if (i%d < %s && i%d < %s) {", va, A, vb, B);
  C->depth++;
  LINE("tile[k][tx] = %s;", cg_cuda_elem(C, tr->buf, tr->args, tr->nargs, false));
  cg_cuda_close(C);
  cg_cuda_close(C);
  LINE("__syncthreads();");
  /* 3. write along out's last dim (b) */
  LINE("for (int k = ty; k < %d; k += ty_step) {", T);
  C->depth++;
  LINE("const long long i%d = tile_a + k, i%d = tile_b + tx;", va, vb);
  LINE("if (i%d < %s && i%d < %s) {", va, A, vb, B);
  C->depth++;
  const char *elem = "tile[tx][k]";
  C->subst_load = &tr;
  C->subst_text = &elem;
  C->nsubst = 1;
  cg_cuda_store(C, s, cg_cuda_expr(C, s->value), s->value->dtype);
  C->nsubst = 0;
  cg_cuda_close(C);
  cg_cuda_close(C);
  LINE("__syncthreads(); /* all have read the tile: the next may overwrite it */");
  cg_cuda_close(C);
}
