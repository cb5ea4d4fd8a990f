/*
 * Handle counting for leak checks, shared by every test suite.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_TEST_HANDLES_H
#define RM_TEST_HANDLES_H

#include <windows.h>

/* How many handles this process has open, or (DWORD)-1 if that cannot be read.
 * GetProcessHandleCount where it answers; under Wine it reports 0 whatever is open, so then this
 * process's entries in the system handle table are counted instead. */
DWORD rm_test_handle_count(void);

/* For set-up and tear-down: remembers the count now; later returns 0 when it is the same, else
 * prints both and returns -1 (CMocka fails a test whose teardown does not return 0). */
void rm_test_handles_mark(void);
int rm_test_handles_unchanged(void);

#endif
