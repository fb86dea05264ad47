/* Unit tests for the pure cache policy (proxy/cache/lu_policy.c,
 * cache_mutation.c): issue 9's cases where this layer decides, as the
 * interleavings the daemon goes through.  The other cases: 1 (identity per
 * nexus) in test_nexus_map.c and test_lu_key.c; 2 (copy offload) in
 * test_scsi_copy.c and test_lu_key.c; 3 (unknown outcomes: negatives
 * blocked) in test_cache_answer.c; 7 in test_scsi_reservation.c,
 * test_order_gate.c, test_zero_probe.c and test_ua_stash.c; 8 (bounded
 * memory) in test_allocmap.c (detail limits and shares) and
 * test_nexus_map.c.  All of them together: fuzz_lu_model.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cache_mutation.h"
#include "lu_key.h"
#include "lu_policy.h"

#define LUN_BLOCKS 4096u        /* 2 MiB of 512-byte blocks */
#define PAGE 128u               /* 64 KiB pages */

static struct scsi_cdb_info decode(const uint8_t *cdb)
{
    struct scsi_cdb_info ci;
    scsi_cdb_decode(cdb, 16, &ci);
    return ci;
}

static struct scsi_cdb_info write10(uint32_t lba, uint16_t blocks)
{
    uint8_t cdb[16] = { 0x2a, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16), (uint8_t)(lba >> 8),
                        (uint8_t)lba, 0, (uint8_t)(blocks >> 8), (uint8_t)blocks };
    return decode(cdb);
}

static bool emitted;
static void note_emit(void *arg, uint64_t lba, uint64_t blocks)
{
    (void)arg;
    (void)lba;
    (void)blocks;
    emitted = true;
}

/* Case 4: a WRITE sent while the LU is pass-through (no map yet) is still
 * logged, so an answer to a query sent before it completes -- applied after a
 * reload or re-probe made a map -- is not trusted for its blocks. */
static void test_mutation_logged_without_map(void **state)
{
    (void)state;
    struct mutlog log;
    struct mutation m;
    assert_int_equal(mutlog_init(&log, 16), 0);
    struct scsi_cdb_info ci = write10(256, 8);
    assert_int_equal(cache_mutation_begin(NULL, &log, 0, &ci, NULL, 0, &m), CACHE_MUT_RANGE);
    uint64_t since = mutlog_now(&log);             /* the query goes out now */
    emitted = false;
    mutlog_filter(&log, since, 256, 8, note_emit, NULL);
    assert_false(emitted);                         /* in flight: no negative */
    mutlog_end(&log, &m);
    emitted = false;
    mutlog_filter(&log, since, 256, 8, note_emit, NULL);
    assert_false(emitted);                         /* completed after the query */
    mutlog_destroy(&log);
}

/* A mutation marks its pages ALLOCATED; one of unknown extent covers the LU
 * and forgets every negative; UNMAP's parameter list names its extents, and
 * what it fully covers becomes UNKNOWN once it succeeded. */
static void test_mutation_marks_and_unmap(void **state)
{
    (void)state;
    struct allocmap *map = allocmap_new(LUN_BLOCKS, PAGE);
    struct mutlog log;
    struct mutation m;
    assert_non_null(map);
    assert_int_equal(mutlog_init(&log, 16), 0);
    allocmap_learn_unallocated(map, 0, LUN_BLOCKS);

    struct scsi_cdb_info w = write10(PAGE * 2 + 5, 1);
    assert_int_equal(cache_mutation_begin(map, &log, LUN_BLOCKS, &w, NULL, 0, &m),
                     CACHE_MUT_RANGE);
    assert_int_equal(allocmap_get(map, 2), PAGE_ALLOCATED);
    assert_int_equal(allocmap_get(map, 3), PAGE_UNALLOCATED);
    mutlog_end(&log, &m);

    /* UNMAP of pages 4-5 (whole) and half of page 7. */
    uint8_t cdb[16] = { 0x42, 0, 0, 0, 0, 0, 0, 0, 40 };
    uint8_t param[40] = { 0, 38, 0, 32 };
    param[8 + 6] = (uint8_t)((PAGE * 4) >> 8);    /* LBA 512 */
    param[8 + 10] = 1;                             /* 256 blocks */
    param[24 + 6] = (uint8_t)((PAGE * 7) >> 8);    /* LBA 896 */
    param[24 + 7] = (uint8_t)(PAGE * 7);
    param[24 + 11] = (uint8_t)(PAGE / 2);
    struct scsi_cdb_info u = decode(cdb);
    assert_int_equal(cache_mutation_begin(map, &log, LUN_BLOCKS, &u, param, sizeof(param), &m),
                     CACHE_MUT_RANGE);
    assert_int_equal(m.lba, PAGE * 4);
    assert_int_equal(m.blocks, PAGE * 3 + PAGE / 2);
    assert_int_equal(allocmap_get(map, 4), PAGE_ALLOCATED);
    assert_int_equal(allocmap_get(map, 6), PAGE_UNALLOCATED);  /* between the extents */
    assert_int_equal(allocmap_get(map, 7), PAGE_ALLOCATED);
    cache_mutation_succeeded(map, LUN_BLOCKS, &u, param, sizeof(param), &m);
    assert_int_equal(allocmap_get(map, 4), PAGE_UNKNOWN);      /* advice only */
    assert_int_equal(allocmap_get(map, 5), PAGE_UNKNOWN);
    assert_int_equal(allocmap_get(map, 7), PAGE_ALLOCATED);    /* half covered */
    mutlog_end(&log, &m);

    /* A command whose extent the proxy cannot know: the whole LU. */
    uint8_t unknown[16] = { 0xc5 };
    struct scsi_cdb_info x = decode(unknown);
    assert_int_equal(cache_mutation_begin(map, &log, LUN_BLOCKS, &x, NULL, 0, &m),
                     CACHE_MUT_WHOLE_LUN);
    assert_int_equal(allocmap_get(map, 3), PAGE_UNKNOWN);
    assert_int_equal(allocmap_get(map, 2), PAGE_ALLOCATED);
    mutlog_end(&log, &m);

    /* A READ changes nothing and is not logged. */
    uint8_t rd[16] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8 };
    struct scsi_cdb_info r = decode(rd);
    assert_int_equal(cache_mutation_begin(map, &log, LUN_BLOCKS, &r, NULL, 0, &m), CACHE_MUT_NONE);
    mutlog_destroy(&log);
    allocmap_free(map);
}

/* Case 5: a verify target lowers an exclusive object that an exclusive
 * target made, and a reload of that target to exclusive (the file unchanged)
 * keeps the verify: the other target may still write around the proxy. */
static void test_coherence_after_reload(void **state)
{
    struct lu_coherence c = { .mode = CONF_COHERENCE_EXCLUSIVE };

    (void)state;
    assert_int_equal(lu_coherence_join(&c, CONF_COHERENCE_EXCLUSIVE), LU_JOIN_KEEP);
    assert_int_equal(lu_coherence_join(&c, CONF_COHERENCE_VERIFY), LU_JOIN_FORCE_VERIFY);
    assert_int_equal(c.mode, CONF_COHERENCE_VERIFY);
    assert_false(lu_coherence_reload(&c, CONF_COHERENCE_EXCLUSIVE));
    assert_int_equal(c.mode, CONF_COHERENCE_VERIFY);
    assert_true(lu_coherence_reload(&c, CONF_COHERENCE_OFF));
    assert_int_equal(c.mode, CONF_COHERENCE_OFF);

    /* Without a forced verify, a reload to exclusive is obeyed. */
    struct lu_coherence d = { .mode = CONF_COHERENCE_VERIFY };
    assert_true(lu_coherence_reload(&d, CONF_COHERENCE_EXCLUSIVE));
    assert_int_equal(d.mode, CONF_COHERENCE_EXCLUSIVE);

    /* An object an `off` target made holds no cache: the next target adopts it. */
    struct lu_coherence o = { .mode = CONF_COHERENCE_OFF };
    assert_int_equal(lu_coherence_join(&o, CONF_COHERENCE_EXCLUSIVE), LU_JOIN_ADOPT);
    assert_int_equal(o.mode, CONF_COHERENCE_EXCLUSIVE);
    assert_int_equal(lu_coherence_join(&o, CONF_COHERENCE_OFF), LU_JOIN_KEEP);
}

static struct scsi_capacity thin_capacity(uint32_t block_len)
{
    struct scsi_capacity cap = { .num_blocks = 1u << 20, .last_lba = (1u << 20) - 1,
                                 .block_len = block_len, .has_rc16_fields = true,
                                 .lbpme = true, .lbprz = true };
    return cap;
}

/* Case 6: block lengths outside 512-65536 are refused before anything
 * divides by them; page and split sizes are at least one block, and the page
 * a power of two. */
static void test_geometry(void **state)
{
    (void)state;
    struct scsi_block_limits bl = { 0 };
    struct scsi_lbp_vpd lbp = { .lbprz = 1 };
    struct lu_geometry g;
    struct scsi_capacity cap = thin_capacity(512);

    assert_null(lu_policy_capacity(0, &cap));
    assert_null(lu_policy_geometry(&cap, &bl, &lbp, 0, &g));
    assert_true(g.unmapped_reads_zeros && g.zeros_from == LU_ZEROS_FROM_STATUS);
    assert_int_equal(g.page_blocks, 128);                   /* 64 KiB by default */
    assert_null(lu_policy_geometry(&cap, &bl, NULL, 0, &g));    /* no B2h page */
    assert_true(!g.unmapped_reads_zeros && g.zeros_from == LU_ZEROS_FROM_DATA);
    assert_int_equal(g.max_xfer_blocks, 16384);             /* 8 MiB */
    bl.max_xfer_len = 256;
    bl.opt_unmap_gran = 2048;                               /* 1 MiB granularity */
    assert_null(lu_policy_geometry(&cap, &bl, &lbp, 0, &g));
    assert_int_equal(g.page_blocks, 2048);
    assert_int_equal(g.max_xfer_blocks, 256);

    cap = thin_capacity(520);                               /* 64 KiB = 126 blocks */
    assert_null(lu_policy_geometry(&cap, &bl, &lbp, 0, &g));
    assert_int_equal(g.page_blocks, 64);
    cap = thin_capacity(65536);
    bl.max_xfer_len = 0;
    assert_null(lu_policy_geometry(&cap, &bl, &lbp, 4096, &g));
    assert_int_equal(g.page_blocks, 1);
    assert_int_equal(g.max_xfer_blocks, 128);

    const uint32_t refused[] = { 0, 256, 511, 65537, 8u << 20, (8u << 20) + 1, UINT32_MAX };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        cap = thin_capacity(refused[i]);
        assert_non_null(lu_policy_capacity(0, &cap));
        assert_non_null(lu_policy_geometry(&cap, &bl, &lbp, 0, &g));
    }
    cap = thin_capacity(512);
    assert_null(lu_policy_geometry(&cap, &bl, &lbp, 0, &g));
    assert_int_equal(g.zeros_from, LU_ZEROS_FROM_STATUS);
    assert_non_null(lu_policy_capacity(-1, &cap));          /* malformed data */
    /* Holes the SAN cannot report: zeros only from data. */
    cap.lbprz = false;
    assert_null(lu_policy_capacity(0, &cap));
    assert_null(lu_policy_geometry(&cap, &bl, &lbp, 0, &g));
    assert_int_equal(g.zeros_from, LU_ZEROS_FROM_DATA);
    cap = thin_capacity(512);
    cap.lbpme = false;                                      /* thick */
    assert_null(lu_policy_geometry(&cap, &bl, NULL, 0, &g));
    assert_int_equal(g.zeros_from, LU_ZEROS_FROM_DATA);
    cap = thin_capacity(512);
    assert_null(lu_policy_geometry(&cap, &bl, NULL, 0, &g));    /* no provisioning page */
    assert_int_equal(g.zeros_from, LU_ZEROS_FROM_DATA);
    lbp.lbprz = 2;                                          /* a pattern, not zeros */
    assert_null(lu_policy_geometry(&cap, &bl, &lbp, 0, &g));
    assert_int_equal(g.zeros_from, LU_ZEROS_FROM_DATA);
}

/* Cases 1 and 8: what unit attentions do, and a stale capacity re-probes
 * instead of switching zero-serving off for good. */
static void test_unit_attentions_and_refusals(void **state)
{
    (void)state;
    assert_int_equal(lu_policy_unit_attention(SCSI_UA_NONE, false), 0);
    assert_int_equal(lu_policy_unit_attention(SCSI_UA_INFO, false), 0);
    assert_int_equal(lu_policy_unit_attention(SCSI_UA_RESET, true), 0);   /* new nexus */
    assert_int_equal(lu_policy_unit_attention(SCSI_UA_RESET, false), LU_UA_FORGET_NEGATIVES);
    assert_int_equal(lu_policy_unit_attention(SCSI_UA_LUNS_CHANGED, false),
                     LU_UA_FORGET_NEGATIVES | LU_UA_UNVERIFY_ALL);
    assert_int_equal(lu_policy_unit_attention(SCSI_UA_INQUIRY_CHANGED, false),
                     LU_UA_FORGET_NEGATIVES | LU_UA_REPROBE | LU_UA_UNVERIFY_LUN);
    assert_int_equal(lu_policy_unit_attention(SCSI_UA_CAPACITY_CHANGED, false),
                     LU_UA_FORGET_NEGATIVES | LU_UA_REPROBE);
    assert_int_equal(lu_policy_unit_attention(SCSI_UA_MODE_CHANGED, false),
                     LU_UA_FORGET_NEGATIVES);
    assert_true(lu_policy_query_refusal_is_stale_capacity(0x21));
    assert_false(lu_policy_query_refusal_is_stale_capacity(0x20));  /* unsupported */
    assert_false(lu_policy_query_refusal_is_stale_capacity(0x24));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutation_logged_without_map),
        cmocka_unit_test(test_mutation_marks_and_unmap),
        cmocka_unit_test(test_coherence_after_reload),
        cmocka_unit_test(test_geometry),
        cmocka_unit_test(test_unit_attentions_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
