/*
 * A program written against MinGW-w64's own <restartmanager.h> and linked with our
 * librstrtmgr.dll.a: existing MinGW code must build and run against this DLL unchanged.
 * On x86 the header's WINAPI prototypes make the linker look for the stdcall symbols
 * (_RmStartSession@12 ...), so this also checks the import library carries them while the
 * DLL exports plain names.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>
#include <restartmanager.h>

#ifdef RSTRTMGR_RESTARTMANAGER_H
#error "the project's include/ is on this program's include path; it must see only MinGW-w64's header"
#endif
#ifndef _INC_RESTARTMANAGER
#error "<restartmanager.h> did not resolve to MinGW-w64's header"
#endif

#include "abi_probe.h"

/* Every function the MinGW header declares, so the link resolves each import symbol, not only
 * the ones the probe calls. (RmReserveHeap is not in MinGW's header; the probe binds it by name.) */
static const void *const declared[] = {
    (const void *)RmStartSession, (const void *)RmJoinSession, (const void *)RmEndSession,
    (const void *)RmRegisterResources, (const void *)RmGetList, (const void *)RmShutdown,
    (const void *)RmRestart, (const void *)RmCancelCurrentTask, (const void *)RmAddFilter,
    (const void *)RmRemoveFilter, (const void *)RmGetFilterList,
};

int main(void)
{
    unsigned i;
    for (i = 0; i < sizeof(declared) / sizeof(declared[0]); i++)
        if (!declared[i])
            abi_fail("an imported Rm function has a NULL address");
    return abi_probe_run() ? 1 : 0;
}
