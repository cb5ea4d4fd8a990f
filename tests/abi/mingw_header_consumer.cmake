# Builds abi_mingw_header_consumer in the build tree, checks what its import table asks
# rstrtmgr.dll for, and runs it under Wine beside the DLL.
#
#   cmake -DBUILD_DIR=<build tree> -DEXE=<its file> -DWINE_RUN=<wine-run> -DOBJDUMP=<objdump>
#         -P mingw_header_consumer.cmake
cmake_minimum_required(VERSION 3.21)
include(${CMAKE_CURRENT_LIST_DIR}/abi_common.cmake)
abi_require(BUILD_DIR EXE WINE_RUN OBJDUMP)

abi_run("building abi_mingw_header_consumer"
  "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target abi_mingw_header_consumer)

# It references every function MinGW-w64's header declares (all but RmReserveHeap). On x86
# it linked with _Name@N symbols; the loader must still be asked for plain names, and a
# decorated name would otherwise only show up at load time.
set(declared ${ABI_NAMES})
list(REMOVE_ITEM declared RmReserveHeap)
abi_expect_imports("${OBJDUMP}" "${EXE}" "librstrtmgr.dll.a with MinGW-w64's header" ${declared})

abi_run_under_wine("MinGW-w64 header consumer" "${WINE_RUN}" "${EXE}")
