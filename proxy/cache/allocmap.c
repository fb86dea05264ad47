/*
 * The allocation cache's page-state map (allocmap.h).  Two levels: a
 * top-level array of chunks, each either uniform (one state byte, no page
 * memory) or detailed (2 bits per page, packed 32 pages to a 64-bit word,
 * plus per-state counters, plus the zero-granule masks of its PARTIAL pages,
 * granule_masks.h).  A detailed chunk that becomes all one state (other
 * than PARTIAL, which needs its masks) is freed back to uniform after every
 * change.
 *
 * Chunk size: 2^16 pages.  A detailed chunk then costs 16 KiB of bits (+16
 * bytes of counters) and covers 4 GiB at 64 KiB pages, while the top level
 * costs 9 bytes per chunk: a 64 TiB LUN at 64 KiB pages (2^30 pages) is
 * 16384 chunks, 147456 bytes untouched.  2^15 would halve the cost of one
 * scattered write's chunk but double the fixed top array; 2^16 keeps both
 * small and keeps every per-chunk operation at <= 2048 words.
 *
 * When per-page memory cannot be had (malloc fails or the detail limit is
 * reached) each operation falls to its safe side: marking makes the whole
 * chunk ALLOCATED, learning is skipped, forgetting makes the chunk UNKNOWN.
 * Mask memory counts against the same limit; a limit lowered below what the
 * map holds makes detailed chunks UNKNOWN until it fits.
 * Pure: no I/O.
 */
#include <stdlib.h>

#include "allocmap.h"
#include "granule_masks.h"

#define CHUNK_SHIFT 16
#define CHUNK_PAGES (UINT64_C(1) << CHUNK_SHIFT)
#define WORD_PAGES 32u
#define LO_BITS UINT64_C(0x5555555555555555)   /* low bit of every 2-bit field */
#define STATE_BIT(s) (1u << (s))
#define GRANULES_LOG2 4         /* 16 granules a page: a 16-bit mask */

struct detail {
    uint32_t count[PAGE_STATES];    /* pages of the chunk per enum page_state */
    struct granule_masks masks;     /* one per PARTIAL page */
    uint64_t word[];            /* 2 bits per page, page i at bits 2*(i%32) */
};

struct allocmap {
    uint64_t lun_blocks;
    uint64_t pages;
    size_t nchunks;
    uint32_t page_blocks;
    unsigned page_shift;
    unsigned granule_shift;     /* log2 of blocks per granule */
    size_t detail_bytes;        /* the detailed chunks' sizes and masks */
    size_t detail_limit;
    struct detail **detail;     /* per chunk; NULL: uniform */
    uint8_t *uniform;           /* per chunk: the state when uniform */
};

/* What an operation does when it needs per-page memory and gets none. */
enum fallback { FALL_SKIP = -1 };

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t pattern(unsigned s)
{
    return (uint64_t)s * LO_BITS;
}

/* Low bits of the fields of w equal to state s. */
static uint64_t match(uint64_t w, unsigned s)
{
    uint64_t x = w ^ pattern(s);
    return ~(x | (x >> 1)) & LO_BITS;
}

/* Low bits of fields [a, b) of a word, 0 <= a < b <= 32. */
static uint64_t field_mask(unsigned a, unsigned b)
{
    uint64_t hi = b == WORD_PAGES ? ~UINT64_C(0) : (UINT64_C(1) << (2 * b)) - 1;
    return hi & ~((UINT64_C(1) << (2 * a)) - 1) & LO_BITS;
}

static uint32_t chunk_pages(const struct allocmap *m, size_t c)
{
    if (c + 1 < m->nchunks)
        return (uint32_t)CHUNK_PAGES;
    return (uint32_t)(m->pages - ((uint64_t)c << CHUNK_SHIFT));
}

static size_t detail_size(uint32_t cpages)
{
    return sizeof(struct detail) + (cpages + WORD_PAGES - 1) / WORD_PAGES * sizeof(uint64_t);
}

/* Turn uniform chunk c into a detailed one; NULL if no memory. */
static struct detail *detail_new(struct allocmap *m, size_t c)
{
    uint32_t cp = chunk_pages(m, c);
    size_t sz = detail_size(cp);
    unsigned s = m->uniform[c];

    if (sz > m->detail_limit || m->detail_bytes > m->detail_limit - sz)
        return NULL;
    struct detail *d = malloc(sz);
    if (d == NULL)
        return NULL;
    for (unsigned k = 0; k < PAGE_STATES; k++)
        d->count[k] = 0;
    d->count[s] = cp;
    d->masks = (struct granule_masks){ 0 };
    for (uint32_t i = 0; i < (cp + WORD_PAGES - 1) / WORD_PAGES; i++)
        d->word[i] = pattern(s);
    m->detail[c] = d;
    m->detail_bytes += sz;
    return d;
}

/* Pages [lo, hi) of a detailed chunk leave PARTIAL: drop their masks. */
static void masks_drop(struct allocmap *m, struct detail *d, uint32_t lo, uint32_t hi)
{
    m->detail_bytes -= granule_masks_bytes(&d->masks);
    granule_masks_drop(&d->masks, lo, hi);
    m->detail_bytes += granule_masks_bytes(&d->masks);
}

static void chunk_set_uniform(struct allocmap *m, size_t c, enum page_state s)
{
    if (m->detail[c] != NULL) {
        struct detail *d = m->detail[c];
        m->detail_bytes -= detail_size(chunk_pages(m, c)) + granule_masks_bytes(&d->masks);
        granule_masks_free(&d->masks);
        free(d);
        m->detail[c] = NULL;
    }
    m->uniform[c] = (uint8_t)s;
}

/* Pages [lo, hi) of a detailed chunk whose state is in from_mask become to. */
static void detail_apply(struct detail *d, uint32_t lo, uint32_t hi, unsigned from_mask,
                         enum page_state to)
{
    uint32_t first = lo / WORD_PAGES, last = (hi - 1) / WORD_PAGES;

    for (uint32_t i = first; i <= last; i++) {
        unsigned a = i == first ? lo % WORD_PAGES : 0;
        unsigned b = i == last ? (hi - 1) % WORD_PAGES + 1 : WORD_PAGES;
        uint64_t range = field_mask(a, b), w = d->word[i], sel = 0;

        for (unsigned s = 0; s < PAGE_STATES; s++) {
            if (!(from_mask & STATE_BIT(s)) || s == (unsigned)to)
                continue;
            uint64_t hit = match(w, s) & range;
            uint32_t n = (uint32_t)__builtin_popcountll(hit);
            d->count[s] -= n;
            d->count[to] += n;
            sel |= hit;
        }
        sel *= 3;               /* low bits to whole fields; no carries */
        d->word[i] = (w & ~sel) | (pattern(to) & sel);
    }
}

/* A detailed chunk all in one state other than PARTIAL goes uniform. */
static void collapse(struct allocmap *m, size_t c)
{
    for (unsigned s = 0; s < PAGE_PARTIAL; s++) {
        if (m->detail[c]->count[s] == chunk_pages(m, c)) {
            chunk_set_uniform(m, c, (enum page_state)s);
            return;
        }
    }
}

/*
 * Pages [first, first + count) (within the LUN, count > 0) whose state is
 * in from_mask become `to` (never PARTIAL: see set_partial); fail is the
 * chunk state to fall back to when memory is short, or FALL_SKIP.
 */
static void apply(struct allocmap *m, uint64_t first, uint64_t count, unsigned from_mask,
                  enum page_state to, int fail)
{
    size_t c0 = (size_t)(first >> CHUNK_SHIFT);
    size_t c1 = (size_t)((first + count - 1) >> CHUNK_SHIFT);

    for (size_t c = c0; c <= c1; c++) {
        uint64_t base = (uint64_t)c << CHUNK_SHIFT;
        uint32_t cp = chunk_pages(m, c);
        uint32_t lo = c == c0 ? (uint32_t)(first - base) : 0;
        uint32_t hi = c == c1 ? (uint32_t)(first + count - base) : cp;
        struct detail *d = m->detail[c];

        if (d == NULL) {
            unsigned s = m->uniform[c];
            if (!(from_mask & STATE_BIT(s)) || s == (unsigned)to)
                continue;
            if (lo == 0 && hi == cp) {
                m->uniform[c] = (uint8_t)to;
                continue;
            }
            d = detail_new(m, c);
            if (d == NULL) {
                if (fail != FALL_SKIP)
                    m->uniform[c] = (uint8_t)fail;
                continue;
            }
        }
        if ((from_mask & STATE_BIT(PAGE_PARTIAL)) && d->count[PAGE_PARTIAL] > 0)
            masks_drop(m, d, lo, hi);
        detail_apply(d, lo, hi, from_mask, to);
        collapse(m, c);
    }
}

/* Page `page`, UNKNOWN or PARTIAL, becomes PARTIAL with these zero
 * granules; skipped when memory is short. */
static void set_partial(struct allocmap *m, uint64_t page, uint16_t zeros)
{
    size_t c = (size_t)(page >> CHUNK_SHIFT);
    uint32_t off = (uint32_t)(page & (CHUNK_PAGES - 1));
    struct detail *d = m->detail[c] != NULL ? m->detail[c] : detail_new(m, c);

    if (d == NULL)
        return;
    size_t before = granule_masks_bytes(&d->masks);
    size_t room = m->detail_bytes < m->detail_limit ? m->detail_limit - m->detail_bytes : 0;
    if (granule_masks_set(&d->masks, (uint16_t)off, zeros, room) == 0) {
        m->detail_bytes += granule_masks_bytes(&d->masks) - before;
        detail_apply(d, off, off + 1, STATE_BIT(PAGE_UNKNOWN), PAGE_PARTIAL);
    }
    collapse(m, c);
}

/* Pages that [lba, lba + blocks) touches, even partly, clipped to the LUN. */
static bool touched(const struct allocmap *m, uint64_t lba, uint64_t blocks, uint64_t *first,
                    uint64_t *count)
{
    if (lba >= m->lun_blocks || blocks == 0)
        return false;
    uint64_t end = lba + min64(blocks, m->lun_blocks - lba);
    *first = lba >> m->page_shift;
    *count = ((end - 1) >> m->page_shift) - *first + 1;
    return true;
}

/* Pages that [lba, lba + blocks) covers fully, clipped to the LUN; the last
 * partial page counts as covered when the range reaches the LUN's end. */
static bool covered(const struct allocmap *m, uint64_t lba, uint64_t blocks, uint64_t *first,
                    uint64_t *count)
{
    if (lba >= m->lun_blocks || blocks == 0)
        return false;
    uint64_t end = lba + min64(blocks, m->lun_blocks - lba);
    uint64_t pmask = m->page_blocks - 1;
    uint64_t f = (lba >> m->page_shift) + ((lba & pmask) != 0);
    uint64_t e = end == m->lun_blocks ? m->pages : end >> m->page_shift;
    if (f >= e)
        return false;
    *first = f;
    *count = e - f;
    return true;
}

struct allocmap *allocmap_new(uint64_t lun_blocks, uint32_t page_blocks)
{
    if (lun_blocks == 0 || page_blocks == 0 || (page_blocks & (page_blocks - 1)) != 0)
        return NULL;
    struct allocmap *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->lun_blocks = lun_blocks;
    m->page_blocks = page_blocks;
    while ((UINT32_C(1) << m->page_shift) != page_blocks)
        m->page_shift++;
    m->granule_shift = m->page_shift > GRANULES_LOG2 ? m->page_shift - GRANULES_LOG2 : 0;
    m->pages = (lun_blocks >> m->page_shift) + ((lun_blocks & (page_blocks - 1)) != 0);
    uint64_t nchunks = ((m->pages - 1) >> CHUNK_SHIFT) + 1;
    m->detail_limit = SIZE_MAX;
    if (nchunks <= SIZE_MAX / sizeof(*m->detail)) {
        m->nchunks = (size_t)nchunks;
        m->detail = calloc(m->nchunks, sizeof(*m->detail));
        m->uniform = calloc(m->nchunks, sizeof(*m->uniform));
    }
    if (m->detail == NULL || m->uniform == NULL) {
        free(m->detail);
        free(m->uniform);
        free(m);
        return NULL;
    }
    return m;
}

void allocmap_free(struct allocmap *m)
{
    if (m == NULL)
        return;
    for (size_t c = 0; c < m->nchunks; c++) {
        if (m->detail[c] != NULL)
            granule_masks_free(&m->detail[c]->masks);
        free(m->detail[c]);
    }
    free(m->detail);
    free(m->uniform);
    free(m);
}

void allocmap_set_detail_limit(struct allocmap *m, size_t bytes)
{
    m->detail_limit = bytes;
    for (size_t c = 0; c < m->nchunks && m->detail_bytes > bytes; c++)
        chunk_set_uniform(m, c, PAGE_UNKNOWN);
}

size_t allocmap_detail_share(uint64_t limit, uint64_t fixed, size_t maps)
{
    uint64_t share = limit > fixed && maps ? (limit - fixed) / maps : 0;
    return share < SIZE_MAX ? (size_t)share : SIZE_MAX;
}

uint64_t allocmap_lun_blocks(const struct allocmap *m)
{
    return m->lun_blocks;
}

uint32_t allocmap_page_blocks(const struct allocmap *m)
{
    return m->page_blocks;
}

uint64_t allocmap_pages(const struct allocmap *m)
{
    return m->pages;
}

uint32_t allocmap_granule_blocks(const struct allocmap *m)
{
    return UINT32_C(1) << m->granule_shift;
}

uint16_t allocmap_partial_zeros(const struct allocmap *m, uint64_t page)
{
    if (allocmap_get(m, page) != PAGE_PARTIAL)
        return 0;
    const struct detail *d = m->detail[page >> CHUNK_SHIFT];
    return granule_masks_get(&d->masks, (uint16_t)(page & (CHUNK_PAGES - 1)));
}

enum page_state allocmap_get(const struct allocmap *m, uint64_t page)
{
    if (page >= m->pages)
        return PAGE_UNKNOWN;
    size_t c = (size_t)(page >> CHUNK_SHIFT);
    const struct detail *d = m->detail[c];
    if (d == NULL)
        return (enum page_state)m->uniform[c];
    uint32_t i = (uint32_t)(page & (CHUNK_PAGES - 1));
    return (enum page_state)((d->word[i / WORD_PAGES] >> (2 * (i % WORD_PAGES))) & 3);
}

/* How many pages from lo (below hi) of a detailed chunk are in state s. */
static uint32_t detail_run(const struct detail *d, uint32_t lo, uint32_t hi, unsigned s)
{
    uint32_t first = lo / WORD_PAGES, last = (hi - 1) / WORD_PAGES;

    for (uint32_t i = first; i <= last; i++) {
        unsigned a = i == first ? lo % WORD_PAGES : 0;
        unsigned b = i == last ? (hi - 1) % WORD_PAGES + 1 : WORD_PAGES;
        uint64_t differ = ~match(d->word[i], s) & field_mask(a, b);
        if (differ != 0)
            return i * WORD_PAGES + (unsigned)__builtin_ctzll(differ) / 2 - lo;
    }
    return hi - lo;
}

/* A page past the end, or max_pages 0, gives a run of 0 pages. */
enum page_state allocmap_run(const struct allocmap *m, uint64_t page, uint64_t max_pages,
                             uint64_t *run_pages)
{
    enum page_state s = allocmap_get(m, page);

    *run_pages = 0;
    if (page >= m->pages)
        return s;
    uint64_t limit = min64(max_pages, m->pages - page), n = 0;
    while (n < limit) {
        uint64_t p = page + n;
        size_t c = (size_t)(p >> CHUNK_SHIFT);
        uint32_t off = (uint32_t)(p & (CHUNK_PAGES - 1));
        uint32_t want = (uint32_t)min64(chunk_pages(m, c) - off, limit - n);
        if (m->detail[c] == NULL) {
            if (m->uniform[c] != (uint8_t)s)
                break;
            n += want;
            continue;
        }
        uint32_t k = detail_run(m->detail[c], off, off + want, s);
        n += k;
        if (k < want)
            break;
    }
    *run_pages = n;
    return s;
}

void allocmap_mark_allocated(struct allocmap *m, uint64_t lba, uint64_t blocks)
{
    uint64_t first, count;
    if (touched(m, lba, blocks, &first, &count))
        apply(m, first, count,
              STATE_BIT(PAGE_UNKNOWN) | STATE_BIT(PAGE_UNALLOCATED) | STATE_BIT(PAGE_PARTIAL),
              PAGE_ALLOCATED, PAGE_ALLOCATED);
}

void allocmap_forget_covered(struct allocmap *m, uint64_t lba, uint64_t blocks)
{
    uint64_t first, count;
    if (covered(m, lba, blocks, &first, &count))
        apply(m, first, count,
              STATE_BIT(PAGE_ALLOCATED) | STATE_BIT(PAGE_UNALLOCATED) | STATE_BIT(PAGE_PARTIAL),
              PAGE_UNKNOWN, PAGE_UNKNOWN);
}

/* [lba, end) (clipped to the LUN) covers page `page` in part: the granules
 * it covers whole read zeros.  Granules past the LUN's end count as zeros
 * once one real granule does, as covered() counts the last page. */
static void learn_partial(struct allocmap *m, uint64_t page, uint64_t lba, uint64_t end)
{
    uint64_t ps = page << m->page_shift;
    uint64_t pe = min64(ps + m->page_blocks, m->lun_blocks);
    unsigned granules = 1u << (m->page_shift - m->granule_shift);
    uint16_t zeros = 0, past = 0;

    if (granules < 2 || (lba <= ps && end >= pe))
        return;
    for (unsigned g = 0; g < granules; g++) {
        uint64_t gs = ps + ((uint64_t)g << m->granule_shift);
        uint64_t ge = min64(gs + allocmap_granule_blocks(m), pe);
        if (gs >= pe)
            past |= (uint16_t)(1u << g);
        else if (gs >= lba && ge <= end)
            zeros |= (uint16_t)(1u << g);
    }
    if (zeros == 0)
        return;
    enum page_state s = allocmap_get(m, page);
    if (s == PAGE_PARTIAL)
        zeros |= allocmap_partial_zeros(m, page);
    else if (s != PAGE_UNKNOWN)
        return;
    zeros |= past;
    if (zeros == (uint16_t)((1u << granules) - 1))
        apply(m, page, 1, STATE_BIT(PAGE_UNKNOWN) | STATE_BIT(PAGE_PARTIAL), PAGE_UNALLOCATED,
              FALL_SKIP);
    else
        set_partial(m, page, zeros);
}

void allocmap_learn_unallocated(struct allocmap *m, uint64_t lba, uint64_t blocks)
{
    uint64_t first, count;
    if (covered(m, lba, blocks, &first, &count))
        apply(m, first, count, STATE_BIT(PAGE_UNKNOWN) | STATE_BIT(PAGE_PARTIAL),
              PAGE_UNALLOCATED, FALL_SKIP);
    if (lba >= m->lun_blocks || blocks == 0)
        return;
    uint64_t end = lba + min64(blocks, m->lun_blocks - lba);
    uint64_t fp = lba >> m->page_shift, lp = (end - 1) >> m->page_shift;
    learn_partial(m, fp, lba, end);
    if (lp != fp)
        learn_partial(m, lp, lba, end);
}

/* A mapped extent [lba, end) covers page `page` in part: if it is PARTIAL,
 * the zero granules the extent touches hold data after all.  It stays
 * PARTIAL when none is left (told only by answers, like describe_in_part). */
static void heal_partial(struct allocmap *m, uint64_t page, uint64_t lba, uint64_t end)
{
    if (allocmap_get(m, page) != PAGE_PARTIAL)
        return;
    uint64_t ps = page << m->page_shift;
    uint64_t pe = min64(ps + m->page_blocks, m->lun_blocks);
    unsigned granules = 1u << (m->page_shift - m->granule_shift);
    uint16_t zeros = allocmap_partial_zeros(m, page), keep = zeros, real = 0;

    for (unsigned g = 0; g < granules; g++) {
        uint64_t gs = ps + ((uint64_t)g << m->granule_shift);
        if (gs < pe)
            real |= (uint16_t)(1u << g);
        if (gs < end && gs + allocmap_granule_blocks(m) > lba)
            keep &= (uint16_t)~(1u << g);
    }
    if (keep == zeros)
        return;
    /* Only granules past the LUN's end left: none.  Replacing a mask never
     * needs memory. */
    set_partial(m, page, keep & real ? keep : 0);
}

/* A mapped extent [lba, end) covers UNKNOWN page `page` in part: the page
 * becomes PARTIAL with no zero granule yet (read as ALLOCATED, but told
 * only by answers, so a later answer's negatives may still add its zero
 * granules: the page where two answers meet).  Not covered, or not
 * UNKNOWN: nothing.  Short of memory it stays UNKNOWN, and the caller makes
 * it ALLOCATED. */
static void describe_in_part(struct allocmap *m, uint64_t page, uint64_t lba, uint64_t end)
{
    uint64_t ps = page << m->page_shift;
    uint64_t pe = min64(ps + m->page_blocks, m->lun_blocks);

    if ((lba <= ps && end >= pe) || allocmap_get(m, page) != PAGE_UNKNOWN)
        return;
    set_partial(m, page, 0);
}

void allocmap_learn_allocated(struct allocmap *m, uint64_t lba, uint64_t blocks)
{
    uint64_t first, count, cf, cc;
    if (!touched(m, lba, blocks, &first, &count))
        return;
    uint64_t end = lba + min64(blocks, m->lun_blocks - lba);
    describe_in_part(m, first, lba, end);
    if (count > 1)
        describe_in_part(m, first + count - 1, lba, end);
    apply(m, first, count, STATE_BIT(PAGE_UNKNOWN), PAGE_ALLOCATED, FALL_SKIP);
    /* Heal what was missed: a block the SAN maps is no zero.  Within one
     * answer this changes nothing (its negatives, applied first, and its
     * mapped extents do not overlap); across answers it is always safe.
     * Short of memory a chunk becomes UNKNOWN, safe too. */
    apply(m, first, count, STATE_BIT(PAGE_UNALLOCATED), PAGE_ALLOCATED, PAGE_UNKNOWN);
    if (covered(m, lba, blocks, &cf, &cc))
        apply(m, cf, cc, STATE_BIT(PAGE_PARTIAL), PAGE_ALLOCATED, PAGE_UNKNOWN);
    heal_partial(m, first, lba, end);
    if (count > 1)
        heal_partial(m, first + count - 1, lba, end);
}

void allocmap_learn_zeroed(struct allocmap *m, uint64_t lba, uint64_t blocks)
{
    uint64_t first, count;
    if (covered(m, lba, blocks, &first, &count))
        apply(m, first, count,
              STATE_BIT(PAGE_UNKNOWN) | STATE_BIT(PAGE_ALLOCATED) | STATE_BIT(PAGE_PARTIAL),
              PAGE_UNALLOCATED, FALL_SKIP);
}

void allocmap_invalidate(struct allocmap *m)
{
    for (size_t c = 0; c < m->nchunks; c++)
        chunk_set_uniform(m, c, PAGE_UNKNOWN);
}

void allocmap_forget_unallocated(struct allocmap *m, uint64_t lba, uint64_t blocks)
{
    uint64_t first, count;
    if (touched(m, lba, blocks, &first, &count))
        apply(m, first, count, STATE_BIT(PAGE_UNALLOCATED) | STATE_BIT(PAGE_PARTIAL),
              PAGE_UNKNOWN, PAGE_UNKNOWN);
}

void allocmap_stats(const struct allocmap *m, struct allocmap_stats *out)
{
    for (unsigned s = 0; s < PAGE_STATES; s++)
        out->pages[s] = 0;
    for (size_t c = 0; c < m->nchunks; c++) {
        const struct detail *d = m->detail[c];
        if (d == NULL) {
            out->pages[m->uniform[c]] += chunk_pages(m, c);
            continue;
        }
        for (unsigned s = 0; s < PAGE_STATES; s++)
            out->pages[s] += d->count[s];
    }
    out->detail_bytes = m->detail_bytes;
    out->memory_bytes = sizeof(*m) + m->nchunks * (sizeof(*m->detail) + sizeof(*m->uniform))
                        + m->detail_bytes;
}
