/* Unit tests for proxy/cache/nexus_map.c: which logical units one I_T nexus has
 * verified (issue 9, case 1: LUN numbers are per host), written as the
 * interleavings the daemon goes through. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "nexus_map.h"

/* Opaque objects: only their addresses matter here. */
static char lu_x, lu_y;
#define LU_X ((struct lun *)(void *)&lu_x)
#define LU_Y ((struct lun *)(void *)&lu_y)

/* A LUN number names no object until this session's own verification answers. */
static void test_unverified_until_answered(void **state)
{
    (void)state;
    struct nexus_map m;
    nexus_map_init(&m, 16);
    assert_null(nexus_map_lun(&m, 1));
    struct nexus_lu *e = nexus_map_begin(&m, 1);
    assert_non_null(e);
    assert_int_equal(e->state, NEXUS_LU_VERIFYING);
    assert_null(nexus_map_lun(&m, 1));              /* asked, not answered: pass-through */
    assert_null(nexus_map_begin(&m, 1));            /* one verification at a time */
    uint32_t gen = e->gen;
    e = nexus_map_answer(&m, 1, gen);
    assert_non_null(e);
    e->state = NEXUS_LU_BOUND;
    e->lun = LU_X;
    assert_ptr_equal(nexus_map_lun(&m, 1), LU_X);
    assert_null(nexus_map_answer(&m, 1, gen));      /* answered once */
    nexus_map_destroy(&m);
}

/* Two sessions, one LUN number, two LUs (per-host mapping): each map is its own. */
static void test_two_nexuses_two_lus(void **state)
{
    (void)state;
    struct nexus_map a, b;
    nexus_map_init(&a, 16);
    nexus_map_init(&b, 16);
    struct nexus_lu *ea = nexus_map_begin(&a, 0), *eb = nexus_map_begin(&b, 0);
    ea->state = NEXUS_LU_BOUND;
    ea->lun = LU_X;
    assert_ptr_equal(nexus_map_lun(&a, 0), LU_X);
    assert_null(nexus_map_lun(&b, 0));              /* A's answer says nothing of B's LUN 0 */
    eb->state = NEXUS_LU_BOUND;
    eb->lun = LU_Y;
    assert_ptr_equal(nexus_map_lun(&b, 0), LU_Y);
    nexus_map_destroy(&a);
    nexus_map_destroy(&b);
}

/* A remap while verifying (REPORTED LUNS DATA HAS CHANGED between the send and the
 * answer): the late answer is stale and binds nothing; the next verification does. */
static void test_remap_while_verifying(void **state)
{
    (void)state;
    struct nexus_map m;
    nexus_map_init(&m, 16);
    uint32_t gen1 = nexus_map_begin(&m, 1)->gen;
    nexus_map_begin(&m, 2)->state = NEXUS_LU_BOUND;
    nexus_map_find(&m, 2)->lun = LU_Y;
    nexus_map_clear(&m);                            /* unit attention: LUNs changed */
    assert_null(nexus_map_lun(&m, 2));
    uint32_t gen2 = nexus_map_begin(&m, 1)->gen;
    assert_true(gen2 != gen1);
    assert_null(nexus_map_answer(&m, 1, gen1));     /* the old LU's designator */
    assert_non_null(nexus_map_answer(&m, 1, gen2));
    nexus_map_destroy(&m);
}

/* INQUIRY DATA HAS CHANGED forgets one number and hands back its object. */
static void test_forget_one(void **state)
{
    (void)state;
    struct nexus_map m;
    nexus_map_init(&m, 16);
    for (uint32_t n = 0; n < 5; n++) {
        struct nexus_lu *e = nexus_map_begin(&m, 4 - n);
        e->state = NEXUS_LU_BOUND;
        e->lun = (4 - n) == 3 ? LU_Y : LU_X;
    }
    for (size_t i = 1; i < m.n; i++)
        assert_true(m.v[i - 1].lun_no < m.v[i].lun_no);
    assert_ptr_equal(nexus_map_forget(&m, 3), LU_Y);
    assert_null(nexus_map_find(&m, 3));
    assert_null(nexus_map_forget(&m, 3));
    assert_ptr_equal(nexus_map_lun(&m, 4), LU_X);
    nexus_map_begin(&m, 7)->state = NEXUS_LU_UNIDENTIFIED;
    assert_null(nexus_map_lun(&m, 7));              /* no designator: never a cache */
    assert_null(nexus_map_forget(&m, 7));
    nexus_map_destroy(&m);
}

/* Bounded: past max entries, LUN numbers stay unverified (issue 9, case 8). */
static void test_bounded(void **state)
{
    (void)state;
    struct nexus_map m;
    nexus_map_init(&m, 100);
    for (uint32_t n = 0; n < 16384; n++) {
        struct nexus_lu *e = nexus_map_begin(&m, n);
        if (n < 100)
            assert_non_null(e);
        else
            assert_null(e);
    }
    assert_int_equal(m.n, 100);
    assert_true(m.cap <= 100);
    nexus_map_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unverified_until_answered),
        cmocka_unit_test(test_two_nexuses_two_lus),
        cmocka_unit_test(test_remap_while_verifying),
        cmocka_unit_test(test_forget_one),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
