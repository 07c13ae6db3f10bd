/* tests/runtime/emu_test.c - runtime/emu/: the GPU emulator on kernels
 * written as the CUDA backend writes them (Inputs/emu_kernels.cu.h),
 * each compared with a plain C loop; its errors (bad launches, deadlocks,
 * warp operations gone wrong, host pointers, bad copies) and the
 * allocator's counters.
 *
 *   emu_test             runs the checks, printing each error message the
 *                        emulator gives (emu.test checks their text);
 *                        exit 0 when all pass
 *   emu_test segv        host code reads device memory: dies with the
 *                        emulator's message
 *   emu_test segv_write  host code writes device memory: the same
 *   emu_test oob         a kernel reads far past its buffer: dies
 *   emu_test stack_overflow   a kernel thread overflows its stack: dies
 *                        on the guard page (AddressSanitizer names it)
 *   emu_test past_end    a kernel reads just past its buffer (caught by
 *                        AddressSanitizer only)
 *   emu_test past_end_in_granule   the same, the buffer ending inside a
 *                        256-byte granule
 *   emu_test bench [B]   times the scheduler: 4B blocks of 256 threads
 *                        without a barrier (B = 1024: 2^20 threads), then B
 *                        blocks of 256 through 9 __syncthreads (k_block_sum);
 *                        prints the time per fiber switch.  emu.test runs
 *                        it with a small B to keep it working.
 */
#include "tensorc/runtime.h"

#include "emu.h"
#include "tc_emu.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define TC_EMULATE 1
#include "Inputs/emu_kernels.cu.h"

/* Under AddressSanitizer the arena leaves a poisoned granule after each
 * allocation. */
#if defined(__SANITIZE_ADDRESS__)
enum { REDZONE = 256 };
#else
enum { REDZONE = 0 };
#endif

#define ERRSZ 512
static char err[ERRSZ];

static const tcemu_kernel *find_kernel(const char *name) {
  for (const tcemu_kernel *k = tc_emu_kernels; k->name; k++)
    if (!strcmp(k->name, name)) return k;
  printf("FAIL: no kernel %s\n", name);
  exit(1);
}

/* A 1-D launch of a kernel of the table. */
static int launch(const char *name, unsigned grid, unsigned block, void **params) {
  const tcemu_kernel *k = find_kernel(name);
  return tcemu_launch(k->name, k->fn, grid, 1, 1, block, 1, 1, params, err, ERRSZ);
}

/* A device copy of bytes at host (NULL: uninitialised). */
static void *to_device(const void *host, int64_t bytes) {
  void *d = tcemu_malloc(bytes);
  if (!d) {
    printf("FAIL: tcemu_malloc(%lld)\n", (long long)bytes);
    exit(1);
  }
  if (host && tcemu_memcpy_htod(d, host, bytes, err, ERRSZ) != 0) {
    printf("FAIL: %s\n", err);
    exit(1);
  }
  return d;
}

static void from_device(void *host, const void *d, int64_t bytes) {
  if (tcemu_memcpy_dtoh(host, d, bytes, err, ERRSZ) != 0) printf("FAIL: %s\n", err);
}

/* ---- kernels against C loops ---- */

/* y = 2x + exp(-x^2) on N elements, for each configuration; 0 if all match. */
static int run_gauss(int64_t n, const unsigned (*cfg)[2], int ncfg) {
  float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  for (int64_t i = 0; i < n; i++) x[i] = (float)((i % 1000) - 500) / 250.0f;
  float *dx = to_device(x, n * sizeof *x), *dy = to_device(NULL, n * sizeof *y);
  int bad = 0;
  for (int c = 0; c < ncfg; c++) {
    char lerr[ERRSZ];
    tcemu_memset_d8(dy, 0xff, n * sizeof *y, lerr, sizeof lerr);
    void *params[] = {&dy, &dx, &n};
    const tcemu_kernel *k = find_kernel("k_gauss");
    if (tcemu_launch(k->name, k->fn, cfg[c][0], 1, 1, cfg[c][1], 1, 1, params, lerr, sizeof lerr) != 0) bad++;
    tcemu_memcpy_dtoh(y, dy, n * sizeof *y, lerr, sizeof lerr);
    for (int64_t i = 0; i < n; i++) {
      float want = 2.0f * x[i] + expf(-x[i] * x[i]);
      if (!(fabsf(y[i] - want) <= 1e-6f * fabsf(want))) {
        bad++;
        break;
      }
    }
  }
  tcemu_free(dx);
  tcemu_free(dy);
  free(x);
  free(y);
  return bad;
}

static void test_elementwise(void) {
  static const unsigned cfg[][2] = {{1, 1}, {1, 32}, {7, 128}, {391, 256}, {2, 1024}, {1000, 100}, {3, 33}};
  CHECK(run_gauss(100000, cfg, 7) == 0, "gauss over 1e5 elements");
  printf("elementwise: done\n");
}

/* Sum of 1..n in double: partials per block, then one block over them. */
static int64_t block_sum_ok(int64_t n, unsigned grid, unsigned block) {
  double *x = malloc(n * sizeof *x), total = 0;
  for (int64_t i = 0; i < n; i++) x[i] = (double)(i + 1);
  double *dx = to_device(x, n * sizeof *x), *dp = to_device(NULL, grid * sizeof *dp), *dt = to_device(NULL, 8);
  int64_t g = grid;
  void *p1[] = {&dp, &dx, &n}, *p2[] = {&dt, &dp, &g};
  int rc = launch("k_block_sum", grid, block, p1);
  if (!rc) rc = launch("k_block_sum", 1, block, p2);
  from_device(&total, dt, 8);
  tcemu_free(dx), tcemu_free(dp), tcemu_free(dt);
  free(x);
  return !rc && total == (double)n * (double)(n + 1) / 2;
}

static void test_block_sum(void) {
  CHECK(block_sum_ok(100000, 40, 256), "block sum 256");
  CHECK(block_sum_ok(100000, 3, 1024), "block sum 1024");
  CHECK(block_sum_ok(12345, 17, 64), "block sum 64");
  CHECK(block_sum_ok(1, 5, 2), "block sum of one element");
  printf("block sum: done\n");
}

static void test_warp_sums(void) {
  const int64_t n = 100000;
  const unsigned grid = 13;
  float *xf = malloc(n * sizeof *xf);
  double *xd = malloc(n * sizeof *xd);
  long long *xl = malloc(n * sizeof *xl);
  double wantf = 0, wantd = 0;
  long long wantl = 0;
  for (int64_t i = 0; i < n; i++) {
    xf[i] = (float)(i % 7), wantf += xf[i];          /* sums of small integers: exact in float */
    xd[i] = (double)i * 0.5, wantd += xd[i];         /* exact in double */
    xl[i] = (i % 2 ? -1 : 1) * i * 1000000007ll, wantl += xl[i];
  }
  float *dxf = to_device(xf, n * 4), *dpf = to_device(NULL, grid * 4);
  double *dxd = to_device(xd, n * 8), *dpd = to_device(NULL, grid * 8);
  long long *dxl = to_device(xl, n * 8), *dpl = to_device(NULL, grid * 8);
  void *pf[] = {&dpf, &dxf, (void *)&n}, *pd[] = {&dpd, &dxd, (void *)&n}, *pl[] = {&dpl, &dxl, (void *)&n};
  CHECK(launch("k_warp_sum_f32", grid, 256, pf) == 0, "%s", err);
  CHECK(launch("k_warp_sum_f64", grid, 256, pd) == 0, "%s", err);
  CHECK(launch("k_warp_sum_i64", grid, 256, pl) == 0, "%s", err);
  float pf_h[13];
  double pd_h[13];
  long long pl_h[13];
  from_device(pf_h, dpf, sizeof pf_h);
  from_device(pd_h, dpd, sizeof pd_h);
  from_device(pl_h, dpl, sizeof pl_h);
  double gotf = 0, gotd = 0;
  long long gotl = 0;
  for (unsigned b = 0; b < grid; b++) gotf += pf_h[b], gotd += pd_h[b], gotl += pl_h[b];
  CHECK(gotf == wantf, "warp sum f32: %.1f, expected %.1f", gotf, wantf);
  CHECK(gotd == wantd, "warp sum f64: %.1f, expected %.1f", gotd, wantd);
  CHECK(gotl == wantl, "warp sum i64: %lld, expected %lld", gotl, wantl);
  tcemu_free(dxf), tcemu_free(dpf), tcemu_free(dxd), tcemu_free(dpd), tcemu_free(dxl), tcemu_free(dpl);
  free(xf), free(xd), free(xl);
  printf("warp sums: done\n");
}

static void softmax_case(long long rows, long long cols, unsigned grid, unsigned block) {
  int64_t n = rows * cols;
  float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  for (int64_t i = 0; i < n; i++) x[i] = (float)sin((double)i * 0.37) * 8.0f;
  float *dx = to_device(x, n * 4), *dy = to_device(NULL, n * 4);
  void *params[] = {&dy, &dx, &rows, &cols};
  CHECK(launch("k_softmax_rows", grid, block, params) == 0, "softmax: %s", err);
  from_device(y, dy, n * 4);
  double worst = 0;
  for (long long r = 0; r < rows; r++) {
    double m = -INFINITY, s = 0;
    for (long long c = 0; c < cols; c++) m = fmax(m, x[r * cols + c]);
    for (long long c = 0; c < cols; c++) s += exp(x[r * cols + c] - m);
    for (long long c = 0; c < cols; c++) worst = fmax(worst, fabs(y[r * cols + c] - exp(x[r * cols + c] - m) / s));
  }
  CHECK(worst <= 1e-6, "softmax %lldx%lld grid %u block %u: max error %g", rows, cols, grid, block, worst);
  tcemu_free(dx), tcemu_free(dy);
  free(x), free(y);
}

static void test_softmax(void) {
  softmax_case(37, 1000, 37, 256);
  softmax_case(37, 1000, 8, 128);
  softmax_case(5, 33, 2, 64);
  softmax_case(3, 7, 3, 1024);
  printf("softmax: done\n");
}

static void test_atomics(void) {
  long long n = 10000;
  int zeros[16] = {0}, minmax0[2] = {-1000000, 1000000};
  int *ci = to_device(zeros, 4), *mm = to_device(minmax0, 8);
  float *cf = to_device(zeros, 4);
  unsigned long long *cu = to_device(zeros, 8);
  long long *cl = to_device(zeros, 8);
  double *cd = to_device(zeros, 8);
  unsigned *cn = to_device(zeros, 4);
  void *params[] = {&ci, &cf, &cu, &cl, &cd, &cn, &mm, &n};
  CHECK(launch("k_atomics", 40, 256, params) == 0, "atomics: %s", err);
  int i;
  float f;
  unsigned long long u;
  long long l;
  double d;
  unsigned un;
  int mmh[2];
  from_device(&i, ci, 4), from_device(&f, cf, 4), from_device(&u, cu, 8), from_device(&l, cl, 8);
  from_device(&d, cd, 8), from_device(&un, cn, 4), from_device(mmh, mm, 8);
  CHECK(i == 10000 && f == 10000.0f && u == 10000 && l == 30000 && d == 5000.0 && un == 20000,
        "atomicAdd: %d %g %llu %lld %g %u", i, f, u, l, d, un);
  CHECK(mmh[0] == 9999 && mmh[1] == -5, "atomicMax/Min: %d %d", mmh[0], mmh[1]);

  /* CAS loops and exchanges (the last thread to run is the last one). */
  int *c = to_device(zeros, 4), *last = to_device(zeros, 4);
  unsigned *c2 = to_device(zeros, 4), *lastn = to_device(zeros, 4);
  unsigned long long *c3 = to_device(zeros, 8), *lastu = to_device(zeros, 8);
  float *lastf = to_device(zeros, 4);
  void *p2[] = {&c, &c2, &c3, &last, &lastf, &lastn, &lastu, &n};
  CHECK(launch("k_cas", 79, 128, p2) == 0, "cas: %s", err);
  from_device(&i, c, 4), from_device(&un, c2, 4), from_device(&u, c3, 8);
  CHECK(i == 20000 && un == 50000 && u == 30000, "atomicCAS loops: %d %u %llu", i, un, u);
  from_device(&i, last, 4), from_device(&f, lastf, 4), from_device(&un, lastn, 4), from_device(&u, lastu, 8);
  CHECK(i == 9999 && f == 9999.0f && un == 9999 && u == 9999, "atomicExch: %d %g %u %llu", i, f, un, u);
  tcemu_free(ci), tcemu_free(mm), tcemu_free(cf), tcemu_free(cu), tcemu_free(cl), tcemu_free(cd), tcemu_free(cn);
  tcemu_free(c), tcemu_free(last), tcemu_free(c2), tcemu_free(lastn), tcemu_free(c3), tcemu_free(lastu);
  tcemu_free(lastf);

  /* Float atomics in an order that changes the rounding: the same every run. */
  long long m = 5000;
  float *x = malloc(m * 4), s1, s2;
  for (long long k = 0; k < m; k++) x[k] = 1.0f / (float)(k + 1) + (float)(k % 3) * 1e4f;
  float *dx = to_device(x, m * 4), *ds = to_device(zeros, 4);
  void *p3[] = {&ds, &dx, &m};
  CHECK(launch("k_float_order", 20, 256, p3) == 0, "float order: %s", err);
  from_device(&s1, ds, 4);
  tcemu_memset_d8(ds, 0, 4, err, ERRSZ);
  CHECK(launch("k_float_order", 20, 256, p3) == 0, "float order: %s", err);
  from_device(&s2, ds, 4);
  CHECK(memcmp(&s1, &s2, 4) == 0, "float atomics not deterministic: %a %a", s1, s2);
  tcemu_free(dx), tcemu_free(ds);
  free(x);
  printf("atomics: done\n");
}

static void test_votes(void) {
  const unsigned grid = 3, block = 96, nw = grid * block / 32;
  long long n = 250; /* the last warp is partly past n */
  unsigned *db = to_device(NULL, nw * 4), *dh = to_device(NULL, nw * 8);
  int *df = to_device(NULL, nw * 8);
  void *params[] = {&db, &df, &dh, &n};
  CHECK(launch("k_votes", grid, block, params) == 0, "votes: %s", err);
  unsigned b[9], h[18];
  int fl[18];
  from_device(b, db, sizeof b), from_device(fl, df, sizeof fl), from_device(h, dh, sizeof h);
  for (unsigned w = 0; w < nw; w++) {
    unsigned wb = 0, h0 = 0, h1 = 0;
    int any = 0, all = 1;
    for (unsigned l = 0; l < 32; l++) {
      unsigned t = w * 32 + l;
      if (t % 3 == 0 && t < n) wb |= 1u << l;
      any |= t == 37;
      all &= t < n;
      if (l < 16 && t % 2 == 0) h0 |= 1u << l;
      if (l >= 16 && t % 4 == 1) h1 |= 1u << l;
    }
    CHECK(b[w] == wb, "ballot of warp %u: %08x, expected %08x", w, b[w], wb);
    CHECK(fl[2 * w] == any && fl[2 * w + 1] == all, "any/all of warp %u: %d %d", w, fl[2 * w], fl[2 * w + 1]);
    CHECK(h[2 * w] == h0 && h[2 * w + 1] == h1, "half ballots of warp %u: %08x %08x", w, h[2 * w], h[2 * w + 1]);
  }
  tcemu_free(db), tcemu_free(dh), tcemu_free(df);
  printf("votes: done\n");
}

static void test_shuffles(void) {
  enum { T = 64 };
  int *di = to_device(NULL, T * 4);
  long long *dl = to_device(NULL, T * 8);
  unsigned *du = to_device(NULL, T * 4);
  unsigned long long *dd = to_device(NULL, T * 8);
  double *dx = to_device(NULL, T * 8);
  void *params[] = {&di, &dl, &du, &dd, &dx};
  CHECK(launch("k_scan", 1, T, params) == 0, "scan: %s", err);
  int incl[T];
  long long bc[T];
  unsigned rot[T];
  unsigned long long down[T];
  double xr[T];
  from_device(incl, di, sizeof incl), from_device(bc, dl, sizeof bc), from_device(rot, du, sizeof rot);
  from_device(down, dd, sizeof down), from_device(xr, dx, sizeof xr);
  for (unsigned t = 0; t < T; t++) {
    unsigned lane = t % 32, w0 = t - lane;
    int want = 0;
    for (unsigned k = w0; k <= t; k++) want += (int)k + 1;
    CHECK(incl[t] == want, "shfl_up scan [%u]: %d, expected %d", t, incl[t], want);
    CHECK(bc[t] == (long long)(w0 + 5) * 1000000007LL, "shfl broadcast [%u]: %lld", t, bc[t]);
    CHECK(rot[t] == (w0 + (lane + 1) % 32) * 3u, "shfl rotation [%u]: %u", t, rot[t]);
    CHECK(down[t] == ((unsigned long long)(lane + 3 < 32 ? t + 3 : t) << 40) + (t ^ 2), "shfl_down [%u]: %llx", t,
          down[t]);
    CHECK(xr[t] == (double)(t ^ 1) + 0.25, "shfl_xor double [%u]: %g", t, xr[t]);
  }
  tcemu_free(di), tcemu_free(dl), tcemu_free(du), tcemu_free(dd), tcemu_free(dx);

  /* The rest of tc_emu.h's built-ins. */
  int *mi = to_device(NULL, 38 * 4);
  long long *ml = to_device(NULL, 8);
  float *mf = to_device(NULL, 4);
  double *md = to_device(NULL, 8);
  void *p2[] = {&mi, &ml, &mf, &md};
  CHECK(launch("k_misc", 1, 32, p2) == 0, "misc: %s", err);
  int out[38];
  long long o64;
  float f;
  double d;
  from_device(out, mi, sizeof out), from_device(&o64, ml, 8), from_device(&f, mf, 4), from_device(&d, md, 8);
  for (int t = 0; t < 32; t++) CHECK(out[t] == 39, "__syncwarp/warpSize [%d]: %d", t, out[t]);
  CHECK(out[32] == 0x3f800000 && f == 3.14159274f && o64 == 0x3ff0000000000000ll && d == 2.0,
        "bit casts: %x %g %llx %g", out[32], f, o64, d);
  CHECK(out[33] == 5 && out[34] == 5 && out[35] == 5 && out[36] == 9, "atomicCAS: %d %d %d %d", out[33], out[34],
        out[35], out[36]);
  CHECK(out[37] == 0x3f800000, "__ldg: %x", out[37]);
  tcemu_free(mi), tcemu_free(ml), tcemu_free(mf), tcemu_free(md);
  printf("shuffles: done\n");
}

static void test_dims(void) {
  int n = 3 * 2 * 2 * 4 * 3 * 2;
  int *d = to_device(NULL, n * 4), *h = malloc(n * 4);
  const tcemu_kernel *k = find_kernel("k_index3d");
  void *params[] = {&d};
  CHECK(tcemu_launch(k->name, k->fn, 3, 2, 2, 4, 3, 2, params, err, ERRSZ) == 0, "3-D: %s", err);
  from_device(h, d, n * 4);
  for (int b = 0; b < 12; b++)
    for (int z = 0; z < 2; z++)
      for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++) {
          int i = b * 24 + (z * 3 + y) * 4 + x;
          CHECK(h[i] == b * 10000 + z * 100 + y * 10 + x, "3-D [%d]: %d", i, h[i]);
        }
  tcemu_free(d);
  free(h);

  /* 64 KiB of locals per thread fit in a fiber's stack. */
  float *dd = to_device(NULL, 64 * 4), hd[64];
  void *p2[] = {&dd};
  CHECK(launch("k_deep", 1, 64, p2) == 0, "deep: %s", err);
  from_device(hd, dd, sizeof hd);
  for (int t = 0; t < 64; t++) {
    float s = 0;
    for (int i = 16383; i >= 0; i--) s += (float)(i % 7 + t);
    CHECK(hd[t] == s, "deep [%d]: %g, expected %g", t, hd[t], s);
  }
  tcemu_free(dd);
  printf("dims: done\n");
}

/* ---- two host threads ---- */

static void *host_thread(void *arg) {
  intptr_t bad = 0, id = (intptr_t)arg;
  static const unsigned cfg[][2] = {{5, 128}, {64, 64}};
  for (int rep = 0; rep < 6; rep++) {
    bad += run_gauss(20000 + id * 1000, cfg, 2);
    bad += !block_sum_ok(30000 + id * 7, 9, 256);
  }
  return (void *)bad;
}

static void test_host_threads(void) {
  pthread_t th[2];
  for (intptr_t i = 0; i < 2; i++) pthread_create(&th[i], NULL, host_thread, (void *)i);
  for (int i = 0; i < 2; i++) {
    void *bad;
    pthread_join(th[i], &bad);
    CHECK(bad == NULL, "host thread %d: %ld failures", i, (long)(intptr_t)bad);
  }
  printf("host threads: done\n");
}

/* ---- errors ---- */

static float *bad_buf;

/* Launches a kernel that must fail; prints "NAME: MESSAGE". */
static void expect_failure(const char *label, const char *name, unsigned grid, unsigned block) {
  void *params[] = {&bad_buf};
  int rc = launch(name, grid, block, params);
  CHECK(rc == TC_ERR_RUNTIME, "%s: rc %d", label, rc);
  printf("%s: %s\n", label, err);
}

static int nested_rc = -1;
static void nested_fn(void **params) {
  const tcemu_kernel *k = find_kernel("k_gauss");
  char e[ERRSZ];
  if (nested_rc >= 0) return; /* the first thread tries */
  nested_rc = tcemu_launch(k->name, k->fn, 1, 1, 1, 1, 1, 1, params, e, sizeof e);
  printf("nested: %s\n", e);
}

static void test_launch_errors(void) {
  bad_buf = to_device(NULL, 64 * 4);
  const tcemu_kernel *k = find_kernel("k_gauss");
  float *host = calloc(100, 4);
  long long n = 100;
  void *params[] = {&bad_buf, &host, &n};
  CHECK(tcemu_launch(k->name, k->fn, 1, 1, 1, 2048, 1, 1, params, err, ERRSZ) == TC_ERR_RUNTIME, "2048");
  printf("block 2048: %s\n", err);
  CHECK(tcemu_launch(k->name, k->fn, 1, 1, 1, 0, 1, 1, params, err, ERRSZ) == TC_ERR_RUNTIME, "0");
  printf("block 0: %s\n", err);
  CHECK(tcemu_launch(k->name, k->fn, 1, 1, 1, 1, 1, 65, params, err, ERRSZ) == TC_ERR_RUNTIME, "z 65");
  printf("block z: %s\n", err);
  CHECK(tcemu_launch(k->name, k->fn, 0, 1, 1, 32, 1, 1, params, err, ERRSZ) == TC_ERR_RUNTIME, "grid 0");
  printf("grid 0: %s\n", err);
  CHECK(tcemu_launch(k->name, k->fn, 1, 65536, 1, 32, 1, 1, params, err, ERRSZ) == TC_ERR_RUNTIME, "grid y");
  printf("grid y: %s\n", err);
  /* A host pointer as parameter 1: the launch fails and runs nothing. */
  float first;
  tcemu_memset_d8(bad_buf, 0, 64 * 4, err, ERRSZ);
  CHECK(tcemu_launch(k->name, k->fn, 2, 1, 1, 32, 1, 1, params, err, ERRSZ) == TC_ERR_RUNTIME, "host pointer");
  printf("host pointer: %s\n", err);
  from_device(&first, bad_buf, 4);
  CHECK(first == 0.0f, "the kernel ran with a host pointer");
  /* The same for a freed buffer, and for NULL. */
  float *freed = to_device(NULL, 400);
  tcemu_free(freed);
  params[1] = &freed;
  CHECK(tcemu_launch(k->name, k->fn, 1, 1, 1, 32, 1, 1, params, err, ERRSZ) == TC_ERR_RUNTIME, "freed pointer");
  printf("freed pointer: %s\n", err);
  float *null = NULL;
  params[0] = &null;
  CHECK(tcemu_launch(k->name, k->fn, 1, 1, 1, 32, 1, 1, params, err, ERRSZ) == TC_ERR_RUNTIME, "NULL pointer");
  printf("NULL pointer: %s\n", err);
  free(host);
  /* A launch from inside a kernel. */
  void *np[] = {&bad_buf, &bad_buf, &n};
  CHECK(tcemu_launch("nested", nested_fn, 1, 1, 1, 2, 1, 1, np, err, ERRSZ) == 0, "outer launch: %s", err);
  CHECK(nested_rc == TC_ERR_RUNTIME, "nested launch: %d", nested_rc);

  expect_failure("deadlock", "bad_deadlock", 2, 64);
  expect_failure("shfl exited", "bad_shfl_exited", 1, 32);
  expect_failure("shfl exited early", "bad_shfl_exited_early", 1, 32);
  expect_failure("missing lane", "bad_shfl_missing_lane", 1, 48);
  expect_failure("mixed ops", "bad_mixed_ops", 1, 32);
  expect_failure("sync vs warp", "bad_sync_vs_warp", 1, 32);
  expect_failure("mask", "bad_mask", 1, 32);
  expect_failure("outside mask", "bad_shfl_outside_mask", 1, 32);
  /* The emulator runs the next launch normally after all that. */
  CHECK(block_sum_ok(1000, 4, 128), "a launch after failed ones");
  tcemu_free(bad_buf);
  printf("launch errors: done\n");
}

static void test_copy_errors(void) {
  char host[256] = {0}, host2[256];
  char *d = to_device(NULL, 64);
  CHECK(tcemu_memcpy_dtoh(host, host2, 16, err, ERRSZ) == TC_ERR_RUNTIME, "dtoh from host");
  printf("dtoh from host: %s\n", err);
  CHECK(tcemu_memcpy_dtoh(d, d, 16, err, ERRSZ) == TC_ERR_RUNTIME, "dtoh to device");
  printf("dtoh to device: %s\n", err);
  CHECK(tcemu_memcpy_htod(d, d + 32, 16, err, ERRSZ) == TC_ERR_RUNTIME, "htod from device");
  printf("htod from device: %s\n", err);
  CHECK(tcemu_memcpy_htod(d, host, 65, err, ERRSZ) == TC_ERR_RUNTIME, "htod past the end");
  printf("htod past the end: %s\n", err);
  CHECK(tcemu_memcpy_htod(d + 32, host, 33, err, ERRSZ) == TC_ERR_RUNTIME, "htod at an offset past the end");
  CHECK(tcemu_memcpy_htod(d - 1, host, 8, err, ERRSZ) == TC_ERR_RUNTIME, "htod before the start");
  CHECK(tcemu_memcpy_htod(d, host, -1, err, ERRSZ) == TC_ERR_RUNTIME, "negative size");
  printf("negative size: %s\n", err);
  CHECK(tcemu_memcpy_htod(d, NULL, 8, err, ERRSZ) == TC_ERR_RUNTIME, "htod from NULL");
  CHECK(tcemu_memcpy_dtod(d, d + 32, 33, err, ERRSZ) == TC_ERR_RUNTIME, "dtod past the end");
  CHECK(tcemu_memcpy_dtod(d, host, 8, err, ERRSZ) == TC_ERR_RUNTIME, "dtod from host");
  CHECK(tcemu_memset_d8(d + 1, 0, 64, err, ERRSZ) == TC_ERR_RUNTIME, "memset past the end");
  printf("memset past the end: %s\n", err);
  CHECK(tcemu_memset_d8(host, 0, 8, err, ERRSZ) == TC_ERR_RUNTIME, "memset of host memory");

  /* What works: offsets inside, device to device, memset, 0 bytes. */
  for (int i = 0; i < 64; i++) host[i] = (char)i;
  CHECK(tcemu_memcpy_htod(d, host, 64, err, ERRSZ) == 0, "htod: %s", err);
  CHECK(tcemu_memcpy_dtod(d, d + 32, 32, err, ERRSZ) == 0, "dtod: %s", err);
  CHECK(tcemu_memset_d8(d + 60, 0x7f, 4, err, ERRSZ) == 0, "memset: %s", err);
  CHECK(tcemu_memcpy_dtoh(host2, d + 16, 48, err, ERRSZ) == 0, "dtoh at an offset: %s", err);
  CHECK(host2[0] == 48 && host2[15] == 63 && host2[16] == 32 && host2[43] == 59 && host2[44] == 0x7f &&
            host2[47] == 0x7f,
        "copied bytes: %d %d %d %d %d %d", host2[0], host2[15], host2[16], host2[43], host2[44], host2[47]);
  CHECK(tcemu_memcpy_htod(d + 64, host, 0, err, ERRSZ) == 0, "0 bytes at the end: %s", err);
  CHECK(tcemu_memcpy_dtoh(host, host, 0, err, ERRSZ) == 0, "0 bytes from host memory: %s", err);
  CHECK(tcemu_is_device(d, 64) && tcemu_is_device(d + 63, 1) && tcemu_is_device(d + 10, 0), "is_device inside");
  CHECK(!tcemu_is_device(d, 65) && !tcemu_is_device(d + 64, 1) && !tcemu_is_device(d + 64, 0) &&
            !tcemu_is_device(host, 1) && !tcemu_is_device(NULL, 0) && !tcemu_is_device(d, -1),
        "is_device outside");
  tcemu_free(d);
  CHECK(tcemu_memcpy_dtoh(host, d, 8, err, ERRSZ) == TC_ERR_RUNTIME, "dtoh from freed memory");
  printf("dtoh from freed memory: %s\n", err);
  CHECK(!tcemu_is_device(d, 1), "freed memory is not device memory");
  printf("copy errors: done\n");
}

static void test_allocations(int64_t live0) {
  CHECK(tcemu_live_allocations() == live0, "live allocations: %lld, expected %lld",
        (long long)tcemu_live_allocations(), (long long)live0);
  int64_t calls = tcemu_malloc_calls();
  void *p = tcemu_malloc(1000);
  CHECK(p && (uintptr_t)p % 256 == 0, "256-byte aligned: %p", p);
  CHECK(tcemu_live_allocations() == live0 + 1 && tcemu_malloc_calls() == calls + 1, "counted");
  tcemu_free(p);
  void *q = tcemu_malloc(1000);
  CHECK(q == p, "freed memory is reused: %p then %p", p, q);
  tcemu_free(q);
  /* Neighbours merge when freed. */
  char *a = tcemu_malloc(256), *b = tcemu_malloc(300), *c = tcemu_malloc(256);
  CHECK(b == a + 256 + REDZONE && c == b + 512 + REDZONE, "consecutive: %p %p %p", (void *)a, (void *)b, (void *)c);
  tcemu_free(b);
  tcemu_free(a);
  char *ab = tcemu_malloc(768 + REDZONE);
  CHECK(ab == a, "merged free chunks: %p, expected %p", (void *)ab, (void *)a);
  tcemu_free(ab);
  tcemu_free(c);
  /* Zero bytes still give distinct pointers; bad frees are ignored. */
  void *z1 = tcemu_malloc(0), *z2 = tcemu_malloc(0);
  CHECK(z1 && z2 && z1 != z2, "malloc(0): %p %p", z1, z2);
  CHECK(tcemu_is_device(z1, 0) && !tcemu_is_device(z1, 1) && !tcemu_is_device((char *)z1 + 1, 0), "is_device of 0 bytes");
  int64_t live = tcemu_live_allocations();
  tcemu_free(z1);
  tcemu_free(z1);
  tcemu_free((char *)z2 + 8);
  tcemu_free(&live);
  tcemu_free(NULL);
  CHECK(tcemu_live_allocations() == live - 1, "bad frees ignored");
  tcemu_free(z2);
  /* Beyond the arena. */
  CHECK(tcemu_malloc((int64_t)2 << 30) == NULL, "2 GiB in a 1 GiB arena");
  CHECK(tcemu_malloc(-1) == NULL, "malloc(-1)");
  void *big = tcemu_malloc((int64_t)512 << 20);
  CHECK(big != NULL, "512 MiB");
  tcemu_free(big);
  CHECK(tcemu_live_allocations() == live0, "live allocations back to %lld: %lld", (long long)live0,
        (long long)tcemu_live_allocations());
  printf("allocations: done\n");
}

/* ---- the crash modes ---- */

static int crash_mode(const char *mode) {
  /* 64 floats end at a 256-byte boundary (what follows is the next
   * allocation, or a poisoned granule under ASan); 63 end inside one. */
  long long n = strcmp(mode, "past_end_in_granule") ? 64 : 63;
  float *d = tcemu_malloc(n * sizeof *d);
  float *y = tcemu_malloc(sizeof *y);
  void *params[] = {&y, &d, &n};
  fprintf(stderr, "%s: start\n", mode);
  if (!strcmp(mode, "segv")) {
    float v = *(volatile float *)d; /* host code reading device memory */
    printf("read %g\n", v);
  } else if (!strcmp(mode, "segv_write")) {
    *(volatile float *)d = 1.0f;
  } else if (!strcmp(mode, "oob")) {
    launch("bad_oob", 1, 32, params);
  } else if (!strcmp(mode, "stack_overflow")) {
    launch("bad_stack_overflow", 1, 2, params + 1);
  } else if (!strcmp(mode, "past_end") || !strcmp(mode, "past_end_in_granule")) {
    launch("bad_past_end", 1, 32, params);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  printf("%s: not caught\n", mode);
  return 0;
}

/* ---- the benchmark ---- */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The best of 3 launches of kernel on grid x 256 threads, a kernel that
 * has the scheduler resume each thread `resumes` times (1 + its
 * barriers); every resume is two switches, into the fiber and back.  The time per switch counts
 * everything (the kernel's own work too), so it is an upper bound. */
static void bench_launch(const char *what, const char *kernel, unsigned grid, int resumes, void **params) {
  double best = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    CHECK(launch(kernel, grid, 256, params) == 0, "%s: %s", what, err);
    double t = now() - t0;
    if (t < best) best = t;
  }
  double threads = (double)grid * 256, switches = threads * 2 * resumes;
  printf("bench: %s: %.0f threads (%u x 256), %.3f s, %.0f switches, %.4f us/switch\n", what, threads, grid, best,
         switches, best * 1e6 / switches);
}

static int bench(unsigned blocks) {
  /* 1. No barrier: one element of k_gauss per thread. */
  long long n = (long long)blocks * 4 * 256;
  float *dx = to_device(NULL, n * sizeof(float)), *dy = to_device(NULL, n * sizeof(float));
  CHECK(tcemu_memset_d8(dx, 0, n * sizeof(float), err, ERRSZ) == 0, "memset: %s", err);
  void *p1[] = {&dy, &dx, &n};
  bench_launch("no barrier", "k_gauss", blocks * 4, 1, p1);
  float y0 = 0;
  from_device(&y0, dy + n - 1, sizeof y0);
  CHECK(y0 == 1.0f, "k_gauss of 0: %g", y0);
  tcemu_free(dx);
  tcemu_free(dy);
  /* 2. k_block_sum on blocks of 256: __syncthreads once, then at each of
   * its 8 halvings. */
  long long m = (long long)blocks * 256;
  double *x = malloc(m * sizeof *x), total = 0;
  for (long long i = 0; i < m; i++) x[i] = 1.0;
  double *dd = to_device(x, m * sizeof *x), *dp = to_device(NULL, blocks * sizeof *dp);
  void *p2[] = {&dp, &dd, &m};
  bench_launch("9 __syncthreads", "k_block_sum", blocks, 10, p2);
  from_device(x, dp, blocks * sizeof *dp);
  for (unsigned b = 0; b < blocks; b++) total += x[b];
  CHECK(total == (double)m, "block sums: %g, expected %lld", total, m);
  tcemu_free(dd);
  tcemu_free(dp);
  free(x);
  return failures != 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  CHECK(tcemu_init(0, err, ERRSZ) == 0, "init: %s", err);
  CHECK(tcemu_init(4096, err, ERRSZ) == 0, "init again: %s", err);
  if (argc > 1 && !strcmp(argv[1], "bench")) return bench(argc > 2 ? (unsigned)atoi(argv[2]) : 1024);
  if (argc > 1) return crash_mode(argv[1]);
  int64_t live0 = tcemu_live_allocations();
  test_elementwise();
  test_block_sum();
  test_warp_sums();
  test_softmax();
  test_atomics();
  test_votes();
  test_shuffles();
  test_dims();
  test_host_threads();
  test_launch_errors();
  test_copy_errors();
  test_allocations(live0);
  printf("emu: %d of %d checks passed\n", checks - failures, checks);
  return failures != 0;
}
