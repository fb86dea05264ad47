/*
 * Unit tests for conf_access.c: InitiatorNames (exact, wildcard prefix,
 * case), peer addresses against address/prefix entries (/0, /8, /32, /64,
 * /128 and the bits around each edge, IPv4-mapped IPv6 peers), CHAP
 * accounts, and empty lists admitting everyone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "conf.h"

#define PROXY "[proxy]\nlisten = 127.0.0.1\nauth_file = t.auth\n"
#define TGT   "[target iqn.2026-11.org.example:proxy.lun1]\n" \
              "backend_portal = 127.0.0.1:3261\n" \
              "backend_target = iqn.2026-11.org.example:san.lun1\n"
#define AUTH  "[account alice]\nsecret = secret-of-alice\n[account Bob]\nsecret = secret-of-bob-1\n"

static struct conf *load(const char *text)
{
    struct conf *c = NULL;
    char err[512] = "";
    if (conf_load_strings(text, "t.conf", AUTH, &c, err, sizeof(err)) != 0)
        fail_msg("unexpected error: %s", err);
    return c;
}

/* A peer address as the daemon gets it from accept(). */
static const struct sockaddr *peer(const char *addr)
{
    static struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(50000);
        assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(50000);
        assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
    }
    return (const struct sockaddr *)&ss;
}

/* Which of the peers the target admits, as a string of 0 and 1. */
static void expect_addresses(const char *list, const char *const *peers, const char *want)
{
    char text[1024], got[64];
    snprintf(text, sizeof(text), PROXY TGT "allowed_addresses = %s\n", list);
    struct conf *c = load(text);
    size_t i;
    for (i = 0; peers[i]; i++)
        got[i] = conf_target_admits_address(&c->targets[0], peer(peers[i])) ? '1' : '0';
    got[i] = '\0';
    if (strcmp(got, want) != 0)
        fail_msg("allowed_addresses = %s: admitted %s, expected %s", list, got, want);
    conf_free(c);
}

static void test_addresses(void **state)
{
    (void)state;
    static const char *const v4[] = {
        "10.0.0.0", "10.255.255.255", "9.255.255.255", "11.0.0.0", "10.0.0.1", "0.0.0.0",
        "255.255.255.255", "::ffff:10.1.2.3", "::ffff:11.0.0.0", "::10.1.2.3", "::1", NULL,
    };
    expect_addresses("10.0.0.0/8", v4,               "11001001000");
    expect_addresses("10.0.0.0/32", v4,              "10000000000");
    expect_addresses("10.0.0.1", v4,                 "00001000000");
    expect_addresses("10.0.0.0/31", v4,              "10001000000");
    expect_addresses("10.128.0.0/9", v4,             "01000000000");
    expect_addresses("0.0.0.0/0", v4,                "11111111100");
    expect_addresses("8.0.0.0/7", v4,                "00100000000");
    /* A mapped peer is an IPv4 peer: ::/0 does not take it. */
    expect_addresses("255.255.255.255/32, ::/0", v4, "00000010011");
    static const char *const v6[] = {
        "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::", "2001:db7:ffff:ffff::",
        "::1", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:127.0.0.1", "127.0.0.1",
        NULL,
    };
    expect_addresses("2001:db8::/64", v6,            "110000000");
    expect_addresses("2001:db8::/63", v6,            "111000000");
    expect_addresses("2001:db8::/65", v6,            "100000000");
    expect_addresses("::1/128", v6,                  "000010000");
    expect_addresses("::/128", v6,                   "000001000");
    expect_addresses("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", v6, "000000100");
    expect_addresses("::/0", v6,                     "111111100");
    expect_addresses("127.0.0.1, ::1", v6,           "000010011");
    /* An IPv6 entry for the mapped range does not stand for IPv4 peers. */
    expect_addresses("::ffff:0.0.0.0/96", v6,        "000000000");

    struct conf *c = load(PROXY TGT "allowed_addresses = 127.0.0.1\n");
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    assert_false(conf_target_admits_address(&c->targets[0], (const struct sockaddr *)&un));
    assert_false(conf_target_admits_address(&c->targets[0], NULL));
    assert_true(conf_discovery_admits_address(c, peer("192.0.2.1")));     /* empty: any */
    assert_true(conf_discovery_admits_address(c, NULL));
    conf_free(c);
    c = load(PROXY "discovery_allowed_addresses = 192.0.2.0/24\n" TGT "allow_anonymous = yes\n");
    assert_true(conf_discovery_admits_address(c, peer("192.0.2.255")));
    assert_true(conf_discovery_admits_address(c, peer("::ffff:192.0.2.7")));
    assert_false(conf_discovery_admits_address(c, peer("192.0.3.0")));
    assert_true(conf_target_admits_address(&c->targets[0], peer("192.0.3.0")));
    assert_true(conf_target_admits_address(&c->targets[0], (const struct sockaddr *)&un));
    conf_free(c);
}

static void test_initiators(void **state)
{
    (void)state;
    struct conf *c = load(PROXY TGT "allowed_initiators = iqn.2026-11.org.example:host1,\n"
                          "  IQN.2026-12.org.example:*, eui.02004567A425678D\n");
    const struct conf_target *t = &c->targets[0];
    static const struct { const char *name; bool in; } cases[] = {
        { "iqn.2026-11.org.example:host1", true },
        { "IQN.2026-11.ORG.EXAMPLE:HOST1", true },          /* case-insensitive */
        { "iqn.2026-11.org.example:host10", false },        /* exact means exact */
        { "iqn.2026-11.org.example:host", false },
        { "iqn.2026-12.org.example:", true },               /* the prefix itself */
        { "iqn.2026-12.org.example:anything.at:all", true },
        { "iqn.2026-12.org.example", false },
        { "iqn.2026-12.org.examples:x", false },
        { "eui.02004567a425678d", true },
        { "eui.02004567a425678e", false },
        { "", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (conf_target_admits_initiator(t, cases[i].name) != cases[i].in)
            fail_msg("%s: expected %s", cases[i].name, cases[i].in ? "admitted" : "refused");
    assert_false(conf_target_admits_initiator(t, NULL));
    conf_free(c);
    c = load(PROXY TGT "allowed_addresses = ::1\n");
    assert_true(conf_target_admits_initiator(&c->targets[0], "iqn.2026-11.org.example:any"));
    assert_true(conf_target_admits_initiator(&c->targets[0], NULL));
    conf_free(c);
}

static void test_accounts(void **state)
{
    (void)state;
    struct conf *c = load(PROXY "discovery_chap_accounts = Bob\n" TGT "chap_accounts = alice\n");
    const struct conf_target *t = &c->targets[0];
    assert_true(conf_access_requires_chap(&t->access));
    assert_ptr_equal(conf_target_allows_account(t, "alice"), conf_find_account(c, "alice"));
    assert_int_equal(conf_target_allows_account(t, "alice")->secret_len, 15);
    assert_null(conf_target_allows_account(t, "Alice"));           /* CHAP_N is exact */
    assert_null(conf_target_allows_account(t, "Bob"));             /* not this target's */
    assert_null(conf_target_allows_account(t, NULL));
    assert_true(conf_access_requires_chap(&c->discovery));
    assert_ptr_equal(conf_access_account(&c->discovery, "Bob"), conf_find_account(c, "Bob"));
    assert_null(conf_access_account(&c->discovery, "bob"));
    conf_free(c);
    c = load(PROXY TGT "allowed_addresses = ::1\n");
    assert_false(conf_access_requires_chap(&c->targets[0].access));
    assert_false(conf_access_requires_chap(&c->discovery));
    assert_null(conf_target_allows_account(&c->targets[0], "alice"));
    assert_non_null(conf_find_account(c, "alice"));                 /* in auth_file, unused */
    conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_initiators),
        cmocka_unit_test(test_accounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
