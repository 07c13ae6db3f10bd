/* passes/shape_rules_movement.c - shape rules of ops that move elements
 * without arithmetic: reshape, transpose, squeeze, unsqueeze, flatten,
 * broadcast_to, cat, stack, split, flip.
 *
 * Sizes given as operands (reshape, broadcast_to) are integer scalars whose
 * values are known as dims where the shape pass could follow them
 * (constants, x.shape[k], arithmetic of those); a value known only at run
 * time becomes a fresh symbol named after it.  Element counts are compared
 * as polynomials: equal, or made equal by unification (an assumption), or
 * an error when both are constants.
 */
#include "shape_internal.h"

#include <stdio.h>
#include <string.h>

static Dim numel(ShapeCtx *S, const IrType *t) {
  Dim s = dim_const(1);
  for (int i = 0; i < t->rank; i++)
    s = dim_mul(s, sh_resolve(S, t->dims[i]));
  return s;
}

/* Reads operands first.. as sizes; -1 allowed once when `wild`.  Returns the
 * count, or -1 when reported.  text gets "[4, -1]" for messages. */
static int read_sizes(ShapeCtx *S, IrNode *n, int first, bool wild, Dim *sz, int *neg, char *text, size_t size) {
  int count = n->nargs - first;
  *neg = -1;
  if (!sh_check_rank(S, n, count))
    return -1;
  size_t len = 0;
  text[0] = 0;
  len += (size_t)snprintf(text, size, "[");
  for (int i = 0; i < count; i++) {
    if (!sh_scalar_dim(S, n, n->args[first + i], "a size", &sz[i]))
      return -1;
    int64_t c;
    if (dim_is_const(sz[i], &c) && c < 0) {
      if (c == -1 && wild && *neg < 0) {
        *neg = i;
      } else if (c == -1 && wild) {
        sh_error(S, n->loc, "%s: only one size can be -1", ir_op_name(n->op));
        return -1;
      } else {
        sh_error(S, n->loc, "%s: negative size %lld", ir_op_name(n->op), (long long)c);
        return -1;
      }
    }
    if (len < size)
      len += (size_t)snprintf(text + len, size - len, "%s%s", i ? ", " : "", sh_dstr(sz[i]));
  }
  if (len < size)
    snprintf(text + len, size - len, "]");
  return count;
}

void shape_reshape(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  Dim sz[IR_MAX_RANK];
  int neg;
  char text[256];
  int count = read_sizes(S, n, 1, true, sz, &neg, text, sizeof text);
  if (count < 0) {
    sh_poison(n);
    return;
  }
  Dim total = numel(S, &x), known = dim_const(1);
  for (int i = 0; i < count; i++)
    if (i != neg)
      known = dim_mul(known, sh_resolve(S, sz[i]));
  int64_t ct, ck;
  bool consts = dim_is_const(total, &ct) && dim_is_const(known, &ck);
  if (neg >= 0) {
    Dim q;
    if (dim_div_exact(total, known, &q)) {
      sz[neg] = q;
    } else if (consts) {
      sh_error(S, n->loc, "cannot reshape %s into %s (%lld elements are not a multiple of %lld)", sh_tstr(&x),
               text, (long long)ct, (long long)ck);
      sh_poison(n);
      return;
    } else {
      /* not expressible: a fresh symbol, checked at run time */
      sz[neg] = sh_fresh(S, "d", n->loc);
    }
  } else if (!sh_unify(S, total, known)) {
    if (n->at.str) /* int(x): Python's int of one element */
      sh_error(S, n->loc, "%s needs a tensor of one element, but %s has %s elements", n->at.str, sh_tstr(&x), sh_dstr(total));
    else
      sh_error(S, n->loc, "cannot reshape %s into %s: it has %s elements, but the new shape holds %s", sh_tstr(&x),
               text, sh_dstr(total), sh_dstr(known));
    sh_note_operand(S, n, 0, "the tensor");
    sh_poison(n);
    return;
  }
  for (int i = 0; i < count; i++)
    sz[i] = sh_resolve(S, sz[i]);
  sh_set(n, x.dtype, count, sz, x.device);
}

void shape_transpose(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  Dim dims[IR_MAX_RANK];
  if (n->at.naxes == 0) {
    for (int i = 0; i < x.rank; i++)
      dims[i] = x.dims[x.rank - 1 - i];
  } else {
    char text[128] = "(";
    for (int i = 0; i < n->at.naxes && i < IR_MAX_RANK; i++)
      snprintf(text + strlen(text), sizeof text - strlen(text), "%s%d", i ? ", " : "", n->at.axes[i]);
    strcat(text, n->at.naxes == 1 ? ",)" : ")");
    if (n->at.naxes != x.rank) {
      sh_error(S, n->loc, "transpose: axes %s do not match %s, which has %d axes", text, sh_tstr(&x), x.rank);
      sh_poison(n);
      return;
    }
    bool seen[IR_MAX_RANK] = {0};
    for (int i = 0; i < x.rank; i++) {
      int ax;
      if (!sh_axis(S, n, n->at.axes[i], x.rank, &ax)) {
        sh_poison(n);
        return;
      }
      if (seen[ax]) {
        sh_error(S, n->loc, "transpose: axes %s are not a permutation of the %d axes of %s", text, x.rank,
                 sh_tstr(&x));
        sh_poison(n);
        return;
      }
      seen[ax] = true;
      dims[i] = x.dims[ax];
    }
  }
  sh_set(n, x.dtype, x.rank, dims, x.device);
}

/* Normalizes at.axes (all axes when none) into a mask; false if reported. */
static bool axis_mask(ShapeCtx *S, IrNode *n, int rank, bool *mask) {
  memset(mask, 0, sizeof(bool) * IR_MAX_RANK);
  if (!n->at.has_axes && n->at.naxes == 0) {
    for (int i = 0; i < rank; i++)
      mask[i] = true;
    return true;
  }
  if (n->at.naxes < 0 || n->at.naxes > IR_MAX_RANK)
    ir_die(n->loc, "%d axes", n->at.naxes);
  for (int i = 0; i < n->at.naxes; i++) {
    int ax;
    if (!sh_axis(S, n, n->at.axes[i], rank, &ax))
      return false;
    if (mask[ax]) {
      sh_error(S, n->loc, "%s: axis %d is given twice", ir_op_name(n->op), n->at.axes[i]);
      return false;
    }
    mask[ax] = true;
  }
  return true;
}

void shape_squeeze(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  Dim dims[IR_MAX_RANK];
  int r = 0;
  bool given = n->at.has_axes || n->at.naxes > 0, mask[IR_MAX_RANK];
  if (given && !axis_mask(S, n, x.rank, mask)) {
    sh_poison(n);
    return;
  }
  for (int i = 0; i < x.rank; i++) {
    int64_t c;
    bool one = dim_is_const(x.dims[i], &c) && c == 1;
    if (given && mask[i] && !one) {
      sh_error(S, n->loc, "squeeze: cannot squeeze axis %d of size %s in %s", i, sh_dstr(x.dims[i]), sh_tstr(&x));
      sh_poison(n);
      return;
    }
    if (given ? !mask[i] : !one)
      dims[r++] = x.dims[i];
  }
  sh_set(n, x.dtype, r, dims, x.device);
}

void shape_unsqueeze(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  int a = n->at.naxes > 0 ? n->at.axes[0] : 0, ax;
  if (!sh_check_rank(S, n, x.rank + 1) || !sh_axis(S, n, a, x.rank + 1, &ax)) {
    sh_poison(n);
    return;
  }
  Dim dims[IR_MAX_RANK];
  int r = 0;
  for (int i = 0; i <= x.rank; i++) {
    if (i == ax)
      dims[r++] = dim_const(1);
    if (i < x.rank)
      dims[r++] = x.dims[i];
  }
  sh_set(n, x.dtype, r, dims, x.device);
}

void shape_flatten(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  Dim d = numel(S, &x);
  sh_set(n, x.dtype, 1, &d, x.device);
}

void shape_broadcast_to(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  Dim sz[IR_MAX_RANK];
  int neg;
  char text[256];
  int count = read_sizes(S, n, 1, false, sz, &neg, text, sizeof text);
  if (count < 0) {
    sh_poison(n);
    return;
  }
  if (count < x.rank) {
    sh_error(S, n->loc, "broadcast_to: cannot broadcast %s to %s, which has fewer axes", sh_tstr(&x), text);
    sh_poison(n);
    return;
  }
  for (int i = 1; i <= x.rank; i++) {
    Dim xd = sh_resolve(S, x.dims[x.rank - i]), td = sh_resolve(S, sz[count - i]);
    int64_t c;
    if ((dim_is_const(xd, &c) && c == 1) || sh_unify(S, xd, td))
      continue;
    sh_error(S, n->loc, "broadcast_to: cannot broadcast %s to %s (%s)", sh_tstr(&x), text, sh_clash(xd, td));
    sh_note_operand(S, n, 0, "the tensor");
    sh_poison(n);
    return;
  }
  for (int i = 0; i < count; i++)
    sz[i] = sh_resolve(S, sz[i]);
  sh_set(n, x.dtype, count, sz, x.device);
}

/* cat and stack: same rank, dtypes promoted, devices agree.  Reports and
 * returns false otherwise. */
static bool join_common(ShapeCtx *S, IrNode *n, DType *dt, Device *dev) {
  if (n->nargs < 1) {
    sh_error(S, n->loc, "%s: needs at least one tensor", ir_op_name(n->op));
    return false;
  }
  IrType t0 = sh_type(S, n->args[0]);
  IrType acc = t0;
  for (int i = 1; i < n->nargs; i++) {
    IrType t = sh_type(S, n->args[i]);
    if (t.rank != t0.rank) {
      sh_error(S, n->loc, "%s: all tensors must have the same rank, but %s has %d and %s has %d", ir_op_name(n->op),
               sh_tstr(&t0), t0.rank, sh_tstr(&t), t.rank);
      sh_note_operand(S, n, 0, "tensor 1");
      char lab[32];
      snprintf(lab, sizeof lab, "tensor %d", i + 1);
      sh_note_operand(S, n, i, lab);
      return false;
    }
    acc.dtype = sh_promote(&acc, &t, &acc.weak);
  }
  *dt = acc.dtype;
  return sh_device(S, n, 0, n->nargs, dev);
}

/* Unifies every operand's dims with the first's, except axis `skip`. */
static bool same_dims(ShapeCtx *S, IrNode *n, int skip) {
  IrType t0 = sh_type(S, n->args[0]);
  for (int i = 1; i < n->nargs; i++) {
    IrType t = sh_type(S, n->args[i]);
    for (int k = 0; k < t.rank; k++) {
      if (k == skip)
        continue;
      Dim a = sh_resolve(S, t0.dims[k]), b = sh_resolve(S, t.dims[k]);
      if (sh_unify(S, a, b))
        continue;
      sh_error(S, n->loc, "%s: tensors differ in axis %d: %s and %s (%s)", ir_op_name(n->op), k, sh_tstr(&t0),
               sh_tstr(&t), sh_clash(a, b));
      sh_note_operand(S, n, 0, "tensor 1");
      char lab[32];
      snprintf(lab, sizeof lab, "tensor %d", i + 1);
      sh_note_operand(S, n, i, lab);
      return false;
    }
  }
  return true;
}

void shape_cat(ShapeCtx *S, IrNode *n) {
  DType dt;
  Device dev;
  if (!join_common(S, n, &dt, &dev)) {
    sh_poison(n);
    return;
  }
  IrType t0 = sh_type(S, n->args[0]);
  if (t0.rank == 0) {
    sh_error(S, n->loc, "cat: scalars cannot be concatenated (use stack)");
    sh_poison(n);
    return;
  }
  int ax;
  if (!sh_axis(S, n, n->at.naxes > 0 ? n->at.axes[0] : 0, t0.rank, &ax) || !same_dims(S, n, ax)) {
    sh_poison(n);
    return;
  }
  Dim dims[IR_MAX_RANK], sum = dim_const(0);
  for (int i = 0; i < n->nargs; i++)
    sum = dim_add(sum, sh_resolve(S, n->args[i]->type.dims[ax]));
  for (int k = 0; k < t0.rank; k++)
    dims[k] = k == ax ? sum : sh_resolve(S, t0.dims[k]);
  sh_set(n, dt, t0.rank, dims, dev);
}

void shape_stack(ShapeCtx *S, IrNode *n) {
  DType dt;
  Device dev;
  if (!join_common(S, n, &dt, &dev)) {
    sh_poison(n);
    return;
  }
  IrType t0 = sh_type(S, n->args[0]);
  int ax;
  if (!sh_check_rank(S, n, t0.rank + 1) ||
      !sh_axis(S, n, n->at.naxes > 0 ? n->at.axes[0] : 0, t0.rank + 1, &ax) || !same_dims(S, n, -1)) {
    sh_poison(n);
    return;
  }
  Dim dims[IR_MAX_RANK];
  int r = 0;
  for (int k = 0; k <= t0.rank; k++) {
    if (k == ax)
      dims[r++] = dim_const(n->nargs);
    if (k < t0.rank)
      dims[r++] = sh_resolve(S, t0.dims[k]);
  }
  sh_set(n, dt, r, dims, dev);
}

#define SPLIT_MAX 65536

/* split(x, k, axis): k equal sections, a tuple read with RESULT. */
void shape_split(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  int64_t k = n->at.ival;
  if (k <= 0 || k > SPLIT_MAX) {
    sh_error(S, n->loc, "split: the number of sections must be between 1 and %d, but got %lld", SPLIT_MAX,
             (long long)k);
    sh_poison(n);
    return;
  }
  if (x.rank == 0) {
    sh_error(S, n->loc, "split: cannot split a scalar (%s)", sh_tstr(&x));
    sh_poison(n);
    return;
  }
  int ax;
  if (!sh_axis(S, n, n->at.naxes > 0 ? n->at.axes[0] : 0, x.rank, &ax)) {
    sh_poison(n);
    return;
  }
  Dim d = sh_resolve(S, x.dims[ax]), q;
  if (!dim_div_exact(d, dim_const(k), &q)) {
    if (dim_is_const(d, NULL))
      sh_error(S, n->loc, "split: axis %d of size %s does not divide into %lld equal sections", ax, sh_dstr(d),
               (long long)k);
    else
      sh_error(S, n->loc, "split: cannot show that axis %d of size %s divides into %lld equal sections", ax,
               sh_dstr(d), (long long)k);
    sh_poison(n);
    return;
  }
  NodeInfo *e = sh_info(S, n);
  e->nelems = (int)k;
  e->elems = ir_alloc(sizeof(IrType));
  *e->elems = x;
  e->elems->dims[ax] = q;
  e->elems->weak = false;
  e->elem_undef = NULL;
  memset(&n->type, 0, sizeof n->type);
  n->type.kind = TY_TUPLE;
  n->type.ntuple = (int)k;
}

void shape_flip(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  bool mask[IR_MAX_RANK];
  if (!axis_mask(S, n, x.rank, mask)) {
    sh_poison(n);
    return;
  }
  sh_set(n, x.dtype, x.rank, x.dims, x.device);
}
