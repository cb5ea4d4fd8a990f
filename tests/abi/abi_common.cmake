# Helpers shared by the ABI test scripts (cmake -P).

# The 12 exports of the system DLL with their x86 __stdcall argument sizes. This is the
# contract callers were built against, kept here independently of def/rstrtmgr.def so that a
# slip in the .def shows up as a difference.
set(ABI_FUNCTIONS
  RmAddFilter@20 RmCancelCurrentTask@4 RmEndSession@4 RmGetFilterList@16 RmGetList@20
  RmJoinSession@8 RmRegisterResources@28 RmRemoveFilter@16 RmReserveHeap@4 RmRestart@12
  RmShutdown@12 RmStartSession@12)
set(ABI_NAMES ${ABI_FUNCTIONS})
list(TRANSFORM ABI_NAMES REPLACE "@[0-9]+$" "")

# Exports beyond the system DLL's, each documented in README.md ("Extra export"): the
# rundll32 entry of the helper processes (console CTRL_C, safeguard watcher).
set(ABI_EXTRA_FUNCTIONS RmRunHelperW@16)
set(ABI_EXTRA_NAMES ${ABI_EXTRA_FUNCTIONS})
list(TRANSFORM ABI_EXTRA_NAMES REPLACE "@[0-9]+$" "")

# abi_require(<var>...): stop with a clear message when a -D argument is missing or a tool
# was not found at configure time.
macro(abi_require)
  foreach(_abi_var ${ARGN})
    if(NOT DEFINED ${_abi_var} OR "${${_abi_var}}" STREQUAL "" OR "${${_abi_var}}" MATCHES "-NOTFOUND$")
      message(FATAL_ERROR "${CMAKE_SCRIPT_MODE_FILE}: ${_abi_var} is not set ('${${_abi_var}}')")
    endif()
  endforeach()
endmacro()

# abi_run(<what> <command>...): runs a command, stops with its output if it fails.
function(abi_run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "${what} failed (${rc}):\n${cmd}\n${out}")
  endif()
endfunction()

# abi_run_under_wine(<what> <wine-run> <exe>): runs a program beside the DLL under test; the
# program's own checks decide, through its exit code.
# Output goes through files, not pipes: the first Wine program of a prefix starts Wine's
# services (services.exe, winedevice.exe ...), which inherit its stderr and, under a
# persistent wineserver, outlive it, so a pipe would never reach end-of-file.
function(abi_run_under_wine what wine_run exe)
  get_filename_component(dir "${exe}" DIRECTORY)
  get_filename_component(name "${exe}" NAME_WE)
  set(log "${CMAKE_CURRENT_BINARY_DIR}/${name}.wine")  # the test's working directory
  execute_process(COMMAND "${wine_run}" "${exe}" WORKING_DIRECTORY "${dir}" RESULT_VARIABLE rc
    INPUT_FILE /dev/null OUTPUT_FILE "${log}.stdout" ERROR_FILE "${log}.stderr")
  file(READ "${log}.stdout" out)
  file(READ "${log}.stderr" err)
  message("${what}:\n${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed under Wine (exit ${rc})\n${err}")
  endif()
endfunction()

# abi_rstrtmgr_imports(<objdump> <exe> <out_var>): the names <exe> asks rstrtmgr.dll for,
# as the loader will see them.
function(abi_rstrtmgr_imports objdump exe out_var)
  execute_process(COMMAND "${objdump}" -p "${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE dump ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${objdump} -p ${exe} failed: ${err}")
  endif()
  string(REPLACE ";" "," dump "${dump}")
  # "\tDLL Name: rstrtmgr.dll", a column header, then one "\t<vma>\t<hint>  <name>" line per
  # import until a blank line.
  string(REGEX MATCH "DLL Name: rstrtmgr\\.dll\n[^\n]*\n(([^\n]+\n)*)" _ "${dump}")
  string(REGEX MATCHALL "[^\n]+" rows "${CMAKE_MATCH_1}")
  set(names "")
  foreach(row IN LISTS rows)
    string(STRIP "${row}" row)
    string(REGEX REPLACE "^[0-9a-fA-F]+[ \t]+[0-9]+[ \t]+" "" name "${row}")
    list(APPEND names "${name}")
  endforeach()
  set(${out_var} "${names}" PARENT_SCOPE)
endfunction()

# abi_expect_imports(<objdump> <exe> <what> <name>...): <exe> imports exactly these plain
# names from rstrtmgr.dll.
function(abi_expect_imports objdump exe what)
  abi_rstrtmgr_imports("${objdump}" "${exe}" got)
  set(errors "")
  foreach(name IN LISTS ARGN)
    if(NOT name IN_LIST got)
      list(APPEND errors "does not import ${name}")
    endif()
  endforeach()
  foreach(name IN LISTS got)
    if(NOT name IN_LIST ARGN)
      list(APPEND errors "imports '${name}', which is not a plain export name")
    endif()
  endforeach()
  if(errors)
    list(JOIN errors "\n  " errors)
    list(JOIN got " " got)
    message(FATAL_ERROR "${what}: the program linked against it asks rstrtmgr.dll for the wrong names:\n  "
      "${errors}\nimported from rstrtmgr.dll: ${got}")
  endif()
endfunction()
