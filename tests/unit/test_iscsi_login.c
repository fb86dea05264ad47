/* Unit tests for the login state machine (RFC 7143 6.3, 11.12, 11.13): one
 * case per rule -- whole logins, each failure status, C-bit continuation,
 * header invariants, digests, defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iscsi_login.h"
#include "iscsi_text.h"

#define TGT   "iqn.2024-01.org.example:disk1"
#define INI   "iqn.1993-08.org.debian:01:abcdef"
#define TSIH  0x1234
#define TXT(s) (const uint8_t *)(s), sizeof(s) - 1

/* Linux open-iscsi's two requests of a normal login (no CHAP). */
#define OPENISCSI_SEC "InitiatorName=" INI "\0InitiatorAlias=host1\0TargetName=" TGT \
                      "\0SessionType=Normal\0AuthMethod=None\0"
#define OPENISCSI_OP  "HeaderDigest=None\0DataDigest=None\0DefaultTime2Wait=2\0" \
                      "DefaultTime2Retain=0\0IFMarker=No\0OFMarker=No\0ErrorRecoveryLevel=0\0" \
                      "InitialR2T=No\0ImmediateData=Yes\0MaxBurstLength=16776192\0" \
                      "FirstBurstLength=262144\0MaxOutstandingR2T=1\0MaxConnections=1\0" \
                      "DataPDUInOrder=Yes\0DataSequenceInOrder=Yes\0" \
                      "MaxRecvDataSegmentLength=262144\0"

/* One target; no authentication (CHAP logins: test_iscsi_login_chap.c). */
static uint16_t admit(void *ctx, const char *target_name, const char *initiator_name,
                      struct iscsi_auth_policy *policy, const char **why)
{
    (void)ctx, (void)initiator_name;
    if (target_name && strcmp(target_name, TGT) != 0) {
        *why = "unknown target";
        return ISCSI_LOGIN_ERR_NOT_FOUND;
    }
    *policy = (struct iscsi_auth_policy){ .chap_allowed = false };
    return 0;
}

static const struct iscsi_login_hooks hooks = { .admit = admit };

static const struct iscsi_login_limits lim = {
    .max_recv_dsl = 65536, .max_burst = 1048576, .first_burst = 262144,
    .max_outstanding_r2t = 1, .allow_digests = true, .immediate_data = 1,
    .initial_r2t = 0,
};

struct fx {
    struct iscsi_login *l;
    struct iscsi_pdu_hdr h;
    struct iscsi_login_reply r;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof(f));
    f.l = iscsi_login_new(&lim, TSIH, &hooks);
    f.h.opcode = ISCSI_OP_LOGIN_REQ;
    f.h.immediate = true;
    static const uint8_t isid[6] = { 0x00, 0x02, 0x3d, 0x00, 0x00, 0x01 };
    memcpy(f.h.u.login_req.isid, isid, 6);
    f.h.u.login_req.cmdsn = 7;
    f.h.itt = 0x100;
    *state = &f;
    return f.l ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    iscsi_login_free(f->l);
    return 0;
}

static uint8_t flags(bool t, bool c, unsigned csg, unsigned nsg)
{
    return (uint8_t)((t ? ISCSI_FLAG_LOGIN_TRANSIT : 0) | (c ? ISCSI_FLAG_TEXT_CONT : 0) |
                     csg << 2 | nsg);
}

static enum iscsi_login_result step(struct fx *f, uint8_t fl, const uint8_t *d, size_t n)
{
    f->h.flags = fl;
    f->h.data_len = (uint32_t)n;
    f->h.itt++;
    return iscsi_login_step(f->l, &f->h, d, n, &f->r);
}

/* Value of key in the reply text, or NULL. */
static const char *reply_value(const struct iscsi_login_reply *r, const char *key)
{
    static struct iscsi_text_pairs t;
    if (iscsi_text_parse(r->data, r->data_len, false, &t, NULL) != ISCSI_TEXT_OK)
        return "<malformed>";
    const struct iscsi_text_pair *p = iscsi_text_find(&t, key);
    return p ? p->value : NULL;
}

static void assert_reply_hdr(const struct fx *f, uint8_t fl, uint16_t tsih)
{
    assert_int_equal(f->r.hdr.opcode, ISCSI_OP_LOGIN_RSP);
    assert_int_equal(f->r.hdr.flags, fl);
    assert_int_equal(f->r.hdr.itt, f->h.itt);
    assert_int_equal(f->r.hdr.u.login_rsp.version_max, 0);
    assert_int_equal(f->r.hdr.u.login_rsp.version_active, 0);
    assert_memory_equal(f->r.hdr.u.login_rsp.isid, f->h.u.login_req.isid, 6);
    assert_int_equal(f->r.hdr.u.login_rsp.tsih, tsih);
    assert_int_equal(f->r.hdr.data_len, f->r.data_len);
}

static void assert_failed(struct fx *f, enum iscsi_login_result res, uint16_t status)
{
    assert_int_equal(res, ISCSI_LOGIN_REPLY_AND_CLOSE);
    assert_int_equal(f->r.status, status);
    assert_int_equal(f->r.hdr.u.login_rsp.status_class, status >> 8);
    assert_int_equal(f->r.hdr.u.login_rsp.status_detail, status & 0xff);
    assert_int_equal(f->r.data_len, 0);
    assert_int_equal(f->r.hdr.u.login_rsp.tsih, 0);
    assert_int_equal(f->r.hdr.opcode, ISCSI_OP_LOGIN_RSP);
    assert_non_null(f->r.why);
    /* the login is over: anything further fails too */
    assert_int_equal(step(f, flags(true, false, 1, 3), NULL, 0), ISCSI_LOGIN_REPLY_AND_CLOSE);
    assert_string_equal(iscsi_login_state_name(f->l), "FREE");
}

/* ---- whole logins ---------------------------------------------------- */

static void test_normal_login_one_pdu(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 1, 3),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT "\0" OPENISCSI_OP)),
                     ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(f->l, 0, &f->r), ISCSI_LOGIN_DONE);
    assert_reply_hdr(f, flags(true, false, 1, 3), TSIH);
    assert_int_equal(f->r.status, 0);
    assert_string_equal(reply_value(&f->r, "TargetPortalGroupTag"), "1");
    assert_string_equal(reply_value(&f->r, "MaxRecvDataSegmentLength"), "65536");
    assert_string_equal(reply_value(&f->r, "MaxBurstLength"), "1048576");
    assert_string_equal(reply_value(&f->r, "FirstBurstLength"), "262144");
    assert_string_equal(reply_value(&f->r, "IFMarker"), "Reject");
    assert_string_equal(reply_value(&f->r, "InitialR2T"), "No");
    assert_null(reply_value(&f->r, "AuthMethod"));
    const struct iscsi_session_params *p = iscsi_login_params(f->l);
    assert_false(p->discovery);
    assert_string_equal(p->initiator_name, INI);
    assert_string_equal(p->target_name, TGT);
    assert_int_equal(p->initiator_mrdsl, 262144);
    assert_int_equal(p->target_mrdsl, 65536);
    assert_int_equal(p->max_burst, 1048576);
    assert_int_equal(p->first_burst, 262144);
    assert_false(p->initial_r2t);
    assert_true(p->immediate_data);
    assert_int_equal(p->default_time2retain, 0);
    assert_string_equal(iscsi_login_state_name(f->l), "LOGGED_IN");
}

static void test_normal_login_two_stages(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    /* SecurityNegotiation -> LoginOperationalNegotiation, TSIH still 0 */
    assert_reply_hdr(f, flags(true, false, 0, 1), 0);
    assert_string_equal(reply_value(&f->r, "AuthMethod"), "None");
    assert_string_equal(reply_value(&f->r, "TargetPortalGroupTag"), "1");
    /* open-iscsi refuses operational keys in a security-stage response */
    assert_null(reply_value(&f->r, "MaxRecvDataSegmentLength"));
    assert_string_equal(iscsi_login_state_name(f->l), "IN_LOGIN/LoginOperationalNegotiation");

    assert_int_equal(step(f, flags(true, false, 1, 3), TXT(OPENISCSI_OP)),
                     ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(f->l, 0, &f->r), ISCSI_LOGIN_DONE);
    assert_reply_hdr(f, flags(true, false, 1, 3), TSIH);
    assert_null(reply_value(&f->r, "TargetPortalGroupTag"));    /* first response only */
    assert_string_equal(reply_value(&f->r, "MaxRecvDataSegmentLength"), "65536");
    assert_string_equal(reply_value(&f->r, "HeaderDigest"), "None");
    assert_string_equal(iscsi_login_params(f->l)->initiator_alias, "host1");
}

static void test_operational_stage_without_transit(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    assert_int_equal(step(f, flags(false, false, 1, 0), TXT("MaxBurstLength=65536\0")),
                     ISCSI_LOGIN_REPLY);
    assert_reply_hdr(f, flags(false, false, 1, 0), 0);
    assert_string_equal(reply_value(&f->r, "MaxBurstLength"), "65536");
    assert_string_equal(reply_value(&f->r, "MaxRecvDataSegmentLength"), "65536");
    assert_int_equal(step(f, flags(true, false, 1, 3), NULL, 0), ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(f->l, 0, &f->r), ISCSI_LOGIN_DONE);
    assert_int_equal(f->r.data_len, 0);      /* MaxRecvDataSegmentLength declared once */
}

static void test_security_stage_straight_to_ffp(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 3), TXT(OPENISCSI_SEC)),
                     ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(f->l, 0, &f->r), ISCSI_LOGIN_DONE);
    assert_reply_hdr(f, flags(true, false, 0, 3), TSIH);
    assert_string_equal(reply_value(&f->r, "AuthMethod"), "None");
    assert_int_equal(iscsi_login_params(f->l)->target_mrdsl, 8192);
}

static void test_security_stage_without_transit(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(false, false, 0, 0), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    assert_reply_hdr(f, flags(false, false, 0, 0), 0);
    assert_int_equal(step(f, flags(true, false, 0, 1), NULL, 0), ISCSI_LOGIN_REPLY);
    assert_reply_hdr(f, flags(true, false, 0, 1), 0);
    assert_int_equal(f->r.data_len, 0);
}

static void test_discovery_login(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1),
                          TXT("InitiatorName=" INI "\0SessionType=Discovery\0AuthMethod=None\0")),
                     ISCSI_LOGIN_REPLY);
    assert_null(reply_value(&f->r, "TargetPortalGroupTag"));
    assert_int_equal(step(f, flags(true, false, 1, 3),
                          TXT("HeaderDigest=None\0DataDigest=None\0MaxBurstLength=65536\0"
                              "MaxRecvDataSegmentLength=32768\0")),
                     ISCSI_LOGIN_DONE);
    assert_reply_hdr(f, flags(true, false, 1, 3), TSIH);
    assert_string_equal(reply_value(&f->r, "MaxBurstLength"), "Irrelevant");
    const struct iscsi_session_params *p = iscsi_login_params(f->l);
    assert_true(p->discovery);
    assert_string_equal(p->target_name, "");
    assert_int_equal(p->initiator_mrdsl, 32768);
}

static void test_discovery_ignores_target_name(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 1, 3),
                          TXT("InitiatorName=" INI "\0SessionType=Discovery\0"
                              "TargetName=iqn.unknown\0")),
                     ISCSI_LOGIN_DONE);
    assert_string_equal(iscsi_login_params(f->l)->target_name, "");
}

static void test_defaults_when_keys_absent(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 1, 3),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT "\0")),
                     ISCSI_LOGIN_FFP_PENDING);
    const struct iscsi_session_params *p = iscsi_login_params(f->l);
    assert_int_equal(p->initiator_mrdsl, 8192);
    assert_int_equal(p->max_burst, 262144);
    assert_int_equal(p->first_burst, 65536);
    assert_true(p->initial_r2t);
    assert_true(p->immediate_data);
    assert_false(p->header_digest);
    assert_int_equal(p->error_recovery_level, 0);
    assert_int_equal(p->default_time2wait, 2);
    assert_int_equal(p->default_time2retain, 20);
}

static void test_digests_negotiated(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 1, 3),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT "\0"
                              "HeaderDigest=CRC32C,None\0DataDigest=CRC32C\0")),
                     ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(f->l, 0, &f->r), ISCSI_LOGIN_DONE);
    assert_string_equal(reply_value(&f->r, "HeaderDigest"), "CRC32C");
    assert_string_equal(reply_value(&f->r, "DataDigest"), "CRC32C");
    assert_true(iscsi_login_params(f->l)->header_digest);
    assert_true(iscsi_login_params(f->l)->data_digest);
}

static void test_digests_refused_when_not_allowed(void **state)
{
    struct fx *f = *state;
    struct iscsi_login_limits nod = lim;
    nod.allow_digests = false;
    iscsi_login_free(f->l);
    f->l = iscsi_login_new(&nod, TSIH, &hooks);
    assert_int_equal(step(f, flags(true, false, 1, 3),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT "\0"
                              "HeaderDigest=CRC32C,None\0DataDigest=CRC32C\0")),
                     ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(f->l, 0, &f->r), ISCSI_LOGIN_DONE);
    assert_string_equal(reply_value(&f->r, "HeaderDigest"), "None");
    assert_string_equal(reply_value(&f->r, "DataDigest"), "Reject");
    assert_false(iscsi_login_params(f->l)->header_digest);
    assert_false(iscsi_login_params(f->l)->data_digest);
}

static void test_unknown_and_x_keys_not_understood(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(false, false, 1, 0),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT "\0"
                              "X-com.example.foo=1\0Bogus=2\0")),
                     ISCSI_LOGIN_REPLY);
    assert_string_equal(reply_value(&f->r, "X-com.example.foo"), "NotUnderstood");
    assert_string_equal(reply_value(&f->r, "Bogus"), "NotUnderstood");
}

/* ---- C bit ----------------------------------------------------------- */

static void test_continuation_split_pair(void **state)
{
    struct fx *f = *state;
    static const char all[] = OPENISCSI_SEC;
    size_t cut = 20;            /* cuts "InitiatorName=..." in its value */
    assert_int_equal(step(f, flags(false, true, 0, 0), (const uint8_t *)all, cut),
                     ISCSI_LOGIN_REPLY);
    assert_reply_hdr(f, flags(false, false, 0, 0), 0);
    assert_int_equal(f->r.data_len, 0);
    assert_int_equal(step(f, flags(false, true, 0, 0), (const uint8_t *)all + cut, 30),
                     ISCSI_LOGIN_REPLY);
    assert_int_equal(f->r.data_len, 0);
    assert_int_equal(step(f, flags(true, false, 0, 1), (const uint8_t *)all + cut + 30,
                          sizeof(all) - 1 - cut - 30),
                     ISCSI_LOGIN_REPLY);
    assert_reply_hdr(f, flags(true, false, 0, 1), 0);
    assert_string_equal(reply_value(&f->r, "AuthMethod"), "None");
    assert_string_equal(iscsi_login_params(f->l)->initiator_name, INI);
}

static void test_continuation_bound(void **state)
{
    struct fx *f = *state;
    static uint8_t chunk[8192];
    memset(chunk, 'a', sizeof(chunk));
    enum iscsi_login_result r = ISCSI_LOGIN_REPLY;
    int i;
    for (i = 0; i < 8 && r == ISCSI_LOGIN_REPLY; i++)
        r = step(f, flags(false, true, 0, 0), chunk, sizeof(chunk));
    assert_int_equal(r, ISCSI_LOGIN_REPLY);          /* 64 KiB exactly is accepted */
    assert_failed(f, step(f, flags(false, true, 0, 0), chunk, 1), ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_t_and_c_together(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, true, 0, 1), TXT(OPENISCSI_SEC)),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

/* ---- failure statuses ------------------------------------------------ */

static void test_missing_initiator_name(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1), TXT("TargetName=" TGT "\0")),
                  ISCSI_LOGIN_ERR_MISSING_PARAMETER);
}

static void test_empty_initiator_name(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1),
                          TXT("InitiatorName=\0TargetName=" TGT "\0")),
                  ISCSI_LOGIN_ERR_MISSING_PARAMETER);
}

static void test_missing_target_name(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1),
                          TXT("InitiatorName=" INI "\0SessionType=Normal\0")),
                  ISCSI_LOGIN_ERR_MISSING_PARAMETER);
}

static void test_unknown_target(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1),
                          TXT("InitiatorName=" INI "\0TargetName=iqn.nope\0")),
                  ISCSI_LOGIN_ERR_NOT_FOUND);
}

static void test_bad_session_type(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1),
                          TXT("InitiatorName=" INI "\0SessionType=Bogus\0")),
                  ISCSI_LOGIN_ERR_SESSION_TYPE);
}

static void test_unsupported_version(void **state)
{
    struct fx *f = *state;
    f->h.u.login_req.version_min = 1;
    f->h.u.login_req.version_max = 1;
    assert_failed(f, step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)),
                  ISCSI_LOGIN_ERR_UNSUPPORTED_VERSION);
}

static void test_tsih_adds_connection(void **state)
{
    struct fx *f = *state;
    f->h.u.login_req.tsih = 5;
    assert_failed(f, step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)),
                  ISCSI_LOGIN_ERR_NO_SESSION);
}

static void test_isid_changes(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    f->h.u.login_req.isid[5] ^= 1;
    assert_failed(f, step(f, flags(true, false, 1, 3), TXT(OPENISCSI_OP)),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_tsih_changes(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    f->h.u.login_req.tsih = 1;
    assert_failed(f, step(f, flags(true, false, 1, 3), TXT(OPENISCSI_OP)),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_cid_changes(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(false, true, 0, 0), TXT("Initiator")), ISCSI_LOGIN_REPLY);
    f->h.u.login_req.cid = 9;
    assert_failed(f, step(f, flags(true, false, 0, 1), TXT("Name=x\0")),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_cmdsn_changes(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    f->h.u.login_req.cmdsn++;
    assert_failed(f, step(f, flags(true, false, 1, 3), TXT(OPENISCSI_OP)),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_non_login_opcode(void **state)
{
    struct fx *f = *state;
    f->h.opcode = ISCSI_OP_TEXT_REQ;
    assert_failed(f, step(f, 0x80, TXT("SendTargets=All\0")),
                  ISCSI_LOGIN_ERR_INVALID_DURING_LOGIN);
}

static void test_reserved_nsg(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 2), TXT(OPENISCSI_SEC)),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_nsg_not_beyond_csg(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 1, 1),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT "\0")),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_csg_must_follow_stage(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    assert_failed(f, step(f, flags(true, false, 0, 1), NULL, 0), ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_first_csg_invalid(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(false, false, 3, 0), TXT(OPENISCSI_SEC)),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_no_acceptable_auth_method(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT "\0AuthMethod=CHAP,SRP\0")),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_auth_method_picks_first_supported(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT
                              "\0AuthMethod=KRB5,CHAP,None\0")),
                     ISCSI_LOGIN_REPLY);
    assert_string_equal(reply_value(&f->r, "AuthMethod"), "None");
}

static void test_operational_key_in_security_stage(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1),
                          TXT(OPENISCSI_SEC "MaxBurstLength=65536\0")),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_duplicate_in_one_request(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1),
                          TXT(OPENISCSI_SEC "InitiatorAlias=again\0")),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_redeclared_in_later_request(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 1), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    assert_failed(f, step(f, flags(true, false, 1, 3), TXT("InitiatorAlias=again\0")),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_malformed_text(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 0, 1), TXT("InitiatorName")),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_first_burst_over_max_burst(void **state)
{
    struct fx *f = *state;
    assert_failed(f, step(f, flags(true, false, 1, 3),
                          TXT("InitiatorName=" INI "\0TargetName=" TGT "\0"
                              "MaxBurstLength=4096\0FirstBurstLength=8192\0")),
                  ISCSI_LOGIN_ERR_INITIATOR);
}

static void test_too_many_requests(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(false, false, 0, 0), TXT(OPENISCSI_SEC)), ISCSI_LOGIN_REPLY);
    enum iscsi_login_result r = ISCSI_LOGIN_REPLY;
    int n = 1;
    while (r == ISCSI_LOGIN_REPLY && n < 1000) {
        r = step(f, flags(false, false, 0, 0), NULL, 0);
        n++;
    }
    assert_int_equal(n, 129);
    assert_failed(f, r, ISCSI_LOGIN_ERR_INITIATOR);
}

/* ---- the asynchronous end -------------------------------------------- */

static void test_finish_with_failure(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 3), TXT(OPENISCSI_SEC)),
                     ISCSI_LOGIN_FFP_PENDING);
    assert_int_equal(iscsi_login_finish(f->l, ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE, &f->r),
                     ISCSI_LOGIN_REPLY_AND_CLOSE);
    assert_int_equal(f->r.status, ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE);
    assert_int_equal(f->r.hdr.u.login_rsp.status_class, 3);
    assert_int_equal(f->r.hdr.u.login_rsp.status_detail, 1);
    assert_int_equal(f->r.hdr.flags, flags(false, false, 0, 0));
    assert_int_equal(f->r.hdr.itt, f->h.itt);
    assert_int_equal(f->r.data_len, 0);
    assert_non_null(f->r.why);
}

static void test_finish_without_pending(void **state)
{
    struct fx *f = *state;
    assert_int_equal(iscsi_login_finish(f->l, 0, &f->r), ISCSI_LOGIN_REPLY_AND_CLOSE);
    assert_int_equal(f->r.status, ISCSI_LOGIN_ERR_TARGET);
}

static void test_step_while_pending(void **state)
{
    struct fx *f = *state;
    assert_int_equal(step(f, flags(true, false, 0, 3), TXT(OPENISCSI_SEC)),
                     ISCSI_LOGIN_FFP_PENDING);
    assert_failed(f, step(f, flags(true, false, 0, 3), NULL, 0), ISCSI_LOGIN_ERR_INITIATOR);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_normal_login_one_pdu),
        T(test_normal_login_two_stages),
        T(test_operational_stage_without_transit),
        T(test_security_stage_straight_to_ffp),
        T(test_security_stage_without_transit),
        T(test_discovery_login),
        T(test_discovery_ignores_target_name),
        T(test_defaults_when_keys_absent),
        T(test_digests_negotiated),
        T(test_digests_refused_when_not_allowed),
        T(test_unknown_and_x_keys_not_understood),
        T(test_continuation_split_pair),
        T(test_continuation_bound),
        T(test_t_and_c_together),
        T(test_missing_initiator_name),
        T(test_empty_initiator_name),
        T(test_missing_target_name),
        T(test_unknown_target),
        T(test_bad_session_type),
        T(test_unsupported_version),
        T(test_tsih_adds_connection),
        T(test_isid_changes),
        T(test_tsih_changes),
        T(test_cid_changes),
        T(test_cmdsn_changes),
        T(test_non_login_opcode),
        T(test_reserved_nsg),
        T(test_nsg_not_beyond_csg),
        T(test_csg_must_follow_stage),
        T(test_first_csg_invalid),
        T(test_no_acceptable_auth_method),
        T(test_auth_method_picks_first_supported),
        T(test_operational_key_in_security_stage),
        T(test_duplicate_in_one_request),
        T(test_redeclared_in_later_request),
        T(test_malformed_text),
        T(test_first_burst_over_max_burst),
        T(test_too_many_requests),
        T(test_finish_with_failure),
        T(test_finish_without_pending),
        T(test_step_while_pending),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
