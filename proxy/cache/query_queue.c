/*
 * Which GET LBA STATUS a READ waits on (docs/ARCHITECTURE.md, "A READ
 * (exclusive mode)").
 */
#include "query_queue.h"

#include <stddef.h>

void query_queue_init(struct query_queue *qq)
{
    qq->in_flight = NULL;
    qq->collecting = NULL;
}

static void wait_on(struct qq_query *q, struct qq_waiter *w)
{
    TAILQ_INSERT_TAIL(&q->waiters, w, link);
    w->query = q;
}

enum qq_join query_queue_join(struct query_queue *qq, struct qq_waiter *w, uint64_t lba,
                              bool exclusive, uint32_t alloc_len)
{
    struct qq_query *q = qq->in_flight;

    if (exclusive && q && q->joinable && q->lba <= lba && q->alloc_len >= alloc_len) {
        wait_on(q, w);
        return QQ_JOINED;
    }
    q = qq->collecting;
    if (!q)
        return QQ_START;
    if (lba < q->lba)
        q->lba = lba;
    if (alloc_len > q->alloc_len)
        q->alloc_len = alloc_len;
    wait_on(q, w);
    return QQ_JOINED;
}

enum qq_send query_queue_start(struct query_queue *qq, struct qq_query *q, struct qq_waiter *w,
                               uint64_t lba, bool exclusive, uint32_t alloc_len)
{
    TAILQ_INIT(&q->waiters);
    q->lba = lba;
    q->since = 0;
    q->joinable = exclusive;
    q->alloc_len = alloc_len;
    qq->collecting = q;
    wait_on(q, w);
    return qq->in_flight ? QQ_SEND_WHEN_ANSWERED : QQ_SEND_AT_TURN_END;
}

struct qq_query *query_queue_take(struct query_queue *qq)
{
    struct qq_query *q = qq->collecting;

    qq->collecting = NULL;
    return q;
}

uint32_t query_queue_alloc_len(const struct qq_query *q)
{
    return q->alloc_len;
}

void query_queue_sent(struct query_queue *qq, struct qq_query *q, uint64_t since)
{
    q->since = since;
    qq->in_flight = q;
}

void query_queue_answered(struct query_queue *qq, struct qq_query *q)
{
    if (qq->in_flight == q)
        qq->in_flight = NULL;
}

struct qq_waiter *query_queue_next_ready(struct qq_query *q)
{
    struct qq_waiter *w = TAILQ_FIRST(&q->waiters);

    if (w) {
        TAILQ_REMOVE(&q->waiters, w, link);
        w->query = NULL;
    }
    return w;
}

bool query_queue_send_due(const struct query_queue *qq)
{
    return qq->collecting && !qq->in_flight;
}

void query_queue_forget(struct qq_waiter *w)
{
    if (w->query) {
        TAILQ_REMOVE(&w->query->waiters, w, link);
        w->query = NULL;
    }
}
