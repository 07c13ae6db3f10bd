/* tests/runtime/print_test.c - tcrt_format against NumPy's str().
 *
 *   print_test                 a few fixed cases (NumPy's text written in)
 *   print_test CASES OUT       formats every array in CASES into OUT
 *   print_test --print         print(...) lines through tcrt_print_*
 *
 * CASES is what print.test.py writes, so that this test does not depend on
 * the .npy reader: for each array a text line "DTYPE RANK D0 D1 ...\n"
 * (DTYPE numbered as tc_dtype) then its raw little-endian C-order bytes.
 * OUT gets, for each array, "LEN\n" then the LEN bytes of tcrt_format's
 * text, then "\n"; the script compares them with str(arr).
 */
#include "tensorc/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fixed_cases(void) {
  static const float f32[] = {2.5f, 0.1f, 0.2f, 1e-4f};
  static const double f64[] = {1., 2.5, 3., 1e-5, 1e5, -0.0, 1e16, 1e15, -0.0, 1.0};
  static const uint8_t b[] = {1, 0, 0, 1};
  static const int64_t i64[] = {-7, 1099511627776};
  double nan_inf[3] = {NAN, INFINITY, -INFINITY};
  double counting[24];
  for (int i = 0; i < 24; i++)
    counting[i] = i;
  struct {
    tc_array a;
    const char *want;
  } cases[] = {
      {{(void *)&f32[0], TC_F32, 0, {0}}, "2.5"},
      {{(void *)&f32[1], TC_F32, 0, {0}}, "0.1"},
      {{(void *)&f32[3], TC_F32, 0, {0}}, "1e-04"},
      {{(void *)&b[0], TC_BOOL, 0, {0}}, "True"},
      {{(void *)&i64[0], TC_I64, 0, {0}}, "-7"},
      {{(void *)&f64[6], TC_F64, 0, {0}}, "1e+16"},
      {{(void *)&f64[7], TC_F64, 0, {0}}, "1000000000000000.0"},
      {{(void *)&f64[5], TC_F64, 0, {0}}, "-0.0"},
      {{(void *)&f64[0], TC_F64, 1, {3}}, "[1.  2.5 3. ]"},
      {{(void *)&f64[3], TC_F64, 1, {2}}, "[1.e-05 1.e+05]"},
      {{nan_inf, TC_F64, 1, {3}}, "[ nan  inf -inf]"},
      {{(void *)&f64[8], TC_F64, 1, {2}}, "[-0.  1.]"},
      {{(void *)&f32[1], TC_F32, 1, {2}}, "[0.1 0.2]"},
      {{(void *)b, TC_BOOL, 2, {2, 2}}, "[[ True False]\n [False  True]]"},
      {{counting, TC_F64, 3, {2, 3, 4}},
       "[[[ 0.  1.  2.  3.]\n  [ 4.  5.  6.  7.]\n  [ 8.  9. 10. 11.]]\n\n"
       " [[12. 13. 14. 15.]\n  [16. 17. 18. 19.]\n  [20. 21. 22. 23.]]]"},
      {{counting, TC_F64, 2, {2, 0}}, "[]"},
  };
  int failed = 0, n = (int)(sizeof cases / sizeof cases[0]);
  for (int i = 0; i < n; i++) {
    char *s = tcrt_format(&cases[i].a);
    if (!s || strcmp(s, cases[i].want) != 0) {
      printf("case %d: got\n%s\nwant\n%s\n", i, s ? s : "(null)", cases[i].want);
      failed++;
    }
    free(s);
  }
  printf("fixed: %d/%d identical\n", n - failed, n);
  return failed != 0;
}

/* print(...) through the runtime, for print.test to check with FileCheck. */
static int print_lines(void) {
  int64_t epoch = 3;
  float loss = 0.1f, row[3] = {1.f, 2.5f, 3.f};
  tc_array e = {&epoch, TC_I64, 0, {0}}, l = {&loss, TC_F32, 0, {0}}, r = {row, TC_F32, 1, {3}};
  tcrt_print_str("epoch", 0);
  tcrt_print_array(&e, 1);
  tcrt_print_str("loss", 1);
  tcrt_print_array(&l, 1);
  tcrt_print_end();
  tcrt_print_array(&r, 0);
  tcrt_print_str("done", 1);
  tcrt_print_end();
  tcrt_print_end();
  tcrt_print_str("", 0);
  tcrt_print_str("", 1);
  tcrt_print_end();
  return 0;
}

static int format_file(const char *in_path, const char *out_path) {
  FILE *in = fopen(in_path, "rb"), *out = fopen(out_path, "wb");
  if (!in || !out) {
    fprintf(stderr, "print_test: cannot open %s or %s\n", in_path, out_path);
    return 1;
  }
  char line[256];
  int count = 0;
  while (fgets(line, sizeof line, in)) {
    tc_array a = {0};
    int dt, off = 0, used;
    if (sscanf(line, "%d %d%n", &dt, &a.rank, &used) != 2 || a.rank < 0 || a.rank > TC_MAX_RANK) {
      fprintf(stderr, "print_test: bad header: %s", line);
      return 1;
    }
    off = used;
    a.dtype = (tc_dtype)dt;
    for (int i = 0; i < a.rank; i++) {
      long long d;
      if (sscanf(line + off, "%lld%n", &d, &used) != 1) {
        fprintf(stderr, "print_test: bad header: %s", line);
        return 1;
      }
      a.shape[i] = d;
      off += used;
    }
    size_t bytes = (size_t)tcrt_numel(&a) * tcrt_dtype_size(a.dtype);
    a.data = malloc(bytes ? bytes : 1);
    if (!a.data || fread(a.data, 1, bytes, in) != bytes) {
      fprintf(stderr, "print_test: truncated case %d\n", count);
      return 1;
    }
    char *s = tcrt_format(&a);
    if (!s) {
      fprintf(stderr, "print_test: tcrt_format returned NULL\n");
      return 1;
    }
    fprintf(out, "%zu\n%s\n", strlen(s), s);
    free(s);
    free(a.data);
    count++;
  }
  fclose(in);
  fclose(out);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--print") == 0)
    return print_lines();
  if (argc == 3)
    return format_file(argv[1], argv[2]);
  return fixed_cases();
}
