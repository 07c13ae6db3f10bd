/* ir/kernel_dot.c - the kernel IR as a Graphviz picture (--dump-dot=FILE).
 *
 * One graph per module, one cluster per function.  Buffers are boxes
 * (named like the dumps, with type and memory space), every kernel is a
 * cluster of its own holding one node with its loops and ops, and library
 * calls and copies are ellipses; edges go from what a statement reads to
 * it and from it to what it writes, so a picture shows the data flow of
 * the fused program.  Host `for` and `if` statements are clusters around
 * their bodies.  `dot -Tsvg FILE` renders it.
 */
#include "kernel.h"

#include <string.h>

typedef struct Dot {
  FILE *out;
  KFunc *f;
  int fn, next; /* function number, next statement id */
  const KStmt *cur;
} Dot;

/* Text for a dot label: quotes and backslashes escaped. */
static void label(FILE *out, const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
}

static void buf_node(Dot *D, int b) {
  KBuf *kb = k_buf(D->f, b);
  char dims[256] = "", d[64];
  for (int i = 0; i < kb->rank; i++) {
    strncat(dims, i ? ", " : "", sizeof dims - strlen(dims) - 1);
    strncat(dims, dim_format(kb->dims[i], d, sizeof d), sizeof dims - strlen(dims) - 1);
  }
  fprintf(D->out, "    b%d_%d [shape=box, label=\"", D->fn, b);
  label(D->out, ir_sprintf("%%%s%s%d : %s[%s]%s", kb->name ? kb->name : "", kb->name ? "." : "", b,
                           ir_dtype_name(kb->dtype), dims, kb->space == KM_DEVICE ? " (device)" : ""));
  fputs("\"];\n", D->out);
}

typedef struct Edge {
  Dot *D;
  int id;
} Edge;

static void edge(int buf, KRefRole role, void *ctx) {
  Edge *e = ctx;
  if (role == KR_READ)
    fprintf(e->D->out, "    b%d_%d -> s%d_%d;\n", e->D->fn, buf, e->D->fn, e->id);
  else if (role == KR_WRITE || role == KR_ESCAPE)
    fprintf(e->D->out, "    s%d_%d -> b%d_%d;\n", e->D->fn, e->id, e->D->fn, buf);
}

static char *ops_of(const KExpr *e, char *acc, size_t n) {
  if (!e)
    return acc;
  if (e->kind == KX_OP && !strstr(acc, ir_op_name(e->op))) {
    strncat(acc, *acc ? " " : "", n - strlen(acc) - 1);
    strncat(acc, ir_op_name(e->op), n - strlen(acc) - 1);
  }
  for (int i = 0; i < e->nargs; i++)
    ops_of(e->args[i], acc, n);
  return acc;
}

static void list(Dot *D, KList *l);

static void stmt(Dot *D, KStmt *s) {
  static const char *calls[] = {"matmul", "rand", "seed", "print", "save", "param_store", "dist"};
  int id = D->next++;
  Edge e = {D, id};
  char ops[256] = "";
  switch (s->kind) {
  case KS_KERNEL:
    fprintf(D->out, "    subgraph cluster_k%d_%d { label=\"kernel%s\"; s%d_%d [label=\"", D->fn, id,
            s->device ? " (gpu)" : "", D->fn, id);
    if (s->nred)
      label(D->out, ir_sprintf("%s of ", ir_op_name(s->combine)));
    label(D->out, ops_of(s->finalize, ops_of(s->value, ops, sizeof ops), sizeof ops));
    fprintf(D->out, "\\n%d loops\"]; }\n", s->nloops);
    k_stmt_refs(s, edge, &e);
    return;
  case KS_CALL:
  case KS_COPY:
    fprintf(D->out, "    s%d_%d [shape=ellipse, label=\"%s%s%s\"];\n", D->fn, id,
            s->kind == KS_COPY ? "copy" : calls[s->call],
            s->kind == KS_CALL && s->call == KC_MATMUL && (s->trans & KMM_TRANS_A) ? " a.T" : "",
            s->kind == KS_CALL && s->call == KC_MATMUL && (s->trans & KMM_TRANS_B) ? " b.T" : "");
    k_stmt_refs(s, edge, &e);
    return;
  case KS_FOR:
  case KS_IF:
    fprintf(D->out, "    subgraph cluster_c%d_%d { label=\"%s\";\n", D->fn, id,
            s->kind == KS_IF ? "if" : s->rows ? "kernel rows" : "for");
    fprintf(D->out, "    s%d_%d [shape=point];\n", D->fn, id);
    list(D, &s->body);
    list(D, &s->orelse);
    fputs("    }\n", D->out);
    return;
  default: return; /* allocation, frees, moves, checks, symbols: bookkeeping, not data flow */
  }
}

static void list(Dot *D, KList *l) {
  for (int i = 0; i < l->n; i++)
    stmt(D, l->v[i]);
}

void k_print_dot(FILE *out, KModule *m) {
  fprintf(out, "digraph \"%s\" {\n  rankdir=LR;\n  node [fontname=monospace, fontsize=10];\n",
          m->name ? m->name : "tensorc");
  for (int i = 0; i < m->funcs.n; i++) {
    Dot D = {.out = out, .f = m->funcs.v[i], .fn = i};
    fprintf(out, "  subgraph cluster_f%d {\n    label=\"kfunc @%s\";\n", i, D.f->name);
    for (int b = 0; b < D.f->bufs.n; b++)
      buf_node(&D, b);
    list(&D, &D.f->body);
    fputs("  }\n", out);
  }
  fputs("}\n", out);
}
