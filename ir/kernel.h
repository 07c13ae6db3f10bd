/* ir/kernel.h - the kernel IR: what the code generators read.
 *
 * A kernel function is a list of statements over buffers.  The work is
 * done by *kernels*: one loop nest over index variables that evaluates a
 * scalar expression (loads of buffers at index expressions, constants,
 * scalar math) and stores it into a buffer, optionally reducing over the
 * innermost loops.  Everything else is a statement: allocation, freeing,
 * runtime calls (BLAS, RNG, I/O, printing), run-time checks, setting a
 * dimension symbol, and structured `for` / `if` over statement lists.
 *
 * Buffers are variables holding a pointer to dense C-order data whose
 * shape is given by dimension expressions over symbols; symbols are i64
 * variables set at run time.  The lowering (passes/lower.c) makes one
 * kernel per fused group (passes/fusion.c): a producer computed inside its
 * consumer replaces the consumer's load by the producer's expression,
 * which is why a kernel's value is an expression tree rather than a
 * sequence of instructions; a row kernel is a `for` marked `rows` whose
 * body is one kernel (stage) per row-wise step.
 */
#ifndef TENSORC_KERNEL_H
#define TENSORC_KERNEL_H

#include "ir.h"

/* ---- scalar and index expressions ---- */

typedef enum KExprKind {
  KX_CONST,  /* fval/ival of dtype */
  KX_VAR,    /* loop variable `var` (i64) */
  KX_SYM,    /* the run-time value of dimension symbol `sym` (i64) */
  KX_DIM,    /* a dimension expression `dim` evaluated at run time (i64) */
  KX_LOAD,   /* buf[idx...] (or buf[linear] when `linear`) */
  KX_OP,     /* op (a graph IR elementwise op: IR_ADD, IR_EXP, ...) of args */
  KX_CAST,   /* args[0] converted to dtype */
  KX_ACC,    /* the reduction's accumulator (in a kernel's `finalize`) */
  KX_ACC_INDEX, /* ARGMAX/ARGMIN: the flat index of the best element */
  KX_ARG_DIM,   /* args[buf].shape[ival] of the function's argument `buf` (i64) */
} KExprKind;

typedef struct KExpr KExpr;
struct KExpr {
  KExprKind kind;
  DType dtype;
  IrOp op;
  double fval;
  int64_t ival;
  int var, sym, buf;
  Dim dim;
  bool linear;   /* KX_LOAD: one flat index */
  int nargs;     /* KX_OP: operands; KX_LOAD: indices */
  KExpr **args;
};

/* ---- buffers ---- */

typedef enum KBufKind {
  KB_TEMP,  /* allocated by this function */
  KB_ARG,   /* an argument: borrowed */
  KB_PARAM, /* a param read: borrowed from the context */
} KBufKind;

typedef struct KBuf {
  const char *name; /* the graph value's name, for dumps */
  DType dtype;
  int rank;
  Dim dims[IR_MAX_RANK];
  KBufKind kind;
  int index; /* KB_ARG: argument number; KB_PARAM: param number */
} KBuf;

/* ---- statements ---- */

typedef enum KStmtKind {
  KS_KERNEL,  /* loops, value, store (see Kernel) */
  KS_ALLOC,   /* buf = a new zeroed buffer of its shape */
  KS_FREE,    /* free buf unless it is one of `keep` (compared at run time) */
  KS_MOVE,    /* buf = src (pointer copy: carried values, results) */
  KS_SETSYM,  /* sym = value (an i64 expression) */
  KS_CHECK,   /* if !cond: fail with message (a run-time error) */
  KS_CALL,    /* a runtime call, see KCallKind */
  KS_FOR,     /* for var in [start, stop) step: body */
  KS_IF,      /* if cond: body else orelse */
} KStmtKind;

typedef enum KCallKind {
  KC_MATMUL,  /* bufs: a, b, out; ints: batch, m, n, k, stride_a, stride_b, stride_c (KExprs),
               * optionally offset_a, offset_c: elements of a and out skipped (a block of rows) */
  KC_RAND,    /* bufs: out (rand/randn/randint/randperm: `op`); exprs: lo, hi for randint */
  KC_SEED,    /* exprs: the seed */
  KC_PRINT,   /* pieces: strs (NULL = next buffer); bufs: values */
  KC_SAVE,    /* str path; bufs: value */
  KC_PARAM_STORE, /* index = param number; bufs: value (ownership moves to the context) */
} KCallKind;

typedef struct KStmt KStmt;
typedef struct KList {
  KStmt **v;
  int n, cap;
} KList;

struct KStmt {
  KStmtKind kind;
  Loc loc;
  int buf;             /* ALLOC, FREE, MOVE (destination), SETSYM's sym */
  int src;             /* MOVE */
  int *keep;           /* FREE */
  int nkeep;
  /* KERNEL */
  int nloops;          /* loops, outermost first */
  Dim extent[2 * IR_MAX_RANK];
  int loopvar[2 * IR_MAX_RANK]; /* the variable (KX_VAR) each loop runs */
  int nred;            /* the innermost nred loops reduce */
  IrOp combine;        /* SUM, PROD, MAX, MIN, ANY, ALL, ARGMAX, ARGMIN */
  KExpr *value;        /* evaluated at every point of the loops */
  KExpr *finalize;     /* reductions: the stored value, from KX_ACC (NULL: the accumulator) */
  KExpr **store_idx;   /* where the result goes: out[store_idx...] */
  int nstore;
  bool store_linear;   /* store_idx[0] is a flat index */
  /* CHECK, SETSYM, FOR, IF */
  KExpr *cond;         /* CHECK, IF; SETSYM's value; FOR's start */
  KExpr *stop, *step;  /* FOR */
  int var;             /* FOR: the loop variable */
  const char *message; /* CHECK */
  KList body, orelse;
  /* CALL */
  KCallKind call;
  IrOp op;
  int nbufs;
  int *bufs;
  int nexprs;
  KExpr **exprs;
  const char **strs;
  int nstrs;
  const char *str;
  int index;
  /* KERNEL: the outermost loop's iterations are independent and may run on
   * several threads (the CPU code generator sets it, see
   * docs/internals.md); FOR: the same for the loop's iterations, set only
   * by whoever built the loop (a body of kernels, ifs and fors) */
  bool parallel;
  /* FOR: a fused row kernel (passes/fusion.c): start 0, step 1, stop a row
   * dim; its body is only the stages (kernels, and the rows loops of
   * further row dims), each over one row, writing only that row of buffers
   * allocated before the loop, so iterations are independent.  Printed
   * as `kernel rows iV < N { stage ... }`. */
  bool rows;
  /* ALLOC: the buffer's first writer overwrites all of it (memplan), so
   * it need not be zero-filled.  Printed `alloc ... uninit`. */
  bool uninit;
};

typedef struct KFunc {
  const char *name;
  bool exported, is_main, is_init;
  PtrVec bufs;   /* KBuf*, indexed by buffer number */
  int nvars;     /* loop variables used */
  int nargs;     /* the first nargs buffers are the arguments */
  int *results;  /* buffers returned, in order */
  int nresults;
  KList body;
  IrFunc *graph; /* where it came from (argument types, symbols) */
  PtrVec syms;   /* symbol ids used (int cast to void*) */
} KFunc;

typedef struct KModule {
  const char *name;
  PtrVec funcs; /* KFunc* */
  IrModule *graph;
} KModule;

/* kernel.c: builders */
KExpr *k_const(DType dt, double v);
KExpr *k_int(int64_t v);
KExpr *k_var(int var);
KExpr *k_dim(Dim d);
KExpr *k_op(IrOp op, DType dt, int nargs, KExpr **args);
KExpr *k_op2(IrOp op, DType dt, KExpr *a, KExpr *b);
KExpr *k_cast(KExpr *e, DType dt);
KExpr *k_load(int buf, DType dt, int nidx, KExpr **idx);
KStmt *k_stmt(KStmtKind kind, Loc loc);
void k_push(KList *l, KStmt *s);
int k_buf_new(KFunc *f, const char *name, DType dt, int rank, const Dim *dims, KBufKind kind);
KBuf *k_buf(KFunc *f, int i);

/* kernel_print.c: the text of --dump-after=lower */
void k_print_module(FILE *out, KModule *m);

/* kernel_verify.c: structural checks */
bool k_verify_module(KModule *m);

#endif
