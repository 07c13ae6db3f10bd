/* runtime/rng.c - random numbers from Philox-4x32-10, a counter-based
 * generator (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11; the constants of Random123, JAX and PyTorch).
 *
 * A counter-based generator is a keyed bijection: block c of the stream is
 * philox(counter = c, key = seed), four 32-bit words, computed from c alone.
 * So any element of any draw can be computed without computing the ones
 * before it, which is what lets CPU threads and GPU kernels split a draw any
 * way they like and still give the same numbers.
 *
 * The stream of a context is (key, next block):
 *   key     = { seed & 0xffffffff, seed >> 32 }
 *   counter = { block & 0xffffffff, block >> 32, 0, 0 }
 * Each call takes the contiguous range of blocks [base, base + used) where
 * base is ctx->counter, then advances ctx->counter by `used`.  Within a call
 * element i reads fixed words of fixed blocks (see each function), never
 * anything that depends on the order of evaluation:
 *   rand f32     u = (w >> 8) * 2^-24             word i%4 of block base+i/4
 *   rand f64     u = (hi:lo >> 11) * 2^-53        words 2(i%2), 2(i%2)+1 of block base+i/2
 *   randn f32    Box-Muller on pair j = i/2       words 2(j%2), 2(j%2)+1 of block base+j/2
 *   randn f64    Box-Muller on pair j = i/2       the four words of block base+j
 *   randint      lo + mulhi64(hi:lo, range)       words 2(i%2), 2(i%2)+1 of block base+i/2
 *   randperm     Fisher-Yates, step s as randint  words 2(s%2), 2(s%2)+1 of block base+s/2
 * (hi:lo is the 64-bit number whose high half is the first word named.)
 * docs/runtime.md "Random numbers" states the same for the GPU side.
 */
#include "rt_internal.h"

#include <math.h>
#include <string.h>

/* ===== the generator ===== */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* the golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

static inline void philox_round(uint32_t ctr[4], const uint32_t key[2]) {
  uint64_t p0 = (uint64_t)PHILOX_M0 * ctr[0];
  uint64_t p1 = (uint64_t)PHILOX_M1 * ctr[2];
  uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
  uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
  uint32_t c1 = ctr[1], c3 = ctr[3];
  ctr[0] = hi1 ^ c1 ^ key[0];
  ctr[1] = lo1;
  ctr[2] = hi0 ^ c3 ^ key[1];
  ctr[3] = lo0;
}

void tcrt_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t k[2] = {key[0], key[1]};
  /* Ten rounds; the key is bumped between rounds (nine times), as Random123's
   * philox4x32_R(10, ...). */
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k[0] += PHILOX_W0;
      k[1] += PHILOX_W1;
    }
    philox_round(c, k);
  }
  memcpy(out, c, sizeof c);
}

/* Block `block` of the context's stream. */
static inline void stream_block(const tc_ctx *ctx, uint64_t block, uint32_t out[4]) {
  uint32_t key[2] = {(uint32_t)ctx->seed, (uint32_t)(ctx->seed >> 32)};
  uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0, 0};
  tcrt_philox4x32_10(ctr, key, out);
}

/* Takes `blocks` blocks from the stream and returns the first.  The counter
 * is 64 bits wide: at 10^10 blocks a second it wraps after 58 years, so
 * wrapping is not checked. */
uint64_t rt_take_blocks(tc_ctx *ctx, uint64_t blocks) {
  uint64_t base = ctx->counter;
  ctx->counter += blocks;
  return base;
}

static inline uint64_t words64(const uint32_t w[4], int first) {
  return (uint64_t)w[first] << 32 | w[first + 1];
}

/* Uniforms.  f32 takes the top 24 bits so that every value is exactly a
 * float and 1.0 is never produced (rounding 32 bits to float could give
 * 1.0).  The `open` forms, in (0, 1), add half a step so that 0 is never
 * produced: Box-Muller takes the log of one. */
static inline float u24(uint32_t w) { return (float)(w >> 8) * 0x1p-24f; }
static inline double u53(uint64_t x) { return (double)(x >> 11) * 0x1p-53; }
static inline double u32_open(uint32_t w) { return ((double)(w >> 8) + 0.5) * 0x1p-24; }
static inline double u53_open(uint64_t x) { return ((double)(x >> 11) + 0.5) * 0x1p-53; }

/* A number in [0, range) from 64 random bits: the high half of the 128-bit
 * product (Lemire's multiply-shift without the rejection step).  Each value
 * is hit floor(2^64/range) or that plus one times, so the bias is at most
 * range / 2^64: below 2^-32 for any range under 2^32, far beneath what 10^9
 * draws could detect.  Skipping rejection keeps one draw = one fixed pair of
 * words, which is what makes the stream splittable. */
static inline uint64_t below(uint64_t x, uint64_t range) {
  return (uint64_t)(((unsigned __int128)x * range) >> 64);
}

void tcrt_seed(tc_ctx *ctx, uint64_t seed) {
  ctx->seed = seed;
  ctx->counter = 0;
}

static int check_count(tc_ctx *ctx, const char *what, int64_t n, const void *out) {
  if (n < 0)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "%s: negative count %lld", what, (long long)n);
  if (n > 0 && !out)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "%s: no output buffer", what);
  return TC_OK;
}

/* ===== uniform ===== */

int tcrt_rand(tc_ctx *ctx, tc_dtype dt, void *out, int64_t n) {
  int st = check_count(ctx, "rand", n, out);
  if (st)
    return st;
  uint32_t w[4];
  if (dt == TC_F32) {
    float *o = out;
    uint64_t base = rt_take_blocks(ctx, ((uint64_t)n + 3) / 4);
    for (int64_t i = 0; i < n; i += 4) {
      stream_block(ctx, base + (uint64_t)i / 4, w);
      for (int j = 0; j < 4 && i + j < n; j++)
        o[i + j] = u24(w[j]);
    }
    return TC_OK;
  }
  if (dt == TC_F64) {
    double *o = out;
    uint64_t base = rt_take_blocks(ctx, ((uint64_t)n + 1) / 2);
    for (int64_t i = 0; i < n; i += 2) {
      stream_block(ctx, base + (uint64_t)i / 2, w);
      o[i] = u53(words64(w, 0));
      if (i + 1 < n)
        o[i + 1] = u53(words64(w, 2));
    }
    return TC_OK;
  }
  return tcrt_fail(ctx, TC_ERR_RUNTIME, "rand: dtype %s is not a float type", tcrt_dtype_name(dt));
}

/* ===== normal ===== */

/* Box-Muller: two independent uniforms u1 in (0, 1), u2 in [0, 1) give two
 * independent standard normals r cos t and r sin t, r = sqrt(-2 log u1),
 * t = 2 pi u2.  Computed in double for both dtypes (and rounded once for
 * f32), so the f32 numbers do not depend on a float libm's last bit. */
static inline void box_muller(double u1, double u2, double *z0, double *z1) {
  double r = sqrt(-2.0 * log(u1));
  double t = 6.283185307179586 * u2; /* 2 pi */
  *z0 = r * cos(t);
  *z1 = r * sin(t);
}

int tcrt_randn(tc_ctx *ctx, tc_dtype dt, void *out, int64_t n) {
  int st = check_count(ctx, "randn", n, out);
  if (st)
    return st;
  uint32_t w[4];
  double z0, z1;
  if (dt == TC_F32) {
    /* Two pairs (four normals) per block. */
    float *o = out;
    uint64_t base = rt_take_blocks(ctx, ((uint64_t)n + 3) / 4);
    for (int64_t i = 0; i < n; i += 4) {
      stream_block(ctx, base + (uint64_t)i / 4, w);
      for (int p = 0; p < 2 && i + 2 * p < n; p++) {
        box_muller(u32_open(w[2 * p]), u24(w[2 * p + 1]), &z0, &z1);
        o[i + 2 * p] = (float)z0;
        if (i + 2 * p + 1 < n)
          o[i + 2 * p + 1] = (float)z1;
      }
    }
    return TC_OK;
  }
  if (dt == TC_F64) {
    double *o = out;
    uint64_t base = rt_take_blocks(ctx, ((uint64_t)n + 1) / 2);
    for (int64_t i = 0; i < n; i += 2) {
      stream_block(ctx, base + (uint64_t)i / 2, w);
      box_muller(u53_open(words64(w, 0)), u53(words64(w, 2)), &z0, &z1);
      o[i] = z0;
      if (i + 1 < n)
        o[i + 1] = z1;
    }
    return TC_OK;
  }
  return tcrt_fail(ctx, TC_ERR_RUNTIME, "randn: dtype %s is not a float type", tcrt_dtype_name(dt));
}

/* ===== integers ===== */

int tcrt_randint(tc_ctx *ctx, int64_t lo, int64_t hi, int64_t *out, int64_t n) {
  int st = check_count(ctx, "randint", n, out);
  if (st)
    return st;
  if (hi <= lo)
    return tcrt_fail(ctx, TC_ERR_RUNTIME, "randint: empty range [%lld, %lld): high must be greater than low",
                     (long long)lo, (long long)hi);
  /* In unsigned arithmetic the range and the sum cannot overflow: hi - lo
   * is at most 2^64 - 1 and lo + offset lands back in [lo, hi). */
  uint64_t range = (uint64_t)hi - (uint64_t)lo;
  uint64_t base = rt_take_blocks(ctx, ((uint64_t)n + 1) / 2);
  uint32_t w[4];
  for (int64_t i = 0; i < n; i += 2) {
    stream_block(ctx, base + (uint64_t)i / 2, w);
    out[i] = (int64_t)((uint64_t)lo + below(words64(w, 0), range));
    if (i + 1 < n)
      out[i + 1] = (int64_t)((uint64_t)lo + below(words64(w, 2), range));
  }
  return TC_OK;
}

int tcrt_randperm(tc_ctx *ctx, int64_t *out, int64_t n) {
  int st = check_count(ctx, "randperm", n, out);
  if (st)
    return st;
  for (int64_t i = 0; i < n; i++)
    out[i] = i;
  if (n < 2)
    return TC_OK;
  /* Fisher-Yates from the top: step s = n-1-i swaps out[i] with out[j],
   * j uniform in [0, i].  Steps are sequential, but each step's random
   * number is still a fixed pair of words, so the result is fixed too. */
  uint64_t base = rt_take_blocks(ctx, ((uint64_t)(n - 1) + 1) / 2);
  uint32_t w[4];
  for (int64_t s = 0; s < n - 1; s++) {
    if (s % 2 == 0)
      stream_block(ctx, base + (uint64_t)s / 2, w);
    int64_t i = n - 1 - s;
    int64_t j = (int64_t)below(words64(w, (int)(s % 2) * 2), (uint64_t)i + 1);
    int64_t t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return TC_OK;
}
