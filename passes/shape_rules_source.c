/* passes/shape_rules_source.c - shape rules of the values that enter a
 * computation: arguments, literals, params, loop block arguments, the
 * "not yet assigned" marker and declared-type checks (CHECK_TYPE), which
 * bind the symbols of an inlined function's annotations to its caller's
 * dims.
 */
#include "shape_internal.h"

#include <string.h>

/* Entry arguments arrive typed by the lowering; the type is kept. */
void shape_arg(ShapeCtx *S, IrNode *n) {
  n->has_symval = false;
  IrType *t = &n->type;
  if (t->kind == TY_UNKNOWN) {
    const char *name = n->at.str ? n->at.str : n->name ? n->name : "?";
    if (S->fn && (S->fn->exported || S->fn->is_main))
      sh_error(S, n->loc, "argument '%s' of '%s' needs a type annotation", name, S->fn->name);
    sh_poison(n);
    return;
  }
  if (t->kind != TY_TENSOR || t->dtype == DT_UNKNOWN || t->rank < 0)
    ir_die(n->loc, "argument with a malformed type");
  t->weak = false;
  /* the rank and dims are checked by the walker (check_result) */
}

void shape_const(ShapeCtx *S, IrNode *n) {
  if (n->at.dtype == DT_UNKNOWN)
    ir_die(n->loc, "constant without a dtype");
  n->type = ir_type_scalar(n->at.dtype);
  n->type.weak = true;
  if (ir_dtype_is_int(n->at.dtype)) {
    n->has_symval = true;
    n->symval = dim_const(n->at.ival);
  }
}

void shape_tensor(ShapeCtx *S, IrNode *n) {
  if (!sh_check_rank(S, n, n->at.rank)) {
    sh_poison(n);
    return;
  }
  Dim dims[IR_MAX_RANK];
  for (int i = 0; i < n->at.rank; i++) {
    if (n->at.shape[i] < 0)
      ir_die(n->loc, "tensor literal with a negative size");
    dims[i] = dim_const(n->at.shape[i]);
  }
  sh_set(n, n->at.dtype != DT_UNKNOWN ? n->at.dtype : DT_F32, n->at.rank, dims, DEV_DEFAULT);
}

static int param_index(ShapeCtx *S, const char *name, Loc loc) {
  for (int i = 0; name && i < S->m->params.n; i++)
    if (strcmp(((IrParam *)S->m->params.v[i])->name, name) == 0)
      return i;
  ir_die(loc, "unknown param '%s'", name ? name : "(null)");
}

void shape_param(ShapeCtx *S, IrNode *n) {
  int i = param_index(S, n->at.str, n->loc);
  IrParam *p = S->m->params.v[i];
  switch (S->pstate[i]) {
  case PARAM_SET:
    n->type = p->type;
    n->type.weak = false;
    break;
  case PARAM_POISONED:
    sh_poison(n);
    break;
  case PARAM_UNSET:
    sh_error(S, n->loc, "param '%s' is read before its initial value is computed", p->name);
    sh_note(S, p->loc, "'%s' is declared here", p->name);
    sh_poison(n);
    break;
  }
}

/* Stores outside the init function must keep the param's dtype and shape;
 * the init function's first store defines them. */
void shape_param_store(ShapeCtx *S, IrNode *n) {
  int i = param_index(S, n->at.str, n->loc);
  IrParam *p = S->m->params.v[i];
  IrType v = sh_type(S, n->args[0]);
  n->type.kind = TY_NONE;
  if (S->pstate[i] != PARAM_SET) {
    if (S->fn && S->fn->is_init) {
      p->type = v;
      p->type.weak = false;
      S->pstate[i] = PARAM_SET;
      return;
    }
    if (S->pstate[i] == PARAM_POISONED)
      return;
    sh_error(S, n->loc, "param '%s' is assigned before its initial value is computed", p->name);
    return;
  }
  IrType pt = p->type;
  for (int k = 0; k < pt.rank; k++)
    pt.dims[k] = sh_resolve(S, pt.dims[k]);
  const char *why = NULL;
  char detail[300];
  if (v.dtype != pt.dtype && !(v.weak && v.rank == 0 && pt.rank == 0)) {
    snprintf(detail, sizeof detail, "dtype %s is not %s", ir_dtype_name(v.dtype), ir_dtype_name(pt.dtype));
    why = detail;
  } else if (v.rank != pt.rank) {
    snprintf(detail, sizeof detail, "rank %d is not %d", v.rank, pt.rank);
    why = detail;
  } else if (v.device != DEV_DEFAULT && pt.device != DEV_DEFAULT && v.device != pt.device) {
    snprintf(detail, sizeof detail, "%s is not %s", ir_device_name(v.device), ir_device_name(pt.device));
    why = detail;
  } else {
    for (int k = 0; k < v.rank && !why; k++)
      if (!sh_unify(S, v.dims[k], pt.dims[k])) {
        snprintf(detail, sizeof detail, "axis %d: %s", k, sh_clash(v.dims[k], pt.dims[k]));
        why = detail;
      }
  }
  if (why) {
    /* the lowering stores params where a function ends: point at the value */
    Loc at = n->args[0]->loc.file ? n->args[0]->loc : n->loc;
    sh_error(S, at, "cannot assign %s to param '%s' of type %s (%s)", sh_tstr(&v), p->name,
             sh_tstr(&pt), why);
    sh_note(S, p->loc, "'%s' is declared here", p->name);
  }
}

void shape_undef(ShapeCtx *S, IrNode *n) {
  sh_poison(n);
  sh_info(S, n)->undef = true;
}

/* Block arguments are typed by their FOR before the body is walked. */
void shape_block_arg(ShapeCtx *S, IrNode *n) {}

/* Unifies the operand's type with a declared one (an inlined function's
 * argument or result annotation): equal dtypes (a Python scalar converts
 * to a wider category), equal ranks, each dim unified. */
void shape_check_type(ShapeCtx *S, IrNode *n) {
  if (!n->at.decl || n->at.decl->kind != TY_TENSOR || n->at.decl->rank < 0)
    ir_die(n->loc, "check_type without a declared tensor type");
  IrType t = sh_type(S, n->args[0]);
  IrType decl = *n->at.decl; /* as written, for messages */
  if (!sh_check_rank(S, n, decl.rank)) {
    sh_poison(n);
    return;
  }
  char detail[300];
  const char *why = NULL;
  IrType res = t;
  res.weak = false;
  if (t.dtype != decl.dtype) {
    if (t.weak && t.rank == 0 && sh_category(t.dtype) <= sh_category(decl.dtype)) {
      res.dtype = decl.dtype; /* a Python scalar takes the declared dtype */
    } else {
      snprintf(detail, sizeof detail, "dtype %s is not %s", ir_dtype_name(t.dtype), ir_dtype_name(decl.dtype));
      why = detail;
    }
  }
  if (!why && t.rank != decl.rank) {
    snprintf(detail, sizeof detail, "rank %d is not %d", t.rank, decl.rank);
    why = detail;
  }
  if (!why && decl.device != DEV_DEFAULT && t.device != DEV_DEFAULT && decl.device != t.device) {
    snprintf(detail, sizeof detail, "device %s is not %s", ir_device_name(t.device), ir_device_name(decl.device));
    why = detail;
  }
  for (int k = 0; !why && k < t.rank; k++) {
    if (decl.dims[k].overflow) {
      sh_error(S, n->at.decl_loc, "dimension expression too complex");
      sh_poison(n);
      return;
    }
    Dim a = sh_resolve(S, t.dims[k]), b = sh_resolve(S, decl.dims[k]);
    if (!sh_unify(S, a, b)) {
      snprintf(detail, sizeof detail, "axis %d: %s", k, sh_clash(a, b));
      why = detail;
    }
  }
  if (why) {
    sh_error(S, n->loc, "type mismatch: expected %s, but got %s (%s)", sh_tstr(&decl), sh_tstr(&t), why);
    sh_note(S, n->at.decl_loc, "declared as %s here", sh_tstr(&decl));
    if (n->args[0]->loc.line != n->loc.line || n->args[0]->loc.col != n->loc.col)
      sh_note(S, n->args[0]->loc, "the value comes from here");
    sh_poison(n);
    return;
  }
  if (decl.device != DEV_DEFAULT)
    res.device = decl.device;
  for (int k = 0; k < res.rank; k++)
    res.dims[k] = sh_resolve(S, res.dims[k]);
  n->type = res;
  sh_symval_arith(S, n);
}
