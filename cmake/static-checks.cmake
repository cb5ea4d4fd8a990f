# Static checks of src/: cppcheck for both Windows platforms, failing on any finding.
# From the repository root: cmake -P cmake/static-checks.cmake (the test command runs it).
# The build itself is the other half: -Wall -Wextra -Werror on both MinGW toolchains.
cmake_minimum_required(VERSION 3.21)
get_filename_component(_rm_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
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
