/* Unit tests for the key table and its negotiation (RFC 7143 6.2, 13). One
 * case per rule: defaults, min/max/OR/AND merges, lists, ranges, Reject,
 * NotUnderstood, Irrelevant, senders, stages, duplicates, digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iscsi_params.h"

static const struct iscsi_login_limits lim = {
    .max_recv_dsl = 65536, .max_burst = 262144, .first_burst = 65536,
    .max_outstanding_r2t = 4, .allow_digests = true, .immediate_data = 1,
    .initial_r2t = 0,
};

struct fx {
    struct iscsi_neg n;
    uint8_t out[8192];
    struct iscsi_text_builder b;
    uint16_t status;
    const char *why;
    char rendered[8192];
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof(f));
    iscsi_neg_init(&f.n, &lim);
    iscsi_text_builder_init(&f.b, f.out, sizeof(f.out));
    *state = &f;
    return 0;
}

/* Offer one "key=value" and return the outcome; the answer text so far is
 * rendered as "k=v;k=v;" in f->rendered. */
static enum iscsi_neg_outcome offer_in(struct fx *f, const char *kv, enum iscsi_login_stage stage,
                                       bool first)
{
    static char copy[9000];
    size_t n = strlen(kv);
    memcpy(copy, kv, n + 1);
    const char *eq = strchr(copy, '=');
    struct iscsi_text_pair p = {
        .key = copy, .key_len = (size_t)(eq - copy), .value = eq + 1,
        .value_len = n - (size_t)(eq - copy) - 1,
    };
    enum iscsi_neg_outcome r = iscsi_neg_login_key(&f->n, &p, stage, first, &f->b, &f->status,
                                                   &f->why);
    size_t o = 0;
    f->rendered[0] = '\0';
    for (size_t i = 0; i < f->b.len;) {
        const char *s = (const char *)f->out + i;
        o += (size_t)snprintf(f->rendered + o, sizeof(f->rendered) - o, "%s;", s);
        i += strlen(s) + 1;
    }
    return r;
}

static enum iscsi_neg_outcome offer(struct fx *f, const char *kv)
{
    return offer_in(f, kv, ISCSI_STAGE_OPERATIONAL, true);
}

#define ANSWER(f, kv, expect) do {                               \
        assert_int_equal(offer((f), (kv)), ISCSI_NEG_DONE);      \
        assert_string_equal((f)->rendered, (expect));            \
    } while (0)

static void test_table_has_every_rfc7143_key(void **state)
{
    (void)state;
    static const char *names[] = {
        "HeaderDigest", "DataDigest", "MaxConnections", "SendTargets", "TargetName",
        "InitiatorName", "TargetAlias", "InitiatorAlias", "TargetAddress",
        "TargetPortalGroupTag", "InitialR2T", "ImmediateData", "MaxRecvDataSegmentLength",
        "MaxBurstLength", "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain",
        "MaxOutstandingR2T", "DataPDUInOrder", "DataSequenceInOrder", "ErrorRecoveryLevel",
        "SessionType", "AuthMethod", "TaskReporting", "iSCSIProtocolLevel", "IFMarker",
        "OFMarker", "OFMarkInt", "IFMarkInt",
    };
    size_t n;
    iscsi_key_table(&n);
    assert_int_equal(n, sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < n; i++)
        assert_non_null(iscsi_key_find(names[i], strlen(names[i])));
    assert_null(iscsi_key_find("headerdigest", 12));     /* case-sensitive, 6.1 */
    const struct iscsi_key *k = iscsi_key_find("MaxBurstLength", 14);
    assert_int_equal(k->kind, ISCSI_KIND_NUM_MIN);
    assert_int_equal(k->min, 512);
    assert_int_equal(k->max, 16777215);
    assert_int_equal(k->dflt, 262144);
    assert_int_equal(k->use, ISCSI_USE_LO);
}

static void test_defaults_when_keys_absent(void **state)
{
    (void)state;
    struct iscsi_session_params p;
    iscsi_params_defaults(&p);
    assert_false(p.header_digest);
    assert_false(p.data_digest);
    assert_int_equal(p.initiator_mrdsl, 8192);
    assert_int_equal(p.target_mrdsl, 8192);
    assert_int_equal(p.max_burst, 262144);
    assert_int_equal(p.first_burst, 65536);
    assert_int_equal(p.max_outstanding_r2t, 1);
    assert_true(p.initial_r2t);
    assert_true(p.immediate_data);
    assert_true(p.data_pdu_in_order);
    assert_true(p.data_sequence_in_order);
    assert_int_equal(p.max_connections, 1);
    assert_int_equal(p.default_time2wait, 2);
    assert_int_equal(p.default_time2retain, 20);
    assert_int_equal(p.error_recovery_level, 0);
    assert_false(p.discovery);
}

static void test_parse_number(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(iscsi_parse_number("8192", 4, &v), 0);
    assert_int_equal(v, 8192);
    assert_int_equal(iscsi_parse_number("0", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(iscsi_parse_number("0x2000", 6, &v), 0);
    assert_int_equal(v, 8192);
    assert_int_equal(iscsi_parse_number("0XfF", 4, &v), 0);
    assert_int_equal(v, 255);
    assert_int_equal(iscsi_parse_number("18446744073709551615", 20, &v), 0);
    assert_int_equal(iscsi_parse_number("18446744073709551616", 20, &v), -1);
    assert_int_equal(iscsi_parse_number("08192", 5, &v), -1);
    assert_int_equal(iscsi_parse_number("", 0, &v), -1);
    assert_int_equal(iscsi_parse_number("0x", 2, &v), -1);
    assert_int_equal(iscsi_parse_number("12a", 3, &v), -1);
    assert_int_equal(iscsi_parse_number("-1", 2, &v), -1);
    assert_int_equal(iscsi_parse_number(" 1", 2, &v), -1);
    assert_int_equal(iscsi_parse_number("0x10000000000000000", 19, &v), -1);
}

static void test_numerical_min(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "MaxBurstLength=1048576", "MaxBurstLength=262144;");
    assert_int_equal(f->n.p.max_burst, 262144);
    ANSWER(f, "FirstBurstLength=4096", "MaxBurstLength=262144;FirstBurstLength=4096;");
    assert_int_equal(f->n.p.first_burst, 4096);
    ANSWER(f, "MaxOutstandingR2T=16",
           "MaxBurstLength=262144;FirstBurstLength=4096;MaxOutstandingR2T=4;");
    assert_int_equal(f->n.p.max_outstanding_r2t, 4);
}

static void test_numerical_min_hex_offer(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "MaxBurstLength=0x1000", "MaxBurstLength=4096;");
    assert_int_equal(f->n.p.max_burst, 4096);
}

static void test_numerical_max(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "DefaultTime2Wait=0", "DefaultTime2Wait=2;");
    assert_int_equal(f->n.p.default_time2wait, 2);
    ANSWER(f, "DefaultTime2Retain=0", "DefaultTime2Wait=2;DefaultTime2Retain=0;");
    assert_int_equal(f->n.p.default_time2retain, 0);
}

static void test_numerical_max_takes_larger_offer(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "DefaultTime2Wait=10", "DefaultTime2Wait=10;");
    assert_int_equal(f->n.p.default_time2wait, 10);
}

static void test_boolean_or(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "InitialR2T=No", "InitialR2T=No;");          /* ours No: offer stands */
    assert_false(f->n.p.initial_r2t);
    ANSWER(f, "DataPDUInOrder=No", "InitialR2T=No;DataPDUInOrder=Yes;");  /* ours Yes */
    assert_true(f->n.p.data_pdu_in_order);
    ANSWER(f, "DataSequenceInOrder=Yes",
           "InitialR2T=No;DataPDUInOrder=Yes;DataSequenceInOrder=Yes;");
}

static void test_boolean_and(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "ImmediateData=No", "ImmediateData=No;");
    assert_false(f->n.p.immediate_data);
}

static void test_boolean_and_yes(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "ImmediateData=Yes", "ImmediateData=Yes;");
    assert_true(f->n.p.immediate_data);
}

static void test_boolean_malformed_rejected(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "InitialR2T=yes", "InitialR2T=Reject;");
    assert_true(f->n.p.initial_r2t);     /* stays at the default */
}

static void test_out_of_range_rejected(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "MaxBurstLength=511", "MaxBurstLength=Reject;");
    ANSWER(f, "FirstBurstLength=16777216", "MaxBurstLength=Reject;FirstBurstLength=Reject;");
    ANSWER(f, "ErrorRecoveryLevel=3",
           "MaxBurstLength=Reject;FirstBurstLength=Reject;ErrorRecoveryLevel=Reject;");
    ANSWER(f, "MaxConnections=0", "MaxBurstLength=Reject;FirstBurstLength=Reject;"
           "ErrorRecoveryLevel=Reject;MaxConnections=Reject;");
    assert_int_equal(f->n.p.max_burst, 262144);
    assert_int_equal(f->n.p.first_burst, 65536);
}

static void test_malformed_number_rejected(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "MaxBurstLength=abc", "MaxBurstLength=Reject;");
    ANSWER(f, "FirstBurstLength=065536", "MaxBurstLength=Reject;FirstBurstLength=Reject;");
    ANSWER(f, "DefaultTime2Wait=", "MaxBurstLength=Reject;FirstBurstLength=Reject;"
           "DefaultTime2Wait=Reject;");
}

static void test_error_recovery_level_is_zero(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "ErrorRecoveryLevel=2", "ErrorRecoveryLevel=0;");
    assert_int_equal(f->n.p.error_recovery_level, 0);
}

static void test_max_connections_is_one(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "MaxConnections=8", "MaxConnections=1;");
    assert_int_equal(f->n.p.max_connections, 1);
}

static void test_digests_on(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "HeaderDigest=CRC32C,None", "HeaderDigest=CRC32C;");
    assert_true(f->n.p.header_digest);
    ANSWER(f, "DataDigest=None,CRC32C", "HeaderDigest=CRC32C;DataDigest=None;");
    assert_false(f->n.p.data_digest);
}

static void test_digests_off(void **state)
{
    struct fx *f = *state;
    struct iscsi_login_limits nod = lim;
    nod.allow_digests = false;
    iscsi_neg_init(&f->n, &nod);
    ANSWER(f, "HeaderDigest=CRC32C,None", "HeaderDigest=None;");
    assert_false(f->n.p.header_digest);
    ANSWER(f, "DataDigest=CRC32C", "HeaderDigest=None;DataDigest=Reject;");
    assert_false(f->n.p.data_digest);
}

/* ImmediateData is AND (13.11): with ours No, an initiator's Yes gives No. */
static void test_immediate_data_refused(void **state)
{
    struct fx *f = *state;
    struct iscsi_login_limits no_imm = lim;
    no_imm.immediate_data = 0;
    iscsi_neg_init(&f->n, &no_imm);
    ANSWER(f, "ImmediateData=Yes", "ImmediateData=No;");
    assert_false(f->n.p.immediate_data);
}

static void test_list_skips_unknown_values(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "HeaderDigest=MD5,None", "HeaderDigest=None;");
    ANSWER(f, "DataDigest=CRC32C,,None", "HeaderDigest=None;DataDigest=Reject;");
}

static void test_task_reporting(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "TaskReporting=ResponseFence,RFC3720", "TaskReporting=RFC3720;");
}

static void test_task_reporting_unsupported(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "TaskReporting=FastAbort", "TaskReporting=Reject;");
}

static void test_protocol_level(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "iSCSIProtocolLevel=2", "iSCSIProtocolLevel=1;");
}

static void test_protocol_level_out_of_range(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "iSCSIProtocolLevel=32", "iSCSIProtocolLevel=Reject;");
}

static void test_not_understood(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "FooBar=1", "FooBar=NotUnderstood;");
    ANSWER(f, "X-com.example.knob=7", "FooBar=NotUnderstood;X-com.example.knob=NotUnderstood;");
    ANSWER(f, "X#1234=a", "FooBar=NotUnderstood;X-com.example.knob=NotUnderstood;"
           "X#1234=NotUnderstood;");
}

static void test_obsolete_markers_rejected(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "IFMarker=No", "IFMarker=Reject;");
    ANSWER(f, "OFMarker=No", "IFMarker=Reject;OFMarker=Reject;");
    ANSWER(f, "OFMarkInt=2048~8192", "IFMarker=Reject;OFMarker=Reject;OFMarkInt=Reject;");
    ANSWER(f, "IFMarkInt=1",
           "IFMarker=Reject;OFMarker=Reject;OFMarkInt=Reject;IFMarkInt=Reject;");
}

static void test_duplicate_across_requests_fails(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "MaxBurstLength=65536", "MaxBurstLength=65536;");
    assert_int_equal(offer(f, "MaxBurstLength=65536"), ISCSI_NEG_FAIL);
    assert_int_equal(f->status, ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_wrong_sender_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(offer(f, "TargetAlias=x"), ISCSI_NEG_FAIL);
    assert_int_equal(f->status, ISCSI_LOGIN_ERR_INITIATOR);
    assert_int_equal(offer(f, "TargetPortalGroupTag=1"), ISCSI_NEG_FAIL);
    assert_int_equal(offer(f, "TargetAddress=1.2.3.4"), ISCSI_NEG_FAIL);
}

static void test_operational_key_in_security_stage_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(offer_in(f, "HeaderDigest=None", ISCSI_STAGE_SECURITY, true),
                     ISCSI_NEG_FAIL);
    assert_int_equal(f->status, ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_security_key_in_operational_stage_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(offer_in(f, "AuthMethod=None", ISCSI_STAGE_OPERATIONAL, true),
                     ISCSI_NEG_FAIL);
    assert_int_equal(offer_in(f, "AuthMethod=None", ISCSI_STAGE_SECURITY, true),
                     ISCSI_NEG_FAIL);    /* and now it is a duplicate */
}

static void test_auth_method_is_left_to_security_stage(void **state)
{
    struct fx *f = *state;
    assert_int_equal(offer_in(f, "AuthMethod=None", ISCSI_STAGE_SECURITY, true),
                     ISCSI_NEG_SECURITY);
    assert_int_equal(f->b.len, 0);
}

static void test_send_targets_in_login_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(offer(f, "SendTargets=All"), ISCSI_NEG_FAIL);
}

static void test_declarations_any_stage(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "InitiatorAlias=host1", "");
    assert_string_equal(f->n.p.initiator_alias, "host1");
    assert_int_equal(offer_in(f, "MaxRecvDataSegmentLength=262144", ISCSI_STAGE_SECURITY, false),
                     ISCSI_NEG_DONE);
    assert_int_equal(f->n.p.initiator_mrdsl, 262144);
}

static void test_first_only_key_later_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(offer_in(f, "SessionType=Normal", ISCSI_STAGE_OPERATIONAL, false),
                     ISCSI_NEG_FAIL);
    assert_int_equal(f->status, ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_declared_string_too_long_fails(void **state)
{
    struct fx *f = *state;
    char kv[400] = "InitiatorAlias=";
    memset(kv + 15, 'a', 256);
    kv[15 + 256] = '\0';
    assert_int_equal(offer(f, kv), ISCSI_NEG_FAIL);
}

static void test_list_value_too_long_rejected(void **state)
{
    struct fx *f = *state;
    char kv[400] = "HeaderDigest=None";
    size_t n = strlen(kv);
    for (int i = 0; i < 60; i++, n += 5)
        memcpy(kv + n, ",None", 6);
    ANSWER(f, kv, "HeaderDigest=Reject;");
}

static void test_mrdsl_declarative(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "MaxRecvDataSegmentLength=262144", "");
    assert_int_equal(f->n.p.initiator_mrdsl, 262144);
    assert_int_equal(f->n.p.target_mrdsl, 8192);
    iscsi_neg_declare(&f->n, &f->b);
    iscsi_neg_declare(&f->n, &f->b);     /* once only */
    assert_int_equal(f->b.len, strlen("MaxRecvDataSegmentLength=65536") + 1);
    assert_string_equal((char *)f->out, "MaxRecvDataSegmentLength=65536");
    assert_int_equal(f->n.p.target_mrdsl, 65536);
}

static void test_mrdsl_out_of_range_fails(void **state)
{
    struct fx *f = *state;
    assert_int_equal(offer(f, "MaxRecvDataSegmentLength=511"), ISCSI_NEG_FAIL);
    assert_int_equal(f->status, ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_discovery_irrelevant_keys(void **state)
{
    struct fx *f = *state;
    f->n.p.discovery = true;
    ANSWER(f, "MaxBurstLength=65536", "MaxBurstLength=Irrelevant;");
    ANSWER(f, "HeaderDigest=None", "MaxBurstLength=Irrelevant;HeaderDigest=None;");
    ANSWER(f, "InitialR2T=No", "MaxBurstLength=Irrelevant;HeaderDigest=None;"
           "InitialR2T=Irrelevant;");
    assert_int_equal(f->n.p.max_burst, 262144);
}

static void test_first_burst_over_max_burst_fails(void **state)
{
    struct fx *f = *state;
    ANSWER(f, "MaxBurstLength=4096", "MaxBurstLength=4096;");
    ANSWER(f, "FirstBurstLength=8192", "MaxBurstLength=4096;FirstBurstLength=8192;");
    assert_int_equal(iscsi_neg_final_check(&f->n, &f->status, &f->why), -1);
    assert_int_equal(f->status, ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_limits_clamped(void **state)
{
    (void)state;
    struct iscsi_neg n;
    struct iscsi_login_limits bad = { .max_recv_dsl = 100, .max_burst = 1u << 30,
                                      .first_burst = 1u << 30, .max_outstanding_r2t = 0 };
    iscsi_neg_init(&n, &bad);
    assert_int_equal(n.lim.max_recv_dsl, 512);
    assert_int_equal(n.lim.max_burst, 16777215);
    assert_int_equal(n.lim.first_burst, 16777215);
    assert_int_equal(n.lim.max_outstanding_r2t, 1);
    iscsi_neg_init(&n, NULL);
    assert_int_equal(n.lim.max_burst, 512);
}

static void test_session_type(void **state)
{
    (void)state;
    bool d = false;
    assert_int_equal(iscsi_parse_session_type("Discovery", &d), 0);
    assert_true(d);
    assert_int_equal(iscsi_parse_session_type("Normal", &d), 0);
    assert_false(d);
    assert_int_equal(iscsi_parse_session_type("normal", &d), -1);
}

static void test_ffp_answers(void **state)
{
    (void)state;
    struct iscsi_text_pair p;
#define P(k) (p.key = (k), p.key_len = strlen(k), p.value = "1", p.value_len = 1, &p)
    assert_string_equal(iscsi_params_ffp_answer(P("FooBar")), "NotUnderstood");
    assert_string_equal(iscsi_params_ffp_answer(P("X-a.b")), "NotUnderstood");
    assert_null(iscsi_params_ffp_answer(P("InitiatorAlias")));
    assert_string_equal(iscsi_params_ffp_answer(P("MaxRecvDataSegmentLength")), "Reject");
    assert_string_equal(iscsi_params_ffp_answer(P("MaxBurstLength")), "Irrelevant");
    assert_string_equal(iscsi_params_ffp_answer(P("IFMarker")), "Reject");
#undef P
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_has_every_rfc7143_key),
        cmocka_unit_test(test_defaults_when_keys_absent),
        cmocka_unit_test(test_parse_number),
        T(test_numerical_min),
        T(test_numerical_min_hex_offer),
        T(test_numerical_max),
        T(test_numerical_max_takes_larger_offer),
        T(test_boolean_or),
        T(test_boolean_and),
        T(test_boolean_and_yes),
        T(test_boolean_malformed_rejected),
        T(test_out_of_range_rejected),
        T(test_malformed_number_rejected),
        T(test_error_recovery_level_is_zero),
        T(test_max_connections_is_one),
        T(test_digests_on),
        T(test_digests_off),
        T(test_immediate_data_refused),
        T(test_list_skips_unknown_values),
        T(test_task_reporting),
        T(test_task_reporting_unsupported),
        T(test_protocol_level),
        T(test_protocol_level_out_of_range),
        T(test_not_understood),
        T(test_obsolete_markers_rejected),
        T(test_duplicate_across_requests_fails),
        T(test_wrong_sender_fails),
        T(test_operational_key_in_security_stage_fails),
        T(test_security_key_in_operational_stage_fails),
        T(test_auth_method_is_left_to_security_stage),
        T(test_send_targets_in_login_fails),
        T(test_declarations_any_stage),
        T(test_first_only_key_later_fails),
        T(test_declared_string_too_long_fails),
        T(test_list_value_too_long_rejected),
        T(test_mrdsl_declarative),
        T(test_mrdsl_out_of_range_fails),
        T(test_discovery_irrelevant_keys),
        T(test_first_burst_over_max_burst_fails),
        cmocka_unit_test(test_limits_clamped),
        cmocka_unit_test(test_session_type),
        cmocka_unit_test(test_ffp_answers),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
