/* driver/embed.c - params whose initial value is read at compile time and
 * embedded in the output (SPEC §1.4 embed(), §3 --params=DIR).
 *
 * embed("w.npy") gives the param its type: the file is read after resolve
 * and before the shape pass.  --params=DIR replaces the initial value of
 * every other param by DIR/NAME.npy once the shape pass has typed it: the
 * file must have the param's dtype and shape, and init no longer stores
 * the computed value.  Either way the bytes go to IrParam.embed_data;
 * codegen puts them in the object's read-only data and the init entry
 * copies them into the context.  The .npy reader is the runtime's.
 */
#include "driver.h"

#include "tensorc/runtime.h"

#include <string.h>

_Static_assert(DT_F32 == (int)TC_F32 && DT_I64 == (int)TC_I64, "DType and tc_dtype numbering must agree");

/* Reads path into arena memory, converted to `want` (TC_UNKNOWN: the
 * file's dtype); false after reporting at loc. */
static bool read_npy(const char *path, tc_dtype want, Loc loc, const char *what, tc_array *a) {
  char err[1024];
  const char *warning = NULL;
  if (tcrt_load_as(path, want, a, &warning, err, sizeof err) != TC_OK) {
    ir_error(loc, "%s: %s", what, err);
    return false;
  }
  if (warning)
    ir_warning(loc, "%s: %s", what, warning);
  int64_t bytes = tcrt_numel(a) * (int64_t)tcrt_dtype_size(a->dtype);
  void *copy = ir_alloc((size_t)(bytes > 0 ? bytes : 1));
  memcpy(copy, a->data, (size_t)bytes);
  tcrt_free(a->data);
  a->data = copy;
  return true;
}

static void set_value(IrParam *p, const tc_array *a) {
  p->embed_data = a->data;
  p->embed_bytes = tcrt_numel(a) * (int64_t)tcrt_dtype_size(a->dtype);
}

bool dr_embed_files(IrModule *m) {
  bool ok = true;
  for (int i = 0; i < m->params.n; i++) {
    IrParam *p = m->params.v[i];
    tc_array a;
    if (!p->embed)
      continue;
    if (!read_npy(p->embed, TC_UNKNOWN, p->loc, ir_sprintf("param %s: embed(\"%s\")", p->name, p->embed),
                  &a)) {
      ok = false;
      continue;
    }
    Dim dims[IR_MAX_RANK];
    for (int j = 0; j < a.rank; j++)
      dims[j] = dim_const(a.shape[j]);
    p->type = ir_type_tensor((DType)a.dtype, a.rank, dims);
    set_value(p, &a);
  }
  return ok;
}

/* Drops init's store of param `name`: its value now comes from the file. */
static void drop_store(IrModule *m, const char *name) {
  for (int f = 0; f < m->funcs.n; f++) {
    IrFunc *fn = m->funcs.v[f];
    if (!fn->is_init)
      continue;
    PtrVec *nodes = &fn->body->nodes;
    int k = 0;
    for (int i = 0; i < nodes->n; i++) {
      IrNode *n = nodes->v[i];
      if (!(n->op == IR_PARAM_STORE && n->at.str && strcmp(n->at.str, name) == 0))
        nodes->v[k++] = n;
    }
    nodes->n = k;
  }
}

bool dr_embed_dir(IrModule *m, const char *dir) {
  bool ok = true;
  for (int i = 0; i < m->params.n; i++) {
    IrParam *p = m->params.v[i];
    if (p->embed)
      continue; /* embed() names its own file */
    const char *path = ir_sprintf("%s/%s.npy", dir, p->name);
    tc_array a;
    if (!read_npy(path, (tc_dtype)p->type.dtype, p->loc, ir_sprintf("--params: param %s", p->name), &a)) {
      ok = false;
      continue;
    }
    bool same = a.rank == p->type.rank && (int)a.dtype == (int)p->type.dtype;
    for (int j = 0; same && j < a.rank; j++) {
      int64_t c;
      same = dim_is_const(p->type.dims[j], &c) && c == a.shape[j];
    }
    if (!same) {
      char want[256], got[256];
      Dim dims[IR_MAX_RANK];
      for (int j = 0; j < a.rank; j++)
        dims[j] = dim_const(a.shape[j]);
      IrType t = ir_type_tensor((DType)a.dtype, a.rank, dims);
      ir_error(p->loc, "--params: %s holds %s, but param %s is %s", path, ir_type_format(&t, got, sizeof got),
               p->name, ir_type_format(&p->type, want, sizeof want));
      ok = false;
      continue;
    }
    set_value(p, &a);
    drop_store(m, p->name);
  }
  return ok;
}
