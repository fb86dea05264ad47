/*
 * Zero-granule masks of PARTIAL pages (granule_masks.h).  Answers arrive in
 * ascending LBA order during a full read, so inserts are mostly appends;
 * lookups are binary searches.  Pure: no I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "granule_masks.h"

/* Index of the first entry whose page is >= page. */
static uint32_t lower_bound(const struct granule_masks *g, uint32_t page)
{
    uint32_t lo = 0, hi = g->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->e[mid].page < page)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void granule_masks_free(struct granule_masks *g)
{
    free(g->e);
    *g = (struct granule_masks){ 0 };
}

uint16_t granule_masks_get(const struct granule_masks *g, uint16_t page)
{
    uint32_t i = lower_bound(g, page);
    return i < g->n && g->e[i].page == page ? g->e[i].zeros : 0;
}

int granule_masks_set(struct granule_masks *g, uint16_t page, uint16_t zeros, size_t room)
{
    uint32_t i = lower_bound(g, page);

    if (i < g->n && g->e[i].page == page) {
        g->e[i].zeros = zeros;
        return 0;
    }
    if (g->n == g->cap) {
        /* At most one entry per page of a 2^16-page chunk. */
        uint32_t cap = g->cap == 0 ? 16 : g->cap * 2;
        if (cap > UINT32_C(1) << 16)
            cap = UINT32_C(1) << 16;
        size_t grow = (size_t)(cap - g->cap) * sizeof(*g->e);
        if (cap == g->cap || grow > room)
            return -1;
        struct granule_mask *e = realloc(g->e, cap * sizeof(*e));
        if (e == NULL)
            return -1;
        g->e = e;
        g->cap = cap;
    }
    memmove(&g->e[i + 1], &g->e[i], (g->n - i) * sizeof(*g->e));
    g->e[i] = (struct granule_mask){ .page = page, .zeros = zeros };
    g->n++;
    return 0;
}

void granule_masks_drop(struct granule_masks *g, uint32_t lo, uint32_t hi)
{
    uint32_t a = lower_bound(g, lo), b = lower_bound(g, hi);

    if (a == b)
        return;
    memmove(&g->e[a], &g->e[b], (g->n - b) * sizeof(*g->e));
    g->n -= b - a;
    if (g->n == 0)
        granule_masks_free(g);
}

size_t granule_masks_bytes(const struct granule_masks *g)
{
    return (size_t)g->cap * sizeof(*g->e);
}
