/* runtime/npy.c - NumPy's .npy files: read versions 1.0, 2.0 and 3.0,
 * write version 1.0 exactly as numpy.save does.
 *
 * A .npy file is the magic "\x93NUMPY", a major and a minor version byte,
 * the header's length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and
 * 3.0), the header, then the raw data.  The header is the text of a Python
 * dict literal, {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), },
 * padded with spaces and a newline so that the data starts at a multiple of
 * 64 bytes; 3.0 differs from 2.0 only in allowing UTF-8 in it.
 *
 * Reading does not evaluate Python: a small parser takes the dict apart
 * (any key order, any spacing, trailing commas, Python 2's 3L, unknown keys
 * skipped), so a hostile header can only be rejected.  Every way a file can
 * be wrong gives TC_ERR_INPUT and one line "PATH: what is wrong" (the list
 * is in docs/runtime.md "Files").  The data size the header implies is
 * checked against the file's size before anything is allocated, so a
 * corrupt shape cannot ask for terabytes.
 *
 * Data is read straight into the result buffer when the file holds the
 * dtype asked for (the declared one, or the file's own); other types and
 * big-endian data are read in chunks and converted by cast.c, every value
 * checked.  Fortran-order data is reordered into C order once read.
 */
#include "rt_files.h"
#include "rt_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c reads and writes little-endian data in place: port it before using a big-endian host"
#endif

#define MAX_HEADER (1 << 20) /* numpy refuses 10000 by default; ours only guards the allocation */

/* ===== dtypes ===== */

/* The descr written for each runtime dtype (indexed by tc_dtype). */
static const char *const descr_of[] = {"", "|b1", "<i4", "<i8", "<f4", "<f8"};

/* Why a kind of dtype is refused, for the ones NumPy has and we do not. */
static const char *unsupported_kind(char kind) {
  switch (kind) {
  case 'O': return "object arrays are not supported";
  case 'U': return "unicode string arrays are not supported";
  case 'S': case 'a': return "byte string arrays are not supported";
  case 'V': return "void and structured arrays are not supported";
  case 'c': return "complex arrays are not supported";
  case 'M': case 'm': return "datetime arrays are not supported";
  default: return "it is not a dtype this runtime reads";
  }
}

/* The file type of a descr string such as "<f4"; else writes why not. */
static int lookup_descr(const char *path, const char *s, size_t len, RtFileType *type, char *err,
                        size_t errsize) {
  char descr[32];
  snprintf(descr, sizeof descr, "%.*s", (int)(len < 31 ? len : 31), s);
  rt_printable(descr);
  size_t i = 0;
  char order = '=';
  if (len > 0 && strchr("<>|=", s[0]))
    order = s[i++];
  char kind = i < len ? s[i++] : '\0';
  int size = 0;
  int digits = 0;
  while (i < len && s[i] >= '0' && s[i] <= '9' && size < 1000)
    size = size * 10 + (s[i++] - '0'), digits++;
  if (i != len || !digits)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: unsupported dtype '%s' (%s)", path, descr,
                         unsupported_kind(kind));
  /* big-endian data is byte-swapped as it is read (cast.c) */
  *type = (RtFileType){kind, size, order == '>' && size > 1};
  if (rt_file_type_known(*type))
    return TC_OK;
  if (strchr("fiub", kind))
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: unsupported dtype '%s' (no %d-byte %s type)", path,
                         descr, size,
                         kind == 'f'   ? "float"
                         : kind == 'b' ? "bool"
                                       : "integer");
  return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: unsupported dtype '%s' (%s)", path, descr,
                       unsupported_kind(kind));
}

/* ===== the header's dict literal ===== */

typedef enum { V_STR, V_BOOL, V_NONE, V_INT, V_TUPLE, V_LIST, V_DICT, V_MISSING } ValueKind;

/* One parsed Python literal; containers keep only what the header needs. */
typedef struct Value {
  ValueKind kind;
  const char *str; /* V_STR: the contents, not NUL-terminated */
  size_t len;
  int64_t num;                  /* V_INT; V_BOOL: 0 or 1 */
  int overflow;                 /* V_INT beyond 2^62; V_TUPLE: an item is */
  int nitems;                   /* V_TUPLE: number of items */
  int all_ints;                 /* V_TUPLE: every item an int in range */
  int64_t items[TC_MAX_RANK];   /* V_TUPLE: the first TC_MAX_RANK items */
} Value;

typedef struct Parser {
  const char *p, *end;
  const char *why; /* the first syntax error */
} Parser;

static void skip_space(Parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int fail_parse(Parser *ps, const char *why) {
  if (!ps->why)
    ps->why = why;
  return -1;
}

static int accept(Parser *ps, char c) {
  skip_space(ps);
  if (ps->p < ps->end && *ps->p == c) {
    ps->p++;
    return 1;
  }
  return 0;
}

static int parse_value(Parser *ps, Value *v, int depth);

/* value (',' value)* [','] close -- after the opening bracket. */
static int parse_items(Parser *ps, Value *v, char close, int depth) {
  v->nitems = 0;
  v->all_ints = 1;
  while (!accept(ps, close)) {
    Value item;
    if (parse_value(ps, &item, depth + 1))
      return -1;
    if (item.kind != V_INT)
      v->all_ints = 0;
    else if (item.overflow)
      v->overflow = 1; /* a dimension past 2^62: too large, said below */
    else if (v->nitems < TC_MAX_RANK)
      v->items[v->nitems] = item.num;
    if (v->nitems < 1000000)
      v->nitems++;
    if (accept(ps, close))
      break;
    if (!accept(ps, ','))
      return fail_parse(ps, close == ')' ? "expected ',' or ')' in a tuple" : "expected ',' in a list");
  }
  return 0;
}

static int parse_dict_body(Parser *ps, int depth, Value *descr, Value *fortran, Value *shape);

static int parse_value(Parser *ps, Value *v, int depth) {
  memset(v, 0, sizeof *v);
  if (depth > 32)
    return fail_parse(ps, "nested too deeply");
  skip_space(ps);
  if (ps->p >= ps->end)
    return fail_parse(ps, "unexpected end of the header");
  char c = *ps->p;
  /* Strings, with Python 2's u'' and b'' prefixes. */
  if ((c == 'u' || c == 'b') && ps->p + 1 < ps->end && (ps->p[1] == '\'' || ps->p[1] == '"'))
    c = *++ps->p;
  if (c == '\'' || c == '"') {
    const char *start = ++ps->p;
    while (ps->p < ps->end && *ps->p != c) {
      if (*ps->p == '\\')
        ps->p++;
      ps->p++;
    }
    if (ps->p >= ps->end)
      return fail_parse(ps, "unterminated string");
    v->kind = V_STR;
    v->str = start;
    v->len = (size_t)(ps->p - start);
    ps->p++;
    return 0;
  }
  if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
    int neg = c == '-';
    if (c == '-' || c == '+')
      ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
      return fail_parse(ps, "expected a digit");
    uint64_t x = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
      unsigned d = (unsigned)(*ps->p++ - '0');
      if (x > (UINT64_C(1) << 62) / 10)
        v->overflow = 1; /* anything past 2^62 is no size we could hold */
      else
        x = x * 10 + d;
    }
    if (ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l'))
      ps->p++; /* Python 2 long */
    v->kind = V_INT;
    v->num = neg ? -(int64_t)x : (int64_t)x;
    return 0;
  }
  if (c == '(' || c == '[') {
    ps->p++;
    v->kind = c == '(' ? V_TUPLE : V_LIST;
    return parse_items(ps, v, c == '(' ? ')' : ']', depth);
  }
  if (c == '{') {
    ps->p++;
    v->kind = V_DICT;
    Value ignored[3];
    return parse_dict_body(ps, depth + 1, &ignored[0], &ignored[1], &ignored[2]);
  }
  static const struct { const char *word; ValueKind kind; int num; } words[] = {
      {"True", V_BOOL, 1}, {"False", V_BOOL, 0}, {"None", V_NONE, 0}};
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(words[i].word);
    if ((size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, words[i].word, n)) {
      ps->p += n;
      v->kind = words[i].kind;
      v->num = words[i].num;
      return 0;
    }
  }
  return fail_parse(ps, "unexpected character");
}

/* key ':' value (',' key ':' value)* [','] '}' -- after the '{'.  The three
 * keys we know are copied out (the last one wins, as in Python). */
static int parse_dict_body(Parser *ps, int depth, Value *descr, Value *fortran, Value *shape) {
  while (!accept(ps, '}')) {
    Value key, val;
    if (parse_value(ps, &key, depth))
      return -1;
    if (key.kind != V_STR)
      return fail_parse(ps, "a key is not a string");
    if (!accept(ps, ':'))
      return fail_parse(ps, "expected ':' after a key");
    if (parse_value(ps, &val, depth))
      return -1;
    if (key.len == 5 && !memcmp(key.str, "descr", 5))
      *descr = val;
    else if (key.len == 13 && !memcmp(key.str, "fortran_order", 13))
      *fortran = val;
    else if (key.len == 5 && !memcmp(key.str, "shape", 5))
      *shape = val;
    if (accept(ps, '}'))
      break;
    if (!accept(ps, ','))
      return fail_parse(ps, "expected ',' or '}' after a value");
  }
  return 0;
}

/* ===== reading ===== */

/* The header, parsed and checked. */
typedef struct NpyHeader {
  RtFileType type;
  bool fortran; /* the data is in Fortran order (reordered when read) */
  int rank;
  int64_t shape[TC_MAX_RANK];
  int64_t numel;
} NpyHeader;

static int parse_header(const char *path, const char *text, size_t len, NpyHeader *h, char *err, size_t errsize) {
  Parser ps = {text, text + len, NULL};
  Value descr, fortran, shape;
  descr.kind = fortran.kind = shape.kind = V_MISSING; /* until the key is seen */
  int bad = !accept(&ps, '{') ? fail_parse(&ps, "the header does not start with '{'")
                              : parse_dict_body(&ps, 0, &descr, &fortran, &shape);
  skip_space(&ps);
  if (!bad && ps.p != ps.end)
    bad = fail_parse(&ps, "text after the closing '}'");
  if (bad)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot parse the .npy header (%s at byte %d of it)", path,
                         ps.why, (int)(ps.p - text));
  if (descr.kind == V_MISSING || fortran.kind == V_MISSING || shape.kind == V_MISSING)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: the .npy header has no '%s'", path,
                         descr.kind == V_MISSING ? "descr" : fortran.kind == V_MISSING ? "fortran_order" : "shape");
  /* 1. dtype */
  if (descr.kind == V_LIST)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: structured arrays (a list of fields as descr) are not supported",
                         path);
  if (descr.kind != V_STR)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: the .npy header's descr is not a string", path);
  if (lookup_descr(path, descr.str, descr.len, &h->type, err, errsize))
    return TC_ERR_INPUT;
  /* 2. shape */
  if (shape.kind != V_TUPLE || !shape.all_ints)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: the .npy header's shape is not a tuple of integers", path);
  if (shape.nitems > TC_MAX_RANK)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: rank %d is more than the %d dimensions supported", path,
                         shape.nitems, TC_MAX_RANK);
  h->rank = shape.nitems;
  h->numel = 1;
  int overflow = shape.overflow;
  for (int i = 0; i < h->rank; i++) {
    h->shape[i] = shape.items[i];
    if (h->shape[i] < 0)
      return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: negative dimension %lld in the .npy header's shape", path,
                           (long long)h->shape[i]);
    if (h->shape[i] && h->numel > (INT64_MAX / 8) / h->shape[i])
      overflow = 1;
    else
      h->numel *= h->shape[i];
  }
  /* A zero anywhere makes the product 0 whatever the other dimensions are,
   * but dimensions that big are still not a file anybody wrote. */
  if (overflow)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: the .npy header's shape is too large (its size overflows)",
                         path);
  /* 3. layout: Fortran order is the same bytes as C order when at most
   * one dimension exceeds 1; else the data is reordered once read */
  if (fortran.kind != V_BOOL)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: the .npy header's fortran_order is not True or False", path);
  int big_dims = 0;
  for (int i = 0; i < h->rank; i++)
    big_dims += h->shape[i] > 1;
  h->fortran = fortran.num && big_dims > 1;
  return TC_OK;
}

/* Reads `numel` elements of the file's type from f into `to` at out,
 * through cast.c; a value `to` cannot hold is an error naming it. */
static int read_converted(FILE *f, const char *path, RtFileType t, tc_dtype to, void *out, int64_t numel,
                          char *err, size_t errsize) {
  unsigned char buf[1 << 16];
  int64_t per = (int64_t)sizeof buf / t.size;
  size_t es = tcrt_dtype_size(to);
  for (int64_t done = 0; done < numel;) {
    int64_t m = numel - done < per ? numel - done : per;
    if (fread(buf, (size_t)t.size, (size_t)m, f) != (size_t)m)
      return -1;
    int64_t ok = rt_cast(t, buf, to, (char *)out + done * (int64_t)es, m);
    if (ok < m) {
      char value[64];
      rt_cast_value_text(t, buf, ok, value, sizeof value);
      return rt_file_error(err, errsize, TC_ERR_INPUT,
                           "%s holds %s, expected %s, and element %lld is %s, which %s cannot hold", path,
                           rt_numpy_name(t), tcrt_dtype_name(to), (long long)(done + ok), value,
                           tcrt_dtype_name(to));
    }
    done += m;
  }
  return 0;
}

/* Fortran order (the first axis varies fastest) into C order: a new buffer. */
static void *fortran_to_c(const void *src, const int64_t *shape, int rank, int64_t numel, size_t es) {
  char *dst = tcrt_alloc(NULL, numel * (int64_t)es);
  if (!dst)
    return NULL;
  int64_t index[TC_MAX_RANK] = {0}, stride[TC_MAX_RANK];
  for (int k = 0; k < rank; k++)
    stride[k] = k == 0 ? 1 : stride[k - 1] * shape[k - 1];
  for (int64_t c = 0; c < numel; c++) {
    int64_t off = 0;
    for (int k = 0; k < rank; k++)
      off += index[k] * stride[k];
    memcpy(dst + c * (int64_t)es, (const char *)src + off * (int64_t)es, es);
    for (int k = rank - 1; k >= 0 && ++index[k] == shape[k]; k--)
      index[k] = 0; /* the last axis varies fastest in C order */
  }
  return dst;
}

/* Reads the data after the header into a new buffer of dtype `to`; *out is filled. */
static int read_data(FILE *f, const char *path, const NpyHeader *h, tc_dtype to, int64_t file_data,
                     tc_array *out, char *err, size_t errsize) {
  int64_t need = h->numel * h->type.size;
  char shape[256];
  rt_shape_repr(h->shape, h->rank, shape, sizeof shape);
  /* The size check comes first, before allocating what the header claims. */
  if (file_data >= 0 && file_data < need)
    return rt_file_error(err, errsize, TC_ERR_INPUT,
                         "%s: truncated data: shape %s needs %lld bytes of data but the file has %lld", path, shape,
                         (long long)need, (long long)file_data);
  if (file_data > need)
    return rt_file_error(err, errsize, TC_ERR_INPUT,
                         "%s: the header's shape %s accounts for %lld bytes of data but the file has %lld (extra "
                         "bytes at the end)", path, shape, (long long)need, (long long)file_data);
  int code = rt_cast_refused(h->type, to, path, err, errsize);
  if (code)
    return code;
  size_t outsize = tcrt_dtype_size(to);
  void *data = rt_load_buffer(h->numel * (int64_t)outsize);
  if (!data)
    return rt_file_error(err, errsize, TC_ERR_NOMEM, "%s: out of memory for shape %s (%lld bytes)", path, shape,
                         (long long)(h->numel * (int64_t)outsize));
  int bad;
  err[0] = 0;
  if (rt_same_dtype(h->type) != to || h->type.swap)
    bad = read_converted(f, path, h->type, to, data, h->numel, err, errsize);
  else
    bad = fread(data, (size_t)h->type.size, (size_t)h->numel, f) != (size_t)h->numel;
  if (bad) {
    tcrt_free(data);
    if (err[0]) /* a value the declared dtype cannot hold */
      return TC_ERR_INPUT;
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: truncated data: shape %s needs %lld bytes of data", path,
                         shape, (long long)need);
  }
  /* Not a regular file (a pipe): only now can extra bytes be seen. */
  if (file_data < 0 && fgetc(f) != EOF) {
    tcrt_free(data);
    return rt_file_error(err, errsize, TC_ERR_INPUT,
                         "%s: the header's shape %s accounts for %lld bytes of data but the file has more", path,
                         shape, (long long)need);
  }
  /* The runtime's bool is 0 or 1; a file may hold other non-zero bytes. */
  if (to == TC_BOOL)
    tcrt_convert(TC_BOOL, data, TC_BOOL, data, h->numel);
  if (h->fortran) {
    void *c_order = fortran_to_c(data, h->shape, h->rank, h->numel, outsize);
    tcrt_free(data);
    if (!c_order)
      return rt_file_error(err, errsize, TC_ERR_NOMEM, "%s: out of memory for shape %s", path, shape);
    data = c_order;
  }
  out->data = data;
  out->dtype = to;
  out->rank = h->rank;
  memcpy(out->shape, h->shape, sizeof h->shape);
  return TC_OK;
}

int rt_npy_read(const char *path, tc_dtype want, tc_array *out, char *warning, size_t warnsize, char *err,
                size_t errsize) {
  if (warning && warnsize)
    warning[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (!f)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  int64_t file_size = -1; /* unknown unless a regular file */
  if (fstat(fileno(f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      fclose(f);
      return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: is a directory, not a .npy file", path);
    }
    if (S_ISREG(st.st_mode))
      file_size = (int64_t)st.st_size;
  }
  char *header = NULL;
  int code;
  /* 1. magic and version */
  unsigned char pre[12];
  size_t got = fread(pre, 1, 8, f);
  if (got == 0) {
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: empty file, not a .npy file", path);
    goto done;
  }
  if (got < 6 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: not a .npy file (bad magic)", path);
    goto done;
  }
  if (got < 8) {
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: truncated header (the file ends in the version)", path);
    goto done;
  }
  int major = pre[6], minor = pre[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: unsupported .npy version %d.%d (1.0, 2.0 and 3.0 are read)",
                         path, major, minor);
    goto done;
  }
  /* 2. the header */
  size_t lenbytes = major == 1 ? 2 : 4;
  if (fread(pre + 8, 1, lenbytes, f) != lenbytes) {
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: truncated header (the file ends in the header length)", path);
    goto done;
  }
  uint32_t hlen = pre[8] | (uint32_t)pre[9] << 8;
  if (lenbytes == 4)
    hlen |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
  if (hlen > MAX_HEADER) {
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: the .npy header claims %u bytes, more than the %d allowed",
                         path, hlen, MAX_HEADER);
    goto done;
  }
  header = malloc(hlen + 1);
  if (!header) {
    code = rt_file_error(err, errsize, TC_ERR_NOMEM, "%s: out of memory", path);
    goto done;
  }
  got = fread(header, 1, hlen, f);
  if (got != hlen) {
    code = rt_file_error(err, errsize, TC_ERR_INPUT, "%s: truncated header (%zu of its %u bytes)", path, got, hlen);
    goto done;
  }
  header[hlen] = '\0';
  NpyHeader h;
  if ((code = parse_header(path, header, hlen, &h, err, errsize)))
    goto done;
  /* 3. the data */
  int64_t file_data = file_size < 0 ? -1 : file_size - (int64_t)(8 + lenbytes + hlen);
  tc_dtype to = want ? want : rt_natural_dtype(h.type);
  code = read_data(f, path, &h, to, file_data, out, err, errsize);
  if (!code && warning && rt_same_dtype(h.type) != to)
    snprintf(warning, warnsize, "%s holds %s, converted to %s%s", path, rt_numpy_name(h.type),
             want ? "the declared " : "", tcrt_dtype_name(to));
done:
  free(header);
  fclose(f);
  return code;
}

/* ===== writing ===== */

int rt_npy_write(FILE *f, const char *path, const tc_array *a, char *err, size_t errsize) {
  /* 1. The header as numpy.save writes it: keys sorted, 21 - len(repr(shape[0]))
   * spaces of room to grow the first axis in place, then spaces and '\n' up to
   * a multiple of 64 bytes counting the 10 bytes of magic, version and length. */
  char shape[256], text[512];
  rt_shape_repr(a->shape, a->rank, shape, sizeof shape);
  int len = snprintf(text, sizeof text, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr_of[a->dtype],
                     shape);
  if (a->rank > 0) {
    int digits = snprintf(NULL, 0, "%lld", (long long)a->shape[0]);
    for (int i = digits; i < 21; i++)
      text[len++] = ' ';
  }
  int hlen = len + 1;
  int pad = 64 - (10 + hlen) % 64;
  memset(text + len, ' ', (size_t)pad);
  len += pad;
  text[len++] = '\n';
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(len & 0xff), (unsigned char)(len >> 8)};
  if (fwrite(pre, 1, sizeof pre, f) != sizeof pre || fwrite(text, 1, (size_t)len, f) != (size_t)len)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: write failed: %s", path, strerror(errno));
  /* 2. The data, as it is in memory (little-endian, C order). */
  int64_t n = tcrt_numel(a);
  size_t size = tcrt_dtype_size(a->dtype);
  if (n > 0 && fwrite(a->data, size, (size_t)n, f) != (size_t)n)
    return rt_file_error(err, errsize, TC_ERR_INPUT, "%s: write failed: %s", path, strerror(errno));
  return TC_OK;
}
