# The BLAS that the runtime's float products call (runtime/blas.c,
# docs/performance.md "BLAS"), chosen at build time by -DTENSORC_BLAS=:
#   scipy-openblas  (default) OpenBLAS from PyPI's scipy-openblas32 wheel:
#                   a recent OpenBLAS that recognises current CPUs, 32-bit
#                   ints, every symbol prefixed scipy_.  Fetched at
#                   configure time by pip into the build tree; its
#                   libscipy_openblas.so is put beside the runtime (lib/) and
#                   installed with it, found there through rpaths.
#   openblas        the system's libopenblas (Debian: libopenblas-dev).
#                   Debian 12's 0.3.21 runs its Prescott (SSE3) kernels on
#                   Sapphire Rapids-class CPUs: several times slower there.
#   blis            the system's BLIS (Debian: libblis-dev), its CBLAS layer.
# Sets, for the runtime and for whatever links it:
#   TENSORC_BLAS_DEFINE     the runtime's compile definitions (TC_BLAS_..., TC_BLAS_SONAME)
#   TENSORC_BLAS_INCLUDE    the directory of the library's cblas.h
#   TENSORC_BLAS_LIBRARY    the library file the build tree links
#   TENSORC_BLAS_LIBNAME    its -l name (scipy_openblas, openblas, blis)
#   TENSORC_BLAS_BESIDE_RT  ON when the library lives in the runtime's lib/
#                           (a program then needs -L and an rpath to it)
#   TENSORC_BLAS_LDFLAGS    what a program linking this build tree's
#                           lib/libtensorc_rt.a adds after it (the tests,
#                           bench/ and scripts/gpu-check.sh read it, the
#                           latter two from lib/tensorc_rt.ldflags; bench/
#                           also lib/tensorc_rt.cflags, to call the BLAS)
set(TENSORC_BLAS "scipy-openblas" CACHE STRING "BLAS for the runtime: scipy-openblas, openblas or blis")
set_property(CACHE TENSORC_BLAS PROPERTY STRINGS scipy-openblas openblas blis)
set(TENSORC_SCIPY_OPENBLAS_VERSION "0.3.34.481.3" CACHE STRING "The scipy-openblas32 wheel used by TENSORC_BLAS=scipy-openblas")
set(TENSORC_BLAS_BESIDE_RT OFF)
set(rt_lib_dir ${CMAKE_BINARY_DIR}/lib)

if(TENSORC_BLAS STREQUAL "scipy-openblas")
  # pip download into the build tree, once per version; the wheel is a zip.
  set(deps ${CMAKE_BINARY_DIR}/_deps/scipy-openblas32-${TENSORC_SCIPY_OPENBLAS_VERSION})
  if(NOT EXISTS ${deps}/scipy_openblas32/lib/libscipy_openblas.so)
    if(NOT TENSORC_PYTHON)
      find_package(Python3 REQUIRED COMPONENTS Interpreter)
      set(pip_python ${Python3_EXECUTABLE})
    else()
      set(pip_python ${TENSORC_PYTHON})
    endif()
    message(STATUS "BLAS: fetching scipy-openblas32 ${TENSORC_SCIPY_OPENBLAS_VERSION} with ${pip_python} -m pip")
    file(REMOVE_RECURSE ${deps})
    execute_process(COMMAND ${pip_python} -m pip download --quiet --no-deps --only-binary=:all:
                            scipy-openblas32==${TENSORC_SCIPY_OPENBLAS_VERSION} -d ${deps}/wheel
                    RESULT_VARIABLE pip_status OUTPUT_VARIABLE pip_out ERROR_VARIABLE pip_out)
    file(GLOB wheel ${deps}/wheel/scipy_openblas32-*.whl)
    if(NOT pip_status EQUAL 0 OR NOT wheel)
      message(FATAL_ERROR "BLAS: could not fetch the scipy-openblas32 ${TENSORC_SCIPY_OPENBLAS_VERSION} wheel from "
              "PyPI with '${pip_python} -m pip download' (status ${pip_status}):\n${pip_out}\n"
              "Configure with -DTENSORC_BLAS=openblas (or blis) to use the system's library instead.")
    endif()
    file(ARCHIVE_EXTRACT INPUT ${wheel} DESTINATION ${deps} PATTERNS scipy_openblas32/lib/libscipy_openblas.so
         scipy_openblas32/include/*.h)
  endif()
  set(TENSORC_BLAS_DEFINE TC_BLAS_SCIPY_OPENBLAS=1)
  set(TENSORC_BLAS_INCLUDE ${deps}/scipy_openblas32/include)
  set(TENSORC_BLAS_LIBNAME scipy_openblas)
  set(TENSORC_BLAS_BESIDE_RT ON)
  # beside the runtime, where programs (and the installed copy) find it
  file(COPY ${deps}/scipy_openblas32/lib/libscipy_openblas.so DESTINATION ${rt_lib_dir})
  set(TENSORC_BLAS_LIBRARY ${rt_lib_dir}/libscipy_openblas.so)
elseif(TENSORC_BLAS STREQUAL "openblas")
  find_library(TENSORC_BLAS_LIBRARY NAMES openblas REQUIRED)
  find_path(TENSORC_BLAS_INCLUDE cblas.h PATH_SUFFIXES x86_64-linux-gnu openblas REQUIRED)
  set(TENSORC_BLAS_DEFINE TC_BLAS_OPENBLAS=1)
  set(TENSORC_BLAS_LIBNAME openblas)
elseif(TENSORC_BLAS STREQUAL "blis")
  find_library(TENSORC_BLAS_LIBRARY NAMES blis REQUIRED)
  find_path(TENSORC_BLAS_INCLUDE blis.h PATH_SUFFIXES x86_64-linux-gnu/blis-openmp x86_64-linux-gnu/blis-pthread
            blis REQUIRED)
  set(TENSORC_BLAS_DEFINE TC_BLAS_BLIS=1)
  set(TENSORC_BLAS_LIBNAME blis)
else()
  message(FATAL_ERROR "TENSORC_BLAS is '${TENSORC_BLAS}': expected scipy-openblas, openblas or blis")
endif()

# The runtime opens the library with dlopen on the first float product
# (runtime/blas_lib.c), by its soname: what the dynamic linker finds through
# a program's rpath or its cache.  Programs still name it on their link line
# (below): the linker checks it is there and keeps the rpath, and, with
# --as-needed (Debian's default), leaves it out of the program's needed list.
execute_process(COMMAND objdump -p ${TENSORC_BLAS_LIBRARY} OUTPUT_VARIABLE blas_dynamic ERROR_QUIET)
if(blas_dynamic MATCHES "SONAME +([^ \n]+)")
  set(TENSORC_BLAS_SONAME ${CMAKE_MATCH_1})
else()
  get_filename_component(TENSORC_BLAS_SONAME ${TENSORC_BLAS_LIBRARY} NAME)
endif()
list(APPEND TENSORC_BLAS_DEFINE TC_BLAS_SONAME="${TENSORC_BLAS_SONAME}")
# for whoever must carry the library along (scripts/gpu-check.sh): no
# program lists it among its needed libraries, so ldd does not show it
file(WRITE ${rt_lib_dir}/tensorc_rt.blas "${TENSORC_BLAS_SONAME} ${TENSORC_BLAS_LIBRARY}\n")

if(TENSORC_BLAS_BESIDE_RT)
  set(TENSORC_BLAS_LDFLAGS "-L${rt_lib_dir} -Wl,-rpath,${rt_lib_dir} -l${TENSORC_BLAS_LIBNAME}")
else()
  set(TENSORC_BLAS_LDFLAGS "-l${TENSORC_BLAS_LIBNAME}")
endif()
file(WRITE ${rt_lib_dir}/tensorc_rt.ldflags "${TENSORC_BLAS_LDFLAGS} -lm -ldl\n")
# bench/c/blas_direct.h calls the library itself: its define and headers
list(GET TENSORC_BLAS_DEFINE 0 blas_choice)
file(WRITE ${rt_lib_dir}/tensorc_rt.cflags "-D${blas_choice} -I${TENSORC_BLAS_INCLUDE}\n")
message(STATUS "BLAS: ${TENSORC_BLAS} (${TENSORC_BLAS_LIBRARY}, opened as ${TENSORC_BLAS_SONAME})")
