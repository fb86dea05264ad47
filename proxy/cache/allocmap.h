/*
 * The allocation cache of one backend LUN (docs/ARCHITECTURE.md, "The allocation
 * cache"): a state per page, page = a power-of-two number of blocks.
 *
 *   UNKNOWN      nothing known                    (READ: ask GET LBA STATUS)
 *   ALLOCATED    may hold data                    (READ: from the backend)
 *   UNALLOCATED  every block reads zeros now      (READ: zeros from the proxy)
 *   PARTIAL      ALLOCATED, but told only by answers, which described it in
 *                part: the granules (1/16 of a page, at least a block) its
 *                mask names read zeros (READ: zeros for those in `exclusive`
 *                mode, the rest from the backend).  The mask may be empty: a
 *                page a mapped extent covers in part, whose rest a later
 *                answer may still show zero (the page where two answers meet).
 *
 * PARTIAL keeps large pages from costing their whole size when extents are
 * finer than a page (an aged filesystem on 64 KiB pages): it is made only
 * from answers (negatives race-filtered), and every mutation turns it into
 * ALLOCATED, which negatives never touch.
 *
 * Invariant: a page is UNALLOCATED only if every block of it reads zeros on
 * the backend.  The map only stores; the race rule lives in mutlog.c and the
 * caller applies answers through it.
 *
 * Memory grows with what is known, not with the LUN size: a two-level map
 * whose chunks are "uniform" (one state, no per-page memory) until pages in
 * them differ.  A 64 TiB LUN nobody touched costs the top-level array only.
 * Pure: no I/O.
 */
#ifndef ISP_ALLOCMAP_H
#define ISP_ALLOCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum page_state {
    PAGE_UNKNOWN = 0,
    PAGE_ALLOCATED = 1,
    PAGE_UNALLOCATED = 2,
    PAGE_PARTIAL = 3,
};
#define PAGE_STATES 4

struct allocmap;

/* lun_blocks: LUN size in blocks (> 0); page_blocks: power of two >= 1.
 * The last page may be partial.  NULL on allocation failure. */
struct allocmap *allocmap_new(uint64_t lun_blocks, uint32_t page_blocks);
void allocmap_free(struct allocmap *m);
/* Refuse per-page memory beyond `bytes` in all as if malloc failed: the map
 * then degrades to its safe side (see allocmap.c).  A map that already holds
 * more forgets detailed chunks (every page of each back to UNKNOWN, which is
 * always safe), from the start of the LUN on, until it holds no more.
 * Default: no limit. */
void allocmap_set_detail_limit(struct allocmap *m, size_t bytes);
/* The detail limit of each of `maps` maps (> 0) when all memory of the cache
 * must stay within `limit` bytes and `fixed` of them are taken by what no
 * limit can refuse (objects, mutation rings, the maps' top arrays): an equal
 * share of the rest, 0 when nothing is left. */
size_t allocmap_detail_share(uint64_t limit, uint64_t fixed, size_t maps);

uint64_t allocmap_lun_blocks(const struct allocmap *m);
uint32_t allocmap_page_blocks(const struct allocmap *m);
uint64_t allocmap_pages(const struct allocmap *m);
/* Blocks per granule: page_blocks / 16, at least 1. */
uint32_t allocmap_granule_blocks(const struct allocmap *m);

enum page_state allocmap_get(const struct allocmap *m, uint64_t page);
/* Bit g set: granule g of page `page` reads zeros.  0 unless PARTIAL. */
uint16_t allocmap_partial_zeros(const struct allocmap *m, uint64_t page);

/* The state of page `page` and how many consecutive pages from it (at most
 * max_pages, not past the end) share it.  Must cost O(chunks), not O(pages),
 * over uniform chunks. */
enum page_state allocmap_run(const struct allocmap *m, uint64_t page, uint64_t max_pages,
                             uint64_t *run_pages);

/* Before a command that may change [lba, lba + blocks) is sent: every page
 * it touches, even partly, becomes ALLOCATED (PARTIAL ones too).  Clipped
 * to the LUN. */
void allocmap_mark_allocated(struct allocmap *m, uint64_t lba, uint64_t blocks);

/* After UNMAP / WRITE SAME with UNMAP completed: pages the range covers
 * fully become UNKNOWN (UNMAP is only advice to the SAN). */
void allocmap_forget_covered(struct allocmap *m, uint64_t lba, uint64_t blocks);

/* A GET LBA STATUS answer, already filtered by the race rule: pages fully
 * inside [lba, lba + blocks) that are UNKNOWN or PARTIAL become
 * UNALLOCATED; a page it covers in part (whole granules of it) becomes
 * PARTIAL if UNKNOWN, and a PARTIAL page adds those granules.  Never touches
 * ALLOCATED pages.  (The last partial page of the LUN counts as fully
 * covered when the range reaches the end of the LUN.)  Apply an answer's
 * unallocated extents before its mapped ones, which would otherwise make
 * its mixed pages ALLOCATED first. */
void allocmap_learn_unallocated(struct allocmap *m, uint64_t lba, uint64_t blocks);
/* Mapped extents of an answer: pages it covers become ALLOCATED (ALLOCATED
 * and UNALLOCATED pages it touches too); an UNKNOWN page it covers in part
 * becomes PARTIAL with no zero granule (ALLOCATED when memory is short), a
 * PARTIAL page it covers in part loses the zero granules it touches (and
 * stays PARTIAL, perhaps with none).  Apply an answer's mapped extents as
 * merged runs: two that cover a page together then make it ALLOCATED.
 * Always safe: it heals a negative a missed write left. */
void allocmap_learn_allocated(struct allocmap *m, uint64_t lba, uint64_t blocks);

/* A write the proxy forwarded left [lba, lba + blocks) reading zeros, race-
 * filtered (zero_write.h): pages it covers become UNALLOCATED, whatever
 * their state (the write itself made them ALLOCATED); pages it covers in
 * part stay as they are.  Skipped when memory is short. */
void allocmap_learn_zeroed(struct allocmap *m, uint64_t lba, uint64_t blocks);

/* Everything back to UNKNOWN (unit attention, reset, session loss, a
 * command of unknown effect). */
void allocmap_invalidate(struct allocmap *m);
/* Every UNALLOCATED and PARTIAL page back to UNKNOWN (the race rule's
 * overflow case and `verify` mode's start of a READ). */
void allocmap_forget_unallocated(struct allocmap *m, uint64_t lba, uint64_t blocks);

struct allocmap_stats {
    uint64_t pages[PAGE_STATES];    /* by enum page_state */
    size_t memory_bytes;        /* everything the map allocated */
    size_t detail_bytes;        /* of which per-page (the detail limit's) */
};
void allocmap_stats(const struct allocmap *m, struct allocmap_stats *out);

#endif
