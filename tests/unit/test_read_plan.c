/* Unit tests for proxy/cache/read_plan.c: the READ planner, with written-out maps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "read_plan.h"

#define PB 4u                   /* blocks per page in most tests */
#define CAP 64

/* A map with one page per letter: A allocated, Z unallocated, U unknown. */
static struct allocmap *map_of(const char *pages, uint64_t lun_blocks)
{
    struct allocmap *m = allocmap_new(lun_blocks, PB);
    assert_non_null(m);
    for (uint64_t p = 0; pages[p] != '\0'; p++) {
        if (pages[p] == 'A')
            allocmap_mark_allocated(m, p * PB, PB);
        else if (pages[p] == 'Z')
            allocmap_learn_unallocated(m, p * PB, PB);
    }
    return m;
}

struct fixture {
    struct allocmap *map;
    struct read_plan_in in;
    struct read_seg seg[CAP];
    struct read_plan plan;
};

static void setup(struct fixture *f, const char *pages, uint64_t lba, uint32_t blocks)
{
    memset(f, 0, sizeof(*f));
    f->map = map_of(pages, strlen(pages) * PB);
    f->in = (struct read_plan_in){
        .map = f->map, .trust_unallocated = true, .may_query = true,
        .lba = lba, .blocks = blocks, .max_xfer_blocks = 1024,
    };
}

static void plan(struct fixture *f)
{
    assert_int_equal(read_plan_make(&f->in, f->seg, CAP, &f->plan), 0);
}

/* The plan must be exactly want[] (kind, lba, blocks), with no query. */
static void expect(const struct fixture *f, const struct read_seg *want, size_t n)
{
    assert_false(f->plan.needs_query);
    assert_int_equal(f->plan.n_segs, n);
    for (size_t i = 0; i < n; i++) {
        if (f->seg[i].kind != want[i].kind || f->seg[i].lba != want[i].lba
            || f->seg[i].blocks != want[i].blocks)
            fail_msg("segment %zu: %s %llu+%u, want %s %llu+%u", i,
                     f->seg[i].kind == SEG_ZERO ? "zero" : "backend",
                     (unsigned long long)f->seg[i].lba, f->seg[i].blocks,
                     want[i].kind == SEG_ZERO ? "zero" : "backend",
                     (unsigned long long)want[i].lba, want[i].blocks);
    }
}

static void expect_query(const struct fixture *f, uint64_t lba)
{
    assert_true(f->plan.needs_query);
    assert_int_equal(f->plan.n_segs, 0);
    assert_int_equal(f->plan.query_lba, lba);
}

#define Z(l, n) { SEG_ZERO, (l), (n) }
#define B(l, n) { SEG_BACKEND, (l), (n) }

static void test_all_zero(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "ZZZZ", 0, 16);
    plan(&f);
    const struct read_seg want[] = { Z(0, 16) };
    expect(&f, want, 1);
    assert_false(f.plan.all_backend);
    allocmap_free(f.map);
}

static void test_all_backend(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "AAAA", 1, 14);
    plan(&f);
    const struct read_seg want[] = { B(1, 14) };
    expect(&f, want, 1);
    assert_true(f.plan.all_backend);
    allocmap_free(f.map);
}

static void test_mixed(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "AZZAUA", 0, 24);
    f.in.may_query = false;             /* the U page is read from the backend */
    plan(&f);
    const struct read_seg want[] = { B(0, 4), Z(4, 8), B(12, 12) };
    expect(&f, want, 3);
    assert_false(f.plan.all_backend);
    allocmap_free(f.map);
}

static void test_split_at_max_xfer(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "AAAAZZZZZZAA", 0, 48);
    f.in.max_xfer_blocks = 5;
    plan(&f);
    const struct read_seg want[] = {
        B(0, 5), B(5, 5), B(10, 5), B(15, 1), Z(16, 24), B(40, 5), B(45, 3),
    };
    expect(&f, want, 7);
    assert_false(f.plan.all_backend);
    allocmap_free(f.map);

    setup(&f, "AAAA", 0, 16);
    f.in.max_xfer_blocks = 8;
    plan(&f);
    const struct read_seg want2[] = { B(0, 8), B(8, 8) };
    expect(&f, want2, 2);
    assert_true(f.plan.all_backend);    /* split, but no zeros: pass through */
    allocmap_free(f.map);
}

static void test_verify_mode(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "ZZAZ", 0, 16);
    f.in.trust_unallocated = false;
    plan(&f);
    expect_query(&f, 0);                /* UNALLOCATED is not trusted */

    /* With this READ's answer: zeros where it says so, over ALLOCATED too. */
    const struct lba_extent ans[] = { { 0, 7 }, { 9, 7 } };
    f.in.answer = ans;
    f.in.n_answer = 2;
    plan(&f);
    expect_query(&f, 7);
    const struct lba_extent ans2[] = { { 0, 16 } };
    f.in.answer = ans2;
    f.in.n_answer = 1;
    plan(&f);
    const struct read_seg want[] = { Z(0, 16) };
    expect(&f, want, 1);

    f.in.may_query = false;             /* answer {0,7},{9,7}: blocks 7, 8 unknown */
    f.in.answer = ans;
    f.in.n_answer = 2;
    plan(&f);
    const struct read_seg want2[] = { Z(0, 7), B(7, 2), Z(9, 7) };
    expect(&f, want2, 3);
    allocmap_free(f.map);
}

static void test_no_query_allowed(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "UZUU", 0, 16);
    f.in.may_query = false;
    plan(&f);
    const struct read_seg want[] = { B(0, 4), Z(4, 4), B(8, 8) };
    expect(&f, want, 3);
    f.in.trust_unallocated = false;
    plan(&f);
    const struct read_seg want2[] = { B(0, 16) };
    expect(&f, want2, 1);
    assert_true(f.plan.all_backend);
    allocmap_free(f.map);
}

static void test_query_lba(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "ZZUZ", 0, 16);
    plan(&f);
    expect_query(&f, 8);
    f.in.lba = 9;
    f.in.blocks = 7;
    plan(&f);
    expect_query(&f, 9);
    f.in.lba = 12;
    f.in.blocks = 4;
    plan(&f);
    const struct read_seg want[] = { Z(12, 4) };
    expect(&f, want, 1);
    allocmap_free(f.map);
}

static void test_partial_pages_at_both_ends(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "ZAZZ", 2, 12);
    plan(&f);
    const struct read_seg want[] = { Z(2, 2), B(4, 4), Z(8, 6) };
    expect(&f, want, 3);
    f.in.lba = 5;
    f.in.blocks = 2;                    /* inside one page */
    plan(&f);
    const struct read_seg want2[] = { B(5, 2) };
    expect(&f, want2, 1);
    allocmap_free(f.map);
}

static void test_answer_partial_pages(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "UUUU", 0, 16);
    const struct lba_extent ans[] = { { 2, 5 }, { 7, 0 }, { 10, 1 } };
    f.in.answer = ans;
    f.in.n_answer = 3;
    plan(&f);
    expect_query(&f, 0);
    f.in.may_query = false;
    plan(&f);
    const struct read_seg want[] = { B(0, 2), Z(2, 5), B(7, 3), Z(10, 1), B(11, 5) };
    expect(&f, want, 5);
    f.in.may_query = true;              /* a READ the answer covers needs no query */
    f.in.lba = 3;
    f.in.blocks = 4;
    plan(&f);
    const struct read_seg want2[] = { Z(3, 4) };
    expect(&f, want2, 1);
    allocmap_free(f.map);
}

static void test_bad_answer_ignored(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "UUU", 0, 12);
    const struct lba_extent unsorted[] = { { 8, 4 }, { 0, 4 } };
    const struct lba_extent overlap[] = { { 0, 6 }, { 4, 8 } };
    const struct lba_extent wraps[] = { { 0, 4 }, { 8, UINT64_MAX } };
    const struct lba_extent *bad[] = { unsorted, overlap, wraps };
    for (size_t i = 0; i < 3; i++) {
        f.in.answer = bad[i];
        f.in.n_answer = 2;
        f.in.may_query = true;
        plan(&f);
        expect_query(&f, 0);
        f.in.may_query = false;
        plan(&f);
        const struct read_seg want[] = { B(0, 12) };
        expect(&f, want, 1);
    }
    f.in.answer = NULL;                 /* NULL with a count: no answer */
    f.in.n_answer = 5;
    plan(&f);
    const struct read_seg want[] = { B(0, 12) };
    expect(&f, want, 1);
    allocmap_free(f.map);
}

static void test_cap(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "AZAZA", 0, 20);
    assert_int_equal(read_plan_make(&f.in, f.seg, 4, &f.plan), -1);
    assert_int_equal(read_plan_make(&f.in, f.seg, 5, &f.plan), 0);
    assert_int_equal(f.plan.n_segs, 5);
    allocmap_free(f.map);

    setup(&f, "AZAZU", 0, 20);          /* a query needs no room */
    assert_int_equal(read_plan_make(&f.in, f.seg, 0, &f.plan), 0);
    expect_query(&f, 16);
    allocmap_free(f.map);
}

/* Values from the wire that would divide or step by 0: no plan. */
static void test_zero_parameters(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "AZAZ", 0, 16);
    f.in.max_xfer_blocks = 0;
    assert_int_equal(read_plan_make(&f.in, f.seg, CAP, &f.plan), -1);
    f.in.max_xfer_blocks = 1;
    f.in.blocks = 0;
    assert_int_equal(read_plan_make(&f.in, f.seg, CAP, &f.plan), -1);
    f.in.blocks = 16;
    plan(&f);
    assert_int_equal(f.plan.n_segs, 10);    /* 4 one-block parts per A page */
    allocmap_free(f.map);
}

static void test_one_gib_read(void **state)
{
    (void)state;
    /* 64 TiB of 512-byte blocks, 64 KiB pages; a 1 GiB READ across chunks. */
    struct allocmap *m = allocmap_new(UINT64_C(1) << 37, 128);
    uint64_t lba = (UINT64_C(1) << 23) - 3;             /* just before chunk 1 */
    allocmap_learn_unallocated(m, 0, UINT64_C(1) << 37);
    struct read_plan_in in = {
        .map = m, .trust_unallocated = true, .may_query = true,
        .lba = lba, .blocks = 1u << 21, .max_xfer_blocks = 1u << 16,
    };
    struct read_seg seg[CAP];
    struct read_plan p;
    assert_int_equal(read_plan_make(&in, seg, CAP, &p), 0);
    assert_int_equal(p.n_segs, 1);
    assert_int_equal(seg[0].kind, SEG_ZERO);
    assert_int_equal(seg[0].blocks, 1u << 21);

    allocmap_mark_allocated(m, 0, UINT64_C(1) << 37);
    assert_int_equal(read_plan_make(&in, seg, CAP, &p), 0);
    assert_int_equal(p.n_segs, 32);
    assert_true(p.all_backend);
    assert_int_equal(seg[31].lba + seg[31].blocks, lba + (1u << 21));
    allocmap_free(m);
}

static void test_read_past_lun(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "ZZ", 4, 8);              /* blocks 8..11 are past the LUN */
    plan(&f);
    expect_query(&f, 8);
    f.in.may_query = false;
    plan(&f);
    const struct read_seg want[] = { Z(4, 4), B(8, 4) };
    expect(&f, want, 2);
    allocmap_free(f.map);
}

/* PARTIAL pages (64-block pages: 16 granules of 4 blocks): zero granules
 * are zeros in exclusive mode, the rest read from the backend; in verify
 * mode the page counts as ALLOCATED and only the READ's answer decides. */
static void test_partial_page_granules(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(256, 64);
    struct read_seg seg[CAP];
    struct read_plan p;
    allocmap_learn_unallocated(m, 8, 56);              /* page 0: granules 2-15 */
    allocmap_learn_allocated(m, 0, 8);
    allocmap_learn_unallocated(m, 64, 60);             /* page 1: 0-14 */
    allocmap_learn_allocated(m, 124, 4);
    assert_int_equal(allocmap_get(m, 0), PAGE_PARTIAL);
    assert_int_equal(allocmap_get(m, 1), PAGE_PARTIAL);
    struct read_plan_in in = {
        .map = m, .trust_unallocated = true, .may_query = true,
        .lba = 2, .blocks = 140, .max_xfer_blocks = 1024,
    };
    assert_int_equal(read_plan_make(&in, seg, CAP, &p), 0);
    expect_query(&(struct fixture){ .plan = p }, 128);  /* page 2 is unknown */
    in.blocks = 125;                                    /* ends inside granule 15 */
    assert_int_equal(read_plan_make(&in, seg, CAP, &p), 0);
    assert_false(p.needs_query);
    const struct read_seg want[] = { B(2, 6), Z(8, 116), B(124, 3) };
    struct fixture f = { .plan = p };
    memcpy(f.seg, seg, sizeof(seg));
    expect(&f, want, 3);

    in.trust_unallocated = false;                       /* verify: the answer only */
    const struct lba_extent ans[] = { { 40, 10 } };
    in.answer = ans;
    in.n_answer = 1;
    assert_int_equal(read_plan_make(&in, f.seg, CAP, &f.plan), 0);
    const struct read_seg want2[] = { B(2, 38), Z(40, 10), B(50, 77) };
    expect(&f, want2, 3);
    allocmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_zero),
        cmocka_unit_test(test_all_backend),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_split_at_max_xfer),
        cmocka_unit_test(test_verify_mode),
        cmocka_unit_test(test_no_query_allowed),
        cmocka_unit_test(test_query_lba),
        cmocka_unit_test(test_partial_pages_at_both_ends),
        cmocka_unit_test(test_answer_partial_pages),
        cmocka_unit_test(test_bad_answer_ignored),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_zero_parameters),
        cmocka_unit_test(test_one_gib_read),
        cmocka_unit_test(test_read_past_lun),
        cmocka_unit_test(test_partial_page_granules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
