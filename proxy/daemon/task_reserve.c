/*
 * Reservations seen in the commands a session sends (scsi_reservation.h):
 * while one that blocks READs of other nexuses may be held on the logical
 * unit, its READs are not answered from the cache (task_read_plannable), so
 * an initiator without the reservation gets the SAN's RESERVATION CONFLICT.
 */
#include "conn.h"
#include "log.h"
#include "lun.h"
#include "server.h"

static void resv_apply_to(struct task *t, struct lun *l, enum scsi_resv_effect e)
{
    bool was = l->resv.may_be_held;

    scsi_resv_apply(&l->resv, e, t->resv_sets);
    if (was != l->resv.may_be_held)
        log_info("LUN %u: %s (%s, %s)", l->number,
                 was ? "no READ-blocking reservation known held: zeros may be served again"
                     : "a READ-blocking reservation may be held: READs go to the SAN",
                 t->conn->peer, t->ci.name);
}

/* On a LUN number the session has not verified the LU is unknown: a
 * reservation may then be held on any LU of that backend target, and no
 * clear can be trusted. */
static void resv_apply(struct task *t, enum scsi_resv_effect e)
{
    struct lun *l;

    if (t->lun) {
        resv_apply_to(t, t->lun, e);
        return;
    }
    if (e != SCSI_RESV_SET)
        return;
    TAILQ_FOREACH(l, &t->conn->proxy->luns, link) {
        if (conf_same_backend(l->target, t->conn->target))
            resv_apply_to(t, l, e);
    }
}

void task_reservation_sent(struct task *t)
{
    t->resv_sets = t->lun ? t->lun->resv.sets : 0;
    resv_apply(t, scsi_resv_on_send(t->cdb, sizeof(t->cdb)));
}

void task_reservation_completed(struct task *t, int status)
{
    const struct scsi_task *st = t->stask;
    const uint8_t *data = NULL;
    size_t got = 0;

    if (t->read && t->buf && st) {
        got = t->edtl;
        if (st->residual_status == SCSI_RESIDUAL_UNDERFLOW)
            got = st->residual < t->edtl ? t->edtl - (uint32_t)st->residual : 0;
        data = t->buf->data;
    }
    resv_apply(t, scsi_resv_on_done(t->cdb, sizeof(t->cdb), status, data, got));
}
