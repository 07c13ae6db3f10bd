/* tests/codegen/cuda/Inputs/access_emu.c - the kernels of access_maps.tc
 * (compiled by tensorc to CUDA C and included as KERNELS) in the emulator,
 * launched in ways end-to-end runs never launch them.
 *
 * Vector maps: a program's buffers always start 16-byte aligned, so
 * end-to-end runs never make the output's first element unaligned (the
 * head loop) and make the inputs unaligned only through slices.  Here each
 * map (out[i] = x[i] op y[i] + c) is launched with its three pointers
 * offset by 0..L elements from an allocation's start (L = 16 / element
 * size: every alignment, and one full vector in), for sizes around the
 * multiples of L and grids of one block, two, and as many as the host
 * would launch.  Each launch must succeed (the emulator fails a misaligned
 * 128-bit access), write exactly out[0..n) with the C loop's bits and
 * nothing around it, and make exactly the 128-bit accesses the vector loop
 * should: 3 per group of L points after the head (the points before the
 * output is aligned) when all three pointers are aligned alike, none
 * otherwise.
 *
 * Tiled transposes: the host launches a block per tile, so each block's
 * grid-stride loop over the tiles runs once.  Here the grids are smaller
 * than the tile count (1, 2, 3 blocks), so blocks take tile after tile:
 * without the barrier after the write phase, a warp that runs ahead would
 * overwrite the tile that others still read (the emulator's order makes
 * that visible).
 */
#include "emu.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include KERNELS

#define ERRSZ 512
static char err[ERRSZ];
static int failures;
/* The first few failures are printed; one broken rule fails thousands. */
#define FAIL(...) (failures++ < 20 ? printf("FAIL: " __VA_ARGS__) : 0)

/* Each dtype's kernel and the same computation in C (the emulator builds
 * with -ffp-contract=off, as this file). */
static void ref_f32(void *o, const void *x, const void *y, long i) {
  ((float *)o)[i] = ((const float *)x)[i] * ((const float *)y)[i] + 2.0f;
}
static void ref_f64(void *o, const void *x, const void *y, long i) {
  ((double *)o)[i] = ((const double *)x)[i] * ((const double *)y)[i] - 0.5;
}
static void ref_i32(void *o, const void *x, const void *y, long i) {
  ((int *)o)[i] = (int)((unsigned)((const int *)x)[i] * (unsigned)((const int *)y)[i] + 7u);
}
static void ref_i64(void *o, const void *x, const void *y, long i) {
  ((long long *)o)[i] = (long long)((unsigned long long)((const long long *)x)[i] *
                                        (unsigned long long)((const long long *)y)[i] -
                                    3u);
}

typedef struct Case {
  const char *dtype, *kernel;
  void (*fn)(void **params);
  int size; /* bytes of an element */
  void (*ref)(void *o, const void *x, const void *y, long i);
} Case;

static const Case cases[] = {
    {"f32", "k0_mul_add", k0_mul_add__emu, 4, ref_f32},
    {"f64", "k1_mul_sub", k1_mul_sub__emu, 8, ref_f64},
    {"i32", "k2_mul_add", k2_mul_add__emu, 4, ref_i32},
    {"i64", "k3_mul_sub", k3_mul_sub__emu, 8, ref_i64},
};

enum { BLOCK = 256, GUARD = 3 };
static const long sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 100, 1027};

static unsigned long long seed = 12345;
static unsigned char rnd(void) {
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned char)(seed >> 56);
}

static void *device(const void *host, long bytes) {
  void *d = tcemu_malloc(bytes);
  if (!d || tcemu_memcpy_htod(d, host, bytes, err, ERRSZ) != 0) {
    printf("FAIL: a device buffer of %ld bytes: %s\n", bytes, err);
    exit(1);
  }
  return d;
}

/* Element i of buf (of c's dtype) = v / 8 (floats: exact, and products
 * that keep their low bits). */
static void put(const Case *c, unsigned char *buf, long i, long v) {
  if (c->dtype[0] == 'f' && c->size == 4)
    ((float *)buf)[i] = (float)v / 8.0f;
  else if (c->dtype[0] == 'f')
    ((double *)buf)[i] = (double)v / 8.0 + 1e-9 * (double)v;
  else if (c->size == 4)
    ((int *)buf)[i] = (int)v * 40503;
  else
    ((long long *)buf)[i] = (long long)v * 2654435761LL;
}

/* One launch; returns the 128-bit accesses it made (-1 after a failure). */
static long one(const Case *c, long n, int ox, int oa, int ob, unsigned grid) {
  int L = 16 / c->size;
  long len = (n + L + GUARD) * c->size;
  unsigned char *x = malloc(len), *y = malloc(len), *out = malloc(len), *want = malloc(len);
  memset(out, 0xAB, len);
  memset(want, 0xAB, len);
  for (long i = 0; i < len / c->size; i++) {
    put(c, x, i, (long)rnd() - 128);
    put(c, y, i, (long)rnd() - 128);
  }
  for (long i = 0; i < n; i++)
    c->ref(want + ox * c->size, x + oa * c->size, y + ob * c->size, i);
  unsigned char *dx = device(x, len), *dy = device(y, len), *dout = device(out, len);
  void *px = dx + oa * c->size, *py = dy + ob * c->size, *pout = dout + ox * c->size;
  long long nn = n;
  void *params[] = {&pout, &px, &py, &nn};
  uint64_t before = tcemu_vector_accesses;
  long made = -1;
  if (tcemu_launch(c->kernel, c->fn, grid, 1, 1, BLOCK, 1, 1, params, err, ERRSZ) != 0) {
    FAIL("%s n=%ld offsets %d %d %d grid %u: %s\n", c->dtype, n, ox, oa, ob, grid, err);
  } else if (tcemu_memcpy_dtoh(out, dout, len, err, ERRSZ) != 0 || memcmp(out, want, len) != 0) {
    long at = 0;
    while (at < len && out[at] == want[at])
      at++;
    FAIL("%s n=%ld offsets %d %d %d grid %u: byte %ld is %02x, not %02x\n", c->dtype, n, ox, oa, ob, grid, at,
         at < len ? out[at] : 0, at < len ? want[at] : 0);
  } else {
    made = (long)(tcemu_vector_accesses - before);
  }
  tcemu_free(dx);
  tcemu_free(dy);
  tcemu_free(dout);
  free(x);
  free(y);
  free(out);
  free(want);
  return made;
}

/* The transposes: out[b][j][i] = x[b][i][j] * scale, for b < B, i < N, j < M. */
static void tiles(const char *what, const char *kernel, void (*fn)(void **), bool f64, bool batch) {
  static const long shapes[][3] = {{1, 1, 1},   {1, 5, 100}, {2, 33, 65},
                                   {3, 64, 64}, {1, 70, 3},  {2, 100, 97}};
  int size = f64 ? 8 : 4;
  long launches = 0;
  for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
    long long B = batch ? shapes[k][0] : 1, N = shapes[k][1], M = shapes[k][2];
    long count = B * N * M, len = count * size;
    unsigned char *x = malloc(len), *out = malloc(len), *want = malloc(len);
    for (long i = 0; i < count; i++) {
      if (f64)
        ((double *)x)[i] = (double)((long)rnd() - 128) / 3.0;
      else
        ((float *)x)[i] = (float)((long)rnd() - 128) / 3.0f;
    }
    for (long b = 0; b < B; b++)
      for (long i = 0; i < N; i++)
        for (long j = 0; j < M; j++) {
          long from = (b * N + i) * M + j, to = (b * M + j) * N + i;
          if (f64)
            ((double *)want)[to] = ((double *)x)[from] * 2.0;
          else
            ((float *)want)[to] = ((float *)x)[from];
        }
    long tiles = B * ((N + 31) / 32) * ((M + 31) / 32);
    unsigned grids[] = {1, 2, 3, (unsigned)tiles};
    for (int g = 0; g < 4; g++) {
      unsigned char *dx = device(x, len), *dout = device(x, len);
      void *params[5] = {&dout, &dx};
      long long *sym = batch ? (long long[]){B, N, M} : (long long[]){N, M};
      for (int i = 0; i < (batch ? 3 : 2); i++)
        params[2 + i] = &sym[i];
      if (tcemu_launch(kernel, fn, grids[g], 1, 1, BLOCK, 1, 1, params, err, ERRSZ) != 0)
        FAIL("%s %lldx%lldx%lld grid %u: %s\n", what, B, N, M, grids[g], err);
      else if (tcemu_memcpy_dtoh(out, dout, len, err, ERRSZ) != 0 || memcmp(out, want, len) != 0)
        FAIL("%s %lldx%lldx%lld grid %u: wrong result\n", what, B, N, M, grids[g]);
      launches++;
      tcemu_free(dx);
      tcemu_free(dout);
    }
    free(x);
    free(out);
    free(want);
  }
  printf("%s: %ld launches\n", what, launches);
}

int main(void) {
  if (tcemu_init(0, err, ERRSZ) != 0) {
    printf("FAIL: %s\n", err);
    return 1;
  }
  tiles("transpose f32", "k4_copy_tile", k4_copy_tile__emu, false, false);
  tiles("batched transpose f64", "k5_mul_tile", k5_mul_tile__emu, true, true);
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    const Case *c = &cases[k];
    int L = 16 / c->size;
    long launches = 0, vectors = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
      long n = sizes[si];
      unsigned host_grid = (unsigned)((n + (long)BLOCK * L - 1) / ((long)BLOCK * L));
      unsigned grids[] = {1, 2, host_grid ? host_grid : 1};
      for (int ox = 0; ox <= L; ox++)
        for (int oa = 0; oa <= L; oa++)
          for (int ob = 0; ob <= L; ob++)
            for (int g = 0; g < 3; g++) {
              long made = one(c, n, ox, oa, ob, grids[g]);
              if (made < 0)
                continue;
              /* the vector loop: all aligned alike, from the head on */
              long head = (L - ox % L) % L, expect = 0;
              if (ox % L == oa % L && ox % L == ob % L)
                expect = 3 * ((n - (head < n ? head : n)) / L);
              if (made != expect) {
                FAIL("%s n=%ld offsets %d %d %d grid %u: %ld 128-bit accesses, expected %ld\n", c->dtype, n,
                     ox, oa, ob, grids[g], made, expect);
              }
              launches++;
              vectors += made;
            }
    }
    printf("%s: %ld launches, %ld 128-bit accesses\n", c->dtype, launches, vectors);
  }
  printf("access: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
