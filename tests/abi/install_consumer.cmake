# Installs the build tree into a scratch prefix and uses it only through what was installed:
# the file layout, a find_package() consumer (built and run under Wine beside the installed
# DLL) and a pkg-config consumer (compiled with the .pc file's flags and run the same way).
#
#   cmake -DBUILD_DIR=<build tree> -DWORK=<scratch dir> -DCONSUMER_DIR=<tests/abi/consumer>
#         -DPROBE_DIR=<dir of abi_probe.h> -DTOOLCHAIN=<toolchain file> -DGENERATOR=<generator>
#         -DC_COMPILER=<MinGW gcc> -DVERSION=<project version> -DWINE_RUN=<wine-run>
#         -DOBJDUMP=<objdump>
#         [-DPKG_CONFIG=<pkg-config>] -P install_consumer.cmake
cmake_minimum_required(VERSION 3.21)
include(${CMAKE_CURRENT_LIST_DIR}/abi_common.cmake)
abi_require(BUILD_DIR WORK CONSUMER_DIR PROBE_DIR TOOLCHAIN GENERATOR C_COMPILER VERSION WINE_RUN OBJDUMP)

set(prefix "${WORK}/prefix")
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

# ---- install and layout ---------------------------------------------------------------------
abi_run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
set(missing "")
foreach(file
    bin/rstrtmgr.dll
    lib/librstrtmgr.dll.a
    lib/rstrtmgr.lib
    include/restartmanager.h
    lib/cmake/rstrtmgr/rstrtmgrConfig.cmake
    lib/cmake/rstrtmgr/rstrtmgrConfigVersion.cmake
    lib/pkgconfig/rstrtmgr.pc)
  if(NOT EXISTS "${prefix}/${file}")
    list(APPEND missing "${file}")
  endif()
endforeach()
if(missing)
  file(GLOB_RECURSE installed RELATIVE "${prefix}" "${prefix}/*")
  list(JOIN missing "\n  " missing)
  list(JOIN installed "\n  " installed)
  message(FATAL_ERROR "install tree lacks:\n  ${missing}\ninstalled files:\n  ${installed}")
endif()
message(STATUS "install layout OK under ${prefix}")

# ---- find_package consumer ------------------------------------------------------------------
# The project's toolchain files confine package searches to the MinGW sysroot
# (CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY), which re-roots CMAKE_PREFIX_PATH under it; a
# package outside the sysroot is then named by its config directory, as cross-compiling
# users do.
set(cmake_build "${WORK}/cmake-consumer")
abi_run("configuring the find_package consumer" "${CMAKE_COMMAND}"
  -S "${CONSUMER_DIR}" -B "${cmake_build}" -G "${GENERATOR}"
  "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}"
  "-Drstrtmgr_DIR=${prefix}/lib/cmake/rstrtmgr"
  -DCMAKE_BUILD_TYPE=Release
  "-DRM_EXPECTED_VERSION=${VERSION}"
  "-DRM_EXPECTED_PREFIX=${prefix}"
  "-DRM_ABI_PROBE_DIR=${PROBE_DIR}")
abi_run("building the find_package consumer" "${CMAKE_COMMAND}" --build "${cmake_build}")
if(NOT EXISTS "${cmake_build}/rstrtmgr.dll")
  message(FATAL_ERROR "the consumer's build did not copy the package's DLL beside it")
endif()
abi_expect_imports("${OBJDUMP}" "${cmake_build}/rm_consumer.exe" "the find_package consumer"
  RmStartSession RmRegisterResources RmEndSession)
abi_run_under_wine("find_package consumer" "${WINE_RUN}" "${cmake_build}/rm_consumer.exe")

# ---- pkg-config consumer --------------------------------------------------------------------
if(NOT PKG_CONFIG)
  find_program(PKG_CONFIG NAMES pkg-config pkgconf)
endif()
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "pkg-config is not installed (Debian: apt-get install pkg-config)")
endif()
# Only the installed package is visible: LIBDIR replaces the default search path, and a
# sysroot would rewrite the -I/-L paths.
set(ENV{PKG_CONFIG_LIBDIR} "${prefix}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})
execute_process(COMMAND "${PKG_CONFIG}" --modversion rstrtmgr
  RESULT_VARIABLE rc OUTPUT_VARIABLE pc_version ERROR_VARIABLE pc_err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config cannot find rstrtmgr in ${prefix}/lib/pkgconfig: ${pc_err}")
endif()
if(NOT pc_version STREQUAL VERSION)
  message(FATAL_ERROR "rstrtmgr.pc says version ${pc_version}, the project is ${VERSION}")
endif()
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs rstrtmgr
  RESULT_VARIABLE rc OUTPUT_VARIABLE pc_flags ERROR_VARIABLE pc_err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs rstrtmgr failed: ${pc_err}")
endif()
message(STATUS "pkg-config --cflags --libs rstrtmgr: ${pc_flags}")
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
# MinGW-w64 ships its own restartmanager.h and librstrtmgr.a for the same DLL name, so a
# .pc file without its -I or -L would still build; the flags must name the install tree.
get_filename_component(want_include "${prefix}/include" REALPATH)
get_filename_component(want_lib "${prefix}/lib" REALPATH)
set(seen_include OFF)
set(seen_lib OFF)
foreach(flag IN LISTS pc_flags)
  if(flag MATCHES "^-I(.+)$")
    get_filename_component(dir "${CMAKE_MATCH_1}" REALPATH)
    if(dir STREQUAL want_include)
      set(seen_include ON)
    endif()
  elseif(flag MATCHES "^-L(.+)$")
    get_filename_component(dir "${CMAKE_MATCH_1}" REALPATH)
    if(dir STREQUAL want_lib)
      set(seen_lib ON)
    endif()
  endif()
endforeach()
if(NOT seen_include OR NOT seen_lib OR NOT "-lrstrtmgr" IN_LIST pc_flags)
  message(FATAL_ERROR "rstrtmgr.pc must give -I${want_include}, -L${want_lib} and -lrstrtmgr")
endif()

set(pc_build "${WORK}/pkg-config-consumer")
file(MAKE_DIRECTORY "${pc_build}")
abi_run("compiling the pkg-config consumer" "${C_COMPILER}" -Wall -Wextra -Werror -DUNICODE -D_UNICODE
  -I "${PROBE_DIR}" "${CONSUMER_DIR}/main.c" -o "${pc_build}/rm_consumer.exe" ${pc_flags})
file(COPY "${prefix}/bin/rstrtmgr.dll" DESTINATION "${pc_build}")
abi_expect_imports("${OBJDUMP}" "${pc_build}/rm_consumer.exe" "the pkg-config consumer"
  RmStartSession RmRegisterResources RmEndSession)
abi_run_under_wine("pkg-config consumer" "${WINE_RUN}" "${pc_build}/rm_consumer.exe")
