%code top {
/* frontend/parser.y - the grammar: tokens to the syntax tree (ast.h).
 *
 * An LALR(1) grammar for Bison 3.8, pure and reentrant, reading the tokens
 * of lexer.l (NEWLINE, INDENT and DEDENT stand for Python's line structure).
 * Operator precedence is spelt out as one nonterminal a level, from `expr`
 * (or) down to `atom`, as in Python's own grammar: it reads like the table
 * in SPEC §1.6 and needs no %prec.  The grammar has no conflicts
 * (%expect 0).
 *
 * Locations: every node is placed at its first token, except the nodes of an
 * operator, which are placed where errors about them should point: BINOP and
 * AUGASSIGN at the operator, ATTR at the attribute name, INDEX at '[', and
 * CALL at its callee's location (so a method call points at the method
 * name).  docs/syntax.md says the same.
 *
 * Errors.  Some mistakes are grammatical but caught in an action, where the
 * message can be precise (chained comparisons, keyword argument order,
 * assignment targets, declarations out of place).  The rest are syntax
 * errors, worded by yyreport_syntax_error from the unexpected token, the
 * tokens that would have been accepted (exact, thanks to LAC) and the header
 * of the line being parsed.  Recovery is per statement: `error NEWLINE`
 * skips the rest of a line, and the forms with INDENT skip the block of a
 * broken header, so one run reports every independent error.  fe_parse()
 * returns NULL when anything was reported.
 *
 * Limits: a tree deeper than FE_MAX_DEPTH levels is reported (once) after
 * the parse, so that the recursive walks of later stages cannot overflow
 * the C stack; Bison's own stack limit (YYMAXDEPTH) catches long runs of
 * prefix operators first ("expression too deeply nested").
 */
}

%code requires {
#include "ast.h"
#include "lex_state.h"
}

%code provides {
/* lexer.l: the token stream (queued INDENT/DEDENTs, then the scanner). */
int yylex(YYSTYPE *lval, Loc *lloc, void *scanner);
}

%code {
#include <string.h>

/* A node's location is its first token's; an empty rule takes the location
 * of the token before it. */
#define YYLLOC_DEFAULT(cur, rhs, n) \
  do {                              \
    if (n)                          \
      (cur) = YYRHSLOC(rhs, 1);     \
    else                            \
      (cur) = YYRHSLOC(rhs, 0);     \
  } while (0)

/* Deeper syntax trees are refused, so that every later recursive walk is
 * safe whatever the input. */
#define FE_MAX_DEPTH 1000

static void yyerror(Loc *loc, void *scanner, LexState *ls, const char *msg);
static AstNode *mk(AstKind kind, Loc loc);
static AstNode *mk_name(Loc loc, const char *name);
static AstNode *mk_binop(Loc loc, AstOp op, AstNode *a, AstNode *b);
static AstNode *mk_unop(Loc loc, AstOp op, AstNode *a);
static AstNode *mk_tuple(Loc loc, AstList items);
static AstNode *mk_call(AstNode *callee, Loc loc, AstList args);
static AstNode *mk_assign(Loc loc, AstList targets, AstList values);
static AstNode *mk_slice(Loc loc, AstNode *start, AstNode *stop, AstNode *step);
static AstNode *mk_type(Loc loc, const char *dtype, bool has_shape, AstList dims);
static AstNode *mk_arg(Loc loc, const char *name, AstNode *type, AstNode *dflt);
static AstList one(AstNode *n);
static void push(AstList *list, AstNode *n);
static bool check_target(AstNode *t, const char *what);
static void decl_out_of_place(AstNode *decl);
static void check_depth(const AstNode *n, int depth, bool *reported);
}

%define api.pure full
%define api.location.type {Loc}
%locations
%define parse.error custom
%define parse.lac full
%lex-param {void *scanner}
%parse-param {void *scanner} {LexState *ls}
%expect 0

%initial-action {
  @$ = (Loc){ls->file, 1, 1};
}

%union {
  AstNode *node;
  AstList list;
  const char *str;
  int64_t ival;
  double fval;
  AstOp op;
  struct { AstNode *first, *last; } chain; /* an if and its last elif */
}

%token <str> NAME "a name"
%token <ival> INT "an integer"
%token <fval> FLOAT "a float"
%token <str> STRING "a string"
%token NEWLINE "end of line"
%token INDENT "indent"
%token DEDENT "unindent"

%token KW_DEF "'def'" KW_EXPORT "'export'" KW_RETURN "'return'" KW_PARAM "'param'"
%token KW_CONST "'const'" KW_IMPORT "'import'" KW_FOR "'for'" KW_IN "'in'"
%token KW_RANGE "'range'" KW_IF "'if'" KW_ELIF "'elif'" KW_ELSE "'else'"
%token KW_AND "'and'" KW_OR "'or'" KW_NOT "'not'" KW_TRUE "'True'"
%token KW_FALSE "'False'" KW_NONE "'None'" KW_PASS "'pass'"

%token POW "'**'" FLOORDIV "'//'" LE "'<='" GE "'>='" EQ "'=='" NE "'!='"
%token ARROW "'->'" ELLIPSIS "'...'"
%token PLUSEQ "'+='" MINUSEQ "'-='" STAREQ "'*='" SLASHEQ "'/='"
%token FLOORDIVEQ "'//='" PERCENTEQ "'%='" POWEQ "'**='" ATEQ "'@='"

%type <list> items body block exprs assign_rest names params param_list types
%type <list> args arg_list subscripts
%type <node> top_item body_item decl def def_sig ret_type param type
%type <node> stmt simple_stmt small_stmt if_stmt for_stmt
%type <node> expr and_expr not_expr comparison cmp_chain arith term factor power
%type <node> postfix atom arg subscript opt_expr
%type <chain> if_chain
%type <op> cmp_op augop

%start module

%%

/* ---- the file ---- */

/* module: top_item* */
module
  : items {
      ls->module = mk(AST_MODULE, (Loc){ls->file, 1, 1});
      ls->module->items = $1;
      bool reported = false;
      check_depth(ls->module, 0, &reported);
    }
  ;

items
  : %empty          { $$ = (AstList){0}; }
  | items top_item  { $$ = $1; push(&$$, $2); }
  ;

/* top_item: decl | stmt (a statement here is reported) */
top_item
  : decl
  | stmt {
      if ($1)
        ir_error($1->loc, "statements must be inside a function: the top level holds only 'def', "
                          "'export def', 'const', 'param' and 'import'");
      $$ = NULL;
    }
  ;

/* ---- declarations ---- */

/* decl: 'import' NAME NEWLINE
 *     | 'const' NAME '=' expr NEWLINE
 *     | 'param' NAME '=' expr NEWLINE
 *     | def */
decl
  : KW_IMPORT NAME NEWLINE            { $$ = mk(AST_IMPORT, @1); $$->name = $2; }
  | KW_CONST NAME '=' expr NEWLINE    { $$ = mk(AST_CONST, @1); $$->name = $2; $$->a = $4; }
  | KW_PARAM NAME '=' expr NEWLINE    { $$ = mk(AST_PARAM, @1); $$->name = $2; $$->a = $4; }
  | def
  ;

/* def: ['export'] 'def' NAME '(' params ')' ['->' ret] ':' block */
def
  : def_sig ':' block  { $$ = $1; $$->body = $3; }
  ;

def_sig
  : KW_DEF NAME '(' params ')' ret_type {
      $$ = mk(AST_DEF, @1); $$->name = $2; $$->items = $4; $$->a = $6;
    }
  | KW_EXPORT KW_DEF NAME '(' params ')' ret_type {
      $$ = mk(AST_DEF, @1); $$->name = $3; $$->items = $5; $$->a = $7; $$->exported = true;
    }
  ;

/* ret: type | '(' type ')' | '(' type ',' [type (',' type)* [',']] ')' */
ret_type
  : %empty                                 { $$ = NULL; }
  | ARROW type                             { $$ = $2; }
  | ARROW '(' type ')'                     { $$ = $3; }
  | ARROW '(' type ',' ')'                 { $$ = mk_tuple(@2, one($3)); }
  | ARROW '(' type ',' types opt_comma ')' {
      AstList l = one($3);
      for (int i = 0; i < $5.n; i++)
        push(&l, $5.v[i]);
      $$ = mk_tuple(@2, l);
    }
  ;

types
  : type            { $$ = one($1); }
  | types ',' type  { $$ = $1; push(&$$, $3); }
  ;

/* params: [param (',' param)* [',']]
 * param: NAME [':' type] ['=' expr] */
params
  : %empty                 { $$ = (AstList){0}; }
  | param_list opt_comma
  ;

param_list
  : param                 { $$ = one($1); }
  | param_list ',' param  { $$ = $1; push(&$$, $3); }
  ;

param
  : NAME                    { $$ = mk_arg(@1, $1, NULL, NULL); }
  | NAME ':' type           { $$ = mk_arg(@1, $1, $3, NULL); }
  | NAME '=' expr           { $$ = mk_arg(@1, $1, NULL, $3); }
  | NAME ':' type '=' expr  { $$ = mk_arg(@1, $1, $3, $5); }
  ;

/* type: NAME | NAME '[' expr (',' expr)* [','] ']'   (NAME is the dtype) */
type
  : NAME                           { $$ = mk_type(@1, $1, false, (AstList){0}); }
  | NAME '[' exprs opt_comma ']'   { $$ = mk_type(@1, $1, true, $3); }
  ;

/* ---- statements ---- */

/* block: NEWLINE INDENT body_item+ DEDENT | simple_stmt (on the header's line) */
block
  : NEWLINE INDENT body DEDENT  { $$ = $3; }
  | simple_stmt                 { $$ = (AstList){0}; push(&$$, $1); }
  ;

body
  : body_item       { $$ = (AstList){0}; push(&$$, $1); }
  | body body_item  { $$ = $1; push(&$$, $2); }
  ;

/* body_item: stmt | decl (a declaration here is reported) */
body_item
  : stmt
  | decl  { decl_out_of_place($1); $$ = NULL; }
  ;

/* stmt: simple_stmt | if_stmt | for_stmt, and the error recovery: skip to
 * the end of the line, and skip the block that follows a broken header or
 * an unexpected indent. */
stmt
  : simple_stmt
  | if_stmt
  | for_stmt
  | error NEWLINE                     { $$ = NULL; yyerrok; }
  | error NEWLINE INDENT body DEDENT  { $$ = NULL; yyerrok; }
  | error INDENT body DEDENT          { $$ = NULL; yyerrok; }
  ;

simple_stmt
  : small_stmt NEWLINE
  ;

/* small_stmt: 'pass' | 'return' [exprs] | exprs | exprs '=' exprs
 *           | expr augop expr */
small_stmt
  : KW_PASS             { $$ = mk(AST_PASS, @1); }
  | KW_RETURN           { $$ = mk(AST_RETURN, @1); }
  | KW_RETURN exprs {
      $$ = mk(AST_RETURN, @1);
      /* `return (a, b)` means `return a, b`: the lowering sees one form. */
      if ($2.n == 1 && $2.v[0]->kind == AST_TUPLE)
        $$->items = $2.v[0]->items;
      else
        $$->items = $2;
    }
  | exprs {
      $$ = mk(AST_EXPR, @1);
      $$->a = $1.n == 1 ? $1.v[0] : mk_tuple(@1, $1);
    }
  | exprs '=' exprs                  { $$ = mk_assign(@1, $1, $3); }
  | exprs '=' exprs '=' assign_rest  {
      ir_error(@4, "chained assignment ('a = b = c') is not supported: assign one at a time");
      $$ = NULL;
    }
  | expr augop expr {
      $$ = mk(AST_AUGASSIGN, @2); $$->op = $2; $$->a = $1; $$->b = $3;
      if (!check_target($1, "an augmented assignment"))
        $$ = NULL;
    }
  ;

assign_rest
  : exprs
  | assign_rest '=' exprs
  ;

augop
  : PLUSEQ      { $$ = AOP_ADD; }
  | MINUSEQ     { $$ = AOP_SUB; }
  | STAREQ      { $$ = AOP_MUL; }
  | SLASHEQ     { $$ = AOP_DIV; }
  | FLOORDIVEQ  { $$ = AOP_FLOORDIV; }
  | PERCENTEQ   { $$ = AOP_MOD; }
  | POWEQ       { $$ = AOP_POW; }
  | ATEQ        { $$ = AOP_MATMUL; }
  ;

/* for_stmt: 'for' NAME (',' NAME)* 'in' expr ':' block */
for_stmt
  : KW_FOR names KW_IN expr ':' block {
      $$ = mk(AST_FOR, @1); $$->items = $2; $$->a = $4; $$->body = $6;
    }
  ;

names
  : NAME            { $$ = one(mk_name(@1, $1)); }
  | names ',' NAME  { $$ = $1; push(&$$, mk_name(@3, $3)); }
  ;

/* if_stmt: 'if' expr ':' block ('elif' expr ':' block)* ['else' ':' block]
 * Left-recursive, so that a long elif chain does not grow the parser's
 * stack; `chain` keeps the last if, whose orelse the next elif fills. */
if_stmt
  : if_chain                      { $$ = $1.first; }
  | if_chain KW_ELSE ':' block    { $1.last->orelse = $4; $$ = $1.first; }
  ;

if_chain
  : KW_IF expr ':' block {
      AstNode *n = mk(AST_IF, @1); n->a = $2; n->body = $4;
      $$.first = $$.last = n;
    }
  | if_chain KW_ELIF expr ':' block {
      AstNode *n = mk(AST_IF, @2); n->a = $3; n->body = $5;
      push(&$1.last->orelse, n);
      $$.first = $1.first;
      $$.last = n;
    }
  ;

/* ---- expressions, loosest first ---- */

/* exprs: expr (',' expr)*   (a bare tuple, where one is allowed) */
exprs
  : expr            { $$ = one($1); }
  | exprs ',' expr  { $$ = $1; push(&$$, $3); }
  ;

/* expr: and_expr ('or' and_expr)* */
expr
  : and_expr
  | expr KW_OR and_expr  { $$ = mk_binop(@2, AOP_OR, $1, $3); }
  ;

/* and_expr: not_expr ('and' not_expr)* */
and_expr
  : not_expr
  | and_expr KW_AND not_expr  { $$ = mk_binop(@2, AOP_AND, $1, $3); }
  ;

/* not_expr: 'not' not_expr | comparison */
not_expr
  : comparison
  | KW_NOT not_expr  { $$ = mk_unop(@1, AOP_NOT, $2); }
  ;

/* comparison: arith [cmp_op arith]   (a second operator is reported) */
comparison
  : arith
  | cmp_chain
  ;

cmp_chain
  : arith cmp_op arith  { $$ = mk_binop(@2, $2, $1, $3); }
  | cmp_chain cmp_op arith {
      ir_error(@2, "chained comparisons are not supported: write 'a < b and b < c'");
      $$ = $1;
    }
  ;

cmp_op
  : '<'  { $$ = AOP_LT; }
  | LE   { $$ = AOP_LE; }
  | '>'  { $$ = AOP_GT; }
  | GE   { $$ = AOP_GE; }
  | EQ   { $$ = AOP_EQ; }
  | NE   { $$ = AOP_NE; }
  ;

/* arith: term (('+' | '-') term)* */
arith
  : term
  | arith '+' term  { $$ = mk_binop(@2, AOP_ADD, $1, $3); }
  | arith '-' term  { $$ = mk_binop(@2, AOP_SUB, $1, $3); }
  ;

/* term: factor (('*' | '/' | '//' | '%' | '@') factor)* */
term
  : factor
  | term '*' factor       { $$ = mk_binop(@2, AOP_MUL, $1, $3); }
  | term '/' factor       { $$ = mk_binop(@2, AOP_DIV, $1, $3); }
  | term FLOORDIV factor  { $$ = mk_binop(@2, AOP_FLOORDIV, $1, $3); }
  | term '%' factor       { $$ = mk_binop(@2, AOP_MOD, $1, $3); }
  | term '@' factor       { $$ = mk_binop(@2, AOP_MATMUL, $1, $3); }
  ;

/* factor: ('-' | '+') factor | power */
factor
  : power
  | '-' factor  { $$ = mk_unop(@1, AOP_NEG, $2); }
  | '+' factor  { $$ = mk_unop(@1, AOP_POS, $2); }
  ;

/* power: postfix ['**' factor]   (right-associative; -x**2 is -(x**2),
 * and 2**-1 is allowed) */
power
  : postfix
  | postfix POW factor  { $$ = mk_binop(@2, AOP_POW, $1, $3); }
  ;

/* postfix: atom | postfix '(' args ')' | postfix '.' NAME
 *        | postfix '[' subscripts ']' | 'range' '(' args ')' */
postfix
  : atom
  | postfix '(' args ')'         { $$ = mk_call($1, $1->loc, $3); }
  | KW_RANGE '(' args ')'        { $$ = mk_call(mk_name(@1, "range"), @1, $3); }
  | postfix '.' NAME             { $$ = mk(AST_ATTR, @3); $$->a = $1; $$->name = $3; }
  | postfix '[' subscripts opt_comma ']' {
      $$ = mk(AST_INDEX, @2); $$->a = $1; $$->items = $3;
    }
  ;

/* atom: NAME | INT | FLOAT | STRING | 'True' | 'False' | 'None' | '...'
 *     | '(' expr ')' | '(' ')' | '(' expr ',' [exprs [',']] ')'
 *     | '[' [exprs [',']] ']' */
atom
  : NAME         { $$ = mk_name(@1, $1); }
  | INT          { $$ = mk(AST_INT, @1); $$->ival = $1; }
  | FLOAT        { $$ = mk(AST_FLOAT, @1); $$->fval = $1; }
  | STRING       { $$ = mk(AST_STRING, @1); $$->str = $1; }
  | KW_TRUE      { $$ = mk(AST_TRUE, @1); }
  | KW_FALSE     { $$ = mk(AST_FALSE, @1); }
  | KW_NONE      { $$ = mk(AST_NONE, @1); }
  | ELLIPSIS     { $$ = mk(AST_ELLIPSIS, @1); }
  | '(' expr ')' { $$ = $2; }
  | '(' ')'      { $$ = mk_tuple(@1, (AstList){0}); }
  | '(' expr ',' ')'  { $$ = mk_tuple(@1, one($2)); }
  | '(' expr ',' exprs opt_comma ')' {
      AstList l = one($2);
      for (int i = 0; i < $4.n; i++)
        push(&l, $4.v[i]);
      $$ = mk_tuple(@1, l);
    }
  | '[' ']'                  { $$ = mk(AST_LIST, @1); }
  | '[' exprs opt_comma ']'  { $$ = mk(AST_LIST, @1); $$->items = $2; }
  ;

opt_comma
  : %empty
  | ','
  ;

/* args: [arg (',' arg)* [',']]
 * arg: expr | NAME '=' expr */
args
  : %empty                { $$ = (AstList){0}; }
  | arg_list opt_comma
  ;

arg_list
  : arg               { $$ = one($1); }
  | arg_list ',' arg  { $$ = $1; push(&$$, $3); }
  ;

arg
  : expr
  | NAME '=' expr  { $$ = mk(AST_KWARG, @1); $$->name = $1; $$->a = $3; }
  ;

/* subscripts: subscript (',' subscript)*
 * subscript: expr | [expr] ':' [expr] [':' [expr]]   (None and ... are exprs) */
subscripts
  : subscript                 { $$ = one($1); }
  | subscripts ',' subscript  { $$ = $1; push(&$$, $3); }
  ;

subscript
  : expr
  | opt_expr ':' opt_expr               { $$ = mk_slice($1 ? @1 : @2, $1, $3, NULL); }
  | opt_expr ':' opt_expr ':' opt_expr  { $$ = mk_slice($1 ? @1 : @2, $1, $3, $5); }
  ;

opt_expr
  : %empty  { $$ = NULL; }
  | expr
  ;

%%

/* ---- node construction ---- */

static AstNode *mk(AstKind kind, Loc loc) { return fe_ast_new(kind, loc); }

static AstNode *mk_name(Loc loc, const char *name) {
  AstNode *n = mk(AST_NAME, loc);
  n->name = name;
  return n;
}

static AstNode *mk_binop(Loc loc, AstOp op, AstNode *a, AstNode *b) {
  AstNode *n = mk(AST_BINOP, loc);
  n->op = op;
  n->a = a;
  n->b = b;
  return n;
}

static AstNode *mk_unop(Loc loc, AstOp op, AstNode *a) {
  AstNode *n = mk(AST_UNOP, loc);
  n->op = op;
  n->a = a;
  return n;
}

static AstNode *mk_tuple(Loc loc, AstList items) {
  AstNode *n = mk(AST_TUPLE, loc);
  n->items = items;
  return n;
}

static AstList one(AstNode *n) {
  AstList l = {0};
  push(&l, n);
  return l;
}

/* Error recovery leaves NULL statements behind: they are dropped here. */
static void push(AstList *list, AstNode *n) {
  if (n)
    fe_ast_push(list, n);
}

/* A call: the callee must be a function name or a method, positional
 * arguments come before keyword arguments, and no keyword repeats. */
static AstNode *mk_call(AstNode *callee, Loc loc, AstList args) {
  AstNode *n = mk(AST_CALL, loc);
  n->a = callee;
  n->items = args;
  if (callee->kind != AST_NAME && callee->kind != AST_ATTR)
    ir_error(loc, "only a function or a method can be called");
  bool keywords = false;
  for (int i = 0; i < args.n; i++) {
    AstNode *arg = args.v[i];
    if (arg->kind != AST_KWARG) {
      if (keywords) {
        ir_error(arg->loc, "positional argument follows keyword argument");
        break;
      }
      continue;
    }
    keywords = true;
    for (int j = 0; j < i; j++) {
      if (args.v[j]->kind == AST_KWARG && strcmp(args.v[j]->name, arg->name) == 0) {
        ir_error(arg->loc, "keyword argument '%s' repeated", arg->name);
        break;
      }
    }
  }
  return n;
}

/* Reports a target that cannot be assigned to; true if t is fine. */
static bool check_target(AstNode *t, const char *what) {
  const char *bad;
  switch (t->kind) {
  case AST_NAME:
  case AST_INDEX: return true;
  case AST_ATTR: bad = "an attribute"; break;
  case AST_CALL: bad = "a function call"; break;
  case AST_INT:
  case AST_FLOAT:
  case AST_STRING:
  case AST_TRUE:
  case AST_FALSE:
  case AST_NONE:
  case AST_ELLIPSIS: bad = "a literal"; break;
  case AST_TUPLE:
  case AST_LIST: bad = "a nested tuple or list"; break;
  default: bad = "an expression"; break;
  }
  ir_error(t->loc, "cannot assign to %s: the target of %s must be a name or an indexed name", bad, what);
  return false;
}

/* `a, b = v` or `x = v`: targets are names or indexings; `(a, b) = v` is
 * read as `a, b = v`.  A bare tuple on the right becomes an AST_TUPLE. */
static AstNode *mk_assign(Loc loc, AstList targets, AstList values) {
  if (targets.n == 1 && targets.v[0]->kind == AST_TUPLE && targets.v[0]->items.n > 0)
    targets = targets.v[0]->items;
  bool ok = true;
  for (int i = 0; i < targets.n; i++)
    ok &= check_target(targets.v[i], "an assignment");
  if (!ok)
    return NULL;
  AstNode *n = mk(AST_ASSIGN, loc);
  n->items = targets;
  n->a = values.n == 1 ? values.v[0] : mk_tuple(values.v[0]->loc, values);
  return n;
}

static AstNode *mk_slice(Loc loc, AstNode *start, AstNode *stop, AstNode *step) {
  AstNode *n = mk(AST_SLICE, loc);
  n->a = start;
  n->b = stop;
  n->c = step;
  return n;
}

static AstNode *mk_type(Loc loc, const char *dtype, bool has_shape, AstList dims) {
  AstNode *n = mk(AST_TYPE, loc);
  n->name = dtype;
  n->has_shape = has_shape;
  n->items = dims;
  return n;
}

static AstNode *mk_arg(Loc loc, const char *name, AstNode *type, AstNode *dflt) {
  AstNode *n = mk(AST_ARG, loc);
  n->name = name;
  n->a = type;
  n->b = dflt;
  return n;
}

static void decl_out_of_place(AstNode *decl) {
  switch (decl->kind) {
  case AST_DEF:
    ir_error(decl->loc, "functions can only be defined at the top level, not inside a block");
    break;
  case AST_IMPORT: ir_error(decl->loc, "'import' is only allowed at the top level"); break;
  case AST_CONST: ir_error(decl->loc, "'const' is only allowed at the top level"); break;
  default: ir_error(decl->loc, "'param' is only allowed at the top level"); break;
  }
}

/* Reports (once) a tree deeper than FE_MAX_DEPTH; the walk itself never
 * goes deeper than that. */
static void check_depth(const AstNode *n, int depth, bool *reported) {
  if (!n || *reported)
    return;
  if (depth > FE_MAX_DEPTH) {
    ir_error(n->loc, "too deeply nested: more than %d levels of expressions and blocks", FE_MAX_DEPTH);
    *reported = true;
    return;
  }
  check_depth(n->a, depth + 1, reported);
  check_depth(n->b, depth + 1, reported);
  check_depth(n->c, depth + 1, reported);
  const AstList *lists[] = {&n->items, &n->body, &n->orelse};
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < lists[k]->n; i++)
      check_depth(lists[k]->v[i], depth + 1, reported);
}

/* ---- syntax error messages ---- */

static bool is_expr_start(yysymbol_kind_t s) {
  switch (s) {
  case YYSYMBOL_NAME:
  case YYSYMBOL_INT:
  case YYSYMBOL_FLOAT:
  case YYSYMBOL_STRING:
  case YYSYMBOL_KW_TRUE:
  case YYSYMBOL_KW_FALSE:
  case YYSYMBOL_KW_NONE:
  case YYSYMBOL_KW_NOT:
  case YYSYMBOL_KW_RANGE:
  case YYSYMBOL_ELLIPSIS: return true;
  default:
    return s == YYTRANSLATE('(') || s == YYTRANSLATE('[') || s == YYTRANSLATE('-') || s == YYTRANSLATE('+');
  }
}

/* Operators that may follow a complete expression. */
static bool is_operator(yysymbol_kind_t s) {
  switch (s) {
  case YYSYMBOL_POW:
  case YYSYMBOL_FLOORDIV:
  case YYSYMBOL_LE:
  case YYSYMBOL_GE:
  case YYSYMBOL_EQ:
  case YYSYMBOL_NE:
  case YYSYMBOL_KW_AND:
  case YYSYMBOL_KW_OR: return true;
  default:
    for (const char *p = "+-*/%@<>.(["; *p; p++) {
      int c = *p;
      if (s == YYTRANSLATE(c))
        return true;
    }
    return false;
  }
}

/* How a token is named in "expected ..." lists: the symbol's alias with
 * Bison's double quotes stripped ("'def'", "end of line"). */
static void symbol_text(char *buf, size_t size, yysymbol_kind_t s) {
  const char *name = yysymbol_name(s);
  size_t n = strlen(name);
  if (n >= 2 && name[0] == '"' && name[n - 1] == '"')
    snprintf(buf, size, "%.*s", (int)(n - 2), name + 1);
  else
    snprintf(buf, size, "%s", name);
}

/* The unexpected token, with its text when it has one. */
static void describe_token(char *buf, size_t size, const LexState *ls, yysymbol_kind_t s) {
  const char *what = s == YYSYMBOL_NAME                         ? "name"
                     : s == YYSYMBOL_STRING                     ? "string"
                     : s == YYSYMBOL_INT || s == YYSYMBOL_FLOAT ? "number"
                                                                : NULL;
  if (what && ls->text) {
    int n = ls->len > 40 ? 40 : ls->len;
    snprintf(buf, size, "%s %s%.*s%s%s", what, s == YYSYMBOL_STRING ? "" : "'", n, ls->text,
             ls->len > 40 ? "..." : "", s == YYSYMBOL_STRING ? "" : "'");
  } else {
    symbol_text(buf, size, s);
  }
}

/* The keyword that opens the line the parser is in, if it is a header. */
static const char *header_keyword(int tok) {
  switch (tok) {
  case KW_IF: return "if";
  case KW_ELIF: return "elif";
  case KW_ELSE: return "else";
  case KW_FOR: return "for";
  case KW_DEF:
  case KW_EXPORT: return "def";
  default: return NULL;
  }
}

static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, LexState *ls) {
  if (ls->fatal)
    return 0; /* the scanner stopped and said why */
  Loc loc = *yypcontext_location(ctx);
  if (ir_error_count() >= IR_MAX_ERRORS) {
    ir_error(loc, "syntax error"); /* counted, not printed: skip the work */
    return 0;
  }
  yysymbol_kind_t got = yypcontext_token(ctx);
  yysymbol_kind_t expected[YYNTOKENS];
  int n = yypcontext_expected_tokens(ctx, expected, YYNTOKENS);
  bool want[YYNTOKENS] = {0};
  for (int i = 0; i < n; i++)
    want[expected[i]] = true;
  char gotbuf[128];
  describe_token(gotbuf, sizeof gotbuf, ls, got);
  const char *head = header_keyword(ls->ctx_tok);

  if (got == YYSYMBOL_INDENT) {
    ir_error(loc, "unexpected indent");
  } else if (want[YYSYMBOL_INDENT]) {
    if (head)
      ir_error(loc, "expected an indented block after '%s' on line %d", head, ls->ctx_line);
    else
      ir_error(loc, "expected an indented block");
  } else if (got == YYTRANSLATE('=') && want[YYTRANSLATE(':')] && head &&
             (!strcmp(head, "if") || !strcmp(head, "elif"))) {
    ir_error(loc, "unexpected '=' in a condition: did you mean '=='?");
  } else if (want[YYTRANSLATE(':')] && ls->depth == 0 && head) {
    if (!strcmp(head, "if") || !strcmp(head, "elif"))
      ir_error(loc, "expected ':' after the condition of '%s'", head);
    else if (!strcmp(head, "for"))
      ir_error(loc, "expected ':' at the end of the 'for' header");
    else if (!strcmp(head, "else"))
      ir_error(loc, "expected ':' after 'else'");
    else if (want[YYSYMBOL_ARROW])
      ir_error(loc, "expected '->' or ':' after the parameters of 'def'");
    else
      ir_error(loc, "expected ':' after the return type of 'def'");
  } else {
    /* "unexpected X; expected A, B or C", with expression starters and
     * operators summed up, and no list when it would be long. */
    const char *items[8];
    char texts[8][32];
    int k = 0;
    bool exprs = want[YYSYMBOL_NAME] && want[YYSYMBOL_INT], ops = want[YYTRANSLATE('*')];
    for (int i = 0; i < n && k <= 4; i++) {
      if ((exprs && is_expr_start(expected[i])) || (ops && is_operator(expected[i])))
        continue;
      symbol_text(texts[k], sizeof texts[k], expected[i]);
      items[k] = texts[k];
      k++;
    }
    if (exprs && k <= 4)
      items[k++] = "an expression";
    if (ops && k <= 4)
      items[k++] = "an operator";
    if (k == 0 || k > 4) {
      ir_error(loc, "unexpected %s", gotbuf);
    } else {
      char list[200] = "";
      for (int i = 0; i < k; i++) {
        const char *sep = i == 0 ? "" : i == k - 1 ? " or " : ", ";
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", sep, items[i]);
      }
      ir_error(loc, "unexpected %s; expected %s", gotbuf, list);
    }
  }
  /* An open bracket from an earlier line often explains the error. */
  if (ls->depth > 0 && ls->bracket_loc[ls->depth - 1].line < loc.line) {
    ls->noted_bracket = ls->bracket_loc[ls->depth - 1];
    ir_note(ls->bracket_loc[ls->depth - 1], "'%c' opened here is not closed", ls->bracket[ls->depth - 1]);
  }
  return 0;
}

/* Bison's own complaints: only "memory exhausted", from a parser stack
 * deeper than YYMAXDEPTH (a very long chain of unary operators or '**'). */
static void yyerror(Loc *loc, void *scanner, LexState *ls, const char *msg) {
  if (ls->fatal)
    return;
  if (!strcmp(msg, "memory exhausted"))
    ir_error(*loc, "expression too deeply nested");
  else
    ir_error(*loc, "%s", msg);
}
