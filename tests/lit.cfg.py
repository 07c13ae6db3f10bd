# lit configuration: tests mirror the source tree (frontend/, passes/, ...).
import os
import shutil
import subprocess
import lit.formats

config.name = "tensorc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".tc", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]

config.environment["PATH"] = os.pathsep.join(
    [config.tensorc_bin_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
config.environment.pop("TENSORC_DEBUG", None)

config.substitutions.append(("%python", config.python))
config.substitutions.append(("%stdlib", os.path.join(os.path.dirname(config.test_source_root), "lib")))
config.substitutions.append(("%examples", os.path.join(os.path.dirname(config.test_source_root), "examples")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
# tests/install: %builddir is this build; %cmake_configure configures a
# project with this build's generator and C compiler; %cmake is cmake.
if hasattr(config, "tensorc_build_dir"):  # a lit.site.cfg.py from before tests/install
    config.substitutions.append(("%builddir", config.tensorc_build_dir))
    config.substitutions.append(("%cmake_configure", '"%s" -G "%s" -DCMAKE_MAKE_PROGRAM="%s" -DCMAKE_C_COMPILER="%s"'
                                 % (config.cmake, config.cmake_generator, config.make_program, config.cc)))
    config.substitutions.append(("%cmake", '"%s"' % config.cmake))
    config.substitutions.append(("%cc", '"%s"' % config.cc))
if shutil.which("pkg-config", path=config.environment["PATH"]):
    config.available_features.add("pkg-config")
if shutil.which("gdb", path=config.environment["PATH"]):
    config.available_features.add("gdb")  # driver/debug_gdb.test

if config.sanitize:
    config.available_features.add("sanitize")
# blas-scipy-openblas, blas-openblas or blas-blis: the runtime's BLAS
config.available_features.add("blas-" + getattr(config, "blas", "openblas"))

# tests/capi: compile and link a C program against this build's runtime
# (static; a sanitized build's runtime needs the sanitizers at link time).
if hasattr(config, "tensorc_build_dir"):
    src = os.path.dirname(config.test_source_root)
    san = "-fsanitize=address,undefined" if config.sanitize else ""
    blas = getattr(config, "blas_ldflags", "-lopenblas")  # the BLAS's flags (cmake/blas.cmake)
    config.substitutions.append(("%rt_link", "-I%s/runtime/include %s/lib/libtensorc_rt.a %s -lm -lpthread -ldl %s"
                                 % (src, config.tensorc_build_dir, blas, san)))
    config.substitutions.append(("%rt_sanflags", san))

# tests/robustness/fuzz.test: fewer programs (another seed) under the
# sanitizers; 3,000 cost 75 s of CI's 20 minutes in the normal build
config.substitutions.append(("%fuzz_args", "--count 1000 --seed 20261127" if config.sanitize else "--count 3000"))

# tests/codegen/cuda: `nvrtc` when this tensorc was built with NVRTC, `ptxas`
# when the toolkit's ptxas runs (%ptxas), `cuda-device` only when a GPU is
# there to run kernels on (nvidia-smi lists one).  %ptx_report is
# scripts/ptxas-report.py.
def runs(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None

if getattr(config, "have_nvrtc", False):
    config.available_features.add("nvrtc")
ptxas = getattr(config, "ptxas", "")
ptxas_version = runs([ptxas, "--version"]) if ptxas else None
if ptxas_version and ptxas_version.returncode == 0:
    config.available_features.add("ptxas")
smi = shutil.which("nvidia-smi")
gpus = runs([smi, "-L"]) if smi else None
if gpus and gpus.returncode == 0 and any(l.startswith("GPU ") for l in gpus.stdout.splitlines()):
    config.available_features.add("cuda-device")
config.substitutions.append(("%ptx_report", "%s %s" % (config.python, os.path.join(
    os.path.dirname(config.test_source_root), "scripts", "ptxas-report.py"))))
config.substitutions.append(("%ptxas", ptxas or "ptxas"))
# tests/e2e/gpu: the e2e groups on the emulated GPU; in the normal build
# (the sanitizers only slow NVRTC and ptxas down) every third program's PTX
# is also compiled and assembled by ptxas for three archs (every program's
# costs CI about 90 s more; the compile itself has NVRTC assemble each one
# for sm_80, the default arch).
gpu_flags = "--gpu-emulate"
if "ptxas" in config.available_features and not config.sanitize:
    gpu_flags += " --ptxas-archs sm_75,sm_80,sm_90 --ptxas-every 3 --ptxas %s" % ptxas
config.substitutions.append(("%gpu_e2e_flags", gpu_flags))

# tests/fuzz/smoke.test, smoke_gpu.test: fewer differential programs under
# the sanitizers (each compile costs several times more there)
config.substitutions.append(("%difftest_args", "--quick --seeds 1:31 --no-reduce" if config.sanitize else "--quick --seeds 1:121"))
config.substitutions.append(("%difftest_gpu_args", "--seeds 1:7 --no-reduce" if config.sanitize else "--seeds 1:21"))

# tests/fuzz/libfuzzer: %fuzzbin holds the fuzz targets (replay drivers, or
# libFuzzer binaries in a -DTENSORC_LIBFUZZER=ON build: feature `libfuzzer`);
# %libfuzzer_smoke bounds smoke.test's run of each: 7 s, one process (no
# -jobs: libFuzzer's workers write fuzz-N.log into the working directory).
if hasattr(config, "tensorc_build_dir"):
    config.substitutions.append(("%fuzzbin", os.path.join(config.tensorc_build_dir, "fuzz")))
if getattr(config, "libfuzzer", False):
    config.available_features.add("libfuzzer")
config.substitutions.append(("%libfuzzer_smoke", "-max_total_time=7 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1"))
# tests/dist: `mpi` when this build has the MPI runtime (--dist=mpi) and its
# mpirun starts two processes here.  %mpirun is the one place that says how:
# as root Open MPI needs --allow-run-as-root; --oversubscribe lets 4 ranks
# share 2 cores; shared memory (vader) without the single-copy mechanism,
# which needs ptrace rights that containers often lack; --timeout ends a
# hung job.  Under the sanitizers Open MPI's own allocations (never freed
# before exit) would fail LeakSanitizer, so the ranks run with
# detect_leaks=0 there; everything else of ASan and UBSan stays on.
mpirun = ""
if getattr(config, "have_mpi", False) and config.mpirun:
    mpirun = ("%s --allow-run-as-root --oversubscribe --mca btl self,vader "
              "--mca btl_vader_single_copy_mechanism none --timeout 60" % config.mpirun)
    if config.sanitize:
        mpirun = "env ASAN_OPTIONS=detect_leaks=0 " + mpirun
    probe = runs(mpirun.split() + ["-np", "2", "true"])
    if probe and probe.returncode == 0:
        config.available_features.add("mpi")
config.substitutions.append(("%mpirun", mpirun or "mpirun"))
