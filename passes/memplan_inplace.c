/* passes/memplan_inplace.c - memplan's first rewrite: a kernel writes
 * into the memory of an input whose old value dies there (a temporary, or
 * the carried buffer of the loop it is in; also through a matmul's blocks
 * of rows ending in its epilogue), and a value a loop body yields takes
 * the memory of the carried value it replaces.  memplan.c's file comment
 * states the conditions.
 */
#include "memplan_internal.h"

static bool dies_at(Fn *F, KList *l, int k, KStmt *loop, int S, int D, KStmt *K);

/* Can kernel l[k] (writing D) write into S instead?  See memplan.c's file
 * comment. */
static bool can_inplace(Fn *F, KList *l, int k, KStmt *loop, int S) {
  KStmt *K = l->v[k];
  int D = K->buf;
  KFunc *f = F->f;
  if (S == D || !mp_is_temp(F, S) || !mp_same_type(F, S, D) || !k_loads_at_store(K->value, S, K))
    return false;
  /* D: one ALLOC, earlier in this list, nothing between; used only here. */
  int a = mp_find_alloc(l, D, k);
  if (a < 0 || F->nasg[D] != 1)
    return false;
  mp_one_set(F, D);
  if (mp_refs_total(mp_refs_in(F, l, a + 1, k)) ||
      mp_refs_total(mp_refs_all(F)) !=
          mp_refs_total(mp_refs_in(F, l, a, l->n)) + (l == &f->body ? mp_results_refs(F) : 0))
    return false;
  mp_alias_set(F, D);
  if (!mp_writes_all(F, K, D))
    return false;
  return dies_at(F, l, k, loop, S, D, K);
}

/* S's old value has no reader after l[k] (which holds kernel K, reading S
 * only at K's stored index), and D (K's buffer) may be renamed S from
 * there on: S is one of the two shapes of the file comment. */
static bool dies_at(Fn *F, KList *l, int k, KStmt *loop, int S, int D, KStmt *K) {
  mp_one_set(F, S);
  if (mp_results_refs(F))
    return false;
  Refs total = mp_refs_all(F);
  int j = mp_find_alloc(l, S, k);
  if (j >= 0) { /* (S1) a temporary of this list */
    if (F->nasg[S] != 1 || mp_refs_total(mp_refs_in(F, l, 0, j)) ||
        mp_refs_total(total) != mp_refs_total(mp_refs_in(F, l, 0, l->n)))
      return false;
  } else { /* (S2) the carried buffer of `loop`, reassigned at its end */
    if (!loop || &loop->body != l || loop->parallel)
      return false;
    int moves_here = 0;
    for (int i = 0; i < l->n; i++) {
      KStmt *s = l->v[i];
      if (s->kind == KS_MOVE && s->buf == S) {
        if (i <= k)
          return false;
        /* the buffer moved in is fresh each iteration: D, or allocated in
         * this list before any other reference to it */
        if (s->src != D) {
          int y = mp_find_alloc(l, s->src, l->n);
          mp_one_set(F, s->src);
          if (y < 0 || F->nasg[s->src] != 1 || mp_refs_total(mp_refs_in(F, l, 0, y)))
            return false;
          mp_one_set(F, S);
        }
        moves_here++;
      }
    }
    Refs here = mp_refs_in(F, l, 0, l->n);
    if (!moves_here || here.assign != moves_here)
      return false;
    /* the other assignments (outside this list) are ALLOCs: fresh memory */
    for (int i = 0; i < F->moves.n; i++) {
      KStmt *m = F->moves.v[i];
      bool in_l = false;
      for (int q = 0; q < l->n && !in_l; q++)
        in_l = l->v[q] == m;
      if (m->buf == S && !in_l)
        return false;
    }
  }
  /* No alias of S is read by the kernel or used after it. */
  mp_alias_set(F, S);
  F->set[S] = false;
  if (mp_expr_loads(K->value, F->set) || mp_refs_total(mp_refs_in(F, l, k + 1, l->n)))
    return false;
  /* After the kernel: S only freed (or reassigned once D is done with). */
  int lastD = mp_last_use(F, l, D);
  mp_one_set(F, S);
  for (int i = k + 1; i < l->n; i++) {
    KStmt *s = l->v[i];
    Refs r = mp_refs_in(F, l, i, i + 1);
    if (!mp_refs_total(r))
      continue;
    if (s->kind == KS_MOVE && s->buf == S) {
      if (s->src == D || i > lastD)
        return true; /* S holds a new value from here on */
      return false;
    }
    if (s->kind == KS_ALLOC && s->buf == S && i > lastD)
      return true;
    if (s->kind != KS_FREE || s->buf != S || r.keep)
      return false;
    bool keeps_d = false;
    for (int q = 0; q < s->nkeep; q++)
      keeps_d |= s->keep[q] == D;
    if (!keeps_d && i < lastD)
      return false; /* it would free D's memory while D is in use */
  }
  return true;
}

/* The block loop l[f] ends in a kernel K updating its buffer D from S
 * (`W - lr * G` as G's matmul epilogue): K can store into S instead, and D
 * stays a temporary (the new value is S's from here on). */
static bool can_redirect(Fn *F, KList *l, int f, KStmt *loop, KStmt *K, int S) {
  int D = K->buf;
  KFunc *fn = F->f;
  KStmt *blk = l->v[f];
  if (S == D || !mp_is_temp(F, S) || !mp_same_type(F, S, D) || !k_loads_at_store(K->value, S, K) ||
      !k_loads_at_store(K->value, D, K))
    return false;
  /* in the block loop, S is read by K only (a matmul reading it would see
   * updated rows) */
  mp_one_set(F, S);
  Refs body = mp_refs_in(F, &blk->body, 0, blk->body.n);
  if (mp_refs_total(body) != mp_expr_loads(K->value, F->set) || body.write)
    return false;
  /* D: used in this list only */
  mp_one_set(F, D);
  if (mp_refs_total(mp_refs_all(F)) !=
      mp_refs_total(mp_refs_in(F, l, 0, l->n)) + (l == &fn->body ? mp_results_refs(F) : 0))
    return false;
  return dies_at(F, l, f, loop, S, D, K);
}

int mp_inplace(Fn *F, KList *l, KStmt *loop) {
  int done = 0;
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    done += mp_inplace(F, &s->body, s->kind == KS_FOR ? s : NULL);
    done += mp_inplace(F, &s->orelse, NULL);
  }
  for (int k = 0; k < l->n; k++) {
    KStmt *K = l->v[k], *blk = mp_block_kernel(F, K);
    if (blk)
      K = blk; /* a block loop ending in its epilogue: try to redirect it */
    else if (K->kind != KS_KERNEL || K->nred || !mp_is_temp(F, K->buf))
      continue;
    /* candidates: the buffers the kernel loads */
    PtrVec cands = {0};
    KExpr *stack[256];
    int sp = 0;
    stack[sp++] = K->value;
    while (sp) {
      KExpr *e = stack[--sp];
      if (e->kind == KX_LOAD)
        ir_vec_push(&cands, (void *)(intptr_t)e->buf);
      for (int a = 0; a < e->nargs && sp < 256; a++)
        stack[sp++] = e->args[a];
    }
    /* a carried buffer first (the loop then allocates nothing for it),
     * then the temporaries of this list */
    for (int c = 0; c < 2 * cands.n; c++) {
      int S = (int)(intptr_t)cands.v[c % cands.n], D = K->buf;
      if (blk) {
        if ((c < cands.n) != (mp_find_alloc(l, S, k) < 0) || !can_redirect(F, l, k, loop, K, S))
          continue;
        K->buf = S;
        mp_rename_after(F, l, k + 1, D, S, true);
        /* D is a temporary now, dead after the loop (lower's free of a
         * buffer handed on keeps it, and went as a no-op) */
        KStmt *fr = k_stmt(KS_FREE, l->v[k]->loc);
        fr->buf = D;
        mp_list_insert(l, k + 1, fr);
        mp_replan(F);
        done++;
        k = -1;
        break;
      }
      if ((c < cands.n) != (mp_find_alloc(l, S, k) < 0) || !can_inplace(F, l, k, loop, S))
        continue;
      int a = mp_find_alloc(l, D, k);
      K->buf = S;
      mp_merge_buffer(F, l, a, k + 1, D, S);
      done++;
      k = -1; /* indices moved: look again from the start */
      break;
    }
  }
  return done;
}

/* ---- carried values take their buffer back ---- */

/* A loop body ending in `MOVE C = Y` (a carried value C; Y allocated in the
 * body, say the loss) whose old C is dead once Y is allocated: Y is written
 * into C's memory, grown when too small, instead of a fresh buffer each
 * iteration.  The capacity symbol starts at -1 before the loop, so the
 * first iteration (re)allocates: C may be NULL (a value first assigned in
 * the loop) or its initial copy, which is freed there instead of at the
 * end of the iteration. */
static bool can_take_carried(Fn *F, KList *l, int mv, int *y_at) {
  KStmt *m = l->v[mv];
  int C = m->buf, Y = m->src;
  KFunc *f = F->f;
  if (C == Y || !mp_is_temp(F, C) || !mp_is_temp(F, Y) || F->nasg[Y] != 1 || !mp_same_type(F, C, Y))
    return false;
  int y = mp_find_alloc(l, Y, mv);
  if (y < 0)
    return false;
  /* C: one MOVE (this one), its other assignments ALLOCs outside the body */
  int moves = 0;
  for (int i = 0; i < F->moves.n; i++)
    moves += ((KStmt *)F->moves.v[i])->buf == C;
  mp_one_set(F, C);
  if (moves != 1 || mp_results_refs(F) || mp_refs_in(F, l, 0, l->n).assign != 1)
    return false;
  Refs before = mp_refs_in(F, l, 0, y);
  if (mp_refs_total(before) != before.read)
    return false;
  for (int i = y; i < l->n; i++) {
    KStmt *s = l->v[i];
    Refs r = mp_refs_in(F, l, i, i + 1);
    if (!mp_refs_total(r) || s == m)
      continue;
    bool keeps_y = false;
    for (int q = 0; s->kind == KS_FREE && q < s->nkeep; q++)
      keeps_y |= s->keep[q] == Y;
    if (s->kind != KS_FREE || s->buf != C || r.keep || !keeps_y)
      return false;
  }
  mp_alias_set(F, C);
  F->set[C] = false;
  if (mp_refs_total(mp_refs_in(F, l, y, l->n)))
    return false;
  /* Y: used only in the body from its ALLOC on */
  mp_one_set(F, Y);
  if (mp_refs_total(mp_refs_all(F)) != mp_refs_total(mp_refs_in(F, l, y, l->n)))
    return false;
  Dim n;
  if (!mp_numel(k_buf(f, C), &n))
    return false;
  *y_at = y;
  return true;
}

int mp_carried(Fn *F, KList *l) {
  int done = 0;
  for (int i = 0; i < l->n; i++) {
    KStmt *loop = l->v[i];
    done += mp_carried(F, &loop->body) + mp_carried(F, &loop->orelse);
    if (loop->kind != KS_FOR || loop->parallel || loop->rows)
      continue;
    KList *b = &loop->body;
    for (int mv = 0; mv < b->n; mv++) {
      int y;
      if (b->v[mv]->kind != KS_MOVE || !can_take_carried(F, b, mv, &y))
        continue;
      int C = b->v[mv]->buf, Y = b->v[mv]->src;
      KBuf *kb = k_buf(F->f, C);
      Loc loc = b->v[y]->loc;
      Dim n;
      mp_numel(kb, &n);
      mp_alias_set(F, Y);
      KStmt *w = mp_first_toucher(F, b, y + 1);
      bool zero = !w || !mp_writes_all(F, w, Y);
      int cap = ir_sym_new(kb->name ? ir_sprintf("%s.%d.cap", kb->name, C) : ir_sprintf("%d.cap", C), loc);
      KStmt *init = k_stmt(KS_SETSYM, loc), *grow = k_stmt(KS_IF, loc), *fr = k_stmt(KS_FREE, loc),
            *al = k_stmt(KS_ALLOC, loc), *set = k_stmt(KS_SETSYM, loc);
      init->buf = set->buf = cap;
      init->cond = k_int(-1);
      set->cond = k_dim(n);
      grow->cond = k_op2(IR_GT, DT_BOOL, k_dim(n), k_dim(dim_sym(cap)));
      fr->buf = al->buf = C;
      k_push(&grow->body, fr);
      k_push(&grow->body, al);
      k_push(&grow->body, set);
      if (zero)
        k_push(&grow->orelse, mp_zero_kernel(F, C, loc));
      b->v[y] = grow;
      mp_rename_list(b, y + 1, Y, C, false);
      mp_list_insert(l, i, init);
      i++;
      mp_replan(F);
      done++;
      mv = -1;
    }
  }
  return done;
}
