/* The registration index and identity set against a plain list: same answers, no leaks. */
#include <stdlib.h>
#include <string.h>

#include "detect/idset.h"
#include "session/layout.h"
#include "session/path.h"
#include "session/regindex.h"

static void *al(size_t n)
{
    return malloc(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rm_index ix;
    struct rm_idset ids;
    uint16_t texts[256][4];
    size_t ntexts = 0;
    rm_index_init(&ix, al, free);
    rm_idset_init(&ids, al, free);
    for (size_t i = 0; i + 3 <= size && ntexts < 256; i += 3) {
        uint16_t t[4] = {data[i] % 4 + 'a', data[i + 1] % 4 + 'A', 0, 0};
        uint32_t n = 1 + data[i + 2] % 2;
        int seen = 0;
        for (size_t k = 0; k < ntexts; k++)
            seen |= rm_text_equal(texts[k], 1 + (texts[k][3] & 1), t, n);
        int r = rm_index_add_text(&ix, RM_REC_FILE, t, n);
        if (r != !seen)
            abort();
        if (!seen) {
            memcpy(texts[ntexts], t, sizeof t);
            texts[ntexts][3] = (uint16_t)(n - 1);
            ntexts++;
        }
        struct rm_identity id = {data[i], 0, data[i + 1]};
        int64_t before = rm_idset_find(&ids, &id);
        int a = rm_idset_add(&ids, &id, data[i + 2]);
        if ((before >= 0) != (a == 0))
            abort();
    }
    if (ix.count != ntexts)
        abort();
    rm_index_clear(&ix);
    rm_idset_clear(&ids);
    return 0;
}
