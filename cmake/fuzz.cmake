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
# Two targets at a time, one per core (each still gets its full time): nothing else runs while
# the fuzzers do, and this halves the phase's share of CI. Each writes its own log.
set(_rm_fuzz_pairs "layout path" "filterbuf key" "index peheader")
foreach(pair IN LISTS _rm_fuzz_pairs)
  separate_arguments(pair)
  set(commands "")
  foreach(t IN LISTS pair)
    set(corpus "${_rm_fuzz_dir}/corpus/${t}")
    file(MAKE_DIRECTORY "${corpus}")
    set(inputs "'${corpus}'")
    if(IS_DIRECTORY "${_rm_root}/fuzz/regressions/${t}")
      string(APPEND inputs " '${_rm_root}/fuzz/regressions/${t}'")
    endif()
    list(APPEND commands COMMAND sh -c "exec '${_rm_fuzz_dir}/fuzz_${t}' -max_total_time=${RM_FUZZ_SECONDS} -print_final_stats=1 -artifact_prefix='${_rm_fuzz_dir}/' ${inputs} </dev/null >'${_rm_fuzz_dir}/${t}.log' 2>&1")
  endforeach()
  execute_process(${commands} WORKING_DIRECTORY "${_rm_fuzz_dir}" RESULTS_VARIABLE rcs)
  foreach(t rc IN ZIP_LISTS pair rcs)
    file(READ "${_rm_fuzz_dir}/${t}.log" out)
    set(execs "?")
    if(out MATCHES "stat::number_of_executed_units: ([0-9]+)")
      set(execs ${CMAKE_MATCH_1})
    endif()
    if(rc EQUAL 0)
      message(STATUS "fuzz ${t}: ${execs} executions in ${RM_FUZZ_SECONDS} s, no crash")
    else()
      string(REGEX MATCH "SUMMARY: [^\n]*" summary "${out}")
      message(STATUS "fuzz ${t}: CRASH after ${execs} executions: ${summary} (log: ${_rm_fuzz_dir}/${t}.log)")
      list(APPEND _rm_fuzz_failed ${t})
    endif()
  endforeach()
endforeach()
if(_rm_fuzz_failed)
  message(FATAL_ERROR "fuzz targets crashed: ${_rm_fuzz_failed} (inputs in ${_rm_fuzz_dir}/crash-*)")
endif()
