/* frontend/resolve.c - the `resolve` stage: syntax tree to graph IR.
 *
 * This is the first stage of the pipeline (tensorc --list-passes).  It does
 * what DESIGN.md lists for resolve (names, imports, consts, inlining,
 * compile-time unrolling) while building the graph IR, because all of these
 * depend on the same environment of names:
 *
 *  1. Scopes.  Each module (the program and every import) gets a scope of
 *     its top-level declarations.
 *  2. Entry points.  `init` (the params' initial values), `main` and every
 *     `export def` become IR functions.  Everything else is inlined.
 *  3. Variables.  Python's names become SSA values: an environment maps each
 *     name to its current node.  Params are names too, shared by every
 *     inlined frame: read once at function entry, stored at exit if changed.
 *  4. Loops.  `for ... in range()` and `batches()` become FOR regions.  Every
 *     variable and param is first carried into the body; after the body,
 *     the ones it did not change are replaced by their initial value, and
 *     results nobody reads are pruned when the function is done.
 *  5. Branches.  `if` becomes an IF region whose results are the variables
 *     that differ between the branches.  `return` is an assignment to the
 *     hidden variables $return.K, so a return inside an `if` is a merge like
 *     any other; statements after an `if` that returns in only one branch
 *     are lowered into the other branch.
 *
 * Grammar-level checks are the parser's; type and shape checks are the
 * shape pass's.  What is left here: unknown names, wrong call arity,
 * recursion, and what must be known at compile time.
 */
#include "resolve.h"

#include <string.h>

/* ===== small helpers ===== */

Val rs_error(void) { return (Val){.kind = V_ERROR}; }

Val rs_node(IrNode *n, Loc loc) { return (Val){.kind = V_NODE, .node = n, .loc = loc}; }

IrNode *rs_emit(Resolver *L, IrOp op, Loc loc, int nargs, IrNode **args) {
  IrNode *n = ir_node_new(op, loc, nargs, args);
  ir_block_append(L->block, n);
  return n;
}

IrNode *rs_const_int(Resolver *L, Loc loc, int64_t v) {
  IrNode *n = rs_emit(L, IR_CONST, loc, 0, NULL);
  n->at.dtype = DT_I64;
  n->at.ival = v;
  n->at.fval = (double)v;
  return n;
}

IrNode *rs_const_float(Resolver *L, Loc loc, double v) {
  IrNode *n = rs_emit(L, IR_CONST, loc, 0, NULL);
  n->at.dtype = DT_F32;
  n->at.fval = v;
  return n;
}

static IrNode *const_bool(Resolver *L, Loc loc, bool v) {
  IrNode *n = rs_emit(L, IR_CONST, loc, 0, NULL);
  n->at.dtype = DT_BOOL;
  n->at.ival = v;
  n->at.fval = v;
  return n;
}

IrNode *rs_undef(Resolver *L, Loc loc, const char *name) {
  IrNode *n = rs_emit(L, IR_UNDEF, loc, 0, NULL);
  n->name = name;
  return n;
}

const char *rs_val_kind_text(ValKind k) {
  switch (k) {
  case V_NODE: return "a tensor";
  case V_TUPLE: return "a tuple";
  case V_LIST: return "a list";
  case V_MODULE: return "a module";
  case V_DTYPE: return "a dtype";
  case V_DEVICE: return "a device";
  case V_STRING: return "a string";
  case V_NONE: return "None";
  case V_SHAPE: return "a shape";
  case V_ERROR: return "an error";
  }
  return "?";
}

IrNode *rs_as_node(Resolver *L, Val v, const char *what) {
  if (v.kind == V_NODE)
    return v.node;
  if (v.kind == V_LIST && v.lit) /* a bare list literal is a tensor (SPEC 1.6) */
    return rs_tensor_literal(L, v.lit, false, DT_UNKNOWN);
  if (v.kind != V_ERROR)
    ir_error(v.loc, "%s must be a tensor or number, not %s", what, rs_val_kind_text(v.kind));
  return NULL;
}

/* ===== scopes ===== */

Decl *rs_lookup_decl(Scope *s, const char *name) {
  for (int i = 0; i < s->decls.n; i++) {
    Decl *d = s->decls.v[i];
    if (strcmp(d->name, name) == 0)
      return d;
  }
  return NULL;
}

static PtrVec all_scopes; /* every module, the program first */

static Scope *build_scope(IrModule *m, AstNode *ast, const char *name, int depth);

/* Declares the top-level items of one module; duplicates are errors. */
static void declare(IrModule *m, Scope *s, AstNode *item, int depth) {
  Decl *d = ir_alloc(sizeof *d);
  d->ast = item;
  d->name = item->name;
  switch (item->kind) {
  case AST_IMPORT: {
    d->kind = D_IMPORT;
    AstNode *ast = depth > 16 ? NULL : fe_load_module(item->name, item->loc);
    if (depth > 16)
      ir_error(item->loc, "imports nested more than 16 deep (an import cycle?)");
    if (!ast)
      return;
    for (int i = 0; i < all_scopes.n; i++) {
      Scope *other = all_scopes.v[i];
      if (other->ast == ast)
        d->module = other;
    }
    if (!d->module)
      d->module = build_scope(m, ast, item->name, depth + 1);
    break;
  }
  case AST_CONST: d->kind = D_CONST; break;
  case AST_PARAM: {
    d->kind = D_PARAM;
    IrParam *p = ir_alloc(sizeof *p);
    p->name = s->name ? ir_sprintf("%s.%s", s->name, item->name) : item->name;
    p->loc = item->loc;
    ir_vec_push(&m->params, p);
    d->param = p;
    break;
  }
  case AST_DEF: d->kind = D_DEF; break;
  default: ir_die(item->loc, "unexpected top-level %s", fe_ast_kind_name(item->kind));
  }
  Decl *old = rs_lookup_decl(s, d->name);
  if (old) {
    ir_error(item->loc, "'%s' is already defined in this module", d->name);
    ir_note(old->ast->loc, "previous definition of '%s' is here", d->name);
    return;
  }
  ir_vec_push(&s->decls, d);
}

static Scope *build_scope(IrModule *m, AstNode *ast, const char *name, int depth) {
  Scope *s = ir_alloc(sizeof *s);
  s->ast = ast;
  s->name = name;
  ir_vec_push(&all_scopes, s);
  for (int i = 0; i < ast->items.n; i++)
    declare(m, s, ast->items.v[i], depth);
  return s;
}

/* ===== names ===== */

static Val param_value(Resolver *L, IrParam *p, Loc loc) {
  Binding *b = rs_env_get(&L->params, p->name);
  if (!b || !b->node) {
    ir_error(loc, "param '%s' is used before it is initialised", p->name);
    ir_note(p->loc, "'%s' is declared here; params are initialised in order", p->name);
    return rs_error();
  }
  Val v = rs_node(b->node, loc);
  v.param = p->name;
  return v;
}

/* A symbolic dim of the function's signature, as an i64 scalar: zeros(N)
 * then has the shape f32[N] (the shape pass reads dim's operand type). */
static Val dim_value(Resolver *L, const char *name, Loc loc) {
  for (int i = 0; i < L->frame->dimvals.n; i++) {
    DimValue *d = L->frame->dimvals.v[i];
    if (strcmp(d->name, name) != 0)
      continue;
    IrNode *n = rs_emit(L, IR_DIM, loc, 1, &d->arg);
    n->at.ival = d->axis;
    n->name = name;
    return rs_node(n, loc);
  }
  return rs_error();
}

void rs_note_dim_values(Resolver *L, IrNode *arg, AstNode *type) {
  if (type->kind != AST_TYPE)
    return;
  for (int k = 0; k < type->items.n; k++) {
    AstNode *d = type->items.v[k];
    if (d->kind != AST_NAME || rs_lookup_decl(L->frame->module, d->name))
      continue; /* a const or an expression (N-1) is not a symbol */
    bool known = false;
    for (int i = 0; i < L->frame->dimvals.n; i++)
      known |= strcmp(((DimValue *)L->frame->dimvals.v[i])->name, d->name) == 0;
    if (known)
      continue;
    DimValue *v = ir_alloc(sizeof *v);
    *v = (DimValue){d->name, arg, k};
    ir_vec_push(&L->frame->dimvals, v);
  }
}

Val rs_lookup_name(Resolver *L, const char *name, Loc loc) {
  Binding *b = rs_env_get(&L->frame->locals, name);
  if (b) {
    if (b->alias) {
      IrParam *p = ir_module_param(L->m, b->alias);
      return param_value(L, p, loc);
    }
    if (b->unset && !b->unset->why)
      return rs_error(); /* poisoned: its definition's error was reported */
    if (b->unset && b->unset->guard) {
      rs_guard_read(b->unset, name);
    } else if (b->unset) {
      ir_error(loc, "name '%s' may be unassigned here", name);
      ir_note(b->unset->assigned, "'%s' is %s", name, b->unset->why);
      return rs_error();
    }
    return rs_node(b->node, loc);
  }
  Decl *d = rs_lookup_decl(L->frame->module, name);
  if (d) {
    switch (d->kind) {
    case D_CONST: {
      if (!rs_ceval_decl(L->frame->module, d))
        return rs_error();
      IrNode *n = d->cval.is_bool    ? const_bool(L, loc, d->cval.i)
                  : d->cval.is_float ? rs_const_float(L, loc, d->cval.f)
                                     : rs_const_int(L, loc, d->cval.i);
      n->name = d->name;
      return rs_node(n, loc);
    }
    case D_PARAM: return param_value(L, d->param, loc);
    case D_IMPORT: return (Val){.kind = d->module ? V_MODULE : V_ERROR, .module = d->module, .loc = loc};
    case D_DEF:
      ir_error(loc, "'%s' is a function: call it", name);
      return rs_error();
    }
  }
  DType dt = ir_dtype_from_name(name);
  if (dt != DT_UNKNOWN)
    return (Val){.kind = V_DTYPE, .dtype = dt, .loc = loc};
  if (strcmp(name, "cpu") == 0 || strcmp(name, "cuda") == 0)
    return (Val){.kind = V_DEVICE, .device = name[0] == 'c' && name[1] == 'p' ? DEV_CPU : DEV_CUDA, .loc = loc};
  if (strcmp(name, "inf") == 0 || strcmp(name, "nan") == 0 || strcmp(name, "pi") == 0) {
    double v = name[0] == 'i' ? __builtin_inf() : name[0] == 'n' ? __builtin_nan("") : 3.14159265358979323846;
    IrNode *n = rs_const_float(L, loc, v);
    return rs_node(n, loc);
  }
  Val dim = dim_value(L, name, loc);
  if (dim.kind != V_ERROR)
    return dim;
  if (rs_is_builtin(name))
    ir_error(loc, "'%s' is a built-in function: call it", name);
  else
    ir_error(loc, "name '%s' is not defined%s", name, rs_suggest_text(rs_suggest_name(L->frame->module, &L->frame->locals, name)));
  return rs_error();
}

/* The closest name defined where `name` is not. */
Suggest *rs_suggest_name(Scope *module, Env *locals, const char *name) {
  static const char *const constants[] = {"inf", "nan", "pi", "True", "False", "None"};
  Suggest *s = ir_alloc(sizeof *s);
  rs_suggest_init(s, name);
  for (int i = 0; locals && i < locals->n; i++)
    rs_suggest_add(s, locals->v[i].name);
  for (int i = 0; i < module->decls.n; i++)
    rs_suggest_add(s, ((Decl *)module->decls.v[i])->name);
  for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
    rs_suggest_add(s, constants[i]);
  return s;
}

/* After an error in the value of `name`: reading it later is a quiet
 * error, so one mistake does not cascade through everything computed from
 * it.  Params and consts keep their meaning. */
void rs_poison(Resolver *L, const char *name, Loc loc) {
  static const Unassigned poisoned = {.why = NULL};
  Binding *b = rs_env_get(&L->frame->locals, name);
  if ((b && b->alias) || (!b && rs_lookup_decl(L->frame->module, name)))
    return;
  rs_env_set(&L->frame->locals, name, rs_undef(L, loc, name));
  rs_env_get(&L->frame->locals, name)->unset = &poisoned;
}

/* Binds a variable.  A loop variable of `for p in params()` stands for a
 * param, so assigning to it updates that param. */
void rs_assign_name(Resolver *L, const char *name, IrNode *node, Loc loc) {
  Binding *b = rs_env_get(&L->frame->locals, name);
  if (!node->name)
    node->name = b && b->alias ? b->alias : name; /* p -= ... names the new W1 */
  if (b && b->alias) {
    rs_env_set(&L->params, b->alias, node);
    return;
  }
  if (!b) {
    Decl *d = rs_lookup_decl(L->frame->module, name);
    if (d && d->kind == D_PARAM) {
      rs_env_set(&L->params, d->param->name, node);
      return;
    }
    if (d && d->kind == D_CONST) {
      ir_error(loc, "cannot assign to const '%s'", name);
      ir_note(d->ast->loc, "'%s' is declared const here", name);
      return;
    }
  }
  rs_env_set(&L->frame->locals, name, node);
  rs_env_get(&L->frame->locals, name)->assigned = loc;
}

/* ===== types in annotations ===== */

/* Dimension symbols are per frame: each inlined call gets fresh ones. */
int rs_dim_symbol(Resolver *L, const char *name, Loc loc) {
  PtrVec *syms = &L->frame->dimsyms;
  for (int i = 0; i + 1 < syms->n; i += 2)
    if (strcmp(syms->v[i], name) == 0)
      return (int)(intptr_t)syms->v[i + 1];
  int sym = ir_sym_new(name, loc);
  ir_vec_push(syms, (void *)name);
  ir_vec_push(syms, (void *)(intptr_t)sym);
  return sym;
}

static bool eval_dim(Resolver *L, AstNode *e, Dim *out) {
  switch (e->kind) {
  case AST_INT:
    *out = dim_const(e->ival);
    return true;
  case AST_NAME: {
    Decl *d = rs_lookup_decl(L->frame->module, e->name);
    if (d && d->kind == D_CONST) {
      if (!rs_ceval_decl(L->frame->module, d))
        return false;
      if (d->cval.is_float || d->cval.is_bool) {
        ir_error(e->loc, "dimension '%s' must be an integer", e->name);
        return false;
      }
      *out = dim_const(d->cval.i);
      return true;
    }
    *out = dim_sym(rs_dim_symbol(L, e->name, e->loc));
    return true;
  }
  case AST_BINOP: {
    Dim a, b;
    if (e->op != AOP_ADD && e->op != AOP_SUB && e->op != AOP_MUL)
      break;
    if (!eval_dim(L, e->a, &a) || !eval_dim(L, e->b, &b))
      return false;
    *out = e->op == AOP_ADD ? dim_add(a, b) : e->op == AOP_SUB ? dim_sub(a, b) : dim_mul(a, b);
    return true;
  }
  case AST_UNOP:
    if (e->op == AOP_NEG && eval_dim(L, e->a, out)) {
      *out = dim_sub(dim_const(0), *out);
      return true;
    }
    break;
  default: break;
  }
  ir_error(e->loc, "a dimension must be an integer, a name, or +, - and * of those");
  return false;
}

IrType *rs_decl_type(Resolver *L, AstNode *t) {
  if (t->kind != AST_TYPE) {
    ir_error(t->loc, "expected a type such as f32[N, 64]");
    return NULL;
  }
  DType dt = ir_dtype_from_name(t->name);
  if (dt == DT_UNKNOWN) {
    ir_error(t->loc, "unknown dtype '%s' (expected f32, f64, i32, i64 or bool)", t->name);
    return NULL;
  }
  if (t->items.n > IR_MAX_RANK) {
    ir_error(t->loc, "a tensor type has at most %d dimensions, this one has %d", IR_MAX_RANK, t->items.n);
    return NULL;
  }
  IrType *ty = ir_alloc(sizeof *ty);
  Dim dims[IR_MAX_RANK];
  for (int i = 0; i < t->items.n; i++) {
    int64_t c;
    if (!eval_dim(L, t->items.v[i], &dims[i]))
      return NULL;
    if (dim_is_const(dims[i], &c) && c < 0) {
      ir_error(t->items.v[i]->loc, "a dimension cannot be negative (%lld)", (long long)c);
      return NULL;
    }
  }
  *ty = ir_type_tensor(dt, t->items.n, dims);
  return ty;
}

/* `v` must have the declared type; loc is where the value is given (the
 * call's argument, the returned value). */
static IrNode *check_type(Resolver *L, IrNode *v, Loc loc, AstNode *type, const char *name) {
  IrType *decl = rs_decl_type(L, type);
  if (!decl)
    return NULL;
  IrNode *c = rs_emit(L, IR_CHECK_TYPE, loc, 1, &v);
  c->at.decl = decl;
  c->at.decl_loc = type->loc;
  c->name = name;
  return c;
}

/* ===== calls of user functions: inlining ===== */

/* Binds the call's arguments to the callee's parameters, lowers its body
 * in a fresh frame, and returns its result. */
Val rs_inline_call(Resolver *L, Scope *module, Decl *d, AstNode *call, Val *self) {
  AstNode *def = d->ast;
  for (Frame *f = L->frame; f; f = f->caller)
    if (f->def == def) {
      ir_error(call->loc, "recursive call of '%s': functions are inlined, so recursion is not supported",
               def->name);
      ir_note(def->loc, "'%s' is defined here", def->name);
      return rs_error();
    }
  if (L->depth >= 64) {
    ir_error(call->loc, "calls nested more than 64 deep");
    return rs_error();
  }
  /* 1. Match arguments to parameters (in the caller's frame). */
  int np = def->items.n;
  Val *bound = ir_alloc(sizeof(Val) * (size_t)(np ? np : 1));
  bool *given = ir_alloc(sizeof(bool) * (size_t)(np ? np : 1));
  int pos = 0;
  if (self) {
    ir_error(call->loc, "'%s' is a function, not a method", def->name);
    return rs_error();
  }
  bool ok = true;
  for (int i = 0; i < call->items.n; i++) {
    AstNode *a = call->items.v[i];
    int slot = -1;
    if (a->kind == AST_KWARG) {
      for (int k = 0; k < np; k++)
        if (strcmp(def->items.v[k]->name, a->name) == 0)
          slot = k;
      if (slot < 0) {
        ir_error(a->loc, "'%s' has no parameter named '%s'", def->name, a->name);
        ir_note(def->loc, "'%s' is defined here", def->name);
        ok = false;
        continue;
      }
    } else {
      slot = pos++;
      if (slot >= np) {
        ir_error(a->loc, "'%s' takes %d argument%s, but more were given", def->name, np, np == 1 ? "" : "s");
        ir_note(def->loc, "'%s' is defined here", def->name);
        return rs_error();
      }
    }
    if (given[slot]) {
      ir_error(a->loc, "argument '%s' of '%s' is given twice", def->items.v[slot]->name, def->name);
      ok = false;
      continue;
    }
    given[slot] = true;
    bound[slot] = rs_expr(L, a->kind == AST_KWARG ? a->a : a);
    if (bound[slot].kind == V_ERROR)
      ok = false;
  }
  for (int k = 0; k < np; k++)
    if (!given[k] && !def->items.v[k]->b) {
      ir_error(call->loc, "call of '%s' is missing argument '%s'", def->name, def->items.v[k]->name);
      ir_note(def->items.v[k]->loc, "'%s' is declared here", def->items.v[k]->name);
      ok = false;
    }
  if (!ok)
    return rs_error();

  /* 2. A fresh frame: the callee's parameters become its first locals. */
  Frame frame = {.module = module, .def = def, .caller = L->frame, .call_loc = call->loc, .nret = -1};
  Frame *caller = L->frame;
  int caller_loops = L->loops; /* a return in the callee is not in the caller's loop */
  L->frame = &frame;
  L->loops = 0;
  L->depth++;
  for (int k = 0; k < np && ok; k++) {
    AstNode *param = def->items.v[k];
    Val v = given[k] ? bound[k] : rs_expr(L, param->b);
    IrNode *n = rs_as_node(L, v, ir_sprintf("argument '%s' of '%s'", param->name, def->name));
    if (!n) {
      ok = false;
      break;
    }
    if (param->a) {
      n = check_type(L, n, given[k] ? v.loc : param->b->loc, param->a, param->name);
      if (!n) {
        ok = false;
        break;
      }
      rs_note_dim_values(L, n, param->a);
    }
    rs_env_set(&frame.locals, param->name, n);
  }
  /* 3. The body, then the return values (checked against the annotation). */
  Val result = rs_error();
  if (ok) {
    if (rs_contains_return(&def->body) && !rs_always_returns(&def->body))
      ir_error(def->loc, "'%s' does not return a value on every path", def->name);
    rs_lower_stmts(L, &def->body, 0);
    int nret = frame.nret < 0 ? 0 : frame.nret;
    PtrVec outs = {0};
    for (int i = 0; i < nret; i++) {
      Binding *b = rs_env_get(&frame.locals, ir_sprintf("$return.%d", i));
      if (!b)
        break;
      ir_vec_push(&outs, b->node);
    }
    AstNode *rt = def->a;
    if (rt && outs.n == nret) {
      int nt = rt->kind == AST_TUPLE ? rt->items.n : 1;
      if (nt != nret) {
        ir_error(def->loc, "'%s' is declared to return %d value%s but returns %d", def->name, nt,
                 nt == 1 ? "" : "s", nret);
      } else {
        for (int i = 0; i < nret; i++) {
          IrNode *c = check_type(L, outs.v[i], ((IrNode *)outs.v[i])->loc, rt->kind == AST_TUPLE ? rt->items.v[i] : rt, NULL);
          if (c)
            outs.v[i] = c;
        }
      }
    }
    if (outs.n != nret) {
      result = rs_error();
    } else if (nret == 0) {
      result = (Val){.kind = V_NONE, .loc = call->loc};
    } else if (nret == 1) {
      result = rs_node(outs.v[0], call->loc);
    } else {
      result = (Val){.kind = V_TUPLE, .n = nret, .loc = call->loc};
      result.elems = ir_alloc(sizeof(Val) * (size_t)nret);
      for (int i = 0; i < nret; i++)
        result.elems[i] = rs_node(outs.v[i], call->loc);
    }
  }
  L->depth--;
  L->frame = caller;
  L->loops = caller_loops;
  return result;
}

/* ===== entry functions ===== */

static IrFunc *new_func(IrModule *m, const char *name, Loc loc) {
  IrFunc *f = ir_alloc(sizeof *f);
  f->name = name;
  f->loc = loc;
  f->body = ir_block_new(NULL);
  ir_vec_push(&m->funcs, f);
  return f;
}

/* Reads every param at entry, so loops and branches can carry them. */
static void read_params(Resolver *L) {
  for (int i = 0; i < L->m->params.n; i++) {
    IrParam *p = L->m->params.v[i];
    IrNode *n = rs_emit(L, IR_PARAM, p->loc, 0, NULL);
    n->at.str = p->name;
    n->name = p->name;
    rs_env_set(&L->params, p->name, n);
  }
}

/* Stores the params whose value changed, before the function returns. */
static void store_params(Resolver *L, Env *initial, Loc loc) {
  for (int i = 0; i < L->params.n; i++) {
    Binding *b = &L->params.v[i];
    Binding *o = rs_env_get(initial, b->name);
    if (!b->node || (o && o->node == b->node))
      continue;
    IrNode *s = rs_emit(L, IR_PARAM_STORE, loc, 1, &b->node);
    s->at.str = b->name;
  }
}

static void lower_entry(IrModule *m, Scope *root, AstNode *def) {
  Resolver L = {.m = m};
  IrFunc *f = new_func(m, def->name, def->loc);
  f->exported = def->exported;
  f->is_main = strcmp(def->name, "main") == 0;
  Frame frame = {.module = root, .def = def, .nret = -1};
  L.fn = f;
  L.block = f->body;
  L.frame = &frame;

  /* Arguments: typed (exported functions need types), defaults for main. */
  for (int k = 0; k < def->items.n; k++) {
    AstNode *a = def->items.v[k];
    IrNode *n = ir_node_new(IR_ARG, a->loc, 0, NULL);
    n->name = a->name;
    n->at.str = a->name;
    rs_env_set(&frame.locals, a->name, n); /* even when wrong: no "not defined" cascade */
    if (!a->a) {
      ir_error(a->loc, "argument '%s' of %s '%s' needs a type, e.g. '%s: f32[N, 64]'", a->name,
               f->is_main ? "the entry point" : "exported function", def->name, a->name);
      continue;
    }
    IrType *t = rs_decl_type(&L, a->a);
    if (!t)
      continue;
    n->type = *t;
    rs_note_dim_values(&L, n, a->a);
    if (a->b) {
      CVal c;
      if (t->rank != 0)
        ir_error(a->b->loc, "only scalar arguments can have a default value");
      else if (rs_ceval(&L, a->b, &c, false)) {
        if (c.is_float && !ir_dtype_is_float(t->dtype)) /* (2.5 or inf in an i64: no silent truncation) */
          ir_error(a->b->loc, "the default value of '%s' is %g, a float, but '%s' is %s: write an integer", a->name,
                   c.f, a->name, ir_dtype_name(t->dtype));
        n->at.has_default = true;
        n->at.fval = c.is_float ? c.f : (double)c.i;
        n->at.ival = c.is_float ? 0 : c.i;
      }
    }
    ir_vec_push(&f->args, n);
  }
  read_params(&L);
  Env initial = rs_env_copy(&L.params);
  if (rs_contains_return(&def->body) && !rs_always_returns(&def->body))
    ir_error(def->loc, "'%s' does not return a value on every path", def->name);
  rs_lower_stmts(&L, &def->body, 0);

  PtrVec outs = {0};
  int nret = frame.nret < 0 ? 0 : frame.nret;
  for (int i = 0; i < nret; i++) {
    Binding *b = rs_env_get(&frame.locals, ir_sprintf("$return.%d", i));
    if (b)
      ir_vec_push(&outs, b->node);
  }
  if (def->a && outs.n == nret) {
    int nt = def->a->kind == AST_TUPLE ? def->a->items.n : 1;
    if (nt != nret)
      ir_error(def->loc, "'%s' is declared to return %d value%s but returns %d", def->name, nt, nt == 1 ? "" : "s",
               nret);
    else
      for (int i = 0; i < nret; i++) {
        IrNode *c = check_type(&L, outs.v[i], ((IrNode *)outs.v[i])->loc, def->a->kind == AST_TUPLE ? def->a->items.v[i] : def->a, NULL);
        if (c)
          outs.v[i] = c;
      }
  }
  store_params(&L, &initial, def->loc);
  IrNode *ret = ir_node_new(IR_RETURN, def->loc, 0, NULL);
  rs_set_args(ret, &outs);
  ir_block_append(L.block, ret);
  rs_prune_results(f);
}

/* `param W = embed("w.npy")`: the file is named relative to the .tc file
 * that says so and read by the driver before the shape pass (it sets the
 * param's type and value, driver/embed.c); init only reads the param, so
 * the params after it can use its value. */
static void embed_param(Resolver *L, Decl *d, AstNode *e) {
  AstNode *arg = e->items.n == 1 ? e->items.v[0] : NULL;
  if (!arg || arg->kind != AST_STRING) {
    ir_error(arg ? arg->loc : e->loc, "embed() takes one string, the path of a .npy file");
    return;
  }
  const char *path = arg->str, *file = e->loc.file, *slash = file ? strrchr(file, '/') : NULL;
  if (path[0] != '/' && slash)
    path = ir_sprintf("%.*s/%s", (int)(slash - file), file, path);
  d->param->embed = path;
  IrNode *n = rs_emit(L, IR_PARAM, e->loc, 0, NULL);
  n->at.str = d->param->name;
  n->name = d->param->name;
  rs_env_set(&L->params, d->param->name, n);
}

/* `init`: the params' initial values, in declaration order (imports'
 * params first, as Python would run the imported module first). */
static void lower_init(IrModule *m) {
  Resolver L = {.m = m};
  IrFunc *f = new_func(m, "init", (Loc){0});
  f->is_init = true;
  L.fn = f;
  L.block = f->body;
  for (int s = all_scopes.n - 1; s >= 0; s--) {
    Scope *scope = all_scopes.v[s];
    Frame frame = {.module = scope, .nret = -1};
    L.frame = &frame;
    for (int i = 0; i < scope->decls.n; i++) {
      Decl *d = scope->decls.v[i];
      if (d->kind != D_PARAM)
        continue;
      AstNode *e = d->ast->a;
      if (e->kind == AST_CALL && e->a->kind == AST_NAME && strcmp(e->a->name, "embed") == 0) {
        embed_param(&L, d, e);
        continue;
      }
      IrNode *v = rs_as_node(&L, rs_expr(&L, e), ir_sprintf("the initial value of param '%s'", d->name));
      if (!v)
        continue;
      if (!v->name)
        v->name = d->param->name;
      IrNode *st = rs_emit(&L, IR_PARAM_STORE, d->ast->loc, 1, &v);
      st->at.str = d->param->name;
      rs_env_set(&L.params, d->param->name, v);
    }
  }
  IrNode *ret = rs_emit(&L, IR_RETURN, (Loc){0}, 0, NULL);
  (void)ret;
}

IrModule *fe_resolve(AstNode *program, const char *module_name) {
  int errors = ir_error_count();
  IrModule *m = ir_alloc(sizeof *m);
  m->name = module_name;
  all_scopes = (PtrVec){0}; /* not .n = 0: the array may be a freed arena's (ir_arena_reset) */
  Scope *root = build_scope(m, program, NULL, 0);
  if (ir_error_count() > errors)
    return NULL;
  /* Consts first, so errors in them are reported once, in order. */
  for (int s = 0; s < all_scopes.n; s++) {
    Scope *scope = all_scopes.v[s];
    for (int i = 0; i < scope->decls.n; i++) {
      Decl *d = scope->decls.v[i];
      if (d->kind == D_CONST)
        rs_ceval_decl(scope, d);
    }
  }
  lower_init(m);
  for (int i = 0; i < root->decls.n; i++) {
    Decl *d = root->decls.v[i];
    if (d->kind == D_DEF && (d->ast->exported || strcmp(d->name, "main") == 0))
      lower_entry(m, root, d->ast);
  }
  return ir_error_count() > errors ? NULL : m;
}
