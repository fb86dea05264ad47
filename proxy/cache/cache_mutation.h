/*
 * What a command that can change data does to one logical unit's cache
 * (docs/ARCHITECTURE.md, "A WRITE (and every other mutation)"): before it
 * is sent, the pages it may touch become ALLOCATED and it enters the
 * mutation log -- whatever the LU's state, so a map made while it is in
 * flight still knows it; after it completed GOOD, UNMAP and WRITE SAME with
 * UNMAP make the pages they fully cover UNKNOWN (UNMAP is only advice).
 * Pure: the map (NULL while the LU is not zero-serving), the log, the
 * decoded CDB and its Data-Out bytes in; the caller counts and logs.
 */
#ifndef ISP_CACHE_MUTATION_H
#define ISP_CACHE_MUTATION_H

#include <stddef.h>
#include <stdint.h>

#include "allocmap.h"
#include "mutlog.h"
#include "scsi_cdb.h"

enum cache_mutation_kind {
    CACHE_MUT_NONE,         /* changes no data, or nothing to change: not logged */
    CACHE_MUT_RANGE,        /* m is in flight for its extent */
    CACHE_MUT_WHOLE_LUN,    /* unknown extent: m covers the LU, the map forgot its negatives */
};

/* n_blocks: the LU's size, 0 while unknown.  param: the command's Data-Out
 * (UNMAP's parameter list), NULL if none. */
enum cache_mutation_kind cache_mutation_begin(struct allocmap *map, struct mutlog *log,
                                              uint64_t n_blocks, const struct scsi_cdb_info *ci,
                                              const uint8_t *param, size_t param_len,
                                              struct mutation *m);

/* The mutation begun as m completed GOOD (call before mutlog_end). */
void cache_mutation_succeeded(struct allocmap *map, uint64_t n_blocks,
                              const struct scsi_cdb_info *ci, const uint8_t *param,
                              size_t param_len, const struct mutation *m);

#endif
