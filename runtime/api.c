/* runtime/api.c - the C interface of compiled models (tensorc/api.h):
 * contexts made from a module descriptor, and calls that check the
 * caller's DLPack tensors against a function's declaration.
 *
 * A call, in order, so that no mistake in the arguments reaches the
 * generated code and no failure leaves anything behind:
 *   1. bind the arguments: NULLs, device, dtype, rank, constant dims and
 *      symbolic dims (bound by the first argument that has them); borrow
 *      C-order data, copy strided data into a contiguous temporary.  A
 *      kDLCUDA tensor (on a context that runs on a GPU) is borrowed where
 *      the GPU code takes device arguments (TC_GPU_DEVICE_ARGS: it reads
 *      them through tcrt_dev_arg, which hands the borrowed pointer back),
 *      else staged through a host temporary, as the code reads host
 *      arguments;
 *   2. check the output tensors whose shape follows from the arguments;
 *   3. run the function; on failure free what it allocated (alloc.c
 *      tracks the context's blocks), params excepted;
 *   4. check each result against its output tensor and write it there
 *      (strides allowed; a kDLCUDA output is written on the device), or
 *      hand the buffers over raw.
 *
 * The context's device is chosen once, in tcrt_api_create (see api.h);
 * with --device=auto's CPU twin it runs m->cpu, and calls map the given
 * module's functions onto it by index.
 */
#include "rt_internal.h"
#include "tensorc/api.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tcrt_abi_version(void) { return TENSORC_ABI_VERSION; }

/* ---------- dtypes and shapes ---------- */

static tc_dtype dtype_of(DLDataType t) {
  if (t.lanes != 1)
    return TC_UNKNOWN;
  if (t.code == kDLFloat && t.bits == 32)
    return TC_F32;
  if (t.code == kDLFloat && t.bits == 64)
    return TC_F64;
  if (t.code == kDLInt && t.bits == 32)
    return TC_I32;
  if (t.code == kDLInt && t.bits == 64)
    return TC_I64;
  if (t.code == TC_DLPACK_BOOL && t.bits == 8)
    return TC_BOOL;
  return TC_UNKNOWN;
}

/* "f32[B, 64]" for a declaration (bind.c). */
static void decl_text(const tc_funcdesc *f, const tc_argdesc *d, char *buf, size_t size) {
  rt_decl_text(d, f->nsyms, f->sym_names, buf, size);
}

/* Where the elements start; NULL for the NULL data of an empty tensor
 * (NULL + 0 is undefined behaviour in C). */
static char *tensor_base(const DLTensor *t) { return t->data ? (char *)t->data + t->byte_offset : NULL; }

static int is_c_order(const DLTensor *t) {
  if (!t->strides)
    return 1;
  int64_t want = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] != 1 && t->strides[i] != want)
      return 0;
    want *= t->shape[i];
  }
  return 1;
}

/* One contiguous run: kind 0 is host to host, else a TC_COPY_* through the device. */
static int copy_run(tc_ctx *ctx, int kind, void *dst, const void *src, int64_t bytes) {
  if (bytes == 0)
    return TC_OK; /* an empty tensor's data may be NULL: memcpy(dst, NULL, 0) is undefined */
  if (kind)
    return tcrt_dev_copy(ctx, dst, src, bytes, kind);
  memcpy(dst, src, (size_t)bytes);
  return TC_OK;
}

/* Copies n-d data between two layouts (strides in elements; NULL: C order),
 * by contiguous runs (copy_run's kind). */
static int copy_strided(tc_ctx *ctx, int kind, char *dst, const int64_t *dst_strides, const char *src,
                        const int64_t *src_strides, const int64_t *shape, int rank, size_t es) {
  int64_t c_strides[TC_MAX_RANK], idx[TC_MAX_RANK] = {0}, total = 1;
  for (int i = rank - 1; i >= 0; i--) {
    c_strides[i] = total;
    total *= shape[i];
  }
  const int64_t *ds = dst_strides ? dst_strides : c_strides, *ss = src_strides ? src_strides : c_strides;
  bool same = true; /* both in C order (size-1 axes' strides do not matter) */
  for (int i = 0; i < rank; i++)
    same = same && (shape[i] == 1 || (ds[i] == c_strides[i] && ss[i] == c_strides[i]));
  if (same || total == 0)
    return copy_run(ctx, kind, dst, src, total * (int64_t)es);
  /* rows of the innermost axis at a time when it is contiguous on both sides */
  int64_t inner = rank > 0 && ds[rank - 1] == 1 && ss[rank - 1] == 1 ? shape[rank - 1] : 1;
  int outer_rank = inner > 1 ? rank - 1 : rank;
  for (int64_t n = 0; n < total; n += inner) {
    int64_t doff = 0, soff = 0;
    for (int i = 0; i < outer_rank; i++) {
      doff += idx[i] * ds[i];
      soff += idx[i] * ss[i];
    }
    int st = copy_run(ctx, kind, dst + doff * (int64_t)es, src + soff * (int64_t)es, inner * (int64_t)es);
    if (st)
      return st;
    for (int i = outer_rank - 1; i >= 0 && ++idx[i] == shape[i]; i--)
      idx[i] = 0;
  }
  return TC_OK;
}

/* ---------- contexts and their device ---------- */

/* What a context was asked to run on (tensorc_options.device, $TC_DEVICE). */
typedef struct DeviceAsk {
  enum { ASK_AUTO, ASK_CPU, ASK_CUDA } kind;
  int ordinal;      /* cuda:N */
  const char *text; /* as given ("auto" when nothing was) */
  const char *from; /* where it was given, for messages */
} DeviceAsk;

static int parse_device(const tc_module *m, const tensorc_options *opt, DeviceAsk *ask) {
  const char *env = getenv("TC_DEVICE");
  *ask = (DeviceAsk){ASK_AUTO, 0, "auto", "the default"};
  if (opt && opt->device)
    ask->text = opt->device, ask->from = "tensorc_options.device";
  else if (env && *env)
    ask->text = env, ask->from = "TC_DEVICE";
  const char *t = ask->text;
  if (strcmp(t, "auto") == 0)
    return TC_OK;
  if (strcmp(t, "cpu") == 0) {
    ask->kind = ASK_CPU;
    return TC_OK;
  }
  if (strcmp(t, "cuda") == 0) {
    ask->kind = ASK_CUDA;
    return TC_OK;
  }
  if (strncmp(t, "cuda:", 5) == 0 && t[5] >= '0' && t[5] <= '9' && strlen(t) <= 9) {
    char *end;
    long n = strtol(t + 5, &end, 10);
    if (*end == '\0') {
      ask->kind = ASK_CUDA;
      ask->ordinal = (int)n;
      return TC_OK;
    }
  }
  return tcrt_fail(NULL, TC_ERR_INPUT, "%s: %s is '%s'; expected cpu, cuda, cuda:N (N a GPU's number) or auto",
                   m->name, ask->from, t);
}

/* Opens what the context runs on and sets ctx->module and the device
 * text; on failure the reason is in tcrt_error(NULL). */
static int choose_device(tc_ctx *ctx, const tc_module *m, const DeviceAsk *ask) {
  ctx->module = ctx->module_given = m;
  if (!m->gpu) {
    if (ask->kind == ASK_CUDA)
      return tcrt_fail(NULL, TC_ERR_INPUT,
                       "%s: %s asks for %s, but this model was compiled for the CPU; compile it with "
                       "--device=cuda or --device=auto to run it on a GPU",
                       m->name, ask->from, ask->text);
    snprintf(ctx->device_text, sizeof ctx->device_text, "cpu");
    return TC_OK;
  }
  if (m->cpu && (m->cpu->nfuncs != m->nfuncs || m->cpu->nparams != m->nparams))
    return tcrt_fail(NULL, TC_ERR_INPUT,
                     "%s: internal error: the CPU code has %d functions and %d params, the GPU code %d and %d",
                     m->name, m->cpu->nfuncs, m->cpu->nparams, m->nfuncs, m->nparams);
  if (ask->kind == ASK_CPU) {
    if (!m->cpu)
      return tcrt_fail(NULL, TC_ERR_INPUT,
                       "%s: %s asks for the CPU, but this model was compiled for the GPU only (--device=cuda); "
                       "compile it with --device=auto to have CPU code beside the GPU code",
                       m->name, ask->from);
    ctx->module = m->cpu;
    snprintf(ctx->device_text, sizeof ctx->device_text, "cpu (%s=cpu)", ask->from);
    return TC_OK;
  }
  /* the emulator is one device, whatever a machine has */
  if (m->gpu->emu_kernels && ask->ordinal > 0)
    return tcrt_fail(NULL, TC_ERR_INPUT,
                     "%s: %s asks for %s, but the GPU emulator (--gpu-emulate) has one device, cuda:0", m->name,
                     ask->from, ask->text);
  ctx->dev_ordinal = ask->ordinal;
  if (tcrt_dev_open(ctx, m->gpu) == TC_OK) {
    snprintf(ctx->device_text, sizeof ctx->device_text, "cuda:%d (%s)", ctx->dev_ordinal, tcrt_dev_name(ctx));
    return TC_OK;
  }
  if (ask->kind == ASK_AUTO && m->cpu) {
    /* --device=auto: the CPU code compiled beside the GPU code */
    snprintf(ctx->device_text, sizeof ctx->device_text, "cpu (no CUDA device: %s)", tcrt_error(ctx));
    ctx->module = m->cpu;
    ctx->dev_ordinal = 0;
    return TC_OK;
  }
  return tcrt_fail(NULL, TC_ERR_INPUT, "%s: %s", m->name, tcrt_error(ctx));
}

tc_ctx *tcrt_api_create(const tc_module *m, const tensorc_options *opt, int abi, uint64_t hash) {
  if (!m) {
    tcrt_fail(NULL, TC_ERR_INPUT, "no module");
    return NULL;
  }
  if (abi != TENSORC_ABI_VERSION || m->abi_version != TENSORC_ABI_VERSION) {
    tcrt_fail(NULL, TC_ERR_INPUT,
              "%s: ABI version mismatch: the model was compiled for ABI %d and its header says %d, but "
              "libtensorc_rt is ABI %d; compile the model with the tensorc that matches the runtime",
              m->name, m->abi_version, abi, TENSORC_ABI_VERSION);
    return NULL;
  }
  if (hash != m->hash) {
    tcrt_fail(NULL, TC_ERR_INPUT,
              "%s: the header (model hash %016llx) is not the one written with this object (%016llx); "
              "use the .h that the same `tensorc -c` run wrote",
              m->name, (unsigned long long)hash, (unsigned long long)m->hash);
    return NULL;
  }
  DeviceAsk ask;
  if (parse_device(m, opt, &ask))
    return NULL;
  tc_ctx *ctx = tcrt_ctx_new(m->nparams);
  if (!ctx) {
    tcrt_fail(NULL, TC_ERR_NOMEM, "%s: out of memory creating a context", m->name);
    return NULL;
  }
  tcrt_seed(ctx, opt ? opt->seed : 0);
  if (opt && opt->threads > 0)
    tcrt_set_threads(ctx, opt->threads);
  /* a model that runs on the GPU keeps its params there (docs/gpu.md) */
  if (choose_device(ctx, m, &ask)) {
    tcrt_ctx_free(ctx);
    return NULL;
  }
  const tc_module *run = ctx->module;
  char err[1024];
  int status;
  if (opt && opt->params_in)
    status = tcrt_params_load(ctx, run->nparams, run->params, opt->params_in, err, sizeof err, NULL, NULL);
  else
    status = run->init(ctx) ? (snprintf(err, sizeof err, "%s", tcrt_error(ctx)), TC_ERR_RUNTIME) : TC_OK;
  if (status) {
    tcrt_fail(NULL, status, "%s: %s", m->name, err);
    tcrt_ctx_free(ctx);
    return NULL;
  }
  rt_clear_error(NULL);
  rt_clear_error(ctx); /* the note of a CPU fallback is in the device text */
  return ctx;
}

const char *tcrt_api_device(const tc_ctx *ctx) {
  if (!ctx)
    return "(no context)";
  if (ctx->device_text[0])
    return ctx->device_text;
  return ctx->dev ? "cuda" : "cpu"; /* a context not made by tcrt_api_create */
}

int tcrt_api_param(tc_ctx *ctx, const tc_module *m, const char *name, DLTensor *view) {
  if (!ctx)
    return tcrt_fail(NULL, TC_ERR_INPUT, "%s_param: the context is NULL", m->name);
  if (!name || !view)
    return tcrt_fail(ctx, TC_ERR_INPUT, "%s_param: %s is NULL", m->name, !name ? "the name" : "the view");
  /* the module the context runs (a CPU twin has the same params, in order) */
  const tc_module *run = ctx->module ? ctx->module : m;
  for (int i = 0; i < run->nparams; i++) {
    const tc_paramdesc *p = &run->params[i];
    if (strcmp(p->name, name) != 0)
      continue;
    /* the context's own buffer; shape is the descriptor's, not to be written;
     * in device memory when the model runs on the GPU */
    *view = tc_tensor(tcrt_param(ctx, i), p->rank, (int64_t *)p->shape, p->dtype);
    if (ctx->dev)
      view->device = (DLDevice){kDLCUDA, ctx->dev_ordinal};
    rt_clear_error(ctx);
    return TC_OK;
  }
  return tcrt_fail(ctx, TC_ERR_INPUT, "%s has no param named '%s'", m->name, name);
}

/* ---------- borrowed device arguments ---------- */

void *tcrt_dev_arg(tc_ctx *ctx, const void *arg, int64_t bytes) {
  for (int i = 0; i < ctx->nborrowed; i++)
    if (ctx->borrowed[i] == arg)
      return (void *)arg; /* the caller's device tensor: read in place */
  void *d = tcrt_dev_alloc_uninit(ctx, bytes);
  if (d && tcrt_dev_copy(ctx, d, arg, bytes, TC_COPY_H2D)) {
    tcrt_dev_free(ctx, d);
    return NULL;
  }
  return d;
}

/* ---------- calls ---------- */

typedef struct Call {
  tc_ctx *ctx;
  const tc_funcdesc *f;
  int64_t *sym_value; /* per symbol */
  int *sym_arg;       /* the argument that bound it, or -1 */
  tc_array *args;
  void **copies;      /* host copies of arguments: strided ones, device ones staged */
  void **dev_copies;  /* contiguous device copies of strided device arguments */
  const void **borrowed; /* device memory the GPU code may take as it is (tcrt_dev_arg), and lent outputs */
  int nborrowed;
  void **dev_out;        /* per result: the caller's kDLCUDA output lent to the call, or NULL */
  int64_t *dev_out_bytes;
  bool *dev_out_taken;
  bool device_args;   /* the GPU code takes device arguments (TC_GPU_DEVICE_ARGS) */
} Call;

/* Checks one dim against the declaration, binding its symbol if new (bind.c). */
static int bind_dim(Call *c, int k, const tc_argdesc *d, int axis, int64_t got) {
  const tc_dimdesc *dd = &d->dims[axis];
  RtBinder binder = {c->f->nsyms, c->sym_value, c->sym_arg, NULL};
  RtBind how = rt_bind_dim(&binder, d, k, axis, got);
  if (how == RT_BIND_OK)
    return TC_OK;
  char type[256];
  decl_text(c->f, d, type, sizeof type);
  if (how == RT_BIND_NOT_CONSTANT)
    return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: argument '%s' (%s): axis %d is %lld, expected %lld",
                     c->f->name, d->name, type, axis, (long long)got, (long long)dd->value);
  return tcrt_fail(c->ctx, TC_ERR_INPUT,
                   "%s: argument '%s' (%s): axis %d is %lld, but %s = %lld from argument '%s'", c->f->name,
                   d->name, type, axis, (long long)got, c->f->sym_names[dd->sym],
                   (long long)c->sym_value[dd->sym], c->f->args[c->sym_arg[dd->sym]].name);
}

/* Device, dtype and rank of a tensor (an argument, or an output). */
static int check_tensor(Call *c, const tc_argdesc *d, const DLTensor *t, const char *what) {
  char type[256];
  decl_text(c->f, d, type, sizeof type);
  if (!t)
    return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: %s '%s' (%s) is NULL", c->f->name, what, d->name, type);
  if (t->device.device_type == kDLCUDA && !c->ctx->dev) {
    const char *why = tcrt_api_device(c->ctx); /* "cpu", or "cpu (the reason)" */
    return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: %s '%s' is a CUDA tensor, but this context runs on the CPU%s",
                     c->f->name, what, d->name, strncmp(why, "cpu (", 5) == 0 ? why + 3 : "");
  }
  if (t->device.device_type == kDLCUDA && t->device.device_id != c->ctx->dev_ordinal)
    return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: %s '%s' is on cuda:%d, but this context runs on cuda:%d",
                     c->f->name, what, d->name, (int)t->device.device_id, c->ctx->dev_ordinal);
  if (t->device.device_type != kDLCPU && t->device.device_type != kDLCUDAHost && t->device.device_type != kDLCUDA)
    return tcrt_fail(c->ctx, TC_ERR_INPUT,
                     "%s: %s '%s' is on DLPack device type %d; expected kDLCPU (1)%s", c->f->name, what, d->name,
                     (int)t->device.device_type, c->ctx->dev ? " or kDLCUDA (2)" : "");
  tc_dtype dt = dtype_of(t->dtype);
  if (dt != d->dtype)
    return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: %s '%s' (%s) has dtype %s (DLPack code %d, %d bits), expected %s",
                     c->f->name, what, d->name, type, dt ? tcrt_dtype_name(dt) : "unsupported", t->dtype.code,
                     t->dtype.bits, tcrt_dtype_name(d->dtype));
  if (t->ndim != d->rank)
    return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: %s '%s' (%s) has rank %d, expected %d", c->f->name, what, d->name,
                     type, t->ndim, d->rank);
  if (t->ndim > 0 && !t->shape)
    return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: %s '%s' has no shape", c->f->name, what, d->name);
  for (int i = 0; i < t->ndim; i++)
    if (t->shape[i] < 0)
      return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: %s '%s' (%s): axis %d is %lld, expected a size of 0 or more",
                       c->f->name, what, d->name, type, i, (long long)t->shape[i]);
  if (!t->data) {
    /* NULL is data only for no elements: a zero dim (not the product of
     * the dims, which can overflow); rank 0 is one element */
    bool empty = false;
    for (int i = 0; i < t->ndim; i++)
      empty |= t->shape[i] == 0;
    if (!empty)
      return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: %s '%s' has NULL data", c->f->name, what, d->name);
  }
  return TC_OK;
}

static int bind_arg(Call *c, int k, const void *value) {
  const tc_argdesc *d = &c->f->args[k];
  tc_array *a = &c->args[k];
  a->dtype = d->dtype;
  a->rank = d->rank;
  if (d->rank == 0) {
    /* a scalar argument (all rank-0 arguments are): value points at the C value */
    if (!value)
      return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: scalar argument '%s' is NULL", c->f->name, d->name);
    a->data = (void *)value;
    return TC_OK;
  }
  const DLTensor *t = value;
  int code = check_tensor(c, d, t, "argument");
  if (code)
    return code;
  for (int i = 0; i < d->rank; i++) {
    a->shape[i] = t->shape[i];
    if ((code = bind_dim(c, k, d, i, t->shape[i])))
      return code;
  }
  char *base = tensor_base(t);
  bool on_device = t->device.device_type == kDLCUDA;
  if (is_c_order(t) && (!on_device || c->device_args)) {
    a->data = base; /* borrowed: read in place */
    if (on_device)
      c->borrowed[c->nborrowed++] = base;
    return TC_OK;
  }
  size_t es = tcrt_dtype_size(d->dtype);
  int64_t bytes = tcrt_numel(a) * (int64_t)es;
  if (on_device && c->device_args) {
    /* strided on the device: one contiguous device copy, lent like the caller's */
    c->dev_copies[k] = tcrt_dev_alloc_uninit(c->ctx, bytes);
    if (!c->dev_copies[k])
      return tcrt_fail(c->ctx, TC_ERR_NOMEM, "%s: out of device memory copying argument '%s' (%lld bytes)",
                       c->f->name, d->name, (long long)bytes);
    if ((code = copy_strided(c->ctx, TC_COPY_D2D, c->dev_copies[k], NULL, base, t->strides, t->shape, t->ndim, es)))
      return code;
    a->data = c->dev_copies[k];
    c->borrowed[c->nborrowed++] = a->data;
    return TC_OK;
  }
  /* strided on the host, or on the device for GPU code that reads host
   * arguments (staged): the context's block cache serves it on later
   * calls; made before the call's mark, so a failing call does not free it
   * (we do) */
  c->copies[k] = tcrt_alloc(c->ctx, bytes);
  if (!c->copies[k])
    return tcrt_fail(c->ctx, TC_ERR_NOMEM, "%s: out of memory copying argument '%s'", c->f->name, d->name);
  if ((code = copy_strided(c->ctx, on_device ? TC_COPY_D2H : 0, c->copies[k], NULL, base, t->strides, t->shape,
                           t->ndim, es)))
    return code;
  a->data = c->copies[k];
  return TC_OK;
}

/* An output's shape against what the result will be: every dim known
 * from the arguments is checked now, the computed ones after the call. */
static int check_out(Call *c, int r, const DLTensor *t, const tc_array *result) {
  const tc_argdesc *d = &c->f->results[r];
  int code = check_tensor(c, d, t, "output");
  if (code)
    return code;
  for (int i = 0; i < d->rank; i++) {
    const tc_dimdesc *dd = &d->dims[i];
    int64_t want = result ? result->shape[i] : dd->sym >= 0 ? c->sym_value[dd->sym] : dd->value;
    if (!result && dd->sym == TC_DIM_COMPUTED)
      continue;
    if (t->shape[i] != want) {
      char type[256];
      decl_text(c->f, d, type, sizeof type);
      return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: output '%s' (%s): axis %d is %lld, the result's is %lld",
                       c->f->name, d->name, type, i, (long long)t->shape[i], (long long)want);
    }
  }
  return TC_OK;
}

/* ---------- results in the caller's memory ---------- */

static atomic_llong output_copies;

int64_t tcrt_api_output_copies(void) { return atomic_load(&output_copies); }

void *tcrt_result_alloc(tc_ctx *ctx, const tc_array *results, int k, int64_t bytes, int uninit) {
  const tc_array *given = &results[k];
  if (k < ctx->ndev_out && ctx->dev_out_taken[k])
    return ctx->dev_out[k]; /* computed in the caller's device tensor: nothing comes back */
  if (given->data && tcrt_numel(given) * (int64_t)tcrt_dtype_size(given->dtype) == bytes) {
    if (!uninit)
      memset(given->data, 0, (size_t)bytes);
    return given->data;
  }
  return uninit ? tcrt_alloc_uninit(ctx, bytes) : tcrt_alloc(ctx, bytes);
}

void *tcrt_dev_result_alloc(tc_ctx *ctx, int k, int64_t bytes, int uninit) {
  if (k < ctx->ndev_out && ctx->dev_out[k] && ctx->dev_out_bytes[k] == bytes && uninit && !ctx->dev_out_taken[k]) {
    ctx->dev_out_taken[k] = true;
    return ctx->dev_out[k];
  }
  return uninit ? tcrt_dev_alloc_uninit(ctx, bytes) : tcrt_dev_alloc(ctx, bytes);
}

int tcrt_result_copy(tc_ctx *ctx, void *dst, const void *src, int64_t bytes, int kind) {
  return dst == src ? TC_OK : tcrt_dev_copy(ctx, dst, src, bytes, kind);
}

/* The bytes [*lo, *hi) that a tensor's elements span (any strides). */
static void tensor_span(const DLTensor *t, size_t es, uintptr_t *lo, uintptr_t *hi) {
  uintptr_t base = (uintptr_t)t->data + t->byte_offset;
  int64_t below = 0, above = 0, stride = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    int64_t st = t->strides ? t->strides[i] : stride;
    if (t->shape[i] == 0) {
      *lo = *hi = base;
      return;
    }
    if (st < 0)
      below += (t->shape[i] - 1) * st;
    else
      above += (t->shape[i] - 1) * st;
    stride *= t->shape[i];
  }
  *lo = base + (uintptr_t)(below * (int64_t)es);
  *hi = base + (uintptr_t)((above + 1) * (int64_t)es);
}

static bool overlaps(uintptr_t lo, uintptr_t hi, const void *p, int64_t bytes) {
  return bytes > 0 && lo < (uintptr_t)p + (uint64_t)bytes && (uintptr_t)p < hi;
}

/* Whether output r's own memory can receive the result in place: in C
 * order, aligned for its dtype, sharing no byte with what the call reads
 * (an argument as the code sees it, a param) or with another output (any
 * of them in either memory space: a false alarm only costs a copy).  The
 * generated code then takes it for a result buffer that memplan marked
 * (`-> outK`): a host output for a host buffer (results come back in host
 * memory, also from the GPU), a kDLCUDA one for the result's device
 * buffer; else the result is copied as before. */
static bool lend_output(Call *c, DLTensor *const *outs, int r) {
  const DLTensor *t = outs[r];
  size_t es = tcrt_dtype_size(c->f->results[r].dtype);
  char *base = tensor_base(t);
  if (!base || !is_c_order(t) || (uintptr_t)base % es)
    return false;
  uintptr_t lo, hi;
  tensor_span(t, es, &lo, &hi);
  for (int k = 0; k < c->f->nargs; k++)
    if (c->f->args[k].rank > 0 && overlaps(lo, hi, c->args[k].data,
                                           tcrt_numel(&c->args[k]) * (int64_t)tcrt_dtype_size(c->args[k].dtype)))
      return false;
  const tc_module *m = c->ctx->module;
  for (int i = 0; m && i < m->nparams; i++) {
    tc_array p = {tcrt_param(c->ctx, i), m->params[i].dtype, m->params[i].rank, {0}};
    memcpy(p.shape, m->params[i].shape, sizeof p.shape);
    if (overlaps(lo, hi, p.data, tcrt_numel(&p) * (int64_t)tcrt_dtype_size(p.dtype)))
      return false;
  }
  for (int q = 0; q < c->f->nresults; q++) {
    uintptr_t qlo, qhi;
    if (q == r)
      continue;
    tensor_span(outs[q], tcrt_dtype_size(c->f->results[q].dtype), &qlo, &qhi);
    if (qlo < hi && lo < qhi)
      return false;
  }
  return true;
}

static int run_call(Call *c, void *const *argv, DLTensor *const *outs, tc_array *raw) {
  const tc_funcdesc *f = c->f;
  int code;
  if (f->nargs > 0 && !argv)
    return tcrt_fail(c->ctx, TC_ERR_INPUT, "%s: the argument list is NULL", f->name);
  for (int k = 0; k < f->nargs; k++)
    if ((code = bind_arg(c, k, argv[k])))
      return code;
  for (int r = 0; outs && r < f->nresults; r++)
    if ((code = check_out(c, r, outs[r], NULL)))
      return code;

  /* the outputs that can take their result in place (tcrt_result_alloc) */
  tc_array *res = raw;
  memset(res, 0, sizeof *res * (size_t)f->nresults);
  for (int r = 0; outs && r < f->nresults; r++) {
    if (!lend_output(c, outs, r))
      continue;
    char *base = tensor_base(outs[r]);
    if (outs[r]->device.device_type == kDLCUDA) { /* for the result's device buffer (tcrt_dev_result_alloc) */
      tc_array size = {base, f->results[r].dtype, outs[r]->ndim, {0}};
      if (outs[r]->ndim > 0) /* a scalar's shape may be NULL */
        memcpy(size.shape, outs[r]->shape, sizeof(int64_t) * (size_t)outs[r]->ndim);
      c->dev_out[r] = base;
      c->dev_out_bytes[r] = tcrt_numel(&size) * (int64_t)tcrt_dtype_size(size.dtype);
      c->borrowed[c->nborrowed++] = base; /* kept from tcrt_dev_free */
      continue;
    }
    res[r].data = base;
    res[r].dtype = f->results[r].dtype;
    res[r].rank = outs[r]->ndim;
    if (outs[r]->ndim > 0)
      memcpy(res[r].shape, outs[r]->shape, sizeof(int64_t) * (size_t)outs[r]->ndim);
  }
  uint64_t mark = rt_alloc_mark(c->ctx);
  /* lent to tcrt_dev_arg (and kept from tcrt_dev_free) for this call only */
  c->ctx->borrowed = c->borrowed;
  c->ctx->nborrowed = c->nborrowed;
  c->ctx->dev_out = c->dev_out;
  c->ctx->dev_out_bytes = c->dev_out_bytes;
  c->ctx->dev_out_taken = c->dev_out_taken;
  c->ctx->ndev_out = outs ? f->nresults : 0;
  int status = f->fn(c->ctx, c->args, res);
  c->ctx->borrowed = NULL;
  c->ctx->nborrowed = 0;
  c->ctx->dev_out = NULL;
  c->ctx->dev_out_bytes = NULL;
  c->ctx->dev_out_taken = NULL;
  c->ctx->ndev_out = 0;
  if (status) {
    rt_release_since(c->ctx, mark);
    memset(res, 0, sizeof *res * (size_t)f->nresults);
    return status;
  }
  if (!outs) {
    /* handed over: the caller frees them, maybe on another thread while
     * this context runs, so they leave the context's list of blocks */
    for (int r = 0; r < f->nresults; r++)
      rt_detach_block(res[r].data);
    return TC_OK;
  }
  /* results are host memory: those not computed in the caller's tensor
   * already are copied into it (on the device for a kDLCUDA one) */
  for (int r = 0; r < f->nresults && !status; r++) {
    char *dst = tensor_base(outs[r]);
    if ((status = check_out(c, r, outs[r], &res[r])) || res[r].data == dst)
      continue;
    atomic_fetch_add(&output_copies, 1);
    status = copy_strided(c->ctx, outs[r]->device.device_type == kDLCUDA ? TC_COPY_H2D : 0, dst, outs[r]->strides,
                          res[r].data, NULL, res[r].shape, res[r].rank, tcrt_dtype_size(res[r].dtype));
  }
  /* free the runtime's blocks: not the caller's memory, and each once */
  for (int r = 0; r < f->nresults; r++) {
    bool owned = true;
    for (int q = 0; q < f->nresults; q++)
      owned = owned && res[r].data != tensor_base(outs[q]);
    for (int q = 0; q < r; q++)
      owned = owned && res[r].data != res[q].data;
    if (owned)
      tcrt_free(res[r].data);
  }
  return status;
}

int tcrt_api_call(tc_ctx *ctx, const tc_funcdesc *f, void *const *argv, DLTensor *const *outs, tc_array *raw) {
  if (!ctx)
    return tcrt_fail(NULL, TC_ERR_INPUT, "%s: the context is NULL", f ? f->name : "call");
  if (!f)
    return tcrt_fail(ctx, TC_ERR_INPUT, "no function");
  /* the wrappers pass the given module's function: the context may run its CPU twin */
  const tc_module *given = ctx->module_given, *run = ctx->module;
  if (given && run && given != run && f >= given->funcs && f < given->funcs + given->nfuncs)
    f = &run->funcs[f - given->funcs];
  if (!outs && !raw && f->nresults > 0)
    return tcrt_fail(ctx, TC_ERR_INPUT, "%s: no output tensors", f->name);
  /* the call's bookkeeping on the stack for the usual few arguments, so
   * that a call in a training loop mallocs nothing */
  enum { SMALL = 16 };
  int64_t sym_value[SMALL] = {0};
  int sym_arg[SMALL];
  tc_array args[SMALL] = {{0}}, results[SMALL] = {{0}};
  void *copies[SMALL] = {0}, *dev_copies[SMALL] = {0}, *dev_out[SMALL] = {0};
  const void *borrowed[2 * SMALL] = {0};
  int64_t dev_out_bytes[SMALL] = {0};
  bool dev_out_taken[SMALL] = {0};
  int na = f->nargs > 0 ? f->nargs : 1, ns = f->nsyms > 0 ? f->nsyms : 1, nr = f->nresults > 0 ? f->nresults : 1;
  bool small = na <= SMALL && ns <= SMALL && nr <= SMALL;
  Call c = {ctx, f, sym_value, sym_arg, args, copies, dev_copies, borrowed, 0, dev_out, dev_out_bytes, dev_out_taken, false};
  c.device_args = ctx->dev && ctx->gpu && (ctx->gpu->flags & TC_GPU_DEVICE_ARGS);
  tc_array *res = raw ? raw : results;
  if (!small) {
    c.sym_value = calloc((size_t)ns, sizeof(int64_t));
    c.sym_arg = malloc((size_t)ns * sizeof(int));
    c.args = calloc((size_t)na, sizeof(tc_array));
    c.copies = calloc((size_t)na, sizeof(void *));
    c.dev_copies = calloc((size_t)na, sizeof(void *));
    c.borrowed = calloc((size_t)(na + nr), sizeof(void *));
    c.dev_out = calloc((size_t)nr, sizeof(void *));
    c.dev_out_bytes = calloc((size_t)nr, sizeof(int64_t));
    c.dev_out_taken = calloc((size_t)nr, sizeof(bool));
    res = raw ? raw : calloc((size_t)nr, sizeof(tc_array));
  }
  int code;
  if (!c.sym_value || !c.sym_arg || !c.args || !c.copies || !c.dev_copies || !c.borrowed || !c.dev_out ||
      !c.dev_out_bytes || !c.dev_out_taken || !res) {
    code = tcrt_fail(ctx, TC_ERR_NOMEM, "%s: out of memory", f->name);
  } else {
    for (int s = 0; s < ns; s++)
      c.sym_arg[s] = -1;
    code = run_call(&c, argv, outs, res);
  }
  for (int k = 0; c.copies && k < f->nargs; k++)
    tcrt_free(c.copies[k]);
  for (int k = 0; c.dev_copies && k < f->nargs; k++)
    tcrt_dev_free(ctx, c.dev_copies[k]);
  if (!small) {
    if (res != raw)
      free(res);
    free(c.sym_value);
    free(c.sym_arg);
    free(c.args);
    free(c.copies);
    free(c.dev_copies);
    free(c.borrowed);
    free(c.dev_out);
    free(c.dev_out_bytes);
    free(c.dev_out_taken);
  }
  if (code == TC_OK)
    rt_clear_error(ctx);
  return code;
}
