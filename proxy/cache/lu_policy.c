/* Decisions about one logical unit's cache from what the SAN said (lu_policy.h). */
#include "lu_policy.h"

const char *lu_policy_capacity(int rc, const struct scsi_capacity *cap)
{
    if (rc < 0 || cap->block_len == 0 || cap->num_blocks == 0)
        return "malformed READ CAPACITY(16) data";
    /* Planned READs divide by block counts derived from it. */
    if (!scsi_block_len_usable(cap->block_len))
        return "logical block length outside 512 to 65536 bytes";
    return NULL;
}

const char *lu_zero_source_name(enum lu_zero_source z)
{
    return z == LU_ZEROS_FROM_STATUS ? "lba_status" : "data";
}

/* Page size: configured, or the backend's optimal unmap granularity when it
 * is a power of two between 4 KiB and 16 MiB, else 64 KiB; at least one
 * block, and a power of two of blocks for the map (64 KiB of 520-byte
 * blocks, 126, rounds down to 64). */
static uint32_t page_blocks(uint32_t block_size, uint32_t opt_unmap_gran, uint64_t page_size)
{
    uint64_t bytes = page_size;

    if (bytes == 0) {
        uint64_t gran = (uint64_t)opt_unmap_gran * block_size;
        bool sane = gran >= LU_MIN_PAGE_BYTES && gran <= LU_MAX_PAGE_BYTES &&
                    !(gran & (gran - 1));
        bytes = sane ? gran : LU_DEFAULT_PAGE_BYTES;
    }
    uint64_t n = bytes <= block_size ? 1 : bytes / block_size;
    if (n > UINT32_MAX)
        n = (uint64_t)1 << 31;
    while (n & (n - 1))
        n &= n - 1;
    return (uint32_t)n;
}

const char *lu_policy_geometry(const struct scsi_capacity *cap, const struct scsi_block_limits *bl,
                               const struct scsi_lbp_vpd *lbp, uint64_t page_size,
                               struct lu_geometry *out)
{
    const char *why = lu_policy_capacity(0, cap);

    if (why)
        return why;
    /* Deallocated blocks read zeros only with LBPRZ=1 and a provisioning
     * page that does not say otherwise; else the SAN's answers say nothing
     * about zeros, and only data does. */
    out->unmapped_reads_zeros = lbp && scsi_lun_unmapped_reads_zeros(cap, lbp);
    out->zeros_from = out->unmapped_reads_zeros ? LU_ZEROS_FROM_STATUS : LU_ZEROS_FROM_DATA;
    out->block_size = cap->block_len;
    out->n_blocks = cap->num_blocks;
    out->page_blocks = page_blocks(cap->block_len, bl->opt_unmap_gran, page_size);
    /* At least 1: split is at least 128 blocks (block_len is at most
     * SCSI_BLOCK_LEN_MAX), and a MAXIMUM TRANSFER LENGTH of 0 means none
     * reported (SBC-4 6.6.4). */
    uint32_t split = LU_MAX_SPLIT_BYTES / cap->block_len;
    out->max_xfer_blocks = bl->max_xfer_len && bl->max_xfer_len < split ? bl->max_xfer_len
                                                                        : split;
    return NULL;
}

unsigned lu_policy_unit_attention(enum scsi_ua_reason r, bool first_nexus_notice)
{
    if (!scsi_ua_invalidates(r))
        return 0;
    switch (r) {
    case SCSI_UA_RESET:
        /* Targets report a reset to the first command of every new I_T
         * nexus; the proxy opens one per session.  Later ones invalidate. */
        return first_nexus_notice ? 0 : LU_UA_FORGET_NEGATIVES;
    case SCSI_UA_LUNS_CHANGED:
        return LU_UA_FORGET_NEGATIVES | LU_UA_UNVERIFY_ALL;
    case SCSI_UA_INQUIRY_CHANGED:
        return LU_UA_FORGET_NEGATIVES | LU_UA_REPROBE | LU_UA_UNVERIFY_LUN;
    case SCSI_UA_CAPACITY_CHANGED:
    case SCSI_UA_MEDIUM_CHANGED:
        return LU_UA_FORGET_NEGATIVES | LU_UA_REPROBE;
    default:
        return LU_UA_FORGET_NEGATIVES;
    }
}

bool lu_policy_query_refusal_is_stale_capacity(uint8_t asc)
{
    return asc == 0x21;     /* LOGICAL BLOCK ADDRESS OUT OF RANGE (SPC-5 table F.1) */
}
