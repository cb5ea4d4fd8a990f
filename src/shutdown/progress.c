/* SPDX-License-Identifier: MIT */
#include "shutdown.h"

/* The SDK declares the callback without a calling convention (__cdecl on x86), but bindings
 * often pass __stdcall functions, which pop their argument themselves. Saving ESP in a
 * callee-saved register and restoring it after the call is right for both. */
static void call_status(RM_WRITE_STATUS_CALLBACK fn, UINT percent)
{
#if defined(__i386__)
    __asm__ __volatile__("movl %%esp, %%edi\n\t"
                         "pushl %1\n\t"
                         "call *%0\n\t"
                         "movl %%edi, %%esp\n\t"
                         :
                         : "r"(fn), "r"(percent)
                         : "eax", "ecx", "edx", "edi", "memory", "cc");
#else
    fn(percent);
#endif
}

static void report(struct rm_progress *p, UINT percent)
{
    if (!p->fn || (p->started && percent <= p->last))
        return;
    p->started = 1;
    p->last = percent;
    call_status(p->fn, percent);
}

void rm_progress_report(struct rm_progress *p)
{
    report(p, p->total ? (UINT)((uint64_t)p->done * 100 / p->total) : 0);
}

void rm_progress_finish(struct rm_progress *p)
{
    report(p, 100);
}
