/*
 * rsapplib: the DLL a real-client case installs while an app has it loaded (rsapp --load).
 * It only says which edition it is, so the app's log shows which copy it loaded.
 *
 * SPDX-License-Identifier: MIT
 */
#include <windows.h>

__declspec(dllexport) int rsapp_edition(void);

int rsapp_edition(void)
{
    return RSAPPLIB_EDITION;
}
