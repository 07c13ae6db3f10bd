/* frontend/consteval.c - numbers known at compile time.
 *
 * `const` declarations, and the arguments that shape the graph rather than
 * flow through it (axis=, keepdims=, size=, ddof=, literal shapes), are
 * evaluated here on the syntax tree: literals, consts, unary minus, + - * /
 * // % ** and comparisons of those, True/False.
 */
#include "resolve.h"

#include <math.h>
#include <string.h>

static double as_f(CVal v) { return v.is_float ? v.f : (double)v.i; }

static bool eval(Scope *s, Resolver *L, AstNode *e, CVal *out, bool quiet);

bool rs_ceval_decl(Scope *s, Decl *d) {
  if (d->cval_ready)
    return true;
  if (d->cval_busy) {
    ir_error(d->ast->loc, "const '%s' is defined in terms of itself", d->name);
    return false;
  }
  d->cval_busy = true;
  bool ok = eval(s, NULL, d->ast->a, &d->cval, false);
  d->cval_busy = false;
  d->cval_ready = ok;
  if (!ok) /* report once: later uses see a zero */
    d->cval_ready = true, d->cval = (CVal){0};
  return ok;
}

bool rs_ceval(Resolver *L, AstNode *e, CVal *out, bool quiet) {
  return eval(L->frame->module, L, e, out, quiet);
}

static bool fail(AstNode *e, bool quiet) {
  if (!quiet)
    ir_error(e->loc, "expected a number known at compile time");
  return false;
}

static bool eval(Scope *s, Resolver *L, AstNode *e, CVal *out, bool quiet) {
  *out = (CVal){0};
  switch (e->kind) {
  case AST_INT: out->i = e->ival; return true;
  case AST_FLOAT: out->is_float = true; out->f = e->fval; return true;
  case AST_TRUE: case AST_FALSE:
    out->is_bool = true;
    out->i = e->kind == AST_TRUE;
    return true;
  case AST_NAME: {
    Binding *b = L ? rs_env_get(&L->frame->locals, e->name) : NULL;
    if (b && b->node && b->node->op == IR_CONST) {
      /* an argument that was a number at the call site: axis=axis */
      out->is_bool = b->node->at.dtype == DT_BOOL;
      out->is_float = ir_dtype_is_float(b->node->at.dtype);
      out->i = b->node->at.ival;
      out->f = b->node->at.fval;
      return true;
    }
    if (b && b->unset && !b->unset->why)
      return false; /* poisoned: its error is reported already */
    if (b)
      return fail(e, quiet); /* a variable: a run-time value */
    Decl *d = rs_lookup_decl(s, e->name);
    if (d && d->kind == D_CONST) {
      if (!rs_ceval_decl(s, d))
        return false;
      *out = d->cval;
      return true;
    }
    if (!d && (strcmp(e->name, "inf") == 0 || strcmp(e->name, "nan") == 0 || strcmp(e->name, "pi") == 0)) {
      out->is_float = true; /* the floats every module knows (docs/language.md) */
      out->f = e->name[0] == 'i' ? INFINITY : e->name[0] == 'n' ? NAN : 3.14159265358979323846;
      return true;
    }
    if (!d && !quiet) {
      ir_error(e->loc, "name '%s' is not defined%s", e->name,
               rs_suggest_text(rs_suggest_name(s, L ? &L->frame->locals : NULL, e->name)));
      return false;
    }
    return fail(e, quiet);
  }
  case AST_UNOP: {
    CVal a;
    if (!eval(s, L, e->a, &a, quiet))
      return false;
    if (e->op == AOP_NOT) {
      out->is_bool = true;
      out->i = !(a.is_float ? a.f != 0 : a.i != 0);
    } else if (e->op == AOP_NEG) {
      *out = a;
      out->is_bool = false;
      if (a.is_float)
        out->f = -a.f;
      else
        out->i = (int64_t)(0 - (uint64_t)a.i);
    } else {
      *out = a;
    }
    return true;
  }
  case AST_BINOP: {
    CVal a, b;
    if (!eval(s, L, e->a, &a, quiet) || !eval(s, L, e->b, &b, quiet))
      return false;
    bool fl = a.is_float || b.is_float;
    double x = as_f(a), y = as_f(b);
    switch (e->op) {
    case AOP_ADD: case AOP_SUB: case AOP_MUL:
      if (fl) {
        out->is_float = true;
        out->f = e->op == AOP_ADD ? x + y : e->op == AOP_SUB ? x - y : x * y;
      } else {
        uint64_t ua = (uint64_t)a.i, ub = (uint64_t)b.i; /* wrap, never UB */
        out->i = (int64_t)(e->op == AOP_ADD ? ua + ub : e->op == AOP_SUB ? ua - ub : ua * ub);
      }
      return true;
    case AOP_DIV:
      out->is_float = true;
      out->f = x / y;
      return true;
    case AOP_FLOORDIV: case AOP_MOD:
      if (fl) {
        out->is_float = true;
        double q = floor(x / y);
        out->f = e->op == AOP_FLOORDIV ? q : x - q * y;
        return true;
      }
      if (b.i == 0) {
        if (!quiet)
          ir_error(e->loc, "integer %s by zero: expected a nonzero divisor, found the constant 0",
                   e->op == AOP_FLOORDIV ? "division (//)" : "modulo (%)");
        return false;
      }
      if (a.i == INT64_MIN && b.i == -1)
        return fail(e, quiet);
      {
        int64_t q = a.i / b.i, r = a.i % b.i;
        if (r != 0 && ((r < 0) != (b.i < 0)))
          q--, r += b.i;
        out->i = e->op == AOP_FLOORDIV ? q : r;
      }
      return true;
    case AOP_POW:
      if (!fl && a.i == 0 && b.i < 0) { /* Python's ZeroDivisionError, not inf */
        if (!quiet)
          ir_error(e->loc, "0 cannot be raised to a negative power (%lld)", (long long)b.i);
        return false;
      }
      out->is_float = true;
      out->f = pow(x, y);
      if (!fl && b.i >= 0 && fabs(out->f) < 9e15) {
        out->is_float = false;
        out->i = (int64_t)out->f;
      }
      return true;
    case AOP_LT: case AOP_LE: case AOP_GT: case AOP_GE: case AOP_EQ: case AOP_NE:
      out->is_bool = true;
      out->i = e->op == AOP_LT ? x < y : e->op == AOP_LE ? x <= y : e->op == AOP_GT ? x > y
             : e->op == AOP_GE ? x >= y : e->op == AOP_EQ ? x == y : x != y;
      return true;
    case AOP_AND: case AOP_OR:
      out->is_bool = true;
      out->i = e->op == AOP_AND ? (x != 0 && y != 0) : (x != 0 || y != 0);
      return true;
    default: return fail(e, quiet);
    }
  }
  case AST_CALL:
    /* sqrt(2.0), a common const initialiser */
    if (e->a->kind == AST_NAME && e->items.n == 1 && e->items.v[0]->kind != AST_KWARG) {
      static const struct { const char *name; double (*fn)(double); } fns[] = {
          {"sqrt", sqrt}, {"exp", exp}, {"log", log}, {"abs", fabs}};
      for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (strcmp(e->a->name, fns[i].name) == 0 && !rs_lookup_decl(s, fns[i].name)) {
          CVal a;
          if (!eval(s, L, e->items.v[0], &a, quiet))
            return false;
          out->is_float = true;
          out->f = fns[i].fn(as_f(a));
          return true;
        }
    }
    return fail(e, quiet);
  default: return fail(e, quiet);
  }
}
