/*
 * Zeros learned from READ data (zero_learn.c): whole granules only, under
 * the race rule, never while negatives are blocked; and the zero scan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "zero_learn.h"

#define BS 512u
#define PAGE 16u                    /* blocks; granules of 1 block */
#define LUN (8 * PAGE + 3)          /* a short last page */

static uint8_t data[LUN * BS];

static void test_is_zero(void **state)
{
    (void)state;
    static uint8_t buf[4096 + 7];
    memset(buf, 0, sizeof(buf));
    for (size_t len = 0; len <= sizeof(buf); len += 61)
        assert_true(zero_learn_is_zero(buf, len));
    for (size_t pos = 0; pos < sizeof(buf); pos += 97) {
        buf[pos] = 0x01;
        assert_false(zero_learn_is_zero(buf, sizeof(buf)));
        assert_true(zero_learn_is_zero(buf, pos));      /* up to it: zeros */
        buf[pos] = 0;
    }
    buf[sizeof(buf) - 1] = 0x80;    /* the last byte */
    assert_false(zero_learn_is_zero(buf, sizeof(buf)));
    buf[sizeof(buf) - 1] = 0;
    /* around the 64-byte head the scan compares the rest against */
    for (size_t pos = 60; pos < 70; pos++) {
        buf[pos] = 0x02;
        for (size_t len = pos; len <= pos + 2; len++)
            assert_int_equal(zero_learn_is_zero(buf, len), len == pos);
        buf[pos] = 0;
    }
}

struct fixture {
    struct allocmap *map;
    struct mutlog log;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->map = allocmap_new(LUN, PAGE);
    assert_int_equal(mutlog_init(&f->log, 16), 0);
    memset(data, 0, sizeof(data));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    allocmap_free(f->map);
    mutlog_destroy(&f->log);
    free(f);
    return 0;
}

static uint64_t apply(struct fixture *f, uint64_t since, uint64_t lba, uint64_t blocks,
                      bool blocked)
{
    struct zero_learn_in in = { .map = f->map, .log = &f->log, .negatives_blocked = blocked,
                                .since = since, .lba = lba, .blocks = blocks, .block_size = BS,
                                .data = data + lba * BS };
    return zero_learn_apply(&in);
}

/* Pages that read zeros become UNALLOCATED, a page with data in one block
 * PARTIAL (its other granules), the short last page UNALLOCATED. */
static void test_learns_zero_granules(void **state)
{
    struct fixture *f = *state;

    data[(2 * PAGE + 5) * BS + 100] = 0xff;
    assert_int_equal(apply(f, mutlog_now(&f->log), 0, LUN, false), LUN - 1);
    assert_int_equal(allocmap_get(f->map, 0), PAGE_UNALLOCATED);
    assert_int_equal(allocmap_get(f->map, 2), PAGE_PARTIAL);
    assert_int_equal(allocmap_partial_zeros(f->map, 2), 0xffff & ~(1u << 5));
    assert_int_equal(allocmap_get(f->map, 8), PAGE_UNALLOCATED);
}

/* A READ not aligned to granules teaches its whole granules only (granules
 * are PAGE / 16 blocks: make them 4 blocks with 64-block pages). */
static void test_whole_granules_only(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(4 * 64, 64);
    struct mutlog log;
    assert_int_equal(mutlog_init(&log, 4), 0);
    memset(data, 0, sizeof(data));
    struct zero_learn_in in = { .map = m, .log = &log, .since = 0, .lba = 3, .blocks = 10,
                                .block_size = BS, .data = data };
    assert_int_equal(zero_learn_apply(&in), 8);    /* granules [4,8) and [8,12) */
    assert_int_equal(allocmap_get(m, 0), PAGE_PARTIAL);
    assert_int_equal(allocmap_partial_zeros(m, 0), 0x6);
    mutlog_destroy(&log);
    allocmap_free(m);
}

/* The race rule: a mutation in flight, or one completed after the READ was
 * sent, keeps its blocks from learning; blocked negatives stop everything. */
static void test_race_rule(void **state)
{
    struct fixture *f = *state;
    struct mutation w, late;
    uint64_t since = mutlog_now(&f->log);

    mutlog_begin(&f->log, &w, PAGE, 1);             /* in flight over page 1 */
    mutlog_begin(&f->log, &late, 3 * PAGE, PAGE);
    mutlog_end(&f->log, &late);                     /* completed after the READ was sent */
    assert_int_equal(apply(f, since, 0, 4 * PAGE, false), 4 * PAGE - 1 - PAGE);
    assert_int_equal(allocmap_get(f->map, 0), PAGE_UNALLOCATED);
    assert_int_equal(allocmap_get(f->map, 1), PAGE_PARTIAL);     /* all but block 16 */
    assert_int_equal(allocmap_partial_zeros(f->map, 1), 0xfffe);
    assert_int_equal(allocmap_get(f->map, 3), PAGE_UNKNOWN);
    mutlog_end(&f->log, &w);

    assert_int_equal(apply(f, mutlog_now(&f->log), 4 * PAGE, PAGE, true), 0);
    assert_int_equal(allocmap_get(f->map, 4), PAGE_UNKNOWN);
    /* Bad arguments learn nothing. */
    assert_int_equal(apply(f, 0, LUN, 1, false), 0);
}

/* ALLOCATED pages (a WRITE was sent) never learn from data. */
static void test_allocated_kept(void **state)
{
    struct fixture *f = *state;

    allocmap_mark_allocated(f->map, 0, PAGE);
    apply(f, mutlog_now(&f->log), 0, PAGE, false);
    assert_int_equal(allocmap_get(f->map, 0), PAGE_ALLOCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_zero),
        cmocka_unit_test_setup_teardown(test_learns_zero_granules, setup, teardown),
        cmocka_unit_test(test_whole_granules_only),
        cmocka_unit_test_setup_teardown(test_race_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocated_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
