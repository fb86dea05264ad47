/* The 8-byte LUN field (SAM-5 4.7) as the LUN numbers libiscsi addresses. */
#ifndef ISP_SCSI_LUN_H
#define ISP_SCSI_LUN_H

#include <stdint.h>

/* Single-level peripheral (00b, bus 0: LUN 0-255) and flat space (01b: LUN
 * 0-16383) addressing.  Returns 0, or -1 for any other form. */
int scsi_lun_decode(uint64_t field, uint32_t *lun);

#endif
