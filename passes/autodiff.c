/* passes/autodiff.c - the autodiff pass: expands grad(y, x) in reverse mode.
 *
 * Requires: shape (every value typed).  Preserves: everything but the
 * grad() nodes, each replaced by the nodes computing the gradient, inserted
 * just before it in its block; the shape pass runs again at the end to type
 * them.
 *
 * For each grad(y, x), in program order:
 *  1. The scope: the function's arguments, then the params and nodes of
 *     each block from the function body down to the grad's block, each
 *     block up to the node that holds the next one (values defined outside
 *     a loop body are visible inside it).  Scope order is a topological
 *     order, so one forward and one backward sweep find the live nodes: the
 *     descendants of x that are ancestors of y, following only the operands
 *     a gradient flows through (not where's condition, index operands,
 *     reshape sizes, detach, shapes read by creation ops).  A live node
 *     whose op has no rule (argmax, comparisons, a loop or if result) is an
 *     error naming the op.
 *  2. The backward sweep: the adjoint of y is full_like(y, 1); each live
 *     node, from the last, hands its adjoint to its op's rule (grad_rules*.c,
 *     found through a table generated from ops.def's GRAD column), which adds
 *     the contributions of its operands with ad_acc().  Contributions to a
 *     broadcast operand are summed back to its shape (ad_sum_to).
 *  3. The grad's uses are replaced by the adjoint of x (zeros_like(x) when
 *     x does not reach y), named like the grad, and the grad is removed.
 */
#include "autodiff_internal.h"

#include <string.h>

typedef void (*GradRule)(AdCtx *C, IrNode *n, IrNode *g);

#define nograd NULL
static const GradRule rules[IR_NUM_OPS] = {
#define X(name, text, nargs, cls, shape, grad) [IR_##name] = grad,
#include "../ir/ops.def"
#undef X
};
#undef nograd

/* ---- building nodes ---- */

IrNode *ad_emit(AdCtx *C, IrOp op, int nargs, IrNode **args) {
  IrNode *n = ir_node_new(op, C->loc, nargs, args);
  IrBlock *b = C->blk;
  ir_vec_push(&b->nodes, n); /* grow by one, then shift into place */
  memmove(&b->nodes.v[C->at + 1], &b->nodes.v[C->at], sizeof(void *) * (size_t)(b->nodes.n - 1 - C->at));
  b->nodes.v[C->at++] = n;
  return n;
}

IrNode *ad_un(AdCtx *C, IrOp op, IrNode *a) { return ad_emit(C, op, 1, &a); }

IrNode *ad_bin(AdCtx *C, IrOp op, IrNode *a, IrNode *b) {
  IrNode *args[2] = {a, b};
  return ad_emit(C, op, 2, args);
}

IrNode *ad_where(AdCtx *C, IrNode *c, IrNode *a, IrNode *b) {
  IrNode *args[3] = {c, a, b};
  return ad_emit(C, IR_WHERE, 3, args);
}

IrNode *ad_fconst(AdCtx *C, double v) {
  IrNode *n = ad_emit(C, IR_CONST, 0, NULL);
  n->at.dtype = DT_F64;
  n->at.fval = v;
  return n;
}

IrNode *ad_iconst(AdCtx *C, int64_t v) {
  IrNode *n = ad_emit(C, IR_CONST, 0, NULL);
  n->at.dtype = DT_I64;
  n->at.ival = v;
  n->at.fval = (double)v;
  return n;
}

IrNode *ad_zeros_like(AdCtx *C, IrNode *x) {
  IrNode *z = ad_un(C, IR_FULL_LIKE, x);
  z->at.fval = 0;
  return z;
}

static IrNode *dim_of(AdCtx *C, IrNode *v, Dim d) {
  int k = ir_type_axis(&v->type, d);
  if (k < 0)
    return NULL;
  IrNode *s = ad_un(C, IR_DIM, v);
  s->at.ival = k;
  return s;
}

IrNode *ad_size(AdCtx *C, IrNode *n, Dim d) {
  int64_t c;
  if (dim_is_const(d, &c))
    return ad_iconst(C, c);
  IrNode *s = dim_of(C, n, d);
  for (int i = 0; !s && i < n->nargs; i++)
    s = dim_of(C, n->args[i], d);
  for (int i = 0; !s && i < C->nscope; i++)
    s = dim_of(C, C->scope[i], d);
  if (!s) {
    char buf[128];
    ir_error(n->loc, "grad: cannot name the dimension %s of this %s", dim_format(d, buf, sizeof buf),
             ir_op_name(n->op));
    C->failed = true;
    return ad_iconst(C, 1);
  }
  return s;
}

IrNode *ad_reshape(AdCtx *C, IrNode *n, IrNode *v, const IrType *t) {
  IrNode *args[1 + IR_MAX_RANK];
  args[0] = v;
  for (int k = 0; k < t->rank; k++)
    args[1 + k] = ad_size(C, n, t->dims[k]);
  return ad_emit(C, IR_RESHAPE, 1 + t->rank, args);
}

static bool is_one(Dim d) {
  int64_t c;
  return dim_is_const(d, &c) && c == 1;
}

IrNode *ad_sum_to(AdCtx *C, IrNode *n, IrNode *g, const IrType *from, const IrType *to) {
  int lead = from->rank - to->rank;
  if (lead < 0)
    ir_die(n->loc, "grad: summing %d dims back to %d", from->rank, to->rank);
  IrNode *s = g;
  int axes[IR_MAX_RANK], na = 0;
  for (int k = 0; k < to->rank; k++)
    if (is_one(to->dims[k]) && !is_one(from->dims[k + lead]))
      axes[na++] = k + lead;
  if (na) { /* stretched axes, kept */
    s = ad_un(C, IR_SUM, s);
    s->at.has_axes = true, s->at.keepdims = true, s->at.naxes = na;
    memcpy(s->at.axes, axes, sizeof(int) * (size_t)na);
  }
  if (lead) { /* leading axes, dropped */
    s = ad_un(C, IR_SUM, s);
    s->at.has_axes = true, s->at.naxes = lead;
    for (int k = 0; k < lead; k++)
      s->at.axes[k] = k;
  }
  if (ir_dtype_is_float(to->dtype) && to->dtype != from->dtype) {
    s = ad_un(C, IR_CAST, s);
    s->at.dtype = to->dtype;
  }
  return s;
}

/* ---- adjoints ---- */

static int index_of(AdCtx *C, IrNode *v) {
  int i = v->mark - 1;
  return i >= 0 && i < C->nscope && C->scope[i] == v ? i : -1;
}

bool ad_wants(AdCtx *C, IrNode *v) {
  int i = index_of(C, v);
  return i >= 0 && C->live[i];
}

void ad_acc_exact(AdCtx *C, IrNode *v, IrNode *g) {
  int i = index_of(C, v);
  if (i < 0 || !C->live[i])
    return;
  C->adj[i] = C->adj[i] ? ad_bin(C, IR_ADD, C->adj[i], g) : g;
}

void ad_acc(AdCtx *C, IrNode *n, int i, IrNode *g) {
  IrNode *v = n->args[i];
  if (!ad_wants(C, v))
    return;
  ad_acc_exact(C, v, ad_sum_to(C, n, g, &n->type, &v->type));
}

void ad_acc_shaped(AdCtx *C, IrNode *n, int i, IrNode *g) {
  IrNode *v = n->args[i];
  if (!ad_wants(C, v))
    return;
  IrType from = v->type;
  from.dtype = n->type.dtype;
  ad_acc_exact(C, v, ad_sum_to(C, n, g, &from, &v->type));
}

IrNode *ad_adjoint(AdCtx *C, IrNode *v) {
  int i = index_of(C, v);
  return i >= 0 ? C->adj[i] : NULL;
}

void ad_unsupported(AdCtx *C, IrNode *n, const char *what) {
  ir_error(C->loc, "grad through %s is not supported", what);
  ir_note(n->loc, "'%s' is on the path from the value to the loss", ir_op_name(n->op));
  C->failed = true;
}

/* ---- 1. the scope and the live nodes ---- */

/* Whether a gradient flows from operand i into n. */
static bool diff_edge(IrNode *n, int i) {
  switch (n->op) {
  case IR_WHERE: return i >= 1;
  case IR_INDEX:
  case IR_BATCH:
  case IR_RESHAPE:
  case IR_BROADCAST_TO: return i == 0;
  case IR_INDEX_SET:
  case IR_INDEX_ADD: return i <= 1;
  case IR_DETACH:
  case IR_DIM:
  case IR_NDIM:
  case IR_NUM_BATCHES: return false;
  default: break;
  }
  IrOpClass c = ir_opclass(n->op);
  if (c == IRC_CREATION)
    return false; /* full_like(x), rand(x.shape): only x's shape */
  if (c == IRC_SOURCE)
    return n->op == IR_CHECK_TYPE;
  return true;
}

/* Where the walk is: a block and the index of the node being looked at. */
typedef struct Frame {
  IrBlock *b;
  int i;
} Frame;

/* The nodes visible at the grad: the function's arguments, then each
 * enclosing block's params and nodes before the one holding the next. */
static void build_scope(AdCtx *C, IrFunc *f, Frame *fr, int depth) {
  PtrVec v = {0};
  for (int i = 0; i < f->args.n; i++)
    ir_vec_push(&v, f->args.v[i]);
  for (int d = 0; d <= depth; d++) {
    IrBlock *b = fr[d].b;
    for (int i = 0; i < b->params.n; i++)
      ir_vec_push(&v, b->params.v[i]);
    for (int i = 0; i < fr[d].i; i++)
      ir_vec_push(&v, b->nodes.v[i]);
  }
  C->scope = (IrNode **)v.v;
  C->nscope = v.n;
  for (int i = 0; i < C->nscope; i++)
    C->scope[i]->mark = i + 1;
}

static const char *what_name(IrNode *n) {
  if (n->op == IR_RESULT && n->args[0]->op == IR_FOR)
    return "the result of a for loop";
  if (n->op == IR_RESULT && n->args[0]->op == IR_IF)
    return "the result of an if";
  if (n->op == IR_FOR)
    return "a for loop";
  if (n->op == IR_IF)
    return "an if";
  if (n->op == IR_BLOCK_ARG)
    return "a loop variable";
  return NULL;
}

/* A region reads a value that depends on x: its for/if then depends on x
 * too, though x is not among its operands (a body can use any outer value). */
static bool region_reads(AdCtx *C, IrBlock *b, const bool *desc) {
  for (int i = 0; b && i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    for (int k = 0; k < n->nargs; k++) {
      int j = index_of(C, n->args[k]);
      if (j >= 0 && desc[j])
        return true;
    }
    if (region_reads(C, n->body, desc) || region_reads(C, n->orelse, desc))
      return true;
  }
  return false;
}

/* Finds the live nodes; reports a live node the gradient cannot go through. */
static bool find_live(AdCtx *C, IrNode *grad, int iy, int ix) {
  int ns = C->nscope;
  bool *desc = ir_alloc(sizeof(bool) * (size_t)(ns ? ns : 1));
  bool *anc = ir_alloc(sizeof(bool) * (size_t)(ns ? ns : 1));
  C->live = ir_alloc(sizeof(bool) * (size_t)(ns ? ns : 1));
  C->adj = ir_alloc(sizeof(IrNode *) * (size_t)(ns ? ns : 1));
  desc[ix] = true;
  for (int i = ix + 1; i < ns; i++) {
    IrNode *n = C->scope[i];
    bool from_x = false;
    for (int k = 0; k < n->nargs && !from_x; k++) {
      int j = index_of(C, n->args[k]);
      from_x = j >= 0 && desc[j] && diff_edge(n, k);
    }
    if (!from_x && (n->op == IR_FOR || n->op == IR_IF))
      from_x = region_reads(C, n->body, desc) || region_reads(C, n->orelse, desc);
    /* integer results of differentiable ops (astype(i64), floor of an
     * integer) carry no gradient; those of nograd ops are errors if used */
    desc[i] = from_x && (rules[n->op] == NULL || n->op == IR_SPLIT || ir_dtype_is_float(n->type.dtype));
  }
  anc[iy] = true;
  for (int i = iy; i >= 0; i--) {
    if (!anc[i])
      continue;
    IrNode *n = C->scope[i];
    for (int k = 0; k < n->nargs; k++) {
      int j = index_of(C, n->args[k]);
      if (j >= 0 && diff_edge(n, k))
        anc[j] = true;
    }
  }
  bool ok = true;
  for (int i = 0; i < ns; i++) {
    C->live[i] = desc[i] && anc[i];
    IrNode *n = C->scope[i];
    if (!C->live[i] || i == ix || !ok)
      continue;
    if (n->op == IR_RESULT && n->args[0]->op == IR_SPLIT)
      continue;
    if (rules[n->op] == NULL) {
      const char *what = what_name(n);
      if (what) {
        ir_error(grad->loc, "grad through %s is not supported", what);
        ir_note(n->loc, "%s on the path from the value to the loss is here", what);
      } else {
        ir_error(grad->loc, "cannot differentiate through '%s', which is not differentiable",
                 ir_op_name(n->op));
        ir_note(n->loc, "'%s' on the path from the value to the loss is here", ir_op_name(n->op));
      }
      ok = false;
    }
  }
  return ok;
}

/* ---- 2, 3. expanding one grad ---- */

static void replace_uses(IrBlock *b, IrNode *from, IrNode *to) {
  if (!b)
    return;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    for (int k = 0; k < n->nargs; k++)
      if (n->args[k] == from)
        n->args[k] = to;
    if (n->parent == from)
      n->parent = to;
    replace_uses(n->body, from, to);
    replace_uses(n->orelse, from, to);
  }
}

/* Whether y or x depends (through any operand) on a node an earlier
 * grad made in this round, not typed yet: the rules read types, so such a
 * grad waits for the shape pass (a gradient of, or with respect to, a
 * gradient). */
static bool reads_untyped(AdCtx *C, int iy, int ix) {
  bool *anc = ir_alloc(sizeof(bool) * (size_t)(C->nscope ? C->nscope : 1));
  anc[iy] = anc[ix] = true;
  for (int i = iy > ix ? iy : ix; i >= 0; i--) {
    if (!anc[i])
      continue;
    IrNode *n = C->scope[i];
    if (n->type.kind == TY_UNKNOWN)
      return true;
    for (int k = 0; k < n->nargs; k++) {
      int j = index_of(C, n->args[k]);
      if (j >= 0)
        anc[j] = true;
    }
  }
  return false;
}

typedef enum { AD_DONE, AD_FAILED, AD_LATER } Expanded;

static Expanded expand(IrFunc *f, Frame *fr, int depth) {
  IrBlock *b = fr[depth].b;
  IrNode *grad = b->nodes.v[fr[depth].i];
  AdCtx ctx = {.blk = b, .at = fr[depth].i, .loc = grad->loc}, *C = &ctx;
  build_scope(C, f, fr, depth);
  IrNode *y = grad->args[0], *x = grad->args[1];
  int iy = index_of(C, y), ix = index_of(C, x);
  bool ok = true;
  if (iy < 0 || ix < 0)
    ir_die(grad->loc, "grad: operand not visible at the grad");
  if (reads_untyped(C, iy, ix)) {
    for (int i = 0; i < C->nscope; i++)
      C->scope[i]->mark = 0;
    return AD_LATER;
  }
  if (y->type.kind != TY_TENSOR || y->type.rank != 0 || !ir_dtype_is_float(y->type.dtype)) {
    ir_error(grad->loc, "grad needs a float scalar loss");
    ir_note(y->loc, "the loss comes from here");
    ok = false;
  } else if (x->type.kind != TY_TENSOR || !ir_dtype_is_float(x->type.dtype)) {
    ir_error(grad->loc, "cannot take the gradient with respect to a value that is not a float tensor");
    ir_note(x->loc, "the value comes from here");
    ok = false;
  } else if (ix <= iy) {
    ok = find_live(C, grad, iy, ix);
  } else {
    C->live = ir_alloc(sizeof(bool) * (size_t)C->nscope);
    C->adj = ir_alloc(sizeof(IrNode *) * (size_t)C->nscope);
  }
  if (ok && ix <= iy && C->live[iy]) {
    IrNode *one = ad_un(C, IR_FULL_LIKE, y);
    one->at.fval = 1;
    C->adj[iy] = one;
    for (int i = iy; i > ix; i--) {
      IrNode *n = C->scope[i];
      if (!C->live[i] || n->op == IR_RESULT)
        continue; /* a split's results are read by the split's rule */
      if (!C->adj[i] && n->op != IR_SPLIT)
        continue;
      rules[n->op](C, n, C->adj[i]);
    }
    ok = !C->failed;
  }
  if (ok) {
    IrNode *g = C->adj[ix];
    if (!g)
      g = ad_zeros_like(C, x);
    if (g->type.kind != TY_UNKNOWN || g == x) /* not made here: give the grad its own node */
      g = ad_un(C, IR_COPY, g);
    g->name = grad->name;
    if (g->loc.file == NULL)
      g->loc = grad->loc;
    /* the grad sits at C->at now; remove it, then redirect its uses */
    IrBlock *gb = C->blk;
    memmove(&gb->nodes.v[C->at], &gb->nodes.v[C->at + 1], sizeof(void *) * (size_t)(gb->nodes.n - 1 - C->at));
    gb->nodes.n--;
    replace_uses(f->body, grad, g);
    fr[depth].i = C->at - 1; /* continue after the new nodes */
  }
  for (int i = 0; i < C->nscope; i++)
    C->scope[i]->mark = 0;
  return ok ? AD_DONE : AD_FAILED;
}

/* Expands the grads of a block and the blocks in it; counts those done
 * and those left for the next round. */
typedef struct Round {
  int done, later;
} Round;

static bool walk(IrFunc *f, Frame *fr, int depth, Round *r) {
  bool ok = true;
  IrBlock *b = fr[depth].b;
  for (fr[depth].i = 0; fr[depth].i < b->nodes.n; fr[depth].i++) {
    IrNode *n = b->nodes.v[fr[depth].i];
    if (n->op == IR_GRAD) {
      Expanded e = expand(f, fr, depth);
      r->done += e == AD_DONE;
      r->later += e == AD_LATER;
      ok &= e != AD_FAILED;
      continue;
    }
    IrBlock *inner[2] = {n->body, n->orelse};
    for (int k = 0; k < 2; k++)
      if (inner[k]) {
        if (depth + 1 >= 64)
          ir_die(n->loc, "grad: blocks nested too deeply");
        fr[depth + 1].b = inner[k];
        ok &= walk(f, fr, depth + 1, r);
      }
  }
  return ok;
}

/* In rounds: each expands every grad whose operands are typed, then the
 * shape pass types the new nodes; a grad of or with respect to another
 * grad's result waits for the next round.  A module without grad() is
 * left as it was. */
bool pass_autodiff(IrModule *m) {
  ad_dist_buckets(m); /* --dist=mpi: grads of params averaged across ranks (autodiff_dist.c) */
  for (;;) {
    bool ok = true;
    Round r = {0, 0};
    for (int i = 0; i < m->funcs.n; i++) {
      IrFunc *f = m->funcs.v[i];
      Frame fr[64];
      fr[0].b = f->body;
      ok &= walk(f, fr, 0, &r);
    }
    if (!ok)
      return false;
    if (r.done == 0 && r.later == 0)
      return true;
    if (r.done == 0)
      ir_die(m->funcs.n ? ((IrFunc *)m->funcs.v[0])->loc : (Loc){0}, "autodiff: %d grads wait on untyped nodes",
             r.later);
    if (!pass_shape(m))
      return false;
    if (r.later == 0)
      return true;
  }
}
