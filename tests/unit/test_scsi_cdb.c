/* Unit tests for scsi/scsi_cdb.c: CDB decode, classification, UNMAP lists. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "scsi_cdb.h"

/* Decode a CDB the way iSCSI carries it: padded to at least 16 bytes. */
static int dec(const uint8_t *cdb, size_t n, struct scsi_cdb_info *out)
{
    uint8_t buf[SCSI_CDB_LEN_MAX] = { 0 };

    memcpy(buf, cdb, n);
    return scsi_cdb_decode(buf, n < 16 ? 16 : n, out);
}

#define DEC(out, ...) do { \
        const uint8_t c_[] = { __VA_ARGS__ }; \
        assert_int_equal(dec(c_, sizeof(c_), (out)), 0); \
    } while (0)

/* ---- SPC-5 4.2.5.1 group codes ------------------------------------------ */

static void test_group_code_lengths(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    DEC(&c, 0x00);  assert_int_equal(c.cdb_len, 6);     /* group 0 */
    DEC(&c, 0x28);  assert_int_equal(c.cdb_len, 10);    /* group 1 */
    DEC(&c, 0x55);  assert_int_equal(c.cdb_len, 10);    /* group 2 */
    DEC(&c, 0x88);  assert_int_equal(c.cdb_len, 16);    /* group 4 */
    DEC(&c, 0xa8);  assert_int_equal(c.cdb_len, 12);    /* group 5 */
    DEC(&c, 0xc0);  assert_int_equal(c.cdb_len, 0);     /* group 6: vendor */
    DEC(&c, 0xe5);  assert_int_equal(c.cdb_len, 0);     /* group 7: vendor */
    DEC(&c, 0x7e);  assert_int_equal(c.cdb_len, 0);     /* group 3, not 7Fh */
}

static void test_variable_length(void **state)
{
    struct scsi_cdb_info c;
    uint8_t w32[32] = { 0x7f, 0, 0, 0, 0, 0, 0, 0x18, 0x00, 0x0b, 0x78, 0,
                        0, 0, 0, 0, 0, 0, 0x10, 0x00, [28] = 0, 0, 0, 8 };
    (void)state;

    assert_int_equal(scsi_cdb_decode(w32, 32, &c), 0);
    assert_int_equal(c.cdb_len, 32);
    assert_true(c.has_sa);
    assert_int_equal(c.service_action, 0x000b);
    assert_string_equal(c.name, "WRITE(32)");
    assert_int_equal(c.cls, SCSI_CLASS_MUTATE);
    assert_int_equal(c.scope, SCSI_SCOPE_RANGE);
    assert_int_equal(c.lba, 0x1000);
    assert_int_equal(c.nblocks, 8);
    assert_int_equal(c.protect, 3);
    assert_true(c.dpo);
    assert_true(c.fua);

    /* Carried in 16 bytes only (no AHS): too short, fail-safe, named. */
    assert_int_equal(scsi_cdb_decode(w32, 16, &c), -1);
    assert_string_equal(c.name, "WRITE(32)");
    assert_int_equal(c.cls, SCSI_CLASS_MUTATE);
    assert_int_equal(c.scope, SCSI_SCOPE_LUN);
    assert_int_equal(c.dir, SCSI_DIR_UNKNOWN);

    /* ADDITIONAL CDB LENGTH not 18h for a 32-byte layout: rejected. */
    w32[7] = 0x10;
    assert_int_equal(scsi_cdb_decode(w32, 32, &c), -1);
    assert_int_equal(c.scope, SCSI_SCOPE_LUN);
    /* Length too small to hold the service action. */
    w32[7] = 0x00;
    assert_int_equal(scsi_cdb_decode(w32, 32, &c), -1);
    /* Fewer than 8 bytes: cannot read ADDITIONAL CDB LENGTH. */
    assert_int_equal(scsi_cdb_decode(w32, 7, &c), -1);
    assert_string_equal(c.name, "VARIABLE LENGTH");

    /* ADDITIONAL CDB LENGTH beyond 252: longer than any CDB. */
    {
        uint8_t big[300] = { 0x7f, [7] = 0xfd, [8] = 0x12, [9] = 0x34 };
        assert_int_equal(scsi_cdb_decode(big, sizeof(big), &c), -1);
        assert_int_equal(c.scope, SCSI_SCOPE_LUN);
        big[7] = 0xfc;
        assert_int_equal(scsi_cdb_decode(big, sizeof(big), &c), 0);
        assert_int_equal(c.cdb_len, SCSI_CDB_LEN_MAX);
        assert_string_equal(c.name, "VARIABLE LENGTH");
        big[8] = 0x00;                /* WRITE(32) that is not 32 bytes long */
        big[9] = 0x0b;
        assert_int_equal(scsi_cdb_decode(big, sizeof(big), &c), -1);
        assert_string_equal(c.name, "WRITE(32)");
    }

    /* Unknown service action: decodes, whole-LUN mutation. */
    w32[7] = 0x18;
    w32[8] = 0x12;
    w32[9] = 0x34;
    assert_int_equal(scsi_cdb_decode(w32, 32, &c), 0);
    assert_string_equal(c.name, "VARIABLE LENGTH");
    assert_int_equal(c.cls, SCSI_CLASS_MUTATE);
    assert_int_equal(c.scope, SCSI_SCOPE_LUN);
}

static void test_variable_length_commands(void **state)
{
    static const struct { uint16_t sa; int cls; int scope; const char *name; } t[] = {
        { 0x0004, SCSI_CLASS_MUTATE, SCSI_SCOPE_LUN, "XDWRITE(32)" },
        { 0x0006, SCSI_CLASS_MUTATE, SCSI_SCOPE_LUN, "XPWRITE(32)" },
        { 0x0007, SCSI_CLASS_MUTATE, SCSI_SCOPE_LUN, "XDWRITEREAD(32)" },
        { 0x0009, SCSI_CLASS_HARMLESS, SCSI_SCOPE_NONE, "READ(32)" },
        { 0x000a, SCSI_CLASS_HARMLESS, SCSI_SCOPE_NONE, "VERIFY(32)" },
        { 0x000c, SCSI_CLASS_MUTATE, SCSI_SCOPE_RANGE, "WRITE AND VERIFY(32)" },
        { 0x000d, SCSI_CLASS_MUTATE, SCSI_SCOPE_RANGE, "WRITE SAME(32)" },
        { 0x000e, SCSI_CLASS_MUTATE, SCSI_SCOPE_RANGE, "ORWRITE(32)" },
        { 0x000f, SCSI_CLASS_MUTATE, SCSI_SCOPE_RANGE, "WRITE ATOMIC(32)" },
        { 0x0010, SCSI_CLASS_MUTATE, SCSI_SCOPE_RANGE, "WRITE STREAM(32)" },
        { 0x0011, SCSI_CLASS_MUTATE, SCSI_SCOPE_LUN, "WRITE SCATTERED(32)" },
        { 0x0012, SCSI_CLASS_HARMLESS, SCSI_SCOPE_NONE, "GET LBA STATUS(32)" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint8_t b[32] = { 0x7f, [7] = 0x18, [8] = (uint8_t)(t[i].sa >> 8),
                          [9] = (uint8_t)t[i].sa, [19] = 0x40, [31] = 2 };
        struct scsi_cdb_info c;

        assert_int_equal(scsi_cdb_decode(b, sizeof(b), &c), 0);
        assert_string_equal(c.name, t[i].name);
        assert_int_equal(c.cls, t[i].cls);
        assert_int_equal(c.scope, t[i].scope);
        if (t[i].scope == SCSI_SCOPE_RANGE) {
            assert_int_equal(c.lba, 0x40);
            assert_int_equal(c.nblocks, 2);
        }
    }
}

/* Name, class, scope and extent in one line. */
static void expect(const struct scsi_cdb_info *c, const char *name, enum scsi_cdb_class cls,
                   enum scsi_mut_scope scope, uint64_t lba, uint32_t nblocks)
{
    assert_string_equal(c->name, name);
    assert_int_equal(c->cls, cls);
    assert_int_equal(c->scope, scope);
    assert_true(c->has_lba);
    assert_int_equal(c->lba, lba);
    assert_int_equal(c->nblocks, nblocks);
}

#define RD   SCSI_CLASS_READ
#define OK   SCSI_CLASS_HARMLESS
#define MUT  SCSI_CLASS_MUTATE
#define NONE SCSI_SCOPE_NONE
#define RNG  SCSI_SCOPE_RANGE

/* ---- READ ------------------------------------------------------------------ */

static void test_read6(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    /* TRANSFER LENGTH 0 means 256 blocks; LBA is 21 bits. */
    DEC(&c, 0x08, 0xff, 0xff, 0xff, 0x00, 0x00);
    expect(&c, "READ(6)", RD, NONE, 0x1fffff, 256);
    assert_int_equal(c.dir, SCSI_DIR_IN);
    DEC(&c, 0x08, 0x01, 0x02, 0x03, 0x0a, 0x00);
    expect(&c, "READ(6)", RD, NONE, 0x010203, 10);
}

static void test_read10_flags(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    /* RDPROTECT 011b, DPO, FUA, RARC. */
    DEC(&c, 0x28, 0x7c, 0x12, 0x34, 0x56, 0x78, 0x00, 0x01, 0x02, 0x00);
    expect(&c, "READ(10)", RD, NONE, 0x12345678, 0x0102);
    assert_int_equal(c.protect, 3);
    assert_true(c.dpo && c.fua);
    DEC(&c, 0x28, 0x00, 0, 0, 0, 1, 0, 0, 1, 0);
    assert_int_equal(c.protect, 0);
    assert_false(c.dpo || c.fua);
}

static void test_read12_read16(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    DEC(&c, 0xa8, 0x08, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x00, 0x00, 0, 0);
    expect(&c, "READ(12)", RD, NONE, 0xdeadbeef, 0x10000);
    assert_true(c.fua);
    DEC(&c, 0x88, 0x20, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        0x00, 0x00, 0x00, 0x80, 0, 0);
    expect(&c, "READ(16)", RD, NONE, 0x0102030405060708ull, 0x80);
    assert_int_equal(c.protect, 1);
    /* TRANSFER LENGTH 0 in READ(10/12/16) is zero blocks, not 256. */
    DEC(&c, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0);
    expect(&c, "READ(16)", RD, NONE, 5, 0);
}

/* ---- Writes with a known range ------------------------------------------------ */

static void test_write6_and_writes(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    DEC(&c, 0x0a, 0x00, 0x00, 0x10, 0x00, 0x00);
    expect(&c, "WRITE(6)", MUT, RNG, 0x10, 256);
    assert_int_equal(c.dir, SCSI_DIR_OUT);
    DEC(&c, 0x2a, 0x08, 0, 0, 0x01, 0x00, 0, 0x00, 0x20, 0);
    expect(&c, "WRITE(10)", MUT, RNG, 0x100, 0x20);
    assert_true(c.fua);
    DEC(&c, 0xaa, 0xa0, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0);
    expect(&c, "WRITE(12)", MUT, RNG, 7, 3);
    assert_int_equal(c.protect, 5);
    DEC(&c, 0x8a, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0);
    expect(&c, "WRITE(16)", MUT, RNG, 0x100000000ull, 9);
    assert_true(c.dpo);
    assert_false(c.dealloc);
}

static void test_write_and_verify(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    /* Bit 3 is reserved in WRITE AND VERIFY: not decoded as FUA. */
    DEC(&c, 0x2e, 0xfa, 0, 0, 0, 4, 0, 0, 2, 0);
    expect(&c, "WRITE AND VERIFY(10)", MUT, RNG, 4, 2);
    assert_int_equal(c.protect, 7);
    assert_true(c.dpo);
    assert_false(c.fua);
    DEC(&c, 0xae, 0, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0);
    expect(&c, "WRITE AND VERIFY(12)", MUT, RNG, 4, 2);
    DEC(&c, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0);
    expect(&c, "WRITE AND VERIFY(16)", MUT, RNG, 4, 2);
}

static void test_write_same(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    /* WRITE SAME(10), UNMAP + ANCHOR, NUMBER OF LOGICAL BLOCKS 0: to end. */
    DEC(&c, 0x41, 0x18, 0, 0, 0x10, 0, 0, 0, 0, 0);
    expect(&c, "WRITE SAME(10)", MUT, SCSI_SCOPE_TO_END, 0x1000, 0);
    assert_true(c.unmap && c.anchor && c.dealloc);
    assert_false(c.dpo);      /* bit 4 is ANCHOR here */
    /* Plain WRITE SAME(10) with a length: a range, no deallocation. */
    DEC(&c, 0x41, 0x00, 0, 0, 0, 8, 0, 0, 4, 0);
    expect(&c, "WRITE SAME(10)", MUT, RNG, 8, 4);
    assert_false(c.dealloc);
    assert_int_equal(c.dir, SCSI_DIR_OUT);
    /* WRITE SAME(16) with NDOB: no Data-Out. */
    DEC(&c, 0x93, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0x10, 0, 0);
    expect(&c, "WRITE SAME(16)", MUT, RNG, 0x20, 0x10);
    assert_true(c.ndob && c.unmap && c.dealloc);
    assert_int_equal(c.dir, SCSI_DIR_NONE);
    /* WRITE SAME(16), 0 blocks: to the end of the LUN. */
    DEC(&c, 0x93, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0);
    expect(&c, "WRITE SAME(16)", MUT, SCSI_SCOPE_TO_END, 0x20, 0);
    assert_false(c.ndob);
}

static void test_write_same32(void **state)
{
    uint8_t b[32] = { 0x7f, [7] = 0x18, [8] = 0x00, [9] = 0x0d, [10] = 0x09,
                      [19] = 0x05 };
    struct scsi_cdb_info c;
    (void)state;
    assert_int_equal(scsi_cdb_decode(b, sizeof(b), &c), 0);
    expect(&c, "WRITE SAME(32)", MUT, SCSI_SCOPE_TO_END, 5, 0);
    assert_true(c.unmap && c.ndob);
}

static void test_other_range_writes(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    /* COMPARE AND WRITE: NUMBER OF LOGICAL BLOCKS in byte 13. */
    DEC(&c, 0x89, 0x08, 0, 0, 0, 0, 0, 0, 0x10, 0, 0xff, 0xff, 0xff, 0x01, 0, 0);
    expect(&c, "COMPARE AND WRITE", MUT, RNG, 0x1000, 1);
    assert_true(c.fua);
    DEC(&c, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0);
    expect(&c, "ORWRITE(16)", MUT, RNG, 1, 3);
    /* WRITE ATOMIC(16) / WRITE STREAM(16): length in bytes 12-13. */
    DEC(&c, 0x9c, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0xaa, 0xbb, 0x01, 0x02, 0, 0);
    expect(&c, "WRITE ATOMIC(16)", MUT, RNG, 7, 0x0102);
    DEC(&c, 0x9a, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0x00, 0x05, 0x00, 0x09, 0, 0);
    expect(&c, "WRITE STREAM(16)", MUT, RNG, 7, 9);
    /* SBC-3 XOR commands; XDWRITEREAD(10) is bidirectional. */
    DEC(&c, 0x53, 0, 0, 0, 0, 9, 0, 0, 1, 0);
    expect(&c, "XDWRITEREAD(10)", MUT, RNG, 9, 1);
    assert_int_equal(c.dir, SCSI_DIR_BIDI);
    DEC(&c, 0x50, 0, 0, 0, 0, 9, 0, 0, 1, 0);
    expect(&c, "XDWRITE(10)", MUT, RNG, 9, 1);
    DEC(&c, 0x51, 0, 0, 0, 0, 9, 0, 0, 1, 0);
    expect(&c, "XPWRITE(10)", MUT, RNG, 9, 1);
}

static void test_write_long(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    DEC(&c, 0x3f, 0x40, 0, 0, 0, 0x33, 0, 0, 0, 0);
    expect(&c, "WRITE LONG(10)", MUT, RNG, 0x33, 1);
    /* PBLOCK: the physical block, size unknown here: whole LUN. */
    DEC(&c, 0x3f, 0x20, 0, 0, 0, 0x33, 0, 0, 0, 0);
    assert_int_equal(c.scope, SCSI_SCOPE_LUN);
    DEC(&c, 0x9f, 0x11, 0, 0, 0, 0, 0, 0, 0, 0x44, 0, 0, 0, 0, 0, 0);
    expect(&c, "WRITE LONG(16)", MUT, RNG, 0x44, 1);
}

/* ---- UNMAP and whole-LUN mutations ----------------------------------------------- */

static void test_unmap_cdb(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    DEC(&c, 0x42, 0x01, 0, 0, 0, 0, 0, 0x00, 0x18, 0);
    assert_string_equal(c.name, "UNMAP");
    assert_int_equal(c.cls, SCSI_CLASS_MUTATE);
    assert_int_equal(c.scope, SCSI_SCOPE_PARAM);
    assert_int_equal(c.xfer_len, 24);
    assert_true(c.anchor && c.dealloc);
    assert_int_equal(c.dir, SCSI_DIR_OUT);
    assert_false(c.has_lba);
    DEC(&c, 0x42, 0x00, 0, 0, 0, 0, 0, 0, 0, 0);
    assert_int_equal(c.xfer_len, 0);
    assert_int_equal(c.dir, SCSI_DIR_NONE);
    assert_false(c.anchor);
}

static void test_whole_lun_mutations(void **state)
{
    static const uint8_t ops[][2] = {
        { 0x04, 0 }, { 0x07, 0 }, { 0x15, 0 }, { 0x55, 0 }, { 0x1d, 0 },
        { 0x3b, 0 }, { 0x48, 0x01 }, { 0x85, 0 }, { 0xa1, 0 }, { 0xb5, 0 },
        { 0x83, 0x00 }, { 0x83, 0x01 }, { 0x83, 0x10 }, { 0x83, 0x11 },
        { 0x83, 0x1c }, { 0x83, 0x05 }, { 0x84, 0x1f }, { 0x9e, 0x18 },
        { 0x9e, 0x19 }, { 0x9e, 0x1f }, { 0x9f, 0x12 }, { 0x9f, 0x00 },
        { 0xa3, 0x1f }, { 0xa4, 0x01 }, { 0xab, 0x02 },
        { 0x02, 0 }, { 0x2b, 0 }, { 0x94, 0 }, { 0xc0, 0 }, { 0xff, 0 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        uint8_t b[16] = { ops[i][0], ops[i][1] };
        struct scsi_cdb_info c;

        assert_int_equal(scsi_cdb_decode(b, sizeof(b), &c), 0);
        assert_int_equal(c.cls, SCSI_CLASS_MUTATE);
        assert_int_equal(c.scope, SCSI_SCOPE_LUN);
        assert_non_null(c.name);
    }
}

static void test_names_of_unknown(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    DEC(&c, 0xc5);
    assert_string_equal(c.name, "VENDOR SPECIFIC");
    assert_int_equal(c.dir, SCSI_DIR_UNKNOWN);
    DEC(&c, 0x02);
    assert_string_equal(c.name, "UNKNOWN");
    DEC(&c, 0x83, 0x00);
    assert_string_equal(c.name, "EXTENDED COPY(LID1)");
    assert_true(c.has_sa);
    DEC(&c, 0x9e, 0x1f);
    assert_string_equal(c.name, "SERVICE ACTION IN(16)");
    assert_int_equal(c.service_action, 0x1f);
}

/* ---- Harmless commands ------------------------------------------------------------ */

static void test_harmless(void **state)
{
    static const uint8_t ops[][2] = {
        { 0x00, 0 }, { 0x03, 0 }, { 0x12, 0 }, { 0x16, 0 }, { 0x17, 0 },
        { 0x1a, 0 }, { 0x1b, 0 }, { 0x1c, 0 }, { 0x1e, 0 }, { 0x25, 0 },
        { 0x2f, 0 }, { 0x34, 0 }, { 0x35, 0 }, { 0x37, 0 }, { 0x3c, 0 },
        { 0x3e, 0 }, { 0x4c, 0 }, { 0x4d, 0 }, { 0x52, 0 }, { 0x56, 0 },
        { 0x57, 0 }, { 0x5a, 0 }, { 0x5e, 0 }, { 0x5f, 0x01 }, { 0x8f, 0 },
        { 0x90, 0 }, { 0x91, 0 }, { 0x9b, 0 }, { 0xa0, 0 }, { 0xa2, 0 },
        { 0xaf, 0 }, { 0xb7, 0 },
        { 0x84, 0x00 }, { 0x84, 0x01 }, { 0x84, 0x03 }, { 0x84, 0x04 },
        { 0x84, 0x05 }, { 0x84, 0x06 }, { 0x84, 0x07 }, { 0x84, 0x08 },
        { 0x9e, 0x10 }, { 0x9e, 0x11 }, { 0x9e, 0x12 }, { 0x9e, 0x13 },
        { 0x9e, 0x14 }, { 0x9e, 0x15 }, { 0x9e, 0x16 }, { 0x9e, 0x17 },
        { 0xa3, 0x05 }, { 0xa3, 0x0a }, { 0xa3, 0x0b }, { 0xa3, 0x0c },
        { 0xa3, 0x0d }, { 0xa3, 0x0e }, { 0xa3, 0x0f },
        { 0xa4, 0x06 }, { 0xa4, 0x0a }, { 0xa4, 0x0f }, { 0xab, 0x01 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        uint8_t b[16] = { ops[i][0], ops[i][1] };
        struct scsi_cdb_info c;

        assert_int_equal(scsi_cdb_decode(b, sizeof(b), &c), 0);
        if (c.cls != SCSI_CLASS_HARMLESS)
            fail_msg("opcode %02x/%02x is %s", ops[i][0], ops[i][1], c.name);
        assert_int_equal(c.scope, SCSI_SCOPE_NONE);
        assert_false(scsi_cdb_mutation_extent(&c, 1000, &(uint64_t){0}, &(uint64_t){0}));
    }
}

static void test_harmless_fields(void **state)
{
    struct scsi_cdb_info c;
    (void)state;
    /* GET LBA STATUS(16): starting LBA and allocation length. */
    DEC(&c, 0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0x10, 0x08, 0, 0);
    expect(&c, "GET LBA STATUS(16)", OK, NONE, 0x1234, 0);
    assert_int_equal(c.xfer_len, 0x1008);
    assert_int_equal(c.dir, SCSI_DIR_IN);
    /* READ CAPACITY(16): allocation length. */
    DEC(&c, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0);
    assert_string_equal(c.name, "READ CAPACITY(16)");
    assert_int_equal(c.xfer_len, 32);
    assert_false(c.has_lba);
    /* VERIFY: BYTCHK selects Data-Out. */
    DEC(&c, 0x2f, 0x02, 0, 0, 0, 1, 0, 0, 1, 0);
    assert_int_equal(c.dir, SCSI_DIR_OUT);
    DEC(&c, 0x2f, 0x00, 0, 0, 0, 1, 0, 0, 1, 0);
    expect(&c, "VERIFY(10)", OK, NONE, 1, 1);
    assert_int_equal(c.dir, SCSI_DIR_NONE);
    /* SYNCHRONIZE CACHE(16): range decoded, still harmless. */
    DEC(&c, 0x91, 0x02, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0);
    expect(&c, "SYNCHRONIZE CACHE(16)", OK, NONE, 0x10, 0x20);
    /* READ(32) is passed through: harmless, not a plannable READ. */
    {
        uint8_t b[32] = { 0x7f, [7] = 0x18, [9] = 0x09, [10] = 0x20, [19] = 3, [31] = 1 };
        assert_int_equal(scsi_cdb_decode(b, 32, &c), 0);
        expect(&c, "READ(32)", OK, NONE, 3, 1);
        assert_int_equal(c.protect, 1);
    }
}

/* ---- Malformed input ------------------------------------------------------------- */

static void test_short_and_null(void **state)
{
    const uint8_t r10[10] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0 };
    const uint8_t ws16[2] = { 0x9e, 0x12 };
    struct scsi_cdb_info c;
    (void)state;

    assert_int_equal(scsi_cdb_decode(r10, 9, &c), -1);
    assert_string_equal(c.name, "READ(10)");
    assert_int_equal(c.opcode, 0x28);
    assert_int_equal(c.cls, SCSI_CLASS_MUTATE);
    assert_int_equal(c.scope, SCSI_SCOPE_LUN);
    assert_false(c.has_lba);
    assert_int_equal(scsi_cdb_decode(r10, 10, &c), 0);
    assert_int_equal(c.cls, SCSI_CLASS_READ);

    assert_int_equal(scsi_cdb_decode(ws16, 2, &c), -1);
    assert_string_equal(c.name, "GET LBA STATUS(16)");
    assert_int_equal(scsi_cdb_decode(r10, 0, &c), -1);
    assert_int_equal(c.scope, SCSI_SCOPE_LUN);
    assert_int_equal(scsi_cdb_decode(NULL, 16, &c), -1);
    assert_int_equal(scsi_cdb_decode(r10, 10, NULL), -1);
}

/* ---- Extents ---------------------------------------------------------------------- */

static void test_extent_clip(void **state)
{
    uint64_t n = 0;
    (void)state;
    assert_true(scsi_extent_clip(10, 5, 100, &n));
    assert_int_equal(n, 5);
    assert_true(scsi_extent_clip(98, 5, 100, &n));
    assert_int_equal(n, 2);
    assert_false(scsi_extent_clip(100, 5, 100, &n));
    assert_false(scsi_extent_clip(10, 0, 100, &n));
    assert_true(scsi_extent_clip(UINT64_MAX - 1, UINT64_MAX, UINT64_MAX, &n));
    assert_int_equal(n, 1);
}

static void test_mutation_extent(void **state)
{
    struct scsi_cdb_info c;
    uint64_t first = 0, count = 0;
    (void)state;

    DEC(&c, 0x2a, 0, 0, 0, 0, 90, 0, 0, 20, 0);          /* WRITE(10) 90+20 */
    assert_true(scsi_cdb_mutation_extent(&c, 100, &first, &count));
    assert_int_equal(first, 90);
    assert_int_equal(count, 10);
    assert_false(scsi_cdb_mutation_extent(&c, 90, &first, &count));
    assert_false(scsi_cdb_mutation_extent(&c, 0, &first, &count));

    DEC(&c, 0x2a, 0, 0, 0, 0, 1, 0, 0, 0, 0);            /* zero blocks */
    assert_false(scsi_cdb_mutation_extent(&c, 100, &first, &count));

    /* LBA near 2^64 with a large length: no overflow. */
    DEC(&c, 0x8a, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0,
        0xff, 0xff, 0xff, 0xff, 0, 0);
    assert_false(scsi_cdb_mutation_extent(&c, 100, &first, &count));
    assert_true(scsi_cdb_mutation_extent(&c, UINT64_MAX, &first, &count));
    assert_int_equal(first, UINT64_MAX - 15);
    assert_int_equal(count, 15);

    DEC(&c, 0x41, 0x08, 0, 0, 0, 40, 0, 0, 0, 0);        /* WRITE SAME to end */
    assert_true(scsi_cdb_mutation_extent(&c, 100, &first, &count));
    assert_int_equal(first, 40);
    assert_int_equal(count, 60);
    assert_false(scsi_cdb_mutation_extent(&c, 40, &first, &count));

    DEC(&c, 0x04);                                        /* FORMAT UNIT */
    assert_true(scsi_cdb_mutation_extent(&c, 100, &first, &count));
    assert_int_equal(first, 0);
    assert_int_equal(count, 100);

    DEC(&c, 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0);            /* UNMAP: whole LUN */
    assert_true(scsi_cdb_mutation_extent(&c, 100, &first, &count));
    assert_int_equal(count, 100);

    DEC(&c, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);             /* READ: nothing */
    assert_false(scsi_cdb_mutation_extent(&c, 100, &first, &count));
    assert_false(scsi_cdb_mutation_extent(NULL, 100, &first, &count));
}

static void test_class_names(void **state)
{
    (void)state;
    assert_string_equal(scsi_cdb_class_name(SCSI_CLASS_READ), "read");
    assert_string_equal(scsi_cdb_class_name(SCSI_CLASS_HARMLESS), "harmless");
    assert_string_equal(scsi_cdb_class_name(SCSI_CLASS_MUTATE), "mutate");
}

/* ---- UNMAP parameter list (SBC-5 5.35.2) --------------------------------------------- */

static void test_unmap_list(void **state)
{
    const uint8_t p[] = {
        0x00, 0x26, 0x00, 0x20, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0x10, 0x00,  0, 0, 0x01, 0x00,  0, 0, 0, 0,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  0, 0, 0, 0,  0, 0, 0, 0,
    };
    struct scsi_unmap_list l;
    struct scsi_unmap_desc d;
    (void)state;

    assert_int_equal(scsi_unmap_parse(p, sizeof(p), &l), 0);
    assert_int_equal(l.count, 2);
    assert_false(l.truncated);
    scsi_unmap_get(&l, 0, &d);
    assert_int_equal(d.lba, 0x1000);
    assert_int_equal(d.nblocks, 0x100);
    scsi_unmap_get(&l, 1, &d);
    assert_int_equal(d.lba, UINT64_MAX);
    assert_int_equal(d.nblocks, 0);
    scsi_unmap_get(&l, 2, &d);                     /* out of range: zeros */
    assert_int_equal(d.lba, 0);
    assert_int_equal(d.nblocks, 0);
}

static void test_unmap_list_malformed(void **state)
{
    uint8_t p[8 + 40] = { 0x00, 0x2e, 0x00, 0x28 };
    struct scsi_unmap_list l;
    (void)state;

    /* PARAMETER LIST LENGTH 0: nothing to unmap, not an error. */
    assert_int_equal(scsi_unmap_parse(NULL, 0, &l), 0);
    assert_int_equal(l.count, 0);
    /* 1..7 bytes: PARAMETER LIST LENGTH ERROR. */
    assert_int_equal(scsi_unmap_parse(p, 7, &l), -1);
    assert_int_equal(scsi_unmap_parse(p, 1, &l), -1);
    assert_int_equal(scsi_unmap_parse(NULL, 8, &l), -1);
    assert_int_equal(scsi_unmap_parse(p, 8, NULL), -1);
    /* Header only, BLOCK DESCRIPTOR DATA LENGTH 0. */
    p[3] = 0;
    assert_int_equal(scsi_unmap_parse(p, 8, &l), 0);
    assert_int_equal(l.count, 0);
    assert_false(l.truncated);
    /* 40 bytes of descriptors: the partial third one is ignored. */
    p[3] = 40;
    assert_int_equal(scsi_unmap_parse(p, sizeof(p), &l), 0);
    assert_int_equal(l.count, 2);
    assert_true(l.truncated);
    /* Claims more than arrived: bounded by the data. */
    p[2] = 0x01;
    assert_int_equal(scsi_unmap_parse(p, 8 + 33, &l), 0);
    assert_int_equal(l.count, 2);
    assert_true(l.truncated);
    assert_int_equal(scsi_unmap_parse(p, 8 + 15, &l), 0);
    assert_int_equal(l.count, 0);
    assert_null(l.desc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_code_lengths),
        cmocka_unit_test(test_variable_length),
        cmocka_unit_test(test_variable_length_commands),
        cmocka_unit_test(test_read6),
        cmocka_unit_test(test_read10_flags),
        cmocka_unit_test(test_read12_read16),
        cmocka_unit_test(test_write6_and_writes),
        cmocka_unit_test(test_write_and_verify),
        cmocka_unit_test(test_write_same),
        cmocka_unit_test(test_write_same32),
        cmocka_unit_test(test_other_range_writes),
        cmocka_unit_test(test_write_long),
        cmocka_unit_test(test_unmap_cdb),
        cmocka_unit_test(test_whole_lun_mutations),
        cmocka_unit_test(test_names_of_unknown),
        cmocka_unit_test(test_harmless),
        cmocka_unit_test(test_harmless_fields),
        cmocka_unit_test(test_short_and_null),
        cmocka_unit_test(test_extent_clip),
        cmocka_unit_test(test_mutation_extent),
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_unmap_list),
        cmocka_unit_test(test_unmap_list_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
