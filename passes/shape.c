/* passes/shape.c - the shape pass: dtype, shape and device of every value.
 *
 * Requires: resolved module (no calls, no names; entry arguments typed).
 * Preserves: the graph (it only inserts a cast where a loop-carried or
 * if-merged Python scalar must change dtype); sets IrNode.type everywhere
 * and IrParam.type, rewrites every type through the dims it bound.
 *
 * The pass walks each function's blocks in order (the params' init function
 * first, so that reads of a param know its type) and calls the node's rule
 * from a table generated from ops.def.  The rules live in shape_rules_*.c,
 * one file an op class; this file holds what they share:
 *
 *  1. Diagnostics.  Each error names what was expected and what was found,
 *     with notes at the nodes the clashing types came from.  A node with an
 *     error gets the poison type (TY_UNKNOWN); a node with a poisoned operand
 *     is skipped silently, so one mistake gives one error while the rest of
 *     the function is still checked.  A loop body may be walked more than
 *     once (to learn the types of variables first assigned inside it); the
 *     diagnostics of a walk are held back until its types are confirmed.
 *  2. Unification of dims.  A substitution maps symbols to dims.  Two dims
 *     are unified by solving their difference for a symbol that occurs once,
 *     linearly, with a coefficient that divides the rest (a bare symbol is
 *     the common case), the newest such symbol (inlined instances and fresh symbols are newer than
 *     the caller's, so dumps keep the caller's names).  Constants that differ
 *     and expressions that cannot be solved are errors.  A binding is an
 *     assumption the compiler cannot prove: docs/shapes.md lists them, and
 *     they are the run-time checks codegen must emit.
 *  3. Broadcasting, promotion and devices, used by most rules.
 *  4. The end of the pass: casts where a Python scalar changed dtype in a
 *     loop or an if, then every type, symval, declared type and param type
 *     rewritten through the substitution.
 */
#include "shape_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*ShapeRule)(ShapeCtx *S, IrNode *n);

static const ShapeRule rules[IR_NUM_OPS] = {
#define X(name, text, nargs, cls, shape, grad) [IR_##name] = shape,
#include "../ir/ops.def"
#undef X
};

/* ---- 1. diagnostics ---- */

typedef struct PendingDiag {
  bool note;
  Loc loc;
  char *msg;
} PendingDiag;

static void emit(ShapeCtx *S, bool note, Loc loc, const char *msg) {
  if (S->buffering) {
    if (S->npend == S->cappend) {
      S->cappend = S->cappend ? 2 * S->cappend : 32;
      S->pend = realloc(S->pend, sizeof *S->pend * (size_t)S->cappend);
      if (!S->pend)
        ir_die((Loc){0}, "out of memory");
    }
    PendingDiag *d = &S->pend[S->npend++];
    size_t len = strlen(msg) + 1;
    d->note = note, d->loc = loc, d->msg = malloc(len);
    if (!d->msg)
      ir_die((Loc){0}, "out of memory");
    memcpy(d->msg, msg, len);
    return;
  }
  if (note) {
    ir_note(loc, "%s", msg);
  } else {
    S->nerrors++;
    ir_error(loc, "%s", msg);
  }
}

int sh_hold(ShapeCtx *S) {
  S->buffering++;
  return S->npend;
}

void sh_release(ShapeCtx *S, int mark, bool keep) {
  S->buffering--;
  if (!keep) {
    for (int i = mark; i < S->npend; i++)
      free(S->pend[i].msg);
    S->npend = mark;
  }
  if (S->buffering == 0) {
    for (int i = 0; i < S->npend; i++) {
      emit(S, S->pend[i].note, S->pend[i].loc, S->pend[i].msg);
      free(S->pend[i].msg);
    }
    S->npend = 0;
  }
}

void sh_error(ShapeCtx *S, Loc loc, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit(S, false, loc, msg);
}

void sh_note(ShapeCtx *S, Loc loc, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit(S, true, loc, msg);
}

/* A ring of buffers, so one message can format several types. */
static char *ring(void) {
  static char bufs[8][256];
  static int next;
  next = (next + 1) % 8;
  return bufs[next];
}

const char *sh_tstr(const IrType *t) { return ir_type_format(t, ring(), 256); }
const char *sh_dstr(Dim d) { return dim_format(d, ring(), 256); }

const char *sh_clash(Dim a, Dim b) {
  char *buf = ring();
  if (dim_is_const(a, NULL) && dim_is_const(b, NULL))
    snprintf(buf, 256, "%s vs %s", sh_dstr(a), sh_dstr(b));
  else
    snprintf(buf, 256, "cannot show that %s equals %s", sh_dstr(a), sh_dstr(b));
  return buf;
}

void sh_note_operand(ShapeCtx *S, IrNode *n, int i, const char *what) {
  if (i < 0 || i >= n->nargs)
    return;
  IrType t = sh_type(S, n->args[i]);
  sh_note(S, n->args[i]->loc, "%s %s comes from here", what, sh_tstr(&t));
}

bool sh_check_rank(ShapeCtx *S, IrNode *n, int rank) {
  if (rank <= IR_MAX_RANK)
    return true;
  sh_error(S, n->loc, "tensor rank %d exceeds the maximum of %d", rank, IR_MAX_RANK);
  return false;
}

/* ---- 2. the substitution ---- */

static void grow_bind(ShapeCtx *S, int sym) {
  if (sym < S->nbind)
    return;
  int n = S->nbind ? S->nbind : 64;
  while (n <= sym)
    n *= 2;
  Dim *b = calloc((size_t)n, sizeof *b);
  bool *bd = calloc((size_t)n, sizeof *bd);
  if (!b || !bd)
    ir_die((Loc){0}, "out of memory");
  if (S->nbind) {
    memcpy(b, S->bind, sizeof *b * (size_t)S->nbind);
    memcpy(bd, S->bound, sizeof *bd * (size_t)S->nbind);
  }
  free(S->bind);
  free(S->bound);
  S->bind = b;
  S->bound = bd;
  S->nbind = n;
}

static bool is_bound(ShapeCtx *S, int sym) { return sym < S->nbind && S->bound[sym]; }

/* Bindings only mention symbols unbound when they were made, so following
 * them terminates; the bound guards against a bug. */
Dim sh_resolve(ShapeCtx *S, Dim d) {
  for (int iter = 0; iter < 10000 && !d.overflow; iter++) {
    int found = 0;
    for (int i = 0; i < d.n && !found; i++)
      for (int j = 0; j < d.t[i].deg && !found; j++)
        if (is_bound(S, d.t[i].sym[j]))
          found = d.t[i].sym[j];
    if (!found)
      return d;
    d = dim_subst(d, found, S->bind[found]);
  }
  return d;
}

static void resolve_type(ShapeCtx *S, IrType *t) {
  if (t->kind != TY_TENSOR || t->rank < 0 || t->rank > IR_MAX_RANK)
    return;
  for (int i = 0; i < t->rank; i++)
    t->dims[i] = sh_resolve(S, t->dims[i]);
}

IrType sh_type(ShapeCtx *S, IrNode *v) {
  IrType t = v->type;
  resolve_type(S, &t);
  return t;
}

/* The newest (largest) symbol of d, 0 for a constant. */
static int newest_sym(Dim d) {
  int m = 0;
  for (int i = 0; i < d.n; i++)
    for (int j = 0; j < d.t[i].deg; j++)
      if (d.t[i].sym[j] > m)
        m = d.t[i].sym[j];
  return m;
}

bool sh_unify(ShapeCtx *S, Dim a, Dim b) {
  a = sh_resolve(S, a);
  b = sh_resolve(S, b);
  if (a.overflow || b.overflow)
    return false;
  if (dim_eq(a, b))
    return true;
  if (dim_is_const(a, NULL) && dim_is_const(b, NULL))
    return false;
  Dim diff = dim_sub(a, b);
  if (diff.overflow)
    return false;
  /* a symbol that occurs once, alone: c*s + rest = 0 with c dividing rest */
  int best = 0;
  Dim val = dim_const(0);
  for (int i = 0; i < diff.n; i++) {
    const DimTerm *t = &diff.t[i];
    if (t->deg != 1 || t->coef == INT64_MIN)
      continue;
    int s = t->sym[0], uses = 0;
    for (int k = 0; k < diff.n; k++)
      for (int j = 0; j < diff.t[k].deg; j++)
        uses += diff.t[k].sym[j] == s;
    if (uses != 1 || s <= best)
      continue;
    Dim rest = dim_sub(diff, dim_mul(dim_const(t->coef), dim_sym(s))), q;
    int64_t c;
    if (!dim_div_exact(rest, dim_const(-t->coef), &q) || q.overflow || (dim_is_const(q, &c) && c < 0))
      continue; /* not an integer, or a negative size */
    if (newest_sym(q) > s)
      continue; /* only to older symbols: a newer one is set later in the program (randn(2 + i) of a loop
                 * carried into a later loop as randn(2 * i): the first loop's size would read the second's) */
    best = s, val = q;
  }
  if (!best)
    return false;
  grow_bind(S, best);
  S->bind[best] = val;
  S->bound[best] = true;
  return true;
}

void sh_subst_save(ShapeCtx *S, SubstSave *s) {
  s->n = S->nbind;
  s->bind = malloc(sizeof(Dim) * (size_t)(s->n ? s->n : 1));
  s->bound = malloc(sizeof(bool) * (size_t)(s->n ? s->n : 1));
  if (!s->bind || !s->bound)
    ir_die((Loc){0}, "out of memory");
  if (s->n) {
    memcpy(s->bind, S->bind, sizeof(Dim) * (size_t)s->n);
    memcpy(s->bound, S->bound, sizeof(bool) * (size_t)s->n);
  }
}

void sh_subst_forget(SubstSave *s) {
  free(s->bind);
  free(s->bound);
}

void sh_subst_restore(ShapeCtx *S, SubstSave *s) {
  if (s->n) {
    memcpy(S->bind, s->bind, sizeof(Dim) * (size_t)s->n);
    memcpy(S->bound, s->bound, sizeof(bool) * (size_t)s->n);
  }
  for (int i = s->n; i < S->nbind; i++)
    S->bound[i] = false; /* symbols bound during the walk are free again */
  free(s->bind);
  free(s->bound);
}

Dim sh_fresh(ShapeCtx *S, const char *name, Loc loc) {
  return dim_sym(ir_sym_new(name ? name : "n", loc));
}

/* ---- node info ---- */

static unsigned hash_ptr(const void *p) {
  uintptr_t x = (uintptr_t)p;
  x ^= x >> 17;
  x *= 0x9E3779B97F4A7C15ull;
  return (unsigned)(x >> 32);
}

NodeInfo *sh_info_get(ShapeCtx *S, IrNode *n) {
  if (!S->capinfo)
    return NULL;
  for (unsigned h = hash_ptr(n);; h++) {
    NodeInfo *e = &S->info[h & (unsigned)(S->capinfo - 1)];
    if (!e->node)
      return NULL;
    if (e->node == n)
      return e;
  }
}

NodeInfo *sh_info(ShapeCtx *S, IrNode *n) {
  NodeInfo *e = sh_info_get(S, n);
  if (e)
    return e;
  if (2 * (S->ninfo + 1) > S->capinfo) {
    int cap = S->capinfo ? 2 * S->capinfo : 256;
    NodeInfo *old = S->info;
    int oldcap = S->capinfo;
    S->info = calloc((size_t)cap, sizeof *S->info);
    if (!S->info)
      ir_die((Loc){0}, "out of memory");
    S->capinfo = cap;
    for (int i = 0; i < oldcap; i++)
      if (old[i].node)
        for (unsigned h = hash_ptr(old[i].node);; h++) {
          NodeInfo *d = &S->info[h & (unsigned)(cap - 1)];
          if (!d->node) {
            *d = old[i];
            break;
          }
        }
    free(old);
  }
  for (unsigned h = hash_ptr(n);; h++) {
    e = &S->info[h & (unsigned)(S->capinfo - 1)];
    if (!e->node) {
      e->node = n;
      S->ninfo++;
      return e;
    }
  }
}

bool sh_is_undef(ShapeCtx *S, IrNode *n) {
  if (n->op == IR_UNDEF)
    return true;
  NodeInfo *e = sh_info_get(S, n);
  return e && e->undef;
}

/* ---- types ---- */

void sh_poison_type(IrType *t) {
  memset(t, 0, sizeof *t);
  t->kind = TY_UNKNOWN;
}

void sh_poison(IrNode *n) {
  sh_poison_type(&n->type);
  n->has_symval = false;
}

void sh_set(IrNode *n, DType dt, int rank, const Dim *dims, Device dev) {
  n->type = ir_type_tensor(dt, rank, dims);
  n->type.device = dev;
}

bool sh_is_int_scalar(const IrType *t) {
  return t->kind == TY_TENSOR && t->rank == 0 && ir_dtype_is_int(t->dtype);
}

typedef enum ConstArith { CONST_OK, CONST_NONE, CONST_OVERFLOW } ConstArith;
static ConstArith const_arith(IrOp op, int64_t a, int64_t b, int64_t *r);
static bool const_operands(ShapeCtx *S, IrNode *n, int64_t *a, int64_t *b);

/* The dim value of an integer scalar; arithmetic on values not known yet
 * is followed a few levels, so that zeros(n + 1) gets "n + 1". */
static bool value_dim(ShapeCtx *S, IrNode *v, int depth, Dim *out) {
  if (v->has_symval) {
    *out = sh_resolve(S, v->symval);
    return true;
  }
  IrType t = v->type;
  if (!sh_is_int_scalar(&t))
    return false;
  if (depth < 16) {
    Dim a, b;
    switch (v->op) {
    case IR_ADD:
    case IR_SUB:
    case IR_MUL:
      if (v->nargs == 2 && value_dim(S, v->args[0], depth + 1, &a) &&
          value_dim(S, v->args[1], depth + 1, &b)) {
        Dim r = v->op == IR_ADD ? dim_add(a, b) : v->op == IR_SUB ? dim_sub(a, b) : dim_mul(a, b);
        if (!r.overflow) {
          v->has_symval = true, v->symval = r, *out = r;
          return true;
        }
      }
      break;
    case IR_NEG:
      if (v->nargs == 1 && value_dim(S, v->args[0], depth + 1, &a)) {
        Dim r = dim_sub(dim_const(0), a);
        if (!r.overflow) {
          v->has_symval = true, v->symval = r, *out = r;
          return true;
        }
      }
      break;
    default:
      break;
    }
  }
  /* constants whose exact value overflows i64: the machine would wrap
   * around (2**64 is 0), so this size would be silently wrong */
  int64_t ca, cb, cr;
  if (const_operands(S, v, &ca, &cb) && const_arith(v->op, ca, cb, &cr) == CONST_OVERFLOW) {
    if (v->nargs == 2)
      sh_error(S, v->loc, "a size must fit in i64 (at most %lld), but %s(%lld, %lld) overflows it",
               (long long)INT64_MAX, ir_op_name(v->op), (long long)ca, (long long)cb);
    else
      sh_error(S, v->loc, "a size must fit in i64 (at most %lld), but %s(%lld) overflows it", (long long)INT64_MAX,
               ir_op_name(v->op), (long long)ca);
    return false;
  }
  /* unknown at compile time: a symbol stands for the run-time value */
  const char *name = v->name ? v->name : v->op == IR_ARG && v->at.str ? v->at.str : "n";
  v->has_symval = true;
  v->symval = sh_fresh(S, name, v->loc);
  *out = v->symval;
  return true;
}

bool sh_scalar_dim(ShapeCtx *S, IrNode *n, IrNode *v, const char *what, Dim *out) {
  IrType t = sh_type(S, v);
  if (!sh_is_int_scalar(&t)) {
    sh_error(S, n->loc, "%s must be an integer scalar, but got %s", what, sh_tstr(&t));
    sh_note(S, v->loc, "%s comes from here", sh_tstr(&t));
    return false;
  }
  return value_dim(S, v, 0, out);
}

bool sh_axis(ShapeCtx *S, IrNode *n, int axis, int rank, int *out) {
  if (axis < -rank || axis >= rank) {
    sh_error(S, n->loc, "axis %d is out of range for a tensor of rank %d", axis, rank);
    return false;
  }
  *out = axis < 0 ? axis + rank : axis;
  return true;
}

/* ---- 3. promotion, broadcasting, devices ---- */

int sh_category(DType dt) { return dt == DT_BOOL ? 0 : ir_dtype_is_int(dt) ? 1 : 2; }
static DType category_default(int cat) { return cat == 0 ? DT_BOOL : cat == 1 ? DT_I64 : DT_F32; }

DType sh_promote(const IrType *a, const IrType *b, bool *weak) {
  bool wa = a->weak, wb = b->weak;
  if (weak)
    *weak = wa && wb;
  DType hi = a->dtype > b->dtype ? a->dtype : b->dtype;
  if (wa == wb)
    return hi; /* the order of DType is bool < i32 < i64 < f32 < f64 */
  const IrType *w = wa ? a : b, *s = wa ? b : a;
  if (sh_category(w->dtype) > sh_category(s->dtype))
    return category_default(sh_category(w->dtype));
  return s->dtype;
}

bool sh_broadcast(ShapeCtx *S, IrNode *n, int first, int count, int *rank, Dim *dims) {
  IrType ts[4];
  if (count < 1 || count > 4)
    ir_die(n->loc, "sh_broadcast: %d operands", count);
  int r = 0;
  for (int i = 0; i < count; i++) {
    ts[i] = sh_type(S, n->args[first + i]);
    if (ts[i].rank > r)
      r = ts[i].rank;
  }
  for (int ax = 1; ax <= r; ax++) { /* from the right */
    Dim res = dim_const(1);
    int who = -1;
    for (int i = 0; i < count; i++) {
      if (ts[i].rank < ax)
        continue;
      Dim d = sh_resolve(S, ts[i].dims[ts[i].rank - ax]);
      int64_t c;
      if (dim_is_const(d, &c) && c == 1)
        continue;
      if (who < 0) {
        res = d, who = i;
        continue;
      }
      res = sh_resolve(S, res);
      if (dim_eq(res, d) || sh_unify(S, res, d)) {
        res = sh_resolve(S, res);
        continue;
      }
      const char *op = ir_op_name(n->op);
      if (count == 2)
        sh_error(S, n->loc, "%s: cannot broadcast %s and %s (%s)", op, sh_tstr(&ts[0]), sh_tstr(&ts[1]),
                 sh_clash(res, d));
      else
        sh_error(S, n->loc, "%s: cannot broadcast operand %d (%s) with operand %d (%s) (%s)", op,
                 who + 1, sh_tstr(&ts[who]), i + 1, sh_tstr(&ts[i]), sh_clash(res, d));
      const char *labels[2] = {"left operand", "right operand"};
      for (int k = 0; k < count; k++)
        if (k == who || k == i) {
          char lab[32];
          snprintf(lab, sizeof lab, "operand %d", k + 1);
          sh_note_operand(S, n, first + k, count == 2 ? labels[k] : lab);
        }
      return false;
    }
    dims[r - ax] = res;
  }
  *rank = r;
  return true;
}

bool sh_device(ShapeCtx *S, IrNode *n, int first, int count, Device *out) {
  Device dev = DEV_DEFAULT;
  int who = -1;
  for (int i = first; i < first + count; i++) {
    IrType t = n->args[i]->type;
    if (t.kind != TY_TENSOR || t.weak || t.device == DEV_DEFAULT)
      continue;
    if (who < 0) {
      dev = t.device, who = i;
    } else if (t.device != dev) {
      sh_error(S, n->loc, "%s: operands are on different devices, %s and %s", ir_op_name(n->op),
               ir_device_name(dev), ir_device_name(t.device));
      sh_note(S, n->args[who]->loc, "this operand is on %s", ir_device_name(dev));
      sh_note(S, n->args[i]->loc, "this operand is on %s", ir_device_name(t.device));
      return false;
    }
  }
  *out = dev;
  return true;
}

static bool floordiv_i64(int64_t a, int64_t b, int64_t *q) {
  if (b == 0 || (a == INT64_MIN && b == -1))
    return false;
  int64_t d = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    d--;
  *q = d;
  return true;
}

/* a ** b for b >= 0 by squaring; false on overflow. */
static bool pow_i64(int64_t a, int64_t b, int64_t *r) {
  int64_t acc = 1;
  while (b > 0) {
    if ((b & 1) && __builtin_mul_overflow(acc, a, &acc))
      return false;
    b >>= 1;
    if (b > 0 && __builtin_mul_overflow(a, a, &a))
      return false;
  }
  *r = acc;
  return true;
}

/* The integer op `op` of two constants as the CPU code computes it (b is
 * ignored by unary ops).  CONST_NONE: not a constant size (an op that is
 * not integer arithmetic, // or % by zero, a negative power: the run time
 * or another pass decides); CONST_OVERFLOW: the exact value does not fit
 * in i64, where the machine would wrap around. */
static ConstArith const_arith(IrOp op, int64_t a, int64_t b, int64_t *r) {
  bool over = false;
  switch (op) {
  case IR_ADD: over = __builtin_add_overflow(a, b, r); break;
  case IR_SUB: over = __builtin_sub_overflow(a, b, r); break;
  case IR_MUL: over = __builtin_mul_overflow(a, b, r); break;
  case IR_NEG: over = __builtin_sub_overflow((int64_t)0, a, r); break;
  case IR_ABS: over = a == INT64_MIN, *r = a < 0 ? -a : a; break;
  case IR_POW:
    if (b < 0)
      return CONST_NONE;
    over = !pow_i64(a, b, r);
    break;
  case IR_FLOORDIV:
  case IR_MOD:
    if (b == 0)
      return CONST_NONE;
    if (!floordiv_i64(a, b, r)) /* INT64_MIN // -1 */
      return op == IR_MOD ? (*r = 0, CONST_OK) : CONST_OVERFLOW;
    if (op == IR_MOD)
      *r = a - *r * b;
    break;
  case IR_MAXIMUM: *r = a > b ? a : b; break;
  case IR_MINIMUM: *r = a < b ? a : b; break;
  case IR_COPY:
  case IR_DETACH:
  case IR_CAST:
  case IR_CHECK_TYPE: *r = a; break;
  default: return CONST_NONE;
  }
  return over ? CONST_OVERFLOW : CONST_OK;
}

/* The operands of integer scalar n as constants, false unless all are. */
static bool const_operands(ShapeCtx *S, IrNode *n, int64_t *a, int64_t *b) {
  int64_t c[2] = {0, 0};
  if (n->nargs < 1 || n->nargs > 2)
    return false;
  for (int i = 0; i < n->nargs; i++)
    if (!n->args[i]->has_symval || !sh_is_int_scalar(&n->args[i]->type) ||
        !dim_is_const(sh_resolve(S, n->args[i]->symval), &c[i]))
      return false;
  *a = c[0], *b = c[1];
  return true;
}

/* Integer scalars whose value is a known dim expression: constants (any
 * integer arithmetic of them, evaluated exactly), x.shape[k], and +, -,
 * *, neg, exact // of those. */
void sh_symval_arith(ShapeCtx *S, IrNode *n) {
  if (!sh_is_int_scalar(&n->type))
    return;
  int64_t ca, cb, cr;
  if (const_operands(S, n, &ca, &cb)) {
    if (const_arith(n->op, ca, cb, &cr) != CONST_OK)
      return; /* value_dim reports an overflow where it is used as a size */
    if (n->type.dtype == DT_I32 && (cr < INT32_MIN || cr > INT32_MAX))
      return; /* an i32 wraps around: the run time knows its value */
    n->has_symval = true;
    n->symval = dim_const(cr);
    return;
  }
  for (int i = 0; i < n->nargs; i++)
    if (!n->args[i]->has_symval || !sh_is_int_scalar(&n->args[i]->type))
      return;
  Dim a = sh_resolve(S, n->args[0]->symval);
  Dim b = n->nargs > 1 ? sh_resolve(S, n->args[1]->symval) : dim_const(0), r;
  switch (n->op) {
  case IR_ADD:
    r = dim_add(a, b);
    break;
  case IR_SUB:
    r = dim_sub(a, b);
    break;
  case IR_MUL:
    r = dim_mul(a, b);
    break;
  case IR_NEG:
    r = dim_sub(dim_const(0), a);
    break;
  case IR_COPY:
  case IR_DETACH:
  case IR_CAST:
  case IR_CHECK_TYPE:
    r = a;
    break;
  case IR_FLOORDIV:
    if (!dim_div_exact(a, b, &r)) /* a == b*r exactly: a // b == r */
      return;
    break;
  default:
    return;
  }
  if (r.overflow)
    return;
  n->has_symval = true;
  n->symval = r;
}

IrNode *sh_insert_cast(IrBlock *b, int index, IrNode *v, DType dt) {
  IrNode *c = ir_node_new(IR_CAST, v->loc, 1, &v);
  c->at.dtype = dt;
  c->name = v->name;
  c->type = v->type;
  c->type.dtype = dt;
  c->type.weak = false;
  c->has_symval = v->has_symval && ir_dtype_is_int(dt);
  c->symval = v->symval;
  ir_vec_push(&b->nodes, c); /* grow by one, then shift into place */
  if (index < 0 || index >= b->nodes.n)
    index = b->nodes.n - 1;
  memmove(&b->nodes.v[index + 1], &b->nodes.v[index], sizeof(void *) * (size_t)(b->nodes.n - 1 - index));
  b->nodes.v[index] = c;
  return c;
}

/* ---- the walker ---- */

static bool check_operands(ShapeCtx *S, IrNode *n) {
  bool ok = true, reported = false;
  for (int i = 0; i < n->nargs; i++) {
    IrNode *a = n->args[i];
    if (sh_is_undef(S, a)) {
      if (!reported)
        sh_error(S, n->loc, "'%s' is used before it is assigned", a->name ? a->name : "value");
      reported = true;
      ok = false;
    } else if (a->type.kind == TY_UNKNOWN) {
      ok = false;
    } else if (a->type.kind != TY_TENSOR) {
      if (!reported)
        sh_error(S, n->loc, "%s: expected a tensor, but operand %d is %s", ir_op_name(n->op), i + 1,
                 sh_tstr(&a->type));
      reported = true;
      ok = false;
    }
  }
  return ok;
}

/* A tensor of constant shape holds at most IR_MAX_TENSOR_BYTES: NumPy
 * refuses larger ones ("array is too big"), and their byte count could
 * wrap around in the generated code.  Checked for every op, so a product
 * of dims (broadcasting, matmul, outer), a sum (cat) or a creation op
 * cannot make one.  A symbolic shape is checked by the lowering. */
static void check_bytes(ShapeCtx *S, IrNode *n) {
  IrType *t = &n->type;
  int64_t bytes = ir_dtype_size(t->dtype), d;
  double approx = (double)bytes;
  bool over = false;
  for (int i = 0; i < t->rank; i++) {
    if (!dim_is_const(sh_resolve(S, t->dims[i]), &d))
      return;
    approx *= (double)d;
    over |= __builtin_mul_overflow(bytes, d, &bytes);
  }
  if (!over && bytes <= IR_MAX_TENSOR_BYTES)
    return;
  char size[64];
  if (over)
    snprintf(size, sizeof size, "%.3g", approx);
  else
    snprintf(size, sizeof size, "%lld", (long long)bytes);
  sh_error(S, n->loc, "%s: %s needs %s bytes, more than the %lld bytes (2^48, 256 TiB) a tensor may hold",
           ir_op_name(n->op), sh_tstr(t), size, (long long)IR_MAX_TENSOR_BYTES);
  sh_poison(n);
}

/* A rule's result must fit the representation: rank, dims, no overflow. */
static void check_result(ShapeCtx *S, IrNode *n) {
  IrType *t = &n->type;
  if (t->kind != TY_TENSOR)
    return;
  if (t->rank < 0 || t->rank > IR_MAX_RANK) {
    sh_check_rank(S, n, t->rank);
    sh_poison(n);
    return;
  }
  for (int i = 0; i < t->rank; i++)
    if (t->dims[i].overflow) {
      sh_error(S, n->loc, "dimension expression too complex");
      sh_poison(n);
      return;
    }
  check_bytes(S, n);
}

static void visit(ShapeCtx *S, IrNode *n) {
  if (n->op >= IR_NUM_OPS)
    ir_die(n->loc, "bad op %d", (int)n->op);
  switch (n->op) {
  case IR_FOR:
  case IR_IF:
  case IR_YIELD:
  case IR_RESULT:
  case IR_ARG:
    /* these look at their operands (or the given type) themselves */
    rules[n->op](S, n);
    break;
  default:
    n->has_symval = false;
    if (!check_operands(S, n)) {
      sh_poison(n);
      return;
    }
    rules[n->op](S, n);
    break;
  }
  check_result(S, n);
}

void sh_walk_block(ShapeCtx *S, IrBlock *b) {
  if (!b)
    return;
  IrBlock *save_b = S->cur_block;
  int save_i = S->cur_index;
  for (int i = 0; i < b->nodes.n; i++) {
    S->cur_block = b;
    S->cur_index = i;
    visit(S, b->nodes.v[i]);
    i = S->cur_index; /* a rule may have inserted nodes before this one */
  }
  S->cur_block = save_b;
  S->cur_index = save_i;
}

/* ---- 4. the final rewrite ---- */

/* Where a Python scalar took another dtype (a loop variable initialised
 * with 0 that accumulates f32, an if whose branches assign 1 and 2.5), a
 * cast makes the value's dtype explicit; a value assigned on some paths
 * only gets, on the others, an UNDEF of the same type. */
static void fix_value(ShapeCtx *S, IrBlock *b, int index, IrNode **slot, const IrType *want, int *shift) {
  IrNode *v = *slot;
  if (want->kind != TY_TENSOR)
    return;
  if (v->op == IR_UNDEF) {
    if (v->type.kind == TY_UNKNOWN)
      v->type = *want;
  } else if (v->type.kind == TY_TENSOR && v->type.dtype != want->dtype && v->type.rank == 0) {
    *slot = sh_insert_cast(b, index, v, want->dtype);
    if (shift)
      (*shift)++;
  }
}

static void fix_block(ShapeCtx *S, IrBlock *b) {
  if (!b)
    return;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    fix_block(S, n->body);
    fix_block(S, n->orelse);
    NodeInfo *e = sh_info_get(S, n);
    if (n->op == IR_FOR && n->body && n->body->params.n == n->nargs - 2)
      for (int k = 0; k + 3 < n->nargs; k++) {
        IrNode *p = n->body->params.v[1 + k];
        fix_value(S, b, i, &n->args[3 + k], &p->type, &i);
      }
    if (n->op == IR_IF && e && e->elems && n->body && n->body->nodes.n > 0)
      for (int side = 0; side < 2; side++) {
        IrBlock *r = side ? n->orelse : n->body;
        if (!r || r->nodes.n == 0)
          continue;
        IrNode *y = r->nodes.v[r->nodes.n - 1];
        for (int k = 0; k < y->nargs && k < e->nelems; k++) {
          int at = r->nodes.n - 1; /* before the yield, which moves */
          fix_value(S, r, at, &y->args[k], &e->elems[k], NULL);
        }
      }
  }
}

static void rewrite_node(ShapeCtx *S, IrNode *n);

static void rewrite_block(ShapeCtx *S, IrBlock *b) {
  if (!b)
    return;
  for (int i = 0; i < b->params.n; i++)
    rewrite_node(S, b->params.v[i]);
  for (int i = 0; i < b->nodes.n; i++)
    rewrite_node(S, b->nodes.v[i]);
}

static void rewrite_node(ShapeCtx *S, IrNode *n) {
  resolve_type(S, &n->type);
  if (n->has_symval)
    n->symval = sh_resolve(S, n->symval);
  if (n->op == IR_CHECK_TYPE && n->at.decl)
    resolve_type(S, n->at.decl);
  /* values never assigned on any path and never read: no value */
  if (n->type.kind == TY_UNKNOWN && sh_is_undef(S, n))
    n->type.kind = TY_NONE;
  for (int i = 0; i < n->type.rank && n->type.kind == TY_TENSOR && i <= IR_MAX_RANK; i++)
    if (n->type.dims[i].overflow) {
      sh_error(S, n->loc, "dimension expression too complex");
      break;
    }
  rewrite_block(S, n->body);
  rewrite_block(S, n->orelse);
}

/* ---- the pass ---- */

static void walk_func(ShapeCtx *S, IrFunc *f) {
  S->fn = f;
  for (int i = 0; i < f->args.n; i++)
    visit(S, f->args.v[i]);
  sh_walk_block(S, f->body);
}

bool pass_shape(IrModule *m) {
  ShapeCtx ctx = {0}, *S = &ctx;
  S->m = m;
  S->pstate = calloc((size_t)(m->params.n ? m->params.n : 1), sizeof *S->pstate);
  if (!S->pstate)
    ir_die((Loc){0}, "out of memory");
  /* params given a type before the pass (embedded files) count as set */
  for (int i = 0; i < m->params.n; i++) {
    IrParam *p = m->params.v[i];
    S->pstate[i] = p->type.kind == TY_TENSOR ? PARAM_SET : PARAM_UNSET;
  }
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < m->funcs.n; i++) {
      IrFunc *f = m->funcs.v[i];
      if (f->is_init == (pass == 0))
        walk_func(S, f);
    }
  for (int i = 0; i < m->params.n; i++) {
    IrParam *p = m->params.v[i];
    resolve_type(S, &p->type);
    if (S->pstate[i] == PARAM_UNSET && S->nerrors == 0)
      sh_error(S, p->loc, "param '%s' is never given a value", p->name);
  }
  for (int i = 0; i < m->funcs.n; i++) {
    IrFunc *f = m->funcs.v[i];
    fix_block(S, f->body);
    for (int j = 0; j < f->args.n; j++)
      rewrite_node(S, f->args.v[j]);
    rewrite_block(S, f->body);
  }
  bool ok = S->nerrors == 0;
  for (int i = 0; ok && i < m->funcs.n; i++)
    sh_masks_to_where(m->funcs.v[i]);
  free(S->bind);
  free(S->bound);
  free(S->info);
  free(S->pstate);
  free(S->pend);
  return ok;
}
