/* passes/memplan_reuse.c - memplan's second rewrite: a buffer allocated
 * after the last use of another of the same list, with the same dtype and
 * dims, takes its memory, when its first writer overwrites every element.
 */
#include "memplan_internal.h"

static bool is_plain_free(KStmt *s, int b) { return s->kind == KS_FREE && s->buf == b && !s->nkeep; }

/* Removes the frees of b in l(a1, i2); returns i2 moved down by as many. */
static int drop_early_frees(KList *l, int a1, int i2, int b) {
  for (int i = i2 - 1; i > a1; i--)
    if (is_plain_free(l->v[i], b)) {
      mp_list_remove(l, i);
      i2--;
    }
  return i2;
}

/* Can T2 (allocated at l[i2]) take the memory of T1 (allocated at l[a1])? */
static bool can_reuse(Fn *F, KList *l, int a1, int i2) {
  int T1 = l->v[a1]->buf, T2 = l->v[i2]->buf;
  KFunc *f = F->f;
  if (T1 == T2 || !mp_is_temp(F, T1) || F->nasg[T1] != 1 || !mp_same_type(F, T1, T2) ||
      !mp_syms_stable(f, l, a1, i2, T1))
    return false;
  /* T1 freed between its last use and T2's alloc: the merge drops that
   * free (drop_early_frees), or T2 would write freed memory; a free of it
   * inside a statement there cannot be dropped */
  mp_one_set(F, T1);
  for (int i = a1 + 1; i < i2; i++)
    if (mp_refs_in(F, l, i, i + 1).freed && !is_plain_free(l->v[i], T1))
      return false;
  /* T1 and its aliases: all uses in this list, none from i2 on but frees of T1 */
  mp_alias_set(F, T1);
  if (mp_refs_total(mp_refs_all(F)) != mp_refs_total(mp_refs_in(F, l, a1, l->n)))
    return false;
  int lastT2 = mp_last_use(F, l, T2);
  mp_alias_set(F, T1);
  for (int i = i2; i < l->n; i++) {
    KStmt *s = l->v[i];
    Refs r = mp_refs_in(F, l, i, i + 1);
    if (!mp_refs_total(r))
      continue;
    if (s->kind != KS_FREE || s->buf != T1 || r.keep)
      return false;
    bool keeps_t2 = false;
    for (int q = 0; q < s->nkeep; q++)
      keeps_t2 |= s->keep[q] == T2;
    if (!keeps_t2 && i < lastT2)
      return false;
  }
  /* T2: one ALLOC, used only from here, its first writer overwrites it all. */
  mp_one_set(F, T2);
  if (F->nasg[T2] != 1 || mp_refs_total(mp_refs_all(F)) != mp_refs_total(mp_refs_in(F, l, i2, l->n)) +
                                                               (l == &f->body ? mp_results_refs(F) : 0))
    return false;
  mp_alias_set(F, T2);
  KStmt *w = mp_first_toucher(F, l, i2 + 1);
  return w && mp_writes_all(F, w, T2);
}

int mp_reuse(Fn *F, KList *l) {
  int done = 0;
  for (int i = 0; i < l->n; i++) {
    done += mp_reuse(F, &l->v[i]->body);
    done += mp_reuse(F, &l->v[i]->orelse);
  }
  for (int i2 = 0; i2 < l->n; i2++) {
    if (l->v[i2]->kind != KS_ALLOC || !mp_is_temp(F, l->v[i2]->buf))
      continue;
    for (int a1 = 0; a1 < i2; a1++) {
      if (l->v[a1]->kind != KS_ALLOC || !can_reuse(F, l, a1, i2))
        continue;
      int T1 = l->v[a1]->buf, T2 = l->v[i2]->buf;
      i2 = drop_early_frees(l, a1, i2, T1);
      mp_merge_buffer(F, l, i2, i2 + 1, T2, T1);
      done++;
      i2 = -1; /* statements moved: look again from the start */
      break;
    }
  }
  return done;
}
