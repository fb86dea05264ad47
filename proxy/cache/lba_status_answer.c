/* GET LBA STATUS answered from the map (lba_status_answer.h). */
#include "lba_status_answer.h"

#include <stdbool.h>
#include <string.h>

#include "scsi_bytes.h"
#include "scsi_lba_status.h"

#define DESC_MAX_BLOCKS 0xffffffffull   /* NUMBER OF LOGICAL BLOCKS is 32 bits */

struct builder {
    uint8_t *out;
    uint32_t max_desc, ndesc;
    uint64_t start, blocks;         /* the open descriptor, not written yet */
    bool dealloc, open, full;
};

static void flush(struct builder *b)
{
    uint8_t *d = b->out + SCSI_GLS_HDR_LEN + (size_t)b->ndesc * SCSI_GLS_DESC_LEN;

    memset(d, 0, SCSI_GLS_DESC_LEN);
    scsi_put_be64(d, b->start);
    scsi_put_be32(d + 8, (uint32_t)b->blocks);
    d[12] = b->dealloc ? SCSI_PROV_DEALLOCATED : SCSI_PROV_MAPPED_OR_UNKNOWN;
    b->ndesc++;
    b->open = false;
}

/* Add [lba, lba + n) of one kind; merges with the open descriptor when it
 * is of the same kind and not full.  Sets b->full when no descriptor is
 * left for what follows. */
static void add(struct builder *b, uint64_t lba, uint64_t n, bool dealloc)
{
    while (n && !b->full) {
        if (b->open && b->dealloc == dealloc && b->blocks < DESC_MAX_BLOCKS) {
            uint64_t take = DESC_MAX_BLOCKS - b->blocks < n ? DESC_MAX_BLOCKS - b->blocks : n;
            b->blocks += take;
            lba += take;
            n -= take;
            continue;
        }
        if (b->open) {
            flush(b);
            if (b->ndesc == b->max_desc) {
                b->full = true;
                return;
            }
        }
        b->open = true;
        b->start = lba;
        b->blocks = 0;
        b->dealloc = dealloc;
    }
}

/* One PARTIAL page from block `from` to `to` (within it): granule by
 * granule.  Returns false at a zero granule it may not report (verify). */
static bool add_partial(struct builder *b, const struct allocmap *m, uint64_t page,
                        uint64_t from, uint64_t to, bool trust_unallocated)
{
    uint64_t pb = allocmap_page_blocks(m), gb = allocmap_granule_blocks(m);
    uint16_t zeros = allocmap_partial_zeros(m, page);

    while (from < to && !b->full) {
        uint64_t g = (from - page * pb) / gb;
        uint64_t g_end = page * pb + (g + 1) * gb;
        uint64_t end = g_end < to ? g_end : to;
        bool zero = (zeros >> g) & 1;
        if (zero && !trust_unallocated)
            return false;
        add(b, from, end - from, zero);
        from = end;
    }
    return true;
}

/* From lba on, what the map says, until a page it does not know (or, when
 * its negatives are not trusted, one it calls unallocated). */
static void add_from_map(struct builder *b, const struct allocmap *map, uint64_t lun_blocks,
                         uint64_t lba, bool trust_unallocated)
{
    uint64_t pb = allocmap_page_blocks(map);

    while (lba < lun_blocks && !b->full) {
        uint64_t page = lba / pb, run_pages;
        enum page_state st = allocmap_run(map, page, allocmap_pages(map) - page, &run_pages);
        uint64_t run_end = (page + run_pages) * pb;
        if (run_end > lun_blocks)
            run_end = lun_blocks;
        if (st == PAGE_UNKNOWN || (st == PAGE_UNALLOCATED && !trust_unallocated))
            return;
        if (st == PAGE_PARTIAL) {
            /* one page at a time: each has its own granules */
            uint64_t end = (page + 1) * pb < lun_blocks ? (page + 1) * pb : lun_blocks;
            if (!add_partial(b, map, page, lba, end, trust_unallocated))
                return;
            lba = end;
            continue;
        }
        add(b, lba, run_end - lba, st == PAGE_UNALLOCATED);
        lba = run_end;
    }
}

/* From lba (inside [f->from, f->to)) to f->to, what the fresh answer says:
 * its unallocated extents deallocated, the rest mapped.  Returns f->to. */
static uint64_t add_fresh(struct builder *b, const struct lba_answer *f, uint64_t lba)
{
    for (size_t i = 0; i < f->n && lba < f->to && !b->full; i++) {
        uint64_t start = f->dealloc[i].lba, end = start + f->dealloc[i].blocks;
        if (end > f->to)
            end = f->to;
        if (end <= lba)
            continue;
        if (start > lba)
            add(b, lba, (start < f->to ? start : f->to) - lba, false);
        if (start < lba)
            start = lba;
        if (start < end)
            add(b, start, end - start, true);
        lba = end > lba ? end : lba;
    }
    if (lba < f->to)
        add(b, lba, f->to - lba, false);
    return f->to;
}

enum lba_status_answer lba_status_answer_build(const struct allocmap *map, uint64_t lun_blocks,
                                               const struct lba_status_request *req,
                                               uint8_t *out, size_t cap,
                                               struct lba_status_reply *reply)
{
    size_t room = req->alloc_len < cap ? req->alloc_len : cap;
    const struct lba_answer *f = req->fresh;

    memset(reply, 0, sizeof(*reply));
    if (!map || req->report_type != 0 || req->lba >= lun_blocks ||
        lun_blocks != allocmap_lun_blocks(map) || room < SCSI_GLS_ALLOC_LEN(1))
        return LBA_STATUS_FORWARD;

    struct builder b = { .out = out,
                         .max_desc = (uint32_t)((room - SCSI_GLS_HDR_LEN) / SCSI_GLS_DESC_LEN) };
    uint64_t lba = req->lba;
    if (f && f->from <= lba && lba < f->to && f->to <= lun_blocks)
        lba = add_fresh(&b, f, lba);
    if (!b.full)
        add_from_map(&b, map, lun_blocks, lba, req->trust_unallocated);
    if (b.open)
        flush(&b);
    if (b.ndesc == 0)
        return LBA_STATUS_NEED_QUERY;
    /* The end is where the last descriptor ends (a full builder stopped
     * before describing the rest). */
    const uint8_t *last = out + SCSI_GLS_HDR_LEN + (size_t)(b.ndesc - 1) * SCSI_GLS_DESC_LEN;
    reply->end_lba = scsi_get_be64(last) + scsi_get_be32(last + 8);
    memset(out, 0, SCSI_GLS_HDR_LEN);
    scsi_put_be32(out, 4 + b.ndesc * SCSI_GLS_DESC_LEN);    /* SBC-5 5.6.2.1 */
    reply->ndesc = b.ndesc;
    reply->len = SCSI_GLS_ALLOC_LEN(b.ndesc);
    return LBA_STATUS_ANSWERED;
}
