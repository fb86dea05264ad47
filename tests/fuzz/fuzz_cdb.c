/*
 * libFuzzer target for the command-side decoders: scsi_cdb_decode() on the
 * input as a CDB (initiators are untrusted), scsi_unmap_parse() on it as an
 * UNMAP parameter list, and, for coverage of the other scsi/ parsers, sense
 * data, READ CAPACITY and the B0h/B2h VPD pages on the same bytes.
 * ASan catches any read past the input; the CHECKs are the decoder's
 * contract with the allocation cache.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "scsi_capacity.h"
#include "scsi_cdb.h"
#include "scsi_sense.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cdb(const uint8_t *data, size_t size)
{
    static const uint64_t luns[] = { 1, 100, 1ull << 32, UINT64_MAX };
    struct scsi_cdb_info c;
    int rc = scsi_cdb_decode(data, size, &c);

    CHECK(c.name != NULL);
    if (rc != 0) {
        CHECK(rc == -1);
        CHECK(c.cls == SCSI_CLASS_MUTATE);          /* fail-safe */
        CHECK(c.scope == SCSI_SCOPE_LUN);
        CHECK(c.dir == SCSI_DIR_UNKNOWN);
        CHECK(!c.has_lba);
    } else {
        CHECK(size >= 1 && c.opcode == data[0]);
        CHECK(c.cdb_len <= size);
        CHECK(c.cdb_len <= SCSI_CDB_LEN_MAX);
    }
    if (c.cls == SCSI_CLASS_READ) {
        CHECK(c.opcode == 0x08 || c.opcode == 0x28 || c.opcode == 0xa8 || c.opcode == 0x88);
        CHECK(c.has_lba && c.dir == SCSI_DIR_IN && c.scope == SCSI_SCOPE_NONE);
        CHECK(c.opcode != 0x08 || (c.nblocks >= 1 && c.nblocks <= 256));
    }
    if (c.cls == SCSI_CLASS_MUTATE)
        CHECK(c.scope != SCSI_SCOPE_NONE);
    else
        CHECK(c.scope == SCSI_SCOPE_NONE && !c.dealloc);
    if (c.scope == SCSI_SCOPE_RANGE || c.scope == SCSI_SCOPE_TO_END)
        CHECK(c.has_lba);
    if (c.scope == SCSI_SCOPE_TO_END)
        CHECK(c.nblocks == 0);
    /* Unknown opcodes never come out harmless. */
    if (rc == 0 && (c.opcode >> 5) >= 6)
        CHECK(c.cls == SCSI_CLASS_MUTATE && c.scope == SCSI_SCOPE_LUN);

    for (size_t i = 0; i < sizeof(luns) / sizeof(luns[0]); i++) {
        uint64_t first = 0, count = 0;

        if (!scsi_cdb_mutation_extent(&c, luns[i], &first, &count)) {
            CHECK(c.cls != SCSI_CLASS_MUTATE || c.scope == SCSI_SCOPE_RANGE ||
                  c.scope == SCSI_SCOPE_TO_END);
            continue;
        }
        CHECK(c.cls == SCSI_CLASS_MUTATE);
        CHECK(count >= 1 && first < luns[i] && count <= luns[i] - first);
        if (c.scope == SCSI_SCOPE_RANGE)
            CHECK(first == c.lba && count <= c.nblocks);
        if (c.scope == SCSI_SCOPE_LUN || c.scope == SCSI_SCOPE_PARAM)
            CHECK(first == 0 && count == luns[i]);
    }
}

static void check_unmap(const uint8_t *data, size_t size)
{
    struct scsi_unmap_list l;
    struct scsi_unmap_desc d;

    if (scsi_unmap_parse(data, size, &l) != 0) {
        CHECK(size > 0 && size < SCSI_UNMAP_HDR_LEN);
        return;
    }
    CHECK(SCSI_UNMAP_HDR_LEN + l.count * SCSI_UNMAP_DESC_LEN <= size || l.count == 0);
    for (size_t i = 0; i < l.count; i++)
        scsi_unmap_get(&l, i, &d);
}

static void check_others(const uint8_t *data, size_t size)
{
    struct scsi_sense_info s;
    struct scsi_capacity cap;
    struct scsi_block_limits bl;
    struct scsi_lbp_vpd lbp;

    if (scsi_sense_parse(data, size, &s) == 0) {
        CHECK(s.key <= 0x0f);
        (void)scsi_ua_invalidates(scsi_ua_classify(&s));
    }
    if (scsi_rc16_parse(data, size, &cap) == 0)
        CHECK(cap.block_len != 0 && cap.num_blocks == cap.last_lba + 1 && cap.num_blocks != 0);
    if (scsi_rc10_parse(data, size, &cap) == 0)
        CHECK(cap.block_len != 0 && cap.num_blocks <= 0xffffffffull);
    (void)scsi_vpd_block_limits_parse(data, size, &bl);
    if (scsi_vpd_lbp_parse(data, size, &lbp) == 0)
        CHECK(lbp.lbprz <= 7 && lbp.prov_type <= 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_cdb(data, size);
    check_unmap(data, size);
    check_others(data, size);
    return 0;
}
