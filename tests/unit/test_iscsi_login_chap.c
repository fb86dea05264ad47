/* Unit tests for whole logins through the security stage with CHAP (RFC 7143
 * 6.3, 12.1, 12.1.3): the admit hook and its policy, AuthMethod choice,
 * CHAP keys in both orders initiators send them, transit only after
 * authentication, and every refusal as a reply-and-close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iscsi_chap.h"
#include "iscsi_login.h"
#include "iscsi_text.h"
#include "text_kv.h"

#define TGT         "iqn.2024-01.org.example:disk1"
#define INI         "iqn.1993-08.org.debian:01:abcdef"
#define TSIH        0x1234
#define TXT(s)      (const uint8_t *)(s), sizeof(s) - 1
#define INI_SECRET  "s3cr3t-p4ssw0rd"
#define TGT_NAME    "iqn.2024-01.org.example:proxy"
#define TGT_SECRET  "t4rget-s3cret-99"
/* MD5(0x2a || INI_SECRET || 00 01 .. 0f), from `openssl dgst -md5` */
#define MD5_R       "0xc25bdf0ca955d57a736725540583b0c1"

#define SEC_HEAD    "InitiatorName=" INI "\0TargetName=" TGT "\0SessionType=Normal\0"
#define OP_KEYS     "HeaderDigest=None\0DataDigest=None\0MaxRecvDataSegmentLength=262144\0"

struct fx {
    struct iscsi_login *l;
    struct iscsi_pdu_hdr h;
    struct iscsi_login_reply r;
    /* what the hooks answer */
    struct iscsi_auth_policy policy;
    uint16_t admit_status;
    bool target_account;
    unsigned admit_calls;
    bool admit_saw_null_target;
};

static struct fx fx;

static uint16_t admit(void *ctx, const char *target_name, const char *initiator_name,
                      struct iscsi_auth_policy *policy, const char **why)
{
    struct fx *f = ctx;
    f->admit_calls++;
    f->admit_saw_null_target = target_name == NULL;
    assert_string_equal(initiator_name, INI);
    if (f->admit_status) {
        *why = "initiator not in the target's ACL";
        return f->admit_status;
    }
    *policy = f->policy;
    return 0;
}

static int initiator_secret(void *ctx, const char *name, uint8_t *buf, size_t *len)
{
    (void)ctx;
    if (strcmp(name, "alice") != 0)
        return -1;
    *len = strlen(INI_SECRET);
    memcpy(buf, INI_SECRET, *len);
    return 0;
}

static int target_secret(void *ctx, char *name, size_t name_len, uint8_t *buf, size_t *len)
{
    const struct fx *f = ctx;
    if (!f->target_account)
        return -1;
    snprintf(name, name_len, "%s", TGT_NAME);
    *len = strlen(TGT_SECRET);
    memcpy(buf, TGT_SECRET, *len);
    return 0;
}

/* CHAP_I 0x2a, then the challenge 00 01 02 ... */
static int test_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = i == 0 ? 0x2a : (uint8_t)(i - 1);
    return 0;
}

static const struct iscsi_login_limits lim = {
    .max_recv_dsl = 65536, .max_burst = 1048576, .first_burst = 262144,
    .max_outstanding_r2t = 1, .allow_digests = true, .immediate_data = 1,
};

static int setup(void **state)
{
    memset(&fx, 0, sizeof(fx));
    fx.policy = (struct iscsi_auth_policy){ .chap_required = true, .chap_allowed = true,
                                            .chap_algorithms = ISCSI_CHAP_ALGS_ALL };
    fx.target_account = true;
    struct iscsi_login_hooks hooks = {
        .ctx = &fx, .admit = admit, .initiator_secret = initiator_secret,
        .target_secret = target_secret, .random = test_random,
    };
    fx.l = iscsi_login_new(&lim, TSIH, &hooks);
    fx.h.opcode = ISCSI_OP_LOGIN_REQ;
    fx.h.immediate = true;
    fx.h.u.login_req.isid[0] = 0x80;
    fx.h.u.login_req.cmdsn = 7;
    *state = &fx;
    return fx.l ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    iscsi_login_free(fx.l);
    return 0;
}

static uint8_t flags(bool t, unsigned csg, unsigned nsg)
{
    return (uint8_t)((t ? ISCSI_FLAG_LOGIN_TRANSIT : 0) | csg << 2 | nsg);
}

static enum iscsi_login_result step(uint8_t fl, const uint8_t *d, size_t n)
{
    fx.h.flags = fl;
    fx.h.data_len = (uint32_t)n;
    fx.h.itt++;
    return iscsi_login_step(fx.l, &fx.h, d, n, &fx.r);
}

/* A request from a NUL-joined list of "key=value" strings. */
static enum iscsi_login_result step_kv(uint8_t fl, const char *kv, ...)
{
    static uint8_t text[4096];
    size_t n;
    va_list ap;

    va_start(ap, kv);
    n = join_kv(text, sizeof(text), kv, ap);
    va_end(ap);
    return step(fl, text, n);
}

static const char *reply_value(const char *key)
{
    static struct iscsi_text_pairs t;
    if (iscsi_text_parse(fx.r.data, fx.r.data_len, false, &t, NULL) != ISCSI_TEXT_OK)
        return "<malformed>";
    const struct iscsi_text_pair *p = iscsi_text_find(&t, key);
    return p ? p->value : NULL;
}

static void assert_failed(enum iscsi_login_result res, uint16_t status)
{
    assert_int_equal(res, ISCSI_LOGIN_REPLY_AND_CLOSE);
    assert_int_equal(fx.r.status, status);
    assert_int_equal(fx.r.hdr.u.login_rsp.status_class, status >> 8);
    assert_int_equal(fx.r.hdr.u.login_rsp.status_detail, status & 0xff);
    assert_int_equal(fx.r.data_len, 0);
    assert_non_null(fx.r.why);
    assert_null(strstr(fx.r.why, INI_SECRET));
    assert_string_equal(iscsi_login_state_name(fx.l), "FREE");
}

/* Request 1 as libiscsi and open-iscsi send it: AuthMethod only. */
static void offer_chap(void)
{
    assert_int_equal(step(flags(true, 0, 1), TXT(SEC_HEAD "AuthMethod=CHAP,None\0")),
                     ISCSI_LOGIN_REPLY);
    assert_string_equal(reply_value("AuthMethod"), "CHAP");
    /* not authenticated yet: no transit */
    assert_int_equal(fx.r.hdr.flags, flags(false, 0, 0));
    assert_null(reply_value("CHAP_A"));
}

static void challenge_md5(void)
{
    assert_int_equal(step_kv(flags(true, 0, 1), "CHAP_A=5", NULL), ISCSI_LOGIN_REPLY);
    assert_int_equal(fx.r.hdr.flags, flags(false, 0, 0));
    assert_string_equal(reply_value("CHAP_A"), "5");
    assert_string_equal(reply_value("CHAP_I"), "42");
    assert_string_equal(reply_value("CHAP_C"), "0x000102030405060708090a0b0c0d0e0f");
}

static void operational_to_ffp(void)
{
    assert_int_equal(step(flags(true, 1, 3), TXT(OP_KEYS)), ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(fx.l, 0, &fx.r), ISCSI_LOGIN_DONE);
    assert_int_equal(fx.r.hdr.u.login_rsp.tsih, TSIH);
    assert_string_equal(iscsi_login_state_name(fx.l), "LOGGED_IN");
}

/* ---- successful logins ----------------------------------------------- */

static void test_one_way_chap(void **state)
{
    (void)state;
    offer_chap();
    assert_int_equal(fx.admit_calls, 1);
    challenge_md5();
    assert_int_equal(step_kv(flags(true, 0, 1), "CHAP_N=alice", "CHAP_R=" MD5_R, NULL),
                     ISCSI_LOGIN_REPLY);
    assert_int_equal(fx.r.hdr.flags, flags(true, 0, 1));    /* SecurityNegotiation done */
    assert_null(reply_value("CHAP_N"));
    assert_null(reply_value("CHAP_R"));
    operational_to_ffp();
    const struct iscsi_session_params *p = iscsi_login_params(fx.l);
    assert_int_equal(p->auth_method, ISCSI_AUTH_CHAP);
    assert_string_equal(p->chap_name, "alice");
    assert_false(p->chap_mutual);
    assert_int_equal(fx.admit_calls, 1);
}

static void test_chap_a_with_auth_method(void **state)
{
    uint8_t challenge[32], r[ISCSI_CHAP_DIGEST_MAX];
    char rv[128] = "CHAP_R=";
    (void)state;
    /* AuthMethod and CHAP_A in one request; straight to FFP after */
    assert_int_equal(step(flags(true, 0, 3), TXT(SEC_HEAD "AuthMethod=CHAP\0CHAP_A=7,5\0")),
                     ISCSI_LOGIN_REPLY);
    assert_int_equal(fx.r.hdr.flags, flags(false, 0, 0));
    assert_string_equal(reply_value("AuthMethod"), "CHAP");
    assert_string_equal(reply_value("CHAP_A"), "7");
    for (int i = 0; i < 32; i++)
        challenge[i] = (uint8_t)i;
    assert_int_equal(iscsi_chap_digest(7, 0x2a, (const uint8_t *)INI_SECRET,
                                       strlen(INI_SECRET), challenge, 32, r), 32);
    iscsi_binary_encode(r, 32, ISCSI_BINARY_HEX, rv + 7, sizeof(rv) - 7);
    assert_int_equal(step_kv(flags(true, 0, 3), "CHAP_N=alice", rv, NULL),
                     ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(fx.l, 0, &fx.r), ISCSI_LOGIN_DONE);
    assert_int_equal(fx.r.hdr.flags, flags(true, 0, 3));
    assert_int_equal(iscsi_login_params(fx.l)->auth_method, ISCSI_AUTH_CHAP);
}

static void test_mutual_chap(void **state)
{
    uint8_t c[16], r[ISCSI_CHAP_DIGEST_MAX];
    char expect[64];
    (void)state;
    offer_chap();
    challenge_md5();
    assert_int_equal(step_kv(flags(true, 0, 1), "CHAP_N=alice", "CHAP_R=" MD5_R, "CHAP_I=3",
                             "CHAP_C=0xffeeddccbbaa99887766554433221100", NULL),
                     ISCSI_LOGIN_REPLY);
    assert_int_equal(fx.r.hdr.flags, flags(true, 0, 1));
    for (int i = 0; i < 16; i++)
        c[i] = (uint8_t)(0xff - i * 0x11);
    assert_int_equal(iscsi_chap_digest(5, 3, (const uint8_t *)TGT_SECRET, strlen(TGT_SECRET),
                                       c, 16, r), 16);
    iscsi_binary_encode(r, 16, ISCSI_BINARY_HEX, expect, sizeof(expect));
    assert_string_equal(reply_value("CHAP_N"), TGT_NAME);
    assert_string_equal(reply_value("CHAP_R"), expect);
    operational_to_ffp();
    assert_true(iscsi_login_params(fx.l)->chap_mutual);
    assert_string_equal(iscsi_login_params(fx.l)->chap_name, "alice");
}

static void test_discovery_with_chap(void **state)
{
    (void)state;
    assert_int_equal(step(flags(true, 0, 1),
                          TXT("InitiatorName=" INI "\0SessionType=Discovery\0"
                              "AuthMethod=None,CHAP\0")),
                     ISCSI_LOGIN_REPLY);
    assert_true(fx.admit_saw_null_target);
    assert_string_equal(reply_value("AuthMethod"), "CHAP");    /* None refused: required */
    challenge_md5();
    assert_int_equal(step_kv(flags(true, 0, 1), "CHAP_N=alice", "CHAP_R=" MD5_R, NULL),
                     ISCSI_LOGIN_REPLY);
    assert_int_equal(step(flags(true, 1, 3), TXT(OP_KEYS)), ISCSI_LOGIN_DONE);
}

static void test_none_when_allowed(void **state)
{
    (void)state;
    fx.policy.chap_required = false;
    assert_int_equal(step(flags(true, 0, 1), TXT(SEC_HEAD "AuthMethod=None,CHAP\0")),
                     ISCSI_LOGIN_REPLY);
    assert_string_equal(reply_value("AuthMethod"), "None");
    assert_int_equal(fx.r.hdr.flags, flags(true, 0, 1));
    operational_to_ffp();
    assert_int_equal(iscsi_login_params(fx.l)->auth_method, ISCSI_AUTH_NONE);
    assert_string_equal(iscsi_login_params(fx.l)->chap_name, "");
}

static void test_chap_keys_after_none_irrelevant(void **state)
{
    (void)state;
    fx.policy = (struct iscsi_auth_policy){ .chap_allowed = false };
    assert_int_equal(step(flags(true, 0, 1), TXT(SEC_HEAD "AuthMethod=CHAP,None\0CHAP_A=5\0")),
                     ISCSI_LOGIN_REPLY);
    assert_string_equal(reply_value("AuthMethod"), "None");
    assert_string_equal(reply_value("CHAP_A"), "Irrelevant");
    assert_int_equal(fx.r.hdr.flags, flags(true, 0, 1));
}

/* ---- refusals -------------------------------------------------------- */

static void test_wrong_secret(void **state)
{
    (void)state;
    offer_chap();
    challenge_md5();
    assert_failed(step_kv(flags(true, 0, 1), "CHAP_N=alice",
                          "CHAP_R=0xc25bdf0ca955d57a736725540583b0c2", NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_none_refused_when_required(void **state)
{
    (void)state;
    assert_failed(step(flags(true, 0, 1), TXT(SEC_HEAD "AuthMethod=None\0")),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_security_skip_refused_when_required(void **state)
{
    (void)state;
    assert_failed(step(flags(true, 1, 3), TXT(SEC_HEAD OP_KEYS)), ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_int_equal(fx.admit_calls, 1);
}

static void test_no_transit_without_auth_method(void **state)
{
    (void)state;
    assert_int_equal(step(flags(true, 0, 3), TXT(SEC_HEAD)), ISCSI_LOGIN_REPLY);
    assert_int_equal(fx.r.hdr.flags, flags(false, 0, 0));
}

static void test_chap_not_allowed(void **state)
{
    (void)state;
    fx.policy = (struct iscsi_auth_policy){ .chap_allowed = false };
    assert_failed(step(flags(true, 0, 1), TXT(SEC_HEAD "AuthMethod=CHAP\0")),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_algorithm_not_allowed(void **state)
{
    (void)state;
    fx.policy.chap_algorithms = ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_SHA256);
    offer_chap();
    assert_failed(step_kv(flags(true, 0, 1), "CHAP_A=5", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_admit_forbidden(void **state)
{
    (void)state;
    fx.admit_status = ISCSI_LOGIN_ERR_FORBIDDEN;
    assert_failed(step(flags(true, 0, 1), TXT(SEC_HEAD "AuthMethod=CHAP\0")),
                  ISCSI_LOGIN_ERR_FORBIDDEN);
    assert_string_equal(fx.r.why, "initiator not in the target's ACL");
    assert_false(fx.admit_saw_null_target);
}

static void test_chap_key_before_auth_method(void **state)
{
    (void)state;
    assert_failed(step(flags(false, 0, 0), TXT(SEC_HEAD "CHAP_A=5\0")),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_chap_key_after_authentication(void **state)
{
    (void)state;
    offer_chap();
    challenge_md5();
    assert_int_equal(step_kv(flags(false, 0, 0), "CHAP_N=alice", "CHAP_R=" MD5_R, NULL),
                     ISCSI_LOGIN_REPLY);
    assert_failed(step_kv(flags(true, 0, 1), "CHAP_A=5", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_chap_key_in_operational_stage(void **state)
{
    (void)state;
    offer_chap();
    challenge_md5();
    assert_int_equal(step_kv(flags(true, 0, 1), "CHAP_N=alice", "CHAP_R=" MD5_R, NULL),
                     ISCSI_LOGIN_REPLY);
    assert_failed(step(flags(true, 1, 3), TXT(OP_KEYS "CHAP_N=alice\0")),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_response_before_challenge(void **state)
{
    (void)state;
    offer_chap();
    assert_failed(step_kv(flags(true, 0, 1), "CHAP_N=alice", "CHAP_R=" MD5_R, NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_mutual_without_target_account(void **state)
{
    (void)state;
    fx.target_account = false;
    offer_chap();
    challenge_md5();
    assert_failed(step_kv(flags(true, 0, 1), "CHAP_N=alice", "CHAP_R=" MD5_R, "CHAP_I=3",
                          "CHAP_C=0xffeeddccbbaa99887766554433221100", NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_new_needs_admit(void **state)
{
    struct iscsi_login_hooks none = { .ctx = NULL };
    (void)state;
    assert_null(iscsi_login_new(&lim, TSIH, NULL));
    assert_null(iscsi_login_new(&lim, TSIH, &none));
    iscsi_login_free(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_one_way_chap),
        T(test_chap_a_with_auth_method),
        T(test_mutual_chap),
        T(test_discovery_with_chap),
        T(test_none_when_allowed),
        T(test_chap_keys_after_none_irrelevant),
        T(test_wrong_secret),
        T(test_none_refused_when_required),
        T(test_security_skip_refused_when_required),
        T(test_no_transit_without_auth_method),
        T(test_chap_not_allowed),
        T(test_algorithm_not_allowed),
        T(test_admit_forbidden),
        T(test_chap_key_before_auth_method),
        T(test_chap_key_after_authentication),
        T(test_chap_key_in_operational_stage),
        T(test_response_before_challenge),
        T(test_mutual_without_target_account),
        T(test_new_needs_admit),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
