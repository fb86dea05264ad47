/* Unit tests for the login failure reasons: every status class and detail of
 * RFC 7143 11.13.5 falls into exactly one reason of the fixed set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iscsi_login.h"

static void test_each_status(void **state)
{
    static const struct { uint16_t status; const char *reason; } cases[] = {
        { 0x0200, "initiator_error" },      { 0x0201, "authentication" },
        { 0x0202, "authorization" },        { 0x0203, "not_found" },
        { 0x0204, "target_removed" },       { 0x0205, "unsupported_version" },
        { 0x0206, "too_many_connections" }, { 0x0207, "missing_parameter" },
        { 0x0208, "initiator_error" },      { 0x0209, "initiator_error" },
        { 0x020a, "initiator_error" },      { 0x020b, "initiator_error" },
        { 0x0300, "target_error" },         { 0x0301, "backend_unavailable" },
        { 0x0302, "out_of_resources" },     { 0x0303, "other" },
        { 0x0101, "other" },                { 0x0000, "other" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(iscsi_login_failure_name(iscsi_login_failure_of(cases[i].status)),
                            cases[i].reason);
}

static void test_names_distinct(void **state)
{
    (void)state;
    for (int i = 0; i < ISCSI_LOGIN_FAILURE_COUNT; i++) {
        const char *a = iscsi_login_failure_name((enum iscsi_login_failure)i);
        assert_true(strspn(a, "abcdefghijklmnopqrstuvwxyz_") == strlen(a));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(a, iscsi_login_failure_name((enum iscsi_login_failure)j));
    }
    assert_string_equal(iscsi_login_failure_name(ISCSI_LOGIN_FAILURE_COUNT), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_status),
        cmocka_unit_test(test_names_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
