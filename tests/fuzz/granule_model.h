/*
 * The fuzzers' model of PARTIAL pages (allocmap.h): which granules of the
 * page [ps, pe) the range [lba, end) covers whole.  Granules past the LUN
 * (pe < ps + granules * gb) count once a real one does.
 */
#ifndef ISP_FUZZ_GRANULE_MODEL_H
#define ISP_FUZZ_GRANULE_MODEL_H

#include <stdint.h>

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

#endif
