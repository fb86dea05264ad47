/*
 * The race rule of the allocation cache (see mutlog.h).
 *
 * A completed mutation enters the ring with a fresh sequence number taken at
 * completion, not the one it got when it was sent: a write sent before a
 * query but finished after it may have been executed by the backend after
 * the query, so it must count as newer than the query.  A mutation finished
 * before the query was sent was executed before it, and its ring entry is
 * then <= the query's `since`.
 *
 * mutlog_filter allocates nothing.  It sweeps the excluded ranges (every
 * mutation in flight, every ring entry newer than `since`) in batches: one
 * pass keeps, in a max-heap on the stack, the BATCH ranges meeting the
 * extent with the lowest starts; everything below the lowest start left out
 * is then decided.  Each pass retires BATCH ranges, so a call costs
 * O(n log BATCH * (1 + k / BATCH)) for n ranges of which k meet the extent.
 * Ranges are half-open and clipped below UINT64_MAX, so no sum overflows.
 */
#include "mutlog.h"

#include <stdlib.h>
#include <string.h>

#define BATCH 64                        /* ranges sorted per pass (1 KiB) */

int mutlog_init(struct mutlog *l, size_t ring_cap)
{
    memset(l, 0, sizeof(*l));
    if (ring_cap == 0)
        return -1;
    l->ring = calloc(ring_cap, sizeof(*l->ring));
    if (l->ring == NULL)
        return -1;
    l->ring_cap = ring_cap;
    return 0;
}

void mutlog_destroy(struct mutlog *l)
{
    free(l->ring);
    memset(l, 0, sizeof(*l));
}

void mutlog_begin(struct mutlog *l, struct mutation *m, uint64_t lba, uint64_t blocks)
{
    m->seq = ++l->seq;
    m->lba = lba;
    m->blocks = blocks;
    m->prev = NULL;
    m->next = l->inflight;
    if (l->inflight != NULL)
        l->inflight->prev = m;
    l->inflight = m;
    l->n_inflight++;
}

void mutlog_end(struct mutlog *l, struct mutation *m)
{
    struct mutlog_entry *e;

    if (m->prev != NULL)
        m->prev->next = m->next;
    else
        l->inflight = m->next;
    if (m->next != NULL)
        m->next->prev = m->prev;
    m->prev = m->next = NULL;
    l->n_inflight--;

    if (l->ring_len < l->ring_cap) {
        e = &l->ring[l->ring_len++];    /* ring_head stays 0 until it is full */
    } else {
        e = &l->ring[l->ring_head];
        if (e->seq > l->forgotten_seq)
            l->forgotten_seq = e->seq;
        l->ring_head = (l->ring_head + 1) % l->ring_cap;
    }
    e->seq = ++l->seq;
    e->lba = m->lba;
    e->blocks = m->blocks;
}

void mutlog_invalidate(struct mutlog *l)
{
    l->forgotten_seq = ++l->seq;
}

/* [*start, *end) of a range, clipped to [0, UINT64_MAX). */
static void range_of(uint64_t lba, uint64_t blocks, uint64_t *start, uint64_t *end)
{
    if (blocks == MUTLOG_WHOLE_LUN) {
        *start = 0;
        *end = UINT64_MAX;
        return;
    }
    *start = lba;
    *end = blocks > UINT64_MAX - lba ? UINT64_MAX : lba + blocks;
}

/* Walks the non-empty ranges excluded for a query sent at `since`. */
struct excl_iter {
    const struct mutlog *l;
    uint64_t since;
    const struct mutation *self;        /* in flight, but not excluded */
    const struct mutation *m;
    size_t i;
};

static void excl_first(struct excl_iter *it, const struct mutlog *l, uint64_t since,
                       const struct mutation *self)
{
    it->l = l;
    it->since = since;
    it->self = self;
    it->m = l->inflight;
    it->i = 0;
}

static bool excl_next(struct excl_iter *it, uint64_t *start, uint64_t *end)
{
    while (it->m != NULL) {
        const struct mutation *m = it->m;

        it->m = m->next;
        if (m == it->self)
            continue;
        range_of(m->lba, m->blocks, start, end);
        if (*start < *end)
            return true;
    }
    /* Order does not matter here, and the entries always fill ring[0,
     * ring_len): ring_head moves only once the ring is full. */
    while (it->i < it->l->ring_len) {
        const struct mutlog_entry *e = &it->l->ring[it->i++];

        if (e->seq <= it->since)
            continue;
        range_of(e->lba, e->blocks, start, end);
        if (*start < *end)
            return true;
    }
    return false;
}

struct span {
    uint64_t start, end;
};

/* Max-heap on start: restore from index i down. */
static void sift_down(struct span *h, size_t n, size_t i)
{
    for (;;) {
        size_t big = i, c = 2 * i + 1;
        struct span t;

        if (c < n && h[c].start > h[big].start)
            big = c;
        if (c + 1 < n && h[c + 1].start > h[big].start)
            big = c + 1;
        if (big == i)
            return;
        t = h[i];
        h[i] = h[big];
        h[big] = t;
        i = big;
    }
}

static void push(struct span *h, size_t n, struct span s)
{
    size_t i = n;

    h[i] = s;
    while (i > 0 && h[(i - 1) / 2].start < h[i].start) {
        struct span t = h[i];

        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* Free parts are merged here before they are emitted, so adjacent parts
 * from two passes come out as one. */
struct out {
    void (*emit)(void *arg, uint64_t lba, uint64_t blocks);
    void *arg;
    uint64_t start, end;                /* pending part, empty if equal */
};

static void out_flush(struct out *o)
{
    if (o->end > o->start)
        o->emit(o->arg, o->start, o->end - o->start);
}

static void out_add(struct out *o, uint64_t start, uint64_t end)
{
    if (start != o->end) {
        out_flush(o);
        o->start = start;
    }
    o->end = end;
}

/*
 * One pass from cur: sorts the BATCH excluded ranges meeting [cur, end) that
 * start lowest, emits the free parts below the lowest start left out (the
 * horizon), and returns where the next pass starts (> cur).
 */
static uint64_t sweep(const struct mutlog *l, uint64_t since, const struct mutation *self,
                      uint64_t cur, uint64_t end, struct out *o)
{
    struct span h[BATCH], r;
    struct excl_iter it;
    uint64_t horizon = end, pos = cur;
    size_t n = 0;

    excl_first(&it, l, since, self);
    while (excl_next(&it, &r.start, &r.end)) {
        if (r.end <= cur || r.start >= horizon)
            continue;
        if (n < BATCH) {
            push(h, n++, r);
        } else if (r.start < h[0].start) {
            horizon = h[0].start;
            h[0] = r;
            sift_down(h, n, 0);
        } else {
            horizon = r.start;
        }
    }
    for (size_t k = n; k > 1; k--) {     /* heap sort: ascending starts */
        struct span t = h[0];

        h[0] = h[k - 1];
        h[k - 1] = t;
        sift_down(h, k - 1, 0);
    }
    for (size_t k = 0; k < n; k++) {
        if (h[k].start > pos)
            out_add(o, pos, h[k].start);
        if (h[k].end > pos)
            pos = h[k].end;
    }
    if (pos < horizon) {
        out_add(o, pos, horizon);
        pos = horizon;
    }
    return pos;
}

static bool filter(const struct mutlog *l, uint64_t since, const struct mutation *self,
                   uint64_t lba, uint64_t blocks,
                   void (*emit)(void *arg, uint64_t lba, uint64_t blocks), void *arg)
{
    struct out o = { emit, arg, lba, lba };
    uint64_t cur = lba, end;

    if (l->forgotten_seq > since)
        return false;
    end = blocks > UINT64_MAX - lba ? UINT64_MAX : lba + blocks;
    while (cur < end)
        cur = sweep(l, since, self, cur, end, &o);
    out_flush(&o);
    return true;
}

bool mutlog_filter(const struct mutlog *l, uint64_t since, uint64_t lba, uint64_t blocks,
                   void (*emit)(void *arg, uint64_t lba, uint64_t blocks), void *arg)
{
    return filter(l, since, NULL, lba, blocks, emit, arg);
}

bool mutlog_filter_own(const struct mutlog *l, const struct mutation *self, uint64_t lba,
                       uint64_t blocks, void (*emit)(void *arg, uint64_t lba, uint64_t blocks),
                       void *arg)
{
    return filter(l, self->seq, self, lba, blocks, emit, arg);
}
