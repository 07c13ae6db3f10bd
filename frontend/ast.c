/* frontend/ast.c - syntax tree nodes: construction, names, and the printer
 * behind --emit=ast.
 *
 * The printer writes one node a line, indented two spaces a level:
 *
 *   [role: ]KIND [fields] @LINE:COL
 *
 * KIND is fe_ast_kind_name(); the fields are the ones the kind uses (a name,
 * an operator, a literal's value, exported=0/1).  Children follow, deeper by
 * one level: list children (items) bare and in order, single children (a, b,
 * c) under a role when their place is not obvious ("value:", "default:",
 * "returns:", "cond:", "start:"), and statement lists under a line of their
 * own ("body", "else").  The format is pinned by tests/frontend/parse, so it
 * changes only with them.
 */
#include "ast.h"

#include <stdlib.h>
#include <string.h>

AstNode *fe_ast_new(AstKind kind, Loc loc) {
  AstNode *n = ir_alloc(sizeof *n);
  n->kind = kind;
  n->loc = loc;
  return n;
}

void fe_ast_push(AstList *list, AstNode *n) {
  if (list->n == list->cap) {
    int cap = list->cap ? list->cap * 2 : 4;
    AstNode **v = ir_alloc(sizeof(AstNode *) * (size_t)cap);
    if (list->n)
      memcpy(v, list->v, sizeof(AstNode *) * (size_t)list->n);
    list->v = v;
    list->cap = cap;
  }
  list->v[list->n++] = n;
}

const char *fe_ast_kind_name(AstKind kind) {
  switch (kind) {
  case AST_MODULE: return "module";
  case AST_IMPORT: return "import";
  case AST_CONST: return "const";
  case AST_PARAM: return "param";
  case AST_DEF: return "def";
  case AST_ARG: return "arg";
  case AST_TYPE: return "type";
  case AST_ASSIGN: return "assign";
  case AST_AUGASSIGN: return "augassign";
  case AST_RETURN: return "return";
  case AST_FOR: return "for";
  case AST_IF: return "if";
  case AST_EXPR: return "expr";
  case AST_PASS: return "pass";
  case AST_NAME: return "name";
  case AST_INT: return "int";
  case AST_FLOAT: return "float";
  case AST_STRING: return "string";
  case AST_TRUE: return "true";
  case AST_FALSE: return "false";
  case AST_NONE: return "none";
  case AST_ELLIPSIS: return "ellipsis";
  case AST_BINOP: return "binop";
  case AST_UNOP: return "unop";
  case AST_CALL: return "call";
  case AST_KWARG: return "kwarg";
  case AST_ATTR: return "attr";
  case AST_INDEX: return "index";
  case AST_SLICE: return "slice";
  case AST_LIST: return "list";
  case AST_TUPLE: return "tuple";
  }
  return "?";
}

const char *fe_ast_op_text(AstOp op) {
  switch (op) {
  case AOP_NONE: return "?";
  case AOP_ADD: return "+";
  case AOP_SUB: return "-";
  case AOP_MUL: return "*";
  case AOP_DIV: return "/";
  case AOP_FLOORDIV: return "//";
  case AOP_MOD: return "%";
  case AOP_POW: return "**";
  case AOP_MATMUL: return "@";
  case AOP_LT: return "<";
  case AOP_LE: return "<=";
  case AOP_GT: return ">";
  case AOP_GE: return ">=";
  case AOP_EQ: return "==";
  case AOP_NE: return "!=";
  case AOP_AND: return "and";
  case AOP_OR: return "or";
  case AOP_NEG: return "-";
  case AOP_POS: return "+";
  case AOP_NOT: return "not";
  }
  return "?";
}

/* The shortest decimal that reads back as v, always with a '.' or an
 * exponent so that it looks like a float ("0.1", "3.0", "100000.0", "1e-05"). */
static void print_float(FILE *out, double v) {
  char buf[40];
  if (v == (double)(int64_t)v && v > -1e16 && v < 1e16) { /* whole: "100000.0" */
    fprintf(out, "%.1f", v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  fputs(buf, out);
  if (!strpbrk(buf, ".eEni")) /* "inf" and "nan" cannot come from a literal */
    fputs(".0", out);
}

/* A string in double quotes with C escapes; UTF-8 is printed as is. */
static void print_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    case '\r': fputs("\\r", out); break;
    default:
      if (*p < 32 || *p == 127)
        fprintf(out, "\\x%02x", *p);
      else
        fputc(*p, out);
    }
  }
  fputc('"', out);
}

static void print_node(FILE *out, const AstNode *n, int depth, const char *role);

static void print_list(FILE *out, const AstList *list, int depth) {
  for (int i = 0; i < list->n; i++)
    print_node(out, list->v[i], depth, NULL);
}

/* A statement list under a heading line ("body", "else"). */
static void print_block(FILE *out, const char *heading, const AstList *list, int depth) {
  fprintf(out, "%*s%s\n", depth * 2, "", heading);
  print_list(out, list, depth + 1);
}

static void print_node(FILE *out, const AstNode *n, int depth, const char *role) {
  if (!n)
    return;
  fprintf(out, "%*s", depth * 2, "");
  if (role)
    fprintf(out, "%s: ", role);
  fputs(fe_ast_kind_name(n->kind), out);

  /* 1. The fields on the node's own line. */
  switch (n->kind) {
  case AST_IMPORT:
  case AST_CONST:
  case AST_PARAM:
  case AST_ARG:
  case AST_NAME:
  case AST_KWARG:
  case AST_ATTR: fprintf(out, " %s", n->name); break;
  case AST_DEF: fprintf(out, " %s exported=%d", n->name, n->exported); break;
  case AST_TYPE: fprintf(out, " %s%s", n->name, n->has_shape ? "[...]" : ""); break;
  case AST_AUGASSIGN: fprintf(out, " %s=", fe_ast_op_text(n->op)); break;
  case AST_BINOP:
  case AST_UNOP: fprintf(out, " %s", fe_ast_op_text(n->op)); break;
  case AST_INT: fprintf(out, " %lld", (long long)n->ival); break;
  case AST_FLOAT:
    fputc(' ', out);
    print_float(out, n->fval);
    break;
  case AST_STRING:
    fputc(' ', out);
    print_string(out, n->str);
    break;
  default: break;
  }
  fprintf(out, " @%d:%d\n", n->loc.line, n->loc.col);

  /* 2. The children. */
  int d = depth + 1;
  switch (n->kind) {
  case AST_DEF:
    print_list(out, &n->items, d);
    print_node(out, n->a, d, "returns");
    print_block(out, "body", &n->body, d);
    break;
  case AST_ARG:
    print_node(out, n->a, d, NULL);
    print_node(out, n->b, d, "default");
    break;
  case AST_ASSIGN:
    print_list(out, &n->items, d);
    print_node(out, n->a, d, "value");
    break;
  case AST_AUGASSIGN:
    print_node(out, n->a, d, NULL);
    print_node(out, n->b, d, "value");
    break;
  case AST_FOR:
    print_list(out, &n->items, d);
    print_node(out, n->a, d, "in");
    print_block(out, "body", &n->body, d);
    break;
  case AST_IF:
    print_node(out, n->a, d, "cond");
    print_block(out, "body", &n->body, d);
    if (n->orelse.n)
      print_block(out, "else", &n->orelse, d);
    break;
  case AST_CALL:
    print_node(out, n->a, d, "callee");
    print_list(out, &n->items, d);
    break;
  case AST_INDEX:
    print_node(out, n->a, d, "object");
    print_list(out, &n->items, d);
    break;
  case AST_SLICE:
    print_node(out, n->a, d, "start");
    print_node(out, n->b, d, "stop");
    print_node(out, n->c, d, "step");
    break;
  default:
    /* MODULE, TYPE, RETURN, LIST, TUPLE: items; CONST, PARAM, EXPR, UNOP,
     * KWARG, ATTR: a; BINOP: a, b; leaves: nothing. */
    print_node(out, n->a, d, NULL);
    print_node(out, n->b, d, NULL);
    print_list(out, &n->items, d);
    break;
  }
}

void fe_ast_print(FILE *out, const AstNode *module) { print_node(out, module, 0, NULL); }
