/*
 * A program built the way an MSVC project is: compiled for the *-windows-msvc target, linked
 * by an MSVC-compatible linker (lld-link) against rstrtmgr.lib, with no C runtime. It uses the
 * project's header as an SDK user would use the SDK's. The MSVC import library is a separate
 * artifact from librstrtmgr.dll.a, written by another tool, so it needs its own consumer.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>
#include <restartmanager.h>

#ifndef RSTRTMGR_RESTARTMANAGER_H
#error "expected the project's restartmanager.h"
#endif

#include "abi_probe.h"

void __stdcall abi_entry(void);

void __stdcall abi_entry(void)
{
    ExitProcess(abi_probe_run() ? 1 : 0);
}
