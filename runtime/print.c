/* runtime/print.c - NumPy's text for arrays: str(a) under the default print
 * options (threshold=1000, edgeitems=3, linewidth=75, precision=8,
 * floatmode='maxprec', suppress=False, sign='-'), byte for byte.
 *
 * Three layers, each a transcription of the NumPy code that does the same
 * job, because "close to NumPy" is not good enough for a test oracle:
 *
 *  1. Digits: dragon4.c (NumPy's dragon4.c, shortest digits that round
 *     back to the same float of the array's type; FormatPositional and
 *     FormatScientific).
 *  2. One format for all elements (arrayprint.py, FloatingFormat and
 *     IntegerFormat): a first pass formats every shown element to find the
 *     widest integer and fraction parts, and decides between positional and
 *     scientific notation; the second pass pads every element to those
 *     widths.
 *  3. Layout (arrayprint.py, _formatArray): nested brackets, wrapping at 75
 *     columns with a hanging indent, blank lines between blocks, and "..."
 *     for arrays of more than 1000 elements (3 items at each end of every
 *     axis longer than 6).
 *
 * A rank-0 array prints as NumPy's scalar str(): shortest digits, positional
 * for 1e-4 <= |x| < 1e16 (1e6 for float32), else scientific.
 */
#include "rt_dragon4.h"
#include "rt_internal.h"
#include "rt_dist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- one format for every element ---------- */

typedef struct ElemFormat {
  tc_dtype dtype;
  int rank0;      /* a 0-d array: NumPy's scalar str() */
  int int_width;  /* ints: the widest of str(max) and str(min) */
  int exp_format; /* floats: scientific notation */
  int precision, min_digits, trim, pad_left, pad_right, exp_size;
} ElemFormat;

static double elem_double(tc_dtype dt, const void *data, int64_t i) {
  switch (dt) {
  case TC_F32: return ((const float *)data)[i];
  case TC_F64: return ((const double *)data)[i];
  default: return 0;
  }
}

static int64_t elem_int(tc_dtype dt, const void *data, int64_t i) {
  switch (dt) {
  case TC_BOOL: return ((const uint8_t *)data)[i] != 0;
  case TC_I32: return ((const int32_t *)data)[i];
  case TC_I64: return ((const int64_t *)data)[i];
  default: return 0;
  }
}

/* The widest text one element can take: 24 digit characters for an
 * i64, and for floats the digits plus padding (at most ~20 each side). */
#define ELEM_MAX (DIGITS_MAX + 96)

/* str() of a NumPy scalar: shortest digits, positional ("0.1", "3.0")
 * between 1e-4 and 1e16 (float32: 1e6), else scientific ("1e-05"). */
static int format_scalar_float(char *out, double v, int is_f32) {
  if (isnan(v))
    return sprintf(out, "nan");
  if (isinf(v))
    return sprintf(out, v < 0 ? "-inf" : "inf");
  FloatParts p = rt_float_parts(v, is_f32);
  long double a = fabsl((long double)v);
  int positional = v == 0 || (a < (is_f32 ? 1.e6L : 1.e16L) && a >= 1.e-4L);
  if (positional)
    return rt_format_positional(out, &p, -1, -1, TRIM_LEAVE_ONE_ZERO, -1, -1);
  return rt_format_scientific(out, &p, -1, -1, TRIM_DPT_ZEROS, -1, -1);
}

static int format_elem(char *out, const ElemFormat *f, const void *data, int64_t i) {
  switch (f->dtype) {
  case TC_BOOL:
    if (f->rank0)
      return sprintf(out, "%s", elem_int(TC_BOOL, data, i) ? "True" : "False");
    return sprintf(out, "%s", elem_int(TC_BOOL, data, i) ? " True" : "False");
  case TC_I32:
  case TC_I64:
    return sprintf(out, "%*lld", f->rank0 ? 0 : f->int_width, (long long)elem_int(f->dtype, data, i));
  case TC_F32:
  case TC_F64: {
    double v = elem_double(f->dtype, data, i);
    if (f->rank0)
      return format_scalar_float(out, v, f->dtype == TC_F32);
    if (!isfinite(v)) {
      const char *s = isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";
      int w = f->pad_left + f->pad_right + 1;
      return sprintf(out, "%*s", w, s);
    }
    FloatParts p = rt_float_parts(v, f->dtype == TC_F32);
    if (f->exp_format)
      return rt_format_scientific(out, &p, f->precision, f->min_digits, f->trim, f->pad_left, f->exp_size);
    return rt_format_positional(out, &p, f->precision, f->min_digits, f->trim, f->pad_left, f->pad_right);
  }
  default: return sprintf(out, "?");
  }
}

/* FloatingFormat.fillFormat: decide notation and widths from the shown
 * elements `idx[0..n-1]`. */
static void fill_float_format(ElemFormat *f, const void *data, const int64_t *idx, int64_t n) {
  int is_f32 = f->dtype == TC_F32;
  int64_t nfinite = 0;
  int have_nz = 0, neg_inf = 0, nonfinite = 0;
  double mx = 0, mn = 0;
  for (int64_t k = 0; k < n; k++) {
    double v = elem_double(f->dtype, data, idx[k]);
    if (!isfinite(v)) {
      nonfinite = 1;
      if (isinf(v) && v < 0)
        neg_inf = 1;
      continue;
    }
    nfinite++;
    if (v == 0)
      continue;
    double a = fabs(v);
    if (!have_nz || a > mx)
      mx = a;
    if (!have_nz || a < mn)
      mn = a;
    have_nz = 1;
  }
  /* NumPy compares in the array's own type (Python floats are "weak"
   * under NEP 50), and its cutoff is 10**min(8, finfo.precision). */
  f->exp_format = 0;
  if (have_nz) {
    if (is_f32) {
      float fmx = (float)mx, fmn = (float)mn;
      float ratio = fmx / fmn;
      f->exp_format = fmx >= 1e6f || fmn < 0.0001f || ratio > 1000.0f;
    } else {
      f->exp_format = mx >= 1e8 || mn < 0.0001 || mx / mn > 1000.0;
    }
  }
  f->precision = 8;
  if (nfinite == 0) {
    f->pad_left = f->pad_right = 0;
    f->trim = TRIM_ZEROS;
    f->exp_size = -1;
    f->min_digits = -1;
  } else if (f->exp_format) {
    /* first pass: the widest fraction and exponent */
    int maxfrac = 0, maxint = 0, maxexp = 0;
    char s[ELEM_MAX];
    for (int64_t k = 0; k < n; k++) {
      double v = elem_double(f->dtype, data, idx[k]);
      if (!isfinite(v))
        continue;
      FloatParts p = rt_float_parts(v, is_f32);
      rt_format_scientific(s, &p, 8, -1, TRIM_ZEROS, -1, -1);
      char *e = strchr(s, 'e'), *dot = strchr(s, '.');
      int il = (int)(dot - s), fl = (int)(e - dot - 1), el = (int)strlen(e + 1);
      if (il > maxint)
        maxint = il;
      if (fl > maxfrac)
        maxfrac = fl;
      if (el > maxexp)
        maxexp = el;
    }
    f->exp_size = maxexp - 1;
    f->trim = TRIM_NONE;
    f->precision = f->min_digits = maxfrac;
    f->pad_left = maxint;
    f->pad_right = f->exp_size + 2 + f->precision;
  } else {
    int maxfrac = 0, maxint = 0;
    char s[ELEM_MAX];
    for (int64_t k = 0; k < n; k++) {
      double v = elem_double(f->dtype, data, idx[k]);
      if (!isfinite(v))
        continue;
      FloatParts p = rt_float_parts(v, is_f32);
      rt_format_positional(s, &p, 8, -1, TRIM_ZEROS, -1, -1);
      char *dot = strchr(s, '.');
      int il = (int)(dot - s), fl = (int)strlen(dot + 1);
      if (il > maxint)
        maxint = il;
      if (fl > maxfrac)
        maxfrac = fl;
    }
    f->pad_left = maxint;
    f->pad_right = maxfrac;
    f->exp_size = -1;
    f->trim = TRIM_ZEROS;
    f->min_digits = 0;
  }
  if (nonfinite) {
    /* "nan" / "-inf" must fit in the same width */
    int offset = f->pad_right + 1;
    if (3 - offset > f->pad_left)
      f->pad_left = 3 - offset;
    if (3 + neg_inf - offset > f->pad_left)
      f->pad_left = 3 + neg_inf - offset;
  }
}

/* IntegerFormat: every element as wide as the wider of max and min. */
static void fill_int_format(ElemFormat *f, const void *data, const int64_t *idx, int64_t n) {
  int64_t mx = 0, mn = 0;
  for (int64_t k = 0; k < n; k++) {
    int64_t v = elem_int(f->dtype, data, idx[k]);
    if (k == 0 || v > mx)
      mx = v;
    if (k == 0 || v < mn)
      mn = v;
  }
  char s[32];
  int a = sprintf(s, "%lld", (long long)mx), b = sprintf(s, "%lld", (long long)mn);
  f->int_width = a > b ? a : b;
}

/* ---------- layout ---------- */

#define LINE_WIDTH 75
#define EDGE_ITEMS 3
#define THRESHOLD 1000

/* A growing string; `oom` sticks once an allocation fails. */
typedef struct Str {
  char *p;
  size_t len, cap;
  int oom;
} Str;

static void str_put(Str *s, const char *t, size_t n) {
  if (s->oom)
    return;
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 64;
    while (s->len + n + 1 > cap)
      cap *= 2;
    char *p = realloc(s->p, cap);
    if (!p) {
      s->oom = 1;
      return;
    }
    s->p = p;
    s->cap = cap;
  }
  memcpy(s->p + s->len, t, n);
  s->len += n;
  s->p[s->len] = '\0';
}

static void str_puts(Str *s, const char *t) { str_put(s, t, strlen(t)); }

static void str_spaces(Str *s, int n) {
  for (int i = 0; i < n; i++)
    str_put(s, " ", 1);
}

typedef struct Layout {
  const tc_array *a;
  const ElemFormat *fmt;
  int summarize;                /* size > 1000: "..." on long axes */
  int64_t strides[TC_MAX_RANK]; /* in elements */
  int oom;
} Layout;

static int show_summary(const Layout *L, int axis) {
  return L->summarize && L->a->shape[axis] > 2 * EDGE_ITEMS;
}

/* _extendLine: append `word` to `line`, first moving `line` to `s` when
 * the word would overflow `width` (unless the line holds only the hanging
 * indent, where wrapping would not help). */
static void extend_line(Str *s, Str *line, const char *word, int width, int hang) {
  size_t wl = strlen(word);
  if ((int)(line->len + wl) > width && (int)line->len > hang) {
    size_t n = line->len;
    while (n > 0 && line->p[n - 1] == ' ')
      n--;
    str_put(s, line->p, n);
    str_put(s, "\n", 1);
    line->len = 0;
    str_spaces(line, hang);
  }
  str_put(line, word, wl);
}

/* _formatArray's recurser: the text of the sub-array at `offset` (axes
 * `axis`.. remain) as it appears after a hanging indent of `hang` spaces,
 * in a line `width` wide.  Appends it to `out`. */
static void recurse(Layout *L, Str *out, int64_t offset, int axis, int hang, int width) {
  const tc_array *a = L->a;
  int64_t len = a->shape[axis];
  int summary = show_summary(L, axis);
  int64_t lead = summary ? EDGE_ITEMS : 0, trail = summary ? EDGE_ITEMS : len;
  int64_t stride = L->strides[axis];
  Str s = {0};
  if (axis == a->rank - 1) {
    int elem_width = width - 1; /* room for the "]" */
    char word[ELEM_MAX];
    Str line = {0};
    str_spaces(&line, hang);
    for (int64_t i = 0; i < lead; i++) {
      format_elem(word, L->fmt, a->data, offset + i * stride);
      extend_line(&s, &line, word, elem_width, hang);
      str_put(&line, " ", 1);
    }
    if (summary) {
      extend_line(&s, &line, "...", elem_width, hang);
      str_put(&line, " ", 1);
    }
    for (int64_t i = trail; i >= 1; i--) {
      format_elem(word, L->fmt, a->data, offset + (len - i) * stride);
      extend_line(&s, &line, word, elem_width, hang);
      if (i > 1)
        str_put(&line, " ", 1);
    }
    str_put(&s, line.p ? line.p : "", line.len);
    L->oom |= line.oom;
    free(line.p);
  } else {
    /* one line between rows, two between the blocks of a 3-D array, ... */
    int newlines = a->rank - axis - 1;
    for (int64_t k = 0; k < lead + trail + (summary ? 1 : 0); k++) {
      str_spaces(&s, hang);
      if (summary && k == lead) {
        str_puts(&s, "...");
      } else {
        int64_t i = k < lead ? k : len - (lead + trail + (summary ? 1 : 0) - k);
        recurse(L, &s, offset + i * stride, axis + 1, hang + 1, width - 1);
      }
      if (k + 1 < lead + trail + (summary ? 1 : 0))
        for (int j = 0; j < newlines; j++)
          str_put(&s, "\n", 1);
    }
  }
  /* the hanging indent of the first line becomes the "[" */
  str_put(out, "[", 1);
  if (s.len > (size_t)hang)
    str_put(out, s.p + hang, s.len - (size_t)hang);
  str_put(out, "]", 1);
  L->oom |= s.oom;
  free(s.p);
}

/* The flat indices of the elements that will be shown (all of them, or
 * the corners of a summarised array), in order. */
static void shown_indices(const Layout *L, int axis, int64_t offset, int64_t *idx, int64_t *n) {
  const tc_array *a = L->a;
  if (axis == a->rank) {
    idx[(*n)++] = offset;
    return;
  }
  int64_t len = a->shape[axis];
  for (int64_t i = 0; i < len; i++) {
    if (show_summary(L, axis) && i == EDGE_ITEMS)
      i = len - EDGE_ITEMS;
    shown_indices(L, axis + 1, offset + i * L->strides[axis], idx, n);
  }
}

/* strdup, which C11 without POSIX lacks. */
static char *copy_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}

char *tcrt_format(const tc_array *a) {
  int64_t size = tcrt_numel(a);
  ElemFormat f = {0};
  f.dtype = a->dtype;
  if (a->dtype < TC_BOOL || a->dtype > TC_F64 || a->rank < 0 || a->rank > TC_MAX_RANK)
    return copy_str("<invalid array>");
  if (a->rank == 0) {
    char s[ELEM_MAX];
    f.rank0 = 1;
    format_elem(s, &f, a->data, 0);
    return copy_str(s);
  }
  if (size <= 0) /* a 0 anywhere in the shape */
    return copy_str("[]");

  Layout L = {0};
  L.a = a;
  L.fmt = &f;
  L.summarize = size > THRESHOLD;
  int64_t stride = 1;
  for (int i = a->rank - 1; i >= 0; i--) {
    L.strides[i] = stride;
    stride *= a->shape[i];
  }

  /* the formats are measured on the shown elements only */
  int64_t nshown = 1;
  for (int i = 0; i < a->rank; i++)
    nshown *= show_summary(&L, i) ? 2 * EDGE_ITEMS : a->shape[i];
  int64_t *idx = malloc((size_t)nshown * sizeof *idx);
  if (!idx)
    return NULL;
  int64_t n = 0;
  shown_indices(&L, 0, 0, idx, &n);
  if (a->dtype == TC_F32 || a->dtype == TC_F64)
    fill_float_format(&f, a->data, idx, n);
  else if (a->dtype != TC_BOOL)
    fill_int_format(&f, a->data, idx, n);
  free(idx);

  Str out = {0};
  recurse(&L, &out, 0, 0, 1, LINE_WIDTH);
  if (out.oom || L.oom) {
    free(out.p);
    return NULL;
  }
  return out.p;
}

/* ---------- print() ---------- */

void tcrt_print_str(const char *s, int sep) {
  if (!rt_dist_writer()) /* --dist=mpi: rank 0 prints */
    return;
  if (sep)
    fputc(' ', stdout);
  fputs(s, stdout);
}

void tcrt_print_array(const tc_array *a, int sep) {
  if (!rt_dist_writer())
    return;
  char *s = tcrt_format(a);
  /* Out of memory while printing: say so in the output rather than fail
   * the program over a diagnostic line. */
  tcrt_print_str(s ? s : "<out of memory>", sep);
  free(s);
}

void tcrt_print_end(void) {
  if (rt_dist_writer())
    fputc('\n', stdout);
}
