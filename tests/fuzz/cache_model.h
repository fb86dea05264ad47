/*
 * fuzz_cache_model.c's simulated LUN, its state and its shadow map (its only
 * user: one translation unit, hence the state and static functions in a
 * header).  The LUN: a byte per block (zero or not), the mutations and
 * queries in flight, the mutation log and the map under test; the
 * fuzzer's input; the shadow map, allocmap.h's contract page by page
 * (PARTIAL pages' granules: granule_model.h, shared with fuzz_read_plan.c);
 * and check_map, the map invariant checked after every event.  No event
 * lives here (queries, READs and GET LBA STATUS: cache_model_reads.h;
 * mutations, invalidations, negatives blocked and the driver:
 * fuzz_cache_model.c).
 */
#ifndef ISP_FUZZ_CACHE_MODEL_H
#define ISP_FUZZ_CACHE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocmap.h"
#include "mutlog.h"
#include "read_plan.h"
#include "scsi_lba_status.h"

#include "fuzz_check.h"
#include "granule_model.h"

#define MAX_BLOCKS 1024
#define MAX_MUT 8
#define MAX_QUERY 6
#define MAX_SEGS (2 * MAX_BLOCKS + 2)

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
    bool for_gls;                       /* the answer of a verify-mode initiator's
                                           GET LBA STATUS from lba */
    uint64_t read_lba;
    uint32_t read_blocks;
    uint32_t gls_alloc;                 /* that GET LBA STATUS's allocation length */
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

/* A struct mut of S.mut whose busy is `want`, or a struct query of S.q
 * whose state is: the first from one the input chooses on, wrapping; NULL
 * if none. */
enum slot_kind { SLOT_MUT, SLOT_QUERY };

static void *in_slot(enum slot_kind kind, int want)
{
    size_t n = kind == SLOT_MUT ? MAX_MUT : MAX_QUERY, i = in_u8() % n;

    for (size_t k = 0; k < n; k++, i = (i + 1) % n) {
        if (kind == SLOT_MUT && (int)S.mut[i].busy == want)
            return &S.mut[i];
        if (kind == SLOT_QUERY && (int)S.q[i].state == want)
            return &S.q[i];
    }
    return NULL;
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

#endif
