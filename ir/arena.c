/* ir/arena.c - memory for the whole compilation.
 *
 * The compiler builds trees and graphs that live until it exits, so every
 * allocation comes from one arena: a list of large chunks, freed together.
 * This keeps ownership out of every other file and lets the sanitizer build
 * still see a clean exit.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

typedef struct Chunk {
  struct Chunk *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
} Chunk;

static Chunk *chunks;

void *ir_alloc(size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (!chunks || chunks->used + size > chunks->size) {
    size_t cap = size > (1 << 20) ? size : (1 << 20);
    Chunk *c = malloc(sizeof(Chunk) + cap);
    if (!c) {
      fprintf(stderr, "tensorc: out of memory\n");
      exit(3);
    }
    c->next = chunks;
    c->used = 0;
    c->size = cap;
    chunks = c;
  }
  void *p = chunks->data + chunks->used;
  chunks->used += size;
  memset(p, 0, size);
  return p;
}

char *ir_strndup(const char *s, size_t n) {
  char *p = ir_alloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *ir_strdup(const char *s) { return ir_strndup(s, strlen(s)); }

char *ir_sprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = ir_alloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

void ir_vec_push(PtrVec *vec, void *p) {
  if (vec->n == vec->cap) {
    int cap = vec->cap ? vec->cap * 2 : 8;
    void **v = ir_alloc(sizeof(void *) * (size_t)cap);
    if (vec->n)
      memcpy(v, vec->v, sizeof(void *) * (size_t)vec->n);
    vec->v = v;
    vec->cap = cap;
  }
  vec->v[vec->n++] = p;
}

void ir_arena_free_all(void) {
  while (chunks) {
    Chunk *next = chunks->next;
    free(chunks);
    chunks = next;
  }
}

void ir_arena_reset(void) {
  ir_arena_free_all();
  ir_diag_reset();
  ir_sym_reset();
}
