/*
 * Copy offload and the allocation cache (issue 9, case 2; docs/ARCHITECTURE.md,
 * "Mutations the proxy cannot bound").  EXTENDED COPY and WRITE USING TOKEN
 * name their destination in the parameter data, which may be any LU of the
 * SAN, under any target name: every THIRD-PARTY COPY OUT command blocks
 * negatives everywhere (lun_guard.c) from before it is sent.  The block ends
 * when its status says the copy is over; a copy that goes on after its
 * status (IMMED) keeps it until a copy status answer seen through the proxy
 * says that operation ended (scsi_copy.c), or until the session that sent it
 * is gone (conn.c, after backend_timeout more).
 */
#include <string.h>

#include "conn.h"
#include "log.h"
#include "lun.h"
#include "scsi_copy.h"
#include "server.h"

void task_copy_sent(struct task *t)
{
    struct conn *c = t->conn;

    if (t->ci.opcode != SCSI_OP_TPC_OUT)
        return;
    /* Unparsable parameter data reads as "may run after its status". */
    scsi_copy_classify(t->cdb, sizeof(t->cdb), t->buf ? t->buf->data : NULL,
                       t->buf ? t->edtl : 0, &t->copy);
    lun_block_negatives(c->proxy, t->ci.name);
    c->copies_blocking++;
    t->copy_blocking = true;
}

/* One block of c's ends now. */
static void copy_over(struct conn *c)
{
    c->copies_blocking--;
    lun_unblock_negatives(c->proxy, 0);
}

/* A copy c sent, known by its list identifier, has ended. */
static void running_copy_ended(struct conn *c, bool lid4, uint32_t list_id)
{
    for (unsigned i = 0; i < c->n_running_copies; i++) {
        struct running_copy *r = &c->running_copies[i];
        if (r->lid4 != lid4 || r->list_id != list_id)
            continue;
        *r = c->running_copies[--c->n_running_copies];
        copy_over(c);
        return;
    }
}

static void copy_status_seen(struct task *t)
{
    struct scsi_copy_status cs;
    uint32_t got = t->edtl;

    if (t->stask->residual_status == SCSI_RESIDUAL_UNDERFLOW)
        got = (uint32_t)t->stask->residual < t->edtl ? t->edtl - (uint32_t)t->stask->residual : 0;
    if (t->buf && scsi_copy_status_parse(t->cdb, sizeof(t->cdb), t->buf->data, got, &cs) == 0 &&
        cs.ended)
        running_copy_ended(t->conn, cs.lid4, cs.list_id);
}

void task_copy_completed(struct task *t, int status)
{
    struct conn *c = t->conn;

    if (status == SCSI_STATUS_GOOD && t->ci.opcode == SCSI_OP_TPC_IN) {
        copy_status_seen(t);
        return;
    }
    if (!t->copy_blocking)
        return;
    t->copy_blocking = false;
    if (status == SCSI_STATUS_GOOD && t->copy.aborts)
        running_copy_ended(c, t->copy.lid4, t->copy.list_id);
    if (status != SCSI_STATUS_GOOD || !t->copy.may_run_after_status) {
        copy_over(c);           /* the status ends it: it never ran, or it is done */
        return;
    }
    if (t->copy.has_list_id && c->n_running_copies < CONN_MAX_RUNNING_COPIES) {
        c->running_copies[c->n_running_copies++] =
            (struct running_copy){ t->copy.list_id, t->copy.lid4 };
        return;
    }
    conn_info(c, "%s: %s with IMMED and no list identifier to ask about: allocation caches "
             "learn no holes until the session ends", c->peer, t->ci.name);
}
