/* Unit tests for proxy/cache/granule_masks.c: the sorted zero-granule masks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "granule_masks.h"

static void test_set_get_in_any_order(void **state)
{
    (void)state;
    struct granule_masks g = { 0 };
    const uint16_t pages[] = { 7, 3, 65535, 0, 9, 5 };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(granule_masks_set(&g, pages[i], (uint16_t)(pages[i] + 1), SIZE_MAX), 0);
    for (uint32_t k = 1; k < g.n; k++)
        assert_true(g.e[k - 1].page < g.e[k].page);
    assert_int_equal(granule_masks_get(&g, 65535), 0);         /* 65535 + 1 wraps to 0 */
    assert_int_equal(granule_masks_get(&g, 9), 10);
    assert_int_equal(granule_masks_get(&g, 4), 0);
    assert_int_equal(granule_masks_set(&g, 9, 0x8001, 0), 0); /* replace: no room needed */
    assert_int_equal(granule_masks_get(&g, 9), 0x8001);
    assert_int_equal(g.n, 6);
    granule_masks_free(&g);
}

static void test_drop_ranges(void **state)
{
    (void)state;
    struct granule_masks g = { 0 };
    for (uint16_t p = 0; p < 40; p += 2)
        assert_int_equal(granule_masks_set(&g, p, 1, SIZE_MAX), 0);
    granule_masks_drop(&g, 5, 11);                              /* 6, 8, 10 */
    assert_int_equal(g.n, 17);
    assert_int_equal(granule_masks_get(&g, 4), 1);
    assert_int_equal(granule_masks_get(&g, 8), 0);
    assert_int_equal(granule_masks_get(&g, 12), 1);
    granule_masks_drop(&g, 100, 200);                           /* nothing there */
    assert_int_equal(g.n, 17);
    granule_masks_drop(&g, 0, 65536);                           /* all: memory freed */
    assert_int_equal(g.n, 0);
    assert_int_equal(granule_masks_bytes(&g), 0);
    assert_null(g.e);
}

static void test_room_limits_growth(void **state)
{
    (void)state;
    struct granule_masks g = { 0 };
    assert_int_equal(granule_masks_set(&g, 1, 1, 63), -1);     /* first block: 16 x 4 */
    assert_int_equal(g.n, 0);
    assert_int_equal(granule_masks_set(&g, 1, 1, 64), 0);
    assert_int_equal(granule_masks_bytes(&g), 64);
    for (uint16_t p = 2; p <= 16; p++)
        assert_int_equal(granule_masks_set(&g, p, 1, 0), 0);   /* fits */
    assert_int_equal(granule_masks_set(&g, 17, 1, 0), -1);     /* must grow */
    assert_int_equal(granule_masks_get(&g, 17), 0);
    assert_int_equal(g.n, 16);
    granule_masks_free(&g);
}

static void test_full_chunk(void **state)
{
    (void)state;
    struct granule_masks g = { 0 };
    for (uint32_t p = 0; p < 65536; p++)
        assert_int_equal(granule_masks_set(&g, (uint16_t)(65535 - p), 2, SIZE_MAX), 0);
    assert_int_equal(g.n, 65536);
    assert_int_equal(granule_masks_bytes(&g), 65536 * 4);
    assert_int_equal(granule_masks_get(&g, 12345), 2);
    granule_masks_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_in_any_order),
        cmocka_unit_test(test_drop_ranges),
        cmocka_unit_test(test_room_limits_growth),
        cmocka_unit_test(test_full_chunk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
