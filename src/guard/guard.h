/*
 * The safeguard: if the installer that called RmShutdown dies before RmRestart or
 * RmEndSession, what it stopped is restarted anyway.
 *
 * RmShutdown starts a watcher process (rundll32 running this DLL's RmRunHelperW "guard"),
 * which takes the session key and the restart plans from the installer's handoff
 * (restart/handoff.h), joins the session — holding its data alive — and waits on the
 * installer. When the installer exits with the session still open, the watcher restarts what
 * the session stopped and has not brought back (only apps that ran as the installer ran: it
 * has no tokens). When the installer ends the session first, the watcher leaves without
 * restarting anything: ending without RmRestart is the installer's choice not to restart.
 * Both decisions rest on what the installer itself said (its exit, its mark in the handoff),
 * never on the session store.
 *
 * RSTRTMGR_SAFEGUARD=0 in the installer's environment turns it off.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_GUARD_H
#define RM_GUARD_H

#include <windows.h>

#define RM_SAFEGUARD_ENV L"RSTRTMGR_SAFEGUARD"
/* How often the watcher looks at the session while the installer runs. */
#define RM_GUARD_POLL_MS 500u

/* Starts the watcher for the session once (idempotent); silently does nothing when turned off
 * or impossible (no DLL path, e.g. when linked statically). */
void rm_guard_start(DWORD handle);

/* The watcher's body: args are "<owner pid> <handoff handle value>" (restart/handoff.h). */
void rm_guard_main(const WCHAR *args);

#endif
