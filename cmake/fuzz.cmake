# Fuzzes every pure module (key codec, section layout, path rules, filter-buffer writer,
# registration index, PE image header) on the host with clang's libFuzzer, ASan and UBSan. From the repository
# root:
#
#   cmake -P cmake/fuzz.cmake                        # 30 s per target (what CI runs)
#   cmake -DRM_FUZZ_SECONDS=600 -P cmake/fuzz.cmake  # 10 minutes per target
#
# Each target first replays fuzz/regressions/<target>/ (inputs that once crashed it), then
# fuzzes from its corpus in build/fuzz/corpus/<target>/. A crash fails the run and leaves its
# input in build/fuzz/ (crash-*): fix the code, then add the input to fuzz/regressions/.
cmake_minimum_required(VERSION 3.21)
get_filename_component(_rm_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT RM_FUZZ_SECONDS)
  set(RM_FUZZ_SECONDS 30)
endif()
set(_rm_fuzz_dir "${_rm_root}/build/fuzz")
execute_process(COMMAND ${CMAKE_COMMAND} -S "${_rm_root}/fuzz" -B "${_rm_fuzz_dir}" -DCMAKE_C_COMPILER=clang
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the fuzz targets failed (is clang installed?)")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${_rm_fuzz_dir}" -j2 RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the fuzz targets failed")
endif()
set(_rm_fuzz_failed "")
foreach(t layout path filterbuf key index peheader)
  set(corpus "${_rm_fuzz_dir}/corpus/${t}")
  file(MAKE_DIRECTORY "${corpus}")
  set(inputs "${corpus}")
  if(IS_DIRECTORY "${_rm_root}/fuzz/regressions/${t}")
    list(APPEND inputs "${_rm_root}/fuzz/regressions/${t}")
  endif()
  execute_process(COMMAND "${_rm_fuzz_dir}/fuzz_${t}" -max_total_time=${RM_FUZZ_SECONDS} -print_final_stats=1
      -artifact_prefix=${_rm_fuzz_dir}/ ${inputs}
    WORKING_DIRECTORY "${_rm_fuzz_dir}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(execs "?")
  if(out MATCHES "stat::number_of_executed_units: ([0-9]+)")
    set(execs ${CMAKE_MATCH_1})
  endif()
  if(rc EQUAL 0)
    message(STATUS "fuzz ${t}: ${execs} executions in ${RM_FUZZ_SECONDS} s, no crash")
  else()
    string(REGEX MATCH "SUMMARY: [^\n]*" summary "${out}")
    message(STATUS "fuzz ${t}: CRASH after ${execs} executions: ${summary}")
    list(APPEND _rm_fuzz_failed ${t})
  endif()
endforeach()
if(_rm_fuzz_failed)
  message(FATAL_ERROR "fuzz targets crashed: ${_rm_fuzz_failed} (inputs in ${_rm_fuzz_dir}/crash-*)")
endif()
