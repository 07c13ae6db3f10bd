/* passes/autodiff_dist.c - --dist=mpi: the params' gradients averaged
 * across ranks once per step, in buckets (SPEC §8, docs/distributed.md).
 *
 * Runs at the start of the autodiff pass, before any grad is expanded.  In
 * each block, the grads of one loss with respect to params (the resolver
 * marks them: at.str = the param's name) are moved next to the first of
 * them (their operands, the loss and the params' values, are defined
 * before it), in the order the backward pass finishes them (the param the
 * forward pass reads last first: the last layer's), and cut into buckets
 * of one dtype and at most BUCKET_BYTES each.  Each bucket's grads are
 * followed by its packing and all-reduce, and after the last bucket come
 * the unpackings:
 *
 *   grad(loss, b2), grad(loss, W2), ...                         bucket 1's grads
 *   grad_bucket = cat(reshape(grad(loss, b2), -1), ...)
 *   grad_mean   = all_reduce_mean(grad_bucket)                  one MPI all-reduce
 *   grad(loss, W1), ...                                         bucket 2's grads, ...
 *   grad(loss, W2) = reshape(grad_mean[10:650], 64, 10)  ...   what the updates read
 *
 * The expansion of each grad then replaces the grad inside the cat, and
 * makes each grad's backward code where the grad is: so bucket 1 is
 * complete while bucket 2's backward code has yet to run, and
 * passes/dist_overlap.c starts its all-reduce there.  Grads whose param has
 * a shape not known at compile time get an all_reduce_mean each. */
#include "autodiff_internal.h"

#include <string.h>

/* PyTorch DDP's default bucket (bucket_cap_mb): 25 MiB; --dist-bucket=BYTES sets another */
enum { BUCKET_BYTES = 25 << 20 };

static bool param_grad(IrNode *n) {
  return n->op == IR_GRAD && n->at.str && n->args[1]->type.kind == TY_TENSOR && ir_dtype_is_float(n->args[1]->type.dtype);
}

static int64_t numel(const IrType *t) {
  int64_t n = 1, c;
  for (int d = 0; d < t->rank; d++) {
    if (!dim_is_const(t->dims[d], &c))
      return -1;
    n *= c;
  }
  return n;
}

static void replace_uses_except(IrBlock *b, IrNode *from, IrNode *to, IrNode *keep) {
  for (int i = 0; b && i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n != keep)
      for (int k = 0; k < n->nargs; k++)
        if (n->args[k] == from)
          n->args[k] = to;
    replace_uses_except(n->body, from, to, keep);
    replace_uses_except(n->orelse, from, to, keep);
  }
}

/* reshape(v, sizes...) */
static IrNode *reshape(AdCtx *C, IrNode *v, int rank, const int64_t *sizes) {
  IrNode *args[IR_MAX_RANK + 1] = {v};
  for (int d = 0; d < rank; d++)
    args[1 + d] = ad_iconst(C, sizes[d]);
  return ad_emit(C, IR_RESHAPE, 1 + rank, args);
}

/* The bucket of grads g[0..n) (one dtype, known sizes) packed and
 * averaged, inserted at C->at; returns the average. */
static IrNode *pack(AdCtx *C, IrNode **g, int n) {
  IrNode *flat[256];
  int64_t minus1 = -1;
  for (int j = 0; j < n; j++)
    flat[j] = reshape(C, g[j], 1, &minus1);
  IrNode *packed = flat[0];
  if (n > 1) {
    packed = ad_emit(C, IR_CAT, n, flat);
    packed->at.naxes = 1; /* axis 0 */
    packed->at.has_axes = true;
  }
  packed->name = "grad_bucket";
  IrNode *mean = ad_un(C, IR_ALL_REDUCE_MEAN, packed);
  mean->name = "grad_mean";
  return mean;
}

/* Each grad g[j] replaced, where it is read (but in the bucket's packing),
 * by its slice of the average, inserted at C->at. */
static void unpack(IrFunc *f, AdCtx *C, IrNode **g, int n, IrNode *mean) {
  int64_t off = 0;
  for (int j = 0; j < n; j++) {
    const IrType *t = &g[j]->args[1]->type;
    int64_t size = numel(t), dims[IR_MAX_RANK];
    IrNode *args[3] = {mean, ad_iconst(C, off), ad_iconst(C, off + size)};
    IrNode *piece = ad_emit(C, IR_INDEX, 3, args);
    IrIndexItem *item = ir_alloc(sizeof *item);
    *item = (IrIndexItem){.kind = IDX_SLICE, .arg = -1, .start = 1, .stop = 2, .step = -1};
    piece->at.idx = item;
    piece->at.nidx = 1;
    for (int d = 0; d < t->rank; d++)
      dim_is_const(t->dims[d], &dims[d]);
    IrNode *avg = reshape(C, piece, t->rank, dims);
    avg->name = g[j]->name;
    replace_uses_except(f->body, g[j], avg, mean->args[0]->op == IR_CAT ? mean->args[0]->args[j] : mean->args[0]);
    off += size;
  }
}

/* The param grads of the loss of the grad at b[i], moved to b[i+1...];
 * returns how many (at least 1). */
static int gather(IrBlock *b, int i) {
  IrNode *first = b->nodes.v[i];
  int k = 1;
  for (int j = i + 1; j < b->nodes.n; j++) {
    IrNode *n = b->nodes.v[j];
    if (!param_grad(n) || n->args[0] != first->args[0])
      continue;
    int def = -1; /* where the param's value is defined in this block (-1: before it) */
    for (int p = 0; p < j; p++)
      if (b->nodes.v[p] == n->args[1])
        def = p;
    if (def > i)
      continue;
    memmove(&b->nodes.v[i + k + 1], &b->nodes.v[i + k], sizeof(void *) * (size_t)(j - i - k));
    b->nodes.v[i + k++] = n;
  }
  return k;
}

static bool block_reads(IrBlock *b, IrNode *p);

static bool node_reads(IrNode *n, IrNode *p) {
  for (int k = 0; k < n->nargs; k++)
    if (n->args[k] == p)
      return true;
  return block_reads(n->body, p) || block_reads(n->orelse, p);
}

static bool block_reads(IrBlock *b, IrNode *p) {
  for (int i = 0; b && i < b->nodes.n; i++)
    if (node_reads(b->nodes.v[i], p))
      return true;
  return false;
}

/* Where block b first reads param value p, before node i (-1: not there).
 * The backward pass finishes p's gradient when it has gone back past that
 * read: the later p is first read, the sooner its gradient is ready. */
static int first_read(IrBlock *b, int i, IrNode *p) {
  for (int j = 0; j < i; j++)
    if (node_reads(b->nodes.v[j], p))
      return j;
  return -1;
}

/* The grads g[0..k) in the order the backward pass makes them: the last
 * layer's first (stable, so params read at the same place keep theirs). */
static void backward_order(IrBlock *b, int i, IrNode **g, int k) {
  int key[256];
  for (int j = 0; j < k; j++)
    key[j] = first_read(b, i, g[j]->args[1]);
  for (int j = 1; j < k; j++)
    for (int t = j; t > 0 && key[t - 1] < key[t]; t--) {
      IrNode *n = g[t];
      int c = key[t];
      g[t] = g[t - 1], key[t] = key[t - 1];
      g[t - 1] = n, key[t - 1] = c;
    }
}

/* The grads g[0..k) cut into buckets, in order: one dtype each and at most
 * BUCKET_BYTES (a grad of a size known only at run time alone); g is
 * rearranged so that each bucket's grads are together, and start[] gets
 * where each bucket begins (start[nb] = k).  Returns nb. */
static int cut_buckets(IrNode **g, int k, int64_t bucket_bytes, int *start) {
  IrNode *in[256];
  memcpy(in, g, sizeof(IrNode *) * (size_t)k);
  bool done[256] = {0};
  int n = 0, nb = 0;
  for (int s = 0; s < k; s++) {
    if (done[s])
      continue;
    start[nb++] = n;
    IrNode *gs = in[s];
    int64_t bytes = 0;
    for (int t = s; t < k; t++) {
      IrNode *gt = in[t];
      int64_t size = numel(&gt->args[1]->type), sz = size * (int64_t)ir_dtype_size(gt->args[1]->type.dtype);
      if (done[t] || (t > s && (size < 0 || numel(&gs->args[1]->type) < 0)) ||
          gt->args[1]->type.dtype != gs->args[1]->type.dtype || (t > s && bytes + sz > bucket_bytes))
        continue;
      done[t] = true;
      g[n++] = gt;
      bytes += sz;
    }
  }
  start[nb] = n;
  return nb;
}

/* A block's param grads, after the grads of each loss, as
 *   [bucket 1's grads, its packing and all_reduce] [bucket 2's ...] ...
 *   [every bucket's unpacking]
 * so that a bucket is complete, and its all-reduce can start, while the
 * backward code of the later buckets' grads still runs (passes/dist_overlap.c). */
static void block_buckets(IrModule *m, IrFunc *f, IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->body)
      block_buckets(m, f, n->body);
    if (n->orelse)
      block_buckets(m, f, n->orelse);
    if (!param_grad(n))
      continue;
    int k = gather(b, i);
    k = k < 256 ? k : 256;
    IrNode **g = (IrNode **)&b->nodes.v[i]; /* the grads, in place */
    int start[257];
    backward_order(b, i, g, k);
    int nb = cut_buckets(g, k, m->dist_bucket ? m->dist_bucket : BUCKET_BYTES, start);
    IrNode *means[256];
    IrNode *members[256];
    memcpy(members, g, sizeof(IrNode *) * (size_t)k);
    AdCtx ctx = {.blk = b, .at = i, .loc = n->loc}, *C = &ctx;
    for (int q = 0; q < nb; q++) {
      IrNode **m = &members[start[q]];
      C->at += start[q + 1] - start[q]; /* after the bucket's grads */
      means[q] = NULL;
      if (numel(&m[0]->args[1]->type) < 0) { /* a shape known at run time: on its own */
        IrNode *avg = ad_un(C, IR_ALL_REDUCE_MEAN, m[0]);
        avg->name = m[0]->name;
        replace_uses_except(f->body, m[0], avg, avg);
        continue;
      }
      means[q] = pack(C, m, start[q + 1] - start[q]);
    }
    for (int q = 0; q < nb; q++)
      if (means[q])
        unpack(f, C, &members[start[q]], start[q + 1] - start[q], means[q]);
    i = C->at - 1; /* after the buckets' nodes */
  }
}

void ad_dist_buckets(IrModule *m) {
  if (!m->dist)
    return;
  for (int i = 0; i < m->funcs.n; i++)
    block_buckets(m, m->funcs.v[i], ((IrFunc *)m->funcs.v[i])->body);
}
