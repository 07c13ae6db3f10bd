/* ir/dim.c - symbolic dimensions: polynomials over dimension symbols.
 *
 * A Dim is a sum of at most DIM_MAX_TERMS terms coef * s1 * s2 * ... with at
 * most DIM_MAX_DEG symbols a term.  It is kept canonical so that equality is
 * structural:
 *   - terms are sorted by (degree, sorted symbol ids), so the constant term
 *     (degree 0) comes first;
 *   - equal monomials are merged and zero coefficients dropped (0 has no
 *     terms at all);
 *   - every byte of the struct that is not a live field is zero, unused
 *     slots and padding included, so equal polynomials have identical bytes.
 * Every constructor builds its result with canon(), which starts from a
 * zeroed struct and assigns fields one by one.
 *
 * A result that needs more terms or a higher degree, or whose coefficient
 * overflows int64, is marked `overflow` (and has no terms); every operation
 * on an overflowed dim gives an overflowed dim, and an overflowed dim equals
 * nothing, not even itself.  The shape pass reports it as "dimension
 * expression too complex".
 *
 * Symbols are ids into one growable table (id 0 is never used) holding the
 * name shown in dumps and the place that introduced the symbol.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

/* ---- the symbol table ---- */

typedef struct Symbol {
  const char *name;
  Loc loc;
} Symbol;

static Symbol *syms; /* syms[0] unused: ids start at 1 */
static int nsyms = 1, capsyms;
static bool too_many_reported; /* the error below, once */

#define SYM_MAX 65535 /* DimTerm.sym is a uint16_t */

int ir_sym_new(const char *name, Loc loc) {
  if (nsyms > SYM_MAX) {
    /* Thousands of unrolled creations could get here.  Reuse the last id so
     * the compiler goes on; the error makes the run fail. */
    if (!too_many_reported)
      ir_error(loc, "too many symbolic dimensions (more than %d)", SYM_MAX);
    too_many_reported = true;
    return SYM_MAX;
  }
  if (nsyms == capsyms || !syms) {
    int cap = capsyms ? capsyms * 2 : 64;
    Symbol *v = ir_alloc(sizeof(Symbol) * (size_t)cap);
    if (syms)
      memcpy(v, syms, sizeof(Symbol) * (size_t)nsyms);
    syms = v;
    capsyms = cap;
  }
  syms[nsyms].name = ir_strdup(name && *name ? name : "?");
  syms[nsyms].loc = loc;
  return nsyms++;
}

int ir_sym_count(void) { return nsyms; }

void ir_sym_reset(void) {
  syms = NULL; /* arena memory, freed with the arena */
  nsyms = 1;
  capsyms = 0;
  too_many_reported = false;
}

const char *ir_sym_name(int sym) { return sym > 0 && sym < nsyms ? syms[sym].name : "?"; }

Loc ir_sym_loc(int sym) {
  Loc none = {0};
  return sym > 0 && sym < nsyms ? syms[sym].loc : none;
}

/* ---- canonical form ---- */

/* A term while an operation is in progress: the degree may exceed
 * DIM_MAX_DEG until canon() rejects it. */
typedef struct RawTerm {
  int64_t coef;
  int deg;
  int sym[2 * DIM_MAX_DEG];
} RawTerm;

#define RAW_MAX (DIM_MAX_TERMS * DIM_MAX_TERMS + 2 * DIM_MAX_TERMS)

static Dim dim_overflow(void) {
  Dim d;
  memset(&d, 0, sizeof d);
  d.overflow = true;
  return d;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Order of monomials: degree, then the sorted symbol lists compared
 * lexicographically.  (A monomial order: it is compatible with
 * multiplication, which dim_div_exact's long division relies on.) */
static int cmp_mono(const RawTerm *a, const RawTerm *b) {
  if (a->deg != b->deg)
    return a->deg < b->deg ? -1 : 1;
  for (int i = 0; i < a->deg; i++)
    if (a->sym[i] != b->sym[i])
      return a->sym[i] < b->sym[i] ? -1 : 1;
  return 0;
}

/* Sorts, merges and checks the raw terms and packs them into a Dim. */
static Dim canon(RawTerm *raw, int n) {
  for (int i = 0; i < n; i++) {
    if (raw[i].deg > DIM_MAX_DEG)
      return dim_overflow();
    qsort(raw[i].sym, (size_t)raw[i].deg, sizeof(int), cmp_int);
  }
  /* insertion sort: n is small */
  for (int i = 1; i < n; i++) {
    RawTerm t = raw[i];
    int j = i - 1;
    while (j >= 0 && cmp_mono(&raw[j], &t) > 0) {
      raw[j + 1] = raw[j];
      j--;
    }
    raw[j + 1] = t;
  }
  /* merge equal monomials */
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (m > 0 && cmp_mono(&raw[m - 1], &raw[i]) == 0) {
      if (__builtin_add_overflow(raw[m - 1].coef, raw[i].coef, &raw[m - 1].coef))
        return dim_overflow();
    } else {
      raw[m++] = raw[i];
    }
  }
  Dim d;
  memset(&d, 0, sizeof d);
  int k = 0;
  for (int i = 0; i < m; i++) {
    if (raw[i].coef == 0)
      continue;
    if (k == DIM_MAX_TERMS)
      return dim_overflow();
    d.t[k].coef = raw[i].coef;
    d.t[k].deg = (uint8_t)raw[i].deg;
    for (int j = 0; j < raw[i].deg; j++)
      d.t[k].sym[j] = (uint16_t)raw[i].sym[j];
    k++;
  }
  d.n = (uint8_t)k;
  return d;
}

static RawTerm raw_of(const DimTerm *t) {
  RawTerm r;
  memset(&r, 0, sizeof r);
  r.coef = t->coef;
  r.deg = t->deg;
  for (int j = 0; j < t->deg; j++)
    r.sym[j] = t->sym[j];
  return r;
}

/* ---- construction and arithmetic ---- */

Dim dim_const(int64_t c) {
  RawTerm r;
  memset(&r, 0, sizeof r);
  r.coef = c;
  return canon(&r, 1);
}

Dim dim_sym(int sym) {
  if (sym <= 0 || sym > SYM_MAX)
    return dim_overflow();
  RawTerm r;
  memset(&r, 0, sizeof r);
  r.coef = 1;
  r.deg = 1;
  r.sym[0] = sym;
  return canon(&r, 1);
}

Dim dim_add(Dim a, Dim b) {
  if (a.overflow || b.overflow)
    return dim_overflow();
  RawTerm raw[RAW_MAX];
  int n = 0;
  for (int i = 0; i < a.n; i++)
    raw[n++] = raw_of(&a.t[i]);
  for (int i = 0; i < b.n; i++)
    raw[n++] = raw_of(&b.t[i]);
  return canon(raw, n);
}

Dim dim_sub(Dim a, Dim b) {
  if (a.overflow || b.overflow)
    return dim_overflow();
  RawTerm raw[RAW_MAX];
  int n = 0;
  for (int i = 0; i < a.n; i++)
    raw[n++] = raw_of(&a.t[i]);
  for (int i = 0; i < b.n; i++) {
    raw[n] = raw_of(&b.t[i]);
    if (raw[n].coef == INT64_MIN)
      return dim_overflow();
    raw[n].coef = -raw[n].coef;
    n++;
  }
  return canon(raw, n);
}

Dim dim_mul(Dim a, Dim b) {
  if (a.overflow || b.overflow)
    return dim_overflow();
  RawTerm raw[RAW_MAX];
  int n = 0;
  for (int i = 0; i < a.n; i++)
    for (int j = 0; j < b.n; j++) {
      RawTerm r;
      memset(&r, 0, sizeof r);
      if (__builtin_mul_overflow(a.t[i].coef, b.t[j].coef, &r.coef))
        return dim_overflow();
      r.deg = a.t[i].deg + b.t[j].deg;
      if (r.deg > DIM_MAX_DEG)
        return dim_overflow();
      for (int k = 0; k < a.t[i].deg; k++)
        r.sym[k] = a.t[i].sym[k];
      for (int k = 0; k < b.t[j].deg; k++)
        r.sym[a.t[i].deg + k] = b.t[j].sym[k];
      raw[n++] = r;
    }
  return canon(raw, n);
}

/* Divides the monomial term t by the monomial d: true when d's symbols are
 * a sub-multiset of t's and the coefficient divides. */
static bool term_div(const DimTerm *t, const DimTerm *d, RawTerm *q) {
  if (d->coef == 0 || (d->coef == -1 && t->coef == INT64_MIN) || t->coef % d->coef != 0)
    return false;
  memset(q, 0, sizeof *q);
  q->coef = t->coef / d->coef;
  int i = 0, j = 0;
  while (i < t->deg) {
    if (j < d->deg && t->sym[i] == d->sym[j]) {
      i++, j++;
    } else if (j < d->deg && d->sym[j] < t->sym[i]) {
      return false; /* d has a symbol t lacks */
    } else {
      q->sym[q->deg++] = t->sym[i++];
    }
  }
  return j == d->deg;
}

bool dim_div_exact(Dim a, Dim b, Dim *out) {
  if (a.overflow || b.overflow || b.n == 0)
    return false;
  if (a.n == 0) {
    *out = dim_const(0);
    return true;
  }
  if (b.n == 1) {
    /* by a constant or a monomial: term by term */
    RawTerm raw[DIM_MAX_TERMS];
    for (int i = 0; i < a.n; i++)
      if (!term_div(&a.t[i], &b.t[0], &raw[i]))
        return false;
    Dim q = canon(raw, a.n);
    if (q.overflow)
      return false;
    *out = q;
    return true;
  }
  /* General case: long division by b's leading (highest) term.  The answer
   * is trusted only when the remainder reaches zero. */
  Dim q = dim_const(0), r = a;
  const DimTerm *lb = &b.t[b.n - 1];
  for (int iter = 0; r.n > 0; iter++) {
    if (iter > 4 * DIM_MAX_TERMS)
      return false;
    RawTerm t;
    if (!term_div(&r.t[r.n - 1], lb, &t))
      return false;
    Dim td = canon(&t, 1);
    q = dim_add(q, td);
    r = dim_sub(r, dim_mul(td, b));
    if (q.overflow || r.overflow)
      return false;
  }
  *out = q;
  return true;
}

bool dim_eq(Dim a, Dim b) {
  if (a.overflow || b.overflow)
    return false;
  return memcmp(&a, &b, sizeof a) == 0;
}

bool dim_is_const(Dim d, int64_t *c) {
  if (d.overflow)
    return false;
  if (d.n == 0) {
    if (c)
      *c = 0;
    return true;
  }
  if (d.n == 1 && d.t[0].deg == 0) {
    if (c)
      *c = d.t[0].coef;
    return true;
  }
  return false;
}

bool dim_is_sym(Dim d, int *sym) {
  if (d.overflow || d.n != 1 || d.t[0].deg != 1 || d.t[0].coef != 1)
    return false;
  if (sym)
    *sym = d.t[0].sym[0];
  return true;
}

Dim dim_subst(Dim d, int sym, Dim by) {
  if (d.overflow || by.overflow)
    return dim_overflow();
  Dim sum = dim_const(0);
  for (int i = 0; i < d.n; i++) {
    /* the term without `sym`, times by^k */
    RawTerm rest;
    memset(&rest, 0, sizeof rest);
    rest.coef = d.t[i].coef;
    int k = 0;
    for (int j = 0; j < d.t[i].deg; j++) {
      if (d.t[i].sym[j] == sym)
        k++;
      else
        rest.sym[rest.deg++] = d.t[i].sym[j];
    }
    Dim part = canon(&rest, 1);
    for (int j = 0; j < k; j++)
      part = dim_mul(part, by);
    sum = dim_add(sum, part);
    if (sum.overflow)
      return sum;
  }
  return sum;
}

/* ---- printing ---- */

typedef struct Buf {
  char *p;
  size_t size, len;
} Buf;

static void put(Buf *b, const char *s) {
  while (*s) {
    if (b->len + 1 < b->size)
      b->p[b->len] = *s;
    b->len++;
    s++;
  }
  if (b->size)
    b->p[b->len < b->size ? b->len : b->size - 1] = 0;
}

/* Highest degree first (N*M before N before the constant); within one
 * degree, in symbol order: "N*M + 2*N - 1", "N + M".  With `paren` each
 * symbol is written "(N)", for a C macro's body. */
static char *format(Dim d, char *buf, size_t size, bool paren) {
  Buf b = {buf, size, 0};
  if (size)
    buf[0] = 0;
  if (d.overflow) {
    put(&b, "?");
    return buf;
  }
  if (d.n == 0) {
    put(&b, "0");
    return buf;
  }
  bool first = true;
  for (int deg = DIM_MAX_DEG; deg >= 0; deg--)
    for (int i = 0; i < d.n; i++) {
      const DimTerm *t = &d.t[i];
      if (t->deg != deg)
        continue;
      bool neg = t->coef < 0;
      uint64_t mag = neg ? (uint64_t)0 - (uint64_t)t->coef : (uint64_t)t->coef;
      if (first)
        put(&b, neg ? "-" : "");
      else
        put(&b, neg ? " - " : " + ");
      first = false;
      char num[32];
      snprintf(num, sizeof num, "%llu", (unsigned long long)mag);
      if (t->deg == 0 || mag != 1) {
        put(&b, num);
        if (t->deg > 0)
          put(&b, "*");
      }
      for (int j = 0; j < t->deg; j++) {
        if (j)
          put(&b, "*");
        put(&b, paren ? "(" : "");
        put(&b, ir_sym_name(t->sym[j]));
        put(&b, paren ? ")" : "");
      }
    }
  return buf;
}

char *dim_format(Dim d, char *buf, size_t size) { return format(d, buf, size, false); }
char *dim_format_macro(Dim d, char *buf, size_t size) { return format(d, buf, size, true); }
