/* RmGetFilterList's writer: the chain must stay inside the bytes it claims, on both ABIs. */
#include <stdlib.h>
#include <string.h>

#include "session/filterbuf.h"

static void walk(const uint8_t *buf, uint32_t size, const struct rm_filter_abi *abi, uint32_t n)
{
    uint32_t at = 0, count = 0;
    for (;;) {
        if (at + abi->record_size > size)
            abort();
        count++;
        uint32_t next;
        memcpy(&next, buf + at + 8, 4);
        if (!next)
            break;
        at += next;
    }
    if (count != n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct rm_filter_abi abis[2] = {{24, 12, 4}, {32, 16, 8}};
    struct rm_filter_item items[16];
    uint16_t texts[16][40];
    uint32_t n = 0;
    while (size >= 4 && n < 16) { /* each item: trigger byte, length byte, two more bytes */
        struct rm_filter_item *it = &items[n];
        memset(it, 0, sizeof *it);
        it->action = 1 + data[0] % 2;
        it->trigger = 1 + data[1] % 3;
        it->nchars = data[2] % 40;
        for (uint32_t k = 0; k < it->nchars; k++)
            texts[n][k] = (uint16_t)(data[3] + k);
        it->text = texts[n];
        it->pid = data[3];
        data += 4;
        size -= 4;
        n++;
    }
    for (int a = 0; a < 2; a++) {
        uint32_t need = rm_filterbuf_size(&abis[a], items, n);
        uint8_t *buf = malloc(need ? need : 1);
        if (!buf)
            return 0;
        if (need && rm_filterbuf_write(&abis[a], items, n, buf, need - 1, (uint64_t)(uintptr_t)buf) != 0)
            abort(); /* one byte short must write nothing */
        if (rm_filterbuf_write(&abis[a], items, n, buf, need, (uint64_t)(uintptr_t)buf) != need)
            abort();
        if (n)
            walk(buf, need, &abis[a], n);
        free(buf);
    }
    return 0;
}
