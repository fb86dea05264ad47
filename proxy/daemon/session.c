/*
 * Full Feature Phase of a session (RFC 7143 sections 4.2, 11): the CmdSN
 * window, and the PDUs that are not SCSI data (NOP-Out, Text, Logout,
 * SNACK).  SCSI Command and Data-Out go to task.c, Task Management to
 * task_mgmt.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>

#include "conn.h"
#include "iscsi_discovery.h"
#include "log.h"
#include "server.h"

#define TEXT_REQUEST_MAX (64 * 1024)    /* bound on a C-bit Text Request */

static uint32_t cmdsn_of(const struct iscsi_pdu_hdr *h)
{
    switch (h->opcode) {
    case ISCSI_OP_SCSI_CMD:   return h->u.scsi_cmd.cmdsn;
    case ISCSI_OP_NOP_OUT:    return h->u.nop_out.cmdsn;
    case ISCSI_OP_TMF_REQ:    return h->u.tmf_req.cmdsn;
    case ISCSI_OP_TEXT_REQ:   return h->u.text_req.cmdsn;
    case ISCSI_OP_LOGOUT_REQ: return h->u.logout_req.cmdsn;
    default:                  return 0;
    }
}

/* NOP-Out (RFC 7143 11.18): a ping to answer, or the answer to ours. */
static enum rx_result session_nop_out(struct conn *c, const struct rx_pdu *pdu)
{
    const struct iscsi_pdu_hdr *h = &pdu->hdr;

    if (h->itt == ISCSI_RESERVED_TAG) {
        if (h->u.nop_out.ttt != ISCSI_RESERVED_TAG)
            conn_keepalive_answered(c, h->u.nop_out.ttt);
        return RX_DONE;
    }
    struct iscsi_pdu_hdr r = { .opcode = ISCSI_OP_NOP_IN, .flags = ISCSI_FLAG_FINAL,
                               .lun = h->lun, .itt = h->itt };
    r.u.nop_in.ttt = ISCSI_RESERVED_TAG;
    uint32_t len = h->data_len;
    if (len > c->params.initiator_mrdsl)
        len = c->params.initiator_mrdsl;    /* ping data is echoed, within its limit */
    conn_stamp_sn(c, &r, true);
    conn_send(c, &r, pdu->data, len, NULL);
    return RX_DONE;
}

/* Our portals as SendTargets reports them; a wildcard listen address is
 * replaced by the address this connection reached us on. */
static size_t session_portals(struct conn *c, struct iscsi_portal *out, size_t cap)
{
    const struct proxy *p = c->proxy;
    size_t n = 0;

    for (size_t i = 0; i < p->n_portals && n < cap; i++) {
        const struct conf_addr *a = &p->conf->listen[i];
        bool wildcard = !strcmp(a->host, "*") || !strcmp(a->host, "0.0.0.0") ||
                        !strcmp(a->host, "::");
        out[n].address = wildcard ? c->local : p->portal_text[i];
        out[n].tpgt = 1;
        n++;
    }
    return n;
}

/* Text Request (RFC 7143 11.10): keys in Full Feature Phase, SendTargets. */

/* SendTargets lists only the targets this initiator may log in to from
 * this address (NULL-terminated; NULL on OOM). */
static const char **visible_targets(const struct conn *c)
{
    const struct conf *cf = c->proxy->conf;
    const char **names = calloc(cf->n_targets + 1, sizeof(*names));
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    size_t n = 0;

    if (!names)
        return NULL;
    bool have_addr = getpeername(bufferevent_getfd(c->bev), (struct sockaddr *)&ss, &len) == 0;
    for (size_t i = 0; have_addr && i < cf->n_targets; i++) {
        const struct conf_target *t = &cf->targets[i];
        if (conf_target_admits_address(t, (struct sockaddr *)&ss) &&
            conf_target_admits_initiator(t, c->params.initiator_name))
            names[n++] = t->name;
    }
    return names;
}

static enum rx_result session_text(struct conn *c, const struct rx_pdu *pdu, const uint8_t *bhs)
{
    const struct iscsi_pdu_hdr *h = &pdu->hdr;
    struct iscsi_pdu_hdr r = { .opcode = ISCSI_OP_TEXT_RSP, .lun = h->lun, .itt = h->itt };

    if (c->text_len + h->data_len > TEXT_REQUEST_MAX) {
        conn_reject(c, pdu, bhs, ISCSI_REJECT_OUT_OF_RESOURCES, "Text Request too long");
        free(c->text_buf);
        c->text_buf = NULL;
        c->text_len = 0;
        return RX_DONE;
    }
    if (h->data_len) {
        uint8_t *grown = realloc(c->text_buf, c->text_len + h->data_len);
        if (!grown)
            return RX_CLOSE;
        memcpy(grown + c->text_len, pdu->data, h->data_len);
        c->text_buf = grown;
        c->text_len += h->data_len;
    }
    if (h->flags & ISCSI_FLAG_TEXT_CONT) {
        /* More text follows: an empty response asks for it (RFC 7143 11.11.2). */
        r.u.text_rsp.ttt = c->next_ttt++;
        conn_stamp_sn(c, &r, true);
        conn_send(c, &r, NULL, 0, NULL);
        return RX_DONE;
    }

    struct iscsi_portal portals[16];
    const char *session_target = c->target ? c->target->name : "";
    const char **names = visible_targets(c);
    struct iscsi_discovery_ctx ctx = {
        .targets = names,
        .n_targets = 0,
        .portals = portals,
        .n_portals = session_portals(c, portals, 16),
        .discovery_session = c->params.discovery,
        .session_target = session_target,
    };
    while (names && names[ctx.n_targets])
        ctx.n_targets++;
    uint32_t cap = c->params.initiator_mrdsl < 65536 ? c->params.initiator_mrdsl : 65536;
    uint8_t *answer = names ? malloc(cap) : NULL;
    size_t answer_len = 0;
    int rc = answer ? iscsi_text_answer(&ctx, c->text_buf, c->text_len, answer, cap,
                                        &answer_len) : -1;
    free(names);
    free(c->text_buf);
    c->text_buf = NULL;
    c->text_len = 0;
    if (rc < 0) {
        free(answer);
        conn_reject(c, pdu, bhs, ISCSI_REJECT_INVALID_PDU_FIELD, "malformed Text Request");
        return RX_DONE;
    }
    r.flags = ISCSI_FLAG_FINAL;
    r.u.text_rsp.ttt = ISCSI_RESERVED_TAG;
    conn_stamp_sn(c, &r, true);
    conn_send(c, &r, answer, (uint32_t)answer_len, NULL);
    free(answer);
    return RX_DONE;
}

/* Logout (RFC 7143 11.14/11.15).  One connection per session, ERL 0: closing
 * the session and closing the connection are the same; recovery is not
 * supported. */
static enum rx_result session_logout(struct conn *c, const struct rx_pdu *pdu)
{
    const struct iscsi_pdu_hdr *h = &pdu->hdr;
    unsigned reason = iscsi_hdr_function(h);
    struct iscsi_pdu_hdr r = { .opcode = ISCSI_OP_LOGOUT_RSP, .flags = ISCSI_FLAG_FINAL,
                               .itt = h->itt };

    r.u.logout_rsp.response = reason == 2 ? 2 : 0;  /* 2: connection recovery not supported */
    conn_stamp_sn(c, &r, true);
    conn_send(c, &r, NULL, 0, NULL);
    if (reason == 2)
        return RX_DONE;
    conn_info(c, "%s: logout (reason %u), initiator %s", c->peer, reason, c->params.initiator_name);
    conn_close_after_flush(c, "logged out");
    return RX_DONE;
}

/* RFC 7143 11.9.1, AsyncEvent 1: the target requests a Logout; Parameter3 is
 * the time the initiator has before the target drops the connection. */
void session_request_logout(struct conn *c, unsigned seconds)
{
    struct iscsi_pdu_hdr a = { .opcode = ISCSI_OP_ASYNC_MSG, .flags = ISCSI_FLAG_FINAL,
                               .itt = ISCSI_RESERVED_TAG };

    a.u.async_msg.event = 1;
    a.u.async_msg.param3 = (uint16_t)(seconds > 0xffff ? 0xffff : seconds);
    conn_stamp_sn(c, &a, true);
    conn_send(c, &a, NULL, 0, NULL);
}

enum rx_result session_pdu(struct conn *c, const struct rx_pdu *pdu, const uint8_t *bhs)
{
    const struct iscsi_pdu_hdr *h = &pdu->hdr;

    switch (h->opcode) {
    case ISCSI_OP_DATA_OUT:
        return task_data_out(c, pdu);
    case ISCSI_OP_SNACK_REQ:
        /* SNACK needs ErrorRecoveryLevel > 0 (RFC 7143 11.16). */
        conn_reject(c, pdu, bhs, ISCSI_REJECT_PROTOCOL_ERROR, "SNACK at ErrorRecoveryLevel 0");
        return RX_DONE;
    case ISCSI_OP_LOGIN_REQ:
        conn_reject(c, pdu, bhs, ISCSI_REJECT_PROTOCOL_ERROR, "Login Request in Full Feature Phase");
        return RX_DONE;
    case ISCSI_OP_SCSI_CMD:
    case ISCSI_OP_NOP_OUT:
    case ISCSI_OP_TMF_REQ:
    case ISCSI_OP_TEXT_REQ:
    case ISCSI_OP_LOGOUT_REQ:
        break;
    default:
        conn_reject(c, pdu, bhs, ISCSI_REJECT_CMD_NOT_SUPPORTED, "opcode");
        return RX_DONE;
    }

    /* RFC 7143 4.2.2.1: a non-immediate command outside [ExpCmdSN, MaxCmdSN]
     * is silently ignored. */
    uint32_t cmdsn = cmdsn_of(h);
    if (!h->immediate) {
        if (iscsi_sn_lt(cmdsn, c->exp_cmdsn) || iscsi_sn_gt(cmdsn, c->max_cmdsn)) {
            log_debug("%s: %s CmdSN %u outside window [%u, %u], ignored", c->peer,
                      iscsi_opcode_name(h->opcode), cmdsn, c->exp_cmdsn, c->max_cmdsn);
            return RX_DONE;
        }
    }

    /* The command uses up its CmdSN before any reply is stamped; a command
     * that must wait for memory gives it back and is handled again later. */
    uint32_t exp_before = c->exp_cmdsn;
    if (!h->immediate)
        c->exp_cmdsn = cmdsn + 1;
    enum rx_result r;
    switch (h->opcode) {
    case ISCSI_OP_SCSI_CMD:   r = task_scsi_command(c, pdu); break;
    case ISCSI_OP_NOP_OUT:    r = session_nop_out(c, pdu); break;
    case ISCSI_OP_TMF_REQ:    r = task_mgmt_request(c, pdu); break;
    case ISCSI_OP_TEXT_REQ:   r = session_text(c, pdu, bhs); break;
    default:                  r = session_logout(c, pdu); break;
    }
    if (r == RX_STALL)
        c->exp_cmdsn = exp_before;
    return r;
}
