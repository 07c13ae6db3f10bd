/* passes/memplan_internal.h - what the files of the memplan pass share.
 *
 *   memplan.c          the pass: the rewrites in order, then the `uninit` mark;
 *                      who refers to which buffer, renames, no-ops
 *   memplan_writes.c   who writes a whole buffer (its old contents unread)
 *   memplan_views.c    0. row views (a copy of an argument's rows read in place)
 *   memplan_inplace.c  1. in-place updates (and carried values taking their
 *                      buffer back)
 *   memplan_reuse.c    2. buffer reuse
 *   memplan_hoist.c    3. allocations hoisted out of loops
 *   memplan_results.c  the results that may be the caller's memory (`-> outK`)
 *
 * memplan.c's file comment describes the rewrites.
 */
#ifndef TENSORC_MEMPLAN_INTERNAL_H
#define TENSORC_MEMPLAN_INTERNAL_H

#include "passes.h"

#include "../ir/kernel.h"

/* How a statement refers to the buffers of a set. */
typedef struct Refs {
  int read;   /* loads, call inputs, MOVE sources */
  int write;  /* kernel stores, call outputs */
  int keep;   /* entries of FREE's keep lists */
  int freed;  /* FREE of the buffer */
  int assign; /* ALLOC, MOVE destination */
  int escape; /* param_store */
} Refs;

static inline int mp_refs_total(Refs r) { return r.read + r.write + r.keep + r.freed + r.assign + r.escape; }

/* The function being planned. */
typedef struct Fn {
  KFunc *f;
  int nb;
  bool *set;    /* scratch membership set, all false between uses */
  int *nasg;    /* assignments (ALLOC, MOVE destination) of each buffer */
  PtrVec moves; /* every MOVE statement */
} Fn;

/* ---- memplan.c: references ---- */

void mp_stmt_refs(KStmt *s, const bool *set, Refs *r);
/* The loads in e of buffers of the set. */
int mp_expr_loads(KExpr *e, const bool *set);
/* Recounts assignments and moves: after every rewrite. */
void mp_analyse(Fn *F);
/* F->set = b and its pure aliases (buffers whose only assignment is a MOVE
 * from b or from another of them). */
void mp_alias_set(Fn *F, int b);
/* F->set = b alone. */
void mp_one_set(Fn *F, int b);
Refs mp_refs_in(Fn *F, KList *l, int from, int to);
/* References of the set in the whole function, results included (as reads). */
Refs mp_refs_all(Fn *F);
int mp_results_refs(Fn *F);
bool mp_is_temp(Fn *F, int b);
bool mp_same_type(Fn *F, int a, int b);
bool mp_numel(KBuf *kb, Dim *out);
/* The top-level index in l of the last statement using b other than by
 * freeing it (l.n when a result); -1 if none. */
int mp_last_use(Fn *F, KList *l, int b);
/* The index of b's ALLOC in l[0..before), -1 if none. */
int mp_find_alloc(KList *l, int b, int before);
/* The symbols of b's dims are not set in l[from..to). */
bool mp_syms_stable(KFunc *f, KList *l, int from, int to, int b);

/* ---- memplan.c: edits ---- */

/* Renames `from` to `to` in l[start..]; keep_freed: a FREE of `from` still
 * frees it (only its keep lists are renamed). */
void mp_rename_list(KList *l, int start, int from, int to, bool keep_freed);
/* The same and, for the function's body, in the results. */
void mp_rename_after(Fn *F, KList *l, int start, int from, int to, bool keep_freed);
void mp_list_remove(KList *l, int i);
void mp_list_insert(KList *l, int i, KStmt *s);
/* Drops the statements a rename made no-ops (a move or a copy onto
 * itself, a free keeping its own buffer, a second free of one buffer). */
void mp_drop_noops(Fn *F, KList *l);
/* After a rewrite: the no-ops it made dropped, the plan analysed again. */
void mp_replan(Fn *F);
/* Buffer `from`, allocated at l[alloc], is `into` from l[start] on: its
 * alloc goes and the plan is made again (in-place updates, reuse). */
void mp_merge_buffer(Fn *F, KList *l, int alloc, int start, int from, int into);

/* ---- memplan_writes.c ---- */

/* s writes every element of b once without reading b or its aliases
 * (F->set) first. */
bool mp_writes_all(Fn *F, KStmt *s, int b);
/* The first statement of l[from..] that touches the set (F->set). */
KStmt *mp_first_toucher(Fn *F, KList *l, int from);
/* A kernel that zeroes b (reused memory, where lower's ALLOC gave zeros). */
KStmt *mp_zero_kernel(Fn *F, int b, Loc loc);
/* The kernel that ends a matmul's loop over blocks of rows (its epilogue),
 * writing its buffer whole over the loop; NULL if loop is no such loop. */
KStmt *mp_block_kernel(Fn *F, KStmt *loop);

/* ---- the rewrites: each returns how many it made ---- */

int mp_views(Fn *F, KList *l);                /* memplan_views.c */
int mp_inplace(Fn *F, KList *l, KStmt *loop); /* memplan_inplace.c */
int mp_carried(Fn *F, KList *l);              /* memplan_inplace.c */
int mp_reuse(Fn *F, KList *l);                /* memplan_reuse.c */
int mp_hoist(Fn *F);                          /* memplan_hoist.c */

/* ---- the marks ---- */

void mp_results(Fn *F); /* memplan_results.c: ALLOC `-> outK`, KFunc.results_why */

#endif
