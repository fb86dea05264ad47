/*
 * The read side of fuzz_cache_model.c (its state and shadow map:
 * cache_model.h): GET LBA STATUS queries sent, executed (snapshot) and
 * answered, applied by the shipped cache_answer.c, or, for a backend READ,
 * its data applied by zero_learn.c; READs planned by read_plan.c in
 * `exclusive` and `verify` mode, each plan checked segment by segment
 * against the read_plan.h contract and the backend; and initiators' GET LBA
 * STATUS answered by the proxy (lba_status_answer.c), from the map in
 * `exclusive` mode, and in `verify` mode from mapped pages or a fresh
 * answer.  One translation unit, like cache_model.h.
 */
#ifndef ISP_FUZZ_CACHE_MODEL_READS_H
#define ISP_FUZZ_CACHE_MODEL_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cache_answer.h"
#include "lba_status_answer.h"
#include "read_plan.h"
#include "scsi_bytes.h"
#include "scsi_lba_status.h"
#include "zero_learn.h"

#include "cache_model.h"

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
    q->for_gls = false;
    for (uint64_t b = 0; b < S.lun; b++)
        q->dirty[b] = (uint8_t)inflight_touches(b);
    return q;
}

static void query_execute(void)
{
    struct query *q = in_slot(SLOT_QUERY, Q_SENT);

    if (q == NULL)
        return;
    memcpy(q->snap, S.backend, S.lun);
    q->state = Q_EXECUTED;
}

static bool plan_read(uint64_t lba, uint32_t blocks, bool trust, bool may_query,
                      const struct lba_extent *ans, size_t n_ans, uint64_t *query_lba);
static bool gls_reply(uint64_t lba, uint32_t alloc_len, bool verify,
                      const struct lba_answer *fresh);

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
    struct query *q = in_slot(SLOT_QUERY, Q_EXECUTED);
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
    if (q->for_gls) {
        struct lba_answer fresh = { .dealloc = S.ans, .n = res.n_out, .from = q->lba,
                                    .to = expect_drop ? q->lba : res.end_lba };
        CHECK(res.end_lba == q->limit);
        /* an answer with every negative dropped is none: the mapped pages
         * may answer, else the SAN does */
        CHECK(gls_reply(q->lba, q->gls_alloc, true, &fresh) || expect_drop);
    }
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

/* An initiator's GET LBA STATUS answered by the proxy (lba_status_answer.c):
 * well-formed (the proxy's own parser accepts it, first descriptor at the
 * STARTING LBA, whole descriptors within the allocation length), and never
 * deallocated for a block that holds data or that a mutation in flight (or
 * the unbounded writer) may touch; in verify mode, deallocated only where
 * the fresh answer said so.  Returns whether it was answered. */
static bool gls_reply(uint64_t lba, uint32_t alloc_len, bool verify,
                      const struct lba_answer *fresh)
{
    struct lba_status_request req = { .lba = lba, .alloc_len = alloc_len,
                                      .trust_unallocated = !verify, .fresh = fresh };
    struct lba_status_reply r;
    struct scsi_lba_run runs[16];
    struct scsi_lba_status_result res;

    if (lba_status_answer_build(S.map, S.lun, &req, S.answer, sizeof(S.answer), &r) !=
        LBA_STATUS_ANSWERED) {
        return false;
    }
    CHECK(req.lba < S.lun && r.ndesc >= 1 && r.len <= req.alloc_len &&
          r.len == SCSI_GLS_ALLOC_LEN(r.ndesc));
    CHECK(scsi_lba_status_parse(S.answer, r.len, req.lba, S.lun, runs, 16, &res) == 0);
    CHECK(res.end_lba == r.end_lba && !res.capped);
    memset(S.in_ans, 0, S.lun);
    for (size_t i = 0; verify && fresh && i < fresh->n; i++)
        memset(S.in_ans + fresh->dealloc[i].lba, 1, fresh->dealloc[i].blocks);
    for (size_t i = 0; i < res.nruns; i++) {
        if (!runs[i].unallocated)
            continue;
        for (uint64_t b = runs[i].lba; b < runs[i].lba + runs[i].blocks; b++)
            CHECK(S.backend[b] == 0 && !inflight_touches(b) && (!verify || S.in_ans[b]));
    }
    return true;
}

/* exclusive: answered from the map at once; verify: from mapped pages at
 * once, else after a query of its own. */
static void gls_event(void)
{
    bool verify = in_u8() & 1;
    uint64_t lba = in_range(0, S.lun + 1);
    uint32_t alloc_len = (uint32_t)in_range(0, SCSI_GLS_ALLOC_LEN(9));
    struct query *q;

    if (gls_reply(lba, alloc_len, verify, NULL) || !verify || lba >= S.lun ||
        alloc_len < SCSI_GLS_ALLOC_LEN(1) || (q = query_send(lba)) == NULL)
        return;
    q->for_gls = true;
    q->gls_alloc = alloc_len;
}

/* A backend READ on a LUN whose zeros come from data: sent now, executed
 * (snapshot) and answered (data_answer) later, like a query. */
static void data_read_event(void)
{
    struct query *q = query_send(in_range(0, S.lun - 1));

    if (q)
        q->for_data = true;
}

#endif
