/*
 * GET LBA STATUS on behalf of READs (docs/ARCHITECTURE.md, "A READ
 * (exclusive mode)"; the joining rules in the pure query_queue.c):
 * one query asks for many descriptors, every descriptor fills the cache,
 * READs waiting on the same region join the query in flight (exclusive
 * mode), and answers are untrusted input applied through the race rule.
 * Initiators' own GET LBA STATUS answers go through the same door.
 */
#include <stddef.h>
#include <stdlib.h>

#include <event2/event.h>

#include "backend.h"
#include "cache_answer.h"
#include "conn.h"
#include "log.h"
#include "lu_policy.h"
#include "lun.h"
#include "zero_learn.h"
#include "zero_write.h"
#include "read_plan.h"
#include "scsi_cdb.h"
#include "scsi_lba_status.h"
#include "scsi_sense.h"
#include "server.h"

/* A query the proxy sends: its place in the LUN's query_queue, and where it
 * went. */
struct lba_query {
    struct qq_query q;
    struct lun *lun;
    struct conn *conn;          /* the session it was sent on */
    uint32_t lun_no;            /* the LUN's number there */
    /* test-only fault hook: the answer is held back for a while */
    struct event *hold_ev;
    struct scsi_task *held;
};

static struct lba_query *lba_query_of(struct qq_query *q)
{
    return (struct lba_query *)((char *)q - offsetof(struct lba_query, q));
}

static struct task *waiter_task(struct qq_waiter *w)
{
    return (struct task *)((char *)w - offsetof(struct task, query));
}

/*
 * ISP_TEST_HOLD_LBA_STATUS_MS=N (tests only): every GET LBA STATUS answer is
 * applied N ms after it arrived, so writes can slip in between the backend
 * executing the query and the proxy applying it -- the race window wide open.
 */
static unsigned hold_ms(void)
{
    static int cached = -1;
    if (cached < 0) {
        const char *v = getenv("ISP_TEST_HOLD_LBA_STATUS_MS");
        char *end;
        unsigned long ms = v ? strtoul(v, &end, 10) : 0;
        cached = v && *v && !*end && ms <= 60000 ? (int)ms : 0;
        if (cached)
            log_warn("test fault hook: GET LBA STATUS answers held back %d ms", cached);
    }
    return (unsigned)cached;
}

struct lba_answer lun_apply_lba_status(struct lun *l, uint64_t since, const uint8_t *buf,
                                       size_t len, uint64_t asked_lba, struct lba_extent *out,
                                       size_t out_cap)
{
    struct cache_answer_in in = {
        .map = l->map, .log = &l->log, .lun_blocks = l->n_blocks,
        .negatives_blocked = l->proxy->negatives_blocked != 0, .since = since,
        .buf = buf, .len = len, .asked_lba = asked_lba, .out = out, .out_cap = out_cap,
    };
    struct lba_answer fresh = { .dealloc = out, .from = asked_lba, .to = asked_lba };
    struct cache_answer_result r;

    if (!l->map)
        return fresh;
    r = cache_answer_apply(&in);
    if (r.no_memory)
        return fresh;
    l->n.query_descriptors += r.ndesc;
    if (r.err != SCSI_LBAS_OK) {
        l->n.query_errors++;
        log_debug("target %s LUN %u: GET LBA STATUS answer ignored: %s", l->target->name,
                  l->number, scsi_lbas_err_name(r.err));
        return fresh;
    }
    if (r.anchored && !l->anchored_seen) {
        l->anchored_seen = true;
        lun_log(l, LOG_LVL_INFO, "target %s LUN %u: the backend reports anchored blocks; "
                "initiators' GET LBA STATUS goes to it from now on", l->target->name, l->number);
    }
    if (r.dropped_race) {
        l->n.queries_dropped_race++;
        return fresh;
    }
    fresh.n = r.n_out;
    fresh.to = r.end_lba;
    return fresh;
}

void lun_learn_zeros(struct lun *l, uint64_t since, uint64_t facts_gen, uint64_t lba,
                     uint64_t blocks, const uint8_t *data)
{
    if (!lun_zero_serving(l) || !l->map || l->zeros_from != LU_ZEROS_FROM_DATA ||
        l->coherence.mode != CONF_COHERENCE_EXCLUSIVE || facts_gen != l->facts_gen)
        return;
    struct zero_learn_in in = {
        .map = l->map, .log = &l->log, .negatives_blocked = l->proxy->negatives_blocked != 0,
        .since = since, .lba = lba, .blocks = blocks, .block_size = l->block_size, .data = data,
    };
    l->n.zero_bytes_learned += zero_learn_apply(&in) * l->block_size;
}

void lun_learn_written_zeros(struct lun *l, const struct scsi_cdb_info *ci, const uint8_t *cdb,
                             const struct mutation *self, uint64_t facts_gen, bool sent_bound,
                             const uint8_t *data, size_t len)
{
    if (!lun_zero_serving(l) || !l->map)
        return;
    struct zero_write_in in = {
        .map = l->map, .log = &l->log, .zeros_from = l->zeros_from,
        .exclusive = l->coherence.mode == CONF_COHERENCE_EXCLUSIVE,
        .negatives_blocked = l->proxy->negatives_blocked != 0,
        .unmapped_reads_zeros = l->unmapped_reads_zeros, .lun_blocks = l->n_blocks,
        .block_size = l->block_size, .ci = ci, .cdb = cdb, .self = self,
        .same_facts = facts_gen == l->facts_gen, .sent_bound = sent_bound,
        .data = data, .len = len,
    };
    l->n.zero_bytes_written += zero_write_apply(&in) * l->block_size;
}

static void query_wake(struct lba_query *q, const struct lba_answer *fresh)
{
    struct qq_waiter *w;

    while ((w = query_queue_next_ready(&q->q)) != NULL)
        task_read_resume(waiter_task(w), fresh);
}

static void query_answered(struct lba_query *q, int status, struct scsi_task *st);

static void query_hold_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lba_query *q = arg;
    struct scsi_task *st = q->held;

    (void)fd;
    (void)what;
    event_free(q->hold_ev);
    q->hold_ev = NULL;
    q->held = NULL;
    query_answered(q, SCSI_STATUS_GOOD, st);
}

static void query_done(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct lba_query *q = arg;
    unsigned ms = hold_ms();

    (void)iscsi;
    if (ms && status == SCSI_STATUS_GOOD) {
        struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
        q->hold_ev = evtimer_new(q->lun->proxy->base, query_hold_cb, q);
        if (q->hold_ev && evtimer_add(q->hold_ev, &tv) == 0) {
            q->held = data;
            return;
        }
        if (q->hold_ev)
            event_free(q->hold_ev);
        q->hold_ev = NULL;
    }
    query_answered(q, status, data);
}

static void query_answered(struct lba_query *q, int status, struct scsi_task *st)
{
    struct lun *l = q->lun;
    struct lba_extent *ans = NULL;
    struct lba_answer fresh = { .from = q->q.lba, .to = q->q.lba };

    query_queue_answered(&l->queries, &q->q);
    if (status == SCSI_STATUS_GOOD && lun_zero_serving(l)) {
        size_t len = st->datain.size > 0 ? (size_t)st->datain.size : 0;
        size_t cap = len / SCSI_GLS_DESC_LEN + 1;
        ans = calloc(cap, sizeof(*ans));
        if (ans)
            fresh = lun_apply_lba_status(l, q->q.since, st->datain.data, len, q->q.lba, ans,
                                         cap);
    } else if (status != SCSI_STATUS_CANCELLED && q->conn->state != CONN_CLOSING &&
               !lun_absorb_unit_attention(l, q->conn, q->lun_no, status, st)) {
        struct scsi_sense_info si;
        l->n.query_errors++;
        bool illegal = status == SCSI_STATUS_CHECK_CONDITION && st->datain.size > 2 &&
            scsi_sense_parse(st->datain.data + 2, (size_t)st->datain.size - 2, &si) == 0 &&
            si.key == SCSI_KEY_ILLEGAL_REQUEST && l->state == LUN_ZERO_SERVING;
        if (illegal && lu_policy_query_refusal_is_stale_capacity(si.asc)) {
            /* A MODE SELECT or FORMAT changed the capacity. */
            lun_invalidate(l, "GET LBA STATUS beyond the capacity", true);
        } else if (illegal && l->coherence.mode == CONF_COHERENCE_EXCLUSIVE) {
            /* A backend that rejects GET LBA STATUS is not asked again: what
             * the map knows stays true, and READ data teaches it more. */
            l->zeros_from = LU_ZEROS_FROM_DATA;
            log_warn("target %s LUN %u: the backend rejects GET LBA STATUS; zeros are "
                     "learned from data from now on", l->target->name, l->number);
        } else if (illegal) {
            l->state = LUN_PASSTHROUGH;
            l->why = "the backend rejects GET LBA STATUS (zeros from data need exclusive)";
            allocmap_free(l->map);
            l->map = NULL;
            log_warn("target %s LUN %u: pass-through (%s)", l->target->name, l->number, l->why);
        }
    }
    scsi_free_scsi_task(st);
    query_wake(q, &fresh);
    free(ans);
    free(q);
    if (query_queue_send_due(&l->queries))
        event_active(l->send_ev, EV_TIMEOUT, 0);    /* READs that came meanwhile */
}

/* The end of a loop turn: send the query the turn's READs joined, on the
 * session of the first of them that is still up. */
static void query_send_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lun *l = arg;
    struct qq_query *qq = query_queue_take(&l->queries);
    struct lba_query *q;
    struct scsi_task *st = NULL;
    struct qq_waiter *w;
    uint8_t cdb[SCSI_GLS_CDB_LEN];

    (void)fd;
    (void)what;
    if (!qq)
        return;
    q = lba_query_of(qq);
    uint32_t alloc = query_queue_alloc_len(qq);
    TAILQ_FOREACH(w, &qq->waiters, link) {
        struct task *t = waiter_task(w);
        /* Through a number still bound to l: one a unit attention unbound
         * since the READ arrived may name another LU now (lun_unverify). */
        if (t->conn->state == CONN_FFP && t->conn->backend &&
            lun_of_session(t->conn, t->lun_no) == l) {
            q->conn = t->conn;
            q->lun_no = t->lun_no;
            break;
        }
    }
    if (q->conn && lun_zero_serving(l) && scsi_gls16_build(cdb, sizeof(cdb), qq->lba, alloc))
        st = scsi_create_task(sizeof(cdb), cdb, SCSI_XFER_READ, (int)alloc);
    uint64_t since = mutlog_now(&l->log);
    if (!st || backend_submit(q->conn->backend, q->lun_no, st, NULL, query_done, q) < 0) {
        if (st)
            scsi_free_scsi_task(st);
        query_wake(q, NULL);        /* they read from the backend instead */
        free(q);
        return;
    }
    query_queue_sent(&l->queries, qq, since);
    l->n.queries++;
}

int lun_query_init(struct lun *l)
{
    query_queue_init(&l->queries);
    l->send_ev = event_new(l->proxy->base, -1, 0, query_send_cb, l);
    return l->send_ev ? 0 : -1;
}

int lun_query_wait(struct lun *l, struct task *t, uint64_t lba, uint32_t alloc_len)
{
    struct lba_query *q;
    bool exclusive = lun_coherence_for(l, t->conn->target) == CONF_COHERENCE_EXCLUSIVE;

    if (alloc_len == 0)
        alloc_len = exclusive ? QQ_ALLOC_EXCLUSIVE : QQ_ALLOC_VERIFY;
    if (query_queue_join(&l->queries, &t->query, lba, exclusive, alloc_len) == QQ_JOINED) {
        l->n.query_joins++;
        return 0;
    }
    q = calloc(1, sizeof(*q));
    if (!q)
        return -1;
    q->lun = l;
    /* One query in flight per LUN: this one goes at the end of the loop
     * turn, or when the one in flight is answered. */
    if (query_queue_start(&l->queries, &q->q, &t->query, lba, exclusive, alloc_len) ==
        QQ_SEND_AT_TURN_END)
        event_active(l->send_ev, EV_TIMEOUT, 0);
    return 0;
}

void lun_query_free_held(struct lun *l)
{
    struct qq_query *qq;

    /* every session is gone: nobody waits on the query not sent yet */
    qq = query_queue_take(&l->queries);
    if (qq)
        free(lba_query_of(qq));
    if (l->send_ev)
        event_free(l->send_ev);

    qq = l->queries.in_flight;
    if (qq) {
        struct lba_query *q = lba_query_of(qq);
        query_queue_answered(&l->queries, qq);
        if (q->hold_ev)
            event_free(q->hold_ev);
        if (q->held)
            scsi_free_scsi_task(q->held);
        free(q);
    }
}

void lun_query_forget(struct task *t)
{
    if (t->read_state == READ_WAIT_PROBE)
        TAILQ_REMOVE(&t->lun->probe_waiters, t, query_link);
    else if (t->read_state == READ_WAIT_VERIFY)
        TAILQ_REMOVE(&t->conn->verify_waiters, t, query_link);
    else if (t->read_state == READ_WAIT_QUERY)
        query_queue_forget(&t->query);
}
