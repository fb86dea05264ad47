/*
 * GET LBA STATUS (16): CDB builder and a strict parser of the parameter data
 * (SBC-5 5.6.2, same layout in SBC-4).  The invariant the cache depends on is
 * "never call a block unallocated unless the backend said so, correctly";
 * so any structural doubt rejects the whole answer, which only costs a
 * backend READ later.
 */
#include "scsi_lba_status.h"

#include <string.h>

#include "scsi_bytes.h"

#define GLS_OPCODE     0x9e   /* SERVICE ACTION IN (16) */
#define GLS_SA         0x12

/* Parameter data header (SBC-5 table 50). */
#define HDR_PDL        0      /* PARAMETER DATA LENGTH (n - 3), 4 bytes */
#define HDR_FLAGS      7      /* COMPLETION CONDITION bits 3-1, RTP bit 0 */

/* LBA status descriptor (SBC-5 table 52). */
#define D_LBA          0      /* 8 bytes */
#define D_NBLOCKS      8      /* 4 bytes */
#define D_STATUS       12     /* PROVISIONING STATUS bits 3-0 */

size_t scsi_gls16_build(uint8_t *cdb, size_t cap, uint64_t lba, uint32_t alloc_len)
{
    if (cdb == NULL || cap < SCSI_GLS_CDB_LEN)
        return 0;
    /* SBC-5 table 48: opcode, SA, STARTING LBA 2-9, ALLOCATION LENGTH 10-13,
     * REPORT TYPE 14 (00h: all LBAs, table 49), CONTROL 15. */
    memset(cdb, 0, SCSI_GLS_CDB_LEN);
    cdb[0] = GLS_OPCODE;
    cdb[1] = GLS_SA;
    scsi_put_be64(cdb + 2, lba);
    scsi_put_be32(cdb + 10, alloc_len);
    return SCSI_GLS_CDB_LEN;
}

static int reject(struct scsi_lba_status_result *res, uint64_t asked_lba,
                  enum scsi_lbas_err err)
{
    res->err = err;
    res->end_lba = asked_lba;
    res->nruns = 0;
    res->nused = 0;
    res->capped = false;
    res->runs_full = false;
    return -1;
}

/* SBC-5 table 53: only 1h (deallocated) and 2h (anchored) are unmapped
 * (4.7.4.4); 0h mapped-or-unknown, 3h mapped, 4h unknown, reserved values:
 * all "may hold data". */
static bool status_unallocated(uint8_t status)
{
    return status == SCSI_PROV_DEALLOCATED || status == SCSI_PROV_ANCHORED;
}

int scsi_lba_status_parse(const uint8_t *buf, size_t len, uint64_t asked_lba,
                          uint64_t lun_blocks, struct scsi_lba_run *runs, size_t cap,
                          struct scsi_lba_status_result *res)
{
    uint64_t pdl, avail, expect;
    size_t ndesc;

    if (res == NULL)
        return -1;
    memset(res, 0, sizeof(*res));
    res->end_lba = asked_lba;
    if (runs == NULL || cap == 0 || lun_blocks == 0 || asked_lba >= lun_blocks)
        return reject(res, asked_lba, SCSI_LBAS_BAD_ARGS);
    if (buf == NULL || len < SCSI_GLS_HDR_LEN)
        return reject(res, asked_lba, SCSI_LBAS_SHORT);

    res->completion = (buf[HDR_FLAGS] >> 1) & 0x07;
    res->rtp = (buf[HDR_FLAGS] & 0x01) != 0;
    /* 5.6.2.1: PARAMETER DATA LENGTH is 4 when there is nothing to report,
     * else 4 plus a multiple of 16. */
    pdl = scsi_get_be32(buf + HDR_PDL);
    if (pdl < 4 || (pdl - 4) % SCSI_GLS_DESC_LEN != 0)
        return reject(res, asked_lba, SCSI_LBAS_BAD_LENGTH);
    /* What is usable: what the target says it has and what arrived (the
     * allocation length may cut the data, SPC-5 4.2.5.6; a descriptor cut in
     * the middle is dropped). */
    avail = pdl + 4;
    if (avail > len)
        avail = len;
    ndesc = (size_t)((avail - SCSI_GLS_HDR_LEN) / SCSI_GLS_DESC_LEN);
    res->ndesc = ndesc > UINT32_MAX ? UINT32_MAX : (uint32_t)ndesc;
    if (ndesc == 0)
        return reject(res, asked_lba, SCSI_LBAS_EMPTY);

    expect = asked_lba;
    for (size_t i = 0; i < ndesc; i++) {
        const uint8_t *d = buf + SCSI_GLS_HDR_LEN + i * SCSI_GLS_DESC_LEN;
        uint64_t lba = scsi_get_be64(d + D_LBA);
        uint32_t n = scsi_get_be32(d + D_NBLOCKS);
        bool unalloc = status_unallocated(d[D_STATUS] & 0x0f);
        uint64_t end;

        if (n == 0)
            return reject(res, asked_lba, SCSI_LBAS_ZERO_BLOCKS);
        res->anchored |= (d[D_STATUS] & 0x0f) == SCSI_PROV_ANCHORED;
        /* SBC-5 5.6.1 describes "the specified LBA and zero or more
         * subsequent LBAs": the answer must start where we asked and go on
         * without holes or overlaps (report type 0 covers every LBA). */
        if (i == 0 && lba != asked_lba)
            return reject(res, asked_lba, SCSI_LBAS_FIRST_LBA);
        if (lba < expect)
            return reject(res, asked_lba, SCSI_LBAS_OVERLAP);
        if (lba > expect)
            return reject(res, asked_lba, SCSI_LBAS_GAP);

        /* Here lba == expect < lun_blocks.  Cap at the end of the LUN
         * (also catches lba + n overflowing 64 bits). */
        if (n > lun_blocks - lba) {
            end = lun_blocks;
            res->capped = true;
        } else {
            end = lba + n;
        }

        if (!res->runs_full) {
            if (res->nruns > 0 && runs[res->nruns - 1].unallocated == unalloc) {
                runs[res->nruns - 1].blocks += end - lba;
            } else if (res->nruns < cap) {
                runs[res->nruns].lba = lba;
                runs[res->nruns].blocks = end - lba;
                runs[res->nruns].unallocated = unalloc;
                res->nruns++;
            } else {
                res->runs_full = true;     /* keep validating the rest */
            }
            if (!res->runs_full) {
                res->nused++;
                res->end_lba = end;
            }
        }
        expect = end;
        if (end == lun_blocks)
            break;                         /* anything after is past the LUN */
    }
    res->err = SCSI_LBAS_OK;
    return 0;
}

const char *scsi_lbas_err_name(enum scsi_lbas_err err)
{
    switch (err) {
    case SCSI_LBAS_OK: return "ok";
    case SCSI_LBAS_BAD_ARGS: return "bad arguments";
    case SCSI_LBAS_SHORT: return "shorter than the header";
    case SCSI_LBAS_BAD_LENGTH: return "parameter data length not 4 + 16n";
    case SCSI_LBAS_EMPTY: return "no descriptor";
    case SCSI_LBAS_FIRST_LBA: return "first descriptor not at the asked LBA";
    case SCSI_LBAS_ZERO_BLOCKS: return "descriptor with zero blocks";
    case SCSI_LBAS_OVERLAP: return "overlapping descriptors";
    case SCSI_LBAS_GAP: return "gap between descriptors";
    }
    return "?";
}
