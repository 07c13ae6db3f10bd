# cmake --install BUILD --prefix P puts into P (docs/install.md):
#   bin/tensorc                      the compiler
#   lib/libtensorc_rt.a, .so         the runtime, static and shared (soname .so.MAJOR)
#   include/tensorc/*.h              the runtime's headers
#   share/tensorc/lib/*.tc           the standard library (import nn)
#   lib/pkgconfig/tensorc.pc         pkg-config tensorc
#   lib/cmake/tensorc/               find_package(tensorc): tensorc::tensorc_rt,
#                                    tensorc::tensorc_rt_shared, tensorc::tensorc,
#                                    tensorc_add_model()
# An installed tensorc finds its standard library and runtime relative to
# itself (../share/tensorc/lib, ../lib), so P can be anywhere.  Every
# generated file refers to P relatively, so P can also be moved.
include(CMakePackageConfigHelpers)

set(TENSORC_INSTALL_CMAKEDIR lib/cmake/tensorc)

# The compiler.  It links LLVM from outside the build: keep that directory in
# the installed executable's rpath; and ../lib for a BLAS installed there.
set_target_properties(tensorc PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
if(TENSORC_BLAS_BESIDE_RT)
  set_target_properties(tensorc PROPERTIES INSTALL_RPATH "$ORIGIN/../lib")
  # scipy-openblas's library (cmake/blas.cmake) beside the runtime
  install(FILES ${TENSORC_BLAS_LIBRARY} DESTINATION lib)
endif()
install(TARGETS tensorc EXPORT tensorcTargets RUNTIME DESTINATION bin)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/ DESTINATION share/tensorc/lib
        FILES_MATCHING PATTERN "*.tc")

# The runtime and every header of runtime/include/tensorc/.
install(TARGETS tensorc_rt tensorc_rt_shared EXPORT tensorcTargets
        ARCHIVE DESTINATION lib
        LIBRARY DESTINATION lib)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/tensorc DESTINATION include
        FILES_MATCHING PATTERN "*.h")
# The GPU emulator's CUDA built-ins, for programs compiled with
# --gpu-emulate by the installed compiler (codegen/cuda_build.c).
install(FILES ${PROJECT_SOURCE_DIR}/runtime/emu/tc_emu.h DESTINATION share/tensorc/emu)

# The headers include <dlpack/dlpack.h>: its directory goes to consumers
# unless the C compiler searches it anyway.
find_path(TENSORC_DLPACK_INCLUDE dlpack/dlpack.h)
set(TENSORC_PC_CFLAGS "")
if(TENSORC_DLPACK_INCLUDE AND NOT TENSORC_DLPACK_INCLUDE IN_LIST CMAKE_C_IMPLICIT_INCLUDE_DIRECTORIES)
  set(TENSORC_PC_CFLAGS " -I${TENSORC_DLPACK_INCLUDE}")
  foreach(t tensorc_rt tensorc_rt_shared)
    target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${TENSORC_DLPACK_INCLUDE}>)
  endforeach()
endif()

# pkg-config.  Libs has -lm because generated code calls libm itself; the
# sanitizers' flag because a sanitized runtime needs their run-time libraries
# (runtime/CMakeLists.txt gives the CMake targets the same).
set(TENSORC_PC_LIBS "")
# What a static link of the runtime adds for the BLAS (Libs.private).
if(TENSORC_BLAS_BESIDE_RT)
  set(TENSORC_PC_BLAS "-L\${libdir} -Wl,-rpath,\${libdir} -l${TENSORC_BLAS_LIBNAME}")
else()
  set(TENSORC_PC_BLAS "-l${TENSORC_BLAS_LIBNAME}")
endif()
if(TENSORC_SANITIZE)
  set(TENSORC_PC_LIBS " -fsanitize=address,undefined")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/tensorc.pc.in ${PROJECT_BINARY_DIR}/tensorc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tensorc.pc DESTINATION lib/pkgconfig)

# find_package(tensorc).
install(EXPORT tensorcTargets NAMESPACE tensorc:: DESTINATION ${TENSORC_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tensorcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tensorcConfig.cmake
  INSTALL_DESTINATION ${TENSORC_INSTALL_CMAKEDIR})
# 0.x: a new minor version may break the ABI (the soname says the same).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tensorcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tensorcConfig.cmake ${PROJECT_BINARY_DIR}/tensorcConfigVersion.cmake
        DESTINATION ${TENSORC_INSTALL_CMAKEDIR})
