/*
 * System settings tests change for a while (HKCU\Control Panel\Desktop\HungAppTimeout, which
 * bounds how long RmShutdown waits for an app), and put back as they were.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_TEST_SETTINGS_H
#define RM_TEST_SETTINGS_H

#include <windows.h>

/* Sets HungAppTimeout to `ms`; the first call remembers the value it replaces. Returns the
 * registry's error code. */
LSTATUS rm_test_set_hung_app_timeout(DWORD ms);

/* Puts back (or removes) what the first rm_test_set_hung_app_timeout found; nothing if none. */
void rm_test_restore_hung_app_timeout(void);

#endif
