/*
 * Device Identification VPD page (SPC-5 7.7.6): which designator names the
 * logical unit.  Offsets are named after SPC-5 table 591 (the page) and
 * table 592 (designation descriptor).
 */
#include "scsi_devid.h"

#include <stdio.h>
#include <string.h>

#include "scsi_bytes.h"

#define PAGE_HDR        4       /* qualifier/type, page code, PAGE LENGTH (2) */
#define DESC_HDR        4       /* code set, PIV/association/type, rsvd, length */
#define CODE_SET_BINARY 1
#define CODE_SET_ASCII  2
#define CODE_SET_UTF8   3
#define T10_VENDOR_LEN  8       /* T10 VENDOR IDENTIFICATION (7.7.6.4) */

/* No byte of p[0..n) other than 0 and `pad` (0 for binary designators, a
 * space for text ones); `skip_nibble`: the high half of p[0] is the NAA
 * field, not part of the identifier.  Such a designator names nothing. */
static bool all_blank(const uint8_t *p, size_t n, uint8_t pad, bool skip_nibble)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = i == 0 && skip_nibble ? (uint8_t)(p[0] & 0x0f) : p[i];
        if (b != 0 && b != pad)
            return false;
    }
    return true;
}

/* How much a designator is worth as an identity: 0 unusable, higher better. */
static int rank(uint8_t code_set, uint8_t type, const uint8_t *d, size_t n)
{
    switch (type) {
    case SCSI_DESIG_NAA: {
        /* 7.7.6.6: the NAA field (bits 7-4 of byte 0) sets the length. */
        if (code_set != CODE_SET_BINARY || n == 0 || all_blank(d, n, 0, true))
            return 0;
        unsigned naa = d[0] >> 4;
        if ((naa == 2 || naa == 3 || naa == 5) && n == 8)
            return naa == 3 ? 2 : 5;
        if (naa == 6 && n == 16)
            return 5;
        return 0;
    }
    case SCSI_DESIG_EUI64:      /* 7.7.6.5: 8, 12 or 16 bytes */
        return code_set == CODE_SET_BINARY && (n == 8 || n == 12 || n == 16) &&
               !all_blank(d, n, 0, false) ? 4 : 0;
    case SCSI_DESIG_SCSI_NAME:  /* 7.7.6.11: UTF-8, NUL-terminated, multiple of 4 */
        return code_set == CODE_SET_UTF8 && n >= 4 && n % 4 == 0 &&
               !all_blank(d, n, ' ', false) ? 3 : 0;
    case SCSI_DESIG_T10_VENDOR: /* 7.7.6.4: vendor ID, then what tells LUs apart */
        return code_set == CODE_SET_ASCII && n > T10_VENDOR_LEN &&
               !all_blank(d + T10_VENDOR_LEN, n - T10_VENDOR_LEN, ' ', false) ? 1 : 0;
    default:
        return 0;
    }
}

int scsi_devid_parse(const uint8_t *buf, size_t len, struct scsi_devid *out)
{
    const uint8_t *best = NULL;
    int best_rank = 0;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    if (buf == NULL || len < PAGE_HDR || buf[1] != SCSI_VPD_DEVICE_ID || (buf[0] >> 5) != 0)
        return -1;
    /* The page may be longer than what was asked for: read what arrived. */
    size_t end = PAGE_HDR + (size_t)scsi_get_be16(buf + 2);
    if (end > len)
        end = len;
    for (size_t off = PAGE_HDR; end - off >= DESC_HDR; ) {
        const uint8_t *d = buf + off;
        size_t n = d[3];
        if (n > end - off - DESC_HDR)
            break;                          /* truncated: the rest is unknown */
        uint8_t assoc = (d[1] >> 4) & 0x03;
        int r = assoc == 0 ? rank(d[0] & 0x0f, d[1] & 0x0f, d + DESC_HDR, n) : 0;
        if (r > best_rank) {
            best_rank = r;
            best = d;
        }
        off += DESC_HDR + n;
    }
    if (!best)
        return 0;
    out->code_set = best[0] & 0x0f;
    out->type = best[1] & 0x0f;
    out->len = best[3];
    memcpy(out->id, best + DESC_HDR, out->len);
    return 1;
}

bool scsi_devid_equal(const struct scsi_devid *a, const struct scsi_devid *b)
{
    return a->code_set == b->code_set && a->type == b->type && a->len == b->len &&
           memcmp(a->id, b->id, a->len) == 0;
}

size_t scsi_devid_text(const struct scsi_devid *d, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n;

    if (cap == 0)
        return 0;
    const char *kind = d->type == SCSI_DESIG_NAA ? "naa" : d->type == SCSI_DESIG_EUI64 ? "eui64"
                     : d->type == SCSI_DESIG_SCSI_NAME ? "name" : "t10";
    int k = snprintf(out, cap, "%s:", kind);
    n = k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
    for (size_t i = 0; i < d->len && n + 2 < cap; i++) {
        out[n++] = hex[d->id[i] >> 4];
        out[n++] = hex[d->id[i] & 0x0f];
    }
    out[n] = '\0';
    return n;
}
