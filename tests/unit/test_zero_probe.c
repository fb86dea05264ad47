/* Unit tests for proxy/cache/zero_probe.c: the one-second rule for zero-only sessions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "zero_probe.h"

static const struct read_seg zeros[] = { { SEG_ZERO, 0, 128 }, { SEG_ZERO, 128, 128 } };
static const struct read_seg mixed[] = { { SEG_ZERO, 0, 128 }, { SEG_BACKEND, 128, 8 } };

#define T0 5000000u

static void test_recent_send_serves_zeros(void **state)
{
    struct zero_probe z = { 0 };
    (void)state;
    zero_probe_note_send(&z, 1, T0);
    assert_false(zero_probe_forward(&z, 1, T0, zeros, 2));
    assert_false(zero_probe_forward(&z, 1, T0 + ZERO_PROBE_AFTER_US, zeros, 2));
}

static void test_idle_over_a_second_forwards(void **state)
{
    struct zero_probe z = { 0 };
    (void)state;
    zero_probe_note_send(&z, 1, T0);
    assert_true(zero_probe_forward(&z, 1, T0 + ZERO_PROBE_AFTER_US + 1, zeros, 2));
    /* the forwarded READ is a send: zeros again for the next second */
    zero_probe_note_send(&z, 1, T0 + ZERO_PROBE_AFTER_US + 1);
    assert_false(zero_probe_forward(&z, 1, T0 + ZERO_PROBE_AFTER_US + 2, zeros, 2));
}

static void test_only_zero_only_reads(void **state)
{
    struct zero_probe z = { 0 };
    (void)state;
    assert_false(zero_probe_forward(&z, 1, T0, mixed, 2));  /* its part reaches the SAN */
    assert_false(zero_probe_forward(&z, 1, T0, zeros, 0));
}

static void test_unknown_lun_forwards(void **state)
{
    struct zero_probe z = { 0 };
    (void)state;
    assert_true(zero_probe_forward(&z, 3, T0, zeros, 1));
    zero_probe_note_send(&z, 1, T0);
    assert_true(zero_probe_forward(&z, 3, T0, zeros, 1));   /* per LUN */
    assert_false(zero_probe_forward(&z, 1, T0, zeros, 1));
}

static void test_clock_backwards_forwards(void **state)
{
    struct zero_probe z = { 0 };
    (void)state;
    zero_probe_note_send(&z, 1, T0);
    assert_true(zero_probe_forward(&z, 1, T0 - 1, zeros, 1));
}

static void test_table_bounded_evicts_oldest(void **state)
{
    struct zero_probe z = { 0 };
    (void)state;
    for (uint32_t l = 0; l < ZERO_PROBE_LUNS; l++)
        zero_probe_note_send(&z, l, T0 + l);
    zero_probe_note_send(&z, 0, T0 + 100);                  /* LUN 1 is now the oldest */
    zero_probe_note_send(&z, 99, T0 + 101);
    assert_int_equal(z.n, ZERO_PROBE_LUNS);
    assert_true(zero_probe_forward(&z, 1, T0 + 102, zeros, 1));   /* forgotten */
    assert_false(zero_probe_forward(&z, 0, T0 + 102, zeros, 1));
    assert_false(zero_probe_forward(&z, 99, T0 + 102, zeros, 1));
    assert_false(zero_probe_forward(&z, 2, T0 + 102, zeros, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recent_send_serves_zeros),
        cmocka_unit_test(test_idle_over_a_second_forwards),
        cmocka_unit_test(test_only_zero_only_reads),
        cmocka_unit_test(test_unknown_lun_forwards),
        cmocka_unit_test(test_clock_backwards_forwards),
        cmocka_unit_test(test_table_bounded_evicts_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
