/*
 * libFuzzer target for scsi_devid_parse(): the Device Identification VPD
 * page (83h) from a backend is untrusted, and the allocation cache is keyed
 * by what it returns.  Input: the page as received.
 *
 * Checked on every input, re-derived from the raw bytes independently of the
 * parser: a returned identity is byte for byte one descriptor of the page
 * that lies wholly inside both the data and the PAGE LENGTH, with
 * ASSOCIATION 0 and a designator type of 1, 2, 3 or 8; a malformed or
 * empty answer leaves the identity zeroed; parsing twice gives the same
 * identity; its text form holds every byte.  (Which designator is preferred
 * is the unit tests' job.)
 */
#include <stdint.h>
#include <string.h>

#include "scsi_devid.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether the page holds a descriptor at a walk position equal to id. */
static int page_has(const uint8_t *p, size_t size, const struct scsi_devid *id)
{
    size_t end = 4 + ((size_t)p[2] << 8 | p[3]);
    if (end > size)
        end = size;
    for (size_t off = 4; off + 4 <= end && off + 4 + p[off + 3] <= end; off += 4 + p[off + 3]) {
        const uint8_t *d = p + off;
        if ((d[1] >> 4 & 3) == 0 && (d[0] & 0x0f) == id->code_set && (d[1] & 0x0f) == id->type &&
            d[3] == id->len && memcmp(d + 4, id->id, id->len) == 0)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct scsi_devid zero;
    struct scsi_devid id, again;
    char text[SCSI_DEVID_TEXT_MAX];

    int rc = scsi_devid_parse(data, size, &id);
    CHECK(rc == -1 || rc == 0 || rc == 1);
    CHECK(scsi_devid_parse(data, size, &again) == rc);
    CHECK(memcmp(&id, &again, sizeof(id)) == 0);
    if (rc != 1) {
        CHECK(memcmp(&id, &zero, sizeof(id)) == 0);
        return 0;
    }
    CHECK(size >= 4 && data[1] == SCSI_VPD_DEVICE_ID && data[0] >> 5 == 0);
    CHECK(id.len > 0);
    CHECK(id.type == SCSI_DESIG_T10_VENDOR || id.type == SCSI_DESIG_EUI64 ||
          id.type == SCSI_DESIG_NAA || id.type == SCSI_DESIG_SCSI_NAME);
    CHECK(page_has(data, size, &id));
    CHECK(scsi_devid_equal(&id, &again));
    size_t n = scsi_devid_text(&id, text, sizeof(text));
    CHECK(n == strlen(text) && n > 2 * (size_t)id.len);
    return 0;
}
