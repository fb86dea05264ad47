/*
 * Zeros learned from writes (docs/ARCHITECTURE.md, "Zeros learned from
 * data"): a WRITE of all-zero data, or a WRITE SAME of a zero block, that
 * completed GOOD leaves its blocks reading zeros, so the pages it covers
 * become UNALLOCATED ("reads zeros now").  Under the race rule: only blocks
 * no other mutation in flight during the command, or completed after it was
 * sent, may touch (mutlog_filter_own: its own entry does not block it),
 * nothing while negatives are blocked, nothing from a command sent before
 * the facts changed or through a LUN number no longer bound to the object.
 *
 * Only on LUNs whose zeros come from data (LU_ZEROS_FROM_DATA), in
 * `exclusive` mode, as for READ data: on a LUN whose map answers initiators'
 * GET LBA STATUS (LU_ZEROS_FROM_STATUS) an UNALLOCATED page is reported
 * deallocated, while written zeros are mapped on the SAN (and a WRITE SAME
 * with UNMAP may be executed as a write of zeros), so the answers would
 * differ from the SAN's; such LUNs learn their zeros from GET LBA STATUS
 * only.  The data scanned is the Data-Out the proxy forwarded, already in
 * its buffer, word-wise (zero_learn_is_zero).  Pure: no I/O.
 */
#ifndef ISP_ZERO_WRITE_H
#define ISP_ZERO_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocmap.h"
#include "lu_policy.h"
#include "mutlog.h"
#include "scsi_cdb.h"

struct zero_write_in {
    /* the object */
    struct allocmap *map;               /* NULL: nothing learnt */
    const struct mutlog *log;
    enum lu_zero_source zeros_from;
    bool exclusive;                     /* coherence = exclusive */
    bool negatives_blocked;             /* anywhere (lun_guard) */
    bool unmapped_reads_zeros;          /* LBPME=1, LBPRZ=1 (scsi_lun_unmapped_reads_zeros) */
    uint64_t lun_blocks;
    uint32_t block_size;
    /* the command, completed GOOD */
    const struct scsi_cdb_info *ci;
    const uint8_t *cdb;                 /* its CDB (16 bytes) */
    const struct mutation *self;        /* its log entry, begun, not yet ended */
    bool same_facts;                    /* the object's facts are those of when it was sent */
    bool sent_bound;                    /* its LUN number named the object when sent */
    const uint8_t *data;                /* the Data-Out forwarded, len bytes (NULL: none) */
    size_t len;
};

/* Which blocks the command leaves reading zeros, whatever the race rule:
 * true and [*lba, *lba + *blocks) within the LUN, or false. */
bool zero_write_extent(const struct zero_write_in *in, uint64_t *lba, uint64_t *blocks);

/* Learn them (allocmap_learn_zeroed) where the race rule allows, if the
 * object learns zeros from data.  Returns the blocks offered to the map. */
uint64_t zero_write_apply(const struct zero_write_in *in);

#endif
