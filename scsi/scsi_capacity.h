/*
 * Per-LUN facts from the backend (SBC-5 sections; SBC-4 r22 numbers match):
 * READ CAPACITY (10)/(16) parameter data, the Block Limits (B0h) and Logical
 * Block Provisioning (B2h) VPD pages, and the unit attentions that make the
 * allocation cache forget what it knows.  All parsers take untrusted data and
 * never read past len.
 */
#ifndef ISP_SCSI_CAPACITY_H
#define ISP_SCSI_CAPACITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi_sense.h"

#define SCSI_RC10_DATA_LEN     8
#define SCSI_RC16_DATA_LEN     32
#define SCSI_VPD_BLOCK_LIMITS  0xb0
#define SCSI_VPD_LBP           0xb2
#define SCSI_VPD_BLOCK_LIMITS_LEN 64   /* page length 003Ch + 4 */

/* ---- CDB builders ----------------------------------------------------- */

/* READ CAPACITY (16) (SBC-5 5.21.1): 16 bytes.  Returns 16, or 0 if cap is
 * too small. */
size_t scsi_rc16_build(uint8_t *cdb, size_t cap, uint32_t alloc_len);
/* INQUIRY with EVPD=1 for page (SPC-5 INQUIRY command): 6 bytes.  Returns 6,
 * or 0 if cap is too small. */
size_t scsi_inquiry_vpd_build(uint8_t *cdb, size_t cap, uint8_t page, uint16_t alloc_len);

/* ---- READ CAPACITY ------------------------------------------------------ */

struct scsi_capacity {
    uint64_t last_lba;       /* RETURNED LOGICAL BLOCK ADDRESS */
    uint64_t num_blocks;     /* last_lba + 1 */
    uint32_t block_len;      /* LOGICAL BLOCK LENGTH IN BYTES */
    bool     has_rc16_fields;/* bytes 12-15 were present (READ CAPACITY (16)) */
    bool     prot_en;
    uint8_t  p_type;
    uint8_t  p_i_exponent;
    uint8_t  lbppb_exp;      /* LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT */
    bool     lbpme;          /* logical block provisioning management enabled */
    bool     lbprz;          /* unmapped LBAs read zeros */
    uint16_t lowest_aligned_lba;
};

/* READ CAPACITY (16) parameter data (SBC-5 5.21.2).  Needs at least the 12
 * bytes of LBA and block length; the provisioning bits need 16.  Returns -1
 * if short, the block length is 0, or last LBA is 2^64 - 1 (no block count). */
int scsi_rc16_parse(const uint8_t *buf, size_t len, struct scsi_capacity *out);

/* READ CAPACITY (10) parameter data (SBC-5 5.20.2).  Returns 1 if the LBA is
 * FFFFFFFFh (use READ CAPACITY (16)), 0 if parsed, -1 if malformed. */
int scsi_rc10_parse(const uint8_t *buf, size_t len, struct scsi_capacity *out);

/* Logical block lengths the proxy plans READs with, in bytes. */
#define SCSI_BLOCK_LEN_MIN  512u
#define SCSI_BLOCK_LEN_MAX  65536u

/* Whether a LOGICAL BLOCK LENGTH IN BYTES (READ CAPACITY (16)) is one the
 * proxy plans READs with: SCSI_BLOCK_LEN_MIN to SCSI_BLOCK_LEN_MAX bytes,
 * powers of two or not (520, 528, 4104, 4160 are real formats). */
bool scsi_block_len_usable(uint32_t len);

/* ---- Block Limits VPD page (SBC-5 6.6.4) -------------------------------- */

struct scsi_block_limits {
    bool     wsnz;                 /* WRITE SAME with 0 blocks not supported */
    uint8_t  max_caw_len;          /* MAXIMUM COMPARE AND WRITE LENGTH */
    uint16_t opt_xfer_gran;        /* OPTIMAL TRANSFER LENGTH GRANULARITY */
    uint32_t max_xfer_len;         /* blocks; 0 = no limit reported */
    uint32_t opt_xfer_len;
    uint32_t max_prefetch_len;
    uint32_t max_unmap_lba_count;  /* 0 = UNMAP not implemented */
    uint32_t max_unmap_desc_count;
    uint32_t opt_unmap_gran;       /* blocks; 0 = not reported (tgt) */
    bool     ugavalid;
    uint32_t unmap_gran_align;     /* valid if ugavalid */
    uint64_t max_write_same_len;
    bool     has_unmap_fields;     /* page reached bytes 20-35 (SBC-3 and later) */
};

/* Fields beyond the PAGE LENGTH or the data read as 0.  Returns -1 if shorter
 * than the 4-byte header, not page B0h, or the peripheral qualifier is not 0. */
int scsi_vpd_block_limits_parse(const uint8_t *buf, size_t len, struct scsi_block_limits *out);

/* ---- Logical Block Provisioning VPD page (SBC-5 6.6.7) ------------------ */

#define SCSI_PROV_TYPE_FULL      0   /* not reported, or fully provisioned */
#define SCSI_PROV_TYPE_RESOURCE  1
#define SCSI_PROV_TYPE_THIN      2

struct scsi_lbp_vpd {
    uint8_t threshold_exp;
    bool    lbpu;          /* UNMAP supported */
    bool    lbpws;         /* WRITE SAME (16) with UNMAP supported */
    bool    lbpws10;       /* WRITE SAME (10) with UNMAP supported */
    uint8_t lbprz;         /* 3-bit LBPRZ field (SBC-5 table 280) */
    bool    anc_sup;       /* anchored LBAs supported */
    bool    dp;            /* provisioning group descriptor present */
    uint8_t min_percentage;
    uint8_t prov_type;     /* SCSI_PROV_TYPE_* (others reserved) */
    uint8_t threshold_pct;
};

/* Returns -1 if shorter than 8 bytes or PAGE LENGTH < 4, not page B2h, or
 * the peripheral qualifier is not 0. */
int scsi_vpd_lbp_parse(const uint8_t *buf, size_t len, struct scsi_lbp_vpd *out);

/* Table 280: LBPRZ xx1b = unmapped LBAs read zeros; 010b = the provisioning
 * initialization pattern (not necessarily zeros); 000b vendor specific. */
bool scsi_lbp_vpd_reads_zeros(const struct scsi_lbp_vpd *lbp);

/* Zero-serving needs LBPME=1 and LBPRZ=1 in READ CAPACITY (16), and, when
 * the LBP VPD page is known (lbp != NULL), its LBPRZ too
 * (docs/ARCHITECTURE.md, "Facts and the zero-serving decision"). */
bool scsi_lun_unmapped_reads_zeros(const struct scsi_capacity *cap, const struct scsi_lbp_vpd *lbp);

/* ---- Unit attentions the cache invalidates on (SPC-5 ASC/ASCQ) -------- */

enum scsi_ua_reason {
    SCSI_UA_NONE = 0,          /* not a unit attention */
    SCSI_UA_RESET,             /* 29h/xx power on, reset, I_T nexus loss */
    SCSI_UA_CAPACITY_CHANGED,  /* 2Ah/09h */
    SCSI_UA_MODE_CHANGED,      /* 2Ah/01h mode parameters changed */
    SCSI_UA_LUNS_CHANGED,      /* 3Fh/0Eh reported LUNs data has changed */
    SCSI_UA_INQUIRY_CHANGED,   /* 3Fh/03h */
    SCSI_UA_MICROCODE_CHANGED, /* 3Fh/01h, 3Fh/16h */
    SCSI_UA_MEDIUM_CHANGED,    /* 28h/xx not ready to ready change */
    SCSI_UA_OPERATING_CHANGED, /* other 3Fh/xx: target operating conditions */
    SCSI_UA_INFO,              /* reservations, ALUA, log/priority/timestamp,
                                  commands cleared, thin threshold, iSCSI
                                  address changes: data unchanged */
    SCSI_UA_OTHER,             /* anything else: assume the worst */
};

/* Classify parsed sense data.  Only sense key UNIT ATTENTION is a UA. */
enum scsi_ua_reason scsi_ua_classify(const struct scsi_sense_info *s);
/* Whether the allocation cache of the LUN must be dropped. */
bool scsi_ua_invalidates(enum scsi_ua_reason r);
const char *scsi_ua_reason_name(enum scsi_ua_reason r);

#endif
