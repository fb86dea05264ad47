/*
 * The identity of a logical unit: the designator of the Device
 * Identification VPD page (83h, SPC-5 7.7.6) that names the logical unit
 * itself.  The allocation cache is keyed by it, so that two configured
 * targets reaching one LUN through different portals share one cache.
 * The parser takes untrusted data and never reads past len.
 */
#ifndef ISP_SCSI_DEVID_H
#define ISP_SCSI_DEVID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_VPD_DEVICE_ID      0x83
#define SCSI_VPD_DEVICE_ID_LEN  1024   /* allocation length the proxy asks for */

/* DESIGNATOR TYPE values (SPC-5 table 596) the proxy accepts. */
#define SCSI_DESIG_T10_VENDOR   1
#define SCSI_DESIG_EUI64        2
#define SCSI_DESIG_NAA          3
#define SCSI_DESIG_SCSI_NAME    8

struct scsi_devid {
    uint8_t code_set;       /* CODE SET: 1 binary, 2 ASCII, 3 UTF-8 */
    uint8_t type;           /* DESIGNATOR TYPE */
    uint8_t len;            /* DESIGNATOR LENGTH */
    uint8_t id[255];        /* DESIGNATOR */
};

/* The best designator with ASSOCIATION 0 (the logical unit) of a VPD page
 * 83h: NAA IEEE (NAA 2h, 5h, 6h), then EUI-64, then SCSI name string, then
 * NAA locally assigned (3h), then T10 vendor ID; the first of equals.
 * Descriptors that are truncated, of a wrong length or code set for their
 * type, or whose identifying bytes are all zeros or spaces are skipped.
 * Returns 1 and fills out, 0 if no designator is usable, -1 if the page is
 * malformed (shorter than its header, not page 83h, peripheral qualifier
 * not 0).  On 0 and -1 out is zeroed. */
int scsi_devid_parse(const uint8_t *buf, size_t len, struct scsi_devid *out);

bool scsi_devid_equal(const struct scsi_devid *a, const struct scsi_devid *b);

/* "KIND:HEX" of the designator bytes, KIND one of naa, eui64, name, t10
 * (e.g. "naa:60000000..."), NUL-terminated and cut to cap; a cap of
 * SCSI_DEVID_TEXT_MAX always suffices.  Returns the length. */
#define SCSI_DEVID_TEXT_MAX (6 + 2 * 255 + 1)
size_t scsi_devid_text(const struct scsi_devid *d, char *out, size_t cap);

#endif
