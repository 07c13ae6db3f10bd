/* passes/row_kernel.h - what the CPU's row-kernel passes (exp_once.c,
 * row_scratch.c) share: finding a top-level row kernel and telling which
 * of its stages touch a buffer's row. */
#ifndef TENSORC_PASSES_ROW_KERNEL_H
#define TENSORC_PASSES_ROW_KERNEL_H

#include <stdbool.h>

#include "../ir/kernel.h"

/* A row kernel: the innermost of a chain of rows loops, whose body is
 * stages only, and the chain's variables, outermost first.  A row of a
 * buffer is B[var[0], ..., var[n-1], ...]. */
typedef struct Rows {
  KStmt *loop;
  int var[IR_MAX_RANK];
  int n;
} Rows;

/* s is a top-level row kernel: a rows loop whose body is stages only, or
 * a chain of rows loops, each the only statement of the one around it,
 * down to such a body.  Fills *r. */
bool row_kernel(KStmt *s, Rows *r);

/* Indices idx[0..n-1] are the rows variables. */
bool at_row(KExpr *const *idx, const Rows *r);

/* Stage s writes the row of its buffer whole: it is elementwise and
 * stores B[i..., j1, ..., jn], i the rows variables, j1..jn its own loops
 * in order, over extents equal to B's other dims. */
bool writes_row(KFunc *f, const KStmt *s, const Rows *r);

/* Buffer b is one of f's own (allocated once, not a result) that nothing
 * outside row kernel r (its innermost loop) reads or writes. */
bool private_to(KFunc *f, const KStmt *r, int b);

#endif
