/* codegen/cpu_profile.c - --profile's calls around kernel statements.
 *
 * Every kernel statement (ir/kernel_name.c: a CPU loop nest, a parallel
 * rows loop, a GPU launch) and every matrix product is bracketed, for
 * both targets, by
 *     on = tcrt_profiling                       (one load)
 *     if (on) start = tcrt_prof_begin(ctx, &site)
 *     ... the statement ...
 *     if (on) tcrt_prof_end(ctx, &site, start, bytes, flops)
 * so that a run without --profile pays a load and two branches on one
 * value per statement, and computes nothing else: the bytes and flops are
 * computed inside the second branch.  `site` is a private constant
 * tc_prof_site (runtime.h): the statement's name, its file:line, and
 * whether it runs on the device.
 *
 * Bytes: each buffer the statement reads counted once, and each it writes
 * once (twice when read and written in place), at its size from its dims'
 * run-time values; for a kernel, at most one element per point of its
 * loops (a block of rows of a larger buffer, a gather from a large
 * table).  A matrix product moves its operands and result:
 * op(A) m x k and B k x n (once when broadcast over the batch), C m x n
 * per batch; its flops are 2 m n k batch.
 */
#include "cg_internal.h"

#include "tensorc/runtime.h"

#include <stddef.h>
#include <string.h>

_Static_assert(offsetof(tc_prof_site, where) == sizeof(void *) && offsetof(tc_prof_site, device) == 2 * sizeof(void *) &&
                   sizeof(tc_prof_site) == 2 * sizeof(void *) + 8,
               "tc_prof_site must be {ptr, ptr, i32, i32} as built below");

static bool is_matmul(const KStmt *s) { return s->kind == KS_CALL && s->call == KC_MATMUL; }

/* Kernel statements, not the stages of a rows loop (the loop is timed), nor
 * anything inside an outlined parallel body (timed as a whole). */
bool cg_prof_wanted(Cg *g, KStmt *s) {
  if (g->in_body)
    return false;
  return is_matmul(s) || (k_is_kernel_stmt(s) && k_kernel_number(g->km, s) >= 0);
}

static LLVMValueRef site_of(Cg *g, KStmt *s) {
  const char *name = is_matmul(s) ? "matmul" : k_kernel_name(g->km, s);
  const char *file = s->loc.file ? s->loc.file : "?";
  const char *slash = strrchr(file, '/');
  bool device = is_matmul(s) ? k_buf(g->f, s->bufs[2])->space == KM_DEVICE : s->device;
  LLVMTypeRef fields[4] = {g->t_ptr, g->t_ptr, g->t_i32, g->t_i32};
  LLVMTypeRef t = LLVMStructTypeInContext(g->c, fields, 4, 0);
  LLVMValueRef v[4] = {cg_cstr(g, name), cg_cstr(g, ir_sprintf("%s:%d", slash ? slash + 1 : file, s->loc.line)),
                       cg_i32(g, device), cg_i32(g, 0)};
  LLVMValueRef site = LLVMAddGlobal(g->mod, t, "tc_prof_site");
  LLVMSetInitializer(site, LLVMConstStructInContext(g->c, v, 4, 0));
  LLVMSetGlobalConstant(site, 1);
  LLVMSetLinkage(site, LLVMPrivateLinkage);
  return LLVMConstBitCast(site, g->t_ptr);
}

CgProf cg_prof_begin(Cg *g, KStmt *s) {
  CgProf p = {0};
  LLVMValueRef flag = LLVMGetNamedGlobal(g->mod, "tcrt_profiling");
  if (!flag) {
    flag = LLVMAddGlobal(g->mod, g->t_i32, "tcrt_profiling");
    LLVMSetLinkage(flag, LLVMExternalLinkage);
  }
  /* atomic (another context may turn it on), monotonic: a plain load */
  LLVMValueRef on = LLVMBuildLoad2(g->b, g->t_i32, flag, "profiling");
  LLVMSetOrdering(on, LLVMAtomicOrderingMonotonic);
  LLVMSetAlignment(on, 4);
  p.on = LLVMBuildICmp(g->b, LLVMIntNE, on, cg_i32(g, 0), "");
  p.site = site_of(g, s);
  p.start = cg_slot(g, g->t_f64, "prof.start");
  LLVMBasicBlockRef begin = cg_block(g, "prof.begin"), run = cg_block(g, "prof.run");
  LLVMBuildCondBr(g->b, p.on, begin, run);
  LLVMPositionBuilderAtEnd(g->b, begin);
  LLVMValueRef a[2] = {g->ctx, p.site};
  LLVMBuildStore(g->b, cg_call(g, "tcrt_prof_begin", g->t_f64, 2, a), p.start);
  LLVMBuildBr(g->b, run);
  LLVMPositionBuilderAtEnd(g->b, run);
  return p;
}

static LLVMValueRef elem_size(Cg *g, DType dt) {
  return cg_i64(g, (int64_t)LLVMABISizeOfType(g->td, cg_mem_type(g, dt)));
}

/* Per buffer: 1 read, 2 written, 3 both. */
typedef struct Seen {
  unsigned char *buf;
  int n;
} Seen;

static void note_buf(int buf, KRefRole role, void *ctx) {
  Seen *seen = ctx;
  if ((role == KR_READ || role == KR_WRITE) && buf >= 0 && buf < seen->n)
    seen->buf[buf] |= role == KR_READ ? 1 : 2;
}

/* The bytes a kernel statement moves (file comment). */
static LLVMValueRef kernel_bytes(Cg *g, KStmt *s) {
  LLVMBuilderRef B = g->b;
  Seen seen = {ir_alloc((size_t)g->f->bufs.n + 1), g->f->bufs.n};
  k_stmt_refs(s, note_buf, &seen);
  LLVMValueRef points = NULL; /* a rows loop: whole buffers */
  if (s->kind == KS_KERNEL) {
    points = cg_i64(g, 1);
    for (int i = 0; i < s->nloops; i++)
      points = LLVMBuildMul(B, points, cg_dim(g, s->extent[i]), "");
  }
  LLVMValueRef bytes = cg_i64(g, 0);
  for (int b = 0; b < seen.n; b++) {
    if (!seen.buf[b])
      continue;
    KBuf *kb = k_buf(g->f, b);
    LLVMValueRef n = cg_numel(g, kb);
    if (points)
      n = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSLT, points, n, ""), points, n, "");
    LLVMValueRef once = LLVMBuildMul(B, n, elem_size(g, kb->dtype), "");
    bytes = LLVMBuildAdd(B, bytes, seen.buf[b] == 3 ? LLVMBuildMul(B, once, cg_i64(g, 2), "") : once, "");
  }
  return bytes;
}

/* A matrix product: exprs batch, m, n, k, stride_a, stride_b (KCallKind). */
static LLVMValueRef matmul_bytes(Cg *g, KStmt *s, LLVMValueRef *flops) {
  LLVMBuilderRef B = g->b;
  LLVMValueRef batch = cg_expr_i64(g, s->exprs[0]), m = cg_expr_i64(g, s->exprs[1]), n = cg_expr_i64(g, s->exprs[2]),
               k = cg_expr_i64(g, s->exprs[3]);
  LLVMValueRef one = cg_i64(g, 1), zero = cg_i64(g, 0);
  /* an operand with stride 0 is one matrix, read by every batch */
  LLVMValueRef na = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntEQ, cg_expr_i64(g, s->exprs[4]), zero, ""), one, batch, "");
  LLVMValueRef nb = LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntEQ, cg_expr_i64(g, s->exprs[5]), zero, ""), one, batch, "");
  LLVMValueRef mn = LLVMBuildMul(B, m, n, "");
  LLVMValueRef elems = LLVMBuildAdd(B, LLVMBuildMul(B, na, LLVMBuildMul(B, m, k, ""), ""),
                                    LLVMBuildMul(B, nb, LLVMBuildMul(B, k, n, ""), ""), "");
  elems = LLVMBuildAdd(B, elems, LLVMBuildMul(B, batch, mn, ""), "");
  *flops = LLVMBuildMul(B, LLVMBuildMul(B, cg_i64(g, 2), batch, ""), LLVMBuildMul(B, mn, k, ""), "");
  return LLVMBuildMul(B, elems, elem_size(g, k_buf(g->f, s->bufs[2])->dtype), "");
}

void cg_prof_end(Cg *g, KStmt *s, const CgProf *p) {
  LLVMBasicBlockRef end = cg_block(g, "prof.end"), done = cg_block(g, "prof.done");
  LLVMBuildCondBr(g->b, p->on, end, done);
  LLVMPositionBuilderAtEnd(g->b, end);
  LLVMValueRef flops = cg_i64(g, 0);
  LLVMValueRef bytes = is_matmul(s) ? matmul_bytes(g, s, &flops) : kernel_bytes(g, s);
  LLVMValueRef a[5] = {g->ctx, p->site, LLVMBuildLoad2(g->b, g->t_f64, p->start, ""), bytes, flops};
  cg_call(g, "tcrt_prof_end", g->t_void, 5, a);
  LLVMBuildBr(g->b, done);
  LLVMPositionBuilderAtEnd(g->b, done);
}
