/*
 * The proxy side of fuzz_lu_model.c (its state: lu_model.h): the glue that
 * combines the shipped pure code the way the daemon does.  Each function
 * names the daemon function it follows; none decides what a pure function
 * decides (objects by lu_key_equal and lu_coherence_join, writes across
 * objects by lu_key_mutation_reaches, unit attentions by scsi_ua_classify
 * and lu_policy_unit_attention, mutations by cache_mutation_begin/_succeeded
 * and mutlog, copies by scsi_copy_classify and scsi_copy_status_parse,
 * verifications by nexus_map and scsi_devid_parse).  The daemon keeps
 * objects, sessions and tasks in lists; here they are fixed arrays, and
 * struct lun is struct obj.
 */
#ifndef ISP_FUZZ_LU_MODEL_PROXY_H
#define ISP_FUZZ_LU_MODEL_PROXY_H

#include "cache_answer.h"
#include "cache_mutation.h"
#include "lu_policy.h"

#include "lu_model.h"

/* ---- negatives blocked everywhere (lun_guard.c) ------------------------- */

static void forget_negatives(struct obj *o)             /* lun_forget_negatives */
{
    mutlog_invalidate(&o->log);
    if (o->map)
        allocmap_forget_unallocated(o->map, 0, o->n_blocks);
}

static void forget_all_negatives(void)
{
    for (int i = 0; i < MAX_OBJ; i++)
        if (S.obj[i].used)
            forget_negatives(&S.obj[i]);
}

static void block_negatives(void)
{
    S.blocked++;
    forget_all_negatives();
}

static void unblock_now(void)                           /* unblock_cb */
{
    S.blocked--;
    forget_all_negatives();
}

/* The oldest timer fires: a block is lifted, or what the SAN still ran of
 * an ended session is over (its timers come before the proxy's). */
static void timer_fire(void)
{
    struct timer tm = S.tm[S.tm_head];
    struct cmd *t = &S.cmd[tm.idx];

    S.tm_head = (S.tm_head + 1) % MAX_TIMER;
    S.tm_n--;
    if (tm.kind == T_UNBLOCK) {
        unblock_now();
    } else if (tm.kind == T_KILL_COPY) {
        S.wc[tm.idx].running &= S.wc[tm.idx].serial != tm.serial;
    } else {                            /* a command given up on is over at the SAN */
        if (t->wcopy >= 0 && S.wc[t->wcopy].serial == t->wserial)
            S.wc[t->wcopy].running = false;
        t->busy = false;
    }
}

/* lun_unblock_negatives: now, or backend_timeout later (a timer). */
static void unblock_negatives(bool later)
{
    if (later)
        push_timer(T_UNBLOCK, 0, 0);
    else
        unblock_now();
}

/* ---- objects (lun.c, lun_identity.c) ---------------------------------------- */

static void probe_start(struct obj *o, struct session *c, uint32_t n)   /* lun_probe */
{
    for (int i = 0; i < MAX_PROBE && o->state == O_UNPROBED; i++) {
        if (S.pr[i].busy)
            continue;
        S.pr[i] = (struct probe){ true, o, slot_of(c), c->inc, n, ++o->probe_gen };
        o->state = O_PROBING;
        o->probe_retries = 0;
    }
}

static void invalidate(struct obj *o, bool reprobe)             /* lun_invalidate */
{
    mutlog_invalidate(&o->log);
    if (reprobe && o->coh.mode != CONF_COHERENCE_OFF) {
        o->probe_gen++;
        allocmap_free(o->map);
        o->map = NULL;
        o->state = O_UNPROBED;
    } else if (o->map) {
        allocmap_forget_unallocated(o->map, 0, o->n_blocks);
    }
}

/* lun_get: the object with this key, else a new one (lun_new). */
static struct obj *obj_get(struct session *c, uint32_t n, const struct lu_key *key, int lu)
{
    struct obj *o;

    for (int i = 0; i < MAX_OBJ; i++) {
        o = &S.obj[i];
        if (!o->used || !lu_key_equal(&o->key, key))
            continue;
        if (lu_coherence_join(&o->coh, c->coh) == LU_JOIN_ADOPT) {
            o->target = c->target;
            o->number = n;
            o->state = O_UNPROBED;
        }
        return o;
    }
    for (int i = 0; i < MAX_OBJ; i++) {
        o = &S.obj[i];
        if (o->used)
            continue;
        memset(o, 0, sizeof(*o));
        CHECK(mutlog_init(&o->log, S.ring_cap) == 0);
        o->used = true;
        o->key = *key;
        o->lu = lu;
        o->number = n;
        o->target = c->target;
        o->coh.mode = c->coh;
        o->state = c->coh == CONF_COHERENCE_OFF ? O_PASSTHROUGH : O_UNPROBED;
        return o;
    }
    return NULL;
}

/* lun_bind: the verification of e answered with LU lu's VPD 83h page. */
static void bind(struct session *c, struct nexus_lu *e, int lu)
{
    uint8_t page[24];
    struct scsi_devid id;
    struct lu_key key;
    struct obj *o = NULL;

    model_vpd83(page, S.desig[lu]);
    if (scsi_devid_parse(page, sizeof(page), &id) == 1 &&
        lu_key_set(&key, model_addr[c->addr], MODEL_BACKEND_TARGET, &id) == 0)
        o = obj_get(c, e->lun_no, &key, lu);
    if (!o) {
        e->state = NEXUS_LU_UNIDENTIFIED;
        return;
    }
    e->state = NEXUS_LU_BOUND;
    e->lun = LUN(o);
    if (o->state == O_UNPROBED)
        probe_start(o, c, e->lun_no);
}

static void verify_start(struct session *c, uint32_t n)        /* lun_verify */
{
    struct nexus_lu *e;

    if (nexus_map_find(&c->nm, n))
        return;
    for (int i = 0; i < MAX_VERIFY; i++) {
        if (S.v[i].busy)
            continue;
        if ((e = nexus_map_begin(&c->nm, n)) != NULL)
            S.v[i] = (struct verify){ true, false, slot_of(c), -1, c->inc, n, e->gen };
        return;
    }
}

/* cross_invalidate: objects a mutation through o (NULL: through a number
 * not verified) may have written forget their negatives. */
static void cross_invalidate(struct obj *o, bool everyone)
{
    for (int i = 0; i < MAX_OBJ; i++) {
        struct obj *x = &S.obj[i];
        if (x->used && x != o && lu_key_mutation_reaches(o ? &o->key : NULL, &x->key, everyone))
            forget_negatives(x);
    }
}

/* ---- unit attentions (lun.c) ------------------------------------------------ */

/* Model (I2): a unit attention of (c, n) reached the proxy; a number it
 * covers with no remap still pending at the SAN allows the LU mapped now. */
static void ua_reached(struct session *c, uint32_t n, unsigned ua)
{
    int slot = slot_of(c);

    for (uint32_t m = 0; m < N_NUM && ua != UA_RESET; m++)
        if ((ua == UA_LUNS || m == n) && !(S.ua[slot][m] & UA_REMAP))
            c->allowed[m] = (uint8_t)(1u << S.map[slot][c->addr][m]);
}

/* lun_note_status for a CHECK CONDITION reporting unit attention ua. */
static void note_status(struct obj *o, struct session *c, uint32_t n, unsigned ua)
{
    uint8_t seg[2 + SCSI_SENSE_FIXED_LEN];
    size_t len = model_ua_seg(seg, ua);
    struct scsi_sense_info si;

    ua_reached(c, n, ua);
    CHECK(scsi_sense_parse(seg + 2, len - 2, &si) == 0);
    enum scsi_ua_reason r = scsi_ua_classify(&si);
    bool first = r == SCSI_UA_RESET && ua_stash_first_nexus_notice(&c->stash, n);
    unsigned act = lu_policy_unit_attention(r, first);

    for (size_t i = 0; act & (LU_UA_UNVERIFY_ALL | LU_UA_UNVERIFY_LUN) && i < c->nm.n; i++)
        if (c->nm.v[i].state == NEXUS_LU_BOUND &&               /* lun_unverify, remapped */
            (act & LU_UA_UNVERIFY_ALL || c->nm.v[i].lun_no == n))
            forget_negatives(OBJ(c->nm.v[i].lun));
    if (act & LU_UA_UNVERIFY_ALL)
        nexus_map_clear(&c->nm);
    else if (act & LU_UA_UNVERIFY_LUN)
        nexus_map_forget(&c->nm, n);
    if (o && (act & LU_UA_FORGET_NEGATIVES))
        invalidate(o, act & LU_UA_REPROBE);
}

/* lun_absorb_unit_attention: the proxy's own command consumed it. */
static void absorb(struct obj *o, struct session *c, uint32_t n, unsigned ua)
{
    uint8_t seg[2 + SCSI_SENSE_FIXED_LEN];
    size_t len = model_ua_seg(seg, ua);

    note_status(o, c, n, ua);
    ua_stash_put(&c->stash, n, seg, len);
}

/* ---- copies (task_copy.c) ---------------------------------------------------- */

static void copy_over(struct session *c)
{
    c->copies_blocking--;
    unblock_negatives(false);
}

static void running_copy_ended(struct session *c, bool lid4, uint32_t list_id)
{
    for (unsigned i = 0; i < c->n_running; i++) {
        if (c->running[i].lid4 != lid4 || c->running[i].list_id != list_id)
            continue;
        c->running[i] = c->running[--c->n_running];
        copy_over(c);
        return;
    }
}

static void copy_sent(struct cmd *t)                    /* task_copy_sent */
{
    if (t->ci.opcode != SCSI_OP_TPC_OUT)
        return;
    scsi_copy_classify(t->cdb, sizeof(t->cdb), t->param, t->plen, &t->copy);
    block_negatives();
    S.ses[t->slot].copies_blocking++;
    t->copy_blocking = true;
}

static void copy_completed(struct cmd *t, bool good)    /* task_copy_completed */
{
    struct session *c = &S.ses[t->slot];
    struct scsi_copy_status cs;

    if (good && t->ci.opcode == SCSI_OP_TPC_IN) {
        if (scsi_copy_status_parse(t->cdb, sizeof(t->cdb), t->param, t->plen, &cs) == 0 &&
            cs.ended)
            running_copy_ended(c, cs.lid4, cs.list_id);
        return;
    }
    if (!t->copy_blocking)
        return;
    t->copy_blocking = false;
    if (good && t->copy.aborts)
        running_copy_ended(c, t->copy.lid4, t->copy.list_id);
    if (!good || !t->copy.may_run_after_status) {
        copy_over(c);
        return;
    }
    if (t->copy.has_list_id && c->n_running < MAX_RUNNING)
        c->running[c->n_running++] = (struct running_copy){ t->copy.list_id, t->copy.lid4 };
}

/* ---- commands (task_cache.c) ------------------------------------------------- */

static void cmd_unwrite(struct cmd *t)  /* model: no longer an ordinary mutation in flight */
{
    for (int b = 0; b < LU_BLOCKS && t->n_wrote; b++)
        if (t->wrote[b]) {
            S.written[t->lu][b]--;
            t->wrote[b] = 0;
            t->n_wrote--;
        }
}

static void mutation_end(struct cmd *t)                 /* task_mutation_end */
{
    if ((t->mut_active || t->mut_cross) && !t->outcome_known) {
        block_negatives();
        unblock_negatives(true);
    }
    if (t->mut_active) {
        mutlog_end(&t->obj->log, &t->mut);
        t->mut_active = false;
    }
    if (t->mut_cross) {                                 /* lun_mutation_completed */
        cross_invalidate(t->obj, t->mut_unidentified);
        t->mut_cross = false;
    }
}

/* task_cache_completed, then task_free; ua: the unit attention the SAN
 * reported instead of running the command. */
static void cmd_completed(struct cmd *t, unsigned ua, bool good)
{
    struct session *c = &S.ses[t->slot];
    struct obj *o = t->obj;

    cmd_unwrite(t);
    t->busy = false;
    if (t->own) {                       /* a READ(16) part (task_read.c part_done) */
        if (ua)
            absorb(o, c, t->n, ua);
        return;
    }
    t->outcome_known = true;
    if (ua)
        note_status(o, c, t->n, ua);
    copy_completed(t, good);
    if (good && !o)
        verify_start(c, t->n);
    if (o && good && o->state == O_UNPROBED)
        probe_start(o, c, t->n);
    if (o && good && o->map && t->mut_active)
        cache_mutation_succeeded(o->map, o->n_blocks, &t->ci, t->param, t->plen, &t->mut);
    mutation_end(t);
}

/* A command of c to n: a unit attention the proxy kept is reported instead
 * (task_report_stashed_unit_attention); else classified and sent
 * (task_cache_classify, task_cache_before_send).  own: the proxy's READ(16)
 * part for o. */
static struct cmd *cmd_send(struct session *c, uint32_t n, enum ckind kind, struct obj *own)
{
    static const uint8_t op[] = { OP_READ16, OP_TUR, OP_WRITE16, OP_UNMAP, SCSI_OP_TPC_OUT,
                                  SCSI_OP_TPC_IN };
    struct cmd x = { .busy = true, .own = own, .kind = kind, .slot = slot_of(c), .inc = c->inc,
                     .n = n, .addr = c->addr, .lu = -1, .wcopy = -1 }, *t = NULL;
    struct ua_stashed ua;

    uint8_t f = kind >= C_COPY ? IN_U8() : 0;

    x.lba = IN_RANGE(0, LU_BLOCKS - 1);
    x.blocks = IN_RANGE(1, LU_BLOCKS - x.lba);
    if (kind == C_READ || kind == C_TUR) {
        x.cdb[0] = op[kind];
    } else if (kind == C_WRITE) {
        model_write16(x.cdb, x.lba, (uint32_t)x.blocks);
    } else if (kind == C_UNMAP) {
        x.plen = model_unmap(x.cdb, x.param, x.lba, (uint32_t)x.blocks);
    } else if (kind == C_COPY) {        /* to any LU of the address */
        for (x.dest = (f >> 4) % N_LU; !S.exported[c->addr][x.dest]; )
            x.dest = (x.dest + 1) % N_LU;
        x.lid4 = f & 1;
        x.immed = x.lid4 && (f & 2);
        x.with_id = !(f & 4);
        x.list_id = (f >> 3) & 1;
        x.plen = model_xcopy(x.cdb, x.param, x.lid4, x.immed, x.with_id, x.list_id);
    } else {
        x.lid4 = f & 1;
        x.list_id = (f >> 1) & 1;
        model_copy_status_cdb(x.cdb, x.lid4, x.list_id);
    }
    for (int i = 0; i < MAX_CMD && !t; i++)
        t = S.cmd[i].busy ? NULL : &S.cmd[i];
    if (!t || (!own && ua_stash_take(&c->stash, n, op[kind], &ua)))
        return NULL;
    *t = x;
    scsi_cdb_decode(t->cdb, sizeof(t->cdb), &t->ci);
    t->obj = own ? own : OBJ(nexus_map_lun(&c->nm, n));
    if (t->ci.cls == SCSI_CLASS_MUTATE) {               /* lun_mutation_sent */
        t->mut_cross = true;
        cross_invalidate(t->obj, false);
        t->mut_unidentified = !t->obj;
    }
    copy_sent(t);
    if (t->obj && cache_mutation_begin(t->obj->map, &t->obj->log, t->obj->n_blocks, &t->ci,
                                       t->param, t->plen, &t->mut) != CACHE_MUT_NONE)
        t->mut_active = true;
    return t;
}

/* ---- sessions, reloads (conn.c, server_reload.c) ------------------------------- */

static void login(struct session *c, int target)
{
    int slot = slot_of(c);

    c->up = true;
    c->target = target;
    c->addr = S.tg[target].addr;
    c->coh = S.tg[target].coh;
    c->inc++;
    nexus_map_init(&c->nm, N_NUM);
    memset(&c->stash, 0, sizeof(c->stash));
    c->copies_blocking = 0;
    c->n_running = 0;
    for (uint32_t n = 0; n < N_NUM; n++) {
        S.ua[slot][n] = UA_RESET;       /* a new I_T nexus */
        c->allowed[n] = (uint8_t)(1u << S.map[slot][c->addr][n]);
        c->named[n] = -1;
    }
}

/* The session ends (conn_free_cb, after backend_lost if its backend
 * session was lost): what it had at the SAN may still run there, until
 * timers pushed before the proxy's own (they fire in order). */
static void session_end(struct session *c, bool backend_lost)
{
    int slot = slot_of(c);

    for (int i = 0; backend_lost && i < MAX_OBJ; i++)      /* lun_invalidate_session */
        if (S.obj[i].used && S.tg[S.obj[i].target].addr == c->addr && S.obj[i].map)
            invalidate(&S.obj[i], false);
    for (int i = 0; i < MAX_CMD; i++) {
        struct cmd *t = &S.cmd[i];
        if (t->busy && !t->lost && !t->own && t->slot == slot &&
            (t->kind == C_WRITE || t->kind == C_UNMAP || t->kind == C_COPY)) {
            t->lost = true;
            cmd_unwrite(t);
            push_timer(T_KILL_CMD, i, 0);
        }
    }
    for (int i = 0; i < MAX_COPY; i++)
        if (S.wc[i].busy && S.wc[i].running && S.wc[i].slot == slot)
            push_timer(T_KILL_COPY, i, S.wc[i].serial);
    c->up = false;
    for (int i = 0; i < MAX_CMD; i++) {  /* each comes back CANCELLED: task_destroy */
        struct cmd *t = &S.cmd[i];
        if (!t->busy || t->slot != slot || t->inc != c->inc)
            continue;
        if (!t->own)
            mutation_end(t);
        t->inc = 0;
        t->busy = t->lost;
    }
    for (int i = 0; i < MAX_PROBE; i++)
        if (S.pr[i].busy && S.pr[i].slot == slot) {     /* probe_done: CANCELLED */
            if (S.pr[i].gen == S.pr[i].o->probe_gen)
                S.pr[i].o->state = O_UNPROBED;
            S.pr[i].busy = false;
        }
    for (int i = 0; i < MAX_QUERY; i++)
        S.q[i].busy = S.q[i].busy && S.q[i].slot != slot;
    for (int i = 0; i < MAX_VERIFY; i++)
        S.v[i].busy = S.v[i].busy && S.v[i].slot != slot;
    nexus_map_destroy(&c->nm);          /* lun_session_end */
    for (; c->copies_blocking; c->copies_blocking--)
        unblock_negatives(true);
}

static void retarget(struct obj *o, int nt)                     /* lun_retarget */
{
    bool page_changed = S.tg[o->target].page_bytes != S.tg[nt].page_bytes;
    bool mode_changed = lu_coherence_reload(&o->coh, S.tg[nt].coh);

    o->target = nt;
    if (!page_changed && !mode_changed)
        return;
    if (o->state == O_ZERO_SERVING)
        invalidate(o, true);
    else if (o->state == O_PASSTHROUGH)
        o->state = O_UNPROBED;
}

/* A reload gives target t coherence coh (retarget_luns): an object of a
 * changed target goes to the first target of the same backend.  Sessions
 * keep their configuration until they end. */
static void reload(int t, enum conf_coherence coh)
{
    bool changed = S.tg[t].coh != coh;

    S.tg[t].coh = coh;
    for (int i = 0; i < MAX_OBJ; i++) {
        struct obj *o = &S.obj[i];
        int nt = o->target;
        for (int k = N_TARGET - 1; changed && o->target == t && k >= 0; k--)
            nt = S.tg[k].addr == S.tg[t].addr ? k : nt;
        if (o->used)
            retarget(o, nt);
    }
}

#endif
