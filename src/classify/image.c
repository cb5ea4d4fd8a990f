/*
 * What a holder's executable is: its path, its PE subsystem (console or not), and whether its
 * command line can be read.
 *
 * The loaded image in the process is the truth (the file may have been replaced since), so it
 * is read first, through the PEB. Reading another process's PEB needs our structure layout to
 * be its layout; where it is not (a 32-bit caller and a 64-bit target), the file on disk
 * answers instead. Every header is checked before it is believed.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stddef.h>
#include <string.h>
#include <winternl.h>

#include "detect/params.h"
#include "session/path.h"
#include "sys/sys.h"

/* NtQueryInformationProcess class for the command line (Windows 8.1 and later); older systems
 * answer STATUS_INVALID_INFO_CLASS and the PEB is read instead. */
#define RM_PROCESS_COMMAND_LINE_INFORMATION ((PROCESSINFOCLASS)60)

/* A UNICODE_STRING holds at most 65535 bytes: this buffer takes any command line whole. */
#define CMDLINE_BYTES (sizeof(UNICODE_STRING) + 65536u)

/* The headers sit in the first page of an image; a generous window still costs one view. */
#define HEADER_WINDOW (64u * 1024u)

_Static_assert(offsetof(IMAGE_OPTIONAL_HEADER32, Subsystem) == offsetof(IMAGE_OPTIONAL_HEADER64, Subsystem),
               "Subsystem sits at one offset in both optional header forms");

/* Signature, file header, and the optional header up to and including Subsystem. */
#define NT_PREFIX (sizeof(DWORD) + sizeof(IMAGE_FILE_HEADER) + offsetof(IMAGE_OPTIONAL_HEADER32, Subsystem) + \
                   sizeof(WORD))

size_t rm_image_path(struct rm_cls_call *c, HANDLE query)
{
    DWORD n = RM_CLS_PATH_MAX - 16u;
    c->image[0] = 0;
    if (!query || !rm_sys.QueryFullProcessImageNameW(query, 0, c->image, &n) || !n || n >= RM_CLS_PATH_MAX - 16u)
        return 0;
    c->image[n] = 0;
    return n;
}

const WCHAR *rm_image_open_path(struct rm_cls_call *c, size_t len)
{
    if (!c->self_wow64)
        return c->image;
    memcpy(c->open_path, c->image, (len + 1) * sizeof(WCHAR));
    rm_path_native_for_wow64((uint16_t *)c->open_path, len, (const uint16_t *)c->windir, c->windir_len);
    return c->open_path;
}

/* ---- PE headers ----------------------------------------------------------------------------- */

static WORD nt_subsystem(const BYTE *nt)
{
    DWORD signature;
    WORD magic, subsystem;
    const BYTE *opt = nt + sizeof(DWORD) + sizeof(IMAGE_FILE_HEADER);
    memcpy(&signature, nt, sizeof signature);
    memcpy(&magic, opt, sizeof magic);
    memcpy(&subsystem, opt + offsetof(IMAGE_OPTIONAL_HEADER32, Subsystem), sizeof subsystem);
    if (signature != IMAGE_NT_SIGNATURE)
        return 0;
    if (magic != IMAGE_NT_OPTIONAL_HDR32_MAGIC && magic != IMAGE_NT_OPTIONAL_HDR64_MAGIC)
        return 0;
    return subsystem;
}

/* Where the NT headers start, from a DOS header; 0 if it is not one. */
static LONG nt_offset(const IMAGE_DOS_HEADER *dos)
{
    if (dos->e_magic != IMAGE_DOS_SIGNATURE || dos->e_lfanew <= 0 || dos->e_lfanew > (LONG)HEADER_WINDOW)
        return 0;
    return dos->e_lfanew;
}

/* ---- the loaded image, through the PEB ------------------------------------------------------- */

static int read_at(HANDLE h, ULONG_PTR at, void *buf, SIZE_T n)
{
    SIZE_T got = 0;
    return at && rm_sys.ReadProcessMemory(h, (LPCVOID)at, buf, n, &got) && got == n;
}

/* Can this process read the target's PEB with its own structure layout? */
static int peb_layout_usable(const struct rm_cls_call *c, HANDLE query)
{
#ifdef _WIN64
    /* Every process has a native (64-bit) PEB, WoW64 ones included, and it has our layout. */
    (void)c, (void)query;
    return 1;
#else
    /* On 32-bit Windows all processes are 32-bit. Under WoW64, the OS gives a 32-bit caller the
     * 32-bit PEB of a 32-bit target; a 64-bit target's PEB has another layout (and may lie out
     * of reach). */
    BOOL wow64 = FALSE;
    if (!c->self_wow64)
        return 1;
    return query && rm_sys.IsWow64Process(query, &wow64) && wow64;
#endif
}

static ULONG_PTR peb_address(HANDLE deep)
{
    PROCESS_BASIC_INFORMATION pbi;
    ULONG len = 0;
    memset(&pbi, 0, sizeof pbi);
    if (rm_sys.NtQueryInformationProcess(deep, ProcessBasicInformation, &pbi, sizeof pbi, &len) < 0)
        return 0;
    return (ULONG_PTR)pbi.PebBaseAddress;
}

static WORD subsystem_in_memory(struct rm_cls_call *c, HANDLE query, HANDLE deep)
{
    ULONG_PTR peb, base = 0;
    IMAGE_DOS_HEADER dos;
    BYTE nt[NT_PREFIX];
    if (!deep || !peb_layout_usable(c, query) || !(peb = peb_address(deep)))
        return 0;
    /* PEB.ImageBaseAddress: the winternl.h name is Reserved3[1]. */
    if (!read_at(deep, peb + offsetof(PEB, Reserved3[1]), &base, sizeof base))
        return 0;
    if (!read_at(deep, base, &dos, sizeof dos) || !nt_offset(&dos))
        return 0;
    if (!read_at(deep, base + (ULONG_PTR)dos.e_lfanew, nt, sizeof nt))
        return 0;
    return nt_subsystem(nt);
}

/* ---- the file on disk ------------------------------------------------------------------------- */

static WORD subsystem_in_view(const BYTE *view, size_t size)
{
    IMAGE_DOS_HEADER dos;
    if (size < sizeof dos)
        return 0;
    memcpy(&dos, view, sizeof dos);
    LONG at = nt_offset(&dos);
    if (!at || (size_t)at + NT_PREFIX > size)
        return 0;
    return nt_subsystem(view + at);
}

static WORD subsystem_in_mapping(HANDLE file)
{
    BY_HANDLE_FILE_INFORMATION info;
    WORD subsystem = 0;
    if (!rm_sys.GetFileInformationByHandle(file, &info))
        return 0;
    size_t size = info.nFileSizeHigh || info.nFileSizeLow > HEADER_WINDOW ? HEADER_WINDOW : info.nFileSizeLow;
    if (size < sizeof(IMAGE_DOS_HEADER))
        return 0; /* also keeps an empty file away from CreateFileMapping, which refuses it */
    HANDLE map = rm_sys.CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
    if (!map)
        return 0;
    const BYTE *view = rm_sys.MapViewOfFile(map, FILE_MAP_READ, 0, 0, size);
    if (view) {
        subsystem = subsystem_in_view(view, size);
        rm_sys.UnmapViewOfFile(view);
    }
    rm_sys.CloseHandle(map);
    return subsystem;
}

static WORD subsystem_in_file(const WCHAR *path)
{
    if (!path || !path[0])
        return 0;
    HANDLE f = rm_sys.CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                                  OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return 0;
    WORD subsystem = subsystem_in_mapping(f);
    rm_sys.CloseHandle(f);
    return subsystem;
}

WORD rm_image_subsystem(struct rm_cls_call *c, HANDLE query, HANDLE deep, const WCHAR *file)
{
    WORD subsystem = subsystem_in_memory(c, query, deep);
    return subsystem ? subsystem : subsystem_in_file(file);
}

/* ---- the command line ------------------------------------------------------------------------- */

static int cmdline_from_peb(struct rm_cls_call *c, HANDLE query, HANDLE deep)
{
    ULONG_PTR peb, params = 0;
    UNICODE_STRING cmd;
    if (!deep || !peb_layout_usable(c, query) || !(peb = peb_address(deep)))
        return 0;
    if (!read_at(deep, peb + offsetof(PEB, ProcessParameters), &params, sizeof params))
        return 0;
    if (!read_at(deep, params + offsetof(RTL_USER_PROCESS_PARAMETERS, CommandLine), &cmd, sizeof cmd))
        return 0;
    return cmd.Length && read_at(deep, (ULONG_PTR)cmd.Buffer, c->cmdline, cmd.Length);
}

int rm_cmdline_readable(struct rm_cls_call *c, HANDLE query, HANDLE deep, const RM_UNIQUE_PROCESS *who)
{
    if (c->self_wow64 && query && rm_process_beyond_wow64(query)) {
        /* Out of our reach: the native helper read it, or nobody could. */
        const struct rm_native_proc *np = rm_native_find(&c->native, who->dwProcessId, &who->ProcessStartTime);
        if (np && (np->have & RM_NATIVE_PARAMS))
            return np->cmd[0] != 0;
        rm_trace("classify: 64-bit pid %lu: its command line is out of a 32-bit caller's reach without the native "
                 "helper: not restartable", who->dwProcessId);
        return 0;
    }
    if (!c->cmdline && !(c->cmdline = rm_sys.alloc(CMDLINE_BYTES)))
        return -1;
    if (query) {
        ULONG len = 0;
        NTSTATUS st = rm_sys.NtQueryInformationProcess(query, RM_PROCESS_COMMAND_LINE_INFORMATION, c->cmdline,
                                                       (ULONG)CMDLINE_BYTES, &len);
        if (st >= 0)
            return ((const UNICODE_STRING *)(void *)c->cmdline)->Length != 0;
    }
    return cmdline_from_peb(c, query, deep);
}
