/*
 * libFuzzer target for proxy/cache/allocmap.c and proxy/cache/read_plan.c: random map
 * operations, with READ plans in between, checked against brute force.
 *
 * Input: a header (page size, LUN size, detail limit), then 10-byte
 * operations (opcode, 4-byte LBA, 4-byte length, one spare byte that seeds
 * plan parameters).  Checked:
 *   - without a detail limit, every page of the map equals a per-page model
 *     of the operations' rules (touched / fully covered / last partial page;
 *     PARTIAL pages with their granule masks);
 *   - allocmap_run and allocmap_stats agree with allocmap_get page by page,
 *     and memory_bytes is the baseline plus one detail block per chunk
 *     whose pages differ or are PARTIAL (so detailed chunks do collapse back
 *     to uniform), plus room for each such chunk's granule masks;
 *   - every plan agrees, block by block, with the rule of read_plan.h applied
 *     to allocmap_get and the answer: query iff may_query and some block is
 *     unknown (query_lba = the first), else segments in order, contiguous,
 *     exactly covering the READ, of the right kind, merged, backend ones at
 *     most max_xfer_blocks, all_backend iff no zero block, -1 iff cap is
 *     too small.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_plan.h"

#include "fuzz_check.h"
#include "granule_model.h"

#define CHUNK_PAGES 65536u
#define MAX_PLAN_BLOCKS (1u << 18)
#define MAX_ANSWER 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *p;
    size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v <<= 8;
        if (in->left > 0) {
            v |= *in->p++;
            in->left--;
        }
    }
    return v;
}

struct world {
    struct allocmap *map;
    size_t base_bytes;          /* memory_bytes with every chunk uniform */
    uint8_t *model;             /* per page; NULL when a detail limit applies */
    uint16_t *model_zeros;      /* per page: PARTIAL pages' zero granules */
    uint64_t lun, pages;
    uint32_t pb, gb, granules;
};

/* Model: pages [first, last] of the range, touched or fully covered. */
static void model_apply(struct world *w, uint64_t lba, uint64_t len, bool need_cover,
                        unsigned from_mask, uint8_t to)
{
    if (w->model == NULL || lba >= w->lun || len == 0)
        return;
    uint64_t end = len > w->lun - lba ? w->lun : lba + len;
    for (uint64_t p = lba / w->pb; p <= (end - 1) / w->pb; p++) {
        uint64_t ps = p * w->pb, pe = ps + w->pb > w->lun ? w->lun : ps + w->pb;
        if (need_cover && (ps < lba || pe > end))
            continue;
        if (from_mask & (1u << w->model[p]))
            w->model[p] = to;
    }
}

/* Learning an unallocated extent (allocmap_learn_unallocated): fully
 * covered UNKNOWN / PARTIAL pages become UNALLOCATED, partly covered ones
 * gain the granules covered whole. */
static void model_learn_unallocated(struct world *w, uint64_t lba, uint64_t len)
{
    if (w->model == NULL || lba >= w->lun || len == 0)
        return;
    uint64_t end = len > w->lun - lba ? w->lun : lba + len;
    uint16_t all = (uint16_t)((1u << w->granules) - 1);
    for (uint64_t p = lba / w->pb; p <= (end - 1) / w->pb; p++) {
        uint64_t ps = p * w->pb, pe = ps + w->pb > w->lun ? w->lun : ps + w->pb;
        uint16_t z = all;
        if (w->model[p] != PAGE_UNKNOWN && w->model[p] != PAGE_PARTIAL)
            continue;
        if (ps < lba || pe > end) {
            z = w->granules > 1 ? model_granules_covered(ps, pe, w->gb, w->granules, lba, end) : 0;
            if (z == 0)
                continue;
            z |= w->model[p] == PAGE_PARTIAL ? w->model_zeros[p] : 0;
        }
        w->model[p] = z == all ? PAGE_UNALLOCATED : PAGE_PARTIAL;
        w->model_zeros[p] = z;
    }
}

/* Learning a mapped extent (allocmap_learn_allocated). */
static void model_learn_mapped(struct world *w, uint64_t lba, uint64_t len)
{
    if (w->model == NULL || lba >= w->lun || len == 0)
        return;
    uint64_t end = len > w->lun - lba ? w->lun : lba + len;
    for (uint64_t p = lba / w->pb; p <= (end - 1) / w->pb; p++) {
        uint64_t ps = p * w->pb, pe = ps + w->pb > w->lun ? w->lun : ps + w->pb;
        w->model[p] = (uint8_t)model_learn_allocated((enum page_state)w->model[p],
                                                     &w->model_zeros[p], ps, pe, w->gb,
                                                     w->granules, lba, end);
    }
}

/* allocmap.c's layout: a detailed chunk costs 32 bytes of header plus 2
 * bits per page in 64-bit words, and its PARTIAL pages 4 bytes each (the
 * array grows by doubling and shrinks only when empty); a uniform chunk
 * costs nothing extra. */
static void check_bytes(const struct world *w, size_t bytes)
{
    size_t lo = w->base_bytes, hi = w->base_bytes;
    for (uint64_t c = 0; c * CHUNK_PAGES < w->pages; c++) {
        uint64_t first = c * CHUNK_PAGES, n = w->pages - first, run, partial = 0;
        if (n > CHUNK_PAGES)
            n = CHUNK_PAGES;
        enum page_state s = allocmap_run(w->map, first, n, &run);
        if (run == n && s != PAGE_PARTIAL)
            continue;
        for (uint64_t p = first; p < first + n; p += run) {   /* by runs: O(runs) */
            if (allocmap_run(w->map, p, first + n - p, &run) == PAGE_PARTIAL)
                partial += run;
        }
        lo += 32 + (n + 31) / 32 * 8 + partial * 4;
        hi += 32 + (n + 31) / 32 * 8 + (partial ? CHUNK_PAGES * 4 : 0);
    }
    CHECK(bytes >= lo && bytes <= hi);
}

static void check_map(const struct world *w)
{
    struct allocmap_stats st;
    uint64_t count[PAGE_STATES] = { 0 };
    allocmap_stats(w->map, &st);
    check_bytes(w, st.memory_bytes);
    for (uint64_t p = 0; p < w->pages;) {
        uint64_t run;
        enum page_state s = allocmap_run(w->map, p, UINT64_MAX, &run);
        CHECK(run >= 1 && run <= w->pages - p);
        for (uint64_t i = p; i < p + run; i++) {
            CHECK(allocmap_get(w->map, i) == s);
            CHECK(w->model == NULL || w->model[i] == (uint8_t)s);
            CHECK(s == PAGE_PARTIAL || allocmap_partial_zeros(w->map, i) == 0);
            CHECK(w->model == NULL || s != PAGE_PARTIAL
                  || allocmap_partial_zeros(w->map, i) == w->model_zeros[i]);
        }
        CHECK(p + run == w->pages || allocmap_get(w->map, p + run) != s);
        count[s] += run;
        p += run;
    }
    for (unsigned s = 0; s < PAGE_STATES; s++)
        CHECK(st.pages[s] == count[s]);
}

/* Block b is zero by the map alone (read_plan.h's rule). */
static bool map_zero(const struct world *w, bool trust, uint64_t b)
{
    enum page_state s = allocmap_get(w->map, b / w->pb);
    uint16_t z = allocmap_partial_zeros(w->map, b / w->pb);
    return trust && (s == PAGE_UNALLOCATED || (z >> (b % w->pb / w->gb) & 1));
}

static bool in_answer(const struct lba_extent *a, size_t n, bool valid, uint64_t b)
{
    for (size_t i = 0; valid && i < n; i++)
        if (b >= a[i].lba && b - a[i].lba < a[i].blocks)
            return true;
    return false;
}

static void check_plan(const struct world *w, struct input *in, uint64_t lba, uint64_t len,
                       unsigned op)
{
    struct lba_extent ans[MAX_ANSWER];
    struct read_plan_in pi = {
        .map = w->map, .trust_unallocated = op & 1, .may_query = op & 2,
        .lba = lba % w->lun,
    };
    uint64_t room = w->lun - pi.lba;
    pi.blocks = (uint32_t)(1 + len % (room < MAX_PLAN_BLOCKS ? room : MAX_PLAN_BLOCKS));
    pi.max_xfer_blocks = (uint32_t)(1 + take(in, 1) * (1 + (op & 4) * 64));
    size_t n = take(in, 1) % (MAX_ANSWER + 1);
    uint64_t at = pi.lba >= 8 ? pi.lba - 8 : 0;
    for (size_t i = 0; i < n; i++) {    /* sorted unless a gap byte says back */
        uint64_t gap = take(in, 1), l = take(in, 2) % 300;
        at = gap & 0x80 && at >= (gap & 0x7f) ? at - (gap & 0x7f) : at + gap;
        ans[i] = (struct lba_extent){ at, l };
        at += l;
    }
    pi.answer = n > 0 ? ans : NULL;
    pi.n_answer = n;
    bool valid = true;
    for (size_t i = 1; i < n; i++)
        valid = valid && ans[i - 1].lba + ans[i - 1].blocks <= ans[i].lba;

    uint64_t first_unknown = UINT64_MAX, nzero = 0;
    for (uint64_t b = pi.lba; b < pi.lba + pi.blocks && first_unknown == UINT64_MAX; b++) {
        enum page_state s = allocmap_get(w->map, b / w->pb);
        if (s != PAGE_ALLOCATED && s != PAGE_PARTIAL && !map_zero(w, pi.trust_unallocated, b)
            && !in_answer(ans, n, valid, b))
            first_unknown = b;
    }

    size_t cap = (op & 8) ? take(in, 1) : pi.blocks;
    struct read_seg *seg = malloc((cap ? cap : 1) * sizeof(*seg));
    struct read_plan plan;
    CHECK(seg != NULL);
    int rc = read_plan_make(&pi, seg, cap, &plan);
    if (pi.may_query && first_unknown != UINT64_MAX) {
        CHECK(rc == 0 && plan.needs_query && plan.n_segs == 0);
        CHECK(plan.query_lba == first_unknown);
        free(seg);
        return;
    }
    if (rc < 0) {                       /* only when more than cap segments */
        free(seg);
        seg = malloc(pi.blocks * sizeof(*seg));
        CHECK(seg != NULL && read_plan_make(&pi, seg, pi.blocks, &plan) == 0);
        CHECK(plan.n_segs > cap);
    } else {
        CHECK(rc == 0 && plan.n_segs <= cap);
    }
    CHECK(!plan.needs_query);
    uint64_t b = pi.lba;
    for (size_t i = 0; i < plan.n_segs; i++) {
        const struct read_seg *g = &seg[i];
        CHECK(g->lba == b && g->blocks > 0);
        CHECK(g->kind == SEG_ZERO || g->blocks <= pi.max_xfer_blocks);
        if (i > 0 && seg[i - 1].kind == g->kind)
            CHECK(g->kind == SEG_BACKEND && seg[i - 1].blocks == pi.max_xfer_blocks);
        for (uint64_t x = g->lba; x < g->lba + g->blocks; x++) {
            bool zero = map_zero(w, pi.trust_unallocated, x) || in_answer(ans, n, valid, x);
            CHECK(zero == (g->kind == SEG_ZERO));
            nzero += zero;
        }
        b += g->blocks;
    }
    CHECK(b == pi.lba + pi.blocks);
    CHECK(plan.all_backend == (nzero == 0));
    free(seg);
}

static void run(struct world *w, struct input *in)
{
    const unsigned U = 1u << PAGE_UNKNOWN, A = 1u << PAGE_ALLOCATED, Z = 1u << PAGE_UNALLOCATED,
                   P = 1u << PAGE_PARTIAL;
    while (in->left > 0) {
        unsigned op = (unsigned)take(in, 1);
        uint64_t lba = take(in, 4), len = take(in, 4);
        if (op & 0x80)
            len = UINT64_MAX - (len & 0xff);
        if (op & 0x40)
            lba = lba % (w->lun + 16);
        switch ((op >> 4) & 3) {
        case 0:
            switch (op & 7) {
            case 0: allocmap_mark_allocated(w->map, lba, len);
                    model_apply(w, lba, len, false, U | Z | P, PAGE_ALLOCATED); break;
            case 1: allocmap_forget_covered(w->map, lba, len);
                    model_apply(w, lba, len, true, A | Z | P, PAGE_UNKNOWN); break;
            case 2: case 5: allocmap_learn_unallocated(w->map, lba, len);
                    model_learn_unallocated(w, lba, len); break;
            case 3: allocmap_learn_allocated(w->map, lba, len);
                    model_learn_mapped(w, lba, len); break;
            case 4: allocmap_forget_unallocated(w->map, lba, len);
                    model_apply(w, lba, len, false, Z | P, PAGE_UNKNOWN); break;
            case 6: allocmap_invalidate(w->map);
                    model_apply(w, 0, UINT64_MAX, false, A | Z | P, PAGE_UNKNOWN); break;
            default: check_map(w); break;
            }
            break;
        default:
            check_plan(w, in, lba, len, op);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    unsigned hdr = (unsigned)take(&in, 1);
    uint64_t sz = take(&in, 3);
    struct world w = { .pb = 1u << (hdr & 7) };
    /* Small LUNs, or up to ~3.5 chunks of pages to cross chunk edges. */
    uint64_t max_pages = hdr & 8 ? 3 * CHUNK_PAGES + CHUNK_PAGES / 2 : 300;
    w.pages = 1 + sz % max_pages;
    w.lun = w.pages * w.pb - (take(&in, 1) % w.pb);
    w.map = allocmap_new(w.lun, w.pb);
    CHECK(w.map != NULL && allocmap_pages(w.map) == w.pages);
    w.gb = allocmap_granule_blocks(w.map);
    w.granules = w.pb / w.gb;
    struct allocmap_stats st;
    allocmap_stats(w.map, &st);
    w.base_bytes = st.memory_bytes;
    if (hdr & 0x10) {                   /* room for 0..3 detailed chunks */
        allocmap_set_detail_limit(w.map, ((hdr >> 5) & 3) * (32 + CHUNK_PAGES / 4));
    } else {
        w.model = calloc(w.pages, 1);
        w.model_zeros = calloc(w.pages, sizeof(*w.model_zeros));
    }

    run(&w, &in);
    check_map(&w);
    allocmap_invalidate(w.map);
    allocmap_stats(w.map, &st);
    CHECK(st.memory_bytes == w.base_bytes && st.pages[PAGE_UNKNOWN] == w.pages);
    free(w.model);
    free(w.model_zeros);
    allocmap_free(w.map);
    return 0;
}
