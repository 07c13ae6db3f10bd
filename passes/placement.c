/* passes/placement.c - the `placement` pass: where every buffer lives.
 *
 * On the CPU everything is host memory and the pass only says so.  On the
 * GPU it gives every buffer a memory space (KBuf.space) and inserts the
 * copies between spaces as statements (Halide's InjectHostDevBufferCopies
 * is the model), so that where data is, and when it moves, is in the IR
 * and in its dump rather than hidden in a backend:
 *
 * 1. Buffers that one MOVE makes the same pointer (a loop's carried value,
 *    a result) form one class, and a class lives in one space.  A class is
 *    device memory when a device kernel, a matmul, a random draw or a
 *    param touches one of its buffers (params live on the device between
 *    steps), or when it holds an argument that gets a device twin (2.):
 *    the MOVEs that alias the argument (a reshape of it, `v = x`) alias
 *    the twin, so their class is the twin's; else host memory.
 * 2. Every argument whose values are read gets a device twin, made just
 *    before its first use (after the checks and symbols of the arguments,
 *    which its size needs) by `copy.arg %x.dev <- %x`: the caller's device
 *    tensor itself when the C interface was handed one (no copy: the twin
 *    is never written), else a device copy of the host argument.  Every
 *    statement uses the twin, host reads too (3.), so the argument's own
 *    pointer is never read on the host, and the image says so
 *    (TC_GPU_DEVICE_ARGS); the twin is freed at the end (a borrowed
 *    tensor is left alone by tcrt_dev_free).
 * 3. A host statement that reads a device buffer (print, save, a check or
 *    an `if`, `for` or symbol that loads a value) reads a host copy made
 *    just before it and freed just after: only the value printed or
 *    tested moves, never more.
 * 4. Results go back to the caller in host memory: each device result is
 *    copied into a new host buffer, which becomes the result, and the
 *    device buffer is freed unless it is a param's or an argument's twin.
 *    The host buffer is marked `-> outK` (the copy lands in the caller's
 *    CPU output), and so is the copy (`copy ... -> outK`): when memplan
 *    marked the device buffer (the caller's kDLCUDA output, computed in
 *    place), the host buffer is that memory and nothing is copied.
 * 5. A collective of --dist=mpi (`call dist.OP`) runs on the host: its
 *    device operand is copied into a host buffer, the call reduces it in
 *    place there, and the result is copied back to the device, one copy
 *    each way per call (a gradient bucket: one buffer).
 *
 * Requires: schedule (KStmt.device).  Preserves: what every function
 * computes and returns.
 */
#include "passes.h"

#include "../ir/kernel.h"

typedef struct Place {
  KFunc *f;
  int *parent;  /* union-find over buffers: MOVE classes */
  bool *device; /* by class root: lives on the device */
  int *twin;    /* by argument buffer: its device twin, or -1 */
  int nb;       /* buffers before the pass added any */
} Place;

static int find(Place *P, int b) {
  while (P->parent[b] != b)
    b = P->parent[b] = P->parent[P->parent[b]];
  return b;
}

static void join(Place *P, int a, int b) {
  a = find(P, a), b = find(P, b);
  if (a != b)
    P->parent[a] = b;
}

/* ---- 1. classes and spaces ---- */

static void classes(Place *P, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_MOVE)
      join(P, s->buf, s->src);
    classes(P, &s->body);
    classes(P, &s->orelse);
  }
}

static void on_device(int buf, KRefRole role, void *ctx) {
  Place *P = ctx;
  if (role == KR_READ || role == KR_WRITE || role == KR_ESCAPE)
    P->device[buf] = true; /* by buffer first; folded into classes after */
}

/* Marks the buffers that device code, library calls and params touch. */
static void device_uses(Place *P, KList *l) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->device || (s->kind == KS_CALL && (s->call == KC_MATMUL || s->call == KC_RAND || s->call == KC_PARAM_STORE))) {
      k_stmt_refs(s, on_device, P);
      continue;
    }
    device_uses(P, &s->body);
    device_uses(P, &s->orelse);
  }
}

/* Whether a statement refers to buffer `buf`. */
typedef struct Uses {
  int buf;
  bool found;
} Uses;

static void uses_buf(int buf, KRefRole role, void *ctx) {
  Uses *u = ctx;
  u->found |= buf == u->buf;
}

/* Whether argument a's values are used (not only its dims): it gets a
 * device twin (2.). */
static bool needs_twin(KFunc *f, int a) {
  Uses u = {.buf = a};
  for (int i = 0; i < f->body.n; i++)
    k_stmt_refs(f->body.v[i], uses_buf, &u);
  for (int r = 0; r < f->nresults; r++)
    u.found |= f->results[r] == a; /* returned as it is: its copy comes from the twin (4.) */
  return u.found;
}

/* ---- 2, 3. host reads of device buffers ---- */

static int new_buf(Place *P, int like, const char *suffix, KSpace space) {
  KBuf *kb = k_buf(P->f, like);
  int b = k_buf_new(P->f, ir_sprintf("%s%s", kb->name ? kb->name : "t", suffix), kb->dtype, kb->rank, kb->dims,
                    KB_TEMP);
  k_buf(P->f, b)->space = space;
  k_buf(P->f, b)->host = -1;
  return b;
}

static KStmt *stmt_of(KStmtKind kind, Loc loc, int buf, int src) {
  KStmt *s = k_stmt(kind, loc);
  s->buf = buf;
  s->src = src;
  return s;
}

/* An argument is host memory even in a device class (its twin is not);
 * the buffers the pass adds have their space already. */
static bool is_device(Place *P, int b) {
  if (b >= P->nb)
    return k_buf(P->f, b)->space == KM_DEVICE;
  return P->device[find(P, b)] && k_buf(P->f, b)->kind != KB_ARG;
}

typedef struct Reads {
  Place *P;
  int bufs[64];
  int n;
} Reads;

static void host_read(int buf, KRefRole role, void *ctx) {
  Reads *r = ctx;
  if (role != KR_READ || !is_device(r->P, buf))
    return;
  for (int i = 0; i < r->n; i++)
    if (r->bufs[i] == buf)
      return;
  if (r->n == (int)(sizeof r->bufs / sizeof r->bufs[0]))
    ir_die((Loc){0}, "placement: a statement reading more than 64 device buffers");
  r->bufs[r->n++] = buf;
}

/* Calls fn for each buffer a host statement reads itself (print and
 * save's operands, the loads of its expressions; not its nested bodies). */
typedef struct OwnReads {
  KRefFn fn;
  void *ctx;
} OwnReads;

static void own_expr(KExpr *e, void *ctx) {
  OwnReads *o = ctx;
  k_expr_refs(e, o->fn, o->ctx);
}

static void own_reads(KStmt *s, KRefFn fn, void *ctx) {
  if (s->kind == KS_CALL && (s->call == KC_PRINT || s->call == KC_SAVE))
    for (int i = 0; i < s->nbufs; i++)
      fn(s->bufs[i], KR_READ, ctx);
  OwnReads o = {fn, ctx};
  k_stmt_exprs(s, own_expr, &o);
}

/* The device buffers a host statement reads itself. */
static Reads host_reads(Place *P, KStmt *s) {
  Reads r = {.P = P};
  own_reads(s, host_read, &r);
  return r;
}

/* A statement's own operands renamed (not its nested bodies). */
static void rename_own(KStmt *s, int from, int to) {
  KList body = s->body, orelse = s->orelse;
  s->body = (KList){0};
  s->orelse = (KList){0};
  k_stmt_rename(s, from, to, false);
  s->body = body;
  s->orelse = orelse;
}

/* Whether a host statement itself reads buffer b's values (not only its dims). */
static bool reads_values(KStmt *s, int b) {
  Uses u = {.buf = b};
  own_reads(s, uses_buf, &u);
  return u.found;
}

/* 5. A collective (KC_DIST) is a host call: when its operand or its
 * result lives on the device, it runs on one host buffer, copied from the
 * operand before (d2h) and into the result after (h2d), in place (MPI
 * needs no device memory; docs/distributed.md, "On the GPU"). */
static void place_dist(Place *P, KStmt *s, KList *out) {
  int nin = s->nbufs - 1, in = nin ? s->bufs[0] : -1, res = s->bufs[nin];
  bool in_dev = nin && is_device(P, in), res_dev = is_device(P, res);
  if (!in_dev && !res_dev) {
    k_push(out, s);
    return;
  }
  int h = new_buf(P, in_dev ? in : res, ".host", KM_HOST);
  KStmt *al = stmt_of(KS_ALLOC, s->loc, h, 0);
  al->uninit = true;
  k_push(out, al);
  if (in_dev)
    k_push(out, stmt_of(KS_COPY, s->loc, h, in));
  int *bufs = ir_alloc(sizeof(int) * 2);
  if (nin)
    bufs[0] = in_dev ? h : in;
  bufs[nin] = res_dev ? h : res;
  s->bufs = bufs;
  k_push(out, s);
  if (res_dev)
    k_push(out, stmt_of(KS_COPY, s->loc, res, h));
  k_push(out, stmt_of(KS_FREE, s->loc, h, 0));
}

static void place_list(Place *P, KList *l) {
  KList out = {0};
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    /* 2. device code uses the arguments' twins; a matmul or a draw its
     * buffers' (its sizes and bounds are the host's values) */
    bool dev_call = s->kind == KS_CALL && (s->call == KC_MATMUL || s->call == KC_RAND || s->call == KC_PARAM_STORE);
    for (int a = 0; a < P->f->nargs; a++) {
      if (P->twin[a] < 0)
        continue;
      if (s->device || s->kind == KS_MOVE || s->kind == KS_FREE)
        k_stmt_rename(s, a, P->twin[a], false);
      else if (dev_call || (s->kind == KS_CALL && s->call == KC_DIST)) /* a collective: through a host copy (5.) */
        s->bufs = k_ints_rename(s->bufs, s->nbufs, a, P->twin[a]);
      else if (reads_values(s, a))
        rename_own(s, a, P->twin[a]); /* a host read: through a host copy of the twin (3.) */
    }
    if (s->device) {
      k_push(&out, s);
      continue;
    }
    /* 3. host reads through copies made just before */
    Reads r = host_reads(P, s);
    int hosts[64];
    for (int k = 0; k < r.n; k++) {
      hosts[k] = new_buf(P, r.bufs[k], ".host", KM_HOST);
      KStmt *al = stmt_of(KS_ALLOC, s->loc, hosts[k], 0);
      al->uninit = true;
      k_push(&out, al);
      k_push(&out, stmt_of(KS_COPY, s->loc, hosts[k], r.bufs[k]));
      rename_own(s, r.bufs[k], hosts[k]);
    }
    place_list(P, &s->body);
    place_list(P, &s->orelse);
    if (s->kind == KS_CALL && s->call == KC_DIST)
      place_dist(P, s, &out); /* 5. */
    else
      k_push(&out, s);
    for (int k = 0; k < r.n; k++)
      k_push(&out, stmt_of(KS_FREE, s->loc, hosts[k], 0));
  }
  *l = out;
}

/* ---- the pass ---- */

static void place_func(KFunc *f) {
  Place P = {.f = f, .nb = f->bufs.n};
  P.parent = ir_alloc(sizeof(int) * ((size_t)P.nb + 1));
  P.device = ir_alloc((size_t)P.nb + 1);
  P.twin = ir_alloc(sizeof(int) * ((size_t)f->nargs + 1));
  for (int b = 0; b < P.nb; b++)
    P.parent[b] = b;
  classes(&P, &f->body);
  device_uses(&P, &f->body);
  for (int b = 0; b < P.nb; b++)
    if (k_buf(f, b)->kind == KB_PARAM || (b < f->nargs && needs_twin(f, b)))
      P.device[b] = true;
  for (int b = 0; b < P.nb; b++)
    if (P.device[b])
      P.device[find(&P, b)] = true;
  for (int b = 0; b < P.nb; b++) {
    KBuf *kb = k_buf(f, b);
    kb->host = -1;
    kb->space = P.device[find(&P, b)] && kb->kind != KB_ARG ? KM_DEVICE : KM_HOST;
  }
  /* 2. the arguments' device twins, each made just before the first
   * statement that uses it: after the checks and symbols of the
   * arguments, which its size needs */
  KStmt **made = ir_alloc(sizeof(KStmt *) * ((size_t)f->nargs + 1));
  Loc loc = f->graph ? f->graph->loc : (Loc){0};
  for (int a = 0; a < f->nargs; a++) {
    P.twin[a] = -1;
    if (!needs_twin(f, a))
      continue; /* only its dims are used, or nothing */
    P.twin[a] = new_buf(&P, a, ".dev", KM_DEVICE);
    k_buf(f, P.twin[a])->host = a;
    made[a] = stmt_of(KS_COPY, loc, P.twin[a], a);
    made[a]->borrow = true;
  }
  place_list(&P, &f->body);
  KList body = {0};
  for (int i = 0; i <= f->body.n; i++) {
    for (int a = 0; a < f->nargs; a++) {
      Uses u = {.buf = P.twin[a]};
      if (P.twin[a] < 0 || !made[a] || (i < f->body.n && (k_stmt_refs(f->body.v[i], uses_buf, &u), !u.found)))
        continue; /* no twin, made already, or not used here (the end: make the unused ones) */
      k_push(&body, made[a]);
      made[a] = NULL;
    }
    if (i < f->body.n)
      k_push(&body, f->body.v[i]);
  }
  f->body = body;
  /* 4. results back in host memory */
  int *res = ir_alloc(sizeof(int) * ((size_t)f->nresults + 1));
  KList frees = {0};
  for (int r = 0; r < f->nresults; r++) {
    int b = f->results[r];
    for (int a = 0; a < f->nargs; a++)
      if (b == a && P.twin[a] >= 0)
        b = P.twin[a]; /* a result that is an argument is the argument */
    res[r] = f->results[r];
    if (k_buf(f, b)->space != KM_DEVICE)
      continue;
    res[r] = new_buf(&P, b, ".host", KM_HOST);
    KStmt *al = stmt_of(KS_ALLOC, loc, res[r], 0);
    al->uninit = true;
    al->out = r + 1; /* the copy back lands in the caller's host memory (memplan_results.c) */
    if (f->results_why)
      f->results_why[r] = NULL;
    k_push(&f->body, al);
    KStmt *back = stmt_of(KS_COPY, loc, res[r], b);
    back->out = r + 1; /* nothing to copy when b is the caller's device tensor (`-> outK` on the device) */
    k_push(&f->body, back);
    if (k_buf(f, b)->kind == KB_TEMP && k_buf(f, b)->host < 0) {
      /* freed unless it is a param's memory or an argument's twin (freed below) */
      KStmt *fr = stmt_of(KS_FREE, loc, b, 0);
      fr->keep = ir_alloc(sizeof(int) * ((size_t)P.nb + 1));
      for (int k = 0; k < f->bufs.n; k++)
        if (k != b && (k_buf(f, k)->kind == KB_PARAM || k_buf(f, k)->host >= 0))
          fr->keep[fr->nkeep++] = k;
      k_push(&frees, fr);
    }
  }
  for (int i = 0; i < frees.n; i++)
    k_push(&f->body, frees.v[i]);
  for (int a = 0; a < f->nargs; a++)
    if (P.twin[a] >= 0)
      k_push(&f->body, stmt_of(KS_FREE, loc, P.twin[a], 0));
  f->results = res;
}

bool pass_placement(KModule *m) {
  for (int i = 0; i < m->funcs.n; i++) {
    KFunc *f = m->funcs.v[i];
    if (m->target->kind == TGT_CUDA) {
      place_func(f);
      continue;
    }
    for (int b = 0; b < f->bufs.n; b++) {
      k_buf(f, b)->space = KM_HOST;
      k_buf(f, b)->host = -1;
    }
  }
  return true;
}
