/* Unit tests for scsi/scsi_capacity.c: READ CAPACITY, VPD B0h/B2h, unit attentions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "scsi_capacity.h"

static void test_builders(void **state)
{
    static const uint8_t rc16[16] = { 0x9e, 0x10, [13] = 0x20 };
    static const uint8_t inq[6] = { 0x12, 0x01, 0xb0, 0x01, 0x00, 0x00 };
    uint8_t cdb[16];
    (void)state;

    assert_int_equal(scsi_rc16_build(cdb, sizeof(cdb), 32), 16);
    assert_memory_equal(cdb, rc16, 16);
    assert_int_equal(scsi_rc16_build(cdb, 15, 32), 0);
    assert_int_equal(scsi_inquiry_vpd_build(cdb, sizeof(cdb), 0xb0, 256), 6);
    assert_memory_equal(cdb, inq, 6);
    assert_int_equal(scsi_inquiry_vpd_build(cdb, 5, 0xb0, 256), 0);
}

/* ---- READ CAPACITY (16) ------------------------------------------------------ */

static void test_rc16_full(void **state)
{
    const uint8_t d[32] = {
        0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff,   /* last LBA */
        0x00, 0x00, 0x02, 0x00,                           /* 512 */
        0x05,                                             /* P_TYPE 2, PROT_EN */
        0x43,                                             /* P_I_EXP 4, LBPPBE 3 */
        0xc0 | 0x01, 0x02,                                /* LBPME, LBPRZ, aligned 0x102 */
    };
    struct scsi_capacity c;
    (void)state;

    assert_int_equal(scsi_rc16_parse(d, sizeof(d), &c), 0);
    assert_int_equal(c.last_lba, 0x1ffffffffull);
    assert_int_equal(c.num_blocks, 0x200000000ull);
    assert_int_equal(c.block_len, 512);
    assert_true(c.has_rc16_fields);
    assert_true(c.prot_en);
    assert_int_equal(c.p_type, 2);
    assert_int_equal(c.p_i_exponent, 4);
    assert_int_equal(c.lbppb_exp, 3);
    assert_true(c.lbpme);
    assert_true(c.lbprz);
    assert_int_equal(c.lowest_aligned_lba, 0x102);
}

static void test_rc16_lbp_bits(void **state)
{
    uint8_t d[32] = { [7] = 0x0f, [10] = 0x10, [14] = 0x80 };
    struct scsi_capacity c;
    (void)state;
    assert_int_equal(scsi_rc16_parse(d, sizeof(d), &c), 0);
    assert_int_equal(c.block_len, 4096);
    assert_true(c.lbpme);
    assert_false(c.lbprz);
    assert_int_equal(c.lowest_aligned_lba, 0);
    d[14] = 0x40;
    assert_int_equal(scsi_rc16_parse(d, sizeof(d), &c), 0);
    assert_false(c.lbpme);
    assert_true(c.lbprz);
}

static void test_rc16_malformed(void **state)
{
    uint8_t d[32] = { [7] = 0x0f, [10] = 0x02 };
    struct scsi_capacity c;
    (void)state;

    /* 12..15 bytes: capacity, but not the provisioning bits. */
    d[14] = 0xc0;
    assert_int_equal(scsi_rc16_parse(d, 12, &c), 0);
    assert_false(c.has_rc16_fields);
    assert_false(c.lbpme);
    assert_int_equal(c.num_blocks, 16);
    assert_int_equal(scsi_rc16_parse(d, 15, &c), 0);
    assert_false(c.has_rc16_fields);
    assert_int_equal(scsi_rc16_parse(d, 11, &c), -1);
    assert_int_equal(scsi_rc16_parse(NULL, 32, &c), -1);
    assert_int_equal(scsi_rc16_parse(d, 32, NULL), -1);
    /* Block length 0. */
    d[10] = 0;
    assert_int_equal(scsi_rc16_parse(d, 32, &c), -1);
    assert_int_equal(c.num_blocks, 0);
    /* Last LBA 2^64 - 1: the block count does not fit. */
    d[10] = 2;
    memset(d, 0xff, 8);
    assert_int_equal(scsi_rc16_parse(d, 32, &c), -1);
}

static void test_rc10(void **state)
{
    uint8_t d[8] = { 0x00, 0x0f, 0xff, 0xff, 0x00, 0x00, 0x02, 0x00 };
    struct scsi_capacity c;
    (void)state;

    assert_int_equal(scsi_rc10_parse(d, sizeof(d), &c), 0);
    assert_int_equal(c.num_blocks, 0x100000);
    assert_int_equal(c.block_len, 512);
    assert_false(c.has_rc16_fields);
    memset(d, 0xff, 4);
    assert_int_equal(scsi_rc10_parse(d, sizeof(d), &c), 1);   /* use RC16 */
    d[0] = 0;
    d[6] = 0;
    d[7] = 0;
    assert_int_equal(scsi_rc10_parse(d, sizeof(d), &c), -1);  /* block length 0 */
    assert_int_equal(scsi_rc10_parse(d, 7, &c), -1);
    assert_int_equal(scsi_rc10_parse(NULL, 8, &c), -1);
}

/* ---- Block Limits VPD ------------------------------------------------------------- */

/* Lengths the proxy plans with: 512 B to 64 KiB, powers of two or not. */
static void test_block_len_usable(void **state)
{
    (void)state;
    assert_false(scsi_block_len_usable(0));
    assert_false(scsi_block_len_usable(256));
    assert_false(scsi_block_len_usable(511));
    assert_true(scsi_block_len_usable(512));
    assert_true(scsi_block_len_usable(520));
    assert_true(scsi_block_len_usable(4096));
    assert_true(scsi_block_len_usable(4160));
    assert_true(scsi_block_len_usable(65536));
    assert_false(scsi_block_len_usable(65537));
    assert_false(scsi_block_len_usable(8u * 1024 * 1024 + 1));  /* split would be 0 */
    assert_false(scsi_block_len_usable(UINT32_MAX));
}

static void test_block_limits_full(void **state)
{
    const uint8_t p[64] = {
        0x00, 0xb0, 0x00, 0x3c,
        0x01, 0x10, 0x00, 0x08,                    /* WSNZ, MAX CAW 16, OTLG 8 */
        0x00, 0x00, 0x40, 0x00,                    /* MAX TRANSFER 16384 */
        0x00, 0x00, 0x04, 0x00,                    /* OPTIMAL TRANSFER 1024 */
        0x00, 0x00, 0x01, 0x00,                    /* MAX PREFETCH 256 */
        0xff, 0xff, 0xff, 0xff,                    /* MAX UNMAP LBA COUNT */
        0x00, 0x00, 0x00, 0x40,                    /* MAX UNMAP DESCRIPTORS 64 */
        0x00, 0x00, 0x00, 0x80,                    /* OPT UNMAP GRANULARITY 128 */
        0x80, 0x00, 0x00, 0x07,                    /* UGAVALID, alignment 7 */
        0, 0, 0, 0, 0, 0x01, 0x00, 0x00,           /* MAX WRITE SAME 65536 */
    };
    struct scsi_block_limits b;
    (void)state;

    assert_int_equal(scsi_vpd_block_limits_parse(p, sizeof(p), &b), 0);
    assert_true(b.wsnz);
    assert_int_equal(b.max_caw_len, 16);
    assert_int_equal(b.opt_xfer_gran, 8);
    assert_int_equal(b.max_xfer_len, 16384);
    assert_int_equal(b.opt_xfer_len, 1024);
    assert_int_equal(b.max_prefetch_len, 256);
    assert_int_equal(b.max_unmap_lba_count, 0xffffffffu);
    assert_int_equal(b.max_unmap_desc_count, 64);
    assert_int_equal(b.opt_unmap_gran, 128);
    assert_true(b.ugavalid);
    assert_int_equal(b.unmap_gran_align, 7);
    assert_int_equal(b.max_write_same_len, 65536);
    assert_true(b.has_unmap_fields);
}

static void test_block_limits_short_pages(void **state)
{
    /* SBC-2 page: PAGE LENGTH 0Ch, ends after MAXIMUM/OPTIMAL TRANSFER LENGTH,
     * followed by bytes that must not be read as fields. */
    uint8_t p[64] = {
        0x00, 0xb0, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x80,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff,
    };
    struct scsi_block_limits b;
    (void)state;

    assert_int_equal(scsi_vpd_block_limits_parse(p, sizeof(p), &b), 0);
    assert_int_equal(b.max_xfer_len, 4096);
    assert_int_equal(b.opt_xfer_len, 128);
    assert_int_equal(b.max_unmap_lba_count, 0);
    assert_int_equal(b.opt_unmap_gran, 0);
    assert_false(b.has_unmap_fields);
    assert_false(b.ugavalid);

    /* Full PAGE LENGTH but the data stops at byte 30 (allocation length). */
    p[3] = 0x3c;
    assert_int_equal(scsi_vpd_block_limits_parse(p, 30, &b), 0);
    assert_int_equal(b.max_unmap_desc_count, 0xffffffffu);
    assert_int_equal(b.opt_unmap_gran, 0);      /* bytes 28-31 incomplete */
    assert_false(b.has_unmap_fields);
    assert_int_equal(b.max_write_same_len, 0);

    /* Header only: valid, every field "not reported". */
    assert_int_equal(scsi_vpd_block_limits_parse(p, 4, &b), 0);
    assert_int_equal(b.max_xfer_len, 0);
    assert_false(b.wsnz);
}

static void test_block_limits_rejects(void **state)
{
    uint8_t p[64] = { 0x00, 0xb0, 0x00, 0x3c };
    struct scsi_block_limits b;
    (void)state;
    assert_int_equal(scsi_vpd_block_limits_parse(p, 3, &b), -1);
    assert_int_equal(scsi_vpd_block_limits_parse(NULL, 64, &b), -1);
    assert_int_equal(scsi_vpd_block_limits_parse(p, 64, NULL), -1);
    p[1] = 0xb2;                                 /* other page */
    assert_int_equal(scsi_vpd_block_limits_parse(p, 64, &b), -1);
    p[1] = 0xb0;
    p[0] = 0x20;                                 /* qualifier 001b: not connected */
    assert_int_equal(scsi_vpd_block_limits_parse(p, 64, &b), -1);
    p[0] = 0x7f;                                 /* 011b, no device */
    assert_int_equal(scsi_vpd_block_limits_parse(p, 64, &b), -1);
}

/* ---- Logical Block Provisioning VPD ---------------------------------------------- */

static void test_lbp_vpd(void **state)
{
    uint8_t p[8] = { 0x00, 0xb2, 0x00, 0x04, 0x0a, 0xe6, 0x52, 0x20 };
    struct scsi_lbp_vpd v;
    (void)state;

    /* byte 5 = 1110 0110: LBPU LBPWS LBPWS10, LBPRZ 001b, ANC_SUP. */
    assert_int_equal(scsi_vpd_lbp_parse(p, sizeof(p), &v), 0);
    assert_int_equal(v.threshold_exp, 10);
    assert_true(v.lbpu);
    assert_true(v.lbpws);
    assert_true(v.lbpws10);
    assert_int_equal(v.lbprz, 1);
    assert_true(v.anc_sup);
    assert_false(v.dp);
    assert_int_equal(v.min_percentage, 10);
    assert_int_equal(v.prov_type, SCSI_PROV_TYPE_THIN);
    assert_int_equal(v.threshold_pct, 0x20);
    assert_true(scsi_lbp_vpd_reads_zeros(&v));

    /* LBPRZ field values (SBC-5 table 280). */
    static const struct { uint8_t field; bool zeros; } t[] = {
        { 0, false }, { 1, true }, { 2, false }, { 3, true },
        { 4, false }, { 5, true }, { 6, false }, { 7, true },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        p[5] = (uint8_t)(t[i].field << 2) | 0x01;
        assert_int_equal(scsi_vpd_lbp_parse(p, sizeof(p), &v), 0);
        assert_int_equal(v.lbprz, t[i].field);
        assert_true(v.dp);
        assert_false(v.lbpu);
        assert_int_equal(scsi_lbp_vpd_reads_zeros(&v), t[i].zeros);
    }
    assert_false(scsi_lbp_vpd_reads_zeros(NULL));
}

static void test_lbp_vpd_rejects(void **state)
{
    uint8_t p[8] = { 0x00, 0xb2, 0x00, 0x04, 0, 0x04, 0x02, 0 };
    struct scsi_lbp_vpd v;
    (void)state;
    assert_int_equal(scsi_vpd_lbp_parse(p, 7, &v), -1);
    p[3] = 0x03;                                 /* PAGE LENGTH < 4 */
    assert_int_equal(scsi_vpd_lbp_parse(p, 8, &v), -1);
    p[3] = 0x04;
    p[1] = 0xb0;
    assert_int_equal(scsi_vpd_lbp_parse(p, 8, &v), -1);
    p[1] = 0xb2;
    p[0] = 0x60;
    assert_int_equal(scsi_vpd_lbp_parse(p, 8, &v), -1);
    assert_int_equal(scsi_vpd_lbp_parse(NULL, 8, &v), -1);
    assert_int_equal(scsi_vpd_lbp_parse(p, 8, NULL), -1);
}

static void test_unmapped_reads_zeros(void **state)
{
    struct scsi_capacity c = { .num_blocks = 10, .block_len = 512,
                               .has_rc16_fields = true, .lbpme = true, .lbprz = true };
    struct scsi_lbp_vpd zeros = { .lbprz = 1 }, pattern = { .lbprz = 2 };
    (void)state;

    assert_true(scsi_lun_unmapped_reads_zeros(&c, NULL));
    assert_true(scsi_lun_unmapped_reads_zeros(&c, &zeros));
    assert_false(scsi_lun_unmapped_reads_zeros(&c, &pattern));
    c.lbpme = false;
    assert_false(scsi_lun_unmapped_reads_zeros(&c, &zeros));
    c.lbpme = true;
    c.lbprz = false;
    assert_false(scsi_lun_unmapped_reads_zeros(&c, &zeros));
    c.lbprz = true;
    c.has_rc16_fields = false;                   /* READ CAPACITY (10) only */
    assert_false(scsi_lun_unmapped_reads_zeros(&c, &zeros));
    assert_false(scsi_lun_unmapped_reads_zeros(NULL, &zeros));
}

/* ---- Unit attentions --------------------------------------------------------------- */

static void test_ua_classify(void **state)
{
    static const struct { uint8_t asc, ascq; enum scsi_ua_reason r; bool inval; } t[] = {
        { 0x29, 0x00, SCSI_UA_RESET, true },
        { 0x29, 0x01, SCSI_UA_RESET, true },
        { 0x29, 0x07, SCSI_UA_RESET, true },              /* I_T NEXUS LOSS */
        { 0x2a, 0x09, SCSI_UA_CAPACITY_CHANGED, true },
        { 0x2a, 0x01, SCSI_UA_MODE_CHANGED, true },
        { 0x2a, 0x02, SCSI_UA_INFO, false },              /* log parameters */
        { 0x2a, 0x03, SCSI_UA_INFO, false },              /* reservations preempted */
        { 0x2a, 0x06, SCSI_UA_INFO, false },              /* ALUA state */
        { 0x2a, 0x10, SCSI_UA_INFO, false },              /* timestamp */
        { 0x2a, 0x11, SCSI_UA_OTHER, true },              /* not known harmless */
        { 0x3f, 0x0e, SCSI_UA_LUNS_CHANGED, true },
        { 0x3f, 0x03, SCSI_UA_INQUIRY_CHANGED, true },
        { 0x3f, 0x01, SCSI_UA_MICROCODE_CHANGED, true },
        { 0x3f, 0x16, SCSI_UA_MICROCODE_CHANGED, true },
        { 0x3f, 0x00, SCSI_UA_OPERATING_CHANGED, true },
        { 0x3f, 0x05, SCSI_UA_OPERATING_CHANGED, true },  /* device identifier */
        { 0x3f, 0x0f, SCSI_UA_INFO, false },              /* echo buffer */
        { 0x3f, 0x14, SCSI_UA_INFO, false },              /* iSCSI IP changed */
        { 0x28, 0x00, SCSI_UA_MEDIUM_CHANGED, true },
        { 0x2f, 0x00, SCSI_UA_INFO, false },              /* commands cleared */
        { 0x38, 0x07, SCSI_UA_INFO, false },              /* thin threshold */
        { 0x38, 0x00, SCSI_UA_OTHER, true },
        { 0x00, 0x00, SCSI_UA_OTHER, true },              /* truncated sense */
        { 0x5d, 0x00, SCSI_UA_OTHER, true },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct scsi_sense_info s = { .key = SCSI_KEY_UNIT_ATTENTION,
                                     .asc = t[i].asc, .ascq = t[i].ascq };
        enum scsi_ua_reason r = scsi_ua_classify(&s);

        if (r != t[i].r)
            fail_msg("%02x/%02x: %s", t[i].asc, t[i].ascq, scsi_ua_reason_name(r));
        assert_int_equal(scsi_ua_invalidates(r), t[i].inval);
    }
}

static void test_ua_from_sense_bytes(void **state)
{
    uint8_t f[SCSI_SENSE_FIXED_LEN];
    struct scsi_sense_info s;
    (void)state;

    scsi_sense_build_fixed(f, sizeof(f), SCSI_KEY_UNIT_ATTENTION, 0x2a, 0x09);
    assert_int_equal(scsi_sense_parse(f, sizeof(f), &s), 0);
    assert_int_equal(scsi_ua_classify(&s), SCSI_UA_CAPACITY_CHANGED);
    /* Same ASC/ASCQ with another sense key: not a unit attention. */
    scsi_sense_build_fixed(f, sizeof(f), SCSI_KEY_NOT_READY, 0x29, 0x00);
    assert_int_equal(scsi_sense_parse(f, sizeof(f), &s), 0);
    assert_int_equal(scsi_ua_classify(&s), SCSI_UA_NONE);
    assert_false(scsi_ua_invalidates(SCSI_UA_NONE));
    assert_int_equal(scsi_ua_classify(NULL), SCSI_UA_NONE);
}

static void test_ua_names(void **state)
{
    (void)state;
    for (int r = SCSI_UA_NONE; r <= SCSI_UA_OTHER; r++)
        assert_string_not_equal(scsi_ua_reason_name((enum scsi_ua_reason)r), "?");
    assert_string_equal(scsi_ua_reason_name(SCSI_UA_CAPACITY_CHANGED), "capacity_changed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_rc16_full),
        cmocka_unit_test(test_rc16_lbp_bits),
        cmocka_unit_test(test_rc16_malformed),
        cmocka_unit_test(test_rc10),
        cmocka_unit_test(test_block_len_usable),
        cmocka_unit_test(test_block_limits_full),
        cmocka_unit_test(test_block_limits_short_pages),
        cmocka_unit_test(test_block_limits_rejects),
        cmocka_unit_test(test_lbp_vpd),
        cmocka_unit_test(test_lbp_vpd_rejects),
        cmocka_unit_test(test_unmapped_reads_zeros),
        cmocka_unit_test(test_ua_classify),
        cmocka_unit_test(test_ua_from_sense_bytes),
        cmocka_unit_test(test_ua_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
