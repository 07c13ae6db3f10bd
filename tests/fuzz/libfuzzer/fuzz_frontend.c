/* tests/fuzz/libfuzzer/fuzz_frontend.c - the compiler on source text: lex,
 * parse, resolve (imports of lib/, consts, inlining, unrolling), then the
 * pipeline of passes/pipeline.c up to code generation (shape, autodiff,
 * simplify, fusion, lower, the kernel-IR passes), with the IR verifier
 * after each pass as in a debug tensorc.  An error report is a normal
 * outcome; a crash, a sanitizer report or an internal error (ir_die exits
 * 3, which libFuzzer reports as a crash) is a bug.
 *
 * Between inputs every table that points into the compiler's arena is
 * emptied (fe_load_reset, ir_arena_reset), so each input compiles as in a
 * fresh process. */
#include "fuzz_util.h"

#include "frontend/frontend.h"
#include "ir/kernel.h"
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fz_quiet_stderr();
  return 0;
}

/* The passes after resolve, as driver/main.c runs them for the CPU; stops
 * at the first that reports an error. */
static void run_pipeline(IrModule *m) {
  KModule *km = NULL;
  for (int i = 0; i < pass_pipeline_len; i++) {
    const PassInfo *p = &pass_pipeline[i];
    bool ok = true;
    if (p->level == PASS_GRAPH && p->run)
      ok = p->run(m) && ir_verify_module(m, true);
    else if (p->level == PASS_LOWER)
      ok = (km = pass_lower(m, ir_target_cpu())) != NULL && k_verify_module(km);
    else if (p->level == PASS_KERNEL)
      ok = p->krun(km) && k_verify_module(km);
    if (!ok)
      return;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the source text NUL-terminated, as fe_read_file gives it, in a buffer
   * of exactly that size */
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';
  fe_add_import_dir(TENSORC_STDLIB_DIR);
  AstNode *ast = fe_parse("fuzz.tc", text, size);
  IrModule *m = ast ? fe_resolve(ast, "fuzz") : NULL;
  if (m && ir_verify_module(m, false))
    run_pipeline(m);
  fe_load_reset();
  ir_arena_reset();
  free(text);
  return 0;
}
