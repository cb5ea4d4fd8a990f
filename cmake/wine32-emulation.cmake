# Included by cmake/setup.cmake once wine32:i386 is installed: makes sure the 32-bit Wine loader
# can actually run, and says why not when it cannot.
#
# Installing wine32:i386 is not enough on every machine. Some kernels (virtual machines among
# them) do not execute 32-bit x86 programs at all: /usr/lib/wine/wine then fails with "Exec
# format error" and every x86 test would fail at start-up. There the 32-bit loader can still run
# under QEMU's user-mode emulator, registered with the kernel's binfmt_misc for i386 ELF files,
# so that every 32-bit program Wine starts (its preloader, each new 32-bit process) goes through
# it. The Windows code itself is the same either way; only the CPU instructions are emulated.
#
# The emulator must be QEMU 8.1 or newer. Older ones keep their page flags in a per-page table
# and walk it on every mmap; Wine reserves most of the 32-bit address space up front, and a single
# 32-bit Wine process then took about 45 s to start (measured with QEMU 7.2, 97 % of the time in
# that walk). From 8.1 on the flags live in an interval tree and the same start takes 0.2 s.
# When the machine's release ships an older QEMU, the newer one comes from the same release's
# backports suite, on the same archive the machine already uses.
#
# Defines rm_wine32_runnable(<loader> <ok_var> <reason_var>).

set(_rm_qemu_min 8.1)
set(_rm_binfmt_dir /proc/sys/fs/binfmt_misc)
set(_rm_binfmt_name rstrtmgr-i386)

# Runs the loader once; <ok_var> ON when it answered, else <err_var> holds what went wrong.
function(rm_probe_loader loader ok_var err_var)
  execute_process(COMMAND "${loader}" --version TIMEOUT 60
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 AND out MATCHES "^wine-")
    set(${ok_var} ON PARENT_SCOPE)
  else()
    string(STRIP "${err}" err)
    string(REPLACE "\n" " " err "${err}")
    set(${ok_var} OFF PARENT_SCOPE)
    set(${err_var} "exit ${rc}: ${err}" PARENT_SCOPE)
  endif()
endfunction()

# The version of qemu-i386 on the PATH, or "" when there is none.
function(rm_qemu_i386_version out)
  set(v "")
  find_program(qemu NAMES qemu-i386 NO_CACHE)
  if(qemu)
    execute_process(COMMAND "${qemu}" --version OUTPUT_VARIABLE text ERROR_QUIET)
    if(text MATCHES "version ([0-9]+\\.[0-9]+(\\.[0-9]+)?)")
      set(v "${CMAKE_MATCH_1}")
    endif()
  endif()
  set(${out} "${v}" PARENT_SCOPE)
endfunction()

# Writes, under build/_deps/, an apt sources folder that holds the machine's own source files
# plus the backports suite of this release on the archive the machine's entry for the release
# already names. apt is pointed at it per command (Dir::Etc::sourceparts), so the machine's
# configuration is left as it was. Stores the folder in <dir_var> and the suite in <suite_var>;
# both empty when the release or its archive cannot be told.
function(rm_backports_sources dir_var suite_var)
  set(${dir_var} "" PARENT_SCOPE)
  set(${suite_var} "" PARENT_SCOPE)
  if(NOT EXISTS /etc/os-release)
    return()
  endif()
  file(STRINGS /etc/os-release codename REGEX "^VERSION_CODENAME=")
  string(REGEX REPLACE "^VERSION_CODENAME=\"?([a-z]+)\"?$" "\\1" codename "${codename}")
  if(NOT codename MATCHES "^[a-z]+$")
    return()
  endif()
  set(entry "")
  file(GLOB parts /etc/apt/sources.list.d/*.sources)
  foreach(f IN LISTS parts)
    file(READ "${f}" text)
    # deb822 stanzas are separated by blank lines.
    string(REGEX REPLACE "\n[ \t]*\n" ";" stanzas "${text}")
    foreach(s IN LISTS stanzas)
      if(s MATCHES "(^|\n)Suites:[^\n]*[ \t]${codename}([ \t]|\n|$)" AND s MATCHES "(^|\n)URIs:[ \t]*([^ \t\n]+)")
        set(uri "${CMAKE_MATCH_2}")
        set(signed "")
        if(s MATCHES "(^|\n)Signed-By:[ \t]*([^\n]+)")
          set(signed "Signed-By: ${CMAKE_MATCH_2}\n")
        endif()
        set(entry "Types: deb\nURIs: ${uri}\nSuites: ${codename}-backports\nComponents: main\n${signed}")
        break()
      endif()
    endforeach()
    if(entry)
      break()
    endif()
  endforeach()
  if(NOT entry AND EXISTS /etc/apt/sources.list)
    file(STRINGS /etc/apt/sources.list lines REGEX "^deb[ \t]")
    foreach(l IN LISTS lines)
      if(l MATCHES "^deb[ \t]+(\\[[^]]*\\][ \t]+)?([^ \t]+)[ \t]+${codename}[ \t]")
        set(entry "Types: deb\nURIs: ${CMAKE_MATCH_2}\nSuites: ${codename}-backports\nComponents: main\n")
        break()
      endif()
    endforeach()
  endif()
  if(NOT entry)
    return()
  endif()
  set(dir "${RM_ROOT}/build/_deps/apt-sources.d")
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
  file(GLOB own /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  foreach(f IN LISTS own)
    get_filename_component(n "${f}" NAME)
    file(CREATE_LINK "${f}" "${dir}/${n}" SYMBOLIC)
  endforeach()
  file(WRITE "${dir}/zz-rstrtmgr-backports.sources" "${entry}")
  set(${dir_var} "${dir}" PARENT_SCOPE)
  set(${suite_var} "${codename}-backports" PARENT_SCOPE)
endfunction()

# Installs qemu-user (which has qemu-i386) of at least ${_rm_qemu_min}: the release's own
# package when it is new enough, else the release's backports. <reason_var> is set on failure.
function(rm_provide_qemu ok_var reason_var)
  set(${ok_var} OFF PARENT_SCOPE)
  rm_qemu_i386_version(v)
  if(v AND v VERSION_GREATER_EQUAL _rm_qemu_min)
    set(${ok_var} ON PARENT_SCOPE)
    return()
  endif()
  rm_apt_update_once()
  execute_process(COMMAND apt-cache policy qemu-user OUTPUT_VARIABLE policy ERROR_QUIET)
  set(candidate "")
  if(policy MATCHES "Candidate: ([0-9]+:)?([0-9]+\\.[0-9]+)")
    set(candidate "${CMAKE_MATCH_2}")
  endif()
  if(candidate AND candidate VERSION_GREATER_EQUAL _rm_qemu_min)
    message(STATUS "Installing qemu-user ${candidate} to run the 32-bit Wine loader")
    execute_process(COMMAND ${RM_APT_GET} install -y --no-install-recommends qemu-user
      RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  else()
    rm_backports_sources(dir suite)
    if(NOT dir)
      set(${reason_var} "qemu-user ${candidate} is older than ${_rm_qemu_min} and this release's backports suite could not be derived from the apt sources" PARENT_SCOPE)
      return()
    endif()
    message(STATUS "Installing qemu-user from ${suite} (this release has ${candidate}; ${_rm_qemu_min} or newer is needed) to run the 32-bit Wine loader")
    set(apt_opts -o "Dir::Etc::sourceparts=${dir}")
    execute_process(COMMAND ${RM_APT_GET} -q ${apt_opts} update
      RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    execute_process(COMMAND ${RM_APT_GET} install -y --no-install-recommends ${apt_opts} -t ${suite} qemu-user
      RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  endif()
  rm_qemu_i386_version(v)
  if(NOT v OR v VERSION_LESS _rm_qemu_min)
    string(REGEX MATCHALL "(^|\n)E: [^\n]*" errors "${err}")
    set(why "apt-get install qemu-user exited ${rc}")
    if(errors)
      list(GET errors -1 last)
      string(STRIP "${last}" last)
      set(why "apt-get said \"${last}\"")
    endif()
    set(${reason_var} "no qemu-i386 ${_rm_qemu_min} or newer could be installed (${why})" PARENT_SCOPE)
    return()
  endif()
  set(${ok_var} ON PARENT_SCOPE)
endfunction()

# Registers qemu-i386 with binfmt_misc for i386 ELF executables (kept until the machine restarts,
# like any binfmt_misc entry). An entry of ours that is already there is left as it is.
function(rm_register_i386_binfmt ok_var reason_var)
  set(${ok_var} OFF PARENT_SCOPE)
  if(NOT EXISTS "${_rm_binfmt_dir}/register")
    execute_process(COMMAND mount -t binfmt_misc binfmt_misc "${_rm_binfmt_dir}"
      RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
    if(NOT EXISTS "${_rm_binfmt_dir}/register")
      string(STRIP "${err}" err)
      set(${reason_var} "binfmt_misc could not be mounted (${err})" PARENT_SCOPE)
      return()
    endif()
  endif()
  find_program(qemu NAMES qemu-i386 NO_CACHE)
  if(NOT EXISTS "${_rm_binfmt_dir}/${_rm_binfmt_name}")
    # ELF, 32-bit, little-endian, executable or shared object, machine 3 (i386): the pattern
    # QEMU's own binfmt configuration uses for i386.
    set(magic "\\x7f\\x45\\x4c\\x46\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x03\\x00")
    set(mask "\\xff\\xff\\xff\\xff\\xff\\xfe\\xfe\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff")
    execute_process(COMMAND sh -c "printf '%s' \"$1\" > ${_rm_binfmt_dir}/register" sh
      ":${_rm_binfmt_name}:M::${magic}:${mask}:${qemu}:"
      RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      string(STRIP "${err}" err)
      set(${reason_var} "registering qemu-i386 with binfmt_misc failed (${err})" PARENT_SCOPE)
      return()
    endif()
    message(STATUS "Registered ${qemu} with binfmt_misc for i386 programs (${_rm_binfmt_dir}/${_rm_binfmt_name})")
  endif()
  set(${ok_var} ON PARENT_SCOPE)
endfunction()

# <ok_var> ON when <loader> runs, natively or (set up here when needed) under QEMU. Sets
# RM_WINE32_EMULATED in the caller's scope to say which.
function(rm_wine32_runnable loader ok_var reason_var)
  set(RM_WINE32_EMULATED OFF PARENT_SCOPE)
  rm_probe_loader("${loader}" ok native_err)
  if(ok)
    set(${ok_var} ON PARENT_SCOPE)
    if(EXISTS "${_rm_binfmt_dir}/${_rm_binfmt_name}")
      set(RM_WINE32_EMULATED ON PARENT_SCOPE)
    endif()
    return()
  endif()
  set(${ok_var} OFF PARENT_SCOPE)
  set(prefix "wine32 is installed but this kernel does not run its 32-bit loader ${loader} (${native_err})")
  if(NOT RM_SETUP_WINE32)
    set(${reason_var} "${prefix}; setting up qemu-i386 was not requested (RM_SETUP_WINE32=OFF)" PARENT_SCOPE)
    return()
  endif()
  if(NOT _rm_can_install)
    set(${reason_var} "${prefix}; running it under qemu-i386 needs Debian as root" PARENT_SCOPE)
    return()
  endif()
  message(STATUS "${prefix}: setting up qemu-i386 to run it")
  rm_provide_qemu(have_qemu why)
  if(have_qemu)
    rm_register_i386_binfmt(registered why)
  endif()
  if(NOT have_qemu OR NOT registered)
    set(${reason_var} "${prefix}; ${why}" PARENT_SCOPE)
    return()
  endif()
  rm_probe_loader("${loader}" ok emulated_err)
  if(NOT ok)
    set(${reason_var} "${prefix}; under qemu-i386 it failed too (${emulated_err})" PARENT_SCOPE)
    return()
  endif()
  set(${ok_var} ON PARENT_SCOPE)
  set(RM_WINE32_EMULATED ON PARENT_SCOPE)
  # A prefix made while the 32-bit loader could not run has no 32-bit half (its wineboot could
  # not run the 32-bit steps, and syswow64 stays empty): it is made again on first use.
  set(pfx "${RM_ROOT}/build/x86/wineprefix")
  if(EXISTS "${pfx}/drive_c/windows/system32" AND NOT EXISTS "${pfx}/drive_c/windows/syswow64/kernel32.dll")
    message(STATUS "Removing build/x86/wineprefix, made while 32-bit programs could not run")
    file(REMOVE_RECURSE "${pfx}")
  endif()
endfunction()
