/*
 * Copy offload (SPC-5 5.17): THIRD-PARTY COPY OUT (83h) commands may write
 * logical units other than the one they are sent to (EXTENDED COPY names its
 * copy destinations in the parameter data), and with IMMED set they go on
 * writing after GOOD status (5.17.4.3).  This module says, from the CDB and
 * parameter data the initiator sent, whether a command is such a copy,
 * whether it may outlive its status and under which list identifier its copy
 * status can be asked; and, from a THIRD-PARTY COPY IN (84h) answer, whether
 * the copy it reports on has ended.  Parameter data and answers are
 * untrusted: any doubt yields the fail-safe answer ("may still run", "not
 * known to have ended").  Pure functions.
 */
#ifndef ISP_SCSI_COPY_H
#define ISP_SCSI_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_OP_TPC_OUT 0x83   /* THIRD-PARTY COPY OUT (SPC-5 table 107) */
#define SCSI_OP_TPC_IN  0x84   /* THIRD-PARTY COPY IN */

/* THIRD-PARTY COPY OUT service actions. */
#define SCSI_TPC_XCOPY_LID1       0x00   /* EXTENDED COPY(LID1), SPC-5 6.5 */
#define SCSI_TPC_XCOPY_LID4       0x01   /* EXTENDED COPY(LID4), SPC-5 6.4 */
#define SCSI_TPC_POPULATE_TOKEN   0x10   /* SBC-5 5.12 */
#define SCSI_TPC_WRITE_USING_TOKEN 0x11 /* SBC-5 5.59 */
#define SCSI_TPC_COPY_ABORT       0x1c   /* COPY OPERATION ABORT, SPC-5 6.3 */

/* THIRD-PARTY COPY IN service actions this module reads. */
#define SCSI_TPC_COPY_STATUS_LID1 0x00   /* RECEIVE COPY STATUS(LID1), SPC-5 6.25 */
#define SCSI_TPC_COPY_STATUS_LID4 0x05   /* RECEIVE COPY STATUS(LID4), SPC-5 6.24 */
#define SCSI_TPC_ROD_TOKEN_INFO   0x07   /* RECEIVE ROD TOKEN INFORMATION, SPC-5 6.26 */

struct scsi_copy_info {
    bool     is_copy;              /* opcode 83h, any service action */
    uint8_t  service_action;       /* CDB byte 1 bits 4-0 (0 if cdb_len < 2) */
    bool     may_run_after_status; /* the copy may still write after GOOD status:
                                      IMMED=1, or parameter data missing, short,
                                      malformed, or an unknown service action */
    bool     has_list_id;          /* a copy status command can ask about it */
    bool     lid4;                 /* list_id is asked with RECEIVE COPY
                                      STATUS(LID4) or RECEIVE ROD TOKEN
                                      INFORMATION; else RECEIVE COPY STATUS(LID1) */
    uint32_t list_id;              /* LIST IDENTIFIER (when has_list_id) */
    bool     aborts;               /* COPY OPERATION ABORT of list_id: with GOOD
                                      status that copy has stopped writing
                                      (SPC-5 5.17.4.7) */
};

/*
 * Classify cdb[0..cdb_len) with its parameter data param[0..param_len) (the
 * Data-Out received; NULL/0 if none).  Opcodes other than 83h: is_copy false.
 * Returns 0 if the command was fully understood, -1 if the CDB is short, the
 * parameter data is missing, short or inconsistent, or the service action is
 * unknown; *out is then fail-safe (is_copy true, may_run_after_status true,
 * has_list_id only if the CDB itself holds the list identifier).
 */
int scsi_copy_classify(const uint8_t *cdb, size_t cdb_len, const uint8_t *param,
                       size_t param_len, struct scsi_copy_info *out);

struct scsi_copy_status {
    uint8_t  service_action;       /* of the 84h command */
    bool     lid4;                 /* SA 05h or 07h: 32-bit list identifier */
    uint32_t list_id;              /* LIST IDENTIFIER the CDB asked about */
    uint8_t  status;               /* COPY MANAGER STATUS (LID1) or COPY
                                      OPERATION STATUS (LID4), bits 6-0 */
    bool     ended;                /* the answer says the copy has ended */
};

/*
 * Parse data[0..len), the Data-In of a THIRD-PARTY COPY IN command cdb that
 * completed with GOOD status: RECEIVE COPY STATUS(LID1), RECEIVE COPY
 * STATUS(LID4) or RECEIVE ROD TOKEN INFORMATION.  Returns 0 when the answer
 * is understood (ended true or false), -1 when it is not (another command,
 * short CDB, short or malformed data, reserved status value): ended is false.
 */
int scsi_copy_status_parse(const uint8_t *cdb, size_t cdb_len, const uint8_t *data, size_t len,
                           struct scsi_copy_status *out);

#endif
