/* runtime/rt_files.h - private to libtensorc_rt: what npy.c, csv.c and
 * load.c share.  tcrt_load/tcrt_save (load.c) pick a format by extension
 * and call the readers and writers below; all of them report errors into
 * the caller's buffer, as "PATH: what is wrong". */
#ifndef TENSORC_RT_FILES_H
#define TENSORC_RT_FILES_H

#include "tensorc/runtime.h"

#include <stdbool.h>
#include <stdio.h>

/* Formats the error into err (if any) and returns `code`. */
int rt_file_error(char *err, size_t errsize, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The readers: *out gets a tcrt_alloc'd buffer on success. */
/* want: the declared dtype the data is converted to (TC_UNKNOWN: the
 * file's own, or rt_natural_dtype); a conversion writes a one-line warning
 * into `warning` (else it is ""). */
int rt_npy_read(const char *path, tc_dtype want, tc_array *out, char *warning, size_t warnsize, char *err,
                size_t errsize);
int rt_csv_read(const char *path, tc_array *out, char *err, size_t errsize);
/* The writers: they write to `f` (a temporary file the caller renames). */
int rt_npy_write(FILE *f, const char *path, const tc_array *a, char *err, size_t errsize);
int rt_csv_write(FILE *f, const char *path, const tc_array *a, char *err, size_t errsize);

/* cast.c: a file's element type (NumPy's kind and size, and byte order)
 * and its conversion into a runtime dtype, checked value by value. */
typedef struct RtFileType {
  char kind; /* 'b' bool, 'i' signed, 'u' unsigned integer, 'f' float */
  int size;  /* bytes per element */
  bool swap; /* big-endian data: bytes reversed when read */
} RtFileType;
bool rt_file_type_known(RtFileType t);       /* one of NumPy's bool, int8..uint64, float16..float64 */
const char *rt_numpy_name(RtFileType t);     /* "int16", "float32", "bool" */
const char *rt_numpy_dtype_name(tc_dtype d); /* np.int32's name for TC_I32 ("bool_" for TC_BOOL) */
tc_dtype rt_same_dtype(RtFileType t);        /* the runtime dtype with the same values, or TC_UNKNOWN */
tc_dtype rt_natural_dtype(RtFileType t);     /* what it loads as when no dtype is declared */
/* TC_OK when `from` data may become `to` (the values are checked by
 * rt_cast), else TC_ERR_INPUT with "PATH holds int16, expected bool (why;
 * the astype that would do it)" in err. */
int rt_cast_refused(RtFileType from, tc_dtype to, const char *path, char *err, size_t errsize);
/* Converts n elements at src into `to` at dst; returns n, or the index of
 * the first value `to` cannot hold exactly. */
int64_t rt_cast(RtFileType from, const void *src, tc_dtype to, void *dst, int64_t n);
void rt_cast_value_text(RtFileType from, const void *src, int64_t i, char *buf, size_t size);
float rt_half_to_float(uint16_t h);

/* Replaces each byte of s that is not printable ASCII with '?': for text
 * quoted from a corrupt file into a message. */
void rt_printable(char *s);

/* "(2, 3)", "(5,)", "()": Python's repr of a shape tuple, as in .npy headers. */
void rt_shape_repr(const int64_t *shape, int rank, char *buf, size_t size);

#endif
