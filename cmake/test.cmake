# Builds both DLLs and runs every test under Wine. From the repository root:
#
#   cmake -P cmake/test.cmake
#
# Installs what is missing first (cmake/setup.cmake). Both presets are always built: the x86
# DLL ships too, and the ABI tests of the x64 run check the export tables of both DLLs. The x86
# tests need the 32-bit Wine loader; where it cannot be had they are reported as skipped, with
# the reason, instead of failing the run. Exits non-zero on any failure.
cmake_minimum_required(VERSION 3.21)
include(${CMAKE_CURRENT_LIST_DIR}/setup.cmake)
rm_clock(_rm_start)

# ---- Inno Setup for the real-client suite (tests/clients) ------------------------------------
# The npm package innosetup ships Inno Setup's compiler and the 32-bit Setup it builds
# installers from. Without npm, or when the install fails, the reason goes where the suite's
# fixture finds it, and that suite alone is reported as skipped.
set(_rm_inno "${RM_ROOT}/build/_deps/innosetup")
if(NOT EXISTS "${_rm_inno}/node_modules/innosetup/bin/ISCC.exe")
  rm_clock(t)
  file(MAKE_DIRECTORY "${_rm_inno}")
  file(REMOVE "${_rm_inno}/unavailable.txt")
  find_program(RM_NPM npm)
  if(RM_NPM)
    execute_process(COMMAND ${RM_NPM} install --no-audit --no-fund --no-save --prefix "${_rm_inno}" innosetup@6.4.1
      RESULT_VARIABLE _rm_npm_rc OUTPUT_VARIABLE _rm_npm_out ERROR_VARIABLE _rm_npm_out TIMEOUT 600)
    if(NOT _rm_npm_rc EQUAL 0 OR NOT EXISTS "${_rm_inno}/node_modules/innosetup/bin/ISCC.exe")
      string(STRIP "${_rm_npm_out}" _rm_npm_out)
      file(WRITE "${_rm_inno}/unavailable.txt" "npm install innosetup@6.4.1 failed (${_rm_npm_rc}): ${_rm_npm_out}\n")
    endif()
  else()
    file(WRITE "${_rm_inno}/unavailable.txt" "npm is not installed\n")
  endif()
  if(EXISTS "${_rm_inno}/unavailable.txt")
    file(READ "${_rm_inno}/unavailable.txt" _rm_why)
    message(STATUS "Inno Setup for the real-client suite: not available, that suite will be skipped: ${_rm_why}")
  endif()
  rm_phase_done("Inno Setup 6.4.1 (npm)" ${t})
endif()

# ---- build both ----------------------------------------------------------------------------
foreach(arch x64 x86)
  rm_clock(t)
  rm_run(rc ${CMAKE_COMMAND} --preset ${arch})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "Configuring preset ${arch} failed (exit ${rc})")
  endif()
  rm_run(rc ${CMAKE_COMMAND} --build --preset ${arch})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "Building preset ${arch} failed (exit ${rc})")
  endif()
  rm_phase_done("configure + build ${arch}" ${t})
endforeach()

# ---- test ----------------------------------------------------------------------------------
set(_rm_failures "")
set(_rm_passed 0)
set(_rm_failed 0)
set(_rm_skipped 0)

# Runs one preset's tests with one persistent wineserver for the whole run: starting a server
# per test process would cost more than most tests. The server is stopped whatever happens,
# so no Wine process of this prefix outlives the run.
function(rm_test_preset arch)
  set(junit "${RM_ROOT}/build/${arch}/Testing/rm-results.xml")
  set(failed_log "${RM_ROOT}/build/${arch}/Testing/Temporary/LastTestsFailed.log")
  file(REMOVE "${junit}" "${failed_log}")

  rm_clock(t)
  rm_wineserver(start ${arch} rc)
  rm_phase_done("Wine prefix + wineserver ${arch}" ${t})
  if(NOT rc EQUAL 0)
    rm_wineserver(stop ${arch} ignored)
    list(APPEND _rm_failures "starting the wineserver for ${arch} (exit ${rc})")
    set(_rm_failures "${_rm_failures}" PARENT_SCOPE)
    return()
  endif()

  rm_clock(t)
  # One test at a time: tests start real apps, services and sessions in one wineserver, and
  # every RmGetList scans every process there, so tests running side by side would see (and
  # wait on) each other's processes. Serial, the suite is still a few minutes.
  rm_run(rc ${CMAKE_CTEST_COMMAND} --preset ${arch} --output-junit "${junit}")
  rm_wineserver(stop ${arch} stop_rc)
  rm_phase_done("tests ${arch}" ${t})
  if(NOT rc EQUAL 0)
    list(APPEND _rm_failures "ctest --preset ${arch} (exit ${rc})")
  endif()
  if(NOT stop_rc EQUAL 0)
    list(APPEND _rm_failures "stopping the wineserver for ${arch} (exit ${stop_rc})")
  endif()
  set(_rm_failures "${_rm_failures}" PARENT_SCOPE)

  # Counts for the closing line. Failures are ctest's own list, which includes tests that could
  # not start; its JUnit report files those under "skipped", so it only supplies the passes.
  if(EXISTS "${junit}")
    file(READ "${junit}" head LIMIT 4096)
    set(tests 0)
    if(head MATCHES "<testsuite[^>]* tests=\"([0-9]+)\"")
      set(tests ${CMAKE_MATCH_1})
    endif()
    file(STRINGS "${junit}" passes REGEX "<testcase [^>]*status=\"run\"")
    list(LENGTH passes passed)
    set(failed 0)
    if(EXISTS "${failed_log}")
      file(STRINGS "${failed_log}" failed_lines REGEX "^[0-9]+:")
      list(LENGTH failed_lines failed)
    endif()
    math(EXPR skipped "${tests} - ${passed} - ${failed}")
    math(EXPR p "${_rm_passed} + ${passed}")
    math(EXPR f "${_rm_failed} + ${failed}")
    math(EXPR s "${_rm_skipped} + ${skipped}")
    set(_rm_passed ${p} PARENT_SCOPE)
    set(_rm_failed ${f} PARENT_SCOPE)
    set(_rm_skipped ${s} PARENT_SCOPE)
    set(counts "${passed} passed, ${failed} failed")
    if(skipped GREATER 0)
      string(APPEND counts ", ${skipped} skipped")
    endif()
    set(_rm_suite_${arch} "${counts}" PARENT_SCOPE)
  else()
    set(_rm_suite_${arch} "no results (ctest exited ${rc})" PARENT_SCOPE)
  endif()
endfunction()

rm_test_preset(x64)

# ---- static checks (cppcheck and clang-tidy on src/) ---------------------------------------------
rm_clock(t)
execute_process(COMMAND ${CMAKE_COMMAND} -P ${CMAKE_CURRENT_LIST_DIR}/static-checks.cmake RESULT_VARIABLE _rm_static_rc)
rm_phase_done("static checks" ${t})
if(NOT _rm_static_rc EQUAL 0)
  list(APPEND _rm_failures "static checks (cmake -P cmake/static-checks.cmake exited ${_rm_static_rc})")
endif()

# ---- fuzzing of the pure modules (host-native, 30 s per target) ------------------------------
rm_clock(t)
execute_process(COMMAND ${CMAKE_COMMAND} -P ${CMAKE_CURRENT_LIST_DIR}/fuzz.cmake RESULT_VARIABLE _rm_fuzz_rc)
rm_phase_done("fuzzing" ${t})
if(NOT _rm_fuzz_rc EQUAL 0)
  list(APPEND _rm_failures "fuzzing (cmake -P cmake/fuzz.cmake exited ${_rm_fuzz_rc})")
endif()

if(RM_HAVE_WINE32)
  if(RM_WINE32_EMULATED)
    execute_process(COMMAND ${CMAKE_COMMAND} -E echo
      "x86 tests run under qemu-i386 user-mode emulation: this kernel does not execute 32-bit programs itself (cmake/wine32-emulation.cmake)")
  endif()
  rm_test_preset(x86)
else()
  set(_rm_x86_note "the x86 DLL was built (build/x86/bin/rstrtmgr.dll)")
  if(EXISTS "${RM_ROOT}/tests/abi/CMakeLists.txt")
    string(APPEND _rm_x86_note " and its exports are checked by the x64 run")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo
    "x86 tests SKIPPED: the 32-bit Wine loader is not available (${RM_WINE32_REASON}); ${_rm_x86_note}")
endif()

rm_phase_done("total after set-up" ${_rm_start})
# One closing line per suite, then the total, so that a skipped or failing x86 suite shows
# beside the x64 one.
foreach(arch x64 x86)
  if(NOT DEFINED _rm_suite_${arch})
    set(_rm_suite_${arch} "SKIPPED (see above)")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${arch}: ${_rm_suite_${arch}}")
endforeach()
if(EXISTS "${_rm_inno}/unavailable.txt")
  file(READ "${_rm_inno}/unavailable.txt" _rm_why)
  string(STRIP "${_rm_why}" _rm_why)
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo "real-client suite (tests/clients) SKIPPED: ${_rm_why}")
endif()
set(_rm_counts "${_rm_passed} passed, ${_rm_failed} failed")
if(_rm_skipped GREATER 0)
  string(APPEND _rm_counts ", ${_rm_skipped} skipped")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E echo "tests: ${_rm_counts}")
if(_rm_failures)
  list(JOIN _rm_failures "; " _rm_failures)
  message(FATAL_ERROR "Failed: ${_rm_failures}")
endif()
