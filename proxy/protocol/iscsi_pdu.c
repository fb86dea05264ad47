/*
 * iSCSI PDU codec (RFC 7143 section 11).  One table row per opcode says where
 * each named field of iscsi_pdu_hdr lives in the 48-byte BHS and which
 * per-opcode rules apply; decode, encode, the header checks and the opcode
 * names are all driven by that table, so a field's offset is written once.
 * Pure code: no I/O, no allocation, no logging.
 */
#include "iscsi_pdu.h"

#include <stddef.h>
#include <string.h>

/* ---- byte order: one helper per width --------------------------------- */

uint16_t iscsi_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t iscsi_get24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

uint32_t iscsi_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t iscsi_get64(const uint8_t *p)
{
    return (uint64_t)iscsi_get32(p) << 32 | iscsi_get32(p + 4);
}

void iscsi_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void iscsi_put24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

void iscsi_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void iscsi_put64(uint8_t *p, uint64_t v)
{
    iscsi_put32(p, (uint32_t)(v >> 32));
    iscsi_put32(p + 4, (uint32_t)v);
}

/* ---- the opcode table ---------------------------------------------------- */

/* Common BHS layout, RFC 7143 11.2.1. */
#define BHS_OPCODE      0       /* .|I| opcode (6 bits) */
#define BHS_FLAGS       1       /* F and opcode-specific bits */
#define BHS_AHS_LEN     4       /* TotalAHSLength, 4-byte words */
#define BHS_DSL         5       /* DataSegmentLength, 24 bits */
#define BHS_LUN         8       /* LUN, 8 bytes, where the opcode has one */
#define BHS_ITT         16      /* Initiator Task Tag */
#define BHS_OPCODE_MASK 0x3f
#define BHS_IMMEDIATE   0x40

/*
 * An opcode-specific field: its offset in the BHS, its width, and where it
 * lives in struct iscsi_pdu_hdr.  Widths 1, 2 and 4 are big-endian integers;
 * wider members (ISID, CDB) are byte strings copied as they are.
 */
struct bhs_field {
    uint8_t  off;
    uint8_t  len;
    uint16_t member;
};

#define MEMBER_SIZE(m) sizeof(((struct iscsi_pdu_hdr *)0)->u.m)
/* Evaluates to 0, or fails to compile if the field runs past the BHS. */
#define FITS_BHS(off, m) (0 * sizeof(char[((off) + MEMBER_SIZE(m) <= ISCSI_BHS_LEN) ? 1 : -1]))
#define FLD(off, m) \
    { (off), (uint8_t)(MEMBER_SIZE(m) + FITS_BHS(off, m)), \
      (uint16_t)offsetof(struct iscsi_pdu_hdr, u.m) }

/* Per-opcode attributes. */
#define OP_FROM_INITIATOR 0x01  /* a request: the target may receive it */
#define OP_IMMEDIATE      0x02  /* byte 0 bit 6 is the I bit */
#define OP_IMMEDIATE_1    0x04  /* I is always 1 (Login, 11.12) */
#define OP_LUN            0x08  /* bytes 8-15 are the LUN (or reserved as LUN) */
#define OP_FINAL_1        0x10  /* byte 1 bit 7 is always 1 */
#define OP_ITT_RESERVED   0x20  /* ITT is always 0xffffffff (11.9, 11.17) */
#define OP_DATA           0x40  /* a request that may carry a data segment */
#define OP_AHS            0x80  /* may carry AHS (SCSI Command only, 11.2.2) */

struct opcode_desc {
    const char *name;           /* NULL: an opcode RFC 7143 does not define */
    uint8_t attrs;
    uint8_t nfields;
    const struct bhs_field *fields;
};

/* 11.3 SCSI Command */
static const struct bhs_field f_scsi_cmd[] = {
    FLD(20, scsi_cmd.edtl), FLD(24, scsi_cmd.cmdsn), FLD(28, scsi_cmd.expstatsn),
    FLD(32, scsi_cmd.cdb),
};
/* 11.4 SCSI Response */
static const struct bhs_field f_scsi_rsp[] = {
    FLD(2, scsi_rsp.response), FLD(3, scsi_rsp.status), FLD(20, scsi_rsp.snack_tag),
    FLD(24, scsi_rsp.statsn), FLD(28, scsi_rsp.expcmdsn), FLD(32, scsi_rsp.maxcmdsn),
    FLD(36, scsi_rsp.expdatasn), FLD(40, scsi_rsp.bidi_residual),
    FLD(44, scsi_rsp.residual),
};
/* 11.5 Task Management Function Request */
static const struct bhs_field f_tmf_req[] = {
    FLD(20, tmf_req.ref_task_tag), FLD(24, tmf_req.cmdsn), FLD(28, tmf_req.expstatsn),
    FLD(32, tmf_req.ref_cmdsn), FLD(36, tmf_req.exp_datasn),
};
/* 11.6 Task Management Function Response */
static const struct bhs_field f_tmf_rsp[] = {
    FLD(2, tmf_rsp.response), FLD(24, tmf_rsp.statsn), FLD(28, tmf_rsp.expcmdsn),
    FLD(32, tmf_rsp.maxcmdsn),
};
/* 11.7.1 SCSI Data-Out */
static const struct bhs_field f_data_out[] = {
    FLD(20, data_out.ttt), FLD(28, data_out.expstatsn), FLD(36, data_out.datasn),
    FLD(40, data_out.buffer_offset),
};
/* 11.7.2 SCSI Data-In */
static const struct bhs_field f_data_in[] = {
    FLD(3, data_in.status), FLD(20, data_in.ttt), FLD(24, data_in.statsn),
    FLD(28, data_in.expcmdsn), FLD(32, data_in.maxcmdsn), FLD(36, data_in.datasn),
    FLD(40, data_in.buffer_offset), FLD(44, data_in.residual),
};
/* 11.8 Ready To Transfer */
static const struct bhs_field f_r2t[] = {
    FLD(20, r2t.ttt), FLD(24, r2t.statsn), FLD(28, r2t.expcmdsn), FLD(32, r2t.maxcmdsn),
    FLD(36, r2t.r2tsn), FLD(40, r2t.buffer_offset), FLD(44, r2t.desired_len),
};
/* 11.9 Asynchronous Message */
static const struct bhs_field f_async[] = {
    FLD(24, async_msg.statsn), FLD(28, async_msg.expcmdsn), FLD(32, async_msg.maxcmdsn),
    FLD(36, async_msg.event), FLD(37, async_msg.vcode), FLD(38, async_msg.param1),
    FLD(40, async_msg.param2), FLD(42, async_msg.param3),
};
/* 11.10 Text Request */
static const struct bhs_field f_text_req[] = {
    FLD(20, text_req.ttt), FLD(24, text_req.cmdsn), FLD(28, text_req.expstatsn),
};
/* 11.11 Text Response */
static const struct bhs_field f_text_rsp[] = {
    FLD(20, text_rsp.ttt), FLD(24, text_rsp.statsn), FLD(28, text_rsp.expcmdsn),
    FLD(32, text_rsp.maxcmdsn),
};
/* 11.12 Login Request */
static const struct bhs_field f_login_req[] = {
    FLD(2, login_req.version_max), FLD(3, login_req.version_min),
    FLD(8, login_req.isid), FLD(14, login_req.tsih), FLD(20, login_req.cid),
    FLD(24, login_req.cmdsn), FLD(28, login_req.expstatsn),
};
/* 11.13 Login Response */
static const struct bhs_field f_login_rsp[] = {
    FLD(2, login_rsp.version_max), FLD(3, login_rsp.version_active),
    FLD(8, login_rsp.isid), FLD(14, login_rsp.tsih), FLD(24, login_rsp.statsn),
    FLD(28, login_rsp.expcmdsn), FLD(32, login_rsp.maxcmdsn),
    FLD(36, login_rsp.status_class), FLD(37, login_rsp.status_detail),
};
/* 11.14 Logout Request */
static const struct bhs_field f_logout_req[] = {
    FLD(20, logout_req.cid), FLD(24, logout_req.cmdsn), FLD(28, logout_req.expstatsn),
};
/* 11.15 Logout Response */
static const struct bhs_field f_logout_rsp[] = {
    FLD(2, logout_rsp.response), FLD(24, logout_rsp.statsn), FLD(28, logout_rsp.expcmdsn),
    FLD(32, logout_rsp.maxcmdsn), FLD(40, logout_rsp.time2wait),
    FLD(42, logout_rsp.time2retain),
};
/* 11.16 SNACK Request */
static const struct bhs_field f_snack[] = {
    FLD(20, snack.ttt), FLD(28, snack.expstatsn), FLD(40, snack.begrun),
    FLD(44, snack.runlength),
};
/* 11.17 Reject */
static const struct bhs_field f_reject[] = {
    FLD(2, reject.reason), FLD(24, reject.statsn), FLD(28, reject.expcmdsn),
    FLD(32, reject.maxcmdsn), FLD(36, reject.datasn_r2tsn),
};
/* 11.18 NOP-Out */
static const struct bhs_field f_nop_out[] = {
    FLD(20, nop_out.ttt), FLD(24, nop_out.cmdsn), FLD(28, nop_out.expstatsn),
};
/* 11.19 NOP-In */
static const struct bhs_field f_nop_in[] = {
    FLD(20, nop_in.ttt), FLD(24, nop_in.statsn), FLD(28, nop_in.expcmdsn),
    FLD(32, nop_in.maxcmdsn),
};

#define FIELDS(t) (uint8_t)(sizeof(t) / sizeof((t)[0])), (t)
#define REQ       OP_FROM_INITIATOR

/* RFC 7143 11.2.1.2 lists the opcodes; the figures of 11.3-11.19 give the
 * fixed bits (".|I|", "|1|") and which PDUs have a LUN or a data segment. */
static const struct opcode_desc opcodes[BHS_OPCODE_MASK + 1] = {
    [ISCSI_OP_NOP_OUT]    = { "NOP-Out", REQ | OP_IMMEDIATE | OP_LUN | OP_FINAL_1 | OP_DATA,
                              FIELDS(f_nop_out) },
    [ISCSI_OP_SCSI_CMD]   = { "SCSI-Command", REQ | OP_IMMEDIATE | OP_LUN | OP_DATA | OP_AHS,
                              FIELDS(f_scsi_cmd) },
    [ISCSI_OP_TMF_REQ]    = { "Task-Mgmt-Request", REQ | OP_IMMEDIATE | OP_LUN | OP_FINAL_1,
                              FIELDS(f_tmf_req) },
    [ISCSI_OP_LOGIN_REQ]  = { "Login-Request", REQ | OP_IMMEDIATE_1 | OP_DATA,
                              FIELDS(f_login_req) },
    [ISCSI_OP_TEXT_REQ]   = { "Text-Request", REQ | OP_IMMEDIATE | OP_LUN | OP_DATA,
                              FIELDS(f_text_req) },
    [ISCSI_OP_DATA_OUT]   = { "SCSI-Data-Out", REQ | OP_LUN | OP_DATA, FIELDS(f_data_out) },
    [ISCSI_OP_LOGOUT_REQ] = { "Logout-Request", REQ | OP_IMMEDIATE | OP_FINAL_1,
                              FIELDS(f_logout_req) },
    [ISCSI_OP_SNACK_REQ]  = { "SNACK-Request", REQ | OP_LUN | OP_FINAL_1, FIELDS(f_snack) },
    [ISCSI_OP_NOP_IN]     = { "NOP-In", OP_LUN | OP_FINAL_1, FIELDS(f_nop_in) },
    [ISCSI_OP_SCSI_RSP]   = { "SCSI-Response", OP_FINAL_1, FIELDS(f_scsi_rsp) },
    [ISCSI_OP_TMF_RSP]    = { "Task-Mgmt-Response", OP_FINAL_1, FIELDS(f_tmf_rsp) },
    [ISCSI_OP_LOGIN_RSP]  = { "Login-Response", 0, FIELDS(f_login_rsp) },
    [ISCSI_OP_TEXT_RSP]   = { "Text-Response", OP_LUN, FIELDS(f_text_rsp) },
    [ISCSI_OP_DATA_IN]    = { "SCSI-Data-In", OP_LUN, FIELDS(f_data_in) },
    [ISCSI_OP_LOGOUT_RSP] = { "Logout-Response", OP_FINAL_1, FIELDS(f_logout_rsp) },
    [ISCSI_OP_R2T]        = { "R2T", OP_LUN | OP_FINAL_1, FIELDS(f_r2t) },
    [ISCSI_OP_ASYNC_MSG]  = { "Async-Message", OP_LUN | OP_FINAL_1 | OP_ITT_RESERVED,
                              FIELDS(f_async) },
    [ISCSI_OP_REJECT]     = { "Reject", OP_FINAL_1 | OP_ITT_RESERVED, FIELDS(f_reject) },
};

/* Opcodes RFC 7143 does not define (reserved, vendor specific) keep their
 * common fields, LUN included, and the I bit, so they can be logged and
 * echoed in a Reject; nothing else of them is interpreted. */
static const struct opcode_desc unknown_opcode = { NULL, OP_IMMEDIATE | OP_LUN, 0, NULL };

static const struct opcode_desc *opcode_desc(uint8_t opcode)
{
    if (opcode > BHS_OPCODE_MASK || opcodes[opcode].name == NULL)
        return &unknown_opcode;
    return &opcodes[opcode];
}

const char *iscsi_opcode_name(uint8_t opcode)
{
    const struct opcode_desc *d = opcode_desc(opcode);
    return d->name ? d->name : "unknown";
}

/* ---- decode / encode ----------------------------------------------------- */

static void get_field(const uint8_t *bhs, const struct bhs_field *f, struct iscsi_pdu_hdr *h)
{
    uint8_t *dst = (uint8_t *)h + f->member;
    const uint8_t *src = bhs + f->off;

    if (f->len == 2) {
        uint16_t v = iscsi_get16(src);
        memcpy(dst, &v, sizeof(v));
    } else if (f->len == 4) {
        uint32_t v = iscsi_get32(src);
        memcpy(dst, &v, sizeof(v));
    } else {
        memcpy(dst, src, f->len);   /* one byte, or a byte string */
    }
}

static void put_field(uint8_t *bhs, const struct bhs_field *f, const struct iscsi_pdu_hdr *h)
{
    const uint8_t *src = (const uint8_t *)h + f->member;
    uint8_t *dst = bhs + f->off;

    if (f->len == 2) {
        uint16_t v;
        memcpy(&v, src, sizeof(v));
        iscsi_put16(dst, v);
    } else if (f->len == 4) {
        uint32_t v;
        memcpy(&v, src, sizeof(v));
        iscsi_put32(dst, v);
    } else {
        memcpy(dst, src, f->len);
    }
}

/*
 * Receivers ignore reserved bits and fields (RFC 7143 section 11
 * introduction): they decode as zero, and the I bit is kept only where the
 * opcode defines one.
 */
void iscsi_pdu_decode(const uint8_t bhs[ISCSI_BHS_LEN], struct iscsi_pdu_hdr *out)
{
    memset(out, 0, sizeof(*out));
    out->opcode = bhs[BHS_OPCODE] & BHS_OPCODE_MASK;

    const struct opcode_desc *d = opcode_desc(out->opcode);
    if (d->attrs & (OP_IMMEDIATE | OP_IMMEDIATE_1))
        out->immediate = (bhs[BHS_OPCODE] & BHS_IMMEDIATE) != 0;
    out->flags = bhs[BHS_FLAGS];
    out->total_ahs_len = bhs[BHS_AHS_LEN];
    out->data_len = iscsi_get24(bhs + BHS_DSL);
    if (d->attrs & OP_LUN)
        out->lun = iscsi_get64(bhs + BHS_LUN);
    out->itt = iscsi_get32(bhs + BHS_ITT);
    for (unsigned i = 0; i < d->nfields; i++)
        get_field(bhs, &d->fields[i], out);
}

/*
 * Reserved fields are sent as zero; bits the RFC fixes are set whatever the
 * caller passed: I=1 on Login (11.12), byte-1 bit 7 where the figure shows
 * "1", ITT 0xffffffff on Async Message and Reject (11.9, 11.17).
 */
void iscsi_pdu_encode(const struct iscsi_pdu_hdr *in, uint8_t bhs[ISCSI_BHS_LEN])
{
    const struct opcode_desc *d = opcode_desc(in->opcode);

    memset(bhs, 0, ISCSI_BHS_LEN);
    bhs[BHS_OPCODE] = in->opcode & BHS_OPCODE_MASK;
    if ((d->attrs & OP_IMMEDIATE_1) || ((d->attrs & OP_IMMEDIATE) && in->immediate))
        bhs[BHS_OPCODE] |= BHS_IMMEDIATE;
    bhs[BHS_FLAGS] = in->flags;
    if (d->attrs & OP_FINAL_1)
        bhs[BHS_FLAGS] |= ISCSI_FLAG_FINAL;
    bhs[BHS_AHS_LEN] = in->total_ahs_len;
    iscsi_put24(bhs + BHS_DSL, in->data_len & ISCSI_MAX_DSL);
    if (d->attrs & OP_LUN)
        iscsi_put64(bhs + BHS_LUN, in->lun);
    iscsi_put32(bhs + BHS_ITT, (d->attrs & OP_ITT_RESERVED) ? ISCSI_RESERVED_TAG : in->itt);
    for (unsigned i = 0; i < d->nfields; i++)
        put_field(bhs, &d->fields[i], in);
}

/* ---- header checks ------------------------------------------------------- */

static int reject(enum iscsi_reject_reason *reason, const char **field,
                  enum iscsi_reject_reason why, const char *name)
{
    *reason = why;
    *field = name;
    return -1;
}

/* SCSI Command flags, RFC 7143 11.3.1: at least one of W and F must be 1,
 * and R and W must not both be 0 when the Expected Data Transfer Length is
 * not 0.  Immediate data is write data (11.3), so a data segment needs W. */
static int check_scsi_cmd(const struct iscsi_pdu_hdr *h, enum iscsi_reject_reason *reason,
                          const char **field)
{
    bool w = h->flags & ISCSI_FLAG_CMD_WRITE;
    bool r = h->flags & ISCSI_FLAG_CMD_READ;

    if (!w && !(h->flags & ISCSI_FLAG_FINAL))
        return reject(reason, field, ISCSI_REJECT_INVALID_PDU_FIELD, "Flags");
    if (!w && h->data_len != 0)
        return reject(reason, field, ISCSI_REJECT_INVALID_PDU_FIELD, "DataSegmentLength");
    if (!w && !r && h->u.scsi_cmd.edtl != 0)
        return reject(reason, field, ISCSI_REJECT_INVALID_PDU_FIELD,
                      "ExpectedDataTransferLength");
    return 0;
}

int iscsi_pdu_check_request(const struct iscsi_pdu_hdr *h, uint32_t max_recv_dsl,
                            enum iscsi_reject_reason *reason, const char **field)
{
    const struct opcode_desc *d = opcode_desc(h->opcode);

    /* An opcode RFC 7143 does not define: "Command not supported" (11.17.1). */
    if (d->name == NULL)
        return reject(reason, field, ISCSI_REJECT_CMD_NOT_SUPPORTED, "Opcode");
    /* A target-to-initiator opcode sent to a target (11.2.1.2). */
    if (!(d->attrs & OP_FROM_INITIATOR))
        return reject(reason, field, ISCSI_REJECT_PROTOCOL_ERROR, "Opcode");
    /* AHS is defined for the SCSI Command only (11.2.2). */
    if (h->total_ahs_len != 0 && !(d->attrs & OP_AHS))
        return reject(reason, field, ISCSI_REJECT_INVALID_PDU_FIELD, "TotalAHSLength");
    /* TMF (11.5), Logout (11.14) and SNACK (11.16) carry no data segment. */
    if (h->data_len != 0 && !(d->attrs & OP_DATA))
        return reject(reason, field, ISCSI_REJECT_INVALID_PDU_FIELD, "DataSegmentLength");
    /* More than our declared MaxRecvDataSegmentLength (13.12). */
    if (h->data_len > max_recv_dsl)
        return reject(reason, field, ISCSI_REJECT_PROTOCOL_ERROR, "DataSegmentLength");

    switch (h->opcode) {
    case ISCSI_OP_SCSI_CMD:
        return check_scsi_cmd(h, reason, field);
    case ISCSI_OP_TEXT_REQ:
        /* 11.10.2: with C set, F MUST be 0.  (Login's T/C rule, 11.12.2, is
         * answered with a Login Response status, so iscsi_login checks it.) */
        if ((h->flags & ISCSI_FLAG_TEXT_CONT) && (h->flags & ISCSI_FLAG_FINAL))
            return reject(reason, field, ISCSI_REJECT_INVALID_PDU_FIELD, "Flags");
        return 0;
    default:
        return 0;
    }
}

uint64_t iscsi_pdu_wire_tail_len(const struct iscsi_pdu_hdr *h, bool header_digest,
                                 bool data_digest)
{
    uint32_t dsl = h->data_len & ISCSI_MAX_DSL;
    uint64_t n = (uint64_t)h->total_ahs_len * 4;

    if (header_digest)
        n += ISCSI_DIGEST_LEN;          /* covers BHS + AHS (11.2.3) */
    n += (uint64_t)dsl + iscsi_pad4(dsl);
    if (data_digest && dsl != 0)
        n += ISCSI_DIGEST_LEN;          /* an empty data segment has no digest */
    return n;
}
