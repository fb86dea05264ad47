/*
 * Which GET LBA STATUS a READ waits on (docs/ARCHITECTURE.md, "A READ
 * (exclusive mode)"): per LUN at most one query in flight, and one that
 * collects the READs needing a query meanwhile.  The collecting one is sent
 * at the end of the loop turn if none is in flight, else when the one in
 * flight is answered, from the lowest LBA among its READs: its answer
 * describes the LUN after each of them arrived, which `verify` mode
 * requires.  In `exclusive` mode a READ also joins the query in flight if
 * that query was made in exclusive mode and starts at or before the READ's
 * LBA; a `verify` READ never joins a query already sent.
 *
 * The queue only decides.  Waiters are nodes embedded in the caller's tasks
 * and queries nodes embedded in the caller's query objects (as mutations in
 * mutlog.h); sending, the end of the loop turn and resuming the tasks are
 * the caller's.  Pure: no I/O.
 */
#ifndef ISP_QUERY_QUEUE_H
#define ISP_QUERY_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "scsi_lba_status.h"

struct qq_query;

/* A READ waiting for a query; embedded in the caller's task. */
struct qq_waiter {
    TAILQ_ENTRY(qq_waiter) link;
    struct qq_query *query;             /* the query it waits on; NULL: none */
};
TAILQ_HEAD(qq_waiter_list, qq_waiter);

/* One query; embedded in the caller's query object.  The caller may walk
 * `waiters` (in arrival order) but changes it only through this API. */
struct qq_query {
    struct qq_waiter_list waiters;
    uint64_t lba;                       /* the lowest LBA its READs asked from */
    uint64_t since;                     /* mutlog_now when sent */
    bool joinable;                      /* made in exclusive mode */
    uint32_t alloc_len;                 /* the largest its waiters asked for */
};

struct query_queue {
    struct qq_query *in_flight;         /* sent, not answered yet */
    struct qq_query *collecting;        /* not sent yet */
};

void query_queue_init(struct query_queue *qq);

/* Allocation lengths of a READ's query: tgt computes every extent to the
 * end of the LUN for each query, so exclusive mode asks for many
 * descriptors at once.  A verify-mode initiator's GET LBA STATUS needs only
 * its own descriptors and two more (task_lba_status.c). */
#define QQ_VERIFY_DESC     1023u
#define QQ_ALLOC_EXCLUSIVE SCSI_GLS_ALLOC_LEN(4095)
#define QQ_ALLOC_VERIFY    SCSI_GLS_ALLOC_LEN(QQ_VERIFY_DESC)

enum qq_join {
    QQ_JOINED,      /* w now waits on the query in flight or the collecting one */
    QQ_START,       /* nothing to join: start a new query (query_queue_start) */
};
/* A READ needs to know the blocks from lba on, from a query asked with at
 * least alloc_len (a query not sent yet grows to the largest of its
 * waiters'); w is not waiting. */
enum qq_join query_queue_join(struct query_queue *qq, struct qq_waiter *w, uint64_t lba,
                              bool exclusive, uint32_t alloc_len);

enum qq_send {
    QQ_SEND_AT_TURN_END,    /* none in flight: send it when the loop turn ends */
    QQ_SEND_WHEN_ANSWERED,  /* after the one in flight (query_queue_send_due) */
};
/* After QQ_START: q, the caller's and not in use, collects READs from now on,
 * w the first of them. */
enum qq_send query_queue_start(struct query_queue *qq, struct qq_query *q, struct qq_waiter *w,
                               uint64_t lba, bool exclusive, uint32_t alloc_len);

/* Send the collecting query now: it is returned (NULL if there is none) and
 * collects no more.  Then either query_queue_sent, or it is dropped: the
 * caller takes its waiters with query_queue_next_ready. */
struct qq_query *query_queue_take(struct query_queue *qq);
/* The allocation length to ask q with. */
uint32_t query_queue_alloc_len(const struct qq_query *q);
/* q, taken, was sent at mutation sequence number `since`; none is in
 * flight.  It is in flight now. */
void query_queue_sent(struct query_queue *qq, struct qq_query *q, uint64_t since);
/* The answer to q, in flight, arrived (or it failed): nothing joins it any
 * more.  Its waiters are ready: query_queue_next_ready; after that,
 * query_queue_send_due. */
void query_queue_answered(struct query_queue *qq, struct qq_query *q);
/* The ready waiters of a query taken or answered, one at a time, in arrival
 * order: the first, waiting no more, or NULL when none is left. */
struct qq_waiter *query_queue_next_ready(struct qq_query *q);
/* A query collects and none is in flight: send it when the loop turn ends. */
bool query_queue_send_due(const struct query_queue *qq);

/* A waiter goes away (its task ended); nothing if it is not waiting. */
void query_queue_forget(struct qq_waiter *w);

static inline bool query_queue_waiting(const struct qq_waiter *w)
{
    return w->query != NULL;
}

#endif
