/* passes/autodiff_dist.c - --dist=mpi: the params' gradients averaged
 * across ranks once per step, in buckets (SPEC §8, docs/distributed.md).
 *
 * Runs at the start of the autodiff pass, before any grad is expanded.  In
 * each block, the grads of one loss with respect to params (the resolver
 * marks them: at.str = the param's name) are moved next to the first of
 * them (their operands, the loss and the params' values, are defined
 * before it), and after the last one the graph gets, per dtype and per
 * BUCKET_BYTES of gradients:
 *
 *   grad_bucket = cat(reshape(grad(loss, W1), -1), reshape(grad(loss, b1), -1), ...)
 *   grad_mean   = all_reduce_mean(grad_bucket)                  one MPI_Allreduce
 *   grad(loss, W1) = reshape(grad_mean[0:4096], 64, 64)  ...    what the updates read
 *
 * The expansion of each grad then replaces the grad inside the cat, so the
 * packing is fused with the backward code that makes each gradient, and
 * the unpacking with the update that reads it.  Grads whose param has a
 * shape not known at compile time get an all_reduce_mean each. */
#include "autodiff_internal.h"

#include <string.h>

/* PyTorch DDP's default bucket: 25 MiB */
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

/* The bucket of grads g[0..n) (one dtype, known sizes), inserted at C->at. */
static void bucket(IrFunc *f, AdCtx *C, IrNode **g, int n) {
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
    replace_uses_except(f->body, g[j], avg, flat[j]);
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

static void block_buckets(IrFunc *f, IrBlock *b) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->body)
      block_buckets(f, n->body);
    if (n->orelse)
      block_buckets(f, n->orelse);
    if (!param_grad(n))
      continue;
    int k = gather(b, i);
    AdCtx ctx = {.blk = b, .at = i + k, .loc = n->loc}, *C = &ctx;
    /* buckets of one dtype and at most BUCKET_BYTES, in the grads' order */
    IrNode *g[256];
    bool done[256] = {0};
    for (int s = 0; s < k && s < 256; s++) {
      if (done[s])
        continue;
      IrNode *gs = b->nodes.v[i + s];
      if (numel(&gs->args[1]->type) < 0) { /* a shape known at run time: on its own */
        done[s] = true;
        IrNode *avg = ad_un(C, IR_ALL_REDUCE_MEAN, gs);
        avg->name = gs->name;
        replace_uses_except(f->body, gs, avg, avg);
        continue;
      }
      int m = 0;
      int64_t bytes = 0;
      for (int t = s; t < k && t < 256 && m < 256; t++) {
        IrNode *gt = b->nodes.v[i + t];
        int64_t sz = numel(&gt->args[1]->type) * (int64_t)ir_dtype_size(gt->args[1]->type.dtype);
        if (done[t] || gt->args[1]->type.dtype != gs->args[1]->type.dtype || numel(&gt->args[1]->type) < 0 ||
            (m > 0 && bytes + sz > BUCKET_BYTES))
          continue;
        done[t] = true;
        g[m++] = gt;
        bytes += sz;
      }
      bucket(f, C, g, m);
    }
    i = C->at - 1; /* after the bucket's nodes */
  }
}

void ad_dist_buckets(IrModule *m) {
  if (!m->dist)
    return;
  for (int i = 0; i < m->funcs.n; i++)
    block_buckets(m->funcs.v[i], ((IrFunc *)m->funcs.v[i])->body);
}
