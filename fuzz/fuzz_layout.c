/* Section layout: any bytes another process could write must be rejected or read safely. */
#include <stdlib.h>
#include <string.h>

#include "session/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rm_store store;
    memset(&store, 0, sizeof store);
    memcpy(&store, data, size < sizeof store ? size : sizeof store);
    rm_store_check(&store);

    /* The data view: the input is a log; its first 64 bytes a header. Sized exactly, so ASan
     * catches any read past what the checks allow. */
    uint8_t *view = malloc(size ? size : 1);
    if (!view)
        return 0;
    memcpy(view, data, size);
    if (size >= sizeof(struct rm_data_header)) {
        struct rm_data_header h;
        memcpy(&h, view, sizeof h);
        rm_data_check(&h, h.slot, h.generation, (uint32_t)size);
        uint32_t used = (uint32_t)(size & ~(size_t)7), off = (uint32_t)sizeof h;
        struct rm_record r;
        int rc, guard = 0;
        while ((rc = rm_record_next(view, used, &off, &r)) == 1 && guard++ < 100000)
            if (off > used)
                abort(); /* the cursor may never pass the end */
    }
    free(view);
    return 0;
}
