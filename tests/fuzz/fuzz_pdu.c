/*
 * libFuzzer target for the iSCSI PDU codec and CRC32C (proxy/protocol/iscsi_pdu.c,
 * proxy/crc32c.c).  The first 48 input bytes are a BHS as it would arrive on
 * the wire: decode it, run the header checks with a few limits, encode it,
 * decode again and check that the common fields survive and that encoding is
 * stable.  The whole input also goes through the CRC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_pdu.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request_limits(const struct iscsi_pdu_hdr *h)
{
    static const uint32_t limits[] = { 0, 512, 8192, 262144, ISCSI_MAX_DSL };
    bool passed_before = false;

    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        enum iscsi_reject_reason reason = 0;
        const char *field = NULL;
        int rc = iscsi_pdu_check_request(h, limits[i], &reason, &field);

        CHECK(rc == 0 || rc == -1);
        if (rc == 0) {
            CHECK(h->data_len <= limits[i]);
            CHECK(h->total_ahs_len == 0 || h->opcode == ISCSI_OP_SCSI_CMD);
            CHECK(h->opcode < 0x20);                /* initiator opcodes only */
            passed_before = true;
        } else {
            CHECK(!passed_before);                  /* a larger limit never rejects more */
            CHECK(field != NULL && field[0] != '\0');
            CHECK(reason == ISCSI_REJECT_PROTOCOL_ERROR ||
                  reason == ISCSI_REJECT_CMD_NOT_SUPPORTED ||
                  reason == ISCSI_REJECT_INVALID_PDU_FIELD);
        }
    }
}

static void check_tail_len(const struct iscsi_pdu_hdr *h)
{
    uint64_t plain = iscsi_pdu_wire_tail_len(h, false, false);
    uint64_t both = iscsi_pdu_wire_tail_len(h, true, true);

    CHECK(plain == (uint64_t)h->total_ahs_len * 4 + h->data_len + iscsi_pad4(h->data_len));
    CHECK(plain % 4 == 0);
    CHECK(iscsi_pdu_wire_tail_len(h, true, false) == plain + ISCSI_DIGEST_LEN);
    CHECK(both == plain + ISCSI_DIGEST_LEN + (h->data_len ? ISCSI_DIGEST_LEN : 0));
    CHECK(both <= ISCSI_MAX_AHS_BYTES + ISCSI_MAX_DSL + 1 + 2 * ISCSI_DIGEST_LEN);
}

static void check_round_trip(const struct iscsi_pdu_hdr *h)
{
    uint8_t e1[ISCSI_BHS_LEN], e2[ISCSI_BHS_LEN];
    struct iscsi_pdu_hdr h2;

    iscsi_pdu_encode(h, e1);
    iscsi_pdu_decode(e1, &h2);
    iscsi_pdu_encode(&h2, e2);
    CHECK(memcmp(e1, e2, ISCSI_BHS_LEN) == 0);      /* encode is a fixed point */

    CHECK(h2.opcode == h->opcode);
    CHECK(h2.total_ahs_len == h->total_ahs_len);
    CHECK(h2.data_len == h->data_len);
    CHECK(h2.lun == h->lun);
    CHECK((h2.flags & 0x7f) == (h->flags & 0x7f));  /* F may be forced to 1 */
    if (h->opcode != ISCSI_OP_ASYNC_MSG && h->opcode != ISCSI_OP_REJECT)
        CHECK(h2.itt == h->itt);
    if (h->opcode != ISCSI_OP_LOGIN_REQ)            /* Login's I is forced to 1 */
        CHECK(h2.immediate == h->immediate);
    CHECK(iscsi_opcode_name(h2.opcode) != NULL);
}

static void check_crc(const uint8_t *data, size_t size)
{
    uint32_t whole = iscsi_crc32c(ISCSI_CRC32C_INIT, data, size);
    uint32_t split = iscsi_crc32c(ISCSI_CRC32C_INIT, data, size / 3);
    split = iscsi_crc32c(split, data + size / 3, size - size / 3);
    CHECK(whole == split);

    /* Data followed by its own digest always leaves the same register. */
    static bool have_residue;
    static uint32_t residue;
    uint8_t d[ISCSI_DIGEST_LEN];
    uint32_t digest = iscsi_crc32c_final(whole);
    iscsi_put_digest(d, digest);
    CHECK(iscsi_get_digest(d) == digest);
    uint32_t r = iscsi_crc32c(whole, d, sizeof(d));
    if (!have_residue) {
        residue = r;
        have_residue = true;
    }
    CHECK(r == residue);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t bhs[ISCSI_BHS_LEN] = { 0 };
    struct iscsi_pdu_hdr h;

    memcpy(bhs, data, size < sizeof(bhs) ? size : sizeof(bhs));
    iscsi_pdu_decode(bhs, &h);
    CHECK(h.opcode <= 0x3f);
    CHECK(h.data_len <= ISCSI_MAX_DSL);

    check_request_limits(&h);
    check_tail_len(&h);
    check_round_trip(&h);
    check_crc(data, size);
    return 0;
}
