/*
 * Unit tests for query joining (proxy/cache/query_queue.c).  Each case is
 * one interleaving of READs arriving, the loop turn ending (the collecting
 * query is sent), answers arriving and READs going away, told as the
 * decisions the daemon would act on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "query_queue.h"

#define EXCL true
#define VERIFY false
/* what a READ's query asks with in each mode (lun_query.c) */
#define ALLOC(exclusive) ((exclusive) ? QQ_ALLOC_EXCLUSIVE : QQ_ALLOC_VERIFY)

struct read {
    struct qq_waiter w;
    int id;
};

/* A READ arrives: joined, or it starts `fresh`; returns whether a new
 * query must be sent at the end of the loop turn. */
static bool arrive(struct query_queue *qq, struct read *r, struct qq_query *fresh, uint64_t lba,
                   bool exclusive)
{
    if (query_queue_join(qq, &r->w, lba, exclusive, ALLOC(exclusive)) == QQ_JOINED)
        return false;
    assert_non_null(fresh);
    return query_queue_start(qq, fresh, &r->w, lba, exclusive, ALLOC(exclusive)) ==
           QQ_SEND_AT_TURN_END;
}

static void expect_joined(struct query_queue *qq, struct read *r, uint64_t lba, bool exclusive,
                          struct qq_query *q)
{
    assert_int_equal(query_queue_join(qq, &r->w, lba, exclusive, ALLOC(exclusive)), QQ_JOINED);
    assert_ptr_equal(r->w.query, q);
}

/* The end of the loop turn: the collecting query is sent at `since`. */
static struct qq_query *send(struct query_queue *qq, uint64_t since)
{
    struct qq_query *q = query_queue_take(qq);

    assert_non_null(q);
    assert_null(qq->collecting);
    query_queue_sent(qq, q, since);
    assert_ptr_equal(qq->in_flight, q);
    assert_int_equal(q->since, since);
    return q;
}

/* The ready waiters, in order, are exactly ids[0..n). */
static void expect_ready(struct qq_query *q, const int *ids, size_t n)
{
    struct qq_waiter *w;

    for (size_t i = 0; i < n; i++) {
        w = query_queue_next_ready(q);
        assert_non_null(w);
        assert_null(w->query);
        assert_false(query_queue_waiting(w));
        assert_int_equal(((struct read *)w)->id, ids[i]);
    }
    assert_null(query_queue_next_ready(q));
}

static void first_read_sends_at_turn_end(void **state)
{
    struct query_queue qq;
    struct qq_query q1;
    struct read a = { .id = 1 }, b = { .id = 2 };

    (void)state;
    query_queue_init(&qq);
    assert_false(query_queue_send_due(&qq));
    assert_true(arrive(&qq, &a, &q1, 100, EXCL));
    assert_true(query_queue_waiting(&a.w));
    /* same turn: b joins the collecting query, which now starts lower */
    expect_joined(&qq, &b, 40, EXCL, &q1);
    assert_int_equal(q1.lba, 40);
    assert_true(query_queue_send_due(&qq));
    send(&qq, 7);
    assert_int_equal(query_queue_alloc_len(&q1), QQ_ALLOC_EXCLUSIVE);
    assert_false(query_queue_send_due(&qq));
    query_queue_answered(&qq, &q1);
    assert_null(qq.in_flight);
    expect_ready(&q1, (const int[]){ 1, 2 }, 2);
    assert_false(query_queue_send_due(&qq));
}

static void exclusive_joins_in_flight_at_or_before(void **state)
{
    struct query_queue qq;
    struct qq_query q1, q2;
    struct read a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 }, d = { .id = 4 };

    (void)state;
    query_queue_init(&qq);
    arrive(&qq, &a, &q1, 100, EXCL);
    send(&qq, 0);
    expect_joined(&qq, &b, 100, EXCL, &q1);    /* lba == the query's */
    expect_joined(&qq, &c, 500, EXCL, &q1);    /* after it */
    /* before it: the answer does not describe lba 99, so a new query
     * collects, sent only when q1 is answered */
    assert_int_equal(query_queue_join(&qq, &d.w, 99, EXCL, ALLOC(EXCL)), QQ_START);
    assert_false(query_queue_waiting(&d.w));
    assert_int_equal(query_queue_start(&qq, &q2, &d.w, 99, EXCL, ALLOC(EXCL)),
                     QQ_SEND_WHEN_ANSWERED);
    assert_false(query_queue_send_due(&qq));
    query_queue_answered(&qq, &q1);
    expect_ready(&q1, (const int[]){ 1, 2, 3 }, 3);
    assert_true(query_queue_send_due(&qq));
    send(&qq, 3);
    assert_int_equal(q2.lba, 99);
    query_queue_answered(&qq, &q2);
    expect_ready(&q2, (const int[]){ 4 }, 1);
}

static void verify_never_joins_a_sent_query(void **state)
{
    struct query_queue qq;
    struct qq_query q1, q2;
    struct read a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };

    (void)state;
    query_queue_init(&qq);
    assert_true(arrive(&qq, &a, &q1, 0, VERIFY));
    send(&qq, 0);
    assert_int_equal(query_queue_alloc_len(&q1), QQ_ALLOC_VERIFY);
    /* b starts after q1's LBA, but q1 was sent before b arrived */
    assert_false(arrive(&qq, &b, &q2, 10, VERIFY));
    assert_ptr_equal(b.w.query, &q2);
    expect_joined(&qq, &c, 5, VERIFY, &q2);
    assert_int_equal(q2.lba, 5);
    query_queue_answered(&qq, &q1);
    expect_ready(&q1, (const int[]){ 1 }, 1);
    assert_true(query_queue_send_due(&qq));
    send(&qq, 4);
    query_queue_answered(&qq, &q2);
    expect_ready(&q2, (const int[]){ 2, 3 }, 2);
}

static void exclusive_does_not_join_a_verify_query_in_flight(void **state)
{
    struct query_queue qq;
    struct qq_query q1, q2;
    struct read a = { .id = 1 }, b = { .id = 2 };

    (void)state;
    query_queue_init(&qq);
    arrive(&qq, &a, &q1, 0, VERIFY);
    send(&qq, 0);
    assert_false(arrive(&qq, &b, &q2, 10, EXCL));
    assert_ptr_equal(qq.collecting, &q2);
    assert_true(q2.joinable);
}

static void forget_leaves_the_others(void **state)
{
    struct query_queue qq;
    struct qq_query q1;
    struct read a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 }, idle = { .id = 4 };

    (void)state;
    query_queue_init(&qq);
    arrive(&qq, &a, &q1, 8, EXCL);
    expect_joined(&qq, &b, 8, EXCL, &q1);
    expect_joined(&qq, &c, 9, EXCL, &q1);
    query_queue_forget(&b.w);                   /* its connection closed */
    assert_false(query_queue_waiting(&b.w));
    query_queue_forget(&b.w);                   /* twice: nothing */
    idle.w.query = NULL;
    query_queue_forget(&idle.w);                /* never waited: nothing */
    send(&qq, 1);
    query_queue_forget(&a.w);                   /* aborted while in flight */
    query_queue_answered(&qq, &q1);
    expect_ready(&q1, (const int[]){ 3 }, 1);
}

static void send_failure_wakes_and_next_turn_starts_fresh(void **state)
{
    struct query_queue qq;
    struct qq_query q1, q2;
    struct read a = { .id = 1 }, b = { .id = 2 };

    (void)state;
    query_queue_init(&qq);
    arrive(&qq, &a, &q1, 0, EXCL);
    /* the turn ends, but no session can carry it: dropped, never in flight */
    assert_ptr_equal(query_queue_take(&qq), &q1);
    assert_null(query_queue_take(&qq));
    assert_null(qq.in_flight);
    expect_ready(&q1, (const int[]){ 1 }, 1);
    /* a READ that arrives meanwhile starts a new query, sent at turn end */
    assert_true(arrive(&qq, &b, &q2, 0, EXCL));
    assert_true(query_queue_send_due(&qq));
}

/* Waiters woken by an answer come back with more to know: the first
 * starts a new query (none is in flight any more), the second joins it. */
static void woken_reads_ask_again(void **state)
{
    struct query_queue qq;
    struct qq_query q1, q2;
    struct read a = { .id = 1 }, b = { .id = 2 };
    struct qq_waiter *w;

    (void)state;
    query_queue_init(&qq);
    arrive(&qq, &a, &q1, 50, EXCL);
    expect_joined(&qq, &b, 60, EXCL, &q1);
    send(&qq, 0);
    query_queue_answered(&qq, &q1);
    w = query_queue_next_ready(&q1);
    assert_ptr_equal(w, &a.w);
    /* q1 is answered: a does not join it again */
    assert_true(arrive(&qq, &a, &q2, 70, EXCL));
    w = query_queue_next_ready(&q1);
    assert_ptr_equal(w, &b.w);
    expect_joined(&qq, &b, 65, EXCL, &q2);
    assert_int_equal(q2.lba, 65);
    assert_null(query_queue_next_ready(&q1));
    assert_true(query_queue_send_due(&qq));
}

/* A verify GET LBA STATUS asks a short query; a READ that joins it before it
 * is sent makes it as long as a READ's; a query in flight too short for a
 * waiter is not joined. */
static void alloc_len_is_the_largest_wanted(void **state)
{
    struct query_queue qq;
    struct qq_query q1, q2;
    struct read g = { .id = 1 }, r = { .id = 2 }, x = { .id = 3 };
    const uint32_t small = SCSI_GLS_ALLOC_LEN(2);

    (void)state;
    query_queue_init(&qq);
    assert_int_equal(query_queue_join(&qq, &g.w, 50, VERIFY, small), QQ_START);
    assert_int_equal(query_queue_start(&qq, &q1, &g.w, 50, VERIFY, small), QQ_SEND_AT_TURN_END);
    assert_int_equal(query_queue_alloc_len(&q1), small);
    expect_joined(&qq, &r, 60, VERIFY, &q1);
    assert_int_equal(query_queue_alloc_len(&q1), QQ_ALLOC_VERIFY);
    send(&qq, 0);
    query_queue_answered(&qq, &q1);
    expect_ready(&q1, (const int[]){ 1, 2 }, 2);

    /* exclusive: a query in flight asked short is joined only by one that
     * wants no more */
    assert_true(arrive(&qq, &g, &q1, 10, EXCL));
    q1.alloc_len = small;
    send(&qq, 1);
    assert_int_equal(query_queue_join(&qq, &r.w, 20, EXCL, small), QQ_JOINED);
    assert_int_equal(query_queue_join(&qq, &x.w, 20, EXCL, QQ_ALLOC_EXCLUSIVE), QQ_START);
    query_queue_start(&qq, &q2, &x.w, 20, EXCL, QQ_ALLOC_EXCLUSIVE);
    query_queue_answered(&qq, &q1);
    expect_ready(&q1, (const int[]){ 1, 2 }, 2);
    send(&qq, 2);
    query_queue_answered(&qq, &q2);
    expect_ready(&q2, (const int[]){ 3 }, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_read_sends_at_turn_end),
        cmocka_unit_test(exclusive_joins_in_flight_at_or_before),
        cmocka_unit_test(verify_never_joins_a_sent_query),
        cmocka_unit_test(exclusive_does_not_join_a_verify_query_in_flight),
        cmocka_unit_test(forget_leaves_the_others),
        cmocka_unit_test(send_failure_wakes_and_next_turn_starts_fresh),
        cmocka_unit_test(woken_reads_ask_again),
        cmocka_unit_test(alloc_len_is_the_largest_wanted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
