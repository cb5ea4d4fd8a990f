# Provides CMocka for the unit tests when the MinGW sysroot has none (Debian packages it only
# for Linux), by cross-building Debian's own cmocka source package.
#
#   cmake -DRM_ARCH=x64|x86 -P cmake/provide-cmocka.cmake
#
# Result: build/_deps/cmocka/<arch>/{include/cmocka.h, lib/libcmocka-static.a}.
#
# The source comes through apt, so it is the version Debian ships and its checksums are
# verified against the signed archive index, and it reaches this machine the same way every
# other dependency does. apt runs against a private deb-src list and private state in the build
# tree: the machine's own apt configuration is read, never changed, and the list is derived from
# the machine's sources at run time so no archive address is written into the project.
# Each step is skipped when its result is already there, so the download and extraction happen
# once for both architectures.
cmake_minimum_required(VERSION 3.21)

if(NOT RM_ARCH MATCHES "^(x64|x86)$")
  message(FATAL_ERROR "provide-cmocka: pass -DRM_ARCH=x64 or -DRM_ARCH=x86")
endif()
if(RM_ARCH STREQUAL "x64")
  set(triple x86_64-w64-mingw32)
else()
  set(triple i686-w64-mingw32)
endif()

get_filename_component(root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(deps "${root}/build/_deps")
set(apt_dir "${deps}/apt")
set(src_dir "${deps}/cmocka/src")
set(prefix "${deps}/cmocka/${RM_ARCH}")
set(build_dir "${deps}/cmocka/build-${RM_ARCH}")

file(MAKE_DIRECTORY "${deps}/cmocka")
# Both presets may be configured at once; they share the download and the extracted source.
file(LOCK "${deps}/cmocka/.lock" GUARD PROCESS TIMEOUT 900 RESULT_VARIABLE lock_result)
if(NOT lock_result EQUAL 0)
  message(FATAL_ERROR "provide-cmocka: could not lock ${deps}/cmocka/.lock: ${lock_result}")
endif()

if(EXISTS "${prefix}/lib/libcmocka-static.a" AND EXISTS "${prefix}/include/cmocka.h")
  message(STATUS "CMocka for ${RM_ARCH} is already built in ${prefix}")
  return()
endif()

# ---- 1. a deb-src list derived from the machine's own apt sources ----------------------------
function(rm_write_deb_src_list out_dir)
  file(REMOVE_RECURSE "${out_dir}")
  file(MAKE_DIRECTORY "${out_dir}")
  set(count 0)
  # deb822 files: the same entries, asking for sources instead of binaries.
  file(GLOB deb822 /etc/apt/sources.list.d/*.sources)
  foreach(f IN LISTS deb822)
    file(READ "${f}" text)
    string(REGEX REPLACE "\n[Tt]ypes:[^\n]*" "\nTypes: deb-src" text "\n${text}")
    string(SUBSTRING "${text}" 1 -1 text)
    get_filename_component(name "${f}" NAME)
    file(WRITE "${out_dir}/${name}" "${text}\n")
    math(EXPR count "${count} + 1")
  endforeach()
  # One-line files: each "deb" line becomes its "deb-src" twin.
  file(GLOB one_line /etc/apt/sources.list.d/*.list)
  if(EXISTS /etc/apt/sources.list)
    list(APPEND one_line /etc/apt/sources.list)
  endif()
  foreach(f IN LISTS one_line)
    file(READ "${f}" text)
    string(REGEX MATCHALL "\n[ \t]*deb[ \t][^\n]*" entries "\n${text}")
    if(entries)
      string(REGEX REPLACE "\n[ \t]*deb[ \t]" "\ndeb-src " text "${entries}")
      string(REPLACE ";\n" "\n" text "${text}")
      string(SUBSTRING "${text}" 1 -1 text)
      get_filename_component(name "${f}" NAME)
      file(WRITE "${out_dir}/${name}.list" "${text}\n")
      math(EXPR count "${count} + 1")
    endif()
  endforeach()
  if(count EQUAL 0)
    message(FATAL_ERROR "provide-cmocka: no apt sources found in /etc/apt to derive a deb-src list from")
  endif()
endfunction()

set(stamp_extracted "${src_dir}/.rm-extracted")
if(NOT EXISTS "${stamp_extracted}")
  find_program(APT_GET apt-get)
  if(NOT APT_GET)
    message(FATAL_ERROR "provide-cmocka: apt-get not found. CMocka for MinGW is built from Debian's "
      "cmocka source package; on another system put a MinGW build of CMocka (include/cmocka.h, "
      "lib/libcmocka-static.a) into ${prefix}.")
  endif()

  rm_write_deb_src_list("${apt_dir}/sources.list.d")
  foreach(d lists/partial cache/archives/partial download)
    file(MAKE_DIRECTORY "${apt_dir}/${d}")
  endforeach()
  # The private state belongs to whoever runs this (root or not), so apt must download as that
  # user rather than switch to its sandbox user, who could not write there.
  set(apt_options
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=${apt_dir}/sources.list.d"
    -o "Dir::State::Lists=${apt_dir}/lists"
    -o "Dir::Cache=${apt_dir}/cache"
    -o "APT::Sandbox::User=root")

  message(STATUS "Fetching Debian's cmocka source package through apt")
  # A source index that fails (a mirror mid-sync, a third-party repository without sources)
  # does not matter as long as cmocka's is there: the download below is the real check.
  execute_process(COMMAND ${APT_GET} -q ${apt_options} update
    RESULT_VARIABLE update_result OUTPUT_VARIABLE update_out ERROR_VARIABLE update_err)
  if(NOT update_result EQUAL 0)
    message(STATUS "apt-get update (deb-src) exited ${update_result}; continuing:\n${update_err}")
  endif()

  file(REMOVE_RECURSE "${apt_dir}/download")
  file(MAKE_DIRECTORY "${apt_dir}/download")
  execute_process(COMMAND ${APT_GET} -q ${apt_options} source --download-only cmocka
    WORKING_DIRECTORY "${apt_dir}/download"
    RESULT_VARIABLE source_result OUTPUT_VARIABLE source_out ERROR_VARIABLE source_err)
  if(NOT source_result EQUAL 0)
    message(FATAL_ERROR "provide-cmocka: apt-get source --download-only cmocka failed "
      "(exit ${source_result}):\n${source_out}${source_err}\napt-get update said:\n${update_out}${update_err}")
  endif()

  # The upstream tarball is enough: Debian's patches only concern its Linux packaging.
  file(GLOB orig "${apt_dir}/download/cmocka_*.orig.tar.gz" "${apt_dir}/download/cmocka_*.orig.tar.xz"
  "${apt_dir}/download/cmocka_*.orig.tar.bz2")
  list(LENGTH orig n_orig)
  if(NOT n_orig EQUAL 1)
    message(FATAL_ERROR "provide-cmocka: expected one cmocka_*.orig.tar.* in ${apt_dir}/download, found: ${orig}")
  endif()
  file(REMOVE_RECURSE "${src_dir}")
  file(MAKE_DIRECTORY "${src_dir}")
  file(ARCHIVE_EXTRACT INPUT "${orig}" DESTINATION "${src_dir}")
  file(GLOB top "${src_dir}/cmocka-*")
  list(LENGTH top n_top)
  if(NOT n_top EQUAL 1 OR NOT EXISTS "${top}/CMakeLists.txt")
    message(FATAL_ERROR "provide-cmocka: unexpected layout of ${orig} (top: ${top})")
  endif()
  get_filename_component(top_name "${top}" NAME)
  file(WRITE "${stamp_extracted}" "${top_name}\n")
  message(STATUS "Extracted ${top_name} into ${src_dir}")
endif()

file(STRINGS "${stamp_extracted}" top_name LIMIT_COUNT 1)
set(source "${src_dir}/${top_name}")

# ---- 2. cross-build with the project's own toolchain ----------------------------------------
message(STATUS "Building ${top_name} for ${RM_ARCH} (${triple})")
file(REMOVE_RECURSE "${build_dir}")
execute_process(COMMAND ${CMAKE_COMMAND}
    -S "${source}" -B "${build_dir}" -G "Unix Makefiles"
    "-DCMAKE_TOOLCHAIN_FILE=${root}/cmake/toolchain-${triple}.cmake"
    -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_INSTALL_PREFIX=${prefix}"
    -DBUILD_SHARED_LIBS=OFF -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF
    -DPICKY_DEVELOPER=OFF
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "provide-cmocka: configuring ${top_name} for ${RM_ARCH} failed:\n${out}${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${build_dir}" --parallel 2
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "provide-cmocka: building ${top_name} for ${RM_ARCH} failed:\n${out}${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --install "${build_dir}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "provide-cmocka: installing ${top_name} for ${RM_ARCH} failed:\n${out}${err}")
endif()
if(NOT EXISTS "${prefix}/lib/libcmocka-static.a" OR NOT EXISTS "${prefix}/include/cmocka.h")
  message(FATAL_ERROR "provide-cmocka: ${top_name} installed, but ${prefix} lacks "
    "lib/libcmocka-static.a or include/cmocka.h")
endif()
message(STATUS "CMocka for ${RM_ARCH} installed in ${prefix}")
