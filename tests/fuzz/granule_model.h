/*
 * The fuzzers' model of PARTIAL pages (allocmap.h): which granules of the
 * page [ps, pe) the range [lba, end) covers whole.  Granules past the LUN
 * (pe < ps + granules * gb) count once a real one does.
 */
#ifndef ISP_FUZZ_GRANULE_MODEL_H
#define ISP_FUZZ_GRANULE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "allocmap.h"

static inline uint16_t model_granules_covered(uint64_t ps, uint64_t pe, uint32_t gb,
                                              uint32_t granules, uint64_t lba, uint64_t end)
{
    uint16_t real = 0, past = 0;

    for (uint32_t g = 0; g < granules; g++) {
        uint64_t gs = ps + (uint64_t)g * gb, ge = gs + gb < pe ? gs + gb : pe;
        if (gs >= pe)
            past |= (uint16_t)(1u << g);
        else if (lba <= gs && ge <= end)
            real |= (uint16_t)(1u << g);
    }
    return real ? real | past : 0;
}

/* The granules of the page [ps, pe) inside the LUN (real), and those of them
 * the range [lba, end) touches even in part: what a mapped extent heals. */
static inline uint16_t model_granules_real(uint64_t ps, uint64_t pe, uint32_t gb,
                                           uint32_t granules)
{
    uint16_t real = 0;

    for (uint32_t g = 0; g < granules; g++)
        if (ps + (uint64_t)g * gb < pe)
            real |= (uint16_t)(1u << g);
    return real;
}

static inline uint16_t model_granules_touched(uint64_t ps, uint64_t pe, uint32_t gb,
                                              uint32_t granules, uint64_t lba, uint64_t end)
{
    uint16_t hit = 0;

    for (uint32_t g = 0; g < granules; g++) {
        uint64_t gs = ps + (uint64_t)g * gb;
        if (gs < pe && gs < end && gs + gb > lba)
            hit |= (uint16_t)(1u << g);
    }
    return hit;
}

/* A mapped extent [lba, end) touches a page in state s with zero granules
 * *z (allocmap_learn_allocated); returns its new state: a page it covers
 * becomes ALLOCATED (ALLOCATED stays); UNALLOCATED becomes ALLOCATED; an
 * UNKNOWN page it covers in part becomes PARTIAL with no zero granule; a
 * PARTIAL page covered in part loses the zero granules touched (none left
 * when only granules past the LUN remain). */
static inline enum page_state model_learn_allocated(enum page_state s, uint16_t *z, uint64_t ps,
                                                    uint64_t pe, uint32_t gb, uint32_t granules,
                                                    uint64_t lba, uint64_t end)
{
    bool covered = lba <= ps && pe <= end;

    if (s == PAGE_UNALLOCATED || (covered && s != PAGE_ALLOCATED))
        return PAGE_ALLOCATED;
    if (s == PAGE_UNKNOWN) {
        *z = 0;
        return PAGE_PARTIAL;
    }
    if (s != PAGE_PARTIAL)
        return s;
    *z &= (uint16_t)~model_granules_touched(ps, pe, gb, granules, lba, end);
    if (!(*z & model_granules_real(ps, pe, gb, granules)))
        *z = 0;
    return PAGE_PARTIAL;
}

#endif
