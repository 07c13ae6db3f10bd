/* frontend/stmt.c - lowering statements: assignments, returns, and the
 * control flow of steps 4-7 of resolve.c's file comment.
 *
 * A `for` over range() or batches() becomes a FOR region: every visible
 * variable and param is carried in first, and the ones the body did not
 * change are replaced by their initial value afterwards.  An `if` becomes
 * an IF region whose results are the names that differ between branches.
 * `for p in params()` and `for t in [a, b]` are unrolled.
 */
#include "resolve.h"

#include <string.h>

/* ===== rewriting uses ===== */

static void replace_uses(IrBlock *b, IrNode *from, IrNode *to) {
  for (int i = 0; i < b->nodes.n; i++) {
    IrNode *n = b->nodes.v[i];
    for (int k = 0; k < n->nargs; k++)
      if (n->args[k] == from)
        n->args[k] = to;
    if (n->body)
      replace_uses(n->body, from, to);
    if (n->orelse)
      replace_uses(n->orelse, from, to);
  }
}

void rs_set_args(IrNode *n, PtrVec *args) {
  n->nargs = args->n;
  n->args = (IrNode **)args->v;
}

/* ===== statements ===== */


/* A carried variable of a loop or a result of an if. */
typedef struct Slot {
  const char *name;
  bool is_param;
  IrNode *init, *arg, *yield;
  const Unassigned *unset; /* after the region: why some path leaves it unassigned */
} Slot;

/* Of two reasons, the one that makes reading an error. */
static const Unassigned *worse(const Unassigned *a, const Unassigned *b) {
  if (!a || !b)
    return a ? a : b;
  if (!a->why || !b->why) /* poisoned: reading is a quiet error */
    return a->why ? b : a;
  return a->guard ? b : a;
}

/* Poisons the names the statements assign (a loop or an if that could not
 * be lowered), so their later uses report nothing more. */
static void poison_targets(Resolver *L, AstList *stmts) {
  for (int i = 0; i < stmts->n; i++) {
    AstNode *s = stmts->v[i];
    if (s->kind == AST_ASSIGN || s->kind == AST_FOR)
      for (int k = 0; k < s->items.n; k++)
        if (s->items.v[k]->kind == AST_NAME)
          rs_poison(L, s->items.v[k]->name, s->items.v[k]->loc);
    if (s->kind == AST_AUGASSIGN && s->a->kind == AST_NAME)
      rs_poison(L, s->a->name, s->a->loc);
    if (s->kind == AST_FOR || s->kind == AST_IF) {
      poison_targets(L, &s->body);
      poison_targets(L, &s->orelse);
    }
  }
}

/* Poisons the names assigned by one statement. */
static void poison_stmt(Resolver *L, AstNode *stmt) {
  AstList one = {.v = &stmt, .n = 1};
  poison_targets(L, &one);
}

static void push_slot(PtrVec *slots, const char *name, bool is_param, IrNode *init, IrNode *arg) {
  Slot *s = ir_alloc(sizeof *s);
  s->name = name;
  s->is_param = is_param;
  s->init = init;
  s->arg = arg;
  ir_vec_push(slots, s);
}

/* Emits RESULT nodes for the kept slots after `op` and rebinds the names. */
static void bind_results(Resolver *L, IrNode *op, PtrVec *slots) {
  for (int i = 0; i < slots->n; i++) {
    Slot *s = slots->v[i];
    IrNode *r = rs_emit(L, IR_RESULT, op->loc, 1, &op);
    r->parent = op;
    r->at.ival = i;
    r->name = s->name;
    Env *env = s->is_param ? &L->params : &L->frame->locals;
    rs_env_set(env, s->name, r);
    rs_env_get(env, s->name)->unset = s->unset;
  }
}

/* The loop runs at least once: range() of numbers known at compile time
 * with a positive trip count. */
static bool runs_at_least_once(Resolver *L, AstNode *stmt) {
  AstNode *call = stmt->a;
  if (call->kind != AST_CALL || call->a->kind != AST_NAME || strcmp(call->a->name, "range") != 0 ||
      call->items.n < 1 || call->items.n > 3)
    return false;
  CVal v[3];
  for (int i = 0; i < call->items.n; i++)
    if (!rs_ceval(L, call->items.v[i], &v[i], true) || v[i].is_float)
      return false;
  int64_t start = call->items.n == 1 ? 0 : v[0].i, stop = call->items.n == 1 ? v[0].i : v[1].i;
  int64_t step = call->items.n == 3 ? v[2].i : 1;
  return (step > 0 && start < stop) || (step < 0 && start > stop);
}

typedef void (*BindLoopVars)(Resolver *L, AstNode *stmt, IrNode *iv, void *ctx);

/* Lowers a loop body into a FOR region (step 4 of the file comment).
 * `bind` names the loop variables at the top of the body; `guard` is the
 * num_batches of a batches() loop, else NULL. */
static void lower_for_region(Resolver *L, AstNode *stmt, IrNode *start, IrNode *stop, IrNode *step,
                             BindLoopVars bind, void *ctx, IrNode *guard) {
  IrNode *args3[3] = {start, stop, step};
  IrNode *loop = ir_node_new(IR_FOR, stmt->loc, 3, args3);
  IrBlock *body = ir_block_new(loop);
  loop->body = body;
  IrNode *iv = ir_node_new(IR_BLOCK_ARG, stmt->loc, 0, NULL);
  iv->parent = loop;
  iv->name = stmt->items.n == 1 && stmt->a->kind == AST_CALL && stmt->a->a->kind == AST_NAME &&
                     strcmp(stmt->a->a->name, "range") == 0
                 ? stmt->items.v[0]->name
                 : "batch_index";
  ir_vec_push(&body->params, iv);

  /* Carry every visible variable and param into the body. */
  PtrVec slots = {0};
  Env *envs[2] = {&L->frame->locals, &L->params};
  for (int e = 0; e < 2; e++)
    for (int i = 0; i < envs[e]->n; i++) {
      Binding *b = &envs[e]->v[i];
      if (b->alias || !b->node)
        continue;
      IrNode *arg = ir_node_new(IR_BLOCK_ARG, stmt->loc, 0, NULL);
      arg->parent = loop;
      arg->name = b->name;
      push_slot(&slots, b->name, e == 1, b->node, arg);
      ((Slot *)slots.v[slots.n - 1])->unset = b->unset; /* stays set on the arg until assigned */
      b->node = arg;
    }
  int carried_before = slots.n;

  IrBlock *outer = L->block;
  Env before_locals = rs_env_copy(&L->frame->locals);
  L->block = body;
  L->loops++;
  bind(L, stmt, iv, ctx);
  rs_lower_stmts(L, &stmt->body, 0);
  L->loops--;
  L->block = outer;
  /* After a loop that may run zero times, a name assigned in it may be
   * unassigned; a batches() loop is taken to run (its num_batches checks it
   * at run time, where such a name is read), as training loops rely on. */
  bool runs = runs_at_least_once(L, stmt);

  /* Unchanged variables are not carried: uses see the initial value. */
  PtrVec kept = {0}, dropped = {0};
  for (int i = 0; i < carried_before; i++) {
    Slot *s = slots.v[i];
    Binding *b = rs_env_get(s->is_param ? &L->params : &L->frame->locals, s->name);
    if (b->alias) {
      /* the body made the variable an unrolled loop's (for p in params()):
       * it has no value to carry round this loop (it had none, a crash) */
      ir_error(stmt->loc, "'%s' is a variable before this loop and the loop variable of a `for %s in params()` "
               "(or list) loop inside it: expected another name for one of them", s->name, s->name);
      ir_vec_push(&dropped, s);
      continue;
    }
    if (b->node == s->arg) {
      b->node = s->init;
      ir_vec_push(&dropped, s); /* its uses are rewritten once the yield exists */
      continue;
    }
    s->yield = b->node;
    if (s->unset && !s->unset->guard) /* not read before the body assigns it: no value flows in */
      s->init = rs_undef(L, stmt->loc, s->name);
    else if (s->unset) /* an earlier batches() loop's value flows in: a read */
      rs_guard_read(s->unset, s->name);
    if (runs || !s->unset)
      s->unset = b->unset;
    else
      s->unset = worse(b->unset, guard ? rs_unassigned(s->unset->why, s->unset->assigned, guard) : s->unset);
    ir_vec_push(&kept, s);
  }
  /* Variables first assigned in the body are visible after it (Python
   * scoping); their value before the first iteration is undefined. */
  for (int i = 0; i < L->frame->locals.n; i++) {
    Binding *b = &L->frame->locals.v[i];
    if (b->alias || rs_env_get(&before_locals, b->name))
      continue;
    IrNode *u = rs_undef(L, stmt->loc, b->name);
    IrNode *arg = ir_node_new(IR_BLOCK_ARG, stmt->loc, 0, NULL);
    arg->parent = loop;
    arg->name = b->name;
    push_slot(&kept, b->name, false, u, arg);
    Slot *s = kept.v[kept.n - 1];
    s->yield = b->node;
    const Unassigned *zero_trips =
        runs ? NULL : rs_unassigned("assigned only inside this loop, which may run zero times", b->assigned, guard);
    s->unset = worse(b->unset, zero_trips);
  }
  /* Assemble operands, block params and the yield. */
  PtrVec args = {0}, yields = {0};
  for (int i = 0; i < 3; i++)
    ir_vec_push(&args, args3[i]);
  for (int i = 0; i < kept.n; i++) {
    Slot *s = kept.v[i];
    ir_vec_push(&args, s->init);
    ir_vec_push(&body->params, s->arg);
    ir_vec_push(&yields, s->yield);
  }
  rs_set_args(loop, &args);
  IrNode *y = ir_node_new(IR_YIELD, stmt->loc, 0, NULL);
  rs_set_args(y, &yields);
  ir_block_append(body, y);
  for (int i = 0; i < dropped.n; i++) {
    Slot *s = dropped.v[i];
    replace_uses(body, s->arg, s->init);
  }
  ir_block_append(L->block, loop);
  bind_results(L, loop, &kept);
}

static void bind_range_var(Resolver *L, AstNode *stmt, IrNode *iv, void *ctx) {
  rs_assign_name(L, stmt->items.v[0]->name, iv, stmt->items.v[0]->loc);
}

typedef struct BatchLoop {
  IrNode **xs, *perm;
  int n;
  int64_t size;
  int sym;
} BatchLoop;

static void bind_batch_vars(Resolver *L, AstNode *stmt, IrNode *iv, void *ctx) {
  BatchLoop *bl = ctx;
  for (int k = 0; k < bl->n; k++) {
    IrNode *args[3] = {bl->xs[k], bl->perm, iv};
    IrNode *b = rs_emit(L, IR_BATCH, stmt->items.v[k]->loc, 3, args);
    b->at.ival = bl->size;
    b->at.sym = bl->sym;
    rs_assign_name(L, stmt->items.v[k]->name, b, stmt->items.v[k]->loc);
  }
}

/* for i in range(n) / range(a, b) / range(a, b, step) */
static bool lower_for_range(Resolver *L, AstNode *stmt, AstNode *call) {
  if (stmt->items.n != 1) {
    ir_error(stmt->loc, "a range() loop has one loop variable, not %d", stmt->items.n);
    return false;
  }
  int np = 0;
  for (int i = 0; i < call->items.n; i++) {
    if (call->items.v[i]->kind == AST_KWARG) {
      ir_error(call->items.v[i]->loc, "range() takes no keyword arguments");
      return false;
    }
    np++;
  }
  if (np < 1 || np > 3) {
    ir_error(call->loc, "range() takes 1 to 3 arguments, got %d", np);
    return false;
  }
  IrNode *v[3] = {0};
  for (int i = 0; i < np; i++) {
    v[i] = rs_as_node(L, rs_expr(L, call->items.v[i]), "a range() bound");
    if (!v[i])
      return false;
  }
  IrNode *start = np == 1 ? rs_const_int(L, call->loc, 0) : v[0];
  IrNode *stop = np == 1 ? v[0] : v[1];
  IrNode *step = np == 3 ? v[2] : rs_const_int(L, call->loc, 1);
  lower_for_region(L, stmt, start, stop, step, bind_range_var, NULL, NULL);
  return true;
}

/* batches(..., shard=True): this rank's rows of the epoch's order, as
 * PyTorch's DistributedSampler takes them: the order padded by wrapping
 * around to a multiple of world_size() rows, then every world_size()-th
 * row from rank()'s, so every rank gets ceil(n / world_size()) rows and
 * runs the same number of steps.  The tensors are gathered in that order
 * (xs replaced), and the loop walks them in order: the new permutation.
 * In one process this is the order itself (docs/distributed.md). */
static IrNode *shard_rows(Resolver *L, Loc loc, IrNode *n, IrNode *order, PtrVec *xs) {
  IrNode *ws = rs_emit(L, IR_WORLD_SIZE, loc, 0, NULL), *rank = rs_emit(L, IR_RANK, loc, 0, NULL);
  IrNode *one = rs_const_int(L, loc, 1), *zero = rs_const_int(L, loc, 0);
  IrNode *a[3] = {n, rs_emit(L, IR_SUB, loc, 2, (IrNode *[]){ws, one})};
  IrNode *rows = rs_emit(L, IR_FLOORDIV, loc, 2, (IrNode *[]){rs_emit(L, IR_ADD, loc, 2, a), ws});
  rows->name = "shard_rows";
  IrNode *steps = rs_emit(L, IR_ARANGE, loc, 3, (IrNode *[]){zero, rows, one});
  steps->at.dtype = DT_I64;
  IrNode *at = rs_emit(L, IR_ADD, loc, 2, (IrNode *[]){rs_emit(L, IR_MUL, loc, 2, (IrNode *[]){steps, ws}), rank});
  IrNode *wrapped = rs_emit(L, IR_MOD, loc, 2, (IrNode *[]){at, n});
  IrIndexItem *item = ir_alloc(sizeof *item);
  *item = (IrIndexItem){.kind = IDX_SCALAR, .arg = 1, .start = -1, .stop = -1, .step = -1};
  IrNode *mine = rs_emit(L, IR_INDEX, loc, 2, (IrNode *[]){order, wrapped});
  mine->at.idx = item;
  mine->at.nidx = 1;
  mine->name = "shard_order";
  for (int k = 0; k < xs->n; k++) {
    IrNode *g = rs_emit(L, IR_INDEX, loc, 2, (IrNode *[]){xs->v[k], mine});
    g->at.idx = item;
    g->at.nidx = 1;
    xs->v[k] = g;
  }
  return steps;
}

/* for xb, yb in batches(X, y, size=64, shuffle=True, drop_last=False, shard=False) */
static bool lower_for_batches(Resolver *L, AstNode *stmt, AstNode *call) {
  PtrVec xs = {0};
  int64_t size = 0;
  bool shuffle = false, drop_last = false, have_size = false, shard = false;
  for (int i = 0; i < call->items.n; i++) {
    AstNode *a = call->items.v[i];
    if (a->kind != AST_KWARG) {
      IrNode *x = rs_as_node(L, rs_expr(L, a), "an argument of batches()");
      if (!x)
        return false;
      ir_vec_push(&xs, x);
      continue;
    }
    CVal c;
    if (!rs_ceval(L, a->a, &c, false))
      return false;
    if (strcmp(a->name, "size") == 0 && !c.is_float && !c.is_bool && c.i > 0) {
      size = c.i;
      have_size = true;
    } else if (strcmp(a->name, "size") == 0) {
      ir_error(a->a->loc, "batches(size=) must be a positive integer");
      return false;
    } else if (strcmp(a->name, "shuffle") == 0) {
      shuffle = c.is_float ? c.f != 0 : c.i != 0;
    } else if (strcmp(a->name, "drop_last") == 0) {
      drop_last = c.is_float ? c.f != 0 : c.i != 0;
    } else if (strcmp(a->name, "shard") == 0) {
      shard = c.is_float ? c.f != 0 : c.i != 0;
    } else {
      ir_error(a->loc, "batches() has no argument '%s' (it takes size=, shuffle=, drop_last=, shard=)", a->name);
      return false;
    }
  }
  if (!have_size) {
    ir_error(call->loc, "batches() needs size=");
    return false;
  }
  if (xs.n == 0 || xs.n != stmt->items.n) {
    ir_error(stmt->loc, "batches() of %d tensor%s is unpacked into %d loop variable%s", xs.n,
             xs.n == 1 ? "" : "s", stmt->items.n, stmt->items.n == 1 ? "" : "s");
    return false;
  }
  IrNode *x0 = xs.v[0];
  IrNode *n = rs_emit(L, IR_DIM, call->loc, 1, &x0);
  n->at.ival = 0;
  IrNode *perm;
  if (shuffle) {
    perm = rs_emit(L, IR_RANDPERM, call->loc, 1, &n);
  } else {
    IrNode *a[3] = {rs_const_int(L, call->loc, 0), n, rs_const_int(L, call->loc, 1)};
    perm = rs_emit(L, IR_ARANGE, call->loc, 3, a);
    perm->at.dtype = DT_I64;
  }
  perm->name = "batch_order";
  if (shard) {
    perm = shard_rows(L, call->loc, n, perm, &xs);
    IrNode *x1 = xs.v[0];
    n = rs_emit(L, IR_DIM, call->loc, 1, &x1);
  }
  IrNode *nb = rs_emit(L, IR_NUM_BATCHES, call->loc, 1, &n);
  nb->at.ival = size;
  nb->at.keepdims = drop_last;
  nb->name = "num_batches";
  BatchLoop bl = {(IrNode **)xs.v, perm, xs.n, size, ir_sym_new("batch", call->loc)};
  lower_for_region(L, stmt, rs_const_int(L, call->loc, 0), nb, rs_const_int(L, call->loc, 1),
                   bind_batch_vars, &bl, nb);
  return true;
}

/* for p in params(): / for t in [a, b, c]: unrolled at compile time; a
 * loop variable standing for a param updates that param when assigned. */
static void lower_for_unrolled(Resolver *L, AstNode *stmt, Val list) {
  if (stmt->items.n != 1) {
    ir_error(stmt->loc, "an unrolled loop has one loop variable");
    return;
  }
  const char *var = stmt->items.v[0]->name;
  for (int i = 0; i < list.n; i++) {
    Val e = list.elems[i];
    Binding *old = rs_env_get(&L->frame->locals, var);
    if (old)
      old->alias = NULL;
    if (e.kind == V_NODE && e.param) {
      rs_env_set(&L->frame->locals, var, NULL);
      rs_env_get(&L->frame->locals, var)->alias = e.param;
    } else {
      IrNode *n = rs_as_node(L, e, "an element of the loop's list");
      if (!n)
        return;
      rs_env_set(&L->frame->locals, var, n);
    }
    if (rs_lower_stmts(L, &stmt->body, 0))
      ir_error(stmt->loc, "return inside a loop is not supported");
  }
}

static void lower_for(Resolver *L, AstNode *stmt) {
  AstNode *it = stmt->a;
  for (int i = 0; i < stmt->items.n; i++)
    if (stmt->items.v[i]->kind != AST_NAME) {
      ir_error(stmt->items.v[i]->loc, "a loop variable must be a name");
      return;
    }
  if (it->kind == AST_CALL && it->a->kind == AST_NAME && !rs_lookup_decl(L->frame->module, it->a->name)) {
    bool range = strcmp(it->a->name, "range") == 0;
    if (range || strcmp(it->a->name, "batches") == 0) {
      if (!(range ? lower_for_range : lower_for_batches)(L, stmt, it))
        poison_stmt(L, stmt);
      return;
    }
  }
  Val v = rs_expr(L, it);
  if (v.kind == V_ERROR)
    return poison_stmt(L, stmt);
  if (v.kind == V_LIST || v.kind == V_TUPLE)
    return lower_for_unrolled(L, stmt, v);
  ir_error(it->loc, "a for loop runs over range(), batches(), params() or a list, not %s",
           rs_val_kind_text(v.kind));
  poison_stmt(L, stmt);
}

/* True when every path through the statements ends in a return. */
bool rs_always_returns(AstList *stmts) {
  if (stmts->n == 0)
    return false;
  AstNode *last = stmts->v[stmts->n - 1];
  if (last->kind == AST_RETURN)
    return true;
  if (last->kind == AST_IF)
    return rs_always_returns(&last->body) && rs_always_returns(&last->orelse);
  return false;
}

bool rs_contains_return(AstList *stmts) {
  for (int i = 0; i < stmts->n; i++) {
    AstNode *s = stmts->v[i];
    if (s->kind == AST_RETURN)
      return true;
    if ((s->kind == AST_IF || s->kind == AST_FOR) && (rs_contains_return(&s->body) || rs_contains_return(&s->orelse)))
      return true;
  }
  return false;
}

/* Lowers one branch: its statements, then `rest` (the statements after the
 * if) when the branch falls through while the other returns. */
static bool lower_branch(Resolver *L, AstList *branch, AstList *rest, int rest_from) {
  bool ret = rs_lower_stmts(L, branch, 0);
  if (!ret && rest)
    ret = rs_lower_stmts(L, rest, rest_from);
  return ret;
}

/* if/elif/else.  Returns true when both branches returned.  When exactly
 * one returns, the statements after the if (stmts[next..]) are lowered into
 * the other, and *consumed is set. */
static bool lower_if(Resolver *L, AstNode *stmt, AstList *stmts, int next, bool *consumed) {
  IrNode *cond = rs_as_node(L, rs_expr(L, stmt->a), "an if condition");
  if (!cond) {
    poison_stmt(L, stmt);
    return false;
  }
  bool then_ret = rs_always_returns(&stmt->body), else_ret = rs_always_returns(&stmt->orelse);
  bool cont = then_ret != else_ret && next < stmts->n;
  *consumed = cont;

  IrNode *op = ir_node_new(IR_IF, stmt->loc, 1, &cond);
  op->body = ir_block_new(op);
  op->orelse = ir_block_new(op);
  IrBlock *outer = L->block;
  Env pre_locals = rs_env_copy(&L->frame->locals), pre_params = rs_env_copy(&L->params);
  int pre_nret = L->frame->nret;

  L->block = op->body;
  bool r1 = lower_branch(L, &stmt->body, cont && !then_ret ? stmts : NULL, next);
  Env then_locals = L->frame->locals, then_params = L->params;
  int then_nret = L->frame->nret;

  L->frame->locals = rs_env_copy(&pre_locals);
  L->params = rs_env_copy(&pre_params);
  L->frame->nret = pre_nret;
  L->block = op->orelse;
  bool r2 = lower_branch(L, &stmt->orelse, cont && !else_ret ? stmts : NULL, next);
  Env else_locals = L->frame->locals, else_params = L->params;
  if (then_nret >= 0 && L->frame->nret >= 0 && then_nret != L->frame->nret)
    ir_error(stmt->loc, "the branches of this if return %d and %d values", then_nret, L->frame->nret);
  if (L->frame->nret < 0)
    L->frame->nret = then_nret;

  /* Merge: a name whose value differs between the branches is a result. */
  PtrVec slots = {0}, ty = {0}, ey = {0};
  L->frame->locals = pre_locals;
  L->params = pre_params;
  Env *sides[2][2] = {{&then_locals, &else_locals}, {&then_params, &else_params}};
  for (int e = 0; e < 2; e++) {
    for (int pass = 0; pass < 2; pass++) {
      Env *here = sides[e][pass], *there = sides[e][1 - pass];
      for (int i = 0; i < here->n; i++) {
        Binding *b = &here->v[i];
        Binding *o = rs_env_get(there, b->name);
        if (pass == 1 && o)
          continue; /* handled in the first pass */
        if (b->alias || (o && o->alias)) { /* unrolled-loop aliases are not values */
          if (e == 0) {
            rs_env_set(&L->frame->locals, b->name, b->node);
            rs_env_get(&L->frame->locals, b->name)->alias = b->alias;
          }
          continue;
        }
        const Unassigned *unset = worse(b->unset, o ? o->unset : NULL);
        if (o && o->node == b->node) {
          Env *env = e ? &L->params : &L->frame->locals;
          rs_env_set(env, b->name, b->node);
          rs_env_get(env, b->name)->unset = unset;
          rs_env_get(env, b->name)->assigned = b->assigned;
          continue;
        }
        IrNode *t = pass == 0 ? b->node : (o ? o->node : NULL);
        IrNode *f = pass == 0 ? (o ? o->node : NULL) : b->node;
        L->block = op->body;
        if (!t)
          t = rs_undef(L, stmt->loc, b->name);
        L->block = op->orelse;
        if (!f)
          f = rs_undef(L, stmt->loc, b->name);
        push_slot(&slots, b->name, e == 1, NULL, NULL);
        Slot *s = slots.v[slots.n - 1];
        if (!o)
          unset = worse(unset, rs_unassigned(pass == 0 ? "assigned only when this if's condition is true"
                                                       : "assigned only when this if's condition is false",
                                             b->assigned, NULL));
        s->unset = unset;
        ir_vec_push(&ty, t);
        ir_vec_push(&ey, f);
      }
    }
  }
  IrNode *y1 = ir_node_new(IR_YIELD, stmt->loc, 0, NULL), *y2 = ir_node_new(IR_YIELD, stmt->loc, 0, NULL);
  rs_set_args(y1, &ty);
  rs_set_args(y2, &ey);
  ir_block_append(op->body, y1);
  ir_block_append(op->orelse, y2);
  L->block = outer;
  ir_block_append(L->block, op);
  bind_results(L, op, &slots);
  return r1 && r2;
}

static void lower_return(Resolver *L, AstNode *stmt) {
  if (!L->frame->def) {
    ir_error(stmt->loc, "return outside a function");
    return;
  }
  if (L->loops) {
    ir_error(stmt->loc, "return inside a loop is not supported");
    return;
  }
  int n = 0;
  PtrVec vals = {0};
  for (int i = 0; i < stmt->items.n; i++) {
    Val v = rs_expr(L, stmt->items.v[i]);
    if (v.kind == V_TUPLE) {
      for (int k = 0; k < v.n; k++)
        ir_vec_push(&vals, rs_as_node(L, v.elems[k], "a returned value"));
    } else {
      ir_vec_push(&vals, rs_as_node(L, v, "a returned value"));
    }
  }
  n = vals.n;
  if (L->frame->nret >= 0 && L->frame->nret != n) {
    ir_error(stmt->loc, "this return gives %d value%s, an earlier one gave %d", n, n == 1 ? "" : "s",
             L->frame->nret);
    return;
  }
  L->frame->nret = n;
  for (int i = 0; i < n; i++)
    if (vals.v[i])
      rs_env_set(&L->frame->locals, ir_sprintf("$return.%d", i), vals.v[i]);
}

/* target = value, where target is a name or x[...]; returns the
 * index_set of x[...] = value. */
static IrNode *assign_to(Resolver *L, AstNode *target, IrNode *value, Loc loc) {
  if (target->kind == AST_NAME) {
    rs_assign_name(L, target->name, value, loc);
    return NULL;
  }
  if (target->kind != AST_INDEX || target->a->kind != AST_NAME) {
    ir_error(target->loc, "cannot assign to this expression (expected a name or name[...])");
    return NULL;
  }
  /* x[idx] = v  ->  x = index_set(x, v, idx) */
  Val base = rs_lookup_name(L, target->a->name, target->a->loc);
  IrNode *x = rs_as_node(L, base, "an indexed assignment's target");
  if (!x)
    return NULL;
  extern IrNode *rs_index_node(Resolver * L, IrNode * x, IrNode * value, AstNode * index);
  IrNode *n = rs_index_node(L, x, value, target);
  if (n)
    rs_assign_name(L, target->a->name, n, loc);
  return n;
}

static const IrOp augop[] = {
    [AOP_ADD] = IR_ADD, [AOP_SUB] = IR_SUB, [AOP_MUL] = IR_MUL, [AOP_DIV] = IR_DIV,
    [AOP_FLOORDIV] = IR_FLOORDIV, [AOP_MOD] = IR_MOD, [AOP_POW] = IR_POW, [AOP_MATMUL] = IR_MATMUL,
};

static void lower_assign(Resolver *L, AstNode *stmt) {
  Val v = rs_expr(L, stmt->a);
  if (v.kind == V_ERROR)
    return poison_stmt(L, stmt);
  if (stmt->items.n == 1) {
    IrNode *n = rs_as_node(L, v, "an assigned value");
    if (n)
      assign_to(L, stmt->items.v[0], n, stmt->loc);
    else
      poison_stmt(L, stmt);
    return;
  }
  if (v.kind != V_TUPLE || v.n != stmt->items.n) {
    ir_error(stmt->loc, "cannot unpack %s into %d names", v.kind == V_TUPLE ? ir_sprintf("%d values", v.n) : rs_val_kind_text(v.kind),
             stmt->items.n);
    return poison_stmt(L, stmt);
  }
  for (int i = 0; i < v.n; i++) {
    IrNode *n = rs_as_node(L, v.elems[i], "an assigned value");
    if (n)
      assign_to(L, stmt->items.v[i], n, stmt->loc);
    else if (stmt->items.v[i]->kind == AST_NAME)
      rs_poison(L, stmt->items.v[i]->name, stmt->items.v[i]->loc);
  }
}

static void lower_augassign(Resolver *L, AstNode *stmt) {
  IrNode *old = rs_as_node(L, rs_expr(L, stmt->a), "the target of an augmented assignment");
  IrNode *rhs = rs_as_node(L, rs_expr(L, stmt->b), "the right-hand side");
  if (!old || !rhs)
    return poison_stmt(L, stmt);
  if (stmt->op >= sizeof augop / sizeof augop[0] || !augop[stmt->op])
    ir_die(stmt->loc, "bad augmented operator");
  IrNode *args[2] = {old, rhs};
  IrNode *n = rs_emit(L, augop[stmt->op], stmt->loc, 2, args);
  if (old->op == IR_INDEX) /* x[mask] += v reads x[mask] with x's shape (shape_rules_index.c) */
    old->at.keepdims = true;
  IrNode *set = assign_to(L, stmt->a, n, stmt->loc);
  if (old->op == IR_INDEX && set)
    set->at.keepdims = true;
}

/* Lowers stmts[from..]; returns true when they returned. */
bool rs_lower_stmts(Resolver *L, AstList *stmts, int from) {
  for (int i = from; i < stmts->n; i++) {
    AstNode *s = stmts->v[i];
    switch (s->kind) {
    case AST_ASSIGN: lower_assign(L, s); break;
    case AST_AUGASSIGN: lower_augassign(L, s); break;
    case AST_EXPR: rs_expr(L, s->a); break;
    case AST_PASS: break;
    case AST_FOR: lower_for(L, s); break;
    case AST_RETURN:
      lower_return(L, s);
      if (i + 1 < stmts->n)
        ir_warning(stmts->v[i + 1]->loc, "this code comes after a return and never runs");
      return true;
    case AST_IF: {
      bool consumed = false;
      bool ret = lower_if(L, s, stmts, i + 1, &consumed);
      if (consumed)
        return ret;
      if (ret) {
        if (i + 1 < stmts->n)
          ir_warning(stmts->v[i + 1]->loc, "this code comes after a return and never runs");
        return true;
      }
      break;
    }
    default: ir_error(s->loc, "%s is not allowed inside a function", fe_ast_kind_name(s->kind));
    }
  }
  return false;
}

