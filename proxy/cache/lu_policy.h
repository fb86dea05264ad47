/*
 * The decisions about one logical unit's cache that depend only on what the
 * SAN said (docs/ARCHITECTURE.md, "Facts and the zero-serving decision",
 * "Unit attentions the proxy consumes", "Identity per I_T nexus"): whether
 * zeros may be served and with which page and split size, what a unit
 * attention or a refused GET LBA STATUS does to the cache and to the
 * session's verified LUN numbers (the rules between objects: lu_key.h).
 * Pure: plain inputs (parsed SCSI data, classes), decisions out; the daemon
 * (proxy/daemon/lun*.c) logs, counts and does the I/O.
 */
#ifndef ISP_LU_POLICY_H
#define ISP_LU_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "scsi_capacity.h"

#define LU_DEFAULT_PAGE_BYTES (64u * 1024)
#define LU_MIN_PAGE_BYTES     (4u * 1024)
#define LU_MAX_PAGE_BYTES     (16u * 1024 * 1024)
#define LU_MAX_SPLIT_BYTES    (8u * 1024 * 1024)  /* when the backend reports no limit */

/* READ CAPACITY(16) parsed (rc: scsi_rc16_parse's return): NULL when zeros
 * may still be served, else why not. */
const char *lu_policy_capacity(int rc, const struct scsi_capacity *cap);

/* Where the map's zeros come from (docs/ARCHITECTURE.md, "Zeros learned
 * from data"). */
enum lu_zero_source {
    LU_ZEROS_FROM_STATUS,   /* LBPME=1, LBPRZ=1: GET LBA STATUS answers fill the map */
    LU_ZEROS_FROM_DATA,     /* holes not reported (thick, LBPRZ=0, no provisioning
                               page, GET LBA STATUS refused): zeros are learned from
                               the data of backend READs, in `exclusive` mode only */
};

/* "lba_status" or "data" (logs, /stats) */
const char *lu_zero_source_name(enum lu_zero_source z);

struct lu_geometry {
    enum lu_zero_source zeros_from;
    bool unmapped_reads_zeros;  /* LBPME=1, LBPRZ=1, the LBP VPD page agreeing: a
                                   WRITE SAME with UNMAP of a zero block leaves zeros */
    uint32_t block_size;
    uint64_t n_blocks;
    uint32_t page_blocks;       /* a power of two, >= 1 */
    uint32_t max_xfer_blocks;   /* >= 1: backend READs of a split plan */
};

/* Every fact is in (capacity accepted by lu_policy_capacity, Block Limits
 * VPD parsed, Logical Block Provisioning VPD parsed or NULL when the SAN has
 * none): NULL and the geometry, or why zeros may not be served.  page_size:
 * configured bytes, 0 for auto. */
const char *lu_policy_geometry(const struct scsi_capacity *cap, const struct scsi_block_limits *bl,
                               const struct scsi_lbp_vpd *lbp, uint64_t page_size,
                               struct lu_geometry *out);

/* What a unit attention on a session's command does (bits). */
enum lu_ua_action {
    LU_UA_FORGET_NEGATIVES = 1 << 0,    /* the LU's data may have changed */
    LU_UA_REPROBE          = 1 << 1,    /* its facts may have changed: ask again */
    LU_UA_UNVERIFY_LUN     = 1 << 2,    /* this LUN number may name another LU */
    LU_UA_UNVERIFY_ALL     = 1 << 3,    /* every LUN number of the session may */
};
/* first_nexus_notice: the first reset-class notice this nexus got for the
 * LUN (the nexus is new, not the data). */
unsigned lu_policy_unit_attention(enum scsi_ua_reason r, bool first_nexus_notice);

/* The backend refused a GET LBA STATUS with ILLEGAL REQUEST and this ASC:
 * true when the capacity the proxy knows is stale (probe again), false when
 * the command is not supported (pass-through). */
bool lu_policy_query_refusal_is_stale_capacity(uint8_t asc);

#endif
