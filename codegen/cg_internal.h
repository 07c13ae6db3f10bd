/* codegen/cg_internal.h - what the LLVM code generator's files share.
 *
 * cpu_host.c builds functions, statements and calls (the host code, for
 * every target); cpu_kernel.c a kernel's loop nest for the CPU,
 * cpu_parallel.c the loops that run on the thread pool; cpu_expr.c
 * scalar expressions (the kernel IR's KExpr trees); cpu_desc.c and
 * cpu_api.c the program descriptor and the C interface; emit.c owns the
 * target machine, optimises and writes files.  The
 * state of the function being built lives in one Cg, passed to everything.
 * Not part of codegen.h: nothing outside codegen/ uses these.
 */
#ifndef TENSORC_CG_INTERNAL_H
#define TENSORC_CG_INTERNAL_H

#include "codegen.h"
#include "iface.h"
#include "../ir/target.h"

#include <llvm-c/Core.h>
#include <llvm-c/Target.h>

typedef struct Cg {
  LLVMContextRef c;
  LLVMModuleRef mod;
  LLVMTargetDataRef td;
  LLVMBuilderRef b;  /* the code */
  LLVMBuilderRef ab; /* allocas: the end of the function's first block */
  /* types */
  LLVMTypeRef t_void, t_i1, t_i8, t_i32, t_i64, t_f32, t_f64;
  LLVMTypeRef t_ptr;   /* i8*: buffers and strings */
  LLVMTypeRef t_array; /* tc_array */
  LLVMTypeRef t_ctxp;  /* tc_ctx* (opaque) */
  LLVMTypeRef t_fn;    /* i32 (tc_ctx*, const tc_array*, tc_array*) */
  LLVMValueRef fmt_s;  /* the module's "%s", made on first use */
  KModule *km; /* the module being built (its target's numbers) */
  const struct CgGpu *gpu; /* CUDA targets: the GPU code (cuda_host.c); NULL for the CPU */
  LLVMValueRef gpu_image;  /* its tc_gpu_image global, made on first use */
  /* the function being built */
  KFunc *f;
  LLVMValueRef fn, ctx, args, results;
  LLVMValueRef *bufs; /* per buffer: an alloca holding its i8* */
  LLVMValueRef *vars; /* per loop variable: an i64 alloca */
  LLVMValueRef *syms; /* per symbol id (sparse, made on first use): an i64 alloca */
  int nsyms;
  LLVMValueRef arr_tmp; /* a tc_array on the stack, for print and save */
  LLVMValueRef errbuf;  /* char[256] on the stack, for tcrt_save's message */
  /* while building a kernel's `finalize`: the reduction's results */
  LLVMValueRef acc, acc_index;
  LLVMValueRef *lets; /* per let-variable: its value while its KX_LET's body is built */
  DType acc_dtype;
  /* parallel loops (cpu_parallel.c): while building an outlined loop body
   * (no parallel loop nests inside one), its values from the caller, and
   * how many bodies the module has (for their names) */
  bool in_body;
  LLVMValueRef par_extra[2];
  int nbodies;
  struct CgBodies *bodies; /* the module's bodies by canonical form (cpu_dedup.c) */
  /* -g (cpu_debug.c): the DIBuilder's state, NULL without -g; the
   * subprogram of the function being built */
  struct CgDebug *dbg;
  LLVMMetadataRef dbg_scope;
} Cg;

/* --device=auto: the program lowered for the CPU, compiled into the same
 * module as the GPU code; its descriptor is the GPU one's `cpu`. */
typedef struct CgTwin {
  KModule *m;
  const IfModule *lib; /* its C interface (NULL for an executable) */
} CgTwin;

/* cpu_host.c: the whole module: with `lib` the C interface (a shared
 * library's when `shared`), else an executable's main if there is one.
 * Returns NULL after reporting a user error with ir_error (a param whose
 * shape is not constant). */
LLVMModuleRef cg_cpu_module(LLVMContextRef c, KModule *m, LLVMTargetDataRef td, const char *triple,
                            const IfModule *lib, bool shared, const struct CgGpu *gpu, const CgTwin *twin,
                            const char *debug_source /* -g: the .tc file, else NULL */);

/* cpu_host.c: helpers of the host code, also used by the kernels. */
LLVMBasicBlockRef cg_block(Cg *g, const char *name);     /* a new block of the function */
LLVMValueRef cg_buf_ptr(Cg *g, int buf);                 /* buffer buf's data pointer, loaded */
LLVMValueRef cg_slot(Cg *g, LLVMTypeRef t, const char *name); /* a stack slot in the first block */
void cg_add_attr(Cg *g, LLVMValueRef fn, const char *name);
void cg_return_if_nonzero(Cg *g, LLVMValueRef status);
void cg_return_if_null(Cg *g, LLVMValueRef p); /* returns tcrt_status(ctx) */
LLVMValueRef cg_expr_i64(Cg *g, KExpr *e);
void cg_emit_stmt(Cg *g, KStmt *s);
void cg_emit_list(Cg *g, KList *l);

/* cpu_debug.c: -g.  begin makes the compile unit for `source`; func gives
 * fn a subprogram at loc and makes it the scope of the builders'
 * locations; loc sets the location of what is built next (a statement's);
 * name is `name` with -g, else "" (value names in --emit=llvm); finish
 * locates every instruction in its own function's subprogram and
 * finalises.  Without -g (g->dbg NULL) all of them do nothing. */
typedef struct CgDebug CgDebug;
void cg_debug_begin(Cg *g, const char *source);
void cg_debug_func(Cg *g, LLVMValueRef fn, Loc loc);
void cg_debug_loc(Cg *g, Loc loc);
const char *cg_debug_name(Cg *g, const char *name);
void cg_debug_finish(Cg *g);

/* cpu_kernel.c: loops and kernels. */
typedef struct CgLoop {
  LLVMBasicBlockRef head, exit;
  LLVMValueRef slot, step; /* step NULL: +1, and the test is var < stop */
} CgLoop;
/* for var = start; var < stop (or > stop for a negative step); var += step */
void cg_loop_begin(Cg *g, CgLoop *l, LLVMValueRef var, LLVMValueRef start, LLVMValueRef stop, LLVMValueRef step);
void cg_loop_end(Cg *g, CgLoop *l);
void cg_emit_kernel(Cg *g, KStmt *s);
void cg_emit_scratch(Cg *g, KStmt *s); /* a row kernel's scratch row (KS_SCRATCH) */

/* cpu_parallel.c: outlined bodies, on the thread pool (parallel) or
 * called once (a serial kernel).  range(g, s, begin, end) builds
 * iterations [begin, end) of s inside the body. */
typedef void (*RangeFn)(Cg *g, KStmt *s, LLVMValueRef begin, LLVMValueRef end);
void cg_emit_parallel(Cg *g, KStmt *s, LLVMValueRef trips, LLVMValueRef work, RangeFn range, LLVMValueRef *extra,
                      int nextra);
void cg_emit_serial(Cg *g, KStmt *s, LLVMValueRef trips, RangeFn range); /* body(env, 0, trips) */

/* cpu_dedup.c: a statement's canonical form (the key of its body), and
 * what its env holds, in order: buffers, symbols, the loop variables it
 * reads but does not define (numbers of the function being built). */
typedef struct CgInts {
  int *v;
  int n, cap;
} CgInts;
typedef struct CgCanon {
  const char *key;
  CgInts bufs, syms, vars;
} CgCanon;
CgCanon cg_canon(Cg *g, KStmt *s, const char *kind, int nextra);
LLVMValueRef cg_body_find(Cg *g, const char *key); /* NULL: not built yet */
void cg_body_add(Cg *g, const char *key, LLVMValueRef fn);
void cg_emit_parallel_for(Cg *g, KStmt *s, LLVMValueRef start, LLVMValueRef stop, LLVMValueRef step);
LLVMValueRef cg_list_work(Cg *g, KList *l); /* the points of a list's kernels */

/* cpu_profile.c: --profile's calls around a kernel statement or a matmul
 * (cg_prof_wanted), on both targets. */
typedef struct CgProf {
  LLVMValueRef on;    /* i1: tcrt_profiling was set before the statement */
  LLVMValueRef site;  /* its tc_prof_site */
  LLVMValueRef start; /* a double slot: what tcrt_prof_begin returned */
} CgProf;
bool cg_prof_wanted(Cg *g, KStmt *s);
CgProf cg_prof_begin(Cg *g, KStmt *s);
void cg_prof_end(Cg *g, KStmt *s, const CgProf *p);

/* cuda_host.c: the host side of GPU code (a CUDA target). */
typedef struct CgGpu {
  const struct CgCudaModule *cm; /* the kernels (cuda_kernel.c) */
  const char *arch;
  const char *ptx;               /* NUL-terminated */
  const void *cubin;
  size_t cubin_len;
  const char *emu_table;         /* --gpu-emulate: the emulated kernels' table symbol; else NULL */
  int flags;                     /* tc_gpu_image.flags (TC_GPU_*) */
} CgGpu;
/* Launches the kernels of a device statement (a kernel or a row kernel). */
void cg_emit_launch(Cg *g, KStmt *s);

/* emit.c: runs argv[0] with argv (no shell: paths may hold anything) and
 * waits; false after an ir_error when it cannot run or fails. */
bool cg_run(char **argv);

/* cuda_build.c: NVRTC's image of the module's CUDA C, and with
 * --gpu-emulate *emu_obj, a temporary object of the emulated kernels (the
 * caller unlinks it).  False after a message (no NVRTC, a bad arch). */
bool cg_gpu_build(KModule *m, const CgOptions *o, CgGpu *gpu, char **emu_obj);

/* cpu_desc.c: the runtime's descriptor structs as LLVM types and values. */
typedef struct CgDesc {
  LLVMTypeRef dim, arg, param, prog, init_fn, func, module, gpu;
} CgDesc;
/* The module's tc_gpu_image (a null pointer for CPU code). */
LLVMValueRef cg_gpu_image_ref(Cg *g, const CgDesc *d);
CgDesc cg_desc_types(Cg *g); /* dies if a layout differs from the C headers' */
LLVMValueRef cg_cstr(Cg *g, const char *s);
/* A private constant array of n elements of type t, as a t*. */
LLVMValueRef cg_const_array(Cg *g, const char *name, LLVMTypeRef t, LLVMValueRef *v, int n);
LLVMValueRef cg_value_descs(Cg *g, const CgDesc *d, const IfValue *v, int n, const char *name);
LLVMValueRef cg_sym_names(Cg *g, const IfFunc *f);
LLVMValueRef cg_param_descs(Cg *g, const CgDesc *d, KModule *m, int *nparams); /* NULL: reported */
LLVMValueRef cg_init_entry(Cg *g, const CgDesc *d, KModule *m, LLVMValueRef initfn, const char *name);
/* tc_program for m (private; `cpu` its CPU twin's or NULL), then a C
 * main() calling tcrt_exe_main on it. */
LLVMValueRef cg_program_desc(Cg *g, const CgDesc *d, KModule *m, KFunc *mainf, LLVMValueRef mainfn, LLVMValueRef init,
                             LLVMValueRef cpu);
void cg_emit_c_main(Cg *g, LLVMValueRef prog);

/* cpu_api.c: the C interface. */
/* tc_module for m named `name` (NULL: private, a twin's), `cpu` its CPU
 * twin's or NULL; *funcs gets its tc_funcdesc array.  NULL after an
 * ir_error. */
LLVMValueRef cg_module_desc(Cg *g, const CgDesc *d, KModule *m, const IfModule *it, LLVMValueRef *fns,
                            LLVMValueRef init, LLVMValueRef cpu, const char *name, LLVMValueRef *funcs);
/* The functions model.h declares, around module descriptor mod. */
void cg_emit_api(Cg *g, const CgDesc *d, const IfModule *it, LLVMValueRef mod, LLVMValueRef funcs, bool shared);

/* cpu_expr.c: scalars, dims and element addresses. */
LLVMTypeRef cg_type(Cg *g, DType dt);     /* as a value: bool is i1 */
LLVMTypeRef cg_mem_type(Cg *g, DType dt); /* in memory: bool is i8 */
LLVMValueRef cg_expr(Cg *g, KExpr *e);
LLVMValueRef cg_convert(Cg *g, LLVMValueRef v, DType from, DType to); /* NumPy astype */
LLVMValueRef cg_dim(Cg *g, Dim d);
LLVMValueRef cg_numel(Cg *g, const KBuf *b);
LLVMValueRef cg_sym_slot(Cg *g, int sym); /* made on first use: 0 until set */
LLVMValueRef cg_var_slot(Cg *g, int var); /* made on first use */
/* Address of buffer `buf`'s element at idx (row-major over its dims, or
 * idx[0] flat when `linear`), typed as a pointer to its memory type. */
LLVMValueRef cg_elem_ptr(Cg *g, int buf, KExpr **idx, int nidx, bool linear);
LLVMValueRef cg_load_elem(Cg *g, LLVMValueRef ptr, DType dt);
void cg_store_elem(Cg *g, LLVMValueRef ptr, LLVMValueRef v, DType dt);
/* Scalar ops shared with reductions: MAXIMUM/MINIMUM with NaN propagation. */
LLVMValueRef cg_maxmin(Cg *g, bool max, LLVMValueRef a, LLVMValueRef b, DType dt);
/* Primitive op `op` (not WHERE) on a[] of dtype dt: scalars or vectors. */
LLVMValueRef cg_op(Cg *g, IrOp op, DType dt, LLVMValueRef *a);
/* cpu_exp.c: f32 exp of x (float or a vector of floats), inline. */
LLVMValueRef cg_expf(Cg *g, LLVMValueRef x);
/* cpu_vexpr.c: a reduction's value at `width` neighbouring points of its
 * innermost loop variable, as one vector (cpu_kernel.c, reduce_vector). */
bool cg_vec_ok(Cg *g, const KExpr *e, int var);
LLVMValueRef cg_vec_expr(Cg *g, KExpr *e, int var, LLVMValueRef base, int width, LLVMValueRef mask);
LLVMValueRef cg_vec_splat(Cg *g, LLVMValueRef v, int width); /* v itself if a vector */
/* Lanes first .. first + width - 1 that are below count (i1 each). */
LLVMValueRef cg_vec_mask(Cg *g, LLVMValueRef count, int first, int width);
/* An elementwise kernel's innermost loop, `width` points at a time: whether
 * its value and store allow it, and the store of the points from base
 * (mask: only those lanes). */
bool cg_vec_store_ok(Cg *g, const KStmt *s);
/* nt: a non-temporal store (`stream`), base's element aligned to the vector */
void cg_vec_store(Cg *g, KStmt *s, LLVMValueRef base, int width, LLVMValueRef mask, bool nt);
/* An overloaded intrinsic (llvm.exp, ...) on the type of its first operand. */
LLVMValueRef cg_intrinsic(Cg *g, const char *name, int n, LLVMValueRef *args);
/* Calls a function by name, declaring it on first use with `ret` and the
 * argument types. */
LLVMValueRef cg_call(Cg *g, const char *name, LLVMTypeRef ret, int n, LLVMValueRef *args);
LLVMValueRef cg_i64(Cg *g, int64_t v);
LLVMValueRef cg_i32(Cg *g, int v);

#endif
