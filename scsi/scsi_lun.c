/* LUN field decoding (SAM-5 4.7.2 single level LUN structures). */
#include "scsi_lun.h"

int scsi_lun_decode(uint64_t field, uint32_t *lun)
{
    unsigned method = (unsigned)(field >> 62);
    uint32_t first = (uint32_t)(field >> 48) & 0xffff;

    if ((field & 0xffffffffffffull) != 0)   /* second to fourth levels unused */
        return -1;
    if (method == 0 && (first >> 8) == 0) {     /* peripheral, bus identifier 0 */
        *lun = first & 0xff;
        return 0;
    }
    if (method == 1) {                          /* flat space */
        *lun = first & 0x3fff;
        return 0;
    }
    return -1;
}
