/* Unit tests for scsi/scsi_lba_status.c: GET LBA STATUS CDB and parameter data. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "scsi_lba_status.h"

struct desc { uint64_t lba; uint32_t n; uint8_t status; };

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Lay out parameter data with PARAMETER DATA LENGTH 4 + 16 * n. */
static size_t mk(uint8_t *buf, const struct desc *d, size_t n)
{
    memset(buf, 0, 8 + 16 * n);
    put32(buf, (uint32_t)(4 + 16 * n));
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + 8 + 16 * i;
        put64(p, d[i].lba);
        put32(p + 8, d[i].n);
        p[12] = d[i].status;
    }
    return 8 + 16 * n;
}

#define LUN 1000u

static int parse(const uint8_t *buf, size_t len, uint64_t lba, struct scsi_lba_run *runs,
                 size_t cap, struct scsi_lba_status_result *r)
{
    return scsi_lba_status_parse(buf, len, lba, LUN, runs, cap, r);
}

static void expect_reject(const uint8_t *buf, size_t len, uint64_t lba, enum scsi_lbas_err err)
{
    struct scsi_lba_run runs[8];
    struct scsi_lba_status_result r;

    assert_int_equal(parse(buf, len, lba, runs, 8, &r), -1);
    assert_int_equal(r.err, err);
    assert_int_equal(r.nruns, 0);
    assert_int_equal(r.end_lba, lba);
}

static void test_build_cdb(void **state)
{
    static const uint8_t want[16] = {
        0x9e, 0x12, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        0x00, 0x00, 0x10, 0x08, 0x00, 0x00,
    };
    uint8_t cdb[20];
    (void)state;
    memset(cdb, 0xaa, sizeof(cdb));
    assert_int_equal(scsi_gls16_build(cdb, sizeof(cdb), 0x0102030405060708ull,
                                      SCSI_GLS_ALLOC_LEN(256)), 16);
    assert_memory_equal(cdb, want, 16);
    assert_int_equal(cdb[16], 0xaa);
    assert_int_equal(scsi_gls16_build(cdb, 15, 0, 0), 0);
    assert_int_equal(scsi_gls16_build(NULL, 16, 0, 0), 0);
}

static void test_single_deallocated(void **state)
{
    const struct desc d[] = { { 100, 50, SCSI_PROV_DEALLOCATED } };
    uint8_t buf[64];
    struct scsi_lba_run runs[4];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 1);
    (void)state;

    assert_int_equal(parse(buf, len, 100, runs, 4, &r), 0);
    assert_int_equal(r.err, SCSI_LBAS_OK);
    assert_int_equal(r.nruns, 1);
    assert_int_equal(runs[0].lba, 100);
    assert_int_equal(runs[0].blocks, 50);
    assert_true(runs[0].unallocated);
    assert_int_equal(r.end_lba, 150);
    assert_int_equal(r.ndesc, 1);
    assert_int_equal(r.nused, 1);
    assert_false(r.capped);
    assert_false(r.runs_full);
}

static void test_merge_and_statuses(void **state)
{
    const struct desc d[] = {
        { 0, 10, SCSI_PROV_MAPPED_OR_UNKNOWN },
        { 10, 5, SCSI_PROV_DEALLOCATED },
        { 15, 5, SCSI_PROV_ANCHORED },
        { 20, 5, SCSI_PROV_MAPPED },
        { 25, 5, SCSI_PROV_UNKNOWN },
        { 30, 5, 0x0f },                      /* reserved: may hold data */
        { 35, 5, 0xf1 },                      /* reserved bits 7-4 ignored */
    };
    uint8_t buf[8 + 16 * 7];
    struct scsi_lba_run runs[8];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 7);
    (void)state;

    assert_int_equal(parse(buf, len, 0, runs, 8, &r), 0);
    assert_int_equal(r.nruns, 4);
    assert_int_equal(runs[0].lba, 0);
    assert_int_equal(runs[0].blocks, 10);
    assert_false(runs[0].unallocated);
    assert_int_equal(runs[1].lba, 10);     /* deallocated + anchored merged */
    assert_int_equal(runs[1].blocks, 10);
    assert_true(runs[1].unallocated);
    assert_int_equal(runs[2].lba, 20);     /* mapped, unknown, reserved merged */
    assert_int_equal(runs[2].blocks, 15);
    assert_false(runs[2].unallocated);
    assert_int_equal(runs[3].lba, 35);
    assert_true(runs[3].unallocated);
    assert_int_equal(r.end_lba, 40);
    assert_int_equal(r.nused, 7);
    assert_true(r.anchored);                /* the caller must know (task_lba_status.c) */
}

static void test_anchored_only_when_said(void **state)
{
    const struct desc d[] = { { 0, 10, SCSI_PROV_DEALLOCATED }, { 10, 5, SCSI_PROV_MAPPED } };
    uint8_t buf[8 + 16 * 2];
    struct scsi_lba_run runs[4];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 2);
    (void)state;

    assert_int_equal(parse(buf, len, 0, runs, 4, &r), 0);
    assert_false(r.anchored);
}

static void test_statuses_other_than_1_2_are_allocated(void **state)
{
    uint8_t buf[64];
    struct scsi_lba_run runs[2];
    struct scsi_lba_status_result r;
    (void)state;
    for (unsigned st = 0; st < 16; st++) {
        const struct desc d[] = { { 7, 3, (uint8_t)st } };
        size_t len = mk(buf, d, 1);

        assert_int_equal(parse(buf, len, 7, runs, 2, &r), 0);
        assert_int_equal(runs[0].unallocated, st == 1 || st == 2);
    }
}

static void test_cap_at_lun_end(void **state)
{
    const struct desc d[] = {
        { 990, 5, SCSI_PROV_DEALLOCATED },
        { 995, 100, SCSI_PROV_DEALLOCATED },  /* past the end: capped */
        { 1095, 5, SCSI_PROV_MAPPED },        /* entirely past: ignored */
    };
    uint8_t buf[64];
    struct scsi_lba_run runs[4];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 3);
    (void)state;

    assert_int_equal(parse(buf, len, 990, runs, 4, &r), 0);
    assert_int_equal(r.nruns, 1);
    assert_int_equal(runs[0].lba, 990);
    assert_int_equal(runs[0].blocks, 10);
    assert_true(r.capped);
    assert_int_equal(r.end_lba, LUN);
    assert_int_equal(r.nused, 2);
    assert_int_equal(r.ndesc, 3);
}

static void test_cap_overflow(void **state)
{
    const struct desc d[] = { { UINT64_MAX - 2, 0xffffffffu, SCSI_PROV_ANCHORED } };
    uint8_t buf[32];
    struct scsi_lba_run runs[1];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 1);
    (void)state;

    assert_int_equal(scsi_lba_status_parse(buf, len, UINT64_MAX - 2, UINT64_MAX,
                                           runs, 1, &r), 0);
    assert_int_equal(runs[0].lba, UINT64_MAX - 2);
    assert_int_equal(runs[0].blocks, 2);
    assert_true(r.capped);
    assert_int_equal(r.end_lba, UINT64_MAX);
}

static void test_first_descriptor_must_start_at_asked(void **state)
{
    const struct desc before[] = { { 90, 50, SCSI_PROV_DEALLOCATED } };
    const struct desc after[] = { { 110, 50, SCSI_PROV_DEALLOCATED } };
    uint8_t buf[32];
    (void)state;
    expect_reject(buf, mk(buf, before, 1), 100, SCSI_LBAS_FIRST_LBA);
    expect_reject(buf, mk(buf, after, 1), 100, SCSI_LBAS_FIRST_LBA);
}

static void test_empty_and_short(void **state)
{
    uint8_t buf[32];
    (void)state;
    expect_reject(buf, mk(buf, NULL, 0), 0, SCSI_LBAS_EMPTY);      /* PDL 4 */
    mk(buf, NULL, 0);
    expect_reject(buf, 7, 0, SCSI_LBAS_SHORT);
    expect_reject(NULL, 32, 0, SCSI_LBAS_SHORT);
    /* PDL says one descriptor, but only part of it arrived. */
    {
        const struct desc d[] = { { 0, 1, 1 } };
        size_t len = mk(buf, d, 1);
        expect_reject(buf, len - 1, 0, SCSI_LBAS_EMPTY);
        expect_reject(buf, 8, 0, SCSI_LBAS_EMPTY);
    }
}

static void test_bad_parameter_data_length(void **state)
{
    static const uint32_t bad[] = { 0, 1, 2, 3, 5, 12, 19, 21, 0xffffffffu };
    const struct desc d[] = { { 0, 1, 1 }, { 1, 1, 1 } };
    uint8_t buf[64];
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = mk(buf, d, 2);
        put32(buf, bad[i]);
        expect_reject(buf, len, 0, SCSI_LBAS_BAD_LENGTH);
    }
}

static void test_truncated_by_allocation_length(void **state)
{
    const struct desc d[] = { { 0, 4, 1 }, { 4, 4, 0 }, { 8, 4, 1 } };
    uint8_t buf[64];
    struct scsi_lba_run runs[4];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 3);
    (void)state;

    /* 2.5 descriptors arrived: the partial one is dropped. */
    assert_int_equal(parse(buf, len - 8, 0, runs, 4, &r), 0);
    assert_int_equal(r.ndesc, 2);
    assert_int_equal(r.nruns, 2);
    assert_int_equal(r.end_lba, 8);
    /* PDL far larger than anything sent (but 4 + 16n): what arrived counts. */
    put32(buf, 0xfffffff4u);
    assert_int_equal(parse(buf, len, 0, runs, 4, &r), 0);
    assert_int_equal(r.ndesc, 3);
    assert_int_equal(r.end_lba, 12);
}

static void test_bytes_past_pdl_ignored(void **state)
{
    const struct desc d[] = { { 0, 4, 1 }, { 2, 4, 1 } };    /* 2nd would overlap */
    uint8_t buf[64];
    struct scsi_lba_run runs[4];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 2);
    (void)state;
    put32(buf, 4 + 16);                                      /* PDL: one descriptor */
    assert_int_equal(parse(buf, len, 0, runs, 4, &r), 0);
    assert_int_equal(r.ndesc, 1);
    assert_int_equal(r.end_lba, 4);
}

static void test_zero_blocks(void **state)
{
    const struct desc first[] = { { 0, 0, 1 } };
    const struct desc later[] = { { 0, 4, 1 }, { 4, 0, 1 }, { 4, 4, 1 } };
    uint8_t buf[64];
    (void)state;
    expect_reject(buf, mk(buf, first, 1), 0, SCSI_LBAS_ZERO_BLOCKS);
    expect_reject(buf, mk(buf, later, 3), 0, SCSI_LBAS_ZERO_BLOCKS);
}

static void test_overlap_backwards_gap(void **state)
{
    const struct desc overlap[] = { { 0, 8, 1 }, { 4, 8, 0 } };
    const struct desc backwards[] = { { 10, 8, 1 }, { 18, 2, 0 }, { 0, 4, 1 } };
    const struct desc repeat[] = { { 0, 8, 1 }, { 0, 8, 1 } };
    const struct desc gap[] = { { 0, 8, 1 }, { 9, 8, 1 } };
    uint8_t buf[64];
    (void)state;
    expect_reject(buf, mk(buf, overlap, 2), 0, SCSI_LBAS_OVERLAP);
    expect_reject(buf, mk(buf, backwards, 3), 10, SCSI_LBAS_OVERLAP);
    expect_reject(buf, mk(buf, repeat, 2), 0, SCSI_LBAS_OVERLAP);
    expect_reject(buf, mk(buf, gap, 2), 0, SCSI_LBAS_GAP);
}

static void test_runs_full(void **state)
{
    const struct desc d[] = { { 0, 4, 1 }, { 4, 4, 0 }, { 8, 4, 1 } };
    const struct desc bad_tail[] = { { 0, 4, 1 }, { 4, 4, 0 }, { 9, 4, 1 } };
    uint8_t buf[64];
    struct scsi_lba_run runs[1];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 3);
    (void)state;

    assert_int_equal(parse(buf, len, 0, runs, 1, &r), 0);
    assert_int_equal(r.nruns, 1);
    assert_true(r.runs_full);
    assert_int_equal(r.end_lba, 4);
    assert_int_equal(r.nused, 1);
    assert_int_equal(runs[0].blocks, 4);
    /* A malformed descriptor after the array filled still rejects all. */
    len = mk(buf, bad_tail, 3);
    assert_int_equal(parse(buf, len, 0, runs, 1, &r), -1);
    assert_int_equal(r.err, SCSI_LBAS_GAP);
    assert_int_equal(r.nruns, 0);
    assert_false(r.runs_full);
}

static void test_bad_args(void **state)
{
    const struct desc d[] = { { 0, 4, 1 } };
    uint8_t buf[32];
    struct scsi_lba_run runs[1];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 1);
    (void)state;

    assert_int_equal(scsi_lba_status_parse(buf, len, 0, 0, runs, 1, &r), -1);
    assert_int_equal(r.err, SCSI_LBAS_BAD_ARGS);
    assert_int_equal(scsi_lba_status_parse(buf, len, LUN, LUN, runs, 1, &r), -1);
    assert_int_equal(r.err, SCSI_LBAS_BAD_ARGS);
    assert_int_equal(scsi_lba_status_parse(buf, len, 0, LUN, NULL, 1, &r), -1);
    assert_int_equal(scsi_lba_status_parse(buf, len, 0, LUN, runs, 0, &r), -1);
    assert_int_equal(r.err, SCSI_LBAS_BAD_ARGS);
    assert_int_equal(scsi_lba_status_parse(buf, len, 0, LUN, runs, 1, NULL), -1);
}

static void test_header_flags(void **state)
{
    const struct desc d[] = { { 0, 4, 1 } };
    uint8_t buf[32];
    struct scsi_lba_run runs[1];
    struct scsi_lba_status_result r;
    size_t len = mk(buf, d, 1);
    (void)state;

    buf[7] = (3 << 1) | 1;         /* reached the capacity of the medium, RTP */
    assert_int_equal(parse(buf, len, 0, runs, 1, &r), 0);
    assert_int_equal(r.completion, 3);
    assert_true(r.rtp);
    buf[7] = 0;
    assert_int_equal(parse(buf, len, 0, runs, 1, &r), 0);
    assert_int_equal(r.completion, 0);
    assert_false(r.rtp);
}

static void test_err_names(void **state)
{
    (void)state;
    for (int e = SCSI_LBAS_OK; e <= SCSI_LBAS_GAP; e++) {
        const char *n = scsi_lbas_err_name((enum scsi_lbas_err)e);
        assert_non_null(n);
        assert_string_not_equal(n, "?");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_cdb),
        cmocka_unit_test(test_single_deallocated),
        cmocka_unit_test(test_merge_and_statuses),
        cmocka_unit_test(test_anchored_only_when_said),
        cmocka_unit_test(test_statuses_other_than_1_2_are_allocated),
        cmocka_unit_test(test_cap_at_lun_end),
        cmocka_unit_test(test_cap_overflow),
        cmocka_unit_test(test_first_descriptor_must_start_at_asked),
        cmocka_unit_test(test_empty_and_short),
        cmocka_unit_test(test_bad_parameter_data_length),
        cmocka_unit_test(test_truncated_by_allocation_length),
        cmocka_unit_test(test_bytes_past_pdl_ignored),
        cmocka_unit_test(test_zero_blocks),
        cmocka_unit_test(test_overlap_backwards_gap),
        cmocka_unit_test(test_runs_full),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_header_flags),
        cmocka_unit_test(test_err_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
