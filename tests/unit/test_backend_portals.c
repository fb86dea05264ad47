/* Unit tests for proxy/protocol/backend_portals.c: TargetAddress values from
 * the SAN, the order portals are tried in, redirections and their bound. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "backend_portals.h"

static void expect_address(const char *text, const char *want)
{
    char out[PORTAL_ADDR_MAX];
    const char *why = NULL;

    if (iscsi_target_address_parse(text, out, sizeof(out), &why) != 0)
        fail_msg("'%s' refused: %s", text, why);
    assert_string_equal(out, want);
}

static void expect_bad_address(const char *text)
{
    char out[PORTAL_ADDR_MAX];
    const char *why = NULL;

    if (iscsi_target_address_parse(text, out, sizeof(out), &why) == 0)
        fail_msg("'%s' accepted as '%s'", text, out);
    assert_non_null(why);
}

static void test_target_address(void **state)
{
    (void)state;
    expect_address("10.0.0.2", "10.0.0.2:3260");
    expect_address("10.0.0.2:3261", "10.0.0.2:3261");
    expect_address("10.0.0.2:3261,1", "10.0.0.2:3261");
    expect_address("san-b.example.org,65535", "san-b.example.org:3260");
    expect_address("[2001:db8::1]", "[2001:db8::1]:3260");
    expect_address("[2001:db8::1]:860,2", "[2001:db8::1]:860");
    expect_address("[::ffff:10.0.0.1]:1", "[::ffff:10.0.0.1]:1");
}

static void test_bad_target_address(void **state)
{
    char long_name[400];
    (void)state;
    expect_bad_address("");
    expect_bad_address(":3260");
    expect_bad_address("host:");
    expect_bad_address("host:0");
    expect_bad_address("host:65536");
    expect_bad_address("host:123456");
    expect_bad_address("host:32a0");
    expect_bad_address("host:3260,");
    expect_bad_address("host:3260,65536");
    expect_bad_address("host:3260,1,2");
    expect_bad_address("host,x");
    expect_bad_address("-host");
    expect_bad_address("ho st");
    expect_bad_address("host/1");
    expect_bad_address("[2001:db8::1");
    expect_bad_address("[]:3260");
    expect_bad_address("[2001:db8::g]");
    expect_bad_address("[2001:db8::1]3260");
    expect_bad_address("[2001:db8::1]:x");
    expect_bad_address("2001:db8::1");        /* IPv6 without brackets: a bad port */
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    expect_bad_address(long_name);
}

static size_t current(const struct portal_plan *p)
{
    return portal_plan_current(p);
}

static void test_order_starts_with_preferred(void **state)
{
    struct portal_plan p;
    const char *why;
    (void)state;

    portal_plan_init(&p, 3, 2);
    assert_int_equal(current(&p), 2);
    assert_null(portal_plan_redirect(&p));
    assert_int_equal(portal_plan_after(&p, 0x0301, NULL, &why), PORTAL_NEXT_TRY);
    assert_int_equal(current(&p), 0);
    assert_int_equal(portal_plan_after(&p, 0x0300, NULL, &why), PORTAL_NEXT_TRY);
    assert_int_equal(current(&p), 1);
    assert_int_equal(portal_plan_after(&p, 0x0302, NULL, &why), PORTAL_NEXT_GIVE_UP);
    assert_non_null(why);

    portal_plan_init(&p, 2, 7);     /* out of range: the first */
    assert_int_equal(current(&p), 0);
    assert_int_equal(portal_plan_after(&p, 0, NULL, &why), PORTAL_NEXT_DONE);
    assert_int_equal(current(&p), 0);

    portal_plan_init(&p, 1, 0);
    assert_int_equal(portal_plan_after(&p, 0x0301, NULL, &why), PORTAL_NEXT_GIVE_UP);
}

/* Class 2 is the SAN's answer about the initiator: no other portal is tried. */
static void test_initiator_error_gives_up(void **state)
{
    struct portal_plan p;
    const char *why;
    (void)state;

    portal_plan_init(&p, 3, 0);
    assert_int_equal(portal_plan_after(&p, 0x0201, NULL, &why), PORTAL_NEXT_GIVE_UP);
    assert_int_equal(current(&p), 0);
    portal_plan_init(&p, 3, 0);
    assert_int_equal(portal_plan_after(&p, 0x0203, NULL, &why), PORTAL_NEXT_GIVE_UP);
    /* a class 0 status other than success is not success */
    portal_plan_init(&p, 2, 0);
    assert_int_equal(portal_plan_after(&p, 0x0001, NULL, &why), PORTAL_NEXT_TRY);
    assert_int_equal(current(&p), 1);
}

static void test_redirects(void **state)
{
    struct portal_plan p;
    const char *why;
    (void)state;

    portal_plan_init(&p, 2, 1);
    assert_int_equal(portal_plan_after(&p, 0x0101, "10.0.0.9:3262,1", &why), PORTAL_NEXT_TRY);
    assert_int_equal(current(&p), 1);                   /* still configured portal 1 */
    assert_string_equal(portal_plan_redirect(&p), "10.0.0.9:3262");
    assert_int_equal(portal_plan_after(&p, 0x0102, "[2001:db8::2]", &why), PORTAL_NEXT_TRY);
    assert_string_equal(portal_plan_redirect(&p), "[2001:db8::2]:3260");
    assert_int_equal(portal_plan_after(&p, 0, NULL, &why), PORTAL_NEXT_DONE);
    assert_int_equal(current(&p), 1);

    /* a redirection target that fails: the next configured portal */
    portal_plan_init(&p, 2, 0);
    assert_int_equal(portal_plan_after(&p, 0x0101, "10.0.0.9", &why), PORTAL_NEXT_TRY);
    assert_int_equal(portal_plan_after(&p, 0x0301, NULL, &why), PORTAL_NEXT_TRY);
    assert_int_equal(current(&p), 1);
    assert_null(portal_plan_redirect(&p));

    /* without a usable TargetAddress: the next portal */
    portal_plan_init(&p, 2, 0);
    assert_int_equal(portal_plan_after(&p, 0x0101, NULL, &why), PORTAL_NEXT_TRY);
    assert_int_equal(current(&p), 1);
    assert_null(portal_plan_redirect(&p));
    assert_int_equal(portal_plan_after(&p, 0x0102, "bad host", &why), PORTAL_NEXT_GIVE_UP);
}

/* A SAN that redirects forever: PORTAL_MAX_REDIRECTS per login, then on. */
static void test_redirect_bound(void **state)
{
    struct portal_plan p;
    const char *why;
    (void)state;

    portal_plan_init(&p, 2, 0);
    for (unsigned i = 0; i < PORTAL_MAX_REDIRECTS; i++)
        assert_int_equal(portal_plan_after(&p, 0x0101, "10.0.0.9", &why), PORTAL_NEXT_TRY);
    assert_int_equal(current(&p), 0);
    assert_int_equal(portal_plan_after(&p, 0x0101, "10.0.0.9", &why), PORTAL_NEXT_TRY);
    assert_int_equal(current(&p), 1);
    assert_null(portal_plan_redirect(&p));
    assert_string_equal(why, "too many login redirections");
    /* the bound is per login, not per portal */
    assert_int_equal(portal_plan_after(&p, 0x0101, "10.0.0.9", &why), PORTAL_NEXT_GIVE_UP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_address),
        cmocka_unit_test(test_bad_target_address),
        cmocka_unit_test(test_order_starts_with_preferred),
        cmocka_unit_test(test_initiator_error_gives_up),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_redirect_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
