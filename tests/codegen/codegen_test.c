/* tests/codegen/codegen_test.c - the CPU code generator, run end to end.
 *
 * Kernel IR is built by hand with the builders of ir/kernel.c (no front
 * end, no lowering), one KFunc per feature: an elementwise kernel with
 * broadcasting, symbols and a flat (linear) access; a failing run-time
 * check; reductions with finalize (mean, NaN-propagating max, integer sum
 * of a cast, any/all); argmax/argmin with NaNs; a `for` loop carrying a
 * buffer with run-time `keep` frees, and a counting-down loop; an `if`;
 * matmul; rand/randn/randint/randperm; print; save (and a failing save);
 * params read and stored; integer and float op semantics.
 *
 * The module is compiled by cg_emit to an object at -O0 and at -O2
 * (the vectorised code must agree), linked with a small C harness (below,
 * written to a temporary directory) against libtensorc_rt, run, and its
 * output compared with the text NumPy prints for the same computations
 * (str() of each result; the numbers were produced by NumPy 2.x).  A
 * second module with `main` and `init` is built as an executable through
 * cg_emit(CG_EXE) and run with tcrt_exe_main's command line.
 * LLVM IR and assembly output are checked for their entry points.
 *
 * Exits 0 when every check passes; prints each failure and keeps the
 * temporary directory then.
 */
#include "codegen/codegen.h"
#include "ir/target.h"
#include "passes/passes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TC_SOURCE_DIR
#error "TC_SOURCE_DIR must name the source tree (runtime/include)"
#endif
#ifndef TC_BINARY_DIR
#error "TC_BINARY_DIR must name the build tree (lib/libtensorc_rt.a)"
#endif
#ifndef TC_CC
#define TC_CC "cc"
#endif
/* a sanitized build's runtime needs the sanitizer when the harness links */
#if defined(__SANITIZE_ADDRESS__)
#define TC_SAN " -fsanitize=address,undefined"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TC_SAN " -fsanitize=address,undefined"
#endif
#endif
#ifndef TC_SAN
#define TC_SAN ""
#endif

static int failures;
static const Loc L0 = {0};
static char dir[512];

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

/* ===== building kernel IR ===== */

static KFunc *func(KModule *m, const char *name) {
  KFunc *f = ir_alloc(sizeof *f);
  f->name = name;
  f->exported = true;
  ir_vec_push(&m->funcs, f);
  return f;
}

static int arg(KFunc *f, const char *name, DType dt, int rank, const Dim *dims) {
  int b = k_buf_new(f, name, dt, rank, dims, KB_ARG);
  k_buf(f, b)->index = f->nargs++;
  return b;
}

static int temp(KFunc *f, const char *name, DType dt, int rank, const Dim *dims) {
  return k_buf_new(f, name, dt, rank, dims, KB_TEMP);
}

static void result(KFunc *f, int buf) {
  int *r = ir_alloc(sizeof(int) * (size_t)(f->nresults + 1));
  if (f->nresults)
    memcpy(r, f->results, sizeof(int) * (size_t)f->nresults);
  r[f->nresults++] = buf;
  f->results = r;
}

static void alloc(KList *l, int buf) {
  KStmt *s = k_stmt(KS_ALLOC, L0);
  s->buf = buf;
  k_push(l, s);
}

static void free_keep(KList *l, int buf, int nkeep, const int *keep) {
  KStmt *s = k_stmt(KS_FREE, L0);
  s->buf = buf;
  s->nkeep = nkeep;
  s->keep = ir_alloc(sizeof(int) * (size_t)(nkeep + 1));
  if (nkeep)
    memcpy(s->keep, keep, sizeof(int) * (size_t)nkeep);
  k_push(l, s);
}

static void setsym(KList *l, int sym, KExpr *v) {
  KStmt *s = k_stmt(KS_SETSYM, L0);
  s->buf = sym;
  s->cond = v;
  k_push(l, s);
}

static KExpr *argdim(int a, int axis) {
  KExpr *e = k_load(0, DT_I64, 0, NULL);
  e->kind = KX_ARG_DIM;
  e->buf = a;
  e->ival = axis;
  return e;
}

/* A bare expression node (KX_ACC, KX_ACC_INDEX, KX_SYM): no builder makes them. */
static KExpr *acc_expr(KExprKind kind, DType dt) {
  KExpr *e = ir_alloc(sizeof *e);
  e->kind = kind;
  e->dtype = dt;
  return e;
}

static KExpr *op1(IrOp op, DType dt, KExpr *a) { return k_op(op, dt, 1, &a); }
static KExpr *ld0(int buf, DType dt) { return k_load(buf, dt, 0, NULL); }
static KExpr *ld1(int buf, DType dt, KExpr *i) { return k_load(buf, dt, 1, &i); }
static KExpr *ld2(int buf, DType dt, KExpr *i, KExpr *j) {
  KExpr *idx[2] = {i, j};
  return k_load(buf, dt, 2, idx);
}

/* A kernel with one loop per extent, storing into `out` at the first
 * rank(out) loop variables; v[i] receives loop i's variable (so set
 * ->value in a later statement: C does not order `kernel(..v)->value =
 * f(v[0])`). */
static KStmt *kernel(KFunc *f, KList *l, int out, int nloops, const Dim *ext, KExpr **v) {
  KStmt *s = k_stmt(KS_KERNEL, L0);
  s->buf = out;
  s->nloops = nloops;
  for (int i = 0; i < nloops; i++) {
    s->extent[i] = ext[i];
    s->loopvar[i] = f->nvars++;
    v[i] = k_var(s->loopvar[i]);
  }
  s->nstore = k_buf(f, out)->rank;
  s->store_idx = ir_alloc(sizeof(KExpr *) * (size_t)(s->nstore + 1));
  for (int i = 0; i < s->nstore; i++)
    s->store_idx[i] = v[i];
  k_push(l, s);
  return s;
}

/* out = op(a) or op(a, b) elementwise over 1-D buffers of length n. */
static int map(KFunc *f, const char *name, DType dt, Dim n, IrOp op, int a, int b, DType in) {
  int out = temp(f, name, dt, 1, &n);
  alloc(&f->body, out);
  KExpr *v[1];
  KStmt *k = kernel(f, &f->body, out, 1, &n, v);
  KExpr *x = ld1(a, in, v[0]);
  k->value = b < 0 ? op1(op, dt, x) : k_op2(op, dt, x, ld1(b, in, v[0]));
  result(f, out);
  return out;
}

static KStmt *call(KList *l, KCallKind kind, int nbufs, const int *bufs, int nexprs, KExpr **exprs) {
  KStmt *s = k_stmt(KS_CALL, L0);
  s->call = kind;
  s->nbufs = nbufs;
  s->bufs = ir_alloc(sizeof(int) * (size_t)(nbufs + 1));
  if (nbufs)
    memcpy(s->bufs, bufs, sizeof(int) * (size_t)nbufs);
  s->nexprs = nexprs;
  s->exprs = ir_alloc(sizeof(KExpr *) * (size_t)(nexprs + 1));
  if (nexprs)
    memcpy(s->exprs, exprs, sizeof(KExpr *) * (size_t)nexprs);
  k_push(l, s);
  return s;
}

/* ===== the module of kernels ===== */

/* ew(x: f32[N, 3], y: f32[3]) -> (x + 2*y, -x flattened, N * 2) */
static void build_ew(KModule *m, int N) {
  KFunc *f = func(m, "ew");
  Dim dn = dim_sym(N), d3 = dim_const(3), xd[2] = {dn, d3}, flatd = dim_mul(d3, dn);
  int x = arg(f, "x", DT_F32, 2, xd), y = arg(f, "y", DT_F32, 1, &d3);
  setsym(&f->body, N, argdim(0, 0));
  KStmt *c = k_stmt(KS_CHECK, L0);
  c->cond = k_op2(IR_EQ, DT_BOOL, argdim(1, 0), k_int(3));
  c->message = "argument 'y': axis 0 must have size 3 (100% sure)";
  k_push(&f->body, c);
  int out = temp(f, "out", DT_F32, 2, xd), flat = temp(f, "flat", DT_F32, 1, &flatd);
  alloc(&f->body, out);
  KExpr *v[2];
  KStmt *k = kernel(f, &f->body, out, 2, xd, v);
  k->value = k_op2(IR_ADD, DT_F32, ld2(x, DT_F32, v[0], v[1]),
                   k_op2(IR_MUL, DT_F32, ld1(y, DT_F32, v[1]), k_const(DT_F32, 2)));
  alloc(&f->body, flat);
  k = kernel(f, &f->body, flat, 1, &flatd, v);
  KExpr *lx = ld1(x, DT_F32, v[0]);
  lx->linear = true;
  k->store_linear = true;
  k->value = k_op2(IR_MUL, DT_F32, lx, k_const(DT_F32, -1));
  int n2 = temp(f, "n2", DT_I64, 0, NULL); /* N * 2 through the symbol */
  alloc(&f->body, n2);
  k = kernel(f, &f->body, n2, 0, NULL, v);
  KExpr *sym = acc_expr(KX_SYM, DT_I64);
  sym->sym = N;
  k->value = k_op2(IR_MUL, DT_I64, sym, k_int(2));
  result(f, out);
  result(f, flat);
  result(f, n2);
}

/* red(x: f64[N, M]) -> (mean axis 1, max axis 1, sum(x > 1.5) axis 1, any(x > 5), all(x > 0)) */
static void build_red(KModule *m, int N, int M) {
  KFunc *f = func(m, "red");
  Dim xd[2] = {dim_sym(N), dim_sym(M)};
  int x = arg(f, "x", DT_F64, 2, xd);
  setsym(&f->body, N, argdim(0, 0));
  setsym(&f->body, M, argdim(0, 1));
  int mean = temp(f, "mean", DT_F64, 1, xd), mx = temp(f, "mx", DT_F64, 1, xd), cnt = temp(f, "cnt", DT_I64, 1, xd);
  int any = temp(f, "any", DT_BOOL, 0, NULL), all = temp(f, "all", DT_BOOL, 0, NULL);
  KExpr *v[2];
  alloc(&f->body, mean);
  KStmt *k = kernel(f, &f->body, mean, 2, xd, v);
  k->nred = 1;
  k->combine = IR_SUM;
  k->value = ld2(x, DT_F64, v[0], v[1]);
  k->finalize = k_op2(IR_DIV, DT_F64, acc_expr(KX_ACC, DT_F64), k_cast(k_dim(xd[1]), DT_F64));
  alloc(&f->body, mx);
  k = kernel(f, &f->body, mx, 2, xd, v);
  k->nred = 1;
  k->combine = IR_MAX;
  k->value = ld2(x, DT_F64, v[0], v[1]);
  alloc(&f->body, cnt);
  k = kernel(f, &f->body, cnt, 2, xd, v);
  k->nred = 1;
  k->combine = IR_SUM;
  k->value = k_cast(k_op2(IR_GT, DT_BOOL, ld2(x, DT_F64, v[0], v[1]), k_const(DT_F64, 1.5)), DT_I64);
  int outs[2] = {any, all};
  IrOp ops[2] = {IR_ANY, IR_ALL};
  double thr[2] = {5, 0};
  for (int i = 0; i < 2; i++) {
    alloc(&f->body, outs[i]);
    k = kernel(f, &f->body, outs[i], 2, xd, v);
    k->nred = 2;
    k->combine = ops[i];
    k->value = k_op2(IR_GT, DT_BOOL, ld2(x, DT_F64, v[0], v[1]), k_const(DT_F64, thr[i]));
  }
  result(f, mean);
  result(f, mx);
  result(f, cnt);
  result(f, any);
  result(f, all);
}

/* amax(x: f32[4, 4], z: i32[2, 3]) -> (argmax axis 1, max by argmax's acc, argmin of all z) */
static void build_amax(KModule *m) {
  KFunc *f = func(m, "amax");
  Dim xd[2] = {dim_const(4), dim_const(4)}, zd[2] = {dim_const(2), dim_const(3)};
  int x = arg(f, "x", DT_F32, 2, xd), z = arg(f, "z", DT_I32, 2, zd);
  int idx = temp(f, "idx", DT_I64, 1, xd), val = temp(f, "val", DT_F32, 1, xd), amin = temp(f, "amin", DT_I64, 0, NULL);
  KExpr *v[2];
  alloc(&f->body, idx);
  KStmt *k = kernel(f, &f->body, idx, 2, xd, v);
  k->nred = 1;
  k->combine = IR_ARGMAX;
  k->value = ld2(x, DT_F32, v[0], v[1]);
  alloc(&f->body, val);
  k = kernel(f, &f->body, val, 2, xd, v);
  k->nred = 1;
  k->combine = IR_ARGMAX;
  k->value = ld2(x, DT_F32, v[0], v[1]);
  k->finalize = acc_expr(KX_ACC, DT_F32);
  alloc(&f->body, amin);
  k = kernel(f, &f->body, amin, 2, zd, v);
  k->nred = 2;
  k->combine = IR_ARGMIN;
  k->value = ld2(z, DT_I32, v[0], v[1]);
  k->finalize = op1(IR_ABS, DT_I64, acc_expr(KX_ACC_INDEX, DT_I64));
  result(f, idx);
  result(f, val);
  result(f, amin);
}

/* loop(x: f64[3], k: i64) -> (acc = sum over i < k of x * i, s = 5 + 3 + 1) */
static void build_loop(KModule *m) {
  KFunc *f = func(m, "loop");
  Dim d3 = dim_const(3);
  int x = arg(f, "x", DT_F64, 1, &d3), kk = arg(f, "k", DT_I64, 0, NULL);
  int acc = temp(f, "acc", DT_F64, 1, &d3), t = temp(f, "t", DT_F64, 1, &d3), s = temp(f, "s", DT_I64, 0, NULL);
  alloc(&f->body, acc);
  KStmt *loop = k_stmt(KS_FOR, L0);
  loop->var = f->nvars++;
  loop->cond = k_int(0);
  loop->stop = ld0(kk, DT_I64);
  loop->step = k_int(1);
  alloc(&loop->body, t);
  KExpr *v[1];
  KStmt *k = kernel(f, &loop->body, t, 1, &d3, v);
  k->value = k_op2(IR_ADD, DT_F64, ld1(acc, DT_F64, v[0]),
                   k_op2(IR_MUL, DT_F64, ld1(x, DT_F64, v[0]), k_cast(k_var(loop->var), DT_F64)));
  free_keep(&loop->body, t, 1, &t);   /* kept: t is handed on */
  free_keep(&loop->body, acc, 1, &t); /* the old value goes */
  KStmt *mv = k_stmt(KS_MOVE, L0);
  mv->buf = acc;
  mv->src = t;
  k_push(&loop->body, mv);
  k_push(&f->body, loop);
  /* for i in range(5, 0, -2): s += i */
  alloc(&f->body, s);
  KStmt *down = k_stmt(KS_FOR, L0);
  down->var = f->nvars++;
  down->cond = k_int(5);
  down->stop = k_int(0);
  down->step = k_int(-2);
  k = kernel(f, &down->body, s, 0, NULL, v);
  k->value = k_op2(IR_ADD, DT_I64, ld0(s, DT_I64), k_var(down->var));
  k_push(&f->body, down);
  result(f, acc);
  result(f, s);
}

/* branch(flag: bool, x: f32[2]) -> flag ? x * 2 : x - 1 */
static void build_branch(KModule *m) {
  KFunc *f = func(m, "branch");
  Dim d2 = dim_const(2);
  int flag = arg(f, "flag", DT_BOOL, 0, NULL), x = arg(f, "x", DT_F32, 1, &d2);
  int out = temp(f, "out", DT_F32, 1, &d2);
  alloc(&f->body, out);
  KStmt *s = k_stmt(KS_IF, L0);
  s->cond = ld0(flag, DT_BOOL);
  KExpr *v[1];
  KStmt *k = kernel(f, &s->body, out, 1, &d2, v);
  k->value = k_op2(IR_MUL, DT_F32, ld1(x, DT_F32, v[0]), k_const(DT_F32, 2));
  k = kernel(f, &s->orelse, out, 1, &d2, v);
  k->value = k_op2(IR_SUB, DT_F32, ld1(x, DT_F32, v[0]), k_const(DT_F32, 1));
  k_push(&f->body, s);
  result(f, out);
}

/* mm(a: f32[2, 3], b: f32[3, 2]) -> a @ b */
static void build_mm(KModule *m) {
  KFunc *f = func(m, "mm");
  Dim ad[2] = {dim_const(2), dim_const(3)}, bd[2] = {dim_const(3), dim_const(2)}, cd[2] = {dim_const(2), dim_const(2)};
  int a = arg(f, "a", DT_F32, 2, ad), b = arg(f, "b", DT_F32, 2, bd), c = temp(f, "c", DT_F32, 2, cd);
  alloc(&f->body, c);
  int bufs[3] = {a, b, c};
  KExpr *e[7] = {k_int(1), k_int(2), k_int(2), k_int(3), k_int(6), k_int(6), k_int(4)};
  call(&f->body, KC_MATMUL, 3, bufs, 7, e);
  result(f, c);
}

/* rng() -> (rand f32[5], randint(0, 10) i64[6], randperm i64[5], randn f64[4]) after seed(42) */
static void build_rng(KModule *m) {
  KFunc *f = func(m, "rng");
  Dim d5 = dim_const(5), d6 = dim_const(6), d4 = dim_const(4);
  KExpr *seed = k_int(42);
  call(&f->body, KC_SEED, 0, NULL, 1, &seed);
  int u = temp(f, "u", DT_F32, 1, &d5), ri = temp(f, "ri", DT_I64, 1, &d6), rp = temp(f, "rp", DT_I64, 1, &d5),
      rn = temp(f, "rn", DT_F64, 1, &d4);
  int bufs[4] = {u, ri, rp, rn};
  IrOp ops[4] = {IR_RAND, IR_RANDINT, IR_RANDPERM, IR_RANDN};
  for (int i = 0; i < 4; i++) {
    alloc(&f->body, bufs[i]);
    KExpr *lohi[2] = {k_int(0), k_int(10)};
    call(&f->body, KC_RAND, 1, &bufs[i], ops[i] == IR_RANDINT ? 2 : 0, lohi)->op = ops[i];
    result(f, bufs[i]);
  }
}

/* prt(x: f32[3]): print("x =", x, "and", 7) */
static void build_prt(KModule *m) {
  KFunc *f = func(m, "prt");
  Dim d3 = dim_const(3);
  int x = arg(f, "x", DT_F32, 1, &d3), s = temp(f, "s", DT_I64, 0, NULL);
  alloc(&f->body, s);
  KExpr *v[1];
  KStmt *k = kernel(f, &f->body, s, 0, NULL, v);
  k->value = k_int(7);
  int bufs[2] = {x, s};
  KStmt *p = call(&f->body, KC_PRINT, 2, bufs, 0, NULL);
  static const char *strs[4] = {"x =", NULL, "and", NULL};
  p->strs = strs;
  p->nstrs = 4;
  free_keep(&f->body, s, 0, NULL);
}

/* save(x: f32[3]): save(x, DIR/x.npy); save_bad(x): save into a missing directory */
static void build_save(KModule *m) {
  for (int i = 0; i < 2; i++) {
    KFunc *f = func(m, i ? "save_bad" : "save");
    Dim d3 = dim_const(3);
    int x = arg(f, "x", DT_F32, 1, &d3);
    call(&f->body, KC_SAVE, 1, &x, 0, NULL)->str = ir_sprintf("%s/%sx.npy", dir, i ? "missing/" : "");
  }
}

/* pinit(): param 0 = [1, 2, 3]; pstep(): param 0 = param 0 * 2 */
static void build_params(KModule *m) {
  Dim d3 = dim_const(3);
  KFunc *f = func(m, "pinit");
  int w = temp(f, "w", DT_F32, 1, &d3);
  alloc(&f->body, w);
  KExpr *v[1];
  KStmt *fill = kernel(f, &f->body, w, 1, &d3, v);
  fill->value = k_op2(IR_ADD, DT_F32, k_cast(v[0], DT_F32), k_const(DT_F32, 1));
  call(&f->body, KC_PARAM_STORE, 1, &w, 0, NULL)->index = 0;
  f = func(m, "pstep");
  int p = k_buf_new(f, "w", DT_F32, 1, &d3, KB_PARAM), n = temp(f, "w2", DT_F32, 1, &d3);
  alloc(&f->body, n);
  KStmt *twice = kernel(f, &f->body, n, 1, &d3, v);
  twice->value = k_op2(IR_MUL, DT_F32, ld1(p, DT_F32, v[0]), k_const(DT_F32, 2));
  call(&f->body, KC_PARAM_STORE, 1, &n, 0, NULL)->index = 0;
}

/* iops(a: i64[9], b: i64[9]), i32ops(a: i32[4], b: i32[4]) and
 * fops(a: f64[10], b: f64[10]): one result per op */
static void build_ops(KModule *m) {
  KFunc *f = func(m, "iops");
  Dim n = dim_const(9);
  int a = arg(f, "a", DT_I64, 1, &n), b = arg(f, "b", DT_I64, 1, &n);
  map(f, "fd", DT_I64, n, IR_FLOORDIV, a, b, DT_I64);
  map(f, "md", DT_I64, n, IR_MOD, a, b, DT_I64);
  map(f, "pw", DT_I64, n, IR_POW, a, b, DT_I64);
  map(f, "mx", DT_I64, n, IR_MAXIMUM, a, b, DT_I64);
  map(f, "sg", DT_I64, n, IR_SIGN, a, -1, DT_I64);
  map(f, "ab", DT_I64, n, IR_ABS, a, -1, DT_I64);

  f = func(m, "i32ops");
  n = dim_const(4);
  a = arg(f, "a", DT_I32, 1, &n), b = arg(f, "b", DT_I32, 1, &n);
  map(f, "pw", DT_I32, n, IR_POW, a, b, DT_I32);
  map(f, "fd", DT_I32, n, IR_FLOORDIV, a, b, DT_I32);

  f = func(m, "fops");
  n = dim_const(10);
  a = arg(f, "a", DT_F64, 1, &n), b = arg(f, "b", DT_F64, 1, &n);
  map(f, "fd", DT_F64, n, IR_FLOORDIV, a, b, DT_F64);
  map(f, "md", DT_F64, n, IR_MOD, a, b, DT_F64);
  map(f, "mx", DT_F64, n, IR_MAXIMUM, a, b, DT_F64);
  map(f, "mn", DT_F64, n, IR_MINIMUM, a, b, DT_F64);
  map(f, "rnd", DT_F64, n, IR_ROUND, a, -1, DT_F64);
  map(f, "relu", DT_F64, n, IR_RELU, a, -1, DT_F64);
  map(f, "sgn", DT_F64, n, IR_SIGN, a, -1, DT_F64);
  map(f, "isnan", DT_BOOL, n, IR_ISNAN, a, -1, DT_F64);
  map(f, "fin", DT_BOOL, n, IR_ISFINITE, a, -1, DT_F64);
  int cst = temp(f, "cst", DT_I32, 1, &n);
  alloc(&f->body, cst);
  KExpr *v[1];
  KStmt *k = kernel(f, &f->body, cst, 1, &n, v);
  k->value = k_cast(ld1(b, DT_F64, v[0]), DT_I32);
  result(f, cst);
  map(f, "soft", DT_F64, n, IR_SOFTPLUS, a, -1, DT_F64);
  map(f, "gelu", DT_F64, n, IR_GELU, a, -1, DT_F64);
  map(f, "sig", DT_F64, n, IR_SIGMOID, a, -1, DT_F64);
  map(f, "pow", DT_F64, n, IR_POW, a, b, DT_F64);
  map(f, "ne", DT_BOOL, n, IR_NE, a, b, DT_F64);
  map(f, "le", DT_BOOL, n, IR_LE, a, b, DT_F64);
}

static KModule *kernels_module(void) {
  KModule *m = ir_alloc(sizeof *m);
  m->name = "cgtest";
  int N = ir_sym_new("N", L0), M = ir_sym_new("M", L0);
  build_ew(m, N);
  build_red(m, N, M);
  build_amax(m);
  build_loop(m);
  build_branch(m);
  build_mm(m);
  build_rng(m);
  build_prt(m);
  build_save(m);
  build_params(m);
  build_ops(m);
  return m;
}

/* ===== the harness: calls every function and prints its results ===== */

static const char *harness =
    "#include <math.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include \"tensorc/runtime.h\"\n"
    "#define FN(n) int tc_fn_##n(tc_ctx *, const tc_array *, tc_array *);\n"
    "FN(ew) FN(red) FN(amax) FN(loop) FN(branch) FN(mm) FN(rng) FN(prt) FN(save) FN(save_bad)\n"
    "FN(pinit) FN(pstep) FN(iops) FN(i32ops) FN(fops)\n"
    "static tc_ctx *ctx;\n"
    "static tc_array A(tc_dtype dt, int rank, int64_t d0, int64_t d1, void *data) {\n"
    "  tc_array a = {data, dt, rank, {d0, d1}};\n"
    "  return a;\n"
    "}\n"
    "static void show(const char *label, tc_array *a) {\n"
    "  char *s = tcrt_format(a);\n"
    "  printf(\"%s %s\\n\", label, s);\n"
    "  free(s);\n"
    "  tcrt_free(a->data);\n"
    "}\n"
    "static int run(const char *name, int (*fn)(tc_ctx *, const tc_array *, tc_array *), const tc_array *args,\n"
    "               tc_array *res, const char **labels, int n) {\n"
    "  int st = fn(ctx, args, res);\n"
    "  if (st) {\n"
    "    printf(\"%s status %d: %s\\n\", name, st, tcrt_error(ctx));\n"
    "    return st;\n"
    "  }\n"
    "  for (int i = 0; i < n; i++) {\n"
    "    char l[64];\n"
    "    snprintf(l, sizeof l, \"%s.%s\", name, labels[i]);\n"
    "    show(l, &res[i]);\n"
    "  }\n"
    "  return 0;\n"
    "}\n"
    "int main(int argc, char **argv) {\n"
    "  ctx = tcrt_ctx_new(1);\n"
    "  tc_array r[20], a[4];\n"
    "  float x[6] = {1, 2, 3, 4, 5, 6}, y[4] = {10, 20, 30, 40};\n"
    "  a[0] = A(TC_F32, 2, 2, 3, x), a[1] = A(TC_F32, 1, 3, 0, y);\n"
    "  run(\"ew\", tc_fn_ew, a, r, (const char *[]){\"out\", \"flat\", \"n2\"}, 3);\n"
    "  a[1].shape[0] = 4;\n"
    "  run(\"ew.bad\", tc_fn_ew, a, r, NULL, 0);\n"
    "  double xr[6] = {1, 2, 3, 4, NAN, 6};\n"
    "  a[0] = A(TC_F64, 2, 2, 3, xr);\n"
    "  run(\"red\", tc_fn_red, a, r, (const char *[]){\"mean\", \"max\", \"cnt\", \"any\", \"all\"}, 5);\n"
    "  float xa[16] = {1, 5, 5, 2, NAN, 3, NAN, 9, -INFINITY, -INFINITY, -INFINITY, -INFINITY, 2, 7, 1, NAN};\n"
    "  int32_t z[6] = {3, 1, 4, 1, 5, 9};\n"
    "  a[0] = A(TC_F32, 2, 4, 4, xa), a[1] = A(TC_I32, 2, 2, 3, z);\n"
    "  run(\"amax\", tc_fn_amax, a, r, (const char *[]){\"idx\", \"val\", \"amin\"}, 3);\n"
    "  int64_t live = tcrt_alloc_count();\n"
    "  double xl[3] = {1, 2, 3};\n"
    "  int64_t k = 4;\n"
    "  a[0] = A(TC_F64, 1, 3, 0, xl), a[1] = A(TC_I64, 0, 0, 0, &k);\n"
    "  run(\"loop\", tc_fn_loop, a, r, (const char *[]){\"acc\", \"s\"}, 2);\n"
    "  printf(\"loop.leaked %lld\\n\", (long long)(tcrt_alloc_count() - live));\n"
    "  unsigned char flag = 1;\n"
    "  float xb[2] = {1, 2};\n"
    "  a[0] = A(TC_BOOL, 0, 0, 0, &flag), a[1] = A(TC_F32, 1, 2, 0, xb);\n"
    "  run(\"branch.t\", tc_fn_branch, a, r, (const char *[]){\"out\"}, 1);\n"
    "  flag = 0;\n"
    "  run(\"branch.f\", tc_fn_branch, a, r, (const char *[]){\"out\"}, 1);\n"
    "  float ma[6] = {1, 2, 3, 4, 5, 6}, mb[6] = {1, 2, 3, 4, 5, 6};\n"
    "  a[0] = A(TC_F32, 2, 2, 3, ma), a[1] = A(TC_F32, 2, 3, 2, mb);\n"
    "  run(\"mm\", tc_fn_mm, a, r, (const char *[]){\"c\"}, 1);\n"
    "  tc_array r2[4];\n"
    "  if (tc_fn_rng(ctx, NULL, r) || tc_fn_rng(ctx, NULL, r2)) {\n"
    "    printf(\"rng failed: %s\\n\", tcrt_error(ctx));\n"
    "  } else {\n"
    "    int ok = 1;\n"
    "    float *u = r[0].data; int64_t *ri = r[1].data, *rp = r[2].data; double *rn = r[3].data;\n"
    "    for (int i = 0; i < 5; i++) ok &= u[i] >= 0 && u[i] < 1 && rp[i] >= 0 && rp[i] < 5;\n"
    "    for (int i = 0; i < 6; i++) ok &= ri[i] >= 0 && ri[i] < 10;\n"
    "    for (int i = 0; i < 4; i++) ok &= isfinite(rn[i]);\n"
    "    for (int i = 0; i < 5; i++) for (int j = 0; j < i; j++) ok &= rp[i] != rp[j];\n"
    "    for (int i = 0; i < 4; i++)\n"
    "      ok &= memcmp(r[i].data, r2[i].data, (size_t)(r[i].shape[0] * (i == 0 ? 4 : 8))) == 0 &&\n"
    "            r[i].rank == 1 && r[i].dtype == (i == 0 ? TC_F32 : i == 3 ? TC_F64 : TC_I64);\n"
    "    printf(\"rng %s\\n\", ok ? \"ok\" : \"WRONG\");\n"
    "    for (int i = 0; i < 4; i++) tcrt_free(r[i].data), tcrt_free(r2[i].data);\n"
    "  }\n"
    "  float xp[3] = {1, 2, 3};\n"
    "  a[0] = A(TC_F32, 1, 3, 0, xp);\n"
    "  run(\"prt\", tc_fn_prt, a, r, NULL, 0);\n"
    "  run(\"save\", tc_fn_save, a, r, NULL, 0);\n"
    "  tc_array back;\n"
    "  const char *warn;\n"
    "  char err[256], path[600];\n"
    "  snprintf(path, sizeof path, \"%s/x.npy\", argv[1]);\n"
    "  if (tcrt_load(path, &back, &warn, err, sizeof err) == 0)\n"
    "    show(\"save.back\", &back);\n"
    "  else\n"
    "    printf(\"save.back: %s\\n\", err);\n"
    "  printf(\"save.bad %d %s\\n\", tc_fn_save_bad(ctx, a, r), tcrt_error(ctx)[0] ? \"(message)\" : \"(none)\");\n"
    "  if (tc_fn_pinit(ctx, NULL, NULL) || tc_fn_pstep(ctx, NULL, NULL))\n"
    "    printf(\"params failed: %s\\n\", tcrt_error(ctx));\n"
    "  tc_array pw = A(TC_F32, 1, 3, 0, tcrt_param(ctx, 0));\n"
    "  char *ps = tcrt_format(&pw);\n"
    "  printf(\"param.w %s\\n\", ps);\n"
    "  free(ps);\n"
    "  int64_t ia[9] = {7, -7, 7, -7, 5, 0, INT64_MIN, 3, -1}, ib[9] = {2, 2, -2, -2, 0, 3, -1, -1, 5};\n"
    "  a[0] = A(TC_I64, 1, 9, 0, ia), a[1] = A(TC_I64, 1, 9, 0, ib);\n"
    "  run(\"iops\", tc_fn_iops, a, r, (const char *[]){\"fd\", \"md\", \"pw\", \"mx\", \"sg\", \"ab\"}, 6);\n"
    "  int32_t ja[4] = {3, -2, INT32_MIN, 5}, jb[4] = {3, 3, -1, 0};\n"
    "  a[0] = A(TC_I32, 1, 4, 0, ja), a[1] = A(TC_I32, 1, 4, 0, jb);\n"
    "  run(\"i32ops\", tc_fn_i32ops, a, r, (const char *[]){\"pw\", \"fd\"}, 2);\n"
    "  double fa[10] = {7.5, -7.5, 1.0, -0.0, 2.5, 3.5, NAN, INFINITY, -INFINITY, 0.1};\n"
    "  double fb[10] = {2, 2, -0.3, 1, 0, -1, 1, 2, 3, 0.1};\n"
    "  a[0] = A(TC_F64, 1, 10, 0, fa), a[1] = A(TC_F64, 1, 10, 0, fb);\n"
    "  run(\"fops\", tc_fn_fops, a, r, (const char *[]){\"fd\", \"md\", \"mx\", \"mn\", \"rnd\", \"relu\", \"sgn\",\n"
    "      \"isnan\", \"fin\", \"cst\", \"soft\", \"gelu\", \"sig\", \"pow\", \"ne\", \"le\"}, 16);\n"
    "  tcrt_ctx_free(ctx);\n"
    "  printf(\"live %lld\\n\", (long long)tcrt_alloc_count());\n"
    "  return 0;\n"
    "}\n";

/* NumPy's str() of the same computations (see the file comment). */
static const char *expected =
    "ew.out [[21. 42. 63.]\n"
    " [24. 45. 66.]]\n"
    "ew.flat [-1. -2. -3. -4. -5. -6.]\n"
    "ew.n2 4\n"
    "ew.bad status 1: argument 'y': axis 0 must have size 3 (100% sure)\n"
    "red.mean [ 2. nan]\n"
    "red.max [ 3. nan]\n"
    "red.cnt [2 2]\n"
    "red.any True\n"
    "red.all False\n"
    "amax.idx [1 0 0 3]\n"
    "amax.val [  5.  nan -inf  nan]\n"
    "amax.amin 1\n"
    "loop.acc [ 6. 12. 18.]\n"
    "loop.s 9\n"
    "loop.leaked 0\n"
    "branch.t.out [2. 4.]\n"
    "branch.f.out [0. 1.]\n"
    "mm.c [[22. 28.]\n"
    " [49. 64.]]\n"
    "rng ok\n"
    "x = [1. 2. 3.] and 7\n"
    "save.back [1. 2. 3.]\n"
    "save.bad 1 (message)\n"
    "param.w [2. 4. 6.]\n"
    "iops.fd [                   3                   -4                   -4\n"
    "                    3                    0                    0\n"
    " -9223372036854775808                   -3                   -1]\n"
    "iops.md [ 1  1 -1 -1  0  0  0  0  4]\n"
    "iops.pw [49 49  0  0  1  0  0  0 -1]\n"
    "iops.mx [ 7  2  7 -2  5  3 -1  3  5]\n"
    "iops.sg [ 1 -1  1 -1  1  0 -1  1 -1]\n"
    "iops.ab [                   7                    7                    7\n"
    "                    7                    5                    0\n"
    " -9223372036854775808                    3                    1]\n"
    "i32ops.pw [27 -8  0  1]\n"
    "i32ops.fd [          1          -1 -2147483648           0]\n"
    "fops.fd [ 3. -4. -4. -0. inf -4. nan nan nan  1.]\n"
    "fops.md [ 1.5  0.5 -0.2  0.   nan -0.5  nan  nan  nan  0. ]\n"
    "fops.mx [7.5 2.  1.  1.  2.5 3.5 nan inf 3.  0.1]\n"
    "fops.mn [ 2.  -7.5 -0.3 -0.   0.  -1.   nan  2.  -inf  0.1]\n"
    "fops.rnd [  8.  -8.   1.  -0.   2.   4.  nan  inf -inf   0.]\n"
    "fops.relu [ 7.5  0.   1.  -0.   2.5  3.5  nan  inf  0.   0.1]\n"
    "fops.sgn [ 1. -1.  1.  0.  1.  1. nan  1. -1.  1.]\n"
    "fops.isnan [False False False False False False  True False False False]\n"
    "fops.fin [ True  True  True  True  True  True False False False  True]\n"
    "fops.cst [ 2  2  0  1  0 -1  1  2  3  0]\n"
    "fops.soft [7.50055293e+00 5.52931475e-04 1.31326169e+00 6.93147181e-01\n"
    " 2.57888973e+00 3.52975042e+00            nan            inf\n"
    " 0.00000000e+00 7.44396660e-01]\n"
    "fops.gelu [ 7.50000000e+00 -2.39391840e-13  8.41344746e-01 -0.00000000e+00\n"
    "  2.48447584e+00  3.49918580e+00             nan             inf\n"
    "             nan  5.39827837e-02]\n"
    "fops.sig [9.99447221e-01 5.52778637e-04 7.31058579e-01 5.00000000e-01\n"
    " 9.24141820e-01 9.70687769e-01            nan 1.00000000e+00\n"
    " 0.00000000e+00 5.24979187e-01]\n"
    "fops.pow [56.25       56.25        1.         -0.          1.          0.28571429\n"
    "         nan         inf        -inf  0.79432823]\n"
    "fops.ne [ True  True  True  True  True  True  True  True  True False]\n"
    "fops.le [False  True False  True False False False False  True  True]\n"
    "live 0\n";

/* ===== running things ===== */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return ir_strdup("");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  rewind(f);
  char *buf = ir_alloc((size_t)size + 1);
  size_t n = fread(buf, 1, (size_t)size, f);
  fclose(f);
  buf[n] = 0;
  return buf;
}

static void write_file(const char *path, const char *text, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(text, 1, n, f) != n) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
}

/* The kernel-IR passes the code generator requires (schedule, placement,
 * legalize), then the code. */
static bool emit(KModule *m, CgEmit kind, const char *path, int opt) {
  CgOptions o = {.opt = opt};
  if (!m->scheduled) {
    m->target = ir_target_cpu();
    pass_schedule(m);
    pass_placement(m);
    pass_legalize(m);
  }
  return cg_emit(m, kind, path, &o);
}

/* Compiles the kernels at -O`opt`, links the harness and compares its output. */
static void run_kernels(KModule *m, int opt) {
  char *obj = ir_sprintf("%s/cg%d.o", dir, opt), *exe = ir_sprintf("%s/harness%d", dir, opt);
  CHECK(emit(m, CG_OBJ, obj, opt));
  int rc = sh("%s -I%s/runtime/include %s/harness.c %s %s/lib/libtensorc_rt.a %s -lm%s -o %s", TC_CC,
              TC_SOURCE_DIR, dir, obj, TC_BINARY_DIR, TC_BLAS_LDFLAGS, TC_SAN, exe);
  CHECK(rc == 0);
  if (rc)
    return;
  char *out = ir_sprintf("%s/out%d.txt", dir, opt);
  CHECK(sh("%s %s > %s 2>&1", exe, dir, out) == 0);
  char *got = slurp(out);
  if (strcmp(got, expected) != 0) {
    fprintf(stderr, "-O%d: the harness printed (%s):\n%s\n", opt, out, got);
    /* the first differing line, to save reading */
    const char *g = got, *e = expected;
    while (*g && *g == *e)
      g++, e++;
    while (g > got && g[-1] != '\n')
      g--, e--;
    fprintf(stderr, "----- first difference:\n  got:  %.*s\n  want: %.*s\n", (int)strcspn(g, "\n"), g,
            (int)strcspn(e, "\n"), e);
    failures++;
  }
}

/* .ll, .s and standard output for the same module. */
static void check_text_outputs(KModule *m) {
  char *ll = ir_sprintf("%s/cg.ll", dir), *s = ir_sprintf("%s/cg.s", dir);
  CHECK(emit(m, CG_LLVM, ll, 0));
  char *text = slurp(ll);
  CHECK(strstr(text, "define i32 @tc_fn_ew(%tc_ctx* %ctx, %tc_array* %args, %tc_array* %results)") != NULL);
  CHECK(strstr(text, "call i32 (%tc_ctx*, i32, i8*, ...) @tcrt_fail") != NULL);
  CHECK(emit(m, CG_ASM, s, 3));
  text = slurp(s);
  CHECK(strstr(text, "tc_fn_fops:") != NULL);
  /* at -O2 the elementwise loops are vectorised for the host */
  CHECK(emit(m, CG_LLVM, ll, 2));
  text = slurp(ll);
  CHECK(strstr(text, "x float>") != NULL || strstr(text, "x double>") != NULL);
  /* no temporary left behind */
  CHECK(sh("ls %s | grep -q tmp", dir) != 0);
}

/* ===== an executable: main and init through tcrt_exe_main ===== */

/* A float32 .npy file of a vector, written by hand (no runtime here). */
static void write_npy(const char *path, const float *v, int n) {
  char header[128];
  int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }", n);
  while ((10 + len + 1) % 64)
    header[len++] = ' ';
  header[len++] = '\n';
  char buf[512];
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (char)(len & 0xff);
  buf[9] = (char)(len >> 8);
  memcpy(buf + 10, header, (size_t)len);
  memcpy(buf + 10 + len, v, sizeof(float) * (size_t)n);
  write_file(path, buf, 10 + (size_t)len + sizeof(float) * (size_t)n);
}

/* init(): w = [0.5, 1.5]
 * main(x: f32[N], scale: f32 = 3) -> x * scale + w[0]; prints "scale is" scale;
 *   fails when scale < 0 */
static KModule *program_module(void) {
  KModule *m = ir_alloc(sizeof *m);
  m->name = "prog";
  IrModule *gm = ir_alloc(sizeof *gm);
  gm->name = "prog";
  m->graph = gm;
  Dim d2 = dim_const(2);
  IrParam *p = ir_alloc(sizeof *p);
  p->name = "w";
  p->type = ir_type_tensor(DT_F32, 1, &d2);
  ir_vec_push(&gm->params, p);

  KFunc *f = func(m, "init");
  f->is_init = true;
  int w = temp(f, "w", DT_F32, 1, &d2);
  alloc(&f->body, w);
  KExpr *v[1];
  KStmt *k = kernel(f, &f->body, w, 1, &d2, v);
  k->value = k_op2(IR_ADD, DT_F32, k_cast(v[0], DT_F32), k_const(DT_F32, 0.5));
  call(&f->body, KC_PARAM_STORE, 1, &w, 0, NULL)->index = 0;

  int N = ir_sym_new("N", L0);
  Dim dn = dim_sym(N);
  IrFunc *g = ir_alloc(sizeof *g);
  g->name = "main";
  g->is_main = true;
  IrNode *ax = ir_node_new(IR_ARG, L0, 0, NULL), *as = ir_node_new(IR_ARG, L0, 0, NULL);
  ax->at.str = ax->name = "x";
  ax->type = ir_type_tensor(DT_F32, 1, &dn);
  as->at.str = as->name = "scale";
  as->type = ir_type_scalar(DT_F32);
  as->at.has_default = true;
  as->at.fval = 3;
  ir_vec_push(&g->args, ax);
  ir_vec_push(&g->args, as);
  f = func(m, "main");
  f->is_main = true;
  f->graph = g;
  int x = arg(f, "x", DT_F32, 1, &dn), sc = arg(f, "scale", DT_F32, 0, NULL);
  int pw = k_buf_new(f, "w", DT_F32, 1, &d2, KB_PARAM), y = temp(f, "y", DT_F32, 1, &dn);
  setsym(&f->body, N, argdim(0, 0));
  KStmt *c = k_stmt(KS_CHECK, L0);
  c->cond = k_op2(IR_GE, DT_BOOL, ld0(sc, DT_F32), k_const(DT_F32, 0));
  c->message = "prog.tc:3:5: scale must be >= 0";
  k_push(&f->body, c);
  int pb[1] = {sc};
  KStmt *pr = call(&f->body, KC_PRINT, 1, pb, 0, NULL);
  static const char *strs[2] = {"scale is", NULL};
  pr->strs = strs;
  pr->nstrs = 2;
  alloc(&f->body, y);
  KStmt *out = kernel(f, &f->body, y, 1, &dn, v);
  out->value =
      k_op2(IR_ADD, DT_F32, k_op2(IR_MUL, DT_F32, ld1(x, DT_F32, v[0]), ld0(sc, DT_F32)), ld1(pw, DT_F32, k_int(0)));
  result(f, y);
  return m;
}

static void run_program(void) {
  KModule *m = program_module();
  char *exe = ir_sprintf("%s/prog", dir), *npy = ir_sprintf("%s/x.in.npy", dir);
  CHECK(emit(m, CG_EXE, exe, 2));
  float xs[3] = {1, 2, 4};
  write_npy(npy, xs, 3);
  char *out = ir_sprintf("%s/prog.txt", dir);
  int rc = sh("%s x=%s > %s 2>&1", exe, npy, out);
  char *got = slurp(out);
  /* 1 * 3 + 0.5, 2 * 3 + 0.5, 4 * 3 + 0.5 */
  if (rc != 0 || !strstr(got, "scale is 3.0") || !strstr(got, "[ 3.5  6.5 12.5]")) {
    fprintf(stderr, "prog x=...: exit %d, printed:\n%s\n", rc, got);
    failures++;
  }
  rc = sh("%s x=%s scale=-1 > %s 2>&1", exe, npy, out);
  got = slurp(out);
  if (rc != 1 || !strstr(got, "scale must be >= 0")) {
    fprintf(stderr, "prog scale=-1: exit %d (want 1), printed:\n%s\n", rc, got);
    failures++;
  }
  /* a program without main cannot become an executable */
  KModule *none = ir_alloc(sizeof *none);
  none->name = "none";
  fprintf(stderr, "(an error is expected next)\n");
  CHECK(!emit(none, CG_EXE, exe, 0));
}

int main(int argc, char **argv) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/codegen_test.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  write_file(ir_sprintf("%s/harness.c", dir), harness, strlen(harness));
  KModule *m = kernels_module();
  check_text_outputs(m);
  run_kernels(m, 0);
  run_kernels(m, 2);
  if (argc < 2 || strcmp(argv[1], "--no-exe") != 0)
    run_program();
  if (failures) {
    fprintf(stderr, "%d failure(s); files kept in %s\n", failures, dir);
    return 1;
  }
  if (!getenv("CODEGEN_TEST_KEEP"))
    sh("rm -rf '%s'", dir);
  printf("codegen_test: all checks passed\n");
  ir_arena_free_all();
  return 0;
}
