/* ir/print.c - the one textual form of the graph IR.
 *
 *   func @predict(%x: f32[B, 64]) -> (i64[B]) {
 *     %W1 = param @W1 : f32[64, 64] loc(digits.tc:5:1)
 *     %0 = matmul %x, %W1 : f32[B, 64] loc(digits.tc:11:14)
 *     %h = relu %1 : f32[B, 64] loc(digits.tc:11:9)
 *     ...
 *   }
 *
 * One op a line, `loc(file:line:col)` at the end.  Values print under the
 * user's name where they have one (a second value with the same name gets
 * `.1`, `.2`, ...), else as a number; names that are not identifiers, such
 * as grad(loss, W1), are quoted.  Literal tensors of more than 16 elements
 * are elided.  --emit=ir, --dump-after and the tests all use this printer.
 */
#include "ir.h"

#include <ctype.h>
#include <string.h>

typedef struct Namer {
  PtrVec names; /* names handed out so far, to number repeats */
  int next;     /* anonymous values so far */
} Namer;

static bool is_ident(const char *s) {
  if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
    return false;
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.'))
      return false;
  return true;
}

/* Gives n its printed name, once: id > 0 is anonymous number id-1,
 * id < 0 is the user's name, repeated -id-1 times before. */
static void name_value(Namer *nm, IrNode *n) {
  if (n->id)
    return;
  if (!n->name) {
    n->id = ++nm->next;
    return;
  }
  int seen = 0;
  for (int i = 0; i < nm->names.n; i++)
    if (strcmp(nm->names.v[i], n->name) == 0)
      seen++;
  ir_vec_push(&nm->names, (void *)n->name);
  n->id = -(seen + 1);
}

static void print_ref(FILE *out, IrNode *n) {
  if (n->id > 0) {
    fprintf(out, "%%%d", n->id - 1);
    return;
  }
  if (n->id == 0) { /* not printed yet: only in a malformed graph */
    fputs("%<undefined>", out);
    return;
  }
  const char *name = n->id < -1 ? ir_sprintf("%s.%d", n->name, -n->id - 1) : n->name;
  if (is_ident(name))
    fprintf(out, "%%%s", name);
  else
    fprintf(out, "%%\"%s\"", name);
}

static void print_loc(FILE *out, Loc loc) {
  if (!loc.file) {
    fputs(" loc(unknown)", out);
    return;
  }
  const char *base = strrchr(loc.file, '/');
  fprintf(out, " loc(%s:%d:%d)", base ? base + 1 : loc.file, loc.line, loc.col);
}

static void print_type(FILE *out, const IrType *t) {
  char buf[512];
  fprintf(out, " : %s", ir_type_format(t, buf, sizeof buf));
}

static void print_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c == '\n')
      fputs("\\n", out);
    else if (c < 32 || c >= 127)
      fprintf(out, "\\x%02x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

static void print_index(FILE *out, IrNode *n) {
  fputs(" [", out);
  for (int i = 0; i < n->at.nidx; i++) {
    IrIndexItem *it = &n->at.idx[i];
    if (i)
      fputs(", ", out);
    switch (it->kind) {
    case IDX_SCALAR:
    case IDX_TENSOR: print_ref(out, n->args[it->arg]); break;
    case IDX_NEWAXIS: fputs("None", out); break;
    case IDX_ELLIPSIS: fputs("...", out); break;
    case IDX_SLICE:
      if (it->start >= 0)
        print_ref(out, n->args[it->start]);
      fputc(':', out);
      if (it->stop >= 0)
        print_ref(out, n->args[it->stop]);
      if (it->step >= 0) {
        fputc(':', out);
        print_ref(out, n->args[it->step]);
      }
      break;
    }
  }
  fputc(']', out);
}

static void print_axes(FILE *out, const IrAttrs *at) {
  fputs("axes=[", out);
  for (int i = 0; i < at->naxes; i++)
    fprintf(out, "%s%d", i ? ", " : "", at->axes[i]);
  fputc(']', out);
}

/* The {...} attributes an op has, in a fixed order. */
static void print_attrs(FILE *out, IrNode *n) {
  const IrAttrs *at = &n->at;
  char buf[64];
  switch (n->op) {
  case IR_CONST:
    if (at->dtype == DT_BOOL)
      fprintf(out, " %s", at->ival ? "true" : "false");
    else if (at->dtype == DT_I64 || at->dtype == DT_I32)
      fprintf(out, " %lld", (long long)at->ival);
    else
      fprintf(out, " %.9g", at->fval);
    return;
  case IR_TENSOR:
    fputs(" dense<", out);
    if (at->ndata > 16) {
      fputs("...", out);
    } else {
      for (int64_t i = 0; i < at->ndata; i++)
        fprintf(out, "%s%.9g", i ? ", " : "", at->data[i]);
    }
    fputc('>', out);
    return;
  case IR_PARAM: fprintf(out, " @%s", at->str); break;
  case IR_ARG: fprintf(out, " @%s", at->str); break;
  case IR_SAVE: fputc(' ', out), print_string(out, at->str); break;
  default: break;
  }
  int any = 0;
#define SEP() fputs(any++ ? ", " : " {", out)
  switch (ir_opclass(n->op)) {
  case IRC_REDUCE:
    if (at->has_axes)
      SEP(), print_axes(out, at);
    if (at->keepdims)
      SEP(), fputs("keepdims", out);
    if ((n->op == IR_VAR || n->op == IR_STD) && at->ival)
      SEP(), fprintf(out, "ddof=%lld", (long long)at->ival);
    break;
  case IRC_MOVEMENT:
    if (n->op == IR_SPLIT)
      SEP(), fprintf(out, "sections=%lld", (long long)at->ival);
    if (at->has_axes || at->naxes)
      SEP(), print_axes(out, at);
    break;
  case IRC_CREATION:
    if (at->like)
      SEP(), fputs("like", out);
    if (n->op == IR_FULL || n->op == IR_FULL_LIKE)
      SEP(), fprintf(out, "fill=%.9g", at->fval);
    if (at->dtype != DT_UNKNOWN)
      SEP(), fprintf(out, "dtype=%s", ir_dtype_name(at->dtype));
    break;
  default: break;
  }
  switch (n->op) {
  case IR_CAST: SEP(), fprintf(out, "dtype=%s", ir_dtype_name(at->dtype)); break;
  case IR_TO_DEVICE: SEP(), fprintf(out, "device=%s", ir_device_name(at->device)); break;
  case IR_DIM:
  case IR_RESULT: SEP(), fprintf(out, "%s=%lld", n->op == IR_DIM ? "axis" : "index", (long long)at->ival); break;
  case IR_BATCH:
    SEP(), fprintf(out, "size=%lld, rows=%s", (long long)at->ival, at->sym ? ir_sym_name(at->sym) : "?");
    break;
  case IR_NUM_BATCHES:
    SEP(), fprintf(out, "size=%lld", (long long)at->ival);
    if (at->keepdims)
      fputs(", drop_last", out);
    if (at->str) /* frontend/stmt.c: a name from the loop is read after it */
      fprintf(out, ", checked_for=%s", at->str);
    break;
  case IR_CHECK_TYPE:
    if (at->decl)
      SEP(), fprintf(out, "declared=%s", ir_type_format(at->decl, (char[512]){0}, 512));
    break;
  default: break;
  }
  if (any)
    fputc('}', out);
  (void)buf;
#undef SEP
}

static void print_block(FILE *out, Namer *nm, IrBlock *b, int depth);

static void print_node(FILE *out, Namer *nm, IrNode *n, int depth) {
  for (int i = 0; i < depth; i++)
    fputs("  ", out);
  bool has_value = n->op != IR_YIELD && n->op != IR_RETURN && n->op != IR_PARAM_STORE &&
                   n->op != IR_PRINT && n->op != IR_SAVE && n->op != IR_SEED;
  if (has_value) {
    name_value(nm, n);
    print_ref(out, n);
    fputs(" = ", out);
  }
  fputs(ir_op_name(n->op), out);
  if (n->op == IR_FOR) {
    /* for %i = %start to %stop step %step iter(%x = %init, ...) */
    IrNode *iv = n->body->params.v[0];
    name_value(nm, iv);
    fputc(' ', out);
    print_ref(out, iv);
    fputs(" = ", out);
    print_ref(out, n->args[0]);
    fputs(" to ", out);
    print_ref(out, n->args[1]);
    fputs(" step ", out);
    print_ref(out, n->args[2]);
    if (n->nargs > 3) {
      fputs(" iter(", out);
      for (int i = 3; i < n->nargs; i++) {
        IrNode *p = n->body->params.v[i - 2];
        name_value(nm, p);
        if (i > 3)
          fputs(", ", out);
        print_ref(out, p);
        fputs(" = ", out);
        print_ref(out, n->args[i]);
      }
      fputc(')', out);
    }
  } else if (n->op == IR_PRINT) {
    int k = 0;
    for (int i = 0; i < n->at.nstrs; i++) {
      fputs(i ? ", " : " ", out);
      if (n->at.strs[i])
        print_string(out, n->at.strs[i]);
      else
        print_ref(out, n->args[k++]);
    }
  } else if (n->op == IR_PARAM_STORE) {
    fprintf(out, " @%s, ", n->at.str);
    print_ref(out, n->args[0]);
  } else if (n->op == IR_INDEX || n->op == IR_INDEX_SET || n->op == IR_INDEX_ADD) {
    fputc(' ', out);
    print_ref(out, n->args[0]);
    if (n->op != IR_INDEX) {
      fputs(", ", out);
      print_ref(out, n->args[1]);
    }
    print_index(out, n);
    if (n->op != IR_INDEX_ADD && n->at.keepdims)
      fputs(" augmented", out); /* x[...] op= v: a mask keeps x's shape */
  } else {
    for (int i = 0; i < n->nargs; i++) {
      fputs(i ? ", " : " ", out);
      print_ref(out, n->args[i]);
    }
  }
  print_attrs(out, n);
  if (has_value)
    print_type(out, &n->type);
  print_loc(out, n->loc);
  if (n->body) {
    fputs(" {\n", out);
    print_block(out, nm, n->body, depth + 1);
    if (n->orelse) {
      for (int i = 0; i < depth; i++)
        fputs("  ", out);
      fputs("} else {\n", out);
      print_block(out, nm, n->orelse, depth + 1);
    }
    for (int i = 0; i < depth; i++)
      fputs("  ", out);
    fputc('}', out);
  }
  fputc('\n', out);
}

static void print_block(FILE *out, Namer *nm, IrBlock *b, int depth) {
  for (int i = 0; i < b->nodes.n; i++)
    print_node(out, nm, b->nodes.v[i], depth);
}

static void reset_ids(IrBlock *b) {
  for (int i = 0; i < b->params.n; i++)
    ((IrNode *)b->params.v[i])->id = 0;
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    n->id = 0;
    if (n->body)
      reset_ids(n->body);
    if (n->orelse)
      reset_ids(n->orelse);
  }
}

void ir_print_func(FILE *out, IrFunc *f) {
  Namer nm = {0};
  reset_ids(f->body);
  for (int i = 0; i < f->args.n; i++)
    ((IrNode *)f->args.v[i])->id = 0;

  fprintf(out, "%sfunc @%s(", f->exported ? "export " : "", f->name);
  for (int i = 0; i < f->args.n; i++) {
    IrNode *a = f->args.v[i];
    name_value(&nm, a);
    if (i)
      fputs(", ", out);
    print_ref(out, a);
    print_type(out, &a->type);
    if (a->at.has_default)
      fprintf(out, " = %.9g", a->at.fval);
  }
  fputs(")", out);
  IrNode *ret = f->body->nodes.n ? f->body->nodes.v[f->body->nodes.n - 1] : NULL;
  if (ret && ret->op == IR_RETURN && ret->nargs) {
    fputs(" -> (", out);
    for (int i = 0; i < ret->nargs; i++) {
      char buf[512];
      fprintf(out, "%s%s", i ? ", " : "", ir_type_format(&ret->args[i]->type, buf, sizeof buf));
    }
    fputc(')', out);
  }
  fputs(" {\n", out);
  print_block(out, &nm, f->body, 1);
  fputs("}\n", out);
}

void ir_print_module(FILE *out, IrModule *m) {
  fprintf(out, "module @%s\n", m->name ? m->name : "main");
  for (int i = 0; i < m->params.n; i++) {
    IrParam *p = m->params.v[i];
    char buf[512];
    fprintf(out, "param @%s : %s", p->name, ir_type_format(&p->type, buf, sizeof buf));
    print_loc(out, p->loc);
    fputc('\n', out);
  }
  for (int i = 0; i < m->funcs.n; i++) {
    fputc('\n', out);
    ir_print_func(out, m->funcs.v[i]);
  }
}
