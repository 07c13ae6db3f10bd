/* runtime/cast.c - a file's element type into the runtime's dtypes.
 *
 * A .npy file may hold any of NumPy's bool, int8..int64, uint8..uint64,
 * float16..float64, in either byte order; a program declares one of bool,
 * i32, i64, f32, f64.  This file says what each file type is called (NumPy's
 * names, for messages), which conversions are made and which refused, and
 * converts the data, checking every value:
 *
 *   - the same dtype: no conversion (big-endian data is only byte-swapped);
 *   - bool to any dtype, an integer to a wider one, float16 or float32 to a
 *     wider float: always exact;
 *   - an integer to a narrower integer or to a float: converted when every
 *     value is held exactly, else an error naming the first that is not
 *     (i64 data past i32's range, 2^24 + 1 for f32);
 *   - a float to an integer or bool, float64 to f32, an integer to bool:
 *     refused whatever the values (they lose values or precision in
 *     general; NumPy's astype says what the user means).
 *
 * Every element passes through a long double, which holds any of these
 * values exactly (a 64-bit significand on x86, 113 bits elsewhere).
 */
#include "rt_files.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool rt_file_type_known(RtFileType t) {
  switch (t.kind) {
  case 'b': return t.size == 1;
  case 'i':
  case 'u': return t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8;
  case 'f': return t.size == 2 || t.size == 4 || t.size == 8;
  default: return false;
  }
}

const char *rt_numpy_name(RtFileType t) {
  static const char *const ints[] = {"int8", "int16", "", "int32", "", "", "", "int64"};
  static const char *const uints[] = {"uint8", "uint16", "", "uint32", "", "", "", "uint64"};
  static const char *const floats[] = {"", "float16", "", "float32", "", "", "", "float64"};
  if (!rt_file_type_known(t))
    return "an unknown type";
  return t.kind == 'b'   ? "bool"
         : t.kind == 'i' ? ints[t.size - 1]
         : t.kind == 'u' ? uints[t.size - 1]
                         : floats[t.size - 1];
}

const char *rt_numpy_dtype_name(tc_dtype d) {
  static const char *const names[] = {"", "bool_", "int32", "int64", "float32", "float64"};
  return d >= TC_BOOL && d <= TC_F64 ? names[d] : "unknown";
}

tc_dtype rt_same_dtype(RtFileType t) {
  if (t.kind == 'b' && t.size == 1)
    return TC_BOOL;
  if (t.kind == 'i' && (t.size == 4 || t.size == 8))
    return t.size == 4 ? TC_I32 : TC_I64;
  if (t.kind == 'f' && (t.size == 4 || t.size == 8))
    return t.size == 4 ? TC_F32 : TC_F64;
  return TC_UNKNOWN;
}

tc_dtype rt_natural_dtype(RtFileType t) {
  tc_dtype same = rt_same_dtype(t);
  return same ? same : t.kind == 'f' ? TC_F32 : TC_I64;
}

int rt_cast_refused(RtFileType from, tc_dtype to, const char *path, char *err, size_t errsize) {
  tc_dtype same = rt_same_dtype(from);
  bool to_int = to == TC_I32 || to == TC_I64;
  const char *why = NULL;
  if (same == to)
    return TC_OK;
  if (to == TC_BOOL && from.kind != 'b')
    why = "only bool data is bool";
  else if (from.kind == 'f' && to_int)
    why = "a float to an integer loses values";
  else if (from.kind == 'f' && from.size == 8 && to == TC_F32)
    why = "float64 to float32 loses precision";
  if (!why)
    return TC_OK;
  return rt_file_error(err, errsize, TC_ERR_INPUT,
                       "%s holds %s, expected %s (%s; save it with a.astype(np.%s) if that is meant)", path,
                       rt_numpy_name(from), tcrt_dtype_name(to), why, rt_numpy_dtype_name(to));
}

/* Element i of src, of type t, as a long double (exact for every type). */
static long double element(RtFileType t, const unsigned char *src, int64_t i) {
  unsigned char b[8];
  for (int k = 0; k < t.size; k++)
    b[k] = src[i * t.size + (t.swap ? t.size - 1 - k : k)];
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  float f32;
  double f64;
  switch (t.kind) {
  case 'b': return b[0] != 0;
  case 'i':
    switch (t.size) {
    case 1: memcpy(&i8, b, 1); return i8;
    case 2: memcpy(&i16, b, 2); return i16;
    case 4: memcpy(&i32, b, 4); return i32;
    default: memcpy(&i64, b, 8); return i64;
    }
  case 'u':
    switch (t.size) {
    case 1: memcpy(&u8, b, 1); return u8;
    case 2: memcpy(&u16, b, 2); return u16;
    case 4: memcpy(&u32, b, 4); return u32;
    default: memcpy(&u64, b, 8); return u64;
    }
  default:
    switch (t.size) {
    case 2: memcpy(&u16, b, 2); return rt_half_to_float(u16);
    case 4: memcpy(&f32, b, 4); return f32;
    default: memcpy(&f64, b, 8); return f64;
    }
  }
}

/* Stores v as element i of dst; false when `to` cannot hold v exactly. */
static bool store(tc_dtype to, void *dst, int64_t i, long double v) {
  switch (to) {
  case TC_BOOL: ((uint8_t *)dst)[i] = v != 0; return v == 0 || v == 1;
  case TC_I32:
    if (!(v >= INT32_MIN && v <= INT32_MAX))
      return false;
    ((int32_t *)dst)[i] = (int32_t)v;
    return true;
  case TC_I64:
    if (!(v >= -0x1p63L && v < 0x1p63L))
      return false;
    ((int64_t *)dst)[i] = (int64_t)v;
    return true;
  case TC_F32: ((float *)dst)[i] = (float)v; return isnan(v) || (long double)(float)v == v;
  default: ((double *)dst)[i] = (double)v; return isnan(v) || (long double)(double)v == v;
  }
}

int64_t rt_cast(RtFileType from, const void *src, tc_dtype to, void *dst, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (!store(to, dst, i, element(from, src, i)))
      return i;
  return n;
}

void rt_cast_value_text(RtFileType from, const void *src, int64_t i, char *buf, size_t size) {
  long double v = element(from, src, i);
  if (from.kind == 'f')
    snprintf(buf, size, "%.17Lg", v);
  else if (from.kind == 'u')
    snprintf(buf, size, "%llu", (unsigned long long)v);
  else
    snprintf(buf, size, "%lld", (long long)v);
}

float rt_half_to_float(uint16_t h) {
  int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v = exp == 0    ? ldexpf((float)mant, -24)
            : exp == 31 ? (mant ? NAN : INFINITY)
                        : ldexpf((float)(mant | 0x400), exp - 25);
  return (h & 0x8000) ? -v : v;
}
