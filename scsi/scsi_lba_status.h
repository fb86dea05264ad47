/*
 * GET LBA STATUS (16) (SBC-5 5.6; SERVICE ACTION IN (16) 9Eh / 12h): build the
 * CDB, and turn the parameter data, which is untrusted input from the
 * backend, into a normalized list of runs the allocation cache can apply.
 *
 * The rules (docs/ARCHITECTURE.md, "The allocation cache"): an answer that is malformed in
 * any way yields no runs; extents past the end of the LUN are capped; only
 * PROVISIONING STATUS 1 (deallocated) and 2 (anchored) mean unallocated.
 */
#ifndef ISP_SCSI_LBA_STATUS_H
#define ISP_SCSI_LBA_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_GLS_CDB_LEN   16
#define SCSI_GLS_HDR_LEN   8    /* PARAMETER DATA LENGTH, reserved, COMPLETION CONDITION/RTP */
#define SCSI_GLS_DESC_LEN  16   /* one LBA status descriptor (SBC-5 5.6.2.2) */
/* Allocation length that asks for n descriptors. */
#define SCSI_GLS_ALLOC_LEN(n) (SCSI_GLS_HDR_LEN + (n) * SCSI_GLS_DESC_LEN)

/* PROVISIONING STATUS values (SBC-5 table 53). */
#define SCSI_PROV_MAPPED_OR_UNKNOWN 0x0
#define SCSI_PROV_DEALLOCATED       0x1
#define SCSI_PROV_ANCHORED          0x2
#define SCSI_PROV_MAPPED            0x3
#define SCSI_PROV_UNKNOWN           0x4

/* One normalized extent: inside the LUN, nonzero, in LBA order. */
struct scsi_lba_run {
    uint64_t lba;
    uint64_t blocks;
    bool     unallocated;   /* deallocated or anchored; else mapped/unknown */
};

/* Why an answer was rejected (every error yields zero runs). */
enum scsi_lbas_err {
    SCSI_LBAS_OK = 0,
    SCSI_LBAS_BAD_ARGS,     /* lun_blocks 0, asked LBA past the end, NULL */
    SCSI_LBAS_SHORT,        /* fewer than 8 bytes: no header */
    SCSI_LBAS_BAD_LENGTH,   /* PARAMETER DATA LENGTH not 4 + 16n */
    SCSI_LBAS_EMPTY,        /* no complete descriptor */
    SCSI_LBAS_FIRST_LBA,    /* first descriptor does not start at the asked LBA */
    SCSI_LBAS_ZERO_BLOCKS,  /* a descriptor with NUMBER OF LOGICAL BLOCKS 0 */
    SCSI_LBAS_OVERLAP,      /* a descriptor starts before the previous one ends */
    SCSI_LBAS_GAP,          /* a descriptor starts after the previous one ends */
};

struct scsi_lba_status_result {
    enum scsi_lbas_err err;
    size_t   nruns;         /* runs written (0 on error) */
    uint64_t end_lba;       /* first LBA not described (asked LBA if no runs) */
    uint32_t ndesc;         /* complete descriptors in the data */
    uint32_t nused;         /* descriptors that produced runs */
    bool     capped;        /* an extent was cut at the end of the LUN */
    bool     runs_full;     /* the runs array filled before the descriptors ended */
    bool     rtp;           /* header: REPORT TYPE processed */
    bool     anchored;      /* a descriptor said anchored (2h): the map keeps
                               no anchored state (docs/ARCHITECTURE.md) */
    uint8_t  completion;    /* header: COMPLETION CONDITION (SBC-5 table 51) */
};

/* Build a GET LBA STATUS (16) CDB, REPORT TYPE 0 (all LBAs).  Returns
 * SCSI_GLS_CDB_LEN, or 0 if cap is too small. */
size_t scsi_gls16_build(uint8_t *cdb, size_t cap, uint64_t lba, uint32_t alloc_len);

/*
 * Parse buf[0..len) (the Data-In received) as the answer to GET LBA STATUS
 * for asked_lba on a LUN of lun_blocks blocks.  Adjacent descriptors of the
 * same kind are merged; at most cap runs are written (then runs_full is set
 * and end_lba says how far the runs reach: not an error).
 * Returns 0 with at least one run, or -1 with res->err set and no runs.
 */
int scsi_lba_status_parse(const uint8_t *buf, size_t len, uint64_t asked_lba,
                          uint64_t lun_blocks, struct scsi_lba_run *runs, size_t cap,
                          struct scsi_lba_status_result *res);

const char *scsi_lbas_err_name(enum scsi_lbas_err err);

#endif
