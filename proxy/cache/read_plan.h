/*
 * The READ planner (docs/ARCHITECTURE.md, "A READ (exclusive mode)"): one READ
 * of [lba, lba + blocks) becomes, in order, zero segments (answered by the
 * proxy) and backend segments (READ(16)s, each at most max_xfer_blocks).
 * Pure: it only reads the map and the READ's own fresh answer.
 */
#ifndef ISP_READ_PLAN_H
#define ISP_READ_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocmap.h"

enum read_seg_kind { SEG_ZERO, SEG_BACKEND };

struct read_seg {
    enum read_seg_kind kind;
    uint64_t lba;
    uint32_t blocks;
};

/* An extent known unallocated from this READ's own GET LBA STATUS answer,
 * already filtered by the race rule (mutlog_filter). */
struct lba_extent {
    uint64_t lba;
    uint64_t blocks;
};

/* One of the proxy's GET LBA STATUS answers as the tasks that waited for it
 * see it (verify mode): its race-filtered unallocated extents, ascending,
 * and the span [from, to) its descriptors described, in which every other
 * block is mapped.  to == from when it describes nothing the proxy may use
 * (refused, malformed, or every negative dropped by the race rule). */
struct lba_answer {
    const struct lba_extent *dealloc;
    size_t n;
    uint64_t from, to;
};

struct read_plan_in {
    const struct allocmap *map;
    /* exclusive mode: the map's UNALLOCATED pages are trusted; verify mode:
     * only ALLOCATED is, and zeros come from `answer` alone. */
    bool trust_unallocated;
    /* May the caller still ask GET LBA STATUS for this READ?  When false,
     * every page the plan cannot prove unallocated is read from the backend. */
    bool may_query;
    const struct lba_extent *answer;    /* sorted, non-overlapping; may be NULL */
    size_t n_answer;
    uint64_t lba;
    uint32_t blocks;                    /* > 0 (else -1), within the LUN */
    uint32_t max_xfer_blocks;           /* > 0 (else -1): backend segments are
                                           split at this */
};

struct read_plan {
    size_t n_segs;
    bool needs_query;       /* may_query and some block's state is unknown:
                               no segments were produced; ask from query_lba */
    uint64_t query_lba;     /* first block whose state is unknown */
    bool all_backend;       /* the plan is one backend read of the whole range
                               (pass the original command through instead) */
};

/*
 * A block reads as a zero segment if it lies in an extent of this READ's
 * own answer, or trust_unallocated and the map says UNALLOCATED for its
 * page, or PARTIAL with a zero mask bit for its granule.  The answer decides even over ALLOCATED pages: it is fresh and
 * race-filtered (no mutation in flight, or completed after the query was
 * sent, is in it), while ALLOCATED is page-granular ("may hold data").
 * Adjacent segments of one kind merge; backend segments are split at
 * max_xfer_blocks.  Writes at most cap segments into out; returns 0, or -1
 * if cap was too small or blocks or max_xfer_blocks is 0 (out is then
 * unspecified).
 */
int read_plan_make(const struct read_plan_in *in, struct read_seg *out, size_t cap,
                   struct read_plan *plan);

#endif
