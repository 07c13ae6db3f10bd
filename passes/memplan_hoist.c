/* passes/memplan_hoist.c - memplan's third rewrite: a buffer allocated
 * and freed inside a loop, without escaping, is allocated once around the
 * outermost loop: before it when its size is loop-invariant (no symbol of
 * its dims is set inside the loop), else grown through a capacity symbol
 * when a larger size comes.
 */
#include "memplan_internal.h"

typedef struct Site {
  KList *list; /* where the ALLOC is */
  int at;
  KStmt *outer;    /* the outermost enclosing FOR */
  KList *outer_in; /* the list holding it */
  bool varies;     /* a dim's symbol is set inside `outer` */
} Site;

static bool find_site(Fn *F, KList *l, int b, KStmt *outer, KList *outer_in, Site *out) {
  for (int i = 0; i < l->n; i++) {
    KStmt *s = l->v[i];
    if (s->kind == KS_ALLOC && s->buf == b) {
      *out = (Site){l, i, outer, outer_in, false};
      return true;
    }
    KStmt *o = outer ? outer : s->kind == KS_FOR ? s : NULL;
    KList *oi = outer ? outer_in : l;
    if (s->kind == KS_FOR && s->parallel) /* its iterations may run at once: each needs its own */
      o = NULL, oi = NULL;
    if (find_site(F, &s->body, b, o, oi, out) || find_site(F, &s->orelse, b, o, oi, out))
      return true;
  }
  return false;
}

int mp_hoist(Fn *F) {
  KFunc *f = F->f;
  int done = 0;
  for (int b = 0; b < F->nb; b++) {
    Site st;
    if (!mp_is_temp(F, b) || F->nasg[b] != 1 || !find_site(F, &f->body, b, NULL, NULL, &st) || !st.outer)
      continue;
    KList *l = st.list;
    /* b and its aliases: used only in l from the ALLOC on, then freed there,
     * never kept, moved out, returned or stored. */
    mp_alias_set(F, b);
    Refs all = mp_refs_all(F);
    if (all.keep || all.escape || mp_refs_total(all) != mp_refs_total(mp_refs_in(F, l, st.at, l->n)))
      continue;
    bool ok = true;
    int nfree = 0;
    for (int i = st.at + 1; i < l->n; i++) {
      Refs r = mp_refs_in(F, l, i, i + 1);
      if (r.freed) {
        ok &= l->v[i]->kind == KS_FREE;
        nfree++;
      } else if (mp_refs_total(r)) {
        ok &= nfree == 0; /* nothing after a free */
      }
    }
    if (!ok || !nfree)
      continue;
    /* a MOVE out of the set to a buffer outside it would be an escape */
    for (int i = 0; i < F->moves.n && ok; i++) {
      KStmt *m = F->moves.v[i];
      ok = !F->set[m->src] || F->set[m->buf];
    }
    if (!ok)
      continue;
    KBuf *kb = k_buf(f, b);
    Dim n;
    if (!mp_numel(kb, &n))
      continue;
    st.varies = !mp_syms_stable(f, &st.outer->body, 0, st.outer->body.n, b);
    KStmt *w = mp_first_toucher(F, l, st.at + 1);
    bool zero = !w || !mp_writes_all(F, w, b);
    Loc loc = l->v[st.at]->loc;
    /* 1. the frees in the loop go; the ALLOC becomes a zeroing or a growth */
    for (int i = l->n - 1; i > st.at; i--)
      if (l->v[i]->kind == KS_FREE && F->set[l->v[i]->buf])
        mp_list_remove(l, i);
    KStmt *before = NULL;
    if (!st.varies) {
      before = l->v[st.at];
      if (zero)
        l->v[st.at] = mp_zero_kernel(F, b, loc);
      else
        mp_list_remove(l, st.at);
    } else {
      const char *name = kb->name ? ir_sprintf("%s.%d.cap", kb->name, b) : ir_sprintf("%d.cap", b);
      int cap = ir_sym_new(name, loc);
      before = k_stmt(KS_SETSYM, loc);
      before->buf = cap;
      before->cond = k_int(-1);
      KStmt *grow = k_stmt(KS_IF, loc);
      grow->cond = k_op2(IR_GT, DT_BOOL, k_dim(n), k_dim(dim_sym(cap)));
      KStmt *fr = k_stmt(KS_FREE, loc), *set = k_stmt(KS_SETSYM, loc);
      fr->buf = b;
      set->buf = cap;
      set->cond = k_dim(n);
      k_push(&grow->body, fr);
      k_push(&grow->body, l->v[st.at]);
      k_push(&grow->body, set);
      if (zero)
        k_push(&grow->orelse, mp_zero_kernel(F, b, loc));
      l->v[st.at] = grow;
    }
    /* 2. around the outermost loop: the allocation (or capacity) before it,
     * the one free after it */
    KList *ol = st.outer_in;
    int at = 0;
    while (ol->v[at] != st.outer)
      at++;
    KStmt *fr = k_stmt(KS_FREE, loc);
    fr->buf = b;
    mp_list_insert(ol, at + 1, fr);
    mp_list_insert(ol, at, before);
    mp_analyse(F);
    done++;
  }
  return done;
}
