# The project's main job, from the repository root:
#
#   cmake -P cmake/demo.cmake
#
# Installs what is missing (cmake/setup.cmake), builds the x64 preset and runs the demo under
# Wine: an application holds a file, an installer built on our DLL lists it, closes it,
# replaces the file, restarts it, and prints what happened. The demo is the program
# build/x64/bin/rmdemo.exe (tools/rmtool/rmdemo.c): it starts demoapp.exe, which loads
# demolib.dll 1.0 and holds data.txt open, shows `rmtool list` for both files, replaces them
# with `rmtool replace`, and checks from the app's log that the restarted app loaded
# demolib 2.0 and the new data. It needs only the 64-bit Wine, so set-up skips wine32.
cmake_minimum_required(VERSION 3.21)
set(RM_SETUP_WINE32 OFF)
include(${CMAKE_CURRENT_LIST_DIR}/setup.cmake)

rm_clock(t)
rm_run(rc ${CMAKE_COMMAND} --preset x64)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "Configuring preset x64 failed (exit ${rc})")
endif()
rm_run(rc ${CMAKE_COMMAND} --build --preset x64)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "Building preset x64 failed (exit ${rc})")
endif()
rm_phase_done("configure + build x64" ${t})

set(_rm_dll "${RM_ROOT}/build/x64/bin/rstrtmgr.dll")
set(_rm_demo "${RM_ROOT}/build/x64/bin/rmdemo.exe")
set(_rm_wine_run "${RM_ROOT}/build/x64/wine-run")
if(NOT EXISTS "${_rm_dll}")
  message(FATAL_ERROR "The build succeeded but ${_rm_dll} is missing")
endif()

if(NOT EXISTS "${_rm_demo}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo
    "The build did not produce ${_rm_demo}: tools/rmtool (rmtool, rmdemo) is not part of the build. The DLL was built at build/x64/bin/rstrtmgr.dll.")
  return()
endif()

# The demo starts and stops several programs: one persistent wineserver serves them all, and
# stopping it afterwards takes down anything the demo left running in this prefix.
rm_clock(t)
rm_wineserver(start x64 rc)
if(rc EQUAL 0)
  # Bounded: a program the demo left running would otherwise keep its output open forever.
  execute_process(COMMAND "${_rm_wine_run}" "${_rm_demo}" WORKING_DIRECTORY "${RM_ROOT}"
    TIMEOUT 600 RESULT_VARIABLE rc)
  set(_rm_what "the demo")
else()
  set(_rm_what "starting the wineserver")
endif()
rm_wineserver(stop x64 stop_rc)
rm_phase_done("demo" ${t})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${_rm_what} failed (exit ${rc})")
endif()
if(NOT stop_rc EQUAL 0)
  message(FATAL_ERROR "stopping the wineserver failed (exit ${stop_rc})")
endif()
