/*
 * What the allocation cache sees of every SCSI command (docs/ARCHITECTURE.md,
 * "A WRITE (and every other mutation)", "The race rule"): mutations through
 * the pure cache_mutation.c, on the object of a verified LUN number, and on
 * every object that may be the same LU (lun_identity.c); unknown outcomes
 * and copies block negatives everywhere (lun_guard.c, task_copy.c); unit
 * attentions (lun.c); the initiator's own GET LBA STATUS answers fill the
 * cache under the race rule.
 */
#include "cache_mutation.h"
#include "conn.h"
#include "log.h"
#include "lun.h"
#include "server.h"

#define OP_SERVICE_ACTION_IN_16 0x9e
#define SA_GET_LBA_STATUS       0x12

/* The command's Data-Out (UNMAP's parameter list). */
static const uint8_t *task_param(const struct task *t)
{
    return t->write && t->buf ? t->buf->data : NULL;
}

static size_t task_param_len(const struct task *t)
{
    return t->write && t->buf ? t->edtl : 0;
}

static bool is_get_lba_status(const struct scsi_cdb_info *ci)
{
    return ci->opcode == OP_SERVICE_ACTION_IN_16 && ci->has_sa &&
           ci->service_action == SA_GET_LBA_STATUS;
}

/* The backend sent all EDTL bytes of a READ into its buffer. */
static bool read_data_whole(const struct task *t)
{
    const struct scsi_task *st = t->stask;

    return (st->residual_status == SCSI_RESIDUAL_NO_RESIDUAL || st->residual == 0) &&
           st->datain.data == NULL;
}

void task_cache_classify(struct task *t)
{
    struct conn *c = t->conn;

    /* On a decode failure the info is fail-safe: a whole-LUN mutation. */
    scsi_cdb_decode(t->cdb, sizeof(t->cdb), &t->ci);
    /* Only a LUN number this session verified names an object. */
    t->lun = c->target ? lun_of_session(c, t->lun_no) : NULL;
    if (t->lun)
        lun_ref(t->lun);
}

void task_cache_before_send(struct task *t)
{
    struct lun *l = t->lun;
    struct proxy *p = t->conn->proxy;

    if (!t->conn->target)
        return;
    task_reservation_sent(t);
    if (t->ci.cls == SCSI_CLASS_MUTATE) {
        /* Other objects may be this LU under another key, and a LUN number
         * not verified may be any LU (lun_identity.c). */
        t->mut_cross = true;
        t->mut_unidentified = lun_mutation_sent(p, l);
    }
    task_copy_sent(t);
    if (!l)
        return;
    if (is_get_lba_status(&t->ci)) {
        /* A unit attention since it arrived may have unbound its number,
         * which may name another LU now (lun_unverify): then its answer
         * teaches l nothing. */
        t->gls_since = mutlog_now(&l->log);
        t->sent_bound = lun_of_session(t->conn, t->lun_no) == l;
        return;
    }
    if (t->ci.cls == SCSI_CLASS_READ) {
        t->learn_since = mutlog_now(&l->log);   /* zeros learned from its data */
        t->learn_facts_gen = l->facts_gen;
        t->sent_bound = lun_of_session(t->conn, t->lun_no) == l;
        return;
    }
    /* Zeros a WRITE leaves teach the map only with the facts and binding
     * of now (zero_write.c). */
    t->learn_facts_gen = l->facts_gen;
    t->sent_bound = lun_of_session(t->conn, t->lun_no) == l;
    /* Every mutation is logged, whatever the LUN's state: a reload or a
     * re-probe may start zero-serving while it is in flight. */
    enum cache_mutation_kind k = cache_mutation_begin(l->map, &l->log, l->n_blocks, &t->ci,
                                                      task_param(t), task_param_len(t), &t->mut);
    if (k == CACHE_MUT_NONE)
        return;
    if (k == CACHE_MUT_WHOLE_LUN && l->map) {
        l->n.invalidations++;
        conn_info(t->conn, "%s: target %s LUN %u: allocation cache invalidated (%s)",
                  t->conn->peer, l->target->name, l->number, t->ci.name);
    }
    t->mut_active = true;
    l->n.mutations++;
}

void task_mutation_end(struct task *t)
{
    struct proxy *p = t->conn->proxy;

    if ((t->mut_active || t->mut_cross) && !t->outcome_known) {
        /* Timed out, or cancelled with the session: the SAN may still
         * execute it.  No object learns negatives until the backend
         * session is surely over (backend_timeout from now). */
        conn_info(t->conn, "%s: %s (ITT 0x%08x) ended with its outcome unknown", t->conn->peer,
                 t->ci.name, t->itt);
        lun_block_negatives(p, "a mutation of unknown outcome");
        lun_unblock_negatives(p, p->conf->backend_timeout);
    }
    if (t->mut_active) {
        mutlog_end(&t->lun->log, &t->mut);
        t->mut_active = false;
    }
    if (t->mut_cross) {
        lun_mutation_completed(p, t->lun, t->mut_unidentified);
        t->mut_cross = false;
    }
}

void task_cache_release(struct task *t)
{
    task_mutation_end(t);
    if (t->lun)
        lun_unref(t->lun);
    t->lun = NULL;
}

void task_cache_completed(struct task *t, int status)
{
    struct lun *l = t->lun;

    t->outcome_known = true;
    if (!t->conn->target)
        return;
    task_reservation_completed(t, status);
    lun_note_status(l, t->conn, t->lun_no, status, t->stask);
    task_copy_completed(t, status);
    /* The identity and facts are asked once the initiator's own first
     * command to the LUN has succeeded: the SAN has that LU for this nexus,
     * and a unit attention pending for the new I_T nexus has gone to the
     * initiator, not to the proxy's own command. */
    if (status == SCSI_STATUS_GOOD && !l)
        lun_verify(t->conn, t->lun_no);
    if (!l)
        return;
    if (status == SCSI_STATUS_GOOD && l->state == LUN_UNPROBED)
        lun_probe(l, t->conn, t->lun_no);
    if (status == SCSI_STATUS_GOOD && l->map) {
        if (t->mut_active) {
            cache_mutation_succeeded(l->map, l->n_blocks, &t->ci, task_param(t),
                                     task_param_len(t), &t->mut);
            /* before task_mutation_end: its own entry is still in flight */
            lun_learn_written_zeros(l, &t->ci, t->cdb, &t->mut, t->learn_facts_gen,
                                    t->sent_bound, task_param(t), task_param_len(t));
        }
        if (t->ci.cls == SCSI_CLASS_READ && t->ci.has_lba && t->buf && t->sent_bound &&
            read_data_whole(t) && (uint64_t)t->ci.nblocks * l->block_size == t->edtl)
            lun_learn_zeros(l, t->learn_since, t->learn_facts_gen, t->ci.lba, t->ci.nblocks,
                            t->buf->data);
        if (is_get_lba_status(&t->ci) && t->ci.has_lba && t->buf && t->sent_bound) {
            struct scsi_task *st = t->stask;
            uint32_t got = t->edtl;
            if (st->residual_status == SCSI_RESIDUAL_UNDERFLOW)
                got = st->residual < t->edtl ? t->edtl - (uint32_t)st->residual : 0;
            lun_apply_lba_status(l, t->gls_since, t->buf->data, got, t->ci.lba, NULL, 0);
        }
    }
    task_mutation_end(t);
}
