/*
 * READs planned against the allocation cache (docs/ARCHITECTURE.md, "A READ
 * (exclusive mode)"): known-unallocated runs are answered with zeros from the
 * shared zero buffer, the rest is read from the backend with READ(16)s split
 * at its maximum transfer length, and the initiator sees one ordinary reply.
 * Unknown pages are asked about with GET LBA STATUS first (lun_query.c).
 * When any part fails or comes back short, or the LUN's facts changed while
 * the parts were out, the READ goes to the backend whole, so the initiator
 * sees the backend's own data, status and sense: never a byte it did not send.
 */
#include <stdlib.h>

#include "backend.h"
#include "conn.h"
#include "log.h"
#include "lun.h"
#include "zero_probe.h"

struct read_part {
    struct task *t;
    struct iobuf *buf;
    uint64_t lba;
    uint32_t blocks;
    uint32_t len;               /* bytes asked, fixed when sent */
    struct scsi_task *stask;
    uint64_t sent_us;
    bool done;
};

/* The transitions of enum read_state (docs/ARCHITECTURE.md, "Tasks", the
 * read state table), one bit per allowed next state.  A READ is freed in
 * whatever state it is in: task_free unlinks a waiting one
 * (lun_query_forget) and frees the parts. */
#define READ_TO(s) (1u << (s))
static const unsigned read_next[] = {
    [READ_NOT_PLANNED]   = READ_TO(READ_PLANNING) | READ_TO(READ_WAIT_PROBE) |
                           READ_TO(READ_WAIT_VERIFY),
    [READ_WAIT_VERIFY]   = READ_TO(READ_NOT_PLANNED),
    [READ_PLANNING]      = READ_TO(READ_PLANNING) | READ_TO(READ_WAIT_QUERY) |
                           READ_TO(READ_PARTS_OUT) | READ_TO(READ_NOT_PLANNED),
    [READ_WAIT_PROBE]    = READ_TO(READ_PLANNING),
    [READ_WAIT_QUERY]    = READ_TO(READ_PLANNING),
    [READ_PARTS_OUT]     = READ_TO(READ_PARTS_FAILED) | READ_TO(READ_PARTS_ABORTED) |
                           READ_TO(READ_NOT_PLANNED),
    [READ_PARTS_FAILED]  = READ_TO(READ_PARTS_ABORTED) | READ_TO(READ_NOT_PLANNED),
    [READ_PARTS_ABORTED] = READ_TO(READ_PARTS_ABORTED),
};

void task_read_set_state(struct task *t, enum read_state s)
{
    /* Any other transition is a bug that could unlink a task from a list it
     * is not on, or answer an aborted READ: the session ends (its teardown
     * frees a task in any state) rather than the proxy and its other
     * sessions. */
    if (!(read_next[t->read_state] & READ_TO(s))) {
        log_error("%s: ITT 0x%08x: READ state %d to %d is not a transition", t->conn->peer,
                  t->itt, (int)t->read_state, (int)s);
        conn_close(t->conn, "internal error: READ state");
    }
    t->read_state = s;
}

static void count_passthrough(struct task *t)
{
    t->lun->n.reads_passthrough++;
    t->lun->n.bytes_backend += t->edtl;
}

/* Not planned after all: the whole READ, as the initiator sent it. */
static void task_read_whole(struct task *t)
{
    task_read_release(t);
    task_read_set_state(t, READ_NOT_PLANNED);
    count_passthrough(t);
    task_submit(t);
}

/* Zeros may be served for this READ: RDPROTECT != 0 and anything unusual go
 * to the backend whole. */
static bool task_read_plannable(const struct task *t)
{
    const struct lun *l = t->lun;
    const struct scsi_cdb_info *ci = &t->ci;

    /* probe_finish makes page_blocks and max_xfer_blocks at least 1; the
     * segment capacity in task_read_resume divides by both.  A READ-blocking
     * reservation the SAN may hold is enforced by the SAN alone. */
    return lun_zero_serving(l) && l->page_blocks != 0 && l->max_xfer_blocks != 0 &&
           (l->zeros_from == LU_ZEROS_FROM_STATUS ||
            lun_coherence_for(l, t->conn->target) == CONF_COHERENCE_EXCLUSIVE) &&
           !l->resv.may_be_held && !ci->protect && ci->nblocks != 0 &&
           (uint64_t)ci->nblocks * l->block_size == t->edtl && ci->lba < l->n_blocks &&
           l->n_blocks - ci->lba >= ci->nblocks;
}

bool task_read_start(struct task *t)
{
    struct lun *l = t->lun;
    const struct scsi_cdb_info *ci = &t->ci;
    struct conn *c = t->conn;

    bool gls = task_lba_status_wanted(t);

    if (!gls && (!t->read || ci->cls != SCSI_CLASS_READ || !ci->has_lba))
        return false;
    if (!l) {
        /* The session is verifying this LUN number: wait for its answer
         * (one round trip) rather than send READs past the cache. */
        const struct nexus_lu *e = nexus_map_find(&c->luns, t->lun_no);
        if (!e || e->state != NEXUS_LU_VERIFYING)
            return false;
        t->state = TASK_AT_BACKEND;
        task_read_set_state(t, READ_WAIT_VERIFY);
        TAILQ_INSERT_TAIL(&c->verify_waiters, t, query_link);
        return true;
    }
    if ((l->state != LUN_PROBING &&
         !(gls ? task_lba_status_answerable(t) : task_read_plannable(t))) ||
        lun_coherence_for(l, t->conn->target) == CONF_COHERENCE_OFF) {
        if (gls)
            l->n.lba_status_forwarded++;
        else
            count_passthrough(t);
        return false;
    }
    t->state = TASK_AT_BACKEND;
    if (l->state == LUN_PROBING) {
        task_read_set_state(t, READ_WAIT_PROBE);
        lun_probe_wait(l, t);       /* so that it can be planned */
    } else {
        task_read_resume(t, NULL);
    }
    return true;
}

/* The parts cannot make the reply: the whole READ again. */
static void task_read_fallback(struct task *t)
{
    t->lun->n.reads_fallback++;
    task_read_whole(t);
}

/* Every part is back: answer from zeros and the parts' buffers, in order,
 * with the lengths fixed when the READ was planned and its parts sent.
 * Returns false, having sent nothing, when they cannot make the reply;
 * true when the task is gone (answered, or its connection closed). */
static bool task_read_reply(struct task *t)
{
    struct lun *l = t->lun;

    /* Facts probed again meanwhile (capacity or LUNs changed): the block
     * size the segments were planned with may not be the LUN's any more. */
    if (!lun_zero_serving(l) || l->facts_gen != t->plan_facts_gen)
        return false;
    struct data_run *runs = calloc(t->n_segs, sizeof(*runs));
    uint64_t total = 0, zero = 0;
    size_t part = 0;

    if (!runs) {
        task_destroy(t);
        conn_close(t->conn, "out of memory");
        return true;
    }
    for (size_t i = 0; i < t->n_segs; i++) {
        uint64_t len;
        if (t->segs[i].kind == SEG_ZERO) {
            len = (uint64_t)t->segs[i].blocks * t->plan_block_size;
            zero += len;
        } else {
            len = t->parts[part].len;
            runs[i].data = t->parts[part].buf->data;
            runs[i].ref = t->parts[part].buf;
            part++;
        }
        runs[i].len = (uint32_t)len;  /* if it does not fit, total is wrong */
        total += len;
    }
    if (total != t->edtl) {         /* the Data-In must be exactly EDTL bytes */
        free(runs);
        return false;
    }
    l->n.bytes_zero += zero;
    l->n.bytes_backend += total - zero;
    task_unlink(t);
    t->state = TASK_DONE;
    task_send_data_in(t, runs, t->n_segs, SCSI_STATUS_GOOD, 0, 0);
    free(runs);
    task_free(t);
    return true;
}

static void task_read_parts_done(struct task *t)
{
    struct conn *c = t->conn;

    if (t->read_state == READ_PARTS_ABORTED || c->state == CONN_CLOSING) {
        task_destroy(t);
        return;
    }
    if (t->read_state == READ_PARTS_FAILED || !task_read_reply(t))
        task_read_fallback(t);
}

/* A part failed or came back short; an abort outweighs it. */
static void task_read_part_failed(struct task *t)
{
    if (t->read_state == READ_PARTS_OUT)
        task_read_set_state(t, READ_PARTS_FAILED);
}

/* The part's buffer holds exactly the p->len bytes asked: GOOD, and no
 * residual.  A residual is EDTL minus the bytes the target sent (RFC 7143
 * 11.4.5): an underflow leaves the buffer's tail unwritten (heap garbage,
 * maybe another session's data), an overflow says the target meant another
 * length (its block size changed).  Data libiscsi kept in its own buffer
 * (datain) never reached ours. */
static bool part_complete(const struct read_part *p, int status)
{
    const struct scsi_task *st = p->stask;

    return status == SCSI_STATUS_GOOD &&
           (st->residual_status == SCSI_RESIDUAL_NO_RESIDUAL || st->residual == 0) &&
           st->datain.data == NULL;
}

static void part_done(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct read_part *p = arg;
    struct task *t = p->t;

    (void)iscsi;
    (void)data;
    p->done = true;
    t->parts_pending--;
    if (status == SCSI_STATUS_GOOD)
        lun_observe_latency(t->lun, clock_now_us() - p->sent_us);
    if (!part_complete(p, status))
        task_read_part_failed(t);
    else if (t->sent_bound)
        lun_learn_zeros(t->lun, t->learn_since, t->plan_facts_gen, p->lba, p->blocks,
                        p->buf->data);
    if (status != SCSI_STATUS_GOOD) {
        if (status != SCSI_STATUS_CANCELLED && t->conn->state != CONN_CLOSING)
            lun_absorb_unit_attention(t->lun, t->conn, t->lun_no, status, p->stask);
    }
    if (t->parts_pending == 0)
        task_read_parts_done(t);
}

static void task_read_execute(struct task *t)
{
    struct lun *l = t->lun;
    size_t n_parts = 0;

    for (size_t i = 0; i < t->n_segs; i++)
        n_parts += t->segs[i].kind == SEG_BACKEND;
    if (n_parts == 0) {
        l->n.reads_zero_only++;     /* no backend command at all */
        if (!task_read_reply(t))
            task_read_fallback(t);
        return;
    }
    l->n.reads_split++;
    t->parts = calloc(n_parts, sizeof(*t->parts));
    if (!t->parts) {
        task_destroy(t);
        conn_close(t->conn, "out of memory");
        return;
    }
    t->n_parts = n_parts;
    t->parts_pending = n_parts;
    t->learn_since = mutlog_now(&l->log);   /* the parts' data describe the LUN from now */
    t->sent_bound = lun_of_session(t->conn, t->lun_no) == l;
    task_read_set_state(t, READ_PARTS_OUT);
    size_t k = 0;
    for (size_t i = 0; i < t->n_segs; i++) {
        const struct read_seg *s = &t->segs[i];
        if (s->kind != SEG_BACKEND)
            continue;
        struct read_part *p = &t->parts[k++];
        uint8_t cdb[16];
        p->t = t;
        p->lba = s->lba;
        p->blocks = s->blocks;
        /* at most MAX_SPLIT_BYTES (lun.c): blocks <= max_xfer_blocks */
        p->len = s->blocks * t->plan_block_size;
        p->buf = iobuf_new(p->len);
        scsi_read16_build(cdb, sizeof(cdb), s->lba, s->blocks, t->ci.dpo, t->ci.fua);
        p->stask = p->buf ? scsi_create_task(sizeof(cdb), cdb, SCSI_XFER_READ, (int)p->len)
                          : NULL;
        if (p->stask)
            scsi_task_add_data_in_buffer(p->stask, (int)p->len, p->buf->data);
        p->sent_us = clock_now_us();
        if (!p->stask ||
            backend_submit(t->conn->backend, t->lun_no, p->stask, NULL, part_done, p) < 0) {
            p->done = true;
            task_read_part_failed(t);
            t->parts_pending--;
        }
    }
    if (t->parts_pending == 0)
        task_read_parts_done(t);
}

void task_read_verified(struct task *t)
{
    task_read_set_state(t, READ_NOT_PLANNED);
    t->lun = lun_of_session(t->conn, t->lun_no);
    if (t->lun)
        lun_ref(t->lun);
    if (!task_read_start(t))
        task_submit(t);
}

void task_read_resume(struct task *t, const struct lba_answer *fresh)
{
    struct lun *l = t->lun;

    /* From READ_NOT_PLANNED (task_read_start), or woken: its waker took it
     * off the probe's or the query's waiters. */
    task_read_set_state(t, READ_PLANNING);
    if (t->conn->state == CONN_CLOSING) {
        task_destroy(t);
        return;
    }
    if (task_lba_status_wanted(t)) {
        task_lba_status_resume(t, fresh);
        return;
    }
    if (!task_read_plannable(t)) {  /* pass-through after all, or new facts */
        task_read_whole(t);
        return;
    }
    t->plan_block_size = l->block_size;
    t->plan_facts_gen = l->facts_gen;
    bool exclusive = lun_coherence_for(l, t->conn->target) == CONF_COHERENCE_EXCLUSIVE;
    struct read_plan_in in = {
        .map = l->map,
        .trust_unallocated = exclusive,
        /* at most two queries per READ in exclusive mode (the second when a
         * joined query's answer stopped short of it), one in verify mode */
        .may_query = l->zeros_from == LU_ZEROS_FROM_STATUS &&
                     t->queries_waited < (exclusive ? 2u : 1u),
        /* verify: this READ's own fresh answer decides, block by block;
         * exclusive: the map does (the answer is in it already), so that
         * every READ of a page gets the same plan */
        .answer = exclusive || !fresh ? NULL : fresh->dealloc,
        .n_answer = exclusive || !fresh ? 0 : fresh->n,
        .lba = t->ci.lba,
        .blocks = t->ci.nblocks,
        .max_xfer_blocks = l->max_xfer_blocks,
    };
    size_t cap = 2 * ((size_t)t->ci.nblocks / l->page_blocks + 2) +
                 t->ci.nblocks / l->max_xfer_blocks + 2;
    struct read_plan plan;
    free(t->segs);
    t->segs = malloc(cap * sizeof(*t->segs));
    if (!t->segs || read_plan_make(&in, t->segs, cap, &plan) < 0) {
        task_read_whole(t);
        return;
    }
    if (plan.needs_query) {
        t->queries_waited++;
        if (lun_query_wait(l, t, plan.query_lba, 0) == 0) {
            task_read_set_state(t, READ_WAIT_QUERY);
            return;
        }
        t->queries_waited = 2;      /* no query possible: plan without one */
        task_read_resume(t, fresh);
        return;
    }
    if (plan.all_backend || zero_probe_forward(backend_sent(t->conn->backend), t->lun_no,
                                               clock_now_us(), t->segs, plan.n_segs)) {
        task_read_whole(t);
        return;
    }
    t->n_segs = plan.n_segs;
    task_read_execute(t);
}

void task_read_abort(struct task *t)
{
    if (t->read_state != READ_PARTS_OUT && t->read_state != READ_PARTS_FAILED &&
        t->read_state != READ_PARTS_ABORTED) {
        task_destroy(t);            /* waiting: nothing of it at the backend */
        return;
    }
    task_read_set_state(t, READ_PARTS_ABORTED);
    for (size_t i = 0; i < t->n_parts; i++) {
        struct read_part *p = &t->parts[i];
        if (p->done)
            continue;
        backend_abandon(t->conn->backend, p->stask, p->buf);
        p->stask = NULL;
        p->done = true;
        t->parts_pending--;
    }
    task_destroy(t);
}

void task_read_release(struct task *t)
{
    for (size_t i = 0; i < t->n_parts; i++) {
        if (t->parts[i].stask)
            scsi_free_scsi_task(t->parts[i].stask);
        iobuf_unref(t->parts[i].buf);
    }
    free(t->parts);
    t->parts = NULL;
    t->n_parts = 0;
    t->parts_pending = 0;
    free(t->segs);
    t->segs = NULL;
    t->n_segs = 0;
}
