/* SPDX-License-Identifier: MIT */
#include "filterbuf.h"

#include <string.h>

#define TRIGGER_FILE 1u
#define TRIGGER_PROCESS 2u
#define TRIGGER_SERVICE 3u

static int has_text(const struct rm_filter_item *it)
{
    return it->trigger == TRIGGER_FILE || it->trigger == TRIGGER_SERVICE;
}

uint32_t rm_filterbuf_size(const struct rm_filter_abi *abi, const struct rm_filter_item *items, uint32_t n)
{
    uint64_t total = (uint64_t)abi->record_size * n;
    for (uint32_t i = 0; i < n; i++)
        if (has_text(&items[i]))
            total += 2u * ((uint64_t)items[i].nchars + 1u);
    return total > 0xffffffffu ? 0 : (uint32_t)total;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put_pointer(const struct rm_filter_abi *abi, uint8_t *p, uint64_t v)
{
    if (abi->pointer_size == 8)
        memcpy(p, &v, 8);
    else
        put32(p, (uint32_t)v);
}

uint32_t rm_filterbuf_write(const struct rm_filter_abi *abi, const struct rm_filter_item *items, uint32_t n,
                            uint8_t *buf, uint32_t cap, uint64_t base_address)
{
    uint32_t need = rm_filterbuf_size(abi, items, n);
    if (!need || cap < need)
        return 0;
    memset(buf, 0, need);
    uint32_t text_at = abi->record_size * n;
    for (uint32_t i = 0; i < n; i++) {
        const struct rm_filter_item *it = &items[i];
        uint8_t *rec = buf + (size_t)abi->record_size * i;
        put32(rec, it->action);
        put32(rec + 4, it->trigger);
        put32(rec + 8, i + 1 < n ? abi->record_size : 0); /* relative to this record */
        uint8_t *u = rec + abi->union_offset;
        if (it->trigger == TRIGGER_PROCESS) {
            put32(u, it->pid);
            put32(u + 4, it->time_lo);
            put32(u + 8, it->time_hi);
        } else if (has_text(it)) {
            memcpy(buf + text_at, it->text, 2u * (size_t)it->nchars);
            put_pointer(abi, u, base_address + text_at);
            text_at += 2u * (it->nchars + 1u);
        }
    }
    return need;
}
