/*
 * What the benchmarks share: progress output, argument numbers, medians' ordering, and
 * starting this program again in a role, many at once, then waiting until each says it is ready.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_BENCH_COMMON_H
#define RM_BENCH_COMMON_H

#include <windows.h>

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* s as a decimal number in [lo, hi]; 0 if it is not one. */
int bench_number(const WCHAR *s, unsigned lo, unsigned hi, unsigned *out);

/* qsort order of doubles. */
int bench_by_value(const void *a, const void *b);

/* Starts `cmd` from `exe` with nothing of ours inherited, its thread handle closed; 0 (said,
 * naming `what` number i) if it cannot. */
int bench_start(const WCHAR *exe, WCHAR *cmd, const char *what, unsigned i, PROCESS_INFORMATION *pi);

/* Waits until every ready[i] is set, all within one budget of budget_ms (they start in
 * parallel); 0 (said) when one exits or the budget runs out first. */
int bench_wait_ready(const HANDLE *ready, const PROCESS_INFORMATION *pi, unsigned n, DWORD budget_ms,
                     const char *what);

#endif
