/*
 * Model-based libFuzzer target for the allocation cache as a whole: the map
 * (allocmap.c), the race rule (mutlog.c), answers applied as the daemon
 * applies them (cache_answer.c, the shipped code) and the READ planner
 * (read_plan.c), driven on a small simulated LUN by a fuzzer-chosen
 * interleaving of events: mutations sent / executed by the backend (in any
 * pieces) / completed, GET LBA STATUS queries sent / executed (snapshot) /
 * answered (as parameter data), READs planned in `exclusive` and `verify`
 * mode, initiators' GET LBA STATUS answered from the map
 * (lba_status_answer.c), zeros learned from backend READ data
 * (zero_learn.c) and from WRITEs of zeros and WRITE SAMEs that completed
 * GOOD (zero_write.c, its own log entry still in flight), invalidations, and negatives blocked everywhere (docs/ARCHITECTURE.md,
 * "Mutations the proxy cannot bound": while blocked, a writer the log does
 * not know may write any block; block and unblock make the LUN forget its
 * negatives).
 *
 * The backend is a byte per block (zero or not).  Checked after every event:
 * the map equals a page-level shadow model of the allocmap.h contract,
 * PARTIAL pages' granule masks included (when the input caps the map's
 * memory it may differ as its fallbacks allow); every UNALLOCATED page and
 * every zero granule of a PARTIAL page reads zeros and no mutation in
 * flight touches it;
 * every answer extent the race rule lets through avoids each block that a
 * mutation in flight since the query was sent, or the unbounded writer, may
 * have touched (and covers the rest unless the ring overflowed, the log was
 * invalidated or negatives are blocked).  Every READ plan is compared segment
 * by segment with the read_plan.h contract; its zero segments read zeros now
 * and no mutation in flight touches them.
 *
 * Input: 5 bytes of geometry (6 with the memory cap), then events, one
 * selector byte each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocmap.h"
#include "cache_answer.h"
#include "lba_status_answer.h"
#include "zero_learn.h"
#include "zero_write.h"
#include "mutlog.h"
#include "read_plan.h"
#include "scsi_bytes.h"
#include "scsi_lba_status.h"

#include "fuzz_check.h"
#include "granule_model.h"

#define MAX_BLOCKS 1024
#define MAX_MUT 8
#define MAX_QUERY 6
#define MAX_EVENTS 2048
#define MAX_SEGS (2 * MAX_BLOCKS + 2)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum mut_kind { MUT_WRITE, MUT_WRITE_SAME_ZERO, MUT_WRITE_SAME_UNMAP, MUT_UNMAP, MUT_UNKNOWN,
                MUT_WRITE_ZERO, N_MUT_KINDS };

struct mut {
    bool busy;
    enum mut_kind kind;
    uint64_t lba, blocks;               /* blocks 0 .. lun; MUT_UNKNOWN: whole LUN */
    struct mutation node;
    /* zeros written (zero_write.c): what the race rule must leave out */
    unsigned completions;               /* other mutations completed since sent */
    bool invalidated;                   /* mutlog_invalidate since sent */
    uint8_t dirty[MAX_BLOCKS];          /* touched by another mutation in flight
                                           since sent, or while negatives were blocked */
    uint8_t done[MAX_BLOCKS];           /* its blocks the backend executed */
};

struct query {
    enum { Q_FREE, Q_SENT, Q_EXECUTED } state;
    uint64_t since, lba, limit;         /* asks [lba, lun); answers up to limit */
    unsigned completions;               /* mutations completed since it was sent */
    bool invalidated;                   /* mutlog_invalidate since it was sent */
    bool for_read;                      /* the answer of a verify-mode READ */
    bool for_data;                      /* a backend READ whose data teaches zeros */
    uint64_t read_lba;
    uint32_t read_blocks;
    uint8_t snap[MAX_BLOCKS];           /* the backend when the query ran */
    uint8_t dirty[MAX_BLOCKS];          /* touched by a mutation in flight since
                                           sent, or while negatives were blocked */
};

struct input {
    const uint8_t *p;
    size_t n;
};

static struct sim {
    struct input in;
    uint64_t lun;
    uint32_t pb, max_xfer;
    uint64_t pages;
    size_t ring_cap;
    bool limited;                       /* map detail memory capped: fallbacks */
    uint64_t checks;                    /* check_map calls so far */
    struct allocmap *map;
    struct mutlog log;
    uint8_t backend[MAX_BLOCKS];
    uint8_t inflight[MAX_BLOCKS];       /* mutations in flight touching a block */
    unsigned blocked;                   /* negatives blocked everywhere (count) */
    enum page_state shadow[MAX_BLOCKS];
    uint16_t shadow_zeros[MAX_BLOCKS];  /* PARTIAL pages: zero granules */
    uint32_t gb, granules;              /* blocks per granule, granules per page */
    struct mut mut[MAX_MUT];
    struct query q[MAX_QUERY];
    uint8_t answer[SCSI_GLS_ALLOC_LEN(MAX_BLOCKS)];    /* parameter data */
    struct lba_extent ans[MAX_BLOCKS];  /* filtered negatives of the answer at hand */
    struct lba_extent mapped[MAX_BLOCKS];   /* its mapped runs */
    uint8_t neg[MAX_BLOCKS];            /* the blocks it reports unallocated */
    uint8_t in_ans[MAX_BLOCKS];         /* the blocks of the (READ's) answer */
    struct read_seg segs[MAX_SEGS], want[MAX_SEGS];
    uint8_t zero_data[MAX_BLOCKS];      /* a WRITE's Data-Out of zeros */
} S;

static uint8_t in_u8(void)
{
    if (S.in.n == 0)
        return 0;
    S.in.n--;
    return *S.in.p++;
}

/* A number in [lo, hi]. */
static uint64_t in_range(uint64_t lo, uint64_t hi)
{
    uint32_t v = (uint32_t)in_u8() << 8 | in_u8();

    return lo + v % (hi - lo + 1);
}

/* ---- the shadow map: allocmap.h's contract, page by page ------------------ */

static uint64_t page_end(uint64_t p)
{
    uint64_t e = (p + 1) * S.pb;

    return e < S.lun ? e : S.lun;
}

static bool page_touched(uint64_t p, uint64_t lba, uint64_t end)
{
    return lba < end && p * S.pb < end && lba < page_end(p);
}

static bool page_covered(uint64_t p, uint64_t lba, uint64_t end)
{
    return lba <= p * S.pb && page_end(p) <= end;
}

static uint64_t clip_end(uint64_t lba, uint64_t blocks)
{
    if (blocks == MUTLOG_WHOLE_LUN)
        return S.lun;
    return lba + blocks < S.lun ? lba + blocks : S.lun;
}

static void shadow_mark_allocated(uint64_t lba, uint64_t blocks)
{
    uint64_t end = clip_end(lba, blocks);

    allocmap_mark_allocated(S.map, lba, blocks);
    for (uint64_t p = lba / S.pb; p * S.pb < end; p++)
        if (page_touched(p, lba, end))
            S.shadow[p] = PAGE_ALLOCATED;
}

static void shadow_forget_covered(uint64_t lba, uint64_t blocks)
{
    uint64_t end = clip_end(lba, blocks);

    allocmap_forget_covered(S.map, lba, blocks);
    for (uint64_t p = lba / S.pb; p * S.pb < end; p++)
        if (lba < end && page_covered(p, lba, end))
            S.shadow[p] = PAGE_UNKNOWN;
}

/* What allocmap_learn_unallocated / _allocated do to the shadow (the map
 * itself learns through cache_answer_apply). */
static void shadow_learn(bool unallocated, uint64_t lba, uint64_t blocks)
{
    uint64_t end = clip_end(lba, blocks);
    uint16_t all = (uint16_t)((1u << S.granules) - 1), z;

    for (uint64_t p = lba / S.pb; p * S.pb < end && lba < end; p++) {
        enum page_state *sp = &S.shadow[p];
        if (!unallocated) {
            if (page_touched(p, lba, end))
                *sp = model_learn_allocated(*sp, &S.shadow_zeros[p], p * S.pb, page_end(p),
                                            S.gb, S.granules, lba, end);
            continue;
        }
        if (*sp != PAGE_UNKNOWN && *sp != PAGE_PARTIAL)
            continue;
        if (page_covered(p, lba, end)) {
            *sp = PAGE_UNALLOCATED;
            continue;
        }
        z = S.granules > 1 ? model_granules_covered(p * S.pb, page_end(p), S.gb, S.granules,
                                                     lba, end) : 0;
        if (z == 0)
            continue;
        z |= *sp == PAGE_PARTIAL ? S.shadow_zeros[p] : 0;
        *sp = z == all ? PAGE_UNALLOCATED : PAGE_PARTIAL;
        S.shadow_zeros[p] = z;
    }
}

static void shadow_forget_unallocated(uint64_t lba, uint64_t blocks)
{
    uint64_t end = clip_end(lba, blocks);

    allocmap_forget_unallocated(S.map, lba, blocks);
    for (uint64_t p = lba / S.pb; p * S.pb < end; p++)
        if ((S.shadow[p] == PAGE_UNALLOCATED || S.shadow[p] == PAGE_PARTIAL)
            && page_touched(p, lba, end))
            S.shadow[p] = PAGE_UNKNOWN;
}

static void shadow_invalidate(void)
{
    allocmap_invalidate(S.map);
    for (uint64_t p = 0; p < S.pages; p++)
        S.shadow[p] = PAGE_UNKNOWN;
}

/* A mutation in flight, or the writer the log cannot bound. */
static bool inflight_touches(uint64_t b)
{
    return S.inflight[b] > 0 || S.blocked > 0;
}

/* The map against the shadow (unless memory is capped: then the map falls to
 * its safe side and only the invariant holds), and the invariant itself. */
static void check_map(void)
{
    struct allocmap_stats st;
    uint64_t count[PAGE_STATES] = { 0 }, p0, run, max;
    enum page_state st0;

    for (uint64_t p = 0; p < S.pages; p += run) {      /* walk the map by runs */
        enum page_state r = allocmap_run(S.map, p, S.pages - p, &run);

        CHECK(run >= 1 && p + run <= S.pages);
        CHECK(p + run == S.pages || allocmap_get(S.map, p + run) != r);
        count[r] += run;
        for (uint64_t k = p; k < p + run; k++) {
            CHECK(S.limited || r == S.shadow[k]);
            if (r != PAGE_PARTIAL)
                continue;
            uint16_t z = allocmap_partial_zeros(S.map, k);
            CHECK(z != (uint16_t)((1u << S.granules) - 1));   /* 0: told in part */
            CHECK(S.limited || z == S.shadow_zeros[k]);
            for (uint64_t b = k * S.pb; b < page_end(k); b++)
                CHECK(!(z >> ((b - k * S.pb) / S.gb) & 1)
                      || (S.backend[b] == 0 && !inflight_touches(b)));
        }
        if (r != PAGE_UNALLOCATED)
            continue;
        for (uint64_t b = p * S.pb; b < page_end(p + run - 1); b++)
            CHECK(S.backend[b] == 0 && !inflight_touches(b));
    }
    allocmap_stats(S.map, &st);
    for (int k = 0; k < PAGE_STATES; k++)
        CHECK(st.pages[k] == count[k]);

    S.checks++;                         /* allocmap_run from a varying page */
    p0 = S.checks * 7919 % S.pages;
    max = S.checks * 31 % S.pages + 1;
    st0 = allocmap_get(S.map, p0);
    CHECK(allocmap_run(S.map, p0, max, &run) == st0);
    CHECK(run >= 1 && run <= max && p0 + run <= S.pages);
    for (uint64_t p = p0; p < p0 + run; p++)
        CHECK(allocmap_get(S.map, p) == st0);
    CHECK(run == max || p0 + run == S.pages || allocmap_get(S.map, p0 + run) != st0);
}

/* ---- mutations ------------------------------------------------------------- */

static struct mut *pick_mut(bool busy)
{
    size_t i = in_u8() % MAX_MUT;

    for (size_t k = 0; k < MAX_MUT; k++, i = (i + 1) % MAX_MUT)
        if (S.mut[i].busy == busy)
            return &S.mut[i];
    return NULL;
}

static void mut_send(void)
{
    struct mut *m = pick_mut(false);

    if (m == NULL)
        return;
    m->kind = (enum mut_kind)(in_u8() % N_MUT_KINDS);
    m->lba = in_range(0, S.lun - 1);
    m->blocks = in_range(0, S.lun - m->lba);
    if (m->kind == MUT_UNKNOWN) {
        m->lba = 0;
        m->blocks = MUTLOG_WHOLE_LUN;
    }
    m->busy = true;
    m->completions = 0;
    m->invalidated = false;
    for (uint64_t b = 0; b < S.lun; b++) {
        m->dirty[b] = (uint8_t)inflight_touches(b);
        m->done[b] = 0;
    }
    for (uint64_t b = m->lba; b < clip_end(m->lba, m->blocks); b++) {
        S.inflight[b]++;
        for (size_t i = 0; i < MAX_QUERY; i++)
            if (S.q[i].state != Q_FREE)
                S.q[i].dirty[b] = 1;
        for (size_t i = 0; i < MAX_MUT; i++)
            if (S.mut[i].busy && &S.mut[i] != m)
                S.mut[i].dirty[b] = 1;
    }
    /* The proxy: log it, mark it, then send it. */
    mutlog_begin(&S.log, &m->node, m->lba, m->blocks);
    if (m->kind == MUT_UNKNOWN)
        shadow_invalidate();
    else
        shadow_mark_allocated(m->lba, m->blocks);
}

/* The backend executes a piece of a mutation (several pieces in any order;
 * none at all if the command fails). */
static void mut_execute(void)
{
    struct mut *m = pick_mut(true);
    uint64_t end, a, b;
    uint8_t v = in_u8();

    if (m == NULL)
        return;
    end = clip_end(m->lba, m->blocks);
    if (m->lba >= end)
        return;
    a = in_range(m->lba, end - 1);
    b = in_range(a + 1, end);
    switch (m->kind) {
    case MUT_WRITE:             /* data of either kind */
    case MUT_UNKNOWN:           /* anything at all */
        v &= 1;
        break;
    case MUT_WRITE_SAME_ZERO:
    case MUT_WRITE_SAME_UNMAP:
    case MUT_WRITE_ZERO:
        v = 0;
        break;
    case MUT_UNMAP:             /* advice: the backend may keep the data */
        if (v & 1)
            return;
        v = 0;
        break;
    case N_MUT_KINDS:
        abort();
    }
    memset(S.backend + a, v, b - a);
    memset(m->done + a, 1, b - a);
}

/* A command of zeros completed GOOD: the backend executed every block of it
 * (those it had not yet, now); the shipped zero_write.c learns, its own
 * entry still in flight, as the daemon calls it (exclusive, zeros from
 * data, LBPRZ=1 as the backend model has it).  Expected: the blocks no other
 * mutation touched since it was sent, unless the log forgot or negatives
 * are blocked; pages they cover become UNALLOCATED. */
static void mut_zeros_learned(struct mut *m)
{
    static const uint8_t zero_block[1];
    uint64_t end = clip_end(m->lba, m->blocks), want = 0, run = 0;
    uint8_t cdb[16] = { 0 };
    struct scsi_cdb_info ci;

    for (uint64_t b = m->lba; b < end; b++)
        if (!m->done[b])
            S.backend[b] = 0;
    cdb[0] = m->kind == MUT_WRITE_ZERO ? 0x8a : 0x93;
    cdb[1] = m->kind == MUT_WRITE_SAME_UNMAP ? 0x08 : 0;
    scsi_put_be64(cdb + 2, m->lba);
    scsi_put_be32(cdb + 10, (uint32_t)m->blocks);
    CHECK(scsi_cdb_decode(cdb, sizeof(cdb), &ci) == 0);
    uint64_t got = zero_write_apply(&(struct zero_write_in){
        .map = S.map, .log = &S.log, .zeros_from = LU_ZEROS_FROM_DATA, .exclusive = true,
        .negatives_blocked = S.blocked > 0, .unmapped_reads_zeros = true, .lun_blocks = S.lun,
        .block_size = 1, .ci = &ci, .cdb = cdb, .self = &m->node, .same_facts = true,
        .sent_bound = true, .data = m->kind == MUT_WRITE_ZERO ? S.zero_data : zero_block,
        .len = m->kind == MUT_WRITE_ZERO ? (size_t)m->blocks : 1,
    });
    /* WRITE SAME of 0 blocks means to the end, which its log entry (0
     * blocks) does not cover: nothing. */
    bool drop = m->blocks == 0 || m->completions > S.ring_cap || m->invalidated || S.blocked;
    for (uint64_t b = m->lba; b <= end && !drop; b++) {
        if (b < end && !m->dirty[b]) {
            run++;
            want++;
            continue;
        }
        if (run) {
            uint64_t first, last;
            first = (b - run + S.pb - 1) / S.pb;
            last = b == S.lun ? S.pages : b / S.pb;
            for (uint64_t p = first; p < last; p++)
                S.shadow[p] = PAGE_UNALLOCATED;
        }
        run = 0;
    }
    CHECK(got == want);
}

static void mut_complete(void)
{
    struct mut *m = pick_mut(true);

    if (m == NULL)
        return;
    /* As task_cache_completed: UNMAP's advice, then zeros written, then
     * the log entry ends. */
    if (m->kind == MUT_UNMAP || m->kind == MUT_WRITE_SAME_UNMAP)
        shadow_forget_covered(m->lba, m->blocks);
    if ((m->kind == MUT_WRITE_ZERO || m->kind == MUT_WRITE_SAME_ZERO ||
         m->kind == MUT_WRITE_SAME_UNMAP) && (in_u8() & 1))
        mut_zeros_learned(m);
    mutlog_end(&S.log, &m->node);
    m->busy = false;
    for (uint64_t b = m->lba; b < clip_end(m->lba, m->blocks); b++)
        S.inflight[b]--;
    for (size_t i = 0; i < MAX_QUERY; i++)
        if (S.q[i].state != Q_FREE)
            S.q[i].completions++;
    for (size_t i = 0; i < MAX_MUT; i++)
        if (S.mut[i].busy)
            S.mut[i].completions++;
}

/* ---- queries --------------------------------------------------------------- */

static struct query *query_send(uint64_t lba)
{
    struct query *q = NULL;

    for (size_t i = 0; i < MAX_QUERY && q == NULL; i++)
        if (S.q[i].state == Q_FREE)
            q = &S.q[i];
    if (q == NULL)
        return NULL;
    q->state = Q_SENT;
    q->since = mutlog_now(&S.log);
    q->lba = lba;
    q->limit = in_range(lba + 1, S.lun);
    q->completions = 0;
    q->invalidated = false;
    q->for_read = false;
    q->for_data = false;
    for (uint64_t b = 0; b < S.lun; b++)
        q->dirty[b] = (uint8_t)inflight_touches(b);
    return q;
}

static struct query *pick_query(int state)
{
    size_t i = in_u8() % MAX_QUERY;

    for (size_t k = 0; k < MAX_QUERY; k++, i = (i + 1) % MAX_QUERY)
        if ((int)S.q[i].state == state)
            return &S.q[i];
    return NULL;
}

static void query_execute(void)
{
    struct query *q = pick_query(Q_SENT);

    if (q == NULL)
        return;
    memcpy(q->snap, S.backend, S.lun);
    q->state = Q_EXECUTED;
}

static bool plan_read(uint64_t lba, uint32_t blocks, bool trust, bool may_query,
                      const struct lba_extent *ans, size_t n_ans, uint64_t *query_lba);

/* One LBA status descriptor into the parameter data. */
static void put_desc(size_t i, uint64_t lba, uint64_t blocks, uint8_t status)
{
    uint8_t *d = S.answer + SCSI_GLS_HDR_LEN + i * SCSI_GLS_DESC_LEN;

    memset(d, 0, SCSI_GLS_DESC_LEN);
    scsi_put_be64(d, lba);
    scsi_put_be32(d + 8, (uint32_t)blocks);
    d[12] = status;
}

/* zero_learn.c's contract, as the model sees it: the all-zero whole
 * granules of the READ's data, run by run, through the race rule (the
 * shipped mutlog_filter); the parts it lets through avoid every block a
 * mutation may have touched since the READ was sent, and read zeros in the
 * snapshot. */
static uint64_t model_learned;

static void model_emit(void *arg, uint64_t lba, uint64_t blocks)
{
    const struct query *q = arg;

    for (uint64_t b = lba; b < lba + blocks; b++)
        CHECK(q->snap[b] == 0 && !q->dirty[b]);
    shadow_learn(true, lba, blocks);
    model_learned += blocks;
}

static void data_answer(struct query *q)
{
    uint64_t run = 0, run_lba = 0;
    bool going = S.blocked == 0;

    model_learned = 0;
    for (uint64_t gs = (q->lba + S.gb - 1) / S.gb * S.gb; going && gs < q->limit; gs += S.gb) {
        uint64_t ge = gs + S.gb < S.lun ? gs + S.gb : S.lun;
        bool zero = ge <= q->limit;
        for (uint64_t b = gs; zero && b < ge; b++)
            zero = q->snap[b] == 0;
        if (zero) {
            run_lba = run ? run_lba : gs;
            run += ge - gs;
            continue;
        }
        if (run)
            going = mutlog_filter(&S.log, q->since, run_lba, run, model_emit, q);
        run = 0;
    }
    if (going && run)
        mutlog_filter(&S.log, q->since, run_lba, run, model_emit, q);
    /* The shipped code on the real map (the shadow above is the model). */
    uint64_t learned = zero_learn_apply(&(struct zero_learn_in){
        .map = S.map, .log = &S.log, .negatives_blocked = S.blocked > 0, .since = q->since,
        .lba = q->lba, .blocks = q->limit - q->lba, .block_size = 1, .data = q->snap + q->lba,
    });
    CHECK(learned == model_learned);
    check_map();
    q->state = Q_FREE;
}

/* The answer arrives: descriptors from the snapshot, zero runs reported as
 * deallocated (or anchored) or mapped as the fuzzer likes, in pieces, up to
 * the limit.  The shipped code applies it; what it says it let through is
 * checked against the blocks the race rule must leave out, and the shadow
 * learns it. */
static void query_answer(void)
{
    static const uint8_t mapped[] = { SCSI_PROV_MAPPED_OR_UNKNOWN, SCSI_PROV_MAPPED,
                                      SCSI_PROV_UNKNOWN };
    struct query *q = pick_query(Q_EXECUTED);
    uint64_t b, run_end, len, end = 0;
    size_t n_mapped = 0, n_desc = 0;
    struct cache_answer_result res;
    bool expect_drop;
    uint8_t d;

    if (q == NULL)
        return;
    if (q->for_data) {
        data_answer(q);
        return;
    }
    memset(S.neg, 0, S.lun);
    for (b = q->lba; b < q->limit; b += len) {
        for (run_end = b; run_end < q->limit && q->snap[run_end] == q->snap[b]; run_end++)
            ;
        d = in_u8();
        len = (d >> 1) == 0 || (d >> 1) > run_end - b ? run_end - b : d >> 1;
        if (q->snap[b] != 0 || (d & 1) != 0) {
            put_desc(n_desc++, b, len, mapped[b % 3]);
            /* the parser merges adjacent runs of a kind, and a page two
             * mapped descriptors cover together is covered */
            if (n_mapped > 0 && S.mapped[n_mapped - 1].lba + S.mapped[n_mapped - 1].blocks == b)
                S.mapped[n_mapped - 1].blocks += len;
            else
                S.mapped[n_mapped++] = (struct lba_extent){ b, len };
            continue;
        }
        put_desc(n_desc++, b, len, b & 1 ? SCSI_PROV_ANCHORED : SCSI_PROV_DEALLOCATED);
        memset(S.neg + b, 1, len);
    }
    memset(S.answer, 0, SCSI_GLS_HDR_LEN);
    scsi_put_be32(S.answer, (uint32_t)(4 + n_desc * SCSI_GLS_DESC_LEN));

    res = cache_answer_apply(&(struct cache_answer_in){
        .map = S.map, .log = &S.log, .lun_blocks = S.lun, .negatives_blocked = S.blocked > 0,
        .since = q->since, .buf = S.answer, .len = SCSI_GLS_ALLOC_LEN(n_desc),
        .asked_lba = q->lba, .out = S.ans, .out_cap = MAX_BLOCKS,
    });
    expect_drop = q->completions > S.ring_cap || q->invalidated || S.blocked > 0;
    CHECK(!res.no_memory && res.err == SCSI_LBAS_OK && res.ndesc == n_desc);
    CHECK(res.dropped_race == expect_drop && res.n_out <= MAX_BLOCKS);
    /* Let through: ascending, reported unallocated, touched by nothing that
     * may have written since the query was sent.  Left out: only such
     * blocks, unless the whole answer's negatives were dropped. */
    memset(S.in_ans, 0, S.lun);
    for (size_t i = 0; i < res.n_out; i++) {
        const struct lba_extent *e = &S.ans[i];

        CHECK(e->blocks > 0 && e->lba >= end && e->lba + e->blocks <= q->limit);
        end = e->lba + e->blocks;
        for (b = e->lba; b < end; b++) {
            CHECK(S.neg[b] && !q->dirty[b]);
            S.in_ans[b] = 1;
        }
    }
    for (b = q->lba; b < q->limit; b++)
        CHECK(S.in_ans[b] == (S.neg[b] && !q->dirty[b] && !expect_drop));
    /* allocmap.h's contract for what cache_answer_apply told the map: the
     * negatives first, then the mapped runs. */
    for (size_t i = 0; i < res.n_out; i++)
        shadow_learn(true, S.ans[i].lba, S.ans[i].blocks);
    for (size_t i = 0; i < n_mapped; i++)
        shadow_learn(false, S.mapped[i].lba, S.mapped[i].blocks);
    check_map();
    if (q->for_read)
        plan_read(q->read_lba, q->read_blocks, false, false, S.ans, res.n_out, NULL);
    q->state = Q_FREE;
}

/* ---- READs ----------------------------------------------------------------- */

/* Plans a READ and checks the plan against the contract and the backend.
 * Returns true if the READ needs a query, from *query_lba. */
static bool plan_read(uint64_t lba, uint32_t blocks, bool trust, bool may_query,
                      const struct lba_extent *ans, size_t n_ans, uint64_t *query_lba)
{
    struct read_plan_in rin = {
        .map = S.map, .trust_unallocated = trust, .may_query = may_query,
        .answer = ans, .n_answer = n_ans, .lba = lba, .blocks = blocks,
        .max_xfer_blocks = S.max_xfer,
    };
    size_t n_want = 0, cap = in_u8() & 1 ? MAX_SEGS : in_range(0, 4);
    uint64_t unknown = UINT64_MAX;
    struct read_plan plan;
    bool any_zero = false;
    int rc;

    memset(S.in_ans, 0, S.lun);
    for (size_t i = 0; i < n_ans; i++)
        memset(S.in_ans + ans[i].lba, 1, ans[i].blocks);
    for (uint64_t b = lba; b < lba + blocks; b++) {
        enum page_state st = allocmap_get(S.map, b / S.pb);
        uint16_t z = allocmap_partial_zeros(S.map, b / S.pb);
        bool zero = (trust && st == PAGE_UNALLOCATED) || S.in_ans[b]
                    || (trust && (z >> (b % S.pb / S.gb) & 1));
        enum read_seg_kind kind = zero ? SEG_ZERO : SEG_BACKEND;
        struct read_seg *w = n_want > 0 ? &S.want[n_want - 1] : NULL;

        if (st != PAGE_ALLOCATED && st != PAGE_PARTIAL && !zero && unknown == UINT64_MAX)
            unknown = b;
        if (w != NULL && w->kind == kind && (kind == SEG_ZERO || w->blocks < S.max_xfer)) {
            w->blocks++;
        } else {
            S.want[n_want].kind = kind;
            S.want[n_want].lba = b;
            S.want[n_want].blocks = 1;
            n_want++;
        }
    }

    rc = read_plan_make(&rin, S.segs, cap, &plan);
    if (may_query && unknown != UINT64_MAX) {
        CHECK(rc == 0 && plan.needs_query && plan.n_segs == 0 && plan.query_lba == unknown);
        *query_lba = unknown;
        return true;
    }
    if (n_want > cap) {
        CHECK(rc == -1);
        return false;
    }
    CHECK(rc == 0 && !plan.needs_query && plan.n_segs == n_want);
    for (size_t i = 0; i < n_want; i++) {
        const struct read_seg *s = &S.segs[i];

        CHECK(s->kind == S.want[i].kind && s->lba == S.want[i].lba &&
              s->blocks == S.want[i].blocks);
        if (s->kind == SEG_BACKEND)
            continue;
        any_zero = true;
        for (uint64_t b = s->lba; b < s->lba + s->blocks; b++)
            CHECK(S.backend[b] == 0 && !inflight_touches(b));
    }
    CHECK(!(any_zero && plan.all_backend));
    return false;
}

static void read_event(bool verify)
{
    uint64_t lba = in_range(0, S.lun - 1);
    uint32_t blocks = (uint32_t)in_range(1, S.lun - lba);
    uint64_t qlba;
    struct query *q;

    if (verify) {
        /* verify: only ALLOCATED is trusted; ask, and plan with the answer */
        if (!plan_read(lba, blocks, false, true, NULL, 0, &qlba) ||
            (q = query_send(qlba)) == NULL)
            return;
        q->for_read = true;
        q->read_lba = lba;
        q->read_blocks = blocks;
        return;
    }
    /* exclusive: UNALLOCATED is trusted; unknown pages are asked about, and
     * the READ may also go out without waiting */
    if (plan_read(lba, blocks, true, in_u8() & 1, NULL, 0, &qlba)) {
        query_send(qlba);
        plan_read(lba, blocks, true, false, NULL, 0, NULL);
    }
}

/* An initiator's GET LBA STATUS answered from the map (lba_status_answer.c):
 * well-formed (the proxy's own parser accepts it, first descriptor at the
 * STARTING LBA, whole descriptors within the allocation length), and never
 * deallocated for a block that holds data or that a mutation in flight (or
 * the unbounded writer) may touch. */
static void gls_event(void)
{
    struct lba_status_request req = { .lba = in_range(0, S.lun + 1),
                                      .alloc_len = (uint32_t)in_range(0, SCSI_GLS_ALLOC_LEN(9)) };
    struct lba_status_reply r;
    struct scsi_lba_run runs[16];
    struct scsi_lba_status_result res;

    if (lba_status_answer_build(S.map, S.lun, &req, S.answer, sizeof(S.answer), &r) !=
        LBA_STATUS_ANSWERED) {
        return;
    }
    CHECK(req.lba < S.lun && r.ndesc >= 1 && r.len <= req.alloc_len &&
          r.len == SCSI_GLS_ALLOC_LEN(r.ndesc));
    CHECK(scsi_lba_status_parse(S.answer, r.len, req.lba, S.lun, runs, 16, &res) == 0);
    CHECK(res.end_lba == r.end_lba && !res.capped);
    for (size_t i = 0; i < res.nruns; i++) {
        if (!runs[i].unallocated)
            continue;
        for (uint64_t b = runs[i].lba; b < runs[i].lba + runs[i].blocks; b++)
            CHECK(S.backend[b] == 0 && !inflight_touches(b));
    }
}

/* A backend READ on a LUN whose zeros come from data: sent now, executed
 * (snapshot) and answered (data_answer) later, like a query. */
static void data_read_event(void)
{
    struct query *q = query_send(in_range(0, S.lun - 1));

    if (q)
        q->for_data = true;
}

/* ---- the driver ------------------------------------------------------------ */

static void invalidate_event(void)
{
    uint8_t how = in_u8() % 3;
    uint64_t lba, blocks;

    if (how == 0) {
        lba = in_range(0, S.lun - 1);
        blocks = in_range(0, S.lun);
        shadow_forget_unallocated(lba, blocks);
        return;
    }
    shadow_invalidate();
    if (how == 2) {
        mutlog_invalidate(&S.log);
        for (size_t i = 0; i < MAX_QUERY; i++)
            S.q[i].invalidated = true;
        for (size_t i = 0; i < MAX_MUT; i++)
            S.mut[i].invalidated = true;
    }
}

/* Negatives blocked everywhere, or the block lifted (lun_block_negatives,
 * lun_unblock_negatives): either way the LUN forgets its negatives
 * (lun_forget_negatives), and while blocked no answer may teach one. */
static void block_event(bool block)
{
    if (!block && S.blocked == 0)
        return;
    if (block)
        S.blocked++;
    else
        S.blocked--;
    mutlog_invalidate(&S.log);
    for (size_t i = 0; i < MAX_MUT; i++)
        S.mut[i].invalidated = true;
    shadow_forget_unallocated(0, S.lun);
    for (size_t i = 0; i < MAX_QUERY; i++) {
        S.q[i].invalidated = true;
        if (S.blocked > 0)
            memset(S.q[i].dirty, 1, S.lun);
    }
}

/* While blocked: a copy offload or a mutation of unknown outcome writes
 * anywhere, unseen by the log. */
static void unbounded_write(void)
{
    uint64_t a = in_range(0, S.lun - 1), b = in_range(a + 1, S.lun);
    uint8_t v = in_u8() & 1;

    if (S.blocked > 0)
        memset(S.backend + a, v, b - a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&S, 0, sizeof(S));
    S.in.p = data;
    S.in.n = size;
    S.lun = in_range(64, MAX_BLOCKS);
    S.pb = 1u << (in_u8() % 7);
    S.max_xfer = (uint32_t)(in_u8() % 64) + 1;
    S.ring_cap = in_u8();
    S.limited = S.ring_cap & 0x80;
    /* 1..16, or around the filter's batch of 64 ranges */
    S.ring_cap = (S.ring_cap & 0x40 ? 56 : 0) + S.ring_cap % 16 + 1;
    S.pages = (S.lun + S.pb - 1) / S.pb;
    S.map = allocmap_new(S.lun, S.pb);
    S.gb = S.map ? allocmap_granule_blocks(S.map) : 1;
    S.granules = S.pb / S.gb;
    CHECK(S.map != NULL && allocmap_lun_blocks(S.map) == S.lun &&
          allocmap_page_blocks(S.map) == S.pb && allocmap_pages(S.map) == S.pages);
    if (S.limited)
        allocmap_set_detail_limit(S.map, (size_t)in_u8() * 2);
    CHECK(mutlog_init(&S.log, S.ring_cap) == 0);

    for (int ev = 0; ev < MAX_EVENTS && S.in.n > 0; ev++) {
        switch (in_u8() % 17) {
        case 0: case 1: mut_send(); break;
        case 2: case 3: mut_execute(); break;
        case 4: mut_complete(); break;
        case 5: query_send(in_range(0, S.lun - 1)); break;
        case 6: query_execute(); break;
        case 7: case 8: query_answer(); break;
        case 9: read_event(false); break;
        case 10: read_event(true); break;
        case 11: invalidate_event(); break;
        case 12: block_event(true); break;
        case 13: block_event(false); break;
        case 14: gls_event(); break;
        case 15: data_read_event(); break;
        default: unbounded_write(); break;
        }
        check_map();
    }
    allocmap_free(S.map);
    mutlog_destroy(&S.log);
    return 0;
}
