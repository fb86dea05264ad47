/*
 * Task Management Function Requests (RFC 7143 11.5/11.6) mapped to the
 * backend session: the backend does the work and its answer is the answer;
 * tasks the function ended are then dropped here without a response.
 */
#include <stdlib.h>

#include "backend.h"
#include "conn.h"
#include "log.h"
#include "lun.h"
#include "server.h"
#include "scsi_lun.h"

/* TMF response codes, RFC 7143 11.6.1. */
enum tmf_response {
    TMF_COMPLETE = 0,
    TMF_NO_TASK = 1,
    TMF_NO_LUN = 2,
    TMF_NO_REASSIGN = 3,
    TMF_NOT_SUPPORTED = 5,
    TMF_REJECTED = 255,
};

struct tmf {
    struct conn *conn;
    uint32_t itt;
    unsigned function;
    uint32_t lun;
    uint32_t ref_itt;
};

static void tmf_respond(struct conn *c, uint32_t itt, uint8_t response)
{
    struct iscsi_pdu_hdr r = { .opcode = ISCSI_OP_TMF_RSP, .flags = ISCSI_FLAG_FINAL,
                               .itt = itt };
    r.u.tmf_rsp.response = response;
    conn_stamp_sn(c, &r, true);
    conn_send(c, &r, NULL, 0, NULL);
}

/* Drop, without responses, the tasks a completed function ended. */
static void tmf_end_tasks(struct conn *c, const struct tmf *m)
{
    struct task *t, *next;

    for (t = TAILQ_FIRST(&c->tasks); t; t = next) {
        next = TAILQ_NEXT(t, link);
        if (t->state == TASK_DONE)
            continue;
        bool hit = m->function == ISCSI_TM_ABORT_TASK ? t->itt == m->ref_itt
                 : m->function == ISCSI_TM_TARGET_WARM_RESET || t->lun_no == m->lun;
        /* Its outcome stays unknown: tgt executes WRITEs it was still
         * taking in after its FUNCTION COMPLETE to LUN RESET (see
         * docs/ARCHITECTURE.md, "Mutations the proxy cannot bound"), so a
         * mutation ended here blocks negatives like a timed-out one. */
        if (hit)
            task_abort(t);
    }
}

static void tmf_backend_done(struct iscsi_context *iscsi, int status, void *data, void *priv)
{
    struct tmf *m = priv;
    struct conn *c = m->conn;

    (void)iscsi;
    if (status == SCSI_STATUS_CANCELLED || c->state == CONN_CLOSING) {
        free(m);
        return;
    }
    uint8_t response = TMF_REJECTED;
    if (status == SCSI_STATUS_GOOD && data)
        response = (uint8_t)*(uint32_t *)data;
    conn_info(c, "%s: task management function %u on LUN %u answered %u by the backend", c->peer,
             m->function, m->lun, response);
    if (response == TMF_COMPLETE && m->function != ISCSI_TM_CLEAR_ACA)
        tmf_end_tasks(c, m);
    if (response == TMF_COMPLETE && m->function == ISCSI_TM_TARGET_WARM_RESET)
        lun_invalidate_session(c->proxy, c->target, "target warm reset");
    else if (response == TMF_COMPLETE && m->function == ISCSI_TM_LUN_RESET) {
        struct lun *l = lun_of_session(c, m->lun);
        if (l && l->map)
            lun_invalidate(l, "LUN reset", false);
    }
    tmf_respond(c, m->itt, response);
    free(m);
}

enum rx_result task_mgmt_request(struct conn *c, const struct rx_pdu *pdu)
{
    const struct iscsi_pdu_hdr *h = &pdu->hdr;
    unsigned fn = iscsi_hdr_function(h);
    struct task *ref = NULL;

    if (c->params.discovery) {
        conn_warn(c, "%s: Task Management Request in a discovery session", c->peer);
        return RX_CLOSE;
    }
    switch (fn) {
    case ISCSI_TM_ABORT_TASK:
        ref = task_find(c, h->u.tmf_req.ref_task_tag);
        if (!ref) {
            tmf_respond(c, h->itt, TMF_NO_TASK);
            return RX_DONE;
        }
        if (ref->state == TASK_WAIT_DATA || ref->state == TASK_HELD ||
            ref->read_state == READ_WAIT_VERIFY || ref->read_state == READ_WAIT_PROBE ||
            ref->read_state == READ_WAIT_QUERY) {
            /* nothing of it at the backend */
            task_abort(ref);
            tmf_respond(c, h->itt, TMF_COMPLETE);
            return RX_DONE;
        }
        if (ref->read_state != READ_NOT_PLANNED) {
            /* Its READ(16) parts finish on their own; nothing is sent for it. */
            task_read_set_state(ref, READ_PARTS_ABORTED);
            tmf_respond(c, h->itt, TMF_COMPLETE);
            return RX_DONE;
        }
        break;
    case ISCSI_TM_ABORT_TASK_SET:
    case ISCSI_TM_CLEAR_ACA:
    case ISCSI_TM_CLEAR_TASK_SET:
    case ISCSI_TM_LUN_RESET:
    case ISCSI_TM_TARGET_WARM_RESET:
        break;
    case ISCSI_TM_TASK_REASSIGN:
        /* ErrorRecoveryLevel 0 has no allegiance reassignment (11.6.1). */
        tmf_respond(c, h->itt, TMF_NO_REASSIGN);
        return RX_DONE;
    case ISCSI_TM_TARGET_COLD_RESET:
    case 9: case 10: case 11: case 12:      /* QUERY TASK ... QUERY ASYNC EVENT */
        tmf_respond(c, h->itt, TMF_NOT_SUPPORTED);
        return RX_DONE;
    default:
        tmf_respond(c, h->itt, TMF_REJECTED);
        return RX_DONE;
    }

    struct tmf *m = calloc(1, sizeof(*m));
    uint32_t lun = 0;
    if (!m)
        return RX_CLOSE;
    /* A LUN form libiscsi cannot address does not exist behind the proxy. */
    if (scsi_lun_decode(h->lun, &lun) < 0 && fn != ISCSI_TM_TARGET_WARM_RESET) {
        free(m);
        tmf_respond(c, h->itt, TMF_NO_LUN);
        return RX_DONE;
    }
    m->conn = c;
    m->itt = h->itt;
    m->function = fn;
    m->lun = ref ? ref->lun_no : lun;
    m->ref_itt = h->u.tmf_req.ref_task_tag;
    if (backend_tmf(c->backend, m->lun, (enum iscsi_task_mgmt_funcs)fn, ref ? ref->stask : NULL,
                    tmf_backend_done, m) < 0) {
        free(m);
        tmf_respond(c, h->itt, TMF_REJECTED);
    }
    return RX_DONE;
}
