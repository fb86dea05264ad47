/* Unit tests for scsi/scsi_devid.c: the Device Identification VPD page (83h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "scsi_devid.h"

/* What tgt 1.0 answers for target 1 LUN 1: T10 vendor ID, NAA locally
 * assigned (3h), NAA IEEE Registered Extended (6h). */
static const uint8_t tgt_page[] = {
    0x00, 0x83, 0x00, 0x38,
    0x02, 0x01, 0x00, 0x10, 'I', 'E', 'T', ' ', ' ', ' ', ' ', ' ',
    '0', '0', '0', '1', '0', '0', '0', '1',
    0x01, 0x03, 0x00, 0x08, 0x30, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01,
    0x01, 0x03, 0x00, 0x10, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
};

static void test_tgt_page_picks_naa_ieee(void **state)
{
    struct scsi_devid id;
    (void)state;

    assert_int_equal(scsi_devid_parse(tgt_page, sizeof(tgt_page), &id), 1);
    assert_int_equal(id.type, SCSI_DESIG_NAA);
    assert_int_equal(id.code_set, 1);
    assert_int_equal(id.len, 16);
    assert_memory_equal(id.id, tgt_page + 40, 16);
}

static void test_preference_order(void **state)
{
    /* T10, NAA 3h, SCSI name, EUI-64: EUI-64 wins over the name string. */
    const uint8_t page[] = {
        0x00, 0x83, 0x00, 0x34,
        0x02, 0x01, 0x00, 0x0c, 'V', 'E', 'N', 'D', 'O', 'R', ' ', ' ', 'S', 'N', '0', '1',
        0x01, 0x03, 0x00, 0x08, 0x31, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        0x03, 0x08, 0x00, 0x08, 'n', 'a', 'a', '.', '1', '2', 0x00, 0x00,
        0x01, 0x02, 0x00, 0x08, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    };
    struct scsi_devid id;
    (void)state;

    assert_int_equal(scsi_devid_parse(page, sizeof(page), &id), 1);
    assert_int_equal(id.type, SCSI_DESIG_EUI64);
    /* Without the EUI-64: the name string; without that: NAA 3h; then T10. */
    uint8_t p2[sizeof(page)];
    memcpy(p2, page, sizeof(page));
    p2[3] = 0x34 - 12;
    assert_int_equal(scsi_devid_parse(p2, sizeof(p2), &id), 1);
    assert_int_equal(id.type, SCSI_DESIG_SCSI_NAME);
    p2[3] = 0x34 - 24;
    assert_int_equal(scsi_devid_parse(p2, sizeof(p2), &id), 1);
    assert_int_equal(id.type, SCSI_DESIG_NAA);
    assert_int_equal(id.id[0], 0x31);
    p2[3] = 0x34 - 36;
    assert_int_equal(scsi_devid_parse(p2, sizeof(p2), &id), 1);
    assert_int_equal(id.type, SCSI_DESIG_T10_VENDOR);
    assert_int_equal(id.len, 12);
}

static void test_only_logical_unit_association(void **state)
{
    /* NAA of the target port (association 1) and of the target device
     * (association 2): neither names the logical unit. */
    const uint8_t page[] = {
        0x00, 0x83, 0x00, 0x18,
        0x01, 0x13, 0x00, 0x08, 0x51, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        0x01, 0x23, 0x00, 0x08, 0x52, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
    };
    struct scsi_devid id;
    (void)state;

    assert_int_equal(scsi_devid_parse(page, sizeof(page), &id), 0);
    assert_int_equal(id.len, 0);
}

static void test_unusable_designators(void **state)
{
    const uint8_t page[] = {
        0x00, 0x83, 0x00, 0x40,
        /* NAA 5h of 16 bytes (must be 8) */
        0x01, 0x03, 0x00, 0x10, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        /* NAA in ASCII */
        0x02, 0x03, 0x00, 0x08, 0x51, 1, 2, 3, 4, 5, 6, 7,
        /* NAA 6h all zero after the NAA field */
        0x01, 0x03, 0x00, 0x10, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* T10 vendor ID with nothing after the vendor */
        0x02, 0x01, 0x00, 0x0c, 'V', 'E', 'N', 'D', 'O', 'R', ' ', ' ', ' ', ' ', ' ', ' ',
    };
    struct scsi_devid id;
    (void)state;

    assert_int_equal(scsi_devid_parse(page, sizeof(page), &id), 0);
}

static void test_truncated(void **state)
{
    struct scsi_devid id;
    (void)state;

    /* Cut inside the NAA 6h descriptor: the NAA 3h one is the best left. */
    assert_int_equal(scsi_devid_parse(tgt_page, sizeof(tgt_page) - 1, &id), 1);
    assert_int_equal(id.type, SCSI_DESIG_NAA);
    assert_int_equal(id.id[0], 0x30);
    /* PAGE LENGTH shorter than the data: the rest is not part of the page. */
    uint8_t p2[sizeof(tgt_page)];
    memcpy(p2, tgt_page, sizeof(p2));
    p2[3] = 20;
    assert_int_equal(scsi_devid_parse(p2, sizeof(p2), &id), 1);
    assert_int_equal(id.type, SCSI_DESIG_T10_VENDOR);
    /* Only the header. */
    assert_int_equal(scsi_devid_parse(tgt_page, 4, &id), 0);
}

static void test_malformed(void **state)
{
    uint8_t p[sizeof(tgt_page)];
    struct scsi_devid id;
    (void)state;

    assert_int_equal(scsi_devid_parse(tgt_page, 3, &id), -1);
    assert_int_equal(scsi_devid_parse(NULL, 8, &id), -1);
    assert_int_equal(scsi_devid_parse(tgt_page, sizeof(tgt_page), NULL), -1);
    memcpy(p, tgt_page, sizeof(p));
    p[1] = 0x80;                                /* another page */
    assert_int_equal(scsi_devid_parse(p, sizeof(p), &id), -1);
    assert_int_equal(id.len, 0);
    p[1] = 0x83;
    p[0] = 0x20;                                /* peripheral qualifier 1 */
    assert_int_equal(scsi_devid_parse(p, sizeof(p), &id), -1);
}

static void test_equal_and_text(void **state)
{
    struct scsi_devid a, b;
    char text[SCSI_DEVID_TEXT_MAX];
    (void)state;

    assert_int_equal(scsi_devid_parse(tgt_page, sizeof(tgt_page), &a), 1);
    assert_int_equal(scsi_devid_parse(tgt_page, sizeof(tgt_page), &b), 1);
    assert_true(scsi_devid_equal(&a, &b));
    b.id[15] ^= 1;
    assert_false(scsi_devid_equal(&a, &b));
    assert_int_equal(scsi_devid_text(&a, text, sizeof(text)), 4 + 32);
    assert_string_equal(text, "naa:60000000000000000000000000010001");
    assert_int_equal(scsi_devid_text(&a, text, 8), 6);   /* whole bytes only */
    assert_string_equal(text, "naa:60");
    a.len = 255;
    a.type = SCSI_DESIG_EUI64;
    assert_int_equal(scsi_devid_text(&a, text, sizeof(text)), 6 + 510);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tgt_page_picks_naa_ieee),
        cmocka_unit_test(test_preference_order),
        cmocka_unit_test(test_only_logical_unit_association),
        cmocka_unit_test(test_unusable_designators),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_equal_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
