/*
 * Zeros learned from data (docs/ARCHITECTURE.md, "Zeros learned from
 * data"): on a LUN whose holes the SAN cannot report (LBPME=0, LBPRZ=0, or
 * GET LBA STATUS refused), the data of the proxy's own backend READs tells
 * which granules read zeros.  Under the race rule exactly as for GET LBA
 * STATUS answers: the READ's data describes the LUN when the SAN executed
 * it, so a block that a mutation in flight since the READ was sent (or one
 * completed after that) may touch learns nothing, and nothing is learnt
 * while negatives are blocked.  Pure: no I/O.
 */
#ifndef ISP_ZERO_LEARN_H
#define ISP_ZERO_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocmap.h"
#include "mutlog.h"

/* What the race rule's filter lets through (mutlog_filter's emit) is
 * marked in the map with `mark` and counted. */
struct zero_learn_sink {
    struct allocmap *map;
    void (*mark)(struct allocmap *map, uint64_t lba, uint64_t blocks);
    uint64_t learned;
};
void zero_learn_emit(void *arg, uint64_t lba, uint64_t blocks);

/* buf[0..len) is all zero bytes (len may be any size, 0 included). */
bool zero_learn_is_zero(const uint8_t *buf, size_t len);

struct zero_learn_in {
    struct allocmap *map;
    const struct mutlog *log;
    bool negatives_blocked;
    uint64_t since;             /* mutlog_now when the READ was sent */
    uint64_t lba;               /* what the READ asked and got, GOOD and whole */
    uint64_t blocks;
    uint32_t block_size;
    const uint8_t *data;        /* blocks * block_size bytes */
};

/* Mark the all-zero whole granules of the READ's data as reading zeros
 * (UNKNOWN pages only: allocmap_learn_unallocated).  Returns the blocks
 * offered to the map (after the race rule). */
uint64_t zero_learn_apply(const struct zero_learn_in *in);

#endif
