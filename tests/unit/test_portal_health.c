/* Unit tests for proxy/protocol/portal_health.c: a portal's state from the
 * timings of its sessions and probes, and what is sent when. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "portal_health.h"

#define S 1000000ull
#define INTERVAL (2 * S)
#define DEADLINE (5 * S)
#define T0 (100 * S)

static enum portal_action tick(struct portal_health *h, const struct portal_observation *o,
                               uint64_t now, bool *changed)
{
    return portal_health_tick(h, o, now, INTERVAL, DEADLINE, changed);
}

static const struct portal_observation idle = { .nop_latency_us = PORTAL_LATENCY_UNKNOWN };

/* No session: a probe every interval, one at a time; its answer decides. */
static void test_probes(void **state)
{
    struct portal_health h;
    bool changed;
    (void)state;

    portal_health_init(&h);
    assert_false(h.known);
    assert_int_equal(tick(&h, &idle, T0, &changed), PORTAL_ACT_PROBE);
    assert_false(changed);
    struct portal_observation running = idle;
    running.probe_running = true;
    running.probe_sent_us = T0;
    assert_int_equal(tick(&h, &running, T0 + S, &changed), PORTAL_ACT_NONE);
    assert_true(portal_health_probe_done(&h, true, 1500, NULL));
    assert_true(h.up);
    assert_int_equal(h.latency_us, 1500);
    assert_int_equal(tick(&h, &idle, T0 + S, &changed), PORTAL_ACT_NONE);     /* not due */
    assert_int_equal(tick(&h, &idle, T0 + INTERVAL, &changed), PORTAL_ACT_PROBE);
    /* a refused probe login: down with the reason, latency kept */
    assert_true(portal_health_probe_done(&h, false, 900, "Connection refused"));
    assert_false(h.up);
    assert_string_equal(h.why, "Connection refused");
    assert_int_equal(h.latency_us, 1500);
    assert_false(portal_health_probe_done(&h, false, 900, "Connection refused"));
}

/* A probe not answered within the deadline: down, and ended. */
static void test_probe_overdue(void **state)
{
    struct portal_health h;
    bool changed;
    (void)state;

    portal_health_init(&h);
    portal_health_probe_done(&h, true, 1000, NULL);
    struct portal_observation running = idle;
    running.probe_running = true;
    running.probe_sent_us = T0;
    h.last_probe_us = T0;
    assert_int_equal(tick(&h, &running, T0 + DEADLINE - 1, &changed), PORTAL_ACT_NONE);
    assert_true(h.up);
    assert_int_equal(tick(&h, &running, T0 + DEADLINE, &changed), PORTAL_ACT_ABORT_PROBE);
    assert_true(changed);
    assert_false(h.up);
    assert_string_equal(h.why, "no answer for 5 s (probe login)");
    /* the next probe goes at once: the last was sent more than an interval ago */
    assert_int_equal(tick(&h, &idle, T0 + DEADLINE + 1, &changed), PORTAL_ACT_PROBE);
    assert_false(changed);
    assert_true(portal_health_probe_done(&h, true, 2000, NULL));
}

/* Live sessions: their waiting time decides; NOP-Outs every interval. */
static void test_live_sessions(void **state)
{
    struct portal_health h;
    bool changed;
    (void)state;

    portal_health_init(&h);
    struct portal_observation live = idle;
    live.live = 2;
    assert_int_equal(tick(&h, &live, T0, &changed), PORTAL_ACT_NOP);
    assert_true(changed);
    assert_true(h.up);
    live.stalled_us = DEADLINE - 1;
    assert_int_equal(tick(&h, &live, T0 + S, &changed), PORTAL_ACT_NONE);
    assert_true(h.up);
    live.stalled_us = 7 * S + 300000;
    assert_int_equal(tick(&h, &live, T0 + INTERVAL, &changed), PORTAL_ACT_NOP);
    assert_true(changed);
    assert_false(h.up);
    assert_string_equal(h.why, "no answer for 7 s (backend session)");
    live.stalled_us = 8 * S;
    tick(&h, &live, T0 + 3 * S, &changed);
    assert_false(changed);                   /* still down: no new log line */
    assert_string_equal(h.why, "no answer for 8 s (backend session)");
    live.stalled_us = 0;
    live.nop_latency_us = 700;
    tick(&h, &live, T0 + 4 * S, &changed);
    assert_true(changed);
    assert_true(h.up);
    assert_int_equal(h.latency_us, 700);
    /* a probe running when a session logs in is left to finish */
    live.probe_running = true;
    live.probe_sent_us = T0;
    assert_int_equal(tick(&h, &live, T0 + 6 * S, &changed), PORTAL_ACT_NOP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probes),
        cmocka_unit_test(test_probe_overdue),
        cmocka_unit_test(test_live_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
