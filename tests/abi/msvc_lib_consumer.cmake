# Builds a program the way an MSVC project does and runs it under Wine against the DLL:
# compiled for the *-windows-msvc target with the project's header, linked by lld-link
# (MSVC-compatible) against rstrtmgr.lib with no C runtime, x86 with /safeseh as MSVC links
# x86 images. The program's checks are in abi_probe.h; the member-by-member check of the
# library is abi.import_libs.<arch>.
#
#   cmake -DARCH=x64|x86 -DLIB=<rstrtmgr.lib> -DDLL=<rstrtmgr.dll> -DSOURCE=<msvc_lib_consumer.c>
#         -DPROBE_DIR=<dir of abi_probe.h> -DRM_INCLUDE=<project include/>
#         -DMINGW_INCLUDE=</usr/<triple>/include> -DCLANG=... -DLLD_LINK=... -DLLVM_DLLTOOL=...
#         -DOBJDUMP=... -DWORK=<scratch dir> -DWINE_RUN=<build tree's wine-run>
#         -P msvc_lib_consumer.cmake
cmake_minimum_required(VERSION 3.21)
include(${CMAKE_CURRENT_LIST_DIR}/abi_common.cmake)
abi_require(ARCH LIB DLL SOURCE PROBE_DIR RM_INCLUDE MINGW_INCLUDE CLANG LLD_LINK LLVM_DLLTOOL
            OBJDUMP WORK WINE_RUN)
foreach(file IN ITEMS "${LIB}" "${DLL}")
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "${file} does not exist: build the project first")
  endif()
endforeach()

if(ARCH STREQUAL "x64")
  set(target x86_64-pc-windows-msvc)
  set(machine x64)
  set(dlltool_machine i386:x86-64)
  set(arch_defs "")
  set(seh "")
  set(kill_at "")
elseif(ARCH STREQUAL "x86")
  set(target i686-pc-windows-msvc)
  set(machine x86)
  set(dlltool_machine i386)
  # MinGW-w64's winnt.h keys the x86 CONTEXT on _X86_, which gcc predefines and clang does not.
  set(arch_defs -D_X86_)
  set(seh /safeseh)
  set(kill_at -k)
else()
  message(FATAL_ERROR "ARCH must be x64 or x86, not '${ARCH}'")
endif()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(obj "${WORK}/msvc_lib_consumer.obj")
set(exe "${WORK}/msvc_lib_consumer.exe")

# MinGW-w64's headers stand in for the SDK's. They drop __attribute__ unless __GNUC__ is
# defined, which clang leaves undefined for MSVC targets, hence -fgnuc-version.
# -ffreestanding keeps the compiler from calling memset/memcpy: there is no CRT to supply them.
abi_run("compiling for ${target}" "${CLANG}" -target ${target} -fgnuc-version=4.2.1 ${arch_defs}
  -ffreestanding -O2 -Wall -Wextra -Werror -DUNICODE -D_UNICODE
  -I "${RM_INCLUDE}" -I "${PROBE_DIR}" -isystem "${MINGW_INCLUDE}"
  -c "${SOURCE}" -o "${obj}")

# An import library for the few kernel32 functions the program uses, in the same short
# format. MinGW's libkernel32.a links too, but its objects lack the SafeSEH mark, so the x86
# link would need /safeseh:no and could no longer show that rstrtmgr.lib does not need it.
set(kernel32_functions
  ExitProcess@4 GetStdHandle@4 WriteFile@20 GetModuleHandleW@4 GetModuleFileNameW@12
  GetProcAddress@8 lstrcmpiW@8)
if(ARCH STREQUAL "x64")
  list(TRANSFORM kernel32_functions REPLACE "@[0-9]+$" "")
endif()
list(JOIN kernel32_functions "\n" kernel32_exports)
file(WRITE "${WORK}/kernel32.def" "LIBRARY kernel32.dll\nEXPORTS\n${kernel32_exports}\n")
abi_run("writing kernel32.lib" "${LLVM_DLLTOOL}" -m ${dlltool_machine} -d "${WORK}/kernel32.def"
  ${kill_at} -l "${WORK}/kernel32.lib")

abi_run("linking with lld-link" "${LLD_LINK}" /nologo "/out:${exe}" /entry:abi_entry
  /subsystem:console /nodefaultlib /machine:${machine} ${seh} "${obj}" "${LIB}" "${WORK}/kernel32.lib")
abi_expect_imports("${OBJDUMP}" "${exe}" "${LIB}" RmStartSession RmRegisterResources RmEndSession)

file(COPY "${DLL}" DESTINATION "${WORK}")
abi_run_under_wine("MSVC-linked consumer" "${WINE_RUN}" "${exe}")
