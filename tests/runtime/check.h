/* tests/runtime/check.h - the CHECK macro the runtime's C tests share:
 * counts checks, prints each failure with its line and a printf message. */
#ifndef TENSORC_TEST_CHECK_H
#define TENSORC_TEST_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...)                                                                                       \
  do {                                                                                                         \
    checks++;                                                                                                  \
    if (!(cond)) {                                                                                             \
      failures++;                                                                                              \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                             \
      printf(__VA_ARGS__);                                                                                     \
      printf("\n");                                                                                            \
    }                                                                                                          \
  } while (0)

#endif
