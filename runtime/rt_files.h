/* runtime/rt_files.h - private to libtensorc_rt: what npy.c, csv.c and
 * load.c share.  tcrt_load/tcrt_save (load.c) pick a format by extension
 * and call the readers and writers below; all of them report errors into
 * the caller's buffer, as "PATH: what is wrong". */
#ifndef TENSORC_RT_FILES_H
#define TENSORC_RT_FILES_H

#include "tensorc/runtime.h"

#include <stdio.h>

/* Formats the error into err (if any) and returns `code`. */
int rt_file_error(char *err, size_t errsize, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The readers: *out gets a tcrt_alloc'd buffer on success. */
int rt_npy_read(const char *path, tc_array *out, const char **warning, char *err, size_t errsize);
int rt_csv_read(const char *path, tc_array *out, char *err, size_t errsize);
/* The writers: they write to `f` (a temporary file the caller renames). */
int rt_npy_write(FILE *f, const char *path, const tc_array *a, char *err, size_t errsize);
int rt_csv_write(FILE *f, const char *path, const tc_array *a, char *err, size_t errsize);

/* Replaces each byte of s that is not printable ASCII with '?': for text
 * quoted from a corrupt file into a message. */
void rt_printable(char *s);

/* "(2, 3)", "(5,)", "()": Python's repr of a shape tuple, as in .npy headers. */
void rt_shape_repr(const int64_t *shape, int rank, char *buf, size_t size);

#endif
