/* runtime/csv.c - comma-separated numbers: read as f64 [rows, cols], write
 * any array of rank 0, 1 or 2.
 *
 * What the reader accepts (docs/runtime.md "Files" has it for users):
 *   - cells separated by ',', or by ';' when the first line that is not
 *     blank has a ';' outside quotes and comments (Excel's CSV in many
 *     locales; otherwise "1;2;3" would be one cell, not a number, and the
 *     line silently skipped as a header); spaces and tabs around a cell
 *     ignored, lines
 *     ended by '\n' or "\r\n", a UTF-8 byte-order mark at the start skipped;
 *   - '#' starts a comment, on a line of its own or after the cells;
 *   - blank lines (and comment-only lines) are skipped;
 *   - a cell may be double-quoted ("1.5"; "" inside quotes is a quote), so a
 *     header's quoted names may hold commas and '#';
 *   - numbers as C's strtod reads them in the C locale, including nan, inf,
 *     -inf, infinity and exponents, but not hexadecimal (NumPy does not
 *     read 0x10 either);
 *   - the first line that is not blank is a header, and skipped, if any of
 *     its cells is not a number (an empty cell counts: pandas writes its
 *     index column with an empty name);
 *   - every row (and the header) must have as many cells as the first.
 * An empty file, or one with only a header, comments and blank lines, is an
 * error ("no data"): a 0 x 0 array is never what was meant.
 *
 * The whole file is read into memory first: CSV is for small inputs, and
 * this lets a cell be NUL-terminated in place for strtod.
 */
#include "rt_files.h"
#include "rt_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ===== reading ===== */

/* One cell of a line: [start, end) trimmed of spaces and quotes. */
typedef struct Cell {
  char *start, *end;
} Cell;

/* The cells of a line, reused from line to line. */
typedef struct Cells {
  Cell *v;
  int64_t n, cap;
} Cells;

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Splits the line [p, end) into cells separated by sep, stopping at a '#'
 * outside quotes.  Returns -1 when out of memory; *blank is set when the
 * line has no content (only spaces and perhaps a comment). */
static int split_line(char *p, char *end, char sep, Cells *cells, int *blank) {
  cells->n = 0;
  *blank = 1;
  for (char *q = p; q < end && *q != '#'; q++)
    if (!is_space(*q))
      *blank = 0;
  if (*blank)
    return 0;
  for (;;) {
    if (cells->n == cells->cap) {
      int64_t cap = cells->cap ? 2 * cells->cap : 16;
      Cell *v = realloc(cells->v, (size_t)cap * sizeof *v);
      if (!v)
        return -1;
      cells->v = v;
      cells->cap = cap;
    }
    Cell *c = &cells->v[cells->n++];
    while (p < end && is_space(*p))
      p++;
    if (p < end && *p == '"') {
      /* Quoted: the contents, up to the closing quote; "" stays doubled
       * (a cell with a quote in it is not a number anyway). */
      c->start = ++p;
      while (p < end && !(*p == '"' && (p + 1 >= end || p[1] != '"')))
        p += *p == '"' ? 2 : 1;
      c->end = p;
      if (p < end)
        p++;
      while (p < end && *p != sep && *p != '#')
        p++; /* anything after the closing quote is ignored, as Python's csv does */
    } else {
      c->start = p;
      while (p < end && *p != sep && *p != '#')
        p++;
      c->end = p;
      while (c->end > c->start && is_space(c->end[-1]))
        c->end--;
    }
    if (p >= end || *p == '#')
      return 0;
    p++; /* the separator */
  }
}

/* ';' when the first line with content has a ';' outside quotes and
 * comments, else ','. */
static char separator(const char *p, const char *end) {
  bool quoted = false, content = false;
  for (; p < end; p++) {
    if (*p == '\n') {
      if (content)
        break;
      quoted = false;
      continue;
    }
    if (*p == '"')
      quoted = !quoted;
    if (quoted)
      continue;
    if (*p == '#') { /* the rest of the line is a comment */
      while (p + 1 < end && p[1] != '\n')
        p++;
      continue;
    }
    if (*p == ';')
      return ';';
    content |= !is_space(*p);
  }
  return ',';
}

/* Reads the cell as a number; 0 on success. */
static int cell_number(Cell *c, double *out) {
  if (c->start == c->end)
    return -1;
  for (char *q = c->start; q < c->end; q++)
    if (*q == 'x' || *q == 'X')
      return -1;
  /* NUL-terminate in place for strtod (the buffer has one spare byte at
   * the end of the file), then put the character back. */
  char saved = *c->end;
  *c->end = '\0';
  char *stop;
  *out = strtod(c->start, &stop);
  *c->end = saved;
  return stop == c->end ? 0 : -1;
}

/* Reads the whole file; *size excludes the NUL added after it. */
static char *slurp(const char *path, size_t *size, char *err, size_t errsize, int *code) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(f);
    *code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: is a directory, not a .csv file", path);
    return NULL;
  }
  size_t len = 0, cap = 1 << 16;
  char *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len - 1, f);
    if (len < cap - 1)
      break;
    char *grown = realloc(buf, cap * 2);
    if (!grown)
      free(buf);
    buf = grown;
    cap *= 2;
  }
  int failed = buf && ferror(f);
  fclose(f);
  if (!buf) {
    *code = rt_file_error(err, errsize, TC_ERR_NOMEM, "%s: out of memory reading the file", path);
    return NULL;
  }
  if (failed) {
    free(buf);
    *code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: read error: %s", path, strerror(errno));
    return NULL;
  }
  buf[len] = '\0';
  *size = len;
  return buf;
}

/* The text of a cell for a message: at most 40 characters, printable. */
static void cell_text(const Cell *c, char *buf, size_t size) {
  int len = (int)(c->end - c->start);
  if (len > 40)
    snprintf(buf, size, "%.37s...", c->start);
  else
    snprintf(buf, size, "%.*s", len, c->start);
  rt_printable(buf);
}

int rt_csv_read(const char *path, tc_array *out, char *err, size_t errsize) {
  int code = TC_OK;
  size_t size;
  char *buf = slurp(path, &size, err, errsize, &code);
  if (!buf)
    return code;
  Cells cells = {0};
  double *vals = NULL;
  int64_t nvals = 0, cap = 0, rows = 0, cols = -1;
  int64_t first_line = 0; /* the line that set the number of columns */
  int64_t header_line = 0;
  char *p = buf, *end = buf + size;
  if (size >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
    p += 3;
  char sep = separator(p, end);
  for (int64_t line = 1; p < end; line++) {
    char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    int blank;
    if (split_line(p, eol, sep, &cells, &blank)) {
      code = rt_file_error(err, errsize, TC_ERR_NOMEM, "%s: out of memory", path);
      goto done;
    }
    p = eol + 1;
    if (blank)
      continue;
    /* 1. The number of columns is the first line's; the others agree. */
    if (cols < 0) {
      cols = cells.n;
      first_line = line;
      double x;
      for (int64_t i = 0; i < cells.n && !header_line; i++)
        if (cell_number(&cells.v[i], &x))
          header_line = line;
      if (header_line)
        continue;
    } else if (cells.n != cols) {
      code = rt_file_error(err, errsize, TC_ERR_INPUT,
                           "%s: line %lld has %lld cell%s but line %lld%s has %lld (ragged rows)", path,
                           (long long)line, (long long)cells.n, cells.n == 1 ? "" : "s", (long long)first_line,
                           header_line == first_line ? " (the header)" : "", (long long)cols);
      goto done;
    }
    /* 2. The numbers. */
    if (nvals + cols > cap) {
      int64_t ncap = cap ? 2 * cap : 1024;
      while (ncap < nvals + cols)
        ncap *= 2;
      double *v = realloc(vals, (size_t)ncap * sizeof *v);
      if (!v) {
        code = rt_file_error(err, errsize, TC_ERR_NOMEM, "%s: out of memory", path);
        goto done;
      }
      vals = v;
      cap = ncap;
    }
    for (int64_t i = 0; i < cols; i++) {
      if (cell_number(&cells.v[i], &vals[nvals + i])) {
        char text[48];
        cell_text(&cells.v[i], text, sizeof text);
        code =
            cells.v[i].start == cells.v[i].end
                ? rt_file_error(err, errsize, TC_ERR_INPUT, "%s: line %lld, column %lld: empty cell", path,
                                (long long)line, (long long)i + 1)
                : rt_file_error(
                      err, errsize, TC_ERR_INPUT, "%s: line %lld, column %lld: '%s' is not a number%s", path,
                      (long long)line, (long long)i + 1, text,
                      sep == ';' && strchr(text, ',') ? " (a decimal comma? numbers are read with '.')" : "");
        goto done;
      }
    }
    nvals += cols;
    rows++;
  }
  if (rows == 0) {
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: no data (%s)", path,
                         header_line ? "only a header" : size ? "only blank lines and comments" : "the file is empty");
    goto done;
  }
  /* 3. The result, in a runtime buffer. */
  out->data = tcrt_alloc(NULL, nvals * (int64_t)sizeof(double));
  if (!out->data) {
    code = rt_file_error(err, errsize, TC_ERR_NOMEM, "%s: out of memory", path);
    goto done;
  }
  memcpy(out->data, vals, (size_t)nvals * sizeof(double));
  out->dtype = TC_F64;
  out->rank = 2;
  out->shape[0] = rows;
  out->shape[1] = cols;
done:
  free(cells.v);
  free(vals);
  free(buf);
  return code;
}

/* ===== writing ===== */

/* Writes element i of a: floats so that they read back exactly (%.9g is
 * enough for every f32, %.17g for every f64), NaN always as "nan" (glibc
 * would print a negative NaN as "-nan"). */
static int write_value(FILE *f, const tc_array *a, int64_t i) {
  double x;
  switch (a->dtype) {
  case TC_BOOL: return fputc(((const uint8_t *)a->data)[i] ? '1' : '0', f) == EOF ? -1 : 0;
  case TC_I32: return fprintf(f, "%d", ((const int32_t *)a->data)[i]) < 0 ? -1 : 0;
  case TC_I64: return fprintf(f, "%lld", (long long)((const int64_t *)a->data)[i]) < 0 ? -1 : 0;
  case TC_F32: x = ((const float *)a->data)[i]; break;
  default: x = ((const double *)a->data)[i]; break;
  }
  if (isnan(x))
    return fputs("nan", f) == EOF ? -1 : 0;
  return fprintf(f, a->dtype == TC_F32 ? "%.9g" : "%.17g", x) < 0 ? -1 : 0;
}

int rt_csv_write(FILE *f, const char *path, const tc_array *a, char *err, size_t errsize) {
  if (a->rank > 2)
    return rt_file_error(err, errsize, TC_ERR_INPUT,
                         "%s: cannot write a rank-%d array as CSV (at most 2 dimensions; use .npy)", path, a->rank);
  /* Rank 0 is one row of one value, rank 1 one value per line. */
  int64_t rows = a->rank == 0 ? 1 : a->shape[0];
  int64_t cols = a->rank == 2 ? a->shape[1] : 1;
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t c = 0; c < cols; c++) {
      if ((c && fputc(',', f) == EOF) || write_value(f, a, r * cols + c))
        return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: write failed: %s", path, strerror(errno));
    }
    if (fputc('\n', f) == EOF)
      return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: write failed: %s", path, strerror(errno));
  }
  return TC_OK;
}
