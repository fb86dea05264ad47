/* Zeros learned from writes (zero_write.h). */
#include "zero_write.h"

#include "zero_learn.h"

#define OP_WRITE_6         0x0a
#define OP_WRITE_10        0x2a
#define OP_WRITE_12        0xaa
#define OP_WRITE_16        0x8a
#define OP_WRITE_SAME_10   0x41
#define OP_WRITE_SAME_16   0x93
#define WS_LBDATA_PBDATA   0x06         /* byte 1, obsolete since SBC-3 */

/* WRITE (10), (12), (16), SBC-5 5.40-5.42 (WRITE (6): SBC-3): the Data-Out
 * is the blocks' new data, nblocks * block_size bytes without protection
 * information (WRPROTECT 0). */
static bool write_zeros(const struct zero_write_in *in)
{
    const struct scsi_cdb_info *ci = in->ci;

    return ci->protect == 0 && ci->nblocks > 0 && in->data &&
           in->len == (uint64_t)ci->nblocks * in->block_size &&
           zero_learn_is_zero(in->data, in->len);
}

/* WRITE SAME (10) and (16), SBC-5 5.52 and 5.53: one block written to
 * every LBA, or with NDOB=1 no Data-Out and zeros written.  With UNMAP or
 * ANCHOR set the device server may deallocate or anchor instead of
 * writing; those read zeros only when LBPRZ=1 (READ CAPACITY (16) 5.21,
 * the LBP VPD page's LBPRZ agreeing), which the object's facts say.  The obsolete
 * LBDATA and PBDATA bits would put the LBA into each block. */
static bool write_same_zeros(const struct zero_write_in *in)
{
    const struct scsi_cdb_info *ci = in->ci;

    if (ci->protect != 0 || (in->cdb[1] & WS_LBDATA_PBDATA))
        return false;
    if ((ci->unmap || ci->anchor) && !in->unmapped_reads_zeros)
        return false;
    if (ci->ndob)
        return true;
    return in->data && in->len == in->block_size && zero_learn_is_zero(in->data, in->len);
}

bool zero_write_extent(const struct zero_write_in *in, uint64_t *lba, uint64_t *blocks)
{
    const struct scsi_cdb_info *ci = in->ci;
    bool zeros;

    if (ci->cls != SCSI_CLASS_MUTATE || !ci->has_lba || in->block_size == 0 ||
        in->lun_blocks == 0)
        return false;
    switch (ci->opcode) {
    case OP_WRITE_6:
    case OP_WRITE_10:
    case OP_WRITE_12:
    case OP_WRITE_16:
        zeros = write_zeros(in);
        break;
    case OP_WRITE_SAME_10:
    case OP_WRITE_SAME_16:
        zeros = write_same_zeros(in);
        break;
    default:
        return false;
    }
    return zeros && scsi_cdb_mutation_extent(ci, in->lun_blocks, lba, blocks);
}

uint64_t zero_write_apply(const struct zero_write_in *in)
{
    struct zero_learn_sink ctx = { .map = in->map, .mark = allocmap_learn_zeroed };
    uint64_t lba, blocks;

    if (!in->map || !in->exclusive || in->zeros_from != LU_ZEROS_FROM_DATA ||
        in->negatives_blocked || !in->same_facts || !in->sent_bound || !in->self ||
        allocmap_lun_blocks(in->map) != in->lun_blocks)
        return 0;
    if (!zero_write_extent(in, &lba, &blocks))
        return 0;
    /* Its own log entry must cover what it learns (it was logged with the
     * same extent: cache_mutation_begin). */
    if (in->self->blocks != MUTLOG_WHOLE_LUN &&
        (lba < in->self->lba || lba - in->self->lba > in->self->blocks ||
         blocks > in->self->blocks - (lba - in->self->lba)))
        return 0;
    mutlog_filter_own(in->log, in->self, lba, blocks, zero_learn_emit, &ctx);
    return ctx.learned;
}
