/*
 * Unit tests for the iSCSI PDU codec (proxy/protocol/iscsi_pdu.c) and the CRC32C
 * digests (proxy/crc32c.c).  Byte positions are written out from the figures
 * of RFC 7143 section 11, independently of the codec's own table; the CRC
 * vectors are RFC 3720 Appendix B.4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iscsi_pdu.h"

/* ---- every opcode: RFC 7143 figures written out as (member, offset) ----- */

/* A field of the union and the BHS offset the RFC figure gives it. */
struct tf {
    uint16_t member;
    uint8_t off, len;
};
#define T(m, off) { (uint16_t)offsetof(struct iscsi_pdu_hdr, u.m), (off), \
                    (uint8_t)sizeof(((struct iscsi_pdu_hdr *)0)->u.m) }

enum { IMM_NONE, IMM_BIT, IMM_ALWAYS };

static const struct op_case {
    uint8_t opcode;
    bool lun;           /* bytes 8-15 are a LUN */
    int imm;            /* byte 0 bit 6 */
    bool final_1;       /* byte 1 bit 7 reads "1" in the figure */
    bool itt_ffff;      /* ITT is 0xffffffff */
    struct tf f[10];    /* ends at len 0 */
} op_cases[] = {
    { ISCSI_OP_NOP_OUT, true, IMM_BIT, true, false,                  /* 11.18 */
      { T(nop_out.ttt, 20), T(nop_out.cmdsn, 24), T(nop_out.expstatsn, 28) } },
    { ISCSI_OP_SCSI_CMD, true, IMM_BIT, false, false,                /* 11.3 */
      { T(scsi_cmd.edtl, 20), T(scsi_cmd.cmdsn, 24), T(scsi_cmd.expstatsn, 28),
        T(scsi_cmd.cdb, 32) } },
    { ISCSI_OP_TMF_REQ, true, IMM_BIT, true, false,                  /* 11.5 */
      { T(tmf_req.ref_task_tag, 20), T(tmf_req.cmdsn, 24), T(tmf_req.expstatsn, 28),
        T(tmf_req.ref_cmdsn, 32), T(tmf_req.exp_datasn, 36) } },
    { ISCSI_OP_LOGIN_REQ, false, IMM_ALWAYS, false, false,           /* 11.12 */
      { T(login_req.version_max, 2), T(login_req.version_min, 3), T(login_req.isid, 8),
        T(login_req.tsih, 14), T(login_req.cid, 20), T(login_req.cmdsn, 24),
        T(login_req.expstatsn, 28) } },
    { ISCSI_OP_TEXT_REQ, true, IMM_BIT, false, false,                /* 11.10 */
      { T(text_req.ttt, 20), T(text_req.cmdsn, 24), T(text_req.expstatsn, 28) } },
    { ISCSI_OP_DATA_OUT, true, IMM_NONE, false, false,               /* 11.7.1 */
      { T(data_out.ttt, 20), T(data_out.expstatsn, 28), T(data_out.datasn, 36),
        T(data_out.buffer_offset, 40) } },
    { ISCSI_OP_LOGOUT_REQ, false, IMM_BIT, true, false,              /* 11.14 */
      { T(logout_req.cid, 20), T(logout_req.cmdsn, 24), T(logout_req.expstatsn, 28) } },
    { ISCSI_OP_SNACK_REQ, true, IMM_NONE, true, false,               /* 11.16 */
      { T(snack.ttt, 20), T(snack.expstatsn, 28), T(snack.begrun, 40),
        T(snack.runlength, 44) } },
    { ISCSI_OP_NOP_IN, true, IMM_NONE, true, false,                  /* 11.19 */
      { T(nop_in.ttt, 20), T(nop_in.statsn, 24), T(nop_in.expcmdsn, 28),
        T(nop_in.maxcmdsn, 32) } },
    { ISCSI_OP_SCSI_RSP, false, IMM_NONE, true, false,               /* 11.4 */
      { T(scsi_rsp.response, 2), T(scsi_rsp.status, 3), T(scsi_rsp.snack_tag, 20),
        T(scsi_rsp.statsn, 24), T(scsi_rsp.expcmdsn, 28), T(scsi_rsp.maxcmdsn, 32),
        T(scsi_rsp.expdatasn, 36), T(scsi_rsp.bidi_residual, 40),
        T(scsi_rsp.residual, 44) } },
    { ISCSI_OP_TMF_RSP, false, IMM_NONE, true, false,                /* 11.6 */
      { T(tmf_rsp.response, 2), T(tmf_rsp.statsn, 24), T(tmf_rsp.expcmdsn, 28),
        T(tmf_rsp.maxcmdsn, 32) } },
    { ISCSI_OP_LOGIN_RSP, false, IMM_NONE, false, false,             /* 11.13 */
      { T(login_rsp.version_max, 2), T(login_rsp.version_active, 3), T(login_rsp.isid, 8),
        T(login_rsp.tsih, 14), T(login_rsp.statsn, 24), T(login_rsp.expcmdsn, 28),
        T(login_rsp.maxcmdsn, 32), T(login_rsp.status_class, 36),
        T(login_rsp.status_detail, 37) } },
    { ISCSI_OP_TEXT_RSP, true, IMM_NONE, false, false,               /* 11.11 */
      { T(text_rsp.ttt, 20), T(text_rsp.statsn, 24), T(text_rsp.expcmdsn, 28),
        T(text_rsp.maxcmdsn, 32) } },
    { ISCSI_OP_DATA_IN, true, IMM_NONE, false, false,                /* 11.7.2 */
      { T(data_in.status, 3), T(data_in.ttt, 20), T(data_in.statsn, 24),
        T(data_in.expcmdsn, 28), T(data_in.maxcmdsn, 32), T(data_in.datasn, 36),
        T(data_in.buffer_offset, 40), T(data_in.residual, 44) } },
    { ISCSI_OP_LOGOUT_RSP, false, IMM_NONE, true, false,             /* 11.15 */
      { T(logout_rsp.response, 2), T(logout_rsp.statsn, 24), T(logout_rsp.expcmdsn, 28),
        T(logout_rsp.maxcmdsn, 32), T(logout_rsp.time2wait, 40),
        T(logout_rsp.time2retain, 42) } },
    { ISCSI_OP_R2T, true, IMM_NONE, true, false,                     /* 11.8 */
      { T(r2t.ttt, 20), T(r2t.statsn, 24), T(r2t.expcmdsn, 28), T(r2t.maxcmdsn, 32),
        T(r2t.r2tsn, 36), T(r2t.buffer_offset, 40), T(r2t.desired_len, 44) } },
    { ISCSI_OP_ASYNC_MSG, true, IMM_NONE, true, true,                /* 11.9 */
      { T(async_msg.statsn, 24), T(async_msg.expcmdsn, 28), T(async_msg.maxcmdsn, 32),
        T(async_msg.event, 36), T(async_msg.vcode, 37), T(async_msg.param1, 38),
        T(async_msg.param2, 40), T(async_msg.param3, 42) } },
    { ISCSI_OP_REJECT, false, IMM_NONE, true, true,                  /* 11.17 */
      { T(reject.reason, 2), T(reject.statsn, 24), T(reject.expcmdsn, 28),
        T(reject.maxcmdsn, 32), T(reject.datasn_r2tsn, 36) } },
};

/* Fill each field so that its big-endian bytes equal their own BHS offsets;
 * mark those bytes in cover[]. */
static void fill_pattern(struct iscsi_pdu_hdr *h, const struct tf *f, uint8_t *cover)
{
    for (; f->len != 0; f++) {
        uint8_t *m = (uint8_t *)h + f->member;
        uint32_t v = 0;
        for (unsigned i = 0; i < f->len; i++) {
            v = v << 8 | (uint32_t)(f->off + i);
            cover[f->off + i] = 1;
        }
        if (f->len == 2) {
            uint16_t v16 = (uint16_t)v;
            memcpy(m, &v16, 2);
        } else if (f->len == 4) {
            memcpy(m, &v, 4);
        } else {
            for (unsigned i = 0; i < f->len; i++)   /* a byte or a byte string */
                m[i] = (uint8_t)(f->off + i);
        }
    }
}

/*
 * Every opcode, every field non-zero: each field holds its own offsets, so
 * after encode bhs[i] == i wherever the RFC figure puts a field, reserved
 * bytes are 0, and decode gives back the same struct.
 */
static void test_every_opcode_positions_and_round_trip(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(op_cases) / sizeof(op_cases[0]); k++) {
        const struct op_case *oc = &op_cases[k];
        struct iscsi_pdu_hdr in, want, out;
        uint8_t cover[ISCSI_BHS_LEN] = { 0 };
        uint8_t bhs[ISCSI_BHS_LEN];

        memset(&in, 0, sizeof(in));
        in.opcode = oc->opcode;
        in.immediate = true;
        in.flags = 0x25;                        /* F clear: encode sets it if fixed */
        in.total_ahs_len = 4;                   /* byte 4 = 4 */
        in.data_len = 0x050607;                 /* bytes 5-7 = 5, 6, 7 */
        in.lun = 0x08090a0b0c0d0e0full;         /* bytes 8-15 = 8..15 */
        in.itt = 0x10111213u;                   /* bytes 16-19 = 16..19 */
        fill_pattern(&in, oc->f, cover);

        iscsi_pdu_encode(&in, bhs);

        uint8_t b0 = oc->opcode | (oc->imm != IMM_NONE ? 0x40 : 0);
        assert_int_equal(bhs[0], b0);
        assert_int_equal(bhs[1], oc->final_1 ? 0xa5 : 0x25);
        for (unsigned i = 4; i < 8; i++)
            assert_int_equal(bhs[i], i);
        for (unsigned i = 16; i < 20; i++)
            assert_int_equal(bhs[i], oc->itt_ffff ? 0xff : i);
        for (unsigned i = 2; i < ISCSI_BHS_LEN; i++) {
            if ((i >= 4 && i < 8) || (i >= 16 && i < 20))
                continue;
            bool field = cover[i] || (oc->lun && i >= 8 && i < 16);
            assert_int_equal(bhs[i], field ? i : 0);
        }

        want = in;
        want.immediate = oc->imm != IMM_NONE;
        if (oc->final_1)
            want.flags |= ISCSI_FLAG_FINAL;
        if (!oc->lun)
            want.lun = 0;
        if (oc->itt_ffff)
            want.itt = ISCSI_RESERVED_TAG;
        iscsi_pdu_decode(bhs, &out);
        assert_memory_equal(&out, &want, sizeof(want));
    }
}

/* RFC 3720 B.4's SCSI Read (10) Command PDU, read against RFC 7143 11.3. */
static const uint8_t read10_pdu[ISCSI_BHS_LEN] = {
    0x01, 0xc0, 0x00, 0x00,     /* opcode, F|R, reserved */
    0x00, 0x00, 0x00, 0x00,     /* TotalAHSLength, DataSegmentLength */
    0, 0, 0, 0, 0, 0, 0, 0,     /* LUN 0 */
    0x14, 0x00, 0x00, 0x00,     /* ITT (B.4 writes it this way round) */
    0x00, 0x00, 0x04, 0x00,     /* Expected Data Transfer Length 1024 */
    0x00, 0x00, 0x00, 0x14,     /* CmdSN */
    0x00, 0x00, 0x00, 0x18,     /* ExpStatSN */
    0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   /* READ(10), 2 blocks */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void test_scsi_cmd_bytes(void **state)
{
    (void)state;
    static const uint8_t wire[ISCSI_BHS_LEN] = {
        0x41, 0xa1, 0x00, 0x00,                 /* I | 0x01; F|W|SIMPLE */
        0x02, 0x00, 0x02, 0x00,                 /* AHS 2 words, DSL 512 */
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   /* LUN 1 */
        0xde, 0xad, 0xbe, 0xef,                 /* ITT */
        0x00, 0x01, 0x00, 0x00,                 /* EDTL 65536 */
        0x12, 0x34, 0x56, 0x78,                 /* CmdSN */
        0x9a, 0xbc, 0xde, 0xf0,                 /* ExpStatSN */
        0x2a, 0, 0, 0, 0x10, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0x0f,   /* CDB */
    };
    struct iscsi_pdu_hdr h;
    uint8_t again[ISCSI_BHS_LEN];

    iscsi_pdu_decode(wire, &h);
    assert_int_equal(h.opcode, ISCSI_OP_SCSI_CMD);
    assert_true(h.immediate);
    assert_int_equal(h.flags, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_WRITE | 1);
    assert_int_equal(h.total_ahs_len, 2);
    assert_int_equal(h.data_len, 512);
    assert_true(h.lun == 0x0001000000000000ull);
    assert_int_equal(h.itt, 0xdeadbeefu);
    assert_int_equal(h.u.scsi_cmd.edtl, 65536);
    assert_int_equal(h.u.scsi_cmd.cmdsn, 0x12345678u);
    assert_int_equal(h.u.scsi_cmd.expstatsn, 0x9abcdef0u);
    assert_memory_equal(h.u.scsi_cmd.cdb, wire + 32, 16);
    iscsi_pdu_encode(&h, again);
    assert_memory_equal(again, wire, ISCSI_BHS_LEN);

    iscsi_pdu_decode(read10_pdu, &h);
    assert_false(h.immediate);
    assert_int_equal(h.flags, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ);
    assert_int_equal(h.itt, 0x14000000u);
    assert_int_equal(h.u.scsi_cmd.edtl, 1024);
    assert_int_equal(h.u.scsi_cmd.cmdsn, 0x14);
    assert_int_equal(h.u.scsi_cmd.expstatsn, 0x18);
    assert_int_equal(h.u.scsi_cmd.cdb[0], 0x28);
    assert_int_equal(h.u.scsi_cmd.cdb[8], 0x02);
    iscsi_pdu_encode(&h, again);
    assert_memory_equal(again, read10_pdu, ISCSI_BHS_LEN);
}

static void test_login_req_bytes(void **state)
{
    (void)state;
    static const uint8_t wire[ISCSI_BHS_LEN] = {
        0x43, 0x87, 0x00, 0x00,                 /* I|0x03; T, CSG=1, NSG=3; max, min */
        0x00, 0x00, 0x01, 0x2c,                 /* DSL 300 */
        0x80, 0x12, 0x34, 0x56, 0x78, 0x9a,     /* ISID */
        0x00, 0x00,                             /* TSIH 0: new session */
        0x00, 0x00, 0x00, 0x07,                 /* ITT */
        0x00, 0x01, 0x00, 0x00,                 /* CID 1, reserved */
        0x00, 0x00, 0x00, 0x2a,                 /* CmdSN */
        0x00, 0x00, 0x00, 0x00,                 /* ExpStatSN */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    static const uint8_t isid[6] = { 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a };
    struct iscsi_pdu_hdr h;
    uint8_t again[ISCSI_BHS_LEN];

    iscsi_pdu_decode(wire, &h);
    assert_int_equal(h.opcode, ISCSI_OP_LOGIN_REQ);
    assert_true(h.immediate);
    assert_true(h.flags & ISCSI_FLAG_LOGIN_TRANSIT);
    assert_false(h.flags & ISCSI_FLAG_TEXT_CONT);
    assert_int_equal(iscsi_login_csg(&h), ISCSI_STAGE_OPERATIONAL);
    assert_int_equal(iscsi_login_nsg(&h), ISCSI_STAGE_FULL_FEATURE);
    assert_int_equal(h.u.login_req.version_max, 0);
    assert_int_equal(h.u.login_req.version_min, 0);
    assert_int_equal(h.data_len, 300);
    assert_true(h.lun == 0);                    /* bytes 8-15 are ISID/TSIH */
    assert_memory_equal(h.u.login_req.isid, isid, 6);
    assert_int_equal(h.u.login_req.tsih, 0);
    assert_int_equal(h.itt, 7);
    assert_int_equal(h.u.login_req.cid, 1);
    assert_int_equal(h.u.login_req.cmdsn, 42);
    iscsi_pdu_encode(&h, again);
    assert_memory_equal(again, wire, ISCSI_BHS_LEN);

    /* Login Response: T, CSG 0, NSG 1; version-max 2; TSIH; class/detail 2/1. */
    memset(&h, 0, sizeof(h));
    h.opcode = ISCSI_OP_LOGIN_RSP;
    h.flags = ISCSI_FLAG_LOGIN_TRANSIT | ISCSI_STAGE_OPERATIONAL;
    h.u.login_rsp.version_max = 2;
    h.u.login_rsp.tsih = 0x1234;
    h.u.login_rsp.status_class = 2;
    h.u.login_rsp.status_detail = 1;
    iscsi_pdu_encode(&h, again);
    static const uint8_t rsp[ISCSI_BHS_LEN] = {
        0x23, 0x81, 2, 0, [14] = 0x12, [15] = 0x34, [36] = 2, [37] = 1,
    };
    assert_memory_equal(again, rsp, ISCSI_BHS_LEN);
}

static void test_data_in_and_reject_bytes(void **state)
{
    (void)state;
    struct iscsi_pdu_hdr h;
    uint8_t b[ISCSI_BHS_LEN];

    memset(&h, 0, sizeof(h));
    h.opcode = ISCSI_OP_DATA_IN;
    h.flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_RSP_UNDER | ISCSI_FLAG_DATAIN_STATUS;
    h.data_len = 8192;
    h.lun = 0x0002000000000000ull;
    h.itt = 9;
    h.u.data_in.ttt = ISCSI_RESERVED_TAG;
    h.u.data_in.statsn = 5;
    h.u.data_in.datasn = 3;
    h.u.data_in.buffer_offset = 0x6000;
    h.u.data_in.residual = 512;
    iscsi_pdu_encode(&h, b);
    static const uint8_t want[ISCSI_BHS_LEN] = {
        0x25, 0x83, 0x00, 0x00,  0x00, 0x00, 0x20, 0x00,
        0x00, 0x02, 0, 0, 0, 0, 0, 0,  0, 0, 0, 9,
        0xff, 0xff, 0xff, 0xff,  0, 0, 0, 5,  0, 0, 0, 0,  0, 0, 0, 0,
        0, 0, 0, 3,  0, 0, 0x60, 0x00,  0, 0, 0x02, 0x00,
    };
    assert_memory_equal(b, want, ISCSI_BHS_LEN);

    /* Reject: F forced, ITT forced to 0xffffffff (11.17). */
    memset(&h, 0, sizeof(h));
    h.opcode = ISCSI_OP_REJECT;
    h.itt = 1234;
    h.data_len = ISCSI_BHS_LEN;
    h.u.reject.reason = ISCSI_REJECT_CMD_NOT_SUPPORTED;
    iscsi_pdu_encode(&h, b);
    static const uint8_t rej[ISCSI_BHS_LEN] = {
        0x3f, 0x80, 0x05, 0, 0, 0, 0, 48, [16] = 0xff, 0xff, 0xff, 0xff,
    };
    assert_memory_equal(b, rej, ISCSI_BHS_LEN);
}

/* Reserved fields on receipt are ignored (RFC 7143 11), so they decode as
 * zero and are not sent back. */
static void test_reserved_ignored(void **state)
{
    (void)state;
    uint8_t b[ISCSI_BHS_LEN];
    struct iscsi_pdu_hdr h;

    memset(b, 0xee, sizeof(b));
    b[0] = 0xc0 | ISCSI_OP_LOGOUT_REQ;          /* reserved bit 7 set, I set */
    iscsi_pdu_decode(b, &h);
    assert_int_equal(h.opcode, ISCSI_OP_LOGOUT_REQ);
    assert_true(h.immediate);
    assert_true(h.lun == 0);
    assert_int_equal(iscsi_hdr_function(&h), 0x6e);
    assert_int_equal(h.u.logout_req.cid, 0xeeee);

    b[0] = 0x40 | ISCSI_OP_DATA_OUT;            /* Data-Out has no I bit */
    iscsi_pdu_decode(b, &h);
    assert_false(h.immediate);
    uint8_t again[ISCSI_BHS_LEN];
    iscsi_pdu_encode(&h, again);
    assert_int_equal(again[0], ISCSI_OP_DATA_OUT);
    assert_int_equal(again[2], 0);              /* reserved */
    assert_int_equal(again[24], 0);             /* reserved */
    assert_int_equal(again[44], 0);             /* reserved */

    b[0] = 0x07;                                /* undefined opcode: common fields */
    iscsi_pdu_decode(b, &h);
    assert_int_equal(h.opcode, 0x07);
    assert_int_equal(h.itt, 0xeeeeeeeeu);
    assert_int_equal(h.data_len, 0xeeeeee);
}

static void test_immediate_bit(void **state)
{
    (void)state;
    uint8_t b[ISCSI_BHS_LEN] = { 0 };
    struct iscsi_pdu_hdr h;

    b[0] = 0x01;
    iscsi_pdu_decode(b, &h);
    assert_false(h.immediate);
    b[0] = 0x41;
    iscsi_pdu_decode(b, &h);
    assert_true(h.immediate);
    assert_int_equal(h.opcode, ISCSI_OP_SCSI_CMD);

    memset(&h, 0, sizeof(h));
    h.opcode = ISCSI_OP_NOP_OUT;
    h.immediate = true;
    iscsi_pdu_encode(&h, b);
    assert_int_equal(b[0], 0x40);
    h.immediate = false;
    iscsi_pdu_encode(&h, b);
    assert_int_equal(b[0], 0x00);
    h.opcode = ISCSI_OP_LOGIN_REQ;              /* always immediate */
    iscsi_pdu_encode(&h, b);
    assert_int_equal(b[0], 0x43);
    h.opcode = ISCSI_OP_NOP_IN;                 /* target PDUs have no I bit */
    h.immediate = true;
    iscsi_pdu_encode(&h, b);
    assert_int_equal(b[0], 0x20);
}

static void test_get_put(void **state)
{
    (void)state;
    static const uint8_t be[8] = { 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };
    uint8_t b[8] = { 0 };

    assert_int_equal(iscsi_get16(be), 0xfedc);
    assert_int_equal(iscsi_get24(be), 0xfedcba);
    assert_int_equal(iscsi_get32(be), 0xfedcba98u);
    assert_true(iscsi_get64(be) == 0xfedcba9876543210ull);
    iscsi_put16(b, 0xfedc);
    assert_memory_equal(b, be, 2);
    iscsi_put24(b, 0xfedcba);
    assert_memory_equal(b, be, 3);
    iscsi_put32(b, 0xfedcba98u);
    assert_memory_equal(b, be, 4);
    iscsi_put64(b, 0xfedcba9876543210ull);
    assert_memory_equal(b, be, 8);
}

/* RFC 1982 serial arithmetic (RFC 7143 4.2.2.1). */
static void test_serial_arithmetic(void **state)
{
    (void)state;
    assert_true(iscsi_sn_lt(1, 2));
    assert_false(iscsi_sn_lt(2, 1));
    assert_false(iscsi_sn_lt(5, 5));
    assert_true(iscsi_sn_le(5, 5));
    assert_true(iscsi_sn_gt(2, 1));
    /* wrap-around at 2^32 */
    assert_true(iscsi_sn_lt(0xffffffffu, 0));
    assert_true(iscsi_sn_lt(0xfffffff0u, 0x10));
    assert_true(iscsi_sn_gt(0, 0xffffffffu));
    assert_true(iscsi_sn_le(0xffffffffu, 0));
    assert_false(iscsi_sn_le(0, 0xffffffffu));
    /* largest defined distance: 2^31 - 1 */
    assert_true(iscsi_sn_lt(0, 0x7fffffffu));
    assert_true(iscsi_sn_gt(0x80000000u, 1));
    assert_true(iscsi_sn_lt(0x80000001u, 0));
    /* distance exactly 2^31 is undefined: neither lt nor gt nor le */
    assert_false(iscsi_sn_lt(0, 0x80000000u));
    assert_false(iscsi_sn_gt(0, 0x80000000u));
    assert_false(iscsi_sn_lt(0x80000000u, 0));
    assert_false(iscsi_sn_le(0x80000000u, 0));
    assert_false(iscsi_sn_lt(0x12345678u, 0x92345678u));
    assert_false(iscsi_sn_gt(0x12345678u, 0x92345678u));
}

static void test_padding_and_tail_len(void **state)
{
    (void)state;
    static const uint32_t len[] = { 0, 1, 2, 3, 4, 5, 8, 47, 48, 0xffffff };
    static const uint32_t pad[] = { 0, 3, 2, 1, 0, 3, 0, 1, 0, 1 };
    for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++)
        assert_int_equal(iscsi_pad4(len[i]), pad[i]);

    struct iscsi_pdu_hdr h;
    memset(&h, 0, sizeof(h));
    assert_int_equal(iscsi_pdu_wire_tail_len(&h, false, false), 0);
    assert_int_equal(iscsi_pdu_wire_tail_len(&h, true, false), 4);
    assert_int_equal(iscsi_pdu_wire_tail_len(&h, false, true), 0);   /* no data, no DD */
    assert_int_equal(iscsi_pdu_wire_tail_len(&h, true, true), 4);
    h.data_len = 5;
    assert_int_equal(iscsi_pdu_wire_tail_len(&h, false, false), 8);
    assert_int_equal(iscsi_pdu_wire_tail_len(&h, false, true), 12);
    assert_int_equal(iscsi_pdu_wire_tail_len(&h, true, true), 16);
    h.total_ahs_len = 3;
    assert_int_equal(iscsi_pdu_wire_tail_len(&h, true, true), 28);
    h.total_ahs_len = 255;
    h.data_len = ISCSI_MAX_DSL;
    assert_true(iscsi_pdu_wire_tail_len(&h, true, true) ==
                (uint64_t)ISCSI_MAX_AHS_BYTES + 4 + 0xffffff + 1 + 4);
}

/* A header that passes, for the given request opcode. */
static struct iscsi_pdu_hdr req(uint8_t opcode, uint32_t dsl)
{
    struct iscsi_pdu_hdr h;
    memset(&h, 0, sizeof(h));
    h.opcode = opcode;
    h.flags = ISCSI_FLAG_FINAL;
    h.data_len = dsl;
    if (opcode == ISCSI_OP_SCSI_CMD)
        h.flags |= ISCSI_FLAG_CMD_WRITE;
    return h;
}

static void expect_reject(const struct iscsi_pdu_hdr *h, uint32_t max,
                          enum iscsi_reject_reason want, const char *field)
{
    enum iscsi_reject_reason reason = 0;
    const char *f = NULL;
    assert_int_equal(iscsi_pdu_check_request(h, max, &reason, &f), -1);
    assert_int_equal(reason, want);
    assert_string_equal(f, field);
}

static void expect_ok(const struct iscsi_pdu_hdr *h, uint32_t max)
{
    enum iscsi_reject_reason reason;
    const char *f;
    assert_int_equal(iscsi_pdu_check_request(h, max, &reason, &f), 0);
}

static void test_check_opcodes(void **state)
{
    (void)state;
    static const uint8_t requests[] = {
        ISCSI_OP_NOP_OUT, ISCSI_OP_SCSI_CMD, ISCSI_OP_TMF_REQ, ISCSI_OP_LOGIN_REQ,
        ISCSI_OP_TEXT_REQ, ISCSI_OP_DATA_OUT, ISCSI_OP_LOGOUT_REQ, ISCSI_OP_SNACK_REQ,
    };
    static const uint8_t responses[] = {
        ISCSI_OP_NOP_IN, ISCSI_OP_SCSI_RSP, ISCSI_OP_TMF_RSP, ISCSI_OP_LOGIN_RSP,
        ISCSI_OP_TEXT_RSP, ISCSI_OP_DATA_IN, ISCSI_OP_LOGOUT_RSP, ISCSI_OP_R2T,
        ISCSI_OP_ASYNC_MSG, ISCSI_OP_REJECT,
    };
    struct iscsi_pdu_hdr h;

    for (size_t i = 0; i < sizeof(requests); i++) {
        h = req(requests[i], 0);
        expect_ok(&h, 8192);
    }
    for (size_t i = 0; i < sizeof(responses); i++) {
        h = req(responses[i], 0);
        expect_reject(&h, 8192, ISCSI_REJECT_PROTOCOL_ERROR, "Opcode");
    }
    /* reserved, vendor-specific (0x1c-0x1e, 0x3c-0x3e) and out-of-range */
    static const uint8_t unknown[] = { 0x07, 0x0f, 0x11, 0x1c, 0x1e, 0x27, 0x30, 0x3c, 0x3e, 0x40, 0xff };
    for (size_t i = 0; i < sizeof(unknown); i++) {
        h = req(unknown[i], 0);
        expect_reject(&h, 8192, ISCSI_REJECT_CMD_NOT_SUPPORTED, "Opcode");
        assert_string_equal(iscsi_opcode_name(unknown[i]), "unknown");
    }
    assert_string_equal(iscsi_opcode_name(ISCSI_OP_SCSI_CMD), "SCSI-Command");
    assert_string_equal(iscsi_opcode_name(ISCSI_OP_REJECT), "Reject");
}

static void test_check_ahs_and_data(void **state)
{
    (void)state;
    struct iscsi_pdu_hdr h;

    h = req(ISCSI_OP_SCSI_CMD, 0);              /* AHS only on SCSI Command */
    h.total_ahs_len = 5;
    expect_ok(&h, 8192);
    static const uint8_t no_ahs[] = { ISCSI_OP_NOP_OUT, ISCSI_OP_TMF_REQ, ISCSI_OP_LOGIN_REQ,
                                      ISCSI_OP_TEXT_REQ, ISCSI_OP_DATA_OUT,
                                      ISCSI_OP_LOGOUT_REQ, ISCSI_OP_SNACK_REQ };
    for (size_t i = 0; i < sizeof(no_ahs); i++) {
        h = req(no_ahs[i], 0);
        h.total_ahs_len = 1;
        expect_reject(&h, 8192, ISCSI_REJECT_INVALID_PDU_FIELD, "TotalAHSLength");
    }

    static const uint8_t no_data[] = { ISCSI_OP_TMF_REQ, ISCSI_OP_LOGOUT_REQ, ISCSI_OP_SNACK_REQ };
    for (size_t i = 0; i < sizeof(no_data); i++) {
        h = req(no_data[i], 4);
        expect_reject(&h, 8192, ISCSI_REJECT_INVALID_PDU_FIELD, "DataSegmentLength");
    }
    static const uint8_t data[] = { ISCSI_OP_NOP_OUT, ISCSI_OP_SCSI_CMD, ISCSI_OP_LOGIN_REQ,
                                    ISCSI_OP_TEXT_REQ, ISCSI_OP_DATA_OUT };
    for (size_t i = 0; i < sizeof(data); i++) {
        h = req(data[i], 8192);
        expect_ok(&h, 8192);
        h.data_len = 8193;
        expect_reject(&h, 8192, ISCSI_REJECT_PROTOCOL_ERROR, "DataSegmentLength");
        h.data_len = ISCSI_MAX_DSL;
        expect_reject(&h, 262144, ISCSI_REJECT_PROTOCOL_ERROR, "DataSegmentLength");
        expect_ok(&h, ISCSI_MAX_DSL);
    }
}

static void test_check_flags(void **state)
{
    (void)state;
    struct iscsi_pdu_hdr h;

    h = req(ISCSI_OP_SCSI_CMD, 0);
    h.flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ;
    h.u.scsi_cmd.edtl = 4096;
    expect_ok(&h, 8192);
    h.data_len = 512;                           /* data without W */
    expect_reject(&h, 8192, ISCSI_REJECT_INVALID_PDU_FIELD, "DataSegmentLength");
    h.data_len = 0;
    h.flags = ISCSI_FLAG_CMD_READ;              /* neither W nor F */
    expect_reject(&h, 8192, ISCSI_REJECT_INVALID_PDU_FIELD, "Flags");
    h.flags = ISCSI_FLAG_CMD_WRITE;             /* W without F: more data follows */
    expect_ok(&h, 8192);
    h.flags = ISCSI_FLAG_FINAL;                 /* a transfer with no direction */
    expect_reject(&h, 8192, ISCSI_REJECT_INVALID_PDU_FIELD, "ExpectedDataTransferLength");
    h.u.scsi_cmd.edtl = 0;                      /* TEST UNIT READY */
    expect_ok(&h, 8192);

    h = req(ISCSI_OP_TEXT_REQ, 0);
    h.flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_TEXT_CONT;
    expect_reject(&h, 8192, ISCSI_REJECT_INVALID_PDU_FIELD, "Flags");
    h.flags = ISCSI_FLAG_TEXT_CONT;
    expect_ok(&h, 8192);
}

/* ---- CRC32C: RFC 3720 Appendix B.4 -------------------------------------- */

static uint32_t digest_of(const void *p, size_t n)
{
    return iscsi_crc32c_final(iscsi_crc32c(ISCSI_CRC32C_INIT, p, n));
}

static void test_crc32c_vectors(void **state)
{
    (void)state;
    uint8_t zeros[32], ones[32], inc[32], dec[32];
    for (unsigned i = 0; i < 32; i++) {
        zeros[i] = 0;
        ones[i] = 0xff;
        inc[i] = (uint8_t)i;
        dec[i] = (uint8_t)(31 - i);
    }
    assert_int_equal(digest_of(zeros, 32), 0x8a9136aau);
    assert_int_equal(digest_of(ones, 32), 0x62a8ab43u);
    assert_int_equal(digest_of(inc, 32), 0x46dd794eu);
    assert_int_equal(digest_of(dec, 32), 0x113fdb5cu);
    assert_int_equal(digest_of(read10_pdu, sizeof(read10_pdu)), 0xd9963a56u);
    assert_int_equal(digest_of(zeros, 0), 0);

    /* Continuing over parts gives the same digest as one pass. */
    uint32_t crc = ISCSI_CRC32C_INIT;
    crc = iscsi_crc32c(crc, inc, 5);
    crc = iscsi_crc32c(crc, inc + 5, 0);
    crc = iscsi_crc32c(crc, inc + 5, 27);
    assert_int_equal(iscsi_crc32c_final(crc), 0x46dd794eu);

    /* On the wire: least significant byte first ("aa 36 91 8a" in B.4). */
    uint8_t wire[ISCSI_DIGEST_LEN];
    iscsi_put_digest(wire, 0x8a9136aau);
    assert_int_equal(wire[0], 0xaa);
    assert_int_equal(wire[1], 0x36);
    assert_int_equal(wire[2], 0x91);
    assert_int_equal(wire[3], 0x8a);
    assert_int_equal(iscsi_get_digest(wire), 0x8a9136aau);

    /* The CRC over data plus its digest is the same constant for any data
     * (RFC 7143 13.1), so a receiver may check either way. */
    uint8_t buf[36];
    memcpy(buf, inc, 32);
    iscsi_put_digest(buf + 32, digest_of(inc, 32));
    uint32_t r1 = iscsi_crc32c(ISCSI_CRC32C_INIT, buf, 36);
    memcpy(buf, dec, 32);
    iscsi_put_digest(buf + 32, digest_of(dec, 32));
    assert_int_equal(iscsi_crc32c(ISCSI_CRC32C_INIT, buf, 36), r1);
    buf[3] ^= 1;
    assert_int_not_equal(iscsi_crc32c(ISCSI_CRC32C_INIT, buf, 36), r1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put),
        cmocka_unit_test(test_every_opcode_positions_and_round_trip),
        cmocka_unit_test(test_scsi_cmd_bytes),
        cmocka_unit_test(test_login_req_bytes),
        cmocka_unit_test(test_data_in_and_reject_bytes),
        cmocka_unit_test(test_reserved_ignored),
        cmocka_unit_test(test_immediate_bit),
        cmocka_unit_test(test_serial_arithmetic),
        cmocka_unit_test(test_padding_and_tail_len),
        cmocka_unit_test(test_check_opcodes),
        cmocka_unit_test(test_check_ahs_and_data),
        cmocka_unit_test(test_check_flags),
        cmocka_unit_test(test_crc32c_vectors),
    };
    return cmocka_run_group_tests_name("iscsi_pdu", tests, NULL, NULL);
}
