/* codegen/cuda_internal.h - what the CUDA C emitter's files share.
 *
 * cuda_kernel.c writes the module: the prelude, one or two __global__
 * functions per device statement (loops, reductions, launches), the
 * emulator's trampolines and table; cuda_access.c the kernels shaped by
 * how they walk memory (the 128-bit elementwise loop, the tiled
 * transpose); cuda_expr.c writes the scalar part:
 * types, constants, dimensions, element addresses and the kernel IR's
 * expressions as C locals.  The state of the kernel being written is one
 * Cu, passed to everything.  Not part of codegen.h: nothing outside
 * codegen/ uses these.
 */
#ifndef TENSORC_CUDA_INTERNAL_H
#define TENSORC_CUDA_INTERNAL_H

#include "cg_cuda.h"
#include "codegen.h"

#include <stdio.h>

/* codegen/cuda_prelude.cuh, embedded at build time (cmake/embed.cmake). */
extern const char cg_cuda_prelude_text[];

typedef struct Cu {
  KModule *m;
  KFunc *f;     /* the function whose device statement is being written */
  FILE *o;      /* the module's text (a memory stream) */
  int depth;    /* indentation, in steps of two spaces */
  int ntemp;    /* locals v1, v2, ... of the kernel being written */
  /* let-variables (KX_LET): the bound expression until first used, then
   * the local holding its value; per kernel, which tN names are taken */
  KExpr **let_expr;
  const char **let_name;
  bool *let_taken;
  const bool *var_read; /* by loop variable: read by the statement being written */
  /* inside a reduction's finalize: the accumulator (KX_ACC, of acc_dtype)
   * and the argmax/argmin index (KX_ACC_INDEX) */
  const char *acc, *acc_index;
  DType acc_dtype;
  /* loads written as given text instead of a global read (k_expr_eq):
   * a lane of a vector load, an element of a transpose's tile */
  const KExpr *const *subst_load;
  const char *const *subst_text;
  int nsubst;
} Cu;

/* One line of the kernel at the current depth (printf-style, no newline);
 * cg_cuda_close ends the innermost block (`}`, one step out). */
void cg_cuda_line(Cu *C, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cg_cuda_close(Cu *C);

/* ---- cuda_expr.c ---- */

/* C types: a value (bool is an int 0/1) and an element in memory (bool is
 * an unsigned char). */
const char *cg_cuda_type(DType dt);
const char *cg_cuda_mem_type(DType dt);
/* Parameter names: buffers b<N>_<name>, symbols s<id>_<name>; loop
 * variables are i<N> everywhere. */
const char *cg_cuda_buf_name(const KFunc *f, int buf);
const char *cg_cuda_sym_name(int sym);
/* A dimension's value as a long long expression ("64", "s3_B", "(2 * s3_B + 1)"). */
const char *cg_cuda_dim(Dim d);
/* Constants of a dtype: exact (hex floats, inf and NaN by their bits). */
const char *cg_cuda_const(DType dt, double fval, int64_t ival);
/* v (of dtype from) as dtype to: NumPy's astype. */
const char *cg_cuda_convert(const char *v, DType from, DType to);
/* Emits the locals that compute e and returns an operand: a local, a
 * literal or a parameter, safe inside any C expression. */
const char *cg_cuda_expr(Cu *C, KExpr *e);
/* buf[idx...] as an lvalue (the flat offset in long long, C order). */
const char *cg_cuda_elem(Cu *C, int buf, KExpr **idx, int nidx, bool linear);
/* Emits the store of v (of dtype vdt) into s's output element. */
void cg_cuda_store(Cu *C, const KStmt *s, const char *v, DType vdt);
/* Forgets the let-variables' bindings and names (a new kernel). */
void cg_cuda_reset_lets(Cu *C);

/* ---- cuda_kernel.c ---- */

/* A grid-stride loop's first point and stride: every thread of the grid. */
#define CG_GRID_START "blockIdx.x * (long long)blockDim.x + threadIdx.x"
#define CG_GRID_STRIDE "(long long)gridDim.x * blockDim.x"

/* The product of n extents as a long long expression. */
const char *cg_cuda_product(const Dim *ext, int n);
/* Opens `for (long long P = start; P < bound; P += stride) {` over the
 * flattened loops vars[0..n) of extents ext[] (bound NULL: the product of
 * the extents) and defines each loop variable from P (cg_cuda_flat_vars).
 * A single loop runs its own variable.  Returns the flat counter. */
const char *cg_cuda_flat_open(Cu *C, int n, const int *vars, const Dim *ext, const char *p, const char *start,
                              const char *bound, const char *stride);
/* Defines each loop variable vars[i] that the statement reads from the
 * flat index p of the loops, innermost fastest (C order). */
void cg_cuda_flat_vars(Cu *C, int n, const int *vars, const Dim *ext, const char *p);

/* ---- cuda_access.c ---- */

/* The side of a transpose's tile: a warp reads one of its rows. */
enum { CG_TILE = 32 };
/* An elementwise kernel with s->lanes: the vector loop and the scalar
 * one for the points around it. */
void cg_cuda_emit_vector_map(Cu *C, const KStmt *s);
/* A kernel whose two innermost loops are gpu_tile: the tiled transpose. */
void cg_cuda_emit_tile(Cu *C, const KStmt *s);

/* ---- cuda_reduce.c ---- */

typedef struct CgRed {
  IrOp op;  /* the combine op */
  DType dt; /* the accumulator's dtype */
  bool arg; /* argmax/argmin: an index (acci) too */
  int block; /* a float sum: a thread's elements in blocks of this many, summed in f64 (KStmt.block) */
} CgRed;

CgRed cg_cuda_red_of(const KStmt *s);
/* `T acc = identity;` (and `long long acci = TC_NO_INDEX;`). */
void cg_cuda_red_decl(Cu *C, const CgRed *r);
/* acc = combine(acc, v); argmax/argmin: v at index vi. */
void cg_cuda_red_step(Cu *C, const CgRed *r, const char *v, const char *vi);
/* A thread folding its own elements into acc (declared): `double total`
 * for a sum in blocks; fold s's value at index vi (in blocks); then acc =
 * total + acc, rounded once. */
void cg_cuda_fold_begin(Cu *C, const CgRed *r);
void cg_cuda_fold(Cu *C, const KStmt *s, const CgRed *r, const char *vi);
void cg_cuda_fold_end(Cu *C, const CgRed *r);
/* s's value as the accumulator's dtype. */
const char *cg_cuda_red_value(Cu *C, const KStmt *s, const CgRed *r);
/* Every thread's acc (and acci) becomes the block's. */
void cg_cuda_block_reduce(Cu *C, const CgRed *r);
/* Stores s's `finalize` of the accumulator (or the accumulator). */
void cg_cuda_red_finish(Cu *C, const KStmt *s, const CgRed *r);
/* cg_cuda_block_reduce, then thread 0 stores (cg_cuda_red_finish). */
void cg_cuda_block_finish(Cu *C, const KStmt *s, const CgRed *r);
/* The __shared__ arrays and warp numbers the block reductions of reds need. */
void cg_cuda_red_shared(Cu *C, const KStmt *const *reds, int n);

#endif
