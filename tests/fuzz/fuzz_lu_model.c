/*
 * Model-based libFuzzer target for the allocation cache across objects,
 * sessions and LUN numbers (issue 9; docs/ARCHITECTURE.md, "Identity per
 * I_T nexus", "Mutations the proxy cannot bound", "Unit attentions the
 * proxy consumes", "The race rule", "Fuzzing the model").  The shipped pure
 * code -- allocmap, mutlog, cache_mutation, cache_answer, read_plan,
 * nexus_map, lu_key, lu_policy, ua_stash, scsi_cdb, scsi_copy, scsi_devid,
 * scsi_sense -- is combined by glue that follows the daemon's sequencing
 * (lu_model_proxy.h; each function there names the daemon function it
 * follows) and driven against a SAN (lu_model.h) in an order the input
 * chooses.
 *
 * The SAN: two backend addresses, four LUs of 64 blocks (a byte per block,
 * zero or not).  LU0, LU1 are exported on address 0, LU2, LU3 on address 1;
 * the input may also export LU1 on address 1 and LU2 on address 0 (two
 * controllers of one SAN: one LU, two keys) and give LU3 the designator of
 * LU0 or LU1 (template hosts: two LUs, one designator).  Three initiators,
 * each with a LUN number -> LU mapping per address (host groups; numbers
 * 0-3) that the SAN remaps at any time, raising REPORTED LUNS DATA HAS
 * CHANGED on every number of the nexus or INQUIRY DATA HAS CHANGED on the
 * one; a command to a number with a pending unit attention gets it instead
 * of running (INQUIRY excepted, SAM-5 5.14), and a new nexus gets a reset.
 * Proxy targets T0 and T1 reach address 0 (one key space, two coherences:
 * lu_coherence_join), T2 address 1; reloads change a target's coherence
 * (lu_coherence_reload).  Initiators send WRITE, UNMAP, TEST UNIT READY,
 * GET LBA STATUS, READs (planned, or sent whole, or in parts), EXTENDED
 * COPY (LID1; LID4 with or without IMMED; with a list identifier or not),
 * which writes another LU of the address in pieces while it runs, and
 * RECEIVE COPY STATUS.  The proxy verifies numbers (VPD 83h), probes new
 * objects and sends GET LBA STATUS for READs.  The SAN runs each command
 * on the LU its number maps when the command arrives, in pieces, and it
 * is answered later, in any order -- except that a command meeting a unit
 * attention is answered at once (the SAN reports it on receipt, before the
 * responses of commands it receives later).  Sessions log out, or lose
 * their backend: what they had at the SAN has an unknown outcome and may
 * still run until the timer that lifts its block (backend_timeout; timers
 * fire in order).
 *
 * Invariants, after every event:
 *  I1  no two objects have equal keys (lu_key_equal);
 *  I2  a number BOUND in a session's nexus_map names the object of the LU
 *      that this session's own verification named, with the entry's
 *      generation (never one another session verified), and that LU is
 *      allowed there: allowed(s, n) is the LU the SAN maps at n for s now,
 *      plus, while a remap of n has not yet been reported to the proxy (its
 *      unit attention is still pending at the SAN), every LU mapped there
 *      since the proxy last received a unit attention covering n.  That
 *      window is what the proxy cannot see -- the SAN tells it on the
 *      nexus's next command to the number -- and zero_probe.c bounds it to
 *      one second of zero-only READs (time is not modelled).  Serving the
 *      old LU's zeros to an initiator that has not been told of the remap
 *      is what it asked for; serving them after is not;
 *  I3  the product's one rule: every block the map of a zero-serving
 *      object calls UNALLOCATED, or a zero granule of a PARTIAL page, reads
 *      zeros on that object's LU, unless an ordinary mutation still in
 *      flight (sent, not completed, not given up) has written it there
 *      (the initiator cannot expect either data then).  Writers the
 *      mutation log cannot bound -- a mutation of unknown outcome, a copy --
 *      get no such excuse: the block of negatives must cover them.  Checked
 *      for every object, bound or not, in any coherence.  With I2: every
 *      number a session has bound reads zeros only where the LU its
 *      initiator may be addressing reads zeros.
 * Each READ plan (read_plan.c; exclusive, and verify with its own answer)
 * is checked segment by segment against the same LU.
 *
 * Planted bugs (lun_get keyed by LUN number, lu_key_mutation_reaches blind
 * to other keys, copies not blocking or IMMED ending the block at status,
 * unknown outcomes not blocking, no generation check, LUNS CHANGED keeping
 * the bindings): docs/ARCHITECTURE.md, "Fuzzing the model", has the table
 * of which invariant caught each and how fast, and the seeds
 * (multipath_write, ended_write_lands) for the two chains a run missed.  Not modelled: time (the one-second rule), the
 * query queue's joining (each READ has its own query), task management,
 * reservations, capacity changes, POPULATE TOKEN / WRITE USING TOKEN and
 * COPY OPERATION ABORT, a SAN that answers a unit attention after the
 * responses of commands it received later.
 *
 * Input: 7 bytes of configuration (setup), then events of 6 bytes: a
 * selector, a session and number byte, an index byte, two bytes the event
 * reads first, and one seeding what it reads after them.
 * LU_MODEL_TRACE=1 prints each event and the state after it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_plan.h"

#include "lu_model_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 1024
#define MAX_SEGS   (2 * LU_BLOCKS + 4)

/* ---- READs (task_read.c) and GET LBA STATUS (lun_query.c, task_cache.c) --------- */

/* read_plan_make for a READ of o; each zero segment is checked against o's
 * LU.  Returns 1 if it needs a query from *qlba, 0 if planned, -1 if not. */
static int plan_read(struct obj *o, bool excl, bool may_query, const struct lba_extent *ans,
                     size_t n_ans, uint64_t lba, uint32_t blocks, uint64_t *qlba,
                     bool *zero_only)
{
    static struct read_seg segs[MAX_SEGS];
    struct read_plan_in in = {
        .map = o->map, .trust_unallocated = excl, .may_query = may_query,
        .answer = excl ? NULL : ans, .n_answer = excl ? 0 : n_ans,
        .lba = lba, .blocks = blocks, .max_xfer_blocks = o->max_xfer,
    };
    struct read_plan plan;

    *zero_only = true;
    if (read_plan_make(&in, segs, MAX_SEGS, &plan) < 0)
        return -1;
    if (plan.needs_query) {
        *qlba = plan.query_lba;
        return 1;
    }
    for (size_t i = 0; i < plan.n_segs; i++) {
        *zero_only = *zero_only && segs[i].kind == SEG_ZERO;
        for (uint64_t b = segs[i].lba; segs[i].kind == SEG_ZERO &&
             b < segs[i].lba + segs[i].blocks; b++)
            CHECK(S.data[o->lu][b] == 0 || S.written[o->lu][b]);
    }
    return 0;
}

/* A query for o through (c, n): the proxy's collects until sent (one per
 * READ here; query_queue.c joins them); an initiator's is sent at once. */
static struct query *query_new(struct obj *o, struct session *c, uint32_t n, uint64_t lba,
                               bool own)
{
    for (int i = 0; i < MAX_QUERY; i++) {
        if (S.q[i].busy)
            continue;
        S.q[i] = (struct query){ .busy = true, .own = own, .st = own ? Q_COLLECTING : Q_SENT,
                                 .o = o, .slot = slot_of(c), .inc = c->inc, .n = n,
                                 .since = mutlog_now(&o->log), .lba = lba };
        return &S.q[i];
    }
    return NULL;
}

/* task_read_resume after its query: planned again, no query more. */
static void query_done(struct query *q, const struct lba_extent *ans, size_t n_ans)
{
    uint64_t qlba;
    bool zero_only;

    q->busy = false;
    if (q->own && q->rblocks && q->o->state == O_ZERO_SERVING && q->o->map)
        plan_read(q->o, q->excl, false, ans, n_ans, q->rlba, q->rblocks, &qlba, &zero_only);
}

/* query_send_cb / task_cache_before_send, then the SAN runs it on the LU
 * the number maps now, or answers the unit attention pending there. */
static bool query_step(struct query *q)
{
    struct session *c = &S.ses[q->slot];
    unsigned ua;

    if (q->st == Q_COLLECTING) {        /* only through a number still bound to it */
        q->st = Q_SENT;
        q->since = mutlog_now(&q->o->log);
        if (OBJ(nexus_map_lun(&c->nm, q->n)) != q->o)
            query_done(q, NULL, 0);
        return false;
    }
    if ((ua = san_take_ua(q->slot, q->n)) != 0) {
        if (q->own)
            absorb(q->o, c, q->n, ua);          /* query_answered */
        else
            note_status(q->o, c, q->n, ua);     /* task_cache_completed */
        query_done(q, NULL, 0);
        return false;
    }
    memcpy(q->snap, S.data[S.map[q->slot][c->addr][q->n]], LU_BLOCKS);
    q->st = Q_EXECUTED;
    return true;
}

/* The answer: query_answered (the proxy's, while zero-serving) or
 * task_cache_completed (an initiator's, while the object has a map). */
static void query_answer(struct query *q)
{
    static uint8_t buf[SCSI_GLS_ALLOC_LEN(LU_BLOCKS)], neg[LU_BLOCKS];
    static struct lba_extent ans[LU_BLOCKS];
    struct obj *o = q->o;
    struct cache_answer_result r = { 0 };

    if ((o->state == O_ZERO_SERVING || !q->own) && o->map) {
        size_t len = model_lba_status(&S.ev, buf, q->snap, q->lba,
                                      IN_RANGE(q->lba + 1, LU_BLOCKS), neg);
        r = cache_answer_apply(&(struct cache_answer_in){
            .map = o->map, .log = &o->log, .lun_blocks = o->n_blocks,
            .negatives_blocked = S.blocked != 0, .since = q->since, .buf = buf, .len = len,
            .asked_lba = q->lba, .out = ans, .out_cap = LU_BLOCKS });
        CHECK(r.err == SCSI_LBAS_OK && !r.no_memory);
    }
    query_done(q, ans, r.n_out);
}

/* An initiator READs n (task_read_start, task_read_resume): planned if the
 * number is bound to a zero-serving object, else sent whole; while the
 * number is being verified it waits and is planned with the answer (here:
 * a READ event after the answer). */
static void read_event(struct session *c, uint32_t n, uint8_t how)
{
    struct obj *o = OBJ(nexus_map_lun(&c->nm, n));
    uint64_t lba = IN_RANGE(0, LU_BLOCKS - 1), qlba;
    uint32_t blocks = (uint32_t)IN_RANGE(1, LU_BLOCKS - lba);
    enum conf_coherence mode = c->coh == CONF_COHERENCE_OFF || !o ? CONF_COHERENCE_OFF
                                                                 : o->coh.mode;
    bool zero_only, excl = mode == CONF_COHERENCE_EXCLUSIVE;
    const struct nexus_lu *e = nexus_map_find(&c->nm, n);
    struct ua_stashed ua;
    struct query *q;
    int rc;

    if (!o && e && e->state == NEXUS_LU_VERIFYING) {
        ua_stash_take(&c->stash, n, OP_READ16, &ua);   /* reported, or it waits */
        return;
    }
    if (!o || o->state != O_ZERO_SERVING || mode == CONF_COHERENCE_OFF) {
        cmd_send(c, n, C_READ, NULL);
        return;
    }
    if (ua_stash_take(&c->stash, n, OP_READ16, &ua))
        return;
    rc = plan_read(o, excl, !excl || (how & 1), NULL, 0, lba, blocks, &qlba, &zero_only);
    if (rc == 1 && (q = query_new(o, c, n, qlba, true)) != NULL) {
        q->excl = excl;
        q->rlba = lba;
        q->rblocks = blocks;
    } else if (rc == 0 && !zero_only) {
        cmd_send(c, n, C_READ, o);                  /* its backend parts */
    } else if (rc == 0 && (how & 2)) {
        cmd_send(c, n, C_READ, NULL);               /* the one-second rule */
    }
}

/* ---- verifications, probes (lun_identity.c, lun.c) ------------------------------ */

static void verify_event(struct verify *v, bool answer)        /* verify_done */
{
    struct session *c = &S.ses[v->slot];
    struct nexus_lu *e;

    if (!v->executed) {                 /* INQUIRY reports no unit attention */
        v->executed = true;
        v->lu = S.map[v->slot][c->addr][v->n];
    }
    if (!answer)
        return;
    v->busy = false;
    if ((e = nexus_map_answer(&c->nm, v->n, v->gen)) != NULL) {
        bind(c, e, v->lu);
        c->named[v->n] = v->lu;         /* model: what this answer named */
        c->named_gen[v->n] = v->gen;
    }
}

static void probe_finish(struct probe *pr, bool failed)
{
    struct obj *o = pr->o;
    struct scsi_capacity cap = { .last_lba = LU_BLOCKS - 1, .num_blocks = LU_BLOCKS,
                                 .block_len = 512, .has_rc16_fields = true, .lbpme = true,
                                 .lbprz = true };
    struct scsi_block_limits bl = { 0 };
    struct scsi_lbp_vpd lbp = { .lbpu = true, .lbprz = 1, .prov_type = SCSI_PROV_TYPE_THIN };
    struct lu_geometry g;

    pr->busy = false;
    if (failed || o->coh.mode == CONF_COHERENCE_OFF ||
        lu_policy_geometry(&cap, &bl, &lbp, S.tg[o->target].page_bytes, &g) != NULL) {
        o->state = O_PASSTHROUGH;
        return;
    }
    o->n_blocks = g.n_blocks;
    o->max_xfer = g.max_xfer_blocks;
    allocmap_free(o->map);      /* one kept over a reload to off, then adopted */
    o->map = allocmap_new(o->n_blocks, g.page_blocks);
    CHECK(o->map != NULL);
    o->state = O_ZERO_SERVING;
}

static void probe_event(struct probe *pr)                       /* probe_done */
{
    struct obj *o = pr->o;
    unsigned ua = san_take_ua(pr->slot, pr->n);     /* READ CAPACITY(16) met one */

    if (ua)
        absorb(o, &S.ses[pr->slot], pr->n, ua);
    if (pr->gen != o->probe_gen)
        pr->busy = false;
    else if (!ua || ++o->probe_retries > PROBE_MAX_RETRIES)
        probe_finish(pr, ua != 0);
}

/* ---- the invariants ----------------------------------------------------------------- */

static void check(void)
{
    for (int i = 0; i < MAX_OBJ; i++)           /* I1 */
        for (int j = i + 1; j < MAX_OBJ; j++)
            CHECK(!S.obj[i].used || !S.obj[j].used ||
                  !lu_key_equal(&S.obj[i].key, &S.obj[j].key));
    for (int s = 0; s < N_SLOT; s++) {          /* I2 */
        const struct session *c = &S.ses[s];
        for (size_t i = 0; c->up && i < c->nm.n; i++) {
            const struct nexus_lu *e = &c->nm.v[i];
            if (e->state != NEXUS_LU_BOUND)
                continue;
            CHECK(c->named[e->lun_no] == OBJ(e->lun)->lu && c->named_gen[e->lun_no] == e->gen);
            CHECK(c->allowed[e->lun_no] >> OBJ(e->lun)->lu & 1);
        }
    }
    for (int i = 0; i < MAX_OBJ; i++) {         /* I3 */
        const struct obj *o = &S.obj[i];
        if (!o->used || o->state != O_ZERO_SERVING)
            continue;
        uint32_t pb = allocmap_page_blocks(o->map), gb = allocmap_granule_blocks(o->map);
        for (uint64_t b = 0; b < o->n_blocks; b++) {
            enum page_state st = allocmap_get(o->map, b / pb);
            bool zero = st == PAGE_UNALLOCATED || (st == PAGE_PARTIAL &&
                        (allocmap_partial_zeros(o->map, b / pb) >> (b % pb / gb) & 1));
            CHECK(!zero || S.data[o->lu][b] == 0 || S.written[o->lu][b]);
        }
    }
}

/* ---- guidance and tracing --------------------------------------------------------------- */

/* State coverage, in libFuzzer's extra counters, so that inputs reaching
 * new combinations are kept although they run no new code (issue 9's bugs
 * need long chains of events that code coverage does not reward): the
 * writers each kind of event met, and the abstract state of each object
 * (negatives, bound, another key with the designator, and whether that one
 * is the same LU (multipath) or another (template hosts), writes in flight) and
 * of each session (bindings, remaps not told, copies).  Presence only: an
 * input that merely repeats a state is not new. */
__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t feat[16 * 32 + 512 + 64];

static bool has_negatives(const struct obj *o)
{
    struct allocmap_stats st = { 0 };

    if (o->map)
        allocmap_stats(o->map, &st);
    return st.pages[PAGE_UNALLOCATED] + st.pages[PAGE_PARTIAL] != 0;
}

static void features(unsigned ev)
{
    unsigned g = S.blocked ? 1 : 0;
    bool neg[MAX_OBJ];

    for (int i = 0; i < MAX_OBJ; i++)
        neg[i] = S.obj[i].used && has_negatives(&S.obj[i]);
    for (int i = 0; i < MAX_CMD; i++)
        g |= (S.cmd[i].busy && S.cmd[i].lost ? 2u : 0) | (S.cmd[i].n_wrote ? 4u : 0);
    for (int i = 0; i < MAX_COPY; i++)
        g |= S.wc[i].busy && S.wc[i].running ? 8u : 0;
    for (int i = 0; i < MAX_QUERY; i++)
        g |= S.q[i].busy && S.q[i].st == Q_EXECUTED ? 16u : 0;
    feat[ev * 32 + g] = 1;
    for (int i = 0; i < MAX_OBJ; i++) {
        const struct obj *o = &S.obj[i];
        unsigned f = o->state | (neg[i] ? 4u : 0) | (g & 10 ? 128u : 0) |
                     (o->coh.mode == CONF_COHERENCE_EXCLUSIVE ? 8u : 0);
        if (!o->used)
            continue;
        for (int j = 0; j < MAX_OBJ; j++) {             /* may be the same LU */
            bool same_id = j != i && neg[j] && scsi_devid_equal(&o->key.id, &S.obj[j].key.id);
            f |= same_id ? 16u : 0;
            f |= same_id && S.obj[j].lu == o->lu ? 256u : 0;
        }
        for (int s = 0; s < N_SLOT; s++)
            for (uint32_t n = 0; S.ses[s].up && n < N_NUM; n++)
                f |= nexus_map_lun(&S.ses[s].nm, n) == LUN(o) ? 32u : 0;
        for (int b = 0; b < LU_BLOCKS; b++)
            f |= S.written[o->lu][b] ? 64u : 0;
        feat[16 * 32 + f] = 1;
    }
    for (int s = 0; s < N_SLOT; s++) {
        const struct session *c = &S.ses[s];
        unsigned f = (c->copies_blocking ? 1u : 0) | (c->n_running ? 2u : 0) |
                     (c->stash.n ? 4u : 0);
        for (uint32_t n = 0; c->up && n < N_NUM; n++)
            f |= (nexus_map_lun(&c->nm, n) ? 8u : 0) | (S.ua[s][n] & UA_REMAP ? 16u : 0) |
                 (c->allowed[n] & (c->allowed[n] - 1) ? 32u : 0);
        if (c->up)
            feat[16 * 32 + 512 + f] = 1;
    }
}

/* LU_MODEL_TRACE=1: each event and the state after it, to read a crash:
 * objects o<i>:<address>/<LU>/<state UPZT>/<coherence VXO>/<pages of
 * negatives>, sessions' numbers <n><Verifying|Bound|Unidentified><object>. */
static void trace(unsigned ev)
{
    fprintf(stderr, "ev %2u blocked %u |", ev, S.blocked);
    for (int i = 0; i < MAX_OBJ; i++) {
        struct allocmap_stats st = { 0 };
        if (!S.obj[i].used)
            continue;
        if (S.obj[i].map)
            allocmap_stats(S.obj[i].map, &st);
        fprintf(stderr, " o%d:a%d/LU%d/%c%c/%llu", i, S.tg[S.obj[i].target].addr, S.obj[i].lu,
                "UPZT"[S.obj[i].state], "VXO"[S.obj[i].coh.mode],
                (unsigned long long)(st.pages[PAGE_UNALLOCATED] + st.pages[PAGE_PARTIAL]));
    }
    for (int s = 0; s < N_SLOT; s++) {
        fprintf(stderr, " | s%d%s", s, S.ses[s].up ? "" : "-");
        for (size_t i = 0; S.ses[s].up && i < S.ses[s].nm.n; i++)
            fprintf(stderr, " %u%c%d", S.ses[s].nm.v[i].lun_no, "VBU"[S.ses[s].nm.v[i].state],
                    S.ses[s].nm.v[i].state == NEXUS_LU_BOUND
                    ? (int)(OBJ(S.ses[s].nm.v[i].lun) - S.obj) : -1);
    }
    fputc('\n', stderr);
}

/* ---- the driver ----------------------------------------------------------------------- */

/* 7 bytes: exports and designators, the targets, each slot's mapping and
 * the target it logs in to. */
static void setup(void)
{
    static const enum conf_coherence cohs[] = { CONF_COHERENCE_EXCLUSIVE,
        CONF_COHERENCE_EXCLUSIVE, CONF_COHERENCE_VERIFY, CONF_COHERENCE_OFF };
    uint8_t g = model_u8(&S.in), d3 = (g >> 2) % 3;

    S.exported[0][0] = S.exported[0][1] = S.exported[1][2] = S.exported[1][3] = true;
    S.exported[1][1] = g & 1;           /* one LU, two controllers: two keys */
    S.exported[0][2] = (g >> 1) & 1;
    S.desig[1] = 1;
    S.desig[2] = 2;                     /* LU3: LU0's designator (template), LU1's, or its own */
    S.desig[3] = d3 == 0 ? 0 : d3 == 1 && !S.exported[1][1] ? 1 : 3;
    S.ring_cap = (g >> 4) % 8 + 2;
    for (int t = 0; t < N_TARGET; t++) {
        uint8_t b = model_u8(&S.in);
        S.tg[t] = (struct target){ t < 2 ? 0 : 1, cohs[b % 4], 512u << ((b >> 2) % 3) };
    }
    for (int s = 0; s < N_SLOT; s++) {
        uint8_t b = model_u8(&S.in);
        for (int a = 0; a < N_ADDR; a++)
            for (uint32_t n = 0; n < N_NUM; n++) {
                int lu = (int)(((b >> (2 * n)) + 2u * (unsigned)a) % N_LU);
                while (!S.exported[a][lu])
                    lu = (lu + 1) % N_LU;
                S.map[s][a][n] = lu;
            }
        login(&S.ses[s], b % N_TARGET);
        memset(S.ua[s], 0, sizeof(S.ua[s]));    /* its first commands took the resets */
    }
}

/* The first i from k on (cyclically) for which ok(i), or -1. */
static int pick(unsigned k, int max, bool (*ok)(int))
{
    for (int i = 0; i < max; i++)
        if (ok((int)((k + (unsigned)i) % (unsigned)max)))
            return (int)((k + (unsigned)i) % (unsigned)max);
    return -1;
}

static bool cmd_ok(int i) { return S.cmd[i].busy && !S.cmd[i].lost; }
static bool query_ok(int i) { return S.q[i].busy; }
static bool verify_ok(int i) { return S.v[i].busy; }
static bool probe_ok(int i) { return S.pr[i].busy; }

/* One event: ev, a session and number byte b, an index byte k, and S.ev
 * for what the event reads itself. */
static void event(unsigned ev, uint8_t b, uint8_t k)
{
    static const enum ckind kinds[] = { C_WRITE, C_WRITE, C_UNMAP, C_COPY, C_COPY_STATUS,
                                        C_TUR };
    int slot = (b & 3) % N_SLOT;
    struct session *c = S.ses[slot].up ? &S.ses[slot] : NULL;
    uint32_t n = (b >> 2) % N_NUM;
    int it = pick(k, MAX_CMD, cmd_ok), iq = pick(k, MAX_QUERY, query_ok);
    int iv = pick(k, MAX_VERIFY, verify_ok), ip = pick(k, MAX_PROBE, probe_ok);
    struct obj *o;

    switch (ev) {
    case 0: case 1:     /* an initiator's WRITE, UNMAP, copy, copy status, TEST UNIT READY */
        if (c)
            cmd_send(c, n, kinds[k % 6], NULL);
        break;
    case 2:
        if (c)
            read_event(c, n, k);
        break;
    case 3: case 4:                     /* the SAN receives, or runs a piece of, a command */
        if (it >= 0)
            S.cmd[it].started ? cmd_piece(&S.cmd[it]) : (void)cmd_start(&S.cmd[it]);
        break;
    case 5: case 6:
        if (it >= 0)
            cmd_status(&S.cmd[it], k & 0x80);
        break;
    case 7:
        world_event(k);
        break;
    case 8:                             /* an initiator's GET LBA STATUS */
        if (c && (o = OBJ(nexus_map_lun(&c->nm, n))) != NULL)
            query_new(o, c, n, k % LU_BLOCKS, false);
        break;
    case 9:                             /* a query is sent, run by the SAN, answered */
        if (iq >= 0 && (S.q[iq].st == Q_EXECUTED ||
                        (S.q[iq].st == Q_SENT && query_step(&S.q[iq]) && (k & 0x80))))
            query_answer(&S.q[iq]);
        else if (iq >= 0 && S.q[iq].st == Q_COLLECTING)
            query_step(&S.q[iq]);
        break;
    case 10:
        if (iv >= 0)
            verify_event(&S.v[iv], k & 0x80);
        break;
    case 11:
        if (ip >= 0)
            probe_event(&S.pr[ip]);
        break;
    case 12:
        remap(slot, n, k);
        break;
    case 13:
        if (c)
            session_end(c, k & 1);
        else
            login(&S.ses[slot], k % N_TARGET);
        break;
    case 14:
        if (S.tm_n)
            timer_fire();
        break;
    default:
        reload((k & 3) % N_TARGET, (enum conf_coherence)((k >> 2) % 3));
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int tracing = -1;

    if (tracing < 0)
        tracing = getenv("LU_MODEL_TRACE") != NULL;
    memset(&S, 0, sizeof(S));
    S.in = (struct model_in){ data, size, 1 };
    setup();
    for (int i = 0; i < MAX_EVENTS && S.in.n >= 6; i++) {
        const uint8_t *e = S.in.p;
        unsigned ev = e[0] % 16u;
        S.in.p += 6;
        S.in.n -= 6;
        S.ev = (struct model_in){ e + 3, 2, (0x9e3779b9u ^ (uint32_t)e[5] * 0x01000193u) | 1 };
        event(ev, e[1], e[2]);
        features(ev);
        if (tracing)
            trace(ev);
        check();
    }
    for (int i = 0; i < N_SLOT; i++)
        nexus_map_destroy(&S.ses[i].nm);
    for (int i = 0; i < MAX_OBJ; i++) {
        allocmap_free(S.obj[i].map);
        if (S.obj[i].used)
            mutlog_destroy(&S.obj[i].log);
    }
    return 0;
}
