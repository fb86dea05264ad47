/*
 * Frontend connection: PDU framing on a bufferevent, the send path with
 * digests and zero-copy data, the StatSN/CmdSN window, NOP-In keepalive and
 * the connection's lifecycle.  Protocol decisions live in conn_login.c,
 * session.c and task.c.
 */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "backend.h"
#include "event_poll.h"
#include "log.h"
#include "server.h"

/* Largest PDU the input side ever buffers: BHS, AHS, two digests, data. */
static size_t conn_max_pdu(const struct conn *c)
{
    return ISCSI_BHS_LEN + ISCSI_MAX_AHS_BYTES + 2 * ISCSI_DIGEST_LEN + 3 +
           c->proxy->conf->max_recv_data_segment_length;
}

static bool digests_on(const struct conn *c, bool data)
{
    if (c->state != CONN_FFP && c->state != CONN_DRAINING)
        return false;
    return data ? c->params.data_digest : c->params.header_digest;
}

void conn_stamp_sn(struct conn *c, struct iscsi_pdu_hdr *h, bool advance_statsn)
{
    uint32_t statsn = advance_statsn ? c->statsn++ : c->statsn;
    uint32_t *fields[3];

    conn_update_window(c);
    switch (h->opcode) {
    case ISCSI_OP_SCSI_RSP:
        fields[0] = &h->u.scsi_rsp.statsn, fields[1] = &h->u.scsi_rsp.expcmdsn,
        fields[2] = &h->u.scsi_rsp.maxcmdsn;
        break;
    case ISCSI_OP_DATA_IN:
        fields[0] = &h->u.data_in.statsn, fields[1] = &h->u.data_in.expcmdsn,
        fields[2] = &h->u.data_in.maxcmdsn;
        break;
    case ISCSI_OP_R2T:
        fields[0] = &h->u.r2t.statsn, fields[1] = &h->u.r2t.expcmdsn,
        fields[2] = &h->u.r2t.maxcmdsn;
        break;
    case ISCSI_OP_NOP_IN:
        fields[0] = &h->u.nop_in.statsn, fields[1] = &h->u.nop_in.expcmdsn,
        fields[2] = &h->u.nop_in.maxcmdsn;
        break;
    case ISCSI_OP_LOGIN_RSP:
        fields[0] = &h->u.login_rsp.statsn, fields[1] = &h->u.login_rsp.expcmdsn,
        fields[2] = &h->u.login_rsp.maxcmdsn;
        break;
    case ISCSI_OP_TEXT_RSP:
        fields[0] = &h->u.text_rsp.statsn, fields[1] = &h->u.text_rsp.expcmdsn,
        fields[2] = &h->u.text_rsp.maxcmdsn;
        break;
    case ISCSI_OP_LOGOUT_RSP:
        fields[0] = &h->u.logout_rsp.statsn, fields[1] = &h->u.logout_rsp.expcmdsn,
        fields[2] = &h->u.logout_rsp.maxcmdsn;
        break;
    case ISCSI_OP_TMF_RSP:
        fields[0] = &h->u.tmf_rsp.statsn, fields[1] = &h->u.tmf_rsp.expcmdsn,
        fields[2] = &h->u.tmf_rsp.maxcmdsn;
        break;
    case ISCSI_OP_ASYNC_MSG:
        fields[0] = &h->u.async_msg.statsn, fields[1] = &h->u.async_msg.expcmdsn,
        fields[2] = &h->u.async_msg.maxcmdsn;
        break;
    case ISCSI_OP_REJECT:
        fields[0] = &h->u.reject.statsn, fields[1] = &h->u.reject.expcmdsn,
        fields[2] = &h->u.reject.maxcmdsn;
        break;
    default:
        return;
    }
    *fields[0] = statsn;
    *fields[1] = c->exp_cmdsn;
    *fields[2] = c->max_cmdsn;
}

/*
 * Flow control (RFC 7143 4.2.2.1): MaxCmdSN only ever moves forward; it
 * stops moving while the session has no free task slot or its data buffers
 * reach the memory budget, which closes the window as ExpCmdSN catches up.
 */
void conn_update_window(struct conn *c)
{
    const struct conf *cf = c->proxy->conf;
    uint32_t slots = cf->queue_depth > c->n_tasks ? cf->queue_depth - c->n_tasks : 0;

    if (c->bytes_in_use >= cf->session_memory_budget)
        slots = 0;
    uint32_t candidate = c->exp_cmdsn + slots - 1;
    if (iscsi_sn_gt(candidate, c->max_cmdsn))
        c->max_cmdsn = candidate;
}

/* Zero payloads reference this one buffer (docs/ARCHITECTURE.md, "Data
 * flow"): no allocation and no memset per READ. */
#define ZERO_BUFFER_LEN (256 * 1024)
static const uint8_t zero_buffer[ZERO_BUFFER_LEN];

/* PDUs are written from the loop as soon as the code queueing them has
 * returned, not after epoll says the socket is writable: a command then
 * costs no epoll_ctl and no extra wake-up.  Only output the socket did not
 * take switches the bufferevent's own writing on, until it drains
 * (conn_write_cb). */
static void flush_soon(struct conn *c)
{
    if (!c->flush_pending && !(bufferevent_get_enabled(c->bev) & EV_WRITE)) {
        c->flush_pending = true;
        event_active(c->flush_ev, EV_TIMEOUT, 0);
    }
}

static void output_drained(struct conn *c)
{
    if (c->state == CONN_DRAINING) {
        conn_close(c, c->close_reason);
        return;
    }
    if (c->rx_stalled)
        conn_resume(c);
}

static void conn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *out = bufferevent_get_output(c->bev);

    (void)fd;
    (void)what;
    c->flush_pending = false;
    if (c->state == CONN_CLOSING || (bufferevent_get_enabled(c->bev) & EV_WRITE))
        return;
    /* The bufferevent keeps its output's start frozen but while it writes. */
    evbuffer_unfreeze(out, 1);
    int n = evbuffer_write(out, bufferevent_getfd(c->bev));
    evbuffer_freeze(out, 1);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        conn_close(c, "socket error");
        return;
    }
    if (evbuffer_get_length(out) > 0)
        bufferevent_enable(c->bev, EV_WRITE);
    else
        output_drained(c);
}

void conn_send_begin(struct conn *c, struct iscsi_pdu_hdr *h, uint32_t len)
{
    uint8_t head[ISCSI_BHS_LEN + ISCSI_DIGEST_LEN];
    size_t head_len = ISCSI_BHS_LEN;

    c->tx_len = len;
    c->tx_crc = ISCSI_CRC32C_INIT;
    if (c->state == CONN_CLOSING)
        return;
    h->data_len = len;
    h->total_ahs_len = 0;
    iscsi_pdu_encode(h, head);
    if (digests_on(c, false)) {
        uint32_t crc = iscsi_crc32c(ISCSI_CRC32C_INIT, head, ISCSI_BHS_LEN);
        iscsi_put_digest(head + ISCSI_BHS_LEN, iscsi_crc32c_final(crc));
        head_len += ISCSI_DIGEST_LEN;
    }
    evbuffer_add(bufferevent_get_output(c->bev), head, head_len);
    flush_soon(c);
}

void conn_send_data(struct conn *c, const void *data, uint32_t len, struct iobuf *ref)
{
    if (c->state == CONN_CLOSING || len == 0)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    bool dd = digests_on(c, true);
    if (!data) {
        while (len > 0) {
            uint32_t n = len < ZERO_BUFFER_LEN ? len : ZERO_BUFFER_LEN;
            evbuffer_add_reference(out, zero_buffer, n, NULL, NULL);
            if (dd)
                c->tx_crc = iscsi_crc32c(c->tx_crc, zero_buffer, n);
            len -= n;
        }
        return;
    }
    if (dd)
        c->tx_crc = iscsi_crc32c(c->tx_crc, data, len);
    if (!ref) {
        evbuffer_add(out, data, len);
        return;
    }
    iobuf_ref(ref);
    if (evbuffer_add_reference(out, data, len, iobuf_unref_cb, ref) < 0) {
        iobuf_unref(ref);
        conn_close(c, "out of memory queueing data");
    }
}

void conn_send_end(struct conn *c)
{
    static const uint8_t pad_bytes[4];

    if (c->state == CONN_CLOSING || c->tx_len == 0)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    uint32_t pad = iscsi_pad4(c->tx_len);
    if (pad)
        evbuffer_add(out, pad_bytes, pad);
    if (digests_on(c, true)) {
        uint8_t digest[ISCSI_DIGEST_LEN];
        uint32_t crc = iscsi_crc32c(c->tx_crc, pad_bytes, pad);
        iscsi_put_digest(digest, iscsi_crc32c_final(crc));
        evbuffer_add(out, digest, sizeof(digest));
    }
}

void conn_send(struct conn *c, struct iscsi_pdu_hdr *h, const void *data, uint32_t len,
               struct iobuf *ref)
{
    conn_send_begin(c, h, len);
    conn_send_data(c, data, len, ref);
    conn_send_end(c);
}

void conn_reject(struct conn *c, const struct rx_pdu *pdu, const uint8_t *bhs,
                 enum iscsi_reject_reason reason, const char *field)
{
    struct iscsi_pdu_hdr r = { .opcode = ISCSI_OP_REJECT, .flags = ISCSI_FLAG_FINAL,
                               .itt = ISCSI_RESERVED_TAG };

    c->proxy->n.rejected_pdus[reason & 15]++;
    conn_warn(c, "%s: rejected %s PDU (reason 0x%02x): %s", c->peer,
             iscsi_opcode_name(pdu->hdr.opcode), (unsigned)reason, field);
    r.u.reject.reason = (uint8_t)reason;
    conn_stamp_sn(c, &r, true);
    conn_send(c, &r, bhs, ISCSI_BHS_LEN, NULL);
}

static enum rx_result conn_dispatch(struct conn *c, const struct rx_pdu *pdu, const uint8_t *bhs)
{
    switch (c->state) {
    case CONN_LOGIN:
        return conn_login_pdu(c, pdu);
    case CONN_FFP:
        return session_pdu(c, pdu, bhs);
    default:
        return RX_DONE;     /* nothing more is read once logged out */
    }
}

/* Check one PDU's digests; returns false (after logging) on a mismatch. */
static bool conn_check_digests(struct conn *c, const uint8_t *p, const struct rx_pdu *pdu,
                               bool hd, bool dd)
{
    size_t hlen = ISCSI_BHS_LEN + pdu->ahs_len;
    if (hd) {
        uint32_t crc = iscsi_crc32c_final(iscsi_crc32c(ISCSI_CRC32C_INIT, p, hlen));
        if (crc != iscsi_get_digest(p + hlen)) {
            conn_warn(c, "%s: header digest error on %s PDU, closing (ERL 0, RFC 7143 7.8)",
                     c->peer, iscsi_opcode_name(pdu->hdr.opcode));
            return false;
        }
    }
    if (dd && pdu->hdr.data_len) {
        uint32_t padded = pdu->hdr.data_len + iscsi_pad4(pdu->hdr.data_len);
        uint32_t crc = iscsi_crc32c_final(iscsi_crc32c(ISCSI_CRC32C_INIT, pdu->data, padded));
        if (crc != iscsi_get_digest(pdu->data + padded)) {
            conn_reject(c, pdu, p, ISCSI_REJECT_DATA_DIGEST, "data digest mismatch");
            return false;
        }
    }
    return true;
}

/* Frame and handle every complete PDU in the input buffer.  A PDU's header
 * is checked before any of its payload is looked at. */
static void conn_process_input(struct conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer *out = bufferevent_get_output(c->bev);

    while (c->state == CONN_LOGIN || c->state == CONN_FFP) {
        uint8_t bhs[ISCSI_BHS_LEN];
        struct rx_pdu pdu;
        enum iscsi_reject_reason reason;
        const char *field;
        size_t avail = evbuffer_get_length(in);

        if (c->rx_stalled || avail < ISCSI_BHS_LEN)
            return;
        if (evbuffer_get_length(out) > c->proxy->conf->session_memory_budget) {
            c->rx_stalled = true;       /* the write callback resumes */
            return;
        }
        evbuffer_copyout(in, bhs, ISCSI_BHS_LEN);
        memset(&pdu, 0, sizeof(pdu));
        iscsi_pdu_decode(bhs, &pdu.hdr);
        uint32_t limit = c->state == CONN_FFP ? c->params.target_mrdsl : 8192;
        if (iscsi_pdu_check_request(&pdu.hdr, limit, &reason, &field) < 0) {
            /* The stream cannot be trusted past a bad header: say why, then close. */
            if (c->state == CONN_FFP) {
                conn_reject(c, &pdu, bhs, reason, field);
                conn_close_after_flush(c, "malformed PDU");
            } else {
                conn_warn(c, "%s: bad %s PDU during login: %s", c->peer,
                         iscsi_opcode_name(pdu.hdr.opcode), field);
                conn_close(c, "malformed PDU");
            }
            return;
        }
        bool hd = digests_on(c, false), dd = digests_on(c, true);
        uint64_t total = ISCSI_BHS_LEN + iscsi_pdu_wire_tail_len(&pdu.hdr, hd, dd);
        if (avail < total)
            return;
        uint8_t *p = evbuffer_pullup(in, (ssize_t)total);
        if (!p) {
            conn_close(c, "out of memory");
            return;
        }
        pdu.ahs = p + ISCSI_BHS_LEN;
        pdu.ahs_len = 4u * pdu.hdr.total_ahs_len;
        pdu.data = pdu.ahs + pdu.ahs_len + (hd ? ISCSI_DIGEST_LEN : 0);
        if (!conn_check_digests(c, p, &pdu, hd, dd)) {
            conn_close_after_flush(c, "digest error");
            return;
        }
        enum rx_result r = conn_dispatch(c, &pdu, bhs);
        if (r == RX_STALL) {
            c->rx_stalled = true;       /* conn_resume() retries this PDU */
            return;
        }
        evbuffer_drain(in, total);
        if (r == RX_CLOSE) {
            c->proxy->n.protocol_closes_total++;
            conn_close(c, "protocol error");
            return;
        }
    }
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    event_poll_note_traffic();
    conn_process_input(arg);
}

/* The output drained (the write low watermark is 0). */
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    bufferevent_disable(bev, EV_WRITE);
    output_drained(arg);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (what & BEV_EVENT_EOF)
        conn_close(c, "closed by the initiator");
    else if (what & BEV_EVENT_ERROR)
        conn_close(c, "socket error");
}

static void conn_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    c->rx_stalled = false;
    conn_process_input(c);
}

void conn_resume(struct conn *c)
{
    if (c->state != CONN_CLOSING)
        event_active(c->resume_ev, EV_TIMEOUT, 0);
}

static void conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    struct proxy *p = c->proxy;

    TAILQ_REMOVE(&p->conns, c, link);
    conn_login_teardown(c);
    backend_free(c->backend);   /* in-flight commands come back CANCELLED */
    c->backend = NULL;
    task_free_all(c);
    lun_session_end(c);
    /* The backend session is over: copies it sent can run for at most
     * backend_timeout more. */
    for (; c->copies_blocking; c->copies_blocking--)
        lun_unblock_negatives(p, p->conf->backend_timeout);
    bufferevent_free(c->bev);
    event_free(c->resume_ev);
    event_free(c->flush_ev);
    event_free(c->free_ev);
    event_free(c->order_ev);
    event_free(c->login_ev);
    if (c->nop_ev)
        event_free(c->nop_ev);
    free(c->text_buf);
    free(c);
    proxy_conn_gone(p);
}

void conn_close(struct conn *c, const char *why)
{
    if (c->state == CONN_CLOSING)
        return;
    c->state = CONN_CLOSING;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    conn_info(c, "%s: connection closed (%s)%s%s", c->peer, why,
             c->params.initiator_name[0] ? ", initiator " : "", c->params.initiator_name);
    event_active(c->free_ev, EV_TIMEOUT, 0);
}

void conn_close_after_flush(struct conn *c, const char *why)
{
    static const struct timeval drain_limit = { 5, 0 };

    if (c->state == CONN_CLOSING || c->state == CONN_DRAINING)
        return;
    c->state = CONN_DRAINING;
    c->close_reason = why;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_close(c, why);
        return;
    }
    bufferevent_enable(c->bev, EV_WRITE);
    /* A peer that never reads does not keep the connection alive. */
    event_add(c->free_ev, &drain_limit);
}

struct conn *conn_new(struct proxy *p, evutil_socket_t fd, const char *peer, const char *local,
                      const char *addr)
{
    struct conn *c = calloc(1, sizeof(*c));
    int one = 1;

    if (!c)
        return NULL;
    c->proxy = p;
    c->state = CONN_LOGIN;
    c->nop_ttt = ISCSI_RESERVED_TAG;
    c->next_ttt = 1;
    TAILQ_INIT(&c->tasks);
    TAILQ_INIT(&c->verify_waiters);
    nexus_map_init(&c->luns, CONN_MAX_VERIFIED_LUNS);
    order_gate_init(&c->order);
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    snprintf(c->local, sizeof(c->local), "%s", local);
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->resume_ev = event_new(p->base, -1, 0, conn_resume_cb, c);
    c->flush_ev = event_new(p->base, -1, 0, conn_flush_cb, c);
    c->free_ev = event_new(p->base, -1, 0, conn_free_cb, c);
    c->order_ev = event_new(p->base, -1, 0, task_order_release_cb, c);
    c->login_ev = evtimer_new(p->base, conn_login_timeout_cb, c);
    if (!c->bev || !c->resume_ev || !c->flush_ev || !c->free_ev || !c->order_ev ||
        !c->login_ev) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        if (c->resume_ev)
            event_free(c->resume_ev);
        if (c->flush_ev)
            event_free(c->flush_ev);
        if (c->free_ev)
            event_free(c->free_ev);
        if (c->order_ev)
            event_free(c->order_ev);
        if (c->login_ev)
            event_free(c->login_ev);
        free(c);
        return NULL;
    }
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    /* Input is bounded by one maximal PDU plus what the kernel hands over. */
    bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * conn_max_pdu(c));
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    bufferevent_enable(c->bev, EV_READ);
    conn_login_timer_start(c);
    TAILQ_INSERT_TAIL(&p->conns, c, link);
    p->n.connections_total++;
    conn_info(c, "%s: connection accepted on %s", c->peer, c->local);
    return c;
}

/* ---- NOP-In keepalive (RFC 7143 11.19: TTT != 0xffffffff asks for a NOP-Out) */

static void conn_nop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    const struct conf *cf = c->proxy->conf;

    (void)fd;
    (void)what;
    if (c->nop_ttt != ISCSI_RESERVED_TAG) {
        conn_close(c, "no answer to NOP-In ping");
        return;
    }
    struct iscsi_pdu_hdr h = { .opcode = ISCSI_OP_NOP_IN, .flags = ISCSI_FLAG_FINAL,
                               .itt = ISCSI_RESERVED_TAG };
    c->nop_ttt = c->next_ttt++;
    if (c->next_ttt == ISCSI_RESERVED_TAG)
        c->next_ttt = 1;
    h.u.nop_in.ttt = c->nop_ttt;
    conn_stamp_sn(c, &h, false);
    conn_send(c, &h, NULL, 0, NULL);
    struct timeval tv = { (time_t)cf->nop_timeout, 0 };
    evtimer_add(c->nop_ev, &tv);
}

void conn_keepalive_start(struct conn *c)
{
    const struct conf *cf = c->proxy->conf;

    if (cf->nop_interval == 0)
        return;
    c->nop_ev = evtimer_new(c->proxy->base, conn_nop_cb, c);
    if (c->nop_ev) {
        struct timeval tv = { (time_t)cf->nop_interval, 0 };
        evtimer_add(c->nop_ev, &tv);
    }
}

void conn_keepalive_answered(struct conn *c, uint32_t ttt)
{
    const struct conf *cf = c->proxy->conf;

    if (ttt != c->nop_ttt || !c->nop_ev)
        return;
    c->nop_ttt = ISCSI_RESERVED_TAG;
    struct timeval tv = { (time_t)cf->nop_interval, 0 };
    evtimer_add(c->nop_ev, &tv);
}
