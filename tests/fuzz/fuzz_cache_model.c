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
 * GOOD (zero_write.c, its own log entry still in flight), invalidations,
 * and negatives blocked everywhere (docs/ARCHITECTURE.md, "Mutations the
 * proxy cannot bound": while blocked, a writer the log does not know may
 * write any block; block and unblock make the LUN forget its negatives).
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
 *
 * Files: cache_model.h holds the state, the input, the shadow map and
 * check_map (with granule_model.h, the PARTIAL pages' model it shares with
 * fuzz_read_plan.c); cache_model_reads.h the read side: queries and their
 * answers, backend READ data, READ plans and initiators' GET LBA STATUS;
 * this file the writers (mutations, the unbounded writer), invalidations,
 * negatives blocked and unblocked, and the driver.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutlog.h"
#include "scsi_bytes.h"
#include "scsi_cdb.h"
#include "zero_write.h"

#include "cache_model_reads.h"

#define MAX_EVENTS 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- mutations ------------------------------------------------------------- */

static void mut_send(void)
{
    struct mut *m = in_slot(SLOT_MUT, false);

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
    struct mut *m = in_slot(SLOT_MUT, true);
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
    struct mut *m = in_slot(SLOT_MUT, true);

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
