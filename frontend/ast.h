/* frontend/ast.h - the syntax tree the parser builds.
 *
 * One node struct for every kind; which fields a kind uses is listed at the
 * enum.  Every node carries the file:line:col of its first token.  Nodes are
 * allocated from the IR arena (ir_alloc) and never freed one by one.
 */
#ifndef TENSORC_AST_H
#define TENSORC_AST_H

#include "../ir/ir.h"

typedef enum AstKind {
  /* declarations */
  AST_MODULE,   /* items = declarations */
  AST_IMPORT,   /* name = module name ("nn") */
  AST_CONST,    /* name, a = value */
  AST_PARAM,    /* name, a = value */
  AST_DEF,      /* name, exported, items = AST_ARGs, a = return type or NULL
                   (AST_TYPE, or AST_TUPLE of AST_TYPEs), body */
  AST_ARG,      /* name, a = AST_TYPE or NULL, b = default or NULL */
  AST_TYPE,     /* name = dtype ("f32"), has_shape, items = dim exprs */
  /* statements */
  AST_ASSIGN,   /* items = targets (NAME or INDEX; 2+ for `a, b = e`), a = value */
  AST_AUGASSIGN,/* op (AOP_ADD..), a = target (NAME or INDEX), b = value */
  AST_RETURN,   /* items = values (0, 1 or more) */
  AST_FOR,      /* items = loop variables (NAMEs), a = iterable, body */
  AST_IF,       /* a = condition, body = then, orelse = else (an elif is an
                   orelse holding one AST_IF) */
  AST_EXPR,     /* a = expression (a call, usually) */
  AST_PASS,
  /* expressions */
  AST_NAME,     /* name */
  AST_INT,      /* ival */
  AST_FLOAT,    /* fval */
  AST_STRING,   /* str (escapes already decoded) */
  AST_TRUE,
  AST_FALSE,
  AST_NONE,
  AST_ELLIPSIS,
  AST_BINOP,    /* op, a, b (comparisons and and/or included) */
  AST_UNOP,     /* op (AOP_NEG, AOP_POS, AOP_NOT), a */
  AST_CALL,     /* a = callee (NAME or ATTR), items = args (exprs, then KWARGs) */
  AST_KWARG,    /* name, a = value */
  AST_ATTR,     /* a = object, name */
  AST_INDEX,    /* a = object, items = exprs, SLICE, NONE, ELLIPSIS */
  AST_SLICE,    /* a = start, b = stop, c = step; each may be NULL */
  AST_LIST,     /* items: [a, b, c] (tensor literals nest lists) */
  AST_TUPLE,    /* items: (a, b) or a bare `a, b` in return */
} AstKind;

typedef enum AstOp {
  AOP_NONE,
  AOP_ADD, AOP_SUB, AOP_MUL, AOP_DIV, AOP_FLOORDIV, AOP_MOD, AOP_POW, AOP_MATMUL,
  AOP_LT, AOP_LE, AOP_GT, AOP_GE, AOP_EQ, AOP_NE,
  AOP_AND, AOP_OR,
  AOP_NEG, AOP_POS, AOP_NOT,
} AstOp;

typedef struct AstNode AstNode;
typedef struct AstList {
  AstNode **v;
  int n, cap;
} AstList;

struct AstNode {
  AstKind kind;
  Loc loc;
  const char *name;
  const char *str;
  int64_t ival;
  double fval;
  AstOp op;
  bool exported;  /* AST_DEF */
  bool has_shape; /* AST_TYPE: f32[...] rather than f32 */
  AstNode *a, *b, *c;
  AstList items;
  AstList body;
  AstList orelse;
};

/* ast.c */
AstNode *fe_ast_new(AstKind kind, Loc loc);
void fe_ast_push(AstList *list, AstNode *n);
const char *fe_ast_kind_name(AstKind kind);
const char *fe_ast_op_text(AstOp op); /* "+", "and", "@", ... */
void fe_ast_print(FILE *out, const AstNode *module); /* --emit=ast */

/* parse.c (lexer.l + parser.y): parse one file's text.  Reports syntax
 * errors through ir_error (several per run, with recovery) and returns the
 * module, or NULL when there were errors.  The text is registered with
 * ir_source_add for diagnostics.  Never crashes, whatever the bytes. */
AstNode *fe_parse(const char *file, const char *text, size_t len);

/* --emit=tokens: one token a line, "line:col KIND 'text'". Returns false
 * on a lexical error (reported). */
bool fe_dump_tokens(FILE *out, const char *file, const char *text, size_t len);

#endif
