/*
 * A backend session's commands (backend.h): submitted, abandoned, task
 * management held until libiscsi may take it, NOP-Out pings, Logout, and
 * what their answers tell health.c.  A cancellation is always libiscsi
 * ending the session (docs/ARCHITECTURE.md, "Task management").
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"
#include "backend_session.h"
#include "clock.h"

void backend_cmd_free(struct backend_cmd *bc)
{
    if (bc->next)
        bc->next->pprev = bc->pprev;
    else
        bc->b->cmds_tail = bc->pprev;
    *bc->pprev = bc->next;
    if (bc->abandoned) {
        scsi_free_scsi_task(bc->task);
        iobuf_unref(bc->held);
    }
    free(bc);
}

static void note_sent(struct backend *b)
{
    if (b->in_flight++ == 0)
        b->quiet_since_us = clock_now_us();
}

/* libiscsi ended the session inside a callback: its error says why. */
static void note_lost(struct backend *b)
{
    snprintf(b->lost_why, sizeof(b->lost_why), "session ended by libiscsi: %s",
             iscsi_get_error(b->iscsi));
    b->lost = b->lost_why;
}

/* A SCSI status, or a TMF or NOP-In answer, came back; cancellations,
 * timeouts and errors of libiscsi's own are no answer.  A cancellation
 * outside backend_free is libiscsi ending the session (backend.h). */
static void note_done(struct backend *b, int status)
{
    if (b->in_flight)
        b->in_flight--;
    if (status >= 0 && status < 0x100)
        b->quiet_since_us = clock_now_us();
    if (status == SCSI_STATUS_CANCELLED && !b->failed && !b->lost)
        note_lost(b);
}

static void backend_cmd_cb(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct backend_cmd *bc = arg;
    struct backend *b = bc->b;

    if (!bc->abandoned) {
        note_done(b, status);
        bc->cb(iscsi, status, data, bc->priv);
    } else if (status == SCSI_STATUS_CANCELLED && !b->failed && !b->lost) {
        note_lost(b);
    }
    /* Its queued Data-Out PDUs would read the task the owner just freed:
     * nothing more is sent on this session. */
    if (status == SCSI_STATUS_TIMEOUT && bc->data_out && !bc->abandoned && !b->lost)
        b->lost = "a command with data timed out";
    backend_cmd_free(bc);
}

static struct backend_cmd *cmd_new(struct backend *b, struct scsi_task *task, bool data_out,
                                   iscsi_command_cb cb, void *priv)
{
    struct backend_cmd *bc = malloc(sizeof(*bc));

    if (!bc)
        return NULL;
    *bc = (struct backend_cmd){ .b = b, .cb = cb, .priv = priv, .task = task,
                                .data_out = data_out, .pprev = b->cmds_tail };
    *b->cmds_tail = bc;
    b->cmds_tail = &bc->next;
    return bc;
}

uint64_t backend_waiting_us(const struct backend *b, uint64_t now_us)
{
    return b->in_flight && now_us > b->quiet_since_us ? now_us - b->quiet_since_us : 0;
}

int backend_submit(struct backend *b, uint32_t lun, struct scsi_task *task,
                   struct iscsi_data *data, iscsi_command_cb cb, void *priv)
{
    struct backend_cmd *bc;

    if (!backend_usable(b) || !(bc = cmd_new(b, task, data != NULL, cb, priv)))
        return -1;
    if (iscsi_scsi_command_async(b->iscsi, (int)lun, task, backend_cmd_cb, data, bc) != 0) {
        backend_cmd_free(bc);
        return -1;
    }
    note_sent(b);
    zero_probe_note_send(&b->sent, lun, clock_now_us());
    backend_kick(b);
    return 0;
}

const struct zero_probe *backend_sent(const struct backend *b)
{
    return &b->sent;
}

/* libiscsi 1.19 queues an immediate PDU in front of its output queue with
 * the CmdSN of the PDU at the head; when that is a Data-Out (the CmdSN of
 * its WRITE, long acknowledged), the TMF is "below ExpCmdSN" and libiscsi
 * ends the session itself.  So a TMF is handed over only while libiscsi has
 * nothing to write (no POLLOUT: its queue is empty, or holds commands the
 * CmdSN window keeps back); the Data-Out PDUs before it go out first, which
 * is also the order they were asked for. */
void backend_send_tmfs(struct backend *b)
{
    if (!b->tmfs_pending || !backend_usable(b) || (iscsi_which_events(b->iscsi) & POLLOUT))
        return;
    for (struct backend_cmd *bc = b->cmds; bc && b->tmfs_pending; bc = bc->next) {
        if (!bc->tmf_pending)
            continue;
        bc->tmf_pending = false;
        b->tmfs_pending--;
        if (iscsi_task_mgmt_async(b->iscsi, bc->tmf_lun, bc->tmf_fn, bc->tmf_ritt,
                                  bc->tmf_rcmdsn, backend_cmd_cb, bc) != 0 && !b->lost) {
            snprintf(b->lost_why, sizeof(b->lost_why), "cannot queue a task management "
                     "request: %s", iscsi_get_error(b->iscsi));
            b->lost = b->lost_why;      /* failed from the loop: bc comes back CANCELLED */
            event_active(b->flush_ev, 0, 0);
            return;
        }
    }
}

int backend_tmf(struct backend *b, uint32_t lun, enum iscsi_task_mgmt_funcs fn,
                struct scsi_task *ref_task, iscsi_command_cb cb, void *priv)
{
    struct backend_cmd *bc;

    if (!backend_usable(b) || !(bc = cmd_new(b, NULL, false, cb, priv)))
        return -1;
    bc->tmf_pending = true;
    b->tmfs_pending++;
    bc->tmf_fn = fn;
    /* RFC 7143 11.5: ABORT TASK names the task by ITT and CmdSN, kept
     * here, since the task may be gone by the time the request is sent. */
    bc->tmf_lun = (int)(fn == ISCSI_TM_ABORT_TASK ? ref_task->lun : lun);
    bc->tmf_ritt = fn == ISCSI_TM_ABORT_TASK ? ref_task->itt : 0xffffffff;
    bc->tmf_rcmdsn = fn == ISCSI_TM_ABORT_TASK ? ref_task->cmdsn : 0;
    note_sent(b);
    backend_send_tmfs(b);
    backend_kick(b);
    return 0;
}

void backend_abandon(struct backend *b, struct scsi_task *task, struct iobuf *data)
{
    struct backend_cmd *bc = b->cmds;

    while (bc && bc->task != task)
        bc = bc->next;
    if (!bc || bc->abandoned) {         /* not outstanding: nothing holds it */
        scsi_free_scsi_task(task);
        return;
    }
    bc->abandoned = true;
    bc->held = data ? iobuf_ref(data) : NULL;
    /* The SAN may never answer it (a reset ended it): no longer waited for. */
    if (b->in_flight)
        b->in_flight--;
}

static void ping_cb(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct backend *b = arg;

    (void)iscsi;
    (void)data;
    note_done(b, status);
    b->ping_out = false;
    if (status == SCSI_STATUS_GOOD)
        b->ping_latency_us = clock_now_us() - b->ping_sent_us;
}

void backend_ping(struct backend *b)
{
    if (!backend_usable(b) || b->ping_out)
        return;
    if (iscsi_nop_out_async(b->iscsi, ping_cb, NULL, 0, b) != 0)
        return;
    b->ping_out = true;
    b->ping_sent_us = clock_now_us();
    note_sent(b);
    backend_kick(b);
}

uint64_t backend_ping_latency_us(const struct backend *b)
{
    return b->ping_latency_us;
}

static void logout_cb(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    (void)iscsi;
    (void)status;
    (void)data;
    (void)arg;
}

void backend_logout(struct backend *b)
{
    if (!backend_usable(b))
        return;
    if (iscsi_logout_async(b->iscsi, logout_cb, NULL) == 0)
        backend_kick(b);
}
