/* passes/lower_internal.h - private to the lower pass (lower.c, lower_ops.c,
 * lower_index.c): the state of lowering one graph function.
 */
#ifndef TENSORC_LOWER_INTERNAL_H
#define TENSORC_LOWER_INTERNAL_H

#include "../ir/kernel.h"
#include "passes.h"

/* What a graph value became. */
typedef struct LVal {
  int buf;          /* its buffer, or -1 */
  KExpr *scalar;    /* or an inline scalar expression (constants, dims, loop indices) */
  bool owned;       /* the buffer belongs to the block that defined the value */
  int *tuple;       /* FOR, IF: the buffers of the results */
  int root;         /* the buffer whose pointer this one shares (itself if none) */
} LVal;

typedef struct LCtx {
  KModule *km;
  KFunc *f;
  IrModule *gm;
  KList *out;       /* where statements go */
  PtrVec owned;     /* buffers (int as void*) owned by the current block */
  bool *symset;     /* symbols with a run-time value already */
  int nsyms;
  bool failed;
} LCtx;

/* lower.c */
LVal *lw_val(LCtx *C, IrNode *n);                    /* what n became (dies if not lowered) */
int lw_new_buf(LCtx *C, IrNode *n, const char *name, DType dt, int rank, const Dim *dims);
int lw_alloc(LCtx *C, IrNode *n);                    /* an owned buffer of n's type, allocated */
int lw_buffer(LCtx *C, IrNode *v);                   /* v as a buffer (materialises scalars) */
KExpr *lw_scalar(LCtx *C, IrNode *v);                /* v (rank 0) as an expression */
void lw_emit(LCtx *C, KStmt *s);
void lw_set(LCtx *C, IrNode *n, int buf, bool owned);
void lw_set_scalar(LCtx *C, IrNode *n, KExpr *e);
int lw_new_var(LCtx *C);
void lw_bind_sym(LCtx *C, Dim d, KExpr *value, Loc loc); /* sets d's symbol if d is an unset bare symbol */
void lw_check(LCtx *C, KExpr *cond, Loc loc, const char *msg);

/* lower_ops.c: one kernel (or call) per op */
/* v's element for an output index `idx` of rank `rank`, broadcasting. */
KExpr *lw_elem(LCtx *C, IrNode *v, int rank, KExpr **idx, DType as);
/* A map kernel: out[vars] = value, loops over out's dims. Returns vars. */
KStmt *lw_map_kernel(LCtx *C, int out, Loc loc, KExpr ***vars);
void lw_copy_into(LCtx *C, int dst, int src, Loc loc); /* same numel, flat copy */
bool lw_op(LCtx *C, IrNode *n);                       /* elementwise, reductions, creation, movement, linalg */

/* lower_index.c */
bool lw_index(LCtx *C, IrNode *n); /* INDEX, INDEX_SET, BATCH */

KExpr *lw_i64op(IrOp op, KExpr *a, KExpr *b);

#endif
