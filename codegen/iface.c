/* codegen/iface.c - a model's interface: its exported functions with the
 * dims of their arguments and results, the workspace of each call, the
 * model hash, and two texts of it: the JSON signature bindings read, and
 * the C header of `tensorc -c` (SPEC §4).
 *
 * Symbols: an argument dim that is one bare symbol ("B") binds it; the
 * first argument with a symbol binds it, the others must agree (runtime
 * api.c checks).  A result dim is a constant, one of those symbols, or
 * "computed" (an expression, or a size known only while running), which
 * the runtime checks after the call.
 *
 * Workspace: the bytes of every buffer the function allocates, results
 * included, counting the allocations inside a loop body twice (one
 * iteration's values are alive while the next is computed) and both arms
 * of an if: an upper bound, as a polynomial in the argument symbols.
 */
#include "iface.h"

#include "../ir/target.h"
#include "tensorc/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Static_assert(IF_DIM_COMPUTED == TC_DIM_COMPUTED, "computed dims must agree with the runtime");

static int find_sym(const IfFunc *f, int sym) {
  for (int i = 0; i < f->nsyms; i++)
    if (f->syms[i] == sym)
      return i;
  return -1;
}

static IfDim describe_dim(IfFunc *f, Dim d, bool binds) {
  char text[256];
  IfDim r = {.sym = -1, .text = ir_strdup(dim_format(d, text, sizeof text))};
  int sym;
  if (dim_is_const(d, &r.value))
    return r;
  if (dim_is_sym(d, &sym)) {
    r.sym = find_sym(f, sym);
    if (r.sym < 0 && binds) {
      r.sym = f->nsyms;
      f->syms[f->nsyms++] = sym;
    }
    if (r.sym >= 0)
      return r;
  }
  r.sym = IF_DIM_COMPUTED;
  return r;
}

static IfValue describe_buf(IfFunc *f, KBuf *kb, const char *name) {
  IfValue v = {.name = name, .dtype = kb->dtype, .rank = kb->rank};
  for (int i = 0; i < kb->rank; i++)
    v.dims[i] = describe_dim(f, kb->dims[i], false);
  return v;
}

/* ---- workspace ---- */

static Dim list_bytes(KFunc *f, KList *l);

static Dim stmt_bytes(KFunc *f, KStmt *s) {
  switch (s->kind) {
  case KS_ALLOC: {
    KBuf *kb = k_buf(f, s->buf);
    Dim n = dim_const((int64_t)ir_dtype_size(kb->dtype));
    for (int i = 0; i < kb->rank; i++)
      n = dim_mul(n, kb->dims[i]);
    return n;
  }
  case KS_FOR: return dim_mul(dim_const(2), list_bytes(f, &s->body));
  case KS_IF: return dim_add(list_bytes(f, &s->body), list_bytes(f, &s->orelse));
  default: return dim_const(0);
  }
}

static Dim list_bytes(KFunc *f, KList *l) {
  Dim sum = dim_const(0);
  for (int i = 0; i < l->n; i++)
    sum = dim_add(sum, stmt_bytes(f, l->v[i]));
  return sum;
}

/* Every symbol of d is one of f's argument symbols. */
static bool only_arg_syms(const IfFunc *f, Dim d) {
  for (int i = 0; i < d.n; i++)
    for (int j = 0; j < d.t[i].deg; j++)
      if (find_sym(f, d.t[i].sym[j]) < 0)
        return false;
  return !d.overflow;
}

IfFunc cg_iface_func(KFunc *kf) {
  IfFunc f = {.kf = kf, .name = kf->name};
  IrFunc *gf = kf->graph;
  if (!gf)
    ir_die((Loc){0}, "kernel IR: %s has no graph function", kf->name);
  f.nargs = gf->args.n;
  f.nresults = kf->nresults;
  f.args = ir_alloc(sizeof(IfValue) * (size_t)(f.nargs + 1));
  f.results = ir_alloc(sizeof(IfValue) * (size_t)(f.nresults + 1));
  f.syms = ir_alloc(sizeof(int) * (size_t)(f.nargs * IR_MAX_RANK + 1));
  for (int i = 0; i < f.nargs; i++) {
    IrNode *a = gf->args.v[i];
    IfValue *v = &f.args[i];
    v->name = a->at.str ? a->at.str : a->name ? a->name : "?";
    v->dtype = a->type.dtype;
    v->rank = a->type.rank;
    v->has_default = a->at.has_default;
    v->default_value = a->at.has_default ? a->at.fval : 0.0;
    for (int j = 0; j < a->type.rank; j++)
      v->dims[j] = describe_dim(&f, a->type.dims[j], true);
  }
  /* the texts of computed dims ("N + 1"), numbered after every symbol:
   * the arguments' first (once all their symbols are bound), then the
   * results' */
  f.texts = ir_alloc(sizeof(char *) * (size_t)((f.nargs + f.nresults) * IR_MAX_RANK + 1));
  for (int i = 0; i < f.nargs; i++)
    for (int j = 0; j < f.args[i].rank; j++)
      if (f.args[i].dims[j].sym == IF_DIM_COMPUTED) {
        f.args[i].dims[j].value = f.nsyms + f.ntexts;
        f.texts[f.ntexts++] = f.args[i].dims[j].text;
      }
  for (int r = 0; r < f.nresults; r++) {
    IfValue *v = &f.results[r];
    *v = describe_buf(&f, k_buf(kf, kf->results[r]), f.nresults == 1 ? "out" : ir_sprintf("out%d", r));
    for (int i = 0; i < v->rank; i++)
      if (v->dims[i].sym == IF_DIM_COMPUTED) {
        v->dims[i].value = f.nsyms + f.ntexts;
        f.texts[f.ntexts++] = v->dims[i].text;
      }
  }
  Dim ws = list_bytes(kf, &kf->body);
  if (only_arg_syms(&f, ws)) {
    char text[512];
    f.workspace = ir_strdup(dim_format(ws, text, sizeof text));
    f.workspace_c = ir_strdup(dim_format_macro(ws, text, sizeof text));
  }
  return f;
}

/* ---- JSON ---- */

typedef struct Text {
  char *p;
  size_t len, cap;
} Text;

static void put(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Text *t, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  size_t n = (size_t)vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 1024;
    while (cap < t->len + n + 1)
      cap *= 2;
    char *p = ir_alloc(cap);
    if (t->p)
      memcpy(p, t->p, t->len);
    t->p = p;
    t->cap = cap;
  }
  vsnprintf(t->p + t->len, n + 1, fmt, ap2);
  va_end(ap2);
  t->len += n;
}

static void json_value(Text *t, const IfValue *v) {
  put(t, "{\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": [", v->name, ir_dtype_name(v->dtype));
  for (int i = 0; i < v->rank; i++) {
    const IfDim *d = &v->dims[i];
    if (d->sym == -1)
      put(t, "%s%lld", i ? ", " : "", (long long)d->value);
    else
      put(t, "%s\"%s\"", i ? ", " : "", d->text);
  }
  put(t, "]}");
}

static const char *json(const IfModule *it, KModule *m) {
  Text t = {0};
  put(&t, "{\"name\": \"%s\", \"abi\": %d, \"hash\": \"%016llx\", \"params\": [", it->prefix, TENSORC_ABI_VERSION,
      (unsigned long long)it->hash);
  int np = m->graph ? m->graph->params.n : 0;
  for (int i = 0; i < np; i++) {
    IrParam *p = m->graph->params.v[i];
    put(&t, "%s{\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": [", i ? ", " : "", p->name,
        ir_dtype_name(p->type.dtype));
    for (int j = 0; j < p->type.rank; j++) {
      char text[128];
      put(&t, "%s%s", j ? ", " : "", dim_format(p->type.dims[j], text, sizeof text));
    }
    put(&t, "]}");
  }
  put(&t, "], \"functions\": [");
  for (int i = 0; i < it->nfuncs; i++) {
    const IfFunc *f = &it->funcs[i];
    put(&t, "%s{\"name\": \"%s\", \"args\": [", i ? ", " : "", f->name);
    for (int k = 0; k < f->nargs; k++) {
      put(&t, "%s", k ? ", " : "");
      json_value(&t, &f->args[k]);
    }
    put(&t, "], \"results\": [");
    for (int r = 0; r < f->nresults; r++) {
      put(&t, "%s", r ? ", " : "");
      json_value(&t, &f->results[r]);
    }
    put(&t, "]}");
  }
  put(&t, "]}");
  return t.p;
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

IfModule *cg_iface(KModule *m, const char *prefix, const char *source, size_t len) {
  IfModule *it = ir_alloc(sizeof *it);
  it->prefix = prefix;
  it->funcs = ir_alloc(sizeof(IfFunc) * (size_t)(m->funcs.n + 1));
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    if (f->exported && f->graph) /* (hand-built kernel IR in tests has no graph: no interface) */
      it->funcs[it->nfuncs++] = cg_iface_func(f);
  }
  /* the hash covers the interface as the JSON states it (without the hash) */
  it->hash = 0;
  const char *sig = json(it, m);
  it->hash = fnv(fnv(0xcbf29ce484222325ull, source ? source : "", source ? len : 0), sig, strlen(sig));
  it->json = json(it, m);
  return it;
}

/* ---- the C header ---- */

static const char *c_type(DType dt) {
  switch (dt) {
  case DT_BOOL: return "bool";
  case DT_I32: return "int32_t";
  case DT_I64: return "int64_t";
  case DT_F32: return "float";
  default: return "double";
  }
}

static void type_text(Text *t, const IfValue *v) {
  put(t, "%s", ir_dtype_name(v->dtype));
  for (int i = 0; i < v->rank; i++)
    put(t, "%s%s", i ? ", " : "[", v->dims[i].text);
  if (v->rank)
    put(t, "]");
}

static char *upper(const char *s) {
  char *u = ir_strdup(s);
  for (char *p = u; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char)(*p - 'a' + 'A');
  return u;
}

/* Which arguments use each symbol: the shape contract. */
static void contract(Text *t, const IfFunc *f) {
  for (int s = 0; s < f->nsyms; s++) {
    put(t, " *   %s:", ir_sym_name(f->syms[s]));
    int uses = 0;
    for (int k = 0; k < f->nargs; k++)
      for (int i = 0; i < f->args[k].rank; i++)
        if (f->args[k].dims[i].sym == s)
          put(t, "%s %s axis %d", uses++ ? "," : "", f->args[k].name, i);
    put(t, "%s\n", uses > 1 ? " (must agree)" : "");
  }
}

/* Where the functions run: "cpu", "cuda" or "auto" (see IfModule.device). */
static const char *device_of(const IfModule *it, KModule *m) {
  return it->device ? it->device : m->target && m->target->name ? m->target->name : "cpu";
}

static const char *runs_on(const char *device) {
  if (strcmp(device, "cuda") == 0)
    return "the GPU the context opens";
  if (strcmp(device, "auto") == 0)
    return "the GPU the context opens, else the CPU";
  return "the CPU";
}

static void declare_func(Text *t, const IfModule *it, KModule *m, const IfFunc *f) {
  const char *P = upper(it->prefix), *F = upper(f->name);
  put(t, "\n/* %s(", f->name);
  for (int k = 0; k < f->nargs; k++) {
    put(t, "%s%s: ", k ? ", " : "", f->args[k].name);
    type_text(t, &f->args[k]);
  }
  put(t, ") -> ");
  for (int r = 0; r < f->nresults; r++) {
    put(t, "%s%s: ", r ? ", " : "", f->results[r].name);
    type_text(t, &f->results[r]);
  }
  put(t, "%s\n", f->nresults ? "" : "nothing");
  if (f->nsyms)
    put(t, " * Symbolic dims, bound by the first argument that has them:\n");
  contract(t, f);
  bool computed = false;
  for (int r = 0; r < f->nresults; r++)
    for (int i = 0; i < f->results[r].rank; i++)
      computed |= f->results[r].dims[i].sym == IF_DIM_COMPUTED;
  if (computed)
    put(t, " * Result dims that are not an argument's dim are checked after the call.\n");
  put(t, " * Runs on %s (%s).\n", runs_on(device_of(it, m)), device_of(it, m));
  if (f->workspace)
    put(t, " * Workspace: at most %s bytes, allocated during the call. */\n", f->workspace);
  else
    put(t, " * Workspace: depends on the data (sizes computed while running). */\n");
  if (f->workspace) {
    put(t, "#define %s_%s_WORKSPACE(", P, F);
    for (int s = 0; s < f->nsyms; s++)
      put(t, "%s%s", s ? ", " : "", ir_sym_name(f->syms[s]));
    put(t, ") ((int64_t)(%s))\n", f->workspace_c);
  }
  put(t, "int %s_%s(%s_ctx *ctx", it->prefix, f->name, it->prefix);
  for (int k = 0; k < f->nargs; k++) {
    const IfValue *v = &f->args[k];
    if (v->rank == 0)
      put(t, ", %s %s", c_type(v->dtype), v->name);
    else
      put(t, ", const DLTensor *%s", v->name);
  }
  for (int r = 0; r < f->nresults; r++)
    put(t, ", DLTensor *%s", f->results[r].name);
  put(t, ");\n");
}

/* Where the functions run and which tensors they take (docs/runtime.md). */
static void device_notes(Text *t, const IfModule *it, KModule *m) {
  const char *p = it->prefix, *P = upper(p), *dev = device_of(it, m);
  put(t, "\n/* Device: %s.  The functions run on %s", dev, runs_on(dev));
  if (strcmp(dev, "cpu") == 0) {
    put(t, ";\n * tensors are kDLCPU (a kDLCUDA one is refused with a message). */\n");
  } else {
    put(t, ":\n * tensorc_options.device, else $TC_DEVICE, says which (cuda, cuda:N%s).\n",
        strcmp(dev, "auto") == 0 ? ", cpu, auto" : "");
    put(t, " * Inputs may be kDLCPU tensors (copied to the device) or kDLCUDA tensors on the\n");
    if (it->device_args)
      put(t, " * context's device, read in place without a copy (C order; a strided one is\n"
             " * copied on the device).  ");
    else
      put(t, " * context's device, staged through host memory (this build's GPU code\n"
             " * takes its arguments in host memory).  ");
    put(t, "Outputs may be kDLCPU or kDLCUDA tensors.\n");
    put(t, " * %s_device(ctx) says where a context runs and why. */\n", p);
  }
  put(t, "#define %s_DEVICE \"%s\"\n", P, dev);
  put(t, "#define %s_DEVICE_ARGS_IN_PLACE %d\n", P, it->device_args ? 1 : 0);
  put(t, "static inline const char *%s_device(const %s_ctx *ctx) { return tcrt_api_device((const tc_ctx *)ctx); }\n",
      p, p);
}

bool cg_write_header(const IfModule *it, KModule *m, const char *path, const char *source) {
  const char *p = it->prefix, *P = upper(p);
  Text t = {0};
  put(&t, "/* %s.h - the C interface of %s, written by tensorc %s; do not edit.\n", p, source, TENSORC_VERSION_TEXT);
  put(&t, " *\n * Link %s.o with libtensorc_rt (pkg-config --libs tensorc).  Functions\n", p);
  put(&t, " * return 0 or a TC_ERR_* code with the text in %s_error(ctx); inputs are\n", p);
  put(&t, " * borrowed DLTensors, outputs caller-owned ones.  One context per thread. */\n");
  put(&t, "#ifndef %s_H_INCLUDED\n#define %s_H_INCLUDED\n\n#include <tensorc/api.h>\n\n", P, P);
  put(&t, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  put(&t, "#define %s_ABI_VERSION %d\n#define %s_HASH 0x%016llxull\n\n", P, TENSORC_ABI_VERSION, P,
      (unsigned long long)it->hash);
  put(&t, "typedef struct %s_ctx %s_ctx;\n\n", p, p);
  put(&t, "/* NULL options: defaults.  NULL on failure, with the reason in %s_error(NULL).\n", p);
  put(&t, " * The macro makes every call check this header against the object. */\n");
  put(&t, "%s_ctx *%s_create(const tensorc_options *opt);\n", p, p);
  put(&t, "%s_ctx *%s_create_checked(const tensorc_options *opt, int abi, uint64_t hash);\n", p, p);
  put(&t, "#define %s_create(opt) %s_create_checked((opt), %s_ABI_VERSION, %s_HASH)\n", p, p, P, P);
  put(&t, "void %s_destroy(%s_ctx *ctx);\n", p, p);
  put(&t, "const char *%s_error(const %s_ctx *ctx);\n", p, p);
  device_notes(&t, it, m);
  put(&t, "\n/* A view of a param's buffer (writable; valid until a call assigns the param). */\n");
  put(&t, "int %s_param(%s_ctx *ctx, const char *name, DLTensor *view);\n", p, p);
  int np = m->graph ? m->graph->params.n : 0;
  put(&t, "#define %s_NPARAMS %d\n", P, np);
  for (int i = 0; i < np; i++) {
    IrParam *pp = m->graph->params.v[i];
    IfValue v = {.name = pp->name, .dtype = pp->type.dtype, .rank = pp->type.rank};
    for (int j = 0; j < v.rank; j++) {
      char text[64];
      v.dims[j].text = ir_strdup(dim_format(pp->type.dims[j], text, sizeof text));
    }
    put(&t, "/*   param %s: ", pp->name);
    type_text(&t, &v);
    put(&t, "%s */\n", pp->embed_data ? " (embedded)" : "");
  }
  for (int i = 0; i < it->nfuncs; i++)
    declare_func(&t, it, m, &it->funcs[i]);
  put(&t, "\n/* The descriptor behind these functions (tensorc/api.h). */\nextern const tc_module %s_module;\n", p);
  put(&t, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");

  char *tmp = ir_sprintf("%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  bool ok = f && fwrite(t.p, 1, t.len, f) == t.len;
  ok = f && fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    ir_error((Loc){0}, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return false;
  }
  return true;
}
