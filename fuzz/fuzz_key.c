/* Key codec: decoding reads at most 33 units; what decodes re-encodes to the same key. */
#include <stdlib.h>
#include <string.h>

#include "session/key.h"
#include "session/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint16_t *text = malloc(33 * sizeof *text); /* exactly 33: ASan sees any read beyond */
    uint8_t key[16], again[16];
    uint16_t back[33];
    if (!text)
        return 0;
    memset(text, 0, 33 * sizeof *text);
    memcpy(text, data, size < 66 ? size : 66);
    if (rm_key_decode(text, key) == 0) {
        rm_key_encode(key, back);
        if (rm_key_decode(back, again) != 0 || memcmp(key, again, 16) != 0 ||
            !rm_text_equal(back, 32, text, 32))
            abort();
    }
    free(text);
    return 0;
}
