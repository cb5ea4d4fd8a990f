/* Session key codec: the exact text form callers rely on. */
#include <windows.h>

#include "unit.h"

#include "session/key.h"

static void encode_writes_32_lowercase_hex_and_nul_only(void **state)
{
    (void)state;
    uint8_t key[16];
    uint16_t out[40];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(i * 17 + 0xa0);
    for (int i = 0; i < 40; i++)
        out[i] = 0xbeef;
    rm_key_encode(key, out);
    uint16_t want[33];
    u16(want, "a0b1c2d3e4f5061728394a5b6c7d8e9f");
    assert_memory_equal(out, want, sizeof want);
    for (int i = 33; i < 40; i++)
        assert_int_equal(out[i], 0xbeef);
}

static void decode_round_trips_and_accepts_uppercase(void **state)
{
    (void)state;
    uint8_t key[16], back[16];
    uint16_t text[33];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(255 - i * 13);
    rm_key_encode(key, text);
    assert_int_equal(rm_key_decode(text, back), 0);
    assert_memory_equal(key, back, 16);
    u16(text, "A0B1C2D3E4F5061728394A5B6C7D8E9F");
    assert_int_equal(rm_key_decode(text, back), 0);
    assert_int_equal(back[0], 0xa0);
    assert_int_equal(back[15], 0x9f);
}

static void decode_rejects_malformed_keys(void **state)
{
    (void)state;
    uint8_t k[16];
    uint16_t text[40];
    u16(text, "a0b1c2d3e4f5061728394a5b6c7d8e9"); /* 31 digits */
    assert_int_equal(rm_key_decode(text, k), -1);
    u16(text, "a0b1c2d3e4f5061728394a5b6c7d8e9f0"); /* 33 digits: no NUL at 32 */
    assert_int_equal(rm_key_decode(text, k), -1);
    u16(text, "g0b1c2d3e4f5061728394a5b6c7d8e9f"); /* not hex */
    assert_int_equal(rm_key_decode(text, k), -1);
    u16(text, "a0b1c2d3e4f5061728394a5b6c7d8e9 ");
    assert_int_equal(rm_key_decode(text, k), -1);
    u16(text, "");
    assert_int_equal(rm_key_decode(text, k), -1);
}

static void decode_reads_no_more_than_33_units(void **state)
{
    (void)state;
    /* A key at the very end of a buffer: unit 33 onwards must never be touched. The trailing
     * guard page would fault if it were. */
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    uint8_t *p = VirtualAlloc(NULL, 2 * si.dwPageSize, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    DWORD old;
    assert_non_null(p);
    assert_true(VirtualProtect(p + si.dwPageSize, si.dwPageSize, PAGE_NOACCESS, &old));
    uint16_t *text = (uint16_t *)(void *)(p + si.dwPageSize - 33 * 2);
    uint8_t k[16];
    u16(text, "00112233445566778899aabbccddeeff");
    assert_int_equal(rm_key_decode(text, k), 0);
    VirtualFree(p, 0, MEM_RELEASE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_writes_32_lowercase_hex_and_nul_only),
        cmocka_unit_test(decode_round_trips_and_accepts_uppercase),
        cmocka_unit_test(decode_rejects_malformed_keys),
        cmocka_unit_test(decode_reads_no_more_than_33_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
