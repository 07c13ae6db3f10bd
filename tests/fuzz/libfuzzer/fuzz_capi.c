/* tests/fuzz/libfuzzer/fuzz_capi.c - the C API's entry (runtime/api.c,
 * tcrt_api_call) on the model of tests/capi (Inputs/mlp.tc, compiled by
 * this build's tensorc -c): one call of one of its functions, with the
 * arguments and the output tensors made from the fuzz bytes.
 *
 * Each DLTensor gets a dtype (mostly the declared one, else any code,
 * bits and lanes), a rank (mostly the declared one), dims (small ones,
 * 0, -1, or any 64-bit value), a device type, strides (none, or each in
 * -8..8 elements, 0 included), a byte offset, and NULL in place of the
 * tensor, its shape or its data.  The memory is always what a correct
 * caller would give for that description: when the dims are small the
 * buffer covers every element the strides reach, so a read outside it is
 * the runtime's bug; dims no buffer could cover (huge ones) get NULL data,
 * negative ones a small dummy buffer, both of which the API must refuse.
 * Scalars are pointers to C values (bools 0 or 1, integers within
 * +-2^20 or any value), or NULL.
 *
 * A fresh context per input (one thread), so that params updated by
 * train_step do not carry from one input to the next. */
#include "fuzz_util.h"

#include "mlp.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_quiet_stderr();
  return 0;
}

enum { MAX_ELEMS = 1 << 12, MAX_DIM = 64 };

/* What one tensor owns, freed after the call. */
typedef struct Slot {
  DLTensor t;
  int64_t shape[TC_MAX_RANK], strides[TC_MAX_RANK];
  void *buffer;
} Slot;

static const int64_t dim_table[] = {0, 1, 2, 3, 4, 5, 7, 8, 16, -1, 1 << 20, (int64_t)1 << 40};

static void set_dtype(DLTensor *t, FzBytes *b, tc_dtype declared) {
  uint8_t how = fz_u8(b);
  if (how < 200) {
    int64_t one = 1;
    t->dtype = tc_tensor(NULL, 0, &one, declared).dtype;
  } else if (how < 240) {
    static const tc_dtype all[] = {TC_BOOL, TC_I32, TC_I64, TC_F32, TC_F64};
    int64_t one = 1;
    t->dtype = tc_tensor(NULL, 0, &one, all[how % 5]).dtype;
  } else {
    t->dtype.code = fz_u8(b);
    t->dtype.bits = fz_u8(b);
    t->dtype.lanes = fz_u8(b);
  }
}

/* Builds a tensor for `d` from the bytes; NULL is a NULL tensor pointer. */
static DLTensor *make_tensor(FzBytes *b, const tc_argdesc *d, Slot *s) {
  uint8_t flags = fz_u8(b);
  if (flags == 0xff)
    return NULL;
  DLTensor *t = &s->t;
  memset(t, 0, sizeof *t);
  set_dtype(t, b, d->dtype);
  t->ndim = flags & 1 ? (int)(fz_u8(b) % 11) - 1 : d->rank; /* -1..9 */
  t->device.device_type = flags & 2 ? (DLDeviceType)(fz_u8(b) % 16) : kDLCPU;
  int rank = t->ndim < 0 ? 0 : t->ndim > TC_MAX_RANK ? TC_MAX_RANK : t->ndim;
  bool coverable = t->ndim >= 0 && t->ndim <= TC_MAX_RANK, negative = false;
  for (int i = 0; i < rank; i++) {
    s->shape[i] = fz_pick(b, dim_table, (int)(sizeof dim_table / sizeof *dim_table));
    negative |= s->shape[i] < 0;
    coverable &= s->shape[i] >= 0 && s->shape[i] <= MAX_DIM;
  }
  t->shape = flags & 4 ? NULL : s->shape;
  if (flags & 8) {
    for (int i = 0; i < rank; i++)
      s->strides[i] = (int64_t)(fz_u8(b) % 17) - 8;
    t->strides = s->strides;
  }
  int64_t es = t->dtype.bits >= 8 && t->dtype.bits <= 64 ? (t->dtype.bits + 7) / 8 * (t->dtype.lanes ? t->dtype.lanes : 1) : 8;
  t->byte_offset = (uint64_t)(flags >> 6) * (uint64_t)es;
  if (flags & 0x10) /* NULL data */
    return t;
  /* the elements the strides reach: offsets lo..hi (in elements) */
  int64_t lo = 0, hi = 0, numel = 1;
  for (int i = 0; coverable && i < rank; i++) {
    numel *= s->shape[i];
    int64_t stride = t->strides ? t->strides[i] : 1;
    if (!t->strides)
      for (int j = i + 1; j < rank; j++)
        stride *= s->shape[j];
    int64_t reach = s->shape[i] ? (s->shape[i] - 1) * stride : 0;
    lo += reach < 0 ? reach : 0;
    hi += reach > 0 ? reach : 0;
  }
  if (coverable && numel == 0) {
    s->buffer = calloc(1, 64); /* no elements: any pointer, none read */
    t->data = s->buffer;
  } else if (coverable && numel <= MAX_ELEMS) {
    size_t bytes = (size_t)((hi - lo + 1) * es) + t->byte_offset;
    s->buffer = malloc(bytes);
    for (size_t i = 0; i < bytes; i++) /* no bool is other than 0 or 1 */
      ((uint8_t *)s->buffer)[i] = d->dtype == TC_BOOL ? fz_u8(b) & 1 : fz_u8(b);
    t->data = (char *)s->buffer - lo * es;
  } else if (negative) {
    s->buffer = calloc(1, 64); /* the API must refuse a negative dim before reading */
    t->data = s->buffer;
  }
  return t;
}

/* A scalar argument: a pointer to a C value of the declared type, or NULL. */
static void *make_scalar(FzBytes *b, const tc_argdesc *d, Slot *s) {
  uint8_t how = fz_u8(b);
  if (how == 0xff)
    return NULL;
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v |= (uint64_t)fz_u8(b) << (8 * i);
  s->buffer = calloc(1, 8);
  if (d->dtype == TC_BOOL) {
    *(bool *)s->buffer = v & 1;
  } else if ((d->dtype == TC_I32 || d->dtype == TC_I64) && how == 0) {
    /* within +-2^20: the sizes a program is mostly called with (k that
     * divides a small N), which any 64-bit value seldom is */
    int32_t small = (int32_t)(v % (1 << 21)) - (1 << 20);
    if (d->dtype == TC_I32)
      memcpy(s->buffer, &small, 4);
    else
      *(int64_t *)s->buffer = small;
  } else { /* any value: an i32 is the low 4 bytes (little-endian) */
    memcpy(s->buffer, &v, 8);
  }
  return s->buffer;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FzBytes b = {data, size};
  const tc_funcdesc *f = &mlp_module.funcs[fz_u8(&b) % mlp_module.nfuncs];
  if (f->nargs > TC_MAX_RANK || f->nresults > TC_MAX_RANK)
    abort(); /* a model this harness was not written for */
  uint8_t how = fz_u8(&b);
  tensorc_options opt = {.seed = how, .threads = 1, .device = "cpu"};
  tc_ctx *ctx = tcrt_api_create(&mlp_module, &opt, TENSORC_ABI_VERSION, mlp_module.hash);
  if (!ctx)
    abort(); /* the model's own context: nothing of the input is in it */
  Slot args[TC_MAX_RANK] = {0}, outs[TC_MAX_RANK] = {0};
  void *argv[TC_MAX_RANK];
  DLTensor *outv[TC_MAX_RANK];
  for (int k = 0; k < f->nargs; k++)
    argv[k] = f->args[k].rank == 0 ? make_scalar(&b, &f->args[k], &args[k])
                                   : (void *)make_tensor(&b, &f->args[k], &args[k]);
  bool raw = how & 1;
  for (int r = 0; !raw && r < f->nresults; r++)
    outv[r] = make_tensor(&b, &f->results[r], &outs[r]);
  tc_array results[TC_MAX_RANK] = {{0}};
  int rc = tcrt_api_call(ctx, f, how & 4 ? NULL : argv, raw ? NULL : outv, raw ? results : NULL);
  for (int r = 0; raw && rc == TC_OK && r < f->nresults; r++)
    tcrt_free(results[r].data);
  for (int k = 0; k < TC_MAX_RANK; k++) {
    free(args[k].buffer);
    free(outs[k].buffer);
  }
  tcrt_ctx_free(ctx);
  return 0;
}
