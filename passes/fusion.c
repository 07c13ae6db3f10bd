/* passes/fusion.c - the fusion pass: which values get a buffer, and which
 * ops share one kernel.  It rewrites nothing; it sets IrNode.fuse and
 * IrNode.group (ir/ir.h), which the lowering (passes/lower*.c) honours.
 *
 * Four decisions, each a walk over one block at a time (a kernel never
 * spans a for/if region, and a value used inside a region keeps its
 * buffer):
 *
 *  1. Inline (IR_FUSE_INLINE), a walk from the end of the block back: an
 *     elementwise op, cast, view (broadcast_to, transpose, flip, and
 *     reshapes that only add or drop size-1 axes), constant fill, arange
 *     or pure gather (x[idx, ...] with integer tensors) gets no buffer when
 *     every user is in the same block and reads it through loads
 *     (elementwise ops, reductions, views, gathers, scatter values, cat):
 *     each user recomputes it at the indices it needs.  A matmul reads a
 *     transpose of the last two axes of its operand (a.T @ b, and the
 *     backward's g @ b.T, a.T @ g) where that operand is stored, with a
 *     transpose flag for the library: such a transpose is inlined too.  The cost rule,
 *     E = the times each element would be computed per run (the sum over
 *     the users of the reads each makes, times the user's own E when it is
 *     inlined too; var, std and logsumexp read their input twice):
 *       weight 0 (casts, views, fills, arange)        always
 *       weight 1 (add, mul, compare, where, relu, ...) E <= 3
 *       weight 4 (exp, log, div, pow, sqrt, tanh, ...) E <= 2
 *     and a value is only recomputed for every element of a bigger
 *     (broadcast) consumer when it costs nothing (weight 0) or is a
 *     scalar of weight 1.  Reductions, matmuls, random numbers, I/O,
 *     params and arguments are never inlined.
 *  2. Row kernels (IR_FUSE_ROW), a walk forward: a reduction over the
 *     trailing axes of its input (keepdims or not) starts a group whose
 *     rows are the leading dims R; later reductions over the trailing
 *     axes of [R, ...] inputs and elementwise ops of shape [R, ...] that
 *     read a member (through inlined elementwise ops and size-1 views, so
 *     row r only ever reads row r) join it.  The lowering runs a group as
 *     one loop over the rows whose body is one stage per member, each an
 *     inner loop over the row; results live in the members' own buffers
 *     (the row max, the row sum: [R, 1]), allocated before the loop, so
 *     rows are independent and the loop could run in parallel.  A group
 *     closes when any other op reads one of its members (the loop is
 *     emitted where its last member was, and every op after it may read
 *     it).  A group of one member is dropped unless the member is a
 *     two-pass reduction (var, std, logsumexp), which it makes one kernel.
 *  3. Finalize (IR_FUSE_FINALIZE): a reduction outside a row kernel whose
 *     only user is an elementwise op of the same shape is computed by that
 *     op's kernel, the op being the reduction's `finalize` (-mean(x): one
 *     kernel).
 *  4. Epilogue (IR_FUSE_EPILOGUE): a 2-D float matmul whose only reader
 *     is one elementwise kernel of its shape and dtype (relu(x @ W + b):
 *     the add is inlined into the relu): the lowering makes blocks of
 *     rows, each a matmul call then the epilogue on that block while it is
 *     in cache, written in place into the matmul's buffer.  A matmul read
 *     by several kernels (the backward pass's relu mask) keeps its plain
 *     form.
 *
 * forward and backward code fuse alike: autodiff has already expanded
 * grad() into ordinary ops.  pass_fusion_dump (fusion_report.c) lists the
 * kernels to be.
 *
 * Requires: shape, autodiff, simplify.  Preserves: the graph; sets fuse
 * and group on every node.
 */
#include "fusion_internal.h"

/* ===== facts about each node ===== */


static PtrVec fnodes; /* FNode*, indexed by node->mark - 1 */

static FNode *info(IrNode *n) {
  if (n->mark <= 0 || n->mark > fnodes.n)
    ir_die(n->loc, "fusion: %s was not numbered", ir_op_name(n->op));
  return fnodes.v[n->mark - 1];
}

static void number(IrNode *n, IrBlock *b, int pos) {
  FNode *fi = ir_alloc(sizeof *fi);
  fi->n = n;
  fi->block = b;
  fi->pos = pos;
  ir_vec_push(&fnodes, fi);
  n->mark = fnodes.n;
}

static void number_block(IrBlock *b) {
  for (int i = 0; i < b->params.n; i++)
    number(b->params.v[i], b, -1);
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    number(n, b, i);
    if (n->body)
      number_block(n->body);
    if (n->orelse)
      number_block(n->orelse);
  }
}

/* Ops that read only their operand's shape (x.shape[0], zeros_like(x),
 * rand(x.shape)): not uses of its value. */
static bool shape_only(IrNode *u) {
  switch (u->op) {
  case IR_DIM:
  case IR_NDIM:
  case IR_FULL_LIKE: return true;
  case IR_FULL:
  case IR_RAND:
  case IR_RANDN: return u->at.like;
  default: return false;
  }
}

static void users_block(IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    for (int a = 0; a < n->nargs && !shape_only(n); a++) {
      if (!n->args[a] || n->args[a]->mark <= 0)
        continue;
      PtrVec *u = &info(n->args[a])->users;
      if (!u->n || u->v[u->n - 1] != n)
        ir_vec_push(u, n);
    }
    if (n->body)
      users_block(n->body);
    if (n->orelse)
      users_block(n->orelse);
  }
}

/* Values the lowering keeps as inline scalar expressions (constants, dims,
 * the loop index, arithmetic on those, aliases of those): no kernel. */
static bool scalar_expr(IrNode *n) {
  if (n->type.kind != TY_TENSOR || n->type.rank != 0)
    return false;
  switch (ir_opclass(n->op)) {
  case IRC_SOURCE:
    if (n->op == IR_CONST)
      return true;
    if (n->op == IR_BLOCK_ARG)
      return n->parent && n->parent->op == IR_FOR && n->parent->body->params.n && n->parent->body->params.v[0] == n;
    if (n->op == IR_CHECK_TYPE)
      return info(n->args[0])->scalar;
    return false;
  case IRC_INDEX: return n->op == IR_DIM || n->op == IR_NDIM || n->op == IR_NUM_BATCHES;
  case IRC_UNARY:
  case IRC_BINARY:
  case IRC_TERNARY:
  case IRC_MOVEMENT:
    if (n->op == IR_BROADCAST_TO || n->op == IR_TRANSPOSE || n->op == IR_FLIP || n->op == IR_CAT ||
        n->op == IR_STACK || n->op == IR_SPLIT)
      return false;
    for (int i = 0; i < n->nargs; i++)
      if (!info(n->args[i])->scalar)
        return false;
    return n->nargs > 0;
  default: return false;
  }
}

static void scalars_block(IrBlock *b) {
  for (int i = 0; i < b->params.n; i++)
    info(b->params.v[i])->scalar = scalar_expr(b->params.v[i]);
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    info(n)->scalar = scalar_expr(n);
    if (n->body)
      scalars_block(n->body);
    if (n->orelse)
      scalars_block(n->orelse);
  }
}

static Dim numel(const IrType *t) {
  Dim d = dim_const(1);
  for (int i = 0; i < t->rank; i++)
    d = dim_mul(d, t->dims[i]);
  return d;
}

static bool is_one(Dim d) {
  int64_t c;
  return dim_is_const(d, &c) && c == 1;
}

/* A reshape-like view that only adds or drops size-1 axes: the lowering
 * maps the non-1 axes in order (lower_ops.c, view_index). */
static bool unit_view(const IrType *from, const IrType *to) {
  int i = 0, j = 0;
  for (;;) {
    while (i < from->rank && is_one(from->dims[i]))
      i++;
    while (j < to->rank && is_one(to->dims[j]))
      j++;
    if (i == from->rank || j == to->rank)
      return i == from->rank && j == to->rank;
    if (!dim_eq(from->dims[i], to->dims[j]))
      return false;
    i++, j++;
  }
}

/* x[t1, t2, ...] with integer tensors (and None, ...): a load at computed
 * indices, with nothing to check or bind at run time. */
static bool pure_gather(IrNode *n) {
  for (int i = 0; i < n->at.nidx; i++) {
    IrIndexItem *it = &n->at.idx[i];
    if (it->kind == IDX_TENSOR ? n->args[it->arg]->type.dtype == DT_BOOL
                               : it->kind != IDX_NEWAXIS && it->kind != IDX_ELLIPSIS)
      return false;
  }
  return true;
}

/* The cost of recomputing one element: -1 when the op cannot be inlined. */
static int weight(IrNode *n) {
  if (n->type.kind != TY_TENSOR)
    return -1;
  switch (ir_opclass(n->op)) {
  case IRC_UNARY:
    switch (n->op) {
    case IR_DETACH:
    case IR_COPY:
    case IR_TO_DEVICE: return -1; /* aliases: no copy to save */
    case IR_CAST: return 0;
    case IR_NEG:
    case IR_ABS:
    case IR_SIGN:
    case IR_RELU:
    case IR_FLOOR:
    case IR_CEIL:
    case IR_ROUND:
    case IR_NOT:
    case IR_ISNAN:
    case IR_ISFINITE: return 1;
    default: return 4;
    }
  case IRC_BINARY: return n->op == IR_DIV || n->op == IR_FLOORDIV || n->op == IR_MOD || n->op == IR_POW ? 4 : 1;
  case IRC_TERNARY: return 1;
  case IRC_MOVEMENT:
    switch (n->op) {
    case IR_BROADCAST_TO:
    case IR_TRANSPOSE:
    case IR_FLIP: return 0;
    case IR_UNSQUEEZE:
    case IR_SQUEEZE:
    case IR_RESHAPE:
    case IR_FLATTEN: return unit_view(&n->args[0]->type, &n->type) ? 0 : -1;
    default: return -1;
    }
  case IRC_CREATION:
    return n->op == IR_FULL || n->op == IR_FULL_LIKE || n->op == IR_ARANGE || n->op == IR_EYE ? 0 : -1;
  case IRC_INDEX: return (n->op == IR_INDEX && pure_gather(n)) || ir_sets_one_per_row(n) ? 1 : -1;
  default: return -1;
  }
}

/* The lowering makes u one library call on dense operands (a matmul, or
 * a dot of matrices and vectors, passes/lower_ops.c). */
static bool gemm_call(IrNode *u) {
  IrNode *a = u->args[0], *b = u->nargs > 1 ? u->args[1] : NULL;
  if (u->op == IR_MATMUL)
    return true;
  return u->op == IR_DOT && b && a->type.rank > 0 && b->type.rank > 0 && a->type.rank <= 2 && b->type.rank <= 2 &&
         !(a->type.rank == 1 && b->type.rank == 1);
}

static bool index_tensor_operand(IrNode *u, int i) {
  for (int k = 0; k < u->at.nidx; k++)
    if (u->at.idx[k].kind == IDX_TENSOR && u->at.idx[k].arg == i)
      return true;
  return false;
}

/* Does the lowering of u read its operand i through loads (lw_elem /
 * lw_at), so that the operand can be recomputed there? */
static bool reads_through_loads(IrNode *u, int i) {
  switch (ir_opclass(u->op)) {
  case IRC_UNARY: return weight(u) >= 0;
  case IRC_BINARY:
  case IRC_TERNARY:
  case IRC_REDUCE: return true;
  case IRC_MOVEMENT:
    switch (u->op) {
    case IR_BROADCAST_TO:
    case IR_TRANSPOSE:
    case IR_FLIP: return i == 0;
    case IR_CAT:
    case IR_STACK: return true;
    case IR_UNSQUEEZE:
    case IR_SQUEEZE:
    case IR_RESHAPE:
    case IR_FLATTEN: return i == 0 && u->fuse == IR_FUSE_INLINE; /* else an alias of a buffer */
    default: return false;
    }
  case IRC_MATMUL: /* reads the transpose's operand, with a transpose flag */
    return gemm_call(u) && ir_swaps_last_two(u->args[i]);
  case IRC_INDEX:
    if (u->op == IR_INDEX)
      return i == 0 || index_tensor_operand(u, i);
    if (u->op == IR_INDEX_SET || u->op == IR_INDEX_ADD)
      return i <= 1 || index_tensor_operand(u, i);
    return false;
  default: return false;
  }
}

/* Reads of n per element of u's loops if n is inlined; 0: u needs a buffer. */
static int inline_reads(IrNode *u, IrNode *n) {
  if (info(u)->scalar)
    return 0;
  int k = 0;
  for (int i = 0; i < u->nargs; i++) {
    if (u->args[i] != n)
      continue;
    if (!reads_through_loads(u, i))
      return 0;
    k++;
  }
  if (u->op == IR_VAR || u->op == IR_STD || u->op == IR_LOGSUMEXP)
    k *= 2; /* a first pass for the mean or the max */
  return k;
}

/* u computes each element of n several times (n is broadcast into it). */
static bool broadcast_use(IrNode *u, IrNode *n) {
  switch (ir_opclass(u->op)) {
  case IRC_REDUCE:
  case IRC_INDEX: return false;
  default:
    if (u->op == IR_CAT || u->op == IR_STACK)
      return false;
    return !dim_eq(numel(&n->type), numel(&u->type));
  }
}

static void decide_inline(IrNode *n) {
  FNode *fi = info(n);
  int w = weight(n);
  if (fi->scalar || w < 0 || fi->users.n == 0)
    return;
  double e = 0;
  bool bcast = false;
  for (int i = 0; i < fi->users.n; i++) {
    IrNode *u = fi->users.v[i];
    if (info(u)->block != fi->block)
      return; /* a region boundary */
    int k = inline_reads(u, n);
    if (!k)
      return;
    e += k * (u->fuse == IR_FUSE_INLINE ? info(u)->evals : 1);
    bcast |= broadcast_use(u, n);
  }
  if (bcast && !(w == 0 || (n->type.rank == 0 && w <= 1)))
    return;
  if (!(w == 0 || e <= 1 || (w == 1 && e <= 3) || (w > 1 && e <= 2)))
    return;
  n->fuse = IR_FUSE_INLINE;
  fi->evals = e;
}

static void inline_block(IrBlock *b) {
  for (int i = b->nodes.n - 1; i >= 0; i--) {
    IrNode *n = b->nodes.v[i];
    if (n->body)
      inline_block(n->body);
    if (n->orelse)
      inline_block(n->orelse);
    decide_inline(n);
  }
}

/* ===== 2. row kernels ===== */

typedef struct Group {
  int p;                 /* number of row dims */
  Dim rows[IR_MAX_RANK]; /* the row dims */
  bool open;
  PtrVec members;        /* IrNode*, in block order */
  int merged_into;       /* -1, or the group that absorbed this one */
} Group;

static PtrVec groups; /* Group*, for the function being grouped */

static bool is_elementwise(IrNode *n) {
  IrOpClass c = ir_opclass(n->op);
  return (c == IRC_UNARY || c == IRC_BINARY || c == IRC_TERNARY) && weight(n) >= 0;
}

static int norm_axis(int a, int rank) { return a < 0 ? a + rank : a; }

/* A reduction over axes [p, rank) of its input, p >= 1: returns p, else 0. */
static int trailing_reduce(IrNode *n) {
  if (ir_opclass(n->op) != IRC_REDUCE || !n->at.has_axes || n->at.naxes == 0)
    return 0;
  int r = n->args[0]->type.rank;
  bool red[IR_MAX_RANK] = {0};
  for (int i = 0; i < n->at.naxes; i++) {
    int a = norm_axis(n->at.axes[i], r);
    if (a < 0 || a >= r)
      return 0;
    red[a] = true;
  }
  int p = 0;
  while (p < r && !red[p])
    p++;
  for (int i = p; i < r; i++)
    if (!red[i])
      return 0;
  return p < r ? p : 0;
}

/* t's leading p dims are `rows` (none of them a literal 1, so broadcasting
 * never moves a row index). */
static bool has_rows(const IrType *t, int p, const Dim *rows) {
  if (t->kind != TY_TENSOR || t->rank < p)
    return false;
  for (int i = 0; i < p; i++)
    if (is_one(rows[i]) || !dim_eq(t->dims[i], rows[i]))
      return false;
  return true;
}

/* Does reader n see operand a's axis d at its own axis d?  Broadcasting
 * (elementwise ops, broadcast_to) aligns shapes at their last axis, so only
 * an operand of n's rank keeps its leading axes where they were: a row sum
 * r of [R] read by r - x with x of [R, R] is r[j] at (i, j), not r[i]. */
static bool same_axes(IrNode *n, IrNode *a) {
  return !(is_elementwise(n) || n->op == IR_BROADCAST_TO) || a->type.rank == n->type.rank;
}

/* Operand i of n is the column index t of x[arange(N), t] = v: the
 * lowering checks t's range before the row loop (lower_index.c), so t must
 * not come from the row kernel. */
static bool row_set_index(IrNode *n, int i) { return ir_sets_one_per_row(n) && i == n->at.idx[1].arg; }

/* Walks n's operands through inlined values: does n read a member of group
 * g, and does every such path keep row r at row r (elementwise ops and
 * size-1 views of [rows, ...] values only, each operand of its reader's
 * rank where the reader broadcasts)? */
static void reads_group(IrNode *n, int g, Group *G, bool aligned, bool *reads, bool *ok) {
  if (shape_only(n)) /* zeros_like(x) reads no element of x */
    return;
  for (int i = 0; i < n->nargs; i++) {
    IrNode *a = n->args[i];
    if (a->mark <= 0)
      continue;
    FNode *ai = info(a);
    bool at_row = aligned && same_axes(n, a) && !row_set_index(n, i);
    if (a->fuse == IR_FUSE_ROW && ai->group == g + 1) {
      *reads = true;
      *ok &= at_row && has_rows(&a->type, G->p, G->rows);
      continue;
    }
    if (a->fuse != IR_FUSE_INLINE)
      continue;
    bool keeps = (is_elementwise(a) || a->op == IR_BROADCAST_TO || a->op == IR_UNSQUEEZE || a->op == IR_SQUEEZE ||
                  a->op == IR_RESHAPE || a->op == IR_FLATTEN || ir_sets_one_per_row(a)) &&
                 has_rows(&a->type, G->p, G->rows);
    reads_group(a, g, G, at_row && keeps, reads, ok);
  }
}

static void join(int g, IrNode *n) {
  Group *G = groups.v[g];
  ir_vec_push(&G->members, n);
  info(n)->group = g + 1;
  n->fuse = IR_FUSE_ROW;
}

static void merge(int into, int from) {
  Group *A = groups.v[into], *B = groups.v[from];
  /* keep block order: merge the two sorted member lists */
  PtrVec all = {0};
  int i = 0, j = 0;
  while (i < A->members.n || j < B->members.n) {
    IrNode *a = i < A->members.n ? A->members.v[i] : NULL, *b = j < B->members.n ? B->members.v[j] : NULL;
    IrNode *take = !b || (a && info(a)->pos < info(b)->pos) ? (i++, a) : (j++, b);
    ir_vec_push(&all, take);
    info(take)->group = into + 1;
  }
  A->members = all;
  B->members = (PtrVec){0};
  B->merged_into = into;
  B->open = false;
}

static void rows_block(IrBlock *b, int *next_id) {
  int first = groups.n;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->body)
      rows_block(n->body, next_id);
    if (n->orelse)
      rows_block(n->orelse, next_id);
    if (n->fuse == IR_FUSE_INLINE || n->mark <= 0 || shape_only(n))
      continue;
    if (n->body || n->orelse) { /* a region may read anything: close all */
      for (int g = first; g < groups.n; g++)
        ((Group *)groups.v[g])->open = false;
      continue;
    }
    int p = trailing_reduce(n);
    IrNode *src = p ? n->args[0] : NULL;
    bool elem = is_elementwise(n) && !info(n)->scalar && n->type.rank > 0;
    int joined = -1;
    for (int g = first; g < groups.n; g++) {
      Group *G = groups.v[g];
      if (!G->open)
        continue;
      bool reads = false, ok = true;
      reads_group(n, g, G, true, &reads, &ok);
      if (!reads)
        continue;
      bool fits = ok && ((p && p == G->p && has_rows(&src->type, p, G->rows)) ||
                         (elem && has_rows(&n->type, G->p, G->rows)));
      if (!fits) {
        G->open = false; /* read from outside: its loop must come first */
        continue;
      }
      if (joined < 0) {
        join(g, n);
        joined = g;
      } else {
        merge(joined, g);
      }
    }
    if (joined < 0 && p) {
      Group *G = ir_alloc(sizeof *G);
      G->p = p;
      for (int d = 0; d < p; d++)
        G->rows[d] = src->type.dims[d];
      G->open = true;
      G->merged_into = -1;
      bool unit = false;
      for (int d = 0; d < p; d++)
        unit |= is_one(G->rows[d]);
      ir_vec_push(&groups, G);
      if (unit)
        G->open = false; /* a row dim of 1: nothing to gain */
      else
        join(groups.n - 1, n);
    }
  }
  /* Number the groups worth a loop; drop the others. */
  for (int g = first; g < groups.n; g++) {
    Group *G = groups.v[g];
    if (G->merged_into >= 0 || !G->members.n)
      continue;
    IrNode *only = G->members.v[0];
    bool keep = G->members.n > 1 || only->op == IR_VAR || only->op == IR_STD || only->op == IR_LOGSUMEXP;
    int id = keep ? ++*next_id : 0;
    for (int k = 0; k < G->members.n; k++) {
      IrNode *m = G->members.v[k];
      m->fuse = keep ? IR_FUSE_ROW : IR_FUSE_NONE;
      m->group = id;
    }
  }
}

/* ===== 3. reductions computed in their consumer's finalize ===== */

static void finalize_block(IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *r = b->nodes.v[i];
    if (r->body)
      finalize_block(r->body);
    if (r->orelse)
      finalize_block(r->orelse);
    FNode *ri = info(r);
    if (ir_opclass(r->op) != IRC_REDUCE || r->fuse != IR_FUSE_NONE || r->op == IR_ARGMAX || r->op == IR_ARGMIN ||
        ri->users.n != 1)
      continue;
    IrNode *e = ri->users.v[0];
    if (info(e)->block != b || e->fuse != IR_FUSE_NONE || !is_elementwise(e) || info(e)->scalar ||
        e->type.rank != r->type.rank || !ir_shape_eq(&e->type, &r->type))
      continue;
    /* 3 // sum(x): the divisor's check reads the reduction before the
     * division's kernel, so it is stored first */
    if (ir_checks_int_operand(e) && e->args[0] != r)
      continue;
    bool taken = false; /* one reduction per consumer */
    for (int a = 0; a < e->nargs; a++)
      taken |= e->args[a]->fuse == IR_FUSE_FINALIZE;
    int uses = 0;
    for (int a = 0; a < e->nargs; a++)
      uses += e->args[a] == r;
    if (!taken && uses == 1)
      r->fuse = IR_FUSE_FINALIZE;
  }
}

/* ===== 4. matmul epilogues ===== */

/* The kernels reading n, through the values inlined into them; `plain`
 * stays true while every inlined value on the way is elementwise of n's
 * shape (so the reader reads n at its own index). */
static void readers(IrNode *n, const IrType *t, PtrVec *out, bool *plain) {
  FNode *fi = info(n);
  for (int i = 0; i < fi->users.n; i++) {
    IrNode *u = fi->users.v[i];
    if (u->fuse == IR_FUSE_INLINE) {
      *plain &= is_elementwise(u) && ir_shape_eq(&u->type, t);
      readers(u, t, out, plain);
    } else {
      bool seen = false;
      for (int k = 0; k < out->n; k++)
        seen |= out->v[k] == u;
      if (!seen)
        ir_vec_push(out, u);
    }
  }
}

static void epilogue_block(IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *m = b->nodes.v[i];
    if (m->body)
      epilogue_block(m->body);
    if (m->orelse)
      epilogue_block(m->orelse);
    if (m->op != IR_MATMUL || m->fuse != IR_FUSE_NONE || m->type.rank != 2 || m->args[0]->type.rank != 2 ||
        m->args[1]->type.rank != 2 || !ir_dtype_is_float(m->type.dtype))
      continue;
    PtrVec rd = {0};
    bool plain = true;
    readers(m, &m->type, &rd, &plain);
    if (!plain || rd.n != 1)
      continue;
    IrNode *e = rd.v[0];
    /* e runs in place in m's buffer, block by block: it must be m's only
     * reader, elementwise, of m's shape and dtype */
    if (info(e)->block != b || e->fuse != IR_FUSE_NONE || !is_elementwise(e) || !ir_shape_eq(&e->type, &m->type) ||
        e->type.dtype != m->type.dtype)
      continue;
    m->fuse = IR_FUSE_EPILOGUE;
  }
}

/* ===== the pass ===== */

static void reset_block(IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    n->fuse = IR_FUSE_NONE;
    n->group = 0;
    if (n->body)
      reset_block(n->body);
    if (n->orelse)
      reset_block(n->orelse);
  }
}

static void prepare(IrFunc *f) {
  ir_clear_marks(f->body);
  fnodes = (PtrVec){0}; /* not .n = 0: the array may be a freed arena's (ir_arena_reset) */
  for (int i = 0; i < f->args.n; i++)
    number(f->args.v[i], NULL, -1);
  number_block(f->body);
  users_block(f->body);
  for (int i = 0; i < f->args.n; i++)
    info(f->args.v[i])->scalar = false;
  scalars_block(f->body);
}

static void finish(IrFunc *f) {
  ir_clear_marks(f->body);
  for (int i = 0; i < f->args.n; i++)
    ((IrNode *)f->args.v[i])->mark = 0;
}

bool pass_fusion(IrModule *m) {
  for (int i = 0; i < m->funcs.n; i++) {
    IrFunc *f = m->funcs.v[i];
    reset_block(f->body);
    prepare(f);
    inline_block(f->body);
    groups = (PtrVec){0};
    int next_id = 0;
    rows_block(f->body, &next_id);
    finalize_block(f->body);
    epilogue_block(f->body);
    finish(f);
  }
  return true;
}

/* ===== for the report (fusion_report.c) ===== */

FNode *fusion_info(IrNode *n) { return info(n); }
void fusion_prepare(IrFunc *f) { prepare(f); }
void fusion_finish(IrFunc *f) { finish(f); }
bool fusion_shape_only(IrNode *u) { return shape_only(u); }
bool fusion_gemm_call(IrNode *u) { return gemm_call(u); }
int fusion_trailing_reduce(IrNode *n) { return trailing_reduce(n); }
Dim fusion_numel(const IrType *t) { return numel(t); }
