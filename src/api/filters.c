/*
 * RmAddFilter, RmRemoveFilter, RmGetFilterList.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stddef.h>
#include <string.h>

#include "api.h"
#include "session/filterbuf.h"
#include "session/normalize.h"
#include "session/session.h"

/* Exactly one of the three ways to name a filter target, turned into a filter item whose
 * texts are normalised like registrations (so a path filter names the same file). */
static DWORD make_item(LPCWSTR module, const RM_UNIQUE_PROCESS *process, LPCWSTR service, struct rm_filter_item *it)
{
    memset(it, 0, sizeof *it);
    if ((module != NULL) + (process != NULL) + (service != NULL) != 1)
        return ERROR_BAD_ARGUMENTS;
    struct rm_text t = {0};
    DWORD err = ERROR_SUCCESS;
    if (process) {
        it->trigger = RmFilterTriggerProcess;
        it->pid = process->dwProcessId;
        it->time_lo = process->ProcessStartTime.dwLowDateTime;
        it->time_hi = process->ProcessStartTime.dwHighDateTime;
        return ERROR_SUCCESS;
    }
    if (service) {
        it->trigger = RmFilterTriggerService;
        err = rm_normalize_service(service, &t);
    } else {
        struct rm_path_env env;
        WCHAR *scratch = rm_sys.alloc(RM_PATH_SCRATCH * sizeof(WCHAR));
        if (!scratch)
            return ERROR_OUTOFMEMORY;
        rm_path_env_init(&env);
        it->trigger = RmFilterTriggerFile;
        err = rm_normalize_file(module, &env, scratch, &t);
        rm_sys.free(scratch);
    }
    it->text = t.text;
    it->nchars = t.nchars;
    return err;
}

DWORD WINAPI RmAddFilter(DWORD dwSessionHandle, LPCWSTR strModuleName, RM_UNIQUE_PROCESS *pProcess,
                         LPCWSTR strServiceShortName, RM_FILTER_ACTION FilterAction)
{
    struct rm_filter_item it;
    RM_API_ENTER;
    WCHAR m[104], sv[104];
    if (rm_trace_on())
        rm_trace("RmAddFilter(%#lx, module=%ls, process=%lu, service=%ls, action=%d)", dwSessionHandle,
                 rm_trace_text(strModuleName, m), pProcess ? pProcess->dwProcessId : 0ul,
                 rm_trace_text(strServiceShortName, sv), (int)FilterAction);
    if (FilterAction != RmNoRestart && FilterAction != RmNoShutdown)
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    DWORD err = make_item(strModuleName, pProcess, strServiceShortName, &it);
    it.action = (uint32_t)FilterAction;
    if (!err)
        err = rm_session_filter_set(dwSessionHandle, &it);
    rm_sys.free((void *)it.text);
    RM_API_RETURN(err);
}

DWORD WINAPI RmRemoveFilter(DWORD dwSessionHandle, LPCWSTR strModuleName, RM_UNIQUE_PROCESS *pProcess,
                            LPCWSTR strServiceShortName)
{
    struct rm_filter_item it;
    RM_API_ENTER;
    WCHAR m[104], sv[104];
    if (rm_trace_on())
        rm_trace("RmRemoveFilter(%#lx, module=%ls, process=%lu, service=%ls)", dwSessionHandle,
                 rm_trace_text(strModuleName, m), pProcess ? pProcess->dwProcessId : 0ul,
                 rm_trace_text(strServiceShortName, sv));
    DWORD err = make_item(strModuleName, pProcess, strServiceShortName, &it);
    if (!err)
        err = rm_session_filter_remove(dwSessionHandle, &it);
    rm_sys.free((void *)it.text);
    RM_API_RETURN(err);
}

DWORD WINAPI RmGetFilterList(DWORD dwSessionHandle, PBYTE pbFilterBuf, DWORD cbFilterBuf,
                             LPDWORD cbFilterBufNeeded)
{
    static const struct rm_filter_abi abi = {sizeof(RM_FILTER_INFO), offsetof(RM_FILTER_INFO, strFilename),
                                             sizeof(void *)};
    struct rm_filter_item *items;
    uint32_t n;
    RM_API_ENTER;
    rm_trace("RmGetFilterList(%#lx, buffer=%lu bytes)", dwSessionHandle, cbFilterBuf);
    if (!cbFilterBufNeeded || (cbFilterBuf && !pbFilterBuf))
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    DWORD err = rm_session_filters(dwSessionHandle, &items, &n);
    if (err)
        RM_API_RETURN(err);
    uint32_t need = rm_filterbuf_size(&abi, items, n);
    *cbFilterBufNeeded = need;
    if (n && !need)
        err = ERROR_OUTOFMEMORY;
    else if (need && (!pbFilterBuf || cbFilterBuf < need))
        err = ERROR_MORE_DATA;
    else if (need)
        rm_filterbuf_write(&abi, items, n, pbFilterBuf, cbFilterBuf, (uint64_t)(uintptr_t)pbFilterBuf);
    rm_session_filters_free(items, n);
    RM_API_RETURN(err);
}
