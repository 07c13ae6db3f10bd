/* runtime/mpi/dist_mpi.c - the MPI transport of --dist=mpi executables
 * (docs/distributed.md); the one file of tensorc that includes mpi.h, built
 * into its own library (libtensorc_rt_mpi) only when CMake finds MPI.
 *
 * tcrt_dist_main is the executable's main: MPI_Init, the transport
 * installed (rt_dist.h), the ordinary command line (tcrt_exe_main, which
 * broadcasts the params and writes files on rank 0 only), then
 * MPI_Finalize.  A rank that fails (a run-time error, bad input) has said
 * why, under "NAME: rank K"; it then calls MPI_Abort, which ends every
 * rank at once, so that none waits forever in a collective.  A rank that
 * dies without either (a signal, exit()) is noticed by mpirun, which ends
 * the others.  Errors of MPI calls come back as codes (MPI_ERRORS_RETURN)
 * and become the program's run-time error with MPI's text. */
#include "../rt_dist.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static MPI_Datatype mpi_type(tc_dtype dt) {
  switch (dt) {
  case TC_BOOL: return MPI_UINT8_T;
  case TC_I32: return MPI_INT32_T;
  case TC_I64: return MPI_INT64_T;
  case TC_F32: return MPI_FLOAT;
  case TC_F64: return MPI_DOUBLE;
  default: return MPI_DATATYPE_NULL;
  }
}

static int mpi_error(int rc, char *err, size_t errsize) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
    snprintf(text, sizeof text, "MPI error %d", rc);
  snprintf(err, errsize, "%s", text);
  return 1;
}

/* MPI's type for dt, or 1 with the message in err. */
static int need_type(tc_dtype dt, MPI_Datatype *t, char *err, size_t errsize) {
  *t = mpi_type(dt);
  if (*t != MPI_DATATYPE_NULL)
    return 0;
  snprintf(err, errsize, "no MPI type for dtype %d", (int)dt);
  return 1;
}

/* MPI counts are ints: a tensor of more elements goes in pieces. */
enum { CHUNK = 1 << 30 };

/* The sum's division by the number of ranks (the shape rule allows mean
 * of floats only). */
static void divide(tc_dtype dt, int op, void *out, int64_t n) {
  if (op != TC_REDUCE_MEAN)
    return;
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (dt == TC_F32)
    for (int64_t k = 0; k < n; k++)
      ((float *)out)[k] /= (float)size;
  else
    for (int64_t k = 0; k < n; k++)
      ((double *)out)[k] /= (double)size;
}

static int all_reduce(tc_dtype dt, int op, const void *in, void *out, int64_t n, char *err, size_t errsize) {
  MPI_Datatype t;
  if (need_type(dt, &t, err, errsize))
    return 1;
  size_t es = tcrt_dtype_size(dt);
  for (int64_t at = 0; at < n; at += CHUNK) {
    int count = (int)(n - at < CHUNK ? n - at : CHUNK);
    char *o = (char *)out + at * es;
    const void *i = in == out ? MPI_IN_PLACE : (const char *)in + at * es;
    int rc = MPI_Allreduce(i, o, count, t, op == TC_REDUCE_MAX ? MPI_MAX : MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
      return mpi_error(rc, err, errsize);
  }
  divide(dt, op, out, n);
  return 0;
}

/* The all-reduces started and not yet waited for, by id: one
 * MPI_Iallreduce per CHUNK of the buffer. */
typedef struct Pending {
  tc_dtype dt;
  int op;
  void *buf;
  int64_t n;
  MPI_Request *reqs;
  int nreqs, cap;
} Pending;
static Pending *pending;
static int npending;

static int start(int id, tc_dtype dt, int op, void *buf, int64_t n, char *err, size_t errsize) {
  MPI_Datatype t;
  if (need_type(dt, &t, err, errsize))
    return 1;
  if (id < 0) {
    snprintf(err, errsize, "all_reduce request %d", id);
    return 1;
  }
  if (id >= npending) {
    Pending *p = realloc(pending, sizeof *p * (size_t)(id + 1));
    if (!p) {
      snprintf(err, errsize, "out of memory");
      return 1;
    }
    memset(p + npending, 0, sizeof *p * (size_t)(id + 1 - npending));
    pending = p, npending = id + 1;
  }
  Pending *p = &pending[id];
  int chunks = (int)((n + CHUNK - 1) / CHUNK);
  if (chunks > p->cap) {
    MPI_Request *r = realloc(p->reqs, sizeof *r * (size_t)chunks);
    if (!r) {
      snprintf(err, errsize, "out of memory");
      return 1;
    }
    p->reqs = r, p->cap = chunks;
  }
  *p = (Pending){dt, op, buf, n, p->reqs, 0, p->cap};
  size_t es = tcrt_dtype_size(dt);
  for (int64_t at = 0; at < n; at += CHUNK) {
    int count = (int)(n - at < CHUNK ? n - at : CHUNK);
    int rc = MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + at * es, count, t, op == TC_REDUCE_MAX ? MPI_MAX : MPI_SUM,
                            MPI_COMM_WORLD, &p->reqs[p->nreqs]);
    if (rc != MPI_SUCCESS)
      return mpi_error(rc, err, errsize);
    p->nreqs++;
  }
  return 0;
}

static int wait(int id, char *err, size_t errsize) {
  if (id < 0 || id >= npending || pending[id].nreqs == 0)
    return 0; /* nothing was started: an empty buffer */
  Pending *p = &pending[id];
  int rc = MPI_Waitall(p->nreqs, p->reqs, MPI_STATUSES_IGNORE);
  p->nreqs = 0;
  if (rc != MPI_SUCCESS)
    return mpi_error(rc, err, errsize);
  divide(p->dt, p->op, p->buf, p->n);
  return 0;
}

static void free_pending(void) {
  for (int i = 0; i < npending; i++)
    free(pending[i].reqs);
  free(pending);
  pending = NULL, npending = 0;
}

static int broadcast(tc_dtype dt, int root, void *buf, int64_t n, char *err, size_t errsize) {
  MPI_Datatype t;
  if (need_type(dt, &t, err, errsize))
    return 1;
  size_t es = tcrt_dtype_size(dt);
  for (int64_t at = 0; at < n; at += CHUNK) {
    int count = (int)(n - at < CHUNK ? n - at : CHUNK);
    int rc = MPI_Bcast((char *)buf + at * es, count, t, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
      return mpi_error(rc, err, errsize);
  }
  return 0;
}

int tcrt_dist_main(int argc, char **argv, const tc_program *prog) {
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    fprintf(stderr, "%s: error: MPI_Init failed\n", prog->name);
    return 1;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  static rt_dist_ops ops = {.all_reduce = all_reduce, .start = start, .wait = wait, .broadcast = broadcast};
  MPI_Comm_rank(MPI_COMM_WORLD, &ops.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ops.size);
  rt_dist_install(&ops);
  int code = tcrt_exe_main(argc, argv, prog);
  rt_dist_print_stats();
  free_pending();
  fflush(stdout);
  fflush(stderr);
  if (code != 0 && ops.size > 1)
    MPI_Abort(MPI_COMM_WORLD, code); /* the others may be waiting in a collective */
  MPI_Finalize();
  return code;
}
