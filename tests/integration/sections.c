/* SPDX-License-Identifier: MIT */
#include "sections.h"

#include "it.h"

#include <stdio.h>
#include <string.h>

#include "session/key.h"
#include "session/store.h"
#include "sys/sys.h"

void it_object_name(WCHAR *buf, const WCHAR *prefix, const WCHAR *suffix)
{
    const WCHAR *sid = rm_user_sid();
    assert_non_null(sid);
    _snwprintf(buf, 256, L"Local\\%ls.%ls%ls", prefix, sid, suffix);
    buf[255] = 0;
}

struct rm_store *it_open_store(HANDLE *section)
{
    WCHAR name[256];
    it_object_name(name, it_prefix, L"");
    *section = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    assert_non_null(*section);
    struct rm_store *s = MapViewOfFile(*section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof *s);
    assert_non_null(s);
    return s;
}

void it_close_view(void *view, HANDLE section)
{
    UnmapViewOfFile(view);
    CloseHandle(section);
}

uint32_t it_slot_of(const struct rm_store *s, const WCHAR *key_text)
{
    uint8_t key[RM_KEY_BYTES];
    assert_int_equal(rm_key_decode((const uint16_t *)key_text, key), 0);
    for (uint32_t i = 0; i < RM_MAX_SESSIONS; i++)
        if (s->slots[i].state == RM_SLOT_LIVE && memcmp(s->slots[i].key, key, sizeof key) == 0)
            return i;
    fail_msg("no live slot holds the session's key");
    return 0;
}

uint32_t it_first_free_slot(const struct rm_store *s)
{
    for (uint32_t i = 0; i < RM_MAX_SESSIONS; i++)
        if (s->slots[i].state == RM_SLOT_FREE)
            return i;
    fail_msg("no free slot");
    return 0;
}

struct rm_data_header *it_open_data(const WCHAR *key, HANDLE *section, DWORD view)
{
    WCHAR name[256], suffix[40];
    HANDLE ss;
    struct rm_store *s = it_open_store(&ss);
    uint32_t slot = it_slot_of(s, key);
    _snwprintf(suffix, 40, L".s%u.g%u", slot, s->slots[slot].generation);
    it_close_view(s, ss);
    it_object_name(name, it_prefix, suffix);
    *section = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    assert_non_null(*section);
    void *v = MapViewOfFile(*section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, view);
    assert_non_null(v);
    /* The section is reserved; pages become usable in a view once committed through it. */
    assert_non_null(VirtualAlloc(v, view, MEM_COMMIT, PAGE_READWRITE));
    return v;
}
