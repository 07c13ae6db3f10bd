/* ir/ir.h - the graph IR: source locations, diagnostics, types with
 * symbolic dimensions, the op table, nodes, blocks, functions, modules,
 * the printer and the verifier.  Everything above ir/ includes this header;
 * ir/ includes nothing above it.
 *
 * Sectioned by the .c file that implements each part.
 */
#ifndef TENSORC_IR_H
#define TENSORC_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IR_MAX_RANK 8
/* The most bytes one tensor may hold: 2^48 (256 TiB), the virtual address
 * space of x86-64 and AArch64.  A larger constant shape is a compile error
 * (passes/shape.c), a larger run-time one a run-time error before anything
 * is allocated (passes/lower.c); NumPy's "array is too big". */
#define IR_MAX_TENSOR_BYTES ((int64_t)1 << 48)

/* ===== arena.c: memory that lives until the compiler exits ===== */

void *ir_alloc(size_t size);                 /* zeroed; never NULL (dies on OOM) */
char *ir_strdup(const char *s);
char *ir_strndup(const char *s, size_t n);
char *ir_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ir_arena_free_all(void);                /* at exit, so sanitizers see no leak */
/* ir_arena_free_all, and the tables that point into the arena emptied
 * (registered sources, error count, dimension symbols): for a process that
 * compiles many programs, one after the other (tests/fuzz/libfuzzer). */
void ir_arena_reset(void);
void ir_diag_reset(void);
void ir_sym_reset(void);

/* A growable array of pointers, allocated from the arena. */
typedef struct PtrVec {
  void **v;
  int n, cap;
} PtrVec;
void ir_vec_push(PtrVec *vec, void *p);

/* ===== diag.c: diagnostics in the clang style ===== */

typedef struct Loc {
  const char *file; /* NULL: no location (internal or command line) */
  int line, col;    /* 1-based */
} Loc;

/* Source texts are registered so that diagnostics can quote the line. */
void ir_source_add(const char *file, const char *text, size_t len);

/* User mistakes: "file:line:col: error: msg", the line, a caret.
 * ir_note attaches to the previous error.  Never exits. */
void ir_error(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ir_warning(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ir_note(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ir_error_count(void);
/* While muted, diagnostics are neither printed nor counted: for a side
 * channel that runs a stage only to look at its result (the fusion
 * report lowers the module to count its kernels).  Returns the previous
 * state. */
bool ir_diag_mute(bool on);
/* After this many errors the rest are dropped with one line saying so. */
#define IR_MAX_ERRORS 50

/* Compiler bugs: print the message and the IR location, exit code 3. */
_Noreturn void ir_die_at(const char *cfile, int cline, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define ir_die(loc, ...) ir_die_at(__FILE__, __LINE__, (loc), __VA_ARGS__)

/* ===== type.c: dtypes, devices, tensor types ===== */

typedef enum DType {
  DT_UNKNOWN, /* not yet inferred */
  DT_BOOL,
  DT_I32,
  DT_I64,
  DT_F32,
  DT_F64,
} DType;

typedef enum Device {
  DEV_DEFAULT, /* wherever the function runs (--device) */
  DEV_CPU,
  DEV_CUDA,
} Device;

const char *ir_dtype_name(DType dt);       /* "f32" */
int ir_dtype_size(DType dt);               /* bytes of one element in memory */
DType ir_dtype_compared(DType a, DType b); /* what a comparison converts both to */
DType ir_dtype_from_name(const char *name); /* DT_UNKNOWN if not a dtype */
bool ir_dtype_is_float(DType dt);
bool ir_dtype_is_int(DType dt); /* i32, i64 (not bool) */
const char *ir_device_name(Device d);

/* ===== dim.c: symbolic dimensions =====
 * A dimension is a polynomial over dimension symbols with integer
 * coefficients, kept canonical (terms sorted, no zero coefficients), so that
 * two dims are equal exactly when their structs are equal.  N, 64, N-1, 2*N,
 * N*M all fit; a result that needs more terms sets `overflow` and the shape
 * pass reports "dimension expression too complex". */

#define DIM_MAX_TERMS 4
#define DIM_MAX_DEG 3
typedef struct DimTerm {
  int64_t coef;
  uint8_t deg;               /* number of symbols multiplied */
  uint16_t sym[DIM_MAX_DEG]; /* sorted symbol ids */
} DimTerm;
typedef struct Dim {
  uint8_t n;     /* number of terms; 0 = the constant 0 */
  bool overflow; /* too complex to represent */
  DimTerm t[DIM_MAX_TERMS];
} Dim;

/* Symbols: a name (for printing) and where it was introduced. */
int ir_sym_new(const char *name, Loc loc);
const char *ir_sym_name(int sym);
int ir_sym_count(void); /* ids are below it */
Loc ir_sym_loc(int sym);

Dim dim_const(int64_t c);
Dim dim_sym(int sym);
Dim dim_add(Dim a, Dim b);
Dim dim_sub(Dim a, Dim b);
Dim dim_mul(Dim a, Dim b);
bool dim_div_exact(Dim a, Dim b, Dim *out); /* a / b when it divides evenly */
bool dim_eq(Dim a, Dim b);
bool dim_is_const(Dim d, int64_t *c); /* c may be NULL */
bool dim_is_sym(Dim d, int *sym);     /* exactly one bare symbol */
/* Replace symbol `sym` by `by` everywhere in d. */
Dim dim_subst(Dim d, int sym, Dim by);
/* Writes e.g. "N", "64", "N - 1", "2*N", "N*M" into buf; returns buf. */
char *dim_format(Dim d, char *buf, size_t size);
char *dim_format_macro(Dim d, char *buf, size_t size); /* "2*(N) + 1" */

/* ===== type.c: the type of a value ===== */

typedef enum TypeKind {
  TY_UNKNOWN, /* before the shape pass */
  TY_NONE,    /* no value: print, yield, param_store */
  TY_TENSOR,  /* rank 0 is a scalar */
  TY_TUPLE,   /* for/if/split results, read with IR_RESULT */
} TypeKind;

typedef struct IrType {
  TypeKind kind;
  DType dtype;
  bool weak;     /* a Python scalar: does not decide the result dtype (§1.3) */
  Device device;
  int rank;
  Dim dims[IR_MAX_RANK];
  int ntuple; /* TY_TUPLE: number of elements (their types are on IR_RESULT nodes) */
} IrType;

IrType ir_type_tensor(DType dt, int rank, const Dim *dims);
IrType ir_type_scalar(DType dt);
bool ir_type_eq(const IrType *a, const IrType *b); /* dtype, shape, device */
int ir_type_axis(const IrType *t, Dim d); /* the first axis of tensor type t of size d, or -1 */
bool ir_shape_eq(const IrType *a, const IrType *b);
/* "f32[N, 64]", "i64" (scalar), "none", "tuple<2>"; returns buf. */
char *ir_type_format(const IrType *t, char *buf, size_t size);
char *ir_shape_format(const IrType *t, char *buf, size_t size); /* "[N, 64]" */

/* ===== graph.c: ops, nodes, blocks, functions, modules ===== */

typedef enum IrOpClass {
  IRC_SOURCE,
  IRC_CREATION,
  IRC_UNARY,
  IRC_BINARY,
  IRC_TERNARY,
  IRC_REDUCE,
  IRC_MATMUL,
  IRC_MOVEMENT,
  IRC_INDEX,
  IRC_AUTODIFF,
  IRC_IO,
  IRC_CONTROL,
  IRC_KERNEL, /* kernel-IR primitives (legalize), never in a graph */
} IrOpClass;

typedef enum IrOp {
#define X(name, text, nargs, cls, shape, grad) IR_##name,
#include "ops.def"
#undef X
  IR_NUM_OPS
} IrOp;

const char *ir_op_name(IrOp op);
int ir_op_nargs(IrOp op); /* -1: variadic */
IrOpClass ir_opclass(IrOp op);

/* One item of an index expression x[...]. Operand positions refer to the
 * node's args; -1 means "omitted". */
typedef enum IrIndexKind {
  IDX_SCALAR,   /* an integer: removes the axis; arg = operand */
  IDX_SLICE,    /* start:stop:step, each an operand or -1 */
  IDX_NEWAXIS,  /* None */
  IDX_ELLIPSIS, /* ... */
  IDX_TENSOR,   /* integer (gather) or bool tensor; arg = operand */
} IrIndexKind;
typedef struct IrIndexItem {
  IrIndexKind kind;
  int arg, start, stop, step;
} IrIndexItem;

/* Attributes; each op's row in ops.def says which ones it reads. */
typedef struct IrAttrs {
  int64_t ival;
  double fval;
  DType dtype;
  Device device;
  int axes[IR_MAX_RANK];
  int naxes;
  bool has_axes; /* axis= given (naxes may still be 0 for axis=()) */
  bool keepdims;
  const char *str;   /* param name, file path, argument name */
  const char **strs; /* PRINT: nstrs pieces, NULL = next operand */
  int nstrs;
  IrIndexItem *idx; /* INDEX, INDEX_SET */
  int nidx;
  double *data; /* TENSOR: values in C order */
  int64_t ndata;
  int64_t shape[IR_MAX_RANK]; /* TENSOR: literal shape */
  int rank;
  struct IrType *decl; /* CHECK_TYPE: the declared type */
  Loc decl_loc;        /* CHECK_TYPE: where it was declared */
  int sym;             /* a dimension symbol this op introduces (BATCH) */
  bool has_default;    /* ARG: a default value in fval (scalars only) */
  bool like;           /* FULL, RAND, RANDN: the shape of the one operand (rand(x.shape)) */
} IrAttrs;

typedef struct IrNode IrNode;
typedef struct IrBlock IrBlock;
struct IrType;

/* How the lowering computes a value (passes/fusion.c decides; docs/internals.md). */
typedef enum IrFuse {
  IR_FUSE_NONE,     /* its own kernel (or call, or alias) writing a buffer */
  IR_FUSE_INLINE,   /* no buffer: recomputed inside each consumer's loop, at its loads */
  IR_FUSE_ROW,      /* a stage of row kernel `group`: one loop over the leading dims */
  IR_FUSE_FINALIZE, /* a reduction whose one consumer (same shape) is computed in its finalize */
  IR_FUSE_EPILOGUE, /* a matmul whose one consumer runs on each block of rows as it is made */
} IrFuse;

struct IrNode {
  IrOp op;
  IrType type;
  Loc loc;
  IrNode **args;
  int nargs;
  IrBlock *body;   /* FOR body, IF then */
  IrBlock *orelse; /* IF else */
  IrNode *parent;  /* BLOCK_ARG: its FOR; RESULT: its tuple (also args[0]) */
  const char *name; /* user's name for the value, NULL if none */
  int id;           /* number in dumps, set by the printer */
  IrAttrs at;
  /* Filled by the shape pass for integer scalars whose value is known as a
   * dimension expression (x.shape[0], constants, sums of those). */
  bool has_symval;
  Dim symval;
  int mark; /* scratch for walks; each walk resets what it uses */
  /* Set by the fusion pass (passes/fusion.c), read by lower; zero (each op
   * its own kernel) when fusion did not run (--no-fuse). */
  IrFuse fuse;
  int group; /* IR_FUSE_ROW: the row kernel it is a stage of (1, 2, ... per function) */
};

struct IrBlock {
  PtrVec nodes;  /* IrNode*, in order */
  PtrVec params; /* BLOCK_ARG nodes (FOR: induction variable, carried values) */
  IrNode *owner; /* FOR/IF that holds this block, NULL for a function body */
};

typedef struct IrFunc {
  const char *name;
  Loc loc;
  bool exported;
  bool is_main;
  bool is_init; /* computes the params' initial values */
  PtrVec args;  /* ARG nodes */
  IrBlock *body;
  /* Symbolic dims of the arguments, for the header and run-time checks. */
} IrFunc;

typedef struct IrParam {
  const char *name;
  Loc loc;
  IrType type; /* from the init function, set by the shape pass */
  const char *embed; /* embed("file") path or NULL */
  /* The initial value read at compile time (embed() or --params=DIR), C
   * order, p->type's dtype; NULL: computed by init. */
  const void *embed_data;
  int64_t embed_bytes;
} IrParam;

typedef struct IrModule {
  const char *name; /* file stem */
  PtrVec funcs;     /* IrFunc*: init first, then in source order */
  PtrVec params;    /* IrParam* */
  const char *dist; /* --dist=mpi: "mpi" (autodiff averages the params' gradients); NULL: one process */
  int64_t dist_bucket; /* --dist-bucket=BYTES: the most bytes of gradients one all-reduce takes (0: 25 MiB) */
} IrModule;

IrNode *ir_node_new(IrOp op, Loc loc, int nargs, IrNode **args);
/* Integer //, % and ** check their second operand at run time (a zero
 * divisor warns, a negative exponent fails) before the op's kernel. */
bool ir_checks_int_operand(const IrNode *n);
IrBlock *ir_block_new(IrNode *owner);
void ir_block_append(IrBlock *b, IrNode *n);
IrParam *ir_module_param(IrModule *m, const char *name); /* NULL if none */
void ir_clear_marks(IrBlock *b); /* zero `mark` of every node and block param, nested */
/* n is a transpose of its last two axes that keeps the others in place
 * (x.T of a matrix, transpose(0, 2, 1) of a batch, swapping -1 and -2): a
 * matrix product reads n's operand with a transpose flag instead
 * (passes/fusion.c, passes/lower_ops.c). */
bool ir_swaps_last_two(const IrNode *n);
/* INDEX_SET / INDEX_ADD node n is x[arange(N), t] = v (or +=) on a matrix
 * x of N rows, t an integer vector of N: one element per row, at column
 * t[i] of row i (the gradient of logp[arange(N), y] in cross_entropy).  Its
 * value at (i, j) is then an elementwise expression, which fusion inlines
 * into its consumers (passes/fusion.c, passes/lower_index.c) instead of a
 * copy of x and a scatter. */
bool ir_sets_one_per_row(const IrNode *n);
/* t is arange(0, n, 1) with n its own length: 0, 1, ..., n-1 (a rank-1
 * integer index that is in range of any axis of that length). */
bool ir_is_iota(const IrNode *t);

/* ===== print.c: the one textual form of the graph IR ===== */

void ir_print_module(FILE *out, IrModule *m);
void ir_print_func(FILE *out, IrFunc *f);

/* ===== verify.c: structural checks run after every pass in debug builds ===== */

/* Returns true when well formed; else reports through ir_die. `typed`
 * additionally requires every value to have a known type. */
bool ir_verify_module(IrModule *m, bool typed);

#endif
