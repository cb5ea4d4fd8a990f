/*
 * A downstream program that found rstrtmgr through its installed package (CMake config or
 * pkg-config) and nothing else.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>
#include <restartmanager.h>

/* MinGW-w64 ships a restartmanager.h too; a package that forgot its include directory would
 * still compile against that one, so insist on ours. */
#ifndef RSTRTMGR_RESTARTMANAGER_H
#error "<restartmanager.h> is not the installed rstrtmgr header"
#endif
#if ERROR_MAX_SESSIONS_REACHED != 353
#error "the installed header must define the Restart Manager error codes"
#endif

#include "abi_probe.h"

int main(void)
{
    return abi_probe_run() ? 1 : 0;
}
