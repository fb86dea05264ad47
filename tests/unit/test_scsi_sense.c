/* Unit tests for scsi/scsi_sense.c: building and parsing sense data. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "scsi_sense.h"

static void test_build_fixed(void **state)
{
    static const uint8_t want[SCSI_SENSE_FIXED_LEN] = {
        0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0x00, 0, 0, 0, 0,
    };
    uint8_t buf[32];
    (void)state;

    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(scsi_sense_build_fixed(buf, sizeof(buf), SCSI_KEY_ILLEGAL_REQUEST,
                                            SCSI_ASC_INVALID_OPCODE), SCSI_SENSE_FIXED_LEN);
    assert_memory_equal(buf, want, sizeof(want));
    assert_int_equal(buf[SCSI_SENSE_FIXED_LEN], 0xaa);   /* nothing past 18 bytes */
}

static void test_build_fixed_small_cap(void **state)
{
    uint8_t buf[SCSI_SENSE_FIXED_LEN];
    (void)state;
    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(scsi_sense_build_fixed(buf, SCSI_SENSE_FIXED_LEN - 1, 6, 0x29, 0), 0);
    assert_int_equal(buf[0], 0xaa);                      /* untouched */
    assert_int_equal(scsi_sense_build_fixed(NULL, 100, 6, 0x29, 0), 0);
    assert_int_equal(scsi_sense_build_fixed(buf, SCSI_SENSE_FIXED_LEN, 0x16, 0x29, 0),
                     SCSI_SENSE_FIXED_LEN);
    assert_int_equal(buf[2], 0x06);                      /* key masked to 4 bits */
}

static void test_build_field_pointer(void **state)
{
    uint8_t buf[SCSI_SENSE_FIXED_LEN];
    struct scsi_sense_info s;
    (void)state;

    assert_int_equal(scsi_sense_build_field(buf, sizeof(buf), SCSI_ASC_INVALID_FIELD_CDB,
                                            true, 0x0102, 5), SCSI_SENSE_FIXED_LEN);
    assert_int_equal(buf[2], SCSI_KEY_ILLEGAL_REQUEST);
    assert_int_equal(buf[12], 0x24);
    assert_int_equal(buf[15], 0x80 | 0x40 | 0x08 | 5);   /* SKSV, C/D, BPV, bit 5 */
    assert_int_equal(buf[16], 0x01);
    assert_int_equal(buf[17], 0x02);
    assert_int_equal(scsi_sense_parse(buf, sizeof(buf), &s), 0);
    assert_int_equal(s.key, SCSI_KEY_ILLEGAL_REQUEST);
    assert_int_equal(s.asc, 0x24);

    assert_int_equal(scsi_sense_build_field(buf, sizeof(buf), 0x26, 0x00, false, 9, -1),
                     SCSI_SENSE_FIXED_LEN);
    assert_int_equal(buf[15], 0x80);                     /* data-out, no bit pointer */
    assert_int_equal(buf[17], 9);
    assert_int_equal(scsi_sense_build_field(buf, 4, 0x26, 0, false, 9, -1), 0);
}

static void test_parse_fixed(void **state)
{
    const uint8_t f[] = { 0xf0, 0, 0x06, 0x00, 0x00, 0x12, 0x34, 10,
                          0, 0, 0, 0, 0x2a, 0x09, 0, 0, 0, 0 };
    struct scsi_sense_info s;
    (void)state;

    assert_int_equal(scsi_sense_parse(f, sizeof(f), &s), 0);
    assert_int_equal(s.key, SCSI_KEY_UNIT_ATTENTION);
    assert_int_equal(s.asc, 0x2a);
    assert_int_equal(s.ascq, 0x09);
    assert_false(s.deferred);
    assert_false(s.descriptor);
    assert_true(s.info_valid);                           /* VALID bit */
    assert_int_equal(s.information, 0x1234);
}

static void test_parse_fixed_deferred_and_roundtrip(void **state)
{
    uint8_t f[SCSI_SENSE_FIXED_LEN];
    struct scsi_sense_info s;
    (void)state;

    scsi_sense_build_fixed(f, sizeof(f), SCSI_KEY_NOT_READY, 0x04, 0x01);
    assert_int_equal(scsi_sense_parse(f, sizeof(f), &s), 0);
    assert_int_equal(s.key, SCSI_KEY_NOT_READY);
    assert_int_equal(s.asc, 0x04);
    assert_int_equal(s.ascq, 0x01);
    assert_false(s.info_valid);
    f[0] = 0x71;
    assert_int_equal(scsi_sense_parse(f, sizeof(f), &s), 0);
    assert_true(s.deferred);
}

static void test_parse_fixed_truncated(void **state)
{
    uint8_t f[SCSI_SENSE_FIXED_LEN];
    struct scsi_sense_info s;
    (void)state;

    scsi_sense_build_fixed(f, sizeof(f), SCSI_KEY_UNIT_ATTENTION, 0x29, 0x02);
    /* Only the key arrived. */
    assert_int_equal(scsi_sense_parse(f, 3, &s), 0);
    assert_int_equal(s.key, SCSI_KEY_UNIT_ATTENTION);
    assert_int_equal(s.asc, 0);
    assert_int_equal(s.ascq, 0);
    /* ASC arrived, ASCQ did not. */
    assert_int_equal(scsi_sense_parse(f, 13, &s), 0);
    assert_int_equal(s.asc, 0x29);
    assert_int_equal(s.ascq, 0);
    /* Too short for the key. */
    assert_int_equal(scsi_sense_parse(f, 2, &s), -1);
    assert_int_equal(s.key, 0);
    /* ADDITIONAL SENSE LENGTH says ASC/ASCQ are not there: not read. */
    f[7] = 4;
    assert_int_equal(scsi_sense_parse(f, sizeof(f), &s), 0);
    assert_int_equal(s.asc, 0);
    assert_int_equal(s.ascq, 0);
    f[7] = 5;
    assert_int_equal(scsi_sense_parse(f, sizeof(f), &s), 0);
    assert_int_equal(s.asc, 0x29);
    assert_int_equal(s.ascq, 0);
    /* ADDITIONAL SENSE LENGTH larger than the data: bounded by len. */
    f[7] = 0xff;
    assert_int_equal(scsi_sense_parse(f, 14, &s), 0);
    assert_int_equal(s.asc, 0x29);
    assert_int_equal(s.ascq, 0x02);
}

static void test_parse_descriptor(void **state)
{
    /* 72h, UNIT ATTENTION 3F/0E, information descriptor with VALID. */
    const uint8_t d[] = {
        0x72, 0x06, 0x3f, 0x0e, 0, 0, 0, 12 + 4,
        0x00, 0x0a, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0x56, 0x78,
        0x02, 0x02, 0xaa, 0xbb,                            /* other descriptor */
    };
    struct scsi_sense_info s;
    (void)state;

    assert_int_equal(scsi_sense_parse(d, sizeof(d), &s), 0);
    assert_true(s.descriptor);
    assert_false(s.deferred);
    assert_int_equal(s.key, SCSI_KEY_UNIT_ATTENTION);
    assert_int_equal(s.asc, 0x3f);
    assert_int_equal(s.ascq, 0x0e);
    assert_true(s.info_valid);
    assert_int_equal(s.information, 0x5678);
}

static void test_parse_descriptor_malformed(void **state)
{
    uint8_t d[] = {
        0x73, 0x03, 0x11, 0x00, 0, 0, 0, 12,
        0x00, 0x0a, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
    };
    struct scsi_sense_info s;
    (void)state;

    assert_int_equal(scsi_sense_parse(d, sizeof(d), &s), 0);
    assert_true(s.deferred);
    assert_int_equal(s.key, SCSI_KEY_MEDIUM_ERROR);
    assert_true(s.info_valid);
    /* Descriptor cut by the data: header fields kept, descriptor ignored. */
    assert_int_equal(scsi_sense_parse(d, 15, &s), 0);
    assert_int_equal(s.asc, 0x11);
    assert_false(s.info_valid);
    /* Cut by ADDITIONAL SENSE LENGTH. */
    d[7] = 6;
    assert_int_equal(scsi_sense_parse(d, sizeof(d), &s), 0);
    assert_false(s.info_valid);
    /* Descriptor claims more than it has. */
    d[7] = 12;
    d[9] = 0xff;
    assert_int_equal(scsi_sense_parse(d, sizeof(d), &s), 0);
    assert_false(s.info_valid);
    /* Information descriptor too short to hold the field. */
    d[9] = 0x02;
    assert_int_equal(scsi_sense_parse(d, sizeof(d), &s), 0);
    assert_false(s.info_valid);
    /* VALID clear. */
    d[9] = 0x0a;
    d[10] = 0;
    assert_int_equal(scsi_sense_parse(d, sizeof(d), &s), 0);
    assert_false(s.info_valid);
    /* Only the response code and key. */
    assert_int_equal(scsi_sense_parse(d, 2, &s), 0);
    assert_int_equal(s.key, SCSI_KEY_MEDIUM_ERROR);
    assert_int_equal(s.asc, 0);
    assert_int_equal(scsi_sense_parse(d, 1, &s), -1);
}

static void test_parse_bad_response_code(void **state)
{
    const uint8_t bad[][18] = {
        { 0x7f, 0, 0x06 }, { 0x00, 0, 0x06 }, { 0x74, 0x06 }, { 0x6f, 0, 0x06 },
    };
    struct scsi_sense_info s;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(scsi_sense_parse(bad[i], sizeof(bad[i]), &s), -1);
    assert_int_equal(scsi_sense_parse(NULL, 18, &s), -1);
    assert_int_equal(scsi_sense_parse(bad[0], 0, &s), -1);
    assert_int_equal(scsi_sense_parse(bad[0], 18, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_fixed),
        cmocka_unit_test(test_build_fixed_small_cap),
        cmocka_unit_test(test_build_field_pointer),
        cmocka_unit_test(test_parse_fixed),
        cmocka_unit_test(test_parse_fixed_deferred_and_roundtrip),
        cmocka_unit_test(test_parse_fixed_truncated),
        cmocka_unit_test(test_parse_descriptor),
        cmocka_unit_test(test_parse_descriptor_malformed),
        cmocka_unit_test(test_parse_bad_response_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
