/* frontend/resolve.h - private to the resolve stage (resolve.c, stmt.c,
 * expr.c, builtins.c, consteval.c, suggest.c, resolve_prune.c, with the
 * environments of names in resolve_env.h): the state of lowering one entry
 * function, then each file's functions.
 *
 * Resolve turns the syntax tree into graph IR.  Calls are inlined as they
 * are lowered (each call site gets its own copy, so untyped parameters are
 * generic for free and every symbolic dimension of the callee is a fresh
 * symbol of that call), Python's variables become SSA values, params become
 * values read at function entry and stored at exit, and `for`/`if` become
 * structured regions whose changed variables are carried explicitly.
 */
#ifndef TENSORC_RESOLVE_H
#define TENSORC_RESOLVE_H

#include "frontend.h"
#include "resolve_env.h"

/* ---- module scopes ---- */

typedef enum DeclKind { D_CONST, D_PARAM, D_DEF, D_IMPORT } DeclKind;

typedef struct CVal { /* a compile-time number */
  bool is_float, is_bool;
  int64_t i;
  double f;
} CVal;

typedef struct Scope Scope;
typedef struct Decl {
  DeclKind kind;
  const char *name;
  AstNode *ast;
  CVal cval;         /* D_CONST */
  bool cval_ready;   /* D_CONST: evaluated (guards against self-reference) */
  bool cval_busy;
  IrParam *param;    /* D_PARAM */
  Scope *module;     /* D_IMPORT */
} Decl;

struct Scope {
  const char *name;   /* module name ("nn"); params of imports are "nn.W" */
  AstNode *ast;
  PtrVec decls;       /* Decl* */
};

/* ---- values produced while lowering expressions ---- */

typedef enum ValKind {
  V_ERROR,  /* an error was reported already: propagate quietly */
  V_NODE,   /* a tensor (scalars included) */
  V_TUPLE,  /* several values: multiple returns, split, (a, b) */
  V_LIST,   /* [a, b]: an argument of cat/stack, a compile-time loop */
  V_MODULE, /* an imported module: nn */
  V_DTYPE,  /* f32 in astype(f32) */
  V_DEVICE, /* cuda in x.to(cuda) */
  V_STRING,
  V_NONE,
  V_SHAPE,  /* x.shape: only indexed or passed to a creation function */
} ValKind;

typedef struct Val Val;
struct Val {
  ValKind kind;
  Loc loc;
  IrNode *node;       /* V_NODE; V_SHAPE: x */
  Val *elems;         /* V_TUPLE, V_LIST */
  int n;
  Scope *module;      /* V_MODULE */
  DType dtype;        /* V_DTYPE */
  Device device;      /* V_DEVICE */
  const char *str;    /* V_STRING */
  const char *param;  /* V_NODE read from a param (so `for p in [W1, W2]` aliases it) */
  AstNode *lit;       /* V_LIST: the literal, made a tensor where one is expected */
};

/* ---- the resolver state ---- */

/* `N` of `x: f32[N, 4]` used as a value is x.shape[0] of the argument as
 * it was passed (x may be reassigned later). */
typedef struct DimValue {
  const char *name;
  IrNode *arg;
  int axis;
} DimValue;

typedef struct Frame Frame;
struct Frame {
  Scope *module;   /* where the function's names are looked up */
  AstNode *def;    /* the function being inlined, NULL for param init */
  Env locals;
  PtrVec dimsyms;  /* Binding-like pairs: name -> symbol id (as node=NULL, alias=(char*)sym) */
  PtrVec dimvals;  /* DimValue*: where each symbolic dim of the signature can be read */
  Frame *caller;
  Loc call_loc;
  int nret;        /* values returned; -1 until the first return */
};

typedef struct Resolver {
  IrModule *m;
  IrFunc *fn;
  IrBlock *block; /* where new nodes go */
  Env params;     /* param name -> current value, shared by all frames */
  Frame *frame;
  int depth;      /* inlining depth */
  int loops;      /* loops around the current statement */
} Resolver;

/* ---- functions, by the file that defines them ---- */

/* resolve.c: building nodes and values */
IrNode *rs_emit(Resolver *L, IrOp op, Loc loc, int nargs, IrNode **args);
IrNode *rs_const_int(Resolver *L, Loc loc, int64_t v);
IrNode *rs_const_float(Resolver *L, Loc loc, double v);
IrNode *rs_undef(Resolver *L, Loc loc, const char *name);
Val rs_node(IrNode *n, Loc loc);
Val rs_error(void);
const char *rs_val_kind_text(ValKind k); /* "a tensor", "a module", ... */
/* The value as a tensor node; reports "expected a tensor" otherwise. */
IrNode *rs_as_node(Resolver *L, Val v, const char *what);

/* resolve.c: names */
Decl *rs_lookup_decl(Scope *s, const char *name);
Val rs_lookup_name(Resolver *L, const char *name, Loc loc);
void rs_assign_name(Resolver *L, const char *name, IrNode *node, Loc loc);
void rs_poison(Resolver *L, const char *name, Loc loc);
/* Offers the locals, the module's names and inf/nan/pi (see suggest.c). */
struct Suggest *rs_suggest_name(Scope *module, Env *locals, const char *name);

/* resolve.c: types, symbolic dims and calls */
int rs_dim_symbol(Resolver *L, const char *name, Loc loc);
IrType *rs_decl_type(Resolver *L, AstNode *type);
/* Records where the symbolic dims of `type` (the annotation of argument
 * node `arg`) can be read, so they can be used as values. */
void rs_note_dim_values(Resolver *L, IrNode *arg, AstNode *type);
Val rs_inline_call(Resolver *L, Scope *module, Decl *def, AstNode *call, Val *self);

/* expr.c: expressions (operators, slices, calls) */
Val rs_expr(Resolver *L, AstNode *e);

/* resolve_prune.c: drops FOR/IF results nobody reads */
void rs_prune_results(IrFunc *f);

/* stmt.c: statements and control flow */
bool rs_lower_stmts(Resolver *L, AstList *stmts, int from); /* true: they returned */
bool rs_always_returns(AstList *stmts);
bool rs_contains_return(AstList *stmts);
void rs_set_args(IrNode *n, PtrVec *args); /* replaces n's operands */

/* consteval.c: numbers known while lowering (const, axis=, size=) */
bool rs_ceval(Resolver *L, AstNode *e, CVal *out, bool quiet);
bool rs_ceval_decl(Scope *s, Decl *d);

/* builtins.c: calls of built-in functions and methods */
/* [[1, 2], [3, 4]] as a TENSOR node, read at compile time; NULL after an error. */
IrNode *rs_tensor_literal(Resolver *L, AstNode *lit, bool has_dtype, DType dtype);
bool rs_is_builtin(const char *name);
/* `self` is the object of a method call (x.sum()), else NULL. */
Val rs_builtin_call(Resolver *L, const char *name, AstNode *call, Val *self);
/* Attributes that are not calls: x.T, x.shape. */
Val rs_attribute(Resolver *L, Val obj, AstNode *attr);
/* Offers the built-in functions (or, when `methods`, those that are
 * methods too) to a "did you mean" search. */
void rs_suggest_builtins(struct Suggest *s, bool methods);

/* suggest.c: "did you mean 'y1'?" -- offer every valid name, then append
 * rs_suggest_text() (empty when none is close) to the error message. */
typedef struct Suggest {
  const char *name; /* the unknown one */
  const char *best;
  int dist, prefix;
} Suggest;
void rs_suggest_init(Suggest *s, const char *name);
void rs_suggest_add(Suggest *s, const char *candidate);
const char *rs_suggest_text(const Suggest *s);

#endif
