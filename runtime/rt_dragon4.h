/* runtime/rt_dragon4.h - private to libtensorc_rt: NumPy's float digits
 * (dragon4.c), for the array printer (print.c). */
#ifndef TENSORC_RT_DRAGON4_H
#define TENSORC_RT_DRAGON4_H

#include <stdint.h>

/* A finite float as mantissa * 2^exponent, with what Dragon4 needs to know
 * about its neighbours. */
typedef struct FloatParts {
  uint64_t mantissa;
  int exponent;
  int mantissa_bit;    /* index of the mantissa's highest set bit */
  int unequal_margins; /* the gap below is half the gap above (a power of 2) */
  int negative;        /* the sign bit, so -0.0 counts */
} FloatParts;

FloatParts rt_float_parts(double v, int is_f32); /* v as a double, or the float32 it holds */

/* NumPy's trim modes: 'k' keep trailing zeros, '.' trim zeros keep the
 * point, '0' trim zeros but leave one after the point, '-' trim zeros and
 * the point. */
enum { TRIM_NONE, TRIM_ZEROS, TRIM_LEAVE_ONE_ZERO, TRIM_DPT_ZEROS };

#define DIGITS_MAX 128

/* NumPy's FormatPositional in unique mode: "123.45", padded with spaces to
 * pad_left characters before the point and pad_right after it (-1: none).
 * `out` must hold DIGITS_MAX + pad_left + pad_right + 8 bytes. */
int rt_format_positional(char *out, const FloatParts *p, int precision, int min_digits, int trim,
                         int pad_left, int pad_right);
/* NumPy's FormatScientific in unique mode: "1.5e-05"; `precision` and
 * `min_digits` count digits after the point; exp_digits is the least
 * number of exponent digits (-1: 2). */
int rt_format_scientific(char *out, const FloatParts *p, int precision, int min_digits, int trim,
                         int pad_left, int exp_digits);

#endif
