/* (d) sum over axis 1 of a 4096 x 4096 f32 matrix (bench/tc/rowsum.tc).
 *
 * Beside tensorc's call, the same row sums in plain C ("d.c_read"): one
 * thread per CPU the process may run on (as tensorc's pool), each summing
 * its share of the rows with 64 independent partial sums that the
 * compiler turns into four vector accumulators.  Nothing but reading the matrix once: the
 * bound this workload is up against on this machine.  The two are called
 * alternately, so that both see the same memory traffic from the rest of
 * the machine (a shared host's bandwidth changes from second to second). */
#define _GNU_SOURCE /* sched_getaffinity */
#include "rowsum.h"
#include "bench.h"
#include <pthread.h>
#include <sched.h>

enum { LANES = 64 };

typedef struct {
  const float *x;
  float *y;
  int64_t r, c;
  int nthreads;
  pthread_barrier_t start, done;
} plain_job;

typedef struct {
  plain_job *job;
  int id;
} plain_worker;

static void plain_rows(const plain_job *j, int id) {
  int64_t r0 = j->r * id / j->nthreads, r1 = j->r * (id + 1) / j->nthreads;
  for (int64_t i = r0; i < r1; i++) {
    const float *row = j->x + i * j->c;
    float acc[LANES] = {0};
    int64_t k = 0;
    for (; k + LANES <= j->c; k += LANES)
      for (int l = 0; l < LANES; l++)
        acc[l] += row[k + l];
    float s = 0;
    for (; k < j->c; k++)
      s += row[k];
    for (int l = 0; l < LANES; l++)
      s += acc[l];
    j->y[i] = s;
  }
}

/* Helper threads sleep in the barrier between calls (no spinning that
 * would take a core from tensorc's call that comes next). */
static void *plain_helper(void *arg) {
  plain_worker *w = arg;
  for (;;) {
    pthread_barrier_wait(&w->job->start);
    plain_rows(w->job, w->id);
    pthread_barrier_wait(&w->job->done);
  }
  return NULL;
}

static void plain_call(plain_job *j) {
  pthread_barrier_wait(&j->start);
  plain_rows(j, 0);
  pthread_barrier_wait(&j->done);
}

static double check_rows(const float *x, const float *y, int64_t r, int64_t c) {
  double err = 0;
  for (int64_t i = 0; i < r; i += 97) {
    double s = 0;
    for (int64_t j = 0; j < c; j++)
      s += x[i * c + j];
    /* absolute error relative to the row's scale (sqrt(c) * 0.58) */
    err = fmax(err, fabs(y[i] - s) / 37.0);
  }
  return err;
}

int main(int argc, char **argv) {
  int reps = bench_reps(argc, argv, 10);
  int64_t r = 4096, c = 4096, shape[2] = {r, c}, oshape[1] = {r};
  float *x = bench_alloc(r * c * 4), *y = bench_alloc(r * 4), *yc = bench_alloc(r * 4);
  bench_fill(x, r * c, -1.0f, 1.0f);
  rowsum_ctx *ctx = rowsum_create(NULL);
  if (!ctx) {
    fprintf(stderr, "bench: %s\n", rowsum_error(NULL));
    return 1;
  }
  DLTensor X = F32(x, 2, shape), Y = F32(y, 1, oshape);

  cpu_set_t cpus;
  int ncpu = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
  plain_job job = {.x = x, .y = yc, .r = r, .c = c, .nthreads = ncpu > 1 ? ncpu : 1};
  pthread_barrier_init(&job.start, NULL, (unsigned)job.nthreads);
  pthread_barrier_init(&job.done, NULL, (unsigned)job.nthreads);
  plain_worker *workers = calloc((size_t)job.nthreads, sizeof *workers);
  for (int t = 1; t < job.nthreads; t++) {
    pthread_t th;
    workers[t] = (plain_worker){&job, t};
    if (pthread_create(&th, NULL, plain_helper, &workers[t]) != 0) {
      fprintf(stderr, "bench: cannot start a thread\n");
      return 1;
    }
    pthread_detach(th);
  }

  double *t = malloc(sizeof(double) * 2 * (size_t)reps);
  for (int w = 0; w < 2; w++) { /* warm-up */
    CALL(rowsum_error, ctx, rowsum_rowsum(ctx, &X, &Y));
    plain_call(&job);
  }
  for (int i = 0; i < reps; i++) {
    TIME1(&t[i], CALL(rowsum_error, ctx, rowsum_rowsum(ctx, &X, &Y)));
    TIME1(&t[reps + i], plain_call(&job));
  }
  bench_result("d.tensorc", t, reps);
  bench_result("d.c_read", t + reps, reps);
  bench_check("d.tensorc", check_rows(x, y, r, c), 1e-4);
  bench_check("d.c_read", check_rows(x, yc, r, c), 1e-4);
  rowsum_destroy(ctx);
  return 0;
}
