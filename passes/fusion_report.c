/* passes/fusion_report.c - the fusion pass's --dump-after text: the graph
 * IR, then for each function one line per kernel to be (the ops it holds
 * and the memory traffic fusion saved, in bytes over the symbolic dims),
 * then the totals.  It reads the decisions fusion.c made (IrNode.fuse and
 * group) and changes nothing.  docs/internals.md, "fusion", explains the
 * format.
 */
#include "fusion_internal.h"

#include "../ir/kernel.h"
#include "../ir/target.h"

#include <stdlib.h>
#include <string.h>

/* ===== the dump: one line a kernel to be ===== */

/* Bytes as a sum of dimension expressions (a sum too complex for one Dim
 * keeps several terms). */
typedef struct Bytes {
  Dim d[16];
  int n;
} Bytes;

static void bytes_add(Bytes *b, const IrType *t, int times) {
  if (t->kind != TY_TENSOR || times <= 0)
    return;
  Dim x = dim_mul(fusion_numel(t), dim_const((int64_t)ir_dtype_size(t->dtype) * times));
  for (int i = 0; i < b->n; i++) {
    Dim s = dim_add(b->d[i], x);
    if (!s.overflow) {
      b->d[i] = s;
      return;
    }
  }
  if (b->n < 16)
    b->d[b->n++] = x;
}

static void bytes_print(FILE *out, Bytes *b) {
  if (!b->n) {
    fputs("0", out);
    return;
  }
  for (int i = 0; i < b->n; i++) {
    char buf[160];
    fprintf(out, "%s%s", i ? " + " : "", dim_format(b->d[i], buf, sizeof buf));
  }
}

/* The printer's name of a value (ids set by ir_print_module, print.c). */
static void ref(FILE *out, IrNode *n) {
  if (n->id > 0)
    fprintf(out, "%%%d", n->id - 1);
  else if (n->id < -1)
    fprintf(out, "%%\"%s.%d\"", n->name, -n->id - 1);
  else if (n->id == -1 && n->name)
    fprintf(out, strchr(n->name, '(') || strchr(n->name, ' ') ? "%%\"%s\"" : "%%%s", n->name);
  else
    fputs("%?", out);
}

typedef struct Kern {
  PtrVec ops;   /* in block order, no duplicates */
  Bytes saved;
} Kern;

static bool has(PtrVec *v, void *p) {
  for (int i = 0; i < v->n; i++)
    if (v->v[i] == p)
      return true;
  return false;
}

/* Adds n's inlined operands (and a reduction in its finalize) to k,
 * counting the traffic they no longer cost.  `leaves` collects the buffers
 * the kernel reads (with repeats, one per reading stage). */
static void absorb(Kern *k, IrNode *n, PtrVec *leaves) {
  for (int i = 0; i < n->nargs && !fusion_shape_only(n); i++) {
    IrNode *a = n->args[i];
    if (a->mark <= 0)
      continue;
    if (a->fuse == IR_FUSE_INLINE || a->fuse == IR_FUSE_FINALIZE) {
      FNode *ai = fusion_info(a);
      bytes_add(&k->saved, &a->type, 1); /* not read back */
      if (!ai->written) {
        ai->written = true;
        bytes_add(&k->saved, &a->type, 1); /* not written */
      }
      if (!has(&k->ops, a))
        ir_vec_push(&k->ops, a);
      absorb(k, a, leaves);
    } else if (leaves && !fusion_info(a)->scalar && a->type.kind == TY_TENSOR) {
      ir_vec_push(leaves, a);
    }
  }
}

static int cmp_pos(const void *x, const void *y) {
  IrNode *a = *(IrNode *const *)x, *b = *(IrNode *const *)y;
  return fusion_info(a)->pos - fusion_info(b)->pos;
}

static void kern_print(FILE *out, Kern *k, int depth, const char *head) {
  qsort(k->ops.v, (size_t)k->ops.n, sizeof(void *), cmp_pos);
  for (int i = 0; i < depth; i++)
    fputs("  ", out);
  fputs(head, out);
  fputs(" {", out);
  for (int i = 0; i < k->ops.n; i++) {
    IrNode *n = k->ops.v[i];
    fprintf(out, "%s%s ", i ? ", " : " ", ir_op_name(n->op));
    ref(out, n);
  }
  fputs(" } saved ", out);
  bytes_print(out, &k->saved);
  fputs(" bytes\n", out);
}

/* The kernels a line stands for (`kernel xK`): 0 for values with no code
 * of their own.  The totals are counted in the lowered module instead. */
static int kernels_of(IrNode *n) {
  if (fusion_info(n)->scalar || n->fuse == IR_FUSE_INLINE || n->fuse == IR_FUSE_FINALIZE)
    return 0;
  switch (ir_opclass(n->op)) {
  case IRC_UNARY: return n->op == IR_DETACH || n->op == IR_COPY || n->op == IR_TO_DEVICE ? 0 : 1;
  case IRC_BINARY:
  case IRC_TERNARY: return 1;
  case IRC_REDUCE: return n->op == IR_VAR || n->op == IR_STD || n->op == IR_LOGSUMEXP ? 2 : 1;
  case IRC_CREATION: return 1;
  case IRC_MOVEMENT:
    switch (n->op) {
    case IR_RESHAPE:
    case IR_FLATTEN:
    case IR_SQUEEZE:
    case IR_UNSQUEEZE:
    case IR_SPLIT: return 0;
    case IR_CAT:
    case IR_STACK: return n->nargs;
    default: return 1;
    }
  case IRC_SOURCE: return n->op == IR_TENSOR ? 1 : 0;
  case IRC_INDEX:
    return n->op == IR_INDEX || n->op == IR_BATCH ? 1 : n->op == IR_INDEX_SET || n->op == IR_INDEX_ADD ? 2 : 0;
  case IRC_CONTROL: return n->op == IR_RESULT && n->args[0]->op == IR_SPLIT ? 1 : 0;
  default: return 0;
  }
}

static bool reaches_epilogue(IrNode *n) {
  for (int i = 0; i < n->nargs; i++) {
    IrNode *a = n->args[i];
    if (a->fuse == IR_FUSE_EPILOGUE || (a->fuse == IR_FUSE_INLINE && reaches_epilogue(a)))
      return true;
  }
  return false;
}

static bool is_call(IrNode *n) {
  switch (n->op) {
  case IR_MATMUL:
  case IR_RAND:
  case IR_RANDN:
  case IR_RANDINT:
  case IR_RANDPERM:
  case IR_PRINT:
  case IR_SAVE:
  case IR_SEED: return true;
  case IR_DOT: return fusion_gemm_call(n);
  default: return false;
  }
}

typedef struct DumpCtx {
  FILE *out;
  Bytes total;
} DumpCtx;

static void dump_row_group(DumpCtx *D, IrBlock *b, int gid, int depth) {
  Kern k = {0};
  PtrVec members = {0};
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->fuse == IR_FUSE_ROW && n->group == gid)
      ir_vec_push(&members, n);
  }
  /* each buffer read by several stages is read once, then from cache;
   * members are read back from cache */
  PtrVec leaves = {0};
  for (int i = 0; i < members.n; i++) {
    IrNode *m = members.v[i];
    if (!has(&k.ops, m))
      ir_vec_push(&k.ops, m);
    PtrVec mine = {0};
    absorb(&k, m, &mine);
    int times = m->op == IR_VAR || m->op == IR_STD || m->op == IR_LOGSUMEXP ? 2 : 1;
    for (int t = 0; t < times; t++)
      for (int j = 0; j < mine.n; j++)
        ir_vec_push(&leaves, mine.v[j]);
  }
  PtrVec seen = {0};
  for (int i = 0; i < leaves.n; i++) {
    IrNode *l = leaves.v[i];
    if (l->fuse == IR_FUSE_ROW && l->group == gid)
      bytes_add(&k.saved, &l->type, 1);
    else if (has(&seen, l))
      bytes_add(&k.saved, &l->type, 1);
    else
      ir_vec_push(&seen, l);
  }
  IrNode *first = members.v[0];
  IrNode *src = first->args[0];
  int p = fusion_trailing_reduce(first);
  char head[512];
  size_t at = (size_t)snprintf(head, sizeof head, "kernel rows[");
  for (int d = 0; d < p && at < sizeof head; d++) {
    char buf[128];
    at += (size_t)snprintf(head + at, sizeof head - at, "%s%s", d ? ", " : "", dim_format(src->type.dims[d], buf, sizeof buf));
  }
  if (at < sizeof head)
    snprintf(head + at, sizeof head - at, "]");
  kern_print(D->out, &k, depth, head);
  for (int i = 0; i < k.saved.n; i++) {
    IrType t = {.kind = TY_TENSOR, .dtype = DT_BOOL, .rank = 1, .dims = {k.saved.d[i]}};
    bytes_add(&D->total, &t, 1);
  }
}

static void dump_block(DumpCtx *D, IrBlock *b, int depth) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    if (n->body || n->orelse) {
      for (int d = 0; d < depth; d++)
        fputs("  ", D->out);
      fprintf(D->out, "%s {\n", ir_op_name(n->op));
      if (n->body)
        dump_block(D, n->body, depth + 1);
      if (n->orelse) {
        for (int d = 0; d < depth; d++)
          fputs("  ", D->out);
        fputs("} else {\n", D->out);
        dump_block(D, n->orelse, depth + 1);
      }
      for (int d = 0; d < depth; d++)
        fputs("  ", D->out);
      fputs("}\n", D->out);
      continue;
    }
    if (n->fuse == IR_FUSE_ROW) {
      bool last = true;
      for (int j = i + 1; j < b->nodes.n; j++)
        if (((IrNode *)b->nodes.v[j])->fuse == IR_FUSE_ROW && ((IrNode *)b->nodes.v[j])->group == n->group)
          last = false;
      if (last)
        dump_row_group(D, b, n->group, depth);
      continue;
    }
    if (is_call(n)) {
      for (int d = 0; d < depth; d++)
        fputs("  ", D->out);
      fprintf(D->out, "call %s", ir_op_name(n->op));
      if (n->type.kind == TY_TENSOR) {
        fputc(' ', D->out);
        ref(D->out, n);
      }
      for (int j = 0; ir_opclass(n->op) == IRC_MATMUL && j < n->nargs; j++) {
        IrNode *t = n->args[j];
        if (t->fuse != IR_FUSE_INLINE || !ir_swaps_last_two(t))
          continue;
        fputs(j ? " b" : " a", D->out); /* flagged, not written out: its write and read saved */
        fputs(".T of ", D->out);
        ref(D->out, t->args[0]);
        if (!fusion_info(t)->written) {
          fusion_info(t)->written = true;
          bytes_add(&D->total, &t->type, 2);
        }
      }
      fputs(n->fuse == IR_FUSE_EPILOGUE ? " (blocks of rows, each followed by its epilogue)\n" : "\n", D->out);
      continue;
    }
    int nk = kernels_of(n);
    if (!nk)
      continue;
    Kern k = {0};
    ir_vec_push(&k.ops, n);
    absorb(&k, n, NULL);
    bool epi = reaches_epilogue(n);
    if (epi) /* in place in the matmul's blocks while in cache: no buffer, no pass over memory */
      bytes_add(&k.saved, &n->type, 2);
    const char *head = epi ? "kernel epilogue" : nk > 1 ? ir_sprintf("kernel x%d", nk) : "kernel";
    kern_print(D->out, &k, depth, head);
    for (int s = 0; s < k.saved.n; s++) {
      IrType t = {.kind = TY_TENSOR, .dtype = DT_BOOL, .rank = 1, .dims = {k.saved.d[s]}};
      bytes_add(&D->total, &t, 1);
    }
  }
}

/* ===== the totals: what lower makes of the module ===== */

/* Kernels and runtime calls in a kernel-IR list: a row loop is one kernel
 * (its stages run inside it); a matmul by blocks of rows is its call and
 * its epilogue kernel; handing a param back (param_store) is no call. */
static void count_lowered(const KList *l, int *kernels, int *calls) {
  for (int i = 0; i < l->n; i++) {
    const KStmt *s = l->v[i];
    if (s->kind == KS_KERNEL || (s->kind == KS_FOR && s->rows)) {
      ++*kernels;
    } else if (s->kind == KS_CALL) {
      *calls += s->call != KC_PARAM_STORE;
    } else {
      count_lowered(&s->body, kernels, calls);
      count_lowered(&s->orelse, kernels, calls);
    }
  }
}

static const char *count_text(int n, const char *what) {
  return n < 0 ? ir_sprintf("? %ss", what) : ir_sprintf("%d %s%s", n, what, n == 1 ? "" : "s");
}

void pass_fusion_dump(FILE *out, IrModule *m) {
  /* The totals are counted in what lower makes of the module, lowered
   * here on the side with its diagnostics muted (the pipeline's own lower
   * reports them); the CPU target, as the target changes only the size of
   * a matmul's blocks of rows, not what is lowered.  A module that does
   * not lower shows `?`. */
  bool was = ir_diag_mute(true);
  KModule *km = pass_lower(m, ir_target_cpu());
  ir_diag_mute(was);
  ir_print_module(out, m); /* also names the values */
  for (int i = 0; i < m->funcs.n; i++) {
    IrFunc *f = m->funcs.v[i];
    fusion_prepare(f);
    DumpCtx D = {.out = out};
    fprintf(out, "\nfusion @%s {\n", f->name);
    dump_block(&D, f->body, 1);
    int kernels = -1, calls = -1;
    if (km) {
      kernels = calls = 0;
      count_lowered(&((KFunc *)km->funcs.v[i])->body, &kernels, &calls);
    }
    fprintf(out, "} %s, %s, saved ", count_text(kernels, "kernel"), count_text(calls, "call"));
    bytes_print(out, &D.total);
    fputs(" bytes\n", out);
    fusion_finish(f);
  }
}
