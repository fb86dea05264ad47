/*
 * iSCSI PDU codec (RFC 7143 section 11): the only code that touches raw BHS
 * offsets.  decode turns the 48-byte Basic Header Segment into host-order
 * named fields; encode does the reverse.  Pure: no sockets, no allocation.
 */
#ifndef ISP_ISCSI_PDU_H
#define ISP_ISCSI_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISCSI_BHS_LEN          48
#define ISCSI_DIGEST_LEN       4
#define ISCSI_MAX_AHS_BYTES    (255 * 4)      /* TotalAHSLength is 8 bits of words */
#define ISCSI_MAX_DSL          0xffffffu       /* DataSegmentLength is 24 bits */
#define ISCSI_RESERVED_TAG     0xffffffffu     /* RFC 7143 11.2.1.8 / 11.18.2 */

enum iscsi_opcode {
    /* initiator to target */
    ISCSI_OP_NOP_OUT      = 0x00,
    ISCSI_OP_SCSI_CMD     = 0x01,
    ISCSI_OP_TMF_REQ      = 0x02,
    ISCSI_OP_LOGIN_REQ    = 0x03,
    ISCSI_OP_TEXT_REQ     = 0x04,
    ISCSI_OP_DATA_OUT     = 0x05,
    ISCSI_OP_LOGOUT_REQ   = 0x06,
    ISCSI_OP_SNACK_REQ    = 0x10,
    /* target to initiator */
    ISCSI_OP_NOP_IN       = 0x20,
    ISCSI_OP_SCSI_RSP     = 0x21,
    ISCSI_OP_TMF_RSP      = 0x22,
    ISCSI_OP_LOGIN_RSP    = 0x23,
    ISCSI_OP_TEXT_RSP     = 0x24,
    ISCSI_OP_DATA_IN      = 0x25,
    ISCSI_OP_LOGOUT_RSP   = 0x26,
    ISCSI_OP_R2T          = 0x31,
    ISCSI_OP_ASYNC_MSG    = 0x32,
    ISCSI_OP_REJECT       = 0x3f,
};

/* Byte-1 flag bits (meaning depends on the opcode). */
#define ISCSI_FLAG_FINAL        0x80   /* F */
#define ISCSI_FLAG_CMD_READ     0x40   /* R, SCSI Command */
#define ISCSI_FLAG_CMD_WRITE    0x20   /* W, SCSI Command */
#define ISCSI_FLAG_CMD_ATTR     0x07   /* task attributes */
#define ISCSI_FLAG_TEXT_CONT    0x40   /* C, Text / Login */
#define ISCSI_FLAG_LOGIN_TRANSIT 0x80  /* T, Login */
#define ISCSI_FLAG_DATAIN_ACK   0x40   /* A, Data-In */
#define ISCSI_FLAG_RSP_BIDI_OVER  0x10 /* o */
#define ISCSI_FLAG_RSP_BIDI_UNDER 0x08 /* u */
#define ISCSI_FLAG_RSP_OVER     0x04   /* O, SCSI Response and Data-In */
#define ISCSI_FLAG_RSP_UNDER    0x02   /* U */
#define ISCSI_FLAG_DATAIN_STATUS 0x01  /* S, Data-In carries status */

/* Login stages (CSG/NSG), RFC 7143 11.12.3. */
enum iscsi_login_stage {
    ISCSI_STAGE_SECURITY = 0,
    ISCSI_STAGE_OPERATIONAL = 1,
    ISCSI_STAGE_FULL_FEATURE = 3,
};

/* Reject reasons, RFC 7143 11.17.1. */
enum iscsi_reject_reason {
    ISCSI_REJECT_DATA_DIGEST      = 0x02,
    ISCSI_REJECT_SNACK            = 0x03,
    ISCSI_REJECT_PROTOCOL_ERROR   = 0x04,
    ISCSI_REJECT_CMD_NOT_SUPPORTED = 0x05,
    ISCSI_REJECT_IMMEDIATE_CMD    = 0x06,
    ISCSI_REJECT_TASK_IN_PROGRESS = 0x07,
    ISCSI_REJECT_INVALID_DATA_ACK = 0x08,
    ISCSI_REJECT_INVALID_PDU_FIELD = 0x09,
    ISCSI_REJECT_OUT_OF_RESOURCES = 0x0a,
    ISCSI_REJECT_WAITING_LOGOUT   = 0x0c,
};

/*
 * Decoded BHS.  Common fields first; the union holds the opcode-specific
 * fields by the names RFC 7143 gives them.  All values are host order.
 */
struct iscsi_pdu_hdr {
    uint8_t  opcode;          /* 6 bits */
    bool     immediate;       /* I bit (requests) */
    uint8_t  flags;           /* byte 1, including the F bit */
    uint8_t  total_ahs_len;   /* in 4-byte words */
    uint32_t data_len;        /* DataSegmentLength, 24 bits, without padding */
    uint64_t lun;             /* bytes 8..15 as one big-endian number */
    uint32_t itt;             /* Initiator Task Tag */
    union {
        struct { uint32_t edtl, cmdsn, expstatsn; uint8_t cdb[16]; } scsi_cmd;
        struct { uint8_t response, status; uint32_t snack_tag, statsn, expcmdsn, maxcmdsn,
                 expdatasn, bidi_residual, residual; } scsi_rsp;
        struct { uint32_t ttt, expstatsn, datasn, buffer_offset; } data_out;
        struct { uint8_t status; uint32_t ttt, statsn, expcmdsn, maxcmdsn, datasn,
                 buffer_offset, residual; } data_in;
        struct { uint32_t ttt, statsn, expcmdsn, maxcmdsn, r2tsn, buffer_offset,
                 desired_len; } r2t;
        struct { uint32_t ttt, cmdsn, expstatsn; } nop_out;
        struct { uint32_t ttt, statsn, expcmdsn, maxcmdsn; } nop_in;
        struct { uint8_t version_max, version_min; uint8_t isid[6]; uint16_t tsih, cid;
                 uint32_t cmdsn, expstatsn; } login_req;
        struct { uint8_t version_max, version_active; uint8_t isid[6]; uint16_t tsih;
                 uint32_t statsn, expcmdsn, maxcmdsn; uint8_t status_class,
                 status_detail; } login_rsp;
        struct { uint32_t ttt, cmdsn, expstatsn; } text_req;
        struct { uint32_t ttt, statsn, expcmdsn, maxcmdsn; } text_rsp;
        struct { uint16_t cid; uint32_t cmdsn, expstatsn; } logout_req;
        struct { uint8_t response; uint32_t statsn, expcmdsn, maxcmdsn;
                 uint16_t time2wait, time2retain; } logout_rsp;
        struct { uint32_t ref_task_tag, cmdsn, expstatsn, ref_cmdsn, exp_datasn; } tmf_req;
        struct { uint8_t response; uint32_t statsn, expcmdsn, maxcmdsn; } tmf_rsp;
        struct { uint32_t statsn, expcmdsn, maxcmdsn; uint8_t event, vcode;
                 uint16_t param1, param2, param3; } async_msg;
        struct { uint8_t reason; uint32_t statsn, expcmdsn, maxcmdsn, datasn_r2tsn; } reject;
        struct { uint32_t ttt, expstatsn, begrun, runlength; } snack;
    } u;
};

/* Login: CSG / NSG / T / C live in byte 1. */
static inline unsigned iscsi_login_csg(const struct iscsi_pdu_hdr *h) { return (h->flags >> 2) & 3; }
static inline unsigned iscsi_login_nsg(const struct iscsi_pdu_hdr *h) { return h->flags & 3; }
/* TMF function and Logout reason code are byte 1 without the F bit. */
static inline unsigned iscsi_hdr_function(const struct iscsi_pdu_hdr *h) { return h->flags & 0x7f; }

/* Big-endian helpers, one per width; the only byte-order code in the proxy. */
uint16_t iscsi_get16(const uint8_t *p);
uint32_t iscsi_get24(const uint8_t *p);
uint32_t iscsi_get32(const uint8_t *p);
uint64_t iscsi_get64(const uint8_t *p);
void iscsi_put16(uint8_t *p, uint16_t v);
void iscsi_put24(uint8_t *p, uint32_t v);
void iscsi_put32(uint8_t *p, uint32_t v);
void iscsi_put64(uint8_t *p, uint64_t v);

/* Decode a BHS.  Every opcode of RFC 7143 is decoded; an unknown opcode is
 * still decoded into the common fields (LUN and I bit included) and the
 * caller Rejects it.  Reserved fields, and the I bit of opcodes that have
 * none, decode as zero; byte 1 (flags) is kept as received. */
void iscsi_pdu_decode(const uint8_t bhs[ISCSI_BHS_LEN], struct iscsi_pdu_hdr *out);
/* Encode a BHS; reserved bytes are zero.  data_len must be <= ISCSI_MAX_DSL.
 * Bits the RFC fixes are forced: I=1 on Login Request, F=1 where byte 1
 * reads "1|..." in the figure, ITT 0xffffffff on Async Message and Reject. */
void iscsi_pdu_encode(const struct iscsi_pdu_hdr *in, uint8_t bhs[ISCSI_BHS_LEN]);

/* Data segments are padded to a multiple of 4 bytes (RFC 7143 11.1). */
static inline uint32_t iscsi_pad4(uint32_t len) { return (4 - (len & 3)) & 3; }

/*
 * Header checks done before any payload byte is read (RFC 7143 section 11,
 * per-opcode rules): an opcode the target never receives, AHS where none is
 * allowed, a data segment longer than max_recv_dsl or than the opcode allows.
 * Returns 0, or -1 with *reason (a Reject reason) and *field (the name of the
 * offending field, for the log line).
 */
int iscsi_pdu_check_request(const struct iscsi_pdu_hdr *h, uint32_t max_recv_dsl,
                            enum iscsi_reject_reason *reason, const char **field);

/* Bytes on the wire after the BHS: AHS + optional header digest + data +
 * padding + optional data digest. */
uint64_t iscsi_pdu_wire_tail_len(const struct iscsi_pdu_hdr *h, bool header_digest,
                                 bool data_digest);

/* CRC32C as iSCSI uses it (RFC 7143 11.1, RFC 3385): crc of the bytes,
 * continuing from a previous value (start with ISCSI_CRC32C_INIT).  The
 * digest on the wire is iscsi_crc32c_final(crc) stored with iscsi_put_digest. */
#define ISCSI_CRC32C_INIT 0xffffffffu
uint32_t iscsi_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t iscsi_crc32c_final(uint32_t crc);
/* The digest is sent least significant byte first (RFC 7143 13.1; RFC 3720
 * B.4 lists digest 0x8a9136aa as the bytes aa 36 91 8a). */
void iscsi_put_digest(uint8_t out[ISCSI_DIGEST_LEN], uint32_t digest);
uint32_t iscsi_get_digest(const uint8_t in[ISCSI_DIGEST_LEN]);

/* Human-readable opcode name for logs ("SCSI-Command", ...; "unknown"). */
const char *iscsi_opcode_name(uint8_t opcode);

/* RFC 1982 serial number arithmetic on 32-bit sequence numbers
 * (RFC 7143 section 4.2.2.1 refers to it for CmdSN/StatSN). */
static inline bool iscsi_sn_lt(uint32_t a, uint32_t b)
{
    return a != b && ((a < b && b - a < 0x80000000u) || (a > b && a - b > 0x80000000u));
}
static inline bool iscsi_sn_gt(uint32_t a, uint32_t b) { return iscsi_sn_lt(b, a); }
static inline bool iscsi_sn_le(uint32_t a, uint32_t b) { return a == b || iscsi_sn_lt(a, b); }

#endif
