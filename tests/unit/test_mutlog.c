/*
 * Unit tests for the race rule (proxy/cache/mutlog.c).  Each case is one
 * interleaving of mutations and a GET LBA STATUS query, told as a story:
 * when the query is sent (it records since = mutlog_now), what mutations are
 * sent and completed around it, and which parts of an "unallocated" answer
 * survive the filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mutlog.h"

#define MAX_OUT 16

struct out {
    size_t n;
    uint64_t lba[MAX_OUT], blocks[MAX_OUT];
};

static void collect(void *arg, uint64_t lba, uint64_t blocks)
{
    struct out *o = arg;

    assert_true(o->n < MAX_OUT);
    assert_true(blocks > 0);
    o->lba[o->n] = lba;
    o->blocks[o->n] = blocks;
    o->n++;
}

static struct out filter(const struct mutlog *l, uint64_t since, uint64_t lba, uint64_t blocks,
                         bool expect_ok)
{
    struct out o = { 0 };

    assert_int_equal(mutlog_filter(l, since, lba, blocks, collect, &o), expect_ok);
    return o;
}

static void expect_part(const struct out *o, size_t i, uint64_t lba, uint64_t blocks)
{
    assert_true(i < o->n);
    assert_int_equal(o->lba[i], lba);
    assert_int_equal(o->blocks[i], blocks);
}

static int setup(void **state)
{
    static struct mutlog l;

    if (mutlog_init(&l, 4) != 0)
        return -1;
    *state = &l;
    return 0;
}

static int teardown(void **state)
{
    mutlog_destroy(*state);
    return 0;
}

/* Query sent, then a write to [10,20) is sent; the answer says [0,100) is
 * unallocated while the write is in flight: only [0,10) and [20,100). */
static void test_write_sent_after_query_in_flight(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;
    uint64_t since = mutlog_now(l);

    mutlog_begin(l, &w, 10, 10);
    struct out o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 2);
    expect_part(&o, 0, 0, 10);
    expect_part(&o, 1, 20, 80);
    mutlog_end(l, &w);
}

/* A write to [10,20) is sent and completes; then the query is sent: the
 * backend executed the write first, so the answer is current there. */
static void test_write_completed_before_query_not_excluded(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;

    mutlog_begin(l, &w, 10, 10);
    mutlog_end(l, &w);
    uint64_t since = mutlog_now(l);
    struct out o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 1);
    expect_part(&o, 0, 0, 100);
}

/* A write to [10,20) is sent, then the query; the write is still in flight
 * when the answer arrives: the backend may run it after the query. */
static void test_write_sent_before_query_still_in_flight(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;

    mutlog_begin(l, &w, 10, 10);
    uint64_t since = mutlog_now(l);
    struct out o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 2);
    expect_part(&o, 0, 0, 10);
    expect_part(&o, 1, 20, 80);
    mutlog_end(l, &w);
}

/* A write to [10,20) is sent, then the query; the write completes before
 * the answer arrives.  The backend may have executed the query first and the
 * write second, so the write is newer than the query: excluded. */
static void test_write_completed_after_query_sent(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;

    mutlog_begin(l, &w, 10, 10);
    uint64_t since = mutlog_now(l);
    mutlog_end(l, &w);
    struct out o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 2);
    expect_part(&o, 0, 0, 10);
    expect_part(&o, 1, 20, 80);
}

/* The query is sent; a write to [10,20) is sent and completes before the
 * answer arrives: excluded. */
static void test_write_sent_and_completed_after_query(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;
    uint64_t since = mutlog_now(l);

    mutlog_begin(l, &w, 10, 10);
    mutlog_end(l, &w);
    struct out o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 2);
    expect_part(&o, 0, 0, 10);
    expect_part(&o, 1, 20, 80);
}

/* The query is sent; five writes complete before the answer arrives, but
 * the ring holds four: the oldest, newer than the query, is forgotten, so
 * the whole answer's negatives are dropped.  A query sent after all of them
 * is filtered normally. */
static void test_ring_overflow_past_since(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;
    uint64_t since = mutlog_now(l);

    for (uint64_t i = 0; i < 5; i++) {
        mutlog_begin(l, &w, 1000 + i, 1);
        mutlog_end(l, &w);
    }
    struct out o = filter(l, since, 0, 100, false);
    assert_int_equal(o.n, 0);
    o = filter(l, since, 0, 0, false);
    assert_int_equal(o.n, 0);

    since = mutlog_now(l);
    o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 1);
    expect_part(&o, 0, 0, 100);
}

/* Writes that completed before the query was sent overflow the ring: they
 * are not needed by the query, which still gets its answer. */
static void test_ring_overflow_before_since(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;

    for (uint64_t i = 0; i < 10; i++) {
        mutlog_begin(l, &w, 10 * i, 10);
        mutlog_end(l, &w);
    }
    uint64_t since = mutlog_now(l);
    mutlog_begin(l, &w, 30, 5);
    mutlog_end(l, &w);
    struct out o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 2);
    expect_part(&o, 0, 0, 30);
    expect_part(&o, 1, 35, 65);
}

/* The query is sent; a command of unknown effect (whole LUN) is sent: the
 * answer keeps nothing, in flight or completed. */
static void test_whole_lun_mutation(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;
    uint64_t since = mutlog_now(l);

    mutlog_begin(l, &w, 12345, MUTLOG_WHOLE_LUN);
    struct out o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 0);
    o = filter(l, since, UINT64_MAX - 5, 5, true);
    assert_int_equal(o.n, 0);
    mutlog_end(l, &w);
    o = filter(l, since, 0, UINT64_MAX, true);
    assert_int_equal(o.n, 0);
}

/* The query is sent; unsorted, overlapping and adjacent writes follow, some
 * still in flight, some completed; the survivors are maximal and ascending. */
static void test_several_overlapping_mutations(void **state)
{
    struct mutlog *l = *state;
    struct mutation w[6];
    uint64_t since = mutlog_now(l);

    mutlog_begin(l, &w[0], 50, 10);     /* [50,60) */
    mutlog_begin(l, &w[1], 10, 20);     /* [10,30) */
    mutlog_begin(l, &w[2], 25, 15);     /* [25,40) */
    mutlog_begin(l, &w[3], 55, 15);     /* [55,70) */
    mutlog_begin(l, &w[4], 90, 110);    /* [90,200) */
    mutlog_begin(l, &w[5], 70, 5);      /* [70,75), adjacent to [55,70) */
    mutlog_end(l, &w[1]);
    mutlog_end(l, &w[3]);
    struct out o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 3);
    expect_part(&o, 0, 0, 10);
    expect_part(&o, 1, 40, 10);
    expect_part(&o, 2, 75, 15);
    mutlog_end(l, &w[0]);
    mutlog_end(l, &w[2]);
    mutlog_end(l, &w[4]);
    mutlog_end(l, &w[5]);
    assert_int_equal(l->n_inflight, 0);
    assert_null(l->inflight);
}

/* The in-flight list survives completions in any order (head, middle, tail). */
static void test_inflight_list_any_order(void **state)
{
    struct mutlog *l = *state;
    struct mutation w[3];

    for (uint64_t i = 0; i < 3; i++)
        mutlog_begin(l, &w[i], 10 * i, 5);
    assert_int_equal(l->n_inflight, 3);
    assert_true(w[1].seq > w[0].seq && w[2].seq > w[1].seq);
    mutlog_end(l, &w[1]);
    uint64_t since = mutlog_now(l);
    struct out o = filter(l, since, 0, 30, true);
    assert_int_equal(o.n, 2);
    expect_part(&o, 0, 5, 15);
    expect_part(&o, 1, 25, 5);
    mutlog_end(l, &w[2]);
    mutlog_end(l, &w[0]);
    assert_int_equal(l->n_inflight, 0);
    assert_null(l->inflight);
}

/* A zero-length answer extent emits nothing; a zero-length mutation (a
 * WRITE of no blocks) excludes nothing. */
static void test_zero_length(void **state)
{
    struct mutlog *l = *state;
    struct mutation w;
    uint64_t since = mutlog_now(l);

    mutlog_begin(l, &w, 10, 0);
    struct out o = filter(l, since, 5, 0, true);
    assert_int_equal(o.n, 0);
    o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 1);
    expect_part(&o, 0, 0, 100);
    mutlog_end(l, &w);
    o = filter(l, since, 0, 100, true);
    assert_int_equal(o.n, 1);
    expect_part(&o, 0, 0, 100);
}

/* Extents near UINT64_MAX: lba + blocks overflows and is clipped. */
static void test_near_uint64_max(void **state)
{
    struct mutlog *l = *state;
    struct mutation w, v;
    uint64_t since = mutlog_now(l);

    struct out o = filter(l, since, UINT64_MAX - 10, 100, true);
    assert_int_equal(o.n, 1);
    expect_part(&o, 0, UINT64_MAX - 10, 10);

    mutlog_begin(l, &w, UINT64_MAX - 5, 1000);
    mutlog_begin(l, &v, UINT64_MAX - 9, 2);
    o = filter(l, since, UINT64_MAX - 10, UINT64_MAX, true);
    assert_int_equal(o.n, 2);
    expect_part(&o, 0, UINT64_MAX - 10, 1);
    expect_part(&o, 1, UINT64_MAX - 7, 2);
    mutlog_end(l, &v);
    mutlog_end(l, &w);
}

/* A unit attention while a query is in flight: its negatives are dropped;
 * a query sent afterwards is answered normally. */
static void test_invalidate(void **state)
{
    struct mutlog *l = *state;
    uint64_t since = mutlog_now(l);

    mutlog_invalidate(l);
    struct out o = filter(l, since, 0, 100, false);
    assert_int_equal(o.n, 0);
    o = filter(l, mutlog_now(l), 0, 100, true);
    assert_int_equal(o.n, 1);
}

/* Hundreds of mutations, overlapping at random or in ascending order, some
 * in flight, many completed after the query was sent (several sweeps of the
 * filter): the parts emitted are exactly the blocks none of them touched,
 * each maximal, in ascending order. */
#define DOMAIN 4096
#define MANY 600

static struct {
    size_t n;
    uint64_t lba[DOMAIN], blocks[DOMAIN];
} many_out;

static void collect_many(void *arg, uint64_t lba, uint64_t blocks)
{
    (void)arg;
    assert_true(many_out.n < DOMAIN);
    many_out.lba[many_out.n] = lba;
    many_out.blocks[many_out.n] = blocks;
    many_out.n++;
}

static void test_many_mutations_against_brute_force(void **state)
{
    static struct mutation w[MANY];
    static uint8_t excluded[DOMAIN];
    struct mutlog l;
    uint32_t rnd = 12345;

    (void)state;
    assert_int_equal(mutlog_init(&l, MANY), 0);
    for (size_t round = 0; round < 20; round++) {
        uint64_t since = mutlog_now(&l), b = 0;
        size_t n = round * 37 % MANY + 1;

        memset(excluded, 0, sizeof(excluded));
        for (size_t i = 0; i < n; i++) {
            rnd = rnd * 1103515245u + 12345u;
            uint64_t lba = (rnd >> 8) % DOMAIN, blocks = (rnd >> 20) % 64;

            if (round % 2 == 1) {               /* ascending starts, short */
                lba = i * 6;
                blocks %= 8;
            }

            mutlog_begin(&l, &w[i], lba, blocks);
            for (uint64_t k = lba; k < lba + blocks && k < DOMAIN; k++)
                excluded[k] = 1;
        }
        for (size_t i = 0; i < n; i += 2)       /* half complete before the answer */
            mutlog_end(&l, &w[i]);
        many_out.n = 0;
        assert_true(mutlog_filter(&l, since, 0, DOMAIN, collect_many, NULL));
        for (size_t k = 0; k < many_out.n; k++) {
            assert_true(many_out.lba[k] >= b && many_out.blocks[k] > 0);
            assert_true(k == 0 || many_out.lba[k] > b);         /* never adjacent */
            for (; b < many_out.lba[k]; b++)
                assert_true(excluded[b]);
            for (; b < many_out.lba[k] + many_out.blocks[k]; b++)
                assert_false(excluded[b]);
        }
        for (; b < DOMAIN; b++)
            assert_true(excluded[b]);
        for (size_t i = 1; i < n; i += 2)
            mutlog_end(&l, &w[i]);
    }
    mutlog_destroy(&l);
}

static void test_init_needs_a_ring(void **state)
{
    (void)state;
    struct mutlog l;

    assert_int_equal(mutlog_init(&l, 0), -1);
    assert_int_equal(mutlog_init(&l, 1), 0);
    mutlog_destroy(&l);
}

#define CASE(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(test_write_sent_after_query_in_flight),
        CASE(test_write_completed_before_query_not_excluded),
        CASE(test_write_sent_before_query_still_in_flight),
        CASE(test_write_completed_after_query_sent),
        CASE(test_write_sent_and_completed_after_query),
        CASE(test_ring_overflow_past_since),
        CASE(test_ring_overflow_before_since),
        CASE(test_whole_lun_mutation),
        CASE(test_several_overlapping_mutations),
        CASE(test_inflight_list_any_order),
        CASE(test_zero_length),
        CASE(test_near_uint64_max),
        CASE(test_invalidate),
        cmocka_unit_test(test_many_mutations_against_brute_force),
        cmocka_unit_test(test_init_needs_a_ring),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
