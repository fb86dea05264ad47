/*
 * CRC32C header and data digests (RFC 7143 13.1, RFC 3385) on top of ISA-L's
 * crc32_iscsi, which picks the SSE4.2 / CLMUL code path at run time.
 *
 * Convention.  crc32_iscsi(buf, len, init) is the raw reflected CRC32C
 * (polynomial 0x1edc6f41, bit-reversed 0x82f63b78): it neither complements
 * `init` on entry nor the result on exit, so the returned register can be
 * passed back as `init` to continue over the next buffer.  The iSCSI digest
 * complements the register at both ends (RFC 7143 13.1 complements the
 * first 32 message bits and the remainder), hence:
 *
 *     crc    = ISCSI_CRC32C_INIT (0xffffffff)
 *     crc    = iscsi_crc32c(crc, part, n)      as often as needed
 *     digest = iscsi_crc32c_final(crc)         = ~crc
 *
 * Checked against RFC 3720 Appendix B.4: 32 bytes of 0x00 -> 0x8a9136aa,
 * 32 bytes of 0xff -> 0x62a8ab43, bytes 0..31 -> 0x46dd794e; the B.4 listing
 * shows the first as "aa 36 91 8a" on the wire, i.e. the digest value is
 * sent least significant byte first (iscsi_put_digest).
 */
#include "iscsi_pdu.h"

#include <isa-l/crc.h>
#include <limits.h>

/* crc32_iscsi takes an int length: feed it in chunks that fit. */
#define CRC_CHUNK ((size_t)1 << 30)
_Static_assert(CRC_CHUNK <= INT_MAX, "CRC_CHUNK must fit crc32_iscsi's int length");

uint32_t iscsi_crc32c(uint32_t crc, const void *buf, size_t len)
{
    /* crc32_iscsi's buffer parameter is not const-qualified, but it only
     * reads the buffer. */
    unsigned char *p = (unsigned char *)(uintptr_t)buf;

    while (len > 0) {
        size_t n = len < CRC_CHUNK ? len : CRC_CHUNK;
        crc = crc32_iscsi(p, (int)n, crc);
        p += n;
        len -= n;
    }
    return crc;
}

uint32_t iscsi_crc32c_final(uint32_t crc)
{
    return ~crc;
}

void iscsi_put_digest(uint8_t out[ISCSI_DIGEST_LEN], uint32_t digest)
{
    out[0] = (uint8_t)digest;
    out[1] = (uint8_t)(digest >> 8);
    out[2] = (uint8_t)(digest >> 16);
    out[3] = (uint8_t)(digest >> 24);
}

uint32_t iscsi_get_digest(const uint8_t in[ISCSI_DIGEST_LEN])
{
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
           (uint32_t)in[3] << 24;
}
