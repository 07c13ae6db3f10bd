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

/* ---- scalar and index expressions ----
 *
 * After the legalize pass every KX_OP is a primitive that each code
 * generator implements one to one, with these semantics (operands of the
 * op's computation dtype, the first operand's; NumPy's own rules for the
 * composite ops are spelled out in these terms by passes/legalize.c):
 *   add sub mul        IEEE (floats), wrapping (integers); bool: not used
 *   div                floats only, IEEE
 *   tdiv trem          integers: C's truncating / and %; the divisor is never 0 or -1
 *   fmod copysign      floats: C's fmod (exact) and copysign
 *   fmin fmax          floats: C's fmin/fmax (a NaN operand loses; only for clamps)
 *   pow                floats: C's pow; integers: repeated squaring, 0 for a negative exponent
 *   neg abs            neg: floats and integers; abs: floats (fabs)
 *   lt le gt ge eq     ordered (false with a NaN); bool as unsigned (false < true)
 *   ne                 unordered (true with a NaN)
 *   logical_and/or/not bool operands
 *   where              bool condition; the other two of the result's dtype
 *   isnan              floats
 *   floor ceil round   floats; round is to nearest, ties to even (rint)
 *   exp log sin cos sqrt   floats: the target's math library (sqrt correctly rounded)
 *   log1p expm1 tan tanh erf   f64 only (f32 goes through f64 and rounds once)
 * Reductions combine with sum prod max min any all argmax argmin, where
 * max/min (and argmax/argmin) propagate NaN: a NaN wins, the first one.
 * A KX_CAST is NumPy's astype: float to int truncates (the lowering only
 * converts values in range), anything to bool is != 0 (NaN is true). */

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
  KX_LET,       /* args[1] with let-variable `var` bound to args[0] (legalize: an operand used twice) */
  KX_LETVAR,    /* the value bound to let-variable `var` */
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

/* How a loop runs: written by the schedule pass (passes/schedule.c) for
 * the target, read by the code generators, shown in the dumps after it.
 * Halide's ForType is the model. */
typedef enum KLoopKind {
  KL_SERIAL = 0, /* one iteration after another */
  KL_PARALLEL,   /* CPU: iterations spread over the context's threads */
  KL_VECTOR,     /* CPU: innermost, vectorised (a float reduction: in `lanes` partials) */
  KL_GPU_GRID,   /* CUDA: flattened over every thread of the grid (grid-stride) */
  KL_GPU_BLOCK,  /* CUDA: one block an iteration (grid-stride over blocks) */
  KL_GPU_THREAD, /* CUDA: over the threads of one block, reduced across them */
  KL_GPU_TILE,   /* CUDA: the two innermost loops of a transpose (the others gpu_block): a block per
                  * 32x32 tile of them, read into shared memory along one, written out along the other */
} KLoopKind;

/* Where a buffer's memory is: written by the placement pass. */
typedef enum KSpace {
  KM_HOST = 0, /* CPU memory */
  KM_DEVICE,   /* GPU memory: touched only by device kernels and copies */
} KSpace;

/* ---- buffers ---- */

typedef enum KBufKind {
  KB_TEMP,  /* allocated by this function */
  KB_ARG,   /* an argument: borrowed */
  KB_PARAM, /* a param read: borrowed from the context */
  KB_SCRATCH, /* a row kernel's scratch row: set by its KS_SCRATCH, never allocated or freed */
} KBufKind;

typedef struct KBuf {
  const char *name; /* the graph value's name, for dumps */
  DType dtype;
  int rank;
  Dim dims[IR_MAX_RANK];
  KBufKind kind;
  int index; /* KB_ARG: argument number; KB_PARAM: param number */
  KSpace space; /* the placement pass: where its memory is */
  int host;     /* KM_DEVICE buffers of arguments and params: the host buffer it mirrors, else -1 */
} KBuf;

/* ---- statements ---- */

typedef enum KStmtKind {
  KS_KERNEL,  /* loops, value, store (see Kernel) */
  KS_ALLOC,   /* buf = a new zeroed buffer of its shape */
  KS_FREE,    /* free buf unless it is one of `keep` (compared at run time) */
  KS_MOVE,    /* buf = src (pointer copy: carried values, results) */
  KS_SETSYM,  /* sym = value (an i64 expression) */
  KS_CHECK,   /* if !cond: fail with message (a run-time error); with exprs,
               * message is a printf format of their i64 values (%lld);
               * `warn`: print message once a run on stderr and go on;
               * `input`: the caller's input is bad (TC_ERR_INPUT, exit 2) */
  KS_CALL,    /* a runtime call, see KCallKind */
  KS_FOR,     /* for var in [start, stop) step: body */
  KS_IF,      /* if cond: body else orelse */
  KS_COPY,    /* buf = a copy of src between memory spaces (the placement pass) */
  KS_SCRATCH, /* first in a row kernel's body (passes/row_scratch.c): buf, dims one row's, is
               * this thread's own block of scratch_bytes, cache-resident across the stages,
               * when its bytes fit; else the row of src at store_idx (&src[i0, 0]), which
               * the kernel's last stage overwrites anyway */
} KStmtKind;



typedef enum KCallKind {
  KC_MATMUL,  /* bufs: a, b, out; ints: batch, m, n, k, stride_a, stride_b, stride_c (KExprs),
               * optionally offset_a, offset_c: elements of a and out skipped (a block of rows);
               * `trans` (KMM_TRANS_*): out = op(a) @ op(b), op(a) m x k stored as is, or as
               * its k x m transpose (b likewise: k x n, or n x k).  Printed `%a.T`. */
  KC_RAND,    /* bufs: out (rand/randn/randint/randperm: `op`); exprs: lo, hi for randint */
  KC_SEED,    /* exprs: the seed */
  KC_PRINT,   /* pieces: strs (NULL = next buffer); bufs: values */
  KC_SAVE,    /* str path; bufs: value */
  KC_PARAM_STORE, /* index = param number; bufs: value (ownership moves to the context) */
  KC_DIST,    /* `op` (rank, world_size, all_reduce_*, broadcast: ir/ops.def); bufs: in (not for
               * rank and world_size), out; exprs: broadcast's root.  Host buffers (placement copies device ones) */
} KCallKind;

/* KC_DIST's `part` for an all_reduce split in two (passes/dist_overlap.c):
 * KD_START starts it (bufs: in, out; MPI_Iallreduce), KD_WAIT waits for it
 * (bufs: out), the statements between them running meanwhile.  0: the whole
 * call.  Printed `call dist.all_reduce_mean.start`, `.wait`. */
enum { KD_START = 1, KD_WAIT = 2 };

/* KC_MATMUL's `trans`: the runtime's TC_MM_TRANS_A and TC_MM_TRANS_B. */
enum { KMM_TRANS_A = 1, KMM_TRANS_B = 2 };
/* KC_MATMUL's `epilogue` (passes/blas_epilogue.c): out = act(product +
 * bias[col]), bias the call's fourth buffer (f32[n]) with KE_BIAS, act
 * relu or gelu's tanh form; the runtime's TC_EPI_*.  Printed
 * `call matmul.bias_relu`. */
enum { KE_BIAS = 1, KE_RELU = 2, KE_GELU_TANH = 4 };

typedef struct KStmt KStmt;
typedef struct KList {
  KStmt **v;
  int n, cap;
} KList;

struct KStmt {
  KStmtKind kind;
  Loc loc;
  int buf;             /* ALLOC, FREE, MOVE and COPY (destination), SETSYM's sym */
  int src;             /* MOVE, COPY */
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
  bool warn;           /* CHECK: a warning, not an error (NumPy's RuntimeWarning: once a run, then go on) */
  bool input;          /* CHECK: of the caller's input (an argument's dims): fails as bad input, TC_ERR_INPUT */
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
  int trans;           /* CALL matmul: the operands stored transposed (KMM_TRANS_A | KMM_TRANS_B) */
  int epilogue;        /* CALL matmul: KE_* applied to the product by the call (blas_epilogue) */
  int folded;          /* CALL matmul: the kernel statements the epilogue replaced (kernel_name.c counts them) */
  int part;            /* CALL dist: KD_START, KD_WAIT, or 0 (the whole call) */
  /* FOR: the loop's iterations are independent (a fact, set only by
   * whoever built the loop: a body of kernels, ifs and fors); the schedule
   * pass decides from it how the loop runs (lkind) */
  bool parallel;
  /* FOR: the body runs at least once (the lowering knows it from constant
   * bounds, or a check before the loop), so the size symbols it sets are
   * set after it (ir/kernel_verify.c).  Printed `nonempty`. */
  bool nonempty;
  /* the schedule pass: how each loop runs (KERNEL: loop i of nloops; FOR:
   * lkind[0]), and a float reduction's partial accumulators (KL_VECTOR);
   * on the GPU, an elementwise kernel's points a thread takes at once with
   * 128-bit loads and stores (gpu_grid loops, shown on the innermost) */
  KLoopKind lkind[2 * IR_MAX_RANK];
  int lanes;
  /* KERNEL, a float sum (the schedule pass, the target's sum_block):
   * the innermost reduced loop adds its elements in blocks of `block`
   * (CPU: each run of that loop cut into blocks, each summed in `lanes`
   * partials; GPU: each thread's own elements, in order, `block` at a
   * time), each block from 0 in the value's dtype, and the blocks' sums
   * into an f64 total, rounded once at the end.  Printed `block1024`
   * before the innermost loop's variable.  0: one accumulator. */
  int block;
  /* KERNEL, a stage storing a row in vectors (passes/row_scratch.c): a
   * bool over symbols; where it holds at run time the stores are
   * non-temporal (the buffer is larger than the caches, written whole,
   * and not read again by the kernel: no read for ownership, no
   * eviction of what the kernel reads).  NULL: plain stores.  Printed
   * `stream if COND`. */
  KExpr *stream;
  /* SCRATCH: the bytes of the thread's own block (the target's
   * row_scratch_bytes) */
  int64_t scratch_bytes;
  /* KERNEL, row FOR: runs on the GPU as one kernel (the schedule pass) */
  bool device;
  /* FOR: a fused row kernel (passes/fusion.c): start 0, step 1, stop a row
   * dim; its body is only the stages (kernels, and the rows loops of
   * further row dims), each over one row, writing only that row of buffers
   * allocated before the loop, so iterations are independent.  Printed
   * as `kernel rows iV < N { stage ... }`. */
  bool rows;
  /* ALLOC: the buffer's first writer overwrites all of it (memplan), so
   * it need not be zero-filled.  Printed `alloc ... uninit`. */
  bool uninit;
  /* ALLOC: 1 + k when the buffer is returned as result k and nothing
   * frees it or hands its pointer elsewhere (memplan, memplan_results.c):
   * the code takes the caller's memory for result k (results[k].data,
   * when the caller passes a block of the buffer's byte size), so the
   * result needs no copy into the caller's tensor.  0: a block of its
   * own.  Printed `alloc ... -> out0`.  On the GPU (placement) also the
   * result's host buffer and its COPY back: none when the device buffer
   * took the caller's kDLCUDA tensor (tcrt_dev_result_alloc). */
  int out;
  /* COPY: buf is an argument's device twin and this copy makes it
   * (placement): the caller's own device memory when the argument is
   * already there (no copy, never written), else a new block holding the
   * copy.  Printed `copy.arg`; freed as usual. */
  bool borrow;
  /* ALLOC, device buffers (passes/memplan_arena.c): the buffer is bytes
   * [arena_off, arena_off + size) of its function's device arena, not a
   * block of the cache; its frees leave it alone.  Printed `@arena+OFF`. */
  bool arena;
  int64_t arena_off;
};

typedef struct KFunc {
  const char *name;
  bool exported, is_main, is_init;
  PtrVec bufs;   /* KBuf*, indexed by buffer number */
  int nvars;     /* loop variables used */
  int nlets;     /* let-variables used (KX_LET) */
  int nargs;     /* the first nargs buffers are the arguments */
  int *results;  /* buffers returned, in order */
  int nresults;
  /* memplan: per result, why its buffer cannot be the caller's memory
   * (an argument, computed in a loop, ...), or NULL (its ALLOC says
   * `-> outK`); NULL before memplan.  Printed as comments. */
  const char **results_why;
  KList body;
  IrFunc *graph; /* where it came from (argument types, symbols) */
  PtrVec syms;   /* symbol ids used (int cast to void*) */
  /* memplan_arena.c: bytes of the function's device arena (its ALLOCs
   * marked `arena` lie in it); 0: none.  Printed as a comment. */
  int64_t arena_bytes;
} KFunc;

typedef struct KModule {
  const char *name;
  PtrVec funcs; /* KFunc* */
  IrModule *graph;
  const struct Target *target; /* what the module is compiled for (ir/target.h) */
  bool scheduled;              /* the schedule pass ran: loop kinds are set */
  const char *dist;            /* --dist=mpi: "mpi", the executable runs under mpirun (NULL: one process) */
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
/* One statement (nested bodies included) in the same text, for the code
 * generators' comments. */
void k_print_stmt(FILE *out, KFunc *f, KStmt *s);

/* kernel_dot.c: the module as a Graphviz graph (--dump-dot) */
void k_print_dot(FILE *out, KModule *m);

/* kernel_name.c: kernel statements (a KS_KERNEL, a fused row kernel's
 * rows `for`), numbered in the module the same way for every target, and
 * their names, k3_sub_exp_sum (the CUDA kernels' and --profile's). */
bool k_is_kernel_stmt(const KStmt *s);
int k_kernel_number(const KModule *m, const KStmt *s); /* -1: not a kernel statement of m */
const char *k_kernel_name(const KModule *m, const KStmt *s);

/* kernel_verify.c: structural checks */
bool k_verify_module(KModule *m);

/* kernel_walk.c: the questions several passes and both code generators
 * ask of the kernel IR, answered in one place. */
bool k_expr_eq(const KExpr *a, const KExpr *b); /* the same tree */
/* The load (a KX_LOAD) reads exactly the point kernel k stores (its
 * indices are the store's, or 0 where the store's is a loop of extent 1). */
bool k_load_at_store(const KExpr *load, const KStmt *k);
/* Every load of buffer `buf` in e reads exactly the point kernel k stores. */
bool k_loads_at_store(const KExpr *e, int buf, const KStmt *k);
/* Access patterns of an elementwise kernel k (no reduction), for the
 * schedule pass and the CUDA emitter.  k stores at its flat point when its
 * store indices are its loop variables in order and the output's dims
 * below the first are the loops' extents: point p (the loops flattened,
 * C order) writes element p. */
bool k_store_flat(KFunc *f, const KStmt *k);
/* Whether e reads none of k's loop variables (nor k's output, nor a
 * let-variable bound outside e): the same value at every point. */
bool k_expr_invariant(const KStmt *k, const KExpr *e);
/* Whether e reads loop variable `var` (in an index or as a value). */
bool k_expr_reads_var(const KExpr *e, int var);
/* Whether e loads buffer `buf` (anywhere, indices included). */
bool k_expr_reads_buf(const KExpr *e, int buf);
/* Whether e loads any buffer. */
bool k_expr_has_load(const KExpr *e);
/* Whether load e (of a kernel storing at its flat point) reads element
 * p + c at point p, c the same at every point: e's indices are k's store
 * indices, each plus a term invariant in k (a slice's start: `add(c,
 * mul(i0, 1))`), into a buffer whose dims below the first are the
 * output's.  *base (when not NULL) gets e's indices at point 0 (those
 * terms, or 0): element c. */
bool k_load_contiguous(KFunc *f, const KStmt *k, const KExpr *e, KExpr ***base);
/* Whether load e reads the transpose of k's two innermost loops: e's
 * indices are k's store indices (its loop variables, in order) with the
 * last two swapped, from a buffer other than k's output. */
bool k_load_transposed(const KStmt *k, const KExpr *e);
/* Whether e holds an op that the targets compute by a math-library call
 * (exp, log, tanh, pow, ...): a costly value (passes/lower_rows.c), and
 * one the CPU's loop vectoriser maps to the vector library's widths. */
bool k_expr_calls_math(const KExpr *e);
/* What a statement does to a buffer. */
typedef enum KRefRole {
  KR_READ,   /* a load (once per load in the expression), a call input, a MOVE or COPY source */
  KR_WRITE,  /* a kernel's store, a call's output, a COPY destination */
  KR_KEEP,   /* an entry of a FREE's keep list */
  KR_FREE,   /* FREE */
  KR_ASSIGN, /* ALLOC, MOVE destination */
  KR_ESCAPE, /* param_store: ownership moves to the context */
} KRefRole;
typedef void (*KRefFn)(int buf, KRefRole role, void *ctx);
/* Calls fn for every buffer reference of s, nested bodies included. */
void k_stmt_refs(const KStmt *s, KRefFn fn, void *ctx);
void k_expr_refs(const KExpr *e, KRefFn fn, void *ctx); /* loads, as KR_READ */
/* Calls fn on every expression root of s (value, finalize, store indices,
 * conditions, bounds, call expressions), not nested bodies. */
typedef void (*KExprFn)(KExpr *e, void *ctx);
void k_stmt_exprs(KStmt *s, KExprFn fn, void *ctx);
/* What a piece of code needs from outside itself: the buffers it touches,
 * the loop variables it reads but does not define, the symbols it reads
 * (in expressions, extents and the dims of the buffers it touches).  The
 * arrays are indexed by buffer, variable and symbol number. */
typedef struct KUses {
  bool *bufs, *vars, *defs, *syms;
  int nbufs, nvars, nsyms;
} KUses;
/* Renaming buffer `from` to `to` (copying what changes, never mutating a
 * shared expression or list): in e, in a list of buffer numbers, in a
 * statement and its nested bodies (a FREE of `from` stays one when
 * keep_freed; its keep list is renamed either way). */
KExpr *k_expr_rename(KExpr *e, int from, int to);
/* e with every subtree for which leaf(subtree, ctx) is not NULL replaced by
 * that result (preorder: a replaced subtree is not entered); nodes above a
 * replacement are copied, the rest is shared. */
typedef KExpr *(*KExprLeaf)(KExpr *e, void *ctx);
KExpr *k_expr_map(KExpr *e, KExprLeaf leaf, void *ctx);
int *k_ints_rename(int *v, int n, int from, int to);
void k_stmt_rename(KStmt *s, int from, int to, bool keep_freed);
KUses k_uses_new(const KFunc *f);
void k_uses_stmt(KUses *u, const KFunc *f, const KStmt *s);
void k_uses_list(KUses *u, const KFunc *f, const KList *l);

#endif
