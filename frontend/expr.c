/* frontend/expr.c - lowering expressions to graph IR.
 *
 * Operators become elementwise ops, calls are either inlined (user
 * functions, resolve.c) or built-ins (builtins.c), and indexing becomes one
 * INDEX / INDEX_SET op whose items refer to its operands.  Values that are
 * not tensors (modules, dtypes, devices, lists, tuples) travel as `Val`s.
 */
#include "resolve.h"

#include <math.h>
#include <string.h>

static const IrOp binop[] = {
    [AOP_ADD] = IR_ADD, [AOP_SUB] = IR_SUB, [AOP_MUL] = IR_MUL, [AOP_DIV] = IR_DIV,
    [AOP_FLOORDIV] = IR_FLOORDIV, [AOP_MOD] = IR_MOD, [AOP_POW] = IR_POW, [AOP_MATMUL] = IR_MATMUL,
    [AOP_LT] = IR_LT, [AOP_LE] = IR_LE, [AOP_GT] = IR_GT, [AOP_GE] = IR_GE, [AOP_EQ] = IR_EQ,
    [AOP_NE] = IR_NE, [AOP_AND] = IR_AND, [AOP_OR] = IR_OR,
};

static Val lower_binop(Resolver *L, AstNode *e) {
  Val a = rs_expr(L, e->a), b = rs_expr(L, e->b);
  IrNode *x = rs_as_node(L, a, ir_sprintf("the left operand of '%s'", fe_ast_op_text(e->op)));
  IrNode *y = rs_as_node(L, b, ir_sprintf("the right operand of '%s'", fe_ast_op_text(e->op)));
  if (!x || !y)
    return rs_error();
  if (e->op >= sizeof binop / sizeof binop[0] || !binop[e->op])
    ir_die(e->loc, "bad binary operator %d", (int)e->op);
  /* Two Python ints: 2 ** -1 is 0.5, as in Python (NumPy's integer
   * tensors refuse a negative power: passes/simplify.c) */
  if (e->op == AOP_POW && x->op == IR_CONST && y->op == IR_CONST && ir_dtype_is_int(x->at.dtype) &&
      ir_dtype_is_int(y->at.dtype) && y->at.ival < 0) {
    if (x->at.ival == 0) {
      ir_error(e->loc, "0 cannot be raised to a negative power (%lld)", (long long)y->at.ival);
      return rs_error();
    }
    return rs_node(rs_const_float(L, e->loc, pow((double)x->at.ival, (double)y->at.ival)), e->loc);
  }
  IrNode *args[2] = {x, y};
  return rs_node(rs_emit(L, binop[e->op], e->loc, 2, args), e->loc);
}

static Val lower_unop(Resolver *L, AstNode *e) {
  IrNode *x = rs_as_node(L, rs_expr(L, e->a), ir_sprintf("the operand of '%s'", fe_ast_op_text(e->op)));
  if (!x)
    return rs_error();
  if (e->op == AOP_POS)
    return rs_node(x, e->loc);
  /* -3 is a literal, so constant dims and indices stay constants. */
  if (e->op == AOP_NEG && x->op == IR_CONST && !x->name && x->at.dtype != DT_BOOL) {
    x->at.ival = (int64_t)(0 - (uint64_t)x->at.ival);
    x->at.fval = -x->at.fval;
    x->loc = e->loc;
    return rs_node(x, e->loc);
  }
  return rs_node(rs_emit(L, e->op == AOP_NEG ? IR_NEG : IR_NOT, e->loc, 1, &x), e->loc);
}

/* x[items] (value == NULL) or x with x[items] = value. */
IrNode *rs_index_node(Resolver *L, IrNode *x, IrNode *value, AstNode *index) {
  PtrVec ops = {0};
  ir_vec_push(&ops, x);
  if (value)
    ir_vec_push(&ops, value);
  int n = index->items.n;
  IrIndexItem *items = ir_alloc(sizeof(IrIndexItem) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++) {
    AstNode *it = index->items.v[i];
    IrIndexItem *d = &items[i];
    d->arg = d->start = d->stop = d->step = -1;
    switch (it->kind) {
    case AST_NONE: d->kind = IDX_NEWAXIS; break;
    case AST_ELLIPSIS: d->kind = IDX_ELLIPSIS; break;
    case AST_SLICE: {
      d->kind = IDX_SLICE;
      AstNode *parts[3] = {it->a, it->b, it->c};
      int *slots[3] = {&d->start, &d->stop, &d->step};
      for (int k = 0; k < 3; k++) {
        if (!parts[k] || parts[k]->kind == AST_NONE)
          continue;
        IrNode *p = rs_as_node(L, rs_expr(L, parts[k]), "a slice bound");
        if (!p)
          return NULL;
        *slots[k] = ops.n;
        ir_vec_push(&ops, p);
      }
      break;
    }
    default: {
      /* A scalar or a tensor: the shape pass tells them apart by rank. */
      IrNode *p = rs_as_node(L, rs_expr(L, it), "an index");
      if (!p)
        return NULL;
      d->kind = IDX_SCALAR;
      d->arg = ops.n;
      ir_vec_push(&ops, p);
    }
    }
  }
  IrNode *r = rs_emit(L, value ? IR_INDEX_SET : IR_INDEX, index->loc, ops.n, (IrNode **)ops.v);
  r->at.idx = items;
  r->at.nidx = n;
  return r;
}

static Val lower_index(Resolver *L, AstNode *e) {
  Val obj = rs_expr(L, e->a);
  if (obj.kind == V_ERROR)
    return obj;
  if (obj.kind == V_SHAPE || obj.kind == V_TUPLE || obj.kind == V_LIST) {
    CVal c;
    if (e->items.n != 1 || !rs_ceval(L, e->items.v[0], &c, true) || c.is_float || c.is_bool) {
      ir_error(e->loc, "%s can only be indexed by one integer known at compile time",
               obj.kind == V_SHAPE ? "a shape" : "a tuple or list");
      return rs_error();
    }
    if (obj.kind == V_SHAPE) {
      IrNode *d = rs_emit(L, IR_DIM, e->loc, 1, &obj.node);
      d->at.ival = c.i;
      return rs_node(d, e->loc);
    }
    int64_t k = c.i < 0 ? c.i + obj.n : c.i;
    if (k < 0 || k >= obj.n) {
      ir_error(e->items.v[0]->loc, "index %lld is out of range for %d values", (long long)c.i, obj.n);
      return rs_error();
    }
    return obj.elems[k];
  }
  IrNode *x = rs_as_node(L, obj, "an indexed value");
  if (!x)
    return rs_error();
  IrNode *r = rs_index_node(L, x, NULL, e);
  return r ? rs_node(r, e->loc) : rs_error();
}

static Val lower_seq(Resolver *L, AstNode *e, ValKind kind) {
  Val v = {.kind = kind, .loc = e->loc, .n = e->items.n, .lit = kind == V_LIST ? e : NULL};
  v.elems = ir_alloc(sizeof(Val) * (size_t)(v.n ? v.n : 1));
  for (int i = 0; i < v.n; i++) {
    v.elems[i] = rs_expr(L, e->items.v[i]);
    if (v.elems[i].kind == V_ERROR)
      return rs_error();
  }
  return v;
}

/* The closest function a call of an unknown `name` may have meant. */
static Suggest *suggest_function(Scope *module, const char *name) {
  Suggest *s = ir_alloc(sizeof *s);
  rs_suggest_init(s, name);
  for (int i = 0; i < module->decls.n; i++)
    if (((Decl *)module->decls.v[i])->kind == D_DEF)
      rs_suggest_add(s, ((Decl *)module->decls.v[i])->name);
  rs_suggest_builtins(s, false);
  return s;
}

static Val lower_call(Resolver *L, AstNode *e) {
  AstNode *callee = e->a;
  if (callee->kind == AST_NAME) {
    Decl *d = rs_lookup_decl(L->frame->module, callee->name);
    if (d && d->kind == D_DEF)
      return rs_inline_call(L, L->frame->module, d, e, NULL);
    if (d || rs_env_get(&L->frame->locals, callee->name)) {
      ir_error(callee->loc, "'%s' is not a function", callee->name);
      return rs_error();
    }
    if (rs_is_builtin(callee->name))
      return rs_builtin_call(L, callee->name, e, NULL);
    if (strcmp(callee->name, "range") == 0 || strcmp(callee->name, "batches") == 0)
      ir_error(callee->loc, "%s() can only be used as the iterable of a for loop", callee->name);
    else
      ir_error(callee->loc, "unknown function '%s'%s", callee->name,
               rs_suggest_text(suggest_function(L->frame->module, callee->name)));
    return rs_error();
  }
  if (callee->kind == AST_ATTR) {
    Val obj = rs_expr(L, callee->a);
    if (obj.kind == V_ERROR)
      return obj;
    if (obj.kind == V_MODULE) {
      Decl *d = rs_lookup_decl(obj.module, callee->name);
      if (!d || d->kind != D_DEF) {
        Suggest s;
        rs_suggest_init(&s, callee->name);
        for (int i = 0; i < obj.module->decls.n; i++)
          if (((Decl *)obj.module->decls.v[i])->kind == D_DEF)
            rs_suggest_add(&s, ((Decl *)obj.module->decls.v[i])->name);
        ir_error(callee->loc, "module '%s' has no function '%s'%s", obj.module->name, callee->name,
                 rs_suggest_text(&s));
        return rs_error();
      }
      return rs_inline_call(L, obj.module, d, e, NULL);
    }
    if (!rs_is_builtin(callee->name)) {
      Suggest s;
      rs_suggest_init(&s, callee->name);
      rs_suggest_builtins(&s, true);
      ir_error(callee->loc, "a tensor has no method '%s'%s", callee->name, rs_suggest_text(&s));
      return rs_error();
    }
    return rs_builtin_call(L, callee->name, e, &obj);
  }
  ir_error(callee->loc, "this expression cannot be called");
  return rs_error();
}

Val rs_expr(Resolver *L, AstNode *e) {
  switch (e->kind) {
  case AST_NAME: return rs_lookup_name(L, e->name, e->loc);
  case AST_INT: return rs_node(rs_const_int(L, e->loc, e->ival), e->loc);
  case AST_FLOAT: return rs_node(rs_const_float(L, e->loc, e->fval), e->loc);
  case AST_TRUE:
  case AST_FALSE: {
    IrNode *n = rs_const_int(L, e->loc, e->kind == AST_TRUE);
    n->at.dtype = DT_BOOL;
    return rs_node(n, e->loc);
  }
  case AST_STRING: return (Val){.kind = V_STRING, .str = e->str, .loc = e->loc};
  case AST_NONE: return (Val){.kind = V_NONE, .loc = e->loc};
  case AST_BINOP: return lower_binop(L, e);
  case AST_UNOP: return lower_unop(L, e);
  case AST_CALL: return lower_call(L, e);
  case AST_INDEX: return lower_index(L, e);
  case AST_LIST: return lower_seq(L, e, V_LIST);
  case AST_TUPLE: return lower_seq(L, e, V_TUPLE);
  case AST_ATTR: {
    Val obj = rs_expr(L, e->a);
    if (obj.kind == V_ERROR)
      return obj;
    if (obj.kind == V_MODULE) {
      Decl *d = rs_lookup_decl(obj.module, e->name);
      if (!d || d->kind == D_IMPORT) {
        ir_error(e->loc, "module '%s' has no name '%s'", obj.module->name, e->name);
        return rs_error();
      }
      Frame *saved = L->frame, tmp = *L->frame;
      tmp.module = obj.module;
      tmp.locals = (Env){0};
      L->frame = &tmp;
      Val v = rs_lookup_name(L, e->name, e->loc);
      L->frame = saved;
      return v;
    }
    return rs_attribute(L, obj, e);
  }
  case AST_ELLIPSIS:
    ir_error(e->loc, "'...' can only be used inside an index");
    return rs_error();
  case AST_SLICE:
    ir_error(e->loc, "a slice can only be used inside an index");
    return rs_error();
  default:
    ir_error(e->loc, "%s is not an expression", fe_ast_kind_name(e->kind));
    return rs_error();
  }
}
