/*
 * CDB decoding (SPC-5 4.2, SBC-4 5): what a command is, which blocks it
 * addresses, and what the allocation cache must do about it.  Also the UNMAP
 * parameter list parser (SBC-5 5.35.2).  Pure functions.  Section numbers
 * are SBC-5's, which match SBC-4 r22 where checked.
 *
 * Names avoid libiscsi's (scsi-lowlevel.h owns struct scsi_task, SCSI_XFER_*,
 * scsi_cdb_<command>() builders, ...), since the proxy includes both.
 */
#ifndef ISP_SCSI_CDB_H
#define ISP_SCSI_CDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SPC-5 4.2: a variable length CDB is 8 + ADDITIONAL CDB LENGTH bytes,
 * at most 8 + 252 (iSCSI: 16 bytes in the BHS + the rest in an AHS). */
#define SCSI_CDB_LEN_MAX 260

/* Direction data flows when the command transfers any (a zero PARAMETER LIST
 * or ALLOCATION LENGTH transfers none); the iSCSI R/W bits and Expected Data
 * Transfer Length stay authoritative for the transfer itself. */
enum scsi_data_dir {
    SCSI_DIR_NONE = 0,   /* no data transfer */
    SCSI_DIR_IN,         /* device to initiator (Data-In) */
    SCSI_DIR_OUT,        /* initiator to device (Data-Out) */
    SCSI_DIR_BIDI,       /* both (XDWRITEREAD) */
    SCSI_DIR_UNKNOWN,    /* unknown opcode */
};

/* What the allocation cache does with the command. */
enum scsi_cdb_class {
    SCSI_CLASS_MUTATE = 0, /* may change logical block data: see scope */
    SCSI_CLASS_READ,       /* READ (6/10/12/16): lba/nblocks valid, plannable */
    SCSI_CLASS_HARMLESS,   /* known not to change logical block data */
};

/* Which blocks a SCSI_CLASS_MUTATE command may change. */
enum scsi_mut_scope {
    SCSI_SCOPE_NONE = 0,   /* not a mutation */
    SCSI_SCOPE_RANGE,      /* [lba, lba + nblocks) */
    SCSI_SCOPE_TO_END,     /* [lba, end of LUN): WRITE SAME with 0 blocks */
    SCSI_SCOPE_PARAM,      /* ranges in the parameter list: UNMAP (scsi_unmap_parse) */
    SCSI_SCOPE_LUN,        /* unknown extent: invalidate the whole LUN */
};

struct scsi_cdb_info {
    uint8_t  opcode;
    bool     has_sa;           /* the opcode carries a SERVICE ACTION */
    uint16_t service_action;
    const char *name;          /* static, for logs; never NULL */
    uint16_t cdb_len;          /* length implied by the opcode (SPC-5 4.2.5.1);
                                  0 for vendor specific / reserved groups */
    enum scsi_data_dir  dir;
    enum scsi_cdb_class cls;
    enum scsi_mut_scope scope; /* SCSI_SCOPE_NONE unless cls == MUTATE */
    bool     has_lba;          /* lba and nblocks were decoded */
    uint64_t lba;
    uint32_t nblocks;          /* blocks addressed (READ(6)/WRITE(6): 0 -> 256) */
    uint32_t xfer_len;         /* ALLOCATION LENGTH or PARAMETER LIST LENGTH in
                                  bytes, for GET LBA STATUS, READ CAPACITY(16),
                                  UNMAP; else 0 */
    uint8_t  protect;          /* RDPROTECT / WRPROTECT / VRPROTECT / ORPROTECT */
    bool     dpo, fua;
    bool     anchor, unmap, ndob;  /* WRITE SAME; anchor also for UNMAP */
    bool     dealloc;          /* may deallocate (UNMAP, WRITE SAME with UNMAP):
                                  after success, fully covered pages -> UNKNOWN */
};

/*
 * Decode the CDB in cdb[0..len).  len is what the transport carried (16 for
 * any iSCSI CDB of up to 16 bytes, more with an Extended CDB AHS).
 * Returns 0, or -1 if len is shorter than the command needs or a
 * variable-length CDB is inconsistent; on -1 *out still names the opcode and
 * is fail-safe: cls MUTATE, scope LUN, dir UNKNOWN.  Unknown and vendor
 * opcodes decode with 0 as MUTATE/LUN.
 */
int scsi_cdb_decode(const uint8_t *cdb, size_t len, struct scsi_cdb_info *out);

/* Clip [lba, lba + nblocks) to a LUN of lun_blocks blocks; *count gets the
 * number of blocks inside.  Returns false if none is. */
bool scsi_extent_clip(uint64_t lba, uint64_t nblocks, uint64_t lun_blocks, uint64_t *count);

/*
 * The blocks a MUTATE command may change, clipped to the LUN:
 * [*first, *first + *count).  SCOPE_LUN and SCOPE_PARAM give the whole LUN
 * (parse UNMAP's list to do better).  Returns false if the command changes
 * nothing inside the LUN (not a mutation, zero blocks, past the end).
 */
bool scsi_cdb_mutation_extent(const struct scsi_cdb_info *c, uint64_t lun_blocks,
                              uint64_t *first, uint64_t *count);

const char *scsi_cdb_class_name(enum scsi_cdb_class cls);

/* ---- UNMAP parameter list (SBC-5 5.35.2) -------------------------------- */

#define SCSI_UNMAP_HDR_LEN  8
#define SCSI_UNMAP_DESC_LEN 16

struct scsi_unmap_desc {
    uint64_t lba;
    uint32_t nblocks;      /* 0 is allowed and unmaps nothing */
};

struct scsi_unmap_list {
    const uint8_t *desc;   /* first descriptor, inside the caller's buffer */
    size_t count;          /* complete descriptors */
    bool   truncated;      /* BLOCK DESCRIPTOR DATA LENGTH not a multiple of 16
                              or longer than the data: partial one ignored */
};

/*
 * Parse the UNMAP parameter list in buf[0..len), where len is the bytes
 * received, at most the CDB's PARAMETER LIST LENGTH.  len 0 is valid (nothing
 * to unmap).  Returns 0, or -1 if 0 < len < 8 (PARAMETER LIST LENGTH ERROR).
 */
int scsi_unmap_parse(const uint8_t *buf, size_t len, struct scsi_unmap_list *out);

/* Descriptor i (< list->count). */
void scsi_unmap_get(const struct scsi_unmap_list *list, size_t i, struct scsi_unmap_desc *d);

/* READ(16) (SBC-4 5.16) for one backend segment of a planned READ, keeping
 * the initiator's DPO and FUA.  Returns 16, or 0 if cap < 16. */
size_t scsi_read16_build(uint8_t *cdb, size_t cap, uint64_t lba, uint32_t blocks, bool dpo,
                         bool fua);

#endif
