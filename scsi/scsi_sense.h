/* SCSI sense data (SPC-5 4.4): building the proxy's own, reading the backend's. */
#ifndef ISP_SCSI_SENSE_H
#define ISP_SCSI_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prefixes SCSI_ST_ and SCSI_KEY_: libiscsi's headers own SCSI_STATUS_* and
 * SCSI_SENSE_*, and both are included together in the proxy. */
#define SCSI_ST_GOOD                 0x00
#define SCSI_ST_CHECK_CONDITION      0x02
#define SCSI_ST_BUSY                 0x08
#define SCSI_ST_TASK_SET_FULL        0x28

#define SCSI_KEY_NO_SENSE          0x0
#define SCSI_KEY_NOT_READY         0x2
#define SCSI_KEY_MEDIUM_ERROR      0x3
#define SCSI_KEY_HARDWARE_ERROR    0x4
#define SCSI_KEY_ILLEGAL_REQUEST   0x5
#define SCSI_KEY_UNIT_ATTENTION    0x6
#define SCSI_KEY_ABORTED_COMMAND   0xb

/* ASC/ASCQ pairs the proxy itself reports. */
#define SCSI_ASC_INVALID_OPCODE      0x20, 0x00  /* INVALID COMMAND OPERATION CODE */
#define SCSI_ASC_INVALID_FIELD_CDB   0x24, 0x00  /* INVALID FIELD IN CDB */
#define SCSI_ASC_LOGICAL_UNIT_COMM_FAILURE 0x08, 0x00
#define SCSI_ASC_LUN_NOT_SUPPORTED   0x25, 0x00  /* LOGICAL UNIT NOT SUPPORTED */

#define SCSI_SENSE_FIXED_LEN 18

/* Build fixed-format sense data (response code 0x70, current error).
 * Returns the number of bytes written (SCSI_SENSE_FIXED_LEN), or 0 if cap is
 * too small. */
size_t scsi_sense_build_fixed(uint8_t *buf, size_t cap, uint8_t key, uint8_t asc, uint8_t ascq);

/* Build fixed-format ILLEGAL REQUEST sense data with a field pointer
 * (SPC-5 4.4.2.4.2 sense-key specific data, SKSV set): in_cdb selects C/D,
 * field is the byte offset of the bad field, bit its bit (0-7) or -1 if no
 * bit pointer.  Returns SCSI_SENSE_FIXED_LEN, or 0 if cap is too small. */
size_t scsi_sense_build_field(uint8_t *buf, size_t cap, uint8_t asc, uint8_t ascq,
                              bool in_cdb, uint16_t field, int bit);

struct scsi_sense_info {
    uint8_t key;
    uint8_t asc;
    uint8_t ascq;
    /* Added fields (zero when absent). */
    bool     deferred;      /* response code 0x71 / 0x73 */
    bool     descriptor;    /* descriptor format (0x72 / 0x73) */
    bool     info_valid;    /* INFORMATION field present and VALID */
    uint64_t information;
};

/* Parse fixed (0x70/0x71) or descriptor (0x72/0x73) format sense data
 * (SPC-5 4.4), as it appears after the iSCSI SenseLength prefix.
 * Returns 0, or -1 if len is too short for the sense key or the response code
 * is unknown.  ASC/ASCQ beyond the data or the ADDITIONAL SENSE LENGTH read as
 * 0/0.  Never reads past len. */
int scsi_sense_parse(const uint8_t *buf, size_t len, struct scsi_sense_info *out);

#endif
