/* runtime/rt_dist.h - data-parallel runs: the transport a --dist=mpi
 * executable installs, and what the rest of the runtime asks of it.
 *
 * dist.c keeps one pointer to the transport's operations.  Without one (an
 * ordinary executable, the C API) the process is rank 0 of 1 and every
 * collective is the identity.  runtime/mpi/dist_mpi.c, linked only into
 * --dist=mpi executables, installs MPI's before main runs
 * (docs/distributed.md). */
#ifndef TENSORC_RT_DIST_H
#define TENSORC_RT_DIST_H

#include "rt_internal.h"

typedef struct rt_dist_ops {
  int rank, size;
  /* out = the reduction (TC_REDUCE_*) of every rank's in; in == out allowed.
   * 0, or an error text in err. */
  int (*all_reduce)(tc_dtype dt, int op, const void *in, void *out, int64_t n, char *err, size_t errsize);
  /* all_reduce in two halves: start reduces buf in place, as request `id`
   * (a small number, one request per id at a time); wait(id) finishes it */
  int (*start)(int id, tc_dtype dt, int op, void *buf, int64_t n, char *err, size_t errsize);
  int (*wait)(int id, char *err, size_t errsize);
  /* every rank's buf = root's buf */
  int (*broadcast)(tc_dtype dt, int root, void *buf, int64_t n, char *err, size_t errsize);
} rt_dist_ops;

void rt_dist_install(const rt_dist_ops *ops);
/* This process writes files and prints (rank 0, or not distributed). */
bool rt_dist_writer(void);
/* "NAME: rank K" in a run of several processes, else NAME: the name errors
 * are printed under, so that a failing rank says which it is. */
const char *rt_dist_label(const char *name, char *buf, size_t size);
/* Every rank's params = rank 0's (after init or --params-in). */
int rt_dist_share_params(tc_ctx *ctx, int nparams, const tc_paramdesc *params);
/* TENSORC_DIST_STATS=1: collectives, their time and bytes, on stderr. */
void rt_dist_print_stats(void);

#endif
