/*
 * Identity per I_T nexus (docs/ARCHITECTURE.md, "Identity per I_T nexus").
 * SANs present a different logical unit as LUN 0 to each host group on one
 * target name, and remap LUN numbers while hosts run; a LUN number means
 * nothing across sessions.  So an allocation cache object is one logical
 * unit, keyed by the backend address the session is connected to, the
 * backend target name and the designator of its Device Identification VPD
 * page (SPC-5 7.7.6), and a session uses one only after its own backend
 * session read that page for the LUN number and the designator named it
 * (nexus_map.h).  REPORTED LUNS DATA HAS CHANGED and INQUIRY DATA HAS
 * CHANGED on the session make it verify again; a new session verifies anew.
 *
 * The address and target name are part of the key because designators are
 * not all unique: tgt derives its designators from the target id and LUN
 * number (or the configured scsi_id), so two tgtd hosts built from one
 * template report the same ones for different logical units, and a false
 * merge would serve one LU's holes as the other's data.  A missed merge
 * only costs speed: objects with the same designator under different keys
 * "may be the same", and a mutation through one makes the others forget
 * their negatives, at send and at completion.  So does a mutation on a LUN
 * number the session has not verified, for every object.
 */
#include "lun.h"

#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "conn.h"
#include "log.h"
#include "server.h"

/* ---- objects by key ------------------------------------------------------ */

struct lun *lun_get(struct proxy *p, const struct conf_target *target, uint32_t number,
                    const struct lu_key *key)
{
    struct lun *l;

    TAILQ_FOREACH(l, &p->luns, link) {
        if (!lu_key_equal(&l->key, key))
            continue;
        switch (lu_coherence_join(&l->coherence, target->coherence)) {
        case LU_JOIN_ADOPT:
            l->target = target;
            l->number = number;
            l->state = LUN_UNPROBED;
            l->why = "not probed yet";
            break;
        case LU_JOIN_FORCE_VERIFY:
            log_info("target %s LUN %u: coherence verify (target %s says so)",
                     l->target->name, l->number, target->name);
            break;
        case LU_JOIN_KEEP:
            break;
        }
        return l;
    }
    return lun_new(p, target, number, key);
}

/* ---- verification on a session ----------------------------------------- */

struct verify {
    struct conn *conn;
    uint32_t lun_no;
    uint32_t gen;
};

static void lun_bind(struct conn *c, struct nexus_lu *e, const uint8_t *buf, size_t len)
{
    struct scsi_devid id;
    struct lu_key key;
    int rc = buf ? scsi_devid_parse(buf, len, &id) : -1;

    if (rc == 1 && lu_key_set(&key, c->backend_addr, c->target->backend_target, &id) < 0)
        rc = 0;
    if (rc != 1) {
        e->state = NEXUS_LU_UNIDENTIFIED;
        conn_info(c, "%s: target %s LUN %u: %s: pass-through on this session", c->peer,
                 c->target->name, e->lun_no, rc == 0 ? "no usable VPD 83h designator"
                 : "no Device Identification VPD page");
        return;
    }
    struct lun *l = lun_get(c->proxy, c->target, e->lun_no, &key);
    if (!l) {
        e->state = NEXUS_LU_UNIDENTIFIED;
        return;
    }
    lun_ref(l);
    e->state = NEXUS_LU_BOUND;
    e->lun = l;
    char text[SCSI_DEVID_TEXT_MAX];
    scsi_devid_text(&id, text, sizeof(text));
    log_debug("%s: target %s LUN %u is %s", c->peer, c->target->name, e->lun_no, text);
    if (l->state == LUN_UNPROBED)
        lun_probe(l, c, e->lun_no);
}

/* The READs waiting for the verification of lun_no go on, unless a newer
 * verification of it is in flight (its answer wakes them). */
static void verify_wake(struct conn *c, uint32_t lun_no)
{
    const struct nexus_lu *e = nexus_map_find(&c->luns, lun_no);
    struct task *t, *next;

    if (e && e->state == NEXUS_LU_VERIFYING)
        return;
    for (t = TAILQ_FIRST(&c->verify_waiters); t; t = next) {
        next = TAILQ_NEXT(t, query_link);
        if (t->lun_no != lun_no)
            continue;
        TAILQ_REMOVE(&c->verify_waiters, t, query_link);
        task_read_verified(t);
    }
}

static void verify_done(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct verify *v = arg;
    struct scsi_task *st = data;
    struct conn *c = v->conn;

    (void)iscsi;
    if (status != SCSI_STATUS_CANCELLED && c->state != CONN_CLOSING) {
        /* A unit attention is kept for the initiator; verify after its next GOOD. */
        bool ua = lun_absorb_unit_attention(NULL, c, v->lun_no, status, st);
        struct nexus_lu *e = nexus_map_answer(&c->luns, v->lun_no, v->gen);
        if (e && ua)
            nexus_map_forget(&c->luns, v->lun_no);
        else if (e)
            lun_bind(c, e, status == SCSI_STATUS_GOOD ? st->datain.data : NULL,
                     st->datain.size > 0 ? (size_t)st->datain.size : 0);
        verify_wake(c, v->lun_no);
    }
    scsi_free_scsi_task(st);
    free(v);
}

void lun_verify(struct conn *c, uint32_t lun_no)
{
    uint8_t cdb[16];

    if (!c->target || !c->backend || nexus_map_find(&c->luns, lun_no))
        return;
    struct verify *v = malloc(sizeof(*v));
    size_t n = scsi_inquiry_vpd_build(cdb, sizeof(cdb), SCSI_VPD_DEVICE_ID,
                                      SCSI_VPD_DEVICE_ID_LEN);
    struct scsi_task *st = v && n ? scsi_create_task((int)n, cdb, SCSI_XFER_READ,
                                                     SCSI_VPD_DEVICE_ID_LEN) : NULL;
    struct nexus_lu *e = st ? nexus_map_begin(&c->luns, lun_no) : NULL;
    if (!e) {
        if (st)
            scsi_free_scsi_task(st);
        free(v);
        return;             /* stays unverified: pass-through */
    }
    *v = (struct verify){ c, lun_no, e->gen };
    if (backend_submit(c->backend, lun_no, st, NULL, verify_done, v) < 0) {
        nexus_map_forget(&c->luns, lun_no);
        scsi_free_scsi_task(st);
        free(v);
    }
}

struct lun *lun_of_session(struct conn *c, uint32_t lun_no)
{
    return nexus_map_lun(&c->luns, lun_no);
}

void lun_unverify(struct conn *c, uint32_t lun_no, bool remapped)
{
    for (size_t i = 0; i < c->luns.n; i++) {
        struct nexus_lu *e = &c->luns.v[i];
        if (e->state != NEXUS_LU_BOUND || (lun_no != LUN_NO_ALL && e->lun_no != lun_no))
            continue;
        /* A GET LBA STATUS sent through the number before the unit
         * attention reached the proxy ran, or will run, on whichever LU the
         * number names at the SAN: the object it was sent for learns no
         * negative from it (found by tests/fuzz/fuzz_lu_model.c). */
        if (remapped)
            lun_forget_negatives(e->lun);
        lun_unref(e->lun);
    }
    if (lun_no == LUN_NO_ALL)
        nexus_map_clear(&c->luns);
    else
        nexus_map_forget(&c->luns, lun_no);
}

void lun_session_end(struct conn *c)
{
    lun_unverify(c, LUN_NO_ALL, false);
    nexus_map_destroy(&c->luns);
}

/* ---- mutations on objects that may be the same LU ----------------------- */

static void cross_invalidate(struct proxy *p, struct lun *l, bool everyone, const char *why)
{
    struct lun *x;

    TAILQ_FOREACH(x, &p->luns, link) {
        if (x == l || !lu_key_mutation_reaches(l ? &l->key : NULL, &x->key, everyone))
            continue;
        lun_forget_negatives(x);        /* quietly: this runs for writes */
        log_debug("target %s LUN %u: negatives forgotten (%s)", x->target->name, x->number, why);
    }
}

bool lun_mutation_sent(struct proxy *p, struct lun *l)
{
    cross_invalidate(p, l, false, l ? "a write to a LUN that may be this one"
                                    : "a write to a LUN number not verified");
    return !l;
}

void lun_mutation_completed(struct proxy *p, struct lun *l, bool everyone)
{
    cross_invalidate(p, l, everyone, everyone
                     ? "a write to a LUN number not verified completed"
                     : "a write to a LUN that may be this one completed");
}
