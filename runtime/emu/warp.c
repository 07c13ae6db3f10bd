/* runtime/emu/warp.c - warp-level operations: shuffles, votes and
 * __syncwarp, on the fibers of launch.c.
 *
 * CUDA's rule (the *_sync intrinsics): every thread named in the mask must
 * call the same intrinsic with the same mask, and a thread not named does
 * not take part.  Here a lane arriving at an operation records what it
 * brings (the op, the value's type, the mask, its value, its argument)
 * and waits, unless it completes its group: the lanes of its mask that
 * the block has.  The last lane of the group to arrive checks that all
 * lanes of the group are at the same operation with the same mask,
 * computes every lane's result from the recorded values, makes the others
 * runnable and goes on; the others read their result when they resume.
 * So one warp barrier per operation suffices: nobody's value can be
 * overwritten before it was read, because all reads happen at once.
 *
 * What a GPU leaves undefined fails the launch with a message instead:
 * a mask without the caller's own lane; a lane named in the mask that has
 * exited (found when the waiting lane arrives, or when the named lane
 * exits while others wait for it); a shuffle reading a lane that the block
 * does not have (a last, partial warp), that has exited, or that is not in
 * the mask; lanes of one group at different operations, types or masks.
 * A lane that waits here while others wait at __syncthreads() is a
 * deadlock, which the scheduler reports.  The width is always 32.
 */
#include "emu_internal.h"

#include <stdio.h>

static const char *const op_names[TCEMU_NUM_WARP_OPS] = {
    [TCEMU_SHFL_XOR] = "__shfl_xor_sync", [TCEMU_SHFL_DOWN] = "__shfl_down_sync", [TCEMU_SHFL_UP] = "__shfl_up_sync",
    [TCEMU_SHFL_IDX] = "__shfl_sync",     [TCEMU_BALLOT] = "__ballot_sync",       [TCEMU_ANY] = "__any_sync",
    [TCEMU_ALL] = "__all_sync",           [TCEMU_SYNCWARP] = "__syncwarp",
};

/* The value types of shuffles, by the codes tc_emu.h gives them. */
static const char *const type_names[] = {"",          "int",       "unsigned", "long",  "unsigned long",
                                         "long long", "unsigned long long", "float", "double"};

const char *emu_warp_op_name(int op) { return op >= 0 && op < TCEMU_NUM_WARP_OPS ? op_names[op] : "?"; }

static bool is_shuffle(int op) { return op <= TCEMU_SHFL_IDX; }

/* "__shfl_xor_sync(float)" or "__ballot_sync" */
static void describe(const EmuThread *t, char *buf, size_t size) {
  bool typed = is_shuffle(t->op) && t->type > 0 && t->type < (int)(sizeof type_names / sizeof *type_names);
  snprintf(buf, size, "%s%s%s%s", emu_warp_op_name(t->op), typed ? "(" : "", typed ? type_names[t->type] : "",
           typed ? ")" : "");
}

/* The lane whose value `lane` receives; `lane` itself when the source is
 * outside the warp (CUDA returns the caller's own value then). */
static int source_lane(int op, int lane, int arg) {
  unsigned a = (unsigned)arg, src;
  switch (op) {
  case TCEMU_SHFL_XOR: src = (unsigned)lane ^ a; break;
  case TCEMU_SHFL_DOWN: src = a > (unsigned)(WARP - 1 - lane) ? (unsigned)lane : lane + a; break;
  case TCEMU_SHFL_UP: src = a > (unsigned)lane ? (unsigned)lane : lane - a; break;
  default: src = a % WARP; break; /* __shfl_sync: the source lane modulo the width */
  }
  return src < WARP ? (int)src : lane;
}

static int lowest(unsigned bits) { return __builtin_ctz(bits); }

/* The last lane of `group` has arrived (it is the running thread `last`):
 * check the group, compute every lane's result, wake the others. */
static void release(EmuHost *h, EmuWarp *w, EmuThread *last, unsigned group) {
  EmuThread *lanes = h->threads + last->pub.warp * WARP;
  char a[48], b[48];
  for (unsigned g = group; g; g &= g - 1) {
    EmuThread *u = &lanes[lowest(g)];
    if (u->op != last->op || u->type != last->type || u->mask != last->mask) {
      describe(u, a, sizeof a);
      describe(last, b, sizeof b);
      emu_thread_fail(last,
                      "(lane %u of warp %u) is at %s with mask 0x%08x but lane %u of its warp is at %s with mask "
                      "0x%08x: the lanes of a mask must meet at the same operation",
                      last->pub.lane, last->pub.warp, b, last->mask, u->pub.lane, a, u->mask);
    }
  }

  unsigned ballot = 0;
  for (unsigned g = group; g; g &= g - 1)
    if (lanes[lowest(g)].value) ballot |= 1u << lowest(g);
  for (unsigned g = group; g; g &= g - 1) {
    EmuThread *u = &lanes[lowest(g)];
    int lane = (int)u->pub.lane;
    switch (u->op) {
    case TCEMU_BALLOT: u->result = ballot; break;
    case TCEMU_ANY: u->result = ballot != 0; break;
    case TCEMU_ALL: u->result = ballot == group; break;
    case TCEMU_SYNCWARP: u->result = 0; break;
    default: {
      int src = source_lane(u->op, lane, u->arg);
      unsigned sbit = 1u << src;
      if ((w->exists & sbit) && !(w->exited & sbit) && (group & sbit)) {
        u->result = lanes[src].value;
        break;
      }
      describe(u, a, sizeof a);
      if (!(w->exists & sbit))
        emu_thread_fail(u, "(lane %d of warp %u) at %s reads lane %d, which does not exist (a block of %d threads)",
                        lane, u->pub.warp, a, src, h->n);
      if (w->exited & sbit)
        emu_thread_fail(u, "(lane %d of warp %u) at %s reads lane %d, which has exited", lane, u->pub.warp, a, src);
      emu_thread_fail(u, "(lane %d of warp %u) at %s reads lane %d, which is not in its mask 0x%08x", lane,
                      u->pub.warp, a, src, u->mask);
    }
    }
  }

  w->waiting &= ~group;
  for (unsigned g = group; g; g &= g - 1) {
    EmuThread *u = &lanes[lowest(g)];
    if (u == last) continue;
    u->state = T_RUNNABLE;
    h->nwarp--;
    h->nrunnable++;
  }
}

uint64_t tcemu_warp_op(int op, int type, unsigned mask, uint64_t value, int arg) {
  EmuHost *h = emu_host;
  EmuThread *t = (EmuThread *)tcemu_current;
  EmuWarp *w = &h->warps[t->pub.warp];
  unsigned bit = 1u << t->pub.lane;
  t->op = op;
  t->type = type;
  t->mask = mask;
  t->value = value;
  t->arg = arg;
  char what[48];
  if (!(mask & bit)) {
    describe(t, what, sizeof what);
    emu_thread_fail(t, "(lane %u of warp %u) called %s with mask 0x%08x, which does not name its own lane", t->pub.lane,
                    t->pub.warp, what, mask);
  }
  unsigned group = mask & w->exists;
  if (group & w->exited) {
    EmuThread *x = h->threads + t->pub.warp * WARP + lowest(group & w->exited);
    char who[64];
    emu_thread_name(x, who, sizeof who);
    describe(t, what, sizeof what);
    emu_thread_fail(t, "(lane %u of warp %u) called %s with mask 0x%08x, but lane %u of its warp (%s) has exited",
                    t->pub.lane, t->pub.warp, what, mask, x->pub.lane, who);
  }
  w->waiting |= bit;
  if (group & ~w->waiting) {
    t->state = T_WARP;
    h->nwarp++;
    h->nrunnable--;
    emu_fiber_yield();
  } else {
    release(h, w, t, group);
  }
  return t->result;
}

void emu_warp_exit(EmuThread *t) {
  EmuHost *h = emu_host;
  EmuWarp *w = &h->warps[t->pub.warp];
  unsigned bit = 1u << t->pub.lane;
  w->exited |= bit;
  EmuThread *lanes = h->threads + t->pub.warp * WARP;
  for (unsigned g = w->waiting; g; g &= g - 1) {
    EmuThread *u = &lanes[lowest(g)];
    if (u->mask & bit) {
      char what[48], who[64];
      describe(u, what, sizeof what);
      emu_thread_name(t, who, sizeof who);
      emu_thread_fail(u, "(lane %u of warp %u) waits at %s with mask 0x%08x, but lane %u of its warp (%s) has exited",
                      u->pub.lane, u->pub.warp, what, u->mask, t->pub.lane, who);
    }
  }
}
