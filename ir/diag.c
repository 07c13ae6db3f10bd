/* ir/diag.c - diagnostics: errors, warnings and notes in the clang style.
 *
 *   model.tc:12:9: error: cannot add f32[N, 64] and f32[N, 10]
 *       h = x + b
 *           ^
 *   model.tc:3:1: note: ...
 *
 * Every stage reports the user's mistakes here, so all messages look alike.
 * Source texts are registered by the frontend so that any later pass can
 * quote the user's line.  Errors are counted; the driver decides the exit
 * code.  Output goes to stderr.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

typedef struct Source {
  const char *file;
  const char *text;
  size_t len;
} Source;

static PtrVec sources;
static int nerrors;
static bool last_error_dropped; /* notes of a dropped error are dropped too */
static bool muted;              /* ir_diag_mute */

void ir_source_add(const char *file, const char *text, size_t len) {
  Source *s = ir_alloc(sizeof *s);
  s->file = file;
  s->text = text;
  s->len = len;
  ir_vec_push(&sources, s);
}

int ir_error_count(void) { return nerrors; }

void ir_diag_reset(void) {
  sources = (PtrVec){0};
  nerrors = 0;
  last_error_dropped = false;
  muted = false;
}

bool ir_diag_mute(bool on) {
  bool was = muted;
  muted = on;
  return was;
}

/* Length of the valid UTF-8 sequence at p (1 for ASCII or an invalid byte). */
static int utf8_len(const char *p, const char *end) {
  unsigned char c = (unsigned char)*p;
  int n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
  if (c < 0x80 || n == 1 || end - p < n)
    return 1;
  for (int i = 1; i < n; i++)
    if (((unsigned char)p[i] & 0xC0) != 0x80)
      return 1;
  return n;
}

/* Prints the source line of loc and a caret under its column.  Control
 * characters and invalid bytes are shown as '?' so that a garbage file
 * cannot garble the terminal. */
static void quote_line(Loc loc) {
  if (!loc.file || loc.line <= 0)
    return;
  const Source *src = NULL;
  for (int i = sources.n - 1; i >= 0; i--) {
    const Source *s = sources.v[i];
    if (strcmp(s->file, loc.file) == 0) {
      src = s;
      break;
    }
  }
  if (!src)
    return;
  const char *p = src->text, *end = src->text + src->len;
  for (int line = 1; line < loc.line && p < end; p++)
    if (*p == '\n')
      line++;
  if (p >= end && loc.line > 1)
    return;
  const char *eol = p;
  while (eol < end && *eol != '\n' && eol - p < 200)
    eol++;
  fputs("    ", stderr);
  for (const char *q = p; q < eol; q++) {
    unsigned char c = (unsigned char)*q;
    int len = utf8_len(q, eol);
    if (len > 1) { /* a valid multi-byte character, printed whole */
      fwrite(q, 1, (size_t)len, stderr);
      q += len - 1;
      continue;
    }
    fputc(c == '\t' ? ' ' : (c < 32 || c >= 127) ? '?' : c, stderr);
  }
  fputs("\n    ", stderr);
  int col = loc.col > 0 ? loc.col : 1;
  /* Count columns in characters: skip UTF-8 continuation bytes. */
  int shown = 0;
  for (const char *q = p; q < eol && shown < col - 1; q++) {
    q += utf8_len(q, eol) - 1;
    fputc(' ', stderr);
    shown++;
  }
  fputs("^\n", stderr);
}

static void report(Loc loc, const char *kind, const char *fmt, va_list ap) {
  if (loc.file)
    fprintf(stderr, "%s:%d:%d: %s: ", loc.file, loc.line, loc.col, kind);
  else
    fprintf(stderr, "tensorc: %s: ", kind);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  quote_line(loc);
}

void ir_error(Loc loc, const char *fmt, ...) {
  if (muted)
    return;
  nerrors++;
  last_error_dropped = nerrors > IR_MAX_ERRORS;
  if (nerrors == IR_MAX_ERRORS + 1)
    fprintf(stderr, "tensorc: too many errors, stopping here\n");
  if (last_error_dropped)
    return;
  va_list ap;
  va_start(ap, fmt);
  report(loc, "error", fmt, ap);
  va_end(ap);
}

void ir_warning(Loc loc, const char *fmt, ...) {
  if (muted)
    return;
  va_list ap;
  va_start(ap, fmt);
  report(loc, "warning", fmt, ap);
  va_end(ap);
}

void ir_note(Loc loc, const char *fmt, ...) {
  if (muted)
    return;
  if (last_error_dropped)
    return;
  va_list ap;
  va_start(ap, fmt);
  report(loc, "note", fmt, ap);
  va_end(ap);
}

_Noreturn void ir_die_at(const char *cfile, int cline, Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "tensorc: internal error (%s:%d): ", cfile, cline);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (loc.file)
    fprintf(stderr, " [at %s:%d:%d]", loc.file, loc.line, loc.col);
  fputc('\n', stderr);
  exit(3);
}
