/*
 * Unit tests for conf_diff.c: which targets a reload keeps, changes, adds
 * and removes, and whether the listen addresses moved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"

#define PROXY "[proxy]\nlisten = 127.0.0.1:3260\n"
#define TARGET(name, portal, backend) \
    "[target " name "]\nbackend_portal = " portal "\nbackend_target = " backend "\n"
#define A TARGET("iqn.2026-11.org.example:a", "127.0.0.1:3261", "iqn.2026-11.org.example:san.a")
#define B TARGET("iqn.2026-11.org.example:b", "127.0.0.1:3261", "iqn.2026-11.org.example:san.b")
#define C TARGET("iqn.2026-11.org.example:c", "127.0.0.1:3261", "iqn.2026-11.org.example:san.c")

static struct conf *load(const char *text)
{
    struct conf *c = NULL;
    char err[512] = "";
    if (conf_load_string(text, "t.conf", &c, err, sizeof(err)) != 0)
        fail_msg("unexpected error: %s", err);
    return c;
}

static void diff(const char *a, const char *b, struct conf_diff *d)
{
    struct conf *x = load(a), *y = load(b);
    conf_diff(x, y, d);
    conf_free(x);
    conf_free(y);
}

static void test_added_removed_unchanged(void **state)
{
    (void)state;
    struct conf_diff d;
    diff(PROXY A C, PROXY A B, &d);
    assert_int_equal(d.unchanged, 1);
    assert_int_equal(d.changed, 0);
    assert_int_equal(d.added, 1);
    assert_int_equal(d.removed, 1);
    assert_false(d.listen_changed);
    assert_false(d.stats_listen_changed);
}

/* Every target setting counts; the section's line does not ... */
static void test_changed_settings(void **state)
{
    (void)state;
    static const char *const variants[] = {
        TARGET("iqn.2026-11.org.example:a", "127.0.0.1:3262", "iqn.2026-11.org.example:san.a"),
        TARGET("iqn.2026-11.org.example:a", "127.0.0.2:3261", "iqn.2026-11.org.example:san.a"),
        TARGET("iqn.2026-11.org.example:a", "127.0.0.1:3261", "iqn.2026-11.org.example:san.other"),
        A "coherence = exclusive\n",
        A "page_size = 4K\n",
        A "initiator_name = iqn.2026-11.org.example:init\n",
        A "backend_chap_username = u\nbackend_chap_password = p\n",
    };
    struct conf_diff d;
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text), PROXY "%s", variants[i]);
        diff(PROXY A, text, &d);
        assert_int_equal(d.changed, 1);
        assert_int_equal(d.unchanged + d.added + d.removed, 0);
    }
    diff(PROXY A "backend_chap_username = u\nbackend_chap_password = p\n",
         PROXY A "backend_chap_username = u\nbackend_chap_password = q\n", &d);
    assert_int_equal(d.changed, 1);
    diff(PROXY A, PROXY "\n\n" A, &d);
    assert_int_equal(d.unchanged, 1);
    assert_int_equal(d.changed, 0);
    /* ... nor does max_sessions: sessions keep running, the next login
     * counts against the new value. */
    diff(PROXY A, PROXY A "max_sessions = 3\n", &d);
    assert_int_equal(d.unchanged, 1);
    assert_int_equal(d.changed, 0);
}

static void test_proxy_keys_leave_targets_unchanged(void **state)
{
    (void)state;
    struct conf_diff d;
    diff(PROXY A, PROXY "log_level = debug\nqueue_depth = 8\nmax_connections = 9\n"
         "login_timeout = 2\n" A, &d);
    assert_int_equal(d.unchanged, 1);
    assert_false(d.listen_changed);
}

static void test_listen_changes(void **state)
{
    (void)state;
    struct conf_diff d;
    diff(PROXY A, "[proxy]\nlisten = 127.0.0.1:3270\n" A, &d);
    assert_true(d.listen_changed);
    diff(PROXY A, "[proxy]\nlisten = 127.0.0.1:3260 127.0.0.1:3270\n" A, &d);
    assert_true(d.listen_changed);
    diff(PROXY A, PROXY "stats_listen = 127.0.0.1:9200\n" A, &d);
    assert_true(d.stats_listen_changed);
    assert_false(d.listen_changed);
    diff(PROXY A, PROXY "stats_listen =\n" A, &d);
    assert_true(d.stats_listen_changed);
    diff(PROXY "stats_listen =\n" A, PROXY "stats_listen =\n" A, &d);
    assert_false(d.stats_listen_changed);
}

static void test_keep_listeners(void **state)
{
    (void)state;
    struct conf *old = load(PROXY A);
    struct conf *next = load("[proxy]\nlisten = 127.0.0.1:3270 127.0.0.1:3271\n"
                             "stats_listen =\n" A);
    conf_keep_listeners(next, old);
    assert_int_equal(next->n_listen, 1);
    assert_string_equal(next->listen[0].port, "3260");
    assert_true(next->stats_enabled);
    assert_string_equal(next->stats_listen.port, "9100");
    assert_int_equal(old->n_listen, 2);
    conf_free(old);
    conf_free(next);
}

static void test_lookups(void **state)
{
    (void)state;
    struct conf *old = load(PROXY A B), *next = load(PROXY B TARGET("iqn.2026-11.org.example:a", "127.0.0.1:3261",
                                                                     "iqn.2026-11.org.example:san.a") "page_size = 4K\n");
    assert_ptr_equal(conf_target_unchanged(next, &old->targets[1]), &next->targets[0]);
    assert_null(conf_target_unchanged(next, &old->targets[0]));
    assert_true(conf_same_backend(&old->targets[0], &next->targets[1]));
    assert_false(conf_same_backend(&old->targets[0], &next->targets[0]));
    assert_true(conf_owns_target(old, &old->targets[1]));
    assert_false(conf_owns_target(old, &next->targets[0]));
    assert_false(conf_owns_target(old, NULL));
    conf_free(old);
    conf_free(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_added_removed_unchanged),
        cmocka_unit_test(test_changed_settings),
        cmocka_unit_test(test_proxy_keys_leave_targets_unchanged),
        cmocka_unit_test(test_listen_changes),
        cmocka_unit_test(test_keep_listeners),
        cmocka_unit_test(test_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
