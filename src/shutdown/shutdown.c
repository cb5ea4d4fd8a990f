/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "shutdown.h"
#include "sys/sys.h"

static int is_gui(const struct rm_target *t)
{
    return t->info.ApplicationType == RmMainWindow || t->info.ApplicationType == RmOtherWindow;
}

/* The targets of one phase, in list order. */
static uint32_t select(struct rm_target *t, uint32_t n, struct rm_target **out, int (*pick)(const struct rm_target *))
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (pick(&t[i]))
            out[k++] = &t[i];
    return k;
}

static int pick_gui(const struct rm_target *t)
{
    return is_gui(t);
}

static int pick_console(const struct rm_target *t)
{
    return t->info.ApplicationType == RmConsole;
}

static int pick_service(const struct rm_target *t)
{
    return t->info.ApplicationType == RmService;
}

static int pick_explorer(const struct rm_target *t)
{
    return t->info.ApplicationType == RmExplorer;
}

static int pick_unknown(const struct rm_target *t)
{
    return t->info.ApplicationType == RmUnknownApp;
}

void rm_settle(struct rm_shutdown *s, struct rm_target *x)
{
    BOOL forced = (s->flags & RmForceShutdown) != 0;
    BOOL exited = x->process && rm_sys.WaitForSingleObject(x->process, 0) == WAIT_OBJECT_0;
    BOOL ended = !exited && x->process && forced && rm_terminate(x->process);
    if (exited || ended)
        x->status = (x->status & ~(uint32_t)RmStatusRunning) | RmStatusStopped;
    else
        x->status |= RmStatusErrorOnStop;
    rm_trace("shutdown: pid %lu %s", x->info.Process.dwProcessId,
             exited ? "exited" : ended ? "did not exit in time: terminated (forced)" : "still runs: error on stop");
    s->progress.done++;
    rm_progress_report(&s->progress);
}

/* Apps we know no polite way to close: a forced call ends them, otherwise they stay. */
static void unknown_apps(struct rm_shutdown *s, struct rm_target **t, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        rm_settle(s, t[i]);
}

DWORD rm_shutdown_run(struct rm_shutdown *s, struct rm_target *t, uint32_t n)
{
    struct rm_target **phase = rm_sys.alloc((n ? n : 1) * sizeof(struct rm_target *));
    if (!phase)
        return ERROR_OUTOFMEMORY;
    s->progress.total = n;
    s->progress.done = 0;
    rm_progress_report(&s->progress);

    int refused = 0;
    uint32_t k = select(t, n, phase, pick_gui);
    DWORD err = rm_shutdown_gui(s, phase, k, &refused);
    /* A refusal cancels the shutdown: nothing else is touched. */
    if (!err && !refused && !rm_cancelled(s->cancel)) {
        k = select(t, n, phase, pick_unknown);
        unknown_apps(s, phase, k);
        k = select(t, n, phase, pick_console);
        err = rm_shutdown_consoles(s, phase, k);
    }
    if (!err && !refused && !rm_cancelled(s->cancel)) {
        k = select(t, n, phase, pick_service);
        err = rm_shutdown_services(s, phase, k);
    }
    if (!err && !refused && !rm_cancelled(s->cancel)) {
        k = select(t, n, phase, pick_explorer);
        err = rm_shutdown_gui(s, phase, k, &refused);
    }
    rm_sys.free(phase);
    if (!err && rm_cancelled(s->cancel))
        err = ERROR_CANCELLED;
    if (err)
        return err;
    rm_progress_finish(&s->progress);
    for (uint32_t i = 0; i < n; i++)
        if (t[i].status & RmStatusErrorOnStop)
            return ERROR_FAIL_SHUTDOWN;
    return refused ? ERROR_FAIL_SHUTDOWN : ERROR_SUCCESS;
}
