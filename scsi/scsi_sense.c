/*
 * SCSI sense data (SPC-5 4.4): build the proxy's own fixed-format sense, parse
 * the backend's fixed or descriptor format sense.  Backend sense is untrusted:
 * every offset is checked against both the buffer and ADDITIONAL SENSE LENGTH.
 */
#include "scsi_sense.h"

#include <string.h>

#include "scsi_bytes.h"

/* Fixed format (SPC-5 4.4.3, table "Fixed format sense data"). */
#define FIX_RESP       0   /* VALID bit 7, RESPONSE CODE bits 6-0 */
#define FIX_KEY        2   /* FILEMARK/EOM/ILI bits 7-5, SENSE KEY bits 3-0 */
#define FIX_INFO       3   /* INFORMATION, 4 bytes */
#define FIX_ADD_LEN    7   /* ADDITIONAL SENSE LENGTH (n - 7) */
#define FIX_ASC        12
#define FIX_ASCQ       13
#define FIX_SKS        15  /* SKSV bit 7 + 3 bytes of sense-key specific data */
#define FIX_HDR        8   /* bytes up to and including ADDITIONAL SENSE LENGTH */

/* Descriptor format (SPC-5 4.4.2). */
#define DESC_KEY       1
#define DESC_ASC       2
#define DESC_ASCQ      3
#define DESC_ADD_LEN   7
#define DESC_HDR       8
#define DESC_TYPE_INFORMATION 0x00   /* SPC-5 4.4.2.2 Information descriptor */
#define DESC_INFO_LEN  12            /* type, length 0Ah, VALID, reserved, 8 bytes */

#define RESP_FIXED_CURRENT     0x70
#define RESP_FIXED_DEFERRED    0x71
#define RESP_DESC_CURRENT      0x72
#define RESP_DESC_DEFERRED     0x73

size_t scsi_sense_build_fixed(uint8_t *buf, size_t cap, uint8_t key, uint8_t asc, uint8_t ascq)
{
    if (buf == NULL || cap < SCSI_SENSE_FIXED_LEN)
        return 0;
    memset(buf, 0, SCSI_SENSE_FIXED_LEN);
    buf[FIX_RESP] = RESP_FIXED_CURRENT;             /* VALID = 0: no INFORMATION */
    buf[FIX_KEY] = key & 0x0f;
    buf[FIX_ADD_LEN] = SCSI_SENSE_FIXED_LEN - FIX_HDR; /* 10: bytes 8..17 follow */
    buf[FIX_ASC] = asc;
    buf[FIX_ASCQ] = ascq;
    return SCSI_SENSE_FIXED_LEN;
}

size_t scsi_sense_build_field(uint8_t *buf, size_t cap, uint8_t asc, uint8_t ascq,
                              bool in_cdb, uint16_t field, int bit)
{
    size_t n = scsi_sense_build_fixed(buf, cap, SCSI_KEY_ILLEGAL_REQUEST, asc, ascq);

    if (n == 0)
        return 0;
    /* SPC-5 4.4.2.4.2 field pointer: SKSV(7) C/D(6) BPV(3) BIT POINTER(2-0),
     * then a 2-byte FIELD POINTER. */
    buf[FIX_SKS] = 0x80 | (in_cdb ? 0x40 : 0x00);
    if (bit >= 0 && bit <= 7)
        buf[FIX_SKS] |= 0x08 | (uint8_t)bit;
    scsi_put_be16(buf + FIX_SKS + 1, field);
    return n;
}

static int parse_fixed(const uint8_t *buf, size_t len, struct scsi_sense_info *out)
{
    size_t end;

    if (len < FIX_KEY + 1)
        return -1;
    out->key = buf[FIX_KEY] & 0x0f;
    if (len < FIX_HDR)
        return 0;                 /* key only; ASC/ASCQ absent */
    /* Usable bytes: both what arrived and what the target says it sent. */
    end = FIX_HDR + (size_t)buf[FIX_ADD_LEN];
    if (end > len)
        end = len;
    if (buf[FIX_RESP] & 0x80) {   /* VALID: INFORMATION holds a value */
        out->info_valid = true;
        out->information = scsi_get_be32(buf + FIX_INFO);
    }
    if (end > FIX_ASCQ) {
        out->asc = buf[FIX_ASC];
        out->ascq = buf[FIX_ASCQ];
    } else if (end > FIX_ASC) {
        out->asc = buf[FIX_ASC];
    }
    return 0;
}

/* Walk the sense data descriptors (SPC-5 4.4.2.1): each is TYPE, ADDITIONAL
 * LENGTH, then that many bytes.  A descriptor that runs past the data ends the
 * walk; it is not an error, the header fields are already known. */
static void parse_descriptors(const uint8_t *d, size_t len, struct scsi_sense_info *out)
{
    size_t off = 0;

    while (len - off >= 2) {
        size_t dlen = 2 + (size_t)d[off + 1];

        if (dlen > len - off)
            break;
        if (d[off] == DESC_TYPE_INFORMATION && dlen >= DESC_INFO_LEN &&
            (d[off + 2] & 0x80)) {
            out->info_valid = true;
            out->information = scsi_get_be64(d + off + 4);
        }
        off += dlen;
    }
}

static int parse_descriptor_format(const uint8_t *buf, size_t len, struct scsi_sense_info *out)
{
    size_t end;

    if (len < DESC_KEY + 1)
        return -1;
    out->key = buf[DESC_KEY] & 0x0f;
    if (len > DESC_ASC)
        out->asc = buf[DESC_ASC];
    if (len > DESC_ASCQ)
        out->ascq = buf[DESC_ASCQ];
    if (len < DESC_HDR)
        return 0;
    end = DESC_HDR + (size_t)buf[DESC_ADD_LEN];
    if (end > len)
        end = len;
    parse_descriptors(buf + DESC_HDR, end - DESC_HDR, out);
    return 0;
}

int scsi_sense_parse(const uint8_t *buf, size_t len, struct scsi_sense_info *out)
{
    uint8_t code;
    int rc;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (buf == NULL || len < 1)
        return -1;
    code = buf[0] & 0x7f;
    if (code == RESP_FIXED_CURRENT || code == RESP_FIXED_DEFERRED) {
        rc = parse_fixed(buf, len, out);
    } else if (code == RESP_DESC_CURRENT || code == RESP_DESC_DEFERRED) {
        out->descriptor = true;
        rc = parse_descriptor_format(buf, len, out);
    } else {
        return -1;                /* 0x7f vendor specific, others reserved */
    }
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->deferred = code == RESP_FIXED_DEFERRED || code == RESP_DESC_DEFERRED;
    return 0;
}
