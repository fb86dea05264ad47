/*
 * Unit attentions the proxy's own commands consumed (ua_stash.h): kept per
 * LUN, reported once to the initiator's next command that may report one
 * (SAM-5 5.14), bounded; first reset-class notices per nexus.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ua_stash.h"

static const uint8_t seg[] = { 0, 18, 0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x3f, 0x0e };

static void test_reported_once_to_its_lun(void **state)
{
    struct ua_stash s = { 0 };
    struct ua_stashed out;

    (void)state;
    assert_int_equal(ua_stash_put(&s, 1, seg, sizeof(seg)), 0);
    assert_false(ua_stash_take(&s, 2, 0x28, &out));     /* another LUN */
    assert_false(ua_stash_take(&s, 1, 0x12, &out));     /* INQUIRY */
    assert_false(ua_stash_take(&s, 1, 0xa0, &out));     /* REPORT LUNS */
    assert_false(ua_stash_take(&s, 1, 0x03, &out));     /* REQUEST SENSE */
    assert_true(ua_stash_take(&s, 1, 0x28, &out));      /* READ(10) gets it */
    assert_int_equal(out.lun, 1);
    assert_int_equal(out.len, sizeof(seg));
    assert_memory_equal(out.seg, seg, sizeof(seg));
    assert_false(ua_stash_take(&s, 1, 0x28, &out));     /* once */
}

static void test_bounded_and_ordered(void **state)
{
    struct ua_stash s = { 0 };
    struct ua_stashed out;
    uint8_t big[UA_STASH_SEG_MAX + 1] = { 0 };

    (void)state;
    assert_int_equal(ua_stash_put(&s, 1, seg, 1), -1);             /* no SenseLength */
    assert_int_equal(ua_stash_put(&s, 1, big, sizeof(big)), -1);   /* too long */
    for (uint32_t i = 0; i < UA_STASH_MAX; i++)
        assert_int_equal(ua_stash_put(&s, i % 2, seg, sizeof(seg)), 0);
    assert_int_equal(ua_stash_put(&s, 0, seg, sizeof(seg)), -1);   /* full */
    /* Conditions of one LUN come out in the order they were kept. */
    assert_true(ua_stash_take(&s, 1, 0x00, &out));
    assert_int_equal(s.n, UA_STASH_MAX - 1);
    assert_int_equal(s.v[0].lun, 0);
    assert_int_equal(s.v[1].lun, 0);
    assert_int_equal(s.v[2].lun, 1);
}

static void test_first_nexus_notice(void **state)
{
    struct ua_stash s = { 0 };

    (void)state;
    assert_true(ua_stash_first_nexus_notice(&s, 3));
    assert_false(ua_stash_first_nexus_notice(&s, 3));   /* a second reset: data may change */
    for (uint32_t lun = 10; lun < 10 + UA_NOTICES_MAX - 1; lun++)
        assert_true(ua_stash_first_nexus_notice(&s, lun));
    /* Too many LUNs to remember: treated as a change (the safe side). */
    assert_false(ua_stash_first_nexus_notice(&s, 99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reported_once_to_its_lun),
        cmocka_unit_test(test_bounded_and_ordered),
        cmocka_unit_test(test_first_nexus_notice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
