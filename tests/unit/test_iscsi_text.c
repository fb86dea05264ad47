/* Unit tests for the iSCSI text parser and builder and the binary-value
 * codec (RFC 7143 6.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iscsi_text.h"

#define TXT(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_parse_pairs(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    assert_int_equal(iscsi_text_parse(TXT("InitiatorName=iqn.x\0SessionType=Normal\0"), false,
                                      &t, NULL), ISCSI_TEXT_OK);
    assert_int_equal(t.n, 2);
    assert_true(iscsi_text_key_is(&t.pair[0], "InitiatorName"));
    assert_string_equal(t.pair[0].value, "iqn.x");
    assert_int_equal(t.pair[0].value_len, 5);
    assert_string_equal(iscsi_text_find(&t, "SessionType")->value, "Normal");
    assert_null(iscsi_text_find(&t, "TargetName"));
    assert_null(iscsi_text_find(&t, "Session"));
}

static void test_empty_value_and_empty_text(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    assert_int_equal(iscsi_text_parse(TXT("SendTargets=\0"), false, &t, NULL), ISCSI_TEXT_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.pair[0].value_len, 0);
    assert_int_equal(iscsi_text_parse(NULL, 0, false, &t, NULL), ISCSI_TEXT_OK);
    assert_int_equal(t.n, 0);
}

static void test_value_may_contain_equals(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    assert_int_equal(iscsi_text_parse(TXT("X-a=b=c\0"), false, &t, NULL), ISCSI_TEXT_OK);
    assert_string_equal(t.pair[0].value, "b=c");
}

static void test_missing_equals(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    assert_int_equal(iscsi_text_parse(TXT("InitiatorName\0"), false, &t, NULL),
                     ISCSI_TEXT_NO_EQUALS);
}

static void test_empty_key(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    assert_int_equal(iscsi_text_parse(TXT("=x\0"), false, &t, NULL), ISCSI_TEXT_EMPTY_KEY);
    /* an empty pair in the middle */
    assert_int_equal(iscsi_text_parse(TXT("A=1\0\0B=2\0"), false, &t, NULL),
                     ISCSI_TEXT_EMPTY_KEY);
}

static void test_trailing_nul_padding_ignored(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    assert_int_equal(iscsi_text_parse(TXT("A=1\0\0\0"), false, &t, NULL), ISCSI_TEXT_OK);
    assert_int_equal(t.n, 1);
}

static void test_key_limits(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    char buf[200];
    memset(buf, 'K', 63);
    memcpy(buf + 63, "=v", 3);   /* includes the NUL */
    assert_int_equal(iscsi_text_parse((uint8_t *)buf, 66, false, &t, NULL), ISCSI_TEXT_OK);
    memset(buf, 'K', 64);
    memcpy(buf + 64, "=v", 3);
    assert_int_equal(iscsi_text_parse((uint8_t *)buf, 67, false, &t, NULL),
                     ISCSI_TEXT_KEY_TOO_LONG);
    assert_int_equal(iscsi_text_parse(TXT("Bad Key=1\0"), false, &t, NULL),
                     ISCSI_TEXT_BAD_KEY_CHAR);
    assert_int_equal(iscsi_text_parse(TXT("1Key=1\0"), false, &t, NULL),
                     ISCSI_TEXT_BAD_KEY_CHAR);
    assert_int_equal(iscsi_text_parse(TXT("X#com.example=1\0"), false, &t, NULL),
                     ISCSI_TEXT_OK);
}

static void test_value_limit(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    static uint8_t buf[8300];
    memcpy(buf, "K=", 2);
    memset(buf + 2, 'v', 8192);
    buf[2 + 8192] = 0;
    assert_int_equal(iscsi_text_parse(buf, 2 + 8192 + 1, false, &t, NULL), ISCSI_TEXT_OK);
    memset(buf + 2, 'v', 8193);
    buf[2 + 8193] = 0;
    assert_int_equal(iscsi_text_parse(buf, 2 + 8193 + 1, false, &t, NULL),
                     ISCSI_TEXT_VALUE_TOO_LONG);
}

static void test_unterminated(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    size_t used = 99;
    assert_int_equal(iscsi_text_parse(TXT("A=1\0B=2"), false, &t, &used),
                     ISCSI_TEXT_UNTERMINATED);
    /* partial_ok: stop before the partial pair and say where it starts */
    assert_int_equal(iscsi_text_parse(TXT("A=1\0B=2"), true, &t, &used), ISCSI_TEXT_OK);
    assert_int_equal(t.n, 1);
    assert_int_equal(used, 4);
    /* a partial pair without '=' yet is fine too */
    assert_int_equal(iscsi_text_parse(TXT("A=1\0Ini"), true, &t, &used), ISCSI_TEXT_OK);
    assert_int_equal(used, 4);
}

static void test_too_many_pairs(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    uint8_t buf[1024];
    size_t len = 0;
    for (int i = 0; i < 65; i++)
        len += (size_t)snprintf((char *)buf + len, sizeof(buf) - len, "K%d=1", i) + 1;
    assert_int_equal(iscsi_text_parse(buf, len, false, &t, NULL), ISCSI_TEXT_TOO_MANY);
    /* exactly 64 is fine: find the end of the 64th pair */
    size_t off = 0;
    for (int i = 0; i < 64; i++)
        off += strlen((char *)buf + off) + 1;
    assert_int_equal(iscsi_text_parse(buf, off, false, &t, NULL), ISCSI_TEXT_OK);
    assert_int_equal(t.n, 64);
}

static void test_duplicate(void **state)
{
    (void)state;
    struct iscsi_text_pairs t;
    assert_int_equal(iscsi_text_parse(TXT("A=1\0B=2\0A=1\0"), false, &t, NULL),
                     ISCSI_TEXT_DUPLICATE);
    /* keys are case-sensitive: not duplicates */
    assert_int_equal(iscsi_text_parse(TXT("A=1\0a=1\0"), false, &t, NULL), ISCSI_TEXT_OK);
}

static void test_builder(void **state)
{
    (void)state;
    uint8_t buf[32];
    struct iscsi_text_builder b;
    iscsi_text_builder_init(&b, buf, sizeof(buf));
    assert_int_equal(iscsi_text_add(&b, "A", "Yes"), 0);
    assert_int_equal(iscsi_text_add_u32(&b, "N", 4294967295u), 0);
    assert_int_equal(b.len, 6 + 13);
    assert_memory_equal(buf, "A=Yes\0N=4294967295\0", 19);
    /* 13 bytes left: "K=0123456789\0" is exactly 13 */
    assert_int_equal(iscsi_text_add(&b, "K", "0123456789"), 0);
    assert_int_equal(b.len, 32);
    assert_int_equal(iscsi_text_add(&b, "Z", ""), -1);
    assert_true(b.overflow);
    assert_int_equal(b.len, 32);
}

static void test_builder_overflow_sticks(void **state)
{
    (void)state;
    uint8_t buf[8];
    struct iscsi_text_builder b;
    iscsi_text_builder_init(&b, buf, sizeof(buf));
    assert_int_equal(iscsi_text_add(&b, "Long", "value"), -1);
    assert_int_equal(iscsi_text_add(&b, "A", "1"), -1);   /* would fit, but stays failed */
    assert_int_equal(b.len, 0);
    iscsi_text_builder_init(&b, NULL, 100);
    assert_int_equal(iscsi_text_add(&b, "A", "1"), -1);
}

static void test_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct iscsi_text_builder b;
    struct iscsi_text_pairs t;
    iscsi_text_builder_init(&b, buf, sizeof(buf));
    iscsi_text_add_n(&b, "X-vendor.keyXX", 12, "NotUnderstood");
    assert_int_equal(iscsi_text_parse(buf, b.len, false, &t, NULL), ISCSI_TEXT_OK);
    assert_true(iscsi_text_key_is(&t.pair[0], "X-vendor.key"));
    assert_string_equal(t.pair[0].value, "NotUnderstood");
    assert_string_equal(iscsi_text_strerror(ISCSI_TEXT_DUPLICATE), "key sent twice");
}

/* ---- binary-value codec (6.1) ---------------------------------------- */

static int decode(const char *s, size_t *n, enum iscsi_binary_encoding *enc)
{
    static uint8_t out[64];
    return iscsi_binary_decode(s, strlen(s), out, sizeof(out), n, enc);
}

static void test_binary_accepted(void **state)
{
    static const struct { const char *s; size_t n; enum iscsi_binary_encoding enc; } ok[] = {
        { "0x00", 1, ISCSI_BINARY_HEX },   { "0XaBcD", 2, ISCSI_BINARY_HEX },
        { "0bZg==", 1, ISCSI_BINARY_BASE64 }, { "0BZm8=", 2, ISCSI_BINARY_BASE64 },
        { "0bZg", 1, ISCSI_BINARY_BASE64 },   { "0bZm8", 2, ISCSI_BINARY_BASE64 },
        { "0bAAECAwQFBgcICQoLDA0ODw==", 16, ISCSI_BINARY_BASE64 },
        { "0b+/+/", 3, ISCSI_BINARY_BASE64 },
    };
    size_t n;
    enum iscsi_binary_encoding enc;
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(decode(ok[i].s, &n, &enc), 0);
        assert_int_equal(n, ok[i].n);
        assert_int_equal(enc, ok[i].enc);
    }
    uint8_t out[2];
    assert_int_equal(iscsi_binary_decode("0xabcd", 6, out, 2, &n, &enc), 0);
    assert_int_equal(out[0], 0xab);
    assert_int_equal(out[1], 0xcd);
    assert_int_equal(iscsi_binary_decode("0xabcdef", 8, out, 2, &n, &enc), -1);   /* > cap */
}

static void test_binary_malformed(void **state)
{
    static const char *const bad[] = {
        "", "0", "0x", "0b", "0X", "ab", "1x00", "0c00", "x0", "0xabc", "0xzz", "0x 0",
        "0x0g", "0b=", "0b==", "0bZ", "0bZg=", "0bZm8==", "0bZg===", "0bZ=g=", "0bZg=A",
        "0bZh==", "0bZm9=", "0bZm8=Zg==", "0b!!!!", "0bZg\n", "0bA", "0bAAAAA",
    };
    size_t n;
    enum iscsi_binary_encoding enc;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (decode(bad[i], &n, &enc) != -1)
            fail_msg("\"%s\" accepted", bad[i]);
}

static void test_binary_encode(void **state)
{
    static const uint8_t in[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
    char s[64];
    (void)state;
    assert_int_equal(iscsi_binary_encode(in, 16, ISCSI_BINARY_BASE64, s, sizeof(s)), 0);
    assert_string_equal(s, "0bAAECAwQFBgcICQoLDA0ODw==");
    assert_int_equal(iscsi_binary_encode(in, 2, ISCSI_BINARY_BASE64, s, sizeof(s)), 0);
    assert_string_equal(s, "0bAAE=");
    assert_int_equal(iscsi_binary_encode(in, 3, ISCSI_BINARY_HEX, s, sizeof(s)), 0);
    assert_string_equal(s, "0x000102");
    assert_int_equal(iscsi_binary_encode(in, 3, ISCSI_BINARY_HEX, s, 9), 0);
    assert_int_equal(iscsi_binary_encode(in, 3, ISCSI_BINARY_HEX, s, 8), -1);
    assert_int_equal(iscsi_binary_encode(in, 3, ISCSI_BINARY_BASE64, s, 6), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_pairs),
        cmocka_unit_test(test_empty_value_and_empty_text),
        cmocka_unit_test(test_value_may_contain_equals),
        cmocka_unit_test(test_missing_equals),
        cmocka_unit_test(test_empty_key),
        cmocka_unit_test(test_trailing_nul_padding_ignored),
        cmocka_unit_test(test_key_limits),
        cmocka_unit_test(test_value_limit),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_too_many_pairs),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_builder),
        cmocka_unit_test(test_builder_overflow_sticks),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_binary_accepted),
        cmocka_unit_test(test_binary_malformed),
        cmocka_unit_test(test_binary_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
