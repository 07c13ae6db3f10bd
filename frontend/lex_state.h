/* frontend/lex_state.h - the state the lexer (lexer.l) and the parser
 * (parser.y) share for one file.
 *
 * The scanner is reentrant: everything it remembers between tokens lives in
 * one LexState, reached through flex's yyextra and passed to yyparse.  Beside
 * the scanner's own needs (indentation stack, open brackets, tokens made
 * ahead) it keeps what the parser's error messages want to say: the text of
 * the token it last returned and the first token of the current and the
 * previous logical line ("expected ':' after the condition of 'if'").
 * Private to frontend/; nothing outside includes it.
 */
#ifndef TENSORC_LEX_STATE_H
#define TENSORC_LEX_STATE_H

#include "ast.h"

#define LEX_MAX_BRACKETS 256 /* deeper nesting is reported and stops the scan */
#define LEX_MAX_INDENT 100   /* levels of indentation, as Python's tokenizer */
#define LEX_QUEUED (-2)      /* scanner action result: "tokens were queued" */

typedef struct LexToken {
  int tok;
  Loc loc;
} LexToken;

typedef struct LexState {
  const char *file;
  int line, col; /* where the next byte is (col counts characters) */

  /* Indentation: columns of the open blocks, indent[0] == 0. */
  int indent[LEX_MAX_INDENT + 1];
  int nindent;
  bool tab_reported;
  int misplaced_width; /* width of the last bad dedent, kept in the inner block */ /* a tab in indentation is
                                                                                      reported once a file */

  /* Open brackets, innermost last; newlines inside them are ignored. */
  char bracket[LEX_MAX_BRACKETS];
  Loc bracket_loc[LEX_MAX_BRACKETS];
  int depth;
  Loc noted_bracket; /* a syntax error's note said this bracket is open */

  /* Tokens made ahead of the scan (INDENT, DEDENTs, the end-of-file
   * NEWLINE), handed out before the scanner runs again. */
  LexToken queue[LEX_MAX_INDENT + 8];
  int qhead, qlen;
  bool at_eof; /* the end-of-file sequence has been queued */
  Loc eof_loc;
  bool fatal;      /* an error that ends the scan: only EOF from now on */
  bool line_error; /* a lexical error was reported on this logical line */

  /* The token last returned, for the dump and for error messages. */
  int last_tok;
  const char *text; /* its source text (NULL for made-up tokens) */
  int len;
  bool at_line_start;      /* the next real token starts a logical line */
  int head_tok, head_line; /* first token of the current logical line */
  int prev_head_tok, prev_head_line;
  int ctx_tok, ctx_line; /* the line header that the last token belongs to */

  AstNode *module; /* the parser's result */
} LexState;

#endif
