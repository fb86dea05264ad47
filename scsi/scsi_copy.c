/*
 * Copy offload: which THIRD-PARTY COPY OUT commands may outlive their status,
 * and which THIRD-PARTY COPY IN answers say a copy has ended.  The cache
 * depends on "a copy that may still write is never thought finished", so the
 * parameter data is read strictly: any field that is missing, reserved or
 * inconsistent gives "may run after status".
 *
 * Section numbers are SPC-5's (copy manager model 5.17, commands in 6) and
 * SBC-5's for POPULATE TOKEN and WRITE USING TOKEN.
 */
#include "scsi_copy.h"

#include <string.h>

#include "scsi_bytes.h"

/* Every 83h and 84h CDB this module reads is 16 bytes (group 4). */
#define TPC_CDB_LEN        16
#define CDB_SA(cdb)        ((uint8_t)((cdb)[1] & 0x1f))
#define CDB_PLL            10    /* PARAMETER LIST LENGTH / ALLOCATION LENGTH, 4 bytes */
#define CDB_TOKEN_LIST_ID  6     /* POPULATE TOKEN, WRITE USING TOKEN: 4 bytes */
#define CDB_LIST_ID        2     /* COPY OPERATION ABORT, 84h commands: 1 or 4 bytes */

/* LIST ID USAGE (SPC-5 6.4.3.2), byte 1 bits 4-3 of both EXTENDED COPY
 * headers: 00b and 10b hold the list identifier, 01b is reserved, 11b means
 * no list identifier (its copy status cannot be asked). */
#define LIST_ID_USAGE(b)   (((b) >> 3) & 0x03)
#define LIST_ID_RESERVED   0x1
#define LIST_ID_NONE       0x3

/* EXTENDED COPY(LID1) parameter list header (SPC-5 6.5). */
#define L1_LIST_ID         0     /* 1 byte */
#define L1_FLAGS           1     /* STR, LIST ID USAGE, PRIORITY */
#define L1_CSCD_LEN        2     /* CSCD DESCRIPTOR LIST LENGTH, 2 bytes */
#define L1_SEG_LEN         8     /* SEGMENT DESCRIPTOR LIST LENGTH, 4 bytes */
#define L1_INLINE_LEN      12    /* INLINE DATA LENGTH, 4 bytes */
#define L1_HDR             16

/* EXTENDED COPY(LID4) parameter list header (SPC-5 6.4.2, table 126). */
#define L4_FORMAT          0     /* PARAMETER LIST FORMAT: 01h */
#define L4_FLAGS           1     /* STR, LIST ID USAGE, PRIORITY */
#define L4_HDR_CSCD_LEN    2     /* HEADER CSCD DESCRIPTOR LIST LENGTH: 0020h */
#define L4_IMMED           15    /* G_SENSE bit 1, IMMED bit 0 */
#define L4_HDR_CSCD_TYPE   16    /* HEADER CSCD DESCRIPTOR TYPE CODE: FFh */
#define L4_LIST_ID         20    /* 4 bytes */
#define L4_CSCD_LEN        42    /* CSCD DESCRIPTOR LIST LENGTH, 2 bytes */
#define L4_SEG_LEN         44    /* SEGMENT DESCRIPTOR LIST LENGTH, 2 bytes */
#define L4_INLINE_LEN      46    /* INLINE DATA LENGTH, 2 bytes */
#define L4_HDR             48

/* POPULATE TOKEN (SBC-5 5.12) and WRITE USING TOKEN (SBC-5 5.59) parameter
 * lists: a DATA LENGTH (bytes 0-1, the bytes after it), IMMED in byte 2 bit
 * 0, and a BLOCK DEVICE RANGE DESCRIPTOR LIST LENGTH ending the header,
 * followed by 16-byte range descriptors. */
#define TOK_DATA_LEN       0
#define TOK_IMMED          2
#define PT_RANGE_LEN       14
#define PT_HDR             16
#define WUT_RANGE_LEN      534   /* after OFFSET INTO ROD (8-15), ROD TOKEN (16-527) */
#define WUT_HDR            536
#define RANGE_DESC_LEN     16

/* RECEIVE COPY STATUS(LID1) parameter data (SPC-5 6.25): AVAILABLE DATA
 * (bytes 0-3) is 8; byte 4 holds HDD (bit 7) and COPY MANAGER STATUS. */
#define S1_AVAIL_MIN       8
#define S1_STATUS          4
/* The shared third-party copy status header of RECEIVE COPY STATUS(LID4)
 * (SPC-5 6.24) and RECEIVE ROD TOKEN INFORMATION (6.26): 32 bytes, so
 * AVAILABLE DATA is at least 28; byte 5 holds COPY OPERATION STATUS. */
#define S4_AVAIL_MIN       28
#define S4_STATUS          5
#define STATUS_MASK        0x7f

static void fail_safe(struct scsi_copy_info *out)
{
    out->is_copy = true;
    out->may_run_after_status = true;
}

/* The parameter data the copy manager reads: what arrived, cut to the CDB's
 * PARAMETER LIST LENGTH (SPC-5 4.2.5.5).  The caller checked the CDB length. */
static size_t param_avail(const uint8_t *cdb, const uint8_t *param, size_t param_len)
{
    uint32_t pll = scsi_get_be32(cdb + CDB_PLL);

    if (param == NULL)
        return 0;
    return param_len < pll ? param_len : pll;
}

/* EXTENDED COPY(LID1): no IMMED bit, so the copy ends before its status
 * (5.17.4.3).  Returns 0 if the header and the lengths it gives are whole. */
static int xcopy_lid1(const uint8_t *p, size_t avail, struct scsi_copy_info *out)
{
    uint64_t need;
    uint8_t usage;

    if (avail < L1_HDR)
        return -1;
    usage = LIST_ID_USAGE(p[L1_FLAGS]);
    if (usage == LIST_ID_RESERVED)
        return -1;
    need = (uint64_t)L1_HDR + scsi_get_be16(p + L1_CSCD_LEN) + scsi_get_be32(p + L1_SEG_LEN) +
           scsi_get_be32(p + L1_INLINE_LEN);
    if (need > avail)
        return -1;                         /* descriptors the lengths promise are missing */
    out->may_run_after_status = false;
    out->has_list_id = usage != LIST_ID_NONE;
    out->list_id = p[L1_LIST_ID];
    return 0;
}

/* EXTENDED COPY(LID4): IMMED in the header (6.4.2). */
static int xcopy_lid4(const uint8_t *p, size_t avail, struct scsi_copy_info *out)
{
    uint64_t need;
    uint8_t usage;

    if (avail < L4_HDR)
        return -1;
    if (p[L4_FORMAT] != 0x01 || scsi_get_be16(p + L4_HDR_CSCD_LEN) != 0x0020 ||
        p[L4_HDR_CSCD_TYPE] != 0xff)
        return -1;
    usage = LIST_ID_USAGE(p[L4_FLAGS]);
    if (usage == LIST_ID_RESERVED)
        return -1;
    need = (uint64_t)L4_HDR + scsi_get_be16(p + L4_CSCD_LEN) + scsi_get_be16(p + L4_SEG_LEN) +
           scsi_get_be16(p + L4_INLINE_LEN);
    if (need > avail)
        return -1;
    out->may_run_after_status = (p[L4_IMMED] & 0x01) != 0;
    out->has_list_id = usage != LIST_ID_NONE;
    out->list_id = scsi_get_be32(p + L4_LIST_ID);
    return 0;
}

/* POPULATE TOKEN / WRITE USING TOKEN: the DATA LENGTH must cover the header
 * and the range descriptors, and everything it claims must have arrived. */
static int token_list(const uint8_t *p, size_t avail, size_t hdr, size_t range_off,
                      struct scsi_copy_info *out)
{
    size_t total, ranges;

    if (avail < hdr)
        return -1;
    total = (size_t)scsi_get_be16(p + TOK_DATA_LEN) + 2;
    ranges = scsi_get_be16(p + range_off);
    if (total > avail || total < hdr + ranges || ranges % RANGE_DESC_LEN != 0)
        return -1;
    out->may_run_after_status = (p[TOK_IMMED] & 0x01) != 0;
    return 0;
}

int scsi_copy_classify(const uint8_t *cdb, size_t cdb_len, const uint8_t *param,
                       size_t param_len, struct scsi_copy_info *out)
{
    size_t avail;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (cdb == NULL || cdb_len < 1) {
        fail_safe(out);                    /* nothing says it is not a copy */
        return -1;
    }
    if (cdb[0] != SCSI_OP_TPC_OUT)
        return 0;
    fail_safe(out);
    if (cdb_len < 2)
        return -1;
    out->service_action = CDB_SA(cdb);
    if (cdb_len < TPC_CDB_LEN)
        return -1;

    avail = param_avail(cdb, param, param_len);
    switch (out->service_action) {
    case SCSI_TPC_XCOPY_LID1:
        return xcopy_lid1(param, avail, out);
    case SCSI_TPC_XCOPY_LID4:
        out->lid4 = true;
        return xcopy_lid4(param, avail, out);
    case SCSI_TPC_POPULATE_TOKEN:
    case SCSI_TPC_WRITE_USING_TOKEN:
        /* The list identifier is in the CDB (SBC-5 5.12, 5.59). */
        out->lid4 = true;
        out->has_list_id = true;
        out->list_id = scsi_get_be32(cdb + CDB_TOKEN_LIST_ID);
        if (out->service_action == SCSI_TPC_POPULATE_TOKEN)
            return token_list(param, avail, PT_HDR, PT_RANGE_LEN, out);
        return token_list(param, avail, WUT_HDR, WUT_RANGE_LEN, out);
    case SCSI_TPC_COPY_ABORT:
        /* SPC-5 6.3: no parameter data; the copy it names has stopped
         * writing when it completes (5.17.4.7). */
        out->lid4 = true;
        out->has_list_id = true;
        out->list_id = scsi_get_be32(cdb + CDB_LIST_ID);
        out->aborts = true;
        out->may_run_after_status = false;
        return 0;
    default:
        return -1;                         /* unknown: may do anything, for any time */
    }
}

/* RECEIVE COPY STATUS(LID1) COPY MANAGER STATUS (SPC-5 6.25): 00h in
 * progress, 01h completed without errors, 02h completed with errors. */
static int status_lid1(uint8_t st, bool *ended)
{
    switch (st) {
    case 0x00:
        *ended = false;
        return 0;
    case 0x01: case 0x02:
        *ended = true;
        return 0;
    default:
        return -1;                         /* reserved */
    }
}

/* COPY OPERATION STATUS (SPC-5 6.24, table 249): 01h-04h completed (without
 * errors, with errors, with partial ROD token usage, with residual data),
 * 60h terminated; 10h-12h in progress (foreground or background). */
static int status_lid4(uint8_t st, bool *ended)
{
    switch (st) {
    case 0x01: case 0x02: case 0x03: case 0x04: case 0x60:
        *ended = true;
        return 0;
    case 0x10: case 0x11: case 0x12:
        *ended = false;
        return 0;
    default:
        return -1;                         /* reserved */
    }
}

int scsi_copy_status_parse(const uint8_t *cdb, size_t cdb_len, const uint8_t *data, size_t len,
                           struct scsi_copy_status *out)
{
    uint32_t alloc, avail_data, avail_min;
    size_t at;
    bool ended = false;
    int rc;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (cdb == NULL || cdb_len < TPC_CDB_LEN || cdb[0] != SCSI_OP_TPC_IN)
        return -1;
    out->service_action = CDB_SA(cdb);
    switch (out->service_action) {
    case SCSI_TPC_COPY_STATUS_LID1:
        out->list_id = cdb[CDB_LIST_ID];
        avail_min = S1_AVAIL_MIN;
        at = S1_STATUS;
        break;
    case SCSI_TPC_COPY_STATUS_LID4:
    case SCSI_TPC_ROD_TOKEN_INFO:
        out->lid4 = true;
        out->list_id = scsi_get_be32(cdb + CDB_LIST_ID);
        avail_min = S4_AVAIL_MIN;
        at = S4_STATUS;
        break;
    default:
        return -1;
    }

    /* No more than the ALLOCATION LENGTH can be data; the answer may be cut
     * there (SPC-5 4.2.5.6), so only the status byte must have arrived, but
     * AVAILABLE DATA must describe at least the fixed format. */
    alloc = scsi_get_be32(cdb + CDB_PLL);
    if (len > alloc)
        len = alloc;
    if (data == NULL || len <= at)
        return -1;
    avail_data = scsi_get_be32(data);
    if (avail_data < avail_min)
        return -1;
    out->status = data[at] & STATUS_MASK;
    rc = out->lid4 ? status_lid4(out->status, &ended) : status_lid1(out->status, &ended);
    out->ended = rc == 0 && ended;
    return rc;
}
