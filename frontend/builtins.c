/* frontend/builtins.c - calls of built-in functions (SPEC §1.7).
 *
 * One table row per built-in: its name, its Python-style signature, the op
 * it becomes and the handler that builds it.  Arguments are bound to the
 * signature the way Python binds them (positional, then keyword), so every
 * built-in reports a wrong call the same way.  A method call x.f(...) is the
 * call f(x, ...).  Arguments that shape the graph (axis=, keepdims=, dtype=)
 * must be known at compile time; the others become operands.
 */
#include "resolve.h"

#include <string.h>

/* ===== binding a call to a signature ===== */

#define MAX_SIG 8

typedef struct Args {
  const char *fname;
  Loc loc;
  int n;                      /* parameters in the signature */
  const char *names[MAX_SIG]; /* without the '*' or '=' marks */
  bool optional[MAX_SIG];
  int varargs;                /* index of the *param, or -1 */
  AstNode *ast[MAX_SIG];      /* the argument, or NULL */
  Val val[MAX_SIG];           /* lowered value (self, or cached) */
  bool has[MAX_SIG];
  AstNode *rest[64];          /* positionals collected by the *param */
  int nrest;
} Args;

/* Binds `call`'s arguments to the signature "x axis= keepdims=" ("*shape"
 * collects positionals).  Returns false after reporting a mismatch. */
static bool bind(Args *A, const char *fname, const char *sig, AstNode *call, Val *self) {
  memset(A, 0, sizeof *A);
  A->fname = fname;
  A->loc = call->loc;
  A->varargs = -1;
  char buf[128];
  snprintf(buf, sizeof buf, "%s", sig);
  for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
    size_t len = strlen(tok);
    if (tok[0] == '*') {
      A->varargs = A->n;
      tok++;
      len--;
    }
    if (len && tok[len - 1] == '=') {
      A->optional[A->n] = true;
      tok[--len] = 0;
    }
    A->names[A->n++] = ir_strdup(tok);
  }
  int pos = 0;
  if (self) {
    A->has[0] = true;
    A->val[0] = *self;
    pos = 1;
  }
  for (int i = 0; i < call->items.n; i++) {
    AstNode *a = call->items.v[i];
    if (a->kind == AST_KWARG) {
      int k = -1;
      for (int j = 0; j < A->n; j++)
        if (strcmp(A->names[j], a->name) == 0 && j != A->varargs)
          k = j;
      if (k < 0) {
        Suggest s;
        rs_suggest_init(&s, a->name);
        for (int j = 0; j < A->n; j++)
          if (j != A->varargs)
            rs_suggest_add(&s, A->names[j]);
        ir_error(a->loc, "%s() has no argument named '%s'%s", fname, a->name, rs_suggest_text(&s));
        return false;
      }
      if (A->has[k]) {
        ir_error(a->loc, "%s() got argument '%s' twice", fname, a->name);
        return false;
      }
      A->has[k] = true;
      A->ast[k] = a->a;
      continue;
    }
    if (pos == A->varargs) {
      if (A->nrest == 64) {
        ir_error(a->loc, "too many arguments");
        return false;
      }
      A->rest[A->nrest++] = a;
      A->has[pos] = true;
      continue;
    }
    if (pos >= A->n) {
      ir_error(a->loc, "%s() takes at most %d positional argument%s", fname, A->n, A->n == 1 ? "" : "s");
      return false;
    }
    A->has[pos] = true;
    A->ast[pos++] = a;
  }
  for (int k = 0; k < A->n; k++)
    if (!A->has[k] && !A->optional[k] && k != A->varargs) {
      ir_error(call->loc, "%s() is missing argument '%s'", fname, A->names[k]);
      return false;
    }
  return true;
}

static int slot(Args *A, const char *name) {
  for (int k = 0; k < A->n; k++)
    if (strcmp(A->names[k], name) == 0)
      return k;
  ir_die(A->loc, "%s(): no parameter %s in its signature", A->fname, name);
}

static bool given(Args *A, const char *name) { return A->has[slot(A, name)]; }

static Val arg_val(Resolver *L, Args *A, const char *name) {
  int k = slot(A, name);
  if (A->val[k].kind == V_ERROR && A->ast[k])
    A->val[k] = rs_expr(L, A->ast[k]);
  return A->val[k];
}

static IrNode *arg_node(Resolver *L, Args *A, const char *name) {
  return rs_as_node(L, arg_val(L, A, name), ir_sprintf("argument '%s' of %s()", name, A->fname));
}

/* An argument known at compile time (an integer or bool). */
static bool arg_int(Resolver *L, Args *A, const char *name, int64_t dflt, int64_t *out) {
  int k = slot(A, name);
  *out = dflt;
  if (!A->has[k])
    return true;
  CVal c;
  if (!A->ast[k] || !rs_ceval(L, A->ast[k], &c, true) || c.is_float) {
    ir_error(A->ast[k] ? A->ast[k]->loc : A->loc, "%s() needs '%s' as an integer known at compile time",
             A->fname, name);
    return false;
  }
  *out = c.i;
  return true;
}

/* axis=None | int | tuple of ints. */
static bool arg_axes(Resolver *L, Args *A, const char *name, IrAttrs *at) {
  int k = slot(A, name);
  AstNode *e = A->ast[k];
  at->has_axes = false;
  if (!A->has[k] || !e || e->kind == AST_NONE)
    return true;
  at->has_axes = true;
  AstNode *one[1] = {e};
  AstNode **items = one;
  int n = 1;
  if (e->kind == AST_TUPLE || e->kind == AST_LIST) {
    items = e->items.v;
    n = e->items.n;
  }
  if (n > IR_MAX_RANK) {
    ir_error(e->loc, "too many axes (at most %d)", IR_MAX_RANK);
    return false;
  }
  for (int i = 0; i < n; i++) {
    CVal c;
    if (!rs_ceval(L, items[i], &c, true) || c.is_float || c.is_bool || c.i < -64 || c.i > 64) {
      ir_error(items[i]->loc, "%s() needs '%s' as integers known at compile time", A->fname, name);
      return false;
    }
    at->axes[i] = (int)c.i;
  }
  at->naxes = n;
  return true;
}

static bool arg_dtype(Resolver *L, Args *A, const char *name, DType *dt) {
  if (!given(A, name))
    return true;
  Val v = arg_val(L, A, name);
  if (v.kind == V_DTYPE) {
    *dt = v.dtype;
    return true;
  }
  if (v.kind != V_ERROR)
    ir_error(v.loc, "%s() needs '%s' to be a dtype (f32, f64, i32, i64, bool)", A->fname, name);
  return false;
}

/* Sizes given as f(2, 3), f((2, 3)) or f(x.shape). */
static bool shape_args(Resolver *L, Args *A, PtrVec *dims, IrNode **like) {
  *like = NULL;
  AstNode **src = A->rest;
  int n = A->nrest;
  if (n == 1 && (src[0]->kind == AST_TUPLE || src[0]->kind == AST_LIST)) {
    n = src[0]->items.n;
    src = src[0]->items.v;
  }
  if (n > IR_MAX_RANK) {
    ir_error(A->loc, "%s(): a tensor has at most %d dimensions", A->fname, IR_MAX_RANK);
    return false;
  }
  for (int i = 0; i < n; i++) {
    Val v = rs_expr(L, src[i]);
    if (v.kind == V_SHAPE && n == 1) {
      *like = v.node;
      return true;
    }
    IrNode *d = rs_as_node(L, v, ir_sprintf("a size given to %s()", A->fname));
    if (!d)
      return false;
    ir_vec_push(dims, d);
  }
  return true;
}

/* ===== handlers ===== */

typedef Val (*Handler)(Resolver *L, Args *A, IrOp op, AstNode *call);

static Val emit(Resolver *L, IrOp op, Loc loc, int n, IrNode **args) {
  return rs_node(rs_emit(L, op, loc, n, args), loc);
}

/* f(x), f(a, b), f(c, a, b): every parameter is a tensor operand. */
static Val h_operands(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *args[MAX_SIG];
  for (int k = 0; k < A->n; k++)
    if (!(args[k] = arg_node(L, A, A->names[k])))
      return rs_error();
  return emit(L, op, call->loc, A->n, args);
}

static Val h_reduce(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  int64_t keep, ddof = 0;
  IrAttrs at = {0};
  if (!x || !arg_axes(L, A, "axis", &at) || !arg_int(L, A, "keepdims", 0, &keep))
    return rs_error();
  if ((op == IR_VAR || op == IR_STD) && !arg_int(L, A, "ddof", 0, &ddof))
    return rs_error();
  IrNode *n = rs_emit(L, op, call->loc, 1, &x);
  memcpy(n->at.axes, at.axes, sizeof at.axes);
  n->at.naxes = at.naxes;
  n->at.has_axes = at.has_axes;
  n->at.keepdims = keep != 0;
  n->at.ival = ddof;
  return rs_node(n, call->loc);
}

/* full(shape, v) with v known only at run time, as NumPy's: a tensor of
 * v's dtype (dtype= casts) filled with v.  where(mask, v, v) over an
 * all-true mask of the shape broadcasts v exactly (no arithmetic on it)
 * and takes v's dtype by the usual rules. */
static Val full_of_value(Resolver *L, Args *A, AstNode *fv, DType dt, AstNode *call) {
  IrNode *v = rs_as_node(L, rs_expr(L, fv), "the fill value of full()");
  PtrVec dims = {0};
  IrNode *like;
  if (!v || !shape_args(L, A, &dims, &like))
    return rs_error();
  IrNode *mask = like ? rs_emit(L, IR_FULL, call->loc, 1, &like) : rs_emit(L, IR_FULL, call->loc, dims.n, (IrNode **)dims.v);
  mask->at.like = like != NULL;
  mask->at.fval = 1;
  mask->at.dtype = DT_BOOL;
  IrNode *args[3] = {mask, v, v};
  IrNode *n = rs_emit(L, IR_WHERE, call->loc, 3, args);
  if (given(A, "dtype")) {
    n = rs_emit(L, IR_CAST, call->loc, 1, &n);
    n->at.dtype = dt;
  }
  return rs_node(n, call->loc);
}

/* full_like(x, v) with v known only at run time: NumPy's `a =
 * empty_like(x); a[...] = v`, so the result has x's dtype (or dtype=). */
static Val full_like_of_value(Resolver *L, IrNode *x, AstNode *fv, DType dt, AstNode *call) {
  IrNode *v = rs_as_node(L, rs_expr(L, fv), "the fill value of full_like()");
  if (!v)
    return rs_error();
  IrNode *z = rs_emit(L, IR_FULL_LIKE, call->loc, 1, &x);
  z->at.dtype = dt;
  IrNode *args[2] = {z, v};
  IrNode *n = rs_emit(L, IR_INDEX_SET, call->loc, 2, args);
  n->at.idx = ir_alloc(sizeof(IrIndexItem));
  n->at.idx[0] = (IrIndexItem){.kind = IDX_ELLIPSIS, .arg = -1, .start = -1, .stop = -1, .step = -1};
  n->at.nidx = 1;
  return rs_node(n, call->loc);
}

/* zeros ones empty full rand randn, and their *_like forms. */
static Val h_create(Resolver *L, Args *A, IrOp op, AstNode *call) {
  const char *f = A->fname;
  double fill = strcmp(f, "ones") == 0 ? 1 : 0;
  DType dt = DT_F32;
  if (!arg_dtype(L, A, "dtype", &dt))
    return rs_error();
  if (strcmp(f, "full") == 0) {
    /* full(2, 3, 7.0), full((2, 3), 7.0) or full(2, 3, fill_value=7.0) */
    AstNode *fv = A->ast[slot(A, "fill_value")];
    if (!fv && A->nrest > 0)
      fv = A->rest[--A->nrest];
    CVal c;
    if (!fv) {
      ir_error(call->loc, "full() needs a fill value");
      return rs_error();
    }
    if (!rs_ceval(L, fv, &c, true))
      return full_of_value(L, A, fv, dt, call);
    fill = c.is_float ? c.f : (double)c.i;
    if (!given(A, "dtype"))
      dt = c.is_float ? DT_F32 : c.is_bool ? DT_BOOL : DT_I64;
  }
  PtrVec dims = {0};
  IrNode *like;
  if (!shape_args(L, A, &dims, &like))
    return rs_error();
  IrNode *n;
  if (like) {
    n = rs_emit(L, op, call->loc, 1, &like);
    n->at.like = true;
  } else {
    n = rs_emit(L, op, call->loc, dims.n, (IrNode **)dims.v);
  }
  n->at.fval = fill;
  n->at.dtype = dt;
  return rs_node(n, call->loc);
}

static Val h_like(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  DType dt = DT_UNKNOWN;
  if (!x || !arg_dtype(L, A, "dtype", &dt))
    return rs_error();
  double fill = strcmp(A->fname, "ones_like") == 0 ? 1 : 0;
  if (strcmp(A->fname, "full_like") == 0) {
    CVal c;
    AstNode *fv = A->ast[slot(A, "fill_value")];
    if (!fv) {
      ir_error(call->loc, "full_like() needs a fill value");
      return rs_error();
    }
    if (!rs_ceval(L, fv, &c, true))
      return full_like_of_value(L, x, fv, dt, call);
    fill = c.is_float ? c.f : (double)c.i;
  }
  IrNode *n = rs_emit(L, IR_FULL_LIKE, call->loc, 1, &x);
  n->at.fval = fill;
  n->at.dtype = dt;
  return rs_node(n, call->loc);
}

/* arange(n), arange(a, b), arange(a, b, step) */
static Val h_arange(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *a = arg_node(L, A, "start");
  if (!a)
    return rs_error();
  IrNode *b = given(A, "stop") ? arg_node(L, A, "stop") : NULL;
  IrNode *s = given(A, "step") ? arg_node(L, A, "step") : rs_const_int(L, call->loc, 1);
  if ((given(A, "stop") && !b) || !s)
    return rs_error();
  if (!b) {
    b = a;
    a = rs_const_int(L, call->loc, 0);
  }
  DType dt = DT_UNKNOWN;
  if (!arg_dtype(L, A, "dtype", &dt))
    return rs_error();
  IrNode *args[3] = {a, b, s};
  IrNode *n = rs_emit(L, IR_ARANGE, call->loc, 3, args);
  n->at.dtype = dt;
  return rs_node(n, call->loc);
}

static Val h_eye(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *n = arg_node(L, A, "n");
  DType dt = DT_F32;
  if (!n || !arg_dtype(L, A, "dtype", &dt))
    return rs_error();
  IrNode *r = rs_emit(L, IR_EYE, call->loc, 1, &n);
  r->at.dtype = dt;
  return rs_node(r, call->loc);
}

static Val h_randint(Resolver *L, Args *A, IrOp op, AstNode *call) {
  PtrVec ops = {0}, dims = {0};
  IrNode *lo = arg_node(L, A, "low"), *hi = arg_node(L, A, "high"), *like;
  if (!lo || !hi || !shape_args(L, A, &dims, &like))
    return rs_error();
  if (like) {
    ir_error(call->loc, "randint(lo, hi, x.shape) is not supported; give the sizes");
    return rs_error();
  }
  ir_vec_push(&ops, lo);
  ir_vec_push(&ops, hi);
  for (int i = 0; i < dims.n; i++)
    ir_vec_push(&ops, dims.v[i]);
  IrNode *n = rs_emit(L, IR_RANDINT, call->loc, ops.n, (IrNode **)ops.v);
  n->at.dtype = DT_I64;
  return rs_node(n, call->loc);
}

/* tensor([[1, 2], [3, 4]], dtype=) - the literal is read at compile time. */
static bool literal(Resolver *L, AstNode *e, int depth, IrAttrs *at, PtrVec *vals, bool *any_float,
                    bool *all_bool) {
  if (e->kind == AST_LIST || e->kind == AST_TUPLE) {
    if (depth >= IR_MAX_RANK) {
      ir_error(e->loc, "a tensor literal has at most %d levels of brackets", IR_MAX_RANK);
      return false;
    }
    if (depth >= at->rank) {
      if (vals->n > 0) {
        ir_error(e->loc, "ragged tensor literal: a list where a number was expected");
        return false;
      }
      at->rank = depth + 1;
      at->shape[depth] = e->items.n;
    } else if (at->shape[depth] != e->items.n) {
      ir_error(e->loc, "ragged tensor literal: %d element%s where %lld were expected (every row needs as many)",
               e->items.n, e->items.n == 1 ? "" : "s", (long long)at->shape[depth]);
      return false;
    }
    for (int i = 0; i < e->items.n; i++)
      if (!literal(L, e->items.v[i], depth + 1, at, vals, any_float, all_bool))
        return false;
    return true;
  }
  if (depth != at->rank) {
    ir_error(e->loc, "ragged tensor literal: a number where a list was expected");
    return false;
  }
  CVal c;
  if (!rs_ceval(L, e, &c, true)) {
    ir_error(e->loc, "a tensor literal holds numbers known at compile time (for tensors, use stack([...]))");
    return false;
  }
  double *d = ir_alloc(sizeof(double));
  *d = c.is_float ? c.f : (double)c.i;
  *any_float |= c.is_float;
  *all_bool &= c.is_bool;
  ir_vec_push(vals, d);
  return true;
}

/* The dtype is NumPy's with PyTorch's default float: a float makes the
 * literal f32, else an int makes it i64, else it is bool; [] is f32. */
IrNode *rs_tensor_literal(Resolver *L, AstNode *lit, bool has_dtype, DType dtype) {
  IrAttrs at = {0};
  PtrVec vals = {0};
  bool any_float = false, all_bool = true;
  if (!literal(L, lit, 0, &at, &vals, &any_float, &all_bool))
    return NULL;
  DType dt = any_float || vals.n == 0 ? DT_F32 : all_bool ? DT_BOOL : DT_I64;
  if (has_dtype)
    dt = dtype;
  IrNode *n = rs_emit(L, IR_TENSOR, lit->loc, 0, NULL);
  n->at.rank = at.rank;
  memcpy(n->at.shape, at.shape, sizeof at.shape);
  n->at.ndata = vals.n;
  n->at.data = ir_alloc(sizeof(double) * (size_t)(vals.n ? vals.n : 1));
  for (int i = 0; i < vals.n; i++)
    n->at.data[i] = *(double *)vals.v[i];
  n->at.dtype = dt;
  return n;
}

static Val h_tensor(Resolver *L, Args *A, IrOp op, AstNode *call) {
  AstNode *lit = A->ast[slot(A, "data")];
  if (!lit) {
    ir_error(call->loc, "tensor() needs a literal");
    return rs_error();
  }
  DType dt = DT_UNKNOWN;
  if (!arg_dtype(L, A, "dtype", &dt))
    return rs_error();
  IrNode *n = rs_tensor_literal(L, lit, dt != DT_UNKNOWN, dt);
  if (!n)
    return rs_error();
  n->loc = call->loc;
  return rs_node(n, call->loc);
}

/* reshape(x, 2, -1) / reshape(x, (2, -1)); broadcast_to likewise. */
static Val h_sized(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x"), *like;
  PtrVec ops = {0};
  if (!x)
    return rs_error();
  ir_vec_push(&ops, x);
  if (!shape_args(L, A, &ops, &like))
    return rs_error();
  if (like) {
    ir_error(call->loc, "%s(x, y.shape) is not supported yet; give the sizes (y.shape[0], ...)", A->fname);
    return rs_error();
  }
  if (ops.n == 1) {
    ir_error(call->loc, "%s() needs the new shape", A->fname);
    return rs_error();
  }
  return emit(L, op, call->loc, ops.n, (IrNode **)ops.v);
}

/* transpose(x, axes) / x.transpose(1, 0) / permute(x, 1, 0) */
static Val h_transpose(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  if (!x)
    return rs_error();
  IrNode *n = rs_emit(L, IR_TRANSPOSE, call->loc, 1, &x);
  AstNode **src = A->rest;
  int cnt = A->nrest;
  if (cnt == 1 && (src[0]->kind == AST_TUPLE || src[0]->kind == AST_LIST)) {
    cnt = src[0]->items.n;
    src = src[0]->items.v;
  }
  if (cnt == 1 && src[0]->kind == AST_NONE)
    cnt = 0;
  if (cnt > IR_MAX_RANK) {
    ir_error(call->loc, "too many axes");
    return rs_error();
  }
  for (int i = 0; i < cnt; i++) {
    CVal c;
    if (!rs_ceval(L, src[i], &c, true) || c.is_float || c.i < -64 || c.i > 64) {
      ir_error(src[i]->loc, "%s() needs axes as integers known at compile time", A->fname);
      return rs_error();
    }
    n->at.axes[i] = (int)c.i;
  }
  n->at.naxes = cnt;
  n->at.has_axes = cnt > 0;
  if (op == IR_TRANSPOSE && strcmp(A->fname, "permute") == 0 && cnt == 0) {
    ir_error(call->loc, "permute() needs the new order of the axes");
    return rs_error();
  }
  return rs_node(n, call->loc);
}

/* squeeze(x, axis=), unsqueeze(x, axis), flip(x, axis=), flatten(x) */
static Val h_axes(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  IrAttrs at = {0};
  if (!x || (A->n > 1 && !arg_axes(L, A, "axis", &at)))
    return rs_error();
  if (op == IR_UNSQUEEZE && at.naxes != 1) {
    ir_error(call->loc, "%s() needs one axis", A->fname);
    return rs_error();
  }
  IrNode *n = rs_emit(L, op, call->loc, 1, &x);
  memcpy(n->at.axes, at.axes, sizeof at.axes);
  n->at.naxes = at.naxes;
  n->at.has_axes = at.has_axes;
  return rs_node(n, call->loc);
}

/* cat(xs, axis=0), stack(xs, axis=0) */
static Val h_join(Resolver *L, Args *A, IrOp op, AstNode *call) {
  Val xs = arg_val(L, A, "tensors");
  int64_t axis;
  if (xs.kind == V_ERROR || !arg_int(L, A, "axis", 0, &axis))
    return rs_error();
  if (xs.kind != V_LIST && xs.kind != V_TUPLE) {
    ir_error(xs.loc, "%s() takes a list of tensors, e.g. %s([a, b], axis=0)", A->fname, A->fname);
    return rs_error();
  }
  if (xs.n == 0) {
    ir_error(xs.loc, "%s() needs at least one tensor", A->fname);
    return rs_error();
  }
  PtrVec ops = {0};
  for (int i = 0; i < xs.n; i++) {
    IrNode *n = rs_as_node(L, xs.elems[i], ir_sprintf("an element of %s()'s list", A->fname));
    if (!n)
      return rs_error();
    ir_vec_push(&ops, n);
  }
  IrNode *n = rs_emit(L, op, call->loc, ops.n, (IrNode **)ops.v);
  n->at.axes[0] = (int)(axis < -64 ? -64 : axis > 64 ? 64 : axis);
  n->at.naxes = 1;
  n->at.has_axes = true;
  return rs_node(n, call->loc);
}

/* split(x, sections, axis=0): a tuple of equal parts, as np.split. */
static Val h_split(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  int64_t parts, axis;
  if (!x || !arg_int(L, A, "sections", 1, &parts) || !arg_int(L, A, "axis", 0, &axis))
    return rs_error();
  if (parts < 1 || parts > 1024) {
    ir_error(call->loc, "split() needs between 1 and 1024 sections, not %lld", (long long)parts);
    return rs_error();
  }
  IrNode *s = rs_emit(L, IR_SPLIT, call->loc, 1, &x);
  s->at.ival = parts;
  s->at.axes[0] = (int)(axis < -64 ? -64 : axis > 64 ? 64 : axis);
  s->at.naxes = 1;
  s->at.has_axes = true;
  Val t = {.kind = V_TUPLE, .n = (int)parts, .loc = call->loc};
  t.elems = ir_alloc(sizeof(Val) * (size_t)parts);
  for (int i = 0; i < parts; i++) {
    IrNode *r = rs_emit(L, IR_RESULT, call->loc, 1, &s);
    r->parent = s;
    r->at.ival = i;
    t.elems[i] = rs_node(r, call->loc);
  }
  return t;
}

static Val h_cast(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  DType dt = DT_UNKNOWN;
  if (!x || !arg_dtype(L, A, "dtype", &dt))
    return rs_error();
  IrNode *n = rs_emit(L, IR_CAST, call->loc, 1, &x);
  n->at.dtype = dt;
  return rs_node(n, call->loc);
}

/* int(x), as Python's int() of a NumPy value: x must hold one element
 * (a reshape to rank 0, which refuses more), truncated toward zero to i64
 * (zeros(int(sum(x)) - 5)). */
static Val h_int(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  if (!x)
    return rs_error();
  IrNode *one = rs_emit(L, IR_RESHAPE, call->loc, 1, &x);
  one->at.str = "int()"; /* its size errors are int()'s (shape, lower) */
  IrNode *n = rs_emit(L, op, call->loc, 1, &one);
  n->at.dtype = DT_I64;
  return rs_node(n, call->loc);
}

/* x.to(cuda), x.cpu(), x.cuda() */
static Val h_to(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  if (!x)
    return rs_error();
  Device d = strcmp(A->fname, "cpu") == 0 ? DEV_CPU : DEV_CUDA;
  if (strcmp(A->fname, "to") == 0) {
    Val v = arg_val(L, A, "device");
    if (v.kind != V_DEVICE) {
      if (v.kind != V_ERROR)
        ir_error(v.loc, "to() needs a device: cpu or cuda");
      return rs_error();
    }
    d = v.device;
  }
  IrNode *n = rs_emit(L, IR_TO_DEVICE, call->loc, 1, &x);
  n->at.device = d;
  return rs_node(n, call->loc);
}

static const char *value_name(Val v) { return v.param ? v.param : v.node && v.node->name ? v.node->name : "value"; }

/* grad(y, x) or grad(y, [x1, x2]) */
static Val h_grad(Resolver *L, Args *A, IrOp op, AstNode *call) {
  Val y = arg_val(L, A, "y"), x = arg_val(L, A, "x");
  IrNode *yn = rs_as_node(L, y, "the first argument of grad()");
  if (!yn || x.kind == V_ERROR)
    return rs_error();
  bool many = x.kind == V_LIST || x.kind == V_TUPLE;
  int n = many ? x.n : 1;
  Val out = {.kind = V_TUPLE, .n = n, .loc = call->loc};
  out.elems = ir_alloc(sizeof(Val) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    Val xi = many ? x.elems[i] : x;
    IrNode *xn = rs_as_node(L, xi, "the variable of grad()");
    if (!xn)
      return rs_error();
    IrNode *args[2] = {yn, xn};
    IrNode *g = rs_emit(L, IR_GRAD, call->loc, 2, args);
    g->name = ir_sprintf("grad(%s, %s)", value_name(y), value_name(xi));
    g->at.str = xi.param; /* a param's gradient: --dist=mpi averages it (passes/autodiff_dist.c) */
    out.elems[i] = rs_node(g, call->loc);
  }
  return many ? out : out.elems[0];
}

static Val h_params(Resolver *L, Args *A, IrOp op, AstNode *call) {
  Val v = {.kind = V_LIST, .n = L->m->params.n, .loc = call->loc};
  v.elems = ir_alloc(sizeof(Val) * (size_t)(v.n ? v.n : 1));
  for (int i = 0; i < v.n; i++) {
    IrParam *p = L->m->params.v[i];
    Binding *b = rs_env_get(&L->params, p->name);
    if (!b || !b->node) {
      ir_error(call->loc, "params() is not available while params are being initialised");
      return rs_error();
    }
    v.elems[i] = rs_node(b->node, call->loc);
    v.elems[i].param = p->name;
  }
  return v;
}

static Val h_print(Resolver *L, Args *A, IrOp op, AstNode *call) {
  PtrVec ops = {0}, strs = {0};
  for (int i = 0; i < call->items.n; i++) {
    AstNode *a = call->items.v[i];
    if (a->kind == AST_KWARG) {
      ir_error(a->loc, "print() takes no keyword arguments");
      return rs_error();
    }
    Val v = rs_expr(L, a);
    if (v.kind == V_STRING) {
      ir_vec_push(&strs, (void *)v.str);
      continue;
    }
    IrNode *n = rs_as_node(L, v, "an argument of print()");
    if (!n)
      return rs_error();
    ir_vec_push(&strs, NULL);
    ir_vec_push(&ops, n);
  }
  IrNode *n = rs_emit(L, IR_PRINT, call->loc, ops.n, (IrNode **)ops.v);
  n->at.strs = (const char **)strs.v;
  n->at.nstrs = strs.n;
  return (Val){.kind = V_NONE, .loc = call->loc};
}

static Val h_save(Resolver *L, Args *A, IrOp op, AstNode *call) {
  Val path = arg_val(L, A, "path");
  IrNode *x = arg_node(L, A, "x");
  if (path.kind != V_STRING) {
    if (path.kind != V_ERROR)
      ir_error(path.loc, "save() needs a file name string first: save(\"out.npy\", x)");
    return rs_error();
  }
  if (!x)
    return rs_error();
  size_t len = strlen(path.str);
  if (!(len > 4 && (strcmp(path.str + len - 4, ".npy") == 0 || strcmp(path.str + len - 4, ".csv") == 0))) {
    ir_error(path.loc, "save() writes .npy or .csv files, not '%s'", path.str);
    return rs_error();
  }
  IrNode *n = rs_emit(L, IR_SAVE, call->loc, 1, &x);
  n->at.str = path.str;
  return (Val){.kind = V_NONE, .loc = call->loc};
}

/* all_reduce(x, op="sum" | "mean" | "max"): one op a reduction (ir/ops.def) */
static Val h_all_reduce(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "x");
  if (!x)
    return rs_error();
  const char *kind = "sum";
  if (given(A, "op")) {
    Val v = arg_val(L, A, "op");
    if (v.kind != V_STRING || (strcmp(v.str, "sum") && strcmp(v.str, "mean") && strcmp(v.str, "max"))) {
      if (v.kind != V_ERROR)
        ir_error(v.loc, "all_reduce(op=) is \"sum\", \"mean\" or \"max\", not %s",
                 v.kind == V_STRING ? ir_sprintf("\"%s\"", v.str) : rs_val_kind_text(v.kind));
      return rs_error();
    }
    kind = v.str;
  }
  IrOp r = strcmp(kind, "mean") == 0 ? IR_ALL_REDUCE_MEAN : strcmp(kind, "max") == 0 ? IR_ALL_REDUCE_MAX : IR_ALL_REDUCE_SUM;
  return emit(L, r, call->loc, 1, &x);
}

/* broadcast(x, root=0) */
static Val h_broadcast(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *args[2] = {arg_node(L, A, "x"), given(A, "root") ? arg_node(L, A, "root") : rs_const_int(L, call->loc, 0)};
  if (!args[0] || !args[1])
    return rs_error();
  return emit(L, op, call->loc, 2, args);
}

static Val h_seed(Resolver *L, Args *A, IrOp op, AstNode *call) {
  IrNode *x = arg_node(L, A, "n");
  if (!x)
    return rs_error();
  rs_emit(L, IR_SEED, call->loc, 1, &x);
  return (Val){.kind = V_NONE, .loc = call->loc};
}

static Val h_linspace(Resolver *L, Args *A, IrOp op, AstNode *call) { return h_operands(L, A, op, call); }

/* ===== the table ===== */

typedef struct Builtin {
  const char *name;
  const char *sig;
  Handler fn;
  IrOp op;
  bool method; /* also callable as x.name(...) */
} Builtin;

static const Builtin builtins[] = {
    /* creation */
    {"zeros", "*shape dtype=", h_create, IR_FULL, false},
    {"ones", "*shape dtype=", h_create, IR_FULL, false},
    {"empty", "*shape dtype=", h_create, IR_FULL, false},
    {"full", "*shape fill_value= dtype=", h_create, IR_FULL, false},
    {"rand", "*shape dtype=", h_create, IR_RAND, false},
    {"randn", "*shape dtype=", h_create, IR_RANDN, false},
    {"zeros_like", "x dtype=", h_like, IR_FULL_LIKE, false},
    {"ones_like", "x dtype=", h_like, IR_FULL_LIKE, false},
    {"full_like", "x fill_value dtype=", h_like, IR_FULL_LIKE, false},
    {"arange", "start stop= step= dtype=", h_arange, IR_ARANGE, false},
    {"linspace", "start stop num", h_linspace, IR_LINSPACE, false},
    {"eye", "n dtype=", h_eye, IR_EYE, false},
    {"randint", "low high *shape", h_randint, IR_RANDINT, false},
    {"tensor", "data dtype=", h_tensor, IR_TENSOR, false},
    /* elementwise */
    {"neg", "x", h_operands, IR_NEG, true},
    {"abs", "x", h_operands, IR_ABS, true},
    {"sign", "x", h_operands, IR_SIGN, true},
    {"exp", "x", h_operands, IR_EXP, true},
    {"log", "x", h_operands, IR_LOG, true},
    {"log1p", "x", h_operands, IR_LOG1P, true},
    {"expm1", "x", h_operands, IR_EXPM1, true},
    {"sqrt", "x", h_operands, IR_SQRT, true},
    {"rsqrt", "x", h_operands, IR_RSQRT, true},
    {"sin", "x", h_operands, IR_SIN, true},
    {"cos", "x", h_operands, IR_COS, true},
    {"tan", "x", h_operands, IR_TAN, true},
    {"tanh", "x", h_operands, IR_TANH, true},
    {"sigmoid", "x", h_operands, IR_SIGMOID, true},
    {"relu", "x", h_operands, IR_RELU, true},
    {"gelu", "x", h_operands, IR_GELU, true},
    {"softplus", "x", h_operands, IR_SOFTPLUS, true},
    {"floor", "x", h_operands, IR_FLOOR, true},
    {"ceil", "x", h_operands, IR_CEIL, true},
    {"round", "x", h_operands, IR_ROUND, true},
    {"logical_not", "x", h_operands, IR_NOT, true},
    {"isnan", "x", h_operands, IR_ISNAN, true},
    {"isfinite", "x", h_operands, IR_ISFINITE, true},
    {"maximum", "x y", h_operands, IR_MAXIMUM, true},
    {"minimum", "x y", h_operands, IR_MINIMUM, true},
    {"logical_and", "x y", h_operands, IR_AND, true},
    {"logical_or", "x y", h_operands, IR_OR, true},
    {"where", "condition x y", h_operands, IR_WHERE, false},
    {"clip", "x lo hi", h_operands, IR_CLIP, true},
    /* reductions */
    {"sum", "x axis= keepdims=", h_reduce, IR_SUM, true},
    {"mean", "x axis= keepdims=", h_reduce, IR_MEAN, true},
    {"prod", "x axis= keepdims=", h_reduce, IR_PROD, true},
    {"max", "x axis= keepdims=", h_reduce, IR_MAX, true},
    {"min", "x axis= keepdims=", h_reduce, IR_MIN, true},
    {"argmax", "x axis= keepdims=", h_reduce, IR_ARGMAX, true},
    {"argmin", "x axis= keepdims=", h_reduce, IR_ARGMIN, true},
    {"var", "x axis= keepdims= ddof=", h_reduce, IR_VAR, true},
    {"std", "x axis= keepdims= ddof=", h_reduce, IR_STD, true},
    {"logsumexp", "x axis= keepdims=", h_reduce, IR_LOGSUMEXP, true},
    {"any", "x axis= keepdims=", h_reduce, IR_ANY, true},
    {"all", "x axis= keepdims=", h_reduce, IR_ALL, true},
    /* linear algebra */
    {"matmul", "x y", h_operands, IR_MATMUL, true},
    {"dot", "x y", h_operands, IR_DOT, true},
    {"outer", "x y", h_operands, IR_OUTER, true},
    /* shape */
    {"reshape", "x *shape", h_sized, IR_RESHAPE, true},
    {"broadcast_to", "x *shape", h_sized, IR_BROADCAST_TO, true},
    {"transpose", "x *axes", h_transpose, IR_TRANSPOSE, true},
    {"permute", "x *axes", h_transpose, IR_TRANSPOSE, true},
    {"squeeze", "x axis=", h_axes, IR_SQUEEZE, true},
    {"unsqueeze", "x axis", h_axes, IR_UNSQUEEZE, true},
    {"expand_dims", "x axis", h_axes, IR_UNSQUEEZE, true},
    {"flatten", "x", h_axes, IR_FLATTEN, true},
    {"flip", "x axis=", h_axes, IR_FLIP, true},
    {"cat", "tensors axis=", h_join, IR_CAT, false},
    {"concatenate", "tensors axis=", h_join, IR_CAT, false},
    {"stack", "tensors axis=", h_join, IR_STACK, false},
    {"split", "x sections axis=", h_split, IR_SPLIT, true},
    {"clone", "x", h_operands, IR_COPY, true},
    {"copy", "x", h_operands, IR_COPY, true},
    /* casting, devices, autodiff, state, output */
    {"astype", "x dtype", h_cast, IR_CAST, true},
    {"int", "x", h_int, IR_CAST, false},
    {"to", "x device", h_to, IR_TO_DEVICE, true},
    {"cpu", "x", h_to, IR_TO_DEVICE, true},
    {"cuda", "x", h_to, IR_TO_DEVICE, true},
    {"detach", "x", h_operands, IR_DETACH, true},
    {"grad", "y x", h_grad, IR_GRAD, false},
    {"params", "", h_params, IR_PARAM, false},
    {"seed", "n", h_seed, IR_SEED, false},
    {"print", "", h_print, IR_PRINT, false},
    {"save", "path x", h_save, IR_SAVE, false},
    /* data-parallel runs (SPEC §8): in one process rank 0 of 1, the identity */
    {"rank", "", h_operands, IR_RANK, false},
    {"world_size", "", h_operands, IR_WORLD_SIZE, false},
    {"all_reduce", "x op=", h_all_reduce, IR_ALL_REDUCE_SUM, false},
    {"broadcast", "x root=", h_broadcast, IR_BROADCAST, false},
};

static const Builtin *find(const char *name) {
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (strcmp(builtins[i].name, name) == 0)
      return &builtins[i];
  return NULL;
}

bool rs_is_builtin(const char *name) { return find(name) != NULL; }

void rs_suggest_builtins(Suggest *s, bool methods) {
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (!methods || builtins[i].method)
      rs_suggest_add(s, builtins[i].name);
}

Val rs_builtin_call(Resolver *L, const char *name, AstNode *call, Val *self) {
  const Builtin *b = find(name);
  if (self && !b->method) {
    ir_error(call->a->loc, "%s() is a function, not a method: write %s(...)", name, name);
    return rs_error();
  }
  if (self && self->kind != V_NODE) {
    if (self->kind != V_ERROR)
      ir_error(call->a->loc, "%s has no method '%s'", self->kind == V_SHAPE ? "a shape" : "this value", name);
    return rs_error();
  }
  if (b->fn == h_print)
    return h_print(L, NULL, b->op, call);
  Args A;
  if (!bind(&A, name, b->sig, call, self))
    return rs_error();
  return b->fn(L, &A, b->op, call);
}

Val rs_attribute(Resolver *L, Val obj, AstNode *attr) {
  IrNode *x = rs_as_node(L, obj, ir_sprintf("the object of '.%s'", attr->name));
  if (!x)
    return rs_error();
  if (strcmp(attr->name, "T") == 0) {
    IrNode *n = rs_emit(L, IR_TRANSPOSE, attr->loc, 1, &x);
    return rs_node(n, attr->loc);
  }
  if (strcmp(attr->name, "shape") == 0)
    return (Val){.kind = V_SHAPE, .node = x, .loc = attr->loc};
  if (strcmp(attr->name, "ndim") == 0)
    return rs_node(rs_emit(L, IR_NDIM, attr->loc, 1, &x), attr->loc);
  if (rs_is_builtin(attr->name))
    ir_error(attr->loc, "'%s' is a method: call it, x.%s(...)", attr->name, attr->name);
  else
    ir_error(attr->loc, "a tensor has no attribute '%s'", attr->name);
  return rs_error();
}
