/* ir/kernel_print.c - the text of the kernel IR (--dump-after=lower).
 *
 *   kfunc @predict(%x: f32[B, 64]) -> (%6) {
 *     alloc %0 : f32[B, 64]
 *     kernel %0[i0, i1] = add(load %1[i0, i1], load %b1[i1])  for i0 < B, i1 < 64
 *     kernel %s[i0] = sum(load %x[i0, r1])  for i0 < B; reduce r1 < 64
 *     free %0 unless %6
 *   }
 *
 * One statement a line; loop nests are written after the statement as
 * `for i3 < extent`, outermost first, the reduction loops after `reduce`.
 * A row kernel (a `for` marked rows) is `kernel rows i0 < N {`, its
 * kernels `stage` lines, so that counting `kernel` lines counts kernels.
 * After the schedule pass each loop shows how it runs (`parallel i0 < N`,
 * `vector16 i1 < 64`, `gpu_block i0 < N`, `gpu_grid.v4 i1 < M` for an
 * elementwise kernel taking 4 points at a time, `gpu_tile i1 < N` for a
 * tiled transpose; serial loops show nothing; a float sum's innermost
 * loop adds `block1024` when it sums in blocks, KStmt.block) and
 * a kernel that runs on the GPU starts `kernel.gpu`; after placement,
 * buffers in device memory are allocated `alloc.dev` and copies are
 * `copy %dst <- %src` (h2d, d2h).  A KX_LET prints as `(t3 = e; body)`.
 */
#include "kernel.h"
#include "target.h"

#include <string.h>

static const char *kind_name[] = {"", "parallel", "vector", "gpu_grid", "gpu_block", "gpu_thread", "gpu_tile"};

/* A loop's kind before its variable, when the schedule pass set one. */
static void print_kind(FILE *out, const KStmt *s, int i) {
  if (s->lkind[i] == KL_SERIAL) {
    if (s->kind == KS_KERNEL && s->block && i == s->nloops - 1)
      fprintf(out, "block%d ", s->block);
    return;
  }
  if (s->lkind[i] == KL_VECTOR && s->lanes)
    fprintf(out, "vector%d ", s->lanes);
  else if (s->lkind[i] == KL_GPU_GRID && s->lanes && i == s->nloops - 1) /* 128-bit accesses: points by lanes */
    fprintf(out, "gpu_grid.v%d ", s->lanes);
  else
    fprintf(out, "%s ", kind_name[s->lkind[i]]);
  if (s->kind == KS_KERNEL && s->block && i == s->nloops - 1) /* a float sum in blocks (KStmt.block) */
    fprintf(out, "block%d ", s->block);
}

static void print_buf(FILE *out, KFunc *f, int b) {
  if (b < 0) {
    fputs("%<none>", out);
    return;
  }
  KBuf *kb = k_buf(f, b);
  if (kb->name)
    fprintf(out, "%%%s.%d", kb->name, b);
  else
    fprintf(out, "%%%d", b);
}

static void print_dim(FILE *out, Dim d) {
  char buf[128];
  fputs(dim_format(d, buf, sizeof buf), out);
}

static void print_expr(FILE *out, KFunc *f, KExpr *e);

/* e0, e1, ... */
static void print_exprs(FILE *out, KFunc *f, KExpr **e, int n) {
  for (int i = 0; i < n; i++) {
    if (i)
      fputs(", ", out);
    print_expr(out, f, e[i]);
  }
}

/* ` : f32[N, C]` */
static void print_type(FILE *out, KFunc *f, int b) {
  KBuf *kb = k_buf(f, b);
  fprintf(out, " : %s[", ir_dtype_name(kb->dtype));
  for (int i = 0; i < kb->rank; i++) {
    if (i)
      fputs(", ", out);
    print_dim(out, kb->dims[i]);
  }
  fputc(']', out);
}

static void print_expr(FILE *out, KFunc *f, KExpr *e) {
  switch (e->kind) {
  case KX_CONST:
    if (ir_dtype_is_float(e->dtype))
      fprintf(out, "%.9g", e->fval);
    else
      fprintf(out, "%lld", (long long)e->ival);
    return;
  case KX_VAR: fprintf(out, "i%d", e->var); return;
  case KX_SYM: fprintf(out, "%s", ir_sym_name(e->sym)); return;
  case KX_DIM: print_dim(out, e->dim); return;
  case KX_ARG_DIM: fprintf(out, "arg%d.shape[%lld]", e->buf, (long long)e->ival); return;
  case KX_ACC: fputs("acc", out); return;
  case KX_ACC_INDEX: fputs("acc_index", out); return;
  case KX_LETVAR: fprintf(out, "t%d", e->var); return;
  case KX_LET:
    fprintf(out, "(t%d = ", e->var);
    print_expr(out, f, e->args[0]);
    fputs("; ", out);
    print_expr(out, f, e->args[1]);
    fputc(')', out);
    return;
  case KX_LOAD:
    fputs("load ", out);
    print_buf(out, f, e->buf);
    fputc('[', out);
    if (e->linear)
      fputs("flat ", out);
    print_exprs(out, f, e->args, e->nargs);
    fputc(']', out);
    return;
  case KX_CAST:
    fprintf(out, "%s(", ir_dtype_name(e->dtype));
    print_expr(out, f, e->args[0]);
    fputc(')', out);
    return;
  case KX_OP:
    fprintf(out, "%s(", ir_op_name(e->op));
    for (int i = 0; i < e->nargs; i++) {
      if (i)
        fputs(", ", out);
      print_expr(out, f, e->args[i]);
    }
    fputc(')', out);
    return;
  }
}

static void indent(FILE *out, int depth) {
  for (int i = 0; i < depth; i++)
    fputs("  ", out);
}

static void print_list(FILE *out, KFunc *f, KList *l, int depth);

static bool in_rows;   /* printing the body of a row kernel: its kernels are stages */
static bool scheduled; /* the module's loops have kinds: they say `parallel`, not the fact below */

static void print_stmt(FILE *out, KFunc *f, KStmt *s, int depth) {
  indent(out, depth);
  switch (s->kind) {
  case KS_ALLOC: {
    KBuf *kb = k_buf(f, s->buf);
    fputs(kb->space == KM_DEVICE ? "alloc.dev " : "alloc ", out);
    print_buf(out, f, s->buf);
    print_type(out, f, s->buf);
    fputs(s->uninit ? " uninit" : "", out);
    if (s->out)
      fprintf(out, " -> out%d", s->out - 1);
    if (s->arena)
      fprintf(out, " @arena+%lld", (long long)s->arena_off);
    fputc('\n', out);
    return;
  }
  case KS_FREE:
    fputs("free ", out);
    print_buf(out, f, s->buf);
    if (s->nkeep) {
      fputs(" unless", out);
      for (int i = 0; i < s->nkeep; i++) {
        fputs(i ? ", " : " ", out);
        print_buf(out, f, s->keep[i]);
      }
    }
    fputc('\n', out);
    return;
  case KS_COPY: {
    bool h2d = k_buf(f, s->buf)->space == KM_DEVICE, d2h = k_buf(f, s->src)->space == KM_DEVICE;
    fputs(s->borrow ? "copy.arg " : "copy ", out);
    print_buf(out, f, s->buf);
    fputs(" <- ", out);
    print_buf(out, f, s->src);
    fprintf(out, "  %s", h2d && d2h ? "d2d" : h2d ? "h2d" : d2h ? "d2h" : "h2h");
    if (s->out)
      fprintf(out, " -> out%d", s->out - 1);
    if (s->arena)
      fprintf(out, " @arena+%lld", (long long)s->arena_off);
    fputc('\n', out);
    return;
  }
  case KS_MOVE:
    print_buf(out, f, s->buf);
    fputs(" = ", out);
    print_buf(out, f, s->src);
    fputc('\n', out);
    return;
  case KS_SETSYM:
    fprintf(out, "%s = ", ir_sym_name(s->buf));
    print_expr(out, f, s->cond);
    fputc('\n', out);
    return;
  case KS_CHECK:
    fputs(s->warn ? "check.warn " : s->input ? "check.input " : "check ", out);
    print_expr(out, f, s->cond);
    fprintf(out, " \"%s\"", s->message);
    for (int i = 0; i < s->nexprs; i++) {
      fputs(", ", out);
      print_expr(out, f, s->exprs[i]);
    }
    fputc('\n', out);
    return;
  case KS_KERNEL: {
    fputs(in_rows ? "stage " : s->device ? "kernel.gpu " : "kernel ", out);
    print_buf(out, f, s->buf);
    fputc('[', out);
    if (s->store_linear)
      fputs("flat ", out);
    print_exprs(out, f, s->store_idx, s->nstore);
    fputs("] = ", out);
    if (s->nred) {
      fprintf(out, "%s(", ir_op_name(s->combine));
      print_expr(out, f, s->value);
      fputc(')', out);
      if (s->finalize) {
        fputs(" then ", out);
        print_expr(out, f, s->finalize);
      }
    } else {
      print_expr(out, f, s->value);
    }
    int outer = s->nloops - s->nred;
    /* loop variables are the store's, in order; print extents only */
    if (s->nloops) {
      fputs("  for", out);
      for (int i = 0; i < s->nloops; i++) {
        fputs(i == outer ? (i ? "; reduce " : " reduce ") : i ? ", " : " ", out);
        print_kind(out, s, i);
        fprintf(out, "i%d < ", s->loopvar[i]);
        print_dim(out, s->extent[i]);
      }
    }
    if (s->stream) {
      fputs(" stream if ", out);
      print_expr(out, f, s->stream);
    }
    fputc('\n', out);
    return;
  }
  case KS_SCRATCH: /* scratch %5 : f32[C] in 16384 bytes, else &%3[i0, 0] */
    fputs("scratch ", out);
    print_buf(out, f, s->buf);
    print_type(out, f, s->buf);
    fprintf(out, " in %lld bytes, else &", (long long)s->scratch_bytes);
    print_buf(out, f, s->src);
    fputc('[', out);
    print_exprs(out, f, s->store_idx, s->nstore);
    fputs("]\n", out);
    return;
  case KS_CALL: {
    static const char *names[] = {"matmul", "rand", "seed", "print", "save", "param_store", "dist"};
    fprintf(out, "call %s", names[s->call]);
    if (s->call == KC_RAND || s->call == KC_DIST)
      fprintf(out, ".%s", ir_op_name(s->op));
    if (s->call == KC_DIST && s->part)
      fprintf(out, ".%s", s->part == KD_START ? "start" : "wait");
    if (s->call == KC_MATMUL && s->epilogue) /* matmul.bias_relu: what the call applies to the product */
      fprintf(out, ".%s%s%s%s", s->epilogue & KE_BIAS ? "bias" : "",
              (s->epilogue & KE_BIAS) && (s->epilogue & ~KE_BIAS) ? "_" : "", s->epilogue & KE_RELU ? "relu" : "",
              s->epilogue & KE_GELU_TANH ? "gelu_tanh" : "");
    if (s->call == KC_SAVE)
      fprintf(out, " \"%s\"", s->str);
    if (s->call == KC_PARAM_STORE || (s->call == KC_DIST && s->part))
      fprintf(out, " #%d", s->index);
    for (int i = 0; i < s->nbufs; i++) {
      fputs(i ? ", " : " ", out);
      print_buf(out, f, s->bufs[i]);
      if (s->call == KC_MATMUL && i < 2 && (s->trans & (i ? KMM_TRANS_B : KMM_TRANS_A)))
        fputs(".T", out); /* read as the transpose of its last two axes */
    }
    for (int i = 0; i < s->nexprs; i++) {
      fputs(i || s->nbufs ? ", " : " ", out);
      print_expr(out, f, s->exprs[i]);
    }
    fputc('\n', out);
    return;
  }
  case KS_FOR:
    if (s->rows) { /* a row kernel: `kernel rows i3 < N {`, nested row dims `rows i4 < T {` */
      fprintf(out, "%srows ", in_rows ? "" : s->device ? "kernel.gpu " : "kernel ");
      print_kind(out, s, 0);
      fprintf(out, "i%d < ", s->var);
      print_expr(out, f, s->stop);
      fputs(s->parallel && !scheduled ? " parallel {\n" : " {\n", out);
      bool was = in_rows;
      in_rows = true;
      print_list(out, f, &s->body, depth + 1);
      in_rows = was;
      indent(out, depth);
      fputs("}\n", out);
      return;
    }
    fputs("for ", out);
    print_kind(out, s, 0);
    fprintf(out, "i%d = ", s->var);
    print_expr(out, f, s->cond);
    fputs(" to ", out);
    print_expr(out, f, s->stop);
    fputs(" step ", out);
    print_expr(out, f, s->step);
    fputs(s->nonempty ? " nonempty" : "", out);
    fputs(s->parallel && !scheduled ? " parallel {\n" : " {\n", out);
    print_list(out, f, &s->body, depth + 1);
    indent(out, depth);
    fputs("}\n", out);
    return;
  case KS_IF:
    fputs("if ", out);
    print_expr(out, f, s->cond);
    fputs(" {\n", out);
    print_list(out, f, &s->body, depth + 1);
    indent(out, depth);
    fputs("} else {\n", out);
    print_list(out, f, &s->orelse, depth + 1);
    indent(out, depth);
    fputs("}\n", out);
    return;
  }
}

static void print_list(FILE *out, KFunc *f, KList *l, int depth) {
  for (int i = 0; i < l->n; i++)
    print_stmt(out, f, l->v[i], depth);
}

void k_print_stmt(FILE *out, KFunc *f, KStmt *s) {
  bool was_rows = in_rows, was_scheduled = scheduled;
  in_rows = false;
  scheduled = true; /* only scheduled statements are printed alone (codegen's comments) */
  print_stmt(out, f, s, 0);
  in_rows = was_rows;
  scheduled = was_scheduled;
}

void k_print_module(FILE *out, KModule *m) {
  fprintf(out, "kmodule @%s", m->name ? m->name : "main");
  if (m->target)
    fprintf(out, " target %s", m->target->name);
  if (m->dist)
    fprintf(out, " dist %s", m->dist);
  fputc('\n', out);
  scheduled = m->scheduled;
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    fprintf(out, "\n%skfunc @%s(", f->exported ? "export " : "", f->name);
    for (int a = 0; a < f->nargs; a++) {
      if (a)
        fputs(", ", out);
      print_buf(out, f, a);
    }
    fputs(") -> (", out);
    for (int r = 0; r < f->nresults; r++) {
      if (r)
        fputs(", ", out);
      print_buf(out, f, f->results[r]);
    }
    fputs(") {\n", out);
    for (int r = 0; f->results_why && r < f->nresults; r++)
      if (f->results_why[r])
        fprintf(out, "  // out%d copied into the caller's tensor: %s\n", r, f->results_why[r]);
    if (f->arena_bytes)
      fprintf(out, "  // device arena: %lld bytes\n", (long long)f->arena_bytes);
    print_list(out, f, &f->body, 1);
    fputs("}\n", out);
  }
}
