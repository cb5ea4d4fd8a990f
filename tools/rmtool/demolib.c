/*
 * demolib - the library the demo replaces while demoapp has it loaded. Built twice, as
 * demo/v1/demolib.dll and demo/v2/demolib.dll, with DEMOLIB_VERSION set by the build.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>

#ifndef DEMOLIB_VERSION
#error "the build sets DEMOLIB_VERSION"
#endif

__declspec(dllexport) const char *demolib_version(void)
{
    return DEMOLIB_VERSION;
}
