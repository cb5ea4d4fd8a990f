/*
 * RmRegisterResources: validate and normalise everything first, then record it in one step,
 * so a bad string anywhere in the call leaves the session unchanged.
 *
 * SPDX-License-Identifier: MIT
 */
#include "api.h"
#include "session/normalize.h"
#include "session/session.h"

static void free_texts(struct rm_text *t, UINT n)
{
    if (!t)
        return;
    for (UINT i = 0; i < n; i++)
        rm_sys.free((void *)t[i].text);
    rm_sys.free(t);
}

static DWORD normalize_all(UINT nFiles, LPCWSTR files[], UINT nServices, LPCWSTR services[],
                           struct rm_batch *b)
{
    WCHAR *scratch = NULL;
    DWORD err = ERROR_SUCCESS;
    struct rm_path_env env;
    rm_path_env_init(&env);
    b->files = nFiles ? rm_alloc_zero(nFiles * sizeof *b->files) : NULL;
    b->services = nServices ? rm_alloc_zero(nServices * sizeof *b->services) : NULL;
    scratch = nFiles ? rm_sys.alloc(RM_PATH_SCRATCH * sizeof(WCHAR)) : NULL;
    if ((nFiles && (!b->files || !scratch)) || (nServices && !b->services))
        err = ERROR_OUTOFMEMORY;
    for (UINT i = 0; i < nFiles && !err; i++) {
        err = rm_normalize_file(files[i], &env, scratch, &b->files[i]);
        b->nfiles = i + !err;
    }
    for (UINT i = 0; i < nServices && !err; i++) {
        err = rm_normalize_service(services[i], &b->services[i]);
        b->nservices = i + !err;
    }
    rm_sys.free(scratch);
    return err;
}

DWORD WINAPI RmRegisterResources(DWORD dwSessionHandle, UINT nFiles, LPCWSTR rgsFileNames[],
                                 UINT nApplications, RM_UNIQUE_PROCESS rgApplications[],
                                 UINT nServices, LPCWSTR rgsServiceNames[])
{
    struct rm_batch b = {0};
    RM_API_ENTER;
    rm_trace("RmRegisterResources(%#lx, files=%u, processes=%u, services=%u)", dwSessionHandle, nFiles,
             nApplications, nServices);
    /* A non-zero count needs its array; a count this large cannot be checked against the
     * array it claims to describe, so it is refused rather than read. */
    if ((nFiles && !rgsFileNames) || (nApplications && !rgApplications) ||
        (nServices && !rgsServiceNames) || nFiles > RM_MAX_PER_CALL ||
        nApplications > RM_MAX_PER_CALL || nServices > RM_MAX_PER_CALL)
        RM_API_RETURN(ERROR_BAD_ARGUMENTS);
    DWORD err = rm_session_check(dwSessionHandle, FALSE);
    if (!err)
        err = normalize_all(nFiles, rgsFileNames, nServices, rgsServiceNames, &b);
    if (!err) {
        b.procs = rgApplications;
        b.nprocs = nApplications;
        err = rm_session_register(dwSessionHandle, &b);
    }
    free_texts(b.files, b.nfiles);
    free_texts(b.services, b.nservices);
    RM_API_RETURN(err);
}
