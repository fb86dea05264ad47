/* Unit tests for Text Request answers and SendTargets (RFC 7143 13.3,
 * Appendix C, 6.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iscsi_discovery.h"

#define TXT(s) (const uint8_t *)(s), sizeof(s) - 1

static const char *const targets[] = { "iqn.2024-01.org.example:a", "iqn.2024-01.org.example:b" };
static const struct iscsi_portal portals[] = {
    { .address = "192.0.2.1:3260", .tpgt = 1 },
    { .address = "[2001:db8::1]:3260", .tpgt = 1 },
};

static const struct iscsi_discovery_ctx disc = {
    .targets = targets, .n_targets = 2, .portals = portals, .n_portals = 2,
    .discovery_session = true, .session_target = NULL,
};
static const struct iscsi_discovery_ctx normal = {
    .targets = targets, .n_targets = 2, .portals = portals, .n_portals = 2,
    .discovery_session = false, .session_target = "iqn.2024-01.org.example:b",
};

static uint8_t out[4096];
static size_t out_len;
static char rendered[4096];

/* Answer req and render the answer as "k=v;k=v;". */
static int answer(const struct iscsi_discovery_ctx *ctx, const uint8_t *req, size_t len)
{
    int r = iscsi_text_answer(ctx, req, len, out, sizeof(out), &out_len);
    size_t o = 0;
    rendered[0] = '\0';
    for (size_t i = 0; r == 0 && i < out_len;) {
        const char *s = (const char *)out + i;
        assert_non_null(memchr(s, '\0', out_len - i));
        o += (size_t)snprintf(rendered + o, sizeof(rendered) - o, "%s;", s);
        i += strlen(s) + 1;
    }
    return r;
}

#define T_A "TargetName=iqn.2024-01.org.example:a;"
#define T_B "TargetName=iqn.2024-01.org.example:b;"
#define ADDRS "TargetAddress=192.0.2.1:3260,1;TargetAddress=[2001:db8::1]:3260,1;"

static void test_send_targets_all_discovery(void **state)
{
    (void)state;
    assert_int_equal(answer(&disc, TXT("SendTargets=All\0")), 0);
    assert_string_equal(rendered, T_A ADDRS T_B ADDRS);
}

static void test_send_targets_all_normal_session_rejected(void **state)
{
    (void)state;
    /* Appendix C: All "MUST NOT be supported on an operational session" */
    assert_int_equal(answer(&normal, TXT("SendTargets=All\0")), 0);
    assert_string_equal(rendered, "SendTargets=Reject;");
}

static void test_send_targets_empty_normal_session(void **state)
{
    (void)state;
    assert_int_equal(answer(&normal, TXT("SendTargets=\0")), 0);
    assert_string_equal(rendered, T_B ADDRS);
}

static void test_send_targets_empty_discovery(void **state)
{
    (void)state;
    assert_int_equal(answer(&disc, TXT("SendTargets=\0")), 0);
    assert_int_equal(out_len, 0);
}

static void test_send_targets_named(void **state)
{
    (void)state;
    assert_int_equal(answer(&disc, TXT("SendTargets=iqn.2024-01.org.example:b\0")), 0);
    assert_string_equal(rendered, T_B ADDRS);
    assert_int_equal(answer(&disc, TXT("SendTargets=iqn.unknown\0")), 0);
    assert_int_equal(out_len, 0);
}

static void test_send_targets_named_normal_session(void **state)
{
    (void)state;
    assert_int_equal(answer(&normal, TXT("SendTargets=iqn.2024-01.org.example:b\0")), 0);
    assert_string_equal(rendered, T_B ADDRS);
    /* another target than the session's: nothing */
    assert_int_equal(answer(&normal, TXT("SendTargets=iqn.2024-01.org.example:a\0")), 0);
    assert_int_equal(out_len, 0);
}

static void test_no_portals_names_only(void **state)
{
    (void)state;
    struct iscsi_discovery_ctx c = disc;
    c.n_portals = 0;
    assert_int_equal(answer(&c, TXT("SendTargets=All\0")), 0);
    assert_string_equal(rendered, T_A T_B);
}

static void test_other_keys(void **state)
{
    (void)state;
    assert_int_equal(answer(&disc, TXT("X-com.example.q=1\0InitiatorAlias=h\0"
                                       "MaxBurstLength=4096\0IFMarker=No\0"
                                       "MaxRecvDataSegmentLength=8192\0")), 0);
    assert_string_equal(rendered, "X-com.example.q=NotUnderstood;MaxBurstLength=Irrelevant;"
                                  "IFMarker=Reject;MaxRecvDataSegmentLength=Reject;");
}

static void test_malformed_request(void **state)
{
    (void)state;
    assert_int_equal(answer(&disc, TXT("SendTargets=All")), -1);
    assert_int_equal(answer(&disc, TXT("SendTargets\0")), -1);
    assert_int_equal(answer(&disc, TXT("SendTargets=All\0SendTargets=All\0")), -1);
    assert_int_equal(out_len, 0);
}

static void test_answer_does_not_fit(void **state)
{
    (void)state;
    uint8_t small[40];
    size_t n = 1;
    assert_int_equal(iscsi_text_answer(&disc, TXT("SendTargets=All\0"), small, sizeof(small), &n),
                     -1);
    assert_int_equal(n, 0);
}

static void test_empty_request(void **state)
{
    (void)state;
    assert_int_equal(answer(&disc, NULL, 0), 0);
    assert_int_equal(out_len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_targets_all_discovery),
        cmocka_unit_test(test_send_targets_all_normal_session_rejected),
        cmocka_unit_test(test_send_targets_empty_normal_session),
        cmocka_unit_test(test_send_targets_empty_discovery),
        cmocka_unit_test(test_send_targets_named),
        cmocka_unit_test(test_send_targets_named_normal_session),
        cmocka_unit_test(test_no_portals_names_only),
        cmocka_unit_test(test_other_keys),
        cmocka_unit_test(test_malformed_request),
        cmocka_unit_test(test_answer_does_not_fit),
        cmocka_unit_test(test_empty_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
