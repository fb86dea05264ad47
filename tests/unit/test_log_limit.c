/* Unit tests for proxy/util/log_limit.c: one line per key per interval, the
 * count of what was suppressed, and a bounded table whatever the number of
 * keys (refusals from many addresses must not flood the log either). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <cmocka.h>

#include "log_limit.h"

#define SEC 1000000u
#define INTERVAL (10 * SEC)

static struct log_limit ll;

static int setup(void **state)
{
    (void)state;
    log_limit_init(&ll, INTERVAL, 1);
    return 0;
}

/* The first line of a key is logged; the next ones within the interval are
 * counted, and the first line after it reports them. */
static void test_first_then_one_per_interval(void **state)
{
    (void)state;
    struct log_limit_verdict v = log_limit_check(&ll, "192.0.2.1", 5 * SEC);
    assert_true(v.log);
    assert_false(v.shared);
    assert_int_equal(v.suppressed, 0);
    for (int i = 1; i <= 7; i++)
        assert_false(log_limit_check(&ll, "192.0.2.1", 5 * SEC + (uint64_t)i * SEC).log);
    v = log_limit_check(&ll, "192.0.2.1", 15 * SEC - 1);
    assert_false(v.log);                            /* 8 suppressed, still inside */
    v = log_limit_check(&ll, "192.0.2.1", 15 * SEC);
    assert_true(v.log);
    assert_int_equal(v.suppressed, 8);
    v = log_limit_check(&ll, "192.0.2.1", 40 * SEC);
    assert_true(v.log);
    assert_int_equal(v.suppressed, 0);              /* reported once, not again */
}

/* A burst of lines per interval: the first `burst` are logged, the rest
 * counted and reported by the first line of the next interval. */
static void test_burst(void **state)
{
    struct log_limit b;

    (void)state;
    log_limit_init(&b, INTERVAL, 3);
    for (int i = 0; i < 3; i++)
        assert_true(log_limit_check(&b, "192.0.2.9", (uint64_t)i).log);
    for (int i = 3; i < 10; i++)
        assert_false(log_limit_check(&b, "192.0.2.9", (uint64_t)i).log);
    struct log_limit_verdict v = log_limit_check(&b, "192.0.2.9", INTERVAL);
    assert_true(v.log);
    assert_int_equal(v.suppressed, 7);
    assert_true(log_limit_check(&b, "192.0.2.9", INTERVAL + 1).log);
    v = log_limit_check(&b, "192.0.2.9", INTERVAL + 2);
    assert_true(v.log);
    assert_int_equal(v.suppressed, 0);
    assert_false(log_limit_check(&b, "192.0.2.9", INTERVAL + 3).log);
    log_limit_init(&b, INTERVAL, 0);                /* 0 means 1 */
    assert_true(log_limit_check(&b, "x", 0).log);
    assert_false(log_limit_check(&b, "x", 1).log);
}

/* Keys are independent: a busy address does not silence a new one. */
static void test_keys_independent(void **state)
{
    (void)state;
    assert_true(log_limit_check(&ll, "192.0.2.1", 0).log);
    assert_false(log_limit_check(&ll, "192.0.2.1", SEC).log);
    assert_true(log_limit_check(&ll, "2001:db8::1", SEC).log);
    assert_false(log_limit_check(&ll, "2001:db8::1", 2 * SEC).log);
    struct log_limit_verdict v = log_limit_check(&ll, "192.0.2.1", INTERVAL);
    assert_true(v.log);
    assert_int_equal(v.suppressed, 1);
}

/* More keys than entries, all busy: the rest share one entry, so a flood
 * from many addresses still logs at most LOG_LIMIT_KEYS + 1 lines per
 * interval. */
static void test_table_full_shares_one_entry(void **state)
{
    (void)state;
    char key[32];
    unsigned logged = 0;
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "10.0.%u.%u", i / 256, i % 256);
        struct log_limit_verdict v = log_limit_check(&ll, key, SEC);
        logged += v.log;
        if (i < LOG_LIMIT_KEYS)
            assert_true(v.log && !v.shared);
        else if (v.log)
            assert_true(v.shared);
    }
    assert_int_equal(logged, LOG_LIMIT_KEYS + 1);
    assert_false(log_limit_check(&ll, "10.9.9.9", SEC + 1).log);
    /* An interval later the idle entries go to new keys; once they are
     * taken again, the shared line reports every line it swallowed. */
    for (unsigned i = 0; i < LOG_LIMIT_KEYS; i++) {
        snprintf(key, sizeof(key), "10.5.0.%u", i);
        struct log_limit_verdict v = log_limit_check(&ll, key, SEC + INTERVAL);
        assert_true(v.log && !v.shared);
    }
    struct log_limit_verdict v = log_limit_check(&ll, "10.6.0.0", SEC + INTERVAL);
    assert_true(v.log && v.shared);
    assert_int_equal(v.suppressed, 1000 - LOG_LIMIT_KEYS - 1 + 1);
}

/* An entry idle for a whole interval is taken over by a new key. */
static void test_idle_entry_reused(void **state)
{
    (void)state;
    char key[32];
    for (unsigned i = 0; i < LOG_LIMIT_KEYS; i++) {
        snprintf(key, sizeof(key), "10.0.0.%u", i);
        assert_true(log_limit_check(&ll, key, 0).log);
    }
    struct log_limit_verdict v = log_limit_check(&ll, "10.1.0.1", INTERVAL - 1);
    assert_true(v.log && v.shared);                  /* all busy: shared */
    v = log_limit_check(&ll, "10.1.0.2", INTERVAL);
    assert_true(v.log);
    assert_false(v.shared);                          /* took an idle entry */
}

/* Keys longer than an entry are compared by their first bytes. */
static void test_long_key(void **state)
{
    (void)state;
    const char *a = "fe80::1111:2222:3333:4444%a-very-long-interface-name-to-pass-the-limit-1";
    const char *b = "fe80::1111:2222:3333:4444%a-very-long-interface-name-to-pass-the-limit-2";
    assert_true(log_limit_check(&ll, a, 0).log);
    assert_false(log_limit_check(&ll, b, SEC).log);  /* same first 63 bytes */
    assert_true(log_limit_check(&ll, "", SEC).log);  /* an empty key is a key too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_first_then_one_per_interval, setup),
        cmocka_unit_test(test_burst),
        cmocka_unit_test_setup(test_keys_independent, setup),
        cmocka_unit_test_setup(test_table_full_shares_one_entry, setup),
        cmocka_unit_test_setup(test_idle_entry_reused, setup),
        cmocka_unit_test_setup(test_long_key, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
