/*
 * Settings tests change and restore (see settings.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "settings.h"

#include <stdio.h>
#include <wchar.h>

#define DESKTOP_KEY L"Control Panel\\Desktop"
#define HUNG_VALUE L"HungAppTimeout"

static int saved, had;
static WCHAR old_value[64];

LSTATUS rm_test_set_hung_app_timeout(DWORD ms)
{
    WCHAR text[32];
    if (!saved) {
        DWORD size = sizeof old_value;
        had = RegGetValueW(HKEY_CURRENT_USER, DESKTOP_KEY, HUNG_VALUE, RRF_RT_REG_SZ, NULL, old_value, &size) ==
              ERROR_SUCCESS;
        saved = 1;
    }
    _snwprintf(text, 32, L"%lu", ms);
    text[31] = 0;
    return RegSetKeyValueW(HKEY_CURRENT_USER, DESKTOP_KEY, HUNG_VALUE, REG_SZ, text,
                           (DWORD)((wcslen(text) + 1) * sizeof(WCHAR)));
}

void rm_test_restore_hung_app_timeout(void)
{
    if (!saved)
        return;
    saved = 0;
    if (had)
        RegSetKeyValueW(HKEY_CURRENT_USER, DESKTOP_KEY, HUNG_VALUE, REG_SZ, old_value,
                        (DWORD)((wcslen(old_value) + 1) * sizeof(WCHAR)));
    else
        RegDeleteKeyValueW(HKEY_CURRENT_USER, DESKTOP_KEY, HUNG_VALUE);
}
