/*
 * SCSI commands of a session (RFC 7143 sections 10.7-10.8, 11.2-11.8):
 * WRITE data gathered once (immediate data, unsolicited Data-Out, then R2T
 * bursts) and handed to libiscsi; READ data received by libiscsi straight
 * into the buffer the Data-In PDUs then reference; one SCSI Response or a
 * final Data-In with status (phase collapse), residuals as the backend
 * reported them.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "conn.h"
#include "log.h"
#include "lun.h"
#include "scsi_lun.h"
#include "scsi_sense.h"
#include "server.h"

struct task *task_find(struct conn *c, uint32_t itt)
{
    struct task *t;
    TAILQ_FOREACH(t, &c->tasks, link) {
        if (t->itt == itt && t->state != TASK_DONE)
            return t;
    }
    return NULL;
}

/* Take the task out of the session's accounting (its CmdSN slot and memory
 * are free again) before its response is stamped, so the response can open
 * the window. */
void task_unlink(struct task *t)
{
    struct conn *c = t->conn;

    TAILQ_REMOVE(&c->tasks, t, link);
    if (c->n_tasks-- == 2)
        c->proxy->conns_pipelining--;
    c->bytes_in_use -= t->edtl;
    if (c->rx_stalled)
        conn_resume(c);
}

void task_free(struct task *t)
{
    task_order_leave(t);
    lun_query_forget(t);
    task_read_release(t);
    task_cache_release(t);
    if (t->stask)
        scsi_free_scsi_task(t->stask);
    iobuf_unref(t->buf);
    free(t);
}

void task_destroy(struct task *t)
{
    task_unlink(t);
    task_free(t);
}

static void send_scsi_response(struct conn *c, uint32_t itt, uint8_t status, uint8_t res_flags,
                               uint32_t residual, const uint8_t *sense_seg, uint32_t sense_len,
                               uint32_t datasn_count)
{
    struct iscsi_pdu_hdr r = { .opcode = ISCSI_OP_SCSI_RSP,
                               .flags = (uint8_t)(ISCSI_FLAG_FINAL | res_flags), .itt = itt };

    r.u.scsi_rsp.status = status;
    r.u.scsi_rsp.residual = residual;
    r.u.scsi_rsp.expdatasn = datasn_count;
    conn_stamp_sn(c, &r, true);
    conn_send(c, &r, sense_seg, sense_len, NULL);
}

/* CHECK CONDITION with the proxy's own sense data (RFC 7143 11.4.7: the
 * data segment is SenseLength followed by the sense bytes). */
static void respond_check_condition(struct conn *c, const struct iscsi_pdu_hdr *cmd,
                                    uint8_t key, uint8_t asc, uint8_t ascq)
{
    uint8_t seg[2 + SCSI_SENSE_FIXED_LEN];
    size_t n = scsi_sense_build_fixed(seg + 2, sizeof(seg) - 2, key, asc, ascq);
    uint32_t edtl = cmd->u.scsi_cmd.edtl;

    iscsi_put16(seg, (uint16_t)n);
    send_scsi_response(c, cmd->itt, SCSI_ST_CHECK_CONDITION, edtl ? ISCSI_FLAG_RSP_UNDER : 0,
                       edtl, seg, (uint32_t)(2 + n), 0);
}

void conn_stash_unit_attention(struct conn *c, uint32_t lun, const uint8_t *seg, size_t len)
{
    if (ua_stash_put(&c->ua, lun, seg, len) < 0)
        conn_warn(c, "%s: unit attention for LUN %u consumed by the proxy could not be kept",
                 c->peer, lun);
}

bool task_report_stashed_unit_attention(struct conn *c, const struct iscsi_pdu_hdr *cmd,
                                        uint32_t lun)
{
    struct ua_stashed ua;

    if (!ua_stash_take(&c->ua, lun, cmd->u.scsi_cmd.cdb[0], &ua))
        return false;
    uint32_t edtl = cmd->u.scsi_cmd.edtl;
    send_scsi_response(c, cmd->itt, SCSI_ST_CHECK_CONDITION, edtl ? ISCSI_FLAG_RSP_UNDER : 0,
                       edtl, ua.seg, ua.len, 0);
    return true;
}

/* Data-In PDUs of at most the initiator's MaxRecvDataSegmentLength, F at the
 * end of each MaxBurstLength sequence, status in the last one (11.7.2). */
void task_send_data_in(struct task *t, const struct data_run *runs, size_t n_runs, uint8_t status,
                       uint8_t res_flags, uint32_t residual)
{
    struct conn *c = t->conn;
    uint32_t mrdsl = c->params.initiator_mrdsl, burst = c->params.max_burst;
    uint32_t len = 0, off = 0, datasn = 0, burst_left = burst, run_off = 0;
    size_t run = 0;

    for (size_t i = 0; i < n_runs; i++)
        len += runs[i].len;
    while (off < len) {
        uint32_t n = len - off;
        if (n > mrdsl)
            n = mrdsl;
        if (n > burst_left)
            n = burst_left;
        bool last = off + n == len;
        struct iscsi_pdu_hdr d = { .opcode = ISCSI_OP_DATA_IN, .itt = t->itt };
        d.u.data_in.ttt = ISCSI_RESERVED_TAG;
        d.u.data_in.datasn = datasn++;
        d.u.data_in.buffer_offset = off;
        burst_left -= n;
        if (last || burst_left == 0) {
            d.flags |= ISCSI_FLAG_FINAL;
            burst_left = burst;
        }
        if (last) {
            d.flags |= (uint8_t)(ISCSI_FLAG_DATAIN_STATUS | res_flags);
            d.u.data_in.status = status;
            d.u.data_in.residual = residual;
        }
        conn_stamp_sn(c, &d, last);
        conn_send_begin(c, &d, n);
        for (uint32_t left = n; left > 0;) {
            uint32_t piece = runs[run].len - run_off;
            if (piece > left)
                piece = left;
            conn_send_data(c, runs[run].data ? runs[run].data + run_off : NULL, piece,
                           runs[run].ref);
            left -= piece;
            run_off += piece;
            if (run_off == runs[run].len) {
                run++;
                run_off = 0;
            }
        }
        conn_send_end(c);
        off += n;
    }
}

static void task_send_result(struct task *t, int status, struct scsi_task *st)
{
    struct conn *c = t->conn;
    uint8_t res_flags = 0;
    uint32_t residual = 0;

    if (st->residual_status == SCSI_RESIDUAL_UNDERFLOW) {
        res_flags = ISCSI_FLAG_RSP_UNDER;
        residual = (uint32_t)st->residual;
    } else if (st->residual_status == SCSI_RESIDUAL_OVERFLOW) {
        res_flags = ISCSI_FLAG_RSP_OVER;
        residual = (uint32_t)st->residual;
    }
    if (t->read && (status == SCSI_STATUS_GOOD || status == SCSI_STATUS_CONDITION_MET)) {
        uint32_t len = t->edtl;
        if (res_flags == ISCSI_FLAG_RSP_UNDER)
            len = residual < t->edtl ? t->edtl - residual : 0;
        if (len > 0) {
            struct data_run whole = { t->buf->data, t->buf, len };
            task_send_data_in(t, &whole, 1, (uint8_t)status, res_flags, residual);
            return;
        }
    }
    const uint8_t *sense = NULL;
    uint32_t sense_len = 0;
    if (status == SCSI_STATUS_CHECK_CONDITION && st->datain.data && st->datain.size >= 2 &&
        (uint32_t)st->datain.size <= c->params.initiator_mrdsl) {
        sense = st->datain.data;    /* the backend's own SenseLength + sense, unchanged */
        sense_len = (uint32_t)st->datain.size;
    }
    send_scsi_response(c, t->itt, (uint8_t)status, res_flags, residual, sense, sense_len, 0);
}

static void task_backend_done(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
    struct task *t = priv;
    struct conn *c = t->conn;

    (void)iscsi;
    (void)data;
    if (status == SCSI_STATUS_CANCELLED || c->state == CONN_CLOSING) {
        task_destroy(t);
        return;
    }
    if (status < 0 || status > 0xff) {
        conn_warn(c, "%s: backend command 0x%02x (ITT 0x%08x) failed: %s", c->peer, t->cdb[0],
                 t->itt, status == SCSI_STATUS_TIMEOUT ? "timeout" : "transport error");
        task_destroy(t);
        conn_close(c, "backend command failed");
        return;
    }
    if (t->lun)
        lun_observe_latency(t->lun, clock_now_us() - t->sent_us);
    task_cache_completed(t, status);
    task_unlink(t);
    t->state = TASK_DONE;
    task_send_result(t, status, t->stask);
    task_free(t);
}

void task_submit(struct task *t)
{
    struct conn *c = t->conn;
    int dir = t->read ? SCSI_XFER_READ : t->write ? SCSI_XFER_WRITE : SCSI_XFER_NONE;
    struct iscsi_data out = { 0, NULL };

    if (t->edtl && !t->buf && !(t->buf = iobuf_new(t->edtl))) {
        task_destroy(t);
        conn_close(c, "out of memory");
        return;
    }
    task_cache_before_send(t);

    /* The CDB field is forwarded whole: libiscsi sends the same 16 bytes. */
    t->stask = scsi_create_task(sizeof(t->cdb), t->cdb, dir, (int)t->edtl);
    if (!t->stask) {
        task_destroy(t);
        conn_close(c, "out of memory");
        return;
    }
    if (t->read && t->edtl)
        scsi_task_add_data_in_buffer(t->stask, (int)t->edtl, t->buf->data);
    if (t->write && t->edtl) {
        out.size = (int)t->edtl;
        out.data = t->buf->data;
    }
    t->state = TASK_AT_BACKEND;
    t->sent_us = clock_now_us();
    if (backend_submit(c->backend, t->lun_no, t->stask, t->edtl && t->write ? &out : NULL,
                       task_backend_done, t) < 0) {
        task_destroy(t);
        conn_close(c, "backend session unavailable");
    }
}

/* Ask for the next burst with an R2T (RFC 7143 11.8), one outstanding per
 * task, at most MaxBurstLength each. */
static void task_write_progress(struct task *t)
{
    struct conn *c = t->conn;

    if (t->received >= t->edtl) {
        task_start(t);
        return;
    }
    if (t->unsolicited_open || t->r2t_ttt != ISCSI_RESERVED_TAG)
        return;
    uint32_t len = t->edtl - t->received;
    if (len > c->params.max_burst)
        len = c->params.max_burst;
    struct iscsi_pdu_hdr r = { .opcode = ISCSI_OP_R2T, .flags = ISCSI_FLAG_FINAL,
                               .lun = 0, .itt = t->itt };
    t->r2t_ttt = c->next_ttt++;
    if (c->next_ttt == ISCSI_RESERVED_TAG)
        c->next_ttt = 1;
    t->r2t_end = t->received + len;
    t->next_datasn = 0;
    r.u.r2t.ttt = t->r2t_ttt;
    r.u.r2t.r2tsn = t->r2tsn++;
    r.u.r2t.buffer_offset = t->received;
    r.u.r2t.desired_len = len;
    conn_stamp_sn(c, &r, false);
    conn_send(c, &r, NULL, 0, NULL);
}

static bool session_waits_for_data(const struct conn *c)
{
    const struct task *t;
    TAILQ_FOREACH(t, &c->tasks, link) {
        if (t->state == TASK_WAIT_DATA)
            return true;
    }
    return false;
}

enum rx_result task_scsi_command(struct conn *c, const struct rx_pdu *pdu)
{
    const struct iscsi_pdu_hdr *h = &pdu->hdr;
    const struct conf *cf = c->proxy->conf;
    bool rd = h->flags & ISCSI_FLAG_CMD_READ, wr = h->flags & ISCSI_FLAG_CMD_WRITE;
    uint32_t edtl = h->u.scsi_cmd.edtl;
    uint32_t lun;

    if (c->params.discovery) {
        conn_warn(c, "%s: SCSI Command in a discovery session", c->peer);
        return RX_CLOSE;
    }
    /* libiscsi carries neither CDBs over 16 bytes (Extended CDB AHS) nor
     * bidirectional commands (Bidirectional Read Expected Data Transfer
     * Length AHS): the only AHS types of RFC 7143 11.2.1.2. */
    if (pdu->ahs_len || (rd && wr)) {
        respond_check_condition(c, h, SCSI_KEY_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE);
        return RX_DONE;
    }
    if (!rd && !wr && edtl) {
        conn_warn(c, "%s: SCSI Command with EDTL %u but neither R nor W", c->peer, edtl);
        return RX_CLOSE;
    }
    if (h->data_len && (!wr || !c->params.immediate_data || h->data_len > edtl ||
                        h->data_len > c->params.first_burst)) {
        conn_warn(c, "%s: SCSI Command with %u bytes of immediate data not allowed here", c->peer,
                 h->data_len);
        return RX_CLOSE;
    }
    if (!(h->flags & ISCSI_FLAG_FINAL) && (!wr || c->params.initial_r2t)) {
        conn_warn(c, "%s: unsolicited data announced where none is allowed", c->peer);
        return RX_CLOSE;
    }
    if (task_find(c, h->itt)) {
        conn_warn(c, "%s: ITT 0x%08x already in use", c->peer, h->itt);
        return RX_CLOSE;
    }
    if (scsi_lun_decode(h->lun, &lun) < 0) {
        respond_check_condition(c, h, SCSI_KEY_ILLEGAL_REQUEST, SCSI_ASC_LUN_NOT_SUPPORTED);
        return RX_DONE;
    }
    if (edtl > cf->session_memory_budget) {
        respond_check_condition(c, h, SCSI_KEY_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_CDB);
        return RX_DONE;
    }
    /* Wait for memory, unless a WRITE whose data is behind this PDU holds it. */
    if (c->bytes_in_use && c->bytes_in_use + edtl > cf->session_memory_budget &&
        !session_waits_for_data(c))
        return RX_STALL;

    if (task_report_stashed_unit_attention(c, h, lun))
        return RX_DONE;

    struct task *t = calloc(1, sizeof(*t));
    if (!t)
        return RX_CLOSE;
    if (wr && edtl && !(t->buf = iobuf_new(edtl))) {
        free(t);
        return RX_CLOSE;
    }
    t->conn = c;
    t->itt = h->itt;
    t->cmdsn = h->u.scsi_cmd.cmdsn;
    t->lun_no = lun;
    t->edtl = edtl;
    t->read = rd;
    t->write = wr;
    t->r2t_ttt = ISCSI_RESERVED_TAG;
    memcpy(t->cdb, h->u.scsi_cmd.cdb, sizeof(t->cdb));
    TAILQ_INSERT_TAIL(&c->tasks, t, link);
    if (++c->n_tasks == 2)
        c->proxy->conns_pipelining++;
    c->bytes_in_use += edtl;
    task_cache_classify(t);
    task_order_enter(t, h->flags & ISCSI_FLAG_CMD_ATTR);
    if (wr && edtl) {
        memcpy(t->buf->data, pdu->data, h->data_len);
        t->received = h->data_len;
        t->unsolicited_open = !(h->flags & ISCSI_FLAG_FINAL);
        t->unsolicited_end = edtl < c->params.first_burst ? edtl : c->params.first_burst;
        t->state = TASK_WAIT_DATA;
        task_write_progress(t);
    } else {
        task_start(t);
    }
    return RX_DONE;
}

/* Data-Out (RFC 7143 11.7.1): in order (DataPDUInOrder=Yes,
 * DataSequenceInOrder=Yes), within the burst it answers, DataSN counting
 * from 0 in each sequence.  A violation ends the connection (ERL 0). */
enum rx_result task_data_out(struct conn *c, const struct rx_pdu *pdu)
{
    const struct iscsi_pdu_hdr *h = &pdu->hdr;
    uint32_t ttt = h->u.data_out.ttt, off = h->u.data_out.buffer_offset, len = h->data_len;
    struct task *t = task_find(c, h->itt);
    const char *bad = NULL;

    if (!t) {
        /* A task already answered or aborted: data in flight for it (unsolicited,
         * or answering an R2T sent before an ABORT TASK) is discarded. */
        log_debug("%s: Data-Out for finished ITT 0x%08x dropped", c->peer, h->itt);
        return RX_DONE;
    }
    if (t->state != TASK_WAIT_DATA) {
        bad = "Data-Out for a task not awaiting data";
    } else if (ttt == ISCSI_RESERVED_TAG ? !t->unsolicited_open : ttt != t->r2t_ttt) {
        bad = "Data-Out Target Transfer Tag";
    } else if (off != t->received) {
        bad = "Data-Out BufferOffset out of order";
    } else if ((uint64_t)off + len > (ttt == ISCSI_RESERVED_TAG ? t->unsolicited_end : t->r2t_end)) {
        bad = "Data-Out beyond its burst";
    } else if (h->u.data_out.datasn != t->next_datasn) {
        bad = "Data-Out DataSN";
    }
    if (bad) {
        conn_warn(c, "%s: %s (ITT 0x%08x), closing", c->peer, bad, h->itt);
        return RX_CLOSE;
    }
    memcpy(t->buf->data + off, pdu->data, len);
    t->received += len;
    t->next_datasn++;
    if (h->flags & ISCSI_FLAG_FINAL) {
        t->next_datasn = 0;
        if (ttt == ISCSI_RESERVED_TAG) {
            t->unsolicited_open = false;
        } else if (t->received != t->r2t_end) {
            conn_warn(c, "%s: R2T burst ended short (ITT 0x%08x), closing", c->peer, h->itt);
            return RX_CLOSE;
        } else {
            t->r2t_ttt = ISCSI_RESERVED_TAG;
        }
    }
    task_write_progress(t);
    return RX_DONE;
}

void task_abort(struct task *t)
{
    if (t->read_state != READ_NOT_PLANNED) {
        task_read_abort(t);
    } else if (t->state == TASK_AT_BACKEND) {
        backend_abandon(t->conn->backend, t->stask, t->buf);
        t->stask = NULL;
        task_destroy(t);
    } else {
        task_destroy(t);
    }
}

void task_free_all(struct conn *c)
{
    struct task *t;
    while ((t = TAILQ_FIRST(&c->tasks)) != NULL)
        task_destroy(t);
}
