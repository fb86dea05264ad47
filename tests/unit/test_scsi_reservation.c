/* Unit tests for scsi/scsi_reservation.c: one case per rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "scsi_reservation.h"

#define GOOD 0x00
#define CHECK 0x02

/* PERSISTENT RESERVE OUT with service action sa and TYPE type (scope 0). */
static void pr_out(uint8_t *cdb, uint8_t sa, uint8_t type)
{
    memset(cdb, 0, 16);
    cdb[0] = 0x5f;
    cdb[1] = sa;
    cdb[2] = type;
    cdb[8] = 24;                        /* parameter list length */
}

static void pr_in(uint8_t *cdb, uint8_t sa)
{
    memset(cdb, 0, 16);
    cdb[0] = 0x5e;
    cdb[1] = sa;
    cdb[8] = 255;
}

static void test_pr_out_ea_types_set_at_send(void **state)
{
    static const uint8_t sas[] = { 0x01, 0x04, 0x05 };     /* RESERVE, PREEMPT (AND ABORT) */
    static const uint8_t types[] = { 0x3, 0x6, 0x8 };      /* EA, EA-RO, EA-AR */
    uint8_t cdb[16];
    (void)state;

    for (size_t i = 0; i < sizeof(sas); i++) {
        for (size_t j = 0; j < sizeof(types); j++) {
            pr_out(cdb, sas[i], types[j]);
            assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_SET);
            /* also when it fails: set at send, kept at completion */
            assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), CHECK, NULL, 0),
                             SCSI_RESV_KEEP);
            assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, NULL, 0), SCSI_RESV_SET);
        }
    }
    pr_out(cdb, 0x01, 0x10 | 0x3);     /* SCOPE bits do not hide the type */
    assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_SET);
}

static void test_pr_out_write_exclusive_keeps(void **state)
{
    static const uint8_t types[] = { 0x1, 0x5, 0x7, 0x0, 0x2, 0xf };
    uint8_t cdb[16];
    (void)state;

    for (size_t j = 0; j < sizeof(types); j++) {
        pr_out(cdb, 0x01, types[j]);
        assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_KEEP);
        assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, NULL, 0), SCSI_RESV_KEEP);
    }
}

static void test_pr_out_register_keeps(void **state)
{
    uint8_t cdb[16];
    (void)state;
    pr_out(cdb, 0x00, 0x3);             /* REGISTER: TYPE ignored */
    assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_KEEP);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, NULL, 0), SCSI_RESV_KEEP);
    pr_out(cdb, 0x06, 0x3);             /* REGISTER AND IGNORE EXISTING KEY */
    assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_KEEP);
}

static void test_pr_out_move_and_replace_set(void **state)
{
    uint8_t cdb[16];
    (void)state;
    pr_out(cdb, 0x07, 0x6);             /* REGISTER AND MOVE */
    assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_SET);
    pr_out(cdb, 0x08, 0x8);             /* REPLACE LOST RESERVATION */
    assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_SET);
}

static void test_scsi2_reserve_sets(void **state)
{
    uint8_t r6[6] = { 0x16 }, r10[10] = { 0x56 };
    (void)state;
    assert_int_equal(scsi_resv_on_send(r6, sizeof(r6)), SCSI_RESV_SET);
    assert_int_equal(scsi_resv_on_send(r10, sizeof(r10)), SCSI_RESV_SET);
    assert_int_equal(scsi_resv_on_done(r6, sizeof(r6), GOOD, NULL, 0), SCSI_RESV_SET);
    assert_int_equal(scsi_resv_on_send(r10, 6), SCSI_RESV_KEEP);    /* truncated CDB */
}

static void test_conflict_on_any_command_sets(void **state)
{
    uint8_t read10[10] = { 0x28 };
    (void)state;
    assert_int_equal(scsi_resv_on_send(read10, sizeof(read10)), SCSI_RESV_KEEP);
    assert_int_equal(scsi_resv_on_done(read10, sizeof(read10), 0x18, NULL, 0), SCSI_RESV_SET);
    assert_int_equal(scsi_resv_on_done(NULL, 0, 0x18, NULL, 0), SCSI_RESV_SET);
    assert_int_equal(scsi_resv_on_done(read10, sizeof(read10), GOOD, NULL, 0), SCSI_RESV_KEEP);
}

static void test_pr_out_release_clear_good_clear(void **state)
{
    uint8_t cdb[16];
    (void)state;
    pr_out(cdb, 0x02, 0x3);             /* RELEASE */
    assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_KEEP);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, NULL, 0), SCSI_RESV_CLEAR);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), CHECK, NULL, 0), SCSI_RESV_KEEP);
    pr_out(cdb, 0x03, 0x0);             /* CLEAR */
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, NULL, 0), SCSI_RESV_CLEAR);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), 0x18, NULL, 0), SCSI_RESV_SET);
}

static void test_scsi2_release_good_clears(void **state)
{
    uint8_t r6[6] = { 0x17 }, r10[10] = { 0x57 };
    (void)state;
    assert_int_equal(scsi_resv_on_done(r6, sizeof(r6), GOOD, NULL, 0), SCSI_RESV_CLEAR);
    assert_int_equal(scsi_resv_on_done(r10, sizeof(r10), GOOD, NULL, 0), SCSI_RESV_CLEAR);
    assert_int_equal(scsi_resv_on_done(r6, sizeof(r6), CHECK, NULL, 0), SCSI_RESV_KEEP);
}

/* READ RESERVATION data: header + optional 16-byte descriptor. */
static size_t rr_data(uint8_t *d, bool held, uint8_t type)
{
    memset(d, 0, 24);
    d[3] = 7;                           /* PRGENERATION */
    if (!held)
        return 8;
    d[7] = 16;
    d[8] = 0xab;                        /* key */
    d[21] = type;
    return 24;
}

static void test_read_reservation(void **state)
{
    uint8_t cdb[16], d[24];
    (void)state;
    pr_in(cdb, 0x01);
    assert_int_equal(scsi_resv_on_send(cdb, sizeof(cdb)), SCSI_RESV_KEEP);
    size_t n = rr_data(d, false, 0);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_CLEAR);
    n = rr_data(d, true, 0x1);          /* Write Exclusive: reads shared */
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_CLEAR);
    n = rr_data(d, true, 0x3);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_SET);
    n = rr_data(d, true, 0x8);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_SET);
}

static void test_read_reservation_malformed_keeps(void **state)
{
    uint8_t cdb[16], d[24];
    (void)state;
    pr_in(cdb, 0x01);
    size_t n = rr_data(d, true, 0x1);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, 7), SCSI_RESV_KEEP);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n - 1), SCSI_RESV_KEEP);
    d[7] = 8;                           /* ADDITIONAL LENGTH too short for a descriptor */
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_KEEP);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, NULL, 0), SCSI_RESV_KEEP);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), CHECK, d, 8), SCSI_RESV_KEEP);
    pr_in(cdb, 0x00);                   /* READ KEYS: says nothing */
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, 8), SCSI_RESV_KEEP);
}

/* READ FULL STATUS with descriptors of (r_holder, type), TransportIDs of 24 bytes. */
static size_t fs_data(uint8_t *d, const uint8_t (*regs)[2], size_t n_regs)
{
    size_t off = 8;
    memset(d, 0, 8 + n_regs * 48);
    for (size_t i = 0; i < n_regs; i++) {
        d[off + 12] = regs[i][0];
        d[off + 13] = regs[i][1];
        d[off + 23] = 24;
        off += 48;
    }
    d[6] = (uint8_t)((off - 8) >> 8);
    d[7] = (uint8_t)(off - 8);
    return off;
}

static void test_read_full_status(void **state)
{
    static const uint8_t none[][2] = { { 0, 0 }, { 0, 0 } };
    static const uint8_t we[][2] = { { 0, 0 }, { 1, 0x1 } };
    static const uint8_t ea[][2] = { { 0, 0 }, { 1, 0x6 } };
    uint8_t cdb[16], d[8 + 2 * 48];
    (void)state;
    pr_in(cdb, 0x03);
    size_t n = fs_data(d, none, 2);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_CLEAR);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, 8), SCSI_RESV_KEEP);
    n = fs_data(d, we, 2);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_CLEAR);
    n = fs_data(d, ea, 2);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_SET);
    n = fs_data(d, none, 0);            /* no registrations at all */
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_CLEAR);
}

static void test_read_full_status_malformed_keeps(void **state)
{
    static const uint8_t none[][2] = { { 0, 0 }, { 0, 0 } };
    uint8_t cdb[16], d[8 + 2 * 48];
    (void)state;
    pr_in(cdb, 0x03);
    size_t n = fs_data(d, none, 2);
    /* truncated by the allocation length: not the whole list */
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n - 1), SCSI_RESV_KEEP);
    /* a descriptor's length runs past the list */
    d[8 + 48 + 22] = 0x01;
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_KEEP);
    /* a list length that is not a whole number of descriptors */
    n = fs_data(d, none, 2);
    d[7] = (uint8_t)(d[7] - 4);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_KEEP);
    /* a huge ADDITIONAL LENGTH */
    memset(d + 4, 0xff, 4);
    assert_int_equal(scsi_resv_on_done(cdb, sizeof(cdb), GOOD, d, n), SCSI_RESV_KEEP);
}

static void test_apply_clear_only_if_no_set_since(void **state)
{
    struct scsi_resv r = { 0 };
    (void)state;
    scsi_resv_apply(&r, SCSI_RESV_SET, r.sets);
    assert_true(r.may_be_held);
    uint64_t release_sent = r.sets;
    scsi_resv_apply(&r, SCSI_RESV_SET, r.sets);     /* another session's RESERVE */
    scsi_resv_apply(&r, SCSI_RESV_CLEAR, release_sent);
    assert_true(r.may_be_held);                     /* stale clear ignored */
    scsi_resv_apply(&r, SCSI_RESV_CLEAR, r.sets);
    assert_false(r.may_be_held);
    scsi_resv_apply(&r, SCSI_RESV_KEEP, 0);
    assert_false(r.may_be_held);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pr_out_ea_types_set_at_send),
        cmocka_unit_test(test_pr_out_write_exclusive_keeps),
        cmocka_unit_test(test_pr_out_register_keeps),
        cmocka_unit_test(test_pr_out_move_and_replace_set),
        cmocka_unit_test(test_scsi2_reserve_sets),
        cmocka_unit_test(test_conflict_on_any_command_sets),
        cmocka_unit_test(test_pr_out_release_clear_good_clear),
        cmocka_unit_test(test_scsi2_release_good_clears),
        cmocka_unit_test(test_read_reservation),
        cmocka_unit_test(test_read_reservation_malformed_keeps),
        cmocka_unit_test(test_read_full_status),
        cmocka_unit_test(test_read_full_status_malformed_keeps),
        cmocka_unit_test(test_apply_clear_only_if_no_set_since),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
