/*
 * libFuzzer target for the login state machine (RFC 7143 6.3, 11.12).  The
 * input is a sequence of Login Requests, each a 6-byte record followed by
 * its data segment:
 *   [0] byte 1 of the BHS (T, C, CSG, NSG)
 *   [1] mutations: 0x01 ISID, 0x02 TSIH, 0x04 CID, 0x08 CmdSN changed,
 *       0x10 VersionMin 1, 0x20 not a Login opcode, 0x40 backend fails,
 *       0x80 no digests (first record only)
 *   [2] ITT
 *   [3] first record only, the admitted authentication policy: 0x01 CHAP
 *       allowed, 0x02 CHAP required, 0x04 the target has a mutual-CHAP
 *       account, 0x08 MD5 not allowed
 *   [4..5] data segment length, little endian (cut to what is left)
 * CHAP is deterministic: CHAP_I 42 and the challenge 00 01 02 ..., account
 * "alice" with secret "s3cr3t-p4ssw0rd", so seeds can carry right answers.
 * Properties: no crash, no leak, every reply well-formed and bounded, our
 * own response text always parses, and a login that gets past the security
 * stage authenticated as the policy demands.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "iscsi_chap.h"
#include "iscsi_login.h"
#include "iscsi_text.h"

#define SECRET "s3cr3t-p4ssw0rd"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t admit(void *ctx, const char *target_name, const char *initiator_name,
                      struct iscsi_auth_policy *policy, const char **why)
{
    const struct iscsi_auth_policy *p = ctx;

    CHECK(initiator_name && initiator_name[0]);
    if (target_name && strcmp(target_name, "iqn.2024-01.org.example:disk1") != 0 &&
        strcmp(target_name, "iqn.2024-01.org.example:disk2") != 0) {
        *why = "unknown target";
        return ISCSI_LOGIN_ERR_NOT_FOUND;
    }
    *policy = *p;
    return 0;
}

static int initiator_secret(void *ctx, const char *name, uint8_t *buf, size_t *len)
{
    (void)ctx;
    if (strcmp(name, "alice") != 0 || *len < sizeof(SECRET) - 1)
        return -1;
    *len = sizeof(SECRET) - 1;
    memcpy(buf, SECRET, *len);
    return 0;
}

static int target_secret(void *ctx, char *name, size_t name_len, uint8_t *buf, size_t *len)
{
    (void)ctx;
    if (*len < 16)
        return -1;
    snprintf(name, name_len, "iqn.2024-01.org.example:proxy");
    *len = 16;
    memcpy(buf, "t4rget-s3cret-99", 16);
    return 0;
}

static int fixed_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        buf[i] = i == 0 ? 42 : (uint8_t)(i - 1);
    return 0;
}

/* Past the security stage: authenticated exactly as the policy asks. */
static void check_auth(const struct iscsi_login *l, const struct iscsi_auth_policy *p)
{
    const struct iscsi_session_params *sp = iscsi_login_params(l);

    if (sp->auth_method == ISCSI_AUTH_CHAP) {
        CHECK(p->chap_allowed || p->chap_required);
        CHECK(strcmp(sp->chap_name, "alice") == 0);
    } else {
        CHECK(!p->chap_required);
        CHECK(sp->chap_name[0] == '\0' && !sp->chap_mutual);
    }
}

static void check_reply(const struct iscsi_login_reply *r, enum iscsi_login_result res)
{
    struct iscsi_text_pairs t;

    if (r->hdr.opcode != ISCSI_OP_LOGIN_RSP && res != ISCSI_LOGIN_FFP_PENDING)
        abort();
    if (r->data_len > 8192 || r->hdr.data_len != r->data_len)
        abort();
    if ((r->data_len == 0) != (r->data == NULL))
        abort();
    if (res == ISCSI_LOGIN_REPLY_AND_CLOSE && (r->status == 0 || r->data_len || !r->why))
        abort();
    if (r->data_len && iscsi_text_parse(r->data, r->data_len, false, &t, NULL) != ISCSI_TEXT_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct iscsi_login_limits lim = {
        .max_recv_dsl = 65536, .max_burst = 262144, .first_burst = 65536,
        .max_outstanding_r2t = 1, .allow_digests = !(size > 1 && (data[1] & 0x80)),
        .immediate_data = !(size > 1 && (data[1] & 0x40)),
        .initial_r2t = size > 1 && (data[1] & 0x20),
    };
    uint8_t pol = size > 3 ? data[3] : 0;
    struct iscsi_auth_policy policy = {
        .chap_allowed = pol & 0x01, .chap_required = pol & 0x02,
        .chap_algorithms = ISCSI_CHAP_ALGS_ALL & ~((pol & 0x08) ? ISCSI_CHAP_ALG_BIT(5) : 0u),
    };
    struct iscsi_login_hooks hooks = {
        .ctx = &policy, .admit = admit, .initiator_secret = initiator_secret,
        .target_secret = (pol & 0x04) ? target_secret : NULL, .random = fixed_random,
    };
    struct iscsi_login *l = iscsi_login_new(&lim, 0x4242, &hooks);
    struct iscsi_pdu_hdr h;
    struct iscsi_login_reply r;
    size_t off = 0;

    if (!l)
        return 0;
    memset(&h, 0, sizeof(h));
    h.u.login_req.isid[0] = 0x80;
    h.u.login_req.cmdsn = 1;
    for (int n = 0; n < 256 && size - off >= 6; n++) {
        const uint8_t *rec = data + off;
        size_t len = (size_t)rec[4] | (size_t)rec[5] << 8;
        off += 6;
        if (len > size - off)
            len = size - off;
        h.opcode = (rec[1] & 0x20) ? ISCSI_OP_TEXT_REQ : ISCSI_OP_LOGIN_REQ;
        h.immediate = true;
        h.flags = rec[0];
        h.itt = rec[2];
        h.data_len = (uint32_t)len;
        h.u.login_req.isid[5] ^= (rec[1] & 0x01);
        h.u.login_req.tsih = (rec[1] & 0x02) ? 7 : 0;
        h.u.login_req.cid ^= (rec[1] & 0x04) ? 1 : 0;
        h.u.login_req.cmdsn += (rec[1] & 0x08) ? 1 : 0;
        h.u.login_req.version_min = (rec[1] & 0x10) ? 1 : 0;

        /* copy so ASan sees reads past the segment */
        uint8_t *seg = len ? malloc(len) : NULL;
        if (len && !seg)
            break;
        if (len)
            memcpy(seg, data + off, len);
        off += len;
        enum iscsi_login_result res = iscsi_login_step(l, &h, seg, len, &r);
        free(seg);
        check_reply(&r, res);
        /* transit out of the security stage, or the end of the login */
        if (res == ISCSI_LOGIN_FFP_PENDING || res == ISCSI_LOGIN_DONE ||
            (res == ISCSI_LOGIN_REPLY && (r.hdr.flags & ISCSI_FLAG_LOGIN_TRANSIT)))
            check_auth(l, &policy);
        if (res == ISCSI_LOGIN_FFP_PENDING) {
            res = iscsi_login_finish(l, (rec[1] & 0x40) ? ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE : 0,
                                     &r);
            check_reply(&r, res);
            if (res == ISCSI_LOGIN_DONE && r.hdr.u.login_rsp.tsih != 0x4242)
                abort();
        }
        (void)iscsi_login_params(l);
        (void)iscsi_login_state_name(l);
    }
    iscsi_login_free(l);
    return 0;
}
