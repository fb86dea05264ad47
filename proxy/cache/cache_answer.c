/*
 * A GET LBA STATUS answer applied to the allocation cache
 * (docs/ARCHITECTURE.md, "The race rule").
 */
#include "cache_answer.h"

#include <stdlib.h>

struct extent_sink {
    struct allocmap *map;
    struct lba_extent *out;
    size_t n, cap;
};

static void sink_emit(void *arg, uint64_t lba, uint64_t blocks)
{
    struct extent_sink *s = arg;

    if (s->map)
        allocmap_learn_unallocated(s->map, lba, blocks);
    if (s->out && s->n < s->cap)
        s->out[s->n++] = (struct lba_extent){ lba, blocks };
}

struct cache_answer_result cache_answer_apply(const struct cache_answer_in *in)
{
    struct cache_answer_result r = { .end_lba = in->asked_lba };
    struct scsi_lba_status_result res;
    size_t cap = in->len / SCSI_GLS_DESC_LEN + 1;
    struct scsi_lba_run *runs = calloc(cap, sizeof(*runs));

    if (!runs) {
        r.no_memory = true;
        return r;
    }
    scsi_lba_status_parse(in->buf, in->len, in->asked_lba, in->lun_blocks, runs, cap, &res);
    r.ndesc = res.ndesc;
    r.anchored = res.anchored;
    r.err = res.err;
    if (res.err != SCSI_LBAS_OK) {
        free(runs);
        return r;
    }
    r.end_lba = res.end_lba;
    /* The race rule: negatives only where no mutation sent after the query,
     * or still in flight, may have written; none at all while something the
     * log cannot bound may write ("Mutations the proxy cannot bound"). */
    bool negatives_ok = in->log->forgotten_seq <= in->since && !in->negatives_blocked;
    r.dropped_race = !negatives_ok;
    /* Negatives first: a page that is part mapped then turns PARTIAL, not
     * ALLOCATED (allocmap_learn_unallocated). */
    struct extent_sink sink = { in->map, in->out, 0, in->out_cap };
    for (size_t i = 0; i < res.nruns && negatives_ok; i++) {
        if (runs[i].unallocated)
            mutlog_filter(in->log, in->since, runs[i].lba, runs[i].blocks, sink_emit, &sink);
    }
    for (size_t i = 0; i < res.nruns && in->map; i++) {
        if (!runs[i].unallocated)
            allocmap_learn_allocated(in->map, runs[i].lba, runs[i].blocks);
    }
    free(runs);
    r.n_out = sink.n;
    return r;
}
