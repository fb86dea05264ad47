/*
 * The zero granules of one allocation-map chunk's partly allocated pages
 * (allocmap.h, PAGE_PARTIAL): a sorted array of (page offset in the chunk,
 * 16-bit mask), one entry per PARTIAL page, so memory grows with the pages
 * an answer showed mixed, not with the chunk.  Bit g of a mask set: granule
 * g of the page reads zeros.  Pure: no I/O.
 */
#ifndef ISP_GRANULE_MASKS_H
#define ISP_GRANULE_MASKS_H

#include <stddef.h>
#include <stdint.h>

struct granule_mask {
    uint16_t page;              /* offset in the chunk */
    uint16_t zeros;
};

struct granule_masks {
    struct granule_mask *e;     /* sorted by page, no duplicates */
    uint32_t n, cap;
};

void granule_masks_free(struct granule_masks *g);
/* The mask of page `page`, 0 if it has none. */
uint16_t granule_masks_get(const struct granule_masks *g, uint16_t page);
/* Set (insert or replace) the mask of `page`.  Growing the array may add at
 * most `room` bytes; returns -1 (nothing changed) if it needs more or
 * malloc fails. */
int granule_masks_set(struct granule_masks *g, uint16_t page, uint16_t zeros, size_t room);
/* Drop the masks of pages [lo, hi). */
void granule_masks_drop(struct granule_masks *g, uint32_t lo, uint32_t hi);
/* Bytes the array holds. */
size_t granule_masks_bytes(const struct granule_masks *g);

#endif
