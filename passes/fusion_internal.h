/* passes/fusion_internal.h - what the fusion pass (fusion.c) shares with
 * its report (fusion_report.c): the facts it keeps about each node while
 * it decides, numbered through IrNode.mark between fusion_prepare and
 * fusion_finish. */
#ifndef TENSORC_FUSION_INTERNAL_H
#define TENSORC_FUSION_INTERNAL_H

#include "passes.h"

typedef struct FNode {
  IrNode *n;
  IrBlock *block;
  int pos;        /* index in its block; -1 for arguments and block params */
  PtrVec users;   /* distinct nodes that read it */
  double evals;   /* INLINE: evaluations of each element per run */
  bool scalar;    /* lowered as an inline scalar expression (no kernel at all) */
  int group;      /* row group index + 1 while grouping, 0 none */
  bool written;   /* dump: its write was already counted as saved */
} FNode;

/* The facts about n (numbered by fusion_prepare). */
FNode *fusion_info(IrNode *n);
/* Numbers f's nodes and computes users and scalars; fusion_finish clears
 * the numbering. */
void fusion_prepare(IrFunc *f);
void fusion_finish(IrFunc *f);
/* u reads only its operand's shape (x.shape[0], zeros_like(x)). */
bool fusion_shape_only(IrNode *u);
/* The lowering makes u one library call (a matmul, a dot of matrices). */
bool fusion_gemm_call(IrNode *u);
/* A reduction over axes [p, rank) of its input, p >= 1: p, else 0. */
int fusion_trailing_reduce(IrNode *n);
/* The number of elements of t. */
Dim fusion_numel(const IrType *t);

#endif
