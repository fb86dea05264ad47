/* What a mutation does to one logical unit's cache (cache_mutation.h). */
#include "cache_mutation.h"

/* UNMAP's extents are in its parameter list: visit each, clipped to the LU;
 * [*lo, *hi) grows to cover them. */
static void for_each_unmap_extent(struct allocmap *map, uint64_t n_blocks, const uint8_t *param,
                                  size_t param_len,
                                  void (*fn)(struct allocmap *, uint64_t, uint64_t),
                                  uint64_t *lo, uint64_t *hi)
{
    struct scsi_unmap_list list;
    struct scsi_unmap_desc d;

    if (!param || scsi_unmap_parse(param, param_len, &list) < 0)
        return;
    for (size_t i = 0; i < list.count; i++) {
        uint64_t count;
        scsi_unmap_get(&list, i, &d);
        if (!scsi_extent_clip(d.lba, d.nblocks, n_blocks ? n_blocks : UINT64_MAX, &count))
            continue;
        if (map)
            fn(map, d.lba, count);
        if (d.lba < *lo)
            *lo = d.lba;
        if (d.lba + count > *hi)
            *hi = d.lba + count;
    }
}

enum cache_mutation_kind cache_mutation_begin(struct allocmap *map, struct mutlog *log,
                                              uint64_t n_blocks, const struct scsi_cdb_info *ci,
                                              const uint8_t *param, size_t param_len,
                                              struct mutation *m)
{
    uint64_t first = 0, count = 0;
    enum cache_mutation_kind kind = CACHE_MUT_RANGE;

    if (ci->cls != SCSI_CLASS_MUTATE)
        return CACHE_MUT_NONE;
    switch (ci->scope) {
    case SCSI_SCOPE_PARAM: {
        uint64_t lo = UINT64_MAX, hi = 0;
        for_each_unmap_extent(map, n_blocks, param, param_len, allocmap_mark_allocated, &lo, &hi);
        if (hi <= lo)
            return CACHE_MUT_NONE;          /* nothing to unmap */
        first = lo;
        count = hi - lo;
        break;
    }
    case SCSI_SCOPE_LUN:
        count = MUTLOG_WHOLE_LUN;
        kind = CACHE_MUT_WHOLE_LUN;
        if (map)
            allocmap_forget_unallocated(map, 0, n_blocks);
        break;
    default:
        if (!scsi_cdb_mutation_extent(ci, n_blocks ? n_blocks : UINT64_MAX, &first, &count))
            return CACHE_MUT_NONE;
        if (map)
            allocmap_mark_allocated(map, first, count);
        break;
    }
    mutlog_begin(log, m, first, count);
    return kind;
}

void cache_mutation_succeeded(struct allocmap *map, uint64_t n_blocks,
                              const struct scsi_cdb_info *ci, const uint8_t *param,
                              size_t param_len, const struct mutation *m)
{
    uint64_t lo = UINT64_MAX, hi = 0;

    if (!map || !ci->dealloc)
        return;
    if (ci->scope == SCSI_SCOPE_PARAM)
        for_each_unmap_extent(map, n_blocks, param, param_len, allocmap_forget_covered, &lo, &hi);
    else
        allocmap_forget_covered(map, m->lba, m->blocks);
}
