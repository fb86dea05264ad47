/*
 * Which reservations block READs of other I_T nexuses, from the commands,
 * statuses and PERSISTENT RESERVE IN data that pass the proxy.
 */
#include "scsi_reservation.h"

#include "scsi_bytes.h"

#define OP_RESERVE6     0x16
#define OP_RELEASE6     0x17
#define OP_RESERVE10    0x56
#define OP_RELEASE10    0x57
#define OP_PR_IN        0x5e
#define OP_PR_OUT       0x5f

/* PERSISTENT RESERVE OUT service actions (CDB byte 1 bits 4-0). */
#define PRO_RESERVE             0x01
#define PRO_RELEASE             0x02
#define PRO_CLEAR               0x03
#define PRO_PREEMPT             0x04
#define PRO_PREEMPT_AND_ABORT   0x05
#define PRO_REGISTER_AND_MOVE   0x07
#define PRO_REPLACE_LOST        0x08

/* PERSISTENT RESERVE IN service actions (CDB byte 1 bits 4-0). */
#define PRI_READ_RESERVATION    0x01
#define PRI_READ_FULL_STATUS    0x03

/* SPC-5 persistent reservation type codes (TYPE, bits 3-0 of PR OUT CDB byte
 * 2 and of the SCOPE/TYPE byte in PR IN data): Exclusive Access (3h) and its
 * Registrants Only (6h) and All Registrants (8h) forms make READs of
 * non-holders (non-registrants) RESERVATION CONFLICT; the Write Exclusive
 * types (1h, 5h, 7h) leave READs shared. */
static bool type_blocks_reads(uint8_t type)
{
    type &= 0x0f;
    return type == 0x3 || type == 0x6 || type == 0x8;
}

/* The service actions that may leave a reservation of the CDB's TYPE held:
 * RESERVE, PREEMPT (AND ABORT) replace the holder's, REGISTER AND MOVE moves
 * one to another nexus, REPLACE LOST RESERVATION makes a new one. */
static bool pr_out_may_reserve(uint8_t sa)
{
    return sa == PRO_RESERVE || sa == PRO_PREEMPT || sa == PRO_PREEMPT_AND_ABORT ||
           sa == PRO_REGISTER_AND_MOVE || sa == PRO_REPLACE_LOST;
}

/* The CDB is all there: group 0 opcodes are 6 bytes, the ones here 10. */
static bool cdb_complete(const uint8_t *cdb, size_t len)
{
    return cdb && len >= 1 && len >= (cdb[0] < 0x20 ? 6u : 10u);
}

enum scsi_resv_effect scsi_resv_on_send(const uint8_t *cdb, size_t len)
{
    if (!cdb_complete(cdb, len))
        return SCSI_RESV_KEEP;
    switch (cdb[0]) {
    case OP_RESERVE6:
    case OP_RESERVE10:
        return SCSI_RESV_SET;   /* SCSI-2 reservations block every other nexus */
    case OP_PR_OUT:
        return pr_out_may_reserve(cdb[1] & 0x1f) && type_blocks_reads(cdb[2])
               ? SCSI_RESV_SET : SCSI_RESV_KEEP;
    default:
        return SCSI_RESV_KEEP;
    }
}

/* READ RESERVATION parameter data: PRGENERATION (4), ADDITIONAL LENGTH (4),
 * then, if a reservation is held, a 16-byte descriptor whose byte 13 (byte 21
 * of the data) is SCOPE/TYPE. */
static enum scsi_resv_effect read_reservation(const uint8_t *d, size_t n)
{
    if (n < 8)
        return SCSI_RESV_KEEP;
    uint32_t add = scsi_get_be32(d + 4);
    if (add == 0)
        return SCSI_RESV_CLEAR;
    if (add < 16 || n < 8 + 16)
        return SCSI_RESV_KEEP;          /* malformed or truncated */
    return type_blocks_reads(d[21]) ? SCSI_RESV_SET : SCSI_RESV_CLEAR;
}

/* READ FULL STATUS parameter data: the same 8-byte header, then one
 * descriptor per registration: 24 bytes (byte 12 bit 0 R_HOLDER, byte 13
 * SCOPE/TYPE, bytes 20-23 ADDITIONAL DESCRIPTOR LENGTH) + a TransportID.
 * "None held" needs the whole list; a holder of a blocking type in any part
 * received is enough to set. */
static enum scsi_resv_effect read_full_status(const uint8_t *d, size_t n)
{
    if (n < 8)
        return SCSI_RESV_KEEP;
    uint64_t end = 8 + (uint64_t)scsi_get_be32(d + 4);
    bool whole = end <= n;
    size_t limit = whole ? (size_t)end : n;
    size_t off = 8;

    while (limit - off >= 24) {
        const uint8_t *desc = d + off;
        if ((desc[12] & 0x01) && type_blocks_reads(desc[13]))
            return SCSI_RESV_SET;
        uint64_t next = off + 24 + (uint64_t)scsi_get_be32(desc + 20);
        if (next > limit)
            return SCSI_RESV_KEEP;      /* a descriptor runs past the data */
        off = (size_t)next;
    }
    return whole && off == limit ? SCSI_RESV_CLEAR : SCSI_RESV_KEEP;
}

enum scsi_resv_effect scsi_resv_on_done(const uint8_t *cdb, size_t len, int status,
                                        const uint8_t *data, size_t data_len)
{
    if (status == SCSI_ST_RESERVATION_CONFLICT)
        return SCSI_RESV_SET;           /* someone holds one: assume the worst */
    if (!cdb_complete(cdb, len))
        return SCSI_RESV_KEEP;
    if (status != 0)
        return SCSI_RESV_KEEP;          /* only GOOD tells us anything more */
    uint8_t sa = cdb[1] & 0x1f;
    switch (cdb[0]) {
    case OP_RESERVE6:
    case OP_RESERVE10:
        return SCSI_RESV_SET;
    /* A release by a nexus that holds nothing also completes GOOD and
     * releases nothing: the flag is then clear too early, until the blocked
     * nexus's next command reaches the SAN (at most one second of zero-only
     * service later, zero_probe.h) and its RESERVATION CONFLICT sets it. */
    case OP_RELEASE6:
    case OP_RELEASE10:
        return SCSI_RESV_CLEAR;
    case OP_PR_OUT:
        if (sa == PRO_RELEASE || sa == PRO_CLEAR)
            return SCSI_RESV_CLEAR;
        return scsi_resv_on_send(cdb, len);
    case OP_PR_IN:
        if (!data)
            return SCSI_RESV_KEEP;
        if (sa == PRI_READ_RESERVATION)
            return read_reservation(data, data_len);
        if (sa == PRI_READ_FULL_STATUS)
            return read_full_status(data, data_len);
        return SCSI_RESV_KEEP;
    default:
        return SCSI_RESV_KEEP;
    }
}

void scsi_resv_apply(struct scsi_resv *r, enum scsi_resv_effect e, uint64_t sets_at_send)
{
    if (e == SCSI_RESV_SET) {
        r->may_be_held = true;
        r->sets++;
    } else if (e == SCSI_RESV_CLEAR && r->sets == sets_at_send) {
        r->may_be_held = false;
    }
}
