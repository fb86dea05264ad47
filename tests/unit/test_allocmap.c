/* Unit tests for proxy/cache/allocmap.c: the allocation cache's page-state map. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "allocmap.h"

#define CHUNK (UINT64_C(1) << 16)       /* pages per chunk in allocmap.c */

#define U PAGE_UNKNOWN
#define A PAGE_ALLOCATED
#define Z PAGE_UNALLOCATED
#define P PAGE_PARTIAL
#define DETAIL_HEADER 32                /* struct detail in allocmap.c */

/* Pages [0, n) of m must read as want[]. */
static void expect_pages(const struct allocmap *m, const enum page_state *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (allocmap_get(m, i) != want[i])
            fail_msg("page %zu: %d, want %d", i, allocmap_get(m, i), want[i]);
    }
}

static size_t mem(const struct allocmap *m)
{
    struct allocmap_stats st;
    allocmap_stats(m, &st);
    return st.memory_bytes;
}

static void test_new_rejects(void **state)
{
    (void)state;
    assert_null(allocmap_new(0, 8));
    assert_null(allocmap_new(100, 0));
    assert_null(allocmap_new(100, 3));
    assert_null(allocmap_new(100, 24));
    struct allocmap *m = allocmap_new(10, 4);
    assert_non_null(m);
    assert_int_equal(allocmap_lun_blocks(m), 10);
    assert_int_equal(allocmap_page_blocks(m), 4);
    assert_int_equal(allocmap_pages(m), 3);
    allocmap_free(m);
    allocmap_free(NULL);
}

static void test_mark_touches_partial_pages(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(64, 8);          /* 8 pages */
    allocmap_mark_allocated(m, 7, 2);                  /* blocks 7, 8: pages 0, 1 */
    allocmap_mark_allocated(m, 40, 1);                 /* page 5 */
    allocmap_mark_allocated(m, 10, 0);                 /* nothing */
    const enum page_state want[] = { A, A, U, U, U, A, U, U };
    expect_pages(m, want, 8);
    allocmap_free(m);
}

static void test_learn_unallocated_pages_and_granules(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(64, 8);          /* granule: 1 block */
    assert_int_equal(allocmap_granule_blocks(m), 1);
    allocmap_learn_unallocated(m, 4, 19);              /* 4-7 of 0, 1 whole, 16-22 of 2 */
    allocmap_learn_unallocated(m, 32, 7);              /* page 4 not fully */
    allocmap_learn_unallocated(m, 48, 8);              /* page 6 exactly */
    const enum page_state want[] = { P, Z, P, U, P, U, Z, U };
    expect_pages(m, want, 8);
    assert_int_equal(allocmap_partial_zeros(m, 0), 0xf0);
    assert_int_equal(allocmap_partial_zeros(m, 2), 0x7f);
    assert_int_equal(allocmap_partial_zeros(m, 4), 0x7f);
    assert_int_equal(allocmap_partial_zeros(m, 1), 0);
    allocmap_free(m);
}

/* 64 KiB pages of 512-byte blocks: 16 granules of 8 blocks. */
static void test_partial_pages(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(4 * 128, 128);
    size_t base = mem(m);
    assert_int_equal(allocmap_granule_blocks(m), 8);

    allocmap_learn_unallocated(m, 3 * 8 + 1, 4 * 8);   /* no whole granule but 4-6 */
    assert_int_equal(allocmap_get(m, 0), P);
    assert_int_equal(allocmap_partial_zeros(m, 0), 0x0070);
    allocmap_learn_unallocated(m, 7, 2);               /* no whole granule: nothing */
    assert_int_equal(allocmap_partial_zeros(m, 0), 0x0070);
    allocmap_learn_unallocated(m, 64, 64 + 16);        /* granules 8-15, page 1's 0-1 */
    assert_int_equal(allocmap_partial_zeros(m, 0), 0xff70);
    assert_int_equal(allocmap_partial_zeros(m, 1), 0x0003);
    allocmap_learn_unallocated(m, 0, 8 * 8);           /* 0-7: page 0 all zeros */
    assert_int_equal(allocmap_get(m, 0), Z);
    assert_int_equal(allocmap_partial_zeros(m, 0), 0);

    /* Mapped extents never touch PARTIAL; a mutation makes it ALLOCATED. */
    allocmap_learn_allocated(m, 128 + 16, 8);
    assert_int_equal(allocmap_get(m, 1), P);
    allocmap_mark_allocated(m, 128 + 100, 1);
    assert_int_equal(allocmap_get(m, 1), A);
    assert_int_equal(allocmap_partial_zeros(m, 1), 0);
    allocmap_learn_unallocated(m, 128, 8);             /* ALLOCATED stays */
    assert_int_equal(allocmap_get(m, 1), A);

    /* Forgetting negatives forgets PARTIAL; so does invalidation. */
    allocmap_learn_unallocated(m, 2 * 128, 8);
    allocmap_learn_unallocated(m, 3 * 128 + 8, 8);
    assert_int_equal(allocmap_get(m, 2), P);
    allocmap_forget_unallocated(m, 2 * 128, 1);
    assert_int_equal(allocmap_get(m, 2), U);
    assert_int_equal(allocmap_get(m, 3), P);
    struct allocmap_stats st;
    allocmap_stats(m, &st);
    assert_int_equal(st.pages[P], 1);
    assert_int_equal(st.pages[Z], 1);
    allocmap_invalidate(m);
    assert_int_equal(mem(m), base);
    allocmap_free(m);
}

/* The last page of a LUN that ends inside a granule; masks within the
 * memory limit; an answer in two race-filtered parts. */
static void test_partial_edges(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(128 + 20, 128);  /* page 1: 20 blocks */
    allocmap_learn_unallocated(m, 128, 16);            /* granules 0-1; 3-15 are past */
    assert_int_equal(allocmap_get(m, 1), P);
    assert_int_equal(allocmap_partial_zeros(m, 1), 0xfffb);
    allocmap_learn_unallocated(m, 128 + 16, 4);        /* reaches the end: whole */
    assert_int_equal(allocmap_get(m, 1), Z);
    allocmap_invalidate(m);
    allocmap_learn_unallocated(m, 128 + 8, 12);        /* granule 1, 2 to the end */
    assert_int_equal(allocmap_get(m, 1), P);
    assert_int_equal(allocmap_partial_zeros(m, 1), 0xfffe);
    allocmap_learn_unallocated(m, 0, 8);
    allocmap_learn_unallocated(m, 16, 112);            /* granule 1 held back */
    assert_int_equal(allocmap_partial_zeros(m, 0), 0xfffd);
    allocmap_free(m);

    m = allocmap_new(2 * CHUNK * 128, 128);
    size_t base = mem(m);
    allocmap_set_detail_limit(m, DETAIL_HEADER + 16384 + 16 * 4);
    for (uint64_t p = 0; p < 17; p++)                  /* room for 16 masks */
        allocmap_learn_unallocated(m, p * 128, 8);
    assert_int_equal(allocmap_get(m, 15), P);
    assert_int_equal(allocmap_get(m, 16), U);          /* skipped: stays safe */
    allocmap_learn_unallocated(m, CHUNK * 128, 8);     /* another chunk: no room */
    assert_int_equal(allocmap_get(m, CHUNK), U);
    assert_int_equal(mem(m), base + DETAIL_HEADER + 16384 + 16 * 4);
    allocmap_mark_allocated(m, 0, 16 * 128);
    assert_int_equal(mem(m), base + DETAIL_HEADER + 16384);    /* masks dropped */
    allocmap_free(m);
}

static void test_never_downgrade_allocated(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(64, 8);
    allocmap_mark_allocated(m, 16, 1);                 /* page 2 */
    allocmap_learn_unallocated(m, 0, 64);
    const enum page_state want1[] = { Z, Z, A, Z, Z, Z, Z, Z };
    expect_pages(m, want1, 8);
    /* A mapped extent heals the UNALLOCATED pages it touches (issue 9: a
     * negative a missed write left), never anything else. */
    allocmap_learn_allocated(m, 40, 1);                /* page 5 */
    const enum page_state want1b[] = { Z, Z, A, Z, Z, A, Z, Z };
    expect_pages(m, want1b, 8);
    allocmap_forget_unallocated(m, 20, 20);            /* pages 2..4 touched */
    const enum page_state want2[] = { Z, Z, A, U, U, A, Z, Z };
    expect_pages(m, want2, 8);
    allocmap_learn_allocated(m, 25, 1);                /* page 3, in part: */
    assert_int_equal(allocmap_get(m, 3), P);           /* no zero granule */
    assert_int_equal(allocmap_partial_zeros(m, 3), 0);
    allocmap_learn_allocated(m, 24, 8);                /* page 3 whole */
    const enum page_state want3[] = { Z, Z, A, A, U, A, Z, Z };
    expect_pages(m, want3, 8);
    allocmap_free(m);
}

/* A mapped extent takes from a PARTIAL page the zero granules it touches;
 * covering the page makes it ALLOCATED; leaving no zero granule keeps it
 * PARTIAL (told only by answers: later negatives may still add granules). */
static void test_learn_allocated_heals_partial(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(64, 16);         /* granules of 1 block */
    allocmap_learn_unallocated(m, 0, 8);               /* page 0: blocks 0-7 zero */
    allocmap_learn_unallocated(m, 16, 4);              /* page 1: blocks 16-19 */
    assert_int_equal(allocmap_get(m, 0), PAGE_PARTIAL);
    assert_int_equal(allocmap_partial_zeros(m, 0), 0x00ff);
    allocmap_learn_allocated(m, 2, 1);
    assert_int_equal(allocmap_partial_zeros(m, 0), 0x00fb);
    allocmap_learn_allocated(m, 6, 20);                /* the rest of page 0, page 1 */
    assert_int_equal(allocmap_get(m, 0), PAGE_PARTIAL);
    assert_int_equal(allocmap_partial_zeros(m, 0), 0x003b);
    assert_int_equal(allocmap_get(m, 1), PAGE_PARTIAL);    /* its zeros all healed */
    assert_int_equal(allocmap_partial_zeros(m, 1), 0);
    allocmap_learn_allocated(m, 0, 6);                 /* no zero granule left: */
    assert_int_equal(allocmap_get(m, 0), PAGE_PARTIAL);    /* told by answers only */
    assert_int_equal(allocmap_partial_zeros(m, 0), 0);
    allocmap_learn_unallocated(m, 8, 2);               /* so it still learns zeros */
    assert_int_equal(allocmap_partial_zeros(m, 0), 0x0300);
    allocmap_mark_allocated(m, 15, 1);                 /* a mutation: ALLOCATED */
    assert_int_equal(allocmap_get(m, 0), PAGE_ALLOCATED);
    allocmap_learn_unallocated(m, 8, 2);
    assert_int_equal(allocmap_get(m, 0), PAGE_ALLOCATED);
    allocmap_learn_unallocated(m, 32, 16);             /* page 2 UNALLOCATED */
    allocmap_learn_allocated(m, 47, 1);
    assert_int_equal(allocmap_get(m, 2), PAGE_ALLOCATED);
    allocmap_free(m);
}

static void test_forget_covered(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(64, 8);
    allocmap_mark_allocated(m, 0, 64);
    allocmap_forget_covered(m, 5, 30);                 /* blocks 5..34: pages 1..3 */
    const enum page_state want1[] = { A, U, U, U, A, A, A, A };
    expect_pages(m, want1, 8);
    allocmap_learn_unallocated(m, 8, 8);
    allocmap_forget_covered(m, 8, 7);                  /* page 1 not fully: stays */
    allocmap_forget_covered(m, 40, 8);                 /* page 5 */
    const enum page_state want2[] = { A, Z, U, U, A, U, A, A };
    expect_pages(m, want2, 8);
    allocmap_free(m);
}

static void test_partial_last_page(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(10, 4);          /* pages 0-3, 4-7, 8-9 */
    allocmap_learn_unallocated(m, 4, 3);               /* page 1 in part */
    allocmap_learn_unallocated(m, 8, 2);               /* reaches the end: page 2 */
    const enum page_state want1[] = { U, P, Z };
    expect_pages(m, want1, 3);
    allocmap_mark_allocated(m, 9, 1);
    allocmap_forget_covered(m, 9, 1);                  /* does not cover block 8 */
    assert_int_equal(allocmap_get(m, 2), A);
    allocmap_forget_covered(m, 8, UINT64_MAX);         /* clipped, reaches the end */
    assert_int_equal(allocmap_get(m, 2), U);
    allocmap_learn_unallocated(m, 2, 100);             /* 0 in part, 1, 2 */
    const enum page_state want2[] = { P, Z, Z };
    expect_pages(m, want2, 3);
    allocmap_free(m);
}

static void test_clip_past_end(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(100, 16);        /* 7 pages, last of 4 */
    allocmap_mark_allocated(m, 100, 5);
    allocmap_mark_allocated(m, UINT64_MAX, UINT64_MAX);
    allocmap_learn_unallocated(m, 1000, 1);
    struct allocmap_stats st;
    allocmap_stats(m, &st);
    assert_int_equal(st.pages[U], 7);
    allocmap_mark_allocated(m, 99, UINT64_MAX);        /* no overflow */
    assert_int_equal(allocmap_get(m, 6), A);
    assert_int_equal(allocmap_get(m, 5), U);
    assert_int_equal(allocmap_get(m, 7), U);           /* past the end */
    assert_int_equal(allocmap_get(m, UINT64_MAX), U);
    uint64_t n = 99;
    assert_int_equal(allocmap_run(m, 7, 10, &n), U);
    assert_int_equal(n, 0);
    allocmap_free(m);
}

static void test_runs_across_chunks(void **state)
{
    (void)state;
    uint64_t pages = 3 * CHUNK + 100;
    struct allocmap *m = allocmap_new(pages, 1);
    uint64_t n;
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), U);
    assert_int_equal(n, pages);
    assert_int_equal(allocmap_run(m, 5, 10, &n), U);
    assert_int_equal(n, 10);
    assert_int_equal(allocmap_run(m, 5, 0, &n), U);
    assert_int_equal(n, 0);

    allocmap_mark_allocated(m, CHUNK - 6, 12);         /* straddles chunks 0/1 */
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), U);
    assert_int_equal(n, CHUNK - 6);
    assert_int_equal(allocmap_run(m, CHUNK - 6, UINT64_MAX, &n), A);
    assert_int_equal(n, 12);
    assert_int_equal(allocmap_run(m, CHUNK + 6, UINT64_MAX, &n), U);
    assert_int_equal(n, pages - CHUNK - 6);

    /* A run of UNALLOCATED from inside chunk 1 through uniform chunk 2 into 3. */
    allocmap_learn_unallocated(m, CHUNK + 10, 2 * CHUNK + 5);
    assert_int_equal(allocmap_run(m, CHUNK + 10, UINT64_MAX, &n), Z);
    assert_int_equal(n, 2 * CHUNK + 5);
    assert_int_equal(allocmap_run(m, CHUNK + 20, CHUNK, &n), Z);
    assert_int_equal(n, CHUNK);
    assert_int_equal(allocmap_get(m, 3 * CHUNK + 15), U);
    /* Up to the end of the LUN. */
    allocmap_mark_allocated(m, 3 * CHUNK + 15, UINT64_MAX);
    assert_int_equal(allocmap_run(m, 3 * CHUNK + 15, UINT64_MAX, &n), A);
    assert_int_equal(n, 85);
    allocmap_free(m);
}

static void test_uniform_collapse(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(2 * CHUNK * 4, 4);   /* 2 chunks */
    size_t base = mem(m);
    allocmap_mark_allocated(m, 100, 1);
    assert_true(mem(m) > base);
    allocmap_mark_allocated(m, 0, CHUNK * 4);           /* chunk 0 all ALLOCATED */
    assert_int_equal(mem(m), base);
    allocmap_forget_covered(m, 8, 4);
    assert_true(mem(m) > base);
    allocmap_forget_covered(m, 0, CHUNK * 4);
    assert_int_equal(mem(m), base);
    /* Detail in both chunks, then forget_unallocated / invalidate. */
    allocmap_learn_unallocated(m, 0, 16);
    allocmap_learn_unallocated(m, CHUNK * 4, 16);
    assert_true(mem(m) > base);
    allocmap_forget_unallocated(m, 0, 2 * CHUNK * 4);
    assert_int_equal(mem(m), base);
    allocmap_mark_allocated(m, 0, 1);
    allocmap_learn_unallocated(m, CHUNK * 4 + 40, 16);
    allocmap_invalidate(m);
    assert_int_equal(mem(m), base);
    uint64_t n;
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), U);
    assert_int_equal(n, 2 * CHUNK);
    allocmap_free(m);
}

static void test_stats_counts(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(CHUNK * 3 / 2, 1);   /* a full and a half chunk */
    struct allocmap_stats st;
    allocmap_stats(m, &st);
    assert_int_equal(st.pages[U], CHUNK * 3 / 2);
    assert_int_equal(st.pages[A] + st.pages[Z], 0);
    allocmap_mark_allocated(m, CHUNK - 10, 30);
    allocmap_learn_unallocated(m, 0, 100);
    allocmap_learn_unallocated(m, CHUNK + 100, CHUNK);  /* to the end */
    allocmap_stats(m, &st);
    assert_int_equal(st.pages[A], 30);
    assert_int_equal(st.pages[Z], 100 + CHUNK / 2 - 100);
    assert_int_equal(st.pages[U], CHUNK * 3 / 2 - st.pages[A] - st.pages[Z]);
    allocmap_free(m);
}

static void test_untouched_64tib(void **state)
{
    (void)state;
    /* 64 TiB of 512-byte blocks, 64 KiB pages: 2^30 pages, 16384 chunks. */
    struct allocmap *m = allocmap_new(UINT64_C(1) << 37, 128);
    assert_int_equal(allocmap_pages(m), UINT64_C(1) << 30);
    size_t base = mem(m);
    print_message("untouched 64 TiB LUN, 64 KiB pages: %zu bytes\n", base);
    assert_true(base <= 16384 * 9 + 128);
    uint64_t n;
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), U);
    assert_int_equal(n, UINT64_C(1) << 30);
    allocmap_mark_allocated(m, UINT64_C(1) << 36, 1);
    assert_int_equal(mem(m), base + DETAIL_HEADER + 16384);
    struct allocmap_stats st;
    allocmap_stats(m, &st);
    assert_int_equal(st.pages[A], 1);
    assert_int_equal(st.pages[U], (UINT64_C(1) << 30) - 1);
    allocmap_learn_unallocated(m, 0, UINT64_C(1) << 37);
    allocmap_stats(m, &st);
    assert_int_equal(st.pages[Z], (UINT64_C(1) << 30) - 1);
    allocmap_invalidate(m);
    assert_int_equal(mem(m), base);
    allocmap_free(m);
}

static void test_4gib_fully_detailed(void **state)
{
    (void)state;
    /* 4 GiB, 64 KiB pages: 65536 pages, one chunk; alternate the states. */
    struct allocmap *m = allocmap_new(UINT64_C(1) << 23, 128);
    size_t base = mem(m);
    for (uint64_t p = 0; p < CHUNK; p += 2)
        allocmap_mark_allocated(m, p * 128, 1);
    print_message("4 GiB LUN, 64 KiB pages, fully detailed: %zu bytes\n", mem(m));
    assert_int_equal(mem(m), base + DETAIL_HEADER + 16384);
    uint64_t n;
    assert_int_equal(allocmap_run(m, 2, UINT64_MAX, &n), A);
    assert_int_equal(n, 1);
    allocmap_free(m);
}

static void test_page_sizes(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(1, 1);           /* a LUN of one block */
    assert_int_equal(allocmap_pages(m), 1);
    allocmap_learn_unallocated(m, 0, 1);
    assert_int_equal(allocmap_get(m, 0), Z);
    allocmap_mark_allocated(m, 0, 5);
    assert_int_equal(allocmap_get(m, 0), A);
    allocmap_free(m);

    m = allocmap_new(1, 1u << 31);                     /* one partial page */
    assert_int_equal(allocmap_pages(m), 1);
    allocmap_learn_unallocated(m, 0, 1);
    assert_int_equal(allocmap_get(m, 0), Z);
    allocmap_free(m);

    m = allocmap_new((UINT64_C(1) << 33) + 5, 1u << 31);  /* 5 pages, last partial */
    assert_int_equal(allocmap_pages(m), 5);
    allocmap_learn_unallocated(m, (UINT64_C(1) << 31) - 1, UINT64_C(1) << 32);
    const enum page_state want[] = { U, Z, P, U, U };   /* 2: all but its last block */
    expect_pages(m, want, 5);
    allocmap_learn_unallocated(m, UINT64_C(1) << 33, 5);
    assert_int_equal(allocmap_get(m, 4), Z);
    allocmap_free(m);

    m = allocmap_new(UINT64_MAX, 1u << 31);            /* the largest LUN there is */
    uint64_t last = allocmap_pages(m) - 1;
    assert_int_equal(last, (UINT64_C(1) << 33) - 1);
    allocmap_learn_unallocated(m, UINT64_MAX - 5, UINT64_MAX);  /* not the whole page */
    assert_int_equal(allocmap_get(m, last), U);
    allocmap_learn_unallocated(m, last << 31, UINT64_MAX);
    assert_int_equal(allocmap_get(m, last), Z);        /* partial, reaches the end */
    allocmap_mark_allocated(m, UINT64_MAX - 1, UINT64_MAX);
    assert_int_equal(allocmap_get(m, last), A);
    allocmap_free(m);
}

static void test_no_memory_safe_side(void **state)
{
    (void)state;
    struct allocmap *m = allocmap_new(2 * CHUNK, 1);
    size_t base = mem(m);
    allocmap_set_detail_limit(m, 0);
    uint64_t n;

    allocmap_mark_allocated(m, 5, 1);                  /* chunk 0 all ALLOCATED */
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), A);
    assert_int_equal(n, CHUNK);
    allocmap_learn_unallocated(m, CHUNK + 5, 10);      /* skipped */
    assert_int_equal(allocmap_run(m, CHUNK, UINT64_MAX, &n), U);
    assert_int_equal(n, CHUNK);
    allocmap_forget_covered(m, 5, 10);                 /* chunk 0 all UNKNOWN */
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), U);
    assert_int_equal(n, 2 * CHUNK);
    allocmap_learn_unallocated(m, 0, 2 * CHUNK);       /* whole chunks: no memory */
    allocmap_forget_unallocated(m, CHUNK + 1, 1);      /* chunk 1 all UNKNOWN */
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), Z);
    assert_int_equal(n, CHUNK);
    assert_int_equal(allocmap_run(m, CHUNK, UINT64_MAX, &n), U);
    assert_int_equal(n, CHUNK);
    assert_int_equal(mem(m), base);

    /* Room for one chunk's detail only. */
    allocmap_set_detail_limit(m, DETAIL_HEADER + 16384);
    allocmap_mark_allocated(m, 3, 1);                  /* detailed */
    allocmap_learn_allocated(m, CHUNK + 3, 1);         /* skipped */
    assert_int_equal(allocmap_get(m, 2), Z);
    assert_int_equal(allocmap_get(m, 3), A);
    assert_int_equal(allocmap_get(m, CHUNK + 3), U);
    allocmap_free(m);
}

/* A limit below what the map holds forgets detailed chunks to UNKNOWN, from
 * the first, until it fits; uniform chunks keep their state. */
static void test_lower_limit_forgets(void **state)
{
    (void)state;
    const size_t chunk_bytes = DETAIL_HEADER + 16384 + 16 * 4;  /* a chunk with room for 16 masks */
    struct allocmap *m = allocmap_new(4 * CHUNK * 16, 16);
    struct allocmap_stats st;
    uint64_t n;

    allocmap_learn_unallocated(m, 3 * CHUNK * 16, CHUNK * 16);  /* chunk 3 uniform Z */
    for (uint64_t c = 0; c < 3; c++) {                 /* chunks 0-2 detailed */
        allocmap_learn_allocated(m, c * CHUNK * 16, 16);
        allocmap_learn_unallocated(m, c * CHUNK * 16 + 32, 4);  /* + one PARTIAL mask */
    }
    allocmap_stats(m, &st);
    assert_int_equal(st.detail_bytes, 3 * chunk_bytes);
    size_t before = st.memory_bytes;

    allocmap_set_detail_limit(m, 3 * chunk_bytes);     /* fits: no change */
    allocmap_stats(m, &st);
    assert_int_equal(st.memory_bytes, before);
    allocmap_set_detail_limit(m, chunk_bytes);
    allocmap_stats(m, &st);
    assert_int_equal(st.detail_bytes, chunk_bytes);
    assert_int_equal(st.memory_bytes, before - 2 * chunk_bytes);
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), U);  /* chunks 0-1 forgotten */
    assert_int_equal(n, 2 * CHUNK);
    assert_int_equal(allocmap_get(m, 2 * CHUNK), A);   /* chunk 2 kept */
    assert_int_equal(allocmap_get(m, 2 * CHUNK + 2), P);
    assert_int_equal(allocmap_run(m, 3 * CHUNK, UINT64_MAX, &n), Z);   /* uniform: kept */
    assert_int_equal(n, CHUNK);
    /* Learning within the new limit is refused, so it stays within. */
    allocmap_learn_allocated(m, 0, 16);
    assert_int_equal(allocmap_get(m, 0), U);
    allocmap_set_detail_limit(m, 0);
    allocmap_stats(m, &st);
    assert_int_equal(st.detail_bytes, 0);
    assert_int_equal(allocmap_run(m, 0, UINT64_MAX, &n), U);
    assert_int_equal(n, 3 * CHUNK);
    allocmap_free(m);
}

static void test_detail_share(void **state)
{
    (void)state;
    assert_int_equal(allocmap_detail_share(1 << 20, 1 << 18, 3), ((1 << 20) - (1 << 18)) / 3);
    assert_int_equal(allocmap_detail_share(1 << 20, 0, 1), 1 << 20);
    assert_int_equal(allocmap_detail_share(1 << 20, 1 << 20, 2), 0);
    assert_int_equal(allocmap_detail_share(1 << 20, 2 << 20, 2), 0);  /* fixed over the limit */
    assert_true(allocmap_detail_share(UINT64_MAX, 0, 1) == SIZE_MAX);      /* capped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects),
        cmocka_unit_test(test_mark_touches_partial_pages),
        cmocka_unit_test(test_learn_unallocated_pages_and_granules),
        cmocka_unit_test(test_partial_pages),
        cmocka_unit_test(test_partial_edges),
        cmocka_unit_test(test_never_downgrade_allocated),
        cmocka_unit_test(test_learn_allocated_heals_partial),
        cmocka_unit_test(test_forget_covered),
        cmocka_unit_test(test_partial_last_page),
        cmocka_unit_test(test_clip_past_end),
        cmocka_unit_test(test_runs_across_chunks),
        cmocka_unit_test(test_uniform_collapse),
        cmocka_unit_test(test_stats_counts),
        cmocka_unit_test(test_untouched_64tib),
        cmocka_unit_test(test_4gib_fully_detailed),
        cmocka_unit_test(test_page_sizes),
        cmocka_unit_test(test_no_memory_safe_side),
        cmocka_unit_test(test_lower_limit_forgets),
        cmocka_unit_test(test_detail_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
