/*
 * Logical unit objects: creation, references and reclaim under
 * cache_memory_limit, the probe of their facts (READ CAPACITY(16), Block
 * Limits VPD, Logical Block Provisioning VPD) with the decision in the pure
 * lu_policy.c, unit attentions, invalidation (docs/ARCHITECTURE.md, "The
 * allocation cache").  Identity per session: lun_identity.c.
 */
#include "lun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "lu_policy.h"
#include "conn.h"
#include "log.h"
#include "scsi_sense.h"
#include "server.h"

#define MUTLOG_HISTORY       1024        /* completed mutations remembered */
#define PROBE_MAX_RETRIES    3

const uint64_t lun_latency_bounds_us[LUN_LATENCY_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000, 10000000,
};

void lun_observe_latency(struct lun *l, uint64_t us)
{
    size_t i = 0;
    while (i < LUN_LATENCY_BUCKETS && us > lun_latency_bounds_us[i])
        i++;
    l->latency.bucket[i]++;
    l->latency.count++;
    l->latency.sum_us += us;
}

static bool lun_is_of(const struct lun *l, const struct conf_target *target)
{
    return conf_same_backend(l->target, target);
}

struct lun *lun_new(struct proxy *p, const struct conf_target *target, uint32_t number,
                    const struct lu_key *key)
{
    lun_reclaim(p);
    struct lun *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    if (mutlog_init(&l->log, MUTLOG_HISTORY) < 0) {
        free(l);
        return NULL;
    }
    l->proxy = p;
    l->target = target;
    l->number = number;
    l->key = *key;
    l->coherence.mode = target->coherence;
    l->state = target->coherence == CONF_COHERENCE_OFF ? LUN_PASSTHROUGH : LUN_UNPROBED;
    l->why = target->coherence == CONF_COHERENCE_OFF ? "coherence = off" : "not probed yet";
    TAILQ_INIT(&l->probe_waiters);
    if (lun_query_init(l) < 0) {
        mutlog_destroy(&l->log);
        free(l);
        return NULL;
    }
    TAILQ_INSERT_TAIL(&p->luns, l, link);
    return l;
}

void lun_ref(struct lun *l)
{
    l->refs++;
}

void lun_unref(struct lun *l)
{
    if (--l->refs == 0)
        l->last_used_us = clock_now_us();
}

/* All of l's memory; *detail: the part of it the map's detail limit bounds. */
static size_t lun_memory(const struct lun *l, size_t *detail)
{
    struct allocmap_stats st = { 0 };

    if (l->map)
        allocmap_stats(l->map, &st);
    *detail = st.detail_bytes;
    return sizeof(*l) + l->log.ring_cap * sizeof(*l->log.ring) + st.memory_bytes;
}

uint64_t lun_cache_memory(const struct proxy *p)
{
    const struct lun *l;
    uint64_t bytes = 0;
    size_t detail;

    TAILQ_FOREACH(l, &p->luns, link)
        bytes += lun_memory(l, &detail);
    return bytes;
}

void lun_reclaim(struct proxy *p)
{
    uint64_t limit = p->conf->cache_memory_limit, fixed;
    size_t maps;
    struct lun *l;

    for (;;) {
        struct lun *oldest = NULL;
        size_t unused = 0;
        uint64_t bytes = 0;
        fixed = 0;
        maps = 0;
        TAILQ_FOREACH(l, &p->luns, link) {
            size_t detail, all = lun_memory(l, &detail);
            bytes += all;
            fixed += all - detail;
            maps += l->map != NULL;
            if (l->refs)
                continue;
            unused++;
            if (!oldest || l->last_used_us < oldest->last_used_us)
                oldest = l;
        }
        if (!oldest || (unused <= LUN_MAX_UNUSED && bytes <= limit))
            break;
        lun_free(oldest);
    }
    TAILQ_FOREACH(l, &p->luns, link) {
        if (l->map)
            allocmap_set_detail_limit(l->map, allocmap_detail_share(limit, fixed, maps));
    }
}

void lun_free(struct lun *l)
{
    TAILQ_REMOVE(&l->proxy->luns, l, link);
    log_info("target %s LUN %u: %s; READs zero-only %llu, split %llu, passed through %llu, "
             "fallback %llu; bytes as zeros %llu, from the backend %llu; GET LBA STATUS "
             "%llu (joined %llu, descriptors %llu, errors %llu); mutations %llu, "
             "invalidations %llu", l->target->name, l->number,
             l->state == LUN_ZERO_SERVING ? "zero-serving" : l->why,
             (unsigned long long)l->n.reads_zero_only, (unsigned long long)l->n.reads_split,
             (unsigned long long)l->n.reads_passthrough,
             (unsigned long long)l->n.reads_fallback, (unsigned long long)l->n.bytes_zero,
             (unsigned long long)l->n.bytes_backend, (unsigned long long)l->n.queries,
             (unsigned long long)l->n.query_joins,
             (unsigned long long)l->n.query_descriptors,
             (unsigned long long)l->n.query_errors, (unsigned long long)l->n.mutations,
             (unsigned long long)l->n.invalidations);
    lun_query_free_held(l);
    allocmap_free(l->map);
    mutlog_destroy(&l->log);
    free(l);
}

void lun_free_all(struct proxy *p)
{
    struct lun *l;

    while ((l = TAILQ_FIRST(&p->luns)) != NULL)
        lun_free(l);
}

void lun_retarget(struct lun *l, const struct conf_target *target)
{
    bool page_changed = l->target->page_size != target->page_size;
    bool mode_changed = lu_coherence_reload(&l->coherence, target->coherence);

    l->target = target;
    if (!page_changed && !mode_changed)
        return;
    if (l->state == LUN_ZERO_SERVING) {
        lun_invalidate(l, "coherence or page size changed", true);
    } else if (l->state == LUN_PASSTHROUGH) {
        l->state = LUN_UNPROBED;
        l->why = "not probed yet";
    }
}

void lun_invalidate(struct lun *l, const char *why, bool reprobe)
{
    /* Answers to queries sent before this apply no negatives after it. */
    mutlog_invalidate(&l->log);
    l->n.invalidations++;
    if (reprobe && l->coherence.mode != CONF_COHERENCE_OFF) {
        l->probe_gen++;         /* a probe in flight learns old facts: void */
        allocmap_free(l->map);
        l->map = NULL;
        l->state = LUN_UNPROBED;
        l->why = "facts changed, probing again";
    } else if (l->map) {
        /* Only negatives can be wrong: ALLOCATED means "may hold data", and
         * keeping it also covers a write whose outcome is unknown (its
         * session died) landing at the backend later. */
        allocmap_forget_unallocated(l->map, 0, l->n_blocks);
    }
    lun_log(l, LOG_LVL_INFO, "target %s LUN %u: allocation cache invalidated (%s)",
            l->target->name, l->number, why);
}

void lun_invalidate_session(struct proxy *p, const struct conf_target *target, const char *why)
{
    struct lun *l;

    TAILQ_FOREACH(l, &p->luns, link) {
        if (lun_is_of(l, target) && l->map)
            lun_invalidate(l, why, false);
    }
}


/* ---- the probe: three commands in a row on one session's backend ------- */

enum probe_step { PROBE_CAPACITY, PROBE_BLOCK_LIMITS, PROBE_PROVISIONING };

struct probe {
    struct lun *lun;
    bool have_lbp;              /* the SAN has a Logical Block Provisioning VPD page */
    struct conn *conn;
    uint32_t lun_no;            /* the LUN's number on conn's backend session */
    uint32_t gen;               /* lun->probe_gen when it started */
    enum probe_step step;
    struct scsi_capacity cap;
    struct scsi_block_limits bl;
    struct scsi_lbp_vpd lbp;
};

static void probe_send(struct probe *pr);

/* The probe ended, one way or another: the READs that waited go on. */
static void probe_wake(struct lun *l)
{
    struct task *t;

    while ((t = TAILQ_FIRST(&l->probe_waiters)) != NULL) {
        TAILQ_REMOVE(&l->probe_waiters, t, query_link);
        task_read_resume(t, NULL);
    }
}

/* The probe is over: free it, wake the READs, let go of the object. */
static void probe_end(struct probe *pr)
{
    struct lun *l = pr->lun;

    free(pr);
    probe_wake(l);
    lun_unref(l);
}

void lun_probe_wait(struct lun *l, struct task *t)
{
    TAILQ_INSERT_TAIL(&l->probe_waiters, t, query_link);
}

static void probe_finish(struct probe *pr, const char *passthrough_why)
{
    struct lun *l = pr->lun;
    struct lu_geometry g;

    if (!passthrough_why && l->coherence.mode == CONF_COHERENCE_OFF)
        passthrough_why = "coherence = off";    /* a reload turned it off meanwhile */
    if (!passthrough_why)
        passthrough_why = lu_policy_geometry(&pr->cap, &pr->bl, pr->have_lbp ? &pr->lbp : NULL,
                                             l->target->page_size, &g);
    if (!passthrough_why && g.zeros_from == LU_ZEROS_FROM_DATA &&
        l->coherence.mode != CONF_COHERENCE_EXCLUSIVE)
        passthrough_why = "holes not reported by the SAN: zeros are learned from data in "
                          "exclusive mode only";
    if (passthrough_why) {
        l->state = LUN_PASSTHROUGH;
        l->why = passthrough_why;
        lun_log(l, LOG_LVL_INFO, "target %s LUN %u: pass-through (%s; logical block length %u)",
                 l->target->name, l->number, passthrough_why, pr->cap.block_len);
        probe_end(pr);
        return;
    }
    l->facts_gen++;             /* READs planned before now do not reply */
    l->zeros_from = g.zeros_from;
    l->unmapped_reads_zeros = g.unmapped_reads_zeros;
    l->block_size = g.block_size;
    l->n_blocks = g.n_blocks;
    l->page_blocks = g.page_blocks;
    l->max_xfer_blocks = g.max_xfer_blocks;
    /* A map is left when a reload turned coherence off (lun_invalidate keeps
     * it) and a zero-serving target adopted the object since (lun_get). */
    allocmap_free(l->map);
    l->map = allocmap_new(l->n_blocks, l->page_blocks);
    if (!l->map) {
        probe_finish(pr, "out of memory for the allocation cache");
        return;
    }
    lun_reclaim(l->proxy);      /* one map more: every map's share shrinks */
    l->state = LUN_ZERO_SERVING;
    l->why = NULL;
    lun_log(l, LOG_LVL_INFO, "target %s LUN %u: zero-serving on, %llu blocks of %u bytes, "
            "page %u blocks, backend reads split at %u blocks, coherence %s, zeros from %s",
            l->target->name, l->number, (unsigned long long)l->n_blocks, l->block_size,
            l->page_blocks, l->max_xfer_blocks, conf_coherence_name(l->coherence.mode),
            lu_zero_source_name(l->zeros_from));
    probe_end(pr);
}

static void probe_done(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct probe *pr = arg;
    struct scsi_task *st = data;
    struct lun *l = pr->lun;

    (void)iscsi;
    if (status == SCSI_STATUS_CANCELLED || pr->conn->state == CONN_CLOSING) {
        if (pr->gen == l->probe_gen)
            l->state = LUN_UNPROBED;    /* the next session asks again */
        scsi_free_scsi_task(st);
        probe_end(pr);
        return;
    }
    bool ua = lun_absorb_unit_attention(l, pr->conn, pr->lun_no, status, st);
    if (pr->gen != l->probe_gen) {
        /* The facts changed while it ran (lun_invalidate): its answers are
         * old, and a probe of its own asks again (one map, never two). */
        scsi_free_scsi_task(st);
        probe_end(pr);
        return;
    }
    if (ua && ++l->probe_retries <= PROBE_MAX_RETRIES) {
        scsi_free_scsi_task(st);
        probe_send(pr);                 /* the condition is stashed for the initiator */
        return;
    }
    const uint8_t *buf = st->datain.data;
    size_t len = st->datain.size > 0 ? (size_t)st->datain.size : 0;
    const char *fail = NULL;
    if (status != SCSI_STATUS_GOOD && pr->step == PROBE_PROVISIONING) {
        pr->have_lbp = false;       /* thick LUNs may have none: zeros from data */
    } else if (status != SCSI_STATUS_GOOD) {
        fail = pr->step == PROBE_CAPACITY ? "READ CAPACITY(16) failed"
                                          : "no Block Limits VPD page";
    } else if (pr->step == PROBE_CAPACITY) {
        fail = lu_policy_capacity(scsi_rc16_parse(buf, len, &pr->cap), &pr->cap);
    } else if (pr->step == PROBE_BLOCK_LIMITS) {
        if (scsi_vpd_block_limits_parse(buf, len, &pr->bl) < 0)
            fail = "malformed Block Limits VPD page";
    } else {
        /* a malformed page promises nothing: zeros from data */
        pr->have_lbp = scsi_vpd_lbp_parse(buf, len, &pr->lbp) == 0;
    }
    scsi_free_scsi_task(st);
    if (fail || pr->step == PROBE_PROVISIONING) {
        probe_finish(pr, fail);
        return;
    }
    pr->step++;
    probe_send(pr);
}

static void probe_send(struct probe *pr)
{
    uint8_t cdb[16];
    size_t n;
    uint32_t alloc;

    switch (pr->step) {
    case PROBE_CAPACITY:
        alloc = SCSI_RC16_DATA_LEN;
        n = scsi_rc16_build(cdb, sizeof(cdb), alloc);
        break;
    case PROBE_BLOCK_LIMITS:
        alloc = SCSI_VPD_BLOCK_LIMITS_LEN;
        n = scsi_inquiry_vpd_build(cdb, sizeof(cdb), SCSI_VPD_BLOCK_LIMITS, (uint16_t)alloc);
        break;
    default:
        alloc = 64;
        n = scsi_inquiry_vpd_build(cdb, sizeof(cdb), SCSI_VPD_LBP, (uint16_t)alloc);
        break;
    }
    struct scsi_task *st = n ? scsi_create_task((int)n, cdb, SCSI_XFER_READ, (int)alloc) : NULL;
    if (!st || backend_submit(pr->conn->backend, pr->lun_no, st, NULL, probe_done, pr) < 0) {
        if (st)
            scsi_free_scsi_task(st);
        pr->lun->state = LUN_UNPROBED;
        probe_end(pr);
    }
}

void lun_probe(struct lun *l, struct conn *c, uint32_t lun_no)
{
    if (l->state != LUN_UNPROBED)
        return;
    struct probe *pr = calloc(1, sizeof(*pr));
    if (!pr)
        return;
    pr->lun = l;
    pr->conn = c;
    pr->lun_no = lun_no;
    pr->gen = ++l->probe_gen;
    lun_ref(l);
    l->state = LUN_PROBING;
    l->why = "probing";
    l->probe_retries = 0;
    probe_send(pr);
}

/* ---- unit attentions ----------------------------------------------------- */

enum scsi_ua_reason lun_note_status(struct lun *l, struct conn *c, uint32_t lun_no, int status,
                                    const struct scsi_task *st)
{
    struct scsi_sense_info si;

    if (status != SCSI_STATUS_CHECK_CONDITION || !st->datain.data || st->datain.size < 2)
        return SCSI_UA_NONE;
    size_t sense_len = iscsi_get16(st->datain.data);
    if (sense_len > (size_t)st->datain.size - 2 ||
        scsi_sense_parse(st->datain.data + 2, sense_len, &si) < 0)
        return SCSI_UA_NONE;
    enum scsi_ua_reason r = scsi_ua_classify(&si);
    bool first = r == SCSI_UA_RESET && ua_stash_first_nexus_notice(&c->ua, lun_no);
    unsigned act = lu_policy_unit_attention(r, first);
    if (first)
        log_debug("%s: LUN %u: new I_T nexus notice (%02xh/%02xh)", c->peer, lun_no, si.asc,
                  si.ascq);
    /* Which LU the number names, for this nexus, may have changed: the
     * session verifies it again after its next GOOD (lun_identity.c). */
    if (act & LU_UA_UNVERIFY_ALL)
        lun_unverify(c, LUN_NO_ALL, true);
    else if (act & LU_UA_UNVERIFY_LUN)
        lun_unverify(c, lun_no, true);
    if (l && (act & LU_UA_FORGET_NEGATIVES))
        lun_invalidate(l, scsi_ua_reason_name(r), act & LU_UA_REPROBE);
    return r;
}

bool lun_absorb_unit_attention(struct lun *l, struct conn *c, uint32_t lun_no, int status,
                               const struct scsi_task *st)
{
    if (lun_note_status(l, c, lun_no, status, st) == SCSI_UA_NONE)
        return false;
    /* The proxy's own command consumed a condition meant for the initiator:
     * keep it and report it on the initiator's next command to this LUN. */
    conn_stash_unit_attention(c, lun_no, st->datain.data, (size_t)st->datain.size);
    return true;
}
