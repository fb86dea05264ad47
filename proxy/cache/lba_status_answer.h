/*
 * An initiator's GET LBA STATUS (16) answered by the proxy
 * (docs/ARCHITECTURE.md, "GET LBA STATUS answered by the proxy"): the
 * parameter data of SBC-5 5.6.2 built from the map, and in `verify` mode from
 * a fresh answer of the SAN, so copy tools that ask one descriptor at a time
 * (qemu-img convert, mirror and backup jobs) cost the SAN no round trip for
 * what the proxy knows.
 *
 * The rule is the cache's one invariant: a descriptor never says
 * deallocated for a block that may hold data.  ALLOCATED pages and the
 * mapped granules of PARTIAL pages are mapped.  In `exclusive` mode
 * UNALLOCATED pages and the zero granules of PARTIAL pages are deallocated.
 * In `verify` mode the map's negatives are not trusted: only a fresh answer
 * (a query sent after the command arrived, race-filtered) says deallocated,
 * for its own extents, and is mapped elsewhere in the span it described.
 * The answer ends at the first block nothing may describe (an UNKNOWN page;
 * in verify, a negative the fresh answer does not cover; SBC lets a device
 * server return fewer descriptors than would reach the end of the LUN), at
 * the end of the LUN, or when the allocation length holds no more
 * descriptors.  Mutations through the proxy made their pages ALLOCATED
 * before they were sent, so the race rule holds for the answer as it does
 * for READs.  Pure: no I/O.
 */
#ifndef ISP_LBA_STATUS_ANSWER_H
#define ISP_LBA_STATUS_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "allocmap.h"
#include "read_plan.h"

enum lba_status_answer {
    LBA_STATUS_ANSWERED,    /* out holds the parameter data */
    LBA_STATUS_NEED_QUERY,  /* nothing may describe the starting LBA: ask the SAN first */
    LBA_STATUS_FORWARD,     /* the map cannot answer this CDB: send it to the SAN */
};

struct lba_status_request {
    uint64_t lba;           /* STARTING LBA */
    uint32_t alloc_len;     /* ALLOCATION LENGTH */
    uint8_t report_type;    /* REPORT TYPE (SBC-5 table 49); only 0 (all LBAs) is answered */
    bool trust_unallocated; /* exclusive mode: the map's negatives are reported */
    const struct lba_answer *fresh; /* verify mode: the answer to the query this
                                       command waited for, or NULL */
};

struct lba_status_reply {
    size_t len;             /* bytes of out to send: the parameter data, cut at alloc_len */
    uint32_t ndesc;         /* descriptors built */
    uint64_t end_lba;       /* first LBA the descriptors do not describe */
};

/*
 * Build the answer to req for a LUN of lun_blocks blocks into out[0..cap).
 * LBA_STATUS_FORWARD when the STARTING LBA is past the end (the SAN answers
 * LBA OUT OF RANGE), the REPORT TYPE is not 0, or the allocation length
 * cannot hold one descriptor.  The number of descriptors is the most that
 * fit in both alloc_len and cap, so the data is never cut mid-descriptor.
 */
enum lba_status_answer lba_status_answer_build(const struct allocmap *map, uint64_t lun_blocks,
                                               const struct lba_status_request *req,
                                               uint8_t *out, size_t cap,
                                               struct lba_status_reply *reply);

#endif
