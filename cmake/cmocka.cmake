# Defines cmocka::cmocka, the unit-test framework, for the MinGW target being configured.
#
# Linked statically, so a test program runs under Wine with nothing beside it but our DLL.
# Where it comes from, first found wins:
#   1. a CMocka installed in the MinGW sysroot (/usr/${RM_TRIPLE}), when a distribution has one;
#   2. the copy this project built earlier in build/_deps/cmocka/<arch>/;
#   3. otherwise cmake/provide-cmocka.cmake builds that copy now from Debian's cmocka source
#      package (once per build tree; later configures reuse it).
# CMocka 1.1.x's header declares nothing dllimport, so static linking needs no extra definition.
if(TARGET cmocka::cmocka)
  return()
endif()

set(_rm_cmocka_prefix ${CMAKE_SOURCE_DIR}/build/_deps/cmocka/${RM_ARCH})
unset(_rm_cmocka_include)
unset(_rm_cmocka_library)

# 1. The sysroot. Only a static archive will do: an import library would need cmocka.dll at
#    run time inside every Wine prefix.
foreach(_rm_var RM_SYSROOT_CMOCKA_INCLUDE RM_SYSROOT_CMOCKA_LIBRARY)
  if(${_rm_var} AND NOT EXISTS "${${_rm_var}}")
    unset(${_rm_var} CACHE)  # removed since the last configure: look again
  endif()
endforeach()
find_path(RM_SYSROOT_CMOCKA_INCLUDE cmocka.h
  PATHS /usr/${RM_TRIPLE}/include NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
find_library(RM_SYSROOT_CMOCKA_LIBRARY NAMES libcmocka-static.a libcmocka.a
  PATHS /usr/${RM_TRIPLE}/lib NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
mark_as_advanced(RM_SYSROOT_CMOCKA_INCLUDE RM_SYSROOT_CMOCKA_LIBRARY)
if(RM_SYSROOT_CMOCKA_INCLUDE AND RM_SYSROOT_CMOCKA_LIBRARY)
  set(_rm_cmocka_include ${RM_SYSROOT_CMOCKA_INCLUDE})
  set(_rm_cmocka_library ${RM_SYSROOT_CMOCKA_LIBRARY})
  set(_rm_cmocka_origin "the MinGW sysroot")
endif()

# 2. and 3. The project's own build of Debian's source package.
if(NOT _rm_cmocka_library)
  if(NOT EXISTS ${_rm_cmocka_prefix}/lib/libcmocka-static.a OR NOT EXISTS ${_rm_cmocka_prefix}/include/cmocka.h)
    message(STATUS "CMocka for ${RM_ARCH}: not in the MinGW sysroot, building it into ${_rm_cmocka_prefix}")
    execute_process(COMMAND ${CMAKE_COMMAND} -DRM_ARCH=${RM_ARCH} -P ${CMAKE_SOURCE_DIR}/cmake/provide-cmocka.cmake
      RESULT_VARIABLE _rm_cmocka_result)
    if(NOT _rm_cmocka_result EQUAL 0)
      message(FATAL_ERROR "CMocka for ${RM_ARCH} is missing and could not be built (cmake/provide-cmocka.cmake "
        "exited with ${_rm_cmocka_result}; its messages are above). The unit tests need it. Either fix that, put "
        "a MinGW build of CMocka (include/cmocka.h, lib/libcmocka-static.a) into ${_rm_cmocka_prefix}, or "
        "configure with -DBUILD_TESTING=OFF to build the DLL alone.")
    endif()
  endif()
  set(_rm_cmocka_include ${_rm_cmocka_prefix}/include)
  set(_rm_cmocka_library ${_rm_cmocka_prefix}/lib/libcmocka-static.a)
  set(_rm_cmocka_origin "${_rm_cmocka_prefix}")
endif()

add_library(cmocka::cmocka STATIC IMPORTED)
set_target_properties(cmocka::cmocka PROPERTIES
  IMPORTED_LOCATION ${_rm_cmocka_library}
  INTERFACE_INCLUDE_DIRECTORIES ${_rm_cmocka_include})
message(STATUS "CMocka for ${RM_ARCH}: ${_rm_cmocka_library} (from ${_rm_cmocka_origin})")
