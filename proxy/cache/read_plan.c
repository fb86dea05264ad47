/*
 * The READ planner (read_plan.h).  Walks the READ by runs of equal page
 * state (allocmap_run, so uniform chunks cost O(1) each) and, inside runs
 * the map cannot decide, by the answer's extents (PARTIAL pages by their
 * granules); every piece is zero, backend or unknown.  Pieces of one kind merge; backend runs are split at
 * max_xfer_blocks when flushed.  Cost: O(state runs + answer extents +
 * segments + PARTIAL granules), never O(blocks).  Pure: no I/O.
 */
#include "read_plan.h"

enum piece { PIECE_ZERO, PIECE_BACKEND, PIECE_UNKNOWN };

struct builder {
    const struct read_plan_in *in;
    struct read_seg *out;
    size_t cap;
    struct read_plan *plan;
    bool pending;               /* a run not yet written out */
    enum read_seg_kind kind;
    uint64_t lba, blocks;
    const struct lba_extent *ans;
    size_t n_ans, next_ans;     /* first extent that may end after the cursor */
    bool unknown;               /* an unknown block was seen (needs_query) */
    bool overflow;              /* more segments than cap */
};

/* Sorted, non-overlapping and not wrapping past 2^64; else ignored. */
static bool answer_valid(const struct lba_extent *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].blocks > UINT64_MAX - a[i].lba)
            return false;
        if (i > 0 && a[i - 1].lba + a[i - 1].blocks > a[i].lba)
            return false;
    }
    return true;
}

/* Past cap, segments are only counted: a plan that ends up needing a
 * query must not fail for lack of room. */
static void emit(struct builder *b, enum read_seg_kind kind, uint64_t lba, uint32_t blocks)
{
    if (b->plan->n_segs == b->cap) {
        b->overflow = true;
        return;
    }
    b->out[b->plan->n_segs++] = (struct read_seg){ .kind = kind, .lba = lba, .blocks = blocks };
}

/* Write out the pending run (max_xfer_blocks > 0: read_plan_make checks). */
static void flush(struct builder *b)
{
    if (!b->pending || b->overflow)
        return;
    b->pending = false;
    if (b->kind == SEG_ZERO) {
        emit(b, SEG_ZERO, b->lba, (uint32_t)b->blocks);
        return;
    }
    uint32_t max = b->in->max_xfer_blocks;
    for (uint64_t done = 0; done < b->blocks && !b->overflow; done += max) {
        uint64_t left = b->blocks - done;
        emit(b, SEG_BACKEND, b->lba + done, (uint32_t)(left < max ? left : max));
    }
}

/* Blocks [lba, lba + n) are of kind k; they follow the previous piece. */
static void add(struct builder *b, enum piece k, uint64_t lba, uint64_t n)
{
    if (k == PIECE_UNKNOWN) {
        if (!b->unknown) {
            b->unknown = true;
            b->plan->query_lba = lba;
        }
        if (b->in->may_query)
            return;             /* only the first unknown block matters now */
        k = PIECE_BACKEND;
    }
    enum read_seg_kind kind = k == PIECE_ZERO ? SEG_ZERO : SEG_BACKEND;
    if (b->pending && b->kind == kind) {
        b->blocks += n;
        return;
    }
    flush(b);
    b->pending = true;
    b->kind = kind;
    b->lba = lba;
    b->blocks = n;
}

/* Blocks [pos, end): zero where this READ's answer says so, `otherwise`
 * elsewhere (backend for ALLOCATED pages, unknown where the map cannot
 * decide). */
static void add_answered(struct builder *b, uint64_t pos, uint64_t end, enum piece otherwise)
{
    while (pos < end) {
        while (b->next_ans < b->n_ans
               && b->ans[b->next_ans].lba + b->ans[b->next_ans].blocks <= pos)
            b->next_ans++;
        const struct lba_extent *e = b->next_ans < b->n_ans ? &b->ans[b->next_ans] : NULL;
        uint64_t stop;
        enum piece k;
        if (e != NULL && e->lba <= pos) {
            k = PIECE_ZERO;
            stop = e->lba + e->blocks;
        } else {
            k = otherwise;
            stop = e != NULL ? e->lba : end;
        }
        if (stop > end)
            stop = end;
        add(b, k, pos, stop - pos);
        pos = stop;
    }
}

/* Blocks [pos, end) on PARTIAL pages, trusted: zero where a page's mask says
 * its granule reads zeros, else as ALLOCATED. */
static void add_partial(struct builder *b, uint64_t pos, uint64_t end)
{
    const struct allocmap *m = b->in->map;
    uint32_t pb = allocmap_page_blocks(m), gb = allocmap_granule_blocks(m);

    while (pos < end) {
        uint64_t page = pos / pb, page_end = (page + 1) * pb;
        uint16_t zeros = allocmap_partial_zeros(m, page);
        uint64_t stop = page_end < end ? page_end : end;
        while (pos < stop) {
            uint64_t g = (pos - page * pb) / gb, ge = page * pb + (g + 1) * gb;
            if (ge > stop)
                ge = stop;
            if (zeros & (1u << g))
                add(b, PIECE_ZERO, pos, ge - pos);
            else
                add_answered(b, pos, ge, PIECE_BACKEND);
            pos = ge;
        }
    }
}

int read_plan_make(const struct read_plan_in *in, struct read_seg *out, size_t cap,
                   struct read_plan *plan)
{
    *plan = (struct read_plan){ 0 };
    /* max_xfer_blocks comes from the wire (Block Limits VPD): the split
     * must not divide or step by 0.  The map's page size is >= 1 already
     * (allocmap_new refuses 0). */
    if (in->blocks == 0 || in->max_xfer_blocks == 0)
        return -1;
    struct builder b = { .in = in, .out = out, .cap = cap, .plan = plan };
    if (in->answer != NULL && answer_valid(in->answer, in->n_answer)) {
        b.ans = in->answer;
        b.n_ans = in->n_answer;
    }

    uint32_t pb = allocmap_page_blocks(in->map);
    uint64_t pos = in->lba, end = in->lba + in->blocks;
    if (end < pos)
        end = UINT64_MAX;       /* clip a READ that would wrap past 2^64 */
    while (pos < end) {
        uint64_t page = pos / pb, last_page = (end - 1) / pb, run;
        enum page_state s = allocmap_run(in->map, page, last_page - page + 1, &run);
        uint64_t stop = end;
        if (run > 0 && page + run <= last_page)
            stop = (page + run) * pb;
        else if (run == 0)
            s = PAGE_UNKNOWN;   /* past the LUN: never zero from the map */
        if (s == PAGE_UNALLOCATED && in->trust_unallocated)
            add(&b, PIECE_ZERO, pos, stop - pos);
        else if (s == PAGE_PARTIAL && in->trust_unallocated)
            add_partial(&b, pos, stop);
        else
            add_answered(&b, pos, stop,
                         s == PAGE_ALLOCATED || s == PAGE_PARTIAL ? PIECE_BACKEND : PIECE_UNKNOWN);
        if (b.unknown && in->may_query)
            break;
        pos = stop;
    }

    if (b.unknown && in->may_query) {
        plan->needs_query = true;
        plan->n_segs = 0;
        return 0;
    }
    flush(&b);
    if (b.overflow)
        return -1;
    plan->all_backend = plan->n_segs > 0;
    for (size_t i = 0; i < plan->n_segs; i++)
        if (out[i].kind == SEG_ZERO)
            plan->all_backend = false;
    return 0;
}
