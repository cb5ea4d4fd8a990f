# Checks both import libraries of one architecture without running anything, so the x86
# ones are covered even where 32-bit Wine is missing:
#   librstrtmgr.dll.a  linked by MinGW-w64's gcc/ld
#   rstrtmgr.lib       inspected member by member, then linked by lld-link (MSVC-compatible)
# Each link uses the stdcall prototypes of all 12 functions (x86 symbols _Name@N); the
# program's import table must then ask rstrtmgr.dll for exactly the 12 plain names.
#
#   cmake -DARCH=x64|x86 -DLIB_DIR=<build/<arch>/lib> -DSOURCE=<import_refs.c>
#         -DMINGW_CC=<triple-gcc> -DOBJDUMP=<objdump> -DWORK=<scratch dir>
#         [-DCLANG=... -DLLD_LINK=... -DLLVM_READOBJ=...] -P check_import_libs.cmake
# Without the LLVM tools only the MinGW library is checked, and the script says so.
cmake_minimum_required(VERSION 3.21)
include(${CMAKE_CURRENT_LIST_DIR}/abi_common.cmake)
abi_require(ARCH LIB_DIR SOURCE MINGW_CC OBJDUMP WORK)

if(ARCH STREQUAL "x64")
  set(msvc_target x86_64-pc-windows-msvc)
  set(machine x64)
  set(preset x64)
elseif(ARCH STREQUAL "x86")
  set(msvc_target i686-pc-windows-msvc)
  set(machine x86)
  set(preset x86)
else()
  message(FATAL_ERROR "ARCH must be x64 or x86, not '${ARCH}'")
endif()

set(mingw_lib "${LIB_DIR}/librstrtmgr.dll.a")
set(msvc_lib "${LIB_DIR}/rstrtmgr.lib")
foreach(lib IN ITEMS "${mingw_lib}" "${msvc_lib}")
  if(NOT EXISTS "${lib}")
    message(FATAL_ERROR "${ARCH} import library not found: ${lib}\n"
      "Build it first: cmake --preset ${preset} && cmake --build --preset ${preset}")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

# ---- librstrtmgr.dll.a ----------------------------------------------------------------------
if(ARCH STREQUAL "x86")
  set(symbol_note " (WINAPI callers need its _Name@N symbols, e.g. _RmStartSession@12)")
else()
  set(symbol_note "")
endif()
abi_run("linking against ${mingw_lib}${symbol_note}" "${MINGW_CC}" -Wall -Wextra -Werror
  "${SOURCE}" "${mingw_lib}" -o "${WORK}/mingw_refs.exe")
abi_expect_imports("${OBJDUMP}" "${WORK}/mingw_refs.exe" "${mingw_lib}" ${ABI_NAMES})
message(STATUS "${mingw_lib}: links the 12 stdcall symbols, imports 12 plain names")

# ---- rstrtmgr.lib: the archive --------------------------------------------------------------
set(missing_tools "")
foreach(tool CLANG LLD_LINK LLVM_READOBJ)
  if(NOT DEFINED ${tool} OR "${${tool}}" STREQUAL "" OR "${${tool}}" MATCHES "-NOTFOUND$")
    list(APPEND missing_tools ${tool})
  endif()
endforeach()
if(missing_tools)
  message(STATUS "NOTE: ${msvc_lib} not checked: ${missing_tools} not found (Debian: clang lld llvm)")
  return()
endif()

execute_process(COMMAND "${LLVM_READOBJ}" "${msvc_lib}"
  OUTPUT_VARIABLE dump ERROR_VARIABLE dump_err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${LLVM_READOBJ} ${msvc_lib} failed (${rc}): ${dump_err}")
endif()
string(REPLACE ";" "," dump "${dump}")
string(REPLACE "\nFile: " ";File: " members "${dump}")
set(errors "")
set(symbols_seen "")
set(short_members 0)
foreach(member IN LISTS members)
  # Short import members (what link.exe writes and llvm-dlltool copies) say how the loader
  # name is derived; long-format members (binutils' dlltool) are judged by the link below.
  if(NOT member MATCHES "Format: COFF-import-file")
    continue()
  endif()
  math(EXPR short_members "${short_members} + 1")
  string(REGEX MATCH "^File: ([^\n]*)" _ "${member}")
  set(dll_name "${CMAKE_MATCH_1}")
  string(REGEX MATCH "\nType: ([^\n]*)" _ "${member}")
  set(kind "${CMAKE_MATCH_1}")
  string(REGEX MATCH "Name type: ([^\n]*)" _ "${member}")
  set(name_type "${CMAKE_MATCH_1}")
  string(REGEX MATCHALL "Symbol: [^\n]*" symbols "${member}")
  list(TRANSFORM symbols REPLACE "^Symbol: " "")
  list(APPEND symbols_seen ${symbols})
  list(JOIN symbols " " symbols)
  if(NOT dll_name STREQUAL "rstrtmgr.dll")
    list(APPEND errors "import of ${symbols} names '${dll_name}', expected rstrtmgr.dll")
  endif()
  if(NOT kind STREQUAL "code")
    list(APPEND errors "import of ${symbols} has type '${kind}', expected code")
  endif()
  # x86: "undecorate" turns _Name@N into Name; "name"/"noprefix" would keep decoration.
  if(ARCH STREQUAL "x86" AND NOT name_type STREQUAL "undecorate")
    list(APPEND errors "import of ${symbols} has name type '${name_type}': the loader would look up a decorated name")
  elseif(ARCH STREQUAL "x64" AND NOT name_type STREQUAL "name")
    list(APPEND errors "import of ${symbols} has name type '${name_type}', expected name")
  endif()
endforeach()
if(short_members GREATER 0)
  set(want_symbols "")
  foreach(fn IN LISTS ABI_FUNCTIONS ABI_EXTRA_FUNCTIONS)
    string(REGEX REPLACE "@[0-9]+$" "" plain "${fn}")
    if(ARCH STREQUAL "x86")
      list(APPEND want_symbols "_${fn}" "__imp__${fn}")
    else()
      list(APPEND want_symbols "${plain}" "__imp_${plain}")
    endif()
  endforeach()
  foreach(sym IN LISTS want_symbols)
    if(NOT sym IN_LIST symbols_seen)
      list(APPEND errors "symbol ${sym} is missing")
    endif()
  endforeach()
  foreach(sym IN LISTS symbols_seen)
    if(NOT sym IN_LIST want_symbols)
      list(APPEND errors "unexpected symbol ${sym}")
    endif()
  endforeach()
  if(errors)
    list(JOIN errors "\n  " errors)
    message(FATAL_ERROR "${msvc_lib} is not a correct MSVC import library:\n  ${errors}")
  endif()
  message(STATUS "${msvc_lib}: ${short_members} short import members with the expected ${ARCH} symbols")
else()
  message(STATUS "${msvc_lib}: long-format import library; judged by linking only")
endif()

# ---- rstrtmgr.lib: linked the MSVC way --------------------------------------------------------
abi_run("compiling for ${msvc_target}" "${CLANG}" -target ${msvc_target} -Wall -Wextra -Werror
  -c "${SOURCE}" -o "${WORK}/msvc_refs.obj")
# main is never run, so no C runtime is needed; /safeseh is what MSVC uses for x86 images.
set(seh "")
if(ARCH STREQUAL "x86")
  set(seh /safeseh)
endif()
abi_run("linking against ${msvc_lib} with lld-link" "${LLD_LINK}" /nologo "/out:${WORK}/msvc_refs.exe"
  /entry:main /subsystem:console /nodefaultlib /machine:${machine} ${seh}
  "${WORK}/msvc_refs.obj" "${msvc_lib}")
abi_expect_imports("${OBJDUMP}" "${WORK}/msvc_refs.exe" "${msvc_lib}" ${ABI_NAMES})
message(STATUS "${msvc_lib}: links the 12 symbols with lld-link, imports 12 plain names")
