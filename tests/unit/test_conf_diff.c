/*
 * Unit tests for conf_diff.c: which targets a reload keeps, changes, adds
 * and removes (access rules and account secrets included), and whether the
 * listen addresses or the discovery rules moved.
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
#define BARE(name, portal, backend) \
    "[target " name "]\nbackend_portal = " portal "\nbackend_target = " backend "\n"
#define TARGET(name, portal, backend) BARE(name, portal, backend) "allowed_addresses = 127.0.0.1\n"
#define A_BARE BARE("iqn.2026-11.org.example:a", "127.0.0.1:3261", "iqn.2026-11.org.example:san.a")
#define A TARGET("iqn.2026-11.org.example:a", "127.0.0.1:3261", "iqn.2026-11.org.example:san.a")
#define B TARGET("iqn.2026-11.org.example:b", "127.0.0.1:3261", "iqn.2026-11.org.example:san.b")
#define C TARGET("iqn.2026-11.org.example:c", "127.0.0.1:3261", "iqn.2026-11.org.example:san.c")

/* Two accounts; AUTH2 changes one secret. */
#define AUTH  "[account u]\nsecret = secret-of-u-1\n[account v]\nsecret = secret-of-v-1\n"
#define AUTH2 "[account u]\nsecret = secret-of-u-2\n[account v]\nsecret = secret-of-v-1\n"
#define WITH_AUTH "auth_file = t.auth\n"

static struct conf *load_auth(const char *text, const char *auth)
{
    struct conf *c = NULL;
    char err[512] = "";
    if (conf_load_strings(text, "t.conf", auth, &c, err, sizeof(err)) != 0)
        fail_msg("unexpected error: %s", err);
    return c;
}

static struct conf *load(const char *text)
{
    return load_auth(text, AUTH);
}

static void diff_auth(const char *a, const char *auth_a, const char *b, const char *auth_b,
                      struct conf_diff *d)
{
    struct conf *x = load_auth(a, auth_a), *y = load_auth(b, auth_b);
    conf_diff(x, y, d);
    conf_free(x);
    conf_free(y);
}

static void diff(const char *a, const char *b, struct conf_diff *d)
{
    diff_auth(a, AUTH, b, AUTH, d);
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
        /* another portal list, or another order: the login's preference */
        TARGET("iqn.2026-11.org.example:a", "127.0.0.1:3261, 127.0.0.2:3261",
               "iqn.2026-11.org.example:san.a"),
        A "coherence = exclusive\n",
        A "page_size = 4K\n",
        A "initiator_name = iqn.2026-11.org.example:init\n",
        A "backend_chap_account = u\n",
        A "chap_accounts = u\n",
        A "chap_algorithms = sha256\n",
        A "allowed_initiators = iqn.2026-11.org.example:i\n",
        A_BARE "allowed_addresses = 127.0.0.2\n",
    };
    struct conf_diff d;
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text), PROXY WITH_AUTH "%s", variants[i]);
        diff(PROXY WITH_AUTH A, text, &d);
        assert_int_equal(d.changed, 1);
        assert_int_equal(d.unchanged + d.added + d.removed, 0);
        assert_false(d.discovery_changed);
    }
    diff(PROXY A, PROXY "\n\n" A, &d);
    assert_int_equal(d.unchanged, 1);
    assert_int_equal(d.changed, 0);
    /* ... nor does max_sessions: sessions keep running, the next login
     * counts against the new value. */
    diff(PROXY A, PROXY A "max_sessions = 3\n", &d);
    assert_int_equal(d.unchanged, 1);
    assert_int_equal(d.changed, 0);
}

/* Accounts are compared by what they hold: another secret is a change, an
 * account no target names is not; so are the list entries and their order. */
static void test_account_changes(void **state)
{
    (void)state;
    struct conf_diff d;
    static const char *const keys[] = {
        "backend_chap_account = u\n", "chap_accounts = v, u\n", "chap_accounts = v\nmutual_account = u\n",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text), PROXY WITH_AUTH A "%s", keys[i]);
        diff_auth(text, AUTH, text, AUTH2, &d);
        assert_int_equal(d.changed, 1);
        diff_auth(text, AUTH, text, AUTH, &d);
        assert_int_equal(d.unchanged, 1);
    }
    diff_auth(PROXY WITH_AUTH A "chap_accounts = v\n", AUTH, PROXY WITH_AUTH A "chap_accounts = v\n",
              AUTH2, &d);
    assert_int_equal(d.unchanged, 1);
    diff(PROXY WITH_AUTH A "chap_accounts = u, v\n", PROXY WITH_AUTH A "chap_accounts = v, u\n", &d);
    assert_int_equal(d.changed, 1);
    diff(PROXY A "allowed_initiators = iqn.2026-11.org.example:I\n",
         PROXY A "allowed_initiators = iqn.2026-11.org.example:i\n", &d);
    assert_int_equal(d.unchanged, 1);
    diff(PROXY A_BARE "allowed_addresses = 10.0.0.0/8\n",
         PROXY A_BARE "allowed_addresses = 10.0.0.0/9\n", &d);
    assert_int_equal(d.changed, 1);
}

static void test_discovery_changes(void **state)
{
    (void)state;
    struct conf_diff d;
    static const char *const keys[] = {
        "discovery_chap_accounts = u\n", "discovery_chap_algorithms = md5\n",
        "discovery_allowed_addresses = ::1\n",
        "discovery_chap_accounts = v\ndiscovery_mutual_account = u\n",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text), PROXY WITH_AUTH "%s" A, keys[i]);
        diff(PROXY WITH_AUTH A, text, &d);
        assert_true(d.discovery_changed);
        assert_int_equal(d.unchanged, 1);
    }
    diff_auth(PROXY WITH_AUTH "discovery_chap_accounts = u\n" A, AUTH,
              PROXY WITH_AUTH "discovery_chap_accounts = u\n" A, AUTH2, &d);
    assert_true(d.discovery_changed);
    diff(PROXY WITH_AUTH "discovery_chap_accounts = u\n" A,
         PROXY WITH_AUTH "discovery_chap_accounts = u\n" A, &d);
    assert_false(d.discovery_changed);
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

/* Portal lists: one common portal is the same backend, and a session's
 * service (it is connected through one of them); anything else about the
 * list is a change for the next login. */
static void test_portal_lists(void **state)
{
    (void)state;
    struct conf *old = load(PROXY TARGET("iqn.2026-11.org.example:a", "10.0.0.1, 10.0.0.2",
                                         "iqn.2026-11.org.example:san.a"));
    struct conf *next = load(PROXY TARGET("iqn.2026-11.org.example:a", "10.0.0.3 10.0.0.2:3260",
                                          "iqn.2026-11.org.example:san.a")
                             TARGET("iqn.2026-11.org.example:b", "10.0.0.3, 10.0.0.4",
                                    "iqn.2026-11.org.example:san.a")
                             TARGET("iqn.2026-11.org.example:c", "10.0.0.2",
                                    "iqn.2026-11.org.example:san.c"));
    const struct conf_target *a = &old->targets[0];
    assert_true(conf_same_backend(a, &next->targets[0]));
    assert_true(conf_target_same_service(a, &next->targets[0]));
    assert_false(conf_target_equal(a, &next->targets[0]));
    assert_false(conf_same_backend(a, &next->targets[1]));     /* no common portal */
    assert_false(conf_same_backend(a, &next->targets[2]));     /* another backend target */
    assert_int_equal(conf_backend_portal_index(a, &next->targets[0].backend_portals[1]), 1);
    assert_int_equal(conf_backend_portal_index(a, &next->targets[0].backend_portals[0]), -1);
    conf_free(old);
    conf_free(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_added_removed_unchanged),
        cmocka_unit_test(test_changed_settings),
        cmocka_unit_test(test_account_changes),
        cmocka_unit_test(test_discovery_changes),
        cmocka_unit_test(test_proxy_keys_leave_targets_unchanged),
        cmocka_unit_test(test_listen_changes),
        cmocka_unit_test(test_keep_listeners),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_portal_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
