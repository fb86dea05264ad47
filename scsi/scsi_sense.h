/* SCSI sense data (SPC-5 4.4): building the proxy's own, reading the backend's. */
#ifndef ISP_SCSI_SENSE_H
#define ISP_SCSI_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_STATUS_GOOD             0x00
#define SCSI_STATUS_CHECK_CONDITION  0x02
#define SCSI_STATUS_BUSY             0x08
#define SCSI_STATUS_TASK_SET_FULL    0x28

#define SCSI_SENSE_NO_SENSE          0x0
#define SCSI_SENSE_NOT_READY         0x2
#define SCSI_SENSE_MEDIUM_ERROR      0x3
#define SCSI_SENSE_HARDWARE_ERROR    0x4
#define SCSI_SENSE_ILLEGAL_REQUEST   0x5
#define SCSI_SENSE_UNIT_ATTENTION    0x6
#define SCSI_SENSE_ABORTED_COMMAND   0xb

/* ASC/ASCQ pairs the proxy itself reports. */
#define SCSI_ASC_INVALID_OPCODE      0x20, 0x00  /* INVALID COMMAND OPERATION CODE */
#define SCSI_ASC_INVALID_FIELD_CDB   0x24, 0x00  /* INVALID FIELD IN CDB */
#define SCSI_ASC_LOGICAL_UNIT_COMM_FAILURE 0x08, 0x00

#define SCSI_SENSE_FIXED_LEN 18

/* Build fixed-format sense data (response code 0x70, current error).
 * Returns the number of bytes written (SCSI_SENSE_FIXED_LEN), or 0 if cap is
 * too small. */
size_t scsi_sense_build_fixed(uint8_t *buf, size_t cap, uint8_t key, uint8_t asc, uint8_t ascq);

struct scsi_sense_info {
    uint8_t key;
    uint8_t asc;
    uint8_t ascq;
};

/* Parse fixed (0x70/0x71) or descriptor (0x72/0x73) format sense data.
 * Returns 0, or -1 if len is too short or the response code is unknown. */
int scsi_sense_parse(const uint8_t *buf, size_t len, struct scsi_sense_info *out);

#endif
