/* Unit tests for proxy/cache/order_gate.c: SAM-5 task attributes, interleavings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "order_gate.h"

#define S ORDER_SIMPLE
#define O ORDER_ORDERED
#define H ORDER_HEAD_OF_QUEUE

static struct order_gate g;
static struct order_node n[8];

static int setup(void **state)
{
    (void)state;
    order_gate_init(&g);
    memset(n, 0, sizeof(n));
    return 0;
}

/* Enter and request in one step (a READ: ready at once). */
static bool arrive(int i, enum order_attr a, uint32_t lun)
{
    order_gate_enter(&g, &n[i], lun, a);
    return order_gate_request(&g, &n[i]);
}

static int next_index(void)
{
    struct order_node *x = order_gate_next(&g);
    return x ? (int)(x - n) : -1;
}

static void test_attr_from_iscsi(void **state)
{
    (void)state;
    assert_int_equal(order_attr_from_iscsi(0), S);
    assert_int_equal(order_attr_from_iscsi(1), S);
    assert_int_equal(order_attr_from_iscsi(2), O);
    assert_int_equal(order_attr_from_iscsi(3), H);
    assert_int_equal(order_attr_from_iscsi(4), O);      /* ACA */
    assert_int_equal(order_attr_from_iscsi(7), O);      /* reserved */
    assert_int_equal(order_attr_from_iscsi(0x81), S);   /* only bits 2-0 count */
}

static void test_simple_run_concurrently(void **state)
{
    (void)state;
    assert_true(arrive(0, S, 1));
    assert_true(arrive(1, S, 1));
    assert_true(arrive(2, S, 1));
    assert_int_equal(next_index(), -1);
}

static void test_ordered_waits_for_older_and_holds_younger(void **state)
{
    (void)state;
    assert_true(arrive(0, S, 1));       /* WRITE */
    assert_false(arrive(1, O, 1));      /* ORDERED READ waits for it */
    assert_false(arrive(2, S, 1));      /* the next WRITE waits for the READ */
    assert_int_equal(next_index(), -1);
    order_gate_leave(&g, &n[0]);
    assert_int_equal(next_index(), 1);
    assert_int_equal(next_index(), -1); /* 2 still held by the ORDERED one */
    order_gate_leave(&g, &n[1]);
    assert_int_equal(next_index(), 2);
    assert_int_equal(next_index(), -1);
}

static void test_ordered_alone_starts(void **state)
{
    (void)state;
    assert_true(arrive(0, O, 1));
    assert_false(arrive(1, S, 1));
    assert_false(arrive(2, O, 1));
    order_gate_leave(&g, &n[0]);
    assert_int_equal(next_index(), 1);
    assert_int_equal(next_index(), -1); /* the second ORDERED waits for 1 */
    order_gate_leave(&g, &n[1]);
    assert_int_equal(next_index(), 2);
}

static void test_head_of_queue_starts_at_once(void **state)
{
    (void)state;
    assert_true(arrive(0, S, 1));
    assert_false(arrive(1, O, 1));
    assert_true(arrive(2, H, 1));       /* past the held ORDERED task */
    order_gate_leave(&g, &n[0]);
    assert_int_equal(next_index(), -1); /* the ORDERED one waits for the HoQ too */
    order_gate_leave(&g, &n[2]);
    assert_int_equal(next_index(), 1);
}

static void test_simple_waits_for_head_of_queue(void **state)
{
    (void)state;
    assert_true(arrive(0, H, 1));
    assert_false(arrive(1, S, 1));
    assert_false(arrive(2, O, 1));
    order_gate_leave(&g, &n[0]);
    assert_int_equal(next_index(), 1);
    assert_int_equal(next_index(), -1);
}

static void test_luns_independent(void **state)
{
    (void)state;
    assert_true(arrive(0, S, 1));
    assert_false(arrive(1, O, 1));
    assert_true(arrive(2, S, 2));       /* another LUN: not held */
    assert_false(arrive(3, O, 2));      /* waits for 2, not for LUN 1's tasks */
    order_gate_leave(&g, &n[2]);
    assert_int_equal(next_index(), 3);
    assert_int_equal(next_index(), -1); /* 1 still waits for 0 */
}

static void test_ordered_waits_on_same_lun_only(void **state)
{
    (void)state;
    assert_true(arrive(0, S, 2));
    assert_true(arrive(1, O, 1));       /* LUN 2's task is not older on LUN 1 */
    assert_false(arrive(2, O, 2));
    order_gate_leave(&g, &n[0]);
    assert_int_equal(next_index(), 2);
}

/* A WRITE enters at arrival but asks to start only when its data is in. */
static void test_write_collecting_data_keeps_its_place(void **state)
{
    (void)state;
    order_gate_enter(&g, &n[0], 1, S);  /* WRITE, waiting for Data-Out */
    assert_false(arrive(1, O, 1));      /* ORDERED READ: the WRITE is older */
    order_gate_enter(&g, &n[2], 1, S);  /* younger WRITE, data comes first */
    assert_false(order_gate_request(&g, &n[2]));
    assert_true(order_gate_request(&g, &n[0]));     /* first WRITE's data is in */
    assert_int_equal(next_index(), -1);
    order_gate_leave(&g, &n[0]);
    assert_int_equal(next_index(), 1);
    order_gate_leave(&g, &n[1]);
    assert_int_equal(next_index(), 2);
}

static void test_abort_of_held_and_of_barrier(void **state)
{
    (void)state;
    assert_true(arrive(0, S, 1));
    assert_false(arrive(1, O, 1));
    assert_false(arrive(2, S, 1));
    order_gate_leave(&g, &n[1]);        /* ABORT TASK of the held ORDERED one */
    assert_int_equal(next_index(), 2);  /* nothing holds 2 any more */
    order_gate_leave(&g, &n[1]);        /* idempotent */
    order_gate_leave(&g, &n[2]);
    order_gate_leave(&g, &n[0]);
    assert_true(TAILQ_EMPTY(&g.q));
    assert_int_equal(g.n_barriers, 0);
    assert_int_equal(g.n_waiting, 0);
}

static void test_teardown_leaves_all(void **state)
{
    (void)state;
    assert_true(arrive(0, O, 1));
    assert_false(arrive(1, S, 1));
    assert_false(arrive(2, O, 1));
    for (int i = 2; i >= 0; i--)
        order_gate_leave(&g, &n[i]);
    assert_int_equal(next_index(), -1);
    assert_int_equal(g.n_waiting, 0);
    order_gate_leave(&g, &n[5]);        /* never entered: ignored */
}

static void test_request_after_start_is_true(void **state)
{
    (void)state;
    assert_true(arrive(0, S, 1));
    assert_true(order_gate_request(&g, &n[0]));
    assert_true(order_gate_request(&g, &n[6]));     /* not in the gate: not held */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_attr_from_iscsi, setup),
        cmocka_unit_test_setup(test_simple_run_concurrently, setup),
        cmocka_unit_test_setup(test_ordered_waits_for_older_and_holds_younger, setup),
        cmocka_unit_test_setup(test_ordered_alone_starts, setup),
        cmocka_unit_test_setup(test_head_of_queue_starts_at_once, setup),
        cmocka_unit_test_setup(test_simple_waits_for_head_of_queue, setup),
        cmocka_unit_test_setup(test_luns_independent, setup),
        cmocka_unit_test_setup(test_ordered_waits_on_same_lun_only, setup),
        cmocka_unit_test_setup(test_write_collecting_data_keeps_its_place, setup),
        cmocka_unit_test_setup(test_abort_of_held_and_of_barrier, setup),
        cmocka_unit_test_setup(test_teardown_leaves_all, setup),
        cmocka_unit_test_setup(test_request_after_start_is_true, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
