/*
 * libFuzzer target for scsi_reservation.c: PERSISTENT RESERVE IN answers
 * come from the SAN and CDBs from initiators, both untrusted.  Input: 16
 * bytes of CDB, one status byte, then the returned data.
 *
 * Checked on every input: the effects are valid values; RESERVATION
 * CONFLICT always sets; a PERSISTENT RESERVE IN answer shorter than its
 * 8-byte header, or any answer with a status other than GOOD, never clears;
 * the answer is decided the same way twice; applying a CLEAR after a SET
 * that came later than the clearing command's send never clears.
 */
#include <stdint.h>
#include <string.h>

#include "scsi_reservation.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid(enum scsi_resv_effect e)
{
    return e == SCSI_RESV_KEEP || e == SCSI_RESV_SET || e == SCSI_RESV_CLEAR;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 17)
        return 0;
    const uint8_t *cdb = data;
    int status = data[16];
    const uint8_t *ans = size > 17 ? data + 17 : NULL;
    size_t n = size - 17;

    enum scsi_resv_effect sent = scsi_resv_on_send(cdb, 16);
    enum scsi_resv_effect done = scsi_resv_on_done(cdb, 16, status, ans, n);
    CHECK(valid(sent) && valid(done));
    CHECK(sent != SCSI_RESV_CLEAR);
    CHECK(done == scsi_resv_on_done(cdb, 16, status, ans, n));
    if (status == SCSI_ST_RESERVATION_CONFLICT)
        CHECK(done == SCSI_RESV_SET);
    if (status != 0)
        CHECK(done != SCSI_RESV_CLEAR);
    if (cdb[0] == 0x5e && n < 8)
        CHECK(done != SCSI_RESV_CLEAR);

    struct scsi_resv r = { 0 };
    scsi_resv_apply(&r, sent, r.sets);
    uint64_t at_send = r.sets;
    scsi_resv_apply(&r, SCSI_RESV_SET, r.sets);     /* another session, meanwhile */
    scsi_resv_apply(&r, done, at_send);
    CHECK(r.may_be_held);
    return 0;
}
