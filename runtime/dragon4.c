/* runtime/dragon4.c - the digits of a float as NumPy prints them
 * (numpy/_core/src/multiarray/dragon4.c): Steele & White's Dragon4 with
 * Burger & Dybvig's free-format stopping rule, on exact big integers.  In
 * "unique" mode it stops at the shortest digit string that still rounds
 * back to the same float *of the array's type* (so a float32 0.1 prints as
 * 0.1, not 0.10000000149011612), optionally cut off after `precision`
 * digits and rounded there.  The margins follow IEEE round-half-even (a
 * boundary counts when the mantissa is even), as NumPy's do.
 * rt_format_positional / rt_format_scientific are NumPy's FormatPositional
 * / FormatScientific: where the point goes, trimming, padding.  print.c
 * (layer 1 of its three) is the only user.
 */
#include "rt_dragon4.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
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

static int highest_bit(uint64_t v) {
  int b = 0;
  while (v >>= 1)
    b++;
  return b;
}

FloatParts rt_float_parts(double v, int is_f32) {
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

/* The end of the fraction, after its `*frac` digits at out[..pos), as
 * NumPy's Dragon4 ends it: the point always shown (but for
 * TRIM_DPT_ZEROS), zeros up to min_digits (TRIM_NONE) or one zero
 * (TRIM_LEAVE_ONE_ZERO), then the zeros that rounding at the cutoff left
 * trimmed.  A point left bare by that trim goes for TRIM_DPT_ZEROS only in
 * positional form (NumPy's FormatScientific keeps it).  Returns the new
 * pos. */
static int end_fraction(char *out, int pos, int *frac, int precision, int min_digits, int trim,
                        bool positional) {
  if (trim != TRIM_DPT_ZEROS && *frac == 0)
    out[pos++] = '.';
  int want = min_digits < 0 ? 0 : min_digits;
  if (trim == TRIM_LEAVE_ONE_ZERO) {
    if (*frac == 0) {
      out[pos++] = '0';
      ++*frac;
    }
  } else if (trim == TRIM_NONE) {
    for (; *frac < want; ++*frac)
      out[pos++] = '0';
  }
  if (precision >= 0 && trim != TRIM_NONE && *frac > 0) {
    while (out[pos - 1] == '0') {
      pos--;
      --*frac;
    }
    if (out[pos - 1] == '.') {
      if (trim == TRIM_LEAVE_ONE_ZERO) {
        out[pos++] = '0';
        ++*frac;
      } else if (trim == TRIM_DPT_ZEROS && positional) {
        pos--;
      }
    }
  }
  return pos;
}

/* (rt_dragon4.h) */
int rt_format_positional(char *out, const FloatParts *p, int precision, int min_digits, int trim,
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
  pos = end_fraction(out, pos, &frac, precision, min_digits, trim, true);
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

/* (rt_dragon4.h) */
int rt_format_scientific(char *out, const FloatParts *p, int precision, int min_digits, int trim,
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
  pos = end_fraction(out, pos, &frac, precision, min_digits, trim, false);
  if (exp_digits > 5)
    exp_digits = 5;
  if (exp_digits < 0)
    exp_digits = 2;
  pos += sprintf(out + pos, "e%c%0*d", exp10 >= 0 ? '+' : '-', exp_digits, exp10 >= 0 ? exp10 : -exp10);
  return pos;
}
