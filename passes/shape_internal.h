/* passes/shape_internal.h - what the shape pass (shape.c) shares with its
 * rule files (shape_rules_*.c).  Private to passes/.
 *
 * A rule is `void shape_xxx(ShapeCtx *S, IrNode *n)`: it reads the types of
 * n's operands through sh_type() (already resolved through the pass's
 * substitution) and sets n->type, or reports an error and calls sh_poison().
 * The walker has already checked that no operand is poisoned, undefined,
 * none or a tuple, except for the control ops (for, if, yield, result),
 * whose rules look at their operands themselves.
 */
#ifndef TENSORC_SHAPE_INTERNAL_H
#define TENSORC_SHAPE_INTERNAL_H

#include "passes.h"

typedef struct ShapeCtx ShapeCtx;

/* Side information the pass keeps about a node. */
typedef struct NodeInfo {
  IrNode *node;
  bool undef;      /* "not yet assigned": an UNDEF, or a merge of UNDEFs only */
  int nelems;      /* FOR/IF/SPLIT: the element types of the tuple */
  IrType *elems;   /* SPLIT: one type shared by all nelems */
  bool *elem_undef;
} NodeInfo;

typedef enum ParamState { PARAM_UNSET, PARAM_SET, PARAM_POISONED } ParamState;

struct ShapeCtx {
  IrModule *m;
  IrFunc *fn;
  int nerrors; /* errors this pass reported */
  /* Diagnostics of a loop body walked with guessed types are held back
   * until the guess is confirmed (then shown) or replaced (then dropped). */
  int buffering; /* > 0: hold diagnostics */
  struct PendingDiag *pend;
  int npend, cappend;
  /* The substitution: sym -> dim, for syms < nbind with bound[sym]. */
  Dim *bind;
  bool *bound;
  int nbind;
  /* NodeInfo by node pointer, open addressing. */
  NodeInfo *info;
  int ninfo, capinfo;
  ParamState *pstate; /* per m->params entry */
  /* Where the walker is, so a rule can insert a node before the current one. */
  IrBlock *cur_block;
  int cur_index;
};

/* One prototype per rule named in ops.def (repeats are harmless). */
#define X(name, text, nargs, cls, shape, grad) void shape(ShapeCtx *S, IrNode *n);
#include "../ir/ops.def"
#undef X

/* ---- shape.c: diagnostics ---- */
/* Held-back diagnostics: sh_hold() starts holding and returns a mark;
 * sh_release() ends it, keeping (shown when nothing holds any more) or
 * dropping what was held since the mark. */
int sh_hold(ShapeCtx *S);
void sh_release(ShapeCtx *S, int mark, bool keep);
void sh_error(ShapeCtx *S, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sh_note(ShapeCtx *S, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Text of a type / dim for a message; valid for the next few calls. */
const char *sh_tstr(const IrType *t);
const char *sh_dstr(Dim d);
/* "64 vs 32" for constants, else "cannot show that N - 1 equals M". */
const char *sh_clash(Dim a, Dim b);
/* "note: <what> <type> comes from here" at operand i's defining node. */
void sh_note_operand(ShapeCtx *S, IrNode *n, int i, const char *what);
/* The node's error: "tensor rank 9 exceeds the maximum of 8" unless ok. */
bool sh_check_rank(ShapeCtx *S, IrNode *n, int rank);

/* ---- shape.c: types and the substitution ---- */
IrType sh_type(ShapeCtx *S, IrNode *v); /* v's type, dims resolved */
Dim sh_resolve(ShapeCtx *S, Dim d);
/* Makes a and b equal, binding a symbol where one can be solved for;
 * false when they cannot be shown equal (nothing is reported). */
bool sh_unify(ShapeCtx *S, Dim a, Dim b);
Dim sh_fresh(ShapeCtx *S, const char *name, Loc loc);
/* Saves and restores the substitution around a speculative walk. */
typedef struct SubstSave {
  Dim *bind;
  bool *bound;
  int n;
} SubstSave;
void sh_subst_save(ShapeCtx *S, SubstSave *s);
void sh_subst_restore(ShapeCtx *S, SubstSave *s); /* also frees s */
void sh_subst_forget(SubstSave *s);                /* frees s only */
void sh_poison(IrNode *n);
void sh_poison_type(IrType *t); /* TY_UNKNOWN */
void sh_set(IrNode *n, DType dt, int rank, const Dim *dims, Device dev);
bool sh_is_int_scalar(const IrType *t);
/* The value of integer scalar v as a dim: its symval, or a fresh symbol
 * named after v that becomes its symval.  False (with an error naming
 * `what`) when v is not an integer scalar. */
bool sh_scalar_dim(ShapeCtx *S, IrNode *n, IrNode *v, const char *what, Dim *out);
/* Normalizes a possibly negative axis for a tensor of rank `rank`; reports
 * "axis 2 is out of range for a tensor of rank 2" and returns false. */
bool sh_axis(ShapeCtx *S, IrNode *n, int axis, int rank, int *out);
/* Sets n's node info (created if needed). */
NodeInfo *sh_info(ShapeCtx *S, IrNode *n);
NodeInfo *sh_info_get(ShapeCtx *S, IrNode *n); /* NULL if none */
bool sh_is_undef(ShapeCtx *S, IrNode *n);
void sh_walk_block(ShapeCtx *S, IrBlock *b);
/* Inserts a CAST of v to dtype before node `before` of block b (whose
 * index the caller knows) and returns it, typed. */
IrNode *sh_insert_cast(IrBlock *b, int index, IrNode *v, DType dt);
/* shape_masks.c: x[mask] = v and x[mask] op= v become where(); after the pass. */
void sh_masks_to_where(IrFunc *f);

/* ---- shape.c: the shared typing rules ---- */
int sh_category(DType dt); /* 0 bool, 1 integer, 2 float */
/* Result dtype of mixing a and b (PyTorch: categories bool < int < float,
 * weak scalars do not decide within a category). */
DType sh_promote(const IrType *a, const IrType *b, bool *weak);
/* Broadcasts operands first..first+count-1 of n (NumPy), reporting a
 * clash; the result shape goes to rank/dims. */
bool sh_broadcast(ShapeCtx *S, IrNode *n, int first, int count, int *rank, Dim *dims);
/* The explicit device of operands first..first+count-1 (weak scalars have
 * none), DEV_DEFAULT when none has one; reports two different ones. */
bool sh_device(ShapeCtx *S, IrNode *n, int first, int count, Device *out);
/* symval arithmetic of integer-scalar results */
void sh_symval_arith(ShapeCtx *S, IrNode *n);

#endif
