/*
 * GET LBA STATUS answered by the proxy (lba_status_answer.c): every SBC-5
 * 5.6.2 rule the builder keeps, and the invariant (never deallocated for a
 * block that may hold data), checked by parsing each answer back with the
 * parser the proxy applies to the SAN's answers; in verify mode, only a
 * fresh answer says deallocated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lba_status_answer.h"
#include "scsi_bytes.h"
#include "scsi_lba_status.h"

#define PAGE 16u                    /* blocks per page: granules of 1 block */
#define LUN (64u * PAGE + 5)        /* a partial last page */

static uint8_t out[SCSI_GLS_ALLOC_LEN(64)];

static enum lba_status_answer ask(const struct allocmap *m, uint64_t lun, uint64_t lba,
                                  uint32_t alloc, struct lba_status_reply *r)
{
    struct lba_status_request req = { .lba = lba, .alloc_len = alloc, .trust_unallocated = true };
    memset(out, 0xee, sizeof(out));
    return lba_status_answer_build(m, lun, &req, out, sizeof(out), r);
}

static void desc(unsigned i, uint64_t *lba, uint32_t *blocks, uint8_t *prov)
{
    const uint8_t *d = out + SCSI_GLS_HDR_LEN + i * SCSI_GLS_DESC_LEN;
    *lba = scsi_get_be64(d);
    *blocks = scsi_get_be32(d + 8);
    *prov = d[12] & 0x0f;
}

/* Parse the answer back and check it against the map block by block. */
static void check_against_map(const struct allocmap *m, uint64_t lun, uint64_t lba,
                              const struct lba_status_reply *r)
{
    struct scsi_lba_run runs[128];
    struct scsi_lba_status_result res;

    assert_int_equal(scsi_get_be32(out), 4 + r->ndesc * SCSI_GLS_DESC_LEN);
    assert_int_equal(scsi_lba_status_parse(out, r->len, lba, lun, runs, 128, &res), 0);
    assert_int_equal(res.end_lba, r->end_lba);
    for (size_t i = 0; i < res.nruns; i++) {
        for (uint64_t b = runs[i].lba; b < runs[i].lba + runs[i].blocks; b++) {
            enum page_state st = allocmap_get(m, b / PAGE);
            bool zero = st == PAGE_UNALLOCATED ||
                        (st == PAGE_PARTIAL && (allocmap_partial_zeros(m, b / PAGE) >> (b % PAGE) & 1));
            assert_int_equal(runs[i].unallocated, zero);
            assert_int_not_equal(st, PAGE_UNKNOWN);
        }
    }
}

static struct allocmap *map_aua(void)
{
    struct allocmap *m = allocmap_new(LUN, PAGE);
    allocmap_learn_allocated(m, 0, 4 * PAGE);       /* pages 0-3 */
    allocmap_learn_unallocated(m, 4 * PAGE, 8 * PAGE);  /* 4-11 */
    allocmap_learn_allocated(m, 12 * PAGE, 2 * PAGE);   /* 12-13 */
    allocmap_learn_unallocated(m, 14 * PAGE, LUN - 14 * PAGE); /* to the end */
    return m;
}

static void test_runs_merged_from_mid_page(void **state)
{
    (void)state;
    struct allocmap *m = map_aua();
    struct lba_status_reply r;
    uint64_t lba;
    uint32_t n;
    uint8_t prov;

    assert_int_equal(ask(m, LUN, 3 * PAGE + 7, SCSI_GLS_ALLOC_LEN(64), &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 4);
    desc(0, &lba, &n, &prov);
    assert_int_equal(lba, 3 * PAGE + 7);            /* the first starts at the STARTING LBA */
    assert_int_equal(n, PAGE - 7);
    assert_int_equal(prov, SCSI_PROV_MAPPED_OR_UNKNOWN);
    desc(1, &lba, &n, &prov);
    assert_int_equal(lba, 4 * PAGE);
    assert_int_equal(n, 8 * PAGE);
    assert_int_equal(prov, SCSI_PROV_DEALLOCATED);
    desc(3, &lba, &n, &prov);
    assert_int_equal(lba + n, LUN);                 /* the last LBA of the LUN, partial page */
    assert_int_equal(r.end_lba, LUN);
    check_against_map(m, LUN, 3 * PAGE + 7, &r);
    allocmap_free(m);
}

/* The allocation length holds whole descriptors only; the parameter data
 * length counts the descriptors returned. */
static void test_allocation_lengths(void **state)
{
    (void)state;
    struct allocmap *m = map_aua();
    struct lba_status_reply r;

    assert_int_equal(ask(m, LUN, 0, SCSI_GLS_ALLOC_LEN(1), &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 1);
    assert_int_equal(r.len, SCSI_GLS_ALLOC_LEN(1));
    assert_int_equal(r.end_lba, 4 * PAGE);
    check_against_map(m, LUN, 0, &r);

    assert_int_equal(ask(m, LUN, 0, SCSI_GLS_ALLOC_LEN(2) - 1, &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 1);                   /* never cut mid-descriptor */
    assert_int_equal(out[SCSI_GLS_ALLOC_LEN(1)], 0xee);

    assert_int_equal(ask(m, LUN, 0, SCSI_GLS_ALLOC_LEN(2), &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 2);
    assert_int_equal(r.end_lba, 12 * PAGE);
    check_against_map(m, LUN, 0, &r);

    /* Too short for one descriptor, a REPORT TYPE the map cannot answer,
     * past the end: the SAN answers. */
    assert_int_equal(ask(m, LUN, 0, SCSI_GLS_ALLOC_LEN(1) - 1, &r), LBA_STATUS_FORWARD);
    assert_int_equal(ask(m, LUN, LUN, SCSI_GLS_ALLOC_LEN(1), &r), LBA_STATUS_FORWARD);
    struct lba_status_request req = { .lba = 0, .alloc_len = 64, .report_type = 2,
                                      .trust_unallocated = true };
    assert_int_equal(lba_status_answer_build(m, LUN, &req, out, sizeof(out), &r),
                     LBA_STATUS_FORWARD);
    /* A map of another size (facts changed meanwhile) answers nothing. */
    assert_int_equal(ask(m, LUN + 1, 0, 64, &r), LBA_STATUS_FORWARD);
    allocmap_free(m);
}

static void test_last_block(void **state)
{
    (void)state;
    struct allocmap *m = map_aua();
    struct lba_status_reply r;
    uint64_t lba;
    uint32_t n;
    uint8_t prov;

    assert_int_equal(ask(m, LUN, LUN - 1, SCSI_GLS_ALLOC_LEN(4), &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 1);
    desc(0, &lba, &n, &prov);
    assert_int_equal(lba, LUN - 1);
    assert_int_equal(n, 1);
    assert_int_equal(prov, SCSI_PROV_DEALLOCATED);
    allocmap_free(m);
}

/* UNKNOWN at the STARTING LBA: ask the SAN; further on: the answer ends there. */
static void test_unknown(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(LUN, PAGE);
    struct lba_status_reply r;

    assert_int_equal(ask(m, LUN, 0, 64, &r), LBA_STATUS_NEED_QUERY);
    allocmap_learn_unallocated(m, 0, 2 * PAGE);
    assert_int_equal(ask(m, LUN, 5, SCSI_GLS_ALLOC_LEN(8), &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 1);
    assert_int_equal(r.end_lba, 2 * PAGE);
    check_against_map(m, LUN, 5, &r);
    assert_int_equal(ask(m, LUN, 2 * PAGE, 64, &r), LBA_STATUS_NEED_QUERY);
    allocmap_free(m);
}

/* PARTIAL pages: their zero granules are deallocated, the rest mapped; a
 * mutation makes the page ALLOCATED (mapped) before it is sent. */
static void test_partial_granules_and_mutation(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(LUN, PAGE);
    struct lba_status_reply r;

    allocmap_learn_unallocated(m, 2, 3);            /* granules 2-4 of page 0 */
    assert_int_equal(allocmap_get(m, 0), PAGE_PARTIAL);
    allocmap_learn_unallocated(m, PAGE, PAGE);      /* page 1 */
    assert_int_equal(ask(m, LUN, 0, SCSI_GLS_ALLOC_LEN(16), &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 4);                   /* mapped 0-1, dealloc 2-4, mapped 5-15, dealloc page 1 */
    check_against_map(m, LUN, 0, &r);

    allocmap_mark_allocated(m, PAGE + 3, 1);        /* a WRITE into page 1 is sent */
    assert_int_equal(ask(m, LUN, PAGE, SCSI_GLS_ALLOC_LEN(16), &r), LBA_STATUS_ANSWERED);
    uint64_t lba;
    uint32_t n;
    uint8_t prov;
    desc(0, &lba, &n, &prov);
    assert_int_equal(prov, SCSI_PROV_MAPPED_OR_UNKNOWN);
    check_against_map(m, LUN, PAGE, &r);
    allocmap_free(m);
}

/* NUMBER OF LOGICAL BLOCKS is 32 bits: a longer run takes several descriptors. */
static void test_huge_run_split(void **state)
{
    (void)state;
    uint64_t lun = (1ull << 33) + 10;               /* 4 TiB of 512-byte blocks */
    struct allocmap *m = allocmap_new(lun, 128);
    struct lba_status_reply r;
    uint64_t lba;
    uint32_t n;
    uint8_t prov;

    allocmap_learn_unallocated(m, 0, lun);
    assert_int_equal(ask(m, lun, 0, SCSI_GLS_ALLOC_LEN(8), &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 3);
    desc(0, &lba, &n, &prov);
    assert_int_equal(n, 0xffffffffu);
    desc(2, &lba, &n, &prov);
    assert_int_equal(lba + n, lun);
    assert_int_equal(prov, SCSI_PROV_DEALLOCATED);
    assert_int_equal(ask(m, lun, 0, SCSI_GLS_ALLOC_LEN(1), &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.end_lba, 0xffffffffull);
    allocmap_free(m);
}

/* verify mode: the map's negatives are not trusted; a fresh answer, when
 * given, is. */
static enum lba_status_answer ask_verify(const struct allocmap *m, uint64_t lba, uint32_t alloc,
                                         const struct lba_answer *fresh,
                                         struct lba_status_reply *r)
{
    struct lba_status_request req = { .lba = lba, .alloc_len = alloc, .fresh = fresh };
    memset(out, 0xee, sizeof(out));
    return lba_status_answer_build(m, LUN, &req, out, sizeof(out), r);
}

static bool in_fresh(const struct lba_answer *f, uint64_t b)
{
    for (size_t i = 0; f && i < f->n; i++)
        if (b >= f->dealloc[i].lba && b < f->dealloc[i].lba + f->dealloc[i].blocks)
            return true;
    return false;
}

/* Parse a verify answer back: deallocated exactly where the fresh answer
 * said so; mapped blocks outside its span are mapped in the map. */
static void check_verify(const struct allocmap *m, uint64_t lba, const struct lba_answer *f,
                         const struct lba_status_reply *r)
{
    struct scsi_lba_run runs[128];
    struct scsi_lba_status_result res;

    assert_int_equal(scsi_lba_status_parse(out, r->len, lba, LUN, runs, 128, &res), 0);
    assert_int_equal(res.end_lba, r->end_lba);
    for (size_t i = 0; i < res.nruns; i++) {
        for (uint64_t b = runs[i].lba; b < runs[i].lba + runs[i].blocks; b++) {
            bool span = f && b >= f->from && b < f->to;
            assert_int_equal(runs[i].unallocated, span && in_fresh(f, b));
            if (!span) {
                enum page_state st = allocmap_get(m, b / PAGE);
                assert_true(st == PAGE_ALLOCATED ||
                            (st == PAGE_PARTIAL &&
                             !(allocmap_partial_zeros(m, b / PAGE) >> (b % PAGE) & 1)));
            }
        }
    }
}

static void test_verify_map_says_mapped_only(void **state)
{
    (void)state;
    struct allocmap *m = map_aua();
    struct lba_status_reply r;

    /* ALLOCATED pages 0-3: mapped, and the answer stops at page 4, which the
     * map calls UNALLOCATED, however many descriptors fit. */
    assert_int_equal(ask_verify(m, 3 * PAGE + 7, SCSI_GLS_ALLOC_LEN(64), NULL, &r),
                     LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 1);
    assert_int_equal(r.end_lba, 4 * PAGE);
    check_verify(m, 3 * PAGE + 7, NULL, &r);
    /* an UNALLOCATED or UNKNOWN page at the STARTING LBA needs a fresh answer */
    assert_int_equal(ask_verify(m, 4 * PAGE, 64, NULL, &r), LBA_STATUS_NEED_QUERY);
    struct allocmap *u = allocmap_new(LUN, PAGE);
    assert_int_equal(ask_verify(u, 0, 64, NULL, &r), LBA_STATUS_NEED_QUERY);
    /* a PARTIAL page: mapped up to its first zero granule; at one, a query */
    allocmap_learn_unallocated(u, 2, 3);
    assert_int_equal(ask_verify(u, 0, 64, NULL, &r), LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 1);
    assert_int_equal(r.end_lba, 2);
    check_verify(u, 0, NULL, &r);
    assert_int_equal(ask_verify(u, 3, 64, NULL, &r), LBA_STATUS_NEED_QUERY);
    allocmap_free(u);
    allocmap_free(m);
}

static void test_verify_fresh_answer(void **state)
{
    (void)state;
    struct allocmap *m = map_aua();
    struct lba_status_reply r;
    /* the SAN now says, from page 2 to page 8: deallocated [2P+3, 3P) -- over
     * an ALLOCATED page: fresh beats the map -- and [6P, 7P); mapped between,
     * though the map calls pages 4-7 UNALLOCATED. */
    const struct lba_extent ext[] = { { 2 * PAGE + 3, PAGE - 3 }, { 6 * PAGE, PAGE } };
    struct lba_answer f = { .dealloc = ext, .n = 2, .from = 2 * PAGE, .to = 8 * PAGE };
    uint64_t lba;
    uint32_t n;
    uint8_t prov;

    assert_int_equal(ask_verify(m, 2 * PAGE, SCSI_GLS_ALLOC_LEN(64), &f, &r),
                     LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 5);
    assert_int_equal(r.end_lba, 8 * PAGE);          /* the map's page 8 is UNALLOCATED: stop */
    desc(1, &lba, &n, &prov);
    assert_int_equal(lba, 2 * PAGE + 3);
    assert_int_equal(prov, SCSI_PROV_DEALLOCATED);
    check_verify(m, 2 * PAGE, &f, &r);
    /* from inside the span, cut by the allocation length */
    assert_int_equal(ask_verify(m, 2 * PAGE + 5, SCSI_GLS_ALLOC_LEN(1), &f, &r),
                     LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 1);
    assert_int_equal(r.end_lba, 3 * PAGE);
    check_verify(m, 2 * PAGE + 5, &f, &r);

    /* a span that ends mapped goes on with the map's mapped pages */
    struct lba_answer g = { .dealloc = NULL, .n = 0, .from = 10 * PAGE, .to = 12 * PAGE };
    assert_int_equal(ask_verify(m, 10 * PAGE, SCSI_GLS_ALLOC_LEN(8), &g, &r),
                     LBA_STATUS_ANSWERED);
    assert_int_equal(r.ndesc, 1);
    assert_int_equal(r.end_lba, 14 * PAGE);
    check_verify(m, 10 * PAGE, &g, &r);

    /* an answer that does not cover the STARTING LBA, or describes nothing
     * (every negative dropped), is no answer */
    assert_int_equal(ask_verify(m, 9 * PAGE, 64, &g, &r), LBA_STATUS_NEED_QUERY);
    struct lba_answer none = { .from = 4 * PAGE, .to = 4 * PAGE };
    assert_int_equal(ask_verify(m, 4 * PAGE, 64, &none, &r), LBA_STATUS_NEED_QUERY);
    allocmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_merged_from_mid_page),
        cmocka_unit_test(test_allocation_lengths),
        cmocka_unit_test(test_last_block),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_partial_granules_and_mutation),
        cmocka_unit_test(test_huge_run_split),
        cmocka_unit_test(test_verify_map_says_mapped_only),
        cmocka_unit_test(test_verify_fresh_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
