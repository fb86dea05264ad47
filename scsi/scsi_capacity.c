/*
 * READ CAPACITY, Block Limits and Logical Block Provisioning VPD pages, and
 * unit attention classification.  Offsets are named after the SBC-5 tables
 * (table 87 READ CAPACITY (16) parameter data, table 269 Block Limits, table
 * 277 Logical Block Provisioning); SBC-4 r22 uses the same layouts.
 */
#include "scsi_capacity.h"

#include <string.h>

#include "scsi_bytes.h"

/* ---- CDB builders ----------------------------------------------------- */

size_t scsi_rc16_build(uint8_t *cdb, size_t cap, uint32_t alloc_len)
{
    if (cdb == NULL || cap < 16)
        return 0;
    memset(cdb, 0, 16);
    cdb[0] = 0x9e;                 /* SERVICE ACTION IN (16) */
    cdb[1] = 0x10;                 /* READ CAPACITY (16) */
    scsi_put_be32(cdb + 10, alloc_len);
    return 16;
}

size_t scsi_inquiry_vpd_build(uint8_t *cdb, size_t cap, uint8_t page, uint16_t alloc_len)
{
    if (cdb == NULL || cap < 6)
        return 0;
    memset(cdb, 0, 6);
    cdb[0] = 0x12;                 /* INQUIRY */
    cdb[1] = 0x01;                 /* EVPD */
    cdb[2] = page;
    scsi_put_be16(cdb + 3, alloc_len);
    return 6;
}

/* ---- READ CAPACITY ------------------------------------------------------ */

#define RC16_LBA        0
#define RC16_BLOCK_LEN  8
#define RC16_PROT       12     /* P_TYPE bits 3-1, PROT_EN bit 0 */
#define RC16_EXP        13     /* P_I_EXPONENT 7-4, LBPPBE 3-0 */
#define RC16_LBP        14     /* LBPME 7, LBPRZ 6, LOWEST ALIGNED LBA 13-8 */

int scsi_rc16_parse(const uint8_t *buf, size_t len, struct scsi_capacity *out)
{
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (buf == NULL || len < RC16_PROT)
        return -1;
    out->last_lba = scsi_get_be64(buf + RC16_LBA);
    out->block_len = scsi_get_be32(buf + RC16_BLOCK_LEN);
    if (out->block_len == 0 || out->last_lba == UINT64_MAX) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->num_blocks = out->last_lba + 1;
    if (len >= RC16_LBP + 2) {
        out->has_rc16_fields = true;
        out->prot_en = buf[RC16_PROT] & 0x01;
        out->p_type = (buf[RC16_PROT] >> 1) & 0x07;
        out->p_i_exponent = buf[RC16_EXP] >> 4;
        out->lbppb_exp = buf[RC16_EXP] & 0x0f;
        out->lbpme = (buf[RC16_LBP] & 0x80) != 0;
        out->lbprz = (buf[RC16_LBP] & 0x40) != 0;
        out->lowest_aligned_lba = scsi_get_be16(buf + RC16_LBP) & 0x3fff;
    }
    return 0;
}

int scsi_rc10_parse(const uint8_t *buf, size_t len, struct scsi_capacity *out)
{
    uint32_t lba;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (buf == NULL || len < SCSI_RC10_DATA_LEN)
        return -1;
    lba = scsi_get_be32(buf);
    if (lba == UINT32_MAX)
        return 1;                  /* 5.20.2: too large, ask READ CAPACITY (16) */
    out->block_len = scsi_get_be32(buf + 4);
    if (out->block_len == 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->last_lba = lba;
    out->num_blocks = (uint64_t)lba + 1;
    return 0;
}

/* SBC-4 READ CAPACITY (16) parameter data (5.21.2 above), LOGICAL BLOCK
 * LENGTH IN BYTES: user data per logical block, protection information
 * excluded.  The field has 32 bits, but devices report 512 to 4096 bytes,
 * some with vendor bytes added (520, 528, 4104, 4160); 64 KiB bounds the
 * page and split arithmetic (an 8 MiB backend READ holds at least 128
 * blocks) with room to spare.  Anything else is a broken or exotic device,
 * passed through whole. */
bool scsi_block_len_usable(uint32_t len)
{
    return len >= SCSI_BLOCK_LEN_MIN && len <= SCSI_BLOCK_LEN_MAX;
}

/* ---- VPD pages ------------------------------------------------------------ */

/* SPC-5 VPD page header: PERIPHERAL QUALIFIER 7-5 / DEVICE TYPE 4-0, PAGE
 * CODE, PAGE LENGTH (n - 3).  Returns the usable length (header included,
 * bounded by both len and PAGE LENGTH), or 0 if unusable. */
static size_t vpd_usable(const uint8_t *buf, size_t len, uint8_t page)
{
    size_t n;

    if (buf == NULL || len < 4 || buf[1] != page || (buf[0] >> 5) != 0)
        return 0;
    n = 4 + (size_t)scsi_get_be16(buf + 2);
    return n < len ? n : len;
}

static uint32_t field32(const uint8_t *buf, size_t n, size_t off)
{
    return off + 4 <= n ? scsi_get_be32(buf + off) : 0;
}

int scsi_vpd_block_limits_parse(const uint8_t *buf, size_t len, struct scsi_block_limits *out)
{
    size_t n;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    n = vpd_usable(buf, len, SCSI_VPD_BLOCK_LIMITS);
    if (n == 0)
        return -1;
    /* Table 269.  SBC-2 pages end at byte 15 (PAGE LENGTH 0Ch); a field
     * not covered reads as 0 = "not reported". */
    if (n > 4)
        out->wsnz = buf[4] & 0x01;
    if (n > 5)
        out->max_caw_len = buf[5];
    if (n >= 8)
        out->opt_xfer_gran = scsi_get_be16(buf + 6);
    out->max_xfer_len = field32(buf, n, 8);
    out->opt_xfer_len = field32(buf, n, 12);
    out->max_prefetch_len = field32(buf, n, 16);
    out->max_unmap_lba_count = field32(buf, n, 20);
    out->max_unmap_desc_count = field32(buf, n, 24);
    out->opt_unmap_gran = field32(buf, n, 28);
    if (n >= 36) {
        out->has_unmap_fields = true;
        out->ugavalid = (buf[32] & 0x80) != 0;
        out->unmap_gran_align = scsi_get_be32(buf + 32) & 0x7fffffff;
    }
    if (n >= 44)
        out->max_write_same_len = scsi_get_be64(buf + 36);
    return 0;
}

int scsi_vpd_lbp_parse(const uint8_t *buf, size_t len, struct scsi_lbp_vpd *out)
{
    size_t n;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    n = vpd_usable(buf, len, SCSI_VPD_LBP);
    if (n < 8)                     /* PAGE LENGTH is at least 0004h (6.6.7) */
        return -1;
    /* Table 277: byte 5 LBPU 7, LBPWS 6, LBPWS10 5, LBPRZ 4-2, ANC_SUP 1,
     * DP 0; byte 6 MINIMUM PERCENTAGE 7-3, PROVISIONING TYPE 2-0. */
    out->threshold_exp = buf[4];
    out->lbpu = (buf[5] & 0x80) != 0;
    out->lbpws = (buf[5] & 0x40) != 0;
    out->lbpws10 = (buf[5] & 0x20) != 0;
    out->lbprz = (buf[5] >> 2) & 0x07;
    out->anc_sup = (buf[5] & 0x02) != 0;
    out->dp = (buf[5] & 0x01) != 0;
    out->min_percentage = buf[6] >> 3;
    out->prov_type = buf[6] & 0x07;
    out->threshold_pct = buf[7];
    return 0;
}

bool scsi_lbp_vpd_reads_zeros(const struct scsi_lbp_vpd *lbp)
{
    return lbp != NULL && (lbp->lbprz & 0x01) != 0;
}

bool scsi_lun_unmapped_reads_zeros(const struct scsi_capacity *cap, const struct scsi_lbp_vpd *lbp)
{
    if (cap == NULL || !cap->has_rc16_fields || !cap->lbpme || !cap->lbprz)
        return false;
    return lbp == NULL || scsi_lbp_vpd_reads_zeros(lbp);
}

/* ---- Unit attentions ------------------------------------------------------ */

/* ASC/ASCQ values from the SPC-5 table of ASC and ASCQ assignments. */
static enum scsi_ua_reason classify_2a(uint8_t ascq)
{
    switch (ascq) {
    case 0x01: return SCSI_UA_MODE_CHANGED;      /* MODE PARAMETERS CHANGED */
    case 0x09: return SCSI_UA_CAPACITY_CHANGED;  /* CAPACITY DATA HAS CHANGED */
    case 0x02:                                    /* LOG PARAMETERS CHANGED */
    case 0x03:                                    /* RESERVATIONS PREEMPTED */
    case 0x04:                                    /* RESERVATIONS RELEASED */
    case 0x05:                                    /* REGISTRATIONS PREEMPTED */
    case 0x06:                                    /* ASYMMETRIC ACCESS STATE CHANGED */
    case 0x07:                                    /* IMPLICIT ASYMMETRIC ACCESS STATE TRANSITION FAILED */
    case 0x08:                                    /* PRIORITY CHANGED */
    case 0x10:                                    /* TIMESTAMP CHANGED */
        return SCSI_UA_INFO;
    default:
        return SCSI_UA_OTHER;
    }
}

static enum scsi_ua_reason classify_3f(uint8_t ascq)
{
    switch (ascq) {
    case 0x01: case 0x16:                         /* MICROCODE HAS BEEN CHANGED (WITHOUT RESET) */
        return SCSI_UA_MICROCODE_CHANGED;
    case 0x03: return SCSI_UA_INQUIRY_CHANGED;   /* INQUIRY DATA HAS CHANGED */
    case 0x0e: return SCSI_UA_LUNS_CHANGED;      /* REPORTED LUNS DATA HAS CHANGED */
    case 0x0f:                                    /* ECHO BUFFER OVERWRITTEN */
    case 0x12: case 0x13: case 0x14:              /* iSCSI IP ADDRESS ADDED/REMOVED/CHANGED */
        return SCSI_UA_INFO;
    default:                                      /* 00 TARGET OPERATING CONDITIONS HAVE
                                                     CHANGED, 05 DEVICE IDENTIFIER CHANGED... */
        return SCSI_UA_OPERATING_CHANGED;
    }
}

enum scsi_ua_reason scsi_ua_classify(const struct scsi_sense_info *s)
{
    if (s == NULL || s->key != SCSI_KEY_UNIT_ATTENTION)
        return SCSI_UA_NONE;
    switch (s->asc) {
    case 0x28: return SCSI_UA_MEDIUM_CHANGED;    /* NOT READY TO READY CHANGE... */
    case 0x29: return SCSI_UA_RESET;             /* POWER ON, RESET, ... I_T NEXUS LOSS */
    case 0x2a: return classify_2a(s->ascq);
    case 0x2f: return SCSI_UA_INFO;              /* COMMANDS CLEARED BY ... (already
                                                    marked before they were sent) */
    case 0x38:
        if (s->ascq == 0x07)                      /* THIN PROVISIONING SOFT THRESHOLD REACHED */
            return SCSI_UA_INFO;
        return SCSI_UA_OTHER;
    case 0x3f: return classify_3f(s->ascq);
    default:   return SCSI_UA_OTHER;
    }
}

bool scsi_ua_invalidates(enum scsi_ua_reason r)
{
    return r != SCSI_UA_NONE && r != SCSI_UA_INFO;
}

const char *scsi_ua_reason_name(enum scsi_ua_reason r)
{
    switch (r) {
    case SCSI_UA_NONE: return "none";
    case SCSI_UA_RESET: return "reset";
    case SCSI_UA_CAPACITY_CHANGED: return "capacity_changed";
    case SCSI_UA_MODE_CHANGED: return "mode_changed";
    case SCSI_UA_LUNS_CHANGED: return "luns_changed";
    case SCSI_UA_INQUIRY_CHANGED: return "inquiry_changed";
    case SCSI_UA_MICROCODE_CHANGED: return "microcode_changed";
    case SCSI_UA_MEDIUM_CHANGED: return "medium_changed";
    case SCSI_UA_OPERATING_CHANGED: return "operating_changed";
    case SCSI_UA_INFO: return "informational";
    case SCSI_UA_OTHER: return "other";
    }
    return "?";
}
