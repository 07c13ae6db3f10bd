/* runtime/print.c - NumPy's text for arrays: str(a) under the default print
 * options (threshold=1000, edgeitems=3, linewidth=75, precision=8,
 * floatmode='maxprec', suppress=False, sign='-'), byte for byte.
 *
 * Three layers, each a transcription of the NumPy code that does the same
 * job, because "close to NumPy" is not good enough for a test oracle:
 *
 *  1. Digits (numpy/_core/src/multiarray/dragon4.c): Steele & White's
 *     Dragon4 with Burger & Dybvig's free-format stopping rule, on exact big
 *     integers.  In "unique" mode it stops at the shortest digit string that
 *     still rounds back to the same float *of the array's type* (so a float32
 *     0.1 prints as 0.1, not 0.10000000149011612), optionally cut off after
 *     `precision` digits and rounded there.  The margins follow IEEE
 *     round-half-even (a boundary counts when the mantissa is even), as
 *     NumPy's do.  format_positional / format_scientific are NumPy's
 *     FormatPositional / FormatScientific: where the point goes, trimming,
 *     padding.
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
#include "rt_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- big unsigned integers (just what Dragon4 needs) ---------- */

/* The largest number Dragon4 meets for a double is about 2^1100 (the
 * smallest subnormal's scale 2^1076, times 10 in the digit loop). */
#define BIG_BLOCKS 40

typedef struct Big {
  int n;                  /* blocks in use; 0 is the number zero */
  uint32_t b[BIG_BLOCKS]; /* little-endian base 2^32 */
} Big;

static void big_set(Big *x, uint64_t v) {
  x->n = 0;
  while (v) {
    x->b[x->n++] = (uint32_t)v;
    v >>= 32;
  }
}

static int big_cmp(const Big *x, const Big *y) {
  if (x->n != y->n)
    return x->n < y->n ? -1 : 1;
  for (int i = x->n - 1; i >= 0; i--)
    if (x->b[i] != y->b[i])
      return x->b[i] < y->b[i] ? -1 : 1;
  return 0;
}

static void big_shl(Big *x, int bits) {
  if (x->n == 0 || bits == 0)
    return;
  int words = bits / 32, sh = bits % 32;
  int n = x->n + words + 1;
  for (int i = n - 1; i >= 0; i--) {
    int src = i - words;
    uint64_t hi = src >= 0 && src < x->n ? x->b[src] : 0;
    uint64_t lo = src - 1 >= 0 && src - 1 < x->n ? x->b[src - 1] : 0;
    x->b[i] = sh ? (uint32_t)((hi << sh) | (lo >> (32 - sh))) : (uint32_t)hi;
  }
  x->n = n;
  while (x->n > 0 && x->b[x->n - 1] == 0)
    x->n--;
}

static void big_pow2(Big *x, int e) {
  big_set(x, 1);
  big_shl(x, e);
}

static void big_mul_small(Big *x, uint32_t m) {
  uint64_t carry = 0;
  for (int i = 0; i < x->n; i++) {
    uint64_t p = (uint64_t)x->b[i] * m + carry;
    x->b[i] = (uint32_t)p;
    carry = p >> 32;
  }
  if (carry)
    x->b[x->n++] = (uint32_t)carry;
}

static void big_mul_pow10(Big *x, int e) {
  for (; e >= 9; e -= 9)
    big_mul_small(x, 1000000000u);
  static const uint32_t small[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  if (e > 0)
    big_mul_small(x, small[e]);
}

static void big_add(Big *out, const Big *x, const Big *y) {
  const Big *l = x->n >= y->n ? x : y, *s = x->n >= y->n ? y : x;
  uint64_t carry = 0;
  for (int i = 0; i < l->n; i++) {
    uint64_t v = (uint64_t)l->b[i] + (i < s->n ? s->b[i] : 0) + carry;
    out->b[i] = (uint32_t)v;
    carry = v >> 32;
  }
  out->n = l->n;
  if (carry)
    out->b[out->n++] = (uint32_t)carry;
}

/* x -= y, where x >= y. */
static void big_sub(Big *x, const Big *y) {
  int64_t borrow = 0;
  for (int i = 0; i < x->n; i++) {
    int64_t v = (int64_t)x->b[i] - (i < y->n ? y->b[i] : 0) - borrow;
    borrow = v < 0;
    x->b[i] = (uint32_t)(v + (borrow << 32));
  }
  while (x->n > 0 && x->b[x->n - 1] == 0)
    x->n--;
}

/* The next digit: x / scale (always below 10 here), leaving x % scale.
 * Repeated subtraction is plenty for at most 9 steps. */
static int big_divmod_digit(Big *x, const Big *scale) {
  int d = 0;
  while (big_cmp(x, scale) >= 0) {
    big_sub(x, scale);
    d++;
  }
  return d;
}

/* ---------- Dragon4 ---------- */

/* A finite float as mantissa * 2^exponent, with what Dragon4 needs to know
 * about its neighbours. */
typedef struct FloatParts {
  uint64_t mantissa;
  int exponent;
  int mantissa_bit;    /* index of the mantissa's highest set bit */
  int unequal_margins; /* the gap below is half the gap above (a power of 2) */
  int negative;        /* the sign bit, so -0.0 counts */
} FloatParts;

static int highest_bit(uint64_t v) {
  int b = 0;
  while (v >>= 1)
    b++;
  return b;
}

static FloatParts float_parts(double v, int is_f32) {
  FloatParts p;
  uint64_t frac;
  int bexp, mbits, bias;
  if (is_f32) {
    float f = (float)v;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    p.negative = bits >> 31;
    frac = bits & 0x7fffff;
    bexp = (bits >> 23) & 0xff;
    mbits = 23;
    bias = 127;
  } else {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    p.negative = (int)(bits >> 63);
    frac = bits & 0xfffffffffffffull;
    bexp = (int)((bits >> 52) & 0x7ff);
    mbits = 52;
    bias = 1023;
  }
  if (bexp != 0) {
    p.mantissa = frac | ((uint64_t)1 << mbits);
    p.exponent = bexp - bias - mbits;
    p.mantissa_bit = mbits;
    p.unequal_margins = bexp != 1 && frac == 0;
  } else {
    p.mantissa = frac;
    p.exponent = 1 - bias - mbits;
    p.mantissa_bit = frac ? highest_bit(frac) : 0;
    p.unequal_margins = 0;
  }
  return p;
}

/* Where a cutoff counts from: digits after the point, or digits in all. */
enum { CUTOFF_TOTAL, CUTOFF_FRACTION };

/* Writes the shortest unique digits of `p` (no point, no sign) to `out`
 * and the decimal exponent of the first one to *out_exp; returns how many.
 * cutoff_max >= 0 stops after that many digits (rounding there);
 * cutoff_min >= 0 forces at least that many.  NumPy's Dragon4() in
 * DigitMode_Unique, step for step. */
static int dragon4(const FloatParts *p, int cutoff_mode, int cutoff_max, int cutoff_min, char *out,
                   int bufsize, int *out_exp) {
  if (p->mantissa == 0) {
    out[0] = '0';
    *out_exp = 0;
    return 1;
  }
  /* 1. value = scaled_value / scale; the margins are half the distance to
   *    the neighbouring floats, on the same scale (times 2 throughout so
   *    that they stay integers). */
  Big scale, value, mlow, mhigh, vhigh;
  int is_even = (p->mantissa & 1) == 0;
  int unequal = p->unequal_margins;
  big_set(&value, p->mantissa);
  /* Unequal margins (a power of two) need one more bit of precision. */
  int shift = unequal ? 2 : 1;
  if (p->exponent > 0) {
    big_shl(&value, p->exponent + shift);
    big_set(&scale, 1u << shift);
    big_pow2(&mlow, p->exponent);
  } else {
    big_shl(&value, shift);
    big_pow2(&scale, -p->exponent + shift);
    big_set(&mlow, 1);
  }
#define SET_MHIGH()                                                                                          \
  do {                                                                                                       \
    mhigh = mlow;                                                                                            \
    if (unequal)                                                                                             \
      big_mul_small(&mhigh, 2);                                                                              \
  } while (0)
  SET_MHIGH();

  /* 2. Estimate the first digit's exponent (exact or one too low), move
   *    it to just below a fractional cutoff that the value cannot reach,
   *    and divide the value by 10^digit_exp. */
  const double log10_2 = 0.30102999566398119521373889472449;
  int digit_exp = (int)ceil((double)(p->mantissa_bit + p->exponent) * log10_2 - 0.69);
  if (cutoff_max >= 0 && cutoff_mode == CUTOFF_FRACTION && digit_exp <= -cutoff_max)
    digit_exp = -cutoff_max + 1;
  if (digit_exp > 0) {
    big_mul_pow10(&scale, digit_exp);
  } else if (digit_exp < 0) {
    big_mul_pow10(&value, -digit_exp);
    big_mul_pow10(&mlow, -digit_exp);
    SET_MHIGH();
  }
  if (big_cmp(&value, &scale) >= 0) {
    digit_exp++;
  } else {
    big_mul_small(&value, 10);
    big_mul_small(&mlow, 10);
    SET_MHIGH();
  }

  /* 3. The cutoffs, as exponents of the last digit allowed / required. */
  int cut_max_exp = digit_exp - bufsize;
  if (cutoff_max >= 0) {
    int d = cutoff_mode == CUTOFF_TOTAL ? digit_exp - cutoff_max : -cutoff_max;
    if (d > cut_max_exp)
      cut_max_exp = d;
  }
  int cut_min_exp = digit_exp;
  if (cutoff_min >= 0) {
    int d = cutoff_mode == CUTOFF_TOTAL ? digit_exp - cutoff_min : -cutoff_min;
    if (d < cut_min_exp)
      cut_min_exp = d;
  }
  *out_exp = digit_exp - 1;

  /* 4. Digits until the rest is inside a margin (either neighbour would
   *    read back as a different float) or a cutoff is reached. */
  int n = 0, digit, low, high, c;
  for (;;) {
    digit_exp--;
    digit = big_divmod_digit(&value, &scale);
    big_add(&vhigh, &value, &mhigh);
    c = big_cmp(&value, &mlow);
    low = is_even ? c <= 0 : c < 0;
    c = big_cmp(&vhigh, &scale);
    high = is_even ? c >= 0 : c > 0;
    if (((low | high) & (digit_exp <= cut_min_exp)) | (digit_exp == cut_max_exp))
      break;
    out[n++] = (char)('0' + digit);
    big_mul_small(&value, 10);
    big_mul_small(&mlow, 10);
    SET_MHIGH();
  }
#undef SET_MHIGH

  /* 5. Round the last digit: towards the side whose margin we are in, or
   *    to nearest (ties to an even digit) when both or neither. */
  int round_down = low;
  if (low == high) {
    big_mul_small(&value, 2);
    c = big_cmp(&value, &scale);
    round_down = c < 0;
    if (c == 0)
      round_down = (digit & 1) == 0;
  }
  if (round_down) {
    out[n++] = (char)('0' + digit);
  } else if (digit == 9) {
    /* carry into the previous digits, dropping the nines */
    for (;;) {
      if (n == 0) {
        out[n++] = '1';
        *out_exp += 1;
        break;
      }
      n--;
      if (out[n] != '9') {
        out[n]++;
        n++;
        break;
      }
    }
  } else {
    out[n++] = (char)('0' + digit + 1);
  }
  return n;
}

/* NumPy's trim modes: 'k' keep trailing zeros, '.' trim zeros keep the
 * point, '0' trim zeros but leave one after the point, '-' trim zeros and
 * the point. */
enum { TRIM_NONE, TRIM_ZEROS, TRIM_LEAVE_ONE_ZERO, TRIM_DPT_ZEROS };

#define DIGITS_MAX 128

/* NumPy's FormatPositional in unique mode: "123.45", padded with spaces to
 * pad_left characters before the point and pad_right after it (-1: none).
 * `out` must hold DIGITS_MAX + pad_left + pad_right + 8 bytes. */
static int format_positional(char *out, const FloatParts *p, int precision, int min_digits, int trim,
                             int pad_left, int pad_right) {
  char digits[DIGITS_MAX];
  int exp10, pos = 0, has_sign = 0;
  if (p->negative) {
    out[pos++] = '-';
    has_sign = 1;
  }
  int nd = dragon4(p, CUTOFF_FRACTION, precision, min_digits, digits, DIGITS_MAX, &exp10);
  int whole = 0, frac = 0;
  if (exp10 >= 0) {
    /* digits before the point, then zeros up to it, then the fraction */
    whole = exp10 + 1;
    if (nd <= whole) {
      memcpy(out + pos, digits, (size_t)nd);
      pos += nd;
      for (int i = nd; i < whole; i++)
        out[pos++] = '0';
    } else {
      memcpy(out + pos, digits, (size_t)whole);
      pos += whole;
      out[pos++] = '.';
      frac = nd - whole;
      memcpy(out + pos, digits + whole, (size_t)frac);
      pos += frac;
    }
  } else {
    /* "0." then leading zeros of the fraction */
    out[pos++] = '0';
    out[pos++] = '.';
    int zeros = -(exp10 + 1);
    for (int i = 0; i < zeros; i++)
      out[pos++] = '0';
    memcpy(out + pos, digits, (size_t)nd);
    pos += nd;
    frac = zeros + nd;
    whole = 1;
  }
  if (trim != TRIM_DPT_ZEROS && frac == 0 && out[pos - 1] != '.')
    out[pos++] = '.';
  int want = min_digits < 0 ? 0 : min_digits;
  if (trim == TRIM_LEAVE_ONE_ZERO) {
    if (frac == 0) {
      out[pos++] = '0';
      frac++;
    }
  } else if (trim == TRIM_NONE && want > frac) {
    for (; frac < want; frac++)
      out[pos++] = '0';
  }
  /* rounding at the cutoff can leave trailing zeros */
  if (precision >= 0 && trim != TRIM_NONE && frac > 0) {
    while (out[pos - 1] == '0') {
      pos--;
      frac--;
    }
    if (out[pos - 1] == '.') {
      if (trim == TRIM_LEAVE_ONE_ZERO) {
        out[pos++] = '0';
        frac++;
      } else if (trim == TRIM_DPT_ZEROS) {
        pos--;
      }
    }
  }
  if (pad_right >= frac) {
    int count = pad_right - frac;
    if (trim == TRIM_DPT_ZEROS && frac == 0)
      out[pos++] = ' ';
    for (; count > 0; count--)
      out[pos++] = ' ';
  }
  if (pad_left > whole + has_sign) {
    int shift = pad_left - (whole + has_sign);
    memmove(out + shift, out, (size_t)pos);
    memset(out, ' ', (size_t)shift);
    pos += shift;
  }
  out[pos] = '\0';
  return pos;
}

/* NumPy's FormatScientific in unique mode: "1.5e-05"; `precision` and
 * `min_digits` count digits after the point; exp_digits is the least
 * number of exponent digits (-1: 2). */
static int format_scientific(char *out, const FloatParts *p, int precision, int min_digits, int trim,
                             int pad_left, int exp_digits) {
  char digits[DIGITS_MAX];
  int exp10, pos = 0;
  int leftchars = 1 + p->negative;
  for (int i = 0; i < pad_left - leftchars; i++)
    out[pos++] = ' ';
  if (p->negative)
    out[pos++] = '-';
  int nd = dragon4(p, CUTOFF_TOTAL, precision < 0 ? -1 : precision + 1, min_digits < 0 ? -1 : min_digits + 1,
                   digits, DIGITS_MAX, &exp10);
  out[pos++] = digits[0];
  int frac = nd - 1;
  if (frac > 0) {
    out[pos++] = '.';
    memcpy(out + pos, digits + 1, (size_t)frac);
    pos += frac;
  }
  if (trim != TRIM_DPT_ZEROS && frac == 0)
    out[pos++] = '.';
  int want = min_digits < 0 ? 0 : min_digits;
  if (trim == TRIM_LEAVE_ONE_ZERO) {
    if (frac == 0) {
      out[pos++] = '0';
      frac++;
    }
  } else if (trim == TRIM_NONE) {
    for (; frac < want; frac++)
      out[pos++] = '0';
  }
  if (precision >= 0 && trim != TRIM_NONE && frac > 0) {
    while (out[pos - 1] == '0') {
      pos--;
      frac--;
    }
    if (trim == TRIM_LEAVE_ONE_ZERO && out[pos - 1] == '.') {
      out[pos++] = '0';
      frac++;
    }
  }
  if (exp_digits > 5)
    exp_digits = 5;
  if (exp_digits < 0)
    exp_digits = 2;
  pos += sprintf(out + pos, "e%c%0*d", exp10 >= 0 ? '+' : '-', exp_digits, exp10 >= 0 ? exp10 : -exp10);
  return pos;
}

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
  FloatParts p = float_parts(v, is_f32);
  long double a = fabsl((long double)v);
  int positional = v == 0 || (a < (is_f32 ? 1.e6L : 1.e16L) && a >= 1.e-4L);
  if (positional)
    return format_positional(out, &p, -1, -1, TRIM_LEAVE_ONE_ZERO, -1, -1);
  return format_scientific(out, &p, -1, -1, TRIM_DPT_ZEROS, -1, -1);
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
    FloatParts p = float_parts(v, f->dtype == TC_F32);
    if (f->exp_format)
      return format_scientific(out, &p, f->precision, f->min_digits, f->trim, f->pad_left, f->exp_size);
    return format_positional(out, &p, f->precision, f->min_digits, f->trim, f->pad_left, f->pad_right);
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
      FloatParts p = float_parts(v, is_f32);
      format_scientific(s, &p, 8, -1, TRIM_ZEROS, -1, -1);
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
      FloatParts p = float_parts(v, is_f32);
      format_positional(s, &p, 8, -1, TRIM_ZEROS, -1, -1);
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
  if (sep)
    fputc(' ', stdout);
  fputs(s, stdout);
}

void tcrt_print_array(const tc_array *a, int sep) {
  char *s = tcrt_format(a);
  /* Out of memory while printing: say so in the output rather than fail
   * the program over a diagnostic line. */
  tcrt_print_str(s ? s : "<out of memory>", sep);
  free(s);
}

void tcrt_print_end(void) { fputc('\n', stdout); }
