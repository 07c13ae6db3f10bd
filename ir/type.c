/* ir/type.c - dtypes, devices and the type of a value.
 *
 * A type is a kind (unknown, none, tensor, tuple); a tensor type adds a
 * dtype, a shape of symbolic dims (dim.c), a device and the `weak` flag of
 * Python scalars.  Types are plain structs compared field by field; the
 * constructors zero every byte first so that two equal types also compare
 * equal with memcmp.  The text forms here are the ones every dump and
 * diagnostic uses: "f32[N, 64]", "i64" (a scalar), "f32[N]@cuda", "none",
 * "tuple<2>".  Weak scalars print like any other scalar.
 */
#include "ir.h"

#include <string.h>

static const char *const dtype_names[] = {
    [DT_UNKNOWN] = "?", [DT_BOOL] = "bool", [DT_I32] = "i32",
    [DT_I64] = "i64",   [DT_F32] = "f32",   [DT_F64] = "f64",
};
#define NDTYPES ((int)(sizeof dtype_names / sizeof dtype_names[0]))

const char *ir_dtype_name(DType dt) {
  return (int)dt >= 0 && (int)dt < NDTYPES ? dtype_names[dt] : "?";
}

DType ir_dtype_from_name(const char *name) {
  if (!name)
    return DT_UNKNOWN;
  for (int i = 1; i < NDTYPES; i++)
    if (strcmp(name, dtype_names[i]) == 0)
      return (DType)i;
  return DT_UNKNOWN;
}

/* The dtype two compared operands are converted to (lower and simplify
 * must agree): a float over an integer, else the wider. */
DType ir_dtype_compared(DType a, DType b) {
  if (a == b)
    return a;
  bool fa = ir_dtype_is_float(a), fb = ir_dtype_is_float(b);
  if (fa != fb)
    return fa ? a : b;
  return a > b ? a : b;
}

int ir_dtype_size(DType dt) { return dt == DT_BOOL ? 1 : dt == DT_I32 || dt == DT_F32 ? 4 : 8; }

bool ir_dtype_is_float(DType dt) { return dt == DT_F32 || dt == DT_F64; }
bool ir_dtype_is_int(DType dt) { return dt == DT_I32 || dt == DT_I64; }

/* DEV_DEFAULT has no name: "wherever the function runs" is not printed. */
const char *ir_device_name(Device d) {
  switch (d) {
  case DEV_CPU:
    return "cpu";
  case DEV_CUDA:
    return "cuda";
  default:
    return "";
  }
}

IrType ir_type_tensor(DType dt, int rank, const Dim *dims) {
  if (rank < 0 || rank > IR_MAX_RANK)
    ir_die((Loc){0}, "ir_type_tensor: rank %d", rank);
  IrType t;
  memset(&t, 0, sizeof t);
  t.kind = TY_TENSOR;
  t.dtype = dt;
  t.rank = rank;
  for (int i = 0; i < rank; i++)
    t.dims[i] = dims[i];
  for (int i = rank; i < IR_MAX_RANK; i++)
    t.dims[i] = dim_const(0);
  return t;
}

IrType ir_type_scalar(DType dt) { return ir_type_tensor(dt, 0, NULL); }

bool ir_shape_eq(const IrType *a, const IrType *b) {
  if (a->rank != b->rank || a->rank < 0 || a->rank > IR_MAX_RANK)
    return false;
  for (int i = 0; i < a->rank; i++)
    if (!dim_eq(a->dims[i], b->dims[i]))
      return false;
  return true;
}

int ir_type_axis(const IrType *t, Dim d) {
  for (int k = 0; t->kind == TY_TENSOR && k < t->rank; k++)
    if (dim_eq(t->dims[k], d))
      return k;
  return -1;
}

bool ir_type_eq(const IrType *a, const IrType *b) {
  if (a->kind != b->kind)
    return false;
  switch (a->kind) {
  case TY_TENSOR:
    return a->dtype == b->dtype && a->device == b->device && ir_shape_eq(a, b);
  case TY_TUPLE:
    return a->ntuple == b->ntuple;
  default:
    return true;
  }
}

/* Appends to a fixed buffer, truncating (never overflowing). */
typedef struct Out {
  char *p;
  size_t size, len;
} Out;

static void put(Out *o, const char *s) {
  while (*s) {
    if (o->len + 1 < o->size)
      o->p[o->len++] = *s;
    s++;
  }
  if (o->size)
    o->p[o->len] = 0;
}

static void put_shape(Out *o, const IrType *t) {
  char dbuf[128];
  put(o, "[");
  for (int i = 0; i < t->rank; i++) {
    if (i)
      put(o, ", ");
    put(o, dim_format(t->dims[i], dbuf, sizeof dbuf));
  }
  put(o, "]");
}

char *ir_shape_format(const IrType *t, char *buf, size_t size) {
  Out o = {buf, size, 0};
  if (size)
    buf[0] = 0;
  if (t->kind != TY_TENSOR || t->rank < 0 || t->rank > IR_MAX_RANK)
    put(&o, "[?]");
  else
    put_shape(&o, t);
  return buf;
}

char *ir_type_format(const IrType *t, char *buf, size_t size) {
  Out o = {buf, size, 0};
  if (size)
    buf[0] = 0;
  switch (t->kind) {
  case TY_UNKNOWN:
    put(&o, "?");
    break;
  case TY_NONE:
    put(&o, "none");
    break;
  case TY_TUPLE: {
    char n[32];
    snprintf(n, sizeof n, "tuple<%d>", t->ntuple);
    put(&o, n);
    break;
  }
  case TY_TENSOR:
    put(&o, ir_dtype_name(t->dtype));
    if (t->rank < 0 || t->rank > IR_MAX_RANK)
      put(&o, "[?]");
    else if (t->rank > 0)
      put_shape(&o, t);
    if (t->device != DEV_DEFAULT) {
      put(&o, "@");
      put(&o, ir_device_name(t->device));
    }
    break;
  default:
    put(&o, "?");
  }
  return buf;
}
