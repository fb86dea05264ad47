/*
 * libFuzzer target for scsi/scsi_copy.c: THIRD-PARTY COPY OUT parameter data
 * from initiators and THIRD-PARTY COPY IN answers from backends are
 * untrusted.  Input: 1 byte CDB length (mod 33), the CDB, then the parameter
 * data (for scsi_copy_classify) which is also the Data-In (for
 * scsi_copy_status_parse).  The CDB is copied into a buffer of exactly its
 * length so ASan sees any read past it.
 *
 * Checked on every input, re-deriving the answer from the raw bytes where
 * it matters to the cache: a copy is never said to end with its status
 * unless the bytes the copy manager reads say IMMED=0 (or the command has no
 * IMMED bit); every list identifier comes from where SPC-5 puts it; errors
 * are fail-safe; an answer says "ended" only for an ended status value of a
 * status command, with the status byte inside the data and the allocation
 * length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_copy.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Bytes of parameter data the copy manager reads: what arrived, at most the
 * PARAMETER LIST LENGTH (CDB bytes 10-13). */
static size_t readable(const uint8_t *cdb, size_t len)
{
    uint32_t pll = be32(cdb + 10);

    return len < pll ? len : pll;
}

static void check_classify(const uint8_t *cdb, size_t cdb_len, const uint8_t *p, size_t len)
{
    struct scsi_copy_info ci;
    int rc = scsi_copy_classify(cdb, cdb_len, p, len, &ci);
    uint8_t sa;
    size_t avail;

    CHECK(rc == 0 || rc == -1);
    if (cdb_len == 0) {
        CHECK(rc == -1 && ci.is_copy && ci.may_run_after_status);
        return;
    }
    if (cdb[0] != 0x83) {
        CHECK(rc == 0);
        CHECK(!ci.is_copy && !ci.may_run_after_status && !ci.has_list_id && !ci.aborts);
        return;
    }
    CHECK(ci.is_copy);
    if (rc != 0)
        CHECK(ci.may_run_after_status && !ci.aborts);   /* fail-safe */
    if (cdb_len < 16) {
        CHECK(rc == -1 && !ci.has_list_id);
        return;
    }
    sa = cdb[1] & 0x1f;
    CHECK(ci.service_action == sa);
    avail = readable(cdb, len);

    switch (sa) {
    case 0x00:          /* EXTENDED COPY(LID1): no IMMED bit */
        if (!ci.may_run_after_status)
            CHECK(avail >= 16);
        if (ci.has_list_id)
            CHECK(rc == 0 && !ci.lid4 && ci.list_id == p[0]);
        break;
    case 0x01:          /* EXTENDED COPY(LID4): IMMED in byte 15 */
        if (!ci.may_run_after_status)
            CHECK(avail >= 48 && (p[15] & 0x01) == 0);
        if (avail >= 16 && (p[15] & 0x01))
            CHECK(ci.may_run_after_status);
        if (ci.has_list_id)
            CHECK(rc == 0 && ci.lid4 && ci.list_id == be32(p + 20));
        break;
    case 0x10:          /* POPULATE TOKEN / WRITE USING TOKEN: IMMED in byte 2 */
    case 0x11:
        if (!ci.may_run_after_status)
            CHECK(avail >= (sa == 0x10 ? 16u : 536u) && (p[2] & 0x01) == 0);
        if (avail >= 3 && (p[2] & 0x01))
            CHECK(ci.may_run_after_status);
        CHECK(ci.has_list_id && ci.lid4 && ci.list_id == be32(cdb + 6));
        break;
    case 0x1c:          /* COPY OPERATION ABORT */
        CHECK(rc == 0 && ci.aborts && !ci.may_run_after_status);
        CHECK(ci.has_list_id && ci.lid4 && ci.list_id == be32(cdb + 2));
        break;
    default:            /* unknown service action */
        CHECK(rc == -1 && !ci.has_list_id);
        break;
    }
    if (sa != 0x1c)
        CHECK(!ci.aborts);
}

static void check_status(const uint8_t *cdb, size_t cdb_len, const uint8_t *d, size_t len)
{
    struct scsi_copy_status cs;
    int rc = scsi_copy_status_parse(cdb, cdb_len, d, len, &cs);
    size_t at, got;
    uint8_t sa, st;

    CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        CHECK(!cs.ended);
        return;
    }
    CHECK(cdb_len >= 16 && cdb[0] == 0x84);
    sa = cdb[1] & 0x1f;
    CHECK(sa == 0x00 || sa == 0x05 || sa == 0x07);
    CHECK(cs.service_action == sa);
    CHECK(cs.lid4 == (sa != 0x00));
    CHECK(cs.list_id == (sa == 0x00 ? cdb[2] : be32(cdb + 2)));

    at = sa == 0x00 ? 4 : 5;
    got = readable(cdb, len);                 /* ALLOCATION LENGTH, same place */
    CHECK(got > at);
    CHECK(be32(d) >= (sa == 0x00 ? 8u : 28u));
    st = d[at] & 0x7f;
    CHECK(cs.status == st);
    if (sa == 0x00) {
        CHECK(st <= 0x02);
        CHECK(cs.ended == (st != 0x00));
    } else {
        CHECK((st >= 0x01 && st <= 0x04) || st == 0x60 || (st >= 0x10 && st <= 0x12));
        CHECK(cs.ended == (st < 0x10 || st == 0x60));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cdb_len;
    uint8_t *cdb;

    if (size < 1)
        return 0;
    cdb_len = data[0] % 33;
    if (cdb_len > size - 1)
        cdb_len = size - 1;
    cdb = malloc(cdb_len ? cdb_len : 1);
    if (cdb == NULL)
        return 0;
    memcpy(cdb, data + 1, cdb_len);

    check_classify(cdb, cdb_len, data + 1 + cdb_len, size - 1 - cdb_len);
    check_status(cdb, cdb_len, data + 1 + cdb_len, size - 1 - cdb_len);
    free(cdb);
    return 0;
}
