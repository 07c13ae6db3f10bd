/* ir/kernel_name.c - the names of a module's kernels, for both targets.
 *
 * A kernel statement (a KS_KERNEL, or a fused row kernel's rows `for`) is
 * named after its number in the module and the ops it computes:
 * k<number>_<up to four ops>, k3_sub_exp_sum.  The CUDA emitter names its
 * __global__ functions after it (adding the kernel's shape: _rows, _tile,
 * _part/_final) and --profile shows it for the CPU and the GPU alike, so
 * the number must not depend on the target: it counts kernel statements in
 * function order, depth first through plain `for` and `if` bodies, never
 * into a rows loop (whose stages make one kernel).  Lowering makes the same
 * statements for every target, and the schedule pass only marks them; the
 * kernels blas_epilogue folds into a matmul call on the GPU are still
 * counted there (KStmt.folded), so the kernels after them keep the CPU's
 * numbers.
 */
#include "kernel.h"

#include <string.h>

typedef struct OpNames {
  const char *v[4];
  int n, max;
} OpNames;

static void add_name(OpNames *o, const char *name) {
  for (int i = 0; i < o->n; i++)
    if (strcmp(o->v[i], name) == 0)
      return;
  if (o->n < o->max)
    o->v[o->n++] = name;
}

/* The ops of e nearest its root first (breadth first; a let's body before
 * its bound value; not inside load indices), up to o->max. */
static void top_ops(const KExpr *e, OpNames *o) {
  const KExpr *queue[256];
  int head = 0, tail = 0;
  queue[tail++] = e;
  while (head < tail && o->n < o->max) {
    const KExpr *x = queue[head++];
    if (x->kind == KX_OP)
      add_name(o, ir_op_name(x->op));
    if (x->kind == KX_LOAD || tail + x->nargs > 256)
      continue;
    if (x->kind == KX_LET) { /* the body is what the let computes */
      queue[tail++] = x->args[1];
      queue[tail++] = x->args[0];
    } else {
      for (int i = 0; i < x->nargs; i++)
        queue[tail++] = x->args[i];
    }
  }
}

/* Stage names of a fused row kernel: each stage's combine op, or its
 * value's top op. */
static void stage_names(const KList *l, OpNames *o) {
  for (int i = 0; i < l->n; i++) {
    const KStmt *st = l->v[i];
    if (st->kind == KS_FOR) {
      stage_names(&st->body, o);
    } else if (st->kind == KS_KERNEL && st->nred) {
      add_name(o, ir_op_name(st->combine));
    } else if (st->kind == KS_KERNEL) {
      OpNames one = {.max = 1};
      top_ops(st->value, &one);
      if (one.n)
        add_name(o, one.v[0]);
    }
  }
}

bool k_is_kernel_stmt(const KStmt *s) { return s->kind == KS_KERNEL || (s->kind == KS_FOR && s->rows); }

/* Kernel statements of l before `target` are added to *n; true once found. */
static bool count_list(const KList *l, const KStmt *target, int *n) {
  for (int i = 0; i < l->n; i++) {
    const KStmt *s = l->v[i];
    if (s == target)
      return true;
    if (k_is_kernel_stmt(s)) {
      (*n)++;
    } else if (s->kind == KS_CALL) {
      *n += s->folded; /* kernels folded into a matmul call (passes/blas_epilogue.c) keep their numbers */
    } else if (s->kind == KS_FOR) {
      if (count_list(&s->body, target, n))
        return true;
    } else if (s->kind == KS_IF) {
      if (count_list(&s->body, target, n) || count_list(&s->orelse, target, n))
        return true;
    }
  }
  return false;
}

int k_kernel_number(const KModule *m, const KStmt *s) {
  int n = 0;
  if (!k_is_kernel_stmt(s))
    return -1;
  for (int i = 0; i < m->funcs.n; i++)
    if (count_list(&((KFunc *)m->funcs.v[i])->body, s, &n))
      return n;
  return -1;
}

/* k<number>_<ops>: the value's ops innermost first, then the reduction
 * (k3_sub_exp_sum); a rows loop: its stages' ops, then _rows. */
const char *k_kernel_name(const KModule *m, const KStmt *s) {
  int number = k_kernel_number(m, s);
  if (number < 0)
    ir_die(s->loc, "kernel IR: naming a statement that is not a kernel of its module");
  OpNames o = {.max = 4};
  const char *name = ir_sprintf("k%d", number);
  if (s->kind == KS_FOR) {
    stage_names(&s->body, &o);
    for (int i = 0; i < o.n; i++)
      name = ir_sprintf("%s_%s", name, o.v[i]);
    return ir_sprintf("%s_rows", name);
  }
  o.max = s->nred ? 3 : 4;
  top_ops(s->value, &o);
  for (int i = o.n - 1; i >= 0; i--)
    name = ir_sprintf("%s_%s", name, o.v[i]);
  if (s->nred)
    return ir_sprintf("%s_%s", name, ir_op_name(s->combine));
  if (o.n == 0)
    return ir_sprintf("%s_%s", name, k_expr_has_load(s->value) ? "copy" : "fill");
  return name;
}
