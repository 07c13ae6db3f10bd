/* passes/shape_rules_index.c - shape rules of indexing: x[...], x[...] = v,
 * x.shape[k], and the mini-batches of a batches() loop.
 *
 * Indexing is NumPy's.  Basic items: an integer removes its axis, a slice
 * keeps it with the slice's length, None inserts a 1, `...` stands for the
 * axes no other item takes.  Advanced items (integer tensors, and bool
 * tensors, which stand for their nonzero() positions) broadcast together;
 * their shape goes where the first advanced item was when all of them are
 * adjacent, else in front.  When there is an advanced item, integers count
 * as advanced too (NumPy: x[0, :, idx] puts idx's axis first).
 *
 * Slice lengths are exact for constant dims and bounds (Python's
 * slice.indices); on a symbolic dim with steps +-1 and bounds made of that
 * dim's symbols they are expressions (x[1:] of N rows has N - 1: the bounds
 * are assumed to be in range); anything else, run-time bounds included
 * (x[:i]), is a fresh symbol the lowering sets to the clamped length.
 */
#include "shape_internal.h"

#include <string.h>

/* ---- x[...] ---- */

static bool arg_ok(IrNode *n, int pos, int first) { return pos >= first && pos < n->nargs; }

/* The value of a slice bound: omitted, a constant, or a dim expression. */
typedef struct Bound {
  bool given, is_const;
  int64_t c;
  Dim d;
} Bound;

static bool read_bound(ShapeCtx *S, IrNode *n, int pos, Bound *b) {
  memset(b, 0, sizeof *b);
  if (pos < 0)
    return true;
  b->given = true;
  if (!sh_scalar_dim(S, n, n->args[pos], "a slice bound", &b->d))
    return false;
  b->is_const = dim_is_const(b->d, &b->c);
  return true;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Python's slice.indices() and length, all constant. */
static int64_t slice_const(int64_t len, const Bound *start, const Bound *stop, int64_t step) {
  step = clamp64(step, -((int64_t)1 << 62), (int64_t)1 << 62);
  int64_t lo, hi;
  if (step > 0) {
    lo = !start->given ? 0 : start->c < 0 ? clamp64(start->c + len, 0, len) : clamp64(start->c, 0, len);
    hi = !stop->given ? len : stop->c < 0 ? clamp64(stop->c + len, 0, len) : clamp64(stop->c, 0, len);
    return hi > lo ? (hi - lo - 1) / step + 1 : 0;
  }
  lo = !start->given ? len - 1 : start->c < 0 ? clamp64(start->c + len, -1, len - 1) : clamp64(start->c, -1, len - 1);
  hi = !stop->given ? -1 : stop->c < 0 ? clamp64(stop->c + len, -1, len - 1) : clamp64(stop->c, -1, len - 1);
  return lo > hi ? (lo - hi - 1) / -step + 1 : 0;
}

/* A bound as a position in a dim of size d: negative values count from the
 * end.  A symbolic bound is taken as negative when every coefficient is
 * (x[-k:] has k elements). */
static Dim position(Dim d, const Bound *b) {
  bool neg = b->is_const ? b->c < 0 : b->d.n > 0;
  for (int i = 0; !b->is_const && i < b->d.n; i++)
    neg &= b->d.t[i].coef < 0;
  return neg ? dim_add(d, b->d) : b->d;
}

/* True when every symbol of bound b also occurs in d. */
static bool bound_within(const Bound *b, Dim d) {
  for (int i = 0; b->given && !b->is_const && i < b->d.n; i++)
    for (int k = 0; k < b->d.t[i].deg; k++) {
      bool found = false;
      for (int j = 0; j < d.n; j++)
        for (int l = 0; l < d.t[j].deg; l++)
          found |= d.t[j].sym[l] == b->d.t[i].sym[k];
      if (!found)
        return false;
    }
  return true;
}

static bool slice_len(ShapeCtx *S, IrNode *n, const IrIndexItem *it, Dim d, Dim *out) {
  Bound start, stop, step;
  if (!read_bound(S, n, it->start, &start) || !read_bound(S, n, it->stop, &stop) ||
      !read_bound(S, n, it->step, &step))
    return false;
  int64_t st = 1, len;
  if (step.given) {
    if (!step.is_const) {
      *out = sh_fresh(S, "len", n->loc);
      return true;
    }
    st = step.c;
  }
  if (st == 0) {
    sh_error(S, n->loc, "slice step cannot be zero");
    return false;
  }
  bool bounds_const = (!start.given || start.is_const) && (!stop.given || stop.is_const);
  if (dim_is_const(d, &len) && bounds_const) {
    *out = dim_const(slice_const(len, &start, &stop, st));
    return true;
  }
  /* A bound that is a run-time value (a symbol not in d, as i in x[:i])
   * may be out of range or negative: the length is the lowering's clamped
   * one, a fresh symbol.  Bounds made of d's own symbols and constants
   * (x[1:], x[:N - 1]) are taken as in range. */
  if (!bound_within(&start, d) || !bound_within(&stop, d)) {
    *out = sh_fresh(S, "len", n->loc);
    return true;
  }
  Dim lo, hi;
  if (st == 1) {
    lo = start.given ? position(d, &start) : dim_const(0);
    hi = stop.given ? position(d, &stop) : d;
  } else if (st == -1) {
    lo = stop.given ? position(d, &stop) : dim_const(-1);
    hi = start.given ? position(d, &start) : dim_sub(d, dim_const(1));
  } else {
    *out = sh_fresh(S, "len", n->loc);
    return true;
  }
  Dim r = dim_sub(hi, lo);
  int64_t c;
  if (dim_is_const(r, &c) && c < 0)
    r = dim_const(0); /* x[5:3] is empty, whatever the dim */
  *out = r;
  return true;
}

/* Checks integer literal indices against a constant dim. */
static bool check_literal(ShapeCtx *S, IrNode *n, IrNode *idx, Dim d, int axis) {
  int64_t size;
  if (!dim_is_const(d, &size))
    return true;
  if (idx->op == IR_TENSOR) {
    for (int64_t i = 0; i < idx->at.ndata; i++) {
      double v = idx->at.data[i];
      if (v < (double)-size || v >= (double)size) {
        sh_error(S, idx->loc, "index %lld is out of bounds for axis %d with size %lld", (long long)v, axis,
                 (long long)size);
        return false;
      }
    }
    return true;
  }
  if (idx->has_symval) {
    int64_t c;
    if (dim_is_const(sh_resolve(S, idx->symval), &c) && (c < -size || c >= size)) {
      sh_error(S, n->loc, "index %lld is out of bounds for axis %d with size %lld", (long long)c, axis,
               (long long)size);
      return false;
    }
  }
  return true;
}

/* The type of x[items], x = n->args[xpos]; index operands are at positions
 * > xpos.  Also fixes each item's kind by its operand's rank (a name the
 * lowering could not classify).  False when reported. */
static bool index_type(ShapeCtx *S, IrNode *n, int xpos, int first, IrType *res) {
  IrType x = sh_type(S, n->args[xpos]);
  IrIndexItem *items = n->at.idx;
  int nidx = n->at.nidx;
  if (nidx < 0 || (nidx > 0 && !items))
    ir_die(n->loc, "index without items");
  /* 1. classify, count the axes the items take */
  int used = 0, nell = 0;
  bool has_adv = false;
  for (int i = 0; i < nidx; i++) {
    IrIndexItem *it = &items[i];
    switch (it->kind) {
    case IDX_SCALAR:
    case IDX_TENSOR: {
      if (!arg_ok(n, it->arg, first))
        ir_die(n->loc, "index item %d: bad operand %d", i, it->arg);
      IrType t = sh_type(S, n->args[it->arg]);
      if (!ir_dtype_is_int(t.dtype) && !(t.dtype == DT_BOOL && t.rank > 0)) {
        sh_error(S, n->loc, "an index must be an integer, a slice, None, ... or an integer or bool tensor, but got %s",
                 sh_tstr(&t));
        sh_note(S, n->args[it->arg]->loc, "the index %s comes from here", sh_tstr(&t));
        return false;
      }
      it->kind = t.rank == 0 ? IDX_SCALAR : IDX_TENSOR;
      used += it->kind == IDX_TENSOR && t.dtype == DT_BOOL ? t.rank : 1;
      has_adv |= it->kind == IDX_TENSOR;
      break;
    }
    case IDX_SLICE:
      if ((it->start >= 0 && !arg_ok(n, it->start, first)) || (it->stop >= 0 && !arg_ok(n, it->stop, first)) ||
          (it->step >= 0 && !arg_ok(n, it->step, first)))
        ir_die(n->loc, "index item %d: bad slice operand", i);
      used++;
      break;
    case IDX_NEWAXIS:
      break;
    case IDX_ELLIPSIS:
      if (++nell > 1) {
        sh_error(S, n->loc, "an index can only have a single ellipsis ('...')");
        return false;
      }
      break;
    default:
      ir_die(n->loc, "bad index item kind %d", (int)it->kind);
    }
  }
  if (used > x.rank) {
    sh_error(S, n->loc, "too many indices for %s: it has %d dimension%s, but %d were indexed", sh_tstr(&x), x.rank,
             x.rank == 1 ? "" : "s", used);
    return false;
  }
  /* 2. walk the items */
  Dim out[3 * IR_MAX_RANK + 8];
  int r = 0, ax = 0, adv_pos = -1, consec = -1; /* consec: -1 none yet, 0 in, 1 after, 2 split */
  int nadv = 0;
  IrType adv[IR_MAX_RANK];
#define PUSH(d)                                                                                                      \
  do {                                                                                                               \
    if (r >= IR_MAX_RANK * 3 + 7 || !sh_check_rank(S, n, r + 1))                                                     \
      return false;                                                                                                  \
    out[r++] = (d);                                                                                                  \
  } while (0)
  for (int i = 0; i < nidx; i++) {
    IrIndexItem *it = &items[i];
    bool fancy = has_adv && (it->kind == IDX_SCALAR || it->kind == IDX_TENSOR);
    if (fancy) {
      if (consec == -1)
        consec = 0, adv_pos = r;
      else if (consec == 1)
        consec = 2;
    } else if (consec == 0) {
      consec = 1;
    }
    switch (it->kind) {
    case IDX_SCALAR:
      if (!check_literal(S, n, n->args[it->arg], x.dims[ax], ax))
        return false;
      ax++;
      break;
    case IDX_SLICE: {
      Dim d;
      if (!slice_len(S, n, it, x.dims[ax], &d))
        return false;
      PUSH(d);
      ax++;
      break;
    }
    case IDX_NEWAXIS:
      PUSH(dim_const(1));
      break;
    case IDX_ELLIPSIS:
      for (int k = 0; k < x.rank - used; k++)
        PUSH(x.dims[ax++]);
      break;
    case IDX_TENSOR: {
      IrType t = sh_type(S, n->args[it->arg]);
      if (t.dtype == DT_BOOL) { /* a mask: its shape must be the dims it covers */
        for (int k = 0; k < t.rank; k++) {
          Dim a = sh_resolve(S, x.dims[ax + k]), b = sh_resolve(S, t.dims[k]);
          if (!sh_unify(S, a, b)) {
            sh_error(S, n->loc, "boolean index %s does not match the indexed tensor %s in axis %d (%s)", sh_tstr(&t),
                     sh_tstr(&x), ax + k, sh_clash(b, a));
            sh_note(S, n->args[it->arg]->loc, "the index %s comes from here", sh_tstr(&t));
            return false;
          }
        }
        ax += t.rank;
        Dim nnz = sh_fresh(S, "nnz", n->args[it->arg]->loc);
        adv[nadv++] = ir_type_tensor(DT_I64, 1, &nnz);
      } else {
        if (!check_literal(S, n, n->args[it->arg], x.dims[ax], ax))
          return false;
        ax++;
        adv[nadv++] = t;
      }
      break;
    }
    }
  }
  while (ax < x.rank)
    PUSH(x.dims[ax++]);
  /* 3. the advanced indices' broadcast shape */
  if (has_adv) {
    int ar = 0;
    Dim ad[IR_MAX_RANK];
    for (int i = 0; i < nadv; i++)
      if (adv[i].rank > ar)
        ar = adv[i].rank;
    for (int k = 1; k <= ar; k++) {
      Dim acc = dim_const(1);
      int who = -1;
      for (int i = 0; i < nadv; i++) {
        if (adv[i].rank < k)
          continue;
        Dim d = sh_resolve(S, adv[i].dims[adv[i].rank - k]);
        int64_t c;
        if (dim_is_const(d, &c) && c == 1)
          continue;
        if (who < 0) {
          acc = d, who = i;
        } else if (!sh_unify(S, acc, d)) {
          sh_error(S, n->loc, "index tensors cannot be broadcast together: %s and %s (%s)", sh_tstr(&adv[who]),
                   sh_tstr(&adv[i]), sh_clash(acc, d));
          return false;
        }
        acc = sh_resolve(S, acc);
      }
      ad[ar - k] = acc;
    }
    int at = consec == 2 ? 0 : adv_pos;
    if (!sh_check_rank(S, n, r + ar))
      return false;
    memmove(&out[at + ar], &out[at], sizeof(Dim) * (size_t)(r - at));
    memcpy(&out[at], ad, sizeof(Dim) * (size_t)ar);
    r += ar;
  }
#undef PUSH
  if (!sh_check_rank(S, n, r))
    return false;
  for (int i = 0; i < r; i++)
    out[i] = sh_resolve(S, out[i]);
  *res = ir_type_tensor(x.dtype, r, out);
  res->device = x.device;
  return true;
}

/* ---- boolean masks ----
 * x[mask] has one element per True value, a size known only at run time,
 * so it may only be assigned to.  x[mask] = v takes a scalar v (NumPy
 * would put the values of a longer v in order at the True positions);
 * x[mask] op= v reads x[mask] with x's shape (at.keepdims), and v must be a
 * scalar too.  After the pass, sh_masks_to_where() makes them selects. */

/* The operand position of the bool tensor among n's index items, or -1. */
static int mask_operand(ShapeCtx *S, IrNode *n, int first) {
  for (int i = 0; i < n->at.nidx; i++) {
    IrIndexItem *it = &n->at.idx[i];
    if ((it->kind == IDX_SCALAR || it->kind == IDX_TENSOR) && it->arg >= first && it->arg < n->nargs) {
      IrType t = sh_type(S, n->args[it->arg]);
      if (t.kind == TY_TENSOR && t.dtype == DT_BOOL && t.rank > 0)
        return it->arg;
    }
  }
  return -1;
}

/* The mask is the only item and has x's shape. */
static bool check_mask(ShapeCtx *S, IrNode *n, int arg) {
  IrType x = sh_type(S, n->args[0]), m = sh_type(S, n->args[arg]);
  if (n->at.nidx != 1) {
    sh_error(S, n->loc, "a boolean mask must be the only index (x[mask] = v), not one of %d", n->at.nidx);
    return false;
  }
  bool ok = m.rank == x.rank;
  for (int k = 0; ok && k < m.rank; k++)
    ok = sh_unify(S, sh_resolve(S, x.dims[k]), sh_resolve(S, m.dims[k]));
  if (!ok) {
    sh_error(S, n->loc, "boolean mask %s does not have the shape of the indexed tensor %s", sh_tstr(&m), sh_tstr(&x));
    sh_note_operand(S, n, arg, "the mask");
  }
  return ok;
}

/* v of x[mask] = v has one element (NumPy: a 0- or 1-dimensional input). */
static bool check_mask_value(ShapeCtx *S, IrNode *n, IrNode *v) {
  IrType t = sh_type(S, v);
  bool ok = t.rank <= 1;
  for (int k = 0; ok && k < t.rank; k++) {
    int64_t c;
    ok = dim_is_const(sh_resolve(S, t.dims[k]), &c) && c == 1;
  }
  if (!ok) {
    sh_error(S, n->loc, "x[mask] = v needs a scalar v, not %s: the number of True values is known only at run "
             "time; to choose elementwise, write where(mask, v, x)", sh_tstr(&t));
    sh_note(S, v->loc, "the value %s comes from here", sh_tstr(&t));
  }
  return ok;
}

void shape_index(ShapeCtx *S, IrNode *n) {
  int mask = mask_operand(S, n, 1);
  if (mask >= 0 && !n->at.keepdims) {
    sh_error(S, n->loc, "x[mask] has a data-dependent shape (one element per True value), so it can only be "
             "assigned to (x[mask] = v, x[mask] += v); to keep the shape, write where(mask, x, 0)");
    sh_poison(n);
    return;
  }
  if (mask >= 0) { /* the read of x[mask] op= v: all of x, the set picks */
    if (!check_mask(S, n, mask)) {
      sh_poison(n);
      return;
    }
    n->type = sh_type(S, n->args[0]);
    n->type.weak = false;
    return;
  }
  IrType t;
  if (!index_type(S, n, 0, 1, &t)) {
    sh_poison(n);
    return;
  }
  n->type = t;
}

/* x with x[...] = v: v broadcasts to the selection; the result is x. */
void shape_index_set(ShapeCtx *S, IrNode *n) {
  if (n->nargs < 2)
    ir_die(n->loc, "index_set without a value");
  int mask = n->op == IR_INDEX_SET ? mask_operand(S, n, 2) : -1;
  if (mask >= 0) {
    IrNode *v = n->args[1];
    /* x[mask] op= w: the value is op(read, w); w must be a scalar */
    if (n->at.keepdims && v->nargs == 2 && v->args[0]->op == IR_INDEX && v->args[0]->at.keepdims)
      v = v->args[1];
    if (!check_mask(S, n, mask) || !check_mask_value(S, n, v)) {
      sh_poison(n);
      return;
    }
  }
  IrType sel, x = sh_type(S, n->args[0]), v = sh_type(S, n->args[1]);
  if (mask >= 0) /* checked above; the selection is all of x for the broadcast check */
    sel = x;
  else
  if (!index_type(S, n, 0, 2, &sel)) {
    sh_poison(n);
    return;
  }
  for (int k = 1; k <= v.rank; k++) {
    Dim vd = sh_resolve(S, v.dims[v.rank - k]);
    int64_t c;
    if (dim_is_const(vd, &c) && c == 1)
      continue; /* stretches; extra leading 1s are dropped, as NumPy does */
    if (k > sel.rank) {
      sh_error(S, n->loc, "cannot assign %s to a selection of shape %s", sh_tstr(&v),
               ir_shape_format(&sel, (char[256]){0}, 256));
      sh_note_operand(S, n, 1, "the value");
      sh_poison(n);
      return;
    }
    Dim sd = sh_resolve(S, sel.dims[sel.rank - k]);
    if (!sh_unify(S, vd, sd)) {
      sh_error(S, n->loc, "cannot assign %s to a selection of shape %s (%s)", sh_tstr(&v),
               ir_shape_format(&sel, (char[256]){0}, 256), sh_clash(vd, sd));
      sh_note_operand(S, n, 1, "the value");
      sh_poison(n);
      return;
    }
  }
  Device dev;
  if (!sh_device(S, n, 0, 2, &dev)) {
    sh_poison(n);
    return;
  }
  x = sh_type(S, n->args[0]);
  n->type = x;
  n->type.weak = false;
  if (dev != DEV_DEFAULT)
    n->type.device = dev;
}

/* x.shape[k]: a Python int (weak), whose value is the dim. */
void shape_dim(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  int64_t a = n->at.ival;
  int ax;
  if (!sh_axis(S, n, a < -1000 ? -1000 : a > 1000 ? 1000 : (int)a, x.rank, &ax)) {
    sh_poison(n);
    return;
  }
  n->type = ir_type_scalar(DT_I64);
  n->type.weak = true;
  n->has_symval = true;
  n->symval = x.dims[ax];
}

/* x.ndim: the rank, a number known at compile time. */
void shape_ndim(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]);
  n->type = ir_type_scalar(DT_I64);
  n->type.weak = true;
  n->has_symval = true;
  n->symval = dim_const(x.rank);
}

/* A mini-batch of a batches() loop: [B, x.shape[1:]...] with B the loop's
 * batch-length symbol.  All tensors of one loop share the permutation, so
 * their lengths are unified with its length. */
void shape_batch(ShapeCtx *S, IrNode *n) {
  IrType x = sh_type(S, n->args[0]), perm = sh_type(S, n->args[1]), i = sh_type(S, n->args[2]);
  if (x.rank == 0) {
    sh_error(S, n->loc, "batches: cannot split a scalar (%s) into batches", sh_tstr(&x));
    sh_poison(n);
    return;
  }
  if (perm.rank != 1 || !sh_is_int_scalar(&i))
    ir_die(n->loc, "batch: malformed permutation or index");
  if (!sh_unify(S, x.dims[0], perm.dims[0])) {
    sh_error(S, n->loc, "batches: the tensors have different lengths: this one is %s, but the first has %s rows (%s)",
             sh_tstr(&x), sh_dstr(sh_resolve(S, perm.dims[0])), sh_clash(x.dims[0], perm.dims[0]));
    sh_note_operand(S, n, 0, "this tensor");
    sh_poison(n);
    return;
  }
  Dim dims[IR_MAX_RANK];
  dims[0] = n->at.sym > 0 ? dim_sym(n->at.sym) : sh_fresh(S, "B", n->loc);
  for (int k = 1; k < x.rank; k++)
    dims[k] = sh_resolve(S, x.dims[k]);
  sh_set(n, x.dtype, x.rank, dims, x.device);
}

/* The number of batches over n rows: ceil(n / size), or n / size with
 * drop_last (at.keepdims). */
void shape_num_batches(ShapeCtx *S, IrNode *n) {
  Dim rows;
  if (!sh_scalar_dim(S, n, n->args[0], "the number of rows", &rows)) {
    sh_poison(n);
    return;
  }
  if (n->at.ival <= 0) {
    sh_error(S, n->loc, "batches: the batch size must be positive, but got %lld", (long long)n->at.ival);
    sh_poison(n);
    return;
  }
  n->type = ir_type_scalar(DT_I64);
  n->type.weak = true;
  int64_t c, size = n->at.ival;
  Dim q;
  if (dim_is_const(rows, &c) && c >= 0) {
    n->has_symval = true;
    n->symval = dim_const(n->at.keepdims ? c / size : c / size + (c % size != 0));
  } else if (dim_div_exact(rows, dim_const(size), &q)) {
    n->has_symval = true;
    n->symval = q;
  }
}
