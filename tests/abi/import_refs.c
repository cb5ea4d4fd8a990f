/*
 * References all 12 exports through an import library, to be linked but never run: the
 * import table of the result shows what a caller of each function would ask the loader for.
 * This checks an import library without a Windows (or 32-bit Wine) to run the program on.
 *
 * The prototypes are spelled out rather than taken from a header, because no header declares
 * RmReserveHeap and only the argument sizes matter here (x86 symbols are _Name@N).
 *
 * SPDX-License-Identifier: MIT
 */
typedef unsigned long rm_dword;
#define RM_IMPORT(name, args) extern rm_dword __stdcall name args;

RM_IMPORT(RmAddFilter, (rm_dword, const void *, void *, const void *, int))
RM_IMPORT(RmCancelCurrentTask, (rm_dword))
RM_IMPORT(RmEndSession, (rm_dword))
RM_IMPORT(RmGetFilterList, (rm_dword, void *, rm_dword, rm_dword *))
RM_IMPORT(RmGetList, (rm_dword, unsigned *, unsigned *, void *, rm_dword *))
RM_IMPORT(RmJoinSession, (rm_dword *, const void *))
RM_IMPORT(RmRegisterResources, (rm_dword, unsigned, const void *, unsigned, void *, unsigned, const void *))
RM_IMPORT(RmRemoveFilter, (rm_dword, const void *, void *, const void *))
RM_IMPORT(RmReserveHeap, (rm_dword))
RM_IMPORT(RmRestart, (rm_dword, rm_dword, void *))
RM_IMPORT(RmShutdown, (rm_dword, rm_dword, void *))
RM_IMPORT(RmStartSession, (rm_dword *, rm_dword, void *))

const void *const rm_import_refs[] = {
    (const void *)RmAddFilter, (const void *)RmCancelCurrentTask, (const void *)RmEndSession,
    (const void *)RmGetFilterList, (const void *)RmGetList, (const void *)RmJoinSession,
    (const void *)RmRegisterResources, (const void *)RmRemoveFilter, (const void *)RmReserveHeap,
    (const void *)RmRestart, (const void *)RmShutdown, (const void *)RmStartSession,
};

int main(void)
{
    return rm_import_refs[0] == 0;
}
