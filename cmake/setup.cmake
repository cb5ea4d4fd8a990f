# Shared set-up for cmake/test.cmake and cmake/demo.cmake (script mode).
#
# Makes sure the tools the build and the tests need are there. On Debian as root it installs
# what is missing, by package name, so a fresh machine (or CI) needs nothing done by hand;
# anywhere else it stops and names what is missing.
#
# Then, unless RM_SETUP_WINE32 is OFF, it tries to provide the 32-bit Wine loader (wine32:i386)
# for the x86 tests. That can fail for reasons outside the project (an i386 index out of sync
# with amd64 on the mirror, say), and the x86 DLL is still built and checked without it, so a
# failure is recorded rather than fatal:
#   RM_HAVE_WINE32     ON when the x86 tests can run
#   RM_WINE32_REASON   why not, when they cannot
# A failed attempt is remembered for a day in build/_deps/ so repeated runs do not pay for it.
#
# Also defines the small helpers both scripts use: rm_clock, rm_phase_done, rm_run, rm_wineserver.
cmake_minimum_required(VERSION 3.21)

get_filename_component(RM_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT DEFINED RM_SETUP_WINE32)
  set(RM_SETUP_WINE32 ON)
endif()
# apt must never stop to ask: CI has no terminal.
set(ENV{DEBIAN_FRONTEND} noninteractive)

# ---- helpers ----------------------------------------------------------------------------------
# Milliseconds since the epoch (whole seconds before CMake 3.23).
function(rm_clock out)
  if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.23)
    string(TIMESTAMP t "%s%f" UTC)
    math(EXPR t "${t} / 1000")
  else()
    string(TIMESTAMP t "%s" UTC)
    math(EXPR t "${t} * 1000")
  endif()
  set(${out} ${t} PARENT_SCOPE)
endfunction()

# Prints "[time] <what>: <s> s" for the phase started at <start> (from rm_clock).
function(rm_phase_done what start)
  rm_clock(now)
  math(EXPR ms "${now} - ${start}")
  math(EXPR s "${ms} / 1000")
  math(EXPR tenths "(${ms} % 1000) / 100")
  message(STATUS "[time] ${what}: ${s}.${tenths} s")
endfunction()

# Runs a command from the repository root with its output shown as it comes; stores the exit
# code in <result_var>.
function(rm_run result_var)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${RM_ROOT}" RESULT_VARIABLE rc)
  set(${result_var} "${rc}" PARENT_SCOPE)
endfunction()

# Starts or stops the persistent wineserver of build/<arch>'s Wine prefix (start also creates
# the prefix on first use); stores the exit code in <result_var>. The started server outlives
# the command, so its output goes to a file: a pipe it inherited would stay open and
# execute_process would wait for the server to exit. The time limit is far above the ~10 s a
# new prefix takes, so a hang costs minutes, not the whole CI budget.
function(rm_wineserver action arch result_var)
  set(log "${RM_ROOT}/build/${arch}/wineserver-${action}.log")
  execute_process(COMMAND "${RM_ROOT}/build/${arch}/wine-run" --${action}-server
    WORKING_DIRECTORY "${RM_ROOT}" TIMEOUT 300
    INPUT_FILE /dev/null OUTPUT_FILE "${log}" ERROR_FILE "${log}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    file(READ "${log}" out)
    message(STATUS "build/${arch}/wine-run --${action}-server failed (${rc}):\n${out}")
  endif()
  set(${result_var} "${rc}" PARENT_SCOPE)
endfunction()

# ---- can this machine install packages? -------------------------------------------------------
rm_clock(_rm_setup_start)
set(_rm_can_install OFF)
find_program(RM_APT_GET apt-get)
find_program(RM_DPKG dpkg)
if(EXISTS /etc/debian_version AND RM_APT_GET AND RM_DPKG)
  execute_process(COMMAND id -u OUTPUT_VARIABLE _rm_uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_rm_uid STREQUAL "0")
    set(_rm_can_install ON)
  endif()
endif()

set(_rm_apt_updated OFF)
# One refresh of the package lists per run. Its exit code is not the verdict: one index that
# fails to download (a mirror mid-sync) makes it non-zero although everything else is fresh,
# so the install that follows is what decides.
macro(rm_apt_update_once)
  if(NOT _rm_apt_updated)
    message(STATUS "apt-get update")
    execute_process(COMMAND ${RM_APT_GET} -q update
      RESULT_VARIABLE _rm_update_rc OUTPUT_VARIABLE _rm_update_out ERROR_VARIABLE _rm_update_err)
    if(NOT _rm_update_rc EQUAL 0)
      string(REGEX MATCHALL "\nE: [^\n]*" _rm_update_errors "\n${_rm_update_err}")
      string(REPLACE ";" "" _rm_update_errors "${_rm_update_errors}")
      message(STATUS "apt-get update exited ${_rm_update_rc}; going on:${_rm_update_errors}")
    endif()
    set(_rm_apt_updated ON)
  endif()
endmacro()

# ---- required and preferred tools -------------------------------------------------------------
# Each entry: <command or absolute path>|<Debian package>|REQUIRED or OPTIONAL
set(_rm_tools
  "x86_64-w64-mingw32-gcc|mingw-w64|REQUIRED"
  "i686-w64-mingw32-gcc|mingw-w64|REQUIRED"
  "/usr/lib/wine/wine64|wine64|REQUIRED"
  "wineserver|wine|REQUIRED"
  "make|make|REQUIRED"
  # The MSVC import library is written by llvm-dlltool (the build requires it).
  "llvm-dlltool|llvm|REQUIRED"
  # The pure modules are fuzzed on the host with clang's libFuzzer (cmake/fuzz.cmake).
  "clang|clang|REQUIRED"
  # The static checks (cmake/static-checks.cmake) run both on src/.
  "cppcheck|cppcheck|REQUIRED"
  "clang-tidy|clang-tidy|REQUIRED"
  "/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a|libclang-rt-14-dev|REQUIRED"
  # The ABI tests build consumers as MSVC users would (clang for the MSVC target, lld-link,
  # llvm-readobj) and as pkg-config users would; without these tools those checks are left
  # out rather than failed.
  "llvm-readobj|llvm|OPTIONAL"
  "lld-link|lld|OPTIONAL"
  "pkg-config|pkgconf|OPTIONAL")

function(rm_find_missing out_required out_optional)
  set(req "")
  set(opt "")
  foreach(entry IN LISTS _rm_tools)
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 tool)
    list(GET entry 1 package)
    list(GET entry 2 kind)
    if(IS_ABSOLUTE "${tool}")
      if(EXISTS "${tool}")
        continue()
      endif()
    else()
      unset(found)
      find_program(found NAMES ${tool} NO_CACHE)
      if(found)
        continue()
      endif()
    endif()
    if(kind STREQUAL "REQUIRED")
      list(APPEND req "${tool} (package ${package})")
    else()
      list(APPEND opt "${tool} (package ${package})")
    endif()
  endforeach()
  set(${out_required} "${req}" PARENT_SCOPE)
  set(${out_optional} "${opt}" PARENT_SCOPE)
endfunction()

function(rm_packages_of entries out)
  set(pkgs "")
  foreach(e IN LISTS entries)
    string(REGEX REPLACE ".*\\(package ([^)]+)\\)$" "\\1" p "${e}")
    list(APPEND pkgs ${p})
  endforeach()
  list(REMOVE_DUPLICATES pkgs)
  set(${out} "${pkgs}" PARENT_SCOPE)
endfunction()

# apt-get install, by package name; stores the exit code in <result_var>.
function(rm_apt_install result_var)
  execute_process(COMMAND ${RM_APT_GET} install -y --no-install-recommends ${ARGN}
    RESULT_VARIABLE rc)
  set(${result_var} "${rc}" PARENT_SCOPE)
endfunction()

rm_find_missing(_rm_missing_req _rm_missing_opt)
if(_rm_missing_req)
  list(JOIN _rm_missing_req ", " _rm_missing_text)
  rm_packages_of("${_rm_missing_req}" _rm_pkgs)
  if(NOT _rm_can_install)
    list(JOIN _rm_pkgs " " _rm_pkgs_text)
    message(FATAL_ERROR "Missing: ${_rm_missing_text}. This script installs them itself only on "
      "Debian as root; otherwise install them first (on Debian: apt-get install ${_rm_pkgs_text}).")
  endif()
  message(STATUS "Installing what the build needs: ${_rm_missing_text}")
  rm_apt_update_once()
  rm_apt_install(_rm_rc ${_rm_pkgs})
  if(NOT _rm_rc EQUAL 0)
    message(FATAL_ERROR "apt-get install ${_rm_pkgs} failed (exit ${_rm_rc}); missing: ${_rm_missing_text}")
  endif()
  rm_find_missing(_rm_missing_req _rm_missing_opt)
  if(_rm_missing_req)
    list(JOIN _rm_missing_req ", " _rm_missing_text)
    message(FATAL_ERROR "Still missing after installing ${_rm_pkgs}: ${_rm_missing_text}")
  endif()
endif()
# The extras only widen the ABI checks: failing to get them is reported, not fatal.
if(_rm_missing_opt AND _rm_can_install)
  list(JOIN _rm_missing_opt ", " _rm_missing_text)
  rm_packages_of("${_rm_missing_opt}" _rm_pkgs)
  message(STATUS "Installing extras: ${_rm_missing_text}")
  rm_apt_update_once()
  rm_apt_install(_rm_rc ${_rm_pkgs})
  rm_find_missing(_rm_missing_req _rm_missing_opt)
endif()
if(_rm_missing_opt)
  list(JOIN _rm_missing_opt ", " _rm_missing_text)
  message(STATUS "Optional tools missing: ${_rm_missing_text}; the build falls back to binutils "
    "and the ABI checks that need them are left out")
endif()

# ---- wine32 for the x86 tests -----------------------------------------------------------------
# The loader wine-run uses for x86 programs; it comes with wine32:i386.
set(_rm_wine32_loader /usr/lib/wine/wine)
set(_rm_wine32_marker "${RM_ROOT}/build/_deps/wine32-unavailable.txt")
set(_rm_wine32_log "${RM_ROOT}/build/_deps/wine32-install.log")
set(RM_HAVE_WINE32 OFF)
set(RM_WINE32_REASON "")

function(rm_try_wine32 have_out reason_out)
  # i386 packages are only visible once dpkg knows the architecture. If this attempt added it
  # and the install still fails, take it away again so that the machine's own apt-get update
  # does not start fetching i386 indexes it cannot use.
  execute_process(COMMAND ${RM_DPKG} --print-foreign-architectures OUTPUT_VARIABLE foreign)
  set(added OFF)
  if(NOT foreign MATCHES "(^|\n)i386(\n|$)")
    execute_process(COMMAND ${RM_DPKG} --add-architecture i386 RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      set(${have_out} OFF PARENT_SCOPE)
      set(${reason_out} "dpkg --add-architecture i386 failed (exit ${rc})" PARENT_SCOPE)
      return()
    endif()
    set(added ON)
    set(_rm_apt_updated OFF)  # the lists must now include i386
  endif()
  rm_apt_update_once()

  message(STATUS "Installing wine32:i386 for the x86 tests")
  # --no-remove: never trade away installed packages to make room for the i386 ones.
  execute_process(COMMAND ${RM_APT_GET} install -y --no-install-recommends --no-remove wine32:i386
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  file(WRITE "${_rm_wine32_log}" "apt-get update:\n${_rm_update_out}${_rm_update_err}\n"
    "apt-get install wine32:i386 (exit ${rc}):\n${out}${err}")
  if(rc EQUAL 0 AND EXISTS "${_rm_wine32_loader}")
    set(${have_out} ON PARENT_SCOPE)
    return()
  endif()

  # Say why in one line: any i386 index that failed to download first, as it is the usual root
  # cause (amd64 and i386 library versions must match exactly), then apt's last error.
  set(reason "")
  string(REGEX MATCH "Err:[0-9]+ [^ \n]+ ([^\n]* i386 [^\n]*)\n[ \t]*([^\n]*)" failed_index
    "${_rm_update_out}${_rm_update_err}")
  if(failed_index)
    set(index "${CMAKE_MATCH_1}")
    string(REGEX REPLACE " *\\[IP:[^]]*\\]" "" why "${CMAKE_MATCH_2}")
    string(STRIP "${why}" why)
    string(CONCAT reason "the i386 index ${index} failed to download (${why}), so i386 library versions "
      "cannot match the installed amd64 ones; ")
  endif()
  string(REGEX MATCHALL "(^|\n)E: [^\n]*" errors "${err}")
  if(errors)
    list(GET errors -1 last)
    string(STRIP "${last}" last)
    string(APPEND reason "apt-get said \"${last}\"")
  elseif(NOT rc EQUAL 0)
    string(APPEND reason "apt-get install exited ${rc}")
  else()
    string(APPEND reason "apt-get install succeeded but ${_rm_wine32_loader} is missing")
  endif()
  if(added)
    execute_process(COMMAND ${RM_DPKG} --remove-architecture i386 RESULT_VARIABLE ignored
      OUTPUT_QUIET ERROR_QUIET)
  endif()
  set(${have_out} OFF PARENT_SCOPE)
  set(${reason_out} "wine32:i386 could not be installed: ${reason}" PARENT_SCOPE)
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/wine32-emulation.cmake)
if(EXISTS "${_rm_wine32_loader}")
  set(RM_HAVE_WINE32 ON)
elseif(NOT RM_SETUP_WINE32)
  set(RM_WINE32_REASON "not requested")
elseif(NOT _rm_can_install)
  set(RM_WINE32_REASON "${_rm_wine32_loader} is missing and this script installs wine32:i386 only on Debian as root")
else()
  set(_rm_wine32_fresh OFF)
  if(EXISTS "${_rm_wine32_marker}")
    file(TIMESTAMP "${_rm_wine32_marker}" _rm_marker_time "%s" UTC)
    string(TIMESTAMP _rm_now "%s" UTC)
    math(EXPR _rm_marker_age "${_rm_now} - ${_rm_marker_time}")
    if(_rm_marker_age LESS 86400)
      set(_rm_wine32_fresh ON)
    endif()
  endif()
  if(_rm_wine32_fresh)
    file(READ "${_rm_wine32_marker}" RM_WINE32_REASON)
    string(STRIP "${RM_WINE32_REASON}" RM_WINE32_REASON)
    math(EXPR _rm_marker_hours "${_rm_marker_age} / 3600")
    string(APPEND RM_WINE32_REASON " [found ${_rm_marker_hours} h ago; retried after a day, or at once after "
      "deleting ${_rm_wine32_marker}]")
  else()
    rm_try_wine32(RM_HAVE_WINE32 RM_WINE32_REASON)
    if(RM_HAVE_WINE32)
      file(REMOVE "${_rm_wine32_marker}")
    else()
      file(WRITE "${_rm_wine32_marker}" "${RM_WINE32_REASON}\n")
      string(APPEND RM_WINE32_REASON " [details: ${_rm_wine32_log}]")
    endif()
  endif()
endif()
# Installed is not yet runnable: see cmake/wine32-emulation.cmake.
if(RM_HAVE_WINE32)
  rm_wine32_runnable("${_rm_wine32_loader}" RM_HAVE_WINE32 RM_WINE32_REASON)
endif()
rm_phase_done("set-up" ${_rm_setup_start})
