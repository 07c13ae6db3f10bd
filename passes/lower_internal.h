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
  bool deferred;    /* IR_FUSE_INLINE: no buffer; lw_at recomputes it at the indices asked */
  bool pending;     /* IR_FUSE_FINALIZE: not lowered yet; its consumer's kernel computes it */
} LVal;

/* A row kernel being built (IR_FUSE_ROW): its loops over the row dims and
 * how many of its stages are still to come; emitted with the last one. */
typedef struct LRow {
  KStmt *outer, *inner; /* the outermost and innermost `rows` loops */
  int p;                /* row dims */
  KExpr *idx[IR_MAX_RANK]; /* their loop variables */
  int remaining;
} LRow;

typedef struct LCtx {
  KModule *km;
  KFunc *f;
  IrModule *gm;
  KList *out;       /* where statements go */
  PtrVec owned;     /* buffers (int as void*) owned by the current block */
  bool *symset;     /* symbols with a run-time value already */
  int nsyms;
  bool failed;
  IrBlock *block;   /* the graph block being lowered */
  /* Lowering a stage of a row kernel: statements go to the row loop's
   * body (out), allocations before the loop (allocs); map and reduction
   * kernels take their first nrow indices from the row loops (rowidx). */
  KList *allocs;    /* NULL: allocations go to out */
  int nrow;
  KExpr **rowidx;
  PtrVec rows;      /* LRow*, by group id - 1 */
  PtrVec arith_checked; /* integer // % ** whose run-time check is emitted (lower_arith.c) */
  PtrVec gathers_checked; /* index tensors checked against an axis size, per block (lower_index.c) */
  bool input_checks; /* lowering the arguments: a check made is of the caller's input (`check.input`) */
  /* LVal*: values given a buffer where first used as one (lw_buffer: an
   * inline scalar, a deferred value); an if's branch or a loop's body
   * forgets those it made, since the buffer is its own (freed at its end) */
  PtrVec made;
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
void lw_emit_alloc(LCtx *C, int buf, Loc loc);          /* KS_ALLOC, before a row loop being built */
void lw_bind_sym(LCtx *C, Dim d, KExpr *value, Loc loc); /* sets d's symbol if d is an unset bare symbol */
void lw_check(LCtx *C, KExpr *cond, Loc loc, const char *msg);
/* A run-time warning: msg printed once a run, with the .tc line, when cond is false. */
void lw_warn(LCtx *C, KExpr *cond, Loc loc, const char *msg);
/* A check whose message `fmt` formats the i64 values (%lld) when it fails. */
void lw_check_values(LCtx *C, KExpr *cond, Loc loc, const char *fmt, int n, KExpr **values);

bool lw_dim_known(LCtx *C, Dim d); /* every symbol of d has a run-time value */

/* lower_sizes.c: before an op that turns values into sizes (zeros(n),
 * reshape(x, n, -1)) allocates or loops, checks that its sizes are not
 * negative and its byte count is at most IR_MAX_TENSOR_BYTES. */
void lw_check_sizes(LCtx *C, IrNode *n);
/* cond is integer arithmetic on constants that holds: no check needed. */
bool lw_always_true(const KExpr *cond);
/* Before n's buffer is allocated: its byte count within the limit when it
 * may be larger than every operand (a broadcast product, matmul, cat). */
void lw_check_alloc(LCtx *C, IrNode *n);

/* lower_ops.c: one kernel (or call) per op */
/* v's element for an output index `idx` of rank `rank`, broadcasting. */
KExpr *lw_elem(LCtx *C, IrNode *v, int rank, KExpr **idx, DType as);
/* v's element at its own index idx[v's rank]: a load, or v's expression
 * when fusion inlined it (recursively), in v's dtype. */
KExpr *lw_at(LCtx *C, IrNode *v, KExpr **idx);
/* A one-element buffer NAME (rdt) that a kernel, emitted here for node n,
 * fills with the reduction `combine` of value(element, arg) over t's
 * elements (the run-time checks of gathers, divisors and exponents). */
int lw_reduce_elements(LCtx *C, IrNode *n, IrNode *t, const char *name, DType rdt, IrOp combine,
                       KExpr *(*value)(KExpr *elem, const void *arg), const void *arg);
/* An inlined value's expression at its own index idx. */
KExpr *lw_deferred(LCtx *C, IrNode *n, KExpr **idx);
bool lw_can_defer(LCtx *C, IrNode *n);
/* A map kernel: out[vars] = value, loops over out's dims. Returns vars. */
KStmt *lw_map_kernel(LCtx *C, int out, Loc loc, KExpr ***vars);
void lw_copy_into(LCtx *C, int dst, int src, Loc loc); /* same numel, flat copy */
bool lw_op(LCtx *C, IrNode *n);                       /* elementwise, reductions, creation, movement, linalg */

/* lower_arith.c: before a kernel computing integer n = a // b, a % b or
 * a ** b, the warning that b holds a zero (NumPy's RuntimeWarning), or the
 * error that b holds a negative exponent. */
void lw_check_int_arith(LCtx *C, IrNode *n);

/* lower_rows.c: a costly expression that a row kernel's last stage and
 * an earlier reduction stage share, computed once into the output row. */
void lw_share_row_values(LCtx *C, KList *stages);
/* ... and a division by a row value, a multiplication by its reciprocal. */
void lw_row_reciprocals(KList *stages);

/* lower_index.c */
bool lw_index(LCtx *C, IrNode *n); /* INDEX, INDEX_SET, BATCH */
bool lw_dist(LCtx *C, IrNode *n);  /* rank, world_size, all_reduce_*, broadcast (lower_dist.c) */
KExpr *lw_gather_at(LCtx *C, IrNode *n, KExpr **idx); /* an inlined pure gather x[t1, t2] at idx */
KExpr *lw_row_set_at(LCtx *C, IrNode *n, KExpr **idx); /* x[arange(N), t] = v (or +=) at idx */

KExpr *lw_i64op(IrOp op, KExpr *a, KExpr *b);

#endif
