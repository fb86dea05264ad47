/*
 * Unit tests for applying a GET LBA STATUS answer (proxy/cache/cache_answer.c):
 * what reaches the map and the caller's extents when the answer is good,
 * malformed, raced by mutations, or arrives while negatives are blocked.
 * The model fuzzer (tests/fuzz/fuzz_cache_model.c) covers interleavings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cache_answer.h"
#include "scsi_bytes.h"

#define LUN 64

struct fixture {
    struct allocmap *map;
    struct mutlog log;
    uint8_t buf[SCSI_GLS_ALLOC_LEN(4)];
    size_t len;
    struct lba_extent out[4];
};

static struct fixture F;

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    F.map = allocmap_new(LUN, 8);
    return F.map && mutlog_init(&F.log, 4) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    allocmap_free(F.map);
    mutlog_destroy(&F.log);
    return 0;
}

/* Parameter data: [0, 16) mapped, [16, 40) deallocated, [40, 64) mapped. */
static void answer(void)
{
    static const struct { uint64_t lba; uint32_t n; uint8_t status; } d[] = {
        { 0, 16, SCSI_PROV_MAPPED }, { 16, 24, SCSI_PROV_DEALLOCATED },
        { 40, 24, SCSI_PROV_MAPPED },
    };

    memset(F.buf, 0, sizeof(F.buf));
    scsi_put_be32(F.buf, 4 + 3 * SCSI_GLS_DESC_LEN);
    for (size_t i = 0; i < 3; i++) {
        uint8_t *p = F.buf + SCSI_GLS_HDR_LEN + i * SCSI_GLS_DESC_LEN;
        scsi_put_be64(p, d[i].lba);
        scsi_put_be32(p + 8, d[i].n);
        p[12] = d[i].status;
    }
    F.len = SCSI_GLS_ALLOC_LEN(3);
}

static struct cache_answer_result apply(struct allocmap *map, bool blocked, uint64_t since)
{
    return cache_answer_apply(&(struct cache_answer_in){
        .map = map, .log = &F.log, .lun_blocks = LUN, .negatives_blocked = blocked,
        .since = since, .buf = F.buf, .len = F.len, .asked_lba = 0,
        .out = F.out, .out_cap = 4,
    });
}

/* Parameter data of n descriptors (lba, blocks, status). */
struct desc {
    uint64_t lba;
    uint32_t n;
    uint8_t status;
};

static void answer_of(const struct desc *d, size_t n)
{
    memset(F.buf, 0, sizeof(F.buf));
    scsi_put_be32(F.buf, (uint32_t)(4 + n * SCSI_GLS_DESC_LEN));
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = F.buf + SCSI_GLS_HDR_LEN + i * SCSI_GLS_DESC_LEN;
        scsi_put_be64(p, d[i].lba);
        scsi_put_be32(p + 8, d[i].n);
        p[12] = d[i].status;
    }
    F.len = SCSI_GLS_ALLOC_LEN(n);
}

static struct cache_answer_result apply_at(uint64_t asked, uint64_t since)
{
    return cache_answer_apply(&(struct cache_answer_in){
        .map = F.map, .log = &F.log, .lun_blocks = LUN, .since = since, .buf = F.buf,
        .len = F.len, .asked_lba = asked, .out = F.out, .out_cap = 4,
    });
}

static void good_answer_fills_map_negatives_first(void **state)
{
    struct cache_answer_result r;

    (void)state;
    answer();
    r = apply(F.map, false, mutlog_now(&F.log));
    assert_int_equal(r.err, SCSI_LBAS_OK);
    assert_int_equal(r.ndesc, 3);
    assert_false(r.dropped_race || r.no_memory);
    assert_int_equal(r.n_out, 1);
    assert_int_equal(F.out[0].lba, 16);
    assert_int_equal(F.out[0].blocks, 24);
    assert_int_equal(allocmap_get(F.map, 0), PAGE_ALLOCATED);
    assert_int_equal(allocmap_get(F.map, 2), PAGE_UNALLOCATED);     /* [16, 24) */
    assert_int_equal(allocmap_get(F.map, 3), PAGE_UNALLOCATED);     /* [24, 32) */
    assert_int_equal(allocmap_get(F.map, 4), PAGE_UNALLOCATED);     /* [32, 40) */
    assert_int_equal(allocmap_get(F.map, 5), PAGE_ALLOCATED);
}

static void malformed_answer_changes_nothing(void **state)
{
    struct cache_answer_result r;

    (void)state;
    answer();
    scsi_put_be64(F.buf + SCSI_GLS_HDR_LEN + SCSI_GLS_DESC_LEN, 17);   /* a gap */
    r = apply(F.map, false, mutlog_now(&F.log));
    assert_int_equal(r.err, SCSI_LBAS_GAP);
    assert_int_equal(r.ndesc, 3);
    assert_int_equal(r.n_out, 0);
    for (uint64_t p = 0; p < LUN / 8; p++)
        assert_int_equal(allocmap_get(F.map, p), PAGE_UNKNOWN);
}

static void race_rule_leaves_out_mutations(void **state)
{
    struct mutation m;
    struct cache_answer_result r;
    uint64_t since = mutlog_now(&F.log);

    (void)state;
    answer();
    mutlog_begin(&F.log, &m, 20, 4);           /* in flight over [20, 24) */
    r = apply(F.map, false, since);
    assert_false(r.dropped_race);
    assert_int_equal(r.n_out, 2);
    assert_int_equal(F.out[0].lba, 16);
    assert_int_equal(F.out[0].blocks, 4);
    assert_int_equal(F.out[1].lba, 24);
    assert_int_equal(F.out[1].blocks, 16);
    assert_int_equal(allocmap_get(F.map, 2), PAGE_PARTIAL);
    mutlog_end(&F.log, &m);
}

static void blocked_or_forgotten_drops_every_negative(void **state)
{
    struct cache_answer_result r;
    uint64_t since = mutlog_now(&F.log);

    (void)state;
    answer();
    r = apply(F.map, true, since);
    assert_true(r.dropped_race);
    assert_int_equal(r.n_out, 0);
    assert_int_equal(allocmap_get(F.map, 3), PAGE_UNKNOWN);
    assert_int_equal(allocmap_get(F.map, 0), PAGE_ALLOCATED);     /* mapped still learnt */

    mutlog_invalidate(&F.log);
    r = apply(F.map, false, since);
    assert_true(r.dropped_race);
    assert_int_equal(r.n_out, 0);
    assert_int_equal(allocmap_get(F.map, 3), PAGE_UNKNOWN);
}

static void no_map_still_reports_extents(void **state)
{
    struct cache_answer_result r;

    (void)state;
    answer();
    r = apply(NULL, false, mutlog_now(&F.log));
    assert_int_equal(r.err, SCSI_LBAS_OK);
    assert_int_equal(r.n_out, 1);
    assert_int_equal(allocmap_get(F.map, 3), PAGE_UNKNOWN);
}

/* Two answers meet inside a page (one descriptor per query, as QEMU asks;
 * or a query cut at its last descriptor): the first maps [0, 12), the
 * second starts at 12 with a deallocated extent.  Page 1 ([8, 16), one
 * block a granule) is then known in full: mapped, then zeros: PARTIAL.  In
 * between, it is described in part: read as allocated (PARTIAL, no zero
 * granule), never as zeros. */
static void answers_meeting_inside_a_page(void **state)
{
    static const struct desc first[] = { { 0, 12, SCSI_PROV_MAPPED } };
    static const struct desc second[] = { { 12, 52, SCSI_PROV_DEALLOCATED } };
    struct mutation m;

    (void)state;
    answer_of(first, 1);
    apply_at(0, mutlog_now(&F.log));
    assert_int_equal(allocmap_get(F.map, 0), PAGE_ALLOCATED);
    assert_int_equal(allocmap_get(F.map, 1), PAGE_PARTIAL);
    assert_int_equal(allocmap_partial_zeros(F.map, 1), 0);
    assert_int_equal(allocmap_get(F.map, 2), PAGE_UNKNOWN);
    answer_of(second, 1);
    apply_at(12, mutlog_now(&F.log));
    assert_int_equal(allocmap_get(F.map, 1), PAGE_PARTIAL);
    assert_int_equal(allocmap_partial_zeros(F.map, 1), 0xf0);
    for (uint64_t p = 2; p < LUN / 8; p++)
        assert_int_equal(allocmap_get(F.map, p), PAGE_UNALLOCATED);

    /* A mutation between the two answers makes the page ALLOCATED for good
     * (it may be of unknown outcome: ALLOCATED is what covers it). */
    allocmap_invalidate(F.map);
    answer_of(first, 1);
    apply_at(0, mutlog_now(&F.log));
    mutlog_begin(&F.log, &m, 9, 1);
    allocmap_mark_allocated(F.map, 9, 1);
    mutlog_end(&F.log, &m);
    answer_of(second, 1);
    apply_at(12, mutlog_now(&F.log));
    assert_int_equal(allocmap_get(F.map, 1), PAGE_ALLOCATED);

    /* The second answer raced by a mutation of [12, 14): only [14, 16). */
    allocmap_invalidate(F.map);
    answer_of(first, 1);
    apply_at(0, mutlog_now(&F.log));
    uint64_t since = mutlog_now(&F.log);
    mutlog_begin(&F.log, &m, 12, 2);
    answer_of(second, 1);
    apply_at(12, since);
    assert_int_equal(allocmap_get(F.map, 1), PAGE_PARTIAL);
    assert_int_equal(allocmap_partial_zeros(F.map, 1), 0xc0);
    mutlog_end(&F.log, &m);

    /* Forgetting negatives forgets what the page was told in part. */
    allocmap_forget_unallocated(F.map, 8, 8);
    assert_int_equal(allocmap_get(F.map, 1), PAGE_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(good_answer_fills_map_negatives_first, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_answer_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(race_rule_leaves_out_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(blocked_or_forgotten_drops_every_negative, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(no_map_still_reports_extents, setup, teardown),
        cmocka_unit_test_setup_teardown(answers_meeting_inside_a_page, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
