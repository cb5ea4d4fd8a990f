# Static checks of src/, failing on any finding: cppcheck for both Windows platforms, then
# clang-tidy (.clang-tidy at the root) on the real MinGW-w64 compiles of x64 and x86.
# From the repository root: cmake -P cmake/static-checks.cmake (the test command runs it).
# The build itself is the other half: -Wall -Wextra -Werror on both MinGW toolchains.
cmake_minimum_required(VERSION 3.21)
get_filename_component(_rm_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
find_program(RM_CLANG_TIDY NAMES clang-tidy clang-tidy-14 REQUIRED)

# One clang-tidy run: started by the loop below (through xargs) with RM_TIDY_FILE set. Findings
# go to a log of their own, so that two files checked at once never mix their reports.
if(DEFINED RM_TIDY_FILE)
  # The database names the MinGW gcc; clang is told the target as well, and the sysroot where
  # Debian's mingw-w64 keeps the Windows headers, so that no host header can stand in for one.
  execute_process(COMMAND "${RM_CLANG_TIDY}" --quiet -p "${RM_TIDY_BUILD}"
      --extra-arg=--target=${RM_TIDY_TRIPLE} --extra-arg=--sysroot=/usr/${RM_TIDY_TRIPLE} "${RM_TIDY_FILE}"
    WORKING_DIRECTORY "${_rm_root}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(MAKE_C_IDENTIFIER "${RM_TIDY_FILE}" log)
    string(REGEX REPLACE "(^|\n)[0-9]+ (warning|error)s?( and [0-9]+ errors?)? generated\\.\n" "\\1" err "${err}")
    file(WRITE "${RM_TIDY_BUILD}/findings/${log}.log" "${out}${err}")
  endif()
  return()
endif()

find_program(RM_CPPCHECK cppcheck REQUIRED)
foreach(platform win64 win32A)
  set(defs -D_WIN32 -DUNICODE -D_UNICODE)
  if(platform STREQUAL "win64")
    list(APPEND defs -D_WIN64)
  endif()
  execute_process(COMMAND ${RM_CPPCHECK} --quiet --error-exitcode=1 --enable=warning,portability,performance
      --inline-suppr --std=c11 --platform=${platform} ${defs} -I include -I src src
    WORKING_DIRECTORY "${_rm_root}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cppcheck (${platform}) reported findings in src/ (above)")
  endif()
  message(STATUS "cppcheck ${platform}: src/ clean")
endforeach()

# clang-tidy sees what the compiler sees: a configure-only tree per preset (build/tidy-<arch>,
# no tests, nothing built) gives the compile database, so the check needs no test build.
# Both are checked before failing, so one run reports everything.
cmake_host_system_information(RESULT _rm_jobs QUERY NUMBER_OF_LOGICAL_CORES)
set(_rm_tidy_failed "")
foreach(arch x64 x86)
  if(arch STREQUAL "x64")
    set(triple x86_64-w64-mingw32)
  else()
    set(triple i686-w64-mingw32)
  endif()
  set(tree "${_rm_root}/build/tidy-${arch}")
  string(TIMESTAMP t0 "%s")
  execute_process(COMMAND ${CMAKE_COMMAND} --preset ${arch} -B "${tree}" -DBUILD_TESTING=OFF
      -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_C_USE_RESPONSE_FILE_FOR_INCLUDES=OFF
    WORKING_DIRECTORY "${_rm_root}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "clang-tidy (${arch}): configuring ${tree} failed:\n${out}")
  endif()
  # The sources of src/ only: tests, tools and benchmarks are in the database too.
  file(READ "${tree}/compile_commands.json" db)
  string(JSON n LENGTH "${db}")
  math(EXPR last "${n} - 1")
  set(files "")
  foreach(i RANGE ${last})
    string(JSON f GET "${db}" ${i} file)
    string(FIND "${f}" "${_rm_root}/src/" at)
    if(at EQUAL 0)
      string(APPEND files "${f}\n")
    endif()
  endforeach()
  file(WRITE "${tree}/src-files.txt" "${files}")
  file(REMOVE_RECURSE "${tree}/findings")
  file(MAKE_DIRECTORY "${tree}/findings")
  execute_process(COMMAND xargs -P ${_rm_jobs} -I {} ${CMAKE_COMMAND} -DRM_TIDY_FILE={} -DRM_TIDY_BUILD=${tree}
      -DRM_TIDY_TRIPLE=${triple} -P "${CMAKE_CURRENT_LIST_FILE}"
    INPUT_FILE "${tree}/src-files.txt" WORKING_DIRECTORY "${_rm_root}" RESULT_VARIABLE rc)
  file(GLOB logs "${tree}/findings/*.log")
  if(logs OR NOT rc EQUAL 0)
    foreach(log IN LISTS logs)
      file(READ "${log}" text)
      message("${text}")
    endforeach()
    list(LENGTH logs nlogs)
    message(STATUS "clang-tidy ${arch}: findings in ${nlogs} file(s) of src/ (above)")
    list(APPEND _rm_tidy_failed ${arch})
    continue()
  endif()
  string(TIMESTAMP t1 "%s")
  math(EXPR secs "${t1} - ${t0}")
  string(STRIP "${files}" files)
  string(REPLACE "\n" ";" files "${files}")
  list(LENGTH files nfiles)
  message(STATUS "clang-tidy ${arch}: src/ clean (${nfiles} files, ${secs} s)")
endforeach()
if(_rm_tidy_failed)
  list(JOIN _rm_tidy_failed " and " _rm_tidy_failed)
  message(FATAL_ERROR "clang-tidy reported findings in src/ for ${_rm_tidy_failed} (above)")
endif()
