/*
 * A GET LBA STATUS answer applied to the allocation cache (docs/ARCHITECTURE.md,
 * "The allocation cache", "The race rule", "Mutations the proxy cannot
 * bound"): the parameter data, untrusted, is parsed (scsi_lba_status.h);
 * its unallocated extents, filtered by the race rule (mutlog.h), make pages
 * UNALLOCATED or PARTIAL, then its mapped extents make UNKNOWN pages
 * ALLOCATED.  The proxy's own queries and initiators' GET LBA STATUS both
 * come through here.  Pure: no I/O.
 */
#ifndef ISP_CACHE_ANSWER_H
#define ISP_CACHE_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allocmap.h"
#include "mutlog.h"
#include "read_plan.h"
#include "scsi_lba_status.h"

struct cache_answer_in {
    struct allocmap *map;           /* NULL: nothing is learnt, out still filled */
    const struct mutlog *log;       /* the LUN's race rule */
    uint64_t lun_blocks;            /* the LUN's size, as the proxy knows it */
    bool negatives_blocked;         /* no answer may teach a negative now */
    uint64_t since;                 /* mutlog_now when the query was sent */
    const uint8_t *buf;             /* the parameter data received */
    size_t len;
    uint64_t asked_lba;             /* the query's STARTING LBA */
    struct lba_extent *out;         /* may be NULL (out_cap 0) */
    size_t out_cap;
};

struct cache_answer_result {
    uint32_t ndesc;                 /* complete descriptors in the data */
    enum scsi_lbas_err err;         /* SCSI_LBAS_OK, or why nothing was applied */
    bool no_memory;                 /* nothing applied, nothing counted */
    bool anchored;                  /* the SAN said anchored somewhere */
    bool dropped_race;              /* parsed, but every negative was dropped:
                                       the ring forgot a newer mutation, or
                                       negatives are blocked */
    size_t n_out;                   /* race-filtered unallocated extents written
                                       to out (ascending; at most out_cap) */
    uint64_t end_lba;               /* the descriptors described [asked_lba,
                                       end_lba); asked_lba if err */
};

struct cache_answer_result cache_answer_apply(const struct cache_answer_in *in);

#endif
