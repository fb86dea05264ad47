/* Unit tests for scsi/scsi_copy.c: copy offload classification and copy
 * status answers, one case per rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "scsi_copy.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* A 16-byte 83h/84h CDB: service action, 4-byte field at 10 (PARAMETER LIST
 * LENGTH or ALLOCATION LENGTH). */
static void mk_cdb(uint8_t *cdb, uint8_t op, uint8_t sa, uint32_t len10)
{
    memset(cdb, 0, 16);
    cdb[0] = op;
    cdb[1] = sa;
    put32(cdb + 10, len10);
}

/* EXTENDED COPY(LID1) header: list id, LIST ID USAGE, descriptor lengths. */
static size_t mk_lid1(uint8_t *p, uint8_t list_id, uint8_t usage, uint16_t cscd, uint32_t seg,
                      uint32_t inl)
{
    memset(p, 0, 16 + cscd + seg + inl);
    p[0] = list_id;
    p[1] = (uint8_t)(usage << 3);
    put16(p + 2, cscd);
    put32(p + 8, seg);
    put32(p + 12, inl);
    return 16 + (size_t)cscd + seg + inl;
}

/* EXTENDED COPY(LID4) header (SPC-5 table 126). */
static size_t mk_lid4(uint8_t *p, uint32_t list_id, uint8_t usage, int immed, uint16_t cscd,
                      uint16_t seg)
{
    memset(p, 0, 48 + (size_t)cscd + seg);
    p[0] = 0x01;
    p[1] = (uint8_t)(usage << 3);
    put16(p + 2, 0x0020);
    p[15] = immed ? 0x01 : 0x02;          /* G_SENSE is not IMMED */
    p[16] = 0xff;
    put32(p + 20, list_id);
    put16(p + 42, cscd);
    put16(p + 44, seg);
    return 48 + (size_t)cscd + seg;
}

/* POPULATE TOKEN (hdr 16, ranges at 14) or WRITE USING TOKEN (hdr 536,
 * ranges at 534) parameter list with n range descriptors. */
static size_t mk_tok(uint8_t *p, size_t hdr, size_t range_off, int immed, size_t n)
{
    size_t total = hdr + 16 * n;

    memset(p, 0, total);
    put16(p, (uint16_t)(total - 2));
    p[2] = immed ? 0x01 : 0x02;           /* RTV / DEL_TKN is not IMMED */
    put16(p + range_off, (uint16_t)(16 * n));
    return total;
}

static int classify(uint8_t sa, uint32_t pll, const uint8_t *param, size_t len,
                    struct scsi_copy_info *ci)
{
    uint8_t cdb[16];

    mk_cdb(cdb, 0x83, sa, pll);
    return scsi_copy_classify(cdb, sizeof(cdb), param, len, ci);
}

static void assert_fail_safe(const struct scsi_copy_info *ci)
{
    assert_true(ci->is_copy);
    assert_true(ci->may_run_after_status);
    assert_false(ci->aborts);
}

/* ---- scsi_copy_classify --------------------------------------------------- */

static void test_other_opcodes(void **state)
{
    static const uint8_t ops[] = { 0x2a, 0x8a, 0x84, 0x42, 0x9e };
    struct scsi_copy_info ci;
    (void)state;

    for (size_t i = 0; i < sizeof(ops); i++) {
        uint8_t cdb[16] = { ops[i] };

        assert_int_equal(scsi_copy_classify(cdb, sizeof(cdb), NULL, 0, &ci), 0);
        assert_false(ci.is_copy);
        assert_false(ci.may_run_after_status);
    }
    /* One byte is enough to know it is not 83h. */
    assert_int_equal(scsi_copy_classify(ops, 1, NULL, 0, &ci), 0);
    assert_false(ci.is_copy);
}

static void test_no_cdb(void **state)
{
    struct scsi_copy_info ci;
    uint8_t cdb[16] = { 0x83 };
    (void)state;

    assert_int_equal(scsi_copy_classify(NULL, 16, NULL, 0, &ci), -1);
    assert_fail_safe(&ci);
    assert_int_equal(scsi_copy_classify(cdb, 0, NULL, 0, &ci), -1);
    assert_fail_safe(&ci);
    assert_int_equal(scsi_copy_classify(cdb, 16, NULL, 0, NULL), -1);
}

static void test_short_cdb(void **state)
{
    struct scsi_copy_info ci;
    uint8_t cdb[16];
    (void)state;

    mk_cdb(cdb, 0x83, 0x11, 600);
    put32(cdb + 6, 7);
    assert_int_equal(scsi_copy_classify(cdb, 1, NULL, 0, &ci), -1);
    assert_fail_safe(&ci);
    /* The service action is known, the list identifier and length are not. */
    assert_int_equal(scsi_copy_classify(cdb, 15, NULL, 0, &ci), -1);
    assert_fail_safe(&ci);
    assert_int_equal(ci.service_action, 0x11);
    assert_false(ci.has_list_id);
}

static void test_xcopy_lid1(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[128];
    size_t n;
    (void)state;

    /* No IMMED bit: the copy has ended when its status arrives. */
    n = mk_lid1(p, 0x5a, 0, 32, 28, 4);
    assert_int_equal(classify(0x00, (uint32_t)n, p, n, &ci), 0);
    assert_true(ci.is_copy);
    assert_int_equal(ci.service_action, 0x00);
    assert_false(ci.may_run_after_status);
    assert_true(ci.has_list_id);
    assert_false(ci.lid4);
    assert_int_equal(ci.list_id, 0x5a);
    assert_false(ci.aborts);

    /* LIST ID USAGE 10b also holds the list identifier. */
    n = mk_lid1(p, 0x07, 2, 32, 28, 0);
    assert_int_equal(classify(0x00, (uint32_t)n, p, n, &ci), 0);
    assert_true(ci.has_list_id);
    assert_int_equal(ci.list_id, 0x07);
}

static void test_xcopy_lid1_no_list_id(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[128];
    size_t n;
    (void)state;

    n = mk_lid1(p, 0, 3, 32, 28, 0);       /* LIST ID USAGE 11b */
    assert_int_equal(classify(0x00, (uint32_t)n, p, n, &ci), 0);
    assert_false(ci.may_run_after_status);
    assert_false(ci.has_list_id);
}

static void test_xcopy_lid1_reserved_usage(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[128];
    size_t n;
    (void)state;

    n = mk_lid1(p, 1, 1, 32, 28, 0);       /* LIST ID USAGE 01b: reserved */
    assert_int_equal(classify(0x00, (uint32_t)n, p, n, &ci), -1);
    assert_fail_safe(&ci);
    assert_false(ci.has_list_id);
}

static void test_xcopy_lid1_short(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[128];
    size_t n;
    (void)state;

    n = mk_lid1(p, 1, 0, 0, 0, 0);
    assert_int_equal(n, 16);
    assert_int_equal(classify(0x00, 16, p, 15, &ci), -1);      /* header cut */
    assert_fail_safe(&ci);
    assert_int_equal(classify(0x00, 16, NULL, 0, &ci), -1);    /* no data */
    assert_fail_safe(&ci);
    assert_int_equal(classify(0x00, 0, p, 16, &ci), -1);       /* PLL 0 */
    assert_fail_safe(&ci);
    assert_int_equal(classify(0x00, 15, p, 16, &ci), -1);      /* PLL cuts it */
    assert_fail_safe(&ci);
    assert_int_equal(classify(0x00, 16, p, 16, &ci), 0);       /* empty lists: whole */
}

static void test_xcopy_lid1_lengths_lie(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[128];
    size_t n;
    (void)state;

    n = mk_lid1(p, 1, 0, 32, 28, 0);
    assert_int_equal(classify(0x00, (uint32_t)n, p, n - 1, &ci), -1);  /* a byte short */
    assert_fail_safe(&ci);
    /* Data beyond the PARAMETER LIST LENGTH is not read. */
    assert_int_equal(classify(0x00, (uint32_t)n - 1, p, n, &ci), -1);
    assert_fail_safe(&ci);
    /* Lengths that wrap 32 bits. */
    put32(p + 8, 0xffffffffu);
    put32(p + 12, 0xffffffffu);
    assert_int_equal(classify(0x00, 0xffffffffu, p, n, &ci), -1);
    assert_fail_safe(&ci);
}

static void test_xcopy_lid4_immed(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[160];
    size_t n;
    (void)state;

    n = mk_lid4(p, 0xdeadbeef, 0, 0, 32, 28);
    assert_int_equal(classify(0x01, (uint32_t)n, p, n, &ci), 0);
    assert_true(ci.is_copy);
    assert_int_equal(ci.service_action, 0x01);
    assert_false(ci.may_run_after_status);
    assert_true(ci.has_list_id);
    assert_true(ci.lid4);
    assert_int_equal(ci.list_id, 0xdeadbeef);

    n = mk_lid4(p, 0x12345678, 2, 1, 32, 28);
    assert_int_equal(classify(0x01, (uint32_t)n, p, n, &ci), 0);
    assert_true(ci.may_run_after_status);
    assert_true(ci.has_list_id);
    assert_true(ci.lid4);
    assert_int_equal(ci.list_id, 0x12345678);
}

static void test_xcopy_lid4_no_list_id(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[160];
    size_t n;
    (void)state;

    /* IMMED with no list identifier: runs on, and nobody can ask about it. */
    n = mk_lid4(p, 0, 3, 1, 32, 28);
    assert_int_equal(classify(0x01, (uint32_t)n, p, n, &ci), 0);
    assert_true(ci.may_run_after_status);
    assert_false(ci.has_list_id);
}

static void test_xcopy_lid4_malformed(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[160];
    size_t n;
    (void)state;

    n = mk_lid4(p, 9, 0, 0, 32, 28);
    p[0] = 0x02;                          /* PARAMETER LIST FORMAT reserved */
    assert_int_equal(classify(0x01, (uint32_t)n, p, n, &ci), -1);
    assert_fail_safe(&ci);
    assert_false(ci.has_list_id);

    n = mk_lid4(p, 9, 0, 0, 32, 28);
    put16(p + 2, 0x0010);                 /* HEADER CSCD DESCRIPTOR LIST LENGTH */
    assert_int_equal(classify(0x01, (uint32_t)n, p, n, &ci), -1);
    assert_fail_safe(&ci);

    n = mk_lid4(p, 9, 0, 0, 32, 28);
    p[16] = 0xe4;                         /* HEADER CSCD DESCRIPTOR TYPE CODE */
    assert_int_equal(classify(0x01, (uint32_t)n, p, n, &ci), -1);
    assert_fail_safe(&ci);

    n = mk_lid4(p, 9, 1, 0, 32, 28);      /* LIST ID USAGE 01b */
    assert_int_equal(classify(0x01, (uint32_t)n, p, n, &ci), -1);
    assert_fail_safe(&ci);
}

static void test_xcopy_lid4_short(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[160];
    size_t n;
    (void)state;

    n = mk_lid4(p, 9, 0, 0, 0, 0);
    assert_int_equal(n, 48);
    assert_int_equal(classify(0x01, 48, p, 47, &ci), -1);
    assert_fail_safe(&ci);
    assert_int_equal(classify(0x01, 47, p, 48, &ci), -1);
    assert_fail_safe(&ci);
    assert_int_equal(classify(0x01, 48, NULL, 0, &ci), -1);
    assert_fail_safe(&ci);
    assert_int_equal(classify(0x01, 48, p, 48, &ci), 0);
    assert_false(ci.may_run_after_status);
}

static void test_xcopy_lid4_lengths_lie(void **state)
{
    struct scsi_copy_info ci;
    uint8_t p[160];
    size_t n;
    (void)state;

    n = mk_lid4(p, 9, 0, 0, 32, 28);
    put16(p + 46, 1);                     /* INLINE DATA LENGTH past the data */
    assert_int_equal(classify(0x01, (uint32_t)n, p, n, &ci), -1);
    assert_fail_safe(&ci);
    put16(p + 46, 0);
    put16(p + 42, 0xffff);                /* CSCD DESCRIPTOR LIST LENGTH */
    assert_int_equal(classify(0x01, 0xffffffffu, p, n, &ci), -1);
    assert_fail_safe(&ci);
}

/* POPULATE TOKEN and WRITE USING TOKEN: LIST IDENTIFIER in CDB bytes 6-9,
 * IMMED in byte 2 of the parameter list, range descriptors after a header
 * of their own size. */
static void test_token_commands(void **state)
{
    static const struct {
        uint8_t sa;
        size_t hdr, range_off, ranges;
        uint32_t list_id;
    } cases[] = {
        { 0x10, 16, 14, 2, 0x01020304 },     /* POPULATE TOKEN */
        { 0x11, 536, 534, 1, 0xa1b2c3d4 },   /* WRITE USING TOKEN */
    };
    struct scsi_copy_info ci;
    uint8_t cdb[16], p[600];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = mk_tok(p, cases[i].hdr, cases[i].range_off, 0, cases[i].ranges);
        mk_cdb(cdb, 0x83, cases[i].sa, (uint32_t)n);
        put32(cdb + 6, cases[i].list_id);
        assert_int_equal(scsi_copy_classify(cdb, 16, p, n, &ci), 0);
        assert_true(ci.is_copy);
        assert_int_equal(ci.service_action, cases[i].sa);
        assert_false(ci.may_run_after_status);
        assert_true(ci.has_list_id);
        assert_true(ci.lid4);
        assert_int_equal(ci.list_id, cases[i].list_id);

        n = mk_tok(p, cases[i].hdr, cases[i].range_off, 1, cases[i].ranges);
        assert_int_equal(scsi_copy_classify(cdb, 16, p, n, &ci), 0);
        assert_true(ci.may_run_after_status);
    }
}

static void test_populate_token_malformed(void **state)
{
    struct scsi_copy_info ci;
    uint8_t cdb[16], p[64];
    size_t n;
    (void)state;

    n = mk_tok(p, 16, 14, 0, 2);
    mk_cdb(cdb, 0x83, 0x10, (uint32_t)n);
    put32(cdb + 6, 77);

    /* Short: the list identifier is still known, from the CDB. */
    assert_int_equal(scsi_copy_classify(cdb, 16, p, 15, &ci), -1);
    assert_fail_safe(&ci);
    assert_true(ci.has_list_id);
    assert_true(ci.lid4);
    assert_int_equal(ci.list_id, 77);
    assert_int_equal(scsi_copy_classify(cdb, 16, NULL, 0, &ci), -1);
    assert_fail_safe(&ci);
    assert_int_equal(scsi_copy_classify(cdb, 16, p, n - 1, &ci), -1);  /* data cut */
    assert_fail_safe(&ci);

    /* DATA LENGTH claims more than arrived. */
    put16(p, (uint16_t)(n - 1));
    assert_int_equal(scsi_copy_classify(cdb, 16, p, n, &ci), -1);
    assert_fail_safe(&ci);
    /* DATA LENGTH too small for the range descriptors. */
    put16(p, (uint16_t)(n - 3));
    assert_int_equal(scsi_copy_classify(cdb, 16, p, n, &ci), -1);
    assert_fail_safe(&ci);
    /* Range list length not a multiple of 16. */
    n = mk_tok(p, 16, 14, 0, 2);
    put16(p + 14, 31);
    assert_int_equal(scsi_copy_classify(cdb, 16, p, n, &ci), -1);
    assert_fail_safe(&ci);
}

static void test_write_using_token_malformed(void **state)
{
    struct scsi_copy_info ci;
    uint8_t cdb[16], p[600];
    size_t n;
    (void)state;

    n = mk_tok(p, 536, 534, 0, 1);
    mk_cdb(cdb, 0x83, 0x11, (uint32_t)n);
    assert_int_equal(scsi_copy_classify(cdb, 16, p, 535, &ci), -1);  /* header cut */
    assert_fail_safe(&ci);
    assert_true(ci.has_list_id);
    put16(p + 534, 32);                   /* two ranges promised, one present */
    assert_int_equal(scsi_copy_classify(cdb, 16, p, n, &ci), -1);
    assert_fail_safe(&ci);
    n = mk_tok(p, 536, 534, 0, 1);
    put16(p, 0xffff);                     /* DATA LENGTH past the data */
    assert_int_equal(scsi_copy_classify(cdb, 16, p, n, &ci), -1);
    assert_fail_safe(&ci);
}

static void test_garbage_parameter_data(void **state)
{
    static const uint8_t sas[] = { 0x00, 0x01, 0x10, 0x11 };
    struct scsi_copy_info ci;
    uint8_t p[600];
    (void)state;

    memset(p, 0xff, sizeof(p));
    for (size_t i = 0; i < sizeof(sas); i++) {
        assert_int_equal(classify(sas[i], sizeof(p), p, sizeof(p), &ci), -1);
        assert_fail_safe(&ci);
    }
    memset(p, 0, sizeof(p));
    for (size_t i = 0; i < sizeof(sas); i++) {
        assert_int_equal(classify(sas[i], sizeof(p), p, sizeof(p), &ci), sas[i] == 0 ? 0 : -1);
        if (sas[i] != 0)
            assert_fail_safe(&ci);
    }
}

static void test_copy_operation_abort(void **state)
{
    struct scsi_copy_info ci;
    uint8_t cdb[16];
    (void)state;

    mk_cdb(cdb, 0x83, 0x1c, 0);
    put32(cdb + 2, 0x0badcafe);
    assert_int_equal(scsi_copy_classify(cdb, 16, NULL, 0, &ci), 0);
    assert_true(ci.is_copy);
    assert_true(ci.aborts);
    assert_false(ci.may_run_after_status);
    assert_true(ci.has_list_id);
    assert_true(ci.lid4);
    assert_int_equal(ci.list_id, 0x0badcafe);
}

static void test_unknown_service_action(void **state)
{
    static const uint8_t sas[] = { 0x02, 0x05, 0x12, 0x1f };
    struct scsi_copy_info ci;
    uint8_t p[64] = { 0 };
    (void)state;

    for (size_t i = 0; i < sizeof(sas); i++) {
        assert_int_equal(classify(sas[i], sizeof(p), p, sizeof(p), &ci), -1);
        assert_fail_safe(&ci);
        assert_int_equal(ci.service_action, sas[i]);
        assert_false(ci.has_list_id);
    }
    /* Bits 7-5 of byte 1 are not part of the service action. */
    assert_int_equal(classify(0xe0 | 0x1c, 0, NULL, 0, &ci), 0);
    assert_true(ci.aborts);
}

/* ---- scsi_copy_status_parse ---------------------------------------------- */

/* RECEIVE COPY STATUS(LID1) answer: AVAILABLE DATA 8, status byte 4. */
static size_t mk_s1(uint8_t *d, uint8_t st)
{
    memset(d, 0, 12);
    put32(d, 8);
    d[4] = st;
    return 12;
}

/* Shared third-party copy status header: AVAILABLE DATA 28, status byte 5. */
static size_t mk_s4(uint8_t *d, uint8_t resp_sa, uint8_t st)
{
    memset(d, 0, 32);
    put32(d, 28);
    d[4] = resp_sa;
    d[5] = st;
    return 32;
}

static int parse(uint8_t sa, uint32_t list_id, uint32_t alloc, const uint8_t *d, size_t len,
                 struct scsi_copy_status *cs)
{
    uint8_t cdb[16];

    mk_cdb(cdb, 0x84, sa, alloc);
    if (sa == 0x00)
        cdb[2] = (uint8_t)list_id;
    else
        put32(cdb + 2, list_id);
    return scsi_copy_status_parse(cdb, sizeof(cdb), d, len, cs);
}

static void test_status_lid1(void **state)
{
    struct scsi_copy_status cs;
    uint8_t d[16];
    size_t n;
    (void)state;

    n = mk_s1(d, 0x00);                   /* operation in progress */
    assert_int_equal(parse(0x00, 0x42, 16, d, n, &cs), 0);
    assert_false(cs.ended);
    assert_false(cs.lid4);
    assert_int_equal(cs.service_action, 0x00);
    assert_int_equal(cs.list_id, 0x42);
    assert_int_equal(cs.status, 0x00);

    n = mk_s1(d, 0x01);                   /* completed without errors */
    assert_int_equal(parse(0x00, 0x42, 16, d, n, &cs), 0);
    assert_true(cs.ended);
    n = mk_s1(d, 0x02);                   /* completed with errors */
    assert_int_equal(parse(0x00, 0x42, 16, d, n, &cs), 0);
    assert_true(cs.ended);
    n = mk_s1(d, 0x81);                   /* HDD set: still completed */
    assert_int_equal(parse(0x00, 0x42, 16, d, n, &cs), 0);
    assert_true(cs.ended);
    assert_int_equal(cs.status, 0x01);
    n = mk_s1(d, 0x80);                   /* HDD set, in progress */
    assert_int_equal(parse(0x00, 0x42, 16, d, n, &cs), 0);
    assert_false(cs.ended);
}

static void test_status_lid1_reserved(void **state)
{
    static const uint8_t st[] = { 0x03, 0x10, 0x60, 0x7f };
    struct scsi_copy_status cs;
    uint8_t d[16];
    (void)state;

    for (size_t i = 0; i < sizeof(st); i++) {
        size_t n = mk_s1(d, st[i]);

        assert_int_equal(parse(0x00, 1, 16, d, n, &cs), -1);
        assert_false(cs.ended);
    }
}

static void test_status_lid4(void **state)
{
    static const struct { uint8_t st; int rc; bool ended; } t[] = {
        { 0x01, 0, true }, { 0x02, 0, true }, { 0x03, 0, true }, { 0x04, 0, true },
        { 0x60, 0, true }, { 0x10, 0, false }, { 0x11, 0, false }, { 0x12, 0, false },
        { 0x00, -1, false }, { 0x05, -1, false }, { 0x13, -1, false }, { 0x61, -1, false },
        { 0x7f, -1, false },
    };
    struct scsi_copy_status cs;
    uint8_t d[32];
    (void)state;

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t n = mk_s4(d, 0x11, t[i].st);

        assert_int_equal(parse(0x05, 0xfeedf00d, 64, d, n, &cs), t[i].rc);
        assert_int_equal(cs.ended, t[i].ended);
        assert_true(cs.lid4);
        assert_int_equal(cs.service_action, 0x05);
        assert_int_equal(cs.list_id, 0xfeedf00d);
    }
    /* Bit 7 of byte 5 is not part of the status. */
    mk_s4(d, 0x01, 0x80 | 0x12);
    assert_int_equal(parse(0x05, 1, 64, d, 32, &cs), 0);
    assert_false(cs.ended);
    assert_int_equal(cs.status, 0x12);
}

static void test_status_rod_token_info(void **state)
{
    struct scsi_copy_status cs;
    uint8_t d[64];
    size_t n;
    (void)state;

    n = mk_s4(d, 0x10, 0x11);             /* POPULATE TOKEN in the foreground */
    assert_int_equal(parse(0x07, 5, sizeof(d), d, n, &cs), 0);
    assert_false(cs.ended);
    assert_true(cs.lid4);
    assert_int_equal(cs.service_action, 0x07);
    assert_int_equal(cs.list_id, 5);
    n = mk_s4(d, 0x11, 0x60);             /* WRITE USING TOKEN terminated */
    assert_int_equal(parse(0x07, 5, sizeof(d), d, n, &cs), 0);
    assert_true(cs.ended);
}

static void test_status_other_commands(void **state)
{
    struct scsi_copy_status cs;
    uint8_t cdb[16], d[32];
    size_t n = mk_s4(d, 0x01, 0x01);
    (void)state;

    /* RECEIVE COPY OPERATING PARAMETERS, RECEIVE COPY DATA: not status. */
    assert_int_equal(parse(0x03, 1, 64, d, n, &cs), -1);
    assert_false(cs.ended);
    assert_int_equal(parse(0x06, 1, 64, d, n, &cs), -1);
    assert_false(cs.ended);
    /* Not 84h. */
    mk_cdb(cdb, 0x83, 0x05, 64);
    assert_int_equal(scsi_copy_status_parse(cdb, 16, d, n, &cs), -1);
    assert_false(cs.ended);
    /* Short CDB, no CDB, no output. */
    mk_cdb(cdb, 0x84, 0x05, 64);
    assert_int_equal(scsi_copy_status_parse(cdb, 15, d, n, &cs), -1);
    assert_false(cs.ended);
    assert_int_equal(scsi_copy_status_parse(NULL, 16, d, n, &cs), -1);
    assert_int_equal(scsi_copy_status_parse(cdb, 16, d, n, NULL), -1);
    assert_int_equal(scsi_copy_status_parse(cdb, 16, d, n, &cs), 0);
    assert_true(cs.ended);
}

static void test_status_short(void **state)
{
    struct scsi_copy_status cs;
    uint8_t d[32];
    size_t n;
    (void)state;

    n = mk_s1(d, 0x01);
    assert_int_equal(parse(0x00, 1, 16, d, 4, &cs), -1);     /* no status byte */
    assert_false(cs.ended);
    assert_int_equal(parse(0x00, 1, 16, d, 5, &cs), 0);      /* cut after it: fine */
    assert_true(cs.ended);
    assert_int_equal(parse(0x00, 1, 16, NULL, n, &cs), -1);
    assert_false(cs.ended);
    assert_int_equal(parse(0x00, 1, 16, d, 0, &cs), -1);
    assert_false(cs.ended);

    n = mk_s4(d, 0x01, 0x01);
    assert_int_equal(parse(0x05, 1, 64, d, 5, &cs), -1);
    assert_false(cs.ended);
    assert_int_equal(parse(0x05, 1, 64, d, 6, &cs), 0);
    assert_true(cs.ended);
}

static void test_status_lengths_lie(void **state)
{
    struct scsi_copy_status cs;
    uint8_t d[32];
    size_t n;
    (void)state;

    /* AVAILABLE DATA shorter than the fixed format. */
    n = mk_s1(d, 0x01);
    put32(d, 7);
    assert_int_equal(parse(0x00, 1, 16, d, n, &cs), -1);
    assert_false(cs.ended);
    put32(d, 0);
    assert_int_equal(parse(0x00, 1, 16, d, n, &cs), -1);
    assert_false(cs.ended);
    n = mk_s4(d, 0x01, 0x01);
    put32(d, 27);
    assert_int_equal(parse(0x05, 1, 64, d, n, &cs), -1);
    assert_false(cs.ended);

    /* AVAILABLE DATA larger than what arrived: the allocation length cut it. */
    n = mk_s4(d, 0x01, 0x01);
    put32(d, 0xffffffffu);
    assert_int_equal(parse(0x05, 1, 64, d, n, &cs), 0);
    assert_true(cs.ended);

    /* More data than the ALLOCATION LENGTH allows: only that much counts. */
    n = mk_s4(d, 0x01, 0x01);
    assert_int_equal(parse(0x05, 1, 5, d, n, &cs), -1);
    assert_false(cs.ended);
    assert_int_equal(parse(0x05, 1, 0, d, n, &cs), -1);
    assert_false(cs.ended);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_opcodes),
        cmocka_unit_test(test_no_cdb),
        cmocka_unit_test(test_short_cdb),
        cmocka_unit_test(test_xcopy_lid1),
        cmocka_unit_test(test_xcopy_lid1_no_list_id),
        cmocka_unit_test(test_xcopy_lid1_reserved_usage),
        cmocka_unit_test(test_xcopy_lid1_short),
        cmocka_unit_test(test_xcopy_lid1_lengths_lie),
        cmocka_unit_test(test_xcopy_lid4_immed),
        cmocka_unit_test(test_xcopy_lid4_no_list_id),
        cmocka_unit_test(test_xcopy_lid4_malformed),
        cmocka_unit_test(test_xcopy_lid4_short),
        cmocka_unit_test(test_xcopy_lid4_lengths_lie),
        cmocka_unit_test(test_token_commands),
        cmocka_unit_test(test_populate_token_malformed),
        cmocka_unit_test(test_write_using_token_malformed),
        cmocka_unit_test(test_garbage_parameter_data),
        cmocka_unit_test(test_copy_operation_abort),
        cmocka_unit_test(test_unknown_service_action),
        cmocka_unit_test(test_status_lid1),
        cmocka_unit_test(test_status_lid1_reserved),
        cmocka_unit_test(test_status_lid4),
        cmocka_unit_test(test_status_rod_token_info),
        cmocka_unit_test(test_status_other_commands),
        cmocka_unit_test(test_status_short),
        cmocka_unit_test(test_status_lengths_lie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
