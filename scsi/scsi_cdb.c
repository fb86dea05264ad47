/*
 * CDB decoding: one table of the commands the proxy knows, with how each one's
 * fields are laid out and whether it can change logical block data.  Anything
 * not in the table may change anything: a command the proxy does not know
 * to be harmless invalidates the whole LUN (docs/ARCHITECTURE.md, "A WRITE
 * (and every other mutation)").
 *
 * Section numbers are SBC-5 / SPC-5; the SBC-4 r22 numbering matches where
 * checked (READ CAPACITY (16) is 5.21 in both).  Commands removed from SBC-4
 * (XDWRITE, XPWRITE, XDREAD, XDWRITEREAD) cite SBC-3.
 */
#include "scsi_cdb.h"

#include <string.h>

#include "scsi_bytes.h"

/* Where the LBA and length live (named after the CDB families in SBC-5). */
enum layout {
    L_NONE = 0,
    L_6,        /* READ(6)/WRITE(6): LBA bytes 1-3 (21 bits), length byte 4 */
    L_10,       /* flags 1, LBA 2-5, length 7-8 (READ (10), SBC-5 5.16) */
    L_12,       /* flags 1, LBA 2-5, length 6-9 */
    L_16,       /* flags 1, LBA 2-9, length 10-13 */
    L_16S,      /* flags 1, LBA 2-9, length 12-13 (WRITE ATOMIC (16) 5.48,
                   WRITE STREAM (16) 5.57) */
    L_CAW,      /* flags 1, LBA 2-9, length byte 13 (COMPARE AND WRITE 5.3) */
    L_32,       /* flags 10, LBA 12-19, length 28-31 (WRITE (32) 5.43) */
    L_WL10,     /* WRITE LONG (10) 5.50: LBA 2-5, one block */
    L_WL16,     /* WRITE LONG (16): LBA 2-9, one block */
    L_GLS,      /* GET LBA STATUS (16) 5.6: LBA 2-9, allocation length 10-13 */
    L_RC16,     /* READ CAPACITY (16) 5.21: allocation length 10-13 */
    L_UNMAP,    /* UNMAP 5.35.1: ANCHOR byte 1 bit 0, parameter list length 7-8 */
};

/* Which bits of the flag byte the command defines. */
#define F_PROT    0x01   /* bits 7-5: RDPROTECT / WRPROTECT / VRPROTECT / ORPROTECT */
#define F_DPO     0x02   /* bit 4 */
#define F_FUA     0x04   /* bit 3 */
#define F_WS      0x08   /* WRITE SAME: ANCHOR bit 4, UNMAP bit 3, 0 blocks = to end */
#define F_NDOB    0x10   /* WRITE SAME (16/32): NDOB bit 0, no Data-Out */
#define F_256     0x20   /* READ(6)/WRITE(6): length 0 means 256 blocks */
#define F_BYTCHK  0x40   /* VERIFY: BYTCHK bits 2-1 nonzero = Data-Out */
#define F_RW      (F_PROT | F_DPO | F_FUA)

#define SA_NONE   (-1)   /* opcode without service action, or any service action */

#define MUT  SCSI_CLASS_MUTATE
#define RD   SCSI_CLASS_READ
#define OK   SCSI_CLASS_HARMLESS
#define RNG  SCSI_SCOPE_RANGE
#define LUN  SCSI_SCOPE_LUN
#define PRM  SCSI_SCOPE_PARAM
#define NOS  SCSI_SCOPE_NONE
#define DN   SCSI_DIR_NONE
#define DI   SCSI_DIR_IN
#define DO   SCSI_DIR_OUT
#define DB   SCSI_DIR_BIDI
#define DU   SCSI_DIR_UNKNOWN

struct cdb_entry {
    uint8_t  op;
    int32_t  sa;
    const char *name;
    uint8_t  cls, scope, dir, layout, flags;
};

/* For each opcode with service actions, the specific entries come first and
 * an SA_NONE entry last catches the rest (always MUTATE/LUN). */
static const struct cdb_entry cdb_table[] = {
    /* SPC-5 / SBC-5 commands that cannot change logical block data. */
    { 0x00, SA_NONE, "TEST UNIT READY",          OK, NOS, DN, L_NONE, 0 },
    { 0x03, SA_NONE, "REQUEST SENSE",            OK, NOS, DI, L_NONE, 0 },
    { 0x12, SA_NONE, "INQUIRY",                  OK, NOS, DI, L_NONE, 0 },
    { 0x16, SA_NONE, "RESERVE(6)",               OK, NOS, DN, L_NONE, 0 },
    { 0x17, SA_NONE, "RELEASE(6)",               OK, NOS, DN, L_NONE, 0 },
    { 0x1a, SA_NONE, "MODE SENSE(6)",            OK, NOS, DI, L_NONE, 0 },
    { 0x1b, SA_NONE, "START STOP UNIT",          OK, NOS, DN, L_NONE, 0 },
    { 0x1c, SA_NONE, "RECEIVE DIAGNOSTIC RESULTS", OK, NOS, DI, L_NONE, 0 },
    { 0x1e, SA_NONE, "PREVENT ALLOW MEDIUM REMOVAL", OK, NOS, DN, L_NONE, 0 },
    { 0x25, SA_NONE, "READ CAPACITY(10)",        OK, NOS, DI, L_NONE, 0 },
    { 0x2f, SA_NONE, "VERIFY(10)",               OK, NOS, DN, L_10, F_PROT | F_DPO | F_BYTCHK },
    { 0x34, SA_NONE, "PRE-FETCH(10)",            OK, NOS, DN, L_10, 0 },
    { 0x35, SA_NONE, "SYNCHRONIZE CACHE(10)",    OK, NOS, DN, L_10, 0 },
    { 0x37, SA_NONE, "READ DEFECT DATA(10)",     OK, NOS, DI, L_NONE, 0 },
    { 0x3c, SA_NONE, "READ BUFFER(10)",          OK, NOS, DI, L_NONE, 0 },
    { 0x3e, SA_NONE, "READ LONG(10)",            OK, NOS, DI, L_NONE, 0 },
    { 0x4c, SA_NONE, "LOG SELECT",               OK, NOS, DO, L_NONE, 0 },
    { 0x4d, SA_NONE, "LOG SENSE",                OK, NOS, DI, L_NONE, 0 },
    { 0x52, SA_NONE, "XDREAD(10)",               OK, NOS, DI, L_NONE, 0 },  /* SBC-3 */
    { 0x56, SA_NONE, "RESERVE(10)",              OK, NOS, DN, L_NONE, 0 },
    { 0x57, SA_NONE, "RELEASE(10)",              OK, NOS, DN, L_NONE, 0 },
    { 0x5a, SA_NONE, "MODE SENSE(10)",           OK, NOS, DI, L_NONE, 0 },
    { 0x5e, SA_NONE, "PERSISTENT RESERVE IN",    OK, NOS, DI, L_NONE, 0 },
    /* Reservations change who may write, not what is written. */
    { 0x5f, SA_NONE, "PERSISTENT RESERVE OUT",   OK, NOS, DO, L_NONE, 0 },
    { 0x8f, SA_NONE, "VERIFY(16)",               OK, NOS, DN, L_16, F_PROT | F_DPO | F_BYTCHK },
    { 0x90, SA_NONE, "PRE-FETCH(16)",            OK, NOS, DN, L_16, 0 },
    { 0x91, SA_NONE, "SYNCHRONIZE CACHE(16)",    OK, NOS, DN, L_16, 0 },
    { 0x9b, SA_NONE, "READ BUFFER(16)",          OK, NOS, DI, L_NONE, 0 },
    { 0xa0, SA_NONE, "REPORT LUNS",              OK, NOS, DI, L_NONE, 0 },
    { 0xa2, SA_NONE, "SECURITY PROTOCOL IN",     OK, NOS, DI, L_NONE, 0 },
    { 0xaf, SA_NONE, "VERIFY(12)",               OK, NOS, DN, L_12, F_PROT | F_DPO | F_BYTCHK },
    { 0xb7, SA_NONE, "READ DEFECT DATA(12)",     OK, NOS, DI, L_NONE, 0 },

    /* READ (10) SBC-5 5.16 and its 12/16-byte forms; READ (6) from SBC-3.
     * READ (32) (below) needs type 2 protection: passed through, never
     * zero-served. */
    { 0x08, SA_NONE, "READ(6)",                  RD, NOS, DI, L_6, F_256 },
    { 0x28, SA_NONE, "READ(10)",                 RD, NOS, DI, L_10, F_RW },
    { 0xa8, SA_NONE, "READ(12)",                 RD, NOS, DI, L_12, F_RW },
    { 0x88, SA_NONE, "READ(16)",                 RD, NOS, DI, L_16, F_RW },

    /* Commands that write the blocks they address. */
    { 0x0a, SA_NONE, "WRITE(6)",                 MUT, RNG, DO, L_6, F_256 },
    { 0x2a, SA_NONE, "WRITE(10)",                MUT, RNG, DO, L_10, F_RW },
    { 0xaa, SA_NONE, "WRITE(12)",                MUT, RNG, DO, L_12, F_RW },
    { 0x8a, SA_NONE, "WRITE(16)",                MUT, RNG, DO, L_16, F_RW },
    { 0x2e, SA_NONE, "WRITE AND VERIFY(10)",     MUT, RNG, DO, L_10, F_PROT | F_DPO },
    { 0xae, SA_NONE, "WRITE AND VERIFY(12)",     MUT, RNG, DO, L_12, F_PROT | F_DPO },
    { 0x8e, SA_NONE, "WRITE AND VERIFY(16)",     MUT, RNG, DO, L_16, F_PROT | F_DPO },
    { 0x41, SA_NONE, "WRITE SAME(10)",           MUT, RNG, DO, L_10, F_PROT | F_WS },
    { 0x93, SA_NONE, "WRITE SAME(16)",           MUT, RNG, DO, L_16, F_PROT | F_WS | F_NDOB },
    { 0x89, SA_NONE, "COMPARE AND WRITE",        MUT, RNG, DO, L_CAW, F_RW },
    { 0x8b, SA_NONE, "ORWRITE(16)",              MUT, RNG, DO, L_16, F_RW },
    { 0x9a, SA_NONE, "WRITE STREAM(16)",         MUT, RNG, DO, L_16S, F_RW },
    { 0x9c, SA_NONE, "WRITE ATOMIC(16)",         MUT, RNG, DO, L_16S, F_RW },
    { 0x50, SA_NONE, "XDWRITE(10)",              MUT, RNG, DO, L_10, F_RW },  /* SBC-3 */
    { 0x51, SA_NONE, "XPWRITE(10)",              MUT, RNG, DO, L_10, F_RW },  /* SBC-3 */
    { 0x53, SA_NONE, "XDWRITEREAD(10)",          MUT, RNG, DB, L_10, F_RW },  /* SBC-3 */
    { 0x3f, SA_NONE, "WRITE LONG(10)",           MUT, RNG, DN, L_WL10, 0 },
    { 0x42, SA_NONE, "UNMAP",                    MUT, PRM, DO, L_UNMAP, 0 },

    /* Commands whose extent is unknown or the whole medium. */
    { 0x04, SA_NONE, "FORMAT UNIT",              MUT, LUN, DO, L_NONE, 0 },
    { 0x07, SA_NONE, "REASSIGN BLOCKS",          MUT, LUN, DO, L_NONE, 0 },
    /* MODE SELECT may change the capacity (NUMBER OF LOGICAL BLOCKS in the
     * SBC-5 mode parameter block descriptor), with a unit attention for the
     * other I_T nexuses only. */
    { 0x15, SA_NONE, "MODE SELECT(6)",           MUT, LUN, DO, L_NONE, 0 },
    { 0x55, SA_NONE, "MODE SELECT(10)",          MUT, LUN, DO, L_NONE, 0 },
    { 0x1d, SA_NONE, "SEND DIAGNOSTIC",          MUT, LUN, DO, L_NONE, 0 },
    { 0x3b, SA_NONE, "WRITE BUFFER",             MUT, LUN, DO, L_NONE, 0 },
    { 0x48, SA_NONE, "SANITIZE",                 MUT, LUN, DO, L_NONE, 0 },
    { 0x85, SA_NONE, "ATA PASS-THROUGH(16)",     MUT, LUN, DU, L_NONE, 0 },
    { 0xa1, SA_NONE, "ATA PASS-THROUGH(12)",     MUT, LUN, DU, L_NONE, 0 },
    { 0xb5, SA_NONE, "SECURITY PROTOCOL OUT",    MUT, LUN, DO, L_NONE, 0 },

    /* THIRD-PARTY COPY OUT (SPC-5): every service action may write. */
    { 0x83, 0x00, "EXTENDED COPY(LID1)",         MUT, LUN, DO, L_NONE, 0 },
    { 0x83, 0x01, "EXTENDED COPY(LID4)",         MUT, LUN, DO, L_NONE, 0 },
    { 0x83, 0x10, "POPULATE TOKEN",              MUT, LUN, DO, L_NONE, 0 },
    { 0x83, 0x11, "WRITE USING TOKEN",           MUT, LUN, DO, L_NONE, 0 },
    { 0x83, 0x1c, "COPY OPERATION ABORT",        MUT, LUN, DN, L_NONE, 0 },
    { 0x83, SA_NONE, "THIRD-PARTY COPY OUT",     MUT, LUN, DU, L_NONE, 0 },

    /* THIRD-PARTY COPY IN (SPC-5): reports only. */
    { 0x84, 0x00, "RECEIVE COPY STATUS(LID1)",   OK, NOS, DI, L_NONE, 0 },
    { 0x84, 0x01, "RECEIVE COPY DATA(LID1)",     OK, NOS, DI, L_NONE, 0 },
    { 0x84, 0x03, "RECEIVE COPY OPERATING PARAMETERS", OK, NOS, DI, L_NONE, 0 },
    { 0x84, 0x04, "RECEIVE COPY FAILURE DETAILS(LID1)", OK, NOS, DI, L_NONE, 0 },
    { 0x84, 0x05, "RECEIVE COPY STATUS(LID4)",   OK, NOS, DI, L_NONE, 0 },
    { 0x84, 0x06, "RECEIVE COPY DATA(LID4)",     OK, NOS, DI, L_NONE, 0 },
    { 0x84, 0x07, "RECEIVE ROD TOKEN INFORMATION", OK, NOS, DI, L_NONE, 0 },
    { 0x84, 0x08, "REPORT ALL ROD TOKENS",       OK, NOS, DI, L_NONE, 0 },
    { 0x84, SA_NONE, "THIRD-PARTY COPY IN",      MUT, LUN, DU, L_NONE, 0 },

    /* SERVICE ACTION IN (16) (SBC-5 A.2). */
    { 0x9e, 0x10, "READ CAPACITY(16)",           OK, NOS, DI, L_RC16, 0 },
    { 0x9e, 0x11, "READ LONG(16)",               OK, NOS, DI, L_NONE, 0 },
    { 0x9e, 0x12, "GET LBA STATUS(16)",          OK, NOS, DI, L_GLS, 0 },
    { 0x9e, 0x13, "REPORT REFERRALS",            OK, NOS, DI, L_NONE, 0 },
    { 0x9e, 0x14, "STREAM CONTROL",              OK, NOS, DI, L_NONE, 0 },
    { 0x9e, 0x15, "BACKGROUND CONTROL",          OK, NOS, DN, L_NONE, 0 },
    { 0x9e, 0x16, "GET STREAM STATUS",           OK, NOS, DI, L_NONE, 0 },
    { 0x9e, 0x17, "GET PHYSICAL ELEMENT STATUS", OK, NOS, DI, L_NONE, 0 },
    { 0x9e, 0x18, "REMOVE ELEMENT AND TRUNCATE", MUT, LUN, DN, L_NONE, 0 },
    { 0x9e, 0x19, "RESTORE ELEMENTS AND REBUILD", MUT, LUN, DN, L_NONE, 0 },
    { 0x9e, SA_NONE, "SERVICE ACTION IN(16)",    MUT, LUN, DU, L_NONE, 0 },

    /* SERVICE ACTION OUT (16). */
    { 0x9f, 0x11, "WRITE LONG(16)",              MUT, RNG, DN, L_WL16, 0 },
    { 0x9f, 0x12, "WRITE SCATTERED(16)",         MUT, LUN, DO, L_NONE, 0 },
    { 0x9f, SA_NONE, "SERVICE ACTION OUT(16)",   MUT, LUN, DU, L_NONE, 0 },

    /* MAINTENANCE IN / OUT (SPC-5 REPORT ... / SET ... commands). */
    { 0xa3, 0x05, "REPORT IDENTIFYING INFORMATION", OK, NOS, DI, L_NONE, 0 },
    { 0xa3, 0x0a, "REPORT TARGET PORT GROUPS",   OK, NOS, DI, L_NONE, 0 },
    { 0xa3, 0x0b, "REPORT ALIASES",              OK, NOS, DI, L_NONE, 0 },
    { 0xa3, 0x0c, "REPORT SUPPORTED OPERATION CODES", OK, NOS, DI, L_NONE, 0 },
    { 0xa3, 0x0d, "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS", OK, NOS, DI, L_NONE, 0 },
    { 0xa3, 0x0e, "REPORT PRIORITY",             OK, NOS, DI, L_NONE, 0 },
    { 0xa3, 0x0f, "REPORT TIMESTAMP",            OK, NOS, DI, L_NONE, 0 },
    { 0xa3, SA_NONE, "MAINTENANCE IN",           MUT, LUN, DU, L_NONE, 0 },
    { 0xa4, 0x06, "SET IDENTIFYING INFORMATION", OK, NOS, DO, L_NONE, 0 },
    { 0xa4, 0x0a, "SET TARGET PORT GROUPS",      OK, NOS, DO, L_NONE, 0 },
    { 0xa4, 0x0f, "SET TIMESTAMP",               OK, NOS, DO, L_NONE, 0 },
    { 0xa4, SA_NONE, "MAINTENANCE OUT",          MUT, LUN, DU, L_NONE, 0 },

    /* SERVICE ACTION IN (12). */
    { 0xab, 0x01, "READ MEDIA SERIAL NUMBER",    OK, NOS, DI, L_NONE, 0 },
    { 0xab, SA_NONE, "SERVICE ACTION IN(12)",    MUT, LUN, DU, L_NONE, 0 },

    /* Variable length CDBs (SPC-5 4.2), 32 bytes, ADDITIONAL CDB LENGTH 18h. */
    { 0x7f, 0x0004, "XDWRITE(32)",               MUT, LUN, DO, L_NONE, 0 },  /* SBC-3 */
    { 0x7f, 0x0006, "XPWRITE(32)",               MUT, LUN, DO, L_NONE, 0 },  /* SBC-3 */
    { 0x7f, 0x0007, "XDWRITEREAD(32)",           MUT, LUN, DB, L_NONE, 0 },  /* SBC-3 */
    { 0x7f, 0x0009, "READ(32)",                  OK, NOS, DI, L_32, F_RW },
    { 0x7f, 0x000a, "VERIFY(32)",                OK, NOS, DN, L_32, F_PROT | F_DPO | F_BYTCHK },
    { 0x7f, 0x000b, "WRITE(32)",                 MUT, RNG, DO, L_32, F_RW },
    { 0x7f, 0x000c, "WRITE AND VERIFY(32)",      MUT, RNG, DO, L_32, F_PROT | F_DPO },
    { 0x7f, 0x000d, "WRITE SAME(32)",            MUT, RNG, DO, L_32, F_PROT | F_WS | F_NDOB },
    { 0x7f, 0x000e, "ORWRITE(32)",               MUT, RNG, DO, L_32, F_RW },
    { 0x7f, 0x000f, "WRITE ATOMIC(32)",          MUT, RNG, DO, L_32, F_RW },
    { 0x7f, 0x0010, "WRITE STREAM(32)",          MUT, RNG, DO, L_32, F_RW },
    { 0x7f, 0x0011, "WRITE SCATTERED(32)",       MUT, LUN, DO, L_NONE, 0 },
    { 0x7f, 0x0012, "GET LBA STATUS(32)",        OK, NOS, DI, L_NONE, 0 },
    { 0x7f, SA_NONE, "VARIABLE LENGTH",          MUT, LUN, DU, L_NONE, 0 },
};

#define CDB_TABLE_N (sizeof(cdb_table) / sizeof(cdb_table[0]))

/* Opcodes whose byte 1 bits 4-0 hold a SERVICE ACTION (SPC-5 4.2.5). */
static bool has_sa5(uint8_t op)
{
    switch (op) {
    case 0x48: case 0x5e: case 0x5f: case 0x83: case 0x84: case 0x9e:
    case 0x9f: case 0xa3: case 0xa4: case 0xab:
        return true;
    default:
        return false;
    }
}

/* SPC-5 4.2.5.1: the GROUP CODE (bits 7-5 of the opcode) gives the CDB
 * length, except group 3 (7Fh: variable length; others reserved) and the
 * vendor specific groups 6 and 7. */
static uint16_t group_len(uint8_t op)
{
    switch (op >> 5) {
    case 0: return 6;
    case 1: case 2: return 10;
    case 4: return 16;
    case 5: return 12;
    default: return 0;
    }
}

static const struct cdb_entry *lookup(uint8_t op, bool has_sa, uint16_t sa)
{
    for (size_t i = 0; i < CDB_TABLE_N; i++) {
        const struct cdb_entry *e = &cdb_table[i];

        if (e->op != op)
            continue;
        if (e->sa == SA_NONE || (has_sa && (uint16_t)e->sa == sa))
            return e;
    }
    return NULL;
}

static void fail_safe(struct scsi_cdb_info *out)
{
    out->cls = SCSI_CLASS_MUTATE;
    out->scope = SCSI_SCOPE_LUN;
    out->dir = SCSI_DIR_UNKNOWN;
}

/* Fill lba / nblocks / flags from the fields of layout lay.  The caller has
 * checked that len covers cdb_len, which covers every offset used here. */
static void decode_fields(const uint8_t *cdb, const struct cdb_entry *e, struct scsi_cdb_info *out)
{
    uint8_t fb = 0;

    out->has_lba = true;
    switch (e->layout) {
    case L_6:
        out->lba = scsi_get_be24(cdb + 1) & 0x1fffff;
        out->nblocks = cdb[4];
        if ((e->flags & F_256) && out->nblocks == 0)
            out->nblocks = 256;            /* SBC-3 READ (6) / WRITE (6) */
        break;
    case L_10:
        fb = cdb[1];
        out->lba = scsi_get_be32(cdb + 2);
        out->nblocks = scsi_get_be16(cdb + 7);
        break;
    case L_12:
        fb = cdb[1];
        out->lba = scsi_get_be32(cdb + 2);
        out->nblocks = scsi_get_be32(cdb + 6);
        break;
    case L_16:
        fb = cdb[1];
        out->lba = scsi_get_be64(cdb + 2);
        out->nblocks = scsi_get_be32(cdb + 10);
        break;
    case L_16S:
        fb = cdb[1];
        out->lba = scsi_get_be64(cdb + 2);
        out->nblocks = scsi_get_be16(cdb + 12);
        break;
    case L_CAW:
        fb = cdb[1];
        out->lba = scsi_get_be64(cdb + 2);
        out->nblocks = cdb[13];
        break;
    case L_32:
        fb = cdb[10];
        out->lba = scsi_get_be64(cdb + 12);
        out->nblocks = scsi_get_be32(cdb + 28);
        break;
    case L_WL10:
    case L_WL16:
        fb = cdb[1];
        out->lba = e->layout == L_WL10 ? scsi_get_be32(cdb + 2) : scsi_get_be64(cdb + 2);
        out->nblocks = 1;
        /* PBLOCK (bit 5, SBC-3 WRITE LONG): the whole physical block, whose
         * size the decoder does not know. */
        if (fb & 0x20)
            out->scope = SCSI_SCOPE_LUN;
        break;
    case L_GLS:
        out->lba = scsi_get_be64(cdb + 2);
        out->xfer_len = scsi_get_be32(cdb + 10);
        break;
    case L_RC16:
        out->has_lba = false;
        out->xfer_len = scsi_get_be32(cdb + 10);
        break;
    case L_UNMAP:
        out->has_lba = false;
        out->anchor = cdb[1] & 0x01;
        out->dealloc = true;
        out->xfer_len = scsi_get_be16(cdb + 7);
        if (out->xfer_len == 0)
            out->dir = SCSI_DIR_NONE;      /* 5.35.1: no data transferred */
        break;
    default:
        out->has_lba = false;
        break;
    }

    if (e->flags & F_PROT)
        out->protect = fb >> 5;
    if (e->flags & F_DPO)
        out->dpo = (fb & 0x10) != 0;
    if (e->flags & F_FUA)
        out->fua = (fb & 0x08) != 0;
    if (e->flags & F_BYTCHK)
        out->dir = (fb & 0x06) ? SCSI_DIR_OUT : SCSI_DIR_NONE;
    if (e->flags & F_WS) {
        /* WRITE SAME (10) 5.52: ANCHOR bit 4, UNMAP bit 3; NUMBER OF LOGICAL
         * BLOCKS 0 with WSNZ=0 means through the last block on the medium. */
        out->anchor = (fb & 0x10) != 0;
        out->unmap = (fb & 0x08) != 0;
        out->dealloc = out->unmap;
        if (out->nblocks == 0)
            out->scope = SCSI_SCOPE_TO_END;
    }
    if ((e->flags & F_NDOB) && (fb & 0x01)) {
        out->ndob = true;                  /* WRITE SAME (16) 5.53 */
        out->dir = SCSI_DIR_NONE;
    }
}

int scsi_cdb_decode(const uint8_t *cdb, size_t len, struct scsi_cdb_info *out)
{
    const struct cdb_entry *e;
    uint8_t op;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    out->name = "EMPTY CDB";
    fail_safe(out);
    if (cdb == NULL || len < 1)
        return -1;

    op = cdb[0];
    out->opcode = op;
    out->cdb_len = group_len(op);
    /* The service action, when present in what arrived, names the command
     * even if the CDB turns out short. */
    if (op == 0x7f && len >= 10) {
        out->has_sa = true;        /* SPC-5 4.2 variable length: bytes 8-9 */
        out->service_action = scsi_get_be16(cdb + 8);
    } else if (has_sa5(op) && len >= 2) {
        out->has_sa = true;
        out->service_action = cdb[1] & 0x1f;
    }
    e = lookup(op, out->has_sa, out->service_action);
    if (e != NULL)
        out->name = e->name;
    else
        out->name = (op >> 5) >= 6 ? "VENDOR SPECIFIC" : "UNKNOWN";

    if (op == 0x7f) {
        /* Length 8 + ADDITIONAL CDB LENGTH (byte 7): must hold the SA, and
         * ADDITIONAL CDB LENGTH is at most 252 (a 260-byte CDB). */
        if (len < 8)
            return -1;
        out->cdb_len = (uint16_t)(8 + cdb[7]);
        if (out->cdb_len < 10 || out->cdb_len > SCSI_CDB_LEN_MAX)
            return -1;
    }
    if (len < out->cdb_len)
        return -1;
    if (e == NULL)
        return 0;                          /* unknown: MUTATE / LUN */
    if (e->layout == L_32 && cdb[7] != 0x18)
        return -1;                         /* not the 32-byte form */
    out->cls = e->cls;
    out->scope = e->scope;
    out->dir = e->dir;
    decode_fields(cdb, e, out);
    return 0;
}

bool scsi_extent_clip(uint64_t lba, uint64_t nblocks, uint64_t lun_blocks, uint64_t *count)
{
    if (nblocks == 0 || lba >= lun_blocks)
        return false;
    *count = nblocks < lun_blocks - lba ? nblocks : lun_blocks - lba;
    return true;
}

bool scsi_cdb_mutation_extent(const struct scsi_cdb_info *c, uint64_t lun_blocks,
                              uint64_t *first, uint64_t *count)
{
    if (c == NULL || c->cls != SCSI_CLASS_MUTATE || lun_blocks == 0)
        return false;
    switch (c->scope) {
    case SCSI_SCOPE_RANGE:
        if (!scsi_extent_clip(c->lba, c->nblocks, lun_blocks, count))
            return false;
        *first = c->lba;
        return true;
    case SCSI_SCOPE_TO_END:
        if (c->lba >= lun_blocks)
            return false;
        *first = c->lba;
        *count = lun_blocks - c->lba;
        return true;
    default:                               /* LUN, PARAM, or inconsistent */
        *first = 0;
        *count = lun_blocks;
        return true;
    }
}

const char *scsi_cdb_class_name(enum scsi_cdb_class cls)
{
    switch (cls) {
    case SCSI_CLASS_READ: return "read";
    case SCSI_CLASS_HARMLESS: return "harmless";
    case SCSI_CLASS_MUTATE: return "mutate";
    }
    return "?";
}

int scsi_unmap_parse(const uint8_t *buf, size_t len, struct scsi_unmap_list *out)
{
    size_t bdl, avail;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return 0;                          /* 5.35.1: nothing transferred */
    if (buf == NULL || len < SCSI_UNMAP_HDR_LEN)
        return -1;                         /* PARAMETER LIST LENGTH ERROR */
    /* 5.35.2: descriptors are bounded by UNMAP BLOCK DESCRIPTOR DATA LENGTH
     * and by the data transferred; a partial last descriptor is ignored.
     * UNMAP DATA LENGTH (bytes 0-1) is not needed to find them. */
    bdl = scsi_get_be16(buf + 2);
    avail = len - SCSI_UNMAP_HDR_LEN;
    if (bdl > avail) {
        out->truncated = true;
        bdl = avail;
    }
    if (bdl % SCSI_UNMAP_DESC_LEN)
        out->truncated = true;
    out->count = bdl / SCSI_UNMAP_DESC_LEN;
    out->desc = out->count ? buf + SCSI_UNMAP_HDR_LEN : NULL;
    return 0;
}

void scsi_unmap_get(const struct scsi_unmap_list *list, size_t i, struct scsi_unmap_desc *d)
{
    const uint8_t *p;

    memset(d, 0, sizeof(*d));
    if (list == NULL || i >= list->count)
        return;
    /* Table 122: LBA 0-7, NUMBER OF LOGICAL BLOCKS 8-11, reserved 12-15. */
    p = list->desc + i * SCSI_UNMAP_DESC_LEN;
    d->lba = scsi_get_be64(p);
    d->nblocks = scsi_get_be32(p + 8);
}

size_t scsi_read16_build(uint8_t *cdb, size_t cap, uint64_t lba, uint32_t blocks, bool dpo,
                         bool fua)
{
    if (cap < 16)
        return 0;
    memset(cdb, 0, 16);
    cdb[0] = 0x88;                                  /* READ(16) */
    cdb[1] = (uint8_t)((dpo ? 0x10 : 0) | (fua ? 0x08 : 0));
    scsi_put_be64(cdb + 2, lba);
    scsi_put_be32(cdb + 10, blocks);
    return 16;
}
