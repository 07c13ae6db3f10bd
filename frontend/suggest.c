/* frontend/suggest.c - "did you mean 'y1'?" for a misspelt name.
 *
 * The caller offers every name that would have been valid where the
 * unknown one stands; the closest by edit distance (insertions, deletions,
 * substitutions, and swaps of neighbours) is suggested when it is close
 * enough to be a typo: fewer edits than a third of its length, rounded up,
 * and not a replacement of the whole name ('x' for 'y' is no hint).
 */
#include "resolve.h"

#include <string.h>

enum { MAX_LEN = 64 };

/* Optimal string alignment distance; names longer than MAX_LEN never match. */
static int distance(const char *a, const char *b) {
  int n = (int)strlen(a), m = (int)strlen(b);
  if (n > MAX_LEN || m > MAX_LEN)
    return MAX_LEN + 1;
  int d[MAX_LEN + 1][MAX_LEN + 1];
  for (int i = 0; i <= n; i++)
    d[i][0] = i;
  for (int j = 0; j <= m; j++)
    d[0][j] = j;
  for (int i = 1; i <= n; i++)
    for (int j = 1; j <= m; j++) {
      int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best)
        best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[n][m];
}

static int common_prefix(const char *a, const char *b) {
  int k = 0;
  while (a[k] && a[k] == b[k])
    k++;
  return k;
}

void rs_suggest_init(Suggest *s, const char *name) { *s = (Suggest){.name = name}; }

void rs_suggest_add(Suggest *s, const char *candidate) {
  if (!candidate || candidate[0] == '$' || strcmp(candidate, s->name) == 0)
    return;
  int len = (int)strlen(candidate), d = distance(s->name, candidate);
  int longer = len > (int)strlen(s->name) ? len : (int)strlen(s->name);
  if (d > (longer + 2) / 3 || d >= longer)
    return;
  int prefix = common_prefix(s->name, candidate);
  if (s->best && (d > s->dist || (d == s->dist && prefix <= s->prefix)))
    return; /* ties: the longer common prefix, then the first offered */
  s->best = candidate;
  s->dist = d;
  s->prefix = prefix;
}

const char *rs_suggest_text(const Suggest *s) {
  return s->best ? ir_sprintf("; did you mean '%s'?", s->best) : "";
}
